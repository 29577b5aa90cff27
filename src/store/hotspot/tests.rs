use super::*;
use chrono::NaiveDate;

fn at(h: u32, m: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 21)
        .unwrap()
        .and_hms_opt(h, m, s)
        .unwrap()
}

fn cfg() -> HotspotRules {
    HotspotRules {
        blok_aliases: BTreeMap::new(),
        prices: PriceBook {
            price_10: 5000,
            price_30: 20000,
            ..Default::default()
        },
    }
}

fn user(i: u32, name: &str, comment: &str) -> RouterUser {
    RouterUser {
        router_id: format!("*{i:X}"),
        name: name.into(),
        profile: "10Menit".into(),
        comment: comment.into(),
        limit_uptime: "10m".into(),
        ..Default::default()
    }
}

fn active(id: &str, user: &str, uptime: u64, bytes: u64) -> RouterActive {
    RouterActive {
        router_id: id.into(),
        username: user.into(),
        address: "10.5.50.2".into(),
        mac: "AA:BB:CC:00:00:01".into(),
        uptime_s: uptime,
        bytes,
    }
}

#[test]
fn snapshot_is_incremental() {
    let mut s = Store::open_in_memory().unwrap();
    let users: Vec<RouterUser> = (0..100)
        .map(|i| user(i, &format!("u{i:03}"), "vc-123-11.21.26-Blok-A10"))
        .collect();
    let st = s
        .hotspot_apply_snapshot(&users, &[], at(10, 0, 0), &cfg())
        .unwrap();
    assert_eq!((st.added, st.changed, st.unchanged), (100, 0, 0));
    let st = s
        .hotspot_apply_snapshot(&users, &[], at(10, 1, 0), &cfg())
        .unwrap();
    assert_eq!(
        (st.added, st.changed, st.unchanged, st.history_written),
        (0, 0, 100, 0)
    );
    let mut changed = users.clone();
    changed[5].bytes_in = 5000;
    changed.pop();
    let st = s
        .hotspot_apply_snapshot(&changed, &[], at(10, 2, 0), &cfg())
        .unwrap();
    assert_eq!((st.changed, st.removed, st.unchanged), (1, 1, 98));
    // the removed user is kept but not listed
    let list = s.hotspot_users(&UserFilter::default()).unwrap();
    assert_eq!(list.len(), 99);
    assert!(s.hotspot_known_names().unwrap().contains("u099"));
    let u5 = list.iter().find(|u| u.name == "u005").unwrap();
    assert_eq!(u5.status, Status::Terpakai);
    assert_eq!(u5.blok.as_deref(), Some("BLOK-A"));
}

#[test]
fn sessions_become_login_events_and_relogins() {
    let mut s = Store::open_in_memory().unwrap();
    let users = vec![user(1, "k3x9a2", "vc-123-11.21.26-Blok-A10")];
    let c = cfg();
    s.hotspot_apply_snapshot(&users, &[], at(10, 0, 0), &c)
        .unwrap();
    // logs in at 10:00:30, seen at 10:01:00 with 30 s uptime
    let st = s
        .hotspot_apply_snapshot(
            &users,
            &[active("*A1", "k3x9a2", 30, 1000)],
            at(10, 1, 0),
            &c,
        )
        .unwrap();
    assert_eq!(st.logins, 1);
    let v = &s.hotspot_users(&UserFilter::default()).unwrap()[0];
    assert_eq!(v.status, Status::Online);
    assert_eq!(v.login_count, 1);
    assert_eq!(v.relogins, 0);
    // the same session seen again is not a new login
    let st = s
        .hotspot_apply_snapshot(
            &users,
            &[active("*A1", "k3x9a2", 90, 5000)],
            at(10, 2, 0),
            &c,
        )
        .unwrap();
    assert_eq!((st.logins, st.logouts), (0, 0));
    // logout
    let mut after = users.clone();
    after[0].uptime_s = 90;
    after[0].bytes_in = 5000;
    let st = s
        .hotspot_apply_snapshot(&after, &[], at(10, 3, 0), &c)
        .unwrap();
    assert_eq!(st.logouts, 1);
    let v = &s.hotspot_users(&UserFilter::default()).unwrap()[0];
    assert_eq!(v.status, Status::Terpakai);
    // relogin with a new session id
    s.hotspot_apply_snapshot(
        &after,
        &[active("*A2", "k3x9a2", 10, 100)],
        at(10, 5, 0),
        &c,
    )
    .unwrap();
    let d = s.hotspot_user_detail("k3x9a2").unwrap().unwrap();
    assert_eq!(d.user.login_count, 2);
    assert_eq!(d.user.relogins, 1);
    assert_eq!(d.events.len(), 2);
    assert_eq!(d.events[0].login_time, "10:00:30");
    assert_eq!(
        d.events[0].logout_time.as_deref(),
        Some("2026-11-21T10:02:00")
    );
    assert_eq!(d.events[0].uptime_s, 90);
    assert_eq!(d.events[1].seq, 2);
    assert_eq!(d.last_status.as_deref(), Some("online"));
    assert!(s.hotspot_user_detail("nobody").unwrap().is_none());
}

