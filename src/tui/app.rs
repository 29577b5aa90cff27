//! The application state and the one place where actions are applied.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::NaiveDateTime;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use tokio::sync::mpsc::UnboundedSender;

use crate::config::Config;
use crate::i18n::Lang;
use crate::tui::action::{Action, Confirm, Level};
use crate::tui::data::Db;
use crate::tui::jobs::{JobEvent, Jobs};
use crate::tui::keys::{lookup, Binding, Key};
use crate::tui::screen::{RenderCtx, Screen, ScreenCtx, ScreenId};
use crate::tui::status::{Backend, ConnState};
use crate::tui::theme::Theme;
use crate::tui::widgets::popup_area;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
/// Ticks a toast stays up (the tick is 4 Hz: about 5 seconds).
const TOAST_TICKS: u64 = 20;
const MAX_MESSAGES: usize = 500;

pub type Clock = Arc<dyn Fn() -> NaiveDateTime + Send + Sync>;

#[derive(Debug, Clone)]
pub struct Message {
    pub at: NaiveDateTime,
    pub level: Level,
    pub text: String,
}

struct Toast {
    level: Level,
    text: String,
    until_tick: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpTab {
    Keys,
    Messages,
}

enum Overlay {
    Help { tab: HelpTab, scroll: u16 },
    Confirm { confirm: Box<Confirm>, yes: bool },
}

pub struct App {
    pub lang: Lang,
    pub theme: Theme,
    pub config: Arc<Config>,
    pub db: Option<Arc<Db>>,
    clock: Clock,
    screens: Vec<Box<dyn Screen>>,
    current: ScreenId,
    overlay: Option<Overlay>,
    toasts: Vec<Toast>,
    messages: VecDeque<Message>,
    last_status: Option<(Level, String, u64)>,
    conns: [ConnState; 3],
    pub jobs: Jobs,
    /// Stops the SQL Server keeper (also when dropped with the app).
    sql_keeper: Option<tokio::sync::watch::Sender<bool>>,
    tick: u64,
    quit: bool,
}

impl App {
    pub fn new(
        config: Arc<Config>,
        theme: Theme,
        db: Option<Arc<Db>>,
        clock: Clock,
        tx: UnboundedSender<Action>,
        screens: Vec<Box<dyn Screen>>,
    ) -> App {
        let lang = config.shop.language;
        let mut conns: [ConnState; 3] = Default::default();
        if db.is_some() {
            conns[Backend::Sqlite.index()] = ConnState::Connected;
        }
        App {
            lang,
            theme,
            config,
            db,
            clock,
            current: screens.first().map(|s| s.id()).unwrap_or(ScreenId::Intake),
            screens,
            overlay: None,
            toasts: Vec::new(),
            messages: VecDeque::new(),
            last_status: None,
            conns,
            jobs: Jobs::new(tx),
            sql_keeper: None,
            tick: 0,
            quit: false,
        }
    }

