//! The SQL Server keeper behind the status bar: against the TDS test server it shows Connected,
//! an Error that says what is wrong once the server stops, and Connected again after a restart.
//! Stopping a server needs the test server (KONTER_TEST_MSSQL cannot be stopped from here), so
//! these tests skip when it is set.

#[path = "support/tds/mod.rs"]
mod tds;

use std::sync::Arc;
use std::time::Duration;

use konter::config::Config;
use konter::i18n::Lang;
use konter::otomax::keeper::{Keeper, KeeperOptions};
use konter::otomax::ConnState;
use konter::tui::data::Db;
use konter::tui::screen::Screen;
use konter::tui::screens::stock::StockScreen;
use konter::tui::status::{Backend, ConnState as BarState};
use konter::tui::testing::Harness;
use tds::{ServerOptions, TdsServer};
use tokio::sync::{mpsc, watch};

fn real_server() -> bool {
    std::env::var("KONTER_TEST_MSSQL").is_ok_and(|s| !s.is_empty())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Waits for a state matching `want`, up to `limit`; returns every state seen.
async fn wait_for(
    rx: &mut mpsc::UnboundedReceiver<ConnState>,
    limit: Duration,
    want: impl Fn(&ConnState) -> bool,
) -> Result<ConnState, Vec<ConnState>> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(s)) if want(&s) => return Ok(s),
            Ok(Some(s)) => seen.push(s),
            Ok(None) | Err(_) => return Err(seen),
        }
    }
}

#[test]
fn keeper_reports_connected_error_and_connected_again() {
    if real_server() {
        return eprintln!("skipped: cannot stop a real SQL Server from a test");
    }
    rt().block_on(async {
        let server = TdsServer::start(0, ServerOptions::default()).await.unwrap();
        let port = server.addr.port();
        let mut cfg = Config::default().otomax;
        cfg.url = server.url();
        let opts = KeeperOptions {
            every: Duration::from_millis(100),
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_millis(400),
        };
        let keeper = Keeper::new(&cfg, opts, Lang::En).unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(keeper.run(
            ConnState::Connecting,
            Duration::ZERO,
            move |s| tx.send(s).is_ok(),
            stop_rx,
        ));
        let limit = Duration::from_secs(10);
        wait_for(&mut rx, limit, |s| *s == ConnState::Connected)
            .await
            .expect("connects to the running server");

        // The server stops: the next check fails, and the state says what to do.
        drop(server);
        let err = wait_for(&mut rx, limit, |s| matches!(s, ConnState::Error(_)))
            .await
            .expect("an error once the server is gone");
        let ConnState::Error(msg) = err else {
            unreachable!()
        };
        assert!(msg.contains("cannot be reached"), "{msg}");
        assert!(msg.contains(&port.to_string()), "{msg}");
        assert!(msg.contains("check that the server runs"), "{msg}");

        // It comes back on the same port: the keeper reconnects by itself.
        let server = TdsServer::start(port, ServerOptions::default())
            .await
            .unwrap();
        let seen = wait_for(&mut rx, limit, |s| *s == ConnState::Connected).await;
        assert!(seen.is_ok(), "no reconnect; states seen: {seen:?}");

        stop_tx.send(true).unwrap();
        tokio::time::timeout(limit, task)
            .await
            .expect("the keeper ends when told to")
            .unwrap();
        drop(server);
    });
}

#[test]
fn keeper_backs_off_while_the_server_is_down() {
    if real_server() {
        return eprintln!("skipped: needs a port with no server behind it");
    }
    rt().block_on(async {
        // A port that was free a moment ago: nothing listens there.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut cfg = Config::default().otomax;
        cfg.url = format!(
            "Server=tcp:127.0.0.1,{port};Database=otomax;User Id=sa;Password=konter;Encrypt=DANGER_PLAINTEXT"
        );
        let mut keeper = Keeper::new(&cfg, KeeperOptions::default(), Lang::Id).unwrap();
        let mut waits = Vec::new();
        for _ in 0..7 {
            let (state, wait) = keeper.step().await;
            let ConnState::Error(msg) = state else {
                panic!("connected to nothing: {state:?}")
            };
            assert!(msg.contains("tidak bisa dihubungi"), "{msg}");
            waits.push(wait.as_millis());
        }
        assert_eq!(waits, vec![500, 1000, 2000, 4000, 8000, 8000, 8000]);
    });
}

#[test]
fn status_bar_follows_the_server_down_and_up_again() {
    if real_server() {
        return eprintln!("skipped: cannot stop a real SQL Server from a test");
    }
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(&dir.path().join("konter.db")).unwrap());
    rt().block_on(async {
        let server = TdsServer::start(0, ServerOptions::default()).await.unwrap();
        let port = server.addr.port();
        let mut c = Config::default();
        c.shop.language = Lang::En;
        c.otomax.url = server.url();
        c.otomax.probe_s = 1;
        let screens: Vec<Box<dyn Screen>> = vec![Box::new(StockScreen::new(&c))];
        let mut t = Harness::new(c, Some(db), screens, 120, 40);
        t.settle().await;
        assert_eq!(t.app.conn(Backend::SqlServer), &BarState::Connected);
        let bar = t.screen().lines().last().unwrap_or_default().to_string();
        assert!(bar.contains("SQL Server ●"), "{bar}");

        drop(server);
        let limit = Duration::from_secs(15);
        let down = t
            .wait_until(limit, |a| {
                matches!(a.conn(Backend::SqlServer), BarState::Error(_))
            })
            .await;
        assert!(down, "state: {:?}", t.app.conn(Backend::SqlServer));
        let bar = t.screen().lines().last().unwrap_or_default().to_string();
        assert!(bar.contains("SQL Server ✗"), "{bar}");
        let log: Vec<String> = t.app.messages().map(|m| m.text.clone()).collect();
        assert!(
            log.iter()
                .any(|m| m.starts_with("SQL Server: SQL Server cannot be reached")),
            "{log:?}"
        );

        let _server = TdsServer::start(port, ServerOptions::default())
            .await
            .unwrap();
        let up = t
            .wait_until(limit, |a| {
                *a.conn(Backend::SqlServer) == BarState::Connected
            })
            .await;
        assert!(up, "state: {:?}", t.app.conn(Backend::SqlServer));
        let bar = t.screen().lines().last().unwrap_or_default().to_string();
        assert!(bar.contains("SQL Server ●"), "{bar}");
    });
}
