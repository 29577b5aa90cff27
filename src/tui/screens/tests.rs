//! F2 and F3 driven by key events on a real SQLite file, snapshotted at 80x24 and 120x40.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::store::Store;
use crate::tui::action::Action;
use crate::tui::data::Db;
use crate::tui::screen::Screen;
use crate::tui::screens::intake::{BatchView, IntakeMsg, IntakeScreen, RowError, RowView};
use crate::tui::screens::stock::StockScreen;
use crate::tui::testing::{test_now, Harness};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/vouchers/csv")
}

fn config() -> Config {
    let mut c = Config::default();
    c.shop.user = "kasir1".into();
    c
}

/// A store with the demo products, ledger and staged batch, as `konter demo` has it.
fn demo_db(dir: &Path) -> Arc<Db> {
    let path = dir.join("konter.db");
    let mut s = Store::open(&path).unwrap();
    s.seed_demo(test_now().date(), "kasir1").unwrap();
    drop(s);
    Arc::new(Db::open(&path).unwrap())
}

fn screens(c: &Config) -> Vec<Box<dyn Screen>> {
    vec![
        Box::new(IntakeScreen::new(c).with_base_dir(samples())),
        Box::new(StockScreen::new(c)),
    ]
}

async fn harness(dir: &Path, w: u16, h: u16) -> Harness {
    let c = config();
    let mut t = Harness::new(c.clone(), Some(demo_db(dir)), screens(&c), w, h);
    t.settle().await;
    t
}

/// Entry times come from the clock of the machine that ran the seed: masked, width kept.
pub(super) fn mask_times(s: &str) -> String {
    let b: Vec<char> = s.chars().collect();
    let pat = "dddd-dd-dd dd:dd:dd";
    let p: Vec<char> = pat.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let m = i + p.len() <= b.len()
            && p.iter().zip(&b[i..i + p.len()]).all(|(pc, c)| {
                if *pc == 'd' {
                    c.is_ascii_digit()
                } else {
                    pc == c
                }
            });
        if m {
            out.push_str("YYYY-MM-DD hh:mm:ss");
            i += p.len();
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Opens bad_mixed.csv through the file prompt, completing its name with Tab.
async fn import_bad_mixed(t: &mut Harness) {
    t.keys("a");
    t.keys("bad_m<Tab>");
    t.settle().await;
    let s = t.screen();
    assert!(
        s.contains("bad_mixed.csv"),
        "Tab should complete the name:\n{s}"
    );
    t.keys("<Enter>");
    t.settle().await;
}

#[tokio::test]
async fn f2_staged_batch_with_errors() {
    for (w, h) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let mut t = harness(dir.path(), w, h).await;
        import_bad_mixed(&mut t).await;
        // Line 3 is the Excel-damaged serial: select it so its reason shows.
        t.keys("<Down>");
        t.expire_toasts();
        let s = t.screen();
        assert!(s.contains("bad_mixed.csv"), "{s}");
        assert!(
            s.contains("Excel mengubah serial"),
            "reason under the row:\n{s}"
        );
        insta::assert_snapshot!(format!("f2_batch_{w}x{h}"), s);

        t.keys("e");
        let s = t.screen();
        assert!(
            !s.lines()
                .any(|l| l.trim_end_matches('│').trim_end().ends_with(" ok")),
            "only wrong lines:\n{s}"
        );
        insta::assert_snapshot!(format!("f2_errors_only_{w}x{h}"), s);
    }
}

#[tokio::test]
async fn f2_confirm_dialog_names_the_count_and_inserts() {
    for (w, h) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let mut t = harness(dir.path(), w, h).await;
        import_bad_mixed(&mut t).await;
        t.expire_toasts();
        t.keys("C");
        let s = t.screen();
        insta::assert_snapshot!(format!("f2_confirm_{w}x{h}"), s);
        // The default is "Batal": Enter cancels.
        t.keys("<Enter>");
        t.settle().await;
        assert!(!t.screen().contains("Konfirmasi batch"));
        t.keys("C<Tab><Enter>");
        t.settle().await;
        let log: Vec<String> = t.app.messages().map(|m| m.text.clone()).collect();
        assert!(
            log.iter().any(|m| m.contains("voucher masuk ke stok")),
            "{log:?}"
        );
        let s = t.screen();
        assert!(s.contains(" 0 ok "), "{s}");
    }
}

