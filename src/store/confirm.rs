//! Staging-row queries of the confirm step: which rows of a batch go to the ledger, and marking
//! them queued, inserted or rejected. insert_status: 0 new, 1 queued, 2 rejected, 3 inserted.
//! Rows are addressed by their key id = batch_id * 2^32 + line (see 0001_intake.sql).

use chrono::NaiveDate;
use rusqlite::{params, Connection};

use crate::ledger::LedgerVoucher;

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
    conn: &mut Connection,
    batch_id: i64,
    lines: &[(i64, i64, Option<String>)],
    now: &str,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
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
