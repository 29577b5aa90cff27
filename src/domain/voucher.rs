//! Physical voucher rules: normalizing what people type or Excel writes, and the verdict per
//! line. Pure: the products and today's date come in as arguments.
//!
//! A voucher's key is (product, code); a serial is unique per product.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// What the rules need to know of a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRule {
    pub code_len: (u8, u8),
    pub serial_len: (u8, u8),
}

/// Which column a verdict is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Product,
    Code,
    Serial,
    Expiry,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Product => "product",
            Field::Code => "code",
            Field::Serial => "serial",
            Field::Expiry => "expiry",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        Some(match s {
            "product" => Field::Product,
            "code" => Field::Code,
            "serial" => Field::Serial,
            "expiry" => Field::Expiry,
            _ => return None,
        })
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Field::Product => lang.t("produk", "product"),
            Field::Code => lang.t("kode voucher", "voucher code"),
            Field::Serial => lang.t("serial", "serial"),
            Field::Expiry => lang.t("kadaluarsa", "expiry"),
        }
    }
}

/// Why a line is rejected. The names are the verdicts of the sample files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    MissingField,
    UnknownProduct,
    ExcelScientific,
    NotDigits,
    Length,
    BadDate,
    Expired,
    DuplicateInFile,
    DuplicateInStaging,
    DuplicateInLedger,
}

impl Problem {
    pub const ALL: [Problem; 10] = [
        Problem::MissingField,
        Problem::UnknownProduct,
        Problem::ExcelScientific,
        Problem::NotDigits,
        Problem::Length,
        Problem::BadDate,
        Problem::Expired,
        Problem::DuplicateInFile,
        Problem::DuplicateInStaging,
        Problem::DuplicateInLedger,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Problem::MissingField => "missing_field",
            Problem::UnknownProduct => "unknown_product",
            Problem::ExcelScientific => "excel_scientific",
            Problem::NotDigits => "not_digits",
            Problem::Length => "length",
            Problem::BadDate => "bad_date",
            Problem::Expired => "expired",
            Problem::DuplicateInFile => "duplicate_in_file",
            Problem::DuplicateInStaging => "duplicate_in_staging",
            Problem::DuplicateInLedger => "duplicate_in_ledger",
        }
    }

    pub fn parse(s: &str) -> Option<Problem> {
        Problem::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// A short status word for a table cell.
    pub fn short(self, lang: Lang) -> &'static str {
        match self {
            Problem::MissingField => lang.t("kolom kosong", "missing field"),
            Problem::UnknownProduct => lang.t("produk ?", "unknown product"),
            Problem::ExcelScientific => lang.t("rusak Excel", "Excel damage"),
            Problem::NotDigits => lang.t("bukan angka", "not digits"),
            Problem::Length => lang.t("panjang salah", "wrong length"),
            Problem::BadDate => lang.t("tanggal salah", "bad date"),
            Problem::Expired => lang.t("kadaluarsa", "expired"),
            Problem::DuplicateInFile => lang.t("ganda di file", "dup in file"),
            Problem::DuplicateInStaging => lang.t("ganda staging", "dup in staging"),
            Problem::DuplicateInLedger => lang.t("sudah ada", "already in stock"),
        }
    }
}

/// A rejected line: which field, what kind of problem, and the detail for the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub field: Field,
    pub problem: Problem,
    /// The value or figure the message names (the bad value, the expected length, the line
    /// of the first occurrence, ...).
    pub detail: String,
}

impl Verdict {
    pub fn new(field: Field, problem: Problem, detail: impl Into<String>) -> Verdict {
        Verdict {
            field,
            problem,
            detail: detail.into(),
        }
    }

    /// The machine-readable verdict, as in the sample files: `code_not_digits`, `serial_length`,
    /// `excel_scientific`, ... (the field is reported beside it).
    pub fn code(&self) -> String {
        match self.problem {
            Problem::NotDigits | Problem::Length => {
                format!("{}_{}", self.field.as_str(), self.problem.as_str())
            }
            _ => self.problem.as_str().to_string(),
        }
    }