    /// Quits: the background keepers stop with the app.
    fn stop_keepers(&mut self) {
        self.quit = true;
        if let Some(k) = &self.sql_keeper {
            let _ = k.send(true);
        }
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    pub fn current(&self) -> ScreenId {
        self.current
    }

    pub fn messages(&self) -> impl Iterator<Item = &Message> {
        self.messages.iter()
    }

    pub fn conn(&self, b: Backend) -> &ConnState {
        &self.conns[b.index()]
    }

    fn screen_index(&self, id: ScreenId) -> Option<usize> {
        self.screens.iter().position(|s| s.id() == id)
    }

    pub fn is_available(&self, id: ScreenId) -> bool {
        self.screen_index(id).is_some()
    }

    /// Global keys: valid on every screen, listed in F1 help under "Semua layar".
    pub fn global_bindings(&self) -> Vec<Binding> {
        let mut v = vec![Binding::new(Key::f(1), ("bantuan", "help"), Action::Help)
            .also(Key::alt('1'))
            .help(
                "bantuan dan log pesan (Tab pindah ke Pesan)",
                "help and message log (Tab switches to Messages)",
            )];
        for id in ScreenId::ALL {
            let n = id.fkey();
            let digit = char::from(b'0' + n);
            let mut b = Binding::new(Key::f(n), ("", ""), Action::Goto(id))
                .also(Key::alt(digit))
                .quiet();
            b.label = match id {
                ScreenId::Intake => ("layar Masuk", "Intake screen"),
                ScreenId::Stock => ("layar Stok", "Stock screen"),
                ScreenId::Hotspot => ("layar Hotspot", "Hotspot screen"),
                ScreenId::Rusak => ("layar Rusak/Retur", "Faulty/Return screen"),
                ScreenId::Setoran => ("layar Setoran", "Settlement screen"),
                ScreenId::Faktur => ("layar Faktur", "Invoices screen"),
                ScreenId::Kasir => ("layar Kasir", "Sales screen"),
                ScreenId::Dasbor => ("layar Dasbor", "Dashboard screen"),
            };
            if !self.is_available(id) {
                b.help = ("(belum tersedia)", "(not available yet)");
            }
            v.push(b);
        }
        v.push(
            Binding::new(
                Key::ctrl('x'),
                ("batalkan job", "cancel jobs"),
                Action::CancelJobs,
            )
            .help(
                "batalkan semua job yang berjalan",
                "cancel every running job",
            )
            .quiet(),
        );
        v.push(
            Binding::new(Key::ctrl('c'), ("keluar", "quit"), Action::Quit)
                .also(Key::ctrl('q'))
                .also(Key::f(10))
                .quiet(),
        );
        v
    }

    /// Advances the tick; true when something on screen expired (a toast, the status line).
    pub fn on_tick(&mut self) -> bool {
        let before = self.toasts.len();
        self.dispatch(Action::Tick);
        let status_expired = self
            .last_status
            .as_ref()
            .is_some_and(|(_, _, at)| at + TOAST_TICKS * 3 == self.tick);
        before != self.toasts.len() || status_expired
    }

    fn now(&self) -> NaiveDateTime {
        (self.clock)()
    }

    /// Handles a terminal event; returns true when the screen must be redrawn.
    pub fn handle_event(&mut self, ev: Event) -> bool {
        match ev {
            Event::Key(k) if k.kind == KeyEventKind::Press => {
                if let Some(a) = self.key_action(k) {
                    self.dispatch(a);
                }
                true
            }
            Event::Resize(..) => true,
            _ => false,
        }
    }

    fn key_action(&mut self, k: KeyEvent) -> Option<Action> {
        // A confirm popup takes every key: nothing else may happen behind it.
        if let Some(Overlay::Confirm { yes, confirm }) = &mut self.overlay {
            return match k.code {
                KeyCode::Left | KeyCode::Right | KeyCode::Tab | KeyCode::BackTab => {
                    *yes = !*yes;
                    None
                }
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    Some(Action::Confirmed(Box::new(confirm.action.clone())))
                }
                KeyCode::Enter if *yes => Some(Action::Confirmed(Box::new(confirm.action.clone()))),
                KeyCode::Enter | KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('N') => {
                    Some(Action::CloseOverlay)
                }
                _ => None,
            };
        }
        let globals = self.global_bindings();
        if let Some(Overlay::Help { tab, scroll }) = &mut self.overlay {
            match k.code {
                KeyCode::Esc | KeyCode::Char('q') => return Some(Action::CloseOverlay),
                KeyCode::Tab | KeyCode::BackTab => {
                    *tab = match tab {
                        HelpTab::Keys => HelpTab::Messages,
                        HelpTab::Messages => HelpTab::Keys,
                    };
                    *scroll = 0;
                    return None;
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    *scroll = scroll.saturating_add(1);
                    return None;
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    *scroll = scroll.saturating_sub(1);
                    return None;
                }
                KeyCode::PageDown => {
                    *scroll = scroll.saturating_add(10);
                    return None;
                }
                KeyCode::PageUp => {
                    *scroll = scroll.saturating_sub(10);
                    return None;
                }
                _ => return lookup(&globals, &k),
            }
        }
        if let Some(a) = lookup(&globals, &k) {
            return Some(a);
        }
        let idx = self.screen_index(self.current)?;
        let lang = self.lang;
        let bindings = self.screens[idx].bindings(lang);
        if let Some(a) = lookup(&bindings, &k) {
            return Some(a);
        }
        let now = self.now();
        let mut ctx = ScreenCtx {
            lang,
            config: &self.config,
            jobs: &mut self.jobs,
            db: self.db.as_ref(),
            now,
        };
        self.screens[idx].handle_key(k, &mut ctx)
    }

