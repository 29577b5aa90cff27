//! Bad input and faults: each leaves the batch staged and retryable, and each test counts the
//! rows on the server afterwards. Fault switches exist only on the TDS test server; against a
//! real SQL Server (KONTER_TEST_MSSQL) the switch-driven cases are skipped.

#[path = "support/otomax_env.rs"]
mod otomax_env;
#[path = "support/tds/mod.rs"]
mod tds;

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use konter::i18n::Lang;
use konter::ledger::LedgerError;
use konter::otomax::confirm::confirm_batch;
use konter::otomax::{ConnState, OtomaxLedger};
use konter::store::Store;
use otomax_env::{staged, statuses, vouchers, Env};

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 21)
        .unwrap()
        .and_hms_opt(6, 30, 0)
        .unwrap()
}

fn stage(store: &Store, rows: &[(String, String, String, String)]) -> i64 {
    let r: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
        .collect();
    staged(store.conn(), &r)
}

/// The fault hits the first confirm; the batch stays queued with the reason; a retry puts every
/// row in exactly once.
fn fault_then_retry(env: &Env, arm: impl FnOnce(&tds::TdsServer), want: fn(&LedgerError) -> bool) {
    let mut store = Store::open_in_memory().unwrap();
    let mut l = OtomaxLedger::new(&env.config()).unwrap();
    let rows = vouchers(300, 9);
    let b = stage(&store, &rows);
    arm(env.server.as_ref().unwrap());
    let err = confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap_err();
    assert!(want(&err), "unexpected error: {err:?}");
    assert!(matches!(l.state().get(), ConnState::Error(_)));
    assert_eq!(
        env.vouchers(),
        0,
        "nothing may stay on the server after {err}"
    );
    let st = statuses(store.conn(), b);
    assert!(
        st.iter().all(|s| s.1 == 1 && s.2.is_some()),
        "rows must stay queued with the reason"
    );
    let r = confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap();
    assert_eq!(r.inserted + r.recovered, 300);
    assert_eq!(env.vouchers(), 300);
    assert_eq!(l.state().get(), ConnState::Connected);
    assert!(statuses(store.conn(), b).iter().all(|s| s.1 == 3));
}

#[test]
fn connection_dropped_mid_bulk_load_leaves_nothing_and_retry_inserts_once() {
    let env = Env::new();
    if env.real_server() {
        return eprintln!("skipped: fault switches need the TDS test server");
    }
    fault_then_retry(
        &env,
        |s| s.faults().drop_after_bulk_rows(120),
        |e| matches!(e, LedgerError::Dropped(_)),
    );
}

#[test]
fn duplicate_key_error_from_the_server_rolls_back() {
    let env = Env::new();
    if env.real_server() {
        return eprintln!("skipped: fault switches need the TDS test server");
    }
    fault_then_retry(
        &env,
        |s| s.faults().error_on_write(2627),
        |e| matches!(e, LedgerError::Duplicate(_)) && e.to_string().contains("stays staged"),
    );
}

#[test]
fn server_stalling_past_the_timeout_is_reported_and_retryable() {
    let env = Env::new();
    if env.real_server() {
        return eprintln!("skipped: fault switches need the TDS test server");
    }
    let mut cfg = env.config();
    cfg.command_timeout_s = 1;
    let mut store = Store::open_in_memory().unwrap();
    let mut l = OtomaxLedger::new(&cfg).unwrap();
    l.check().unwrap();
    let b = stage(&store, &vouchers(50, 10));
    env.server
        .as_ref()
        .unwrap()
        .faults()
        .stall("UPDLOCK", Duration::from_secs(3));
    let err = confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap_err();
    assert!(matches!(err, LedgerError::Timeout(_)), "{err:?}");
    assert!(err.to_string().contains("stays staged"));
    assert_eq!(env.vouchers(), 0);
    let r = confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap();
    assert_eq!(r.inserted, 50);
    assert_eq!(env.vouchers(), 50);
}

