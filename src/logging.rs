//! Logs go to a file in the data dir, never to the terminal the TUI draws on.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Starts file logging (daily files `konter.log.YYYY-MM-DD` under `<data_dir>/logs`).
/// Keep the guard alive for the life of the program, or buffered lines are lost.
pub fn init(data_dir: &Path) -> std::io::Result<WorkerGuard> {
    let dir = data_dir.join("logs");
    std::fs::create_dir_all(&dir)?;
    let appender = tracing_appender::rolling::daily(&dir, "konter.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("KONTER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    Ok(guard)
}
