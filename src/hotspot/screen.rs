//! F4 hotspot users: the table with statuses, filters by status / blok / profile, search, the
//! detail popup and the generate dialog. The screen only holds state and draws it; loading rows,
//! syncing and generating are jobs the app runs when the screen asks for them
//! ([`ScreenRequest`]), and their results come back through the `set_*` methods.

use std::collections::{BTreeMap, BTreeSet};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::config::HotspotProfile;
use crate::domain::hotspot::{format_bytes, format_clock, Status};
use crate::i18n::Lang;
use crate::store::hotspot::{UserDetail, UserView};

/// What the screen asks the app to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScreenRequest {
    /// Load the detail of this user and call [`HotspotScreen::set_detail`].
    Detail(String),
    /// Run a sync now.
    Sync,
    /// Print this voucher to the configured printer.
    Print(String),
    /// Print the last generated batch again.
    PrintBatch,
    /// Generate vouchers.
    Generate {
        profile: String,
        blok: String,
        count: usize,
    },
}

/// The generate dialog's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateForm {
    pub profile: usize,
    pub blok: usize,
    pub count: String,
    /// 0 profile, 1 blok, 2 count.
    pub field: usize,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeKind {
    Table,
    Search,
    Detail,
    Generate,
}

#[derive(Debug, Clone, PartialEq)]
enum Mode {
    Table,
    Search,
    Detail(Box<UserDetail>),
    Generate(GenerateForm),
}

/// Statuses the `s` key cycles through (None = all).
const STATUS_CYCLE: [Option<Status>; 8] = [
    None,
    Some(Status::Ready),
    Some(Status::Online),
    Some(Status::Terpakai),
    Some(Status::Rusak),
    Some(Status::Retur),
    Some(Status::Invalid),
    Some(Status::Pengelola),
];

pub struct HotspotScreen {
    lang: Lang,
    rows: Vec<UserView>,
    view: Vec<usize>,
    status: Option<Status>,
    blok: Option<String>,
    profile: Option<String>,
    search: String,
    selected: usize,
    offset: usize,
    mode: Mode,
    counts: BTreeMap<Status, usize>,
    /// "router: 127.0.0.1:8728"; the age of the last sync is added when drawing.
    pub title: String,
    /// When the last sync finished, for "sinkron 4 dtk lalu" in the title.
    pub synced_at: Option<std::time::Instant>,
    profiles: Vec<HotspotProfile>,
    blok_letters: Vec<char>,
    /// A line shown under the table: generate progress, sync errors.
    pub notice: Option<String>,
}

impl HotspotScreen {
    pub fn new(lang: Lang, profiles: Vec<HotspotProfile>, blok_letters: &str) -> Self {
        HotspotScreen {
            lang,
            rows: Vec::new(),
            view: Vec::new(),
            status: None,
            blok: None,
            profile: None,
            search: String::new(),
            selected: 0,
            offset: 0,
            mode: Mode::Table,
            counts: BTreeMap::new(),
            title: String::new(),
            synced_at: None,
            profiles,
            blok_letters: blok_letters
                .chars()
                .filter(|c| c.is_ascii_alphabetic())
                .collect(),
            notice: None,
        }
    }

    /// New rows from the store (live refresh): keeps filters and the selected user.
    pub fn set_rows(&mut self, rows: Vec<UserView>) {
        let keep = self.selected_user().map(|u| u.name.clone());
        self.counts.clear();
        for r in &rows {
            *self.counts.entry(r.status).or_insert(0) += 1;
        }
        self.rows = rows;
        self.refilter();
        if let Some(name) = keep {
            if let Some(pos) = self.view.iter().position(|&i| self.rows[i].name == name) {
                self.selected = pos;
            }
        }
    }

    pub fn set_detail(&mut self, d: UserDetail) {
        self.mode = Mode::Detail(Box::new(d));
    }

    pub fn selected_user(&self) -> Option<&UserView> {
        self.view.get(self.selected).map(|&i| &self.rows[i])
    }

    pub fn visible_count(&self) -> usize {
        self.view.len()
    }

    /// Which part has the keys: the table, the search field, the detail popup, or the
    /// generate dialog.
    pub fn mode_kind(&self) -> ModeKind {
        match self.mode {
            Mode::Table => ModeKind::Table,
            Mode::Search => ModeKind::Search,
            Mode::Detail(_) => ModeKind::Detail,
            Mode::Generate(_) => ModeKind::Generate,
        }
    }