    /// What went wrong and what to do next, in the user's language.
    pub fn message(&self, lang: Lang) -> String {
        let f = self.field.label(lang);
        let d = &self.detail;
        match (self.problem, lang) {
            (Problem::MissingField, Lang::Id) => format!("{f} kosong: isi kolom ini atau hapus baris."),
            (Problem::MissingField, Lang::En) => format!("{f} is missing: fill it in or drop the line."),
            (Problem::UnknownProduct, Lang::Id) => format!(
                "produk {d} tidak dikenal: periksa kodenya atau tambahkan produk itu dulu."
            ),
            (Problem::UnknownProduct, Lang::En) => format!(
                "product {d} is unknown: check the code or add the product first."
            ),
            (Problem::ExcelScientific, Lang::Id) => format!(
                "Excel mengubah {f} menjadi notasi ilmiah ({d}): digit hilang, ketik ulang dari kartu."
            ),
            (Problem::ExcelScientific, Lang::En) => format!(
                "Excel turned the {f} into scientific notation ({d}): digits are lost, retype it from the card."
            ),
            (Problem::NotDigits, Lang::Id) => {
                format!("{f} harus angka saja, ada '{d}': periksa kartu dan ketik ulang.")
            }
            (Problem::NotDigits, Lang::En) => {
                format!("the {f} must be digits only, found '{d}': check the card and retype it.")
            }
            (Problem::Length, Lang::Id) => {
                format!("panjang {f} salah ({d}): mungkin ada digit hilang atau lebih.")
            }
            (Problem::Length, Lang::En) => {
                format!("wrong {f} length ({d}): a digit may be missing or extra.")
            }
            (Problem::BadDate, Lang::Id) => format!(
                "tanggal '{d}' tidak valid: pakai 2027-12-31, 31/12/2027 atau 31 Des 2027."
            ),
            (Problem::BadDate, Lang::En) => format!(
                "'{d}' is not a valid date: use 2027-12-31, 31/12/2027 or 31 Dec 2027."
            ),
            (Problem::Expired, Lang::Id) => {
                format!("voucher sudah kadaluarsa ({d}): jangan dimasukkan ke stok.")
            }
            (Problem::Expired, Lang::En) => {
                format!("the voucher expired on {d}: do not put it into stock.")
            }
            (Problem::DuplicateInFile, Lang::Id) => {
                format!("{f} sama dengan baris {d} di file ini: hapus salah satunya.")
            }
            (Problem::DuplicateInFile, Lang::En) => {
                format!("the {f} repeats line {d} of this file: drop one of them.")
            }
            (Problem::DuplicateInStaging, Lang::Id) => format!(
                "{f} sudah ada di staging batch #{d}: konfirmasi atau hapus batch itu dulu."
            ),
            (Problem::DuplicateInStaging, Lang::En) => format!(
                "the {f} is already staged in batch #{d}: confirm or drop that batch first."
            ),
            (Problem::DuplicateInLedger, Lang::Id) => {
                format!("{f} sudah ada di stok ({d}): voucher ini pernah dimasukkan.")
            }
            (Problem::DuplicateInLedger, Lang::En) => {
                format!("the {f} is already in stock ({d}): this voucher was entered before.")
            }
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field.as_str(), self.message(Lang::En))
    }
}

/// One line as read, before any rule. Absent columns are `None`, empty ones `Some("")`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawVoucher {
    pub product: Option<String>,
    pub code: Option<String>,
    pub serial: Option<String>,
    pub expiry: Option<String>,
}

/// A line after normalization. Values that could not be normalized are kept as typed, so the
/// preview can show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voucher {
    pub product: String,
    pub code: String,
    pub serial: String,
    /// ISO date when valid, else the text as typed; empty when the list has no expiry.
    pub expiry: String,
}

/// Trims and drops spaces and dashes inside a code or serial ("1233 0669-7058" -> "12330669 7058").
pub fn normalize_number(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '\u{2013}' && *c != '\u{00a0}')
        .collect()
}

/// Excel writes long numbers as `1.23457E+15`: the digits are gone for good.
pub fn is_excel_scientific(s: &str) -> bool {
    let t = s.trim();
    let Some(e) = t.bytes().position(|b| b == b'e' || b == b'E') else {
        return false;
    };
    let (mantissa, exp) = (&t[..e], &t[e + 1..]);
    let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    let mantissa = mantissa.replace(',', ".");
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("0");
    !int.is_empty()
        && int.chars().all(|c| c.is_ascii_digit())
        && frac.chars().all(|c| c.is_ascii_digit())
        && !exp.is_empty()
        && exp.chars().all(|c| c.is_ascii_digit())
}

