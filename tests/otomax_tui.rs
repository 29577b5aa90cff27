//! F2 confirm and F3 with OtoMaX's SQL Server configured, driven by keys on the real app
//! (TestBackend), against the TDS test server (or KONTER_TEST_MSSQL).

#[path = "support/otomax_env.rs"]
mod otomax_env;
#[path = "support/tds/mod.rs"]
mod tds;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use konter::config::Config;
use konter::store::Store;
use konter::tui::data::Db;
use konter::tui::screen::Screen;
use konter::tui::screens::intake::IntakeScreen;
use konter::tui::screens::stock::StockScreen;
use konter::tui::testing::{test_now, Harness};
use otomax_env::Env;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/vouchers/csv")
}

fn app(env: &Env, dir: &Path, url: Option<String>) -> (Config, Arc<Db>, Vec<Box<dyn Screen>>) {
    let mut c = Config::default();
    c.shop.user = "kasir1".into();
    c.otomax = env.config();
    if let Some(u) = url {
        c.otomax.url = u;
    }
    let path = dir.join("konter.db");
    let mut s = Store::open(&path).unwrap();
    s.seed_demo(test_now().date(), "kasir1").unwrap();
    drop(s);
    let db = Arc::new(Db::open(&path).unwrap());
    let screens: Vec<Box<dyn Screen>> = vec![
        Box::new(IntakeScreen::new(&c).with_base_dir(samples())),
        Box::new(StockScreen::new(&c)),
    ];
    (c, db, screens)
}

fn status_line(screen: &str) -> String {
    screen.lines().last().unwrap_or_default().to_string()
}

#[test]
fn f2_confirm_goes_to_sql_server_and_the_status_bar_shows_it() {
    if !samples().join("bad_mixed.csv").exists() {
        return eprintln!("skipped: shared sample data not found");
    }
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let (c, db, screens) = app(&env, dir.path(), None);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut t = Harness::new(c, Some(db), screens, 120, 40);
        t.settle().await;
        assert!(
            status_line(&t.screen()).contains("SQL Server ●"),
            "{}",
            t.screen()
        );
        t.keys("a");
        t.keys("bad_m<Tab>");
        t.settle().await;
        t.keys("<Enter>");
        t.settle().await;
        t.keys("C");
        let s = t.screen();
        assert!(s.contains("OtoMaX (SQL Server)"), "{s}");
        t.keys("<Tab><Enter>");
        t.settle().await;
        let log: Vec<String> = t.app.messages().map(|m| m.text.clone()).collect();
        assert!(log.iter().any(|m| m.contains("3 voucher masuk")), "{log:?}");
        assert!(status_line(&t.screen()).contains("SQL Server ●"));
        // F3 reads the server: the three vouchers are in stock there
        t.keys("<F3>");
        t.settle().await;
        let s = t.screen();
        assert!(s.contains("TSELVD10") || s.contains("XLVD5"), "{s}");
    });
    assert_eq!(env.vouchers(), 3);
}

#[test]
fn f2_confirm_dialog_names_otomax_at_both_sizes() {
    if !samples().join("bad_mixed.csv").exists() {
        return eprintln!("skipped: shared sample data not found");
    }
    let env = Env::new();
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let dir = tempfile::tempdir().unwrap();
        let (c, db, screens) = app(&env, dir.path(), None);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut t = Harness::new(c, Some(db), screens, w, h);
            t.settle().await;
            t.keys("a");
            t.keys("bad_m<Tab>");
            t.settle().await;
            t.keys("<Enter>");
            t.settle().await;
            t.keys("C");
            t.expire_toasts();
            insta::assert_snapshot!(format!("otomax_f2_confirm_{w}x{h}"), t.screen());
        });
    }
}

#[test]
fn f2_confirm_with_a_wrong_password_keeps_the_batch_and_says_why() {
    if !samples().join("bad_mixed.csv").exists() {
        return eprintln!("skipped: shared sample data not found");
    }
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let bad = env.url.replace("Password=", "Password=x");
    let (c, db, screens) = app(&env, dir.path(), Some(bad));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut t = Harness::new(c, Some(db), screens, 80, 24);
        t.settle().await;
        assert!(
            status_line(&t.screen()).contains("SQL Server ✗"),
            "{}",
            t.screen()
        );
        t.keys("a");
        t.keys("bad_m<Tab>");
        t.settle().await;
        t.keys("<Enter>");
        t.settle().await;
        t.keys("C<Tab><Enter>");
        t.settle().await;
        let log: Vec<String> = t.app.messages().map(|m| m.text.clone()).collect();
        assert!(
            log.iter()
                .any(|m| m.contains("login") && m.contains("staging")),
            "{log:?}"
        );
        let s = t.screen();
        assert!(
            s.contains("3 ok"),
            "the batch stays staged with its 3 ready lines:\n{s}"
        );
    });
    assert_eq!(env.vouchers(), 0);
}
