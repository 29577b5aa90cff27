//! `konter otomax check|confirm|stock` and `konter voucher status`.

use clap::Subcommand;
use serde_json::json;

use crate::cli::{CmdResult, Ctx, UserError};
use crate::ledger::{Ledger, Usage};
use crate::otomax::OtomaxLedger;

#[derive(Debug, Subcommand)]
pub enum OtomaxCmd {
    /// Compare [otomax.*] in the config with the server's INFORMATION_SCHEMA.COLUMNS.
    Check,
    /// Send a staged batch to OtoMaX (what F2's confirm does).
    Confirm {
        /// The staging batch id.
        batch: i64,
    },
    /// Vouchers per product as OtoMaX's database has them.
    Stock,
}

#[derive(Debug, Subcommand)]
pub enum VoucherCmd {
    /// Is this voucher in stock, sold or used? (by serial or by code)
    Status {
        /// Serial number or voucher code.
        needle: String,
    },
}

fn ledger(ctx: &Ctx) -> Result<OtomaxLedger, Box<dyn std::error::Error + Send + Sync>> {
    if ctx.config.otomax.url.trim().is_empty() {
        return Err(Box::new(UserError(
            "no SQL Server configured: set otomax.url in the config or KONTER_OTOMAX_URL".into(),
        )));
    }
    Ok(OtomaxLedger::new(&ctx.config.otomax)?)
}

pub fn run_otomax(ctx: &Ctx, cmd: OtomaxCmd) -> CmdResult {
    let lang = ctx.lang();
    match cmd {
        OtomaxCmd::Check => {
            let mut l = ledger(ctx)?;
            let (problems, _cols) = l.check()?;
            let ok = problems.is_empty();
            let writes_ok = !problems.iter().any(|p| p.blocks_writes);
            if ctx.json {
                for p in &problems {
                    ctx.emit(&json!({"problem": p, "message": p.text(lang)}));
                }
                ctx.emit(
                    &json!({"check": if ok {"ok"} else {"failed"}, "writes_allowed": writes_ok,
                    "problems": problems.len(), "server": l.gateway.settings.target(),
                    "database": l.gateway.settings.database}),
                );
            } else {
                for p in &problems {
                    println!(
                        "{}: {}",
                        if p.blocks_writes {
                            lang.t("SALAH", "WRONG")
                        } else {
                            lang.t("peringatan", "warning")
                        },
                        p.text(lang)
                    );
                }
                if ok {
                    println!(
                        "{} {} / {}",
                        lang.t(
                            "Pemetaan OtoMaX cocok dengan server",
                            "The OtoMaX mapping matches the server"
                        ),
                        l.gateway.settings.target(),
                        l.gateway.settings.database
                    );
                } else if writes_ok {
                    println!("{}", lang.t(
                        "Voucher boleh dimasukkan; stok/penjualan tidak lengkap sampai peringatan di atas dibereskan.",
                        "Vouchers may be written; stock and sales stay incomplete until the warnings above are fixed."));
                } else {
                    println!(
                        "{}",
                        lang.t(
                            "Penulisan ditolak sampai [otomax.vouchers] di config diperbaiki.",
                            "Writes are refused until [otomax.vouchers] in the config is fixed."
                        )
                    );
                }
            }
            Ok(if writes_ok { 0 } else { 1 })
        }
        OtomaxCmd::Confirm { batch } => {
            let mut l = ledger(ctx)?;
            let mut store = crate::store::Store::open(&ctx.config.db_path())?;
            let now = chrono::Local::now().naive_local();
            let r = crate::otomax::confirm::confirm_batch(
                store.conn_mut(),
                &mut l,
                batch,
                &ctx.config.shop.user,
                now,
                lang,
            )?;
            if ctx.json {
                ctx.emit(&json!({"confirm": r}));
            } else {
                println!(
                    "batch {}: {} {}, {} {}, {} {}",
                    r.batch_id,
                    r.inserted + r.recovered,
                    lang.t("masuk", "inserted"),
                    r.rejected,
                    lang.t("ditolak", "rejected"),
                    r.sent,
                    lang.t("dikirim", "sent")
                );
            }
            Ok(0)
        }
        OtomaxCmd::Stock => {
            let mut l = ledger(ctx)?;
            let today = chrono::Local::now().date_naive();
            let lines = l.stock(today, ctx.config.stock.expiring_days)?;
            if ctx.json {
                for s in &lines {
                    ctx.emit(&json!({"stock": s}));
                }
            } else {
                println!(
                    "{:<10} {:<30} {:>6} {:>7} {:>8} {:>6}",
                    lang.t("Produk", "Product"),
                    lang.t("Nama", "Name"),
                    lang.t("Stok", "Stock"),
                    lang.t("Terjual", "Sold"),
                    lang.t("Terpakai", "Used"),
                    "Exp"
                );
                for s in &lines {
                    println!(
                        "{:<10} {:<30} {:>6} {:>7} {:>8} {:>6}",
                        s.product, s.name, s.in_stock, s.sold, s.used, s.expiring
                    );
                }
            }
            Ok(0)
        }
    }
}

pub fn run_voucher(ctx: &Ctx, cmd: VoucherCmd) -> CmdResult {
    let lang = ctx.lang();
    match cmd {
        VoucherCmd::Status { needle } => {
            let mut l = ledger(ctx)?;
            let found = l.voucher_status(&needle)?;
            if found.is_empty() {
                if ctx.json {
                    ctx.emit(&json!({"voucher": null, "needle": needle}));
                } else {
                    println!(
                        "{} {needle}",
                        lang.t(
                            "Tidak ada voucher dengan serial atau kode",
                            "No voucher has the serial or code"
                        )
                    );
                }
                return Ok(3);
            }
            for v in &found {
                if ctx.json {
                    ctx.emit(&json!({"voucher": v}));
                } else {
                    let usage = match v.usage {
                        Usage::InStock => lang.t("stok (belum terpakai)", "in stock (unused)"),
                        Usage::Sold => lang.t("terjual", "sold"),
                        Usage::Used => lang.t("terpakai", "used"),
                    };
                    println!(
                        "{} {} serial {} kode {}: {usage}{}",
                        v.product,
                        v.expiry.map(|d| format!("exp {d}")).unwrap_or_default(),
                        v.serial,
                        v.code,
                        v.sale
                            .as_ref()
                            .map(|s| format!(
                                " (trx {} {})",
                                s.transaction,
                                s.at.map(|a| a.to_string()).unwrap_or_default()
                            ))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(0)
        }
    }
}