const MONTHS: &[(&str, u32)] = &[
    ("januari", 1),
    ("jan", 1),
    ("january", 1),
    ("februari", 2),
    ("feb", 2),
    ("pebruari", 2),
    ("peb", 2),
    ("february", 2),
    ("maret", 3),
    ("mar", 3),
    ("march", 3),
    ("april", 4),
    ("apr", 4),
    ("mei", 5),
    ("may", 5),
    ("juni", 6),
    ("jun", 6),
    ("june", 6),
    ("juli", 7),
    ("jul", 7),
    ("july", 7),
    ("agustus", 8),
    ("agu", 8),
    ("agt", 8),
    ("ags", 8),
    ("aug", 8),
    ("august", 8),
    ("september", 9),
    ("sep", 9),
    ("sept", 9),
    ("oktober", 10),
    ("okt", 10),
    ("oct", 10),
    ("october", 10),
    ("november", 11),
    ("nov", 11),
    ("nopember", 11),
    ("nop", 11),
    ("desember", 12),
    ("des", 12),
    ("dec", 12),
    ("december", 12),
];

fn month_by_name(s: &str) -> Option<u32> {
    let s = s.trim_end_matches('.').to_lowercase();
    MONTHS.iter().find(|(n, _)| *n == s).map(|(_, m)| *m)
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn year(s: &str) -> Option<i32> {
    let y = num(s)? as i32;
    match s.len() {
        4 => Some(y),
        2 => Some(2000 + y),
        _ => None,
    }
}

/// Parses the date forms shops use: ISO `yyyy-mm-dd`, `yyyy/mm/dd`, `dd/mm/yyyy`, `dd-mm-yyyy`,
/// `dd.mm.yyyy` (day first, as in Indonesia), and `15 Mei 2028` / `15-Agu-2028` with Indonesian
/// or English month names. A time after the date (Excel's `00:00:00`) is ignored.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    // Fast path for ISO, the common case of big lists.
    let b = t.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let n = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
            })
        };
        if let (Some(y), Some(m), Some(d)) = (n(0..4), n(5..7), n(8..10)) {
            let date = NaiveDate::from_ymd_opt(y as i32, m, d)?;
            return (1990..=2200).contains(&date.year()).then_some(date);
        }
    }
    let t = t.split(['T', ' ']).next().filter(|d| {
        // Keep a trailing time off only when the first word is a whole numeric date.
        d.chars().filter(|c| matches!(c, '-' | '/' | '.')).count() == 2
            && d.chars().any(|c| c.is_ascii_digit())
            && !d.chars().any(|c| c.is_alphabetic())
    });
    let t = t.unwrap_or(s.trim());
    let parts: Vec<&str> = t
        .split(|c: char| c == '-' || c == '/' || c == '.' || c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 {
        return None;
    }
    let (y, m, d) = if parts[0].len() == 4 && parts[0].chars().all(|c| c.is_ascii_digit()) {
        (year(parts[0])?, num(parts[1])?, num(parts[2])?)
    } else if let Some(m) = month_by_name(parts[1]) {
        (year(parts[2])?, m, num(parts[0])?)
    } else if let Some(m) = month_by_name(parts[0]) {
        // "Mei 15 2028" is rare, but English exports write it.
        (year(parts[2])?, m, num(parts[1])?)
    } else {
        (year(parts[2])?, num(parts[1])?, num(parts[0])?)
    };
    let date = NaiveDate::from_ymd_opt(y, m, d)?;
    (1990..=2200).contains(&date.year()).then_some(date)
}

/// Applies the rules that need only the line itself and the product list: fields present,
/// known product, digits, lengths, dates. Duplicates are found with [`VoucherKeys`] by the
/// store, which sees more than one line.
pub fn check_line(
    raw: &RawVoucher,
    product_of: &dyn Fn(&str) -> Option<ProductRule>,
    today: NaiveDate,
) -> (Voucher, Option<Verdict>) {
    check_owned_line(raw.clone(), product_of, today)
}

