//! Products, staging batches and rows, and the embedded voucher ledger.
//!
//! Staging is where every line waits, valid or not, until it is confirmed. A file is staged in
//! one transaction, so a cancelled or failed import leaves no partial batch behind.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{now_text, Result, Store, StoreError};
use crate::domain::voucher::{
    check_line, check_owned_line, Field, Problem, ProductRule, ProductRules, RawVoucher, Verdict,
    Voucher, VoucherKeys,
};
use crate::store::static_insert::{Bind, StaticInsert};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    pub code: String,
    pub name: String,
    pub operator: String,
    /// Selling price in rupiah.
    pub price: Decimal,
    pub code_len: (u8, u8),
    pub serial_len: (u8, u8),
    pub active: bool,
}

impl Product {
    pub fn rule(&self) -> ProductRule {
        ProductRule {
            code_len: self.code_len,
            serial_len: self.serial_len,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Manual,
    Csv,
    Image,
    Ai,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Csv => "csv",
            Source::Image => "image",
            Source::Ai => "ai",
        }
    }

    fn parse(s: &str) -> Source {
        match s {
            "manual" => Source::Manual,
            "image" => Source::Image,
            "ai" => Source::Ai,
            _ => Source::Csv,
        }
    }
}

/// insert_status of a staging row.
pub mod insert_status {
    pub const NEW: i64 = 0;
    pub const QUEUED: i64 = 1;
    pub const REJECTED: i64 = 2;
    pub const INSERTED: i64 = 3;
}

#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    pub source: Source,
    pub file_name: Option<&'a str>,
    pub created_by: &'a str,
    pub has_expiry: bool,
}

/// One line's verdict after staging.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineResult {
    pub line: u64,
    pub voucher: Voucher,
    pub verdict: Option<Verdict>,
}

#[derive(Debug, Clone)]
pub struct StageOutcome {
    /// None for a dry run: nothing was kept.
    pub batch_id: Option<i64>,
    pub results: Vec<LineResult>,
    pub accepted: usize,
    pub rejected: usize,
}

/// A staging row as the preview shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StagedRow {
    pub line: u64,
    pub product: String,
    pub code: String,
    pub serial: String,
    pub expiry: String,
    pub verdict: Option<Verdict>,
    pub dropped: bool,
    pub insert_status: i64,
    pub insert_reason: Option<String>,
    pub photo_path: Option<String>,
    pub photo_box: Option<String>,
}

