//! `konter hotspot ...` as a shop's scripts use it, against the simulator: JSON lines, exit
//! codes, clear errors.

use std::path::Path;
use std::process::{Command, Output};

use konter::routeros::sim::{SimConfig, SimServer};

fn konter(data: &Path, addr: &str, password: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_konter"))
        .args(args)
        .env("KONTER_DATA_DIR", data)
        .env("KONTER_CONFIG", data.join("none.toml"))
        .env("KONTER_ROUTER_ADDR", addr)
        .env("KONTER_ROUTER_USER", "admin")
        .env("KONTER_ROUTER_PASSWORD", password)
        .env_remove("KONTER_OTOMAX_URL")
        .output()
        .unwrap()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("none.toml"), "").unwrap();
    dir
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

async fn sim(users: usize) -> SimServer {
    SimServer::start(
        "127.0.0.1:0",
        SimConfig {
            users,
            seed: 3,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_json_lists_every_user_with_a_status() {
    let s = sim(1500).await;
    let dir = setup();
    let addr = s.addr().to_string();
    let d = dir.path().to_path_buf();
    let o = tokio::task::spawn_blocking(move || {
        konter(&d, &addr, "konter", &["--json", "hotspot", "users"])
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 1501);
    let summary = lines.last().unwrap();
    assert_eq!(summary["total"], 1500);
    assert!(summary["warning"].is_null());
    let statuses = [
        "READY",
        "ONLINE",
        "TERPAKAI",
        "RUSAK",
        "RETUR",
        "INVALID",
        "PENGELOLA",
    ];
    for u in &lines[..1500] {
        assert!(statuses.contains(&u["status"].as_str().unwrap()), "{u}");
        assert!(u["name"].is_string());
    }
    // filters
    let (addr, d) = (s.addr().to_string(), dir.path().to_path_buf());
    let o = tokio::task::spawn_blocking(move || {
        konter(
            &d,
            &addr,
            "konter",
            &[
                "--json",
                "hotspot",
                "users",
                "--status",
                "rusak",
                "--blok",
                "a",
                "--no-sync",
            ],
        )
    })
    .await
    .unwrap();
    let lines = json_lines(&o);
    assert!(lines.len() > 1);
    for u in &lines[..lines.len() - 1] {
        assert_eq!(u["status"], "RUSAK");
        assert_eq!(u["blok"], "BLOK-A");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_json_with_a_pdf_sheet() {
    let s = sim(10).await;
    let dir = setup();
    let pdf = dir.path().join("v.pdf");
    let (addr, d, p) = (
        s.addr().to_string(),
        dir.path().to_path_buf(),
        pdf.to_str().unwrap().to_string(),
    );
    let o = tokio::task::spawn_blocking(move || {
        konter(
            &d,
            &addr,
            "konter",
            &[
                "--json",
                "hotspot",
                "generate",
                "--profile",
                "30Menit",
                "--blok",
                "C",
                "--count",
                "12",
                "--print",
                &p,
            ],
        )
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = json_lines(&o);
    let last = lines.last().unwrap();
    assert_eq!(last["batch"]["created"], 12);
    assert_eq!(last["print"]["printed"], 12);
    let vouchers: Vec<_> = lines.iter().filter(|l| l["state"] == "created").collect();
    assert_eq!(vouchers.len(), 12);
    for v in &vouchers {
        assert_eq!(v["name"], v["password"]);
        assert!(v["comment"].as_str().unwrap().ends_with("-Blok-C30"));
        let name = v["name"].as_str().unwrap().to_string();
        assert!(
            s.with_world(|w, _| w.user(&name).is_some()),
            "{name} is on the router"
        );
    }
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unreachable_router_are_clear() {
    let s = sim(5).await;
    let dir = setup();
    let (addr, d) = (s.addr().to_string(), dir.path().to_path_buf());
    let o = tokio::task::spawn_blocking(move || {
        konter(&d, &addr, "salah", &["--json", "hotspot", "sync"])
    })
    .await
    .unwrap();
    assert!(!o.status.success());
    let lines = json_lines(&o);
    let err = lines.last().unwrap()["error"].as_str().unwrap().to_string();
    assert!(err.contains("refused the login"), "{err}");
    s.stop().await;

    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = l.local_addr().unwrap().to_string();
    drop(l);
    let d = dir.path().to_path_buf();
    let o = tokio::task::spawn_blocking(move || {
        konter(
            &d,
            &closed,
            "konter",
            &[
                "hotspot",
                "generate",
                "--profile",
                "10Menit",
                "--blok",
                "A",
                "--count",
                "3",
            ],
        )
    })
    .await
    .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unreachable"), "{err}");
    // nothing was planned: no batch without a router
    let store = konter::store::Store::open(&dir.path().join("konter.db")).unwrap();
    let n: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM hotspot_batches", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printer_cut_off_mid_print_keeps_the_vouchers_and_says_how_far() {
    use std::io::Read;
    let s = sim(10).await;
    let dir = setup();
    // A printer that takes 700 bytes (a few tickets) and then goes away with data unread.
    let bad = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bad_addr = bad.local_addr().unwrap().to_string();
    let bad_printer = std::thread::spawn(move || {
        let (mut c, _) = bad.accept().unwrap();
        let mut got = vec![0u8; 700];
        c.read_exact(&mut got).unwrap();
        let mut more = [0u8; 1];
        // more is waiting: closing now resets the connection
        c.peek(&mut more).unwrap();
        drop(c);
        got
    });
    let (addr, d, dest) = (
        s.addr().to_string(),
        dir.path().to_path_buf(),
        format!("tcp:{bad_addr}"),
    );
    let o = tokio::task::spawn_blocking(move || {
        konter(
            &d,
            &addr,
            "konter",
            &[
                "--json",
                "hotspot",
                "generate",
                "--profile",
                "10Menit",
                "--blok",
                "D",
                "--count",
                "30",
                "--print",
                &dest,
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let got = bad_printer.join().unwrap();
    assert_eq!(got.len(), 700);
    let lines = json_lines(&o);
    let last = lines.last().unwrap();
    assert_eq!(last["batch"]["created"], 30);
    let err = last["print"]["print_error"].as_str().unwrap();
    assert!(err.contains(&format!("tcp:{bad_addr}")), "{err}");
    assert!(err.contains("cut the print off"), "{err}");
    assert!(err.contains("30 tickets"), "{err}");
    assert!(err.contains("stay recorded"), "{err}");
    let batch = last["batch"]["batch"].as_i64().unwrap();
    assert_eq!(
        last["print"]["reprint"],
        format!("konter hotspot print --batch {batch}")
    );
    // Nothing lost: the 30 vouchers are recorded and on the router ...
    let names: Vec<String> = lines
        .iter()
        .filter(|l| l["state"] == "created")
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 30);
    for n in &names {
        assert!(
            s.with_world(|w, _| w.user(n).is_some()),
            "{n} is on the router"
        );
    }
    // ... and print whole once the printer is back.
    let good = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let good_addr = good.local_addr().unwrap().to_string();
    let good_printer = std::thread::spawn(move || {
        let (mut c, _) = good.accept().unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).unwrap();
        got
    });
    let (d, dest, b) = (
        dir.path().to_path_buf(),
        format!("tcp:{good_addr}"),
        batch.to_string(),
    );
    let addr = s.addr().to_string();
    let o = tokio::task::spawn_blocking(move || {
        konter(
            &d,
            &addr,
            "konter",
            &["--json", "hotspot", "print", "--batch", &b, "--to", &dest],
        )
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json_lines(&o).last().unwrap()["printed"], 30);
    let printed = String::from_utf8_lossy(&good_printer.join().unwrap()).into_owned();
    for n in &names {
        assert!(printed.contains(n.as_str()), "{n} printed");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_names_a_user_it_had_to_skip_and_keeps_the_rest() {
    let s = sim(20).await;
    let big = vec![b'x'; 20 * 1024 * 1024];
    s.with_world(|w, _| {
        w.insert_user(&[
            ("name", b"huge"),
            ("password", b"x"),
            ("profile", b"10Menit"),
            ("comment", &big),
        ]);
    });
    let dir = setup();
    let (addr, d) = (s.addr().to_string(), dir.path().to_path_buf());
    let o = tokio::task::spawn_blocking(move || {
        konter(&d, &addr, "konter", &["--json", "hotspot", "sync"])
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = json_lines(&o);
    let done = lines
        .iter()
        .find(|l| l["event"] == "finished")
        .expect("a finished event");
    assert_eq!(done["users"], 20);
    assert_eq!(done["skipped"][0]["name"], "huge");
    assert_eq!(done["skipped"][0]["properties"][0], "comment");
    // the text form warns on stderr, naming the user
    let (addr, d) = (s.addr().to_string(), dir.path().to_path_buf());
    let o = tokio::task::spawn_blocking(move || konter(&d, &addr, "konter", &["hotspot", "sync"]))
        .await
        .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("\"huge\"") && err.contains("dilewati"),
        "{err}"
    );
    s.stop().await;
}
