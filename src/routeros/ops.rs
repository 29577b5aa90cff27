//! Typed operations a hotspot shop needs: users, profiles, active sessions, Mikhmon's sales
//! scripts, the router clock. Nothing above this file sees API words.

use futures::stream::{FuturesOrdered, StreamExt};
use serde::{Deserialize, Serialize};

use super::client::{Client, RosError};
use super::command::{Command, Query, Row};

const USER: &str = "/ip/hotspot/user";
const PROFILE: &str = "/ip/hotspot/user/profile";
const ACTIVE: &str = "/ip/hotspot/active";
const SCRIPT: &str = "/system/script";

/// A hotspot user (a voucher) as the router has it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotspotUser {
    /// RouterOS item id, e.g. `*1A`.
    pub id: String,
    pub name: String,
    pub password: Option<String>,
    pub profile: String,
    pub server: Option<String>,
    /// As the router writes it, e.g. `10m`.
    pub limit_uptime: Option<String>,
    pub limit_bytes_total: Option<u64>,
    /// Decoded from UTF-8, or Windows-1252 when it is not valid UTF-8.
    pub comment: String,
    pub disabled: bool,
    pub uptime_secs: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub mac_address: Option<String>,
}

impl HotspotUser {
    fn from_row(r: &Row) -> Self {
        HotspotUser {
            id: r.text(".id"),
            name: r.text("name"),
            password: r.opt_text("password"),
            profile: r.text("profile"),
            server: r.opt_text("server"),
            limit_uptime: r.opt_text("limit-uptime"),
            limit_bytes_total: r
                .get("limit-bytes-total")
                .map(|_| r.u64("limit-bytes-total")),
            comment: r.text("comment"),
            disabled: r.flag("disabled"),
            uptime_secs: parse_uptime(&r.text("uptime")).unwrap_or(0),
            bytes_in: r.u64("bytes-in"),
            bytes_out: r.u64("bytes-out"),
            mac_address: r.opt_text("mac-address"),
        }
    }
}

/// A user the router listed but konter could not read whole: one of its properties was over
/// the reply size limit (say a 20 MB comment). It is named so the cashier can fix it on the
/// router; the rest of the listing is unaffected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedUser {
    /// RouterOS item id, when it came before the oversized word (it does: `.id` is first).
    pub id: String,
    /// The user name, when it was kept.
    pub name: Option<String>,
    /// The oversized properties, e.g. `["comment"]`.
    pub properties: Vec<String>,
    pub bytes: usize,
    pub limit: usize,
}

impl std::fmt::Display for SkippedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = match &self.name {
            Some(n) => format!("user {n:?} ({})", self.id),
            None => format!("user {}", self.id),
        };
        let what = if self.properties.is_empty() {
            "a property".to_string()
        } else {
            self.properties.join(", ")
        };
        write!(
            f,
            "{who} skipped: its {what} is {} bytes, over the {}-byte limit; shorten it on the \
             router (/ip hotspot user set {} comment=...) and sync again",
            self.bytes, self.limit, self.id
        )
    }
}

impl SkippedUser {
    /// The message in the cashier's language.
    pub fn text(&self, lang: crate::i18n::Lang) -> String {
        if lang == crate::i18n::Lang::En {
            return self.to_string();
        }
        let who = match &self.name {
            Some(n) => format!("user {n:?} ({})", self.id),
            None => format!("user {}", self.id),
        };
        let what = if self.properties.is_empty() {
            "sebuah properti".to_string()
        } else {
            self.properties.join(", ")
        };
        format!(
            "{who} dilewati: {what} berukuran {} byte, melebihi batas {} byte; perpendek di \
             router (/ip hotspot user set {} comment=...) lalu sync lagi",
            self.bytes, self.limit, self.id
        )
    }
}

/// Which properties a user listing asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserProps {
    /// What the sync and F4 need (`.proplist`): fast on routers with thousands of users.
    Sync,
    /// Everything the router has (no `.proplist`): what Mikhmon does; slow on big routers.
    All,
}

