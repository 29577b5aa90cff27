//! Hotspot voucher rules taken from WartelPas (see shared/spec/hotspot-business-rules.md).
//!
//! Pure: router facts, comments and dates come in as values; nothing here reads a clock, the
//! router or the database. Section numbers (§) refer to the rules document.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One mebibyte, the unit of every byte threshold in the rules.
pub const MIB: u64 = 1_048_576;
/// Up to this many bytes a voucher still counts as unused (§1 "bytes > 50").
pub const UNUSED_BYTES: u64 = 50;

// ---------------------------------------------------------------------------------------------
// Status (§1)
// ---------------------------------------------------------------------------------------------

/// The status an operator sees on F4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Ready,
    Online,
    Terpakai,
    Rusak,
    Retur,
    Invalid,
    /// A staff voucher (comment word `VIP` or `Pengelola`) that is otherwise READY; never a sale.
    Pengelola,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Ready,
        Status::Online,
        Status::Terpakai,
        Status::Rusak,
        Status::Retur,
        Status::Invalid,
        Status::Pengelola,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "READY",
            Status::Online => "ONLINE",
            Status::Terpakai => "TERPAKAI",
            Status::Rusak => "RUSAK",
            Status::Retur => "RETUR",
            Status::Invalid => "INVALID",
            Status::Pengelola => "PENGELOLA",
        }
    }

    /// Accepts any case, and VIP for PENGELOLA.
    pub fn parse(s: &str) -> Option<Status> {
        let up = s.trim().to_ascii_uppercase();
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == up)
            .or(if up == "VIP" {
                Some(Status::Pengelola)
            } else {
                None
            })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `login_history.last_status`: what konter (and WartelPas) stores per user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryStatus {
    Ready,
    Online,
    Terpakai,
    Rusak,
    Retur,
    Invalid,
}

impl HistoryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryStatus::Ready => "ready",
            HistoryStatus::Online => "online",
            HistoryStatus::Terpakai => "terpakai",
            HistoryStatus::Rusak => "rusak",
            HistoryStatus::Retur => "retur",
            HistoryStatus::Invalid => "invalid",
        }
    }

    pub fn parse(s: &str) -> Option<HistoryStatus> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ready" => Some(HistoryStatus::Ready),
            "online" => Some(HistoryStatus::Online),
            "terpakai" => Some(HistoryStatus::Terpakai),
            "rusak" => Some(HistoryStatus::Rusak),
            "retur" => Some(HistoryStatus::Retur),
            "invalid" => Some(HistoryStatus::Invalid),
            _ => None,
        }
    }
}

/// The user's entry in `/ip/hotspot/active`, if it is logged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActiveFacts {
    pub uptime_s: u64,
    /// bytes-in + bytes-out of the session.
    pub bytes: u64,
}

/// What konter's own history (`login_history`) knows about the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HistoryFacts {
    pub status: Option<HistoryStatus>,
    pub bytes: u64,
    pub uptime_s: u64,
    pub login_count: u32,
}

impl HistoryFacts {
    /// "history shows any usage" (§1).
    pub fn shows_usage(&self) -> bool {
        self.login_count > 0
            || self.bytes > 0
            || self.uptime_s > 0
            || matches!(
                self.status,
                Some(HistoryStatus::Online | HistoryStatus::Terpakai)
            )
    }
}

/// Everything status derivation reads about one voucher.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserFacts<'a> {
    pub comment: &'a str,
    pub profile: &'a str,
    pub disabled: bool,
    /// The router user's bytes-in + bytes-out.
    pub bytes: u64,
    /// The router user's total uptime.
    pub uptime_s: u64,
    pub active: Option<ActiveFacts>,
    pub history: Option<HistoryFacts>,
}

/// The derived view of one voucher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Derived {
    pub status: Status,
    /// max(router, active, history) bytes.
    pub bytes: u64,
    pub uptime_s: u64,
    pub retur: bool,
    pub rusak: bool,
    pub invalid: bool,
    pub used: bool,
    /// TERPAKAI warning: looks like a broken voucher (§1, last bullet).
    pub warning: bool,
}

