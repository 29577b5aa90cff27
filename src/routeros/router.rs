//! The router as the rest of konter sees it: a connection that is opened on demand, reopened
//! with backoff when it drops, and a state for the status bar.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Mutex};

use super::client::{Client, ClientOptions, RosError};
use crate::i18n::Lang;

/// Connection state shown in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    /// No router configured.
    Disabled,
    Connecting,
    Connected,
    Error(String),
}

impl ConnState {
    /// A short label for the status bar.
    pub fn label(&self, lang: Lang) -> String {
        match self {
            ConnState::Disabled => lang.t("router: mati", "router: off").into(),
            ConnState::Connecting => lang
                .t("router: menghubungkan…", "router: connecting…")
                .into(),
            ConnState::Connected => lang.t("router: terhubung", "router: connected").into(),
            ConnState::Error(m) => format!("{}: {m}", lang.t("router: gagal", "router: failed")),
        }
    }
}

/// Exponential backoff: `base`, doubled each failure, capped at `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            failures: 0,
        }
    }

    /// The wait before the next attempt; grows with each call.
    pub fn next_delay(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(20)).unwrap_or(u32::MAX);
        self.failures = self.failures.saturating_add(1);
        self.base.saturating_mul(factor).min(self.max)
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_millis(500), Duration::from_secs(30))
    }
}

/// A router handle shared by jobs: cheap to clone.
#[derive(Clone)]
pub struct Router {
    inner: Arc<RouterInner>,
}

struct RouterInner {
    opts: Option<ClientOptions>,
    state: watch::Sender<ConnState>,
    client: Mutex<Option<Client>>,
    backoff: std::sync::Mutex<Backoff>,
}

impl Router {
    /// A router from options; `None` (or an empty address) means no router (state `Disabled`).
    pub fn new(opts: Option<ClientOptions>) -> Router {
        let opts = opts.filter(|o| !o.addr.trim().is_empty());
        let initial = if opts.is_some() {
            ConnState::Connecting
        } else {
            ConnState::Disabled
        };
        let (state, _) = watch::channel(initial);
        Router {
            inner: Arc::new(RouterInner {
                opts,
                state,
                client: Mutex::new(None),
                backoff: std::sync::Mutex::new(Backoff::default()),
            }),
        }
    }

    pub fn from_config(c: &crate::config::RouterConfig) -> Router {
        Router::new(Some(ClientOptions::from_config(c)))
    }

    pub fn with_backoff(self, b: Backoff) -> Router {
        *self.inner.backoff.lock().unwrap_or_else(|e| e.into_inner()) = b;
        self
    }

    /// The configured `host:port`, for labels.
    pub fn addr(&self) -> Option<&str> {
        self.inner.opts.as_ref().map(|o| o.addr.as_str())
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.opts.is_some()
    }

    /// Watch this for the status bar.
    pub fn state(&self) -> watch::Receiver<ConnState> {
        self.inner.state.subscribe()
    }

    pub fn current_state(&self) -> ConnState {
        self.inner.state.borrow().clone()
    }

    fn set_state(&self, s: ConnState) {
        self.inner.state.send_if_modified(|cur| {
            if *cur != s {
                *cur = s;
                true
            } else {
                false
            }
        });
    }

    /// A live connection: the current one, or a new one (one attempt).
    pub async fn client(&self) -> Result<Client, RosError> {
        let Some(opts) = &self.inner.opts else {
            return Err(RosError::Config(
                "no router configured: set [router] addr or KONTER_ROUTER_ADDR (host:port)".into(),
            ));
        };
        let mut guard = self.inner.client.lock().await;
        if let Some(c) = guard.as_ref() {
            if !c.is_closed() {
                return Ok(c.clone());
            }
            let why = c.closed_reason().map(|e| e.to_string()).unwrap_or_default();
            tracing::info!(reason = %why, "router connection lost; reconnecting");
            *guard = None;
        }
        self.set_state(ConnState::Connecting);
        match Client::connect(opts).await {
            Ok(c) => {
                self.inner
                    .backoff
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .reset();
                self.set_state(ConnState::Connected);
                *guard = Some(c.clone());
                Ok(c)
            }
            Err(e) => {
                tracing::warn!(addr = %opts.addr, error = %e, "router connect failed");
                self.set_state(ConnState::Error(e.to_string()));
                Err(e)
            }
        }
    }

