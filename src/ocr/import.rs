//! `konter import photos PHOTO...|DIR [--product CODE] [--dry-run] [--confirm] [--threads N]`:
//! the cards of voucher photos into staging (and with `--confirm` into stock), in the style of
//! `konter import vouchers`. With `--json`: one line per card, one per photo that gave no card,
//! then the summary with the batch id.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::cli::{CmdResult, Ctx, UserError};
use crate::domain::card::ProductMatch;
use crate::domain::voucher::Field;
use crate::jobs::photos::{self, PhotoRequest};

#[derive(Debug, Args)]
pub struct ImportPhotos {
    /// Photo files or folders of photos (JPEG, PNG, WebP, TIFF, BMP).
    #[arg(required = true)]
    pub photos: Vec<PathBuf>,
    /// Stage every card as this product instead of mapping the card's brand.
    #[arg(long)]
    pub product: Option<String>,
    /// Show the verdicts only; stage nothing.
    #[arg(long, conflicts_with = "confirm")]
    pub dry_run: bool,
    /// Also insert the accepted cards into stock (the same confirm as F2's C).
    #[arg(long)]
    pub confirm: bool,
    /// Worker threads (one Tesseract engine each); default: one per core.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also ask the AI model of [ocr.ai] and merge its reading (on without this flag when
    /// [ocr.ai] enabled = true).
    #[arg(long)]
    pub ai: bool,
}

