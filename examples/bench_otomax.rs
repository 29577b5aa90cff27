//! 50k vouchers into the TDS test server, in the same run: one bulk load in one transaction (what
//! confirm does) against one parameterized INSERT per row. Round trips are counted by the server.
//!
//! `cargo run --release --example bench_otomax [-- ROWS]`; last line:
//! `bench=otomax rows=.. bulk_s=.. rows_s=.. bulk_roundtrips=.. row_roundtrips=.. ratio=..`

#[path = "../tests/support/tds/mod.rs"]
mod tds;

use std::time::Instant;

use konter::config::OtomaxConfig;
use konter::ledger::LedgerVoucher;
use konter::otomax::mapping::VoucherMapping;
use konter::otomax::Gateway;

fn vouchers(n: usize, seed: u64) -> Vec<LedgerVoucher> {
    (0..n)
        .map(|i| {
            let k = seed * 10_000_000 + i as u64;
            LedgerVoucher {
                product: ["TSELVD5", "XLVD5", "AXISVD2", "TRIVD6"][i % 4].into(),
                code: format!("{:016}", 1_000_000_000_000_000u64 + k * 7919),
                serial: format!("{:012}", 100_000_000_000u64 + k * 31),
                expiry: chrono::NaiveDate::from_ymd_opt(2028, 5, 15),
                batch_id: 1,
                line: i as i64 + 2,
            }
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    let server = tds::TdsServer::start(0, tds::ServerOptions::default())
        .await
        .expect("server");
    server
        .exec(
            &tds::DEFAULT_SCHEMA
                .split("CREATE TABLE voucher_fisik")
                .nth(1)
                .map(|rest| {
                    format!(
                        "CREATE TABLE voucher_rows{}",
                        rest.split("INSERT INTO").next().unwrap_or("")
                    )
                    .replace("uq_voucher_kode", "uq_rows_kode")
                    .replace("uq_voucher_serial", "uq_rows_serial")
                })
                .unwrap(),
        )
        .expect("second table");
    let cfg = |table: &str| OtomaxConfig {
        url: server.url(),
        vouchers: VoucherMapping {
            table: table.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let now = chrono::Local::now().naive_local();

    let rows = vouchers(n, 1);
    let mut g = Gateway::new(&cfg("voucher_fisik")).expect("config");
    g.connect().await.expect("connect");
    let before = server.requests();
    let t = Instant::now();
    let rep = g.insert_batch(&rows, now).await.expect("bulk insert");
    let bulk_s = t.elapsed().as_secs_f64();
    let bulk_trips = server.requests() - before;
    assert_eq!(rep.inserted.len(), n);

    let rows = vouchers(n, 2);
    let mut g = Gateway::new(&cfg("voucher_rows")).expect("config");
    g.connect().await.expect("connect");
    let before = server.requests();
    let t = Instant::now();
    let done = g.insert_row_by_row(&rows, now).await.expect("row inserts");
    let rows_s = t.elapsed().as_secs_f64();
    let row_trips = server.requests() - before;
    assert_eq!(done as usize, n);

    let counted = server
        .exec("SELECT COUNT(*) FROM voucher_fisik; SELECT COUNT(*) FROM voucher_rows")
        .unwrap();
    println!(
        "server rows: bulk table {}, row table {}",
        counted[0].rows[0][0], counted[1].rows[0][0]
    );
    println!(
        "bench=otomax rows={n} bulk_s={bulk_s:.3} rows_s={rows_s:.3} bulk_roundtrips={bulk_trips} row_roundtrips={row_trips} ratio={:.2}",
        rows_s / bulk_s
    );
}
