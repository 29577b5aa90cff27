//! The digit net on real sample photos: cards whose codes Tesseract alone misread the same way on
//! every reading (a monospace zero with a dot inside read as 9 or 6, digits under scratch
//! residue) are read exactly and pass without review. Photos and truth from the shared set.
#![cfg(feature = "ocr")]

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared_photo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/vouchers/photos")
        .join(name)
}

#[test]
fn dotted_zeros_and_residue_are_read_exactly_without_review() {
    let names = ["0007.jpg", "0038.jpg", "0044.jpg"];
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared_photo("truth.json")).expect("the shared photo set"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("none.toml"), "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_konter"))
        .arg("--json")
        .args(["ocr", "vouchers"])
        .args(names.iter().map(|n| shared_photo(n)))
        .env("KONTER_CONFIG", dir.path().join("none.toml"))
        .env("KONTER_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut photos = 0;
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = Path::new(v["photo"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let want = truth[&name]["cards"].as_array().unwrap();
        let got = v["cards"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{line}");
        for w in want {
            let c = got
                .iter()
                .find(|c| c["serial"] == w["serial"])
                .unwrap_or_else(|| panic!("serial {} not read: {line}", w["serial"]));
            assert_eq!(c["code"], w["code"], "{line}");
            assert_eq!(c["expiry"], w["expiry"], "{line}");
            assert_eq!(c["brand"], w["brand"], "{line}");
            assert_eq!(c["needs_review"], false, "{line}");
        }
        photos += 1;
    }
    assert_eq!(photos, names.len());
}