/// §1: bytes, uptime, flags and the status shown to operators.
///
/// Order: ONLINE > RETUR > RUSAK > INVALID > TERPAKAI > PENGELOLA/READY. INVALID only comes from
/// the comment word `invalid`; it sits below RUSAK as in the accounting precedence (§5).
pub fn derive_status(f: &UserFacts<'_>) -> Derived {
    let hist = f.history.unwrap_or_default();
    let bytes = f
        .bytes
        .max(f.active.map(|a| a.bytes).unwrap_or(0))
        .max(hist.bytes);
    let uptime_s = match f.active {
        Some(a) => a.uptime_s,
        None if hist.uptime_s > 0 => hist.uptime_s,
        None => f.uptime_s,
    };
    let online = f.active.is_some();
    let retur = comment_is_retur(f.comment) || hist.status == Some(HistoryStatus::Retur);
    let rusak = !retur
        && (comment_is_rusak(f.comment) || hist.status == Some(HistoryStatus::Rusak) || f.disabled);
    let invalid = comment_is_invalid(f.comment);
    let history_usage = f.history.map(|h| h.shows_usage()).unwrap_or(false);
    let used = !retur
        && !rusak
        && !f.disabled
        && (online || bytes > UNUSED_BYTES || uptime_s != 0 || history_usage);
    let status = if online {
        Status::Online
    } else if retur {
        Status::Retur
    } else if rusak {
        Status::Rusak
    } else if invalid {
        Status::Invalid
    } else if used {
        Status::Terpakai
    } else if bytes <= UNUSED_BYTES && uptime_s == 0 && comment_is_vip(f.comment) {
        Status::Pengelola
    } else {
        Status::Ready
    };
    let warning = status == Status::Terpakai
        && terpakai_warning(profile_minutes(&[f.profile, f.comment]), bytes, uptime_s);
    Derived {
        status,
        bytes,
        uptime_s,
        retur,
        rusak,
        invalid,
        used,
        warning,
    }
}

/// §1 TERPAKAI warning: a 10/30-minute voucher with 0 < bytes < 2/3 MiB and an uptime that is
/// either the whole profile or at most 5 minutes.
pub fn terpakai_warning(minutes: Option<u32>, bytes: u64, uptime_s: u64) -> bool {
    let limit = match minutes {
        Some(10) => 2 * MIB,
        Some(30) => 3 * MIB,
        _ => return false,
    };
    let len = u64::from(minutes.unwrap_or(0)) * 60;
    bytes > 0 && bytes < limit && (uptime_s >= len || (uptime_s > 0 && uptime_s <= 300))
}

/// The status the background sync stores in `login_history.last_status` (§1, last paragraph):
/// online > retur (comment has "RETUR") > rusak (disabled or `Audit: RUSAK`) > terpakai; READY
/// users are never stored (None).
///
/// `previous` is what is stored now: a rusak/retur/invalid set by konter itself (auto-rusak, a
/// retur) is not overwritten by a plain terpakai, unlike WartelPas (§12.6).
pub fn sync_last_status(
    online: bool,
    comment: &str,
    disabled: bool,
    used: bool,
    previous: Option<HistoryStatus>,
) -> Option<HistoryStatus> {
    let computed = if online {
        Some(HistoryStatus::Online)
    } else if contains_ci(comment, "retur") {
        Some(HistoryStatus::Retur)
    } else if disabled || contains_ci(comment, "audit: rusak") {
        Some(HistoryStatus::Rusak)
    } else if used {
        Some(HistoryStatus::Terpakai)
    } else {
        None
    };
    match (computed, previous) {
        (
            Some(HistoryStatus::Terpakai) | None,
            Some(p @ (HistoryStatus::Rusak | HistoryStatus::Retur | HistoryStatus::Invalid)),
        ) => Some(p),
        (None, Some(HistoryStatus::Terpakai)) => Some(HistoryStatus::Terpakai),
        (c, _) => c,
    }
}

// ---------------------------------------------------------------------------------------------
// Comment flags (§1, §2, §5)
// ---------------------------------------------------------------------------------------------

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

