//! Where OtoMaX keeps what konter reads and writes, and the check of that mapping against the
//! server's INFORMATION_SCHEMA.COLUMNS. The check itself is pure: rows in, problems out.

use crate::i18n::Lang;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct VoucherMapping {
    pub table: String,
    pub product: String,
    pub code: String,
    pub serial: String,
    pub expiry: String,
    pub status: String,
    pub entry: String,
    pub status_new: i64,
    pub status_used: i64,
}

impl Default for VoucherMapping {
    fn default() -> Self {
        VoucherMapping {
            table: "voucher_fisik".into(),
            product: "kode_produk".into(),
            code: "kode_voucher".into(),
            serial: "serial_number".into(),
            expiry: "expiry_date".into(),
            status: "usage_status".into(),
            entry: "entry_date".into(),
            status_new: 0,
            status_used: 2,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ProdukMapping {
    pub table: String,
    pub code: String,
    pub name: String,
    pub price: String,
    pub active: String,
}

impl Default for ProdukMapping {
    fn default() -> Self {
        ProdukMapping {
            table: "produk".into(),
            code: "kode".into(),
            name: "nama".into(),
            price: "harga_jual".into(),
            active: "aktif".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct TransaksiMapping {
    pub table: String,
    pub code: String,
    pub entry: String,
    pub product: String,
    pub sn: String,
    pub status: String,
    pub status_success: i64,
}

impl Default for TransaksiMapping {
    fn default() -> Self {
        TransaksiMapping {
            table: "transaksi".into(),
            code: "kode".into(),
            entry: "tgl_entri".into(),
            product: "kode_produk".into(),
            sn: "sn".into(),
            status: "status".into(),
            status_success: 20,
        }
    }
}

/// The kind of column a mapped name must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// char, varchar, nchar, nvarchar, at least this many characters.
    Text(u32),
    Integer,
    Number,
    Date,
    DateTime,
    Flag,
    /// Any type (a key only read back).
    Any,
}

impl Kind {
    fn accepts(self, data_type: &str, len: Option<i64>) -> Result<(), Reason> {
        let t = data_type.to_ascii_lowercase();
        let ok = |b: bool| {
            if b {
                Ok(())
            } else {
                Err(Reason::WrongType {
                    is: t.clone(),
                    want: self,
                })
            }
        };
        match self {
            Kind::Text(min) => {
                ok(["char", "varchar", "nchar", "nvarchar"].contains(&t.as_str()))?;
                match len {
                    Some(-1) | None => Ok(()),
                    Some(n) if n >= min as i64 => Ok(()),
                    Some(n) => Err(Reason::TooShort { is: t, len: n, min }),
                }
            }
            Kind::Integer => ok(["tinyint", "smallint", "int", "bigint"].contains(&t.as_str())),
            Kind::Number => ok([
                "tinyint",
                "smallint",
                "int",
                "bigint",
                "decimal",
                "numeric",
                "money",
                "smallmoney",
                "float",
                "real",
            ]
            .contains(&t.as_str())),
            Kind::Date => {
                ok(["date", "datetime", "datetime2", "smalldatetime"].contains(&t.as_str()))
            }
            Kind::DateTime => {
                ok(["datetime", "datetime2", "smalldatetime", "datetimeoffset"]
                    .contains(&t.as_str()))
            }
            Kind::Flag => ok(["bit", "tinyint", "smallint", "int"].contains(&t.as_str())),
            Kind::Any => Ok(()),
        }
    }

    /// What a column of this kind must be, for the check's messages.
    fn wanted(self, lang: Lang) -> &'static str {
        match self {
            Kind::Text(_) => lang.t("teks (varchar atau nvarchar)", "text (varchar or nvarchar)"),
            Kind::Integer => lang.t(
                "bilangan bulat (tinyint, smallint, int atau bigint)",
                "a whole number (tinyint, smallint, int or bigint)",
            ),
            Kind::Number => lang.t(
                "angka (int, decimal atau money)",
                "a number (int, decimal or money)",
            ),
            Kind::Date => lang.t("tanggal (date atau datetime)", "a date (date or datetime)"),
            Kind::DateTime => lang.t(
                "tanggal dan jam (datetime atau datetime2)",
                "a date and time (datetime or datetime2)",
            ),
            Kind::Flag => lang.t("penanda (bit atau int)", "a flag (bit or int)"),
            Kind::Any => lang.t("kolom apa saja", "any column"),
        }
    }
}

/// What exactly is wrong, so the message can be said in either language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    MissingTable,
    /// The columns the table does have.
    MissingColumn {
        have: Vec<String>,
    },
    WrongType {
        is: String,
        want: Kind,
    },
    TooShort {
        is: String,
        len: i64,
        min: u32,
    },
}

/// Shortest text columns the check accepts: the longest codes seen on Indonesian vouchers.
pub const MIN_PRODUCT_LEN: u32 = 8;
pub const MIN_CODE_LEN: u32 = 16;
pub const MIN_SERIAL_LEN: u32 = 12;

/// One mapped column: which config key names it, and what it must be.
#[derive(Debug, Clone, Serialize)]
pub struct Need {
    pub key: String,
    pub table: String,
    pub column: String,
    pub kind: Kind,
    /// Writes need it; a read-only column may fail without blocking intake.
    pub for_write: bool,
}

/// Every column konter relies on, with the config key that names it.
pub fn needs(v: &VoucherMapping, p: &ProdukMapping, t: &TransaksiMapping) -> Vec<Need> {
    let n = |key: &str, table: &str, column: &str, kind: Kind, for_write: bool| Need {
        key: key.into(),
        table: table.into(),
        column: column.into(),
        kind,
        for_write,
    };
    vec![
        n(
            "otomax.vouchers.product",
            &v.table,
            &v.product,
            Kind::Text(MIN_PRODUCT_LEN),
            true,
        ),
        n(
            "otomax.vouchers.code",
            &v.table,
            &v.code,
            Kind::Text(MIN_CODE_LEN),
            true,
        ),
        n(
            "otomax.vouchers.serial",
            &v.table,
            &v.serial,
            Kind::Text(MIN_SERIAL_LEN),
            true,
        ),
        n(
            "otomax.vouchers.expiry",
            &v.table,
            &v.expiry,
            Kind::Date,
            true,
        ),
        n(
            "otomax.vouchers.status",
            &v.table,
            &v.status,
            Kind::Integer,
            true,
        ),
        n(
            "otomax.vouchers.entry",
            &v.table,
            &v.entry,
            Kind::DateTime,
            true,
        ),
        n(
            "otomax.produk.code",
            &p.table,
            &p.code,
            Kind::Text(1),
            false,
        ),
        n(
            "otomax.produk.name",
            &p.table,
            &p.name,
            Kind::Text(1),
            false,
        ),
        n(
            "otomax.produk.price",
            &p.table,
            &p.price,
            Kind::Number,
            false,
        ),
        n(
            "otomax.produk.active",
            &p.table,
            &p.active,
            Kind::Flag,
            false,
        ),
        n("otomax.transaksi.code", &t.table, &t.code, Kind::Any, false),
        n(
            "otomax.transaksi.entry",
            &t.table,
            &t.entry,
            Kind::DateTime,
            false,
        ),
        n(
            "otomax.transaksi.product",
            &t.table,
            &t.product,
            Kind::Text(1),
            false,
        ),
        n("otomax.transaksi.sn", &t.table, &t.sn, Kind::Text(1), false),
        n(
            "otomax.transaksi.status",
            &t.table,
            &t.status,
            Kind::Integer,
            false,
        ),
    ]
}

/// A column as INFORMATION_SCHEMA.COLUMNS describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerColumn {
    pub table: String,
    pub column: String,
    pub data_type: String,
    /// CHARACTER_MAXIMUM_LENGTH: None for non-text, -1 for max.
    pub char_len: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub key: String,
    pub table: String,
    pub column: String,
    /// "missing_table", "missing_column", "wrong_type", "too_short".
    pub kind: &'static str,
    /// What is wrong and what to set, in English (the JSON field).
    pub detail: String,
    pub blocks_writes: bool,
    #[serde(skip)]
    pub reason: Reason,
}

impl Problem {
    fn new(key: String, table: String, column: String, reason: Reason, blocks: bool) -> Problem {
        let kind = match reason {
            Reason::MissingTable => "missing_table",
            Reason::MissingColumn { .. } => "missing_column",
            Reason::WrongType { .. } => "wrong_type",
            Reason::TooShort { .. } => "too_short",
        };
        let mut p = Problem {
            key,
            table,
            column,
            kind,
            detail: String::new(),
            blocks_writes: blocks,
            reason,
        };
        p.detail = p.detail_in(Lang::En);
        p
    }

    /// What is wrong and what to set, in `lang`.
    pub fn detail_in(&self, lang: Lang) -> String {
        let (table, column, key) = (&self.table, &self.column, &self.key);
        match &self.reason {
            Reason::MissingTable => match lang {
                Lang::Id => format!(
                    "tabel {table} tidak ada di database ini; isi {key} dengan nama tabel yang benar"
                ),
                Lang::En => format!(
                    "table {table} does not exist in this database; set {key} to the right name"
                ),
            },
            Reason::MissingColumn { have } => match lang {
                Lang::Id => format!(
                    "kolom {column} tidak ada; isi {key} dengan salah satu dari: {}",
                    have.join(", ")
                ),
                Lang::En => format!(
                    "column {column} is missing; set {key} to one of: {}",
                    have.join(", ")
                ),
            },
            Reason::WrongType { is, want } => match lang {
                Lang::Id => format!(
                    "kolom {column} bertipe {is}, seharusnya {}",
                    want.wanted(lang)
                ),
                Lang::En => format!("column {column} is {is}, needs {}", want.wanted(lang)),
            },
            Reason::TooShort { is, len, min } => match lang {
                Lang::Id => format!(
                    "kolom {column} {is}({len}) terlalu pendek: perlu paling sedikit {is}({min})"
                ),
                Lang::En => format!(
                    "column {column} is {is}({len}), too short: needs at least {is}({min})"
                ),
            },
        }
    }

    /// The whole line for `konter otomax check`, in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        format!(
            "{}.{} ({}): {}",
            self.table,
            self.column,
            self.key,
            self.detail_in(lang)
        )
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

/// The bare table name as INFORMATION_SCHEMA shows it (`dbo.x` and `[x]` become `x`).
pub fn bare_table(t: &str) -> String {
    t.rsplit('.')
        .next()
        .unwrap_or(t)
        .trim_matches(|c| c == '[' || c == ']')
        .to_string()
}

/// Compares what konter needs with what the server has.
pub fn check(needs: &[Need], cols: &[ServerColumn]) -> Vec<Problem> {
    let mut out = Vec::new();
    for n in needs {
        let table = bare_table(&n.table);
        let in_table: Vec<&ServerColumn> = cols
            .iter()
            .filter(|c| c.table.eq_ignore_ascii_case(&table))
            .collect();
        let p = |reason: Reason| {
            Problem::new(
                n.key.clone(),
                table.clone(),
                n.column.clone(),
                reason,
                n.for_write,
            )
        };
        if in_table.is_empty() {
            // one line per missing table is enough
            if !out
                .iter()
                .any(|x: &Problem| x.kind == "missing_table" && x.table == table)
            {
                let key = n.key.rsplit_once('.').map(|(a, _)| a).unwrap_or(&n.key);
                out.push(Problem::new(
                    format!("{key}.table"),
                    table.clone(),
                    String::new(),
                    Reason::MissingTable,
                    n.for_write,
                ));
            }
            continue;
        }
        match in_table
            .iter()
            .find(|c| c.column.eq_ignore_ascii_case(&n.column))
        {
            None => out.push(p(Reason::MissingColumn {
                have: in_table.iter().map(|c| c.column.clone()).collect(),
            })),
            Some(c) => {
                if let Err(reason) = n.kind.accepts(&c.data_type, c.char_len) {
                    out.push(p(reason));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(t: &str, c: &str, ty: &str, len: Option<i64>) -> ServerColumn {
        ServerColumn {
            table: t.into(),
            column: c.into(),
            data_type: ty.into(),
            char_len: len,
        }
    }

    fn good() -> Vec<ServerColumn> {
        vec![
            col("voucher_fisik", "kode_produk", "varchar", Some(20)),
            col("voucher_fisik", "kode_voucher", "varchar", Some(50)),
            col("voucher_fisik", "serial_number", "nvarchar", Some(-1)),
            col("voucher_fisik", "expiry_date", "date", None),
            col("voucher_fisik", "usage_status", "tinyint", None),
            col("voucher_fisik", "entry_date", "datetime", None),
            col("produk", "kode", "varchar", Some(20)),
            col("produk", "nama", "varchar", Some(100)),
            col("produk", "harga_jual", "money", None),
            col("produk", "aktif", "bit", None),
            col("transaksi", "kode", "int", None),
            col("transaksi", "tgl_entri", "datetime", None),
            col("transaksi", "kode_produk", "varchar", Some(20)),
            col("transaksi", "sn", "varchar", Some(100)),
            col("transaksi", "status", "int", None),
        ]
    }

    fn defaults() -> Vec<Need> {
        needs(
            &Default::default(),
            &Default::default(),
            &Default::default(),
        )
    }

    #[test]
    fn default_mapping_passes_on_a_matching_schema() {
        assert_eq!(check(&defaults(), &good()), vec![]);
    }

    #[test]
    fn short_code_column_is_named_with_its_length() {
        let mut cols = good();
        cols[1].char_len = Some(12);
        let p = check(&defaults(), &cols);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].kind, "too_short");
        assert!(
            p[0].detail.contains("varchar(12)") && p[0].detail.contains("varchar(16)"),
            "{}",
            p[0].detail
        );
        assert!(p[0].blocks_writes);
    }

    #[test]
    fn missing_column_lists_what_is_there() {
        let mut cols = good();
        cols.remove(2);
        let p = check(&defaults(), &cols);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].kind, "missing_column");
        assert!(p[0].detail.contains("otomax.vouchers.serial"));
        assert!(p[0].detail.contains("kode_voucher"));
    }

    #[test]
    fn missing_table_is_one_problem() {
        let cols: Vec<_> = good()
            .into_iter()
            .filter(|c| c.table != "transaksi")
            .collect();
        let p = check(&defaults(), &cols);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].kind, "missing_table");
        assert!(!p[0].blocks_writes);
    }

