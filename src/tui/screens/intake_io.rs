//! The screens' calls into the store and the intake jobs, run inside UI jobs. Everything here
//! that takes a [`Db`] is blocking and must never be called from `update` or `render`.

use std::path::Path;

use chrono::NaiveDate;

use tokio::sync::mpsc::UnboundedSender;

use crate::config::Config;
use crate::domain::voucher::{
    check_line, Field, Problem, ProductRule, ProductRules, RawVoucher, Verdict,
};
use crate::i18n::Lang;
use crate::import::ImportError;
use crate::jobs::intake::{self as intake_job, IntakeError};
use crate::store::intake::{Source, StagedRow, StockRow, VoucherDetail};
use crate::store::photos::CardReview;
use crate::tui::action::Action;
use crate::tui::data::Db;
use crate::tui::jobs::Progress;
use crate::tui::screens::intake::{BatchSummary, BatchView, CardView, RowError, RowView, FIELDS};
use crate::tui::status::{Backend, ConnState};

type R<T> = Result<T, String>;

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// The identity of a typed voucher, as the duplicate check sees it.
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

fn raw_of(values: &[String; 4]) -> RawVoucher {
    RawVoucher {
        product: Some(values[0].clone()),
        code: Some(values[1].clone()),
        serial: Some(values[2].clone()),
        expiry: Some(values[3].clone()),
    }
}

fn field_index(f: Field) -> usize {
    FIELDS.iter().position(|x| x.0 == f.as_str()).unwrap_or(1)
}

fn row_error(v: &Verdict, lang: Lang) -> RowError {
    RowError {
        field: v.field.as_str().into(),
        kind: v.problem.short(lang).into(),
        detail: v.message(lang),
    }
}

fn row_view(r: StagedRow, lang: Lang) -> RowView {
    RowView {
        line: r.line as i64,
        error: r.verdict.as_ref().map(|v| row_error(v, lang)),
        product: r.product,
        code: r.code,
        serial: r.serial,
        expiry: r.expiry,
        dropped: r.dropped,
        insert_status: r.insert_status as u8,
        insert_reason: r.insert_reason,
        photo: r.photo_path,
        photo_box: r.photo_box,
        card: None,
    }
}

fn card_view(c: CardReview, lang: Lang) -> CardView {
    CardView {
        needs_review: c.needs_review(),
        note: c.product_match.note(lang),
        reasons: c.reasons,
        review_fields: c
            .review_fields
            .iter()
            .map(|f| f.as_str().to_string())
            .collect(),
        confirmed: c.confirmed.iter().map(|f| f.as_str().to_string()).collect(),
        confidence: (c.confidence.clamp(0.0, 1.0) * 100.0).round() as u8,
        brand: c.brand,
    }
}

/// The rules that need no database, checked on every keystroke of the form: per field, what is
/// wrong. An empty field is not called wrong while it is being typed (Enter still refuses it).
pub fn validate_fields(
    rules: &ProductRules,
    values: &[String; 4],
    today: NaiveDate,
    lang: Lang,
) -> [Option<String>; 4] {
    let mut out: [Option<String>; 4] = Default::default();
    let (_, verdict) = check_line(&raw_of(values), &|p| rules.get(p).copied(), today);
    if let Some(v) = verdict {
        let i = field_index(v.field);
        out[i] = Some(v.message(lang));
    }
    out
}

/// True when the form's only complaint is a field still empty.
pub fn is_missing_only(rules: &ProductRules, values: &[String; 4], today: NaiveDate) -> bool {
    let (_, verdict) = check_line(&raw_of(values), &|p| rules.get(p).copied(), today);
    verdict.is_some_and(|v| v.problem == Problem::MissingField)
}

/// The store's verdict on a typed voucher, duplicates included (in this batch, in staging, in
/// the ledger). `None` when it may be added.
pub fn duplicate_problem(
    db: &Db,
    values: &[String; 4],
    batch: Option<i64>,
    today: NaiveDate,
    lang: Lang,
) -> R<Option<String>> {
    let raw = raw_of(values);
    let (_, verdict) = db
        .with(|st| st.check_manual(batch, &raw, today))
        .map_err(s)?;
    Ok(verdict.map(|v| v.message(lang)))
}

pub fn stage_manual(
    db: &Db,
    batch: Option<i64>,
    user: &str,
    values: &[String; 4],
    today: NaiveDate,
) -> R<i64> {
    let raw = raw_of(values);
    let (id, _) = db
        .with(|st| st.add_manual(batch, user, &raw, today))
        .map_err(s)?;
    Ok(id)
}

pub fn product_rules(db: &Db) -> R<Vec<(String, ProductRule)>> {
    db.with(|st| {
        Ok(st
            .products()?
            .into_iter()
            .filter(|p| p.active)
            .map(|p| (p.code.clone(), p.rule()))
            .collect())
    })
    .map_err(s)
}

