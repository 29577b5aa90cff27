//! The confirm step on the staging side, one path for every ledger (the embedded one and
//! OtoMaX's SQL Server): which rows of a batch go, and moving them queued, then inserted or
//! rejected with the reason. insert_status: 0 new, 1 queued, 2 rejected, 3 inserted. Rows are
//! addressed by their key id = batch_id * 2^32 + line (see 0001_intake.sql).
//!
//! Any failure leaves the rows queued with the error as the reason: the batch stays staged, and
//! a retry re-checks conflicts in the ledger first, so a voucher that did go in during an
//! attempt whose answer was lost is recognised (same code and serial: counted as already
//! there), never doubled.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{NaiveDate, NaiveDateTime};
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::i18n::Lang;
use crate::ledger::{Ledger, LedgerError, LedgerVoucher};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfirmReport {
    pub batch_id: i64,
    pub ledger: &'static str,
    /// Rows sent this time.
    pub sent: usize,
    pub inserted: usize,
    /// Already in the ledger with the same code and serial (a retry, or the same list again):
    /// marked inserted, not added twice.
    pub recovered: usize,
    pub rejected: usize,
    pub round_trips: u64,
}

/// How a confirm ended without a report.
#[derive(Debug)]
pub enum ConfirmError {
    /// Cancelled before anything was sent: nothing changed.
    Cancelled,
    Ledger(LedgerError),
}

impl From<LedgerError> for ConfirmError {
    fn from(e: LedgerError) -> Self {
        ConfirmError::Ledger(e)
    }
}

/// Sends a staged batch's pending rows to `ledger` (all or nothing there) and records each
/// row's outcome in staging.
pub fn confirm_batch(
    conn: &Connection,
    ledger: &mut dyn Ledger,
    batch_id: i64,
    who: &str,
    now: NaiveDateTime,
    lang: Lang,
) -> Result<ConfirmReport, LedgerError> {
    match confirm_batch_with(
        conn,
        ledger,
        batch_id,
        who,
        now,
        lang,
        &AtomicBool::new(false),
        &mut |_, _| {},
    ) {
        Ok(r) => Ok(r),
        Err(ConfirmError::Ledger(e)) => Err(e),
        Err(ConfirmError::Cancelled) => Err(LedgerError::Store("cancelled".into())),
    }
}

