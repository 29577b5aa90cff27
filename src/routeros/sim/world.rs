//! The simulated router's state and its command interpreter.
//!
//! Commands come in as word lists and go out as reply sentences; no sockets here, so the
//! interpreter is tested directly. Time is passed in (`SimTime`): the server feeds it from a
//! monotonic clock, tests can move it forward.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{Datelike, NaiveDateTime, Timelike};

use crate::routeros::ops::{format_uptime, parse_uptime};
use crate::routeros::proto::split_attr;

pub type Sentence = Vec<Vec<u8>>;

/// Monotonic sim time: how long the router has been up.
pub type SimTime = Duration;

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    Users,
    Profiles,
    Scripts,
    Scheduler,
}

struct Schema {
    kind: TableKind,
    path: &'static str,
    /// Properties `add` and `set` accept.
    writable: &'static [&'static str],
    /// Properties that must be given on `add`.
    required: &'static [&'static str],
    /// Values an item gets when `add` leaves them out (printed in this order first).
    defaults: &'static [(&'static str, &'static str)],
    /// Error message when `name` is already taken.
    duplicate: &'static str,
}

const SCHEMAS: &[Schema] = &[
    Schema {
        kind: TableKind::Users,
        path: "/ip/hotspot/user",
        writable: &[
            "name",
            "password",
            "profile",
            "server",
            "limit-uptime",
            "limit-bytes-total",
            "limit-bytes-in",
            "limit-bytes-out",
            "comment",
            "disabled",
            "mac-address",
            "address",
            "email",
            "routes",
        ],
        required: &["name"],
        defaults: &[
            ("server", "all"),
            ("profile", "default"),
            ("uptime", "0s"),
            ("bytes-in", "0"),
            ("bytes-out", "0"),
            ("packets-in", "0"),
            ("packets-out", "0"),
            ("dynamic", "false"),
            ("disabled", "false"),
            ("default", "false"),
        ],
        duplicate: "failure: already have user with this name for this server",
    },
    Schema {
        kind: TableKind::Profiles,
        path: "/ip/hotspot/user/profile",
        writable: &[
            "name",
            "rate-limit",
            "shared-users",
            "on-login",
            "on-logout",
            "idle-timeout",
            "keepalive-timeout",
            "session-timeout",
            "status-autorefresh",
            "address-pool",
            "parent-queue",
            "add-mac-cookie",
            "mac-cookie-timeout",
            "transparent-proxy",
        ],
        required: &["name"],
        defaults: &[
            ("shared-users", "1"),
            ("idle-timeout", "none"),
            ("keepalive-timeout", "2m"),
            ("status-autorefresh", "1m"),
            ("add-mac-cookie", "true"),
            ("mac-cookie-timeout", "3d"),
            ("transparent-proxy", "false"),
            ("default", "false"),
        ],
        duplicate: "failure: profile with the same name already exists",
    },
    Schema {
        kind: TableKind::Scripts,
        path: "/system/script",
        writable: &[
            "name",
            "owner",
            "source",
            "comment",
            "policy",
            "dont-require-permissions",
        ],
        required: &[],
        defaults: &[
            ("owner", "admin"),
            (
                "policy",
                "ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon",
            ),
            ("dont-require-permissions", "false"),
            ("run-count", "0"),
            ("source", ""),
            ("invalid", "false"),
        ],
        duplicate: "failure: item with such name already exists",
    },
    Schema {
        kind: TableKind::Scheduler,
        path: "/system/scheduler",
        writable: &[
            "name",
            "start-date",
            "start-time",
            "interval",
            "on-event",
            "comment",
            "disabled",
            "policy",
        ],
        required: &["name"],
        defaults: &[
            ("start-time", "startup"),
            ("interval", "0s"),
            ("on-event", ""),
            ("owner", "admin"),
            ("run-count", "0"),
            ("disabled", "false"),
        ],
        duplicate: "failure: item with such name already exists",
    },
];

/// The order RouterOS prints a hotspot user's properties in (`/ip/hotspot/user/print` without
/// `.proplist`). `server`, `name`, `profile`, the counters and the flags are always there; the
/// optional ones (`password`, `address`, `mac-address`, `email`, `routes`, the limits,
/// `comment`) only when set, as on a real router. `default` is RouterOS 7's flag for the
/// built-in `default-trial` user.
const USER_PRINT_ORDER: &[&str] = &[
    "server",
    "name",
    "password",
    "address",
    "mac-address",
    "profile",
    "routes",
    "email",
    "limit-uptime",
    "limit-bytes-in",
    "limit-bytes-out",
    "limit-bytes-total",
    "uptime",
    "bytes-in",
    "bytes-out",
    "packets-in",
    "packets-out",
    "dynamic",
    "disabled",
    "default",
    "comment",
];

fn schema(kind: TableKind) -> &'static Schema {
    SCHEMAS.iter().find(|s| s.kind == kind).expect("schema")
}

/// One item of a table: an id and its properties in print order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: u32,
    pub props: Vec<(String, Vec<u8>)>,
}

impl Item {
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.props
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_slice())
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default()
    }

    pub fn set(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        let value = value.into();
        if let Some(slot) = self.props.iter_mut().find(|(k, _)| k == name) {
            slot.1 = value;
        } else {
            self.props.push((name.to_string(), value));
        }
    }

    fn num(&self, name: &str) -> u64 {
        self.get(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

pub fn id_text(id: u32) -> String {
    format!("*{id:X}")
}

#[derive(Debug, Default, Clone)]
pub struct Table {
    /// In id order (ids only grow), so an id is found by binary search.
    pub items: Vec<Item>,
    next_id: u32,
    by_name: HashMap<Vec<u8>, u32>,
}

impl Table {
    fn new(first_id: u32) -> Self {
        Table {
            items: Vec::new(),
            next_id: first_id,
            by_name: HashMap::new(),
        }
    }

    fn alloc_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn push(&mut self, item: Item) {
        if let Some(n) = item.get("name") {
            self.by_name.insert(n.to_vec(), item.id);
        }
        self.items.push(item);
    }

    fn remove_at(&mut self, i: usize) -> Item {
        let item = self.items.remove(i);
        if let Some(n) = item.get("name") {
            if self.by_name.get(n) == Some(&item.id) {
                self.by_name.remove(n);
            }
        }
        item
    }

    fn set_prop(&mut self, i: usize, k: &str, v: Vec<u8>) {
        if k == "name" {
            let id = self.items[i].id;
            if let Some(old) = self.items[i].get("name") {
                if self.by_name.get(old) == Some(&id) {
                    let old = old.to_vec();
                    self.by_name.remove(&old);
                }
            }
            self.by_name.insert(v.clone(), id);
        }
        self.items[i].set(k, v);
    }

    fn pos_of(&self, id: u32) -> Option<usize> {
        self.items.binary_search_by_key(&id, |i| i.id).ok()
    }

    /// Finds by `*HEX` id, or by name.
    fn find(&self, key: &[u8]) -> Option<usize> {
        if let Some(hex) = key.strip_prefix(b"*") {
            let id = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u32::from_str_radix(h, 16).ok())?;
            return self.pos_of(id);
        }
        self.by_name.get(key).and_then(|id| self.pos_of(*id))
    }
}

/// A logged-in hotspot session; uptime and bytes grow with sim time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: u32,
    pub user: String,
    pub address: String,
    pub mac: String,
    pub login_at: SimTime,
    /// Bytes per second, down and up.
    pub rate_in: u64,
    pub rate_out: u64,
    /// Seconds this session may last (limit-uptime minus what the user had used).
    pub limit: Option<u64>,
}

