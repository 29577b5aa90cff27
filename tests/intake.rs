//! Voucher intake on a real SQLite file: the sample lists give exactly their stated verdicts,
//! and every bad input is refused without leaving a partial batch.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;
use konter::domain::voucher::{Field, Problem, RawVoucher};
use konter::import::ImportError;
use konter::jobs::intake::{import_file, ImportRequest, IntakeError};
use konter::store::intake::{insert_status, RowFilter};
use konter::store::Store;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/vouchers/csv")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

/// A store on a real file with the demo products (and the demo ledger and batch).
fn store(dir: &Path) -> Store {
    let mut s = Store::open(&dir.join("konter.db")).unwrap();
    s.seed_demo(today(), "tester").unwrap();
    s
}

fn import(
    s: &mut Store,
    path: &Path,
    product: Option<&str>,
) -> Result<konter::store::intake::StageOutcome, IntakeError> {
    import_file(
        s,
        &ImportRequest {
            path,
            product,
            created_by: "tester",
            today: today(),
            dry_run: false,
        },
        &AtomicBool::new(false),
        &mut |_, _| {},
    )
}

fn batch_count(s: &Store) -> i64 {
    s.conn()
        .query_row("SELECT count(*) FROM staging_batches", [], |r| r.get(0))
        .unwrap()
}

fn row_count(s: &Store) -> i64 {
    s.conn()
        .query_row("SELECT count(*) FROM staging_rows", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn valid_samples_are_taken_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    for (file, product, n) in [
        ("valid_comma.csv", None, 40),
        ("excel_semicolon_bom.csv", None, 30),
        ("excel_unicode_text.txt", None, 20),
        ("plain_list.txt", Some("TSELVD5"), 20),
    ] {
        let out = import(&mut s, &samples().join(file), product).unwrap();
        let bad: Vec<_> = out.results.iter().filter(|r| r.verdict.is_some()).collect();
        assert!(bad.is_empty(), "{file}: {bad:?}");
        assert_eq!((out.accepted, out.rejected), (n, 0), "{file}");
        for r in &out.results {
            assert_eq!(r.voucher.code.len(), 16, "{file} line {}", r.line);
            assert_eq!(r.voucher.serial.len(), 12, "{file} line {}", r.line);
        }
    }
    // The semicolon file's day-first dates come out ISO.
    let out = s
        .batch_rows(3, &RowFilter::default(), 0, 1)
        .unwrap()
        .remove(0);
    assert_eq!(out.expiry, "2028-08-05");
}

#[test]
fn bad_mixed_gives_the_expected_verdict_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(samples().join("bad_mixed.expected.json")).unwrap(),
    )
    .unwrap();
    let out = import(&mut s, &samples().join("bad_mixed.csv"), None).unwrap();
    let lines = expected["lines"].as_array().unwrap();
    assert_eq!(out.results.len(), lines.len(), "blank lines are skipped");
    for (want, got) in lines.iter().zip(&out.results) {
        let line = want["line"].as_u64().unwrap();
        let verdict = want["verdict"].as_str().unwrap();
        assert_eq!(got.line, line);
        match verdict {
            "ok" | "ok_trimmed" | "ok_quoted" => {
                assert_eq!(got.verdict, None, "line {line}")
            }
            v => {
                let g = got
                    .verdict
                    .as_ref()
                    .unwrap_or_else(|| panic!("line {line} accepted"));
                assert_eq!(g.code(), v, "line {line}");
                assert!(!g.message(konter::i18n::Lang::Id).is_empty());
            }
        }
    }
    // Spaces inside a quoted code are dropped.
    assert_eq!(out.results[10].voucher.code, "7859863651684951");
    assert_eq!(out.results[8].voucher.product, "XLVD5");
    // Nothing reached the ledger.
    let n: i64 = s
        .conn()
        .query_row(
            "SELECT count(*) FROM vouchers WHERE code = '7859863651684951'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn duplicates_against_staging_and_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let f = samples().join("valid_comma.csv");
    import(&mut s, &f, None).unwrap();
    let again = import(&mut s, &f, None).unwrap();
    assert_eq!(again.accepted, 0);
    assert!(again
        .results
        .iter()
        .all(|r| r.verdict.as_ref().unwrap().problem == Problem::DuplicateInStaging));
    // Confirm the first batch; a third import now finds them in the ledger.
    let first = s
        .batches(10)
        .unwrap()
        .into_iter()
        .find(|b| b.file_name.as_deref() == Some("valid_comma.csv") && b.ok == 40)
        .unwrap();
    let c = s
        .confirm_to_ledger(first.id, "tester", &AtomicBool::new(false), &mut |_, _| {})
        .unwrap();
    assert_eq!(c.inserted, 40);
    let third = import(&mut s, &f, None).unwrap();
    assert!(third
        .results
        .iter()
        .all(|r| r.verdict.as_ref().unwrap().problem == Problem::DuplicateInLedger));
}

