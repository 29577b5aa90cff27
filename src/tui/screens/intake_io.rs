//! The screens' calls into the store and the intake rules, run inside jobs. Everything here is
//! blocking and must never be called from `update` or `render`.

use std::path::Path;

use chrono::NaiveDate;

use crate::i18n::Lang;
use crate::tui::data::Db;
use crate::tui::jobs::Progress;
use crate::tui::screens::intake::{BatchSummary, BatchView, RowError, RowView};
use crate::tui::screens::stock::{StockRow, VoucherDetail};

type R<T> = Result<T, String>;

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A clear message before a job even starts: missing file, a folder, an unreadable file.
pub fn check_path(path: &Path, lang: Lang) -> R<()> {
    match std::fs::metadata(path) {
        Err(_) => Err(match lang {
            Lang::Id => format!(
                "File {} tidak ada. Periksa path-nya (Tab melengkapi).",
                path.display()
            ),
            Lang::En => format!(
                "File {} does not exist. Check the path (Tab completes).",
                path.display()
            ),
        }),
        Ok(m) if m.is_dir() => Err(match lang {
            Lang::Id => format!(
                "{} adalah folder. Pilih file CSV/TXT di dalamnya.",
                path.display()
            ),
            Lang::En => format!(
                "{} is a folder. Choose a CSV/TXT file inside it.",
                path.display()
            ),
        }),
        Ok(_) => Ok(()),
    }
}

pub fn form_key(values: &[String; 4]) -> (String, String, String) {
    let clean = |v: &str| -> String {
        v.chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect()
    };
    (
        values[0].trim().to_uppercase(),
        clean(&values[1]),
        clean(&values[2]),
    )
}

pub fn kind_label(kind: &str, _lang: Lang) -> String {
    kind.replace('_', " ")
}

pub fn load_batch(db: &Db, id: i64, _p: &Progress) -> R<BatchView> {
    db.with(|st| {
        let c = st.conn();
        let (source, file_name, created_by, created_at) = c.query_row(
            "SELECT source, file_name, created_by, created_at FROM staging_batches WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let mut stmt = c.prepare(
            "SELECT line, product, code, serial, expiry, error_field, error_kind, error_detail,
                    dropped, insert_status, insert_reason
             FROM staging_rows WHERE batch_id = ?1 ORDER BY line",
        )?;
        let rows = stmt
            .query_map([id], |r| {
                let kind: Option<String> = r.get(6)?;
                Ok(RowView {
                    line: r.get(0)?,
                    product: r.get(1)?,
                    code: r.get(2)?,
                    serial: r.get(3)?,
                    expiry: r.get(4)?,
                    error: kind.map(|kind| RowError {
                        field: r
                            .get::<_, Option<String>>(5)
                            .ok()
                            .flatten()
                            .unwrap_or_default(),
                        kind,
                        detail: r
                            .get::<_, Option<String>>(7)
                            .ok()
                            .flatten()
                            .unwrap_or_default(),
                    }),
                    dropped: r.get::<_, i64>(8)? != 0,
                    insert_status: r.get::<_, i64>(9)? as u8,
                    insert_reason: r.get(10)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BatchView {
            id,
            source,
            file_name,
            created_by,
            created_at,
            rows,
        })
    })
    .map_err(s)
}

pub fn product_codes(db: &Db) -> R<Vec<String>> {
    db.with(|st| {
        let mut stmt = st
            .conn()
            .prepare("SELECT code FROM products WHERE active = 1 ORDER BY code")?;
        let v = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(v)
    })
    .map_err(s)
}

pub fn list_batches(db: &Db) -> R<Vec<BatchSummary>> {
    db.with(|st| {
        let mut stmt = st.conn().prepare(
            "SELECT b.id, b.source, b.file_name, b.created_by, b.created_at,
                    count(r.line),
                    coalesce(sum(r.dropped = 0 AND (r.error_kind IS NOT NULL OR r.insert_status = 2)), 0),
                    coalesce(sum(r.insert_status = 3), 0)
             FROM staging_batches b LEFT JOIN staging_rows r ON r.batch_id = b.id
             GROUP BY b.id ORDER BY b.id DESC LIMIT 500",
        )?;
        let v = stmt
            .query_map([], |r| {
                Ok(BatchSummary {
                    id: r.get(0)?,
                    source: r.get(1)?,
                    file_name: r.get(2)?,
                    created_by: r.get(3)?,
                    created_at: r.get(4)?,
                    rows: r.get::<_, i64>(5)? as u64,
                    errors: r.get::<_, i64>(6)? as u64,
                    inserted: r.get::<_, i64>(7)? as u64,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    })
    .map_err(s)
}

pub fn stock(db: &Db, today: NaiveDate, expiring_days: u32) -> R<Vec<StockRow>> {
    let _ = (db, today, expiring_days);
    Err("stock: waiting for the store API".into())
}

pub fn find_voucher(db: &Db, query: &str) -> R<Vec<VoucherDetail>> {
    let _ = (db, query);
    Err("find: waiting for the store API".into())
}

pub fn validate_fields(
    products: &[String],
    values: &[String; 4],
    today: NaiveDate,
    lang: Lang,
) -> [Option<String>; 4] {
    let _ = (products, values, today, lang);
    Default::default()
}

pub fn duplicate_problem(
    db: &Db,
    key: &(String, String, String),
    batch: Option<i64>,
    lang: Lang,
) -> R<Option<String>> {
    let _ = (db, key, batch, lang);
    Ok(None)
}

pub fn stage_manual(
    db: &Db,
    batch: Option<i64>,
    user: &str,
    values: &[String; 4],
    today: NaiveDate,
) -> R<i64> {
    let _ = (db, batch, user, values, today);
    Err("waiting for the store API".into())
}

pub fn edit_row(
    db: &Db,
    batch: i64,
    line: i64,
    values: &[String; 4],
    today: NaiveDate,
) -> R<RowView> {
    let _ = (db, batch, line, values, today);
    Err("waiting for the store API".into())
}

pub fn set_dropped(db: &Db, batch: i64, line: i64, dropped: bool) -> R<()> {
    let _ = (db, batch, line, dropped);
    Err("waiting for the store API".into())
}

pub fn import_file(
    db: &Db,
    path: &Path,
    product: Option<&str>,
    user: &str,
    today: NaiveDate,
    p: &Progress,
) -> R<i64> {
    let _ = (db, path, product, user, today, p);
    Err("waiting for the store API".into())
}

pub fn insert_batch(db: &Db, batch: i64, user: &str, p: &Progress) -> R<(u64, u64)> {
    let _ = (db, batch, user, p);
    Err("waiting for the store API".into())
}