/// [`check_line`] for a line that is not needed afterwards: values already in normal form are
/// moved, not copied (the common case of big lists).
pub fn check_owned_line(
    raw: RawVoucher,
    product_of: &dyn Fn(&str) -> Option<ProductRule>,
    today: NaiveDate,
) -> (Voucher, Option<Verdict>) {
    let expiry_column = raw.expiry.is_some();
    let product = keep_or(
        raw.product,
        |p| p.trim().bytes().all(|b| !b.is_ascii_lowercase()) && p.trim().len() == p.len(),
        |p| p.trim().to_uppercase(),
    );
    let number = |s: Option<String>| {
        keep_or(
            s,
            |s| s.bytes().all(|b| b.is_ascii_digit()),
            |s| {
                let t = s.trim();
                if is_excel_scientific(t) {
                    t.to_owned()
                } else {
                    normalize_number(t)
                }
            },
        )
    };
    let code = number(raw.code);
    let serial = number(raw.serial);
    let expiry_raw = raw.expiry.unwrap_or_default();
    let date = parse_date(&expiry_raw);
    let expiry = match date {
        Some(d) => iso(d, expiry_raw),
        None => expiry_raw.trim().to_owned(),
    };
    let mut v = Voucher {
        product,
        code,
        serial,
        expiry,
    };
    let verdict = rules(&v, expiry_column, product_of, today, date);
    if verdict.is_none() && date.is_none() {
        v.expiry.clear();
    }
    (v, verdict)
}

/// The value itself when it is already in normal form, else its normal form.
fn keep_or(
    s: Option<String>,
    normal: impl Fn(&str) -> bool,
    make: impl Fn(&str) -> String,
) -> String {
    match s {
        Some(s) if normal(&s) => s,
        Some(s) => make(&s),
        None => String::new(),
    }
}

/// The date as ISO text, reusing the input when it already is.
fn iso(d: NaiveDate, input: String) -> String {
    if input.len() == 10 && input.as_bytes()[4] == b'-' && input.as_bytes()[7] == b'-' {
        input
    } else {
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    }
}

fn rules(
    v: &Voucher,
    expiry_column: bool,
    product_of: &dyn Fn(&str) -> Option<ProductRule>,
    today: NaiveDate,
    date: Option<NaiveDate>,
) -> Option<Verdict> {
    for (field, value) in [
        (Field::Product, &v.product),
        (Field::Code, &v.code),
        (Field::Serial, &v.serial),
    ] {
        if value.is_empty() {
            return Some(Verdict::new(field, Problem::MissingField, ""));
        }
    }
    // A column the list has (even if empty) must be filled; an expiry column that is absent
    // altogether (the plain `code | serial` list) is fine.
    if expiry_column && v.expiry.is_empty() {
        return Some(Verdict::new(Field::Expiry, Problem::MissingField, ""));
    }
    let Some(rule) = product_of(&v.product) else {
        return Some(Verdict::new(
            Field::Product,
            Problem::UnknownProduct,
            &v.product,
        ));
    };
    for (field, value, (min, max)) in [
        (Field::Code, &v.code, rule.code_len),
        (Field::Serial, &v.serial, rule.serial_len),
    ] {
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            if is_excel_scientific(value) {
                return Some(Verdict::new(field, Problem::ExcelScientific, value));
            }
            let bad = value.chars().find(|c| !c.is_ascii_digit()).unwrap_or('?');
            return Some(Verdict::new(field, Problem::NotDigits, bad.to_string()));
        }
        let n = value.len();
        if n < min as usize || n > max as usize {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min}-{max}")
            };
            return Some(Verdict::new(field, Problem::Length, format!("{n}/{want}")));
        }
    }
    if !v.expiry.is_empty() {
        match date {
            None => return Some(Verdict::new(Field::Expiry, Problem::BadDate, &v.expiry)),
            Some(d) if d < today => {
                return Some(Verdict::new(Field::Expiry, Problem::Expired, &v.expiry))
            }
            Some(_) => {}
        }
    }
    None
}

/// A code or serial under a product, as a map key. Digit strings (all valid codes and serials)
/// become a number plus their length, so leading zeros count and no key allocates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Num(u32, u8, u128),
    Text(u32, Box<str>),
}

/// The length rules of the known products, by product code.
pub type ProductRules = FxHashMap<String, ProductRule>;

/// Codes and serials of many vouchers, each with a value (the line or the batch that holds
/// it). Used for repeats within a file, keys staged elsewhere, and a preloaded ledger.
#[derive(Debug, Default)]
pub struct VoucherKeys<V> {
    products: FxHashMap<Box<str>, u32>,
    codes: FxHashMap<Key, V>,
    serials: FxHashMap<Key, V>,
}