#[test]
fn confirm_is_exactly_once_and_stock_moves() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let before: i64 = s
        .stock_by_product(today(), 30)
        .unwrap()
        .iter()
        .map(|r| r.in_stock)
        .sum();
    let out = import(&mut s, &samples().join("bad_mixed.csv"), None).unwrap();
    let b = out.batch_id.unwrap();
    let mut seen = Vec::new();
    let c = s
        .confirm_to_ledger(b, "tester", &AtomicBool::new(false), &mut |d, t| {
            seen.push((d, t))
        })
        .unwrap();
    assert_eq!((c.inserted, c.already, c.rejected), (3, 0, 0));
    assert_eq!(seen.last(), Some(&(3, 3)));
    let after: i64 = s
        .stock_by_product(today(), 30)
        .unwrap()
        .iter()
        .map(|r| r.in_stock)
        .sum();
    assert_eq!(after, before + 3);
    // A retry finds nothing left to insert.
    let c = s
        .confirm_to_ledger(b, "tester", &AtomicBool::new(false), &mut |_, _| {})
        .unwrap();
    assert_eq!(c, Default::default());
    let summary = s.batch(b).unwrap();
    assert_eq!((summary.inserted, summary.errors), (3, 8));
    // Rows the ledger took now show as inserted; rows with errors stay staged.
    let errs = s
        .batch_rows(
            b,
            &RowFilter {
                errors_only: true,
                search: None,
            },
            0,
            100,
        )
        .unwrap();
    assert_eq!(errs.len(), 8);
    assert!(errs.iter().all(|r| r.insert_status == insert_status::NEW));
}

#[test]
fn a_row_already_in_the_ledger_is_not_inserted_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let out = import(&mut s, &samples().join("valid_comma.csv"), None).unwrap();
    let b = out.batch_id.unwrap();
    // Simulate a crash after the ledger took one row but before staging recorded it.
    let r = &out.results[0].voucher;
    s.conn()
        .execute(
            "INSERT INTO vouchers(product, code, serial, entry_at) VALUES (?1, ?2, ?3, 'x')",
            [&r.product, &r.code, &r.serial],
        )
        .unwrap();
    let c = s
        .confirm_to_ledger(b, "tester", &AtomicBool::new(false), &mut |_, _| {})
        .unwrap();
    assert_eq!((c.inserted, c.already), (39, 1));
    let n: i64 = s
        .conn()
        .query_row(
            "SELECT count(*) FROM vouchers WHERE code = ?1",
            [&r.code],
            |x| x.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn conflicting_row_is_rejected_with_reason_and_stays_staged() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let out = import(&mut s, &samples().join("valid_comma.csv"), None).unwrap();
    let b = out.batch_id.unwrap();
    let r = &out.results[5].voucher;
    // Another voucher took this code after staging.
    s.conn()
        .execute(
            "INSERT INTO vouchers(product, code, serial, entry_at) VALUES (?1, ?2, '999999999999', 'x')",
            [&r.product, &r.code],
        )
        .unwrap();
    let c = s
        .confirm_to_ledger(b, "tester", &AtomicBool::new(false), &mut |_, _| {})
        .unwrap();
    assert_eq!((c.inserted, c.rejected), (39, 1));
    let row = s.staged_row(b, out.results[5].line).unwrap();
    assert_eq!(row.insert_status, insert_status::REJECTED);
    assert!(row.insert_reason.unwrap().contains("999999999999"));
}

