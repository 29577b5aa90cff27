//! `konter ocr vouchers` on real sample photos (tests/fixtures/ocr, from the shared photo set)
//! and on each bad input of issue 4, all in ONE batch: every photo gets its own verdict and the
//! good photos are read regardless of the bad ones around them.
#![cfg(feature = "ocr")]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ocr")
        .join(name)
}

fn write_jpeg(img: image::DynamicImage, path: &Path) {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
        .unwrap();
    std::fs::write(path, out).unwrap();
}

fn serials(v: &serde_json::Value) -> Vec<String> {
    let mut s: Vec<String> = v["cards"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["serial"].as_str().map(str::to_string))
        .collect();
    s.sort();
    s
}

/// The photo's cards are the expected ones, every serial read exactly.
fn same_cards(v: &serde_json::Value, expected: &[&str]) {
    let cards = v["cards"].as_array().unwrap();
    assert_eq!(cards.len(), expected.len(), "{v}");
    for want in expected {
        let ok = cards.iter().any(|c| c["serial"].as_str() == Some(*want));
        assert!(ok, "serial {want} not read: {v}");
    }
}

#[test]
fn a_batch_of_good_and_bad_photos_gets_one_verdict_each() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("none.toml"), "").unwrap();
    let a = fixture("two_cards_a.jpg");
    let b = fixture("four_cards_b.jpg");
    let b_img = image::open(&b).unwrap();

    std::fs::write(d.join("notes.jpg"), "this is a text file, not a photo\n").unwrap();
    let bytes = std::fs::read(&a).unwrap();
    std::fs::write(d.join("cut.jpg"), &bytes[..bytes.len() / 2]).unwrap();
    write_jpeg(b_img.rotate90(), &d.join("turned90.jpg"));
    write_jpeg(b_img.rotate180(), &d.join("upside_down.jpg"));
    write_jpeg(
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            1600,
            1200,
            image::Rgb([120, 90, 60]),
        )),
        &d.join("table.jpg"),
    );
    std::fs::copy(&a, d.join("again.jpg")).unwrap();

    let inputs: Vec<PathBuf> = vec![
        a.clone(),
        d.join("notes.jpg"),
        d.join("cut.jpg"),
        b.clone(),
        d.join("turned90.jpg"),
        d.join("upside_down.jpg"),
        d.join("table.jpg"),
        d.join("again.jpg"),
        fixture("huge_12000x9000.png"),
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_konter"))
        .arg("--json")
        .args(["ocr", "vouchers"])
        .args(&inputs)
        .env("KONTER_DATA_DIR", d)
        .env("KONTER_CONFIG", d.join("none.toml"))
        .output()
        .unwrap();
    // bad photos make the exit code 2, yet every photo is reported
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), inputs.len(), "one line per photo");
    for (l, p) in lines.iter().zip(&inputs) {
        assert_eq!(l["photo"], p.display().to_string());
    }
    let verdict = |i: usize| lines[i]["verdict"].as_str().unwrap().to_string();
    let message = |i: usize| lines[i]["message"].as_str().unwrap_or("").to_string();

    // the good photos: every serial, paired with its code
    assert_eq!(verdict(0), "ok");
    assert_eq!(
        serials(&lines[0]),
        ["591805350191", "7034236596602683", "785969030748"]
    );
    let card = lines[0]["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["serial"] == "785969030748")
        .unwrap();
    assert!(card["code"].is_null());
    assert_eq!(card["expiry"], "2026-12-12");
    for k in ["confidence", "needs_review", "box", "brand"] {
        assert!(card.get(k).is_some(), "card lacks {k}");
    }
    let b_serials = [
        "3334551272030232",
        "534613096362",
        "61172351677996",
        "9150050820595174",
    ];
    assert_eq!(verdict(3), "ok");
    assert_eq!(serials(&lines[3]), b_serials);

    // not an image, a cut-off JPEG
    assert_eq!(verdict(1), "error");
    assert!(message(1).contains("not an image"), "{}", message(1));
    assert_eq!(verdict(2), "error");
    assert!(message(2).contains("cut short"), "{}", message(2));
    // turned a quarter and upside down (and re-encoded, so a little blurred): the same cards
    same_cards(&lines[4], &b_serials);
    same_cards(&lines[5], &b_serials);
    // an empty table: no card, said so
    assert_eq!(verdict(6), "no_card");
    assert!(message(6).contains("no voucher card"));
    // the same file twice: read once
    assert_eq!(verdict(7), "duplicate");
    assert!(message(7).contains("two_cards_a.jpg"));
    // 12000x9000: decoded and downscaled (no card on it), not refused, not out of memory
    assert_eq!(verdict(8), "no_card", "{}", lines[8]);
}

/// Leptonica used to print "Error in boxClipToRectangle" lines to stderr on some card crops
/// (this photo gave four); printed while the TUI reads photos, they scrolled the screen.
#[test]
fn reading_prints_no_library_noise() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("none.toml"), "").unwrap();
    let photo =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/vouchers/photos/0056.jpg");
    let out = Command::new(env!("CARGO_BIN_EXE_konter"))
        .args(["ocr", "vouchers"])
        .arg(&photo)
        .env("KONTER_DATA_DIR", d.path())
        .env("KONTER_CONFIG", d.path().join("none.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("Error in"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).is_empty());
}
