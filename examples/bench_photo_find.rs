//! Photo lookup among a million vouchers: the function `konter photo find` and
//! `konter serve --photos` use (`serve::lookup`: a read-only open of the store, then
//! `Store::find_photo_vouchers`), against the same lookup without indexes, in the same run.
//!
//! usage: cargo run --release --example bench_photo_find -- [VOUCHERS] [LOOKUPS]
//!
//! The store: VOUCHERS vouchers in the embedded ledger, half of them read from photos (photo and
//! card box), each with the staging row it came through (as a real shop's history keeps them),
//! plus 20,000 staged rows not yet confirmed (half from photos, half from a list).
//! Lookups: random serials and codes, 90% of the ledger and 10% of the staged photo cards; then
//! misses, and (for the record) F3's `find_vouchers`, which also scans the staged list rows.
//! Last line: bench=photo_find vouchers=N lookup_ms_p50=.. lookup_ms_p99=.. baseline_ms=.. ratio=..
//! with baseline_ms the median of the same lookups with `NOT INDEXED` on both tables, and
//! ratio = baseline_ms / lookup_ms_p50.

use std::path::Path;
use std::time::Instant;

use konter::serve::{lookup, Field, Query};
use konter::store::Store;

const PRODUCTS: [&str; 6] = [
    "TSELVD5", "TSELVD10", "ISATVD3", "XLVD5", "AXISVD2", "TRIVD6",
];
const PENDING: u64 = 20_000;
const BATCH: u64 = 10_000;

fn serial_of(i: u64) -> String {
    format!("{:012}", 100_000_000_000 + i * 7919 % 800_000_000_000)
}

fn code_of(i: u64) -> String {
    format!(
        "{:016}",
        1_000_000_000_000_000 + i * 104_729 % 8_000_000_000_000_000
    )
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn build(path: &Path, n: u64) {
    let mut store = Store::open(path).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    store.seed_demo(today, "bench").unwrap();
    let conn = store.conn_mut();
    conn.execute("DELETE FROM vouchers", []).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut batch = tx
            .prepare(
                "INSERT INTO staging_batches (id, source, file_name, created_by, created_at, status_at)
                 VALUES (?1, ?2, ?3, 'bench', '2026-11-01T08:00:00', '2026-11-01T08:00:00')",
            )
            .unwrap();
        let mut staged = tx
            .prepare(
                "INSERT INTO staging_rows (id, product, code, serial, expiry, insert_status)
                 VALUES (?1, ?2, ?3, ?4, '2027-06-30', ?5)",
            )
            .unwrap();
        let mut staged_photo = tx
            .prepare(
                "INSERT INTO staging_photos (row_id, photo_path, photo_box) VALUES (?1, ?2, ?3)",
            )
            .unwrap();
        let mut ledger = tx
            .prepare(
                "INSERT INTO vouchers (product, code, serial, expiry, status, batch_id, created_by,
                                       entry_at, photo_path, photo_box)
                 VALUES (?1, ?2, ?3, '2027-06-30', ?4, ?5, 'bench', '2026-11-01T08:00:00', ?6, ?7)",
            )
            .unwrap();
        // Batches of BATCH rows; even batches came from photos, odd ones from lists.
        let total = n + PENDING;
        for i in 0..total {
            let b = 1000 + i / BATCH;
            let line = i % BATCH + 1;
            let photo = b % 2 == 0;
            if line == 1 {
                let (src, file) = if photo {
                    ("image", format!("photos-{b}"))
                } else {
                    ("csv", format!("list-{b}.csv"))
                };
                batch.execute(rusqlite::params![b, src, file]).unwrap();
            }
            let product = PRODUCTS[(i % 6) as usize];
            let (code, serial) = (code_of(i), serial_of(i));
            let (path, bx) = if photo {
                (
                    Some(format!("/srv/photos/{b}/IMG_{:05}.jpg", line / 3)),
                    Some(format!("{},{},600,380,-1.5", (line % 3) * 640, 40)),
                )
            } else {
                (None, None)
            };
            let confirmed = i < n;
            let id = (b << 32) | line;
            staged
                .execute(rusqlite::params![
                    id,
                    product,
                    code,
                    serial,
                    if confirmed { 3 } else { 0 }
                ])
                .unwrap();
            if let Some(path) = &path {
                staged_photo
                    .execute(rusqlite::params![id, path, bx])
                    .unwrap();
            }
            if confirmed {
                ledger
                    .execute(rusqlite::params![product, code, serial, i % 3, b, path, bx])
                    .unwrap();
            }
        }
    }
    tx.commit().unwrap();
    store
        .conn()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .unwrap();
}