impl StagedRow {
    /// Whether this row would go in on confirm.
    pub fn is_ready(&self) -> bool {
        self.verdict.is_none() && !self.dropped && self.insert_status != insert_status::INSERTED
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFilter {
    /// Only rows with a verdict or a rejected insert.
    pub errors_only: bool,
    /// Digits of a code or serial, or a product code.
    pub search: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchSummary {
    pub id: i64,
    pub source: Source,
    pub file_name: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub total: i64,
    pub ok: i64,
    pub errors: i64,
    pub dropped: i64,
    pub inserted: i64,
    pub rejected: i64,
}

impl BatchSummary {
    /// Rows that a confirm would insert now.
    pub fn ready(&self) -> i64 {
        self.ok - self.inserted
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfirmOutcome {
    pub inserted: usize,
    /// Rows found already in the ledger with the same code and serial (a retry): not added twice.
    pub already: usize,
    /// Rows refused because another voucher holds their code or serial.
    pub rejected: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockRow {
    pub product: String,
    pub name: String,
    pub price: Decimal,
    pub in_stock: i64,
    pub sold: i64,
    pub used: i64,
    pub expiring: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VoucherDetail {
    /// "ledger" or "staging".
    pub place: &'static str,
    pub product: String,
    pub code: String,
    pub serial: String,
    pub expiry: String,
    /// Ledger: "stock", "sold" or "used". Staging: "new", "queued", "rejected", "inserted".
    pub status: String,
    pub batch_id: Option<i64>,
    pub line: Option<u64>,
    pub created_by: Option<String>,
    pub entry_at: String,
    pub sold_at: Option<String>,
    pub used_at: Option<String>,
    pub photo_path: Option<String>,
    pub photo_box: Option<String>,
}

/// The columns of a staged row as [`staged_detail`] reads them.
const STAGED_COLUMNS: &str =
    "SELECT s.product, s.code, s.serial, s.expiry, s.insert_status, s.batch_id, s.line,
            b.created_by, coalesce(s.entry_at, b.created_at), p.photo_path, p.photo_box
     FROM staging_rows s JOIN staging_batches b ON b.id = s.batch_id
     LEFT JOIN staging_photos p ON p.row_id = s.id";

fn staged_detail(r: &rusqlite::Row) -> rusqlite::Result<VoucherDetail> {
    Ok(VoucherDetail {
        place: "staging",
        product: r.get(0)?,
        code: r.get(1)?,
        serial: r.get(2)?,
        expiry: r.get(3)?,
        status: match r.get::<_, i64>(4)? {
            0 => "new",
            1 => "queued",
            2 => "rejected",
            _ => "inserted",
        }
        .into(),
        batch_id: r.get(5)?,
        line: r.get(6)?,
        created_by: r.get(7)?,
        entry_at: r.get(8)?,
        sold_at: None,
        used_at: None,
        photo_path: r.get(9)?,
        photo_box: r.get(10)?,
    })
}

/// Staged cards with a photo whose serial or code is ?1, through staging_photo_numbers (its
/// indexes): no staged row is read but those found.
pub const FIND_STAGED_PHOTOS_SQL: &str =
    "SELECT s.product, s.code, s.serial, s.expiry, s.insert_status, s.batch_id, s.line,
            b.created_by, coalesce(s.entry_at, b.created_at), p.photo_path, p.photo_box
     FROM (SELECT row_id FROM staging_photo_numbers WHERE serial = ?1
           UNION
           SELECT row_id FROM staging_photo_numbers WHERE code = ?1) n
     JOIN staging_rows s ON s.id = n.row_id
     JOIN staging_photos p ON p.row_id = s.id
     JOIN staging_batches b ON b.id = s.batch_id
     WHERE s.dropped = 0
     ORDER BY s.id DESC LIMIT 50";

/// Keys already staged in other batches and not yet inserted, with their batch.
type StagedKeys = VoucherKeys<i64>;

/// Below this many ledger vouchers per line checked, the ledger's keys are loaded into memory
/// once instead of being looked up line by line.
const LEDGER_PRELOAD_FACTOR: i64 = 4;

impl Store {
    pub fn products(&self) -> Result<Vec<Product>> {
        let mut st = self.conn().prepare_cached(
            "SELECT code, name, operator, price, code_len_min, code_len_max, serial_len_min,
                    serial_len_max, active FROM products ORDER BY code",
        )?;
        let rows = st.query_map([], |r| {
            Ok(Product {
                code: r.get(0)?,
                name: r.get(1)?,
                operator: r.get(2)?,
                price: Decimal::from(r.get::<_, i64>(3)?),
                code_len: (r.get(4)?, r.get(5)?),
                serial_len: (r.get(6)?, r.get(7)?),
                active: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn upsert_product(&self, p: &Product) -> Result<()> {
        let price = whole_rupiah(p.price)?;
        self.conn().execute(
            "INSERT INTO products(code, name, operator, price, code_len_min, code_len_max,
                                  serial_len_min, serial_len_max, active)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(code) DO UPDATE SET name = ?2, operator = ?3, price = ?4,
                 code_len_min = ?5, code_len_max = ?6, serial_len_min = ?7,
                 serial_len_max = ?8, active = ?9",
            params![
                p.code,
                p.name,
                p.operator,
                price,
                p.code_len.0,
                p.code_len.1,
                p.serial_len.0,
                p.serial_len.1,
                p.active
            ],
        )?;
        Ok(())
    }

    /// The rules of active products, by code.
    pub fn product_rules(&self) -> Result<ProductRules> {
        Ok(self
            .products()?
            .into_iter()
            .filter(|p| p.active)
            .map(|p| (p.code.clone(), p.rule()))
            .collect())
    }

    fn staged_keys(&self, except_batch: Option<i64>) -> Result<StagedKeys> {
        let mut st = self.conn().prepare_cached(
            "SELECT batch_id, product, code, serial FROM staging_rows
             WHERE error_kind IS NULL AND dropped = 0 AND insert_status IN (0, 1, 2)
               AND batch_id IS NOT ?1",
        )?;
        let mut keys = StagedKeys::default();
        let mut rows = st.query([except_batch])?;
        while let Some(r) = rows.next()? {
            let b: i64 = r.get(0)?;
            keys.insert(
                r.get_ref(1)?.as_str()?,
                r.get_ref(2)?.as_str()?,
                r.get_ref(3)?.as_str()?,
                b,
            );
        }
        Ok(keys)
    }

    /// The ledger's keys in memory when there are few next to `lines` (one scan beats a look-up
    /// per line); None when the ledger is big and look-ups are cheaper.
    fn ledger_keys_if_small(&self, lines: usize) -> Result<Option<VoucherKeys<()>>> {
        let n: i64 = self
            .conn()
            .query_row("SELECT count(*) FROM vouchers", [], |r| r.get(0))?;
        if n > LEDGER_PRELOAD_FACTOR * lines as i64 {
            return Ok(None);
        }
        let mut keys = VoucherKeys::with_capacity(n as usize);
        let mut st = self
            .conn()
            .prepare_cached("SELECT product, code, serial FROM vouchers")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            keys.insert(
                r.get_ref(0)?.as_str()?,
                r.get_ref(1)?.as_str()?,
                r.get_ref(2)?.as_str()?,
                (),
            );
        }
        Ok(Some(keys))
    }

    /// Validates lines and stages them as a new batch, all in one transaction. With `dry_run`
    /// the verdicts are computed the same way and nothing is kept.
    pub fn stage_lines(
        &mut self,
        batch: &NewBatch,
        lines: &[(u64, RawVoucher)],
        today: NaiveDate,
        dry_run: bool,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<StageOutcome> {
        self.stage_stream(
            batch,
            lines.iter().cloned().map(Ok),
            lines.len(),
            today,
            dry_run,
            cancel,
            progress,
        )
    }

    /// Like [`Store::stage_lines`], for lines that are still being read: reading, checking
    /// and writing overlap. `expected` is the line count for progress (an estimate is fine).
    /// An error from the reader rolls the whole batch back.
    #[allow(clippy::too_many_arguments)]
    pub fn stage_stream<I>(
        &mut self,
        batch: &NewBatch,
        lines: I,
        expected: usize,
        today: NaiveDate,
        dry_run: bool,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<StageOutcome>
    where
        I: Iterator<Item = Result<(u64, RawVoucher)>> + Send,
    {
        self.stage_stream_with(
            batch,
            lines,
            expected,
            today,
            dry_run,
            cancel,
            progress,
            &mut |_, _| Ok(()),
        )
    }

    /// [`Store::stage_stream`] with `attach`, run in the staging transaction after the rows
    /// are written (with the batch id), so what it adds (a card's photo and review data) is
    /// kept or lost together with the rows.
    #[allow(clippy::too_many_arguments)]
    pub fn stage_stream_with<I>(
        &mut self,
        batch: &NewBatch,
        lines: I,
        expected: usize,
        today: NaiveDate,
        dry_run: bool,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(usize, usize),
        attach: &mut dyn FnMut(&rusqlite::Transaction, i64) -> Result<()>,
    ) -> Result<StageOutcome>
    where
        I: Iterator<Item = Result<(u64, RawVoucher)>> + Send,
    {
        let rules = self.product_rules()?;
        let staged = self.staged_keys(None)?;
        let ledger = self.ledger_keys_if_small(expected)?;
        let now = now_text();
        let tx = self.conn_mut().transaction()?;
        tx.execute(
            "INSERT INTO staging_batches(source, file_name, created_by, created_at, status_at, has_expiry)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            params![
                batch.source.as_str(),
                batch.file_name,
                batch.created_by,
                now,
                batch.has_expiry
            ],
        )?;
        let batch_id = tx.last_insert_rowid();
        let mut results: Vec<LineResult> = Vec::with_capacity(expected);
        let mut inserted = 0;
        match &ledger {
            // The ledger's keys are in memory: check on a second thread while this one
            // writes, so the two overlap.
            Some(keys) => std::thread::scope(|sc| -> Result<()> {
                let (to_writer, from_checker) =
                    std::sync::mpsc::sync_channel::<Result<Vec<LineResult>>>(8);
                let (rules, staged) = (&rules, &staged);
                let checker = sc.spawn(move || {
                    let mut checker =
                        Checker::new(rules, staged, None, Some(keys), Preloaded, today, expected);
                    let mut lines = lines;
                    loop {
                        if cancel.load(Ordering::Relaxed) {
                            break;
                        }
                        let mut out = Vec::with_capacity(CHUNK * 4);
                        for item in lines.by_ref().take(CHUNK * 4) {
                            let (line, raw) = match item {
                                Ok(l) => l,
                                Err(e) => {
                                    let _ = to_writer.send(Err(e));
                                    return;
                                }
                            };
                            let (voucher, verdict) = checker
                                .check(raw, line)
                                .expect("in-memory checks cannot fail");
                            out.push(LineResult {
                                line,
                                voucher,
                                verdict,
                            });
                        }
                        if out.is_empty() || to_writer.send(Ok(out)).is_err() {
                            break;
                        }
                    }
                });
                let mut writer = RowWriter::new(&tx, batch_id)?;
                for part in from_checker {
                    let part = part?;
                    if cancel.load(Ordering::Relaxed) {
                        return Err(StoreError::Cancelled);
                    }
                    writer.write(&part)?;
                    results.extend(part);
                    progress(results.len(), expected.max(results.len()));
                }
                checker.join().expect("the checker thread panicked");
                Ok(())
            })?,
            None => {
                let lookup = SqlLookup::new(&tx)?;
                let mut checker =
                    Checker::new(&rules, &staged, None, None, lookup, today, expected);
                let mut writer = RowWriter::new(&tx, batch_id)?;
                for (i, item) in lines.enumerate() {
                    let (line, raw) = item?;
                    if i % 2048 == 0 {
                        if cancel.load(Ordering::Relaxed) {
                            return Err(StoreError::Cancelled);
                        }
                        progress(i, expected.max(i));
                    }
                    let (voucher, verdict) = checker.check(raw, line)?;
                    results.push(LineResult {
                        line,
                        voucher,
                        verdict,
                    });
                    if results.len() - inserted == CHUNK {
                        writer.write(&results[inserted..])?;
                        inserted = results.len();
                    }
                }
                writer.write(&results[inserted..])?;
            }
        }
        if cancel.load(Ordering::Relaxed) {
            return Err(StoreError::Cancelled);
        }
        if results.is_empty() {
            return Err(StoreError::NothingToStage);
        }
        let rejected = results.iter().filter(|r| r.verdict.is_some()).count();
        let accepted = results.len() - rejected;
        progress(results.len(), results.len());
        let batch_id = if dry_run {
            tx.rollback()?;
            None
        } else {
            attach(&tx, batch_id)?;
            tx.commit()?;
            Some(batch_id)
        };
        Ok(StageOutcome {
            batch_id,
            results,
            accepted,
            rejected,
        })
    }

    /// Re-runs every rule over a batch (after an edit, a drop or an undo) and stores the
    /// verdicts that changed. Inserted rows keep theirs.
    pub fn revalidate_batch(&mut self, batch_id: i64, today: NaiveDate) -> Result<()> {
        let rules = self.product_rules()?;
        let staged = self.staged_keys(Some(batch_id))?;
        let has_expiry: bool = self.conn().query_row(
            "SELECT has_expiry FROM staging_batches WHERE id = ?1",
            [batch_id],
            |r| r.get(0),
        )?;
        let tx = self.conn_mut().transaction()?;
        {
            let mut rows = Vec::new();
            {
                let mut st = tx.prepare_cached(
                    "SELECT line, product, code, serial, expiry, error_kind, error_field,
                            error_detail, dropped, insert_status
                     FROM staging_rows WHERE id BETWEEN (?1 << 32) AND (?1 << 32) + 4294967295 ORDER BY id",
                )?;
                let mut q = st.query([batch_id])?;
                while let Some(r) = q.next()? {
                    rows.push((
                        r.get::<_, u64>(0)?,
                        RawVoucher {
                            product: Some(r.get(1)?),
                            code: Some(r.get(2)?),
                            serial: Some(r.get(3)?),
                            expiry: {
                                let e: String = r.get(4)?;
                                (has_expiry || !e.is_empty()).then_some(e)
                            },
                        },
                        verdict_of(r.get(6)?, r.get(5)?, r.get(7)?),
                        r.get::<_, bool>(8)?,
                        r.get::<_, i64>(9)?,
                    ));
                }
            }
            let lookup = SqlLookup::new(&tx)?;
            let mut checker = Checker::new(&rules, &staged, None, None, lookup, today, rows.len());
            // Inserted rows hold their keys first: nothing may repeat them.
            for (line, raw, _, dropped, status) in &rows {
                if *status == insert_status::INSERTED && !dropped {
                    let (v, _) = check_line(raw, &|p| rules.get(p).copied(), today);
                    checker.add_line(&v, *line);
                }
            }
            let mut upd = tx.prepare_cached(
                "UPDATE staging_rows SET product = ?3, code = ?4, serial = ?5, expiry = ?6,
                     error_field = ?7, error_kind = ?8, error_detail = ?9, status_at = ?10
                 WHERE id = (?1 << 32) + ?2",
            )?;
            let now = now_text();
            for (line, raw, old, dropped, status) in &rows {
                if *dropped || *status == insert_status::INSERTED {
                    continue;
                }
                let (v, verdict) = checker.check(raw.clone(), *line)?;
                let same_values = Some(&v.product) == raw.product.as_ref()
                    && Some(&v.code) == raw.code.as_ref()
                    && Some(&v.serial) == raw.serial.as_ref()
                    && Some(&v.expiry) == raw.expiry.as_ref();
                if verdict != *old || !same_values {
                    upd.execute(params![
                        batch_id,
                        line,
                        v.product,
                        v.code,
                        v.serial,
                        v.expiry,
                        verdict.as_ref().map(|v| v.field.as_str()),
                        verdict.as_ref().map(|v| v.problem.as_str()),
                        verdict.as_ref().map(|v| v.detail.as_str()),
                        now
                    ])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Changes one field of a staged row and re-validates the batch.
    pub fn edit_row(
        &mut self,
        batch_id: i64,
        line: u64,
        field: Field,
        value: &str,
        today: NaiveDate,
    ) -> Result<StagedRow> {
        let col = match field {
            Field::Product => "product",
            Field::Code => "code",
            Field::Serial => "serial",
            Field::Expiry => "expiry",
        };
        let status = self.row_status(batch_id, line)?;
        if status == insert_status::INSERTED {
            return Err(StoreError::Invalid(
                "this voucher is already in stock; it cannot be edited here".into(),
            ));
        }
        // The column name comes from the closed match above, never from input.
        self.conn().execute(
            &format!(
                "UPDATE staging_rows SET {col} = ?3, insert_status = 0, insert_reason = NULL
                 WHERE id = (?1 << 32) + ?2"
            ),
            params![batch_id, line, value.trim()],
        )?;
        self.revalidate_batch(batch_id, today)?;
        self.staged_row(batch_id, line)
    }

    fn row_status(&self, batch_id: i64, line: u64) -> Result<i64> {
        self.conn()
            .query_row(
                "SELECT insert_status FROM staging_rows WHERE id = (?1 << 32) + ?2",
                params![batch_id, line],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::Invalid(format!("batch #{batch_id} has no line {line}")))
    }

    /// Drops a row from the batch (or brings it back: `dropped = false` is the undo).
    pub fn set_dropped(
        &mut self,
        batch_id: i64,
        line: u64,
        dropped: bool,
        today: NaiveDate,
    ) -> Result<()> {
        if self.row_status(batch_id, line)? == insert_status::INSERTED {
            return Err(StoreError::Invalid(
                "this voucher is already in stock; it cannot be dropped".into(),
            ));
        }
        self.conn().execute(
            "UPDATE staging_rows SET dropped = ?3, status_at = ?4 WHERE id = (?1 << 32) + ?2",
            params![batch_id, line, dropped, now_text()],
        )?;
        self.revalidate_batch(batch_id, today)
    }

    /// What the manual form shows as you type: the verdict this voucher would get if added to
    /// `batch_id` (or to a new batch), without adding it.
    pub fn check_manual(
        &self,
        batch_id: Option<i64>,
        raw: &RawVoucher,
        today: NaiveDate,
    ) -> Result<(Voucher, Option<Verdict>)> {
        let rules = self.product_rules()?;
        let staged = self.staged_keys(None)?;
        let lookup = SqlLookup::new(self.conn())?;
        let mut checker = Checker::new(&rules, &staged, batch_id, None, lookup, today, 0);
        // Rows of the batch itself count as "in this batch" rather than "in staging".
        if let Some(b) = batch_id {
            let mut st = self.conn().prepare_cached(
                "SELECT line, product, code, serial FROM staging_rows
                 WHERE id BETWEEN (?1 << 32) AND (?1 << 32) + 4294967295 AND error_kind IS NULL AND dropped = 0",
            )?;
            let mut q = st.query([b])?;
            while let Some(r) = q.next()? {
                let v = Voucher {
                    product: r.get(1)?,
                    code: r.get(2)?,
                    serial: r.get(3)?,
                    expiry: String::new(),
                };
                checker.add_line(&v, r.get(0)?);
            }
        }
        checker.check(raw.clone(), u64::MAX)
    }

    /// Adds one typed voucher to a manual batch (creating the batch when `batch_id` is None).
    pub fn add_manual(
        &mut self,
        batch_id: Option<i64>,
        created_by: &str,
        raw: &RawVoucher,
        today: NaiveDate,
    ) -> Result<(i64, StagedRow)> {
        let now = now_text();
        let batch_id = match batch_id {
            Some(b) => b,
            None => {
                self.conn().execute(
                    "INSERT INTO staging_batches(source, file_name, created_by, created_at, status_at)
                     VALUES ('manual', NULL, ?1, ?2, ?2)",
                    params![created_by, now],
                )?;
                self.conn().last_insert_rowid()
            }
        };
        let line: u64 = self.conn().query_row(
            "SELECT coalesce(max(line), 0) + 1 FROM staging_rows WHERE id BETWEEN (?1 << 32) AND (?1 << 32) + 4294967295",
            [batch_id],
            |r| r.get(0),
        )?;
        let g = |o: &Option<String>| o.clone().unwrap_or_default();
        self.conn().execute(
            "INSERT INTO staging_rows(id, product, code, serial, expiry, entry_at, status_at)
             VALUES ((?1 << 32) + ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![
                batch_id,
                line,
                g(&raw.product),
                g(&raw.code),
                g(&raw.serial),
                g(&raw.expiry),
                now
            ],
        )?;
        self.revalidate_batch(batch_id, today)?;
        Ok((batch_id, self.staged_row(batch_id, line)?))
    }

    pub fn staged_row(&self, batch_id: i64, line: u64) -> Result<StagedRow> {
        self.conn()
            .query_row(
                &format!("{ROW_SELECT} WHERE id = (?1 << 32) + ?2"),
                params![batch_id, line],
                staged_row_of,
            )
            .optional()?
            .ok_or_else(|| StoreError::Invalid(format!("batch #{batch_id} has no line {line}")))
    }

    /// A window of a batch's rows, in line order: the preview builds only what it shows.
    pub fn batch_rows(
        &self,
        batch_id: i64,
        filter: &RowFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<StagedRow>> {
        let (cond, search) = filter_sql(filter);
        let mut st = self.conn().prepare_cached(&format!(
            "{ROW_SELECT} WHERE id BETWEEN (?1 << 32) AND (?1 << 32) + 4294967295 {cond} ORDER BY id LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = st.query_map(
            params![batch_id, search, limit as i64, offset as i64],
            staged_row_of,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn batch_row_count(&self, batch_id: i64, filter: &RowFilter) -> Result<usize> {
        let (cond, search) = filter_sql(filter);
        let n: i64 = self.conn().query_row(
            &format!("SELECT count(*) FROM staging_rows WHERE id BETWEEN (?1 << 32) AND (?1 << 32) + 4294967295 {cond} AND ?2 IS ?2"),
            params![batch_id, search],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// Position of a line among the filtered rows (to keep the selection after a change).
    pub fn batch_row_index(&self, batch_id: i64, filter: &RowFilter, line: u64) -> Result<usize> {
        let (cond, search) = filter_sql(filter);
        let n: i64 = self.conn().query_row(
            &format!(
                "SELECT count(*) FROM staging_rows WHERE id BETWEEN (?1 << 32) AND (?1 << 32) + 4294967295 {cond} AND ?2 IS ?2 AND id < (?1 << 32) + ?3"
            ),
            params![batch_id, search, line],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    pub fn batches(&self, limit: usize) -> Result<Vec<BatchSummary>> {
        let mut st = self.conn().prepare_cached(&format!(
            "{BATCH_SELECT} GROUP BY b.id ORDER BY b.id DESC LIMIT ?1"
        ))?;
        let rows = st.query_map([limit as i64], batch_of)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn batch(&self, batch_id: i64) -> Result<BatchSummary> {
        self.conn()
            .query_row(
                &format!("{BATCH_SELECT} WHERE b.id = ?1 GROUP BY b.id"),
                [batch_id],
                batch_of,
            )
            .optional()?
            .ok_or_else(|| StoreError::Invalid(format!("there is no batch #{batch_id}")))
    }

    /// Puts the batch's valid rows into the embedded ledger, through the one confirm path all
    /// ledgers share ([`crate::store::confirm`]): rows go queued, then inserted, or rejected
    /// with the reason when another voucher already holds the code or serial (they stay
    /// staged); a row already there with the same code and serial (a retry) is marked inserted,
    /// not added twice. The insert is one transaction; cancel before it changes nothing.
    pub fn confirm_to_ledger(
        &mut self,
        batch_id: i64,
        created_by: &str,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ConfirmOutcome> {
        self.confirm_to_ledger_in(
            batch_id,
            created_by,
            crate::i18n::Lang::default(),
            cancel,
            progress,
        )
    }

    /// [`Store::confirm_to_ledger`] with the reasons in `lang`.
    pub fn confirm_to_ledger_in(
        &mut self,
        batch_id: i64,
        created_by: &str,
        lang: crate::i18n::Lang,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ConfirmOutcome> {
        self.batch(batch_id)?;
        let now = chrono::Local::now().naive_local();
        let mut ledger = crate::store::ledger::SqliteLedger { store: &*self };
        let r = crate::store::confirm::confirm_batch_with(
            self.conn(),
            &mut ledger,
            batch_id,
            created_by,
            now,
            lang,
            cancel,
            progress,
        );
        match r {
            Ok(r) => Ok(ConfirmOutcome {
                inserted: r.inserted,
                already: r.recovered,
                rejected: r.rejected,
            }),
            Err(crate::store::confirm::ConfirmError::Cancelled) => Err(StoreError::Cancelled),
            Err(crate::store::confirm::ConfirmError::Ledger(e)) => {
                Err(StoreError::Invalid(e.message(lang)))
            }
        }
    }

    /// Per product: in stock, sold (left the shop, used included), used, and in stock expiring
    /// within `expiring_days` of `today`.
    pub fn stock_by_product(&self, today: NaiveDate, expiring_days: u32) -> Result<Vec<StockRow>> {
        let until = today + chrono::Days::new(expiring_days as u64);
        let mut st = self.conn().prepare_cached(
            "SELECT p.code, p.name, p.price,
                    coalesce(sum(v.status = 0), 0),
                    coalesce(sum(v.status >= 1), 0),
                    coalesce(sum(v.status = 2), 0),
                    coalesce(sum(v.status = 0 AND v.expiry >= ?1 AND v.expiry <= ?2), 0)
             FROM products p LEFT JOIN vouchers v ON v.product = p.code
             WHERE p.active = 1 OR v.id IS NOT NULL
             GROUP BY p.code ORDER BY p.code",
        )?;
        let rows = st.query_map(params![today.to_string(), until.to_string()], |r| {
            Ok(StockRow {
                product: r.get(0)?,
                name: r.get(1)?,
                price: Decimal::from(r.get::<_, i64>(2)?),
                in_stock: r.get(3)?,
                sold: r.get(4)?,
                used: r.get(5)?,
                expiring: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Finds a voucher by serial or code (spaces and dashes ignored), in the ledger and in staging.
    ///
    /// The ledger and the staged cards read from photos are looked up by index
    /// ([`Store::find_photo_vouchers`]); the other staged rows not yet in stock (typed, or from
    /// lists) have no index on serial or code (list intake stays lean), so they are scanned.
    pub fn find_vouchers(&self, query: &str) -> Result<Vec<VoucherDetail>> {
        let mut out = self.find_photo_vouchers(query)?;
        let q = crate::domain::voucher::normalize_number(query);
        if q.is_empty() {
            return Ok(out);
        }
        let mut st = self.conn().prepare_cached(&format!(
            "{STAGED_COLUMNS}
             WHERE (s.serial = ?1 OR s.code = ?1) AND s.insert_status <> 3 AND s.dropped = 0
               AND p.row_id IS NULL
             ORDER BY s.batch_id DESC, s.line LIMIT 50"
        ))?;
        let rows = st.query_map([&q], staged_detail)?;
        for r in rows {
            out.push(r?);
        }
        Ok(out)
    }

    /// The lookup of `konter photo find` and `konter serve --photos`: the ledger (indexes on
    /// serial and on code) and every staged card read from a photo, also one already sent to
    /// OtoMaX (indexed through staging_photo_numbers, so list intake pays nothing). Never
    /// scans; under a millisecond among a million vouchers.
    pub fn find_photo_vouchers(&self, query: &str) -> Result<Vec<VoucherDetail>> {
        let q = crate::domain::voucher::normalize_number(query);
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let mut st = self.conn().prepare_cached(
            "SELECT v.product, v.code, v.serial, coalesce(v.expiry, ''), v.status, v.batch_id,
                    v.created_by, v.entry_at, v.sold_at, v.used_at, v.photo_path, v.photo_box
             FROM vouchers v WHERE v.serial = ?1
             UNION
             SELECT v.product, v.code, v.serial, coalesce(v.expiry, ''), v.status, v.batch_id,
                    v.created_by, v.entry_at, v.sold_at, v.used_at, v.photo_path, v.photo_box
             FROM vouchers v WHERE v.code = ?1
             ORDER BY 1, 2",
        )?;
        let rows = st.query_map([&q], |r| {
            Ok(VoucherDetail {
                place: "ledger",
                product: r.get(0)?,
                code: r.get(1)?,
                serial: r.get(2)?,
                expiry: r.get(3)?,
                status: match r.get::<_, i64>(4)? {
                    0 => "stock",
                    1 => "sold",
                    _ => "used",
                }
                .into(),
                batch_id: r.get(5)?,
                line: None,
                created_by: r.get(6)?,
                entry_at: r.get(7)?,
                sold_at: r.get(8)?,
                used_at: r.get(9)?,
                photo_path: r.get(10)?,
                photo_box: r.get(11)?,
            })
        })?;
        for r in rows {
            out.push(r?);
        }
        let ledger = out.len();
        // staging_photo_numbers mirrors the serial and code of staged photo cards only (kept by
        // triggers, migration 0350), so this never reads a list row.
        let mut st = self.conn().prepare_cached(FIND_STAGED_PHOTOS_SQL)?;
        let rows = st.query_map([&q], staged_detail)?;
        for r in rows {
            let v = r?;
            // A card already confirmed into the ledger shows there, once.
            let in_ledger = out[..ledger]
                .iter()
                .any(|l| l.product == v.product && l.code == v.code);
            if !(v.status == "inserted" && in_ledger) {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Sample products, a stocked ledger with sales and usage, and one staged batch with the
    /// usual faults: what `konter demo` shows.
    pub fn seed_demo(&mut self, today: NaiveDate, user: &str) -> Result<()> {
        let products = [
            ("TSELVD5", "Telkomsel Data 5GB", "TSEL", 25_000, 412, 88, 80),
            (
                "TSELVD10",
                "Telkomsel Data 10GB",
                "TSEL",
                45_000,
                230,
                70,
                61,
            ),
            ("ISATVD3", "Indosat Data 3GB", "ISAT", 18_000, 150, 40, 38),
            ("XLVD5", "XL Data 5GB", "XL", 24_000, 9, 61, 60),
            ("AXISVD2", "Axis Data 2GB", "AXIS", 12_000, 120, 35, 30),
            ("TRIVD6", "Tri Data 6GB", "TRI", 20_000, 75, 20, 12),
        ];
        let mut rng = Lcg(20261121);
        let now = now_text();
        let tx = self.conn_mut().transaction()?;
        {
            let mut prod = tx.prepare(
                "INSERT OR REPLACE INTO products(code, name, operator, price) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut ins = tx.prepare(
                "INSERT OR IGNORE INTO vouchers(product, code, serial, expiry, status, created_by,
                                                entry_at, sold_at, used_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for (code, name, op, price, stock, sold, used) in products {
                prod.execute(params![code, name, op, price])?;
                for i in 0..(stock + sold) {
                    let status = if i < stock {
                        0
                    } else if i < stock + used {
                        2
                    } else {
                        1
                    };
                    // Every 25th voucher in stock expires within the month.
                    let days = if status == 0 && i % 25 == 0 {
                        rng.next() % 28 + 1
                    } else {
                        rng.next() % 600 + 60
                    };
                    let expiry = today + chrono::Days::new(days);
                    let sold_at = (status >= 1).then(|| now.clone());
                    let used_at = (status == 2).then(|| now.clone());
                    ins.execute(params![
                        code,
                        rng.digits(16),
                        format!("9{}", rng.digits(11)),
                        expiry.to_string(),
                        status,
                        user,
                        now,
                        sold_at,
                        used_at
                    ])?;
                }
            }
        }
        tx.commit()?;
        let demo = include_bytes!("../../assets/demo_batch.csv");
        let parsed = crate::import::parse_bytes(demo, None, &AtomicBool::new(false))
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.stage_lines(
            &NewBatch {
                source: Source::Csv,
                file_name: Some("kiriman_distributor.csv"),
                created_by: user,
                has_expiry: parsed.has_expiry,
            },
            &parsed.lines,
            today,
            false,
            &AtomicBool::new(false),
            &mut |_, _| {},
        )?;
        Ok(())
    }
}

/// Rows per INSERT statement when staging: one statement per row spends most of its time in
/// statement overhead, not in the b-tree.
const CHUNK: usize = 64;

/// Writes checked lines into staging_rows, CHUNK rows per statement. The full-size statements
/// are prepared once per batch; only the tail of a batch needs its own.
///
/// A row's id is `batch_id << 32 | line`. When that is one more than the largest id in the
/// table (the next line of a list without blank lines, the common case) the id is bound as
/// NULL and SQLite assigns exactly that value itself (max(rowid) + 1), which skips the b-tree
/// search an explicit id needs. Every statement then checks that the last id SQLite assigned is
/// the one expected.
struct RowWriter<'t> {
    tx: &'t rusqlite::Transaction<'t>,
    batch_id: i64,
    /// The largest id in staging_rows, when known.
    max_id: Option<i64>,
    /// [valid rows, rows with a verdict]
    full: [Option<StaticInsert<'t>>; 2],
}

impl<'t> RowWriter<'t> {
    fn new(tx: &'t rusqlite::Transaction<'t>, batch_id: i64) -> Result<Self> {
        let max_id: Option<i64> =
            tx.query_row("SELECT max(id) FROM staging_rows", [], |r| r.get(0))?;
        Ok(RowWriter {
            tx,
            batch_id,
            // Rows at or above this batch's range (there should be none) turn the shortcut off.
            max_id: match max_id {
                Some(m) if m >= batch_id << 32 => None,
                Some(m) => Some(m),
                None => Some(0),
            },
            full: [None, None],
        })
    }

    /// Writes any number of rows.
    fn write(&mut self, rows: &[LineResult]) -> Result<()> {
        let Some(first) = rows.first() else {
            return Ok(());
        };
        for with_verdict in [false, true] {
            let mut chunk: [&LineResult; CHUNK] = [first; CHUNK];
            let mut n = 0;
            for r in rows.iter().filter(|r| r.verdict.is_some() == with_verdict) {
                chunk[n] = r;
                n += 1;
                if n == CHUNK {
                    self.write_chunk(&chunk, with_verdict)?;
                    n = 0;
                }
            }
            if n > 0 {
                self.write_chunk(&chunk[..n], with_verdict)?;
            }
        }
        Ok(())
    }

    fn write_chunk(&mut self, rows: &[&LineResult], with_verdict: bool) -> Result<()> {
        // Valid rows (the most) bind five values each; rows with a verdict eight. Texts are
        // bound in place, not copied (see static_insert).
        let mut values = Vec::with_capacity(rows.len() * if with_verdict { 8 } else { 5 });
        let mut last = 0;
        for r in rows {
            let v = &r.voucher;
            let id = (self.batch_id << 32) + r.line as i64;
            values.push(match self.max_id {
                Some(m) if id == m + 1 => Bind::Null,
                _ => Bind::Int(id),
            });
            self.max_id = self.max_id.map(|m| m.max(id));
            last = id;
            values.extend([
                Bind::Text(&v.product),
                Bind::Text(&v.code),
                Bind::Text(&v.serial),
                Bind::Text(&v.expiry),
            ]);
            if let Some(d) = &r.verdict {
                values.extend([
                    Bind::Text(d.field.as_str()),
                    Bind::Text(d.problem.as_str()),
                    Bind::Text(&d.detail),
                ]);
            }
        }
        if rows.len() == CHUNK {
            let slot = &mut self.full[with_verdict as usize];
            if slot.is_none() {
                *slot = Some(StaticInsert::prepare(
                    self.tx,
                    &chunk_sql(CHUNK, with_verdict),
                )?);
            }
            slot.as_mut().expect("prepared above").execute(&values)?;
        } else {
            StaticInsert::prepare(self.tx, &chunk_sql(rows.len(), with_verdict))?
                .execute(&values)?;
        }
        if self.tx.last_insert_rowid() != last {
            return Err(StoreError::Invalid(format!(
                "staging row id {} where {last} was expected; nothing was saved",
                self.tx.last_insert_rowid()
            )));
        }
        Ok(())
    }
}

fn chunk_sql(rows: usize, with_verdict: bool) -> String {
    let mut sql = String::from("INSERT INTO staging_rows(id, product, code, serial, expiry");
    sql.push_str(if with_verdict {
        ", error_field, error_kind, error_detail) VALUES "
    } else {
        ") VALUES "
    });
    let per = if with_verdict { 8 } else { 5 };
    for r in 0..rows {
        sql.push_str(if r > 0 { ",(" } else { "(" });
        for k in 0..per {
            sql.push_str(&format!(
                "{}?{}",
                if k > 0 { "," } else { "" },
                1 + r * per + k
            ));
        }
        sql.push(')');
    }
    sql
}

/// A small deterministic generator for demo data (no clock, same demo every time).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect()
    }
}

fn whole_rupiah(d: Decimal) -> Result<i64> {
    if d.fract() != Decimal::ZERO || d < Decimal::ZERO {
        return Err(StoreError::Invalid(format!(
            "price {d} must be whole rupiah and not negative"
        )));
    }
    i64::try_from(d.mantissa() / 10i128.pow(d.scale()))
        .map_err(|_| StoreError::Invalid(format!("price {d} is too large")))
}

/// Records the photo a staged row was read from and the card's box in it (`x,y,w,h` pixels).
/// Takes a connection so it can run inside the transaction that stages the row.
pub fn attach_photo(
    conn: &rusqlite::Connection,
    batch_id: i64,
    line: u64,
    photo_path: &str,
    photo_box: Option<&str>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO staging_photos(row_id, photo_path, photo_box) VALUES ((?1 << 32) + ?2, ?3, ?4)
         ON CONFLICT(row_id) DO UPDATE SET photo_path = excluded.photo_path,
                                           photo_box = excluded.photo_box",
        params![batch_id, line, photo_path, photo_box],
    )?;
    Ok(())
}

const ROW_SELECT: &str = "SELECT line, product, code, serial, expiry, error_field, error_kind,
    error_detail, dropped, insert_status, insert_reason,
    (SELECT photo_path FROM staging_photos WHERE row_id = staging_rows.id),
    (SELECT photo_box FROM staging_photos WHERE row_id = staging_rows.id)
    FROM staging_rows";

const BATCH_SELECT: &str = "SELECT b.id, b.source, b.file_name, b.created_by, b.created_at,
    count(r.line),
    coalesce(sum(r.error_kind IS NULL AND r.dropped = 0), 0),
    coalesce(sum(r.error_kind IS NOT NULL AND r.dropped = 0), 0),
    coalesce(sum(r.dropped), 0),
    coalesce(sum(r.insert_status = 3), 0),
    coalesce(sum(r.insert_status = 2), 0)
    FROM staging_batches b LEFT JOIN staging_rows r
        ON r.id BETWEEN (b.id << 32) AND (b.id << 32) + 4294967295";

fn batch_of(r: &rusqlite::Row) -> rusqlite::Result<BatchSummary> {
    Ok(BatchSummary {
        id: r.get(0)?,
        source: Source::parse(&r.get::<_, String>(1)?),
        file_name: r.get(2)?,
        created_by: r.get(3)?,
        created_at: r.get(4)?,
        total: r.get(5)?,
        ok: r.get(6)?,
        errors: r.get(7)?,
        dropped: r.get(8)?,
        inserted: r.get(9)?,
        rejected: r.get(10)?,
    })
}

/// The filter as SQL, with the search text bound as ?2 (never spliced into the SQL).
fn filter_sql(f: &RowFilter) -> (String, Option<String>) {
    let mut cond = String::new();
    if f.errors_only {
        cond.push_str(" AND (error_kind IS NOT NULL OR insert_status = 2)");
    }
    let search = f
        .search
        .as_deref()
        .map(crate::domain::voucher::normalize_number)
        .filter(|s| !s.is_empty());
    if search.is_some() {
        cond.push_str(" AND (instr(code, ?2) > 0 OR instr(serial, ?2) > 0 OR product = upper(?2))");
    }
    (cond, search)
}

fn verdict_of(
    field: Option<String>,
    kind: Option<String>,
    detail: Option<String>,
) -> Option<Verdict> {
    let problem = Problem::parse(kind.as_deref()?)?;
    Some(Verdict {
        field: field
            .as_deref()
            .and_then(Field::parse)
            .unwrap_or(Field::Code),
        problem,
        detail: detail.unwrap_or_default(),
    })
}

fn staged_row_of(r: &rusqlite::Row) -> rusqlite::Result<StagedRow> {
    Ok(StagedRow {
        line: r.get(0)?,
        product: r.get(1)?,
        code: r.get(2)?,
        serial: r.get(3)?,
        expiry: r.get(4)?,
        verdict: verdict_of(r.get(5)?, r.get(6)?, r.get(7)?),
        dropped: r.get(8)?,
        insert_status: r.get(9)?,
        insert_reason: r.get(10)?,
        photo_path: r.get(11)?,
        photo_box: r.get(12)?,
    })
}

/// How a checker asks the ledger whether a code or serial is taken.
trait LedgerLookup {
    /// (code taken, serial taken) under the product.
    fn taken(&mut self, v: &Voucher) -> Result<(bool, bool)>;
}

/// For a ledger whose keys the checker holds already.
struct Preloaded;

impl LedgerLookup for Preloaded {
    fn taken(&mut self, _: &Voucher) -> Result<(bool, bool)> {
        Ok((false, false))
    }
}

/// Look-ups through the ledger's unique indexes, for a ledger too big to load.
struct SqlLookup<'c> {
    by_code: rusqlite::CachedStatement<'c>,
    by_serial: rusqlite::CachedStatement<'c>,
}

impl<'c> SqlLookup<'c> {
    fn new(conn: &'c rusqlite::Connection) -> Result<SqlLookup<'c>> {
        Ok(SqlLookup {
            by_code: conn
                .prepare_cached("SELECT 1 FROM vouchers WHERE product = ?1 AND code = ?2")?,
            by_serial: conn
                .prepare_cached("SELECT 1 FROM vouchers WHERE product = ?1 AND serial = ?2")?,
        })
    }
}

impl LedgerLookup for SqlLookup<'_> {
    fn taken(&mut self, v: &Voucher) -> Result<(bool, bool)> {
        Ok((
            self.by_code.exists(params![v.product, v.code])?,
            self.by_serial.exists(params![v.product, v.serial])?,
        ))
    }
}

/// Every rule for a stream of lines: the line's own rules, repeats within the batch, other
/// staged batches, and the ledger.
/// Where a code or serial was seen first, in the order a verdict names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// An earlier line of the same batch.
    Line(u64),
    /// A row of another staged batch.
    Staged(i64),
    /// The ledger (preloaded).
    Ledger,
}

impl Seen {
    fn rank(self) -> u8 {
        match self {
            Seen::Line(_) => 0,
            Seen::Staged(_) => 1,
            Seen::Ledger => 2,
        }
    }
}

/// Checks lines one by one: the rules, then repeats within the batch, in other staged batches
/// and in the ledger. All the keys it knows sit in one map, so a line costs one look-up per
/// field whatever it is compared with.
struct Checker<'a, L> {
    rules: &'a ProductRules,
    today: NaiveDate,
    keys: VoucherKeys<Seen>,
    /// Look-ups for a ledger too big to preload (a no-op when its keys are in `keys`).
    ledger: L,
}

impl<'a, L: LedgerLookup> Checker<'a, L> {
    /// `staged` are the keys of staged rows; those of `own_batch` do not count as staged.
    /// `preloaded` are the ledger's keys when they are in memory.
    fn new(
        rules: &'a ProductRules,
        staged: &StagedKeys,
        own_batch: Option<i64>,
        preloaded: Option<&VoucherKeys<()>>,
        ledger: L,
        today: NaiveDate,
        n: usize,
    ) -> Checker<'a, L> {
        let mut keys =
            VoucherKeys::with_capacity(n + staged.len() + preloaded.map_or(0, |l| l.len()));
        keys.extend_from(staged, |b| {
            (Some(b) != own_batch).then_some(Seen::Staged(b))
        });
        if let Some(l) = preloaded {
            keys.extend_from(l, |()| Some(Seen::Ledger));
        }
        Checker {
            rules,
            today,
            keys,
            ledger,
        }
    }

    /// A valid line that is already in the batch (an inserted row, a row of the batch being
    /// typed into): later lines repeating it are duplicates within the batch.
    fn add_line(&mut self, v: &Voucher, line: u64) {
        self.keys
            .insert(&v.product, &v.code, &v.serial, Seen::Line(line));
    }

    fn check(&mut self, raw: RawVoucher, line: u64) -> Result<(Voucher, Option<Verdict>)> {
        let rules = self.rules;
        let (v, verdict) = check_owned_line(raw, &|p| rules.get(p).copied(), self.today);
        if verdict.is_some() {
            return Ok((v, verdict));
        }
        let seen = self.keys.insert_new_ranked(
            &v.product,
            &v.code,
            &v.serial,
            Seen::Line(line),
            Seen::rank,
        );
        if let Some((field, seen)) = seen {
            let d = match seen {
                Seen::Line(first) => {
                    Verdict::new(field, Problem::DuplicateInFile, first.to_string())
                }
                Seen::Staged(b) => Verdict::new(field, Problem::DuplicateInStaging, b.to_string()),
                Seen::Ledger => Verdict::new(field, Problem::DuplicateInLedger, v.product.clone()),
            };
            return Ok((v, Some(d)));
        }
        let (code_taken, serial_taken) = self.ledger.taken(&v)?;
        if code_taken || serial_taken {
            // Not a line later ones repeat: they get the same ledger verdict.
            self.keys.remove(&v.product, &v.code, &v.serial);
            let field = if code_taken {
                Field::Code
            } else {
                Field::Serial
            };
            let d = Verdict::new(field, Problem::DuplicateInLedger, v.product.clone());
            return Ok((v, Some(d)));
        }
        Ok((v, None))
    }
}
