//! Connection checks at start, so the status bar tells the truth before any screen talks to
//! an outside system. Each runs as a job and reports through `Action::Conn`; the adapters keep
//! the state current afterwards.

use crate::config::Config;
use crate::i18n::Lang;
use crate::routeros::{Client, ClientOptions};
use crate::tui::action::Action;
use crate::tui::jobs::Jobs;
use crate::tui::status::{Backend, ConnState};

/// Logs in to the configured router once (then hangs up). Returns the state to show while the
/// check runs: `Connecting`, or `Disabled` when no router is configured.
pub fn router(config: &Config, jobs: &mut Jobs, lang: Lang) -> ConnState {
    if config.router.addr.trim().is_empty() {
        return ConnState::Disabled;
    }
    let opts = ClientOptions::from_config(&config.router);
    jobs.spawn(lang.t("cek router", "check router"), move |_| async move {
        let state = match Client::connect(&opts).await {
            Ok(client) => {
                client.close();
                ConnState::Connected
            }
            Err(e) => ConnState::Error(e.text(lang)),
        };
        Ok(Action::Conn(Backend::Router, state))
    });
    ConnState::Connecting
}
