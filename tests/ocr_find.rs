//! `konter photo find`: a voucher's photo and card box by serial or code, from the ledger.

use std::path::Path;
use std::process::{Command, Output};

fn konter(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_konter"))
        .args(args)
        .env("KONTER_DATA_DIR", data)
        .env("KONTER_CONFIG", data.join("none.toml"))
        .env_remove("KONTER_OTOMAX_URL")
        .env_remove("KONTER_ROUTER_ADDR")
        .output()
        .unwrap()
}

#[test]
fn finds_the_photo_by_serial_or_code_and_says_when_nothing_matches() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("none.toml"), "").unwrap();
    let o = konter(d, &["init", "--demo"]);
    assert!(o.status.success(), "{o:?}");
    let db = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "db" || e == "sqlite"))
        .expect("store file");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        let product: String = c
            .query_row("SELECT code FROM products LIMIT 1", [], |r| r.get(0))
            .unwrap();
        c.execute(
            "INSERT INTO vouchers (product, code, serial, expiry, entry_at, photo_path, photo_box)
             VALUES (?1, '79214153447967', '703423659660268', '2026-06-10', '2026-11-21 07:00:00',
                     '/photos/0002.jpg', '36,23,733,522,-4.9')",
            [&product],
        )
        .unwrap();
    }
    for q in ["7034 2365 9660 268", "79214153447967"] {
        let o = konter(d, &["--json", "photo", "find", q]);
        assert!(o.status.success(), "{o:?}");
        let v: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap())
                .unwrap();
        assert_eq!(v["serial"], "703423659660268");
        assert_eq!(v["photo"], "/photos/0002.jpg");
        assert_eq!(v["box"], "36,23,733,522,-4.9");
        assert_eq!(v["place"], "ledger");
    }
    let o = konter(d, &["--json", "photo", "find", "111122223333"]);
    assert!(!o.status.success());
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("111122223333"), "{text}");
}
