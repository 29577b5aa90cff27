//! Router sync benchmark, against the built-in simulator with 10k users, in one run:
//! - sync_s: a full sync with `.proplist` into a fresh SQLite file (read + write);
//! - naive_s: the same sync job reading every property of every user (no `.proplist`, as
//!   Mikhmon does), then writing the same rows;
//! - ui_latency_ms_p99: key-to-frame latency of F4 on a TestBackend, driven by key events on
//!   the UI thread while syncs run on tokio.
//!
//! `cargo run --release --example bench_router [-- USERS]`; the last line is the result.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use konter::config::Config;
use konter::hotspot::f4::F4;
use konter::hotspot::sync::{self, local_now};
use konter::routeros::sim::{SimConfig, SimServer};
use konter::routeros::{Client, Router, UserProps};
use konter::store::Store;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn main() {
    let users: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = rt
        .block_on(SimServer::start(
            "127.0.0.1:0",
            SimConfig {
                users,
                seed: 7,
                ..Default::default()
            },
        ))
        .expect("simulator");
    let opts = sim.client_options();
    let rules = Config::default().hotspot.rules();
    let label = sim.addr().to_string();

    // Best of 3 for each, each run into a fresh database (a full sync, not an incremental one).
    // Both go through the same job: read users, sessions and sales records, then write SQLite.
    // The sync side is konter's sync (`.proplist`); the naive side prints every property of
    // every user, as Mikhmon does, and then writes the same rows.
    let run = |props: UserProps, name: &str| -> (f64, u64) {
        let mut best = f64::MAX;
        let mut best_read = u64::MAX;
        for i in 0..3 {
            let db = dir.path().join(format!("{name}-{i}.db"));
            Store::open(&db).expect("store");
            let r = rt.block_on(async {
                let c = Client::connect(&opts).await.expect("connect");
                let t0 = Instant::now();
                let r = sync::sync_with(&c, &db, &rules, &label, local_now(), None, props)
                    .await
                    .expect("sync");
                (t0.elapsed().as_secs_f64(), r)
            });
            let (t, r) = r;
            assert_eq!(r.users, users, "every user synced");
            assert_eq!(
                r.snapshot.added, users,
                "a full sync into an empty database"
            );
            eprintln!(
                "{name} run {i}: {t:.3} s (read {} ms, write {} ms; {} sessions, {} sales records)",
                r.read_ms, r.write_ms, r.active, r.scripts
            );
            best = best.min(t);
            best_read = best_read.min(r.read_ms);
        }
        (best, best_read)
    };
    let (naive_s, naive_read) = run(UserProps::All, "naive");
    let (sync_s, sync_read) = run(UserProps::Sync, "sync");
    // The router read alone (the part `.proplist` changes); the SQLite write is the same work
    // on both sides.
    eprintln!(
        "router read only: sync {sync_read} ms, naive {naive_read} ms (x{:.2})",
        naive_read as f64 / sync_read.max(1) as f64
    );

    // UI latency: F4 with its own sync loop (every second) on tokio; keys on this thread.
    let mut config = Config::default();
    config.store.data_dir = Some(dir.path().join("ui"));
    config.router.addr = label.clone();
    config.router.user = opts.user.clone();
    config.router.password = opts.password.clone();
    config.hotspot.sync_interval_s = 1;
    Store::open(&config.db_path()).expect("store");
    let _guard = rt.enter();
    let mut f4 = F4::new(&config, Router::new(Some(opts.clone())));
    f4.start();
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let keys = [
        KeyCode::Down,
        KeyCode::Down,
        KeyCode::PageDown,
        KeyCode::Char('s'),
        KeyCode::Up,
        KeyCode::Char('b'),
        KeyCode::PageUp,
        KeyCode::Char('x'),
    ];
    let mut lat = Vec::new();
    let started = Instant::now();
    let mut i = 0;
    while (f4.syncs_done < 3 || f4.reloads < 2) && started.elapsed() < Duration::from_secs(60) {
        let t0 = Instant::now();
        f4.pump();
        f4.handle_key(KeyEvent::new(keys[i % keys.len()], KeyModifiers::NONE));
        term.draw(|f| f4.render(f, f.area())).expect("draw");
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
        i += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(f4.syncs_done >= 3, "the syncs did not finish within 60 s");
    assert!(f4.screen.visible_count() > 0, "rows were loaded");
    lat.sort_by(|a, b| a.total_cmp(b));
    let p99 = lat[((lat.len() as f64 * 0.99).ceil() as usize).min(lat.len()) - 1];
    eprintln!(
        "ui: {} keys during {} syncs, p50 {:.2} ms, max {:.2} ms",
        lat.len(),
        f4.syncs_done,
        lat[lat.len() / 2],
        lat[lat.len() - 1]
    );
    drop(f4);
    println!(
        "bench=router users={users} sync_s={sync_s:.3} naive_s={naive_s:.3} ui_latency_ms_p99={p99:.2} ratio={:.2}",
        naive_s / sync_s
    );
}