    pub fn is_dialog_open(&self) -> bool {
        !matches!(self.mode, Mode::Table)
    }

    fn refilter(&mut self) {
        let search = self.search.to_lowercase();
        self.view = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, u)| self.status.is_none_or(|s| u.status == s))
            .filter(|(_, u)| {
                self.blok
                    .as_ref()
                    .is_none_or(|b| u.blok.as_deref() == Some(b.as_str()))
            })
            .filter(|(_, u)| self.profile.as_ref().is_none_or(|p| &u.profile == p))
            .filter(|(_, u)| {
                search.is_empty()
                    || u.name.to_lowercase().contains(&search)
                    || u.comment.to_lowercase().contains(&search)
            })
            .map(|(i, _)| i)
            .collect();
        if self.selected >= self.view.len() {
            self.selected = self.view.len().saturating_sub(1);
        }
    }

    fn cycle<T: Clone + PartialEq>(options: &[Option<T>], cur: &Option<T>) -> Option<T> {
        let pos = options.iter().position(|o| o == cur).unwrap_or(0);
        options[(pos + 1) % options.len()].clone()
    }

    /// Key hints for the hint line: (key, what).
    pub fn key_hints(&self) -> Vec<(&'static str, &'static str)> {
        let l = self.lang;
        match &self.mode {
            Mode::Table => vec![
                ("Enter", l.t("detail", "detail")),
                ("/", l.t("cari", "search")),
                ("s", l.t("status", "status")),
                ("b", l.t("blok", "blok")),
                ("o", l.t("profil", "profile")),
                ("g", l.t("buat voucher", "generate")),
                ("p", l.t("cetak", "print")),
                ("R", l.t("sinkron", "sync")),
                ("x", l.t("reset", "reset")),
            ],
            Mode::Search => vec![
                ("Enter", l.t("selesai", "done")),
                ("Esc", l.t("batal cari", "clear search")),
            ],
            Mode::Detail(_) => vec![("Esc", l.t("tutup", "close"))],
            Mode::Generate(_) => vec![
                ("Tab", l.t("kolom berikut", "next field")),
                ("←/→", l.t("pilih", "choose")),
                ("Enter", l.t("buat", "create")),
                ("Esc", l.t("batal", "cancel")),
            ],
        }
    }

    /// Handles one key press; returns what the app should do, if anything.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<ScreenRequest> {
        if key.kind != KeyEventKind::Press {
            return None;
        }
        match &mut self.mode {
            Mode::Search => {
                match key.code {
                    KeyCode::Enter => self.mode = Mode::Table,
                    KeyCode::Esc => {
                        self.search.clear();
                        self.mode = Mode::Table;
                    }
                    KeyCode::Backspace => {
                        self.search.pop();
                    }
                    KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                        self.search.push(c)
                    }
                    _ => return None,
                }
                self.refilter();
                None
            }
            Mode::Detail(_) => {
                if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                    self.mode = Mode::Table;
                }
                None
            }
            Mode::Generate(form) => {
                let n_profiles = self.profiles.len().max(1);
                let n_bloks = self.blok_letters.len().max(1);
                match key.code {
                    KeyCode::Esc => self.mode = Mode::Table,
                    KeyCode::Tab | KeyCode::Down => form.field = (form.field + 1) % 3,
                    KeyCode::BackTab | KeyCode::Up => form.field = (form.field + 2) % 3,
                    KeyCode::Right | KeyCode::Left => {
                        let fwd = key.code == KeyCode::Right;
                        match form.field {
                            0 => {
                                form.profile = if fwd {
                                    (form.profile + 1) % n_profiles
                                } else {
                                    (form.profile + n_profiles - 1) % n_profiles
                                }
                            }
                            1 => {
                                form.blok = if fwd {
                                    (form.blok + 1) % n_bloks
                                } else {
                                    (form.blok + n_bloks - 1) % n_bloks
                                }
                            }
                            _ => {}
                        }
                    }
                    KeyCode::Char(c)
                        if form.field == 2 && c.is_ascii_digit() && form.count.len() < 4 =>
                    {
                        form.count.push(c)
                    }
                    KeyCode::Backspace if form.field == 2 => {
                        form.count.pop();
                    }
                    KeyCode::Enter => {
                        let count: usize = form.count.parse().unwrap_or(0);
                        if count == 0 || count > crate::domain::hotspot::MAX_BATCH {
                            form.error = Some(
                                self.lang
                                    .t("jumlah harus 1 sampai 1000", "the count must be 1 to 1000")
                                    .into(),
                            );
                            return None;
                        }
                        let (Some(p), Some(b)) = (
                            self.profiles.get(form.profile),
                            self.blok_letters.get(form.blok),
                        ) else {
                            form.error = Some(
                                self.lang
                                    .t(
                                        "belum ada profil/blok di [hotspot] konfigurasi",
                                        "no profiles/bloks in the [hotspot] config",
                                    )
                                    .into(),
                            );
                            return None;
                        };
                        let req = ScreenRequest::Generate {
                            profile: p.name.clone(),
                            blok: b.to_string(),
                            count,
                        };
                        self.mode = Mode::Table;
                        return Some(req);
                    }
                    _ => {}
                }
                None
            }
            Mode::Table => {
                let page = 10;
                match key.code {
                    KeyCode::Down | KeyCode::Char('j') => self.move_by(1),
                    KeyCode::Up | KeyCode::Char('k') => self.move_by(-1),
                    KeyCode::PageDown => self.move_by(page),
                    KeyCode::PageUp => self.move_by(-page),
                    KeyCode::Home => self.selected = 0,
                    KeyCode::End => self.selected = self.view.len().saturating_sub(1),
                    KeyCode::Enter => {
                        return self
                            .selected_user()
                            .map(|u| ScreenRequest::Detail(u.name.clone()))
                    }
                    KeyCode::Char('/') => self.mode = Mode::Search,
                    KeyCode::Char('s') => {
                        self.status = Self::cycle(&STATUS_CYCLE, &self.status);
                        self.refilter();
                    }
                    KeyCode::Char('b') => {
                        let mut opts: Vec<Option<String>> = vec![None];
                        let bloks: BTreeSet<&str> =
                            self.rows.iter().filter_map(|u| u.blok.as_deref()).collect();
                        opts.extend(bloks.into_iter().map(|b| Some(b.to_string())));
                        self.blok = Self::cycle(&opts, &self.blok);
                        self.refilter();
                    }
                    KeyCode::Char('o') => {
                        let mut opts: Vec<Option<String>> = vec![None];
                        let profiles: BTreeSet<&str> =
                            self.rows.iter().map(|u| u.profile.as_str()).collect();
                        opts.extend(profiles.into_iter().map(|p| Some(p.to_string())));
                        self.profile = Self::cycle(&opts, &self.profile);
                        self.refilter();
                    }
                    KeyCode::Char('x') => {
                        self.status = None;
                        self.blok = None;
                        self.profile = None;
                        self.search.clear();
                        self.refilter();
                    }
                    KeyCode::Char('g') => {
                        self.mode = Mode::Generate(GenerateForm {
                            profile: 0,
                            blok: 0,
                            count: "10".into(),
                            field: 2,
                            error: None,
                        })
                    }
                    KeyCode::Char('R') => return Some(ScreenRequest::Sync),
                    KeyCode::Char('p') => {
                        let l = self.lang;
                        let u = self.selected_user()?;
                        // A used, broken or returned voucher must not go out again as new.
                        if matches!(u.status, Status::Ready | Status::Pengelola) {
                            return Some(ScreenRequest::Print(u.name.clone()));
                        }
                        self.notice = Some(format!(
                            "{} {} {} {}",
                            u.name,
                            l.t("berstatus", "is"),
                            u.status.as_str(),
                            l.t(
                                "— hanya voucher READY yang dicetak",
                                "— only READY vouchers are printed"
                            )
                        ));
                    }
                    KeyCode::Char('P') => return Some(ScreenRequest::PrintBatch),
                    _ => {}
                }
                None
            }
        }
    }

    fn move_by(&mut self, d: isize) {
        if self.view.is_empty() {
            self.selected = 0;
            return;
        }
        let max = self.view.len() as isize - 1;
        self.selected = (self.selected as isize + d).clamp(0, max) as usize;
    }

    fn status_style(s: Status) -> Style {
        match s {
            Status::Online => Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            Status::Rusak => Style::new().fg(Color::Red),
            Status::Retur => Style::new().fg(Color::Magenta),
            Status::Invalid => Style::new().fg(Color::Yellow),
            Status::Ready => Style::new().fg(Color::Cyan),
            Status::Terpakai | Status::Pengelola => Style::new(),
        }
    }

    fn filter_text(&self) -> String {
        let l = self.lang;
        let mut parts = Vec::new();
        if let Some(s) = self.status {
            parts.push(format!("status={s}"));
        }
        if let Some(b) = &self.blok {
            parts.push(format!("blok={b}"));
        }
        if let Some(p) = &self.profile {
            parts.push(format!("{}={p}", l.t("profil", "profile")));
        }
        if !self.search.is_empty() || self.mode == Mode::Search {
            parts.push(format!(
                "{}: {}{}",
                l.t("cari", "search"),
                self.search,
                if self.mode == Mode::Search { "▏" } else { "" }
            ));
        }
        if parts.is_empty() {
            l.t("semua user", "all users").to_string()
        } else {
            parts.join("  ")
        }
    }

    /// The title (router, age of the last sync) and the status counts for a frame `width`
    /// wide: the richest pair that fits, so every status count stays visible on 80 columns.
    fn title_parts(&self, width: usize) -> (String, String) {
        let l = self.lang;
        let secs = self.synced_at.map(|t| t.elapsed().as_secs());
        let long_age = secs
            .map(|s| {
                format!(
                    " ({} {s} {})",
                    l.t("sinkron", "synced"),
                    l.t("dtk lalu", "s ago")
                )
            })
            .unwrap_or_default();
        let short_age = secs
            .map(|s| format!(" · {s} {}", l.t("dtk", "s")))
            .unwrap_or_default();
        let titles = [
            format!(" Hotspot {}{long_age} ", self.title),
            format!(" Hotspot {}{short_age} ", self.title),
            format!(" Hotspot{short_age} "),
        ];
        let shown: Vec<(Status, usize)> = Status::ALL
            .iter()
            .map(|s| (*s, self.counts.get(s).copied().unwrap_or(0)))
            .filter(|(s, n)| *n > 0 || matches!(s, Status::Ready | Status::Online))
            .collect();
        let full = shown
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(" ");
        let short = shown
            .iter()
            .map(|(s, n)| format!("{} {n}", Self::status_abbr(*s)))
            .collect::<Vec<_>>()
            .join(" ");
        let (full, short) = (format!(" {full} "), format!(" {short} "));
        // two corners, and at least one line of border between the two titles
        let room = width.saturating_sub(3);
        let len = |a: &str, b: &str| a.chars().count() + b.chars().count();
        for counts in [&full, &short] {
            for t in &titles {
                if len(t, counts) <= room {
                    return (t.clone(), counts.clone());
                }
            }
        }
        let keep = room.saturating_sub(short.chars().count());
        let mut t: String = titles[2].chars().take(keep.saturating_sub(1)).collect();
        if keep > 0 {
            t.push('…');
        }
        (t, short)
    }

    /// Short status names for narrow terminals (explained in the help overlay).
    fn status_abbr(s: Status) -> &'static str {
        match s {
            Status::Ready => "RDY",
            Status::Online => "ONL",
            Status::Terpakai => "TPK",
            Status::Rusak => "RSK",
            Status::Retur => "RTR",
            Status::Invalid => "INV",
            Status::Pengelola => "PGL",
        }
    }

    /// Draws the screen body (tab bar, hint line and status bar belong to the app shell).
    pub fn render(&mut self, f: &mut Frame, area: Rect) {
        let l = self.lang;
        let (title, counts) = self.title_parts(area.width as usize);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::from(title))
            .title(Line::from(counts).right_aligned());
        let inner = block.inner(area);
        f.render_widget(block, area);
        let [table_area, foot] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
        let wide = table_area.width >= 98;
        // what the fixed columns and their gaps leave for the comment
        let comment_w = (table_area.width as usize).saturating_sub(63 + 7);
        let body_rows = table_area.height.saturating_sub(1) as usize;
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if body_rows > 0 && self.selected >= self.offset + body_rows {
            self.offset = self.selected + 1 - body_rows;
        }
        // only the visible window is built, so 10k users cost nothing per frame
        let end = (self.offset + body_rows).min(self.view.len());
        let rows: Vec<Row> = self.view[self.offset.min(end)..end]
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let u = &self.rows[i];
                let sel = self.offset + k == self.selected;
                let mut cells = vec![
                    Cell::from(Span::styled(
                        format!("{}{}", u.status.as_str(), if u.warning { "!" } else { "" }),
                        Self::status_style(u.status),
                    )),
                    Cell::from(u.name.clone()),
                    Cell::from(u.profile.clone()),
                    Cell::from(u.blok.clone().unwrap_or_else(|| "-".into())),
                    Cell::from(format_clock(u.uptime_s)),
                    Cell::from(format_bytes(u.bytes)),
                    Cell::from(format!("{}x", u.login_count)),
                ];
                if wide {
                    cells.push(Cell::from(ellipsize(&u.comment, comment_w)));
                }
                let row = Row::new(cells);
                if sel {
                    row.style(Style::new().add_modifier(Modifier::REVERSED))
                } else {
                    row
                }
            })
            .collect();
        let mut widths = vec![
            Constraint::Length(10),
            Constraint::Length(12),
            Constraint::Length(9),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Length(6),
        ];
        let mut header = vec![
            "Status",
            "User",
            l.t("Profil", "Profile"),
            "Blok",
            "Uptime",
            "Bytes",
            "Login",
        ];
        if wide {
            widths.push(Constraint::Min(10));
            header.push(l.t("Komentar", "Comment"));
        }
        let table = Table::new(rows, widths)
            .header(Row::new(header).style(Style::new().add_modifier(Modifier::BOLD)))
            .column_spacing(1);
        f.render_widget(table, table_area);
        if self.view.is_empty() {
            let msg = if self.rows.is_empty() {
                l.t(
                    "Belum ada user. Tekan R untuk sinkron dari router.",
                    "No users yet. Press R to sync from the router.",
                )
            } else {
                l.t(
                    "Tidak ada user yang cocok dengan filter. Tekan x untuk hapus filter.",
                    "No user matches the filters. Press x to clear them.",
                )
            };
            let a = Rect {
                y: table_area.y + 1,
                height: 1,
                ..table_area
            };
            f.render_widget(Paragraph::new(msg), a);
        }
        let pos = if self.view.is_empty() {
            format!("0 / {}", self.rows.len())
        } else {
            format!("{} / {}", self.selected + 1, self.view.len())
        };
        let left = match &self.notice {
            Some(n) => format!("{}  │ {n}", self.filter_text()),
            None => self.filter_text(),
        };
        let [fl, fr] =
            Layout::horizontal([Constraint::Min(1), Constraint::Length(pos.len() as u16 + 6)])
                .areas(foot);
        f.render_widget(Paragraph::new(left), fl);
        f.render_widget(
            Paragraph::new(format!("{} {pos}", l.t("baris", "row"))).right_aligned(),
            fr,
        );
        match &self.mode {
            Mode::Detail(d) => self.render_detail(f, area, d),
            Mode::Generate(g) => self.render_generate(f, area, g),
            _ => {}
        }
    }

    fn render_detail(&self, f: &mut Frame, area: Rect, d: &UserDetail) {
        let l = self.lang;
        let w = area.width.saturating_sub(4).min(90);
        let h = area.height.saturating_sub(2).min(20);
        let r = Rect {
            x: area.x + (area.width - w) / 2,
            y: area.y + (area.height - h) / 2,
            width: w,
            height: h,
        };
        f.render_widget(Clear, r);
        let u = &d.user;
        let mut lines = vec![
            Line::from(vec![
                Span::styled(u.status.as_str(), Self::status_style(u.status)),
                Span::raw(format!(
                    "  {}  {}  {}",
                    u.profile,
                    u.blok.as_deref().unwrap_or("-"),
                    u.address.as_deref().unwrap_or("")
                )),
            ]),
            Line::from(format!(
                "Uptime {}   Bytes {}   Login {}x   Relogin {}",
                format_clock(u.uptime_s),
                format_bytes(u.bytes),
                u.login_count,
                u.relogins
            )),
            Line::from(format!("{} {}", l.t("Komentar:", "Comment:"), u.comment)),
        ];
        if u.warning {
            lines.push(Line::from(Span::styled(
                l.t(
                    "! Pemakaian sangat rendah untuk profil ini: periksa apakah voucher rusak.",
                    "! Very low use for this profile: check whether the voucher is broken.",
                ),
                Style::new().fg(Color::Yellow),
            )));
        }
        lines.push(Line::from(format!(
            "{} {}   {} {}",
            l.t("Login pertama", "First login"),
            d.first_login_at
                .as_deref()
                .map(|t| t.replacen('T', " ", 1))
                .unwrap_or_else(|| "-".into()),
            l.t("terakhir", "last"),
            d.last_login_at
                .as_deref()
                .map(|t| t.replacen('T', " ", 1))
                .unwrap_or_else(|| "-".into())
        )));
        lines.push(Line::from(Span::styled(
            l.t("Riwayat login", "Login history"),
            Style::new().add_modifier(Modifier::BOLD),
        )));
        if d.events.is_empty() {
            lines.push(Line::from(l.t("  (belum ada)", "  (none yet)")));
        }
        let newest = d.events.len().saturating_sub(1);
        for (i, e) in d.events.iter().enumerate().rev().take(8) {
            // no logout yet: online if it is the session now, else unknown (a login known only
            // from its sales record)
            let online = i == newest && u.status == Status::Online;
            let open = if online { l.t("online", "online") } else { "-" };
            // a login known only from its sales record has no time or bytes of its own
            let known = online || e.logout_time.is_some() || e.uptime_s > 0 || e.bytes > 0;
            let (up, bytes) = if known {
                (format_clock(e.uptime_s), format_bytes(e.bytes))
            } else {
                ("-".to_string(), "-".to_string())
            };
            lines.push(Line::from(format!(
                "  {} {}  →  {}  {}  {}  {}",
                e.date_key,
                e.login_time,
                e.logout_time
                    .as_deref()
                    .map(|t| t.get(11..).unwrap_or(t))
                    .unwrap_or(open),
                up,
                bytes,
                e.ip
            )));
        }
        if !d.sales.is_empty() {
            lines.push(Line::from(Span::styled(
                l.t("Penjualan", "Sales"),
                Style::new().add_modifier(Modifier::BOLD),
            )));
            for s in d.sales.iter().take(4) {
                lines.push(Line::from(format!(
                    "  {} {}  {}  {}  {}",
                    s.sale_date,
                    s.sale_time,
                    crate::hotspot::print::rupiah(s.price),
                    s.blok_name,
                    s.status
                )));
            }
        }
        let p = Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} ", u.name))
                .title_bottom(Line::from(l.t(" Esc tutup ", " Esc close ")).right_aligned()),
        );
        f.render_widget(p, r);
    }

    fn render_generate(&self, f: &mut Frame, area: Rect, g: &GenerateForm) {
        let l = self.lang;
        let w = area.width.saturating_sub(4).min(52);
        let h = 9.min(area.height);
        let r = Rect {
            x: area.x + (area.width - w) / 2,
            y: area.y + (area.height - h) / 2,
            width: w,
            height: h,
        };
        f.render_widget(Clear, r);
        let mark = |i: usize| if g.field == i { "▶ " } else { "  " };
        let prof = self
            .profiles
            .get(g.profile)
            .map(|p| format!("{} ({} {})", p.name, p.minutes, l.t("menit", "min")))
            .unwrap_or_else(|| "-".into());
        let blok = self
            .blok_letters
            .get(g.blok)
            .map(|b| format!("Blok-{b}"))
            .unwrap_or_else(|| "-".into());
        let mut lines = vec![
            Line::from(format!(
                "{}{:<8} ◀ {prof} ▶",
                mark(0),
                l.t("Profil", "Profile")
            )),
            Line::from(format!("{}{:<8} ◀ {blok} ▶", mark(1), "Blok")),
            Line::from(format!(
                "{}{:<8} {}{}",
                mark(2),
                l.t("Jumlah", "Count"),
                g.count,
                if g.field == 2 { "▏" } else { "" }
            )),
            Line::from(""),
        ];
        match &g.error {
            Some(e) => lines.push(Line::from(Span::styled(
                e.clone(),
                Style::new().fg(Color::Red),
            ))),
            None => lines.push(Line::from(l.t(
                "Enter buat di router   Esc batal",
                "Enter create on the router   Esc cancel",
            ))),
        }
        let p = Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(l.t(" Buat voucher ", " Generate vouchers ")),
        );
        f.render_widget(p, r);
    }
}

/// Draws the screen with a hint line under it, for use without the app shell (benchmarks,
/// snapshots).
pub fn render_with_hints(s: &mut HotspotScreen, f: &mut Frame) {
    let [body, hints] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(f.area());
    s.render(f, body);
    let text: Vec<Span> = s
        .key_hints()
        .into_iter()
        .flat_map(|(k, what)| {
            [
                Span::styled(format!(" {k}"), Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(format!(" {what} ")),
            ]
        })
        .collect();
    f.render_widget(Paragraph::new(Line::from(text)), hints);
}

#[cfg(test)]
mod tests;

/// `s` cut to `width` characters, with `…` when something was cut off.
fn ellipsize(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}
