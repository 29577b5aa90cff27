//! Intake benchmark: parse + validate + stage a voucher list, against a bare loop of prepared
//! INSERTs of the same rows into SQLite in one transaction, in the same process.
//!
//! usage: cargo run --release --example bench_intake -- [N | FILE.csv]
//! (FILE as made by ../shared/tools/gen_voucher_csv.py big FILE --rows N)
//! Last line: bench=intake rows=N konter_s=.. baseline_s=.. ratio=.. peak_rss_mb=..
//! with ratio = baseline_s / konter_s.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use chrono::NaiveDate;
use konter::jobs::intake::{import_file, ImportRequest};
use konter::store::Store;

const PRODUCTS: [&str; 6] = [
    "TSELVD5", "TSELVD10", "ISATVD3", "XLVD5", "AXISVD2", "TRIVD6",
];

/// The same shape as gen_voucher_csv.py big: unique 16-digit codes and 12-digit serials.
fn generate(path: &Path, n: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "kode_produk,kode_voucher,serial,kadaluarsa").unwrap();
    let mut x: u64 = 0x2026_1121;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..n as u64 {
        let r = next();
        // Unique by construction: the row number is part of both numbers.
        let code = (r % 10_000_000) * 1_000_000_000 + i;
        let serial = 100_000_000_000 + (r % 800) * 1_000_000_000 + i;
        writeln!(
            f,
            "{},{:016},{:012},{}-{:02}-{:02}",
            PRODUCTS[(r >> 40) as usize % 6],
            code,
            serial,
            2027 + (r >> 20) % 2,
            1 + (r >> 24) % 12,
            1 + (r >> 28) % 28
        )
        .unwrap();
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "100000".into());
    let dir = tempfile::tempdir().unwrap();
    let file: PathBuf = match arg.parse::<usize>() {
        Ok(n) => {
            let p = dir.path().join("big.csv");
            generate(&p, n);
            p
        }
        Err(_) => PathBuf::from(arg),
    };
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();

    // Each side runs REPS times on a fresh database and keeps its best time, so a busy
    // machine disturbs both the same way.
    const REPS: usize = 3;
    let mut konter_s = f64::MAX;
    let mut vouchers = Vec::new();
    let mut rows = 0;
    for rep in 0..REPS {
        drop(std::mem::take(&mut vouchers));
        // konter: a real store with the demo products and ledger, then the whole intake path.
        let mut store = Store::open(&dir.path().join(format!("konter{rep}.db"))).unwrap();
        store.seed_demo(today, "bench").unwrap();
        let t = Instant::now();
        let out = import_file(
            &mut store,
            &ImportRequest {
                path: &file,
                product: None,
                created_by: "bench",
                today,
                dry_run: false,
            },
            &AtomicBool::new(false),
            &mut |_, _| {},
        )
        .unwrap();
        let s = t.elapsed().as_secs_f64();
        konter_s = konter_s.min(s);
        rows = out.results.len();
        eprintln!(
            "konter: {rows} rows, {} accepted, {} rejected in {s:.3}s",
            out.accepted, out.rejected
        );
        vouchers = out.results.into_iter().map(|r| r.voucher).collect();
    }

    // Baseline: the same rows, already parsed, into a bare table with one prepared statement in
    // one transaction, on a file database with the same settings.
    let mut baseline_s = f64::MAX;
    for rep in 0..REPS {
        let mut conn =
            rusqlite::Connection::open(dir.path().join(format!("baseline{rep}.db"))).unwrap();
        let _: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .unwrap();
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             CREATE TABLE t (line INTEGER, product TEXT, code TEXT, serial TEXT, expiry TEXT);",
        )
        .unwrap();
        let t = Instant::now();
        let tx = conn.transaction().unwrap();
        {
            let mut st = tx
                .prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)")
                .unwrap();
            for (i, v) in vouchers.iter().enumerate() {
                st.execute(rusqlite::params![
                    i as i64, v.product, v.code, v.serial, v.expiry
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
        let s = t.elapsed().as_secs_f64();
        eprintln!("baseline: {s:.3}s");
        baseline_s = baseline_s.min(s);
    }

    // For context only (stderr, not the figure line): the same bare loop into konter's own
    // staging table, to show what the staging row itself costs next to the bare table.
    let mut staging_s = f64::MAX;
    for rep in 0..REPS {
        let store = Store::open(&dir.path().join(format!("staging{rep}.db"))).unwrap();
        let conn = store.conn();
        conn.execute(
            "INSERT INTO staging_batches(id, source, created_by, created_at, status_at)
             VALUES (1, 'csv', 'bench', 'now', 'now')",
            [],
        )
        .unwrap();
        let t = Instant::now();
        conn.execute_batch("BEGIN").unwrap();
        {
            let mut st = conn
                .prepare(
                    "INSERT INTO staging_rows(id, product, code, serial, expiry)
                     VALUES ((1 << 32) + ?1, ?2, ?3, ?4, ?5)",
                )
                .unwrap();
            for (i, v) in vouchers.iter().enumerate() {
                st.execute(rusqlite::params![
                    i as i64, v.product, v.code, v.serial, v.expiry
                ])
                .unwrap();
            }
        }
        conn.execute_batch("COMMIT").unwrap();
        staging_s = staging_s.min(t.elapsed().as_secs_f64());
    }
    eprintln!(
        "context: the bare loop into the staging table takes {staging_s:.3}s (konter/that = {:.2})",
        staging_s / konter_s
    );

    println!(
        "bench=intake rows={rows} konter_s={konter_s:.3} baseline_s={baseline_s:.3} ratio={:.2} peak_rss_mb={:.1}",
        baseline_s / konter_s,
        peak_rss_mb()
    );
}
