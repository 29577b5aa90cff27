//! Voucher photos: find every card in a photo, read its serial, scratch code, expiry and brand,
//! and say how sure the reading is.
//!
//! `prep` (image work) and `parse` (text rules) are pure and always built; the Tesseract parts
//! (`engine`, `reader`, `pool`, `naive`) need the cargo feature `ocr` (on by default).

pub mod ai;
pub mod digits;
pub mod find;
pub mod import;
pub mod parse;
pub mod prep;
pub mod score;

#[cfg(feature = "ocr")]
pub mod engine;
#[cfg(feature = "ocr")]
pub mod naive;
#[cfg(feature = "ocr")]
pub mod pool;
#[cfg(feature = "ocr")]
pub mod reader;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde::Serialize;

use crate::cli::{CmdResult, Ctx, UserError};

/// Where a card lies in the original photo: axis-aligned bounds plus the card's own rotation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CardBox {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// degrees the card is turned in the photo
    pub angle: f32,
}

impl CardBox {
    pub fn from_rect(r: &prep::RotRect, (iw, ih): (u32, u32)) -> CardBox {
        let (x, y, w, h) = r.bounds(iw, ih);
        CardBox {
            x,
            y,
            w,
            h,
            angle: (r.angle * 10.0).round() / 10.0,
        }
    }

    /// "x,y,w,h,angle", as stored next to a voucher.
    pub fn to_db(&self) -> String {
        format!("{},{},{},{},{}", self.x, self.y, self.w, self.h, self.angle)
    }
}

/// One card read from a photo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card {
    pub serial: Option<String>,
    pub code: Option<String>,
    pub expiry: Option<String>,
    pub brand: Option<String>,
    pub confidence: f32,
    pub needs_review: bool,
    /// why the card needs review (empty when it does not)
    pub reasons: Vec<String>,
    #[serde(rename = "box")]
    pub card_box: CardBox,
}

/// The verdict for one photo of a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoReport {
    pub photo: String,
    pub cards: Vec<Card>,
    /// "ok", "no_card", "duplicate" or "error"
    pub verdict: String,
    /// what went wrong and what to do, for every verdict but "ok"
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl PhotoReport {
    pub fn failed(photo: &str, e: &dyn std::fmt::Display) -> PhotoReport {
        PhotoReport {
            photo: photo.to_string(),
            cards: Vec::new(),
            verdict: "error".into(),
            message: Some(e.to_string()),
        }
    }

    pub fn read(photo: &str, cards: Vec<Card>) -> PhotoReport {
        let none = cards.is_empty();
        PhotoReport {
            photo: photo.to_string(),
            cards,
            verdict: if none { "no_card" } else { "ok" }.into(),
            message: none.then(|| {
                "no voucher card could be read in this photo; photograph the cards flat, \
                 front side up, filling most of the frame"
                    .to_string()
            }),
        }
    }

    pub fn duplicate(photo: &str, of: &str) -> PhotoReport {
        PhotoReport {
            photo: photo.to_string(),
            cards: Vec::new(),
            verdict: "duplicate".into(),
            message: Some(format!(
                "same file content as {of}; its cards are read there only"
            )),
        }
    }
}

/// Image file extensions picked up when a folder is given.
pub const PHOTO_EXTS: [&str; 7] = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"];

/// Expands folders into their image files (sorted); files are kept as given, whatever they are,
/// so a wrong file gets its own verdict instead of vanishing.
pub fn collect_photos(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("cannot list folder {}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.is_file()
                        && f.extension()
                            .and_then(|e| e.to_str())
                            .is_some_and(|e| PHOTO_EXTS.contains(&e.to_ascii_lowercase().as_str()))
                })
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// For each input, the index of an earlier input with the same bytes (duplicate photos).
pub fn find_duplicates(paths: &[PathBuf]) -> Vec<Option<usize>> {
    let mut seen: HashMap<(u64, u64), usize> = HashMap::new();
    paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let bytes = std::fs::read(p).ok()?;
            let mut h = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut h);
            let key = (h.finish(), bytes.len() as u64);
            match seen.get(&key) {
                Some(&j) if std::fs::read(&paths[j]).ok().as_deref() == Some(&bytes[..]) => Some(j),
                Some(_) => None,
                None => {
                    seen.insert(key, i);
                    None
                }
            }
        })
        .collect()
}

#[derive(Debug, Subcommand)]
pub enum OcrCommand {
    /// Read voucher cards in photos: one JSON line per photo with its cards.
    Vouchers {
        /// Photo files or folders of photos.
        #[arg(required = true)]
        photos: Vec<PathBuf>,
        /// Worker threads (one Tesseract engine each); default: one per core.
        #[arg(long)]
        threads: Option<usize>,
        /// Also ask the AI model of [ocr.ai] (OpenAI-compatible) and merge its reading
        /// (on without this flag when [ocr.ai] enabled = true).
        #[arg(long)]
        ai: bool,
    },
}

