//! `konter otomax check` and `konter voucher status` as a user runs them, against the TDS test
//! server (or KONTER_TEST_MSSQL).

#[path = "support/otomax_env.rs"]
mod otomax_env;
#[path = "support/tds/mod.rs"]
mod tds;

use std::process::Command;

use otomax_env::Env;

fn konter(env: &Env, dir: &std::path::Path, extra_toml: &str, args: &[&str]) -> (i32, String) {
    let cfg = env.config();
    let toml = format!(
        "[otomax]\ncommand_timeout_s = 5\nretries = 0\n[otomax.vouchers]\ntable = \"{}\"\n{extra_toml}\n[otomax.produk]\ntable = \"{}\"\n[otomax.transaksi]\ntable = \"{}\"\n",
        cfg.vouchers.table, cfg.produk.table, cfg.transaksi.table
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_konter"))
        .args(args)
        .env("KONTER_CONFIG", &path)
        .env("KONTER_OTOMAX_URL", &env.url)
        .env("KONTER_DATA_DIR", dir)
        .env("KONTER_LANG", "en")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn check_passes_on_the_default_mapping_and_fails_clearly_on_a_broken_one() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = konter(&env, dir.path(), "", &["otomax", "check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("matches the server"), "{out}");

    let (code, out) = konter(
        &env,
        dir.path(),
        "code = \"kode_vcr\"",
        &["otomax", "check", "--json"],
    );
    assert_eq!(code, 1, "{out}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["problem"]["kind"], "missing_column");
    assert_eq!(lines[0]["problem"]["key"], "otomax.vouchers.code");
    assert_eq!(lines[1]["check"], "failed");
    assert_eq!(lines[1]["writes_allowed"], false);
}

/// Runs konter with the shop's language from the config only (no KONTER_LANG).
fn konter_in(env: &Env, dir: &std::path::Path, shop: &str, args: &[&str]) -> (i32, String) {
    let cfg = env.config();
    let toml = format!(
        "{shop}\n[otomax]\ncommand_timeout_s = 5\nretries = 0\n[otomax.vouchers]\ntable = \"{}\"\ncode = \"kode_vcr\"\n[otomax.produk]\ntable = \"{}\"\n[otomax.transaksi]\ntable = \"{}\"\n",
        cfg.vouchers.table, cfg.produk.table, cfg.transaksi.table
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_konter"))
        .args(args)
        .env("KONTER_CONFIG", &path)
        .env("KONTER_OTOMAX_URL", &env.url)
        .env("KONTER_DATA_DIR", dir)
        .env_remove("KONTER_LANG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn check_details_speak_the_shop_language() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let t = env.config().vouchers.table;
    let t = t.rsplit('.').next().unwrap().trim_matches(['[', ']']);
    // Indonesian by default
    let (code, out) = konter_in(&env, dir.path(), "", &["otomax", "check"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "SALAH: {t}.kode_vcr (otomax.vouchers.code): kolom kode_vcr tidak ada; isi otomax.vouchers.code dengan salah satu dari: "
        )),
        "{out}"
    );
    assert!(out.contains("kode_voucher"), "{out}");
    assert!(out.contains("Penulisan ditolak"), "{out}");
    // JSON: the message in the shop's language, the detail stays English for scripts
    let (code, out) = konter_in(&env, dir.path(), "", &["otomax", "check", "--json"]);
    assert_eq!(code, 1, "{out}");
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let msg = first["message"].as_str().unwrap();
    assert!(msg.contains("kolom kode_vcr tidak ada"), "{msg}");
    let detail = first["problem"]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("column kode_vcr is missing; set otomax.vouchers.code to one of: "),
        "{detail}"
    );
    // English when shop.language = "en"
    let (code, out) = konter_in(
        &env,
        dir.path(),
        "[shop]\nlanguage = \"en\"",
        &["otomax", "check"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "WRONG: {t}.kode_vcr (otomax.vouchers.code): column kode_vcr is missing; set otomax.vouchers.code to one of: "
        )),
        "{out}"
    );
    assert!(!out.contains("tidak ada"), "{out}");
}

#[test]
fn voucher_status_by_serial_as_json() {
    let env = Env::new();
    let p = &env.prefix;
    env.sql(&format!(
        "INSERT INTO {p}_voucher (kode_produk, kode_voucher, serial_number, expiry_date, usage_status, entry_date) \
         VALUES ('XLVD5', '0119520348050355', '176952060195', '2028-05-15', 0, '2026-11-20 09:00:00')"
    ));
    env.sql(&format!(
        "INSERT INTO {p}_transaksi (tgl_entri, kode_produk, tujuan, sn, status) VALUES ('2026-11-21 08:00:00', 'XLVD5', '0817', '176952060195', 20)"
    ));
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = konter(
        &env,
        dir.path(),
        "",
        &["voucher", "status", "1769 5206 0195", "--json"],
    );
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["voucher"]["usage"], "sold");
    assert_eq!(v["voucher"]["code"], "0119520348050355");
    assert_eq!(v["voucher"]["sale"]["status"], 20);

    let (code, out) = konter(&env, dir.path(), "", &["voucher", "status", "000000000000"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("No voucher"), "{out}");
}

#[test]
fn without_a_server_configured_the_commands_say_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.toml"), "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_konter"))
        .args(["otomax", "check", "--json"])
        .env("KONTER_CONFIG", dir.path().join("empty.toml"))
        .env("KONTER_OTOMAX_URL", "")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("KONTER_OTOMAX_URL"), "{text}");
}

fn samples() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/vouchers/csv")
}

