//! The terminal UI: one event loop, one [`Action`] enum, screens behind F-keys.
//!
//! How it fits together:
//! - [`term`] owns the real terminal: raw mode, the panic hook that restores it, the crossterm
//!   `EventStream`, and a render step that merges render requests into at most `ui.max_fps`
//!   frames, each wrapped in a synchronized update (no full clears; smooth over SSH).
//! - [`app::App`] holds everything on screen and turns key events into [`Action`]s, then applies
//!   them in one place ([`app::App::dispatch`]). Confirmations are data:
//!   `Action::Confirm(..)` opens a popup that defaults to "Batal"; only its named yes-button
//!   (or `y`) sends
//!   `Action::Confirmed(action)`, and that is unwrapped in `dispatch` like any other action.
//! - [`jobs::Jobs`] runs background work (SQLite, files, network) on tokio or `spawn_blocking`.
//!   A job reports progress and its result as actions through the same channel the event loop
//!   reads, so the UI thread never waits on IO. Jobs can be cancelled (Ctrl+X).
//!
//! # Adding a screen
//! 1. Write `screens/yours.rs` with a type implementing [`screen::Screen`]:
//!    `id()` returns its [`screen::ScreenId`] (F4 Hotspot, ...), `bindings()` lists its keys for
//!    the current mode (the key-hint line and the F1 help are generated from this list, and keys
//!    are matched against it, so hints never lie), `update()` reacts to actions (give the
//!    screen its own message enum and one variant in [`Action`], as `Action::Intake(IntakeMsg)`;
//!    every screen sees every such action and ignores the others), `render()` draws the body.
//! 2. Register it in [`screens::build`]. The tab bar then shows it as available; until then
//!    its F-key shows an honest "belum tersedia" panel.
//! 3. Start slow work with `ctx.jobs.spawn_blocking(label, |progress| ...)`, returning the action
//!    to apply when it finishes. Never touch SQLite or the network in `update` or `render`.
//! 4. Add snapshot tests at 80x24 and 120x40 with [`testing::Harness`].

pub mod action;
pub mod app;
pub mod data;
pub mod jobs;
pub mod keys;
pub mod probes;
pub mod screen;
pub mod screens;
pub mod status;
pub mod term;
pub mod testing;
#[cfg(test)]
mod tests;
pub mod theme;
pub mod widgets;

pub use action::Action;
pub use term::run_tui;

/// Starts the TUI from synchronous code (the CLI): builds the tokio runtime and runs
/// [`run_tui`] on the given config, with `today` as the date the rules check against
/// (`--today`). `konter demo` calls this after `init --demo`.
pub fn start(
    config: crate::config::Config,
    today: chrono::NaiveDate,
) -> Result<i32, Box<dyn std::error::Error + Send + Sync>> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(run_tui(config, today))
        .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { format!("{e:#}").into() })?;
    Ok(0)
}