/// Whether `word` appears in `text` as a whole word, ignoring case.
pub fn has_word(text: &str, word: &str) -> bool {
    let lower = text.to_lowercase();
    let w = word.to_lowercase();
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(&w) {
        let start = from + pos;
        let end = start + w.len();
        let before_ok = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        let after_ok = end >= bytes.len() || !bytes[end].is_ascii_alphanumeric();
        if before_ok && after_ok {
            return true;
        }
        from = start + 1;
        while !lower.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// Retur flag from a comment: `(Retur)` or `Retur Ref:`.
pub fn comment_is_retur(comment: &str) -> bool {
    contains_ci(comment, "(retur)") || contains_ci(comment, "retur ref:")
}

/// Rusak flag from a comment: `Audit: RUSAK` anywhere, or a comment starting with `RUSAK`.
pub fn comment_is_rusak(comment: &str) -> bool {
    contains_ci(comment, "audit: rusak") || comment.trim_start().to_uppercase().starts_with("RUSAK")
}

/// INVALID only ever comes from the word `invalid` in a comment.
pub fn comment_is_invalid(comment: &str) -> bool {
    has_word(comment, "invalid")
}

/// A staff voucher: the word `VIP` or `Pengelola`.
pub fn comment_is_vip(comment: &str) -> bool {
    has_word(comment, "vip") || has_word(comment, "pengelola")
}

/// The user a retur voucher replaces: the text after `Retur Ref:` (and after `vc-` when present),
/// up to a space or `|`.
pub fn retur_ref(comment: &str) -> Option<String> {
    let lower = comment.to_lowercase();
    let at = lower.find("retur ref:")?;
    // `to_lowercase` can change byte lengths for non-ASCII text; map back through char indices.
    let prefix_chars = lower[..at].chars().count();
    let start = comment
        .char_indices()
        .nth(prefix_chars + "retur ref:".len())
        .map(|(i, _)| i)
        .unwrap_or(comment.len());
    let rest = comment[start..].trim_start();
    let rest = rest
        .strip_prefix("vc-")
        .or_else(|| rest.strip_prefix("VC-"))
        .unwrap_or(rest);
    let name: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '|')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The users that another voucher's `Retur Ref:` points to; hidden from the used, retur and all
/// views (§1).
pub fn replaced_originals<'a>(comments: impl IntoIterator<Item = &'a str>) -> HashSet<String> {
    comments.into_iter().filter_map(retur_ref).collect()
}

// ---------------------------------------------------------------------------------------------
// Blok and profile (§2, §3)
// ---------------------------------------------------------------------------------------------

/// Where a `blok[-_ ]?<alnum>` match sits in a text: the alphanumeric run after it.
fn blok_token(text: &str) -> Option<&str> {
    let lower = text.to_ascii_lowercase();
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = lower[from..].find("blok") {
        let mut i = from + pos + 4;
        if i < b.len() && matches!(b[i], b'-' | b'_' | b' ') {
            let after = i + 1;
            if after < b.len() && b[after].is_ascii_alphanumeric() {
                i = after;
            }
        }
        let run_end = b[i..]
            .iter()
            .position(|c| !c.is_ascii_alphanumeric())
            .map(|p| i + p)
            .unwrap_or(b.len());
        if run_end > i {
            return Some(&text[i..run_end]);
        }
        from = from + pos + 4;
    }
    None
}

/// §2 blok normalisation: `Blok-A10` -> `BLOK-A`; a match with no letters -> `BLOK-LAIN`;
/// aliases map a canonical name to another (both sides canonical, e.g. `BLOK-W` -> `BLOK-WARTEL`).
/// No `blok` in the text at all -> None (no blok hint).
pub fn normalize_blok(text: &str, aliases: &BTreeMap<String, String>) -> Option<String> {
    let token = blok_token(text)?;
    let letters: String = token
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    let canon = if letters.is_empty() {
        "BLOK-LAIN".to_string()
    } else {
        format!("BLOK-{letters}")
    };
    Some(aliases.get(&canon).cloned().unwrap_or(canon))
}

/// The profile minutes a blok token carries: `Blok-A10` -> 10, `Blok-C30` -> 30.
pub fn blok_minutes(text: &str) -> Option<u32> {
    let token = blok_token(text)?;
    let digits: String = token
        .chars()
        .skip_while(|c| c.is_ascii_alphabetic())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    match digits.parse::<u32>().ok()? {
        m @ (10 | 30) => Some(m),
        _ => None,
    }
}

/// `10|30` followed by `menit` or `m` (any case) as a whole token: `10Menit`, `30 menit`, `10m`.
pub fn minutes_in_text(text: &str) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    let b = lower.as_bytes();
    for (i, _) in lower.match_indices(['1', '3']) {
        if i > 0 && b[i - 1].is_ascii_digit() {
            continue;
        }
        if b.get(i + 1) != Some(&b'0') {
            continue;
        }
        let minutes = if b[i] == b'1' { 10 } else { 30 };
        let mut j = i + 2;
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        let rest = &lower[j..];
        let unit_len = if rest.starts_with("menit") {
            5
        } else if rest.starts_with('m') {
            1
        } else {
            continue;
        };
        let end = j + unit_len;
        if end >= b.len() || !b[end].is_ascii_alphanumeric() {
            return Some(minutes);
        }
    }
    None
}