#[tokio::test]
async fn f2_edit_fixes_a_line_and_drop_can_be_undone() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = harness(dir.path(), 120, 40).await;
    import_bad_mixed(&mut t).await;
    t.keys("e");
    let before = t.screen();
    let wrong_before = before.matches("salah").count();
    // Line 3: retype the serial that Excel destroyed.
    t.keys("<Enter>");
    let s = t.screen();
    assert!(s.contains("Ubah baris 3"), "{s}");
    t.keys("<C-u>623610921099<Enter>");
    t.settle().await;
    let log: Vec<String> = t.app.messages().map(|m| m.text.clone()).collect();
    assert!(log[0].contains("Baris 3 sudah benar"), "{log:?}");
    let s = t.screen();
    assert!(!s.contains("1.23457E+11"), "{s}");

    // Drop the selected wrong line, then undo.
    let selected = |s: &str| -> String {
        s.lines()
            .find(|l| l.contains('▶'))
            .map(|l| l.chars().take(60).collect())
            .unwrap_or_default()
    };
    let first = selected(&t.screen());
    t.keys("d");
    t.settle().await;
    let dropped = t.screen();
    assert!(!dropped.contains(&first), "{dropped}");
    t.keys("u");
    t.settle().await;
    let back = t.screen();
    assert!(back.contains(&first), "{back}");
    assert!(wrong_before > 0);
}

#[tokio::test]
async fn f2_form_flags_a_duplicate_before_enter() {
    for (w, h) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let mut t = harness(dir.path(), w, h).await;
        // A code and serial of bad_mixed line 2, once it is in the ledger.
        import_bad_mixed(&mut t).await;
        t.keys("C<Tab><Enter>");
        t.settle().await;
        t.keys("f");
        t.settle().await;
        // Product field: clear it and type XLVD5; then the code and serial of line 2.
        t.keys("<Up><C-u>XLVD5<Tab>0119 5203 4805 0355<Tab>176952060195<Tab>2028-05-15");
        t.settle().await;
        t.expire_toasts();
        let s = t.screen();
        assert!(s.contains("sudah ada di stok"), "duplicate flagged:\n{s}");
        insta::assert_snapshot!(format!("f2_form_{w}x{h}"), s);
        t.keys("<Enter>");
        t.settle().await;
        assert!(t.app.messages().next().unwrap().text.contains("sudah ada"));

        // A fresh voucher goes in with Enter.
        t.keys("<Up><Up><C-u>1111222233334444<Tab><C-u>111122223333");
        t.settle().await;
        t.keys("<Enter>");
        t.settle().await;
        let s = t.screen();
        assert!(s.contains("1 diketik"), "{s}");
        assert!(s.contains("1111 2222 3333 4444"), "{s}");
    }
}

#[tokio::test]
async fn f3_stock_and_search() {
    for (w, h) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let mut t = harness(dir.path(), w, h).await;
        t.keys("<F3>");
        t.settle().await;
        let s = t.screen();
        assert!(s.contains("TSELVD5"), "{s}");
        insta::assert_snapshot!(format!("f3_{w}x{h}"), s);

        // Put bad_mixed's good lines in, then find line 2's serial.
        t.keys("<F2>");
        t.settle().await;
        import_bad_mixed(&mut t).await;
        t.keys("C<Tab><Enter>");
        t.settle().await;
        t.keys("<F3>");
        t.settle().await;
        t.keys("/1769-5206-0195<Enter>");
        t.settle().await;
        t.expire_toasts();
        let s = mask_times(&t.screen());
        assert!(s.contains("bad_mixed.csv"), "{s}");
        assert!(s.contains("kasir1"), "{s}");
        insta::assert_snapshot!(format!("f3_search_{w}x{h}"), s);
        t.keys("<Esc>/000000000000<Enter>");
        t.settle().await;
        let log = t.app.messages().next().unwrap().text.clone();
        assert!(log.contains("Tidak ada voucher"), "{log}");
    }
}

#[tokio::test]
async fn f2_help_lists_the_screen_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = harness(dir.path(), 80, 24).await;
    t.keys("<F1>");
    let s = t.screen();
    assert!(s.contains("hanya baris salah"), "{s}");
    assert!(s.contains("(minta konfirmasi)"), "{s}");
    insta::assert_snapshot!("f2_help_80x24", s);
}

