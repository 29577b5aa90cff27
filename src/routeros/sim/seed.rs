//! The simulator's starting state: Mikhmon-style vouchers in every state a shop sees, from a
//! seed, so the same `--seed` always gives the same router.

use std::time::Duration;

use chrono::NaiveDateTime;

use super::world::{mikhmon_on_login, profile_price, World};
use crate::routeros::ops::format_uptime;

const LETTERS: &[u8] = b"ABCDEF";
const NAME_CHARS: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// The voucher states the seed produces, with their share in percent.
const MIX: &[(State, u64)] = &[
    (State::Ready, 52),
    (State::Terpakai, 26),
    (State::Online, 4),
    (State::Rusak, 6),
    (State::Retur, 5),
    (State::Invalid, 3),
    (State::Vip, 4),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ready,
    Online,
    Terpakai,
    Rusak,
    Retur,
    Invalid,
    Vip,
}

/// Fills `w` with the two Mikhmon profiles and `n` users. Online users get sessions that
/// started up to their limit ago (sim time zero is "now").
pub fn populate(w: &mut World, n: usize) {
    w.insert_profile(
        "10Menit",
        "1M/2M",
        &mikhmon_on_login("10Menit", profile_price("10Menit"), "1d"),
    );
    w.insert_profile(
        "30Menit",
        "2M/4M",
        &mikhmon_on_login("30Menit", profile_price("30Menit"), "1d"),
    );
    let boot = w.wall(Duration::ZERO);
    let mut used_names = std::collections::HashSet::new();
    // A few fixed special cases first, so even a small router shows them.
    let specials = [
        State::Ready,
        State::Online,
        State::Terpakai,
        State::Rusak,
        State::Retur,
        State::Invalid,
        State::Vip,
    ];
    for i in 0..n {
        let state = if i < specials.len() {
            specials[i]
        } else {
            pick_state(w)
        };
        let name = loop {
            let len = 5 + w.rand_below(2) as usize;
            let s: String = (0..len)
                .map(|_| NAME_CHARS[w.rand_below(NAME_CHARS.len() as u64) as usize] as char)
                .collect();
            if used_names.insert(s.clone()) {
                break s;
            }
        };
        add_user(w, i, &name, state, boot);
    }
}

fn pick_state(w: &mut World) -> State {
    let total: u64 = MIX.iter().map(|(_, p)| p).sum();
    let mut r = w.rand_below(total);
    for (s, p) in MIX {
        if r < *p {
            return *s;
        }
        r -= p;
    }
    State::Ready
}

