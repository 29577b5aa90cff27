//! The embedded SQLite ledger behind the [`Ledger`] trait, so that code written against the
//! trait (and the shared conflict rule) works the same with or without SQL Server.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use rusqlite::{params, OptionalExtension};

use crate::ledger::{
    conflicts_against, Conflict, InsertReport, Ledger, LedgerError, LedgerVoucher, Sale, StockLine,
    Usage, VoucherStatus,
};
use crate::store::Store;

/// Borrows the store shared, so the staging side of confirm can use the same connection
/// while the ledger inserts (each in its own transaction).
pub struct SqliteLedger<'a> {
    pub store: &'a Store,
}

fn err(e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Store(e.to_string())
}

type Keys = HashMap<(String, String), String>;

/// Existing (product, code) -> serial and (product, serial) -> code for the batch's rows: two
/// indexed lookups per row (UNIQUE(product, code) and UNIQUE(product, serial)), in-process, so
/// the cost follows the batch, not the size of the ledger.
fn keys(conn: &rusqlite::Connection, rows: &[LedgerVoucher]) -> rusqlite::Result<(Keys, Keys)> {
    let mut codes = HashMap::new();
    let mut serials = HashMap::new();
    let mut by_code =
        conn.prepare_cached("SELECT serial FROM vouchers WHERE product = ?1 AND code = ?2")?;
    let mut by_serial =
        conn.prepare_cached("SELECT code FROM vouchers WHERE product = ?1 AND serial = ?2")?;
    for r in rows {
        if let Some(serial) = by_code
            .query_row(params![r.product, r.code], |x| x.get::<_, String>(0))
            .optional()?
        {
            codes.insert((r.product.clone(), r.code.clone()), serial);
        }
        if let Some(code) = by_serial
            .query_row(params![r.product, r.serial], |x| x.get::<_, String>(0))
            .optional()?
        {
            serials.insert((r.product.clone(), r.serial.clone()), code);
        }
    }
    Ok((codes, serials))
}

