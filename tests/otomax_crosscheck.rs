//! The TDS test server checked by independent clients: FreeTDS `tsql` (Debian freetds-bin) and
//! python-tds. Both log in and run a query; the answers must be the rows the store holds.

#[path = "support/tds/mod.rs"]
mod tds;

use std::io::Write;
use std::process::{Command, Stdio};

fn server() -> (tokio::runtime::Runtime, tds::TdsServer) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let s = rt
        .block_on(tds::TdsServer::start(0, tds::ServerOptions::default()))
        .unwrap();
    (rt, s)
}

#[test]
fn freetds_tsql_logs_in_and_queries() {
    let (_rt, s) = server();
    let mut child = Command::new("tsql")
        .args([
            "-H",
            "127.0.0.1",
            "-p",
            &s.addr.port().to_string(),
            "-U",
            "sa",
            "-P",
            "konter",
            "-D",
            "otomax",
        ])
        .env("TDSVER", "7.4")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tsql runs (Debian package freetds-bin, in the Makefile's APT_PKGS)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SELECT kode, harga_jual FROM produk WHERE kode IN ('XLVD5', 'TRIVD6') ORDER BY kode\ngo\nexit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("TRIVD6\t27000"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("XLVD5\t30000"), "{text}");
    assert!(text.contains("(2 rows affected)"), "{text}");
}

#[test]
fn freetds_tsql_is_refused_with_a_wrong_password() {
    let (_rt, s) = server();
    let out = Command::new("tsql")
        .args([
            "-H",
            "127.0.0.1",
            "-p",
            &s.addr.port().to_string(),
            "-U",
            "sa",
            "-P",
            "salah",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("tsql runs");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("Login failed for user 'sa'"), "{all}");
}

#[test]
fn python_tds_runs_a_parameterized_query() {
    let (_rt, s) = server();
    let script = format!(
        "import pytds\n\
         c = pytds.connect(server='127.0.0.1', port={}, database='otomax', user='sa', password='konter', autocommit=True)\n\
         cur = c.cursor()\n\
         cur.execute('SELECT nama FROM produk WHERE kode = %s', ('AXISVD2',))\n\
         print(cur.fetchall()[0][0])\n",
        s.addr.port()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        "Axis Voucher Data 2GB",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
