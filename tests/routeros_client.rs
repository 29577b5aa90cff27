//! The RouterOS client against the router simulator over real loopback sockets.

use std::time::{Duration, Instant};

use konter::routeros::sim::{SimConfig, SimServer};
use konter::routeros::{
    Client, ConnState, NewScript, NewUser, RosError, Router, UserChanges, UserFilter, UserProps,
};

fn cfg(users: usize) -> SimConfig {
    SimConfig {
        users,
        seed: 42,
        now: Some(
            chrono::NaiveDate::from_ymd_opt(2026, 11, 21)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap(),
        ),
        ..SimConfig::default()
    }
}

async fn sim(users: usize) -> SimServer {
    SimServer::start("127.0.0.1:0", cfg(users)).await.unwrap()
}

fn voucher(name: &str) -> NewUser {
    NewUser {
        name: name.into(),
        password: name.into(),
        profile: "10Menit".into(),
        limit_uptime: Some("10m".into()),
        comment: "vc-321-11.21.26-Blok-C10".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn plain_login_lists_users_with_proplist_and_query() {
    let s = sim(500).await;
    let c = Client::connect(&s.client_options()).await.unwrap();
    let users = c
        .hotspot_users(&UserFilter::All, UserProps::Sync)
        .await
        .unwrap();
    assert_eq!(users.len(), 500);
    // .proplist: the password is not among the sync properties.
    assert!(users.iter().all(|u| u.password.is_none()));
    assert!(users
        .iter()
        .all(|u| u.id.starts_with('*') && !u.name.is_empty()));
    let all = c
        .hotspot_users(&UserFilter::All, UserProps::All)
        .await
        .unwrap();
    assert!(all.iter().all(|u| u.password.is_some()));
    let thirty = c
        .hotspot_users(&UserFilter::Profile("30Menit".into()), UserProps::Sync)
        .await
        .unwrap();
    assert!(!thirty.is_empty() && thirty.len() < 500);
    assert!(thirty.iter().all(|u| u.profile == "30Menit"));
    let disabled = c
        .hotspot_users(&UserFilter::Disabled(true), UserProps::Sync)
        .await
        .unwrap();
    assert!(!disabled.is_empty());
    assert!(disabled
        .iter()
        .all(|u| u.disabled && u.comment.starts_with("Audit: RUSAK")));
    // A Windows-1252 comment decodes instead of failing.
    assert!(users
        .iter()
        .any(|u| u.comment.contains("Kamar 3 – Pak Dédé")));
}

#[tokio::test]
async fn wrong_credentials_are_a_clear_login_error() {
    let s = sim(5).await;
    let mut o = s.client_options();
    o.password = "salah".into();
    let e = Client::connect(&o).await.unwrap_err();
    assert!(matches!(e, RosError::Login(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("invalid user name or password"), "{msg}");
    assert!(msg.contains("KONTER_ROUTER_PASSWORD"), "{msg}");
    // The Router does not retry a login refusal and shows it in the status bar.
    let r = Router::new(Some(o));
    assert!(matches!(
        r.client_with_retry(5).await,
        Err(RosError::Login(_))
    ));
    assert!(matches!(r.current_state(), ConnState::Error(_)));
}

#[tokio::test]
async fn legacy_md5_challenge_login() {
    let s = SimServer::start(
        "127.0.0.1:0",
        SimConfig {
            legacy_login: true,
            ..cfg(3)
        },
    )
    .await
    .unwrap();
    let c = Client::connect(&s.client_options()).await.unwrap();
    assert_eq!(c.identity().await.unwrap(), "konter-sim");
    let mut o = s.client_options();
    o.password = "wrong".into();
    assert!(matches!(
        Client::connect(&o).await.unwrap_err(),
        RosError::Login(_)
    ));
}

#[tokio::test]
async fn add_set_remove_and_odd_names_round_trip() {
    let s = sim(10).await;
    let c = Client::connect(&s.client_options()).await.unwrap();
    let odd = "a=b\0c\nd";
    let id = c.add_hotspot_user(&voucher(odd)).await.unwrap();
    assert!(id.starts_with('*'));
    let u = c.hotspot_user(odd).await.unwrap().unwrap();
    assert_eq!(u.name, odd);
    assert_eq!(u.id, id);
    assert_eq!(u.limit_uptime.as_deref(), Some("10m"));
    c.set_user_comment(&id, "Audit: RUSAK 21/11/26 = x\ny")
        .await
        .unwrap();
    c.set_user_disabled(&id, true).await.unwrap();
    let u = c.hotspot_user(odd).await.unwrap().unwrap();
    assert_eq!(u.comment, "Audit: RUSAK 21/11/26 = x\ny");
    assert!(u.disabled);
    // A duplicate is a trap with the router's words.
    let e = c.add_hotspot_user(&voucher(odd)).await.unwrap_err();
    assert!(
        matches!(&e, RosError::Trap { message, .. } if message.contains("already have user")),
        "{e:?}"
    );
    // Unknown profile.
    let mut bad = voucher("zz1");
    bad.profile = "60Menit".into();
    let e = c.add_hotspot_user(&bad).await.unwrap_err();
    assert!(e.to_string().contains("profile"), "{e}");
    c.remove_hotspot_user(&id).await.unwrap();
    assert_eq!(c.hotspot_user(odd).await.unwrap(), None);
    let e = c.remove_hotspot_user(&id).await.unwrap_err();
    assert!(matches!(&e, RosError::Trap { message, .. } if message == "no such item"));
    // The connection is still usable after traps.
    assert_eq!(c.identity().await.unwrap(), "konter-sim");
    let changes = UserChanges {
        profile: Some("30Menit".into()),
        limit_uptime: Some("30m".into()),
        ..Default::default()
    };
    let any = &c
        .hotspot_users(&UserFilter::All, UserProps::Sync)
        .await
        .unwrap()[0];
    c.set_hotspot_user(&any.id, &changes).await.unwrap();
    let after = c.hotspot_user(&any.name).await.unwrap().unwrap();
    assert_eq!(after.profile, "30Menit");
    assert_eq!(after.limit_uptime.as_deref(), Some("30m"));
}

#[tokio::test]
async fn profiles_sessions_scripts_and_clock() {
    let s = sim(300).await;
    let c = Client::connect(&s.client_options()).await.unwrap();
    let profiles = c.user_profiles().await.unwrap();
    let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["default", "10Menit", "30Menit"]);
    assert!(profiles[1].on_login.contains(",rem,5000,1d,"));
    assert!(profiles[2].on_login.contains(",rem,20000,1d,"));
    let active = c.active_sessions().await.unwrap();
    assert!(!active.is_empty());
    assert!(active.iter().all(|a| a.address.starts_with("10.5.50.")));
    let sales = c.scripts(Some("mikhmon")).await.unwrap();
    assert!(!sales.is_empty());
    assert!(sales.iter().all(|s| s.name.split("-|-").count() == 9));
    let clock = c.clock().await.unwrap();
    assert_eq!(clock.date, "nov/21/2026");
    // A login through the API writes one sales record.
    let id = c.add_hotspot_user(&voucher("newbie")).await.unwrap();
    assert!(!id.is_empty());
    s.with_world(|w, now| {
        w.login(
            b"newbie",
            Some(b"newbie"),
            "10.5.50.77",
            "02:00:00:00:00:01",
            now,
        )
    })
    .unwrap();
    let sales2 = c.scripts(Some("mikhmon")).await.unwrap();
    assert_eq!(sales2.len(), sales.len() + 1);
    let rec = sales2
        .iter()
        .find(|s| s.name.contains("-|-newbie-|-"))
        .unwrap();
    assert!(
        rec.name
            .ends_with("-|-5000-|-10.5.50.77-|-02:00:00:00:00:01-|-1d-|-10Menit-|-Blok-C10"),
        "{}",
        rec.name
    );
    let active2 = c.active_sessions().await.unwrap();
    let sess = active2.iter().find(|a| a.user == "newbie").unwrap();
    assert_eq!(sess.session_time_left_secs.map(|s| s <= 600), Some(true));
    c.remove_active(&sess.id).await.unwrap();
    let u = c.hotspot_user("newbie").await.unwrap().unwrap();
    assert!(
        u.comment
            .contains("| IP:10.5.50.77 | MAC:02:00:00:00:00:01"),
        "{}",
        u.comment
    );
    // Scripts can be added and removed.
    let sid = c
        .add_script(&NewScript {
            name: "CleanWartel".into(),
            owner: None,
            source: ":log info \"SETTLE: CLEANUP: Mulai\"".into(),
            comment: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(c.scripts(None).await.unwrap().len(), sales2.len() + 1);
    c.remove_script(&sid).await.unwrap();
}

#[tokio::test]
async fn tagged_commands_run_concurrently_on_one_connection() {
    let s = sim(3000).await;
    let c = Client::connect(&s.client_options()).await.unwrap();
    // A big print and many small commands in flight at once; each gets its own replies.
    let big = c.hotspot_users(&UserFilter::All, UserProps::All);
    let small = async {
        let mut ids = Vec::new();
        for i in 0..20 {
            ids.push(c.identity());
            let _ = i;
        }
        futures::future::join_all(ids).await
    };
    let (big, small) = tokio::join!(big, small);
    assert_eq!(big.unwrap().len(), 3000);
    assert!(small.iter().all(|r| r.as_deref() == Ok("konter-sim")));
    // Pipelined adds report each result in order.
    let users: Vec<NewUser> = (0..200).map(|i| voucher(&format!("pipe{i:03}"))).collect();
    let mut seen = 0;
    let res = c.add_hotspot_users(&users, 32, |_, _| seen += 1).await;
    assert_eq!(seen, 200);
    assert!(res.iter().all(|r| r.is_ok()));
    let names: Vec<String> = users.iter().map(|u| u.name.clone()).collect();
    let found = c
        .hotspot_users(&UserFilter::Names(names), UserProps::Sync)
        .await
        .unwrap();
    assert_eq!(found.len(), 200);
}

#[tokio::test]
async fn ten_thousand_users_with_proplist_under_a_second() {
    let s = sim(10_000).await;
    let c = Client::connect(&s.client_options()).await.unwrap();
    let t = Instant::now();
    let n = c
        .each_hotspot_user(&UserFilter::All, UserProps::Sync, |_| {})
        .await
        .unwrap();
    let took = t.elapsed();
    eprintln!("10k users with .proplist: {took:?}");
    assert_eq!(n, 10_000);
    // Debug build, shared CI core: the release target is well under this.
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[tokio::test]
async fn drop_mid_print_is_a_clear_error_and_the_router_reconnects() {
    let s = sim(2000).await;
    let router = Router::new(Some(s.client_options()));
    let c = router.client().await.unwrap();
    assert_eq!(router.current_state(), ConnState::Connected);
    s.faults().drop_after_replies(100);
    let e = c
        .hotspot_users(&UserFilter::All, UserProps::Sync)
        .await
        .unwrap_err();
    assert!(matches!(e, RosError::Disconnected(_)), "{e:?}");
    assert!(e.to_string().contains("retry"), "{e}");
    assert!(c.is_closed());
    // Reads retry once on a fresh connection.
    let users = router
        .read(|c| async move { c.hotspot_users(&UserFilter::All, UserProps::Sync).await })
        .await
        .unwrap();
    assert_eq!(users.len(), 2000);
    assert_eq!(router.current_state(), ConnState::Connected);
}

#[tokio::test]
async fn drop_mid_batch_leaves_an_exact_record_of_what_exists() {
    let s = sim(10).await;
    let c = Client::connect(&s.client_options()).await.unwrap();
    let users: Vec<NewUser> = (0..50).map(|i| voucher(&format!("gen{i:02}"))).collect();
    // The 20th add is carried out by the router but its answer never arrives.
    s.faults().drop_after_commands(20);
    let res = c.add_hotspot_users(&users, 1, |_, _| {}).await;
    let ok = res.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 19);
    assert!(res[19..]
        .iter()
        .all(|r| matches!(r, Err(RosError::Disconnected(_)))));
    // On a new connection the caller asks which of the batch exist: exactly 20.
    let c2 = Client::connect(&s.client_options()).await.unwrap();
    let names: Vec<String> = users.iter().map(|u| u.name.clone()).collect();
    let exist = c2
        .hotspot_users(&UserFilter::Names(names), UserProps::Sync)
        .await
        .unwrap();
    assert_eq!(exist.len(), 20);
}

#[tokio::test]
async fn stalled_router_times_out() {
    let s = sim(10).await;
    let mut o = s.client_options();
    o.reply_timeout = Duration::from_millis(300);
    let c = Client::connect(&o).await.unwrap();
    s.faults().stall_after_commands(1);
    let e = c.identity().await.unwrap_err();
    assert!(matches!(e, RosError::Timeout { .. }), "{e:?}");
    assert!(c.is_closed());
    assert!(c.identity().await.is_err());
}

#[tokio::test]
async fn unknown_command_traps_and_quit_is_fatal() {
    let s = sim(3).await;
    let c = Client::connect(&s.client_options()).await.unwrap();
    let e = c
        .run(konter::routeros::command::Command::new(
            "/ip/hotspot/bogus/print",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        RosError::Trap {
            message: "no such command prefix".into(),
            category: None
        }
    );
    let e = c
        .run(konter::routeros::command::Command::new("/quit"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, RosError::Fatal(m) if m.contains("session terminated")),
        "{e:?}"
    );
    assert!(c.is_closed());
}

#[tokio::test]
async fn twenty_megabyte_replies() {
    let s = sim(3).await;
    let c = Client::connect(&s.client_options()).await.unwrap();
    // One 20 MB word: over the client's limit, skipped with a clear error, memory bounded,
    // and the connection stays in step.
    let big = "x".repeat(20 * 1024 * 1024);
    c.add_script(&NewScript {
        name: "huge".into(),
        owner: None,
        source: big,
        comment: "big".into(),
    })
    .await
    .unwrap();
    let mut o = s.client_options();
    o.max_sentence = 4 * 1024 * 1024;
    let small = Client::connect(&o).await.unwrap();
    let e = small.scripts(Some("big")).await.unwrap_err();
    assert!(
        matches!(e, RosError::TooLarge { bytes, .. } if bytes >= 20 * 1024 * 1024),
        "{e:?}"
    );
    assert!(e.to_string().contains(".proplist"), "{e}");
    assert_eq!(small.identity().await.unwrap(), "konter-sim");
    // A 20 MB reply made of many rows streams through, row by row.
    let users: Vec<NewUser> = (0..2_100)
        .map(|i| NewUser {
            comment: "k".repeat(10_000),
            ..voucher(&format!("bulk{i:05}"))
        })
        .collect();
    let res = c.add_hotspot_users(&users, 64, |_, _| {}).await;
    assert!(res.iter().all(|r| r.is_ok()));
    let mut bytes = 0usize;
    let n = c
        .each_hotspot_user(&UserFilter::All, UserProps::Sync, |u| {
            bytes += u.comment.len()
        })
        .await
        .unwrap();
    assert_eq!(n, 2_103);
    assert!(bytes >= 20_000_000, "{bytes}");
}

#[tokio::test]
async fn api_ssl_with_a_trusted_self_signed_certificate() {
    use konter::routeros::{TlsOptions, TlsVerify};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let s = SimServer::start(
        "127.0.0.1:0",
        SimConfig {
            tls: Some((dir.join("routeros-sim.crt"), dir.join("routeros-sim.key"))),
            ..cfg(20)
        },
    )
    .await
    .unwrap();
    // Trusting the CA that signed the router certificate.
    let mut o = s.client_options();
    o.tls = Some(TlsOptions {
        verify: TlsVerify::CaFile(dir.join("routeros-ca.crt")),
        server_name: None,
    });
    let c = Client::connect(&o).await.unwrap();
    let users = c
        .hotspot_users(&UserFilter::All, UserProps::Sync)
        .await
        .unwrap();
    assert_eq!(users.len(), 20);
    // Accept-any still works (and still checks the handshake).
    o.tls = Some(TlsOptions {
        verify: TlsVerify::AcceptAny,
        server_name: None,
    });
    assert_eq!(
        Client::connect(&o).await.unwrap().identity().await.unwrap(),
        "konter-sim"
    );
    // The system roots do not trust a self-signed router: a TLS error that says what to do.
    o.tls = Some(TlsOptions {
        verify: TlsVerify::System,
        server_name: None,
    });
    match Client::connect(&o).await {
        Err(RosError::Tls(m)) => assert!(!m.is_empty()),
        other => panic!("expected a TLS error, got {other:?}"),
    }
    // Plain API against the TLS port fails cleanly instead of hanging.
    let mut plain = s.client_options();
    plain.reply_timeout = Duration::from_secs(2);
    assert!(Client::connect(&plain).await.is_err());
}

/// Jobs run these on `tokio::spawn`, so their futures must be `Send`.
#[tokio::test]
async fn operations_can_be_spawned() {
    let s = sim(30).await;
    let router = Router::new(Some(s.client_options()));
    let r2 = router.clone();
    let users: Vec<NewUser> = (0..5).map(|i| voucher(&format!("sp{i}"))).collect();
    let n = tokio::spawn(async move {
        let c = r2.client().await.unwrap();
        let res = c.add_hotspot_users(&users, 4, |_, _| {}).await;
        assert!(res.iter().all(|r| r.is_ok()));
        let listed = r2
            .read(|c| async move { c.hotspot_users(&UserFilter::All, UserProps::Sync).await })
            .await
            .unwrap();
        let active = c.active_sessions().await.unwrap();
        let scripts = c.scripts(Some("mikhmon")).await.unwrap();
        (listed.len(), active.len() <= 30, scripts.len() <= 30)
    })
    .await
    .unwrap();
    assert_eq!(n, (35, true, true));
}

#[tokio::test]
async fn dropping_a_stream_cancels_it_and_the_connection_goes_on() {
    let s = sim(3000).await;
    let c = Client::connect(&s.client_options()).await.unwrap();
    let mut st = c
        .stream(konter::routeros::command::Command::new(
            "/ip/hotspot/user/print",
        ))
        .await
        .unwrap();
    let first = st.next_row().await.unwrap().unwrap();
    assert!(!first.text("name").is_empty());
    drop(st);
    // The rest of that print is discarded; new commands are answered.
    for _ in 0..3 {
        assert_eq!(c.identity().await.unwrap(), "konter-sim");
    }
    let n = c
        .each_hotspot_user(&UserFilter::All, UserProps::Sync, |_| {})
        .await
        .unwrap();
    assert_eq!(n, 3000);
    assert!(!c.is_closed());
}
