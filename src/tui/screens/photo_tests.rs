//! F2 and F3 with cards read off photos: the review-first preview with the card's picture
//! (half blocks on the test backend) at 80x24 and 120x40, checking a field against the photo,
//! and the photo reading job's cancel.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::config::Config;
use crate::domain::card::ProductMatch;
use crate::domain::voucher::RawVoucher;
use crate::store::intake::{NewBatch, Source};
use crate::store::photos::CardLine;
use crate::store::Store;
use crate::tui::data::Db;
use crate::tui::screen::Screen;
use crate::tui::screens::intake::IntakeScreen;
use crate::tui::screens::stock::StockScreen;
use crate::tui::testing::{test_now, Harness};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn photos() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/vouchers/photos")
}

fn config() -> Config {
    let mut c = Config::default();
    c.shop.user = "kasir1".into();
    c
}

/// Three cards of sample photo 0003.jpg (boxes as the reader finds them): one read cleanly,
/// one whose serial the reader was unsure of, one with a brand no product has. The path is
/// relative to the crate (the tests' working folder), so snapshots hold the same text anywhere.
fn cards() -> Vec<CardLine> {
    let photo = "../shared/data/vouchers/photos/0003.jpg".to_string();
    assert!(Path::new(&photo).is_file(), "tests run in the crate folder");
    let card = |product: &str, code: &str, serial: &str, bx: &str, reasons: &[&str]| CardLine {
        raw: RawVoucher {
            product: Some(product.into()),
            code: Some(code.into()),
            serial: Some(serial.into()),
            expiry: Some("2027-07-10".into()),
        },
        photo_path: photo.clone(),
        photo_box: bx.into(),
        brand: Some("XL".into()),
        confidence: if reasons.is_empty() { 0.95 } else { 0.6 },
        needs_review: !reasons.is_empty(),
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
        product_match: ProductMatch::Mapped {
            product: product.into(),
        },
    };
    let mut unknown = card(
        "SMARTFREN?",
        "5727357934274951",
        "915005082059",
        "880,686,666,410,-0.6",
        &[],
    );
    unknown.brand = Some("SMARTFREN".into());
    unknown.product_match = ProductMatch::Unknown {
        brand: "SMARTFREN".into(),
    };
    vec![
        card(
            "XLVD5",
            "6270304616669412",
            "333455127203",
            "63,41,690,488,2.9",
            &[],
        ),
        card(
            "XLVD5",
            "0549303363283266",
            "534613096362",
            "847,55,690,481,-5.3",
            &["serial readings disagree"],
        ),
        unknown,
    ]
}

/// The demo store plus a batch staged from photo cards (the newest, so F2 opens it).
fn photo_db(dir: &Path) -> Arc<Db> {
    let path = dir.join("konter.db");
    let mut s = Store::open(&path).unwrap();
    s.seed_demo(test_now().date(), "kasir1").unwrap();
    s.stage_cards(
        &NewBatch {
            source: Source::Image,
            file_name: Some("0003.jpg"),
            created_by: "kasir1",
            has_expiry: true,
        },
        &cards(),
        test_now().date(),
        false,
        &AtomicBool::new(false),
    )
    .unwrap();
    drop(s);
    Arc::new(Db::open(&path).unwrap())
}

fn screens(c: &Config) -> Vec<Box<dyn Screen>> {
    vec![
        Box::new(IntakeScreen::new(c).with_base_dir(photos())),
        Box::new(StockScreen::new(c)),
    ]
}

async fn harness(db: Arc<Db>, w: u16, h: u16) -> Harness {
    let c = config();
    let mut t = Harness::new(c.clone(), Some(db), screens(&c), w, h);
    t.settle().await;
    t
}

