//! The voucher ledger: where confirmed vouchers live. Two implementations: the embedded SQLite
//! ledger (no SQL Server configured) and OtoMaX's SQL Server (`otomax::OtomaxLedger`).
//!
//! The trait is synchronous: jobs call it from a blocking thread, like every SQLite call.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::Serialize;

/// One voucher of a staged batch, as it goes to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerVoucher {
    pub product: String,
    pub code: String,
    pub serial: String,
    pub expiry: Option<NaiveDate>,
    pub batch_id: i64,
    pub line: i64,
}

/// Why a voucher was not inserted: the ledger already has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub line: i64,
    /// "code" or "serial": which key already exists for this product.
    pub key: &'static str,
    /// The ledger's row is the same voucher (same product, code and serial): a retry of an
    /// attempt whose answer was lost, not a different voucher.
    pub same_voucher: bool,
    /// For a clash with the ledger: the other key of the voucher there (its serial when the
    /// code clashed, its code when the serial did). None for a clash inside the batch.
    pub held_by: Option<String>,
}

/// The outcome of an all-or-nothing insert: the lines that went in, and the ones refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InsertReport {
    pub inserted: Vec<i64>,
    pub conflicts: Vec<Conflict>,
    /// Round trips to the ledger's server, for the benchmark and the log (0 for SQLite).
    pub round_trips: u64,
}

/// Vouchers per product, with the product list of the ledger's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockLine {
    pub product: String,
    pub name: String,
    pub price: Option<Decimal>,
    pub active: bool,
    pub in_stock: i64,
    pub sold: i64,
    pub used: i64,
    /// In stock and expiring between today and the configured days ahead.
    pub expiring: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    InStock,
    Sold,
    Used,
}

/// A sale of the voucher as OtoMaX recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sale {
    pub transaction: String,
    pub at: Option<NaiveDateTime>,
    pub status: i64,
}

/// The Otoplus-style verification of one voucher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoucherStatus {
    pub product: String,
    pub code: String,
    pub serial: String,
    pub expiry: Option<NaiveDate>,
    pub entry: Option<NaiveDateTime>,
    pub status_value: i64,
    pub usage: Usage,
    pub sale: Option<Sale>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerError {
    /// Settings are wrong: nothing was tried.
    Config(String),
    /// The server cannot be reached (host, port, instance, firewall).
    Unreachable(String),
    /// Login refused (user or password).
    Login(String),
    /// The database does not exist or the login may not open it.
    Database(String),
    /// The server did not answer in time.
    Timeout(String),
    /// The mapping does not match the server; writes are refused until it does.
    Schema(Vec<String>),
    /// A value is longer than its column.
    TooShort(String),
    /// The server refused a duplicate key.
    Duplicate(String),
    /// The connection broke in the middle of the work.
    Dropped(String),
    /// Any other refusal from the server.
    Server(String),
    /// The local store failed.
    Store(String),
}

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LedgerError::Config(m) => write!(f, "{m}"),
            LedgerError::Unreachable(m) => write!(
                f,
                "SQL Server cannot be reached ({m}); check that the server runs, the host and port (or instance) in otomax.url, and the firewall"
            ),
            LedgerError::Login(m) => write!(
                f,
                "SQL Server refused the login ({m}); check User Id and Password in otomax.url / KONTER_OTOMAX_URL"
            ),
            LedgerError::Database(m) => write!(
                f,
                "SQL Server cannot open the database ({m}); check Database= in otomax.url"
            ),
            LedgerError::Timeout(m) => write!(
                f,
                "SQL Server did not answer in time ({m}); the batch stays staged, try again when the server is less busy or raise otomax.command_timeout_s"
            ),
            LedgerError::Schema(p) => write!(
                f,
                "the OtoMaX mapping does not match the server, so nothing is written: {}; fix [otomax.vouchers] in the config and run `konter otomax check`",
                p.join("; ")
            ),
            LedgerError::TooShort(m) => write!(f, "{m}; nothing was written"),
            LedgerError::Duplicate(m) => write!(
                f,
                "SQL Server refused a duplicate voucher ({m}); nothing was written, the batch stays staged: confirm again to re-check it"
            ),
            LedgerError::Dropped(m) => write!(
                f,
                "the connection to SQL Server broke during the insert ({m}); nothing was committed, the batch stays staged: confirm again"
            ),
            LedgerError::Server(m) => write!(f, "SQL Server refused the request: {m}"),
            LedgerError::Store(m) => write!(f, "local store: {m}"),
        }
    }
}

impl std::error::Error for LedgerError {}