impl Session {
    pub fn uptime(&self, now: SimTime) -> u64 {
        now.saturating_sub(self.login_at).as_secs()
    }
}

/// What a command did, besides its reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    None,
    /// `/quit`: the router ends the session with `!fatal`.
    Quit,
}

/// The whole simulated router.
pub struct World {
    pub users: Table,
    pub profiles: Table,
    pub scripts: Table,
    pub scheduler: Table,
    pub active: Vec<Session>,
    next_active_id: u32,
    /// Wall-clock time of the router's boot.
    pub boot_wall: NaiveDateTime,
    /// Router uptime at sim time zero; tests move time forward by adding to it.
    pub offset: Duration,
    pub identity: String,
    rng: u64,
    /// (router date, user) of every Mikhmon sales record, for once-per-day.
    sales: HashSet<(String, String)>,
}

/// Price Mikhmon's on-login template writes into the sales record (rules §2).
pub fn profile_price(profile: &str) -> u64 {
    if profile == "30Menit" {
        20_000
    } else {
        5_000
    }
}

/// The on-login script text of a Mikhmon profile (kept as text; the simulator performs its
/// effect itself when a user logs in).
pub fn mikhmon_on_login(profile: &str, price: u64, validity: &str) -> String {
    format!(
        ":put (\",rem,{price},{validity},{price},,Disable,\"); {{:local comment [ /ip hotspot user get \
         [/ip hotspot user find where name=\"$user\"] comment]; :local ucode [:pic $comment 0 2]; \
         :if ($ucode = \"vc\" or $ucode = \"up\" or $comment = \"\") do={{ :local date [ /system clock get date ]; \
         :local time [ /system clock get time ]; /sys sch add name=\"$user\" disable=no start-date=$date interval=\"{validity}\"; \
         :delay 5s; :local exp [ /sys sch get [ /sys sch find where name=\"$user\" ] next-run]; \
         /sys sch remove [find where name=\"$user\"]; :local bl [:find $comment \"Blok-\"]; \
         /ip hotspot user set comment=(\"$exp | \" . [:pic $comment $bl [:len $comment]]) [find where name=\"$user\"]; \
         :local mac $\"mac-address\"; :local month [:pic $date 0 3]; :local year [:pic $date 7 11]; \
         /system script add name=\"$date-|-$time-|-$user-|-{price}-|-$address-|-$mac-|-{validity}-|-{profile}-|-$comment\" \
         owner=\"$month$year\" source=$date comment=mikhmon }}}}"
    )
}

impl World {
    /// A router whose clock reads `now_wall` at sim time zero. It has been "up" for a day, so
    /// seeded sessions can have started before the simulator did.
    pub fn new(now_wall: NaiveDateTime, seed: u64) -> World {
        let up = Duration::from_secs(86_400);
        let boot_wall = now_wall - chrono::Duration::from_std(up).unwrap_or_default();
        let mut w = World {
            users: Table::new(1),
            profiles: Table::new(0),
            scripts: Table::new(1),
            scheduler: Table::new(1),
            active: Vec::new(),
            next_active_id: 1,
            boot_wall,
            offset: up,
            identity: "konter-sim".into(),
            rng: seed ^ 0x9E37_79B9_7F4A_7C15,
            sales: HashSet::new(),
        };
        let id = w.profiles.alloc_id();
        w.profiles.push(Item {
            id,
            props: vec![
                ("name".into(), b"default".to_vec()),
                ("shared-users".into(), b"1".to_vec()),
                ("default".into(), b"true".to_vec()),
            ],
        });
        w
    }

