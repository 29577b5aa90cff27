//! The hotspot jobs (sync, generate, reconcile, print) against the built-in router simulator:
//! real protocol, real SQLite, no mocks.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use konter::config::Config;
use konter::domain::hotspot::{Status, VoucherMode};
use konter::hotspot::generate::{self, GenerateRequest};
use konter::hotspot::sync::{self, local_now};
use konter::routeros::sim::{SimConfig, SimServer};
use konter::routeros::{Client, ClientOptions, Router};
use konter::store::hotspot::{UserFilter, CREATED, MISSING, PLANNED};
use konter::store::Store;

async fn sim(users: usize) -> SimServer {
    SimServer::start(
        "127.0.0.1:0",
        SimConfig {
            users,
            seed: 42,
            ..Default::default()
        },
    )
    .await
    .expect("simulator starts")
}

fn db(dir: &tempfile::TempDir) -> PathBuf {
    let p = dir.path().join("konter.db");
    Store::open(&p).unwrap();
    p
}

fn rules() -> konter::store::hotspot::HotspotRules {
    Config::default().hotspot.rules()
}

/// What the simulator's comments and flags say each user is, read independently of the rules.
fn expected_status(comment: &str, disabled: bool, online: bool, uptime_zero: bool) -> Status {
    if online {
        Status::Online
    } else if comment.contains("(Retur)") {
        Status::Retur
    } else if disabled || comment.starts_with("Audit: RUSAK") {
        Status::Rusak
    } else if comment.ends_with("| invalid") {
        Status::Invalid
    } else if !uptime_zero {
        Status::Terpakai
    } else if comment.ends_with("| VIP") {
        Status::Pengelola
    } else {
        Status::Ready
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_copies_every_user_with_the_right_status() {
    let s = sim(600).await;
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir);
    let c = Client::connect(&s.client_options()).await.unwrap();
    let r = sync::sync_once(&c, &db, &rules(), "sim", local_now(), None)
        .await
        .unwrap();
    assert_eq!(r.users, 600);
    assert_eq!(r.snapshot.added, 600);
    assert!(r.active > 0, "the seed has online users");
    assert!(r.sales.inserted > 0, "the seed has sales records");

    let store = Store::open(&db).unwrap();
    let mut listed: BTreeMap<String, Status> = store
        .hotspot_users(&UserFilter::default())
        .unwrap()
        .into_iter()
        .map(|u| (u.name, u.status))
        .collect();
    // hidden originals of a retur would be missing here; the seed's refs point nowhere
    assert_eq!(listed.len(), 600);
    let active: HashSet<String> =
        s.with_world(|w, _| w.active.iter().map(|a| a.user.clone()).collect());
    let mut seen = HashSet::new();
    for u in c
        .hotspot_users(
            &konter::routeros::UserFilter::All,
            konter::routeros::UserProps::All,
        )
        .await
        .unwrap()
    {
        let want = expected_status(
            &u.comment,
            u.disabled,
            active.contains(&u.name),
            u.uptime_secs == 0,
        );
        assert_eq!(
            listed.remove(&u.name),
            Some(want),
            "user {} ({})",
            u.name,
            u.comment
        );
        seen.insert(want);
    }
    for st in [
        Status::Ready,
        Status::Online,
        Status::Terpakai,
        Status::Rusak,
        Status::Retur,
        Status::Invalid,
        Status::Pengelola,
    ] {
        assert!(seen.contains(&st), "the seed covers {st}");
    }

    // A second sync writes only what changed (active sessions' uptime grows).
    let r2 = sync::sync_once(&c, &db, &rules(), "sim", local_now(), None)
        .await
        .unwrap();
    assert_eq!(r2.snapshot.added, 0);
    assert!(r2.snapshot.unchanged >= 600 - r.active, "{:?}", r2.snapshot);
    assert_eq!(r2.sales.new_records, 0, "sales records are read once");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_on_the_router_becomes_online_with_an_event_and_a_sale() {
    let s = sim(30).await;
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir);
    let c = Client::connect(&s.client_options()).await.unwrap();
    sync::sync_once(&c, &db, &rules(), "sim", local_now(), None)
        .await
        .unwrap();
    let store = Store::open(&db).unwrap();
    let ready = store
        .hotspot_users(&UserFilter {
            status: Some(Status::Ready),
            ..Default::default()
        })
        .unwrap();
    let name = ready[0].name.clone();
    s.with_world(|w, now| {
        w.login(
            name.as_bytes(),
            None,
            "10.5.50.77",
            "02:00:00:00:00:77",
            now,
        )
    })
    .unwrap();
    let r = sync::sync_once(&c, &db, &rules(), "sim", local_now(), None)
        .await
        .unwrap();
    assert_eq!(r.snapshot.logins, 1);
    assert_eq!(r.sales.inserted, 1);
    let d = store.hotspot_user_detail(&name).unwrap().unwrap();
    assert_eq!(d.user.status, Status::Online);
    assert_eq!(d.events.len(), 1);
    assert_eq!(d.events[0].ip, "10.5.50.77");
    assert_eq!(d.sales.len(), 1);
    assert_eq!(d.sales[0].price, 5000.max(d.sales[0].price));
    s.stop().await;
}

#[tokio::test]
async fn wrong_credentials_are_explained() {
    let s = sim(5).await;
    let mut o = s.client_options();
    o.password = "salah".into();
    let Err(e) = Client::connect(&o).await else {
        panic!("login must fail")
    };
    assert!(e.to_string().contains("refused the login"), "{e}");
    s.stop().await;
}

#[tokio::test]
async fn unreachable_router_is_explained_and_recorded() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    let r = Router::new(Some(ClientOptions::new(&addr, "admin", "x")));
    let Err(e) = r.client().await else {
        panic!("nothing listens there")
    };
    assert!(e.to_string().contains("unreachable"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_mid_print_saves_nothing_half_done() {
    let s = sim(2000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir);
    let c = Client::connect(&s.client_options()).await.unwrap();
    s.faults().drop_after_replies(700);
    let Err(e) = sync::sync_once(&c, &db, &rules(), "sim", local_now(), None).await else {
        panic!("the sync must fail")
    };
    assert!(e.to_string().contains("sync from the router failed"), "{e}");
    let store = Store::open(&db).unwrap();
    assert!(store
        .hotspot_users(&UserFilter::default())
        .unwrap()
        .is_empty());
    let st = store.hotspot_sync_state("sim").unwrap().unwrap();
    assert!(st.last_error.is_some());
    assert!(st.last_ok_at.is_none());
    // the next sync on a new connection works
    let c = Client::connect(&s.client_options()).await.unwrap();
    let r = sync::sync_once(&c, &db, &rules(), "sim", local_now(), None)
        .await
        .unwrap();
    assert_eq!(r.users, 2000);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_bytes_in_names_and_comments_survive_the_sync() {
    let s = sim(5).await;
    s.with_world(|w, _| {
        w.insert_user(&[
            ("name", b"a=b"),
            ("password", b"x"),
            ("profile", b"10Menit"),
            ("comment", b"Blok-B10 caf\xe9 \x96 Pak D\xe9d\xe9"),
        ]);
        w.insert_user(&[
            ("name", b"new\nline"),
            ("password", b"x"),
            ("profile", b"10Menit"),
            ("comment", b"Blok-C10"),
        ]);
        w.insert_user(&[
            ("name", b"nul\0byte"),
            ("password", b"x"),
            ("profile", b"10Menit"),
            ("comment", b"Blok-D10"),
        ]);
    });
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir);
    let c = Client::connect(&s.client_options()).await.unwrap();
    sync::sync_once(&c, &db, &rules(), "sim", local_now(), None)
        .await
        .unwrap();
    let store = Store::open(&db).unwrap();
    let users = store.hotspot_users(&UserFilter::default()).unwrap();
    let eq = users.iter().find(|u| u.name == "a=b").expect("name with =");
    assert_eq!(eq.comment, "Blok-B10 café – Pak Dédé");
    assert_eq!(eq.blok.as_deref(), Some("BLOK-B"));
    assert_eq!(eq.status, Status::Ready);
    assert!(users.iter().any(|u| u.name == "new\nline"));
    assert!(users.iter().any(|u| u.name == "nul\0byte"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_20_mb_comment_skips_that_user_and_syncs_the_rest() {
    let s = sim(5).await;
    let huge_id = s.with_world(|w, _| {
        w.insert_user(&[
            ("name", b"huge"),
            ("password", b"x"),
            ("profile", b"10Menit"),
            ("comment", b"vc-111-11.21.26-Blok-A10"),
        ])
    });
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir);
    let c = Client::connect(&s.client_options()).await.unwrap();
    // First sync: all six are read, "huge" still has a normal comment.
    let r = sync::sync_once(&c, &db, &rules(), "sim", local_now(), None)
        .await
        .unwrap();
    assert_eq!(r.users, 6);
    assert!(r.skipped.is_empty());
    // Someone pastes 20 MB into its comment: over the client's 16 MiB reply limit.
    let big = vec![b'x'; 20 * 1024 * 1024];
    s.with_world(|w, _| {
        let u = w
            .users
            .items
            .iter_mut()
            .find(|u| u.text("name") == "huge")
            .unwrap();
        u.set("comment", big.clone());
        // and another user changes, to see the rest of the sync goes on
        let other = w
            .users
            .items
            .iter_mut()
            .find(|u| u.text("name") != "huge")
            .unwrap();
        other.set("comment", b"vc-222-11.21.26-Blok-B10".to_vec());
    });
    let r = sync::sync_once(&c, &db, &rules(), "sim", local_now(), None)
        .await
        .expect("the sync goes on without the oversized user");
    assert_eq!(r.users, 5, "the five others are read");
    assert_eq!(r.snapshot.changed, 1, "the changed one is written");
    assert_eq!(
        r.snapshot.removed, 0,
        "the skipped user is not taken as removed"
    );
    assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
    let sk = &r.skipped[0];
    assert_eq!(sk.name.as_deref(), Some("huge"));
    assert_eq!(sk.id, format!("*{huge_id:X}"));
    assert_eq!(sk.properties, vec!["comment".to_string()]);
    assert!(sk.bytes >= 20 * 1024 * 1024);
    let warnings = r.warnings(konter::i18n::Lang::En);
    assert_eq!(warnings.len(), 1);
    let w = &warnings[0];
    assert!(w.contains("\"huge\"") && w.contains(&sk.id), "{w}");
    assert!(w.contains("comment") && w.contains("limit"), "{w}");
    let id_warn = &r.warnings(konter::i18n::Lang::Id)[0];
    assert!(id_warn.contains("dilewati"), "{id_warn}");
    // Stored: the five others as the router has them, "huge" as it was before.
    let store = Store::open(&db).unwrap();
    let users = store.hotspot_users(&UserFilter::default()).unwrap();
    assert_eq!(users.len(), 6);
    let huge = users.iter().find(|u| u.name == "huge").unwrap();
    assert_eq!(huge.comment, "vc-111-11.21.26-Blok-A10");
    assert!(users
        .iter()
        .any(|u| u.comment == "vc-222-11.21.26-Blok-B10"));
    // The connection stayed in step: the next command on it works.
    assert_eq!(c.identity().await.unwrap(), "konter-sim");
    s.stop().await;
}

fn request(count: usize) -> GenerateRequest {
    GenerateRequest {
        profile: "10Menit".into(),
        minutes: 10,
        blok: "B".into(),
        count,
        mode: VoucherMode::Vc,
        name_len: 6,
        created_by: "test".into(),
        date: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        seed: 99,
    }
}

fn router_names_with(s: &SimServer, comment: &str) -> HashSet<String> {
    s.with_world(|w, _| {
        w.users
            .items
            .iter()
            .filter(|u| u.text("comment") == comment)
            .map(|u| u.text("name"))
            .collect()
    })
}

fn batch_created(db: &Path, id: i64) -> (HashSet<String>, konter::store::hotspot::BatchView) {
    let b = Store::open(db).unwrap().hotspot_batch(id).unwrap().unwrap();
    let created = b
        .vouchers
        .iter()
        .filter(|v| v.state == CREATED)
        .map(|v| v.name.clone())
        .collect();
    (created, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_creates_the_batch_on_the_router() {
    let s = sim(10).await;
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir);
    let c = Client::connect(&s.client_options()).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let r = generate::generate(&c, &db, "sim", &request(60), local_now(), Some(&tx))
        .await
        .unwrap();
    drop(tx);
    assert_eq!((r.created, r.failed, r.unknown), (60, 0, 0));
    assert_eq!(r.status, "done");
    let mut last = None;
    while let Some(ev) = rx.recv().await {
        last = Some(ev);
    }
    assert_eq!(
        last,
        Some(generate::GenEvent::Progress {
            done: 60,
            total: 60
        })
    );
    let (created, b) = batch_created(&db, r.batch);
    assert!(b.comment.starts_with("vc-") && b.comment.ends_with("-11.21.26-Blok-B10"));
    assert_eq!(router_names_with(&s, &b.comment), created);
    // the router has them with password = name and limit-uptime 10m
    s.with_world(|w, _| {
        for n in &created {
            let u = w.user(n).unwrap();
            assert_eq!(u.text("password"), *n);
            assert_eq!(u.text("limit-uptime"), "10m");
        }
    });
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_profile_and_bad_blok_create_nothing() {
    let s = sim(10).await;
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir);
    let c = Client::connect(&s.client_options()).await.unwrap();
    let mut req = request(5);
    req.profile = "1Jam".into();
    let e = generate::generate(&c, &db, "sim", &req, local_now(), None)
        .await
        .err()
        .unwrap();
    assert!(
        e.to_string().contains("does not exist on the router"),
        "{e}"
    );
    let mut req = request(5);
    req.blok = "12".into();
    let e = generate::generate(&c, &db, "sim", &req, local_now(), None)
        .await
        .err()
        .unwrap();
    assert!(e.to_string().contains("not a blok"), "{e}");
    let n: i64 = Store::open(&db)
        .unwrap()
        .conn()
        .query_row("SELECT count(*) FROM hotspot_batches", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_mid_generate_is_reconciled_exactly() {
    let s = sim(10).await;
    let dir = tempfile::tempdir().unwrap();
    let db = db(&dir);
    let c = Client::connect(&s.client_options()).await.unwrap();
    // 1 command reads the profiles; the 40th add is carried out but its answer never comes
    s.faults().drop_after_commands(41);
    let r = generate::generate(&c, &db, "sim", &request(100), local_now(), None)
        .await
        .unwrap();
    assert_eq!(r.status, "interrupted");
    assert!(r.unknown > 0, "{r:?}");
    assert!(r.created < 100);
    assert!(r.error.as_deref().unwrap_or("").contains("lost"), "{r:?}");
    let (_, b) = batch_created(&db, r.batch);
    // every voucher is recorded, whatever happened to it
    assert_eq!(b.vouchers.len(), 100);

    let c2 = Client::connect(&s.client_options()).await.unwrap();
    let r2 = generate::reconcile_batch(&c2, &db, r.batch, local_now(), None)
        .await
        .unwrap();
    assert_eq!(r2.unknown, 0);
    assert_eq!(r2.status, "reconciled");
    assert_eq!(r2.created + r2.missing + r2.failed, 100);
    let (created, b) = batch_created(&db, r.batch);
    assert_eq!(
        router_names_with(&s, &b.comment),
        created,
        "konter knows exactly which exist"
    );
    assert!(b.vouchers.iter().all(|v| v.state != PLANNED));
    assert!(b.vouchers.iter().any(|v| v.state == MISSING));
    // reconciling again changes nothing
    let r3 = generate::reconcile_unfinished(&c2, &db, "sim", local_now())
        .await
        .unwrap();
    assert!(r3.is_empty());
    s.stop().await;
}
