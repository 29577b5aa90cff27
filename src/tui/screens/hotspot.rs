//! F4 Hotspot in the app shell: the keys as bindings, the screen and its jobs from
//! [`crate::hotspot::f4`]. Background results wake the app through its action channel.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::config::Config;
use crate::hotspot::f4::F4;
use crate::hotspot::screen::ModeKind;
use crate::i18n::Lang;
use crate::routeros::{ConnState as RouterConn, Router};
use crate::tui::action::Action;
use crate::tui::keys::{Binding, Key};
use crate::tui::screen::{RenderCtx, Screen, ScreenCtx, ScreenId};
use crate::tui::status::{Backend, ConnState};

#[derive(Debug, Clone)]
pub enum HotspotMsg {
    /// A key for the F4 screen.
    Key(KeyCode),
    /// Background work finished something: drain it.
    Wake,
}

pub struct HotspotTab {
    f4: Option<F4>,
    last_conn: Option<ConnState>,
}

impl HotspotTab {
    pub fn new(_config: &Config) -> HotspotTab {
        HotspotTab {
            f4: None,
            last_conn: None,
        }
    }

    fn conn_of(s: RouterConn) -> ConnState {
        match s {
            RouterConn::Disabled => ConnState::Disabled,
            RouterConn::Connecting => ConnState::Connecting,
            RouterConn::Connected => ConnState::Connected,
            RouterConn::Error(e) => ConnState::Error(e),
        }
    }

    fn conn_update(&mut self) -> Vec<Action> {
        let Some(f4) = &self.f4 else { return vec![] };
        let now = Self::conn_of(f4.router_state());
        if self.last_conn.as_ref() == Some(&now) {
            return vec![];
        }
        self.last_conn = Some(now.clone());
        vec![Action::Conn(Backend::Router, now)]
    }
}

fn hb(key: Key, label: (&'static str, &'static str), code: KeyCode) -> Binding {
    Binding::new(key, label, Action::Hotspot(HotspotMsg::Key(code)))
}

impl Screen for HotspotTab {
    fn id(&self) -> ScreenId {
        ScreenId::Hotspot
    }

    fn bindings(&self, _lang: Lang) -> Vec<Binding> {
        let p = Key::plain;
        let nav = || {
            vec![
                hb(p(KeyCode::Up), ("naik", "up"), KeyCode::Up)
                    .also(Key::ch('k'))
                    .quiet(),
                hb(p(KeyCode::Down), ("turun", "down"), KeyCode::Down)
                    .also(Key::ch('j'))
                    .quiet(),
                hb(
                    p(KeyCode::PageUp),
                    ("halaman naik", "page up"),
                    KeyCode::PageUp,
                )
                .quiet(),
                hb(
                    p(KeyCode::PageDown),
                    ("halaman turun", "page down"),
                    KeyCode::PageDown,
                )
                .quiet(),
                hb(p(KeyCode::Home), ("awal", "top"), KeyCode::Home).quiet(),
                hb(p(KeyCode::End), ("akhir", "bottom"), KeyCode::End).quiet(),
            ]
        };
        let kind = self
            .f4
            .as_ref()
            .map(|f| f.screen.mode_kind())
            .unwrap_or(ModeKind::Table);
        match kind {
            ModeKind::Table => {
                let mut v = vec![
                    hb(p(KeyCode::Enter), ("detail", "detail"), KeyCode::Enter).help(
                        "riwayat login, relogin, bytes dan uptime user ini",
                        "login history, relogins, bytes and uptime of this user",
                    ),
                    hb(Key::ch('/'), ("cari", "search"), KeyCode::Char('/')),
                    hb(Key::ch('s'), ("status", "status"), KeyCode::Char('s')).help(
                        "ganti filter status: semua, READY, ONLINE, TERPAKAI, RUSAK, RETUR, INVALID, PENGELOLA (di layar sempit judul menyingkat: RDY ONL TPK RSK RTR INV PGL)",
                        "cycle the status filter: all, READY, ONLINE, TERPAKAI, RUSAK, RETUR, INVALID, PENGELOLA (narrow screens abbreviate them in the title: RDY ONL TPK RSK RTR INV PGL)",
                    ),
                    hb(Key::ch('b'), ("blok", "blok"), KeyCode::Char('b')),
                    hb(Key::ch('o'), ("profil", "profile"), KeyCode::Char('o'))
                        .help(
                            "ganti filter profil (10Menit, 30Menit, ...)",
                            "cycle the profile filter (10Menit, 30Menit, ...)",
                        ),
                    hb(Key::ch('g'), ("buat", "generate"), KeyCode::Char('g')).help(
                        "buat voucher di router: profil, blok, jumlah",
                        "create vouchers on the router: profile, blok, count",
                    ),
                    hb(Key::ch('p'), ("cetak", "print"), KeyCode::Char('p')).help(
                        "cetak voucher ini ke [hotspot] printer (hanya READY)",
                        "print this voucher to [hotspot] printer (READY only)",
                    ),
                    hb(Key::ch('P'), ("cetak batch", "print batch"), KeyCode::Char('P'))
                        .help(
                            "cetak lagi batch terakhir yang dibuat",
                            "print the last generated batch again",
                        )
                        .quiet(),
                    hb(Key::ch('R'), ("sinkron", "sync"), KeyCode::Char('R')),
                    hb(Key::ch('x'), ("reset", "reset"), KeyCode::Char('x')),
                ];
                v.extend(nav());
                v
            }
            ModeKind::Search => vec![
                hb(p(KeyCode::Enter), ("selesai", "done"), KeyCode::Enter),
                hb(
                    p(KeyCode::Esc),
                    ("hapus cari", "clear search"),
                    KeyCode::Esc,
                ),
            ],
            ModeKind::Detail => {
                vec![hb(p(KeyCode::Esc), ("tutup", "close"), KeyCode::Esc).also(p(KeyCode::Enter))]
            }
            ModeKind::Generate => vec![
                hb(p(KeyCode::Enter), ("buat", "create"), KeyCode::Enter),
                hb(
                    p(KeyCode::Tab),
                    ("kolom berikut", "next field"),
                    KeyCode::Tab,
                ),
                hb(p(KeyCode::Left), ("pilih", "choose"), KeyCode::Left)
                    .also(p(KeyCode::Right))
                    .quiet(),
                hb(p(KeyCode::Right), ("pilih", "choose"), KeyCode::Right).quiet(),
                hb(p(KeyCode::Esc), ("batal", "cancel"), KeyCode::Esc),
            ],
        }
    }

