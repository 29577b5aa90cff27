use super::*;
use crate::store::hotspot::{LoginEventRow, SaleRow};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn profiles() -> Vec<HotspotProfile> {
    crate::config::HotspotConfig::default().profiles
}

fn user(name: &str, status: Status, blok: &str, profile: &str, comment: &str) -> UserView {
    UserView {
        name: name.into(),
        status,
        profile: profile.into(),
        blok: Some(blok.into()),
        comment: comment.into(),
        disabled: status == Status::Rusak,
        uptime_s: if status == Status::Ready { 0 } else { 252 },
        bytes: if status == Status::Ready {
            0
        } else {
            3_250_000
        },
        login_count: u32::from(status != Status::Ready),
        relogins: 0,
        warning: false,
        address: (status == Status::Online).then(|| "10.5.50.12".to_string()),
        limit_uptime: "10m".into(),
    }
}

fn sample() -> Vec<UserView> {
    vec![
        user(
            "k3x9a2",
            Status::Online,
            "BLOK-A",
            "10Menit",
            "2026-11-21 10:00:00 | Blok-A10",
        ),
        user(
            "p0q8z1",
            Status::Rusak,
            "BLOK-C",
            "30Menit",
            "Audit: RUSAK 21/11/26 Blok-C30",
        ),
        user(
            "m4n5b6",
            Status::Ready,
            "BLOK-A",
            "10Menit",
            "vc-123-11.21.26-Blok-A10",
        ),
        user(
            "t7y8u9",
            Status::Terpakai,
            "BLOK-B",
            "30Menit",
            "2026-11-21 09:00:00 | Blok-B30",
        ),
        user(
            "r2e3w4",
            Status::Retur,
            "BLOK-C",
            "30Menit",
            "Blok-C30 (Retur) Valid: Retur Ref:vc-x | Profile:30Menit",
        ),
    ]
}