fn json_lines(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn import_confirm_puts_exactly_the_accepted_rows_on_the_server_and_again_adds_none() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let file = samples().join("bad_mixed.csv");
    if !file.exists() {
        return eprintln!(
            "skipped: shared sample data not found at {}",
            file.display()
        );
    }
    let file = file.to_str().unwrap();
    let (code, out) = konter(
        &env,
        dir.path(),
        "",
        &["init", "--demo", "--today", "2026-11-21"],
    );
    assert_eq!(code, 0, "{out}");
    let args = [
        "import",
        "vouchers",
        file,
        "--confirm",
        "--json",
        "--today",
        "2026-11-21",
    ];
    let (code, out) = konter(&env, dir.path(), "", &args);
    assert_eq!(code, 0, "{out}");
    let lines = json_lines(&out);
    let summary = lines.iter().find(|l| l.get("accepted").is_some()).unwrap();
    let accepted = summary["accepted"].as_i64().unwrap();
    assert!(
        accepted > 0 && summary["rejected"].as_i64().unwrap() > 0,
        "{out}"
    );
    let done = lines.last().unwrap();
    assert_eq!(done["inserted"].as_i64(), Some(accepted), "{out}");
    assert_eq!(env.vouchers(), accepted);

    let (code, out) = konter(&env, dir.path(), "", &args);
    assert_eq!(code, 0, "{out}");
    let done = json_lines(&out).pop().unwrap();
    assert_eq!(done["inserted"].as_i64(), Some(0), "{out}");
    assert_eq!(done["already"].as_i64(), Some(accepted), "{out}");
    assert_eq!(env.vouchers(), accepted);

    // konter stock reads the server now
    let (code, out) = konter(
        &env,
        dir.path(),
        "",
        &["stock", "--json", "--today", "2026-11-21"],
    );
    assert_eq!(code, 0, "{out}");
    let total: i64 = json_lines(&out)
        .iter()
        .map(|l| l["in_stock"].as_i64().unwrap())
        .sum();
    assert_eq!(total, accepted, "{out}");
}

#[test]
fn import_confirm_with_a_wrong_password_keeps_the_batch_staged() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let file = samples().join("valid_comma.csv");
    if !file.exists() {
        return eprintln!("skipped: shared sample data not found");
    }
    konter(
        &env,
        dir.path(),
        "",
        &["init", "--demo", "--today", "2026-11-21"],
    );
    let cfg = dir.path().join("config.toml");
    let bad = env.url.replace("Password=", "Password=x");
    std::fs::write(&cfg, "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_konter"))
        .args([
            "import",
            "vouchers",
            file.to_str().unwrap(),
            "--confirm",
            "--json",
            "--today",
            "2026-11-21",
        ])
        .env("KONTER_CONFIG", &cfg)
        .env("KONTER_OTOMAX_URL", &bad)
        .env("KONTER_DATA_DIR", dir.path())
        .env("KONTER_LANG", "en")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let last = json_lines(&text).pop().unwrap();
    let msg = last["error"].as_str().unwrap();
    assert!(
        msg.contains("refused the login") && msg.contains("stays staged"),
        "{msg}"
    );
    assert_eq!(env.vouchers(), 0);
}