#[tokio::test]
async fn f2_photo_batch_puts_review_first_with_the_card_beside() {
    for (w, h) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let mut t = harness(photo_db(dir.path()), w, h).await;
        if w < 110 {
            // 80 columns: the picture is a toggle.
            t.keys("v");
        }
        t.settle().await;
        t.expire_toasts();
        let s = t.screen();
        assert!(s.contains("(image, 3"), "the photo batch is open:\n{s}");
        // The card that needs review is the first row, marked for a look.
        let first = s
            .lines()
            .find(|l| l.contains("▶"))
            .unwrap_or_else(|| panic!("a selected row:\n{s}"));
        assert!(first.contains("0549"), "review first:\n{s}");
        assert!(s.contains("cek foto"), "review status:\n{s}");
        assert!(
            s.contains('▀') || s.contains('▄'),
            "the card's picture:\n{s}"
        );
        assert!(s.contains("0003.jpg"), "the photo's name:\n{s}");
        insta::assert_snapshot!(format!("f2_photos_{w}x{h}"), s);
        // Editing a card keeps its picture in sight, the flagged field marked.
        t.keys("<Enter>");
        let s = t.screen();
        assert!(s.contains("? cek"), "{s}");
        assert!(
            s.contains('▀') || s.contains('▄'),
            "the card's picture:\n{s}"
        );
        insta::assert_snapshot!(format!("f2_photo_edit_{w}x{h}"), s);
        t.keys("<Esc>");
    }
}

#[tokio::test]
async fn checking_the_flagged_field_clears_the_review_and_revalidates() {
    let dir = tempfile::tempdir().unwrap();
    let db = photo_db(dir.path());
    let mut t = harness(db.clone(), 120, 40).await;
    // Open the flagged card; Ctrl+Y on the code (not flagged) leaves the flag.
    t.keys("<Enter>");
    let s = t.screen();
    assert!(s.contains("? cek"), "the flagged field is marked:\n{s}");
    t.keys("<Up><C-y><Enter>");
    t.settle().await;
    let batch = db.with(|st| Ok(st.batches(1)?[0].id)).unwrap();
    let reviews = db.with(|st| st.card_reviews(batch)).unwrap();
    assert!(reviews[1].needs_review(), "code checked, serial still open");
    // Now the serial: the flag clears and the row leaves the top.
    t.keys("<Home><Enter><C-y><Enter>");
    t.settle().await;
    let reviews = db.with(|st| st.card_reviews(batch)).unwrap();
    assert!(!reviews[1].needs_review());
    t.expire_toasts();
    let s = t.screen();
    assert!(!s.contains("cek foto"), "no card left to review:\n{s}");
    // Fixing the unknown product re-validates the row.
    t.keys("<End><Enter>");
    t.keys(&"<BS>".repeat(12));
    t.keys("XLVD5<Enter>");
    t.settle().await;
    let row = db.with(|st| st.staged_row(batch, 3)).unwrap();
    assert_eq!(row.product, "XLVD5");
    assert_eq!(row.verdict, None, "valid once the product is known");
}

#[tokio::test]
async fn f3_shows_the_card_of_a_voucher_from_a_photo() {
    for (w, h) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let mut t = harness(photo_db(dir.path()), w, h).await;
        t.keys("<F3>");
        t.settle().await;
        t.keys("/333455127203<Enter>");
        t.settle().await;
        t.expire_toasts();
        let s = t.screen();
        assert!(s.contains("0003.jpg"), "the photo path:\n{s}");
        assert!(
            s.contains('▀') || s.contains('▄'),
            "the card's picture:\n{s}"
        );
        insta::assert_snapshot!(format!("f3_photo_{w}x{h}"), super::tests::mask_times(&s));
    }
}