    /// Applies one action and everything it leads to.
    pub fn dispatch(&mut self, action: Action) {
        let mut queue = VecDeque::from([action]);
        while let Some(a) = queue.pop_front() {
            for follow in self.apply(a) {
                queue.push_back(follow);
            }
        }
    }

    fn apply(&mut self, action: Action) -> Vec<Action> {
        let lang = self.lang;
        match action {
            Action::Quit => {
                if self.jobs.is_empty() {
                    self.stop_keepers();
                    return vec![];
                }
                let n = self.jobs.len();
                return vec![Action::Confirm(Box::new(Confirm {
                    title: lang.t("Keluar", "Quit").into(),
                    body: match lang {
                        Lang::Id => format!(
                            "{n} job masih berjalan dan akan dibatalkan. Yang sudah selesai tetap tersimpan."
                        ),
                        Lang::En => format!(
                            "{n} job(s) still running will be cancelled. Finished work stays saved."
                        ),
                    },
                    yes: lang.t("Keluar", "Quit").into(),
                    action: Action::ForceQuit,
                }))];
            }
            Action::ForceQuit => {
                self.jobs.cancel_all();
                self.stop_keepers();
            }
            Action::Tick => {
                self.tick += 1;
                let t = self.tick;
                self.toasts.retain(|x| x.until_tick > t);
            }
            Action::Render | Action::Resize(..) => {}
            Action::Goto(id) => {
                self.overlay = None;
                if self.current != id {
                    self.current = id;
                    return self.with_screen(id, |s, ctx| s.on_show(ctx));
                }
            }
            Action::Help => {
                self.overlay = match self.overlay {
                    Some(Overlay::Help { .. }) => None,
                    _ => Some(Overlay::Help {
                        tab: HelpTab::Keys,
                        scroll: 0,
                    }),
                };
            }
            Action::Messages => {
                self.overlay = Some(Overlay::Help {
                    tab: HelpTab::Messages,
                    scroll: 0,
                });
            }
            Action::CloseOverlay => self.overlay = None,
            Action::Notify(level, text) => self.notify(level, text),
            Action::Conn(b, state) => {
                if let ConnState::Error(e) = &state {
                    if self.conns[b.index()] != state {
                        self.notify(Level::Error, format!("{}: {e}", b.name()));
                    }
                }
                self.conns[b.index()] = state;
            }
            Action::Job(ev) => {
                let label = self.jobs.apply(&ev);
                if let JobEvent::Finished { result, .. } = ev {
                    match result {
                        Ok(a) => return vec![*a],
                        Err(e) => {
                            let label = label.unwrap_or_default();
                            self.notify(Level::Error, format!("{label}: {e}"));
                        }
                    }
                }
            }
            Action::CancelJobs => {
                if self.jobs.is_empty() {
                    self.notify(
                        Level::Info,
                        lang.t("Tidak ada job yang berjalan.", "No job is running.")
                            .to_string(),
                    );
                } else {
                    self.jobs.cancel_all();
                    self.notify(
                        Level::Warn,
                        lang.t("Membatalkan job...", "Cancelling jobs...")
                            .to_string(),
                    );
                }
            }
            Action::CancelJob(id) => self.jobs.cancel(id),
            Action::Confirm(c) => {
                self.overlay = Some(Overlay::Confirm {
                    confirm: c,
                    yes: false,
                });
            }
            Action::Confirmed(a) => {
                self.overlay = None;
                return vec![*a];
            }
            Action::Batch(v) => return v,
            other => {
                // Screen messages: every screen sees them and ignores what is not its own.
                let now = self.now();
                let mut out = Vec::new();
                for s in self.screens.iter_mut() {
                    let mut ctx = ScreenCtx {
                        lang,
                        config: &self.config,
                        jobs: &mut self.jobs,
                        db: self.db.as_ref(),
                        now,
                    };
                    out.extend(s.update(&other, &mut ctx));
                }
                return out;
            }
        }
        vec![]
    }