const SYNC_PROPS: &[&str] = &[
    ".id",
    "name",
    "profile",
    "limit-uptime",
    "comment",
    "disabled",
    "uptime",
    "bytes-in",
    "bytes-out",
];

/// Which users a listing returns (evaluated on the router).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserFilter {
    All,
    Name(String),
    /// Any of these names (e.g. to see which vouchers of an interrupted batch exist).
    Names(Vec<String>),
    Profile(String),
    Disabled(bool),
}

impl UserFilter {
    fn query(&self) -> Option<Query> {
        match self {
            UserFilter::All => None,
            UserFilter::Name(n) => Some(Query::eq("name", n)),
            UserFilter::Names(ns) if ns.is_empty() => None,
            UserFilter::Names(ns) => {
                Some(Query::Or(ns.iter().map(|n| Query::eq("name", n)).collect()))
            }
            UserFilter::Profile(p) => Some(Query::eq("profile", p)),
            UserFilter::Disabled(d) => {
                Some(Query::eq("disabled", if *d { "true" } else { "false" }))
            }
        }
    }
}

/// A user to create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub name: String,
    pub password: String,
    pub profile: String,
    pub server: Option<String>,
    pub limit_uptime: Option<String>,
    pub limit_bytes_total: Option<u64>,
    pub comment: String,
    pub disabled: bool,
}

/// Changes to a user; `None` leaves a property as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub comment: Option<String>,
    pub disabled: Option<bool>,
    pub profile: Option<String>,
    pub password: Option<String>,
    pub limit_uptime: Option<String>,
    /// Clears the MAC binding (retur vouchers).
    pub mac_address: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    pub id: String,
    pub name: String,
    pub rate_limit: Option<String>,
    pub shared_users: Option<String>,
    /// The on-login script text (Mikhmon keeps price and validity in it).
    pub on_login: String,
    pub on_logout: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProfile {
    pub name: String,
    pub rate_limit: Option<String>,
    pub shared_users: Option<u32>,
    pub on_login: String,
}

/// A logged-in hotspot session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveSession {
    pub id: String,
    pub user: String,
    pub server: Option<String>,
    pub address: String,
    pub mac_address: String,
    pub login_by: String,
    pub uptime_secs: u64,
    pub session_time_left_secs: Option<u64>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// A `/system/script` item; Mikhmon's sales records are those with `comment=mikhmon`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub source: String,
    pub comment: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewScript {
    pub name: String,
    pub owner: Option<String>,
    pub source: String,
    pub comment: String,
}