/// The same lookup with every index turned off: what a search costs without them.
fn baseline(path: &Path, q: &Query) -> usize {
    let store = Store::open_read_only(path).unwrap();
    let col = match q.field {
        Field::Serial => "serial",
        Field::Code => "code",
    };
    let sql = format!(
        "SELECT v.product, v.code, v.photo_path FROM vouchers v NOT INDEXED WHERE v.{col} = ?1
         UNION ALL
         SELECT s.product, s.code, p.photo_path FROM staging_rows s NOT INDEXED
         JOIN staging_photos p NOT INDEXED ON p.row_id = s.id
         WHERE s.{col} = ?1 AND s.dropped = 0"
    );
    let mut st = store.conn().prepare(&sql).unwrap();
    let rows = st.query_map([&q.digits], |_| Ok(())).unwrap();
    rows.count()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let lookups: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("konter.db");
    let t = Instant::now();
    build(&db, n);
    eprintln!(
        "built: {n} ledger vouchers + {} staged rows in {:.1}s",
        n + PENDING,
        t.elapsed().as_secs_f64()
    );

    let mut rng = Rng(0x5eed_2026);
    let mut queries = Vec::with_capacity(lookups);
    for k in 0..lookups {
        // Only vouchers with a photo: 90% confirmed (ledger), 10% still staged.
        let i = loop {
            let i = if k % 10 == 9 {
                n + rng.next() % PENDING
            } else {
                rng.next() % n
            };
            if (1000 + i / BATCH) % 2 == 0 {
                break i;
            }
        };
        let (field, digits) = if k % 2 == 0 {
            (Field::Serial, serial_of(i))
        } else {
            (Field::Code, code_of(i))
        };
        queries.push(Query {
            field,
            digits,
            n: None,
        });
    }

    // konter: every lookup as the server makes it (open read-only, find, check the photo).
    let mut ms = Vec::with_capacity(lookups);
    for q in &queries {
        let t = Instant::now();
        let found = lookup(&db, q).unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(
            found.iter().any(|v| v.photo_path.is_some()),
            "{:?} {} not found",
            q.field,
            q.digits
        );
    }
    ms.sort_by(f64::total_cmp);
    // Misses (a serial nobody has): the chat bot's typo.
    let mut miss_ms = Vec::new();
    for k in 0..200u64 {
        let q = Query {
            field: Field::Serial,
            digits: format!("{:012}", 999_000_000_000 + k),
            n: None,
        };
        let t = Instant::now();
        assert!(lookup(&db, &q).unwrap().is_empty());
        miss_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    miss_ms.sort_by(f64::total_cmp);
    // F3's search: it also scans the staged list rows (no index on them).
    let store = Store::open_read_only(&db).unwrap();
    let t = Instant::now();
    for k in 0..3u64 {
        assert!(store
            .find_vouchers(&format!("{:012}", 999_100_000_000 + k))
            .unwrap()
            .is_empty());
    }
    let f3_miss_ms = t.elapsed().as_secs_f64() * 1000.0 / 3.0;
    drop(store);

    // Baseline: the same lookups without indexes, on a sample (each one reads both tables).
    let sample = 15.min(queries.len());
    let mut base_ms = Vec::with_capacity(sample);
    for q in queries.iter().step_by(queries.len() / sample).take(sample) {
        let t = Instant::now();
        let hits = baseline(&db, q);
        base_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(hits > 0);
    }
    base_ms.sort_by(f64::total_cmp);

    let store = Store::open_read_only(&db).unwrap();
    for (what, sql) in [
        ("ledger", "SELECT * FROM vouchers WHERE serial = '1'"),
        (
            "staged photos",
            konter::store::intake::FIND_STAGED_PHOTOS_SQL,
        ),
    ] {
        let plan: Vec<String> = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(
                rusqlite::params_from_iter(sql.contains("?1").then_some("1")),
                |r| r.get::<_, String>(3),
            )
            .unwrap()
            .map(Result::unwrap)
            .collect();
        eprintln!("plan ({what}): {}", plan.join("; "));
    }
    let p50 = pct(&ms, 0.5);
    let p99 = pct(&ms, 0.99);
    let base = pct(&base_ms, 0.5);
    eprintln!(
        "lookups: {} hits p50 {p50:.3} ms, p99 {p99:.3} ms, max {:.3} ms; misses p50 {:.3} ms, p99 {:.3} ms; baseline p50 {base:.1} ms over {sample}; F3 find_vouchers (scans list rows) {f3_miss_ms:.1} ms",
        ms.len(),
        ms[ms.len() - 1],
        pct(&miss_ms, 0.5),
        pct(&miss_ms, 0.99),
    );
    println!(
        "bench=photo_find vouchers={n} lookup_ms_p50={p50:.3} lookup_ms_p99={p99:.3} baseline_ms={base:.1} ratio={:.2}",
        base / p50
    );
}