/// §3 profile minutes: the first source (validity, profile name, comment) that names 10 or 30
/// minutes, else a `blokX10|30` token.
pub fn profile_minutes(sources: &[&str]) -> Option<u32> {
    sources
        .iter()
        .find_map(|s| minutes_in_text(s))
        .or_else(|| sources.iter().find_map(|s| blok_minutes(s)))
}

/// Normalised profile key for price lookups: lower case, no spaces (`10 Menit` -> `10menit`).
pub fn profile_key(profile: &str) -> String {
    profile
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Uptime and dates (§2)
// ---------------------------------------------------------------------------------------------

/// RouterOS uptime `1w2d3h4m5s` (any subset, in order) or `hh:mm:ss`, to seconds.
/// Milliseconds (`500ms`) are dropped. None for anything else.
pub fn parse_uptime(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.contains(':') {
        let (days, clock) = match s.split_once('d') {
            Some((d, c)) => (d.parse::<u64>().ok()?, c),
            None => (0, s),
        };
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() != 3 {
            return None;
        }
        let h: u64 = parts[0].parse().ok()?;
        let m: u64 = parts[1].parse().ok()?;
        let sec: u64 = parts[2].split('.').next()?.parse().ok()?;
        if m > 59 || sec > 59 {
            return None;
        }
        return Some(days * 86_400 + h * 3600 + m * 60 + sec);
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3600,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0
            }
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
        any = true;
    }
    if !num.is_empty() || !any {
        return None;
    }
    Some(total)
}

/// Seconds as RouterOS writes them: `1w2d3h4m5s`, `0s` for zero.
pub fn format_uptime(mut s: u64) -> String {
    if s == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, sym) in [
        (604_800, 'w'),
        (86_400, 'd'),
        (3600, 'h'),
        (60, 'm'),
        (1, 's'),
    ] {
        if s >= unit {
            out.push_str(&format!("{}{}", s / unit, sym));
            s %= unit;
        }
    }
    out
}

/// Seconds as a clock for tables: `00:04:12`, `27:00:05`.
pub fn format_clock(s: u64) -> String {
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// §2 sale dates: `YYYY-MM-DD…` (first 10 characters), `mon/DD/YYYY` in any case, `NN/NN/YYYY`
/// read as MM/DD. Anything else: None (an empty sale_date).
pub fn parse_sale_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    if raw.len() >= 10 && raw.is_char_boundary(10) {
        if let Ok(d) = NaiveDate::parse_from_str(&raw[..10], "%Y-%m-%d") {
            return Some(d);
        }
    }
    let parts: Vec<&str> = raw.split('/').collect();
    if parts.len() != 3 || parts[2].len() != 4 {
        return None;
    }
    let year: i32 = parts[2].parse().ok()?;
    let day: u32 = parts[1].parse().ok()?;
    let month: u32 = match MONTHS.iter().position(|m| m.eq_ignore_ascii_case(parts[0])) {
        Some(i) => i as u32 + 1,
        None if parts[0].len() <= 2 && parts[0].chars().all(|c| c.is_ascii_digit()) => {
            parts[0].parse().ok()?
        }
        None => return None,
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

/// RouterOS's own date form, as the on-login script writes it: `nov/21/2026`.
pub fn router_date(d: NaiveDate) -> String {
    format!(
        "{}/{:02}/{}",
        MONTHS[d.month0() as usize],
        d.day(),
        d.year()
    )
}

// ---------------------------------------------------------------------------------------------
// Generated vouchers (§2, Mikhmon)
// ---------------------------------------------------------------------------------------------

/// Mikhmon's two user modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum VoucherMode {
    /// `vc-`: the password is the user name.
    #[default]
    Vc,
    /// `up-`: a separate password.
    Up,
}

impl VoucherMode {
    pub fn prefix(self) -> &'static str {
        match self {
            VoucherMode::Vc => "vc",
            VoucherMode::Up => "up",
        }
    }
}