fn add_user(w: &mut World, i: usize, name: &str, state: State, boot: NaiveDateTime) {
    let thirty = w.rand_below(4) == 0;
    let (profile, minutes) = if thirty {
        ("30Menit", 30)
    } else {
        ("10Menit", 10)
    };
    let letter = LETTERS[w.rand_below(LETTERS.len() as u64) as usize] as char;
    let blok = format!("Blok-{letter}{minutes}");
    let days_ago = w.rand_below(3) as i64;
    let made = boot - chrono::Duration::days(days_ago + 1);
    let batch = 100 + w.rand_below(900);
    let gen_comment = format!("vc-{batch}-{}-{blok}", made.format("%m.%d.%y"));
    let limit = format!("{minutes}m");
    let ip = format!("10.5.50.{}", 2 + w.rand_below(250));
    let mac = w.random_mac();
    // Used vouchers logged in some time before boot.
    let login_at =
        boot - chrono::Duration::minutes(30 + w.rand_below(60 * 24 * (days_ago as u64 + 1)) as i64);
    let expiry = login_at + chrono::Duration::days(1);
    let first_login = format!(
        "{} {} | {blok}",
        World::router_date(expiry),
        World::router_time(expiry)
    );
    let mut comment: Vec<u8> = gen_comment.clone().into_bytes();
    let mut uptime = 0u64;
    let mut bytes_in = 0u64;
    let mut disabled = false;
    let mut sale = false;
    let mut online = false;
    match state {
        State::Ready => {}
        State::Vip => comment = format!("{gen_comment} | VIP").into_bytes(),
        State::Terpakai => {
            uptime = minutes * 60 - w.rand_below(90);
            bytes_in = (3 + w.rand_below(80)) * 1_048_576 + w.rand_below(1_048_576);
            comment = format!("{first_login} | IP:{ip} | MAC:{mac}").into_bytes();
            sale = true;
            // Every 40th used voucher carries a name typed on a Windows PC (Windows-1252 bytes).
            if i % 40 == 2 {
                comment.extend_from_slice(b" | Kamar 3 \x96 Pak D\xe9d\xe9");
            }
        }
        State::Online => {
            // The login below rewrites the comment, as Mikhmon's on-login does.
            online = true;
        }
        State::Rusak => {
            uptime = 60 + w.rand_below(120);
            bytes_in = w.rand_below(900_000);
            disabled = true;
            comment = format!(
                "Audit: RUSAK {} {first_login} | IP:{ip} | MAC:{mac}",
                boot.format("%d/%m/%y")
            )
            .into_bytes();
            sale = true;
        }
        State::Retur => {
            let orig: String = (0..6)
                .map(|_| NAME_CHARS[w.rand_below(NAME_CHARS.len() as u64) as usize] as char)
                .collect();
            comment = format!("{blok} (Retur) Valid: Retur Ref:vc-{orig} | Profile:{profile}")
                .into_bytes();
            if w.rand_below(2) == 0 {
                uptime = minutes * 60 / 2;
                bytes_in = (2 + w.rand_below(20)) * 1_048_576;
            }
        }
        State::Invalid => {
            uptime = 60 * (1 + w.rand_below(minutes));
            bytes_in = w.rand_below(5 * 1_048_576);
            comment = format!("{first_login} | invalid").into_bytes();
            sale = true;
        }
    }
    let bytes_out = bytes_in / 9;
    let up = format_uptime(uptime);
    let (bi, bo) = (bytes_in.to_string(), bytes_out.to_string());
    let (pi, po) = ((bytes_in / 1200).to_string(), (bytes_out / 400).to_string());
    w.insert_user(&[
        ("server", b"all"),
        ("name", name.as_bytes()),
        ("password", name.as_bytes()),
        ("profile", profile.as_bytes()),
        ("limit-uptime", limit.as_bytes()),
        ("uptime", up.as_bytes()),
        ("bytes-in", bi.as_bytes()),
        ("bytes-out", bo.as_bytes()),
        ("packets-in", pi.as_bytes()),
        ("packets-out", po.as_bytes()),
        ("disabled", if disabled { b"true" } else { b"false" }),
        ("comment", &comment),
    ]);
    if sale {
        let date = World::router_date(login_at);
        let record = [
            date.clone(),
            World::router_time(login_at),
            name.to_string(),
            profile_price(profile).to_string(),
            ip.clone(),
            mac.clone(),
            "1d".into(),
            profile.to_string(),
            blok.clone(),
        ]
        .join("-|-");
        let owner = format!("{}{}", &date[..3], login_at.format("%Y"));
        w.insert_script(&record, &owner, &date, "mikhmon");
    }
    if online {
        // Logged in `started` seconds before the simulator came up.
        let started = Duration::from_secs(w.rand_below(minutes * 60 - 30));
        w.offset -= started;
        let _ = w.login(name.as_bytes(), None, &ip, &mac, Duration::ZERO);
        w.offset += started;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 21)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
    }

    #[test]
    fn same_seed_same_router() {
        let mut a = World::new(boot(), 7);
        populate(&mut a, 300);
        let mut b = World::new(boot(), 7);
        populate(&mut b, 300);
        assert_eq!(a.users.items, b.users.items);
        assert_eq!(a.users.items.len(), 300);
        let mut c = World::new(boot(), 8);
        populate(&mut c, 300);
        assert_ne!(a.users.items, c.users.items);
    }

    #[test]
    fn every_state_is_present() {
        let mut w = World::new(boot(), 3);
        populate(&mut w, 400);
        let comments: Vec<String> = w.users.items.iter().map(|u| u.text("comment")).collect();
        assert!(comments
            .iter()
            .any(|c| c.starts_with("vc-") && !c.contains('|')));
        assert!(comments.iter().any(|c| c.starts_with("Audit: RUSAK")));
        assert!(comments.iter().any(|c| c.contains("Retur Ref:vc-")));
        assert!(comments.iter().any(|c| c.contains("| invalid")));
        assert!(comments.iter().any(|c| c.contains("| VIP")));
        assert!(comments.iter().any(|c| c.contains("| IP:")));
        assert!(!w.active.is_empty());
        assert!(w
            .users
            .items
            .iter()
            .any(|u| std::str::from_utf8(u.get("comment").unwrap()).is_err()));
        assert!(w
            .scripts
            .items
            .iter()
            .all(|s| s.text("comment") == "mikhmon"));
        assert!(!w.scripts.items.is_empty());
    }
}