/// 100k staged rows: the table builds only its window, so a frame stays fast anywhere.
#[tokio::test]
async fn f2_stays_fast_with_100k_rows() {
    let c = config();
    let mut t = Harness::new(c.clone(), None, screens(&c), 120, 40);
    let rows: Vec<RowView> = (1..=100_000i64)
        .map(|i| RowView {
            line: i + 1,
            product: "TSELVD5".into(),
            code: format!("{:016}", 5_000_000_000_000_000i64 + i),
            serial: format!("{:012}", 700_000_000_000i64 + i),
            expiry: "2027-12-31".into(),
            error: (i % 1000 == 0).then(|| RowError {
                field: "code".into(),
                kind: "ganda di file".into(),
                detail: "kode sama dengan baris 2".into(),
            }),
            dropped: false,
            insert_status: 0,
            insert_reason: None,
            photo: None,
            photo_box: None,
            card: None,
        })
        .collect();
    t.app
        .dispatch(Action::Intake(IntakeMsg::Loaded(Arc::new(BatchView {
            id: 7,
            source: "csv".into(),
            file_name: Some("besar.csv".into()),
            created_by: "kasir1".into(),
            created_at: "2026-11-21T09:00:00".into(),
            rows,
        }))));
    // Each frame builds only the visible window; timed per frame (a debug build on a shared CI
    // machine, so the bound is generous; building all 100k rows per frame would blow it).
    let frame = |t: &mut Harness| {
        let start = Instant::now();
        let s = t.screen();
        let took = start.elapsed();
        assert!(took.as_millis() < 400, "a frame took {took:?}");
        s
    };
    frame(&mut t);
    t.keys("<End>");
    let s = frame(&mut t);
    assert!(s.contains("baris 100000 / 100000"), "{s}");
    t.keys("e");
    let s = frame(&mut t);
    assert!(s.contains("baris 100 / 100"), "{s}");
    t.keys("<Esc>/5000000000099999<Enter>");
    let s = frame(&mut t);
    assert!(s.contains("baris 1 / 1"), "{s}");
    assert!(s.contains("5000 0000 0009 9999"), "{s}");
}

#[tokio::test]
async fn f2_prompt_explains_bad_paths_and_asks_for_the_product() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = harness(dir.path(), 80, 24).await;
    t.keys("anope.csv<Enter>");
    t.settle().await;
    let s = t.screen();
    assert!(s.contains("Impor file CSV/TXT"), "prompt reopened:\n{s}");
    assert!(s.contains("tidak ada"), "{s}");

    // A code|serial list has no product column: the prompt asks for it, then imports.
    t.keys("<C-u>plain<Tab>");
    t.settle().await;
    t.keys("<Enter>");
    t.settle().await;
    let s = t.screen();
    assert!(s.contains("tidak punya kolom produk"), "{s}");
    t.keys("tselvd5<Enter>");
    t.settle().await;
    let s = t.screen();
    assert!(s.contains("plain_list.txt"), "{s}");
    assert!(s.contains("TSELVD5"), "{s}");
}

#[tokio::test]
async fn f2_form_counts_digits_while_typing() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = harness(dir.path(), 80, 24).await;
    t.keys("f");
    t.settle().await;
    t.keys("<Up><C-u>TSELVD5<Tab>1234 5678 9012");
    t.settle().await;
    let s = t.screen();
    assert!(s.contains("12/16 digit"), "{s}");
    t.keys("34567<Tab>1<Tab>2027-01-01");
    t.settle().await;
    let s = t.screen();
    assert!(s.contains("✗ 17/16 digit") || s.contains("✗ salah"), "{s}");
    assert!(s.contains("panjang kode voucher salah"), "{s}");
}

#[tokio::test]
async fn f2_earlier_batches_can_be_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = harness(dir.path(), 80, 24).await;
    import_bad_mixed(&mut t).await;
    assert!(t.screen().contains("Batch #2  bad_mixed.csv"));
    t.keys("b");
    t.settle().await;
    let s = t.screen();
    assert!(s.contains("Batch sebelumnya"), "{s}");
    assert!(s.contains("#2") && s.contains("#1"), "{s}");
    // Newest first: #1 is the second line.
    t.keys("<Down><Enter>");
    t.settle().await;
    let s = t.screen();
    assert!(s.contains("Batch #1  kiriman_distributor.csv"), "{s}");
}