/// A parsed generated comment `vc-123-05.21.22-Blok-A10`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedComment {
    pub mode: VoucherMode,
    /// The batch code, 100..=999.
    pub code: u16,
    pub date: NaiveDate,
    /// The letters of the blok (`A`).
    pub blok_letters: String,
    /// The profile minutes after the letters (`10`).
    pub minutes: u32,
}

impl GeneratedComment {
    pub fn format(&self) -> String {
        format!(
            "{}-{}-{}-Blok-{}{}",
            self.mode.prefix(),
            self.code,
            self.date.format("%m.%d.%y"),
            self.blok_letters,
            self.minutes
        )
    }

    pub fn parse(s: &str) -> Option<GeneratedComment> {
        let mut it = s.trim().splitn(4, '-');
        let mode = match it.next()? {
            "vc" => VoucherMode::Vc,
            "up" => VoucherMode::Up,
            _ => return None,
        };
        let code: u16 = it.next()?.parse().ok()?;
        if !(100..=999).contains(&code) {
            return None;
        }
        let date = NaiveDate::parse_from_str(it.next()?, "%m.%d.%y").ok()?;
        let blok = it.next()?;
        let rest = blok.strip_prefix("Blok-")?;
        let letters: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let minutes: u32 = rest[letters.len()..].parse().ok()?;
        if letters.is_empty() {
            return None;
        }
        Some(GeneratedComment {
            mode,
            code,
            date,
            blok_letters: letters,
            minutes,
        })
    }
}

/// A blok letter code as typed by the cashier: `A`, `blok-a`, `BLOK-A` -> `A`.
pub fn blok_letters(input: &str) -> Option<String> {
    let t = input.trim();
    let t = if t.len() >= 4 && t[..4].eq_ignore_ascii_case("blok") {
        t[4..].trim_start_matches(['-', '_', ' '])
    } else {
        t
    };
    let letters: String = t.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let rest = &t[letters.len()..];
    (!letters.is_empty() && (rest.is_empty() || rest.chars().all(|c| c.is_ascii_digit())))
        .then(|| letters.to_ascii_uppercase())
}

/// A small deterministic generator (xorshift64*), so voucher generation stays pure and testable:
/// the caller seeds it (from the clock, outside the rules).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Characters of generated names: lower case and digits, without the look-alikes `0 o 1 l i`,
/// so a voucher can be typed from paper.
pub const NAME_CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// One voucher to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewVoucher {
    pub name: String,
    pub password: String,
    pub profile: String,
    pub limit_uptime: Option<String>,
    pub comment: String,
}

/// What a generate request asks for.
#[derive(Debug, Clone)]
pub struct GenerateSpec {
    pub mode: VoucherMode,
    pub profile: String,
    /// Minutes of the profile; also the `S` of `Blok-<L><S>` and `limit-uptime=<S>m`.
    pub minutes: u32,
    pub blok_letters: String,
    pub count: usize,
    pub name_len: usize,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenerateError {
    Count(usize),
    NameLen(usize),
    Blok(String),
}

impl fmt::Display for GenerateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenerateError::Count(n) => write!(
                f,
                "cannot generate {n} vouchers: choose a count from 1 to {MAX_BATCH}"
            ),
            GenerateError::NameLen(n) => write!(
                f,
                "a name length of {n} is not usable: choose 4 to 12 characters"
            ),
            GenerateError::Blok(b) => {
                write!(f, "'{b}' is not a blok: give letters such as A or BLOK-A")
            }
        }
    }
}

impl std::error::Error for GenerateError {}

/// The most vouchers one batch may create.
pub const MAX_BATCH: usize = 1000;

