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
    let mut dirty = true;
    let mut last_draw = Instant::now() - frame;
    while !app.should_quit() {
        tokio::select! {
            // Render requests since the last frame are merged: at most one frame per `frame`.
            _ = sleep_until(last_draw + frame), if dirty => {
                draw(&mut terminal, &mut app)?;
                dirty = false;
                last_draw = Instant::now();
            }
            ev = events.next() => match ev {
                Some(Ok(ev)) => dirty |= app.handle_event(mouse_as_keys(ev)),
                Some(Err(e)) => return Err(e).wrap_err("reading the terminal failed"),
                None => break,
            },
            Some(a) = rx.recv() => {
                app.dispatch(a);
                while let Ok(a) = rx.try_recv() {
                    app.dispatch(a);
                }
                dirty = true;
            }
            _ = tick.tick() => dirty |= app.on_tick(),
        }
    }
    Ok(())
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