/// The whole batch, for the preview. Loaded once per change; the table shows a window of it.
pub fn load_batch(db: &Db, id: i64, lang: Lang, p: &Progress) -> R<BatchView> {
    db.with(|st| {
        let b = st.batch(id)?;
        let total = b.total.max(0) as usize;
        let mut rows = Vec::with_capacity(total);
        let filter = Default::default();
        const CHUNK: usize = 20_000;
        while rows.len() < total {
            let chunk = st.batch_rows(id, &filter, rows.len(), CHUNK)?;
            if chunk.is_empty() {
                break;
            }
            rows.extend(chunk.into_iter().map(|r| row_view(r, lang)));
            p.set(rows.len() as u64, total as u64);
        }
        if b.source == Source::Image {
            // Lines are 1.. in order, so a card's row is found by position when it can be.
            for c in st.card_reviews(id)? {
                let line = c.line as i64;
                let at = match rows.get((line - 1).max(0) as usize) {
                    Some(r) if r.line == line => Some((line - 1) as usize),
                    _ => rows.iter().position(|r| r.line == line),
                };
                if let Some(i) = at {
                    rows[i].card = Some(card_view(c, lang));
                }
            }
        }
        Ok(BatchView {
            id,
            source: b.source.as_str().into(),
            file_name: b.file_name,
            created_by: b.created_by,
            created_at: b.created_at,
            rows,
        })
    })
    .map_err(s)
}

pub fn list_batches(db: &Db) -> R<Vec<BatchSummary>> {
    db.with(|st| {
        Ok(st
            .batches(500)?
            .into_iter()
            .map(|b| BatchSummary {
                id: b.id,
                source: b.source.as_str().into(),
                file_name: b.file_name,
                created_by: b.created_by,
                created_at: b.created_at,
                rows: b.total.max(0) as u64,
                errors: (b.errors + b.rejected).max(0) as u64,
                inserted: b.inserted.max(0) as u64,
            })
            .collect())
    })
    .map_err(s)
}

/// Saves the fields that changed (each goes through the store's re-validation).
pub fn edit_row(
    db: &Db,
    batch: i64,
    line: i64,
    old: &[String; 4],
    values: &[String; 4],
    today: NaiveDate,
) -> R<()> {
    edit_card_row(db, batch, line, old, values, None, today)
}

/// [`edit_row`] for a row that may be a card read off a photo: `confirmed` (Some for cards) are
/// the fields the user marked as checked against the photo; a changed field counts as checked
/// too. The card's review flag clears once every field it flagged is checked.
pub fn edit_card_row(
    db: &Db,
    batch: i64,
    line: i64,
    old: &[String; 4],
    values: &[String; 4],
    confirmed: Option<[bool; 4]>,
    today: NaiveDate,
) -> R<()> {
    db.with(|st| {
        let mut checked = Vec::new();
        for (i, (name, _, _)) in FIELDS.iter().enumerate() {
            let Some(f) = Field::parse(name) else {
                continue;
            };
            if old[i] != values[i] {
                st.edit_row(batch, line as u64, f, &values[i], today)?;
                checked.push(f);
            } else if confirmed.is_some_and(|c| c[i]) {
                checked.push(f);
            }
        }
        if confirmed.is_some() && !checked.is_empty() {
            st.confirm_card_fields(batch, line as u64, &checked)?;
        }
        Ok(())
    })
    .map_err(s)
}

/// The end of a photo import: the new batch (None when no card was read), the per-photo
/// verdicts that were not "ok", and the counts for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotosDone {
    pub batch: Option<i64>,
    pub photos: usize,
    pub cards: usize,
    pub review: usize,
    pub not_read: usize,
    /// (photo file name, what went wrong)
    pub bad: Vec<(String, String)>,
}