    /// Deterministic pseudo-random numbers (SplitMix64).
    pub fn rand(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn rand_below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.rand() % n
        }
    }

    fn table(&self, kind: TableKind) -> &Table {
        match kind {
            TableKind::Users => &self.users,
            TableKind::Profiles => &self.profiles,
            TableKind::Scripts => &self.scripts,
            TableKind::Scheduler => &self.scheduler,
        }
    }

    fn table_mut(&mut self, kind: TableKind) -> &mut Table {
        match kind {
            TableKind::Users => &mut self.users,
            TableKind::Profiles => &mut self.profiles,
            TableKind::Scripts => &mut self.scripts,
            TableKind::Scheduler => &mut self.scheduler,
        }
    }

    /// The router's wall clock at sim time `now`.
    pub fn wall(&self, now: SimTime) -> NaiveDateTime {
        self.boot_wall + chrono::Duration::from_std(now + self.offset).unwrap_or_default()
    }

    /// RouterOS 6 style date `nov/21/2026`.
    pub fn router_date(t: NaiveDateTime) -> String {
        format!(
            "{}/{:02}/{}",
            MONTHS[t.month0() as usize],
            t.day(),
            t.year()
        )
    }

    pub fn router_time(t: NaiveDateTime) -> String {
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    }

    /// Moves the router's clock forward (tests, demos).
    pub fn advance(&mut self, d: Duration) {
        self.offset += d;
    }

    fn effective(&self, now: SimTime) -> SimTime {
        now + self.offset
    }

    /// Adds a user directly (seeding); returns its id.
    pub fn insert_user(&mut self, props: &[(&str, &[u8])]) -> u32 {
        let id = self.users.alloc_id();
        let mut item = Item {
            id,
            props: Vec::new(),
        };
        for (k, v) in props {
            item.set(k, v.to_vec());
        }
        fill_defaults(&mut item, schema(TableKind::Users));
        self.users.push(item);
        id
    }

    pub fn insert_profile(&mut self, name: &str, rate_limit: &str, on_login: &str) {
        let id = self.profiles.alloc_id();
        let mut item = Item {
            id,
            props: vec![
                ("name".into(), name.as_bytes().to_vec()),
                ("rate-limit".into(), rate_limit.as_bytes().to_vec()),
                ("on-login".into(), on_login.as_bytes().to_vec()),
            ],
        };
        fill_defaults(&mut item, schema(TableKind::Profiles));
        self.profiles.push(item);
    }

    pub fn insert_script(&mut self, name: &str, owner: &str, source: &str, comment: &str) {
        let id = self.scripts.alloc_id();
        let mut item = Item {
            id,
            props: vec![
                ("name".into(), name.as_bytes().to_vec()),
                ("owner".into(), owner.as_bytes().to_vec()),
                ("source".into(), source.as_bytes().to_vec()),
                ("comment".into(), comment.as_bytes().to_vec()),
            ],
        };
        fill_defaults(&mut item, schema(TableKind::Scripts));
        self.note_sale(&item);
        self.scripts.push(item);
    }

    fn note_sale(&mut self, item: &Item) {
        if item.get("comment") != Some(b"mikhmon") {
            return;
        }
        let n = item.text("name");
        let mut f = n.split("-|-");
        if let (Some(date), Some(user)) = (f.next(), f.nth(1)) {
            self.sales.insert((date.to_string(), user.to_string()));
        }
    }

    fn rebuild_sales(&mut self) {
        self.sales.clear();
        let items = std::mem::take(&mut self.scripts.items);
        for i in &items {
            self.note_sale(i);
        }
        self.scripts.items = items;
    }

    pub fn user(&self, name: &str) -> Option<&Item> {
        self.users
            .find(name.as_bytes())
            .map(|i| &self.users.items[i])
    }

    /// A hotspot login (what `/ip/hotspot/active/login` and the background activity do), with
    /// the effect of Mikhmon's on-login script: the first login rewrites the comment to
    /// `<expiry> | Blok-..`, and one `-|-` sales record per user per router date is written.
    pub fn login(
        &mut self,
        name: &[u8],
        password: Option<&[u8]>,
        ip: &str,
        mac: &str,
        now: SimTime,
    ) -> Result<u32, String> {
        let Some(idx) = self.users.find(name) else {
            return Err("no such user".into());
        };
        let now = self.effective(now);
        let user = &self.users.items[idx];
        if let Some(p) = password {
            if user.get("password").unwrap_or(b"") != p {
                return Err("invalid password".into());
            }
        }
        if user.get("disabled") == Some(b"true") {
            return Err("user is disabled".into());
        }
        let uname = String::from_utf8_lossy(name).into_owned();
        if self.active.iter().any(|s| s.user == uname) {
            return Err("user already logged in (shared-users=1)".into());
        }
        let used = parse_uptime(&user.text("uptime")).unwrap_or(0);
        let limit = parse_uptime(&user.text("limit-uptime")).filter(|l| *l > 0);
        if let Some(l) = limit {
            if used >= l {
                return Err("uptime limit reached".into());
            }
        }
        let profile = user.text("profile");
        let comment = user.get("comment").unwrap_or(b"").to_vec();
        let wall = self.boot_wall + chrono::Duration::from_std(now).unwrap_or_default();

        // First login: `<expiry> | Blok-..[ | VIP]`; later logins keep the comment.
        let comment_text = String::from_utf8_lossy(&comment).into_owned();
        // Mikhmon rewrites only a voucher that never logged in (`vc-`/`up-` or no comment).
        let first = comment_text.is_empty()
            || comment_text.starts_with("vc-")
            || comment_text.starts_with("up-")
            || !comment_text.contains('|');
        let new_comment = if !first {
            comment.clone()
        } else {
            let expiry = wall + chrono::Duration::days(1);
            let blok = comment_text
                .find("Blok-")
                .map(|i| {
                    comment_text[i..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_string()
                })
                .unwrap_or_default();
            let mut c = format!(
                "{} {}",
                World::router_date(expiry),
                World::router_time(expiry)
            );
            if !blok.is_empty() {
                c.push_str(" | ");
                c.push_str(&blok);
            }
            for word in ["VIP", "Pengelola"] {
                if comment_text.contains(word) {
                    c.push_str(" | ");
                    c.push_str(word);
                }
            }
            c.into_bytes()
        };
        self.users.set_prop(idx, "comment", new_comment.clone());

        // The sales record, once per user per router date.
        let date = World::router_date(wall);
        if !self.sales.contains(&(date.clone(), uname.clone())) {
            let nc = String::from_utf8_lossy(&new_comment).into_owned();
            let blok_info = nc
                .find("Blok-")
                .map(|i| nc[i..].split('|').next().unwrap_or("").trim().to_string())
                .unwrap_or_default();
            let record = [
                date.clone(),
                World::router_time(wall),
                uname.clone(),
                profile_price(&profile).to_string(),
                ip.to_string(),
                mac.to_string(),
                "1d".to_string(),
                profile.clone(),
                blok_info,
            ]
            .join("-|-");
            let owner = format!("{}{}", &date[..3], wall.year());
            self.insert_script(&record, &owner, &date, "mikhmon");
        }

        let rate_in = 20_000 + self.rand_below(200_000);
        let rate_out = rate_in / 8;
        let id = self.next_active_id;
        self.next_active_id += 1;
        self.active.push(Session {
            id,
            user: uname,
            address: ip.to_string(),
            mac: mac.to_string(),
            login_at: now,
            rate_in,
            rate_out,
            limit: limit.map(|l| l - used),
        });
        Ok(id)
    }

    /// Ends a session: the user's uptime and bytes grow by the session's, and the comment gets
    /// `| IP:<ip> | MAC:<mac>` (Mikhmon's on-logout).
    pub fn logout(&mut self, session_index: usize, now: SimTime) {
        let now = self.effective(now);
        let s = self.active.remove(session_index);
        let mut up = s.uptime(now);
        if let Some(l) = s.limit {
            up = up.min(l);
        }
        let Some(idx) = self.users.find(s.user.as_bytes()) else {
            return;
        };
        let u = &mut self.users.items[idx];
        let total = parse_uptime(&u.text("uptime")).unwrap_or(0) + up;
        u.set("uptime", format_uptime(total));
        let bin = u.num("bytes-in") + s.rate_in * up;
        let bout = u.num("bytes-out") + s.rate_out * up;
        u.set("bytes-in", bin.to_string());
        u.set("bytes-out", bout.to_string());
        u.set("packets-in", (bin / 1200).to_string());
        u.set("packets-out", (bout / 400).to_string());
        let c = u.text("comment");
        let kept: Vec<&str> = c
            .split(" | ")
            .filter(|p| !p.starts_with("IP:") && !p.starts_with("MAC:"))
            .collect();
        let c = format!("{} | IP:{} | MAC:{}", kept.join(" | "), s.address, s.mac);
        u.set("comment", c);
    }

    /// Logs out sessions that reached their uptime limit.
    pub fn expire_sessions(&mut self, now: SimTime) {
        let eff = self.effective(now);
        let mut i = 0;
        while i < self.active.len() {
            let s = &self.active[i];
            if s.limit.is_some_and(|l| s.uptime(eff) >= l) {
                self.logout(i, now);
            } else {
                i += 1;
            }
        }
    }

    /// Logs in one random READY voucher (background activity of `konter sim router`).
    pub fn random_login(&mut self, now: SimTime) -> Option<String> {
        let ready: Vec<usize> = self
            .users
            .items
            .iter()
            .enumerate()
            .filter(|(_, u)| {
                u.get("disabled") != Some(b"true")
                    && u.text("uptime") == "0s"
                    && u.text("comment").starts_with("vc-")
            })
            .map(|(i, _)| i)
            .collect();
        if ready.is_empty() {
            return None;
        }
        let pick = ready[self.rand_below(ready.len() as u64) as usize];
        let name = self.users.items[pick].get("name")?.to_vec();
        let ip = format!("10.5.50.{}", 2 + self.rand_below(250));
        let mac = self.random_mac();
        self.login(&name, None, &ip, &mac, now).ok()?;
        Some(String::from_utf8_lossy(&name).into_owned())
    }

    pub fn random_mac(&mut self) -> String {
        let r = self.rand();
        let b = r.to_be_bytes();
        format!(
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            b[0] & 0xFE | 0x02,
            b[1],
            b[2],
            b[3],
            b[4],
            b[5]
        )
    }

    /// Runs one command (after login) and returns its reply sentences, tag included.
    pub fn execute(&mut self, words: &[Vec<u8>], now: SimTime) -> (Vec<Sentence>, Effect) {
        if words.is_empty() {
            let mut r = Reply::new(None);
            r.trap("empty command");
            return (r.finish(), Effect::None);
        }
        let mut tag: Option<Vec<u8>> = None;
        let mut attrs: Vec<(&[u8], &[u8])> = Vec::new();
        let mut queries: Vec<&[u8]> = Vec::new();
        let mut bad: Option<String> = None;
        for w in &words[1..] {
            if let Some(t) = w.strip_prefix(b".tag=") {
                tag = Some(t.to_vec());
            } else if w.starts_with(b"?") {
                queries.push(&w[1..]);
            } else if let Some((k, v)) = split_attr(w) {
                attrs.push((k, v));
            } else if bad.is_none() {
                bad = Some(format!("unknown parameter {}", String::from_utf8_lossy(w)));
            }
        }
        let path = String::from_utf8_lossy(&words[0]).into_owned();
        let mut out = Reply::new(tag);
        if let Some(m) = bad {
            out.trap(&m);
            return (out.finish(), Effect::None);
        }
        self.expire_sessions(now);
        let effect = match self.dispatch(&path, &attrs, &queries, now, &mut out) {
            Ok(e) => e,
            Err(msg) => {
                out.trap(&msg);
                Effect::None
            }
        };
        (out.finish(), effect)
    }

    fn dispatch(
        &mut self,
        path: &str,
        attrs: &[(&[u8], &[u8])],
        queries: &[&[u8]],
        now: SimTime,
        out: &mut Reply,
    ) -> Result<Effect, String> {
        let (dir, verb) = match path.rsplit_once('/') {
            Some((d, v)) if !d.is_empty() => (d, v),
            _ => ("", path.trim_start_matches('/')),
        };
        match (dir, verb) {
            ("", "quit") => return Ok(Effect::Quit),
            ("", "cancel") => return Ok(Effect::None),
            ("/system/clock", "print") => {
                let t = self.wall(now);
                let row = vec![
                    ("time".to_string(), World::router_time(t).into_bytes()),
                    ("date".to_string(), World::router_date(t).into_bytes()),
                    ("time-zone-name".to_string(), b"Asia/Jakarta".to_vec()),
                    ("gmt-offset".to_string(), b"+07:00".to_vec()),
                ];
                return print_rows(vec![row], attrs, queries, out).map(|_| Effect::None);
            }
            ("/system/identity", "print") => {
                let row = vec![("name".to_string(), self.identity.as_bytes().to_vec())];
                return print_rows(vec![row], attrs, queries, out).map(|_| Effect::None);
            }
            ("/system/resource", "print") => {
                let up = format_uptime(self.effective(now).as_secs());
                let row = vec![
                    ("uptime".to_string(), up.into_bytes()),
                    ("version".to_string(), b"7.18 (konter-sim)".to_vec()),
                    ("board-name".to_string(), b"konter-sim".to_vec()),
                    ("cpu-load".to_string(), b"3".to_vec()),
                    ("free-memory".to_string(), b"104857600".to_vec()),
                    ("total-memory".to_string(), b"268435456".to_vec()),
                ];
                return print_rows(vec![row], attrs, queries, out).map(|_| Effect::None);
            }
            ("/ip/hotspot/active", verb) => return self.active_cmd(verb, attrs, queries, now, out),
            _ => {}
        }
        let Some(schema) = SCHEMAS.iter().find(|s| s.path == dir) else {
            return Err("no such command prefix".into());
        };
        match verb {
            "print" => self.print(schema, attrs, queries, out),
            "add" => self.add(schema, attrs, out),
            "set" => self.set(schema, attrs),
            "remove" => self.remove(schema, attrs),
            "enable" | "disable" if schema.writable.contains(&"disabled") => {
                let v: &[u8] = if verb == "disable" { b"yes" } else { b"no" };
                let mut a: Vec<(&[u8], &[u8])> = attrs.to_vec();
                a.push((b"disabled", v));
                self.set(schema, &a)
            }
            _ => Err("no such command".into()),
        }
    }

    fn print(
        &mut self,
        schema: &Schema,
        attrs: &[(&[u8], &[u8])],
        queries: &[&[u8]],
        out: &mut Reply,
    ) -> Result<Effect, String> {
        let opts = PrintOpts::parse(attrs)?;
        let q = Query::parse(queries)?;
        let table = self.table(schema.kind);
        let mut count = 0usize;
        for item in &table.items {
            let id = id_text(item.id);
            let get = |k: &str| -> Option<&[u8]> {
                if k == ".id" {
                    Some(id.as_bytes())
                } else {
                    item.get(k)
                }
            };
            if !q.matches(&get) {
                continue;
            }
            count += 1;
            if opts.count_only {
                continue;
            }
            let mut row: Vec<(Cow<str>, &[u8])> = Vec::new();
            if opts.wants(".id") {
                row.push((Cow::Borrowed(".id"), id.as_bytes()));
            }
            if schema.kind == TableKind::Users {
                // RouterOS's own order first, then anything else the item holds.
                for k in USER_PRINT_ORDER {
                    if let Some(v) = item.get(k) {
                        if opts.wants(k) {
                            row.push((Cow::Borrowed(*k), v));
                        }
                    }
                }
                for (k, v) in &item.props {
                    if !USER_PRINT_ORDER.contains(&k.as_str()) && opts.wants(k) {
                        row.push((Cow::Borrowed(k.as_str()), v.as_slice()));
                    }
                }
            } else {
                for (k, v) in &item.props {
                    if opts.wants(k) {
                        row.push((Cow::Borrowed(k.as_str()), v.as_slice()));
                    }
                }
            }
            out.row(&row);
        }
        if opts.count_only {
            out.done_ret(count.to_string().as_bytes());
        } else if count == 0 {
            out.empty();
        }
        Ok(Effect::None)
    }

    fn add(
        &mut self,
        schema: &Schema,
        attrs: &[(&[u8], &[u8])],
        out: &mut Reply,
    ) -> Result<Effect, String> {
        let mut item = Item {
            id: 0,
            props: Vec::new(),
        };
        for (k, v) in attrs {
            let k = std::str::from_utf8(k).map_err(|_| "unknown parameter".to_string())?;
            let v = self.validate(schema, k, v)?;
            item.set(k, v);
        }
        for r in schema.required {
            if item.get(r).is_none_or(|v| v.is_empty()) {
                return Err(format!("missing value(s) of argument(s) {r}"));
            }
        }
        if schema.kind == TableKind::Scripts && item.get("name").is_none_or(|v| v.is_empty()) {
            let n = format!("script{}", self.scripts.next_id);
            item.set("name", n);
        }
        let name = item.get("name").unwrap_or(b"").to_vec();
        if self.table(schema.kind).find(&name).is_some() {
            return Err(schema.duplicate.into());
        }
        fill_defaults(&mut item, schema);
        let table = self.table_mut(schema.kind);
        item.id = table.alloc_id();
        let id = item.id;
        table.push(item);
        if schema.kind == TableKind::Scripts {
            self.rebuild_sales();
        }
        out.done_ret(id_text(id).as_bytes());
        Ok(Effect::None)
    }

    fn set(&mut self, schema: &Schema, attrs: &[(&[u8], &[u8])]) -> Result<Effect, String> {
        let targets = self.targets(schema.kind, attrs)?;
        let mut changes = Vec::new();
        for (k, v) in attrs {
            if *k == b".id" || *k == b"numbers" {
                continue;
            }
            let k = std::str::from_utf8(k).map_err(|_| "unknown parameter".to_string())?;
            let v = self.validate(schema, k, v)?;
            if k == "name" {
                if targets.len() > 1 {
                    return Err("failure: cannot set the same name on several items".into());
                }
                if let Some(other) = self.table(schema.kind).find(&v) {
                    if !targets.contains(&other) {
                        return Err(schema.duplicate.into());
                    }
                }
            }
            changes.push((k.to_string(), v));
        }
        let table = self.table_mut(schema.kind);
        for i in targets {
            for (k, v) in &changes {
                table.set_prop(i, k, v.clone());
            }
        }
        if schema.kind == TableKind::Scripts {
            self.rebuild_sales();
        }
        Ok(Effect::None)
    }

    fn remove(&mut self, schema: &Schema, attrs: &[(&[u8], &[u8])]) -> Result<Effect, String> {
        let mut targets = self.targets(schema.kind, attrs)?;
        targets.sort_unstable();
        targets.dedup();
        let table = self.table_mut(schema.kind);
        for i in targets.into_iter().rev() {
            table.remove_at(i);
        }
        if schema.kind == TableKind::Scripts {
            self.rebuild_sales();
        }
        Ok(Effect::None)
    }

    /// Items named by `.id` or `numbers` (comma-separated ids or names).
    fn targets(&self, kind: TableKind, attrs: &[(&[u8], &[u8])]) -> Result<Vec<usize>, String> {
        let Some((_, list)) = attrs.iter().find(|(k, _)| *k == b".id" || *k == b"numbers") else {
            return Err("missing value(s) of argument(s) .id".into());
        };
        let table = self.table(kind);
        let mut out = Vec::new();
        for key in list.split(|b| *b == b',') {
            match table.find(key) {
                Some(i) => out.push(i),
                None => return Err("no such item".into()),
            }
        }
        Ok(out)
    }

    fn validate(&self, schema: &Schema, k: &str, v: &[u8]) -> Result<Vec<u8>, String> {
        if !schema.writable.contains(&k) {
            return Err(format!("unknown parameter {k}"));
        }
        let text = || std::str::from_utf8(v).map(str::trim).unwrap_or("");
        match k {
            "disabled" | "dont-require-permissions" | "add-mac-cookie" | "transparent-proxy" => {
                match text() {
                    "yes" | "true" => Ok(b"true".to_vec()),
                    "no" | "false" => Ok(b"false".to_vec()),
                    _ => Err(format!("value of {k} must be yes or no")),
                }
            }
            "limit-uptime" | "interval" | "session-timeout" => match parse_uptime(text()) {
                Some(s) => Ok(format_uptime(s).into_bytes()),
                None if text() == "none" || text().is_empty() => Ok(b"0s".to_vec()),
                None => Err(format!("value of {k} is not a time interval")),
            },
            "limit-bytes-total" | "limit-bytes-in" | "limit-bytes-out" | "shared-users" => {
                if text().chars().all(|c| c.is_ascii_digit()) && !text().is_empty() {
                    Ok(text().as_bytes().to_vec())
                } else if k == "shared-users" && text() == "unlimited" {
                    Ok(b"unlimited".to_vec())
                } else {
                    Err(format!("value of {k} must be a number"))
                }
            }
            "profile" if schema.kind == TableKind::Users => {
                if self.profiles.find(v).is_some() {
                    Ok(v.to_vec())
                } else {
                    Err("input does not match any value of profile".into())
                }
            }
            _ => Ok(v.to_vec()),
        }
    }

    fn active_rows(&self, now: SimTime) -> Vec<Vec<(String, Vec<u8>)>> {
        let now = self.effective(now);
        self.active
            .iter()
            .map(|s| {
                let up = s.uptime(now).min(s.limit.unwrap_or(u64::MAX));
                let mut row = vec![
                    (".id".to_string(), id_text(s.id).into_bytes()),
                    ("server".to_string(), b"hotspot1".to_vec()),
                    ("user".to_string(), s.user.as_bytes().to_vec()),
                    ("domain".to_string(), Vec::new()),
                    ("address".to_string(), s.address.as_bytes().to_vec()),
                    ("mac-address".to_string(), s.mac.as_bytes().to_vec()),
                    ("login-by".to_string(), b"http-chap".to_vec()),
                    ("uptime".to_string(), format_uptime(up).into_bytes()),
                    ("idle-time".to_string(), b"0s".to_vec()),
                ];
                if let Some(l) = s.limit {
                    row.push((
                        "session-time-left".to_string(),
                        format_uptime(l.saturating_sub(up)).into_bytes(),
                    ));
                }
                row.push(("keepalive-timeout".to_string(), b"2m".to_vec()));
                let bin = s.rate_in * up;
                let bout = s.rate_out * up;
                row.push(("bytes-in".to_string(), bin.to_string().into_bytes()));
                row.push(("bytes-out".to_string(), bout.to_string().into_bytes()));
                row.push((
                    "packets-in".to_string(),
                    (bin / 1200).to_string().into_bytes(),
                ));
                row.push((
                    "packets-out".to_string(),
                    (bout / 400).to_string().into_bytes(),
                ));
                row.push(("radius".to_string(), b"false".to_vec()));
                row
            })
            .collect()
    }

    fn active_cmd(
        &mut self,
        verb: &str,
        attrs: &[(&[u8], &[u8])],
        queries: &[&[u8]],
        now: SimTime,
        out: &mut Reply,
    ) -> Result<Effect, String> {
        match verb {
            "print" => {
                let rows = self.active_rows(now);
                print_rows(rows, attrs, queries, out).map(|_| Effect::None)
            }
            "remove" => {
                let Some((_, list)) = attrs.iter().find(|(k, _)| *k == b".id" || *k == b"numbers")
                else {
                    return Err("missing value(s) of argument(s) .id".into());
                };
                let mut idx = Vec::new();
                for key in list.split(|b| *b == b',') {
                    let found = self
                        .active
                        .iter()
                        .position(|s| id_text(s.id).as_bytes() == key || s.user.as_bytes() == key);
                    match found {
                        Some(i) => idx.push(i),
                        None => return Err("no such item".into()),
                    }
                }
                idx.sort_unstable();
                idx.dedup();
                for i in idx.into_iter().rev() {
                    self.logout(i, now);
                }
                Ok(Effect::None)
            }
            "login" => {
                let get = |n: &[u8]| attrs.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
                for (k, _) in attrs {
                    if !matches!(*k, b"user" | b"password" | b"mac-address" | b"ip") {
                        return Err(format!("unknown parameter {}", String::from_utf8_lossy(k)));
                    }
                }
                let user = get(b"user").ok_or("missing value(s) of argument(s) user")?;
                let ip = get(b"ip").ok_or("missing value(s) of argument(s) ip")?;
                let mac = match get(b"mac-address") {
                    Some(m) => String::from_utf8_lossy(m).into_owned(),
                    None => self.random_mac(),
                };
                let ip = String::from_utf8_lossy(ip).into_owned();
                self.login(user, get(b"password"), &ip, &mac, now)
                    .map(|_| Effect::None)
                    .map_err(|e| format!("failure: {e}"))
            }
            _ => Err("no such command".into()),
        }
    }
}

