//! `konter import photos` on real sample photos, with the bad inputs of the issue beside them:
//! each bad photo gets its verdict and the cards of the others are staged (and, with
//! --confirm, go into stock keeping their photo and box).
#![cfg(feature = "ocr")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use konter::store::intake::Product;
use konter::store::Store;
use rust_decimal::Decimal;

fn photos() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/vouchers/photos")
}

fn konter(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_konter"))
        .args(args)
        .env("KONTER_DATA_DIR", data)
        .env("KONTER_CONFIG", data.join("none.toml"))
        .env("KONTER_LANG", "en")
        .env_remove("KONTER_OTOMAX_URL")
        .env_remove("KONTER_ROUTER_ADDR")
        .output()
        .unwrap()
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

/// A data dir whose products take the sample cards' lengths: one product per brand, so every
/// card whose brand is read maps to exactly one.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("none.toml"), "").unwrap();
    let s = Store::open(&dir.path().join("konter.db")).unwrap();
    for (code, name, op) in [
        ("TSEL25", "Telkomsel 25rb", "TSEL"),
        ("ISAT25", "Indosat 25rb", "ISAT"),
        ("XL25", "XL 25rb", "XL"),
        ("AXIS25", "Axis 25rb", "AXIS"),
        ("TRI25", "Tri 25rb", "TRI"),
        ("SF25", "Smartfren 25rb", "SMARTFREN"),
        ("BYU25", "by.U 25rb", "TSEL"),
    ] {
        s.upsert_product(&Product {
            code: code.into(),
            name: name.into(),
            operator: op.into(),
            price: Decimal::from(25_000),
            code_len: (14, 16),
            serial_len: (12, 16),
            active: true,
        })
        .unwrap();
    }
    dir
}

/// The bad inputs: not an image, a cut-off JPEG, a photo with no card, a duplicate.
fn bad_inputs(dir: &Path) -> Vec<PathBuf> {
    let not_image = dir.join("notes.jpg");
    std::fs::write(&not_image, b"this is a shopping list, not a photo").unwrap();
    let cut = dir.join("cut.jpg");
    let bytes = std::fs::read(photos().join("0003.jpg")).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let blank = dir.join("blank.png");
    image::RgbImage::from_pixel(800, 600, image::Rgb([120, 110, 100]))
        .save(&blank)
        .unwrap();
    let dup = dir.join("again.jpg");
    std::fs::copy(photos().join("0000.jpg"), &dup).unwrap();
    vec![not_image, cut, blank, dup]
}