/// The router's own date and time, as it prints them (`jan/21/2022` or `2022-01-21`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterClock {
    pub date: String,
    pub time: String,
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl Client {
    /// Hotspot users, collected. For very large routers prefer [`Client::each_hotspot_user`].
    pub async fn hotspot_users(
        &self,
        filter: &UserFilter,
        props: UserProps,
    ) -> Result<Vec<HotspotUser>, RosError> {
        let mut out = Vec::new();
        self.each_hotspot_user(filter, props, |u| out.push(u))
            .await?;
        Ok(out)
    }

    /// Streams hotspot users to `f` one at a time (bounded memory); returns how many.
    pub async fn each_hotspot_user(
        &self,
        filter: &UserFilter,
        props: UserProps,
        mut f: impl FnMut(HotspotUser),
    ) -> Result<usize, RosError> {
        let mut cmd = Command::new(&format!("{USER}/print"));
        if props == UserProps::Sync {
            cmd = cmd.proplist(SYNC_PROPS);
        }
        if let Some(q) = filter.query() {
            cmd = cmd.query(&q);
        }
        let mut s = self.stream(cmd).await?;
        let mut n = 0;
        while let Some(row) = s.next_row().await {
            f(HotspotUser::from_row(&row?));
            n += 1;
        }
        Ok(n)
    }

    /// Like [`Client::each_hotspot_user`], but a user with a property over the reply size limit
    /// is skipped (and returned, with its id and name) instead of failing the whole listing.
    pub async fn each_hotspot_user_skipping(
        &self,
        filter: &UserFilter,
        props: UserProps,
        mut f: impl FnMut(HotspotUser),
    ) -> Result<(usize, Vec<SkippedUser>), RosError> {
        let mut cmd = Command::new(&format!("{USER}/print"));
        if props == UserProps::Sync {
            cmd = cmd.proplist(SYNC_PROPS);
        }
        if let Some(q) = filter.query() {
            cmd = cmd.query(&q);
        }
        let mut s = self.stream(cmd).await?;
        s.skip_oversized_rows();
        let mut n = 0;
        while let Some(row) = s.next_row().await {
            f(HotspotUser::from_row(&row?));
            n += 1;
        }
        let skipped = s
            .take_skipped()
            .into_iter()
            .map(|o| SkippedUser {
                id: o.row.text(".id"),
                name: o.row.opt_text("name"),
                properties: o.properties,
                bytes: o.bytes,
                limit: o.limit,
            })
            .collect();
        Ok((n, skipped))
    }

    pub async fn hotspot_user(&self, name: &str) -> Result<Option<HotspotUser>, RosError> {
        let mut users = self
            .hotspot_users(&UserFilter::Name(name.to_string()), UserProps::All)
            .await?;
        Ok(users.pop())
    }

    /// Creates a user; returns its id.
    pub async fn add_hotspot_user(&self, u: &NewUser) -> Result<String, RosError> {
        let (_, done) = self.run(add_user_command(u)?).await?;
        Ok(done.text("ret"))
    }

    /// Creates many users, pipelined (`window` commands in flight at once), calling
    /// `on_result(index, result)` as each answer arrives. Results come back in input order. A
    /// dropped connection makes the remaining ones fail with `Disconnected`; what was created
    /// is exactly the `Ok` ones (check with [`UserFilter::Names`] when in doubt).
    pub async fn add_hotspot_users(
        &self,
        users: &[NewUser],
        window: usize,
        mut on_result: impl FnMut(usize, &Result<String, RosError>) + Send,
    ) -> Vec<Result<String, RosError>> {
        let window = window.max(1);
        let mut results = Vec::with_capacity(users.len());
        let mut inflight = FuturesOrdered::new();
        let mut next = 0;
        loop {
            while next < users.len() && inflight.len() < window {
                let (i, u) = (next, &users[next]);
                inflight.push_back(async move { (i, self.add_hotspot_user(u).await) });
                next += 1;
            }
            let Some((i, r)) = inflight.next().await else {
                break;
            };
            on_result(i, &r);
            results.push(r);
        }
        results
    }

    /// Changes a user, by id (`*1A`) or name.
    pub async fn set_hotspot_user(&self, id: &str, c: &UserChanges) -> Result<(), RosError> {
        let mut cmd = Command::new(&format!("{USER}/set")).attr(".id", id);
        if let Some(v) = &c.comment {
            cmd = cmd.attr("comment", v);
        }
        if let Some(v) = c.disabled {
            cmd = cmd.attr("disabled", yes_no(v));
        }
        if let Some(v) = &c.profile {
            cmd = cmd.attr("profile", v);
        }
        if let Some(v) = &c.password {
            cmd = cmd.attr("password", v);
        }
        if let Some(v) = &c.limit_uptime {
            cmd = cmd.attr("limit-uptime", v);
        }
        if let Some(v) = &c.mac_address {
            cmd = cmd.attr("mac-address", v);
        }
        self.run(cmd).await.map(|_| ())
    }

    pub async fn set_user_comment(&self, id: &str, comment: &str) -> Result<(), RosError> {
        self.set_hotspot_user(
            id,
            &UserChanges {
                comment: Some(comment.to_string()),
                ..Default::default()
            },
        )
        .await
    }

    pub async fn set_user_disabled(&self, id: &str, disabled: bool) -> Result<(), RosError> {
        self.set_hotspot_user(
            id,
            &UserChanges {
                disabled: Some(disabled),
                ..Default::default()
            },
        )
        .await
    }

    pub async fn remove_hotspot_user(&self, id: &str) -> Result<(), RosError> {
        let cmd = Command::new(&format!("{USER}/remove")).attr(".id", id);
        self.run(cmd).await.map(|_| ())
    }

    pub async fn user_profiles(&self) -> Result<Vec<UserProfile>, RosError> {
        let (rows, _) = self.run(Command::new(&format!("{PROFILE}/print"))).await?;
        Ok(rows
            .iter()
            .map(|r| UserProfile {
                id: r.text(".id"),
                name: r.text("name"),
                rate_limit: r.opt_text("rate-limit"),
                shared_users: r.opt_text("shared-users"),
                on_login: r.text("on-login"),
                on_logout: r.text("on-logout"),
            })
            .collect())
    }

    pub async fn add_user_profile(&self, p: &NewProfile) -> Result<String, RosError> {
        let mut cmd = Command::new(&format!("{PROFILE}/add")).attr("name", &p.name);
        if let Some(r) = &p.rate_limit {
            cmd = cmd.attr("rate-limit", r);
        }
        if let Some(s) = p.shared_users {
            cmd = cmd.attr("shared-users", s.to_string());
        }
        if !p.on_login.is_empty() {
            cmd = cmd.attr("on-login", &p.on_login);
        }
        let (_, done) = self.run(cmd).await?;
        Ok(done.text("ret"))
    }

    pub async fn active_sessions(&self) -> Result<Vec<ActiveSession>, RosError> {
        let cmd = Command::new(&format!("{ACTIVE}/print")).proplist(&[
            ".id",
            "user",
            "server",
            "address",
            "mac-address",
            "login-by",
            "uptime",
            "session-time-left",
            "bytes-in",
            "bytes-out",
        ]);
        let (rows, _) = self.run(cmd).await?;
        Ok(rows
            .iter()
            .map(|r| ActiveSession {
                id: r.text(".id"),
                user: r.text("user"),
                server: r.opt_text("server"),
                address: r.text("address"),
                mac_address: r.text("mac-address"),
                login_by: r.text("login-by"),
                uptime_secs: parse_uptime(&r.text("uptime")).unwrap_or(0),
                session_time_left_secs: r
                    .opt_text("session-time-left")
                    .and_then(|s| parse_uptime(&s)),
                bytes_in: r.u64("bytes-in"),
                bytes_out: r.u64("bytes-out"),
            })
            .collect())
    }

    /// Ends a session (kicks the user off).
    pub async fn remove_active(&self, id: &str) -> Result<(), RosError> {
        let cmd = Command::new(&format!("{ACTIVE}/remove")).attr(".id", id);
        self.run(cmd).await.map(|_| ())
    }

    /// Scripts, optionally only those with this exact comment (`mikhmon` for sales records).
    pub async fn scripts(&self, comment: Option<&str>) -> Result<Vec<Script>, RosError> {
        let mut cmd = Command::new(&format!("{SCRIPT}/print"))
            .proplist(&[".id", "name", "owner", "source", "comment"]);
        if let Some(c) = comment {
            cmd = cmd.query(&Query::eq("comment", c));
        }
        let (rows, _) = self.run(cmd).await?;
        Ok(rows
            .iter()
            .map(|r| Script {
                id: r.text(".id"),
                name: r.text("name"),
                owner: r.text("owner"),
                source: r.text("source"),
                comment: r.text("comment"),
            })
            .collect())
    }

    pub async fn add_script(&self, s: &NewScript) -> Result<String, RosError> {
        let mut cmd = Command::new(&format!("{SCRIPT}/add"))
            .attr("name", &s.name)
            .attr("source", &s.source);
        if let Some(o) = &s.owner {
            cmd = cmd.attr("owner", o);
        }
        if !s.comment.is_empty() {
            cmd = cmd.attr("comment", &s.comment);
        }
        let (_, done) = self.run(cmd).await?;
        Ok(done.text("ret"))
    }

    pub async fn remove_script(&self, id: &str) -> Result<(), RosError> {
        let cmd = Command::new(&format!("{SCRIPT}/remove")).attr(".id", id);
        self.run(cmd).await.map(|_| ())
    }

    pub async fn clock(&self) -> Result<RouterClock, RosError> {
        let (rows, _) = self.run(Command::new("/system/clock/print")).await?;
        let r = rows.first().cloned().unwrap_or_default();
        Ok(RouterClock {
            date: r.text("date"),
            time: r.text("time"),
        })
    }

    pub async fn identity(&self) -> Result<String, RosError> {
        let (rows, _) = self.run(Command::new("/system/identity/print")).await?;
        Ok(rows.first().map(|r| r.text("name")).unwrap_or_default())
    }
}