fn fill_defaults(item: &mut Item, schema: &Schema) {
    for (k, v) in schema.defaults {
        if item.get(k).is_none() {
            item.props.push((k.to_string(), v.as_bytes().to_vec()));
        }
    }
}

fn print_rows(
    rows: Vec<Vec<(String, Vec<u8>)>>,
    attrs: &[(&[u8], &[u8])],
    queries: &[&[u8]],
    out: &mut Reply,
) -> Result<(), String> {
    let opts = PrintOpts::parse(attrs)?;
    let q = Query::parse(queries)?;
    let mut count = 0;
    for row in &rows {
        let get = |k: &str| row.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_slice());
        if !q.matches(&get) {
            continue;
        }
        count += 1;
        if opts.count_only {
            continue;
        }
        let picked: Vec<(Cow<str>, &[u8])> = row
            .iter()
            .filter(|(k, _)| opts.wants(k))
            .map(|(k, v)| (Cow::Borrowed(k.as_str()), v.as_slice()))
            .collect();
        out.row(&picked);
    }
    if opts.count_only {
        out.done_ret(count.to_string().as_bytes());
    } else if count == 0 {
        out.empty();
    }
    Ok(())
}

struct PrintOpts {
    proplist: Option<Vec<String>>,
    count_only: bool,
}