pub fn run(ctx: &Ctx, cmd: OcrCommand) -> CmdResult {
    match cmd {
        OcrCommand::Vouchers {
            photos,
            threads,
            ai,
        } => vouchers(ctx, &photos, threads, ai || ctx.config.ocr.ai.enabled),
    }
}

#[cfg(not(feature = "ocr"))]
fn vouchers(_ctx: &Ctx, _photos: &[PathBuf], _threads: Option<usize>, _ai: bool) -> CmdResult {
    Err(Box::new(UserError(
        "this konter was built without OCR (cargo feature `ocr`); rebuild with default features \
         and Tesseract installed (make deps) to read voucher photos"
            .into(),
    )))
}

#[cfg(feature = "ocr")]
fn vouchers(ctx: &Ctx, photos: &[PathBuf], threads: Option<usize>, use_ai: bool) -> CmdResult {
    let paths = collect_photos(photos).map_err(UserError)?;
    if paths.is_empty() {
        return Err(Box::new(UserError(
            "no photos found; give JPEG/PNG files or a folder holding them".into(),
        )));
    }
    let threads = threads.unwrap_or_else(pool::default_threads);
    let mut bad = 0usize;
    let mut total_cards = 0usize;
    let mut review = 0usize;
    // The shop's product length rules judge the model's numbers (generic ones without a store).
    let rules = if use_ai {
        ctx.open_store()
            .and_then(|s| s.products())
            .map(|p| ai::Rules::from_products(&p))
            .unwrap_or_default()
    } else {
        ai::Rules::default()
    };
    pool::read_batch(&paths, threads, &mut |mut report: PhotoReport| {
        if report.verdict == "error" {
            bad += 1;
        }
        let ai_note = if use_ai {
            ai::merge_report(&mut report, &ctx.config.ocr.ai, &rules)
        } else {
            None
        };
        total_cards += report.cards.len();
        review += report.cards.iter().filter(|c| c.needs_review).count();
        if ctx.json {
            let mut v = serde_json::to_value(&report).unwrap_or_default();
            if let Some(note) = &ai_note {
                v["ai"] = serde_json::json!({"used": note.is_none(), "note": note});
            }
            ctx.emit(&v);
        } else {
            print_human(ctx, &report);
            if let Some(Some(note)) = &ai_note {
                println!("  AI: {note}");
            }
        }
    })
    .map_err(|e| UserError(e.to_string()))?;
    if !ctx.json {
        let lang = ctx.lang();
        println!(
            "{}: {} {}, {} {}, {} {}",
            lang.t("Selesai", "Done"),
            paths.len(),
            lang.t("foto", "photos"),
            total_cards,
            lang.t("kartu", "cards"),
            review,
            lang.t("perlu dicek", "need review")
        );
    }
    Ok(if bad > 0 { 2 } else { 0 })
}

#[cfg(feature = "ocr")]
fn print_human(ctx: &Ctx, r: &PhotoReport) {
    let lang = ctx.lang();
    match &r.message {
        Some(m) => println!("{}: {} ({m})", r.photo, r.verdict),
        None => println!(
            "{}: {} {}",
            r.photo,
            r.cards.len(),
            lang.t("kartu", "cards")
        ),
    }
    for c in &r.cards {
        println!(
            "  SN {:<20} {} {:<20} exp {:<10} {:<10} {:.2}{}",
            c.serial.as_deref().unwrap_or("-"),
            lang.t("kode", "code"),
            c.code.as_deref().unwrap_or("-"),
            c.expiry.as_deref().unwrap_or("-"),
            c.brand.as_deref().unwrap_or("-"),
            c.confidence,
            if c.needs_review {
                format!(
                    "  [{}: {}]",
                    lang.t("cek", "review"),
                    reasons_text(&c.reasons, lang)
                )
            } else {
                String::new()
            }
        );
    }
}

/// The photo's file name, as the scorer and the staging rows refer to it.
pub fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_expand_to_images_and_files_stay() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.jpg"), b"x").unwrap();
        std::fs::write(dir.path().join("a.PNG"), b"y").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"z").unwrap();
        let txt = dir.path().join("notes.txt");
        let got = collect_photos(&[dir.path().to_path_buf(), txt.clone()]).unwrap();
        let names: Vec<String> = got.iter().map(|p| file_name(p)).collect();
        assert_eq!(names, ["a.PNG", "b.jpg", "notes.txt"]);
    }

    #[test]
    fn duplicates_point_at_the_first_copy() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jpg");
        let b = dir.path().join("b.jpg");
        let c = dir.path().join("c.jpg");
        std::fs::write(&a, b"same bytes").unwrap();
        std::fs::write(&b, b"other").unwrap();
        std::fs::write(&c, b"same bytes").unwrap();
        assert_eq!(find_duplicates(&[a, b, c]), vec![None, None, Some(0)]);
    }

    #[test]
    fn box_is_stored_as_text() {
        let b = CardBox {
            x: 1,
            y: 2,
            w: 3,
            h: 4,
            angle: -2.5,
        };
        assert_eq!(b.to_db(), "1,2,3,4,-2.5");
    }
}