    /// Like [`Router::client`], retrying connection problems with backoff up to `attempts`
    /// times. Wrong credentials and configuration errors are not retried.
    pub async fn client_with_retry(&self, attempts: u32) -> Result<Client, RosError> {
        let mut last = None;
        for i in 0..attempts.max(1) {
            if i > 0 {
                let d = self
                    .inner
                    .backoff
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .next_delay();
                tokio::time::sleep(d).await;
            }
            match self.client().await {
                Ok(c) => return Ok(c),
                Err(e) if e.is_connection_problem() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| RosError::Disconnected("no attempt made".into())))
    }

    /// Runs `op` on a live connection; when the connection breaks under it, reconnects (with
    /// backoff) and runs it once more. Only for reads and other operations that are safe to
    /// repeat.
    pub async fn read<T, F, Fut>(&self, op: F) -> Result<T, RosError>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, RosError>>,
    {
        let c = self.client_with_retry(3).await?;
        match op(c).await {
            Err(e) if e.is_connection_problem() => {
                self.note_error(&e);
                let c = self.client_with_retry(3).await?;
                op(c).await
            }
            other => other,
        }
    }

    /// Records a failure seen by a caller so the status bar shows it.
    pub fn note_error(&self, e: &RosError) {
        if e.is_connection_problem() {
            self.set_state(ConnState::Error(e.to_string()));
        }
    }

    /// Keeps the status bar honest in the background: when the connection is down, retries
    /// with backoff; when it is up, checks it every `every`. Ends when `stop` turns true.
    pub fn spawn_keeper(
        &self,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let router = self.clone();
        tokio::spawn(async move {
            if !router.is_enabled() {
                return;
            }
            loop {
                let wait = match router.client().await {
                    Ok(c) => match c.identity().await {
                        Ok(_) => every,
                        Err(e) => {
                            router.note_error(&e);
                            Duration::ZERO
                        }
                    },
                    Err(_) => router
                        .inner
                        .backoff
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .next_delay(),
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    r = stop.changed() => {
                        if r.is_err() || *stop.borrow() {
                            return;
                        }
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let got: Vec<u128> = (0..6).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(got, vec![100, 200, 400, 800, 1000, 1000]);
        b.reset();
        assert_eq!(b.next_delay().as_millis(), 100);
    }

    #[test]
    fn no_address_is_disabled() {
        let r = Router::new(None);
        assert_eq!(r.current_state(), ConnState::Disabled);
        assert!(!r.is_enabled());
        assert_eq!(ConnState::Disabled.label(Lang::En), "router: off");
    }

    #[tokio::test]
    async fn keeper_connects_and_reconnects() {
        let sim = crate::routeros::sim::SimServer::start(
            "127.0.0.1:0",
            crate::routeros::sim::SimConfig {
                users: 3,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let r = Router::new(Some(sim.client_options())).with_backoff(Backoff::new(
            Duration::from_millis(20),
            Duration::from_millis(100),
        ));
        let mut states = r.state();
        let (stop_tx, stop_rx) = watch::channel(false);
        let keeper = r.spawn_keeper(Duration::from_millis(50), stop_rx);
        let wait_connected = |states: &mut watch::Receiver<ConnState>| {
            let mut states = states.clone();
            async move {
                tokio::time::timeout(
                    Duration::from_secs(5),
                    states.wait_for(|s| *s == ConnState::Connected),
                )
                .await
                .expect("connected in time")
                .expect("router alive");
            }
        };
        wait_connected(&mut states).await;
        let first = r.client().await.unwrap();
        // The router drops the connection: the keeper notices and opens a new one.
        sim.faults().drop_after_replies(1);
        tokio::time::timeout(Duration::from_secs(5), async {
            while !first.is_closed() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("drop seen");
        wait_connected(&mut states).await;
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if let Ok(c) = r.client().await {
                    if !c.is_closed() && c.identity().await.is_ok() {
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("reconnected");
        stop_tx.send(true).unwrap();
        keeper.await.unwrap();
    }

    #[test]
    fn errors_speak_indonesian_by_default() {
        let e = RosError::Login("invalid user name or password (6)".into());
        assert!(e.text(Lang::Id).starts_with("router menolak login"));
        assert_eq!(e.text(Lang::En), e.to_string());
    }

    #[tokio::test]
    async fn unreachable_router_sets_error_state() {
        // Bind then drop a listener: the port is closed, so the connect is refused at once.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        drop(l);
        let r = Router::new(Some(ClientOptions::new(&addr, "admin", "x")));
        let e = r.client().await.unwrap_err();
        assert!(matches!(e, RosError::Unreachable { .. }), "{e:?}");
        assert!(e.to_string().contains("unreachable"));
        assert!(matches!(r.current_state(), ConnState::Error(_)));
    }
}