impl PrintOpts {
    fn parse(attrs: &[(&[u8], &[u8])]) -> Result<PrintOpts, String> {
        let mut o = PrintOpts {
            proplist: None,
            count_only: false,
        };
        for (k, v) in attrs {
            match *k {
                b".proplist" => {
                    o.proplist = Some(
                        String::from_utf8_lossy(v)
                            .split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    )
                }
                b"count-only" => o.count_only = true,
                b"detail" | b"without-paging" | b"terse" | b"stats" | b"brief" => {}
                other => {
                    return Err(format!(
                        "unknown parameter {}",
                        String::from_utf8_lossy(other)
                    ))
                }
            }
        }
        Ok(o)
    }

    fn wants(&self, k: &str) -> bool {
        match &self.proplist {
            None => true,
            Some(l) => l.iter().any(|p| p == k),
        }
    }
}

/// A parsed print query (RouterOS evaluates query words as a stack).
enum QWord {
    Has(String),
    Lacks(String),
    Eq(String, Vec<u8>),
    Lt(String, Vec<u8>),
    Gt(String, Vec<u8>),
    Ops(Vec<u8>),
}

struct Query(Vec<QWord>);

impl Query {
    fn parse(words: &[&[u8]]) -> Result<Query, String> {
        let mut out = Vec::new();
        for w in words {
            let bad = || format!("invalid query word ?{}", String::from_utf8_lossy(w));
            let q = match w.first() {
                Some(b'#') => {
                    let ops = w[1..].to_vec();
                    if ops.is_empty() || !ops.iter().all(|c| matches!(c, b'|' | b'&' | b'!')) {
                        return Err(bad());
                    }
                    QWord::Ops(ops)
                }
                Some(b'-') => QWord::Lacks(String::from_utf8_lossy(&w[1..]).into_owned()),
                Some(op @ (b'<' | b'>' | b'=')) => {
                    let rest = &w[1..];
                    let eq = memchr::memchr(b'=', rest).ok_or_else(bad)?;
                    let name = String::from_utf8_lossy(&rest[..eq]).into_owned();
                    let val = rest[eq + 1..].to_vec();
                    match op {
                        b'<' => QWord::Lt(name, val),
                        b'>' => QWord::Gt(name, val),
                        _ => QWord::Eq(name, val),
                    }
                }
                Some(_) => match memchr::memchr(b'=', w) {
                    Some(eq) => QWord::Eq(
                        String::from_utf8_lossy(&w[..eq]).into_owned(),
                        w[eq + 1..].to_vec(),
                    ),
                    None => QWord::Has(String::from_utf8_lossy(w).into_owned()),
                },
                None => return Err(bad()),
            };
            out.push(q);
        }
        // Check the stack discipline once, so evaluation cannot underflow.
        let mut depth = 0usize;
        for q in &out {
            match q {
                QWord::Ops(ops) => {
                    for op in ops {
                        match op {
                            b'!' if depth >= 1 => {}
                            b'|' | b'&' if depth >= 2 => depth -= 1,
                            _ => return Err("invalid query: not enough operands".into()),
                        }
                    }
                }
                _ => depth += 1,
            }
        }
        Ok(Query(out))
    }

