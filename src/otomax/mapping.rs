//! Where OtoMaX keeps what konter reads and writes, and the check of that mapping against the
//! server's INFORMATION_SCHEMA.COLUMNS. The check itself is pure: rows in, problems out.

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
    fn accepts(self, data_type: &str, len: Option<i64>) -> Result<(), String> {
        let t = data_type.to_ascii_lowercase();
        let ok = |b: bool, want: &str| {
            if b {
                Ok(())
            } else {
                Err(format!("is {t}, needs {want}"))
            }
        };
        match self {
            Kind::Text(min) => {
                if !["char", "varchar", "nchar", "nvarchar"].contains(&t.as_str()) {
                    return Err(format!("is {t}, needs text (varchar or nvarchar)"));
                }
                match len {
                    Some(-1) | None => Ok(()),
                    Some(n) if n >= min as i64 => Ok(()),
                    Some(n) => Err(format!("is {t}({n}), too short: needs at least {t}({min})")),
                }
            }
            Kind::Integer => ok(
                ["tinyint", "smallint", "int", "bigint"].contains(&t.as_str()),
                "a whole number (tinyint, smallint, int or bigint)",
            ),
            Kind::Number => ok(
                [
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
                .contains(&t.as_str()),
                "a number (int, decimal or money)",
            ),
            Kind::Date => ok(
                ["date", "datetime", "datetime2", "smalldatetime"].contains(&t.as_str()),
                "a date (date or datetime)",
            ),
            Kind::DateTime => ok(
                ["datetime", "datetime2", "smalldatetime", "datetimeoffset"].contains(&t.as_str()),
                "a date and time (datetime or datetime2)",
            ),
            Kind::Flag => ok(
                ["bit", "tinyint", "smallint", "int"].contains(&t.as_str()),
                "a flag (bit or int)",
            ),
            Kind::Any => Ok(()),
        }
    }
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
    pub detail: String,
    pub blocks_writes: bool,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{} ({}): {}",
            self.table, self.column, self.key, self.detail
        )
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
        let p = |kind: &'static str, detail: String| Problem {
            key: n.key.clone(),
            table: table.clone(),
            column: n.column.clone(),
            kind,
            detail,
            blocks_writes: n.for_write,
        };
        if in_table.is_empty() {
            // one line per missing table is enough
            if !out
                .iter()
                .any(|x: &Problem| x.kind == "missing_table" && x.table == table)
            {
                let key = n.key.rsplit_once('.').map(|(a, _)| a).unwrap_or(&n.key);
                out.push(Problem {
                    key: format!("{key}.table"),
                    table: table.clone(),
                    column: String::new(),
                    kind: "missing_table",
                    detail: format!(
                        "table {table} does not exist in this database; set {key}.table to the right name"
                    ),
                    blocks_writes: n.for_write,
                });
            }
            continue;
        }
        match in_table
            .iter()
            .find(|c| c.column.eq_ignore_ascii_case(&n.column))
        {
            None => {
                let have: Vec<&str> = in_table.iter().map(|c| c.column.as_str()).collect();
                out.push(p(
                    "missing_column",
                    format!(
                        "column {} is missing; set {} to one of: {}",
                        n.column,
                        n.key,
                        have.join(", ")
                    ),
                ));
            }
            Some(c) => {
                if let Err(e) = n.kind.accepts(&c.data_type, c.char_len) {
                    let kind = if e.contains("too short") {
                        "too_short"
                    } else {
                        "wrong_type"
                    };
                    out.push(p(kind, format!("column {} {e}", c.column)));
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