/// The review reason of a serial the card's edge cuts, before the digits that show (no "; ": the
/// store keeps a card's reasons joined by it).
pub const SERIAL_CUT: &str = "serial runs off the card's edge, digits seen ";

/// The review reason of a serial that ends so close to the card's edge that more of it may be
/// past the edge (see `reader::may_go_on`), before the digits that show.
pub const SERIAL_MAY_GO_ON: &str = "serial may go on past the card's edge, digits seen ";

/// A card's review reasons in the user's language, joined.
pub fn reasons_text(reasons: &[String], lang: crate::i18n::Lang) -> String {
    reasons
        .iter()
        .map(|r| reason_text(r, lang))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A review reason as the cashier reads it. Reasons are stored and printed (`--json`) in English,
/// the reader's own words, which the review marks are derived from; the screens show them in the
/// user's language. A reason not known here is shown as it is.
pub fn reason_text(reason: &str, lang: crate::i18n::Lang) -> String {
    const ID: &[(&str, &str)] = &[
        ("a code digit is uncertain", "satu angka kode kurang pasti"),
        ("a serial digit is uncertain", "satu angka SN kurang pasti"),
        (
            "a code digit looks like another digit",
            "satu angka kode mirip angka lain",
        ),
        (
            "a serial digit looks like another digit",
            "satu angka SN mirip angka lain",
        ),
        ("code reaches the card's edge", "kode sampai ke tepi kartu"),
        ("serial reaches the card's edge", "SN sampai ke tepi kartu"),
        ("code readings disagree", "bacaan kode tidak sama"),
        ("serial readings disagree", "bacaan SN tidak sama"),
        ("code uncertain", "kode kurang pasti"),
        (
            "serial digits are unevenly spaced",
            "jarak angka SN tidak rata",
        ),
        (
            "code digits are unevenly spaced",
            "jarak angka kode tidak rata",
        ),
        ("serial uncertain", "SN kurang pasti"),
        (
            "serial found only by its place on the card",
            "SN hanya ditemukan dari letaknya di kartu",
        ),
        (
            "code found only by a re-read under its label",
            "kode hanya terbaca ulang di bawah labelnya",
        ),
        (
            "code label without a readable code",
            "ada label kode tetapi kodenya tak terbaca",
        ),
        ("code length unusual", "panjang kode tidak biasa"),
        ("serial length unusual", "panjang SN tidak biasa"),
        (
            "expiry readings disagree",
            "bacaan tanggal berlaku tidak sama",
        ),
        ("low OCR confidence", "keyakinan OCR rendah"),
        (
            "more digit lines than expected",
            "baris angka lebih banyak dari biasanya",
        ),
        ("no brand found", "merek tidak terbaca"),
        (
            "no code found and the panel does not look unscratched",
            "kode tidak terbaca, padahal panel tampak sudah digosok",
        ),
        ("no expiry found", "tanggal berlaku tidak terbaca"),
        ("no serial found", "SN tidak terbaca"),
        ("serial equals code", "SN sama dengan kode"),
        (
            "card read by the AI model only; find it on the photo",
            "kartu hanya terbaca oleh model AI; cari di foto",
        ),
    ];
    match lang {
        crate::i18n::Lang::En => reason.to_string(),
        crate::i18n::Lang::Id if reason.starts_with(SERIAL_CUT) => format!(
            "SN terpotong tepi kartu, angka terlihat {}",
            &reason[SERIAL_CUT.len()..]
        ),
        crate::i18n::Lang::Id if reason.starts_with(SERIAL_MAY_GO_ON) => format!(
            "SN mungkin lewat tepi kartu, angka terlihat {}",
            &reason[SERIAL_MAY_GO_ON.len()..]
        ),
        crate::i18n::Lang::Id => ID
            .iter()
            .find(|(en, _)| *en == reason)
            .map(|(_, id)| id.to_string())
            .unwrap_or_else(|| reason.to_string()),
    }
}

#[cfg(test)]
mod reason_tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn review_reasons_are_shown_in_indonesian_and_unknown_ones_as_they_are() {
        assert_eq!(
            reason_text("no brand found", Lang::Id),
            "merek tidak terbaca"
        );
        assert_eq!(reason_text("no brand found", Lang::En), "no brand found");
        assert_eq!(
            reason_text(
                "serial runs off the card's edge, digits seen 757432088034",
                Lang::Id
            ),
            "SN terpotong tepi kartu, angka terlihat 757432088034"
        );
        assert_eq!(
            reason_text(&format!("{SERIAL_MAY_GO_ON}384995115116"), Lang::Id),
            "SN mungkin lewat tepi kartu, angka terlihat 384995115116"
        );
        // the field the review mark goes to is read from the English reason
        assert!(SERIAL_MAY_GO_ON.starts_with("serial "));
        assert_eq!(
            reason_text("code: OCR read 1, AI read 2", Lang::Id),
            "code: OCR read 1, AI read 2"
        );
    }
}