    fn matches<'a>(&self, get: &dyn Fn(&str) -> Option<&'a [u8]>) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let mut stack: Vec<bool> = Vec::with_capacity(self.0.len());
        for q in &self.0 {
            match q {
                QWord::Has(n) => stack.push(get(n).is_some()),
                QWord::Lacks(n) => stack.push(get(n).is_none()),
                QWord::Eq(n, v) => stack.push(query_eq(get(n).unwrap_or(b""), v)),
                QWord::Lt(n, v) => stack.push(compare(get(n), v) == Some(std::cmp::Ordering::Less)),
                QWord::Gt(n, v) => {
                    stack.push(compare(get(n), v) == Some(std::cmp::Ordering::Greater))
                }
                QWord::Ops(ops) => {
                    for op in ops {
                        let a = stack.pop().unwrap_or(false);
                        match op {
                            b'!' => stack.push(!a),
                            b'|' => {
                                let b = stack.pop().unwrap_or(false);
                                stack.push(a || b)
                            }
                            _ => {
                                let b = stack.pop().unwrap_or(false);
                                stack.push(a && b)
                            }
                        }
                    }
                }
            }
        }
        stack.into_iter().all(|b| b)
    }
}

/// Equality as RouterOS types it: booleans match `yes`/`no` and `true`/`false` alike.
fn query_eq(have: &[u8], want: &[u8]) -> bool {
    fn as_bool(b: &[u8]) -> Option<bool> {
        match b {
            b"true" | b"yes" => Some(true),
            b"false" | b"no" => Some(false),
            _ => None,
        }
    }
    match (as_bool(have), as_bool(want)) {
        (Some(a), Some(b)) => a == b,
        _ => have == want,
    }
}