    fn handle_key(&mut self, key: KeyEvent, _ctx: &mut ScreenCtx) -> Option<Action> {
        // typing into the search field or the count
        let f4 = self.f4.as_mut()?;
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return None;
        }
        f4.handle_key(key);
        Some(Action::Render)
    }

    fn on_show(&mut self, ctx: &mut ScreenCtx) -> Vec<Action> {
        if self.f4.is_none() {
            let tx = ctx.jobs.sender();
            let wake: crate::hotspot::f4::Waker = Arc::new(move || {
                let _ = tx.send(Action::Hotspot(HotspotMsg::Wake));
            });
            let config = ctx.config;
            let mut f4 = F4::with_waker(config, Router::from_config(&config.router), Some(wake));
            if let Some(db) = ctx.db {
                f4.set_db(db.path().to_path_buf());
            }
            f4.start();
            self.f4 = Some(f4);
        }
        self.conn_update()
    }

    fn update(&mut self, action: &Action, _ctx: &mut ScreenCtx) -> Vec<Action> {
        let Action::Hotspot(msg) = action else {
            return vec![];
        };
        let Some(f4) = self.f4.as_mut() else {
            return vec![];
        };
        match msg {
            HotspotMsg::Key(code) => f4.handle_key(KeyEvent::new(*code, KeyModifiers::NONE)),
            HotspotMsg::Wake => {
                f4.pump();
            }
        }
        self.conn_update()
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        match self.f4.as_mut() {
            Some(f4) => f4.render(frame, area),
            None => frame.render_widget(
                Paragraph::new(ctx.lang.t("Memuat hotspot…", "Loading hotspot…")),
                area,
            ),
        }
    }

    fn status(&self, lang: Lang) -> Option<String> {
        let f4 = self.f4.as_ref()?;
        if let Some((label, done, total)) = &f4.job {
            return Some(format!("{label} {done}/{total}"));
        }
        f4.screen
            .notice
            .as_ref()
            .map(|n| format!("{}: {n}", lang.t("hotspot", "hotspot")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routeros::sim::{SimConfig, SimServer};
    use crate::store::Store;
    use crate::tui::data::Db;
    use crate::tui::testing::{test_now, Harness};
    use std::time::Duration;

    async fn harness(sim: &SimServer, dir: &std::path::Path, w: u16, h: u16) -> Harness {
        harness_with(sim, dir, w, h, "").await
    }

    async fn harness_with(
        sim: &SimServer,
        dir: &std::path::Path,
        w: u16,
        h: u16,
        printer: &str,
    ) -> Harness {
        let path = dir.join("konter.db");
        Store::open(&path).unwrap();
        let mut c = Config::default();
        c.shop.user = "kasir1".into();
        c.router.addr = sim.addr().to_string();
        c.router.password = sim.password().to_string();
        c.hotspot.sync_interval_s = 3600;
        c.hotspot.printer = printer.to_string();
        let tab: Box<dyn Screen> = Box::new(HotspotTab::new(&c));
        Harness::new(c, Some(Arc::new(Db::open(&path).unwrap())), vec![tab], w, h)
    }

    /// Applies wake-ups until `done` holds for the drawn screen (10 s at most).
    async fn until(h: &mut Harness, done: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            h.settle().await;
            let s = h.screen();
            if done(&s) {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "screen never got there:\n{s}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The title line carries the router's port and the seconds since the sync.
    fn stable(s: &str) -> String {
        s.lines()
            .enumerate()
            .map(|(i, l)| if i == 1 { "<title>" } else { l })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn f4_syncs_filters_and_opens_the_detail() {
        let sim = SimServer::start(
            "127.0.0.1:0",
            SimConfig {
                users: 40,
                seed: 5,
                now: Some(test_now()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        for (w, ht) in [(80u16, 24u16), (120, 40)] {
            let dir = tempfile::tempdir().unwrap();
            let mut h = harness(&sim, dir.path(), w, ht).await;
            let s = until(&mut h, |s| s.contains("/ 40") && s.contains("Router ●")).await;
            assert!(
                s.contains("Router ●"),
                "the status bar shows the router:\n{s}"
            );
            assert!(s.contains("ONLINE"));
            // READY only: stable rows for a snapshot
            h.keys("s");
            let s = until(&mut h, |s| s.contains("status=READY")).await;
            insta::assert_snapshot!(format!("f4_ready_{w}x{ht}"), stable(&s));
            // search narrows, Esc clears
            h.keys("x/zzzz");
            let s = until(&mut h, |s| s.contains("0 / 40")).await;
            assert!(s.contains("Tekan x"), "{s}");
            h.keys("<Esc>");
            // detail of the first ONLINE user
            h.keys("ss<Enter>");
            let s = until(&mut h, |s| s.contains("Relogin")).await;
            assert!(s.contains("Riwayat login"), "{s}");
            h.keys("<Esc>x");
        }
        sim.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn f4_generates_from_the_dialog_and_shows_the_new_vouchers() {
        let sim = SimServer::start(
            "127.0.0.1:0",
            SimConfig {
                users: 10,
                seed: 5,
                now: Some(test_now()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("printer.bin");
        let mut h = harness_with(&sim, dir.path(), 120, 40, out.to_str().unwrap()).await;
        until(&mut h, |s| s.contains("/ 10")).await;
        h.keys("P");
        let s = until(&mut h, |s| s.contains("belum ada batch")).await;
        assert!(s.contains("tekan g"), "{s}");
        h.keys("g");
        let s = until(&mut h, |s| s.contains("Buat voucher")).await;
        assert!(s.contains("Jumlah"), "{s}");
        h.keys("<BS><BS>7<Enter>");
        let s = until(&mut h, |s| s.contains("/ 17")).await;
        assert!(s.contains("7 voucher dibuat"), "{s}");
        // print the batch to the "printer" (a file): 7 tickets, 7 cuts
        h.keys("P");
        let s = until(&mut h, |s| s.contains("dicetak: 7 voucher")).await;
        assert!(s.contains("printer.bin"), "{s}");
        let bytes = std::fs::read(&out).unwrap();
        let cut = [0x1D, b'V', 66, 0];
        assert_eq!(bytes.windows(4).filter(|w| *w == cut).count(), 7);
        // a used voucher is not printed again ...
        h.keys("sss<Home>p");
        let s = until(&mut h, |s| s.contains("hanya voucher READY")).await;
        assert!(s.contains("status=TERPAKAI"), "{s}");
        // ... one READY voucher is: the selected row
        h.keys("xs<Home>p");
        let s = until(&mut h, |s| s.contains("dicetak: 1 voucher")).await;
        assert!(s.contains("printer.bin"), "{s}");
        sim.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn f4_names_a_user_the_sync_had_to_skip() {
        let sim = SimServer::start(
            "127.0.0.1:0",
            SimConfig {
                users: 10,
                seed: 5,
                now: Some(test_now()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let big = vec![b'x'; 20 * 1024 * 1024];
        sim.with_world(|w, _| {
            w.insert_user(&[
                ("name", b"huge"),
                ("password", b"x"),
                ("profile", b"10Menit"),
                ("comment", &big),
            ]);
        });
        let dir = tempfile::tempdir().unwrap();
        let mut h = harness_with(&sim, dir.path(), 120, 40, "").await;
        // the ten others are listed, and the skipped one is named with what to do
        let s = until(&mut h, |s| s.contains("/ 10") && s.contains("dilewati")).await;
        assert!(s.contains("\"huge\""), "{s}");
        sim.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unreachable_router_shows_in_the_status_bar() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        drop(l);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("konter.db");
        Store::open(&path).unwrap();
        let mut c = Config::default();
        c.router.addr = addr;
        let tab: Box<dyn Screen> = Box::new(HotspotTab::new(&c));
        let mut h = Harness::new(
            c,
            Some(Arc::new(Db::open(&path).unwrap())),
            vec![tab],
            80,
            24,
        );
        let s = until(&mut h, |s| s.contains("Router ✗")).await;
        assert!(s.contains("Belum ada user"), "{s}");
    }
}
