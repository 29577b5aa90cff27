//! The `konter` binary as a shop's scripts use it: JSON lines, exit codes, env overrides.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/vouchers/csv")
}

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

/// Config given by KONTER_CONFIG must exist; point it at a real (empty) file.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("none.toml"), "").unwrap();
    dir
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn import_json_prints_one_line_per_data_line_then_a_summary() {
    let dir = setup();
    assert!(
        konter(dir.path(), &["init", "--demo", "--today", "2026-11-21"])
            .status
            .success()
    );
    let f = samples().join("bad_mixed.csv");
    let o = konter(
        dir.path(),
        &[
            "import",
            "vouchers",
            f.to_str().unwrap(),
            "--json",
            "--today",
            "2026-11-21",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 12);
    assert_eq!(lines[0]["line"], 2);
    assert_eq!(lines[0]["ok"], true);
    assert_eq!(lines[1]["ok"], false);
    assert_eq!(lines[1]["field"], "serial");
    assert!(lines[1]["reason"].as_str().unwrap().contains("Excel"));
    assert_eq!(lines[11]["accepted"], 3);
    assert_eq!(lines[11]["rejected"], 8);
    assert!(lines[11]["batch"].as_i64().is_some());
}

#[test]
fn confirm_puts_accepted_rows_into_stock_once() {
    let dir = setup();
    konter(dir.path(), &["init", "--demo"]);
    let stock = |d: &Path| -> i64 {
        json_lines(&konter(d, &["stock", "--json"]))
            .iter()
            .map(|l| l["in_stock"].as_i64().unwrap())
            .sum()
    };
    let before = stock(dir.path());
    let f = samples().join("plain_list.txt");
    let o = konter(
        dir.path(),
        &[
            "import",
            "vouchers",
            f.to_str().unwrap(),
            "--product",
            "ISATVD3",
            "--confirm",
            "--json",
        ],
    );
    let lines = json_lines(&o);
    assert_eq!(lines.last().unwrap()["inserted"], 20);
    assert_eq!(stock(dir.path()), before + 20);
    // Again: every line is a duplicate of stock, nothing is added.
    let o = konter(
        dir.path(),
        &[
            "import",
            "vouchers",
            f.to_str().unwrap(),
            "--product",
            "ISATVD3",
            "--confirm",
            "--json",
        ],
    );
    let lines = json_lines(&o);
    assert_eq!(lines[20]["accepted"], 0);
    assert_eq!(stock(dir.path()), before + 20);
}

#[test]
fn stock_json_has_every_field() {
    let dir = setup();
    konter(dir.path(), &["init", "--demo"]);
    let lines = json_lines(&konter(dir.path(), &["stock", "--json"]));
    assert_eq!(lines.len(), 6);
    for l in &lines {
        for k in ["product", "name", "in_stock", "sold", "used", "expiring"] {
            assert!(l.get(k).is_some(), "{k} missing in {l}");
        }
    }
    let xl = lines.iter().find(|l| l["product"] == "XLVD5").unwrap();
    assert_eq!(xl["in_stock"], 9);
}

#[test]
fn demo_data_goes_only_into_an_empty_store() {
    let dir = setup();
    assert!(konter(dir.path(), &["init", "--demo"]).status.success());
    let o = konter(dir.path(), &["init", "--demo", "--json"]);
    assert!(!o.status.success());
    assert!(json_lines(&o)[0]["error"]
        .as_str()
        .unwrap()
        .contains("KONTER_DATA_DIR"));
}

#[test]
fn errors_are_one_json_line_and_a_failing_exit() {
    let dir = setup();
    let o = konter(
        dir.path(),
        &["import", "vouchers", "/nonexistent/list.csv", "--json"],
    );
    assert!(!o.status.success());
    let l = json_lines(&o);
    assert_eq!(l.len(), 1);
    assert!(l[0]["error"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/list.csv"));
}

#[test]
fn explicit_config_that_is_missing_is_refused() {
    let dir = setup();
    let o = Command::new(env!("CARGO_BIN_EXE_konter"))
        .args(["stock", "--config", "/nonexistent/konter.toml"])
        .env("KONTER_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not found"));
}

#[test]
fn help_lists_the_commands() {
    let o = Command::new(env!("CARGO_BIN_EXE_konter"))
        .arg("--help")
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    for c in ["import", "stock", "init", "demo"] {
        assert!(s.contains(c), "{c} not in --help");
    }
}

/// Ctrl-C in the middle of a big import: the process stops and no batch is left.
#[cfg(unix)]
#[test]
fn ctrl_c_during_import_leaves_no_batch() {
    let dir = setup();
    konter(dir.path(), &["init"]);
    konter(dir.path(), &["init", "--demo"]);
    let f = dir.path().join("big.csv");
    let mut text = String::from("kode_produk,kode_voucher,serial,kadaluarsa\n");
    for i in 0..400_000u64 {
        text.push_str(&format!(
            "XLVD5,{:016},{:012},2028-01-01\n",
            10_000_000 + i,
            500_000_000_000u64 + i
        ));
    }
    std::fs::write(&f, text).unwrap();
    let count = |d: &Path| -> i64 {
        let c = rusqlite::Connection::open(d.join("konter.db")).unwrap();
        c.query_row("SELECT count(*) FROM staging_batches", [], |r| r.get(0))
            .unwrap()
    };
    let before = count(dir.path());
    let child = Command::new(env!("CARGO_BIN_EXE_konter"))
        .args(["import", "vouchers", f.to_str().unwrap()])
        .env("KONTER_DATA_DIR", dir.path())
        .env("KONTER_CONFIG", dir.path().join("none.toml"))
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "the import should have been interrupted"
    );
    assert_eq!(count(dir.path()), before);
}