#[test]
fn bad_photos_get_verdicts_and_the_cards_of_the_rest_are_staged() {
    let dir = setup();
    let mut args: Vec<String> = ["--json", "--today", "2026-11-21", "import", "photos"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let good = [photos().join("0000.jpg"), photos().join("0005.jpg")];
    for p in good.iter().chain(bad_inputs(dir.path()).iter()) {
        args.push(p.display().to_string());
    }
    args.extend(["--threads".into(), "2".into()]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = konter(dir.path(), &argv);
    let lines = json_lines(&o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "exit 2 when some photo failed: {lines:#?}"
    );
    let summary = lines.last().unwrap();
    let verdict = |name: &str| {
        lines
            .iter()
            .find(|l| {
                l["photo"].as_str().is_some_and(|p| p.ends_with(name)) && l.get("line").is_none()
            })
            .unwrap_or_else(|| panic!("{name} has a verdict line: {lines:#?}"))
            .clone()
    };
    assert_eq!(verdict("notes.jpg")["verdict"], "error");
    assert!(verdict("notes.jpg")["reason"]
        .as_str()
        .unwrap()
        .contains("not an image"));
    assert_eq!(verdict("cut.jpg")["verdict"], "error");
    assert!(verdict("cut.jpg")["reason"]
        .as_str()
        .unwrap()
        .contains("cut short"));
    assert_eq!(verdict("blank.png")["verdict"], "no_card");
    assert_eq!(verdict("again.jpg")["verdict"], "duplicate");
    // The good photos' cards (1 + 4 in truth) are staged, one line each.
    let cards: Vec<&serde_json::Value> = lines.iter().filter(|l| l.get("line").is_some()).collect();
    assert!(cards.len() >= 4, "{lines:#?}");
    assert_eq!(summary["cards"].as_u64().unwrap() as usize, cards.len());
    assert_eq!(summary["photos"], 6);
    assert_eq!(summary["bad_photos"], 2);
    let batch = summary["batch"].as_i64().expect("a batch id");
    for c in &cards {
        assert!(c["box"]["w"].as_u64().unwrap() > 0, "{c}");
        assert!(
            c["ok"].is_boolean() && c["needs_review"].is_boolean(),
            "{c}"
        );
    }
    // Stored: source image, the photo path and box on every row, review data per card.
    let s = Store::open(&dir.path().join("konter.db")).unwrap();
    let b = s.batch(batch).unwrap();
    assert_eq!(b.source.as_str(), "image");
    assert_eq!(b.total as usize, cards.len());
    let reviews = s.card_reviews(batch).unwrap();
    assert_eq!(reviews.len(), cards.len());
    for (r, c) in reviews.iter().zip(&cards) {
        let path = r.photo_path.as_deref().unwrap();
        assert!(
            Path::new(path).is_absolute() && Path::new(path).is_file(),
            "{path}"
        );
        assert!(path.ends_with("0000.jpg") || path.ends_with("0005.jpg"));
        assert!(r.photo_box.is_some());
        assert_eq!(r.flagged, c["needs_review"].as_bool().unwrap());
    }
    // A dry run with a product given: verdicts only.
    let again = konter(
        dir.path(),
        &[
            "--json",
            "--today",
            "2026-11-21",
            "import",
            "photos",
            &good[0].display().to_string(),
            "--product",
            "TRI25",
            "--dry-run",
        ],
    );
    let lines = json_lines(&again);
    let summary = lines.last().unwrap();
    assert_eq!(summary["batch"], serde_json::Value::Null, "dry run");
    assert_eq!(
        lines[0]["product"], "TRI25",
        "--product wins over the brand"
    );
    let s = Store::open(&dir.path().join("konter.db")).unwrap();
    assert_eq!(s.batches(10).unwrap().len(), 1, "a dry run keeps nothing");
}

#[test]
fn confirm_puts_the_cards_into_stock_with_photo_and_box() {
    let dir = setup();
    // 0000.jpg: one TRI card, read cleanly enough to pass the rules when its product is given.
    let photo = photos().join("0000.jpg").display().to_string();
    let o = konter(
        dir.path(),
        &[
            "--json",
            "--today",
            "2026-11-21",
            "import",
            "photos",
            &photo,
            "--product",
            "TRI25",
            "--confirm",
        ],
    );
    let lines = json_lines(&o);
    let card = &lines[0];
    let last = lines.last().unwrap();
    if card["ok"] == true && card["needs_review"] == true {
        // Valid but flagged: it waits in F2 to be checked against the photo.
        assert_eq!(last["inserted"], 0, "{lines:#?}");
        assert_eq!(last["held_for_review"], 1, "{lines:#?}");
        let s = Store::open(&dir.path().join("konter.db")).unwrap();
        let batch = last["batch"].as_i64().unwrap();
        s.confirm_card_fields(
            batch,
            1,
            &[
                konter::domain::voucher::Field::Code,
                konter::domain::voucher::Field::Serial,
                konter::domain::voucher::Field::Expiry,
            ],
        )
        .unwrap();
        // F2's confirm (the same path as --confirm) now takes it.
        let mut s = s;
        let c = s
            .confirm_to_ledger(
                batch,
                "kasir1",
                &std::sync::atomic::AtomicBool::new(false),
                &mut |_, _| {},
            )
            .unwrap();
        assert_eq!(c.inserted, 1);
    }
    if card["ok"] == true {
        if card["needs_review"] == false {
            assert_eq!(last["inserted"], 1, "{lines:#?}");
        }
        let s = Store::open(&dir.path().join("konter.db")).unwrap();
        let found = s.find_vouchers(card["serial"].as_str().unwrap()).unwrap();
        let v = found
            .iter()
            .find(|v| v.place == "ledger")
            .expect("in stock");
        assert!(v.photo_path.as_deref().unwrap().ends_with("0000.jpg"));
        assert!(v.photo_box.is_some());
        // `photo find` answers with the photo and box from the ledger.
        let f = konter(
            dir.path(),
            &["--json", "photo", "find", card["serial"].as_str().unwrap()],
        );
        let hit = &json_lines(&f)[0];
        assert_eq!(hit["place"], "ledger");
        assert!(hit["photo"].as_str().unwrap().ends_with("0000.jpg"));
    } else {
        // The reader got a field wrong: nothing goes in and the card stays staged.
        assert_eq!(last["inserted"], 0, "{lines:#?}");
    }
}

#[test]
fn a_wrong_product_is_refused_before_any_reading() {
    let dir = setup();
    let o = konter(
        dir.path(),
        &[
            "--json",
            "import",
            "photos",
            &photos().join("0000.jpg").display().to_string(),
            "--product",
            "NOPE",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let l = &json_lines(&o)[0];
    assert!(l["error"].as_str().unwrap().contains("TRI25"), "{l}");
}