#[test]
fn cancelled_confirm_inserts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let out = import(&mut s, &samples().join("valid_comma.csv"), None).unwrap();
    let err = s
        .confirm_to_ledger(
            out.batch_id.unwrap(),
            "t",
            &AtomicBool::new(true),
            &mut |_, _| {},
        )
        .unwrap_err();
    assert!(matches!(err, konter::store::StoreError::Cancelled));
    assert_eq!(s.batch(out.batch_id.unwrap()).unwrap().inserted, 0);
}

#[test]
fn edit_revalidates_and_drop_can_be_undone() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let out = import(&mut s, &samples().join("bad_mixed.csv"), None).unwrap();
    let b = out.batch_id.unwrap();
    // Line 6 has a 7-digit code: fix it.
    let row = s
        .edit_row(b, 6, Field::Code, "1234 5678 1234 5678", today())
        .unwrap();
    assert_eq!(row.verdict, None);
    assert_eq!(row.code, "1234567812345678");
    // Line 4 repeats line 2; dropping line 2 makes line 4 the valid one.
    assert!(s.staged_row(b, 4).unwrap().verdict.is_some());
    s.set_dropped(b, 2, true, today()).unwrap();
    assert_eq!(s.staged_row(b, 4).unwrap().verdict, None);
    // Undo: line 2 comes back, and now line 4 is the repeat again... of line 2, which is first.
    s.set_dropped(b, 2, false, today()).unwrap();
    assert_eq!(s.staged_row(b, 2).unwrap().verdict, None);
    assert_eq!(
        s.staged_row(b, 4).unwrap().verdict.unwrap().problem,
        Problem::DuplicateInFile
    );
    // A bad edit is caught.
    let row = s
        .edit_row(b, 10, Field::Expiry, "30/02/2028", today())
        .unwrap();
    assert_eq!(row.verdict.unwrap().problem, Problem::BadDate);
    // Editing to a product that does not exist.
    let row = s.edit_row(b, 9, Field::Product, "xlvd5", today()).unwrap();
    assert_eq!(row.verdict, None, "{row:?}");
    assert_eq!(row.product, "XLVD5");
}

#[test]
fn manual_form_flags_duplicates_before_adding() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let v = RawVoucher {
        product: Some("XLVD5".into()),
        code: Some("1111 2222 3333 4444".into()),
        serial: Some("123456789012".into()),
        expiry: Some("31/12/2027".into()),
    };
    assert_eq!(s.check_manual(None, &v, today()).unwrap().1, None);
    let (b, row) = s.add_manual(None, "kasir1", &v, today()).unwrap();
    assert_eq!(row.verdict, None);
    // Typing the same voucher again is flagged before Enter.
    let (_, verdict) = s.check_manual(Some(b), &v, today()).unwrap();
    assert_eq!(verdict.unwrap().problem, Problem::DuplicateInFile);
    // A typo in progress shows its problem as well.
    let short = RawVoucher {
        code: Some("1111".into()),
        ..v.clone()
    };
    assert_eq!(
        s.check_manual(Some(b), &short, today())
            .unwrap()
            .1
            .unwrap()
            .problem,
        Problem::Length
    );
    assert_eq!(s.batch(b).unwrap().total, 1);
}