/// [`confirm_batch`] with a cancel flag (looked at before anything is sent: the ledger's insert
/// is one transaction) and progress (0 of n before, n of n after).
#[allow(clippy::too_many_arguments)]
pub fn confirm_batch_with(
    conn: &Connection,
    ledger: &mut dyn Ledger,
    batch_id: i64,
    who: &str,
    now: NaiveDateTime,
    lang: Lang,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ConfirmReport, ConfirmError> {
    let store = |e: rusqlite::Error| ConfirmError::Ledger(LedgerError::Store(e.to_string()));
    if !batch_exists(conn, batch_id).map_err(store)? {
        return Err(ConfirmError::Ledger(LedgerError::Store(format!(
            "batch {batch_id} does not exist; list the staged batches and pick one"
        ))));
    }
    let pending = pending_rows(conn, batch_id).map_err(store)?;
    let mut report = ConfirmReport {
        batch_id,
        ledger: ledger.kind(),
        sent: pending.len(),
        ..Default::default()
    };
    if cancel.load(Ordering::Relaxed) {
        return Err(ConfirmError::Cancelled);
    }
    progress(0, pending.len());
    if pending.is_empty() {
        return Ok(report);
    }
    let stamp = now.format("%Y-%m-%dT%H:%M:%S").to_string();
    let queued: Vec<(i64, i64, Option<String>)> =
        pending.iter().map(|p| (p.voucher.line, 1, None)).collect();
    mark(conn, batch_id, &queued, &stamp).map_err(store)?;
    let rows: Vec<_> = pending.iter().map(|p| p.voucher.clone()).collect();
    let rep = match ledger.insert_batch(&rows, who, now) {
        Ok(rep) => rep,
        Err(e) => {
            let reason = Some(e.message(lang));
            let lines: Vec<_> = pending
                .iter()
                .map(|p| (p.voucher.line, 1, reason.clone()))
                .collect();
            mark(conn, batch_id, &lines, &stamp).map_err(store)?;
            return Err(ConfirmError::Ledger(e));
        }
    };
    let mut lines: Vec<(i64, i64, Option<String>)> =
        rep.inserted.iter().map(|l| (*l, 3, None)).collect();
    report.inserted = rep.inserted.len();
    report.round_trips = rep.round_trips;
    for c in &rep.conflicts {
        if c.same_voucher {
            // The ledger holds this very voucher: an earlier attempt whose answer was lost, or
            // the same list imported again. It is in; nothing is added twice.
            report.recovered += 1;
            lines.push((
                c.line,
                3,
                Some(
                    lang.t("sudah ada di ledger", "already in the ledger")
                        .into(),
                ),
            ));
            continue;
        }
        report.rejected += 1;
        let reason = match (c.key, &c.held_by) {
            ("code", Some(serial)) => format!(
                "{} {serial}; {}",
                lang.t(
                    "kode voucher sudah ada di stok dengan serial",
                    "the voucher code is already in stock with serial"
                ),
                lang.t("periksa kodenya", "check the code")
            ),
            ("code", None) => lang
                .t(
                    "kode voucher muncul dua kali di batch ini; periksa kodenya",
                    "the voucher code appears twice in this batch; check the code",
                )
                .into(),
            (_, Some(code)) => format!(
                "{} {code}; {}",
                lang.t(
                    "serial sudah ada di stok dengan kode",
                    "the serial is already in stock with code"
                ),
                lang.t("periksa serialnya", "check the serial")
            ),
            (_, None) => lang
                .t(
                    "serial muncul dua kali di batch ini; periksa serialnya",
                    "the serial appears twice in this batch; check the serial",
                )
                .into(),
        };
        lines.push((c.line, 2, Some(reason)));
    }
    mark(conn, batch_id, &lines, &stamp).map_err(store)?;
    progress(pending.len(), pending.len());
    Ok(report)
}

/// A valid, not dropped row not yet in the ledger (new, queued by an attempt whose outcome is
/// unknown, or rejected before: a retry checks it again).
pub struct Pending {
    pub voucher: LedgerVoucher,
    pub queued: bool,
}

pub fn pending_rows(conn: &Connection, batch_id: i64) -> rusqlite::Result<Vec<Pending>> {
    let mut st = conn.prepare(
        "SELECT line, product, code, serial, expiry, insert_status FROM staging_rows
         WHERE id BETWEEN (?1 << 32) AND (?1 << 32) + 4294967295
           AND error_kind IS NULL AND dropped = 0 AND insert_status IN (0, 1, 2)
           -- a card read off a photo that still needs a look stays staged (F2 shows it first)
           AND id NOT IN (SELECT row_id FROM staging_cards WHERE needs_review = 1 AND cleared = 0)
         ORDER BY id",
    )?;
    let rows = st.query_map([batch_id], |r| {
        let expiry: String = r.get(4)?;
        Ok(Pending {
            voucher: LedgerVoucher {
                line: r.get(0)?,
                product: r.get(1)?,
                code: r.get(2)?,
                serial: r.get(3)?,
                expiry: NaiveDate::parse_from_str(&expiry, "%Y-%m-%d").ok(),
                batch_id,
            },
            queued: r.get::<_, i64>(5)? == 1,
        })
    })?;
    rows.collect()
}

pub fn batch_exists(conn: &Connection, batch_id: i64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM staging_batches WHERE id = ?1",
        [batch_id],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
}

/// Sets the status (and reason) of the given lines in one transaction.
pub fn mark(
    conn: &Connection,
    batch_id: i64,
    lines: &[(i64, i64, Option<String>)],
    now: &str,
) -> rusqlite::Result<()> {
    // The caller's ledger may hold the same connection (the embedded one): no nesting here,
    // each call is its own transaction.
    let tx = conn.unchecked_transaction()?;
    {
        let mut st = tx.prepare(
            "UPDATE staging_rows SET insert_status = ?3, insert_reason = ?4, status_at = ?5
             WHERE id = (?1 << 32) + ?2",
        )?;
        for (line, status, reason) in lines {
            st.execute(params![batch_id, line, status, reason, now])?;
        }
        tx.execute(
            "UPDATE staging_batches SET status_at = ?2 WHERE id = ?1",
            params![batch_id, now],
        )?;
    }
    tx.commit()
}