    fn with_screen(
        &mut self,
        id: ScreenId,
        f: impl FnOnce(&mut dyn Screen, &mut ScreenCtx) -> Vec<Action>,
    ) -> Vec<Action> {
        let Some(idx) = self.screen_index(id) else {
            return vec![];
        };
        let now = self.now();
        let mut ctx = ScreenCtx {
            lang: self.lang,
            config: &self.config,
            jobs: &mut self.jobs,
            db: self.db.as_ref(),
            now,
        };
        f(self.screens[idx].as_mut(), &mut ctx)
    }

    /// Shows the first screen (it loads its data) and checks the configured connections.
    pub fn start(&mut self) {
        let router = crate::tui::probes::router(&self.config, &mut self.jobs, self.lang);
        self.conns[Backend::Router.index()] = router;
        let (sqlserver, keeper) =
            crate::tui::probes::sqlserver(&self.config, &mut self.jobs, self.lang);
        self.conns[Backend::SqlServer.index()] = sqlserver;
        self.sql_keeper = keeper;
        let id = self.current;
        for a in self.with_screen(id, |s, ctx| s.on_show(ctx)) {
            self.dispatch(a);
        }
    }

    fn notify(&mut self, level: Level, text: String) {
        match level {
            Level::Error => tracing::warn!("{text}"),
            _ => tracing::info!("{text}"),
        }
        let at = self.now();
        self.messages.push_front(Message {
            at,
            level,
            text: text.clone(),
        });
        self.messages.truncate(MAX_MESSAGES);
        self.last_status = Some((level, text.clone(), self.tick));
        self.toasts.push(Toast {
            level,
            text,
            until_tick: self.tick + TOAST_TICKS,
        });
        if self.toasts.len() > 3 {
            self.toasts.remove(0);
        }
    }

    // ---------------------------------------------------------------- drawing

    pub fn render(&mut self, f: &mut Frame) {
        let area = f.area();
        let lang = self.lang;
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            self.render_too_small(f, area);
            return;
        }
        let [tabs, body, hints, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        self.render_tabs(f, tabs);
        let now = self.now();
        let rctx = RenderCtx {
            lang,
            theme: &self.theme,
            config: &self.config,
            now,
        };
        match self.screen_index(self.current) {
            Some(i) => self.screens[i].render(f, body, &rctx),
            None => render_unavailable(f, body, self.current, &rctx),
        }
        self.render_hints(f, hints);
        self.render_status(f, status);
        self.render_toasts(f, body);
        match &self.overlay {
            Some(Overlay::Help { tab, scroll }) => self.render_help(f, body, *tab, *scroll),
            Some(Overlay::Confirm { confirm, yes }) => self.render_confirm(f, area, confirm, *yes),
            None => {}
        }
    }

    fn render_too_small(&self, f: &mut Frame, area: Rect) {
        let lang = self.lang;
        let text = vec![
            Line::styled(
                lang.t("Terminal terlalu kecil", "Terminal too small"),
                self.theme.error,
            ),
            Line::raw(format!(
                "{} {MIN_WIDTH}x{MIN_HEIGHT}, {} {}x{}",
                lang.t("perlu", "need"),
                lang.t("sekarang", "now"),
                area.width,
                area.height
            )),
            Line::styled(
                lang.t(
                    "Perbesar jendela atau perkecil huruf.",
                    "Enlarge the window or use a smaller font.",
                ),
                self.theme.dim,
            ),
        ];
        let h = (text.len() as u16).min(area.height);
        let y = area.y + area.height.saturating_sub(h) / 2;
        f.render_widget(
            Paragraph::new(text)
                .alignment(ratatui::layout::Alignment::Center)
                .wrap(Wrap { trim: true }),
            Rect::new(area.x, y, area.width, h),
        );
    }