#[test]
fn a_retry_after_a_lost_commit_answer_recognises_the_rows() {
    // The rows went in but the client never learnt it (rows stay queued): the retry finds them
    // by the set-based conflict query and marks them inserted without inserting again.
    let env = Env::new();
    let mut store = Store::open_in_memory().unwrap();
    let mut l = OtomaxLedger::new(&env.config()).unwrap();
    let rows = vouchers(20, 11);
    let b = stage(&store, &rows);
    confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap();
    store
        .conn()
        .execute(
            "UPDATE staging_rows SET insert_status = 1 WHERE batch_id = ?1",
            [b],
        )
        .unwrap();
    let r = confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap();
    assert_eq!((r.inserted, r.recovered, r.rejected), (0, 20, 0));
    assert_eq!(env.vouchers(), 20);
    assert!(statuses(store.conn(), b).iter().all(|s| s.1 == 3));
}

#[test]
fn wrong_password_wrong_database_and_unreachable_host_are_named() {
    let env = Env::new();
    let mut store = Store::open_in_memory().unwrap();
    let b = stage(&store, &vouchers(5, 12));
    let base = env.config();

    let mut cfg = base.clone();
    cfg.url = replace_key(&env.url, "password", "salah");
    let mut l = OtomaxLedger::new(&cfg).unwrap();
    let e = confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap_err();
    assert!(matches!(e, LedgerError::Login(_)), "{e:?}");
    assert!(e.to_string().contains("User Id and Password"));

    let mut cfg = base.clone();
    cfg.url = replace_key(&env.url, "database", "tidak_ada");
    let mut l = OtomaxLedger::new(&cfg).unwrap();
    let e = confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap_err();
    assert!(matches!(e, LedgerError::Database(_)), "{e:?}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut cfg = base.clone();
    cfg.url = format!("Server=tcp:127.0.0.1,{port};Database=otomax;User Id=sa;Password=x;Encrypt=DANGER_PLAINTEXT");
    cfg.retries = 1;
    let mut l = OtomaxLedger::new(&cfg).unwrap();
    let e = confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap_err();
    assert!(matches!(e, LedgerError::Unreachable(_)), "{e:?}");
    assert_eq!(l.state().get(), ConnState::Error("unreachable".into()));

    assert_eq!(env.vouchers(), 0);
    assert!(statuses(store.conn(), b).iter().all(|s| s.1 == 1));
}

#[test]
fn a_code_column_too_short_refuses_the_batch() {
    // varchar(12) for the code: the check fails and no write is tried
    let env = Env::with_code_len(12);
    let mut store = Store::open_in_memory().unwrap();
    let mut l = OtomaxLedger::new(&env.config()).unwrap();
    let (problems, _) = l.check().unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].kind, "too_short");
    let b = stage(&store, &vouchers(5, 13));
    let e = confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap_err();
    assert!(matches!(e, LedgerError::Schema(_)), "{e:?}");
    assert!(e.to_string().contains("varchar(12)"), "{e}");
    assert_eq!(env.vouchers(), 0);

    // varchar(16) passes the check, but a 20-character code in the batch is refused by name
    let env = Env::with_code_len(16);
    let mut l = OtomaxLedger::new(&env.config()).unwrap();
    let mut rows = vouchers(5, 14);
    rows[3].1 = "12345678901234567890".into();
    let b = stage(&store, &rows);
    let e = confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap_err();
    assert!(matches!(e, LedgerError::TooShort(_)), "{e:?}");
    assert!(e.to_string().contains("line 5"), "{e}");
    assert_eq!(env.vouchers(), 0);
    assert!(statuses(store.conn(), b).iter().all(|s| s.1 == 1));
}

fn replace_key(url: &str, key: &str, value: &str) -> String {
    url.split(';')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.trim().eq_ignore_ascii_case(key) => format!("{k}={value}"),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}