fn add_user_command(u: &NewUser) -> Result<Command, RosError> {
    if u.name.is_empty() {
        return Err(RosError::Config("a hotspot user needs a name".into()));
    }
    let mut cmd = Command::new(&format!("{USER}/add"))
        .attr("name", &u.name)
        .attr("password", &u.password);
    if !u.profile.is_empty() {
        cmd = cmd.attr("profile", &u.profile);
    }
    if let Some(s) = &u.server {
        cmd = cmd.attr("server", s);
    }
    if let Some(l) = &u.limit_uptime {
        cmd = cmd.attr("limit-uptime", l);
    }
    if let Some(b) = u.limit_bytes_total {
        cmd = cmd.attr("limit-bytes-total", b.to_string());
    }
    if !u.comment.is_empty() {
        cmd = cmd.attr("comment", &u.comment);
    }
    if u.disabled {
        cmd = cmd.attr("disabled", "yes");
    }
    Ok(cmd)
}

/// RouterOS durations: `1w2d3h4m5s`, `10m`, `0s`, also `1d02:03:04` and `00:10:00`.
/// `None` for anything else (and the empty string).
pub fn parse_uptime(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total = 0u64;
    let mut num = String::new();
    let mut rest = s;
    // A trailing hh:mm:ss part.
    if let Some(colon) = s.find(':') {
        let start = s[..colon]
            .rfind(|c: char| !c.is_ascii_digit())
            .map(|i| i + 1)
            .unwrap_or(0);
        let hms: Vec<&str> = s[start..].split(':').collect();
        if hms.len() != 3 {
            return None;
        }
        let mut secs = 0u64;
        for part in &hms {
            let (whole, _) = part.split_once('.').unwrap_or((part, ""));
            secs = secs * 60 + whole.parse::<u64>().ok()?;
        }
        total += secs;
        rest = &s[..start];
    }
    for c in rest.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        total += n * match c {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
    }
    if !num.is_empty() {
        return None;
    }
    Some(total)
}