#[test]
fn find_by_serial_or_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let out = import(&mut s, &samples().join("valid_comma.csv"), None).unwrap();
    let v = out.results[0].voucher.clone();
    let found = s.find_vouchers(&v.serial).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].place, found[0].status.as_str()),
        ("staging", "new")
    );
    s.confirm_to_ledger(
        out.batch_id.unwrap(),
        "t",
        &AtomicBool::new(false),
        &mut |_, _| {},
    )
    .unwrap();
    let spaced = format!("{} {}", &v.code[..8], &v.code[8..]);
    let found = s.find_vouchers(&spaced).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].place, found[0].status.as_str()),
        ("ledger", "stock")
    );
    assert_eq!(found[0].batch_id, out.batch_id);
    assert!(s.find_vouchers("000000000000").unwrap().is_empty());
}

#[test]
fn windowed_rows_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let b = import(&mut s, &samples().join("bad_mixed.csv"), None)
        .unwrap()
        .batch_id
        .unwrap();
    let all = RowFilter::default();
    assert_eq!(s.batch_row_count(b, &all).unwrap(), 11);
    let errs = RowFilter {
        errors_only: true,
        search: None,
    };
    assert_eq!(s.batch_row_count(b, &errs).unwrap(), 8);
    let win = s.batch_rows(b, &errs, 2, 3).unwrap();
    assert_eq!(
        win.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
    assert_eq!(s.batch_row_index(b, &errs, 7).unwrap(), 4);
    let search = RowFilter {
        errors_only: false,
        search: Some("7859 8636".into()),
    };
    assert_eq!(s.batch_rows(b, &search, 0, 10).unwrap()[0].line, 12);
}