/// Reads photos (files or folders) and stages their cards as one batch. Cancel keeps the
/// cards already read.
#[allow(clippy::too_many_arguments)]
pub fn import_photos(
    db: &Db,
    inputs: &[std::path::PathBuf],
    product: Option<&str>,
    user: &str,
    today: NaiveDate,
    lang: Lang,
    ai: Option<&crate::config::AiConfig>,
    p: &Progress,
) -> Result<PhotosDone, ImportFail> {
    let fail = |message: String| ImportFail {
        message,
        need_product: false,
        cancelled: false,
    };
    // `photos/*.jpg` picks files; a folder gives its photos.
    let inputs: Vec<std::path::PathBuf> = inputs
        .iter()
        .flat_map(|p| crate::tui::widgets::path::expand_wildcards(p))
        .collect();
    let paths = crate::ocr::collect_photos(&inputs).map_err(fail)?;
    if paths.is_empty() {
        return Err(fail(
            lang.t(
                "Tidak ada foto di sana: pilih file JPEG/PNG atau folder berisi foto.",
                "No photos there: choose JPEG/PNG files or a folder holding them.",
            )
            .into(),
        ));
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let req = crate::jobs::photos::PhotoRequest {
        photos: &paths,
        product,
        created_by: user,
        today,
        dry_run: false,
        threads,
        ai,
    };
    let name = crate::jobs::photos::batch_name(&inputs, paths.len());
    let mut report = |done: usize, total: usize| p.set(done as u64, total as u64);
    let out = db
        .with(|st| {
            Ok(crate::jobs::photos::import_photos(
                st,
                &req,
                &name,
                p.cancel_flag(),
                &mut report,
                &mut |_| {},
            ))
        })
        .map_err(|e| fail(e.to_string()))?
        .map_err(|e| ImportFail {
            need_product: matches!(e, crate::jobs::photos::PhotoError::UnknownProduct { .. }),
            message: e.message(lang),
            cancelled: false,
        })?;
    if out.stage.is_none() && out.not_read > 0 {
        return Err(ImportFail {
            message: lang
                .t(
                    "Dibatalkan sebelum ada kartu terbaca; tidak ada yang disimpan.",
                    "Cancelled before any card was read; nothing was saved.",
                )
                .into(),
            need_product: false,
            cancelled: true,
        });
    }
    Ok(PhotosDone {
        batch: out.stage.as_ref().and_then(|s| s.batch_id),
        photos: out.photos.len(),
        cards: out.cards.len(),
        review: out.cards.iter().filter(|c| c.needs_review).count(),
        not_read: out.not_read,
        bad: out
            .photos
            .iter()
            .filter(|r| r.verdict != "ok")
            .map(|r| {
                (
                    crate::ocr::file_name(std::path::Path::new(&r.photo)),
                    r.message.clone().unwrap_or_else(|| r.verdict.clone()),
                )
            })
            .collect(),
    })
}

pub fn set_dropped(db: &Db, batch: i64, line: i64, dropped: bool, today: NaiveDate) -> R<()> {
    db.with(|st| st.set_dropped(batch, line as u64, dropped, today))
        .map_err(s)
}

/// Why an import did not make a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFail {
    pub message: String,
    /// The list has no product column: the prompt asks for the product.
    pub need_product: bool,
    /// The user cancelled (Ctrl+X): nothing to fix, the prompt stays closed.
    pub cancelled: bool,
}

/// Reads and stages a list file; returns the new batch id.
pub fn import_file(
    db: &Db,
    path: &Path,
    product: Option<&str>,
    user: &str,
    today: NaiveDate,
    lang: Lang,
    p: &Progress,
) -> Result<i64, ImportFail> {
    let req = intake_job::ImportRequest {
        path,
        product,
        created_by: user,
        today,
        dry_run: false,
    };
    let mut report = |done: usize, total: usize| p.set(done as u64, total as u64);
    let fail = |message: String| ImportFail {
        message,
        need_product: false,
        cancelled: false,
    };
    let outcome = db
        .with(|st| {
            Ok(intake_job::import_file(
                st,
                &req,
                p.cancel_flag(),
                &mut report,
            ))
        })
        .map_err(|e| fail(e.to_string()))?
        .map_err(|e| match e {
            IntakeError::Import(ImportError::NeedProduct) => ImportFail {
                message: lang
                    .t(
                        "Daftar ini tidak punya kolom produk: isi kolom Produk (mis. TSELVD5), lalu Enter.",
                        "This list has no product column: fill in Product (e.g. TSELVD5), then Enter.",
                    )
                    .into(),
                need_product: true,
                cancelled: false,
            },
            other => ImportFail {
                message: other.message(lang),
                need_product: false,
                cancelled: other.is_cancelled(),
            },
        })?;
    outcome.batch_id.ok_or_else(|| {
        fail(
            lang.t("Tidak ada batch yang dibuat.", "No batch was made.")
                .into(),
        )
    })
}

/// The status-bar state of SQL Server, from the adapter's own.
pub fn conn_state(s: crate::otomax::ConnState) -> ConnState {
    match s {
        crate::otomax::ConnState::Disabled => ConnState::Disabled,
        crate::otomax::ConnState::Connecting => ConnState::Connecting,
        crate::otomax::ConnState::Connected => ConnState::Connected,
        crate::otomax::ConnState::Error(m) => ConnState::Error(m),
    }
}