#[test]
fn ready_users_are_not_stored_in_history() {
    let mut s = Store::open_in_memory().unwrap();
    let mut users = vec![
        user(1, "ready1", "vc-123-11.21.26-Blok-A10"),
        user(
            2,
            "rusak1",
            "Audit: RUSAK 21/11/26 vc-123-11.21.26-Blok-A10",
        ),
    ];
    users[1].disabled = true;
    let st = s
        .hotspot_apply_snapshot(&users, &[], at(9, 0, 0), &cfg())
        .unwrap();
    assert_eq!(st.history_written, 1);
    let n: i64 = s
        .conn()
        .query_row("SELECT count(*) FROM login_history", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    let counts = s.hotspot_status_counts().unwrap();
    assert_eq!(counts[&Status::Ready], 1);
    assert_eq!(counts[&Status::Rusak], 1);
}

#[test]
fn filters_by_status_blok_profile_and_search() {
    let mut s = Store::open_in_memory().unwrap();
    let mut users = vec![
        user(1, "aaa111", "vc-123-11.21.26-Blok-A10"),
        user(2, "bbb222", "vc-124-11.21.26-Blok-B30"),
        user(3, "ccc333", "vc-124-11.21.26-Blok-B30"),
    ];
    users[1].profile = "30Menit".into();
    users[2].profile = "30Menit".into();
    users[2].uptime_s = 100;
    s.hotspot_apply_snapshot(&users, &[], at(9, 0, 0), &cfg())
        .unwrap();
    let f = |status, blok: Option<&str>, profile: Option<&str>, search: Option<&str>| {
        s.hotspot_users(&UserFilter {
            status,
            blok: blok.map(Into::into),
            profile: profile.map(Into::into),
            search: search.map(Into::into),
        })
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect::<Vec<_>>()
    };
    assert_eq!(
        f(Some(Status::Ready), None, None, None),
        ["aaa111", "bbb222"]
    );
    assert_eq!(f(None, Some("b"), None, None), ["bbb222", "ccc333"]);
    assert_eq!(f(None, Some("BLOK-A"), None, None), ["aaa111"]);
    assert_eq!(f(None, None, Some("30menit"), None), ["bbb222", "ccc333"]);
    assert_eq!(f(Some(Status::Terpakai), Some("B"), None, None), ["ccc333"]);
    assert_eq!(f(None, None, None, Some("BBB")), ["bbb222"]);
    assert_eq!(f(None, None, None, Some("vc-124")), ["bbb222", "ccc333"]);
    assert!(f(None, Some("Z"), None, None).is_empty());
}

#[test]
fn replaced_original_is_hidden_except_in_rusak_view() {
    let mut s = Store::open_in_memory().unwrap();
    let mut users = vec![
        user(1, "orig01", "Audit: RUSAK 21/11/26 Blok-A10"),
        user(
            2,
            "new001",
            "Blok-A10 (Retur) Valid: Retur Ref:vc-orig01 | Profile:10Menit",
        ),
    ];
    users[0].disabled = true;
    s.hotspot_apply_snapshot(&users, &[], at(9, 0, 0), &cfg())
        .unwrap();
    let all: Vec<String> = s
        .hotspot_users(&UserFilter::default())
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(all, ["new001"]);
    let rusak = s
        .hotspot_users(&UserFilter {
            status: Some(Status::Rusak),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rusak.len(), 1);
    assert_eq!(rusak[0].name, "orig01");
    assert!(s.hotspot_user_detail("orig01").unwrap().is_some());
}

fn rec(user: &str, date: &str, time: &str, blok: &str) -> String {
    rules::format_sale_record(
        date,
        time,
        user,
        5000,
        "10.5.50.2",
        "AA:BB",
        "1d",
        "10Menit",
        blok,
    )
}

#[test]
fn sales_are_deduplicated_and_remembered() {
    let mut s = Store::open_in_memory().unwrap();
    let c = cfg();
    s.hotspot_apply_snapshot(
        &[
            user(1, "a1", "2026-11-21 10:00:00 | Blok-A10"),
            user(2, "vip1", "Blok-A10 | VIP"),
        ],
        &[],
        at(9, 0, 0),
        &c,
    )
    .unwrap();
    let scripts = vec![
        (
            "*1".to_string(),
            rec("a1", "nov/21/2026", "10:00:00", "Blok-A10"),
        ),
        (
            "*2".to_string(),
            rec("a1", "nov/21/2026", "10:20:00", "Blok-A10"),
        ),
        (
            "*3".to_string(),
            rec("a1", "nov/22/2026", "00:05:00", "Blok-A10"),
        ),
        (
            "*4".to_string(),
            rec("vip1", "nov/21/2026", "10:00:00", "Blok-A10"),
        ),
        ("*5".to_string(), rec("x9", "nov/21/2026", "10:00:00", "")),
        ("*6".to_string(), "garbage".to_string()),
        (
            "*7".to_string(),
            rec("a1", "nov/21/2026", "10:00:00", "Blok-A10"),
        ),
    ];
    let st = s.hotspot_ingest_sales(&scripts, at(11, 0, 0), &c).unwrap();
    assert_eq!(st.new_records, 7);
    assert_eq!(st.inserted, 2);
    assert_eq!(st.duplicates, 2);
    assert_eq!((st.vip, st.no_blok, st.rejected), (1, 1, 1));
    let sales = s.hotspot_sales(Some("a1"), None).unwrap();
    assert_eq!(sales.len(), 2);
    assert_eq!(sales[0].sale_date, "2026-11-21");
    assert_eq!(sales[0].sale_time, "10:00:00");
    assert_eq!(sales[0].blok_name, "BLOK-A");
    assert_eq!(sales[0].price, 5000);
    // each record is a login: 10:00 and 10:20 on the 21st, 00:05 on the 22nd (the identical
    // record *7 is the same login as *1)
    assert_eq!(st.logins, 3);
    let d = s.hotspot_user_detail("a1").unwrap().unwrap();
    assert_eq!(d.user.login_count, 3);
    assert_eq!(d.user.relogins, 2);
    assert_eq!(d.first_login_at.as_deref(), Some("2026-11-21T10:00:00"));
    assert_eq!(d.last_login_at.as_deref(), Some("2026-11-22T00:05:00"));
    // a second run reads nothing new
    let st = s.hotspot_ingest_sales(&scripts, at(11, 5, 0), &c).unwrap();
    assert_eq!((st.new_records, st.inserted, st.logins), (0, 0, 0));
}

#[test]
fn sale_of_a_now_rusak_user_is_classified_rusak() {
    let mut s = Store::open_in_memory().unwrap();
    let c = cfg();
    let mut u = user(1, "r1", "Audit: RUSAK 21/11/26 Blok-A10");
    u.disabled = true;
    s.hotspot_apply_snapshot(&[u], &[], at(9, 0, 0), &c)
        .unwrap();
    s.hotspot_ingest_sales(
        &[(
            "*1".into(),
            rec("r1", "nov/21/2026", "10:00:00", "Blok-A10"),
        )],
        at(11, 0, 0),
        &c,
    )
    .unwrap();
    assert_eq!(
        s.hotspot_sales(None, Some("2026-11-21")).unwrap()[0].status,
        "rusak"
    );
}

#[test]
fn batches_are_planned_before_creation() {
    let mut s = Store::open_in_memory().unwrap();
    let spec = rules::GenerateSpec {
        mode: rules::VoucherMode::Vc,
        profile: "10Menit".into(),
        minutes: 10,
        blok_letters: "A".into(),
        count: 3,
        name_len: 6,
        date: at(0, 0, 0).date(),
    };
    let v = rules::generate_vouchers(&spec, &HashSet::new(), &mut rules::Rng::new(3)).unwrap();
    let id = s
        .hotspot_plan_batch(
            "r1",
            "10Menit",
            "BLOK-A",
            spec.mode,
            &v,
            "kasir",
            at(9, 0, 0),
        )
        .unwrap();
    let b = s.hotspot_batch(id).unwrap().unwrap();
    assert_eq!(b.count_in(PLANNED), 3);
    assert_eq!(b.status, "creating");
    assert_eq!(s.hotspot_unfinished_batches("r1").unwrap(), [id]);
    s.hotspot_mark_voucher(id, &v[0].name, CREATED, Some("*10"), None, at(9, 0, 1))
        .unwrap();
    assert!(s
        .hotspot_mark_voucher(id, "nope", CREATED, None, None, at(9, 0, 1))
        .is_err());
    s.hotspot_finish_batch(id, "done", None, at(9, 0, 2))
        .unwrap();
    let b = s.hotspot_batch(id).unwrap().unwrap();
    assert_eq!(b.count_in(CREATED), 1);
    assert_eq!(b.vouchers[0].router_id.as_deref(), Some("*10"));
    assert!(s.hotspot_unfinished_batches("r1").unwrap().is_empty());
    assert!(s.hotspot_known_names().unwrap().contains(&v[2].name));
    assert!(s
        .hotspot_plan_batch(
            "r1",
            "10Menit",
            "BLOK-A",
            spec.mode,
            &[],
            "kasir",
            at(9, 0, 0)
        )
        .is_err());
}

#[test]
fn sync_state_records_success_and_error() {
    let s = Store::open_in_memory().unwrap();
    assert!(s.hotspot_sync_state("r").unwrap().is_none());
    s.hotspot_record_sync("r", at(9, 0, 0), Ok((10, 2)))
        .unwrap();
    s.hotspot_record_sync("r", at(9, 1, 0), Err("router unreachable"))
        .unwrap();
    let st = s.hotspot_sync_state("r").unwrap().unwrap();
    assert_eq!(st.users, 10);
    assert_eq!(st.runs, 2);
    assert_eq!(st.last_ok_at.as_deref(), Some("2026-11-21T09:00:00"));
    assert_eq!(st.last_error.as_deref(), Some("router unreachable"));
}

#[test]
fn a_login_seen_as_session_and_as_record_counts_once() {
    let mut s = Store::open_in_memory().unwrap();
    let c = cfg();
    let users = vec![user(1, "k1", "2026-11-21 10:00:00 | Blok-A10")];
    // active since 10:00:30 (seen at 10:01:00 with 30 s), and its record says 10:00:32
    s.hotspot_apply_snapshot(&users, &[active("*A1", "k1", 30, 10)], at(10, 1, 0), &c)
        .unwrap();
    let st = s
        .hotspot_ingest_sales(
            &[(
                "*1".into(),
                rec("k1", "nov/21/2026", "10:00:32", "Blok-A10"),
            )],
            at(10, 1, 0),
            &c,
        )
        .unwrap();
    assert_eq!((st.inserted, st.logins), (1, 0));
    let d = s.hotspot_user_detail("k1").unwrap().unwrap();
    assert_eq!(d.user.login_count, 1);
    // the other order: the record first, then the session
    let users2 = vec![user(2, "k2", "2026-11-21 11:00:00 | Blok-A10")];
    let mut t = Store::open_in_memory().unwrap();
    t.hotspot_apply_snapshot(&users2, &[], at(11, 0, 0), &c)
        .unwrap();
    t.hotspot_ingest_sales(
        &[(
            "*2".into(),
            rec("k2", "nov/21/2026", "11:00:01", "Blok-A10"),
        )],
        at(11, 0, 5),
        &c,
    )
    .unwrap();
    let st = t
        .hotspot_apply_snapshot(&users2, &[active("*B1", "k2", 59, 10)], at(11, 1, 0), &c)
        .unwrap();
    assert_eq!(st.logins, 0);
    assert_eq!(
        t.hotspot_user_detail("k2")
            .unwrap()
            .unwrap()
            .user
            .login_count,
        1
    );
    assert_eq!(
        t.hotspot_user_detail("k2").unwrap().unwrap().user.status,
        Status::Online
    );
}