impl LedgerError {
    /// The message in the UI's language; English is the [`Display`](std::fmt::Display) text.
    pub fn message(&self, lang: crate::i18n::Lang) -> String {
        if lang == crate::i18n::Lang::En {
            return self.to_string();
        }
        match self {
            LedgerError::Config(m) => m.clone(),
            LedgerError::Unreachable(m) => format!(
                "SQL Server tidak bisa dihubungi ({m}); periksa server menyala, host dan port (atau instance) di otomax.url, dan firewall"
            ),
            LedgerError::Login(m) => format!(
                "SQL Server menolak login ({m}); periksa User Id dan Password di otomax.url / KONTER_OTOMAX_URL"
            ),
            LedgerError::Database(m) => format!(
                "SQL Server tidak bisa membuka database ({m}); periksa Database= di otomax.url"
            ),
            LedgerError::Timeout(m) => format!(
                "SQL Server tidak menjawab tepat waktu ({m}); batch tetap di staging, coba lagi saat server tidak sibuk atau naikkan otomax.command_timeout_s"
            ),
            LedgerError::Schema(p) => format!(
                "pemetaan OtoMaX tidak cocok dengan server, jadi tidak ada yang ditulis: {}; perbaiki [otomax.vouchers] di config lalu jalankan `konter otomax check`",
                p.join("; ")
            ),
            LedgerError::TooShort(m) => format!("{m}; tidak ada yang ditulis"),
            LedgerError::Duplicate(m) => format!(
                "SQL Server menolak voucher ganda ({m}); tidak ada yang ditulis, batch tetap di staging: konfirmasi lagi untuk memeriksa ulang"
            ),
            LedgerError::Dropped(m) => format!(
                "koneksi ke SQL Server putus saat memasukkan ({m}); tidak ada yang tersimpan, batch tetap di staging: konfirmasi lagi"
            ),
            LedgerError::Server(m) => format!("SQL Server menolak permintaan: {m}"),
            LedgerError::Store(m) => format!("database lokal: {m}"),
        }
    }
}

/// The voucher ledger.
pub trait Ledger {
    /// "sqlite" or "sqlserver", for messages and JSON.
    fn kind(&self) -> &'static str;

    /// The vouchers among `rows` that the ledger already holds, by one set-based lookup.
    fn existing(&mut self, rows: &[LedgerVoucher]) -> Result<Vec<Conflict>, LedgerError>;

    /// Inserts every row that does not conflict, all or nothing, in one transaction that first
    /// re-checks conflicts. `who` and `now` are recorded where the ledger has room for them.
    fn insert_batch(
        &mut self,
        rows: &[LedgerVoucher],
        who: &str,
        now: NaiveDateTime,
    ) -> Result<InsertReport, LedgerError>;

    /// Vouchers per product, `today` deciding what counts as expiring.
    fn stock(
        &mut self,
        today: NaiveDate,
        expiring_days: u32,
    ) -> Result<Vec<StockLine>, LedgerError>;

    /// Every voucher whose serial or code is `needle` (normally one).
    fn voucher_status(&mut self, needle: &str) -> Result<Vec<VoucherStatus>, LedgerError>;
}

/// Finds conflicts of `rows` against sets of existing (product, code) and (product, serial)
/// keys; shared by both ledgers. Duplicates inside the batch itself conflict too (the later line).
pub fn conflicts_against(
    rows: &[LedgerVoucher],
    codes: &std::collections::HashMap<(String, String), String>,
    serials: &std::collections::HashMap<(String, String), String>,
) -> Vec<Conflict> {
    let mut seen_codes = std::collections::HashSet::new();
    let mut seen_serials = std::collections::HashSet::new();
    let mut out = Vec::new();
    for r in rows {
        let ck = (r.product.clone(), r.code.clone());
        let sk = (r.product.clone(), r.serial.clone());
        if let Some(serial) = codes.get(&ck) {
            out.push(Conflict {
                line: r.line,
                key: "code",
                same_voucher: *serial == r.serial,
                held_by: Some(serial.clone()),
            });
        } else if let Some(code) = serials.get(&sk) {
            out.push(Conflict {
                line: r.line,
                key: "serial",
                same_voucher: false,
                held_by: Some(code.clone()),
            });
        } else if !seen_codes.insert(ck) {
            out.push(Conflict {
                line: r.line,
                key: "code",
                same_voucher: false,
                held_by: None,
            });
        } else if !seen_serials.insert(sk) {
            out.push(Conflict {
                line: r.line,
                key: "serial",
                same_voucher: false,
                held_by: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn v(line: i64, p: &str, c: &str, s: &str) -> LedgerVoucher {
        LedgerVoucher {
            product: p.into(),
            code: c.into(),
            serial: s.into(),
            expiry: None,
            batch_id: 1,
            line,
        }
    }

    #[test]
    fn conflicts_by_code_serial_and_within_batch() {
        let mut codes = HashMap::new();
        codes.insert(("XLVD5".to_string(), "111".to_string()), "S1".to_string());
        codes.insert(("XLVD5".to_string(), "222".to_string()), "S2".to_string());
        let mut serials = HashMap::new();
        serials.insert(("XLVD5".to_string(), "S1".to_string()), "111".to_string());
        serials.insert(("XLVD5".to_string(), "S2".to_string()), "222".to_string());
        let rows = vec![
            v(1, "XLVD5", "111", "S1"),   // same voucher already there
            v(2, "XLVD5", "222", "S9"),   // code taken by another serial
            v(3, "XLVD5", "333", "S2"),   // serial taken
            v(4, "AXISVD2", "111", "S1"), // other product: fine
            v(5, "TRIVD6", "9", "T9"),
            v(6, "TRIVD6", "9", "T8"), // duplicate code inside the batch
        ];
        let c = conflicts_against(&rows, &codes, &serials);
        assert_eq!(
            c,
            vec![
                Conflict {
                    line: 1,
                    key: "code",
                    same_voucher: true,
                    held_by: Some("S1".into())
                },
                Conflict {
                    line: 2,
                    key: "code",
                    same_voucher: false,
                    held_by: Some("S2".into())
                },
                Conflict {
                    line: 3,
                    key: "serial",
                    same_voucher: false,
                    held_by: Some("222".into())
                },
                Conflict {
                    line: 6,
                    key: "code",
                    same_voucher: false,
                    held_by: None
                },
            ]
        );
    }
}
