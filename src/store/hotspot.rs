//! Hotspot tables: synced router users and sessions, login history and events, live_sales,
//! sync state, and generated voucher batches. Rules come from `domain::hotspot`; this file only
//! stores and reads.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDateTime, TimeDelta};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{Result, Store, StoreError};
use crate::domain::hotspot::{
    self as rules, derive_status, ActiveFacts, HistoryFacts, HistoryStatus, NewVoucher, PriceBook,
    SaleSkip, Status, UserFacts,
};

const TS: &str = "%Y-%m-%dT%H:%M:%S";

fn ts(t: NaiveDateTime) -> String {
    t.format(TS).to_string()
}

fn parse_ts(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, TS).ok()
}

/// A router user as the sync reads it (only the properties it asks for).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouterUser {
    pub router_id: String,
    pub name: String,
    pub profile: String,
    pub comment: String,
    pub disabled: bool,
    pub limit_uptime: String,
    pub uptime_s: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// One `/ip/hotspot/active` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouterActive {
    pub router_id: String,
    pub username: String,
    pub address: String,
    pub mac: String,
    pub uptime_s: u64,
    pub bytes: u64,
}

/// What one snapshot sync changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SnapshotStats {
    pub users: usize,
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub active: usize,
    pub logins: usize,
    pub logouts: usize,
    pub history_written: usize,
}

/// What one sales ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SalesStats {
    pub seen: usize,
    pub new_records: usize,
    pub inserted: usize,
    pub duplicates: usize,
    pub vip: usize,
    pub no_blok: usize,
    pub rejected: usize,
    /// Logins learned from the records (each record is written at a login).
    pub logins: usize,
}

/// How the hotspot rules are configured (aliases and prices).
#[derive(Debug, Clone, Default)]
pub struct HotspotRules {
    pub blok_aliases: BTreeMap<String, String>,
    pub prices: PriceBook,
}

/// One F4 row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserView {
    pub name: String,
    pub status: Status,
    pub profile: String,
    pub blok: Option<String>,
    pub comment: String,
    pub disabled: bool,
    pub uptime_s: u64,
    pub bytes: u64,
    pub login_count: u32,
    pub relogins: u32,
    pub warning: bool,
    pub address: Option<String>,
    pub limit_uptime: String,
}

