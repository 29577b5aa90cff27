//! Drives the whole app on a `TestBackend` with key events, for snapshot tests: a fixed clock,
//! jobs awaited to the end, and the screen as text.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use crate::config::Config;
use crate::tui::action::Action;
use crate::tui::app::{App, Clock};
use crate::tui::data::Db;
use crate::tui::screen::Screen;
use crate::tui::theme::Theme;

/// The fixed "now" of every snapshot: 21 Nov 2026, 09:30 (the test data's today).
pub fn test_now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 21)
        .unwrap()
        .and_hms_opt(9, 30, 0)
        .unwrap()
}

pub struct Harness {
    pub app: App,
    rx: UnboundedReceiver<Action>,
    terminal: Terminal<TestBackend>,
}

impl Harness {
    pub fn new(
        config: Config,
        db: Option<Arc<Db>>,
        screens: Vec<Box<dyn Screen>>,
        width: u16,
        height: u16,
    ) -> Harness {
        let (tx, rx) = unbounded_channel();
        let clock: Clock = Arc::new(test_now);
        let mut app = App::new(Arc::new(config), Theme::new(false), db, clock, tx, screens);
        app.start();
        Harness {
            app,
            rx,
            terminal: Terminal::new(TestBackend::new(width, height)).expect("test terminal"),
        }
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        self.terminal.backend_mut().resize(width, height);
    }

    pub fn key(&mut self, k: KeyEvent) {
        self.app.handle_event(Event::Key(k));
    }

    /// Types keys: plain characters, or `<F2>`, `<Enter>`, `<Esc>`, `<Tab>`, `<Up>`, `<Down>`,
    /// `<Left>`, `<Right>`, `<BS>`, `<PgDn>`, `<PgUp>`, `<End>`, `<Home>`, `<C-x>`, `<A-3>`.
    pub fn keys(&mut self, spec: &str) {
        let mut rest = spec;
        while let Some(c) = rest.chars().next() {
            if c == '<' {
                if let Some(end) = rest.find('>') {
                    let name = &rest[1..end];
                    if name.len() > 1 {
                        self.key(named_key(name));
                        rest = &rest[end + 1..];
                        continue;
                    }
                }
            }
            let mods = if c.is_ascii_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            self.key(KeyEvent::new(KeyCode::Char(c), mods));
            rest = &rest[c.len_utf8()..];
        }
    }

    /// Applies queued actions until no job runs and nothing is queued (10 s at most).
    pub async fn settle(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            while let Ok(a) = self.rx.try_recv() {
                self.app.dispatch(a);
            }
            if self.app.jobs.is_empty() {
                // A finished job may have started another; let it report.
                tokio::task::yield_now().await;
                if self.rx.is_empty() && self.app.jobs.is_empty() {
                    return;
                }
                continue;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(a)) => self.app.dispatch(a),
                Ok(None) => return,
                Err(_) => panic!("jobs did not finish within 10 s"),
            }
        }
    }

    /// Applies actions as they come (background keepers report without a job) until `done`
    /// holds; false if it still does not after `limit`.
    pub async fn wait_until(&mut self, limit: Duration, done: impl Fn(&App) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            while let Ok(a) = self.rx.try_recv() {
                self.app.dispatch(a);
            }
            if done(&self.app) {
                return true;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(a)) => self.app.dispatch(a),
                Ok(None) | Err(_) => return done(&self.app),
            }
        }
    }

    /// Lets every toast run out (the message log and the status line keep the text).
    pub fn expire_toasts(&mut self) {
        for _ in 0..200 {
            self.app.on_tick();
        }
    }

    /// Draws a frame and returns the screen as text, one line per row.
    pub fn screen(&mut self) -> String {
        let app = &mut self.app;
        self.terminal.draw(|f| app.render(f)).expect("draw");
        let buf = self.terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            let mut line = String::new();
            for x in 0..buf.area.width {
                line.push_str(buf[(x, y)].symbol());
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

fn named_key(name: &str) -> KeyEvent {
    let plain = |c| KeyEvent::new(c, KeyModifiers::NONE);
    if let Some(rest) = name.strip_prefix("C-") {
        return KeyEvent::new(
            KeyCode::Char(rest.chars().next().unwrap_or(' ')),
            KeyModifiers::CONTROL,
        );
    }
    if let Some(rest) = name.strip_prefix("A-") {
        return KeyEvent::new(
            KeyCode::Char(rest.chars().next().unwrap_or(' ')),
            KeyModifiers::ALT,
        );
    }
    if let Some(n) = name.strip_prefix('F').and_then(|n| n.parse::<u8>().ok()) {
        return plain(KeyCode::F(n));
    }
    plain(match name {
        "Enter" => KeyCode::Enter,
        "Esc" => KeyCode::Esc,
        "Tab" => KeyCode::Tab,
        "BackTab" => KeyCode::BackTab,
        "Up" => KeyCode::Up,
        "Down" => KeyCode::Down,
        "Left" => KeyCode::Left,
        "Right" => KeyCode::Right,
        "BS" => KeyCode::Backspace,
        "Del" => KeyCode::Delete,
        "PgDn" => KeyCode::PageDown,
        "PgUp" => KeyCode::PageUp,
        "Home" => KeyCode::Home,
        "End" => KeyCode::End,
        "Space" => KeyCode::Char(' '),
        "lt" => KeyCode::Char('<'),
        other => panic!("unknown key <{other}>"),
    })
}