/// The photo prompt completes photo names; a folder without photos gets its verdict and the
/// prompt again.
#[tokio::test]
async fn photo_prompt_completes_and_refuses_a_folder_without_photos() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("notes.txt"), "x").unwrap();
    let mut t = harness(photo_db(dir.path()), 80, 24).await;
    t.keys("p");
    t.keys("000<Tab>");
    t.settle().await;
    let s = t.screen();
    assert!(s.contains("0000.jpg") && s.contains("0001.jpg"), "{s}");
    t.keys(&"<BS>".repeat(10));
    t.keys(&format!("{}<Enter>", empty.path().display()));
    t.settle().await;
    let s = t.screen();
    if cfg!(feature = "ocr") {
        assert!(s.contains("Tidak ada foto di sana"), "{s}");
    } else {
        assert!(s.contains("without OCR"), "{s}");
    }
}

/// Cancel while photos are read: the cards of photos already read are kept as a batch, or,
/// when none was read yet, nothing is kept; either way no photo is half staged.
#[cfg(feature = "ocr")]
#[tokio::test]
async fn cancel_keeps_what_was_read_and_nothing_half_done() {
    let dir = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    for n in ["0000.jpg", "0001.jpg", "0004.jpg", "0006.jpg"] {
        std::fs::copy(photos().join(n), src.path().join(n)).unwrap();
    }
    let db = photo_db(dir.path());
    let before = db.with(|st| st.batches(100)).unwrap().len();
    let mut t = harness(db.clone(), 120, 40).await;
    std::fs::write(src.path().join("notes.txt"), "not picked by the pattern").unwrap();
    t.keys("p");
    t.keys(&format!("{}/*.jpg<Enter>", src.path().display()));
    let s = t.screen();
    assert!(s.contains("x/Esc"), "the stop key is offered:\n{s}");
    t.keys("x");
    // The photos under way are finished first (OCR in a debug build on a busy machine can
    // take longer than settle's 10 s).
    let ended = t
        .wait_until(std::time::Duration::from_secs(180), |app| {
            app.jobs.is_empty()
        })
        .await;
    assert!(ended, "the reading job ends after a cancel");
    t.settle().await;
    let batches = db.with(|st| st.batches(100)).unwrap();
    let log: Vec<String> = t.app.messages().map(|m| m.text.clone()).collect();
    if batches.len() == before {
        assert!(
            log.iter()
                .any(|m| m.contains("nothing was saved") || m.contains("tidak ada yang disimpan")),
            "{log:?}"
        );
    } else {
        let b = &batches[0];
        assert_eq!(b.source, Source::Image);
        let reviews = db.with(|st| st.card_reviews(b.id)).unwrap();
        // Every kept card has its photo and box.
        assert_eq!(reviews.len() as i64, b.total);
        assert!(reviews
            .iter()
            .all(|r| r.photo_path.is_some() && r.photo_box.is_some()));
        assert!(
            log.iter()
                .any(|m| m.contains("belum dibaca") || m.contains("not read")),
            "{log:?}"
        );
    }
    let s = t.screen();
    assert!(!s.contains("x/Esc"), "nothing left to stop:\n{s}");
}

/// A pattern picks the photos; a bad one is named in the messages with what went wrong, and
/// with no card read no batch is made.
#[cfg(feature = "ocr")]
#[tokio::test]
async fn a_pattern_picks_photos_and_a_bad_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("rusak.jpg"), b"not a photo at all").unwrap();
    std::fs::write(src.path().join("catatan.txt"), b"not picked").unwrap();
    let db = photo_db(dir.path());
    let before = db.with(|st| st.batches(100)).unwrap().len();
    let mut t = harness(db.clone(), 80, 24).await;
    t.keys("p");
    t.keys(&format!("{}/*.jpg<Enter>", src.path().display()));
    let ended = t
        .wait_until(std::time::Duration::from_secs(120), |app| {
            app.jobs.is_empty()
        })
        .await;
    assert!(ended);
    t.settle().await;
    let log: Vec<String> = t.app.messages().map(|m| m.text.clone()).collect();
    assert!(
        log.iter().any(|m| m.starts_with("rusak.jpg: not an image")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|m| m.contains("1 foto dibaca")),
        "only the .jpg was read: {log:?}"
    );
    assert_eq!(db.with(|st| st.batches(100)).unwrap().len(), before);
}
