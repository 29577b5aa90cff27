//! Keeps the SQL Server connection state honest in the background, like the router's keeper:
//! holds one connection, checks it with a cheap `SELECT 1` every so often, and when it is down
//! opens it again with growing pauses (0.5 s doubling to 8 s). Actions still open their own
//! connections; this one only feeds the status bar.

use std::time::Duration;

use tokio::sync::watch;

use super::{ConnState, Gateway};
use crate::config::OtomaxConfig;
use crate::i18n::Lang;
use crate::ledger::LedgerError;

/// How often to check and how to back off.
#[derive(Debug, Clone)]
pub struct KeeperOptions {
    /// Pause between checks while the connection is up.
    pub every: Duration,
    /// First pause after a failed connection attempt; doubled after each further failure.
    pub backoff_base: Duration,
    /// Longest pause between attempts.
    pub backoff_max: Duration,
}

impl KeeperOptions {
    /// From config: `otomax.probe_s` (0: 20 s), backoff 0.5 s doubling to 8 s.
    pub fn from_config(cfg: &OtomaxConfig) -> KeeperOptions {
        let every = if cfg.probe_s == 0 { 20 } else { cfg.probe_s };
        KeeperOptions {
            every: Duration::from_secs(every),
            ..KeeperOptions::default()
        }
    }
}

impl Default for KeeperOptions {
    fn default() -> Self {
        KeeperOptions {
            every: Duration::from_secs(20),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
        }
    }
}

/// The connection the status bar watches.
pub struct Keeper {
    gateway: Gateway,
    opts: KeeperOptions,
    lang: Lang,
    /// The next pause after a failed attempt.
    pause: Duration,
    /// The mapping was checked on the current connection and matches.
    mapping_ok: bool,
}

impl Keeper {
    /// A keeper for the configured server; fails only on settings that cannot work (the
    /// message says what to fix).
    pub fn new(cfg: &OtomaxConfig, opts: KeeperOptions, lang: Lang) -> Result<Keeper, LedgerError> {
        Ok(Keeper {
            gateway: Gateway::new(cfg)?,
            pause: opts.backoff_base,
            opts,
            lang,
            mapping_ok: false,
        })
    }

    /// One round: opens the connection when it is down (one attempt), checks the mapping once
    /// per connection, else pings. Returns the state to show and the pause before the next
    /// round.
    pub async fn step(&mut self) -> (ConnState, Duration) {
        if self.gateway.is_open() && self.mapping_ok {
            if self.gateway.ping().await.is_ok() {
                self.pause = self.opts.backoff_base;
                return (ConnState::Connected, self.opts.every);
            }
            // It broke: reconnect at once, so the state shown says why it cannot (a "lost
            // connection" alone would not tell what to do).
            self.mapping_ok = false;
        }
        let result = async {
            self.gateway.connect_once().await?;
            let (problems, _) = self.gateway.check().await?;
            Ok::<_, LedgerError>(problems.iter().any(|p| p.blocks_writes))
        }
        .await;
        match result {
            Ok(false) => {
                self.mapping_ok = true;
                self.pause = self.opts.backoff_base;
                (ConnState::Connected, self.opts.every)
            }
            // Connected, but writes are refused until the mapping matches: say so, and look
            // again at the next round.
            Ok(true) => (
                ConnState::Error(
                    self.lang
                        .t(
                            "pemetaan tabel voucher tidak cocok; jalankan konter otomax check",
                            "voucher table mapping does not match; run konter otomax check",
                        )
                        .into(),
                ),
                self.opts.every,
            ),
            Err(e) => {
                let wait = self.pause;
                self.pause = (self.pause * 2).min(self.opts.backoff_max);
                (ConnState::Error(e.message(self.lang)), wait)
            }
        }
    }

    /// Runs rounds until `stop` turns true (or its sender is gone), or until `report` returns
    /// false. `report` gets each state that differs from `last` (the one already shown).
    pub async fn run(
        mut self,
        mut last: ConnState,
        first_wait: Duration,
        mut report: impl FnMut(ConnState) -> bool + Send,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut wait = first_wait;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                r = stop.changed() => {
                    if r.is_err() || *stop.borrow() {
                        return;
                    }
                    continue;
                }
            }
            let (state, next) = self.step().await;
            if state != last {
                if !report(state.clone()) {
                    return;
                }
                last = state;
            }
            wait = next;
        }
    }
}