/// Mikhmon's generator: a batch code 100..999, one comment for the batch, and names that collide
/// neither with each other nor with `existing` users.
pub fn generate_vouchers(
    spec: &GenerateSpec,
    existing: &HashSet<String>,
    rng: &mut Rng,
) -> Result<Vec<NewVoucher>, GenerateError> {
    if spec.count == 0 || spec.count > MAX_BATCH {
        return Err(GenerateError::Count(spec.count));
    }
    if !(4..=12).contains(&spec.name_len) {
        return Err(GenerateError::NameLen(spec.name_len));
    }
    if spec.blok_letters.is_empty() || !spec.blok_letters.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(GenerateError::Blok(spec.blok_letters.clone()));
    }
    let comment = GeneratedComment {
        mode: spec.mode,
        code: 100 + rng.below(900) as u16,
        date: spec.date,
        blok_letters: spec.blok_letters.clone(),
        minutes: spec.minutes,
    }
    .format();
    let mut taken: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(spec.count);
    let word = |rng: &mut Rng| -> String {
        (0..spec.name_len)
            .map(|_| NAME_CHARS[rng.below(NAME_CHARS.len() as u64) as usize] as char)
            .collect()
    };
    while out.len() < spec.count {
        let name = word(rng);
        if existing.contains(&name) || !taken.insert(name.clone()) {
            continue;
        }
        let password = match spec.mode {
            VoucherMode::Vc => name.clone(),
            VoucherMode::Up => word(rng),
        };
        out.push(NewVoucher {
            name,
            password,
            profile: spec.profile.clone(),
            limit_uptime: (spec.minutes > 0).then(|| format!("{}m", spec.minutes)),
            comment: comment.clone(),
        });
    }
    Ok(out)
}

/// Why a user name cannot be sent to the router as is.
pub fn check_user_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the user name is empty".into());
    }
    if name.len() > 64 {
        return Err(format!("the user name '{name}' is longer than 64 bytes"));
    }
    if let Some(c) = name.chars().find(|c| *c == '=' || c.is_control()) {
        return Err(format!(
            "the user name {name:?} contains {c:?}; RouterOS hotspot names cannot hold '=', NUL or line breaks, pick another name"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sales records (§2) and sale classification (§5)
// ---------------------------------------------------------------------------------------------

/// Sale status by precedence retur > rusak > invalid > normal (§5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SaleStatus {
    Normal,
    Rusak,
    Retur,
    Invalid,
}

impl SaleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SaleStatus::Normal => "normal",
            SaleStatus::Rusak => "rusak",
            SaleStatus::Retur => "retur",
            SaleStatus::Invalid => "invalid",
        }
    }

    pub fn parse(s: &str) -> Option<SaleStatus> {
        match s {
            "normal" => Some(SaleStatus::Normal),
            "rusak" => Some(SaleStatus::Rusak),
            "retur" => Some(SaleStatus::Retur),
            "invalid" => Some(SaleStatus::Invalid),
            _ => None,
        }
    }

    /// From flags, by precedence.
    pub fn from_flags(retur: bool, rusak: bool, invalid: bool) -> SaleStatus {
        if retur {
            SaleStatus::Retur
        } else if rusak {
            SaleStatus::Rusak
        } else if invalid {
            SaleStatus::Invalid
        } else {
            SaleStatus::Normal
        }
    }
}

/// One Mikhmon sales record: the name of a `/system/script` with `comment=mikhmon`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRecord {
    /// The whole record as read (`full_raw_data`).
    pub raw: String,
    pub raw_date: String,
    pub raw_time: String,
    pub sale_date: Option<NaiveDate>,
    pub username: String,
    /// The price written in the record; 0 when missing or not a number.
    pub price: i64,
    pub ip: String,
    pub mac: String,
    pub validity: String,
    pub profile: String,
    /// The comment from `Blok-` up to the next `|`.
    pub blok_info: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaleRecordError {
    TooFewFields(usize),
    NoUser,
}

impl fmt::Display for SaleRecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaleRecordError::TooFewFields(n) => write!(
                f,
                "sales record has {n} fields, at least 4 (date, time, user, price) are needed; it was left on the router"
            ),
            SaleRecordError::NoUser => {
                write!(f, "sales record has no user name; it was left on the router")
            }
        }
    }
}