impl Ledger for SqliteLedger<'_> {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn existing(&mut self, rows: &[LedgerVoucher]) -> Result<Vec<Conflict>, LedgerError> {
        let (codes, serials) = keys(self.store.conn(), rows).map_err(err)?;
        Ok(conflicts_against(rows, &codes, &serials))
    }

    fn insert_batch(
        &mut self,
        rows: &[LedgerVoucher],
        who: &str,
        now: NaiveDateTime,
    ) -> Result<InsertReport, LedgerError> {
        let conn = self.store.conn();
        // Immediate: the conflict check and the inserts see one state of the ledger.
        let tx =
            rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
                .map_err(err)?;
        let (codes, serials) = keys(&tx, rows).map_err(err)?;
        let conflicts = conflicts_against(rows, &codes, &serials);
        let mut inserted = Vec::new();
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO vouchers(product, code, serial, expiry, status, batch_id,
                                          created_by, entry_at, photo_path, photo_box)
                     SELECT ?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, photo_path, photo_box
                     FROM (SELECT 1) LEFT JOIN staging_photos ON row_id = (?5 << 32) + ?8",
                )
                .map_err(err)?;
            let stamp = now.format("%Y-%m-%dT%H:%M:%S").to_string();
            for r in rows {
                if conflicts.iter().any(|c| c.line == r.line) {
                    continue;
                }
                ins.execute(params![
                    r.product,
                    r.code,
                    r.serial,
                    r.expiry.map(|d| d.to_string()),
                    r.batch_id,
                    who,
                    stamp,
                    r.line
                ])
                .map_err(err)?;
                inserted.push(r.line);
            }
        }
        tx.commit().map_err(err)?;
        Ok(InsertReport {
            inserted,
            conflicts,
            round_trips: 0,
        })
    }

    fn stock(
        &mut self,
        today: NaiveDate,
        expiring_days: u32,
    ) -> Result<Vec<StockLine>, LedgerError> {
        let rows = self
            .store
            .stock_by_product(today, expiring_days)
            .map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|r| StockLine {
                product: r.product,
                name: r.name,
                price: Some(r.price),
                active: true,
                in_stock: r.in_stock,
                // the store counts used vouchers as sold too; the trait keeps them apart
                sold: r.sold - r.used,
                used: r.used,
                expiring: r.expiring,
            })
            .collect())
    }

    fn voucher_status(&mut self, needle: &str) -> Result<Vec<VoucherStatus>, LedgerError> {
        let found = self.store.find_vouchers(needle).map_err(err)?;
        let parse_dt = |s: &str| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S").ok();
        Ok(found
            .into_iter()
            .filter(|v| v.place == "ledger")
            .map(|v| {
                let usage = match v.status.as_str() {
                    "stock" => Usage::InStock,
                    "sold" => Usage::Sold,
                    _ => Usage::Used,
                };
                VoucherStatus {
                    expiry: NaiveDate::parse_from_str(&v.expiry, "%Y-%m-%d").ok(),
                    entry: parse_dt(&v.entry_at),
                    status_value: match usage {
                        Usage::InStock => 0,
                        Usage::Sold => 1,
                        Usage::Used => 2,
                    },
                    sale: v.sold_at.as_deref().map(|at| Sale {
                        transaction: String::new(),
                        at: parse_dt(at),
                        status: 20,
                    }),
                    usage,
                    product: v.product,
                    code: v.code,
                    serial: v.serial,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(line: i64, p: &str, c: &str, s: &str) -> LedgerVoucher {
        LedgerVoucher {
            product: p.into(),
            code: c.into(),
            serial: s.into(),
            expiry: NaiveDate::from_ymd_opt(2028, 1, 1),
            batch_id: 1,
            line,
        }
    }

    #[test]
    fn both_ledgers_share_the_conflict_rule_and_the_confirm_path() {
        let store = Store::open_in_memory().unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO products(code, name, price) VALUES ('XLVD5', 'XL 5GB', 30000);
                 INSERT INTO staging_batches(id, source, created_by, created_at, status_at)
                 VALUES (1, 'csv', 't', 'x', 'x');",
            )
            .unwrap();
        let now = NaiveDate::from_ymd_opt(2026, 11, 21)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap();
        let rows = vec![
            v(2, "XLVD5", "1111222233334444", "111122223333"),
            v(3, "XLVD5", "5555666677778888", "444455556666"),
        ];
        let mut l = SqliteLedger { store: &store };
        let r = l.insert_batch(&rows, "t", now).unwrap();
        assert_eq!(r.inserted, vec![2, 3]);
        // again: both are the same vouchers, nothing added
        let r = l.insert_batch(&rows, "t", now).unwrap();
        assert!(r.inserted.is_empty());
        assert!(r.conflicts.iter().all(|c| c.same_voucher));
        assert_eq!(l.existing(&rows).unwrap().len(), 2);
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let s = l.stock(today, 30).unwrap();
        assert_eq!(s[0].in_stock, 2);
        let st = l.voucher_status("111122223333").unwrap();
        assert_eq!(st.len(), 1);
        assert_eq!(st[0].usage, Usage::InStock);
    }

    #[test]
    fn embedded_confirm_takes_the_shared_staging_path() {
        use crate::i18n::Lang;
        use crate::store::confirm::confirm_batch;
        let store = Store::open_in_memory().unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO products(code, name, price) VALUES ('XLVD5', 'XL 5GB', 30000);
                 INSERT INTO staging_batches(id, source, created_by, created_at, status_at)
                 VALUES (7, 'image', 't', 'x', 'x');
                 INSERT INTO staging_rows(id, product, code, serial, expiry)
                 VALUES ((7 << 32) + 1, 'XLVD5', '1111222233334444', '111122223333',
                         '2028-01-01'),
                        ((7 << 32) + 2, 'XLVD5', '5555666677778888', '444455556666', ''),
                        ((7 << 32) + 3, 'XLVD5', '9999000011112222', '111122223333', '');
                 INSERT INTO staging_photos(row_id, photo_path, photo_box)
                 VALUES ((7 << 32) + 1, 'photos/a.jpg', '1,2,3,4');",
            )
            .unwrap();
        let now = NaiveDate::from_ymd_opt(2026, 11, 21)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap();
        let status = |line: i64| -> (i64, Option<String>) {
            store
                .conn()
                .query_row(
                    "SELECT insert_status, insert_reason FROM staging_rows WHERE id = (7 << 32) + ?1",
                    [line],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap()
        };
        let mut l = SqliteLedger { store: &store };
        let r = confirm_batch(store.conn(), &mut l, 7, "t", now, Lang::En).unwrap();
        assert_eq!((r.sent, r.inserted, r.recovered, r.rejected), (3, 2, 0, 1));
        assert_eq!(status(1), (3, None));
        assert_eq!(status(2), (3, None));
        let (st, reason) = status(3);
        assert_eq!(st, 2);
        assert_eq!(
            reason.as_deref(),
            Some("the serial appears twice in this batch; check the serial")
        );
        // The photo of the row goes with the voucher; an empty expiry stays empty.
        let (photo, bbox, expiry): (Option<String>, Option<String>, Option<String>) = store
            .conn()
            .query_row(
                "SELECT photo_path, photo_box, expiry FROM vouchers WHERE code = '1111222233334444'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(photo.as_deref(), Some("photos/a.jpg"));
        assert_eq!(bbox.as_deref(), Some("1,2,3,4"));
        assert_eq!(expiry.as_deref(), Some("2028-01-01"));
        let e2: Option<String> = store
            .conn()
            .query_row(
                "SELECT expiry FROM vouchers WHERE code = '5555666677778888'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(e2, None);
        // Again: only the rejected row is pending; it is checked again and still refused, now
        // against the ledger (the serial belongs to the first voucher). Nothing is added twice.
        let r = confirm_batch(store.conn(), &mut l, 7, "t", now, Lang::En).unwrap();
        assert_eq!((r.sent, r.inserted, r.rejected), (1, 0, 1));
        assert_eq!(
            status(3).1.as_deref(),
            Some("the serial is already in stock with code 1111222233334444; check the serial")
        );
        let n: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM vouchers", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }
}