/// Inserts the ready rows of a batch into the ledger: OtoMaX's SQL Server when `otomax.url` is
/// set, else the embedded one. Returns (inserted, rejected). SQL Server's connection state goes
/// to the status bar through `tx` as it changes.
pub fn insert_batch(
    db: &Db,
    batch: i64,
    config: &Config,
    lang: Lang,
    p: &Progress,
    tx: &UnboundedSender<Action>,
) -> R<(u64, u64)> {
    let mut report = |done: usize, total: usize| p.set(done as u64, total as u64);
    if config.otomax.url.trim().is_empty() {
        let c = db
            .with(|st| {
                Ok(intake_job::confirm_embedded(
                    st,
                    batch,
                    &config.shop.user,
                    lang,
                    p.cancel_flag(),
                    &mut report,
                ))
            })
            .map_err(s)?
            .map_err(|e| e.message(lang))?;
        return Ok(((c.inserted + c.already) as u64, c.rejected as u64));
    }
    let _ = tx.send(Action::Conn(Backend::SqlServer, ConnState::Connecting));
    let mut ledger = crate::otomax::OtomaxLedger::new(&config.otomax).map_err(|e| {
        let _ = tx.send(Action::Conn(
            Backend::SqlServer,
            ConnState::Error(e.to_string()),
        ));
        e.to_string()
    })?;
    let res = db
        .with(|st| {
            Ok(intake_job::confirm_to_otomax(
                st,
                &mut ledger,
                config,
                batch,
                &mut report,
            ))
        })
        .map_err(s)?;
    let _ = tx.send(Action::Conn(
        Backend::SqlServer,
        conn_state(ledger.state().get()),
    ));
    let c = res.map_err(|e| {
        let m = e.message(lang);
        if m.contains("staging") || m.contains("staged") {
            m
        } else {
            format!(
                "{m}. {}",
                lang.t(
                    "Batch tetap di staging; konfirmasi lagi (C) setelah diperbaiki.",
                    "The batch stays staged; confirm again (C) once fixed."
                )
            )
        }
    })?;
    Ok(((c.inserted + c.already) as u64, c.rejected as u64))
}

/// Per-product stock: from OtoMaX's SQL Server when configured, else the embedded ledger.
pub fn stock(db: &Db, config: &Config, today: NaiveDate, expiring_days: u32) -> R<Vec<StockRow>> {
    if !config.otomax.url.trim().is_empty() {
        return crate::otomax::stock_rows(config, today).map_err(s);
    }
    db.with(|st| st.stock_by_product(today, expiring_days))
        .map_err(s)
}

/// The Otoplus-style usage check on OtoMaX's database, as search hits.
fn otomax_hits(config: &Config, query: &str) -> R<Vec<Found>> {
    use crate::ledger::{Ledger, Usage};
    let mut l = crate::otomax::OtomaxLedger::new(&config.otomax).map_err(s)?;
    let found = l.voucher_status(query).map_err(s)?;
    Ok(found
        .into_iter()
        .map(|v| Found {
            voucher: VoucherDetail {
                place: "otomax",
                product: v.product,
                code: v.code,
                serial: v.serial,
                expiry: v.expiry.map(|d| d.to_string()).unwrap_or_default(),
                status: match v.usage {
                    Usage::InStock => "stock",
                    Usage::Sold => "sold",
                    Usage::Used => "used",
                }
                .into(),
                batch_id: None,
                line: None,
                created_by: None,
                entry_at: v.entry.map(|d| d.to_string()).unwrap_or_default(),
                sold_at: v.sale.map(|s| {
                    format!(
                        "{} (trx {})",
                        s.at.map(|a| a.to_string()).unwrap_or_default(),
                        s.transaction
                    )
                }),
                used_at: None,
                photo_path: None,
                photo_box: None,
            },
            batch_file: None,
            batch_source: Some("OtoMaX SQL Server".into()),
        })
        .collect())
}

/// One search hit with the batch it came in with.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub voucher: VoucherDetail,
    pub batch_file: Option<String>,
    pub batch_source: Option<String>,
}

/// Finds a voucher by serial or code: on OtoMaX's SQL Server when configured (its usage there),
/// then in the local store (staging, photo).
pub fn find_voucher(db: &Db, config: &Config, query: &str) -> R<Vec<Found>> {
    let mut out = if config.otomax.url.trim().is_empty() {
        Vec::new()
    } else {
        otomax_hits(config, query)?
    };
    let local = db
        .with(|st| {
            let hits = st.find_vouchers(query)?;
            let mut out = Vec::with_capacity(hits.len());
            for v in hits {
                let (file, source) = match v.batch_id {
                    Some(id) => match st.batch(id) {
                        Ok(b) => (b.file_name, Some(b.source.as_str().to_string())),
                        Err(_) => (None, None),
                    },
                    None => (None, None),
                };
                out.push(Found {
                    voucher: v,
                    batch_file: file,
                    batch_source: source,
                });
            }
            Ok(out)
        })
        .map_err(s)?;
    out.extend(local);
    Ok(out)
}