impl std::error::Error for SaleRecordError {}

/// The price the on-login template writes: 20000 for `30Menit`, 5000 otherwise.
pub fn template_price(profile: &str) -> i64 {
    if profile_key(profile) == "30menit" {
        20_000
    } else {
        5_000
    }
}

/// The comment part a sales record carries: from `Blok-` up to the next `|`, trimmed.
pub fn blok_info_of(comment: &str) -> String {
    let lower = comment.to_ascii_lowercase();
    match lower.find("blok-") {
        Some(i) => comment[i..]
            .split('|')
            .next()
            .unwrap_or("")
            .trim()
            .to_string(),
        None => String::new(),
    }
}

/// The record the on-login script writes (9 fields joined by `-|-`).
#[allow(clippy::too_many_arguments)]
pub fn format_sale_record(
    date: &str,
    time: &str,
    user: &str,
    price: i64,
    ip: &str,
    mac: &str,
    validity: &str,
    profile: &str,
    comment: &str,
) -> String {
    [
        date,
        time,
        user,
        &price.to_string(),
        ip,
        mac,
        validity,
        profile,
        &blok_info_of(comment),
    ]
    .join("-|-")
}

/// §2: splits on `-|-` (or `-|`), keeps up to 9 fields; fewer than 4 is rejected.
pub fn parse_sale_record(raw: &str) -> Result<SaleRecord, SaleRecordError> {
    let fields: Vec<&str> = if raw.contains("-|-") {
        raw.split("-|-").collect()
    } else {
        raw.split("-|").collect()
    };
    if fields.len() < 4 {
        return Err(SaleRecordError::TooFewFields(fields.len()));
    }
    let f = |i: usize| {
        fields
            .get(i)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let username = f(2);
    if username.is_empty() {
        return Err(SaleRecordError::NoUser);
    }
    let raw_date = f(0);
    Ok(SaleRecord {
        raw: raw.to_string(),
        sale_date: parse_sale_date(&raw_date),
        raw_date,
        raw_time: f(1),
        username,
        price: f(3).parse::<i64>().ok().filter(|p| *p > 0).unwrap_or(0),
        ip: f(4),
        mac: f(5),
        validity: f(6),
        profile: f(7),
        blok_info: f(8),
    })
}

/// Prices konter knows, for §5's price resolution.
#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    /// Normalised profile key (`10menit`) -> price.
    pub profile_prices: BTreeMap<String, i64>,
    pub price_10: i64,
    pub price_30: i64,
}

impl PriceBook {
    /// §5 price: the record's own price, else the configured profile price, else the 10/30
    /// minute price by the `10|30 menit|m` pattern, else 0.
    pub fn resolve(&self, record_price: i64, profile: &str) -> i64 {
        if record_price > 0 {
            return record_price;
        }
        if let Some(p) = self.profile_prices.get(&profile_key(profile)) {
            if *p > 0 {
                return *p;
            }
        }
        match minutes_in_text(profile) {
            Some(10) => self.price_10,
            Some(30) => self.price_30,
            _ => 0,
        }
    }
}

/// Why a record is not taken into live_sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleSkip {
    /// A VIP / Pengelola voucher is never a sale.
    Vip,
    /// No blok hint and not rusak/retur/invalid (§5 skipped rows).
    NoBlok,
    /// Same username and sale date as an earlier record.
    DuplicateUserDate,
    /// The identical record was already taken.
    DuplicateRaw,
}

/// A sale ready for `live_sales`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    pub record: SaleRecord,
    /// Normalised blok, or `BLOK-UNKNOWN` when a flagged record carries none.
    pub blok: String,
    pub price: i64,
    pub status: SaleStatus,
}

