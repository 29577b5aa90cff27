//! The embedded SQLite ledger behind the [`Ledger`] trait, so that code written against the
//! trait (and the shared conflict rule) works the same with or without SQL Server.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use rusqlite::params;

use crate::ledger::{
    conflicts_against, Conflict, InsertReport, Ledger, LedgerError, LedgerVoucher, Sale, StockLine,
    Usage, VoucherStatus,
};
use crate::store::Store;

pub struct SqliteLedger<'a> {
    pub store: &'a mut Store,
}

fn err(e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Store(e.to_string())
}

type Keys = HashMap<(String, String), String>;

/// Existing (product, code) -> serial and (product, serial) -> code for the batch's products:
/// one query per batch.
fn keys(conn: &rusqlite::Connection, rows: &[LedgerVoucher]) -> rusqlite::Result<(Keys, Keys)> {
    let mut products: Vec<&str> = rows.iter().map(|r| r.product.as_str()).collect();
    products.sort();
    products.dedup();
    let mut codes = HashMap::new();
    let mut serials = HashMap::new();
    if products.is_empty() {
        return Ok((codes, serials));
    }
    let marks = vec!["?"; products.len()].join(", ");
    let mut st = conn.prepare(&format!(
        "SELECT product, code, serial FROM vouchers WHERE product IN ({marks})"
    ))?;
    let mut q = st.query(rusqlite::params_from_iter(products.iter()))?;
    while let Some(r) = q.next()? {
        let (p, c, s): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        codes.insert((p.clone(), c.clone()), s.clone());
        serials.insert((p, s), c);
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
        let tx = self
            .store
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let (codes, serials) = keys(&tx, rows).map_err(err)?;
        let conflicts = conflicts_against(rows, &codes, &serials);
        let mut inserted = Vec::new();
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO vouchers(product, code, serial, expiry, status, batch_id,
                                          created_by, entry_at)
                     VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7)",
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
                    stamp
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
        let mut store = Store::open_in_memory().unwrap();
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
        let mut l = SqliteLedger { store: &mut store };
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
}