/// Numbers compare as numbers, durations as durations, anything else as bytes.
fn compare(have: Option<&[u8]>, want: &[u8]) -> Option<std::cmp::Ordering> {
    let have = have?;
    let as_num = |b: &[u8]| {
        std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
    };
    if let (Some(a), Some(b)) = (as_num(have), as_num(want)) {
        return Some(a.cmp(&b));
    }
    let as_dur = |b: &[u8]| std::str::from_utf8(b).ok().and_then(parse_uptime);
    if let (Some(a), Some(b)) = (as_dur(have), as_dur(want)) {
        return Some(a.cmp(&b));
    }
    Some(have.cmp(want))
}

/// Reply sentences of one command, each carrying the command's tag.
pub struct Reply {
    tag: Option<Vec<u8>>,
    sentences: Vec<Sentence>,
    trapped: bool,
    done_ret: Option<Vec<u8>>,
}

impl Reply {
    pub fn new(tag: Option<Vec<u8>>) -> Reply {
        Reply {
            tag,
            sentences: Vec::new(),
            trapped: false,
            done_ret: None,
        }
    }

    fn push(&mut self, mut s: Sentence) {
        if let Some(t) = &self.tag {
            let mut w = b".tag=".to_vec();
            w.extend_from_slice(t);
            s.push(w);
        }
        self.sentences.push(s);
    }

    fn row(&mut self, attrs: &[(Cow<str>, &[u8])]) {
        let mut s = Vec::with_capacity(attrs.len() + 2);
        s.push(b"!re".to_vec());
        for (k, v) in attrs {
            let mut w = Vec::with_capacity(k.len() + v.len() + 2);
            w.push(b'=');
            w.extend_from_slice(k.as_bytes());
            w.push(b'=');
            w.extend_from_slice(v);
            s.push(w);
        }
        self.push(s);
    }

    fn empty(&mut self) {
        self.push(vec![b"!empty".to_vec()]);
    }

    pub fn trap(&mut self, message: &str) {
        self.trapped = true;
        self.push(vec![
            b"!trap".to_vec(),
            format!("=message={message}").into_bytes(),
        ]);
    }

    fn done_ret(&mut self, ret: &[u8]) {
        self.done_ret = Some(ret.to_vec());
    }

    pub fn finish(mut self) -> Vec<Sentence> {
        let mut done = vec![b"!done".to_vec()];
        if let (Some(r), false) = (&self.done_ret, self.trapped) {
            let mut w = b"=ret=".to_vec();
            w.extend_from_slice(r);
            done.push(w);
        }
        self.push(done);
        self.sentences
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        let boot = chrono::NaiveDate::from_ymd_opt(2026, 11, 21)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let mut w = World::new(boot, 1);
        w.insert_profile("10Menit", "1M/2M", &mikhmon_on_login("10Menit", 5000, "1d"));
        w
    }