/// Formats seconds the way RouterOS prints uptime (`1w2d3h4m5s`, `0s`).
pub fn format_uptime(mut secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, len) in [
        ('w', 604_800),
        ('d', 86_400),
        ('h', 3_600),
        ('m', 60),
        ('s', 1),
    ] {
        if secs >= len {
            out.push_str(&format!("{}{unit}", secs / len));
            secs %= len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptimes_parse() {
        assert_eq!(
            parse_uptime("1w2d3h4m5s"),
            Some(604_800 + 172_800 + 10_800 + 245)
        );
        assert_eq!(parse_uptime("10m"), Some(600));
        assert_eq!(parse_uptime("0s"), Some(0));
        assert_eq!(parse_uptime("1d02:03:04"), Some(86_400 + 7_384));
        assert_eq!(parse_uptime("00:10:00"), Some(600));
        assert_eq!(parse_uptime(""), None);
        assert_eq!(parse_uptime("10x"), None);
        assert_eq!(parse_uptime("10"), None);
    }

    #[test]
    fn uptimes_format_round_trip() {
        for s in [0, 1, 59, 60, 600, 3_661, 604_800 + 86_400 + 5] {
            assert_eq!(parse_uptime(&format_uptime(s)), Some(s));
        }
        assert_eq!(format_uptime(3_661), "1h1m1s");
    }

    #[test]
    fn filters_become_queries() {
        assert_eq!(UserFilter::All.query(), None);
        assert_eq!(
            UserFilter::Names(vec!["a".into(), "b".into()]).query(),
            Some(Query::Or(vec![
                Query::eq("name", "a"),
                Query::eq("name", "b")
            ]))
        );
    }

    #[test]
    fn users_need_names() {
        assert!(add_user_command(&NewUser::default()).is_err());
    }
}