/// F4 filters; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub status: Option<Status>,
    pub blok: Option<String>,
    pub profile: Option<String>,
    /// Case-insensitive substring of the name or comment.
    pub search: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginEventRow {
    pub date_key: String,
    pub seq: u32,
    pub login_time: String,
    pub logout_time: Option<String>,
    pub ip: String,
    pub mac: String,
    pub uptime_s: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaleRow {
    pub sale_date: String,
    pub sale_time: String,
    pub username: String,
    pub profile: String,
    pub price: i64,
    pub blok_name: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserDetail {
    pub user: UserView,
    pub first_login_at: Option<String>,
    pub last_login_at: Option<String>,
    pub last_logout_at: Option<String>,
    pub last_status: Option<String>,
    pub events: Vec<LoginEventRow>,
    pub sales: Vec<SaleRow>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncState {
    pub router: String,
    pub last_sync_at: Option<String>,
    pub last_ok_at: Option<String>,
    pub users: u64,
    pub active: u64,
    pub last_error: Option<String>,
    pub runs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoucherRow {
    pub seq: u32,
    pub name: String,
    pub password: String,
    pub profile: String,
    pub limit_uptime: Option<String>,
    pub comment: String,
    pub state: String,
    pub router_id: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchView {
    pub id: i64,
    pub router: String,
    pub profile: String,
    pub blok: String,
    pub mode: String,
    pub comment: String,
    pub count: u32,
    pub status: String,
    pub error: Option<String>,
    pub created_at: String,
    pub vouchers: Vec<VoucherRow>,
}

impl BatchView {
    pub fn count_in(&self, state: &str) -> usize {
        self.vouchers.iter().filter(|v| v.state == state).count()
    }
}

/// Voucher row states.
pub const PLANNED: &str = "planned";
pub const CREATED: &str = "created";
pub const FAILED: &str = "failed";
pub const MISSING: &str = "missing";

/// login_history as the sync compares it: status, bytes, uptime, comment, blok.
type HistRow = (Option<String>, u64, u64, String, Option<String>);

type Fingerprint = (String, String, String, bool, String, u64, u64, u64, bool);

impl Store {
    /// Applies one full router snapshot (users and active sessions) in one transaction. Only rows
    /// that differ are written; logins and logouts are derived from sessions that appear and
    /// disappear; `login_history.last_status` follows `rules::sync_last_status`.
    pub fn hotspot_apply_snapshot(
        &mut self,
        users: &[RouterUser],
        active: &[RouterActive],
        now: NaiveDateTime,
        cfg: &HotspotRules,
    ) -> Result<SnapshotStats> {
        self.hotspot_apply_snapshot_keeping(users, active, &[], now, cfg)
    }

    /// [`Store::hotspot_apply_snapshot`] where `keep` holds the router ids of users the router
    /// listed but konter could not read (an oversized property): they are still on the router,
    /// so their stored rows stay as they are instead of being marked removed.
    pub fn hotspot_apply_snapshot_keeping(
        &mut self,
        users: &[RouterUser],
        active: &[RouterActive],
        keep: &[String],
        now: NaiveDateTime,
        cfg: &HotspotRules,
    ) -> Result<SnapshotStats> {
        let now_s = ts(now);
        self.conn.set_prepared_statement_cache_capacity(64);
        let tx = self.conn.transaction()?;
        let mut st = SnapshotStats {
            users: users.len(),
            active: active.len(),
            ..Default::default()
        };

        // --- users
        let mut existing: HashMap<String, Fingerprint> = HashMap::new();
        {
            let mut q = tx.prepare(
                "SELECT name, router_id, profile, comment, disabled, limit_uptime, uptime_s,
                        bytes_in, bytes_out, removed_at IS NOT NULL FROM hotspot_users",
            )?;
            let rows = q.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    (
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get::<_, i64>(6)? as u64,
                        r.get::<_, i64>(7)? as u64,
                        r.get::<_, i64>(8)? as u64,
                        r.get(9)?,
                    ),
                ))
            })?;
            for row in rows {
                let (k, v) = row?;
                existing.insert(k, v);
            }
        }
        {
            let mut up = tx.prepare(
                "INSERT INTO hotspot_users(name, router_id, profile, comment, disabled, limit_uptime,
                     uptime_s, bytes_in, bytes_out, blok, synced_at, removed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL)
                 ON CONFLICT(name) DO UPDATE SET router_id = ?2, profile = ?3, comment = ?4,
                     disabled = ?5, limit_uptime = ?6, uptime_s = ?7, bytes_in = ?8,
                     bytes_out = ?9, blok = ?10, synced_at = ?11, removed_at = NULL",
            )?;
            let mut seen: HashSet<&str> = HashSet::with_capacity(users.len());
            for u in users {
                seen.insert(&u.name);
                let fp: Fingerprint = (
                    u.router_id.clone(),
                    u.profile.clone(),
                    u.comment.clone(),
                    u.disabled,
                    u.limit_uptime.clone(),
                    u.uptime_s,
                    u.bytes_in,
                    u.bytes_out,
                    false,
                );
                match existing.get(&u.name) {
                    Some(old) if *old == fp => {
                        st.unchanged += 1;
                        continue;
                    }
                    Some(_) => st.changed += 1,
                    None => st.added += 1,
                }
                up.execute(params![
                    u.name,
                    u.router_id,
                    u.profile,
                    u.comment,
                    u.disabled,
                    u.limit_uptime,
                    u.uptime_s as i64,
                    u.bytes_in as i64,
                    u.bytes_out as i64,
                    rules::normalize_blok(&u.comment, &cfg.blok_aliases),
                    now_s,
                ])?;
            }
            let mut rm = tx.prepare("UPDATE hotspot_users SET removed_at = ?2 WHERE name = ?1")?;
            for (name, fp) in &existing {
                if !fp.8 && !seen.contains(name.as_str()) && !keep.contains(&fp.0) {
                    rm.execute(params![name, now_s])?;
                    st.removed += 1;
                }
            }
        }

        // --- active sessions -> login events
        let mut old_active: HashMap<String, (String, String, u64, u64, String)> = HashMap::new();
        {
            let mut q = tx.prepare(
                "SELECT router_id, username, login_at, uptime_s, bytes, seen_at FROM hotspot_active",
            )?;
            let rows = q.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    (
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)? as u64,
                        r.get::<_, i64>(4)? as u64,
                        r.get::<_, String>(5)?,
                    ),
                ))
            })?;
            for row in rows {
                let (k, v) = row?;
                old_active.insert(k, v);
            }
        }
        let mut current: HashSet<&str> = HashSet::new();
        for a in active {
            current.insert(&a.router_id);
            let same = old_active
                .get(&a.router_id)
                .filter(|o| o.0 == a.username)
                .cloned();
            match same {
                Some((_, login_at, _, _, _)) => {
                    exec(
                        &tx,
                        "UPDATE hotspot_active SET uptime_s = ?2, bytes = ?3, seen_at = ?4,
                             address = ?5, mac = ?6 WHERE router_id = ?1",
                        params![
                            a.router_id,
                            a.uptime_s as i64,
                            a.bytes as i64,
                            now_s,
                            a.address,
                            a.mac
                        ],
                    )?;
                    if let Some(t) = parse_ts(&login_at) {
                        exec(
                            &tx,
                            "UPDATE login_events SET uptime_s = ?4, bytes = ?5
                             WHERE username = ?1 AND date_key = ?2 AND login_time = ?3",
                            params![
                                a.username,
                                t.date().to_string(),
                                t.time().format("%H:%M:%S").to_string(),
                                a.uptime_s as i64,
                                a.bytes as i64
                            ],
                        )?;
                    }
                }
                None => {
                    let login_at = now - TimeDelta::seconds(a.uptime_s.min(i64::MAX as u64) as i64);
                    let login_s = ts(login_at);
                    exec(
                        &tx,
                        "INSERT OR REPLACE INTO hotspot_active(router_id, username, address, mac,
                             uptime_s, bytes, login_at, seen_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![
                            a.router_id,
                            a.username,
                            a.address,
                            a.mac,
                            a.uptime_s as i64,
                            a.bytes as i64,
                            login_s,
                            now_s
                        ],
                    )?;
                    let date_key = login_at.date().to_string();
                    let login_time = login_at.time().format("%H:%M:%S").to_string();
                    if login_near(&tx, &a.username, &date_key, &login_time)? {
                        // already known from its sales record: the same login
                        continue;
                    }
                    let seq: i64 = qrow(&tx,
                        "SELECT count(*) + 1 FROM login_events WHERE username = ?1 AND date_key = ?2",
                        params![a.username, date_key],
                        |r| r.get(0),
                    )?;
                    let inserted = exec(&tx,
                        "INSERT OR IGNORE INTO login_events(username, date_key, seq, login_time, ip,
                             mac, uptime_s, bytes, session_id)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        params![
                            a.username,
                            date_key,
                            seq,
                            login_time,
                            a.address,
                            a.mac,
                            a.uptime_s as i64,
                            a.bytes as i64,
                            a.router_id
                        ],
                    )?;
                    if inserted > 0 {
                        st.logins += 1;
                        exec(
                            &tx,
                            "INSERT INTO login_history(username, first_ip, last_ip, first_mac,
                                 last_mac, first_login_at, last_login_at, login_count, updated_at)
                             VALUES (?1, ?2, ?2, ?3, ?3, ?4, ?4, 1, ?5)
                             ON CONFLICT(username) DO UPDATE SET
                                 first_ip = CASE WHEN first_ip = '' THEN ?2 ELSE first_ip END,
                                 first_mac = CASE WHEN first_mac = '' THEN ?3 ELSE first_mac END,
                                 last_ip = ?2, last_mac = ?3,
                                 first_login_at = coalesce(first_login_at, ?4),
                                 last_login_at = ?4, login_count = login_count + 1,
                                 updated_at = ?5",
                            params![a.username, a.address, a.mac, login_s, now_s],
                        )?;
                    }
                }
            }
        }
        for (rid, (user, login_at, uptime, bytes, seen_at)) in &old_active {
            if current.contains(rid.as_str()) {
                continue;
            }
            st.logouts += 1;
            if let Some(t) = parse_ts(login_at) {
                exec(
                    &tx,
                    "UPDATE login_events SET logout_time = ?4, uptime_s = ?5, bytes = ?6
                     WHERE username = ?1 AND date_key = ?2 AND login_time = ?3",
                    params![
                        user,
                        t.date().to_string(),
                        t.time().format("%H:%M:%S").to_string(),
                        seen_at,
                        *uptime as i64,
                        *bytes as i64
                    ],
                )?;
            }
            exec(
                &tx,
                "UPDATE login_history SET last_logout_at = ?2, updated_at = ?3 WHERE username = ?1",
                params![user, seen_at, now_s],
            )?;
            exec(
                &tx,
                "DELETE FROM hotspot_active WHERE router_id = ?1",
                [rid],
            )?;
        }

        // --- last_status, bytes, uptime into login_history (only when they change)
        let by_user: HashMap<&str, &RouterActive> =
            active.iter().map(|a| (a.username.as_str(), a)).collect();
        let mut hist: HashMap<String, HistRow> = HashMap::new();
        {
            let mut q = tx.prepare(
                "SELECT username, last_status, last_bytes, last_uptime_s, raw_comment, blok_name
                 FROM login_history",
            )?;
            let rows = q.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    (
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, i64>(2)? as u64,
                        r.get::<_, i64>(3)? as u64,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ),
                ))
            })?;
            for row in rows {
                let (k, v) = row?;
                hist.insert(k, v);
            }
        }
        {
            let mut up = tx.prepare(
                "INSERT INTO login_history(username, blok_name, profile, raw_comment, last_uptime_s,
                     last_bytes, last_status, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(username) DO UPDATE SET blok_name = ?2, profile = ?3,
                     raw_comment = ?4, last_uptime_s = ?5, last_bytes = ?6, last_status = ?7,
                     updated_at = ?8",
            )?;
            for u in users {
                let a = by_user.get(u.name.as_str());
                let old = hist.get(&u.name);
                let prev = old
                    .and_then(|o| o.0.as_deref())
                    .and_then(HistoryStatus::parse);
                let d = derive_status(&UserFacts {
                    comment: &u.comment,
                    profile: &u.profile,
                    disabled: u.disabled,
                    bytes: u.bytes_in + u.bytes_out,
                    uptime_s: u.uptime_s,
                    active: a.map(|a| ActiveFacts {
                        uptime_s: a.uptime_s,
                        bytes: a.bytes,
                    }),
                    history: old.map(|o| HistoryFacts {
                        status: prev,
                        bytes: o.1,
                        uptime_s: o.2,
                        login_count: 0,
                    }),
                });
                let used =
                    u.bytes_in + u.bytes_out > rules::UNUSED_BYTES || u.uptime_s > 0 || a.is_some();
                let status =
                    rules::sync_last_status(a.is_some(), &u.comment, u.disabled, used, prev);
                if status.is_none() && old.is_none() {
                    continue; // READY users are never stored
                }
                let blok = rules::normalize_blok(&u.comment, &cfg.blok_aliases);
                let new = (
                    status.map(|s| s.as_str().to_string()),
                    d.bytes,
                    d.uptime_s,
                    u.comment.clone(),
                    blok.clone(),
                );
                if old == Some(&new) {
                    continue;
                }
                up.execute(params![
                    u.name,
                    blok,
                    u.profile,
                    u.comment,
                    d.uptime_s as i64,
                    d.bytes as i64,
                    status.map(|s| s.as_str()),
                    now_s
                ])?;
                st.history_written += 1;
            }
        }
        tx.commit()?;
        Ok(st)
    }

    /// The sales-record script ids already read, so a sync only parses new ones.
    pub fn hotspot_seen_scripts(&self) -> Result<HashSet<(String, String)>> {
        let mut q = self
            .conn
            .prepare("SELECT router_id, name FROM hotspot_scripts_seen")?;
        let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let mut out = HashSet::new();
        for r in rows {
            out.insert(r?);
        }
        Ok(out)
    }

    /// Takes Mikhmon sales records (`(script .id, script name)`) into live_sales, deduplicated as
    /// in the rules (one per user and date, an identical record once; VIP and blok-less records
    /// skipped). Every record read is remembered with its outcome.
    pub fn hotspot_ingest_sales(
        &mut self,
        scripts: &[(String, String)],
        now: NaiveDateTime,
        cfg: &HotspotRules,
    ) -> Result<SalesStats> {
        let now_s = ts(now);
        let seen = self.hotspot_seen_scripts()?;
        self.conn.set_prepared_statement_cache_capacity(64);
        let tx = self.conn.transaction()?;
        let mut st = SalesStats {
            seen: scripts.len(),
            ..Default::default()
        };
        // Read once what every record is checked against: the users' comments and the logins
        // already known (user, date) -> seconds of the day.
        let mut comments: HashMap<String, String> = HashMap::new();
        let mut known: KnownLogins = HashMap::new();
        {
            let mut q = tx.prepare("SELECT name, comment FROM hotspot_users")?;
            for r in q.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
                let (n, c) = r?;
                comments.insert(n, c);
            }
            let mut q = tx.prepare("SELECT username, date_key, login_time FROM login_events")?;
            for r in q.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })? {
                let (u, d, t) = r?;
                if let Some(secs) = day_secs(&t) {
                    known.entry((u, d)).or_default().push(secs);
                }
            }
        }
        {
            let mut ins = tx.prepare(
                "INSERT OR IGNORE INTO live_sales(raw_date, raw_time, sale_date, sale_time, username,
                     profile, price, validity, comment, blok_name, ip, mac, status, is_rusak,
                     is_retur, is_invalid, full_raw_data, synced_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18)",
            )?;
            let mut mark = tx.prepare(
                "INSERT OR IGNORE INTO hotspot_scripts_seen(router_id, name, outcome, seen_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (rid, name) in scripts {
                if seen.contains(&(rid.clone(), name.clone())) {
                    continue;
                }
                st.new_records += 1;
                let outcome = match rules::parse_sale_record(name) {
                    Err(e) => {
                        st.rejected += 1;
                        format!("rejected: {e}")
                    }
                    Ok(rec) => {
                        let comment = comments
                            .get(&rec.username)
                            .map(String::as_str)
                            .unwrap_or("");
                        match rules::classify_sale(rec, comment, &cfg.blok_aliases, &cfg.prices) {
                            Err(SaleSkip::Vip) => {
                                st.vip += 1;
                                "vip".into()
                            }
                            Err(why) => {
                                st.no_blok += usize::from(why == SaleSkip::NoBlok);
                                format!("{why:?}").to_lowercase()
                            }
                            Ok(s) => {
                                let r = &s.record;
                                let n = ins.execute(params![
                                    r.raw_date,
                                    r.raw_time,
                                    r.sale_date.map(|d| d.to_string()).unwrap_or_default(),
                                    r.raw_time,
                                    r.username,
                                    r.profile,
                                    s.price,
                                    r.validity,
                                    r.blok_info,
                                    s.blok,
                                    r.ip,
                                    r.mac,
                                    s.status.as_str(),
                                    s.status == rules::SaleStatus::Rusak,
                                    s.status == rules::SaleStatus::Retur,
                                    s.status == rules::SaleStatus::Invalid,
                                    r.raw,
                                    now_s,
                                ])?;
                                if let Some(d) = r.sale_date {
                                    if record_login(
                                        &tx,
                                        &mut known,
                                        &r.username,
                                        d,
                                        &r.raw_time,
                                        &r.ip,
                                        &r.mac,
                                        &now_s,
                                    )? {
                                        st.logins += 1;
                                    }
                                }
                                if n > 0 {
                                    st.inserted += 1;
                                    "sale".into()
                                } else {
                                    st.duplicates += 1;
                                    "duplicate".into()
                                }
                            }
                        }
                    }
                };
                mark.execute(params![rid, name, outcome, now_s])?;
            }
        }
        tx.commit()?;
        Ok(st)
    }

    /// Users for F4 and `konter hotspot users`, with the status derived from router and history.
    /// Vouchers replaced by a retur are hidden except when filtering for RUSAK (§1).
    pub fn hotspot_users(&self, filter: &UserFilter) -> Result<Vec<UserView>> {
        let mut q = self.conn.prepare(
            "SELECT u.name, u.profile, u.comment, u.disabled, u.limit_uptime, u.uptime_s,
                    u.bytes_in + u.bytes_out, u.blok,
                    h.last_status, h.last_bytes, h.last_uptime_s, h.login_count,
                    a.uptime_s, a.bytes, a.address
             FROM hotspot_users u
             LEFT JOIN login_history h ON h.username = u.name
             LEFT JOIN hotspot_active a ON a.username = u.name
             WHERE u.removed_at IS NULL
             ORDER BY u.name",
        )?;
        let rows = q.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)? as u64,
                r.get::<_, i64>(6)? as u64,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Option<i64>>(9)?,
                r.get::<_, Option<i64>>(10)?,
                r.get::<_, Option<i64>>(11)?,
                r.get::<_, Option<i64>>(12)?,
                r.get::<_, Option<i64>>(13)?,
                r.get::<_, Option<String>>(14)?,
            ))
        })?;
        let mut all = Vec::new();
        let mut seen_names: HashSet<String> = HashSet::new();
        for row in rows {
            let (
                name,
                profile,
                comment,
                disabled,
                limit_uptime,
                uptime_s,
                bytes,
                blok,
                h_status,
                h_bytes,
                h_uptime,
                h_logins,
                a_uptime,
                a_bytes,
                address,
            ) = row?;
            // A user with two active sessions (shared-users > 1) is listed once.
            if !seen_names.insert(name.clone()) {
                continue;
            }
            let history = h_bytes.map(|b| HistoryFacts {
                status: h_status.as_deref().and_then(HistoryStatus::parse),
                bytes: b as u64,
                uptime_s: h_uptime.unwrap_or(0) as u64,
                login_count: h_logins.unwrap_or(0) as u32,
            });
            let active = a_uptime.map(|u| ActiveFacts {
                uptime_s: u as u64,
                bytes: a_bytes.unwrap_or(0) as u64,
            });
            let d = derive_status(&UserFacts {
                comment: &comment,
                profile: &profile,
                disabled,
                bytes,
                uptime_s,
                active,
                history,
            });
            let login_count = h_logins.unwrap_or(0) as u32;
            all.push(UserView {
                name,
                status: d.status,
                profile,
                blok,
                comment,
                disabled,
                uptime_s: d.uptime_s,
                bytes: d.bytes,
                login_count,
                relogins: login_count.saturating_sub(1),
                warning: d.warning,
                address,
                limit_uptime,
            });
        }
        let hidden = if filter.status == Some(Status::Rusak) {
            HashSet::new()
        } else {
            rules::replaced_originals(all.iter().map(|u| u.comment.as_str()))
        };
        let search = filter.search.as_ref().map(|s| s.to_lowercase());
        let blok = filter.blok.as_ref().map(|b| canonical_blok_filter(b));
        Ok(all
            .into_iter()
            .filter(|u| !hidden.contains(&u.name))
            .filter(|u| filter.status.is_none_or(|s| u.status == s))
            .filter(|u| blok.as_ref().is_none_or(|b| u.blok.as_deref() == Some(b)))
            .filter(|u| {
                filter
                    .profile
                    .as_ref()
                    .is_none_or(|p| u.profile.eq_ignore_ascii_case(p))
            })
            .filter(|u| {
                search.as_ref().is_none_or(|s| {
                    u.name.to_lowercase().contains(s) || u.comment.to_lowercase().contains(s)
                })
            })
            .collect())
    }

    /// Counts per status over all (visible) users, for the F4 title.
    pub fn hotspot_status_counts(&self) -> Result<BTreeMap<Status, usize>> {
        let mut out = BTreeMap::new();
        for u in self.hotspot_users(&UserFilter::default())? {
            *out.entry(u.status).or_insert(0) += 1;
        }
        Ok(out)
    }

    /// Everything the detail popup shows about one user.
    pub fn hotspot_user_detail(&self, name: &str) -> Result<Option<UserDetail>> {
        let user = self
            .hotspot_users(&UserFilter {
                search: None,
                ..Default::default()
            })?
            .into_iter()
            .find(|u| u.name == name);
        let user = match user {
            Some(u) => u,
            None => {
                // It may be hidden (replaced by a retur): look in the RUSAK view.
                match self
                    .hotspot_users(&UserFilter {
                        status: Some(Status::Rusak),
                        ..Default::default()
                    })?
                    .into_iter()
                    .find(|u| u.name == name)
                {
                    Some(u) => u,
                    None => return Ok(None),
                }
            }
        };
        let (first, last, logout, last_status) = self
            .conn
            .query_row(
                "SELECT first_login_at, last_login_at, last_logout_at, last_status
                 FROM login_history WHERE username = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?
            .unwrap_or((None, None, None, None));
        let mut q = self.conn.prepare(
            "SELECT date_key, seq, login_time, logout_time, ip, mac, uptime_s, bytes
             FROM login_events WHERE username = ?1 ORDER BY date_key, login_time",
        )?;
        let events = q
            .query_map([name], |r| {
                Ok(LoginEventRow {
                    date_key: r.get(0)?,
                    seq: r.get(1)?,
                    login_time: r.get(2)?,
                    logout_time: r.get(3)?,
                    ip: r.get(4)?,
                    mac: r.get(5)?,
                    uptime_s: r.get::<_, i64>(6)? as u64,
                    bytes: r.get::<_, i64>(7)? as u64,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let sales = self.hotspot_sales(Some(name), None)?;
        Ok(Some(UserDetail {
            user,
            first_login_at: first,
            last_login_at: last,
            last_logout_at: logout,
            last_status,
            events,
            sales,
        }))
    }

    /// live_sales rows, optionally of one user or one date.
    pub fn hotspot_sales(&self, user: Option<&str>, date: Option<&str>) -> Result<Vec<SaleRow>> {
        let mut q = self.conn.prepare(
            "SELECT sale_date, sale_time, username, profile, price, blok_name, status
             FROM live_sales
             WHERE (?1 IS NULL OR username = ?1) AND (?2 IS NULL OR sale_date = ?2)
             ORDER BY sale_date, sale_time, id",
        )?;
        let rows = q
            .query_map(params![user, date], |r| {
                Ok(SaleRow {
                    sale_date: r.get(0)?,
                    sale_time: r.get(1)?,
                    username: r.get(2)?,
                    profile: r.get(3)?,
                    price: r.get(4)?,
                    blok_name: r.get(5)?,
                    status: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Names of all users konter has seen on the router (also removed ones) plus every planned
    /// voucher: a new batch must avoid them all.
    pub fn hotspot_known_names(&self) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        for sql in [
            "SELECT name FROM hotspot_users",
            "SELECT name FROM hotspot_vouchers",
        ] {
            let mut q = self.conn.prepare(sql)?;
            for n in q.query_map([], |r| r.get::<_, String>(0))? {
                out.insert(n?);
            }
        }
        Ok(out)
    }

    pub fn hotspot_record_sync(
        &self,
        router: &str,
        now: NaiveDateTime,
        outcome: std::result::Result<(usize, usize), &str>,
    ) -> Result<()> {
        let now_s = ts(now);
        match outcome {
            Ok((users, active)) => self.conn.execute(
                "INSERT INTO hotspot_sync_state(router, last_sync_at, last_ok_at, users, active,
                     last_error, runs)
                 VALUES (?1, ?2, ?2, ?3, ?4, NULL, 1)
                 ON CONFLICT(router) DO UPDATE SET last_sync_at = ?2, last_ok_at = ?2,
                     users = ?3, active = ?4, last_error = NULL, runs = runs + 1",
                params![router, now_s, users as i64, active as i64],
            )?,
            Err(e) => self.conn.execute(
                "INSERT INTO hotspot_sync_state(router, last_sync_at, last_error, runs)
                 VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT(router) DO UPDATE SET last_sync_at = ?2, last_error = ?3,
                     runs = runs + 1",
                params![router, now_s, e],
            )?,
        };
        Ok(())
    }

    pub fn hotspot_sync_state(&self, router: &str) -> Result<Option<SyncState>> {
        Ok(self
            .conn
            .query_row(
                "SELECT router, last_sync_at, last_ok_at, users, active, last_error, runs
                 FROM hotspot_sync_state WHERE router = ?1",
                [router],
                |r| {
                    Ok(SyncState {
                        router: r.get(0)?,
                        last_sync_at: r.get(1)?,
                        last_ok_at: r.get(2)?,
                        users: r.get::<_, i64>(3)? as u64,
                        active: r.get::<_, i64>(4)? as u64,
                        last_error: r.get(5)?,
                        runs: r.get::<_, i64>(6)? as u64,
                    })
                },
            )
            .optional()?)
    }

    /// Writes a whole batch as `planned` BEFORE anything goes to the router.
    #[allow(clippy::too_many_arguments)]
    pub fn hotspot_plan_batch(
        &mut self,
        router: &str,
        profile: &str,
        blok: &str,
        mode: rules::VoucherMode,
        vouchers: &[NewVoucher],
        created_by: &str,
        now: NaiveDateTime,
    ) -> Result<i64> {
        let first = vouchers
            .first()
            .ok_or_else(|| StoreError::Invalid("a batch needs at least one voucher".into()))?;
        let now_s = ts(now);
        let tx = self.conn.transaction()?;
        exec(
            &tx,
            "INSERT INTO hotspot_batches(router, profile, blok, mode, comment, count, status,
                 created_by, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'creating', ?7, ?8, ?8)",
            params![
                router,
                profile,
                blok,
                mode.prefix(),
                first.comment,
                vouchers.len() as i64,
                created_by,
                now_s
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut ins = tx.prepare(
                "INSERT INTO hotspot_vouchers(batch_id, seq, name, password, profile, limit_uptime,
                     comment, state, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'planned', ?8)",
            )?;
            for (i, v) in vouchers.iter().enumerate() {
                ins.execute(params![
                    id,
                    i as i64 + 1,
                    v.name,
                    v.password,
                    v.profile,
                    v.limit_uptime,
                    v.comment,
                    now_s
                ])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    pub fn hotspot_mark_voucher(
        &self,
        batch: i64,
        name: &str,
        state: &str,
        router_id: Option<&str>,
        error: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE hotspot_vouchers SET state = ?3, router_id = coalesce(?4, router_id),
                 error = ?5, updated_at = ?6
             WHERE batch_id = ?1 AND name = ?2",
            params![batch, name, state, router_id, error, ts(now)],
        )?;
        if n == 0 {
            return Err(StoreError::Invalid(format!(
                "voucher {name} is not in batch {batch}"
            )));
        }
        Ok(())
    }

    pub fn hotspot_finish_batch(
        &self,
        batch: i64,
        status: &str,
        error: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE hotspot_batches SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
            params![batch, status, error, ts(now)],
        )?;
        Ok(())
    }

    pub fn hotspot_batch(&self, id: i64) -> Result<Option<BatchView>> {
        let head = self
            .conn
            .query_row(
                "SELECT id, router, profile, blok, mode, comment, count, status, error, created_at
                 FROM hotspot_batches WHERE id = ?1",
                [id],
                |r| {
                    Ok(BatchView {
                        id: r.get(0)?,
                        router: r.get(1)?,
                        profile: r.get(2)?,
                        blok: r.get(3)?,
                        mode: r.get(4)?,
                        comment: r.get(5)?,
                        count: r.get(6)?,
                        status: r.get(7)?,
                        error: r.get(8)?,
                        created_at: r.get(9)?,
                        vouchers: Vec::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut b) = head else {
            return Ok(None);
        };
        let mut q = self.conn.prepare(
            "SELECT seq, name, password, profile, limit_uptime, comment, state, router_id, error
             FROM hotspot_vouchers WHERE batch_id = ?1 ORDER BY seq",
        )?;
        b.vouchers = q
            .query_map([id], |r| {
                Ok(VoucherRow {
                    seq: r.get(0)?,
                    name: r.get(1)?,
                    password: r.get(2)?,
                    profile: r.get(3)?,
                    limit_uptime: r.get(4)?,
                    comment: r.get(5)?,
                    state: r.get(6)?,
                    router_id: r.get(7)?,
                    error: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(b))
    }

    /// The password of a voucher konter generated (the newest batch that created it), if any.
    pub fn hotspot_voucher_password(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT password FROM hotspot_vouchers WHERE name = ?1 AND state = 'created'
                 ORDER BY batch_id DESC LIMIT 1",
                [name],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Batches of this router that did not finish (creating or interrupted): reconcile them.
    pub fn hotspot_unfinished_batches(&self, router: &str) -> Result<Vec<i64>> {
        let mut q = self.conn.prepare(
            "SELECT id FROM hotspot_batches
             WHERE router = ?1 AND status IN ('creating', 'interrupted') ORDER BY id",
        )?;
        let ids = q
            .query_map([router], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(ids)
    }
}

/// Runs a statement through the connection's statement cache (the sync runs the same few
/// statements thousands of times).
fn exec(tx: &rusqlite::Connection, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(p)
}

fn qrow<T>(
    tx: &rusqlite::Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    tx.prepare_cached(sql)?.query_row(p, f)
}

/// Logins already known per (user, date): their seconds of the day.
type KnownLogins = HashMap<(String, String), Vec<i64>>;

/// `HH:MM:SS` as seconds of the day.
fn day_secs(t: &str) -> Option<i64> {
    let t = chrono::NaiveTime::parse_from_str(t, "%H:%M:%S").ok()?;
    Some(i64::from(chrono::Timelike::num_seconds_from_midnight(&t)))
}

/// Seconds within which two sightings of a user's login are the same login (the sales record
/// carries the router's clock, the active session its uptime).
const SAME_LOGIN_S: i64 = 5;

fn login_near(
    tx: &rusqlite::Transaction,
    user: &str,
    date_key: &str,
    time: &str,
) -> rusqlite::Result<bool> {
    qrow(
        tx,
        "SELECT EXISTS(SELECT 1 FROM login_events WHERE username = ?1 AND date_key = ?2
             AND abs(strftime('%s', '2000-01-01 ' || login_time)
                     - strftime('%s', '2000-01-01 ' || ?3)) <= ?4)",
        params![user, date_key, time, SAME_LOGIN_S],
        |r| r.get(0),
    )
}

/// A login known from a sales record: an event (unless the sync already saw it as an active
/// session) and the user's login count. Returns whether it was new.
#[allow(clippy::too_many_arguments)]
fn record_login(
    tx: &rusqlite::Transaction,
    known: &mut KnownLogins,
    user: &str,
    date: chrono::NaiveDate,
    time: &str,
    ip: &str,
    mac: &str,
    now_s: &str,
) -> rusqlite::Result<bool> {
    let Some(secs) = day_secs(time) else {
        return Ok(false);
    };
    let date_key = date.to_string();
    let seen = known
        .entry((user.to_string(), date_key.clone()))
        .or_default();
    if seen.iter().any(|s| (s - secs).abs() <= SAME_LOGIN_S) {
        return Ok(false);
    }
    seen.push(secs);
    let seq = seen.len() as i64;
    exec(
        tx,
        "INSERT OR IGNORE INTO login_events(username, date_key, seq, login_time, ip, mac)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![user, date_key, seq, time, ip, mac],
    )?;
    let at = format!("{date_key}T{time}");
    exec(
        tx,
        "INSERT INTO login_history(username, first_ip, last_ip, first_mac, last_mac,
             first_login_at, last_login_at, login_count, updated_at)
         VALUES (?1, ?2, ?2, ?3, ?3, ?4, ?4, 1, ?5)
         ON CONFLICT(username) DO UPDATE SET
             first_ip = CASE WHEN first_ip = '' THEN ?2 ELSE first_ip END,
             first_mac = CASE WHEN first_mac = '' THEN ?3 ELSE first_mac END,
             first_login_at = CASE WHEN first_login_at IS NULL OR first_login_at > ?4
                                   THEN ?4 ELSE first_login_at END,
             last_login_at = CASE WHEN last_login_at IS NULL OR last_login_at < ?4
                                  THEN ?4 ELSE last_login_at END,
             login_count = login_count + 1, updated_at = ?5",
        params![user, ip, mac, at, now_s],
    )?;
    Ok(true)
}

/// `a`, `blok-a`, `BLOK-A` -> `BLOK-A`; anything else is matched as written, upper-cased.
pub fn canonical_blok_filter(b: &str) -> String {
    match rules::blok_letters(b) {
        Some(l) => format!("BLOK-{l}"),
        None => b.trim().to_ascii_uppercase(),
    }
}

#[cfg(test)]
mod tests;
