//! Confirm: a staged batch goes to the ledger. Rows move to queued before the attempt, then to
//! inserted or rejected (with the reason). Any failure leaves them queued with the error as the
//! reason: the batch stays staged, and a retry re-checks conflicts on the server first, so a
//! voucher that did go in during an attempt whose answer was lost is recognised, never doubled.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::i18n::Lang;
use crate::ledger::{Ledger, LedgerError};
use crate::store::confirm as q;

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

pub fn confirm_batch(
    conn: &mut rusqlite::Connection,
    ledger: &mut dyn Ledger,
    batch_id: i64,
    who: &str,
    now: NaiveDateTime,
    lang: Lang,
) -> Result<ConfirmReport, LedgerError> {
    let store = |e: rusqlite::Error| LedgerError::Store(e.to_string());
    if !q::batch_exists(conn, batch_id).map_err(store)? {
        return Err(LedgerError::Store(format!(
            "batch {batch_id} does not exist; list the staged batches and pick one"
        )));
    }
    let pending = q::pending_rows(conn, batch_id).map_err(store)?;
    let mut report = ConfirmReport {
        batch_id,
        ledger: ledger.kind(),
        sent: pending.len(),
        ..Default::default()
    };
    if pending.is_empty() {
        return Ok(report);
    }
    let stamp = now.format("%Y-%m-%dT%H:%M:%S").to_string();
    let queued: Vec<(i64, i64, Option<String>)> =
        pending.iter().map(|p| (p.voucher.line, 1, None)).collect();
    q::mark(conn, batch_id, &queued, &stamp).map_err(store)?;
    let rows: Vec<_> = pending.iter().map(|p| p.voucher.clone()).collect();
    match ledger.insert_batch(&rows, who, now) {
        Err(e) => {
            let reason = Some(e.to_string());
            let lines: Vec<_> = pending
                .iter()
                .map(|p| (p.voucher.line, 1, reason.clone()))
                .collect();
            q::mark(conn, batch_id, &lines, &stamp).map_err(store)?;
            Err(e)
        }
        Ok(rep) => {
            let mut lines: Vec<(i64, i64, Option<String>)> =
                rep.inserted.iter().map(|l| (*l, 3, None)).collect();
            report.inserted = rep.inserted.len();
            report.round_trips = rep.round_trips;
            for c in &rep.conflicts {
                if c.same_voucher {
                    // The ledger holds this very voucher: an earlier attempt whose answer was
                    // lost, or the same list imported again. It is in; nothing is added twice.
                    report.recovered += 1;
                    lines.push((
                        c.line,
                        3,
                        Some(
                            lang.t("sudah ada di ledger", "already in the ledger")
                                .into(),
                        ),
                    ));
                } else {
                    report.rejected += 1;
                    let reason = if c.key == "code" {
                        lang.t(
                            "kode voucher sudah dipakai voucher lain untuk produk ini; periksa kodenya",
                            "the voucher code already belongs to another voucher of this product; check the code",
                        )
                    } else {
                        lang.t(
                            "serial sudah dipakai voucher lain untuk produk ini; periksa serialnya",
                            "the serial already belongs to another voucher of this product; check the serial",
                        )
                    };
                    lines.push((c.line, 2, Some(reason.into())));
                }
            }
            q::mark(conn, batch_id, &lines, &stamp).map_err(store)?;
            Ok(report)
        }
    }
}