    #[test]
    fn details_in_indonesian_and_english() {
        let mut cols = good();
        for c in &mut cols {
            if c.column == "kode_voucher" {
                c.char_len = Some(10);
            }
            if c.column == "expiry_date" {
                c.data_type = "int".into();
            }
        }
        cols.retain(|c| c.column != "serial_number" && c.table != "transaksi");
        let p = check(&defaults(), &cols);
        let kinds: Vec<&str> = p.iter().map(|x| x.kind).collect();
        assert_eq!(
            kinds,
            ["too_short", "missing_column", "wrong_type", "missing_table"],
            "{p:?}"
        );
        let id: Vec<String> = p.iter().map(|x| x.detail_in(Lang::Id)).collect();
        assert_eq!(
            id[0],
            "kolom kode_voucher varchar(10) terlalu pendek: perlu paling sedikit varchar(16)"
        );
        assert!(id[1].starts_with("kolom serial_number tidak ada; isi otomax.vouchers.serial dengan salah satu dari: "), "{}", id[1]);
        assert_eq!(
            id[2],
            "kolom expiry_date bertipe int, seharusnya tanggal (date atau datetime)"
        );
        assert_eq!(id[3], "tabel transaksi tidak ada di database ini; isi otomax.transaksi.table dengan nama tabel yang benar");
        // English is the detail field and what Display shows
        assert_eq!(p[0].detail, p[0].detail_in(Lang::En));
        assert_eq!(
            p[0].detail,
            "column kode_voucher is varchar(10), too short: needs at least varchar(16)"
        );
        assert_eq!(
            p[2].detail,
            "column expiry_date is int, needs a date (date or datetime)"
        );
        assert_eq!(p[3].detail, "table transaksi does not exist in this database; set otomax.transaksi.table to the right name");
        assert_eq!(
            p[0].to_string(),
            format!(
                "voucher_fisik.kode_voucher (otomax.vouchers.code): {}",
                p[0].detail
            )
        );
        assert!(p[0]
            .text(Lang::Id)
            .ends_with("terlalu pendek: perlu paling sedikit varchar(16)"));
    }

    #[test]
    fn wrong_type_is_named() {
        let mut cols = good();
        cols[4].data_type = "varchar".into();
        let p = check(&defaults(), &cols);
        assert_eq!(p[0].kind, "wrong_type");
        assert!(p[0].detail.contains("whole number"));
    }

    #[test]
    fn schema_qualified_table_names_match() {
        let v = VoucherMapping {
            table: "dbo.[voucher_fisik]".into(),
            ..Default::default()
        };
        assert_eq!(
            check(
                &needs(&v, &Default::default(), &Default::default()),
                &good()
            ),
            vec![]
        );
    }
}
