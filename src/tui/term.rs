//! The real terminal: setup and restore, the panic hook, and the event loop with coalesced,
//! synchronized renders.

use std::io::{stdout, Stdout};
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::{eyre, Result, WrapErr};
use crossterm::event::{
    DisableMouseCapture, EnableMouseCapture, Event, EventStream, KeyCode, KeyEvent, KeyModifiers,
    MouseEventKind,
};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, BeginSynchronizedUpdate, EndSynchronizedUpdate,
    EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use futures::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::sync::mpsc::unbounded_channel;
use tokio::time::{interval, sleep_until, Instant, MissedTickBehavior};

use crate::config::Config;
use crate::tui::app::{App, Clock};
use crate::tui::data::Db;
use crate::tui::screens;
use crate::tui::theme::Theme;

/// 4 Hz: enough for toasts to expire on time; nothing polls faster.
const TICK: Duration = Duration::from_millis(250);

type Term = Terminal<CrosstermBackend<Stdout>>;

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// color-eyre reports, with the terminal restored first so the report is readable.
fn install_hooks() -> Result<()> {
    let (panic_hook, eyre_hook) = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .into_hooks();
    // A second install (konter demo after a failed start, tests) is harmless.
    let _ = eyre_hook.install();
    std::panic::set_hook(Box::new(move |info| {
        if crate::tui::jobs::in_job() {
            // Caught by the job runner and shown as a failed job: the TUI keeps running.
            tracing::error!("job panicked: {info}");
            return;
        }
        restore_terminal();
        tracing::error!("panic: {info}");
        eprintln!("{}", panic_hook.panic_report(info));
    }));
    Ok(())
}

/// Starts the TUI on the configured store and runs it until the user quits. `today` is the
/// date the intake rules check expiry against (normally the real date; `--today` moves it).
pub async fn run_tui(config: Config, today: chrono::NaiveDate) -> Result<()> {
    let data_dir = config.data_dir();
    let _log_guard = crate::logging::init(&data_dir)
        .wrap_err_with(|| format!("cannot write logs under {}", data_dir.display()))?;
    let db = Db::open(&config.db_path()).map_err(|e| eyre!("{e}"))?;
    tracing::info!("TUI start, store {}", config.db_path().display());
    install_hooks()?;

    enable_raw_mode().wrap_err("cannot switch the terminal to raw mode (is this a terminal?)")?;
    let mut out = stdout();
    execute!(out, EnterAlternateScreen, cursor::Hide)?;
    if config.ui.mouse {
        execute!(out, EnableMouseCapture)?;
    }
    // Card previews: the graphics protocol and cell size, asked before events are read.
    crate::tui::widgets::preview::init_from_terminal();
    let terminal = Terminal::new(CrosstermBackend::new(stdout()));
    let result = match terminal {
        Ok(t) => event_loop(t, config, db, today).await,
        Err(e) => Err(e.into()),
    };
    restore_terminal();
    tracing::info!("TUI stop");
    result
}

async fn event_loop(
    mut terminal: Term,
    config: Config,
    db: Db,
    today: chrono::NaiveDate,
) -> Result<()> {
    let (tx, mut rx) = unbounded_channel();
    let max_fps = config.ui.max_fps.clamp(1, 120);
    let frame = Duration::from_millis(1000 / u64::from(max_fps));
    // `--today` moves the date the rules see; the time of day stays the real one.
    let clock: Clock = Arc::new(move || today.and_time(chrono::Local::now().time()));
    let config = Arc::new(config);
    let mut app = App::new(
        config.clone(),
        Theme::from_env(),
        Some(Arc::new(db)),
        clock,
        tx,
        screens::build(&config),
    );
    app.start();

    let mut events = EventStream::new();
    let mut tick = interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut pacer = FramePacer::new(frame, Instant::now());
    while !app.should_quit() {
        let due = pacer.due();
        tokio::select! {
            // Render requests since the last frame are merged: at most one frame per `frame`.
            _ = sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                draw(&mut terminal, &mut app)?;
                pacer.drawn(Instant::now());
            }
            ev = events.next() => match ev {
                Some(Ok(ev)) => {
                    if app.handle_event(mouse_as_keys(ev)) {
                        pacer.request();
                    }
                }
                Some(Err(e)) => return Err(e).wrap_err("reading the terminal failed"),
                None => break,
            },
            Some(a) = rx.recv() => {
                app.dispatch(a);
                while let Ok(a) = rx.try_recv() {
                    app.dispatch(a);
                }
                pacer.request();
            }
            _ = tick.tick() => {
                if app.on_tick() {
                    pacer.request();
                }
            }
        }
    }
    Ok(())
}

/// Merges render requests: however many arrive, a frame is drawn at most once per `frame`
/// interval, and not at all while nothing changed.
#[derive(Debug)]
pub struct FramePacer {
    frame: Duration,
    last: Instant,
    pending: bool,
}

impl FramePacer {
    /// Starts with one frame pending (the first screen), drawable at once.
    pub fn new(frame: Duration, now: Instant) -> FramePacer {
        FramePacer {
            frame,
            last: now.checked_sub(frame).unwrap_or(now),
            pending: true,
        }
    }

    pub fn request(&mut self) {
        self.pending = true;
    }

    /// When the next frame may be drawn, if one is wanted.
    pub fn due(&self) -> Option<Instant> {
        self.pending.then_some(self.last + self.frame)
    }

    pub fn drawn(&mut self, now: Instant) {
        self.pending = false;
        self.last = now;
    }
}

/// With the mouse turned on, the wheel scrolls like the arrow keys; clicks do nothing.
fn mouse_as_keys(ev: Event) -> Event {
    match ev {
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => {
                Event::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE))
            }
            MouseEventKind::ScrollUp => Event::Key(KeyEvent::new(KeyCode::Up, KeyModifiers::NONE)),
            _ => ev,
        },
        other => other,
    }
}

/// One frame inside a synchronized update, so a slow link never shows half a frame. ratatui
/// sends only the cells that changed; nothing clears the screen.
fn draw(terminal: &mut Term, app: &mut App) -> Result<()> {
    execute!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    let r = terminal.draw(|f| app.render(f)).map(|_| ());
    execute!(terminal.backend_mut(), EndSynchronizedUpdate)?;
    r?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_requests_make_one_frame_per_interval() {
        let t0 = Instant::now();
        let frame = Duration::from_millis(33);
        let mut p = FramePacer::new(frame, t0);
        assert!(p.due().unwrap() <= t0, "first frame at once");
        p.drawn(t0);
        assert_eq!(p.due(), None, "nothing changed: no frame");
        for _ in 0..100 {
            p.request();
        }
        assert_eq!(
            p.due(),
            Some(t0 + frame),
            "100 requests, one frame, not before the interval"
        );
        p.drawn(t0 + frame);
        assert_eq!(p.due(), None);
    }
}