impl<V: Copy> VoucherKeys<V> {
    pub fn with_capacity(n: usize) -> Self {
        VoucherKeys {
            products: FxHashMap::default(),
            codes: FxHashMap::with_capacity_and_hasher(n, Default::default()),
            serials: FxHashMap::with_capacity_and_hasher(n, Default::default()),
        }
    }

    fn key_with(id: u32, s: &str) -> Key {
        if !s.is_empty() && s.len() <= 38 && s.bytes().all(|b| b.is_ascii_digit()) {
            let n = s.bytes().fold(0u128, |a, b| a * 10 + (b - b'0') as u128);
            Key::Num(id, s.len() as u8, n)
        } else {
            Key::Text(id, s.into())
        }
    }

    fn key(&self, product: &str, s: &str) -> Option<Key> {
        self.products.get(product).map(|&id| Self::key_with(id, s))
    }

    fn product_id(&mut self, product: &str) -> u32 {
        match self.products.get(product) {
            Some(&id) => id,
            None => {
                let id = self.products.len() as u32;
                self.products.insert(product.into(), id);
                id
            }
        }
    }

    pub fn insert(&mut self, product: &str, code: &str, serial: &str, value: V) {
        let id = self.product_id(product);
        self.codes.insert(Self::key_with(id, code), value);
        self.serials.insert(Self::key_with(id, serial), value);
    }

    /// Adds the voucher unless its code or serial is there already; then returns the value
    /// found and which field matched. The map may hold keys of several origins: when both the
    /// code and the serial are there, the one whose value ranks first (lowest `rank`) is
    /// reported, the code on a tie. One key computation per field.
    pub fn insert_new_ranked(
        &mut self,
        product: &str,
        code: &str,
        serial: &str,
        value: V,
        rank: impl Fn(V) -> u8,
    ) -> Option<(Field, V)> {
        let id = self.product_id(product);
        let c = Self::key_with(id, code);
        let s = Self::key_with(id, serial);
        match (self.codes.get(&c).copied(), self.serials.get(&s).copied()) {
            (None, None) => {
                self.codes.insert(c, value);
                self.serials.insert(s, value);
                None
            }
            (Some(a), Some(b)) if rank(b) < rank(a) => Some((Field::Serial, b)),
            (Some(a), _) => Some((Field::Code, a)),
            (None, Some(b)) => Some((Field::Serial, b)),
        }
    }

    /// Adds the keys of another map whose `value` is Some; keys already here keep their value.
    pub fn extend_from<W: Copy>(&mut self, other: &VoucherKeys<W>, value: impl Fn(W) -> Option<V>) {
        let mut ids = vec![0u32; other.products.len()];
        for (p, &id) in &other.products {
            ids[id as usize] = self.product_id(p);
        }
        let remap = |k: &Key| match k {
            Key::Num(id, len, n) => Key::Num(ids[*id as usize], *len, *n),
            Key::Text(id, t) => Key::Text(ids[*id as usize], t.clone()),
        };
        self.codes.reserve(other.codes.len());
        self.serials.reserve(other.serials.len());
        for (k, &w) in &other.codes {
            if let Some(v) = value(w) {
                self.codes.entry(remap(k)).or_insert(v);
            }
        }
        for (k, &w) in &other.serials {
            if let Some(v) = value(w) {
                self.serials.entry(remap(k)).or_insert(v);
            }
        }
    }

    pub fn code(&self, product: &str, code: &str) -> Option<V> {
        self.key(product, code)
            .and_then(|k| self.codes.get(&k).copied())
    }

    pub fn serial(&self, product: &str, serial: &str) -> Option<V> {
        self.key(product, serial)
            .and_then(|k| self.serials.get(&k).copied())
    }

