//! `konter photo find SERIAL|CODE`: the photo a voucher was read from, and where its card lies,
//! looked up in the ledger (index on serial and on code) and in staging. Needs no Tesseract.

use clap::Subcommand;
use serde_json::json;

use crate::cli::{CmdResult, Ctx, UserError};

#[derive(Debug, Subcommand)]
pub enum PhotoCommand {
    /// The photo of a voucher, by its serial or code (spaces and dashes ignored).
    Find { query: String },
}

pub fn run(ctx: &Ctx, cmd: PhotoCommand) -> CmdResult {
    match cmd {
        PhotoCommand::Find { query } => find(ctx, &query),
    }
}

fn find(ctx: &Ctx, query: &str) -> CmdResult {
    let lang = ctx.lang();
    let store = ctx.open_store()?;
    let mut found = store.find_photo_vouchers(query)?;
    if found.is_empty() {
        // Not in stock and not read from a photo: maybe staged from a list, to say so.
        found = store.find_vouchers(query)?;
    }
    if found.is_empty() {
        return Err(Box::new(UserError(format!(
            "{} '{query}'; {}",
            lang.t(
                "tidak ada voucher dengan serial/kode",
                "no voucher has serial/code"
            ),
            lang.t(
                "periksa angkanya, atau impor dulu fotonya (konter ocr vouchers)",
                "check the digits, or read its photo first (konter ocr vouchers)"
            )
        ))));
    }
    let mut with_photo = 0usize;
    for v in &found {
        with_photo += usize::from(v.photo_path.is_some());
        if ctx.json {
            ctx.emit(&json!({
                "query": query,
                "place": v.place,
                "product": v.product,
                "serial": v.serial,
                "code": v.code,
                "status": v.status,
                "batch_id": v.batch_id,
                "photo": v.photo_path,
                "box": v.photo_box,
            }));
        } else {
            println!(
                "{} {} SN {} {} {}: {}",
                v.place,
                v.product,
                v.serial,
                lang.t("kode", "code"),
                v.code,
                match (&v.photo_path, &v.photo_box) {
                    (Some(p), Some(b)) => format!("{p} [{b}]"),
                    (Some(p), None) => p.clone(),
                    _ => lang.t("tanpa foto", "no photo").to_string(),
                }
            );
        }
    }
    if with_photo == 0 && !ctx.json {
        println!(
            "{}",
            lang.t(
                "voucher ada, tetapi tidak dimasukkan dari foto",
                "the voucher exists but was not entered from a photo"
            )
        );
    }
    Ok(0)
}