/// Classifies one parsed record against the user's current comment (which may have become
/// rusak/retur/invalid since the login) and the price book.
pub fn classify_sale(
    record: SaleRecord,
    current_comment: &str,
    aliases: &BTreeMap<String, String>,
    prices: &PriceBook,
) -> Result<Sale, SaleSkip> {
    let texts = [record.blok_info.as_str(), current_comment];
    if texts.iter().any(|t| comment_is_vip(t)) {
        return Err(SaleSkip::Vip);
    }
    let retur = texts.iter().any(|t| comment_is_retur(t));
    let rusak = texts.iter().any(|t| comment_is_rusak(t));
    let invalid = texts.iter().any(|t| comment_is_invalid(t));
    let status = SaleStatus::from_flags(retur, rusak, invalid);
    let blok = normalize_blok(&record.blok_info, aliases)
        .or_else(|| normalize_blok(current_comment, aliases));
    let blok = match blok {
        Some(b) => b,
        None if status != SaleStatus::Normal => "BLOK-UNKNOWN".to_string(),
        None => return Err(SaleSkip::NoBlok),
    };
    let price = prices.resolve(record.price, &record.profile);
    Ok(Sale {
        record,
        blok,
        price,
        status,
    })
}

/// §5 dedup: one sale per username + sale date; an identical raw record counts once. Keeps the
/// first of each, in input order, and says why the others were dropped.
pub fn dedup_sales(sales: Vec<Sale>) -> (Vec<Sale>, Vec<(Sale, SaleSkip)>) {
    let mut raws: HashSet<String> = HashSet::new();
    let mut keys: HashSet<(String, Option<NaiveDate>)> = HashSet::new();
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for s in sales {
        if !raws.insert(s.record.raw.clone()) {
            dropped.push((s, SaleSkip::DuplicateRaw));
        } else if !keys.insert((s.record.username.clone(), s.record.sale_date)) {
            dropped.push((s, SaleSkip::DuplicateUserDate));
        } else {
            kept.push(s);
        }
    }
    (kept, dropped)
}

/// Totals of a set of sales (§5): gross, net, loss, laku (distinct users neither rusak nor
/// invalid), all in whole rupiah.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SalesTotals {
    pub gross: Decimal,
    pub net: Decimal,
    pub loss: Decimal,
    pub laku: usize,
    pub qty: usize,
}

/// §5 accounting with the §12.2 recommended retur model: a retur pair counts the original's gross
/// once (its rusak loss is recovered by the retur's net) and one laku.
pub fn sales_totals(sales: &[Sale]) -> SalesTotals {
    let mut t = SalesTotals::default();
    let mut laku: HashSet<&str> = HashSet::new();
    for s in sales {
        let p = Decimal::from(s.price);
        t.qty += 1;
        match s.status {
            SaleStatus::Normal => {
                t.gross += p;
                t.net += p;
                laku.insert(&s.record.username);
            }
            SaleStatus::Rusak => {
                t.gross += p;
                t.loss += p;
            }
            SaleStatus::Retur => {
                t.net += p;
                laku.insert(&s.record.username);
            }
            SaleStatus::Invalid => {}
        }
    }
    t.laku = laku.len();
    t
}

// ---------------------------------------------------------------------------------------------
// Logins and relogins
// ---------------------------------------------------------------------------------------------

/// A login seen by the sync: the user appeared in `/ip/hotspot/active`, or a sales record
/// carries the login's date and time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoginEvent {
    pub username: String,
    /// `YYYY-MM-DD` of the login.
    pub date_key: NaiveDate,
    /// `HH:MM:SS` of the login.
    pub login_time: String,
}

/// Relogins: every login after the first. Events are deduplicated on
/// (user, date_key, login_time), as `login_events` is.
pub fn relogin_counts(events: &[LoginEvent]) -> HashMap<String, u32> {
    let unique: HashSet<&LoginEvent> = events.iter().collect();
    let mut logins: HashMap<String, u32> = HashMap::new();
    for e in unique {
        *logins.entry(e.username.clone()).or_default() += 1;
    }
    logins
        .into_iter()
        .map(|(u, n)| (u, n.saturating_sub(1)))
        .collect()
}

/// Human bytes for tables: `812 B`, `3.1 MB` (MiB, as the router's Winbox shows them).
pub fn format_bytes(b: u64) -> String {
    if b < 1024 {
        format!("{b} B")
    } else if b < MIB {
        format!("{:.1} KB", b as f64 / 1024.0)
    } else if b < 1024 * MIB {
        format!("{:.1} MB", b as f64 / MIB as f64)
    } else {
        format!("{:.2} GB", b as f64 / (1024 * MIB) as f64)
    }
}

#[cfg(test)]
mod tests;