    pub fn remove(&mut self, product: &str, code: &str, serial: &str) {
        if let Some(k) = self.key(product, code) {
            self.codes.remove(&k);
        }
        if let Some(k) = self.key(product, serial) {
            self.serials.remove(&k);
        }
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn products(code: &str) -> Option<ProductRule> {
        [
            "TSELVD5", "TSELVD10", "ISATVD3", "XLVD5", "AXISVD2", "TRIVD6",
        ]
        .contains(&code)
        .then_some(ProductRule {
            code_len: (16, 16),
            serial_len: (12, 12),
        })
    }

    fn raw(p: &str, c: &str, s: &str, e: Option<&str>) -> RawVoucher {
        RawVoucher {
            product: Some(p.into()),
            code: Some(c.into()),
            serial: Some(s.into()),
            expiry: e.map(Into::into),
        }
    }

    fn verdict(r: &RawVoucher) -> Option<String> {
        check_line(r, &products, today()).1.map(|v| v.code())
    }

    #[test]
    fn valid_line_is_normalized() {
        let (v, err) = check_line(
            &raw(
                " tselvd5 ",
                "1233 0669-7058 7150",
                " 711338013399 ",
                Some("11/05/2027"),
            ),
            &products,
            today(),
        );
        assert_eq!(err, None);
        assert_eq!(v.product, "TSELVD5");
        assert_eq!(v.code, "1233066970587150");
        assert_eq!(v.serial, "711338013399");
        assert_eq!(v.expiry, "2027-05-11");
    }

    #[test]
    fn missing_fields() {
        assert_eq!(
            verdict(&raw("XLVD5", "", "711338013399", None)).unwrap(),
            "missing_field"
        );
        let r = RawVoucher {
            product: Some("AXISVD2".into()),
            code: Some("0463353564473927".into()),
            ..Default::default()
        };
        let v = check_line(&r, &products, today()).1.unwrap();
        assert_eq!((v.field, v.problem), (Field::Serial, Problem::MissingField));
        let v = check_line(
            &raw("XLVD5", "0119520348050355", "176952060195", Some(" ")),
            &products,
            today(),
        )
        .1
        .unwrap();
        assert_eq!((v.field, v.problem), (Field::Expiry, Problem::MissingField));
    }

    #[test]
    fn absent_expiry_column_is_allowed() {
        assert_eq!(
            verdict(&raw("XLVD5", "0119520348050355", "176952060195", None)),
            None
        );
    }

    #[test]
    fn unknown_product() {
        assert_eq!(
            verdict(&raw("NOPE99", "0028939610051117", "386023828818", None)).unwrap(),
            "unknown_product"
        );
    }

    #[test]
    fn excel_scientific_in_code_and_serial() {
        assert_eq!(
            verdict(&raw("XLVD5", "1.23457E+15", "176952060195", None)).unwrap(),
            "excel_scientific"
        );
        assert_eq!(
            verdict(&raw("XLVD5", "0119520348050355", "1.23457E+11", None)).unwrap(),
            "excel_scientific"
        );
        assert!(is_excel_scientific("1,23457E+11"));
        assert!(is_excel_scientific("7E10"));
        assert!(!is_excel_scientific("12345678ABCD5678"));
        assert!(!is_excel_scientific("E+11"));
        assert!(!is_excel_scientific("1.2E"));
    }

    #[test]
    fn digits_only() {
        assert_eq!(
            verdict(&raw("TSELVD10", "12345678ABCD5678", "623610921088", None)).unwrap(),
            "code_not_digits"
        );
        assert_eq!(
            verdict(&raw("TSELVD10", "1234567812345678", "62361092108O", None)).unwrap(),
            "serial_not_digits"
        );
    }

    #[test]
    fn length_rules_per_product() {
        assert_eq!(
            verdict(&raw("TRIVD6", "1234567", "110165039666", None)).unwrap(),
            "code_length"
        );
        assert_eq!(
            verdict(&raw("TRIVD6", "1234567812345678", "1101650396661", None)).unwrap(),
            "serial_length"
        );
        let ranged = |_: &str| {
            Some(ProductRule {
                code_len: (10, 18),
                serial_len: (8, 16),
            })
        };
        assert_eq!(
            check_line(&raw("X", "1234567890", "12345678", None), &ranged, today()).1,
            None
        );
    }

    #[test]
    fn dates() {
        let d = |s| parse_date(s).map(|d| d.format("%Y-%m-%d").to_string());
        assert_eq!(d("2028-05-15").as_deref(), Some("2028-05-15"));
        assert_eq!(d("15/05/2028").as_deref(), Some("2028-05-15"));
        assert_eq!(d("15-05-2028").as_deref(), Some("2028-05-15"));
        assert_eq!(d("15.05.2028").as_deref(), Some("2028-05-15"));
        assert_eq!(d("2028/05/15").as_deref(), Some("2028-05-15"));
        assert_eq!(d("15 Mei 2028").as_deref(), Some("2028-05-15"));
        assert_eq!(d("15-Agu-2028").as_deref(), Some("2028-08-15"));
        assert_eq!(d("1 Agustus 2028").as_deref(), Some("2028-08-01"));
        assert_eq!(d("31 Des 2027").as_deref(), Some("2027-12-31"));
        assert_eq!(d("5 Okt 27").as_deref(), Some("2027-10-05"));
        assert_eq!(d("2028-05-15 00:00:00").as_deref(), Some("2028-05-15"));
        assert_eq!(d("31/02/2027"), None);
        assert_eq!(d("2027-13-01"), None);
        assert_eq!(d("besok"), None);
        assert_eq!(d("15 Foo 2028"), None);
        assert_eq!(d(""), None);
    }

    #[test]
    fn bad_and_expired_dates() {
        assert_eq!(
            verdict(&raw(
                "TSELVD5",
                "6266620398496331",
                "290068578579",
                Some("31/02/2027")
            ))
            .unwrap(),
            "bad_date"
        );
        assert_eq!(
            verdict(&raw(
                "AXISVD2",
                "0350726240120242",
                "951276165650",
                Some("2020-01-31")
            ))
            .unwrap(),
            "expired"
        );
        // Expiring today is still sellable today.
        assert_eq!(
            verdict(&raw(
                "AXISVD2",
                "0350726240120242",
                "951276165650",
                Some("2026-11-21")
            )),
            None
        );
    }

    #[test]
    fn duplicates_in_file_by_code_and_by_serial() {
        // The first line wins: a later line repeating its code or serial gets that line back.
        let mut idx = VoucherKeys::<u64>::default();
        let mut add =
            |p: &str, c: &str, s: &str, line: u64| idx.insert_new_ranked(p, c, s, line, |_| 0);
        assert_eq!(add("XLVD5", "1111111111111111", "111111111111", 2), None);
        assert_eq!(
            add("XLVD5", "1111111111111111", "222222222222", 4),
            Some((Field::Code, 2))
        );
        assert_eq!(
            add("XLVD5", "3333333333333333", "111111111111", 5),
            Some((Field::Serial, 2))
        );
        // Same code under another product is another voucher.
        assert_eq!(add("AXISVD2", "1111111111111111", "111111111111", 6), None);
        idx.remove("XLVD5", "1111111111111111", "111111111111");
        assert_eq!(
            idx.insert_new_ranked("XLVD5", "1111111111111111", "111111111111", 7, |_| 0),
            None
        );
    }

    /// With keys of several origins, the better-ranked match is named.
    #[test]
    fn ranked_match_names_the_better_origin() {
        let mut idx = VoucherKeys::<u64>::default();
        idx.insert("XLVD5", "1111111111111111", "999999999999", 9);
        idx.insert("XLVD5", "8888888888888888", "111111111111", 1);
        let rank = |v: u64| v as u8;
        assert_eq!(
            idx.insert_new_ranked("XLVD5", "1111111111111111", "111111111111", 5, rank),
            Some((Field::Serial, 1))
        );
        assert_eq!(
            idx.insert_new_ranked("XLVD5", "1111111111111111", "111111111111", 5, |_| 0),
            Some((Field::Code, 9))
        );
    }

    #[test]
    fn keys_keep_leading_zeros_and_long_values() {
        let mut k = VoucherKeys::<u64>::default();
        k.insert("XLVD5", "0119520348050355", "176952060195", 2);
        assert_eq!(k.code("XLVD5", "0119520348050355"), Some(2));
        assert_eq!(k.code("XLVD5", "119520348050355"), None);
        assert_eq!(k.code("AXISVD2", "0119520348050355"), None);
        assert_eq!(k.serial("XLVD5", "176952060195"), Some(2));
        let long = "1".repeat(45);
        k.insert("X", &long, "12AB", 3);
        assert_eq!(k.code("X", &long), Some(3));
        assert_eq!(k.serial("X", "12AB"), Some(3));
        k.remove("XLVD5", "0119520348050355", "176952060195");
        assert_eq!(k.code("XLVD5", "0119520348050355"), None);
        assert_eq!(k.len(), 1);
    }

    #[test]
    fn every_message_names_the_problem_in_both_languages() {
        for p in Problem::ALL {
            let v = Verdict::new(Field::Code, p, "X");
            for lang in [Lang::Id, Lang::En] {
                let m = v.message(lang);
                assert!(m.len() > 20, "{p:?} {lang:?}: {m}");
                assert!(m.contains(':'), "says what to do next: {m}");
            }
            assert_eq!(Problem::parse(p.as_str()), Some(p));
        }
    }
}
