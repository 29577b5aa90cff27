//! OtoMaX adapter against the TDS test server (or a real SQL Server: KONTER_TEST_MSSQL).

#[path = "support/otomax_env.rs"]
mod otomax_env;
#[path = "support/tds/mod.rs"]
mod tds;

use chrono::{NaiveDate, NaiveDateTime};
use konter::i18n::Lang;
use konter::ledger::{Ledger, LedgerError, Usage};
use konter::otomax::confirm::confirm_batch;
use konter::otomax::OtomaxLedger;
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

#[test]
fn check_passes_on_default_mapping_and_names_a_broken_one() {
    let env = Env::new();
    let mut l = OtomaxLedger::new(&env.config()).unwrap();
    let (problems, _) = l.check().unwrap();
    assert!(problems.is_empty(), "{problems:?}");

    let mut cfg = env.config();
    cfg.vouchers.serial = "serial_no".into();
    cfg.transaksi.table = "no_such_table".into();
    let mut l = OtomaxLedger::new(&cfg).unwrap();
    let (problems, _) = l.check().unwrap();
    let kinds: Vec<_> = problems
        .iter()
        .map(|p| (p.kind, p.column.as_str(), p.blocks_writes))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("missing_column", "serial_no", true),
            ("missing_table", "", false)
        ]
    );
    assert!(
        problems[0].detail.contains("serial_number"),
        "{}",
        problems[0].detail
    );

    // writes are refused while the check fails
    let store = Store::open_in_memory().unwrap();
    let mut store = store;
    let b = stage(&store, &vouchers(3, 1));
    let err = confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap_err();
    assert!(matches!(err, LedgerError::Schema(_)), "{err}");
    assert_eq!(env.vouchers(), 0);
    assert!(statuses(store.conn(), b).iter().all(|s| s.1 == 1));
}

#[test]
fn confirm_inserts_exactly_the_accepted_rows_and_a_rerun_adds_none() {
    let env = Env::new();
    let mut store = Store::open_in_memory().unwrap();
    let rows = vouchers(40, 2);
    let b = stage(&store, &rows);
    let mut l = OtomaxLedger::new(&env.config()).unwrap();
    let r = confirm_batch(store.conn_mut(), &mut l, b, "kasir1", now(), Lang::En).unwrap();
    assert_eq!((r.sent, r.inserted, r.rejected), (40, 40, 0));
    assert_eq!(env.vouchers(), 40);
    assert!(statuses(store.conn(), b).iter().all(|s| s.1 == 3));
    // conflicts were found by one query and the rows went in one bulk load
    assert!(r.round_trips <= 8, "round trips {}", r.round_trips);

    // the same batch again: nothing pending
    let r = confirm_batch(store.conn_mut(), &mut l, b, "kasir1", now(), Lang::En).unwrap();
    assert_eq!(r.sent, 0);
    // the same file imported again as a new batch: recognised, none added
    let b2 = stage(&store, &rows);
    let r = confirm_batch(store.conn_mut(), &mut l, b2, "kasir1", now(), Lang::En).unwrap();
    assert_eq!((r.inserted, r.recovered, r.rejected), (0, 40, 0));
    assert_eq!(env.vouchers(), 40);
    let st = statuses(store.conn(), b2);
    assert!(
        st.iter()
            .all(|s| s.1 == 3 && s.2.as_deref().unwrap().contains("already")),
        "{st:?}"
    );
}

#[test]
fn conflicting_rows_are_rejected_and_the_rest_go_in() {
    let env = Env::new();
    let mut store = Store::open_in_memory().unwrap();
    let mut l = OtomaxLedger::new(&env.config()).unwrap();
    let first = vouchers(5, 3);
    let b = stage(&store, &first);
    confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap();
    let mut second = vouchers(6, 4);
    second[0].1 = first[0].1.clone(); // same code, other serial, same product
    second[1].2 = first[1].2.clone(); // same serial, other code, same product
    second[1].0 = first[1].0.clone();
    second[0].0 = first[0].0.clone();
    let b2 = stage(&store, &second);
    let r = confirm_batch(store.conn_mut(), &mut l, b2, "t", now(), Lang::En).unwrap();
    assert_eq!((r.inserted, r.rejected), (4, 2));
    assert_eq!(env.vouchers(), 9);
    let st = statuses(store.conn(), b2);
    assert!(
        st[0].2.as_deref().unwrap().contains("voucher code"),
        "{st:?}"
    );
    assert!(st[1].2.as_deref().unwrap().contains("serial"), "{st:?}");
}

#[test]
fn stock_and_usage_read_the_voucher_table_and_transaksi() {
    let env = Env::new();
    let mut store = Store::open_in_memory().unwrap();
    let mut l = OtomaxLedger::new(&env.config()).unwrap();
    let rows = vouchers(6, 5); // 3 XLVD5, 3 AXISVD2
    let b = stage(&store, &rows);
    confirm_batch(store.conn_mut(), &mut l, b, "t", now(), Lang::En).unwrap();
    let p = &env.prefix;
    // one XLVD5 marked used in the voucher table, one sold through a successful transaction,
    // and a failed transaction that must not count
    env.sql(&format!(
        "UPDATE {p}_voucher SET usage_status = 2 WHERE serial_number = '{}'",
        rows[0].2
    ));
    env.sql(&format!(
        "INSERT INTO {p}_transaksi (tgl_entri, kode_produk, tujuan, sn, status) VALUES ('2026-11-20 10:00:00', 'XLVD5', '0817', '{}', 20)",
        rows[2].2
    ));
    env.sql(&format!(
        "INSERT INTO {p}_transaksi (tgl_entri, kode_produk, tujuan, sn, status) VALUES ('2026-11-20 11:00:00', 'AXISVD2', '0818', '{}', 40)",
        rows[1].2
    ));
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    let stock = l.stock(today, 30).unwrap();
    let xl = stock.iter().find(|s| s.product == "XLVD5").unwrap();
    assert_eq!((xl.in_stock, xl.sold, xl.used), (1, 1, 1), "{xl:?}");
    assert_eq!(xl.name, "XL Voucher Data 5GB");
    assert_eq!(xl.price, Some(rust_decimal::Decimal::from(30000)));
    let ax = stock.iter().find(|s| s.product == "AXISVD2").unwrap();
    assert_eq!((ax.in_stock, ax.sold, ax.used), (3, 0, 0));
    assert!(stock
        .iter()
        .any(|s| s.product == "TRIVD6" && s.in_stock == 0));
    // all expire 2028-05-15: none within 30 days, all in-stock ones within 600
    assert_eq!(xl.expiring, 0);
    let far = l.stock(today, 600).unwrap();
    assert_eq!(
        far.iter()
            .find(|s| s.product == "AXISVD2")
            .unwrap()
            .expiring,
        3
    );

    let s = l.voucher_status(&rows[2].2).unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].usage, Usage::Sold);
    assert_eq!(s[0].sale.as_ref().unwrap().status, 20);
    let s = l.voucher_status(&rows[0].1).unwrap(); // by code
    assert_eq!(s[0].usage, Usage::Used);
    let s = l.voucher_status(&rows[1].2).unwrap(); // failed sale only
    assert_eq!(s[0].usage, Usage::InStock);
    assert_eq!(s[0].expiry, NaiveDate::from_ymd_opt(2028, 5, 15));
    assert!(l.voucher_status("999999999999").unwrap().is_empty());
}
