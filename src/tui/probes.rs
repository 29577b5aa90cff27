//! Connection checks at start, so the status bar tells the truth before any screen talks to
//! an outside system. Each runs as a job and reports through `Action::Conn`; the adapters keep
//! the state current afterwards.

use tokio::sync::watch;

use crate::config::Config;
use crate::i18n::Lang;
use crate::otomax::keeper::{Keeper, KeeperOptions};
use crate::otomax::ConnState as OxState;
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

/// Connects to OtoMaX's SQL Server and checks the mapping, as a job (so the state is known when
/// the first screen has settled); then hands the connection to a background keeper that checks
/// it every `otomax.probe_s` and reconnects with backoff, reporting each change through
/// `Action::Conn`. Returns the state to show meanwhile (`Disabled` when no SQL Server is
/// configured: the embedded ledger is used) and the keeper's stop switch: it ends when the
/// switch is set or dropped.
pub fn sqlserver(
    config: &Config,
    jobs: &mut Jobs,
    lang: Lang,
) -> (ConnState, Option<watch::Sender<bool>>) {
    if config.otomax.url.trim().is_empty() {
        return (ConnState::Disabled, None);
    }
    let cfg = config.otomax.clone();
    let (stop_tx, stop_rx) = watch::channel(false);
    let tx = jobs.sender();
    jobs.spawn(
        lang.t("cek SQL Server", "check SQL Server"),
        move |_| async move {
            let opts = KeeperOptions::from_config(&cfg);
            let mut keeper = match Keeper::new(&cfg, opts, lang) {
                Ok(k) => k,
                Err(e) => {
                    return Ok(Action::Conn(
                        Backend::SqlServer,
                        ConnState::Error(e.message(lang)),
                    ))
                }
            };
            let (state, wait) = keeper.step().await;
            let state = tui_state(state);
            let report = move |s| {
                tx.send(Action::Conn(Backend::SqlServer, tui_state(s)))
                    .is_ok()
            };
            tokio::spawn(keeper.run(otomax_state(&state), wait, report, stop_rx));
            Ok(Action::Conn(Backend::SqlServer, state))
        },
    );
    (ConnState::Connecting, Some(stop_tx))
}

fn tui_state(s: OxState) -> ConnState {
    match s {
        OxState::Disabled => ConnState::Disabled,
        OxState::Connecting => ConnState::Connecting,
        OxState::Connected => ConnState::Connected,
        OxState::Error(m) => ConnState::Error(m),
    }
}

fn otomax_state(s: &ConnState) -> OxState {
    match s {
        ConnState::Disabled => OxState::Disabled,
        ConnState::Connecting => OxState::Connecting,
        ConnState::Connected => OxState::Connected,
        ConnState::Error(m) => OxState::Error(m.clone()),
    }
}
