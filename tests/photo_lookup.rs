//! `Store::find_photo_vouchers` (photo find, serve) and `Store::find_vouchers` (F3 search): which
//! vouchers each finds, and that the photo lookup goes through indexes only.

use konter::store::Store;

/// line, batch, code, serial, insert_status, dropped, photo
type Row = (
    u64,
    i64,
    &'static str,
    &'static str,
    i64,
    i64,
    Option<&'static str>,
);

fn store_with_rows() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("konter.db")).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    store.seed_demo(today, "test").unwrap();
    let c = store.conn();
    let product: String = c
        .query_row("SELECT code FROM products ORDER BY code LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    c.execute(
        "INSERT INTO staging_batches (id, source, created_by, created_at, status_at)
         VALUES (900, 'image', 't', '2026-11-21T08:00:00', '2026-11-21T08:00:00'),
                (901, 'csv', 't', '2026-11-21T08:00:00', '2026-11-21T08:00:00')",
        [],
    )
    .unwrap();
    // line, batch, code, serial, insert_status, dropped, photo
    let rows: [Row; 5] = [
        // a photo card sent to OtoMaX: not in the local ledger, only here
        (
            1,
            900,
            "1000000000000001",
            "200000000001",
            3,
            0,
            Some("/p/a.jpg"),
        ),
        // a photo card confirmed into the ledger: shows once, from the ledger
        (
            2,
            900,
            "1000000000000002",
            "200000000002",
            3,
            0,
            Some("/p/a.jpg"),
        ),
        // a photo card waiting in staging
        (
            3,
            900,
            "1000000000000003",
            "200000000003",
            0,
            0,
            Some("/p/b.jpg"),
        ),
        // a dropped photo card
        (
            4,
            900,
            "1000000000000004",
            "200000000004",
            0,
            1,
            Some("/p/b.jpg"),
        ),
        // a list row waiting in staging
        (1, 901, "1000000000000005", "200000000005", 0, 0, None),
    ];
    for (line, batch, code, serial, status, dropped, photo) in rows {
        let id = (batch << 32) + line as i64;
        c.execute(
            "INSERT INTO staging_rows (id, product, code, serial, insert_status, dropped)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![id, product, code, serial, status, dropped],
        )
        .unwrap();
        if let Some(path) = photo {
            c.execute(
                "INSERT INTO staging_photos (row_id, photo_path, photo_box) VALUES (?1, ?2, '1,2,3,4,0')",
                rusqlite::params![id, path],
            )
            .unwrap();
        }
    }
    c.execute(
        "INSERT INTO vouchers (product, code, serial, entry_at, batch_id, photo_path, photo_box)
         VALUES (?1, '1000000000000002', '200000000002', '2026-11-21T08:00:00', 900,
                 '/p/a.jpg', '1,2,3,4,0')",
        [&product],
    )
    .unwrap();
    (dir, store)
}

fn places(found: &[konter::store::intake::VoucherDetail]) -> Vec<(&str, &str)> {
    found.iter().map(|v| (v.place, v.status.as_str())).collect()
}

#[test]
fn photo_lookup_finds_ledger_and_every_staged_photo_card_once() {
    let (_dir, s) = store_with_rows();
    let f = |q: &str| s.find_photo_vouchers(q).unwrap();
    assert_eq!(places(&f("200000000001")), [("staging", "inserted")]);
    assert_eq!(places(&f("1000-0000-0000-0002")), [("ledger", "stock")]);
    assert_eq!(places(&f("200000000003")), [("staging", "new")]);
    assert!(f("200000000004").is_empty(), "dropped cards are gone");
    assert!(f("200000000005").is_empty(), "list rows have no photo");
    // F3's search also finds the list row (by a scan of the list rows).
    let all = s.find_vouchers("200000000005").unwrap();
    assert_eq!(places(&all), [("staging", "new")]);
    assert_eq!(all[0].photo_path, None);
    assert_eq!(
        places(&s.find_vouchers("200000000003").unwrap()),
        [("staging", "new")]
    );
    assert!(s.find_vouchers("999999999999").unwrap().is_empty());
}

/// The numbers of staged photo cards follow the rows: a fixed serial is found under its new
/// number, a photo taken away (or its row deleted) is no longer found.
#[test]
fn staged_photo_numbers_follow_edits_and_deletes() {
    let (_dir, s) = store_with_rows();
    let c = s.conn();
    let id = (900i64 << 32) + 3;
    c.execute(
        "UPDATE staging_rows SET serial = '200000000033' WHERE id = ?1",
        [id],
    )
    .unwrap();
    assert!(s.find_photo_vouchers("200000000003").unwrap().is_empty());
    assert_eq!(s.find_photo_vouchers("200000000033").unwrap().len(), 1);
    c.execute("DELETE FROM staging_photos WHERE row_id = ?1", [id])
        .unwrap();
    assert!(s.find_photo_vouchers("200000000033").unwrap().is_empty());
    let id1 = (900i64 << 32) + 1;
    c.execute("DELETE FROM staging_rows WHERE id = ?1", [id1])
        .unwrap();
    assert!(s.find_photo_vouchers("200000000001").unwrap().is_empty());
    let left: i64 = c
        .query_row("SELECT count(*) FROM staging_photo_numbers", [], |r| {
            r.get(0)
        })
        .unwrap();
    let photos: i64 = c
        .query_row("SELECT count(*) FROM staging_photos", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, photos);
}

#[test]
fn the_photo_lookup_uses_indexes_only() {
    let (_dir, s) = store_with_rows();
    for sql in [
        konter::store::intake::FIND_STAGED_PHOTOS_SQL,
        "SELECT * FROM vouchers v WHERE v.serial = ?1",
        "SELECT * FROM vouchers v WHERE v.code = ?1",
    ] {
        let plan: Vec<String> = s
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(["1"], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let plan = plan.join("; ");
        assert!(plan.contains("INDEX"), "{sql}: {plan}");
        // Only the small union of row ids (n) may be walked; no table is scanned.
        assert!(
            plan.split("; ")
                .filter(|step| step.starts_with("SCAN"))
                .all(|step| step == "SCAN n"),
            "{sql}: {plan}"
        );
    }
}