pub fn run(ctx: &Ctx, args: ImportPhotos) -> CmdResult {
    let lang = ctx.lang();
    let paths = super::collect_photos(&args.photos).map_err(UserError)?;
    if paths.is_empty() {
        return Err(Box::new(UserError(
            lang.t(
                "tidak ada foto; beri file JPEG/PNG atau folder berisi foto",
                "no photos found; give JPEG/PNG files or a folder holding them",
            )
            .into(),
        )));
    }
    let mut store = ctx.open_store()?;
    let cancel = crate::cli::cancel_on_ctrl_c();
    #[cfg(feature = "ocr")]
    let threads = args.threads.unwrap_or_else(super::pool::default_threads);
    #[cfg(not(feature = "ocr"))]
    let threads = args.threads.unwrap_or(1);
    let req = PhotoRequest {
        photos: &paths,
        product: args.product.as_deref(),
        created_by: &ctx.config.shop.user,
        today: ctx.today,
        dry_run: args.dry_run,
        threads,
        ai: (args.ai || ctx.config.ocr.ai.enabled).then_some(&ctx.config.ocr.ai),
    };
    let name = photos::batch_name(&args.photos, paths.len());
    let json = ctx.json;
    let total = paths.len();
    let mut read = 0usize;
    let out =
        match photos::import_photos(&mut store, &req, &name, &cancel, &mut |_, _| {}, &mut |r| {
            // progress, on stderr so stdout stays the result
            read += 1;
            if !json {
                eprintln!("[{read}/{total}] {}", r.photo);
            }
        }) {
            Ok(o) => o,
            Err(e) => return Err(Box::new(UserError(e.message(lang)))),
        };
    let results = out.stage.as_ref().map(|s| &s.results[..]).unwrap_or(&[]);
    let mut line = 0usize;
    let mut bad = 0usize;
    let mut review = 0usize;
    for r in &out.photos {
        if r.verdict != "ok" {
            bad += usize::from(r.verdict == "error");
            if json {
                ctx.emit(&json!({
                    "photo": r.photo, "ok": false, "verdict": r.verdict, "reason": r.message,
                }));
            } else {
                println!(
                    "{}: {} ({})",
                    r.photo,
                    r.verdict,
                    r.message.clone().unwrap_or_default()
                );
            }
        }
        if r.verdict == "ok" && !json {
            println!(
                "{}: {} {}",
                r.photo,
                r.cards.len(),
                lang.t("kartu", "cards")
            );
        }
        for c in &r.cards {
            let staged = &out.cards[line];
            let res = results.get(line);
            line += 1;
            review += usize::from(c.needs_review);
            let verdict = res.and_then(|x| x.verdict.as_ref());
            if json {
                ctx.emit(&json!({
                    "photo": r.photo,
                    "line": line,
                    "ok": verdict.is_none(),
                    "field": verdict.map(|v| v.field.as_str()),
                    "reason": verdict.map(|v| v.message(lang)),
                    "verdict": verdict.map(|v| v.code()),
                    "product": res.map(|x| x.voucher.product.clone()),
                    "product_match": staged.product_match,
                    "serial": c.serial,
                    "code": c.code,
                    "expiry": c.expiry,
                    "brand": c.brand,
                    "confidence": c.confidence,
                    "needs_review": c.needs_review,
                    "reasons": c.reasons,
                    "box": {
                        "x": c.card_box.x, "y": c.card_box.y, "w": c.card_box.w, "h": c.card_box.h,
                        // f32 -> one decimal, as stored ("2.9", not 2.9000000953674316)
                        "angle": (f64::from(c.card_box.angle) * 10.0).round() / 10.0,
                    },
                }));
            } else {
                println!(
                    "  {} {line}: SN {} {} {} exp {} {}{}{}",
                    lang.t("baris", "line"),
                    c.serial.as_deref().unwrap_or("-"),
                    lang.t("kode", "code"),
                    c.code.as_deref().unwrap_or("-"),
                    c.expiry.as_deref().unwrap_or("-"),
                    res.map(|x| x.voucher.product.as_str()).unwrap_or("-"),
                    match (verdict, &staged.product_match) {
                        (
                            Some(v),
                            ProductMatch::NoBrand
                            | ProductMatch::Unknown { .. }
                            | ProductMatch::Ambiguous { .. },
                        ) if v.field == Field::Product => {
                            format!(
                                "  {} ({})",
                                v.message(lang),
                                staged.product_match.note(lang)
                            )
                        }
                        (Some(v), _) => format!("  {}", v.message(lang)),
                        (None, _) => "  ok".into(),
                    },
                    if c.needs_review {
                        format!(
                            "  [{}: {}]",
                            lang.t("cek", "review"),
                            super::reasons_text(&c.reasons, lang)
                        )
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    let (accepted, rejected, batch) = out
        .stage
        .as_ref()
        .map(|s| (s.accepted, s.rejected, s.batch_id))
        .unwrap_or((0, 0, None));
    if json {
        ctx.emit(&json!({
            "photos": out.photos.len(), "bad_photos": bad, "not_read": out.not_read,
            "cards": out.cards.len(), "needs_review": review,
            "accepted": accepted, "rejected": rejected, "batch": batch,
        }));
    } else {
        let head = match batch {
            Some(b) => format!("Batch #{b}"),
            None if args.dry_run => lang
                .t("Uji coba (tidak disimpan)", "Dry run (nothing saved)")
                .to_string(),
            None => lang
                .t("Tidak ada batch (tidak ada kartu)", "No batch (no cards)")
                .to_string(),
        };
        println!(
            "{head}: {} {}, {} {}, {accepted} {}, {rejected} {}, {review} {}",
            out.photos.len(),
            lang.t("foto", "photos"),
            out.cards.len(),
            lang.t("kartu", "cards"),
            lang.t("diterima", "accepted"),
            lang.t("ditolak", "rejected"),
            lang.t("perlu dicek", "need review"),
        );
        if out.not_read > 0 {
            println!(
                "{} {} {}",
                lang.t("Dibatalkan:", "Cancelled:"),
                out.not_read,
                lang.t(
                    "foto belum dibaca; kartu yang sudah terbaca tetap di batch",
                    "photos not read; the cards already read are kept in the batch"
                )
            );
        }
    }
    if out.not_read > 0 {
        return Ok(130);
    }
    if let (true, Some(batch)) = (args.confirm, batch) {
        // Valid cards still flagged for review are not sent: they wait in F2.
        let held = results
            .iter()
            .zip(&out.cards)
            .filter(|(r, c)| r.verdict.is_none() && c.needs_review)
            .count();
        if let Some(code) = crate::cli::confirm_staged(ctx, &mut store, batch, &cancel, Some(held))
        {
            return Ok(code);
        }
    }
    Ok(if bad > 0 { 2 } else { 0 })
}