    fn run(w: &mut World, words: &[&str]) -> Vec<Vec<String>> {
        let words: Vec<Vec<u8>> = words.iter().map(|s| s.as_bytes().to_vec()).collect();
        let (out, _) = w.execute(&words, Duration::ZERO);
        out.iter()
            .map(|s| {
                s.iter()
                    .map(|x| String::from_utf8_lossy(x).into_owned())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn add_print_set_remove() {
        let mut w = world();
        let r = run(
            &mut w,
            &[
                "/ip/hotspot/user/add",
                "=name=abc",
                "=password=abc",
                "=profile=10Menit",
                "=limit-uptime=10m",
                "=comment=vc-123-11.21.26-Blok-A10",
                ".tag=5",
            ],
        );
        assert_eq!(r, vec![vec!["!done", "=ret=*1", ".tag=5"]]);
        let r = run(
            &mut w,
            &[
                "/ip/hotspot/user/print",
                "=.proplist=.id,name,limit-uptime",
                "?name=abc",
            ],
        );
        assert_eq!(
            r,
            vec![
                vec!["!re", "=.id=*1", "=name=abc", "=limit-uptime=10m"],
                vec!["!done"]
            ]
        );
        let r = run(
            &mut w,
            &["/ip/hotspot/user/set", "=.id=abc", "=disabled=yes"],
        );
        assert_eq!(r, vec![vec!["!done"]]);
        assert_eq!(w.user("abc").unwrap().text("disabled"), "true");
        let r = run(&mut w, &["/ip/hotspot/user/remove", "=.id=*1"]);
        assert_eq!(r, vec![vec!["!done"]]);
        let r = run(&mut w, &["/ip/hotspot/user/print", "?name=abc"]);
        assert_eq!(r, vec![vec!["!empty"], vec!["!done"]]);
    }

    #[test]
    fn user_print_has_the_full_property_set_and_proplist_restricts_it() {
        let mut w = world();
        run(
            &mut w,
            &[
                "/ip/hotspot/user/add",
                "=name=abc",
                "=password=abc",
                "=profile=10Menit",
                "=limit-uptime=10m",
                "=comment=vc-123-11.21.26-Blok-A10",
            ],
        );
        let r = run(&mut w, &["/ip/hotspot/user/print"]);
        let keys: Vec<&str> = r[0][1..]
            .iter()
            .map(|w| w[1..].split('=').next().unwrap())
            .collect();
        assert_eq!(
            keys,
            vec![
                ".id",
                "server",
                "name",
                "password",
                "profile",
                "limit-uptime",
                "uptime",
                "bytes-in",
                "bytes-out",
                "packets-in",
                "packets-out",
                "dynamic",
                "disabled",
                "default",
                "comment"
            ]
        );
        let r = run(
            &mut w,
            &["/ip/hotspot/user/print", "=.proplist=name,uptime"],
        );
        assert_eq!(r[0], vec!["!re", "=name=abc", "=uptime=0s"]);
    }

    #[test]
    fn traps_for_bad_input() {
        let mut w = world();
        let r = run(&mut w, &["/ip/hotspot/usr/print"]);
        assert_eq!(r[0], vec!["!trap", "=message=no such command prefix"]);
        assert_eq!(r[1], vec!["!done"]);
        let r = run(&mut w, &["/ip/hotspot/user/add", "=name=x", "=colour=red"]);
        assert_eq!(r[0], vec!["!trap", "=message=unknown parameter colour"]);
        let r = run(
            &mut w,
            &["/ip/hotspot/user/add", "=name=x", "=profile=nope"],
        );
        assert_eq!(
            r[0],
            vec![
                "!trap",
                "=message=input does not match any value of profile"
            ]
        );
        run(&mut w, &["/ip/hotspot/user/add", "=name=x"]);
        let r = run(&mut w, &["/ip/hotspot/user/add", "=name=x"]);
        assert!(r[0][1].contains("already have user"), "{r:?}");
        let r = run(&mut w, &["/ip/hotspot/user/set", "=.id=*99", "=comment=a"]);
        assert_eq!(r[0], vec!["!trap", "=message=no such item"]);
        let r = run(&mut w, &["/ip/hotspot/user/print", "?#|"]);
        assert_eq!(r[0][0], "!trap");
        let r = run(
            &mut w,
            &["/ip/hotspot/user/add", "=limit-uptime=soon", "=name=y"],
        );
        assert!(r[0][1].contains("time interval"), "{r:?}");
    }

    #[test]
    fn query_stack() {
        let mut w = world();
        for (n, p) in [("a", "default"), ("b", "10Menit"), ("c", "10Menit")] {
            run(
                &mut w,
                &[
                    "/ip/hotspot/user/add",
                    &format!("=name={n}"),
                    &format!("=profile={p}"),
                ],
            );
        }
        let names = |r: Vec<Vec<String>>| -> Vec<String> {
            r.into_iter()
                .filter(|s| s[0] == "!re")
                .map(|s| s[1].clone())
                .collect()
        };
        let r = run(
            &mut w,
            &[
                "/ip/hotspot/user/print",
                "=.proplist=name",
                "?name=a",
                "?=name=c",
                "?#|",
            ],
        );
        assert_eq!(names(r), vec!["=name=a", "=name=c"]);
        let r = run(
            &mut w,
            &[
                "/ip/hotspot/user/print",
                "=.proplist=name",
                "?profile=10Menit",
                "?name=b",
                "?#!",
            ],
        );
        assert_eq!(names(r), vec!["=name=c"]);
        let r = run(&mut w, &["/ip/hotspot/user/print", "=count-only="]);
        assert_eq!(r, vec![vec!["!done", "=ret=3"]]);
    }

    #[test]
    fn odd_bytes_round_trip() {
        let mut w = world();
        let words = vec![
            b"/ip/hotspot/user/add".to_vec(),
            b"=name=a=b\0c\nd".to_vec(),
            b"=comment=Pak D\xe9d\xe9".to_vec(),
        ];
        w.execute(&words, Duration::ZERO);
        let u = w.user("a=b\0c\nd").unwrap();
        assert_eq!(u.get("comment").unwrap(), b"Pak D\xe9d\xe9");
    }

    #[test]
    fn login_writes_sale_once_per_day_and_logout_updates_user() {
        let mut w = world();
        run(
            &mut w,
            &[
                "/ip/hotspot/user/add",
                "=name=k7",
                "=password=k7",
                "=profile=10Menit",
                "=limit-uptime=10m",
                "=comment=vc-123-11.21.26-Blok-A10",
            ],
        );
        let r = run(
            &mut w,
            &[
                "/ip/hotspot/active/login",
                "=user=k7",
                "=password=k7",
                "=ip=10.5.50.9",
                "=mac-address=AA:BB:CC:DD:EE:FF",
            ],
        );
        assert_eq!(r, vec![vec!["!done"]]);
        assert_eq!(
            w.user("k7").unwrap().text("comment"),
            "nov/22/2026 09:00:00 | Blok-A10"
        );
        let sales: Vec<String> = w.scripts.items.iter().map(|s| s.text("name")).collect();
        assert_eq!(
            sales,
            vec!["nov/21/2026-|-09:00:00-|-k7-|-5000-|-10.5.50.9-|-AA:BB:CC:DD:EE:FF-|-1d-|-10Menit-|-Blok-A10"]
        );
        assert_eq!(w.scripts.items[0].text("source"), "nov/21/2026");
        assert_eq!(w.scripts.items[0].text("owner"), "nov2026");
        // Uptime and bytes advance with time.
        let (out, _) = w.execute(
            &[
                b"/ip/hotspot/active/print".to_vec(),
                b"=.proplist=user,uptime".to_vec(),
            ],
            Duration::from_secs(125),
        );
        assert_eq!(out[0][2], b"=uptime=2m5s");
        // Past the limit the session ends and the user carries the usage.
        w.expire_sessions(Duration::from_secs(700));
        assert!(w.active.is_empty());
        let u = w.user("k7").unwrap();
        assert_eq!(u.text("uptime"), "10m");
        assert!(u.num("bytes-in") > 0);
        assert!(u
            .text("comment")
            .ends_with("| IP:10.5.50.9 | MAC:AA:BB:CC:DD:EE:FF"));
        // Relogin refused: limit reached; a second login the same day would not add a sale.
        assert!(w
            .login(b"k7", None, "10.5.50.9", "x", Duration::from_secs(701))
            .is_err());
        assert_eq!(w.scripts.items.len(), 1);
    }

    /// Garbage commands get traps, never a panic, and always end with `!done`.
    #[test]
    fn random_commands_are_trapped() {
        let mut w = world();
        let paths = [
            "/ip/hotspot/user/print",
            "/ip/hotspot/user/add",
            "/ip/hotspot/user/set",
            "/ip/hotspot/user/remove",
            "/ip/hotspot/active/login",
            "/ip/hotspot/active/remove",
            "/system/script/add",
            "/x",
            "",
            "/",
        ];
        let parts: [&[u8]; 12] = [
            b"=name=a",
            b"=.id=*1",
            b"=numbers=a,b",
            b"?#|",
            b"?#!",
            b"?name",
            b"?<uptime=1m",
            b"=disabled=maybe",
            b"=profile=",
            b"=",
            b"junk",
            b"=.proplist=name",
        ];
        let mut x: u64 = 99;
        for _ in 0..3000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut words = vec![paths[(x >> 33) as usize % paths.len()].as_bytes().to_vec()];
            for k in 0..((x >> 20) % 4) {
                words.push(parts[((x >> (8 + k * 4)) % 12) as usize].to_vec());
            }
            let (out, _) = w.execute(&words, Duration::from_secs(x % 5000));
            assert_eq!(out.last().unwrap()[0], b"!done");
        }
    }

    #[test]
    fn vip_first_login_keeps_the_vip_mark() {
        let mut w = world();
        run(
            &mut w,
            &[
                "/ip/hotspot/user/add",
                "=name=v1",
                "=comment=vc-555-11.20.26-Blok-B10 | VIP",
            ],
        );
        w.login(
            b"v1",
            None,
            "10.5.50.3",
            "02:00:00:00:00:03",
            Duration::ZERO,
        )
        .unwrap();
        assert_eq!(
            w.user("v1").unwrap().text("comment"),
            "nov/22/2026 09:00:00 | Blok-B10 | VIP"
        );
        // A retur voucher keeps its comment; its sale carries "(Retur)".
        run(
            &mut w,
            &[
                "/ip/hotspot/user/add",
                "=name=r1",
                "=comment=Blok-B10 (Retur) Valid: Retur Ref:vc-abc123 | Profile:10Menit",
            ],
        );
        w.login(
            b"r1",
            None,
            "10.5.50.4",
            "02:00:00:00:00:04",
            Duration::ZERO,
        )
        .unwrap();
        let r1 = w.user("r1").unwrap().text("comment");
        assert!(r1.starts_with("Blok-B10 (Retur)"), "{r1}");
        let sale = w
            .scripts
            .items
            .iter()
            .map(|s| s.text("name"))
            .find(|n| n.contains("-|-r1-|-"))
            .unwrap();
        assert!(
            sale.ends_with("-|-Blok-B10 (Retur) Valid: Retur Ref:vc-abc123"),
            "{sale}"
        );
    }

    #[test]
    fn wrong_password_login_is_refused() {
        let mut w = world();
        run(&mut w, &["/ip/hotspot/user/add", "=name=u", "=password=p"]);
        let r = run(
            &mut w,
            &[
                "/ip/hotspot/active/login",
                "=user=u",
                "=password=x",
                "=ip=1.2.3.4",
            ],
        );
        assert_eq!(r[0], vec!["!trap", "=message=failure: invalid password"]);
    }
}