fn screen() -> HotspotScreen {
    let mut s = HotspotScreen::new(Lang::Id, profiles(), "ABC");
    s.title = "router: 127.0.0.1:8728 (sinkron 4 dtk lalu)".into();
    s.set_rows(sample());
    s
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn draw(s: &mut HotspotScreen, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render_with_hints(s, f)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn table_80x24() {
    let mut s = screen();
    insta::assert_snapshot!(draw(&mut s, 80, 24));
}

#[test]
fn table_120x40_shows_comments() {
    let mut s = screen();
    let out = draw(&mut s, 120, 40);
    assert!(out.contains("Audit: RUSAK"));
    insta::assert_snapshot!(out);
}

#[test]
fn status_filter_cycles() {
    let mut s = screen();
    assert_eq!(s.visible_count(), 5);
    s.handle_key(key(KeyCode::Char('s')));
    assert_eq!(s.visible_count(), 1);
    assert_eq!(s.selected_user().unwrap().name, "m4n5b6");
    s.handle_key(key(KeyCode::Char('s')));
    assert_eq!(s.selected_user().unwrap().status, Status::Online);
    s.handle_key(key(KeyCode::Char('x')));
    assert_eq!(s.visible_count(), 5);
}

#[test]
fn blok_and_profile_filters() {
    let mut s = screen();
    s.handle_key(key(KeyCode::Char('b'))); // BLOK-A
    assert_eq!(s.visible_count(), 2);
    s.handle_key(key(KeyCode::Char('b'))); // BLOK-B
    assert_eq!(s.visible_count(), 1);
    s.handle_key(key(KeyCode::Char('x')));
    s.handle_key(key(KeyCode::Char('o'))); // 10Menit
    assert_eq!(s.visible_count(), 2);
    s.handle_key(key(KeyCode::Char('o'))); // 30Menit
    assert_eq!(s.visible_count(), 3);
    assert!(draw(&mut s, 80, 24).contains("profil=30Menit"));
}

#[test]
fn search_typing_filters_and_esc_clears() {
    let mut s = screen();
    s.handle_key(key(KeyCode::Char('/')));
    for c in "retur".chars() {
        s.handle_key(key(KeyCode::Char(c)));
    }
    assert_eq!(s.visible_count(), 1);
    assert!(draw(&mut s, 80, 24).contains("cari: retur"));
    s.handle_key(key(KeyCode::Esc));
    assert_eq!(s.visible_count(), 5);
    s.handle_key(key(KeyCode::Char('/')));
    s.handle_key(key(KeyCode::Char('z')));
    s.handle_key(key(KeyCode::Char('z')));
    s.handle_key(key(KeyCode::Enter));
    assert_eq!(s.visible_count(), 0);
    assert!(draw(&mut s, 80, 24).contains("Tekan x untuk hapus filter"));
}

#[test]
fn enter_asks_for_detail_and_popup_shows_history() {
    let mut s = screen();
    s.handle_key(key(KeyCode::Down));
    let req = s.handle_key(key(KeyCode::Enter));
    assert_eq!(req, Some(ScreenRequest::Detail("p0q8z1".into())));
    let mut u = sample().remove(0);
    u.login_count = 3;
    u.relogins = 2;
    s.set_detail(UserDetail {
        user: u,
        first_login_at: Some("2026-11-21T10:00:00".into()),
        last_login_at: Some("2026-11-21T10:40:00".into()),
        last_logout_at: None,
        last_status: Some("online".into()),
        events: vec![
            LoginEventRow {
                date_key: "2026-11-21".into(),
                seq: 1,
                login_time: "10:00:00".into(),
                logout_time: Some("2026-11-21T10:05:00".into()),
                ip: "10.5.50.12".into(),
                mac: "AA".into(),
                uptime_s: 300,
                bytes: 1_000_000,
            },
            LoginEventRow {
                date_key: "2026-11-21".into(),
                seq: 2,
                login_time: "10:40:00".into(),
                logout_time: None,
                ip: "10.5.50.12".into(),
                mac: "AA".into(),
                uptime_s: 12,
                bytes: 100,
            },
        ],
        sales: vec![SaleRow {
            sale_date: "2026-11-21".into(),
            sale_time: "10:00:00".into(),
            username: "k3x9a2".into(),
            profile: "10Menit".into(),
            price: 5000,
            blok_name: "BLOK-A".into(),
            status: "normal".into(),
        }],
    });
    assert!(s.is_dialog_open());
    let out = draw(&mut s, 80, 24);
    assert!(out.contains("Relogin 2"), "{out}");
    assert!(out.contains("10:40:00"));
    assert!(out.contains("Rp5.000"));
    insta::assert_snapshot!(out);
    s.handle_key(key(KeyCode::Esc));
    assert!(!s.is_dialog_open());
}

#[test]
fn generate_dialog_builds_a_request_and_refuses_zero() {
    let mut s = screen();
    s.handle_key(key(KeyCode::Char('g')));
    insta::assert_snapshot!(draw(&mut s, 80, 24));
    s.handle_key(key(KeyCode::Backspace));
    s.handle_key(key(KeyCode::Backspace));
    assert_eq!(s.handle_key(key(KeyCode::Enter)), None);
    assert!(draw(&mut s, 80, 24).contains("jumlah harus 1 sampai 1000"));
    s.handle_key(key(KeyCode::Char('2')));
    s.handle_key(key(KeyCode::Char('5')));
    s.handle_key(key(KeyCode::Tab)); // profile
    s.handle_key(key(KeyCode::Right)); // 30Menit
    s.handle_key(key(KeyCode::Tab)); // blok
    s.handle_key(key(KeyCode::Left)); // C
    assert_eq!(
        s.handle_key(key(KeyCode::Enter)),
        Some(ScreenRequest::Generate {
            profile: "30Menit".into(),
            blok: "C".into(),
            count: 25
        })
    );
    assert!(!s.is_dialog_open());
}

#[test]
fn refresh_keeps_the_selected_user() {
    let mut s = screen();
    s.handle_key(key(KeyCode::End));
    assert_eq!(s.selected_user().unwrap().name, "r2e3w4");
    let mut rows = sample();
    rows.insert(0, user("aaaaaa", Status::Ready, "BLOK-A", "10Menit", ""));
    s.set_rows(rows);
    assert_eq!(s.selected_user().unwrap().name, "r2e3w4");
    assert_eq!(s.visible_count(), 6);
}

#[test]
fn release_events_are_ignored() {
    let mut s = screen();
    let mut k = key(KeyCode::Down);
    k.kind = KeyEventKind::Release;
    s.handle_key(k);
    assert_eq!(s.selected_user().unwrap().name, "k3x9a2");
}

#[test]
fn many_rows_scroll_and_render_only_the_window() {
    let mut s = HotspotScreen::new(Lang::En, profiles(), "A");
    s.set_rows(
        (0..10_000)
            .map(|i| user(&format!("u{i:05}"), Status::Ready, "BLOK-A", "10Menit", ""))
            .collect(),
    );
    for _ in 0..30 {
        s.handle_key(key(KeyCode::PageDown));
    }
    let out = draw(&mut s, 80, 24);
    assert!(out.contains("u00300"), "{out}");
    assert!(out.contains("row 301 / 10000"), "{out}");
}

#[test]
fn title_keeps_every_status_count_at_80_and_120_columns() {
    let mut s = HotspotScreen::new(Lang::Id, profiles(), "ABC");
    s.title = "router: 192.168.88.1:8728".into();
    let mut rows = Vec::new();
    for (i, st) in Status::ALL.iter().enumerate() {
        for k in 0..(1000 + i * 7) {
            rows.push(user(&format!("u{i}-{k}"), *st, "BLOK-A", "10Menit", "c"));
        }
    }
    s.set_rows(rows);
    let mut first_line = |w: u16| {
        let mut t = Terminal::new(TestBackend::new(w, 24)).unwrap();
        t.draw(|f| s.render(f, f.area())).unwrap();
        let buf = t.backend().buffer().clone();
        (0..w)
            .map(|x| buf[(x, 0)].symbol().to_string())
            .collect::<String>()
    };
    let narrow = first_line(80);
    for (abbr, n) in [
        ("RDY", 1000),
        ("ONL", 1007),
        ("TPK", 1014),
        ("RSK", 1021),
        ("RTR", 1028),
        ("INV", 1035),
        ("PGL", 1042),
    ] {
        assert!(narrow.contains(&format!("{abbr} {n}")), "{narrow}");
    }
    assert!(narrow.contains("Hotspot"), "{narrow}");
    let wide = first_line(120);
    for st in Status::ALL {
        assert!(wide.contains(st.as_str()), "{wide}");
    }
    assert!(wide.contains("PENGELOLA 1042"), "{wide}");
    // the router label comes back when there is room for it too
    let wider = first_line(160);
    assert!(wider.contains("PENGELOLA 1042"), "{wider}");
    assert!(wider.contains("192.168.88.1:8728"), "{wider}");
}

#[test]
fn long_comments_are_marked_as_cut() {
    assert_eq!(ellipsize("abcdef", 6), "abcdef");
    assert_eq!(ellipsize("abcdefg", 6), "abcde…");
    assert_eq!(ellipsize("", 0), "");
}

#[test]
fn only_ready_vouchers_are_printed_from_the_table() {
    let mut s = screen();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..s.visible_count() {
        let u = s.selected_user().unwrap().clone();
        let r = s.handle_key(key(KeyCode::Char('p')));
        if u.status == Status::Ready {
            assert_eq!(r, Some(ScreenRequest::Print(u.name.clone())));
        } else {
            assert_eq!(r, None, "{:?} must not print", u.status);
            let n = s.notice.clone().unwrap();
            assert!(n.contains(&u.name) && n.contains(u.status.as_str()), "{n}");
        }
        seen.insert(u.status);
        s.handle_key(key(KeyCode::Down));
    }
    assert!(seen.contains(&Status::Ready) && seen.contains(&Status::Online));
}

#[test]
fn a_login_known_only_from_its_sale_shows_no_made_up_time() {
    let mut s = screen();
    let u = sample().remove(3); // TERPAKAI
    s.set_detail(UserDetail {
        user: u,
        first_login_at: Some("2026-11-21T09:00:00".into()),
        last_login_at: Some("2026-11-21T09:00:00".into()),
        last_logout_at: None,
        last_status: None,
        events: vec![LoginEventRow {
            date_key: "2026-11-21".into(),
            seq: 1,
            login_time: "09:00:00".into(),
            logout_time: None,
            ip: "10.5.50.7".into(),
            mac: "BB".into(),
            uptime_s: 0,
            bytes: 0,
        }],
        sales: vec![],
    });
    let out = draw(&mut s, 80, 24);
    assert!(out.contains("09:00:00  →  -  -  -  10.5.50.7"), "{out}");
    assert!(!out.contains("00:00:00  0 B"), "{out}");
}
