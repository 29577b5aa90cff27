//! Whole-app snapshots of the shell (no database): tab bar, help, confirm, too small.

use crate::config::Config;
use crate::tui::action::Action;
use crate::tui::screens;
use crate::tui::testing::Harness;

fn shell(w: u16, h: u16) -> Harness {
    let config = Config::default();
    let mut c = config.clone();
    c.shop.user = "kasir1".into();
    Harness::new(c, None, screens::build(&config), w, h)
}

#[tokio::test]
async fn help_overlay_lists_screen_and_global_keys() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut t = shell(w, h);
        t.keys("<F1>");
        insta::assert_snapshot!(format!("help_{w}x{h}"), t.screen());
        t.keys("<Tab>");
        let s = t.screen();
        assert!(s.contains("Belum ada pesan."), "{s}");
        t.keys("<Esc>");
        assert!(!t.screen().contains("Semua layar"));
    }
}

#[tokio::test]
async fn unbuilt_screen_says_so() {
    let mut t = shell(80, 24);
    t.keys("<F5>");
    let s = t.screen();
    assert!(s.contains("F5 Rusak/Retur belum tersedia"), "{s}");
    t.keys("<A-3>");
    assert!(t.screen().contains("Stok per produk"));
    t.keys("<A-2>");
    assert!(t.screen().contains("Voucher masuk"));
}

#[tokio::test]
async fn too_small_terminal_is_explained() {
    let mut t = shell(79, 24);
    let s = t.screen();
    insta::assert_snapshot!("too_small", s);
    assert!(s.contains("perlu 80x24, sekarang 79x24"));
    t.resize(80, 24);
    assert!(t.screen().contains("F2 Masuk"));
}

#[tokio::test]
async fn quit_with_running_job_asks_and_defaults_to_cancel() {
    let mut t = shell(80, 24);
    let (go, wait) = std::sync::mpsc::channel::<()>();
    t.app.jobs.spawn_blocking("impor uji", move |p| {
        p.set(3, 10);
        let _ = wait.recv();
        Ok(Action::Render)
    });
    t.keys("<C-c>");
    assert!(!t.app.should_quit());
    let s = t.screen();
    insta::assert_snapshot!("confirm_quit_80x24", s);
    // Enter on the default button is "Batal".
    t.keys("<Enter>");
    assert!(!t.app.should_quit());
    assert!(!t.screen().contains("akan dibatalkan"));
    t.keys("<C-c><Tab><Enter>");
    assert!(t.app.should_quit());
    go.send(()).unwrap();
}

#[tokio::test]
async fn notify_goes_to_toast_status_and_log() {
    let mut t = shell(80, 24);
    t.app.dispatch(Action::notify(
        crate::tui::action::Level::Error,
        "SQL Server tidak menjawab",
    ));
    let s = t.screen();
    assert!(s.contains("galat"), "{s}");
    assert!(s
        .lines()
        .last()
        .unwrap()
        .contains("SQL Server tidak menjawab"));
    for _ in 0..100 {
        t.app.on_tick();
    }
    let s = t.screen();
    assert!(!s.contains("tidak menjawab"), "{s}");
    t.keys("<F1><Tab>");
    let s = t.screen();
    assert!(
        s.contains("09:30:00 galat  SQL Server tidak menjawab"),
        "{s}"
    );
}

#[test]
fn key_release_is_ignored() {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _g = rt.enter();
    let mut t = shell(80, 24);
    let mut k = KeyEvent::new(KeyCode::F(3), KeyModifiers::NONE);
    k.kind = KeyEventKind::Release;
    t.app.handle_event(Event::Key(k));
    assert_eq!(t.app.current(), crate::tui::screen::ScreenId::Intake);
    k.kind = KeyEventKind::Press;
    t.app.handle_event(Event::Key(k));
    assert_eq!(t.app.current(), crate::tui::screen::ScreenId::Stock);
}

#[tokio::test]
async fn router_state_comes_from_a_real_login() {
    use crate::routeros::sim::{BackgroundSim, SimConfig};
    use crate::tui::status::{Backend, ConnState};

    let sim = BackgroundSim::start("127.0.0.1:0", SimConfig::demo()).unwrap();
    let mut c = Config::default();
    sim.configure(&mut c.router);
    let mut t = Harness::new(c.clone(), None, screens::build(&c), 80, 24);
    assert_eq!(t.app.conn(Backend::Router), &ConnState::Connecting);
    t.settle().await;
    assert_eq!(t.app.conn(Backend::Router), &ConnState::Connected);
    assert!(t.screen().lines().last().unwrap().contains("Router ●"));

    // A wrong password: the state says why.
    c.router.password = "salah".into();
    let mut t = Harness::new(c.clone(), None, screens::build(&c), 80, 24);
    t.settle().await;
    assert!(
        matches!(t.app.conn(Backend::Router), ConnState::Error(_)),
        "{:?}",
        t.app.conn(Backend::Router)
    );
    assert!(t.screen().lines().last().unwrap().contains("Router ✗"));
    drop(sim);

    // No router configured: nothing to connect to.
    let c = Config::default();
    let t = Harness::new(c.clone(), None, screens::build(&c), 80, 24);
    assert_eq!(t.app.conn(Backend::Router), &ConnState::Disabled);
}