    fn render_tabs(&self, f: &mut Frame, area: Rect) {
        let lang = self.lang;
        let full: Vec<(ScreenId, String)> = ScreenId::ALL
            .iter()
            .map(|id| (*id, format!("F{} {}", id.fkey(), id.name(lang))))
            .collect();
        let width: usize = full.iter().map(|(_, s)| s.chars().count() + 2).sum();
        // Too narrow for every name: screens that are not built shrink to their key.
        let compact = width > area.width as usize;
        let mut spans = Vec::new();
        for (id, label) in full {
            let avail = self.is_available(id);
            let text = if compact && !avail && id != self.current {
                format!("F{}", id.fkey())
            } else {
                label
            };
            let style = if id == self.current {
                self.theme.tab_active
            } else if avail {
                self.theme.tab
            } else {
                self.theme.tab_unavailable
            };
            spans.push(Span::styled(format!(" {text} "), style));
            spans.push(Span::raw(" "));
        }
        f.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn render_hints(&self, f: &mut Frame, area: Rect) {
        let lang = self.lang;
        let mut bindings: Vec<Binding> = match &self.overlay {
            Some(Overlay::Confirm { .. }) => vec![
                Binding::new(
                    Key::plain(KeyCode::Tab),
                    ("pilih", "choose"),
                    Action::Render,
                ),
                Binding::new(
                    Key::plain(KeyCode::Enter),
                    ("jalankan pilihan", "run choice"),
                    Action::Render,
                ),
                Binding::new(
                    Key::plain(KeyCode::Esc),
                    ("batal", "cancel"),
                    Action::Render,
                ),
            ],
            Some(Overlay::Help { .. }) => vec![
                Binding::new(
                    Key::plain(KeyCode::Tab),
                    ("Tombol/Pesan", "Keys/Messages"),
                    Action::Render,
                ),
                Binding::new(
                    Key::plain(KeyCode::Down),
                    ("gulir", "scroll"),
                    Action::Render,
                ),
                Binding::new(Key::plain(KeyCode::Esc), ("tutup", "close"), Action::Render),
            ],
            None => self
                .screen_index(self.current)
                .map(|i| self.screens[i].bindings(lang))
                .unwrap_or_default(),
        };
        bindings.retain(|b| b.hint);
        if self.overlay.is_none() {
            bindings.push(Binding::new(Key::f(1), ("bantuan", "help"), Action::Help));
        }
        let mut spans = vec![Span::raw(" ")];
        let mut used = 1usize;
        for b in &bindings {
            let k = b.key_label();
            let l = b.label(lang);
            let w = k.chars().count() + 1 + l.chars().count() + 2;
            // The last hint needs no gap after it.
            if used + w - 2 > area.width as usize {
                break;
            }
            used += w;
            spans.push(Span::styled(k, self.theme.key));
            spans.push(Span::styled(format!(" {l}  "), self.theme.text));
        }
        f.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn render_status(&self, f: &mut Frame, area: Rect) {
        let lang = self.lang;
        let t = &self.theme;
        let sep = || Span::styled(" │ ", t.dim);
        let mut spans = vec![Span::styled(format!(" {}", self.config.shop.user), t.title)];
        for b in Backend::ALL {
            let st = &self.conns[b.index()];
            let style = match st {
                ConnState::Connected => t.ok,
                ConnState::Connecting => t.warn,
                ConnState::Error(_) => t.error,
                ConnState::Disabled => t.dim,
            };
            spans.push(sep());
            spans.push(Span::styled(format!("{} ", b.name()), t.text));
            spans.push(Span::styled(st.symbol(), style));
        }
        for (_, job) in self.jobs.running() {
            spans.push(sep());
            let counts = if job.total > 0 {
                format!(" {}/{} ", job.done, job.total)
            } else {
                " ".into()
            };
            spans.push(Span::styled(format!("{}{counts}", job.label), t.text));
            spans.push(Span::styled(gauge_text(job.ratio(), 8), t.gauge));
        }
        let used: usize = spans.iter().map(|s| s.width()).sum();
        let room = (area.width as usize).saturating_sub(used + 3);
        let screen_status = self
            .screen_index(self.current)
            .and_then(|i| self.screens[i].status(lang));
        let msg = match &self.last_status {
            Some((level, text, at)) if self.tick < at + TOAST_TICKS * 3 => {
                Some((*level, text.clone()))
            }
            _ => screen_status.map(|s| (Level::Info, s)),
        };
        if let Some((level, text)) = msg {
            if room > 4 {
                spans.push(sep());
                spans.push(Span::styled(truncate(&text, room), level_style(t, level)));
            }
        }
        f.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    /// Toasts stack up from the bottom right of the body, where tables are usually empty, and
    /// wrap to two lines; the full text stays in the message log (F1, Tab).
    fn render_toasts(&self, f: &mut Frame, body: Rect) {
        let mut bottom = body.y + body.height.saturating_sub(1);
        let max_w = body.width.saturating_sub(4).min(72);
        for toast in self.toasts.iter().rev() {
            let inner_w = max_w.saturating_sub(2) as usize;
            let chars = toast.text.chars().count();
            let lines = if chars > inner_w { 2 } else { 1 };
            let text = truncate(&toast.text, inner_w * lines);
            let w = (text.chars().count().min(inner_w) as u16 + 2).max(12);
            let h = lines as u16 + 2;
            if bottom < body.y + h + 1 {
                break;
            }
            let r = Rect::new(body.x + body.width - w - 2, bottom - h, w, h);
            let style = level_style(&self.theme, toast.level);
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(Line::styled(text, style))
                    .wrap(Wrap { trim: true })
                    .block(
                        Block::default()
                            .borders(Borders::ALL)
                            .border_style(style)
                            .title(level_name(self.lang, toast.level)),
                    ),
                r,
            );
            bottom -= h;
        }
    }

    fn render_help(&self, f: &mut Frame, body: Rect, tab: HelpTab, scroll: u16) {
        let lang = self.lang;
        let t = &self.theme;
        let r = popup_area(body, 90, 100);
        f.render_widget(Clear, r);
        let title = Line::from(vec![
            Span::raw(" "),
            Span::styled(
                lang.t(" Tombol ", " Keys "),
                if tab == HelpTab::Keys {
                    t.tab_active
                } else {
                    t.tab
                },
            ),
            Span::raw(" "),
            Span::styled(
                lang.t(" Pesan ", " Messages "),
                if tab == HelpTab::Messages {
                    t.tab_active
                } else {
                    t.tab
                },
            ),
            Span::raw(" "),
        ]);
        let mut lines: Vec<Line> = Vec::new();
        match tab {
            HelpTab::Keys => {
                let key_w = 14;
                let row = |b: &Binding| {
                    Line::from(vec![
                        Span::styled(format!(" {:<key_w$} ", b.key_label()), t.key),
                        Span::styled(b.help_text(lang).to_string(), t.text),
                    ])
                };
                if let Some(i) = self.screen_index(self.current) {
                    lines.push(Line::styled(
                        format!("F{} {}", self.current.fkey(), self.current.name(lang)),
                        t.title,
                    ));
                    let bindings = self.screens[i].bindings(lang);
                    let mut groups_done = Vec::new();
                    for b in &bindings {
                        match b.group {
                            None => lines.push(row(b)),
                            Some(g) if !groups_done.contains(&g) => {
                                groups_done.push(g);
                                let keys: Vec<String> = bindings
                                    .iter()
                                    .filter(|x| x.group == Some(g))
                                    .map(|x| x.key_label())
                                    .collect();
                                lines.push(Line::from(vec![
                                    Span::styled(format!(" {:<key_w$} ", keys.join(" ")), t.key),
                                    Span::styled(lang.t(g.0, g.1).to_string(), t.text),
                                ]));
                            }
                            Some(_) => {}
                        }
                    }
                    lines.push(Line::raw(""));
                }
                lines.push(Line::styled(lang.t("Semua layar", "All screens"), t.title));
                for b in self.global_bindings() {
                    let (text, style) = match b.action {
                        Action::Goto(id) if !self.is_available(id) => {
                            (format!("{} {}", b.label(lang), b.help_text(lang)), t.dim)
                        }
                        _ => (b.help_text(lang).to_string(), t.text),
                    };
                    lines.push(Line::from(vec![
                        Span::styled(format!(" {:<key_w$} ", b.key_label()), t.key),
                        Span::styled(text, style),
                    ]));
                }
            }
            HelpTab::Messages => {
                if self.messages.is_empty() {
                    lines.push(Line::styled(
                        lang.t("Belum ada pesan.", "No messages yet."),
                        t.dim,
                    ));
                }
                for m in &self.messages {
                    lines.push(Line::from(vec![
                        Span::styled(format!(" {} ", m.at.format("%H:%M:%S")), t.dim),
                        Span::styled(
                            format!("{:<6} ", level_name(lang, m.level)),
                            level_style(t, m.level),
                        ),
                        Span::styled(m.text.clone(), t.text),
                    ]));
                }
            }
        }
        f.render_widget(
            Paragraph::new(lines)
                .scroll((scroll, 0))
                .wrap(Wrap { trim: false })
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .border_style(t.border)
                        .title(title),
                ),
            r,
        );
    }

    fn render_confirm(&self, f: &mut Frame, area: Rect, c: &Confirm, yes: bool) {
        let lang = self.lang;
        let t = &self.theme;
        let w = 60.min(area.width - 4);
        let body_lines = wrap_count(&c.body, w.saturating_sub(4) as usize);
        let h = (body_lines as u16 + 3).min(area.height);
        let r = Rect::new(
            area.x + (area.width - w) / 2,
            area.y + (area.height - h) / 2,
            w,
            h,
        );
        f.render_widget(Clear, r);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.warn)
            .title(Span::styled(format!(" {} ", c.title), t.title));
        let inner = block.inner(r);
        f.render_widget(block, r);
        let [text, _, buttons] = Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(inner.inner(ratatui::layout::Margin::new(1, 0)));
        f.render_widget(
            Paragraph::new(c.body.as_str())
                .style(t.popup)
                .wrap(Wrap { trim: true }),
            text,
        );
        let cancel = lang.t("Batal", "Cancel");
        let button = |label: &str, focused: bool| {
            if focused {
                Span::styled(format!("[ {label} ]"), t.selected)
            } else {
                Span::styled(format!("  {label}  "), t.text)
            }
        };
        f.render_widget(
            Paragraph::new(Line::from(vec![
                button(cancel, !yes),
                Span::raw("   "),
                button(&c.yes, yes),
            ]))
            .alignment(ratatui::layout::Alignment::Center),
            buttons,
        );
    }
}

fn render_unavailable(f: &mut Frame, area: Rect, id: ScreenId, ctx: &RenderCtx) {
    let lang = ctx.lang;
    let t = ctx.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(format!(" F{} {} ", id.fkey(), id.name(lang)));
    let lines = vec![
        Line::raw(""),
        Line::styled(
            format!(
                "F{} {} {}",
                id.fkey(),
                id.name(lang),
                lang.t("belum tersedia di versi ini.", "is not available in this version yet.")
            ),
            t.warn,
        ),
        Line::raw(""),
        Line::styled(
            lang.t(
                "Layar ini sedang dibuat. Untuk sekarang pakai F2 Masuk (voucher masuk) atau F3 Stok.",
                "This screen is being built. For now use F2 Intake (vouchers in) or F3 Stock.",
            ),
            t.text,
        ),
    ];
    f.render_widget(
        Paragraph::new(lines)
            .alignment(ratatui::layout::Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(block),
        area,
    );
}

pub fn level_style(t: &Theme, level: Level) -> Style {
    match level {
        Level::Info => t.info,
        Level::Ok => t.ok,
        Level::Warn => t.warn,
        Level::Error => t.error,
    }
}

pub fn level_name(lang: Lang, level: Level) -> &'static str {
    match level {
        Level::Info => "info",
        Level::Ok => "ok",
        Level::Warn => lang.t("awas", "warn"),
        Level::Error => lang.t("galat", "error"),
    }
}

/// A text gauge that reads without colour: filled cells then light shade.
pub fn gauge_text(ratio: f64, cells: usize) -> String {
    let filled = ((ratio * cells as f64).round() as usize).min(cells);
    let mut s = "█".repeat(filled);
    s.push_str(&"░".repeat(cells - filled));
    s
}

pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn wrap_count(text: &str, width: usize) -> usize {
    let width = width.max(1);
    text.lines()
        .map(|l| l.chars().count().div_ceil(width).max(1))
        .sum::<usize>()
        .max(1)
        + 1
}