/// Each bad file gets its own clear error and leaves no batch and no rows.
#[test]
fn bad_files_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let (b0, r0) = (batch_count(&s), row_count(&s));
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("empty.csv"), b"").unwrap();
    std::fs::write(
        p("header.csv"),
        b"kode_produk,kode_voucher,serial,kadaluarsa\r\n",
    )
    .unwrap();
    std::fs::write(p("photo.jpg"), b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00").unwrap();
    let mut noise = Vec::new();
    for i in 0..20_000u32 {
        noise.push((i.wrapping_mul(2654435761) >> 24) as u8);
    }
    std::fs::write(p("noise.bin"), &noise).unwrap();
    let mut nul =
        b"kode_produk,kode_voucher,serial\nXLVD5,0119520348050355,176952060195\n".to_vec();
    nul.extend(b"XLVD5,01195203\x0048050356,176952060196\n");
    std::fs::write(p("nul.csv"), &nul).unwrap();
    let mut long = b"kode_produk,kode_voucher,serial\n".to_vec();
    long.extend(std::iter::repeat_n(b'1', 200 * 1024));
    long.push(b'\n');
    std::fs::write(p("long.csv"), &long).unwrap();
    // 1 GB without writing 1 GB: a sparse file.
    let big = std::fs::File::create(p("big.csv")).unwrap();
    big.set_len(1 << 30).unwrap();
    std::fs::create_dir(p("folder.csv")).unwrap();

    type Expect = fn(&ImportError) -> bool;
    let cases: Vec<(&str, Expect)> = vec![
        ("missing.csv", |e| matches!(e, ImportError::Missing(_))),
        ("folder.csv", |e| matches!(e, ImportError::IsDirectory(_))),
        ("empty.csv", |e| matches!(e, ImportError::Empty)),
        ("header.csv", |e| matches!(e, ImportError::HeaderOnly)),
        ("photo.jpg", |e| matches!(e, ImportError::Binary { .. })),
        ("noise.bin", |e| matches!(e, ImportError::Binary { .. })),
        ("nul.csv", |e| matches!(e, ImportError::NulByte { line: 3 })),
        ("long.csv", |e| {
            matches!(e, ImportError::LineTooLong { line: 2, .. })
        }),
        ("big.csv", |e| matches!(e, ImportError::TooBig { .. })),
    ];
    for (name, want) in cases {
        match import(&mut s, &p(name), None) {
            Err(IntakeError::Import(e)) => {
                assert!(want(&e), "{name}: {e:?}");
                assert!(e.to_string().contains(':'), "{name}: {e}");
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(
            (batch_count(&s), row_count(&s)),
            (b0, r0),
            "{name} left rows"
        );
    }
}

#[test]
fn cancel_during_staging_leaves_no_partial_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let (b0, r0) = (batch_count(&s), row_count(&s));
    let f = dir.path().join("many.csv");
    let mut text = String::from("kode_produk,kode_voucher,serial,kadaluarsa\n");
    for i in 0..20_000u64 {
        text.push_str(&format!(
            "XLVD5,{:016},{:012},2028-01-01\n",
            10_000_000 + i,
            500_000_000_000u64 + i
        ));
    }
    std::fs::write(&f, text).unwrap();
    let cancel = AtomicBool::new(false);
    let err = import_file(
        &mut s,
        &ImportRequest {
            path: &f,
            product: None,
            created_by: "t",
            today: today(),
            dry_run: false,
        },
        &cancel,
        // Ctrl-C arrives in the middle of staging.
        &mut |done, _| {
            if done > 5000 {
                cancel.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        },
    )
    .unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    assert_eq!((batch_count(&s), row_count(&s)), (b0, r0));
}

#[test]
fn dry_run_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let (b0, r0) = (batch_count(&s), row_count(&s));
    let out = import_file(
        &mut s,
        &ImportRequest {
            path: &samples().join("bad_mixed.csv"),
            product: None,
            created_by: "t",
            today: today(),
            dry_run: true,
        },
        &AtomicBool::new(false),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!((out.accepted, out.rejected, out.batch_id), (3, 8, None));
    assert_eq!((batch_count(&s), row_count(&s)), (b0, r0));
}

/// Every staged row's id is its batch and line (`batch << 32 | line`), whichever way it was
/// written: lines after blank lines, rows with a verdict written after the valid ones, and
/// lines after a header. The writer lets SQLite assign consecutive ids itself and checks it.
#[test]
fn staged_row_ids_are_batch_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let f = dir.path().join("gaps.csv");
    let mut text = String::from("kode_produk,kode_voucher,serial,kadaluarsa\n");
    let mut expected = Vec::new();
    let mut line = 1;
    for i in 0..300u64 {
        // Blank lines now and then, and a bad row every 7th line.
        if i % 50 == 10 {
            text.push_str("\n\n");
            line += 2;
        }
        line += 1;
        let code = if i % 7 == 3 {
            "12AB".to_string()
        } else {
            format!("{:016}", 5_100_000_000_000_000u64 + i)
        };
        text.push_str(&format!(
            "XLVD5,{code},{:012},2028-01-01\n",
            600_000_000_000u64 + i
        ));
        expected.push((line, i % 7 == 3));
    }
    std::fs::write(&f, text).unwrap();
    let out = import(&mut s, &f, None).unwrap();
    let batch = out.batch_id.unwrap();
    let mut st = s
        .conn()
        .prepare(
            "SELECT id, batch_id, line, error_kind IS NOT NULL FROM staging_rows
             WHERE id BETWEEN (?1 << 32) AND (?1 << 32) + 4294967295 ORDER BY id",
        )
        .unwrap();
    let got: Vec<(i64, i64, u64, bool)> = st
        .query_map([batch], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    drop(st);
    assert_eq!(got.len(), expected.len());
    for ((id, b, l, bad), (want_line, want_bad)) in got.iter().zip(&expected) {
        assert_eq!((*b, *l, *bad), (batch, *want_line, *want_bad));
        assert_eq!(*id, (batch << 32) + *want_line as i64);
    }
    // A second list goes to its own range, after the first.
    let again = dir.path().join("again.csv");
    std::fs::write(
        &again,
        "kode_produk,kode_voucher,serial,kadaluarsa\nXLVD5,5200000000000001,700000000001,2028-01-01\n",
    )
    .unwrap();
    let b2 = import(&mut s, &again, None).unwrap().batch_id.unwrap();
    let id: i64 = s
        .conn()
        .query_row(
            "SELECT id FROM staging_rows WHERE serial = '700000000001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(id, (b2 << 32) + 2);
}
