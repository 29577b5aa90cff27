//! Voucher photos into staging, as a job shared by `konter import photos` and F2's "add
//! photos": read every photo (a pool of Tesseract engines), turn each card into a staging line
//! (product from its brand, or the one given), and stage them as one batch with source 'image'.
//!
//! A photo that cannot be read (not an image, cut short, no card, a duplicate) gets its verdict
//! and the others go on. Cancel stops reading after the photos under way; the cards already
//! read are staged (nothing read is lost), and the outcome says how many photos were left.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;

use crate::domain::card::{map_product, ProductMatch, ProductRef};
use crate::domain::voucher::RawVoucher;
use crate::i18n::Lang;
use crate::ocr::PhotoReport;
use crate::store::intake::{NewBatch, Product, Source, StageOutcome};
use crate::store::photos::CardLine;
use crate::store::{Store, StoreError};

pub struct PhotoRequest<'a> {
    /// Photo files (folders already expanded by [`crate::ocr::collect_photos`]).
    pub photos: &'a [PathBuf],
    /// Stage every card under this product instead of mapping its brand.
    pub product: Option<&'a str>,
    pub created_by: &'a str,
    pub today: NaiveDate,
    pub dry_run: bool,
    /// Tesseract engines (one per core by default).
    pub threads: usize,
    /// Also ask this AI model (`[ocr.ai]`) and merge its reading into each photo's cards
    /// ([`crate::ocr::ai`]); None: OCR only.
    pub ai: Option<&'a crate::config::AiConfig>,
}

#[derive(Debug)]
pub struct PhotoOutcome {
    /// Every photo read, in input order, with its verdict.
    pub photos: Vec<PhotoReport>,
    /// The staged lines, line i+1 being `cards[i]`.
    pub cards: Vec<CardLine>,
    /// None when no card was read (or the run was cancelled before one was).
    pub stage: Option<StageOutcome>,
    /// Photos not read because of a cancel.
    pub not_read: usize,
}

#[derive(Debug)]
pub enum PhotoError {
    /// `--product` names no active product.
    UnknownProduct {
        given: String,
        known: Vec<String>,
    },
    /// No Tesseract, or this build has no OCR.
    Ocr(String),
    Store(StoreError),
}

impl PhotoError {
    pub fn message(&self, lang: Lang) -> String {
        match self {
            PhotoError::UnknownProduct { given, known } => match lang {
                Lang::Id => format!(
                    "produk {given} tidak dikenal atau tidak aktif; pilih salah satu: {}",
                    known.join(", ")
                ),
                Lang::En => format!(
                    "product {given} is unknown or inactive; pick one of: {}",
                    known.join(", ")
                ),
            },
            PhotoError::Ocr(m) => m.clone(),
            PhotoError::Store(e) => e.to_string(),
        }
    }
}

impl std::fmt::Display for PhotoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for PhotoError {}

impl From<StoreError> for PhotoError {
    fn from(e: StoreError) -> Self {
        PhotoError::Store(e)
    }
}

/// The product every card of a run is staged under: the one given (checked), or None to map
/// each card's brand.
pub fn check_override(
    products: &[Product],
    given: Option<&str>,
) -> Result<Option<String>, PhotoError> {
    let Some(g) = given
        .map(|g| g.trim().to_uppercase())
        .filter(|g| !g.is_empty())
    else {
        return Ok(None);
    };
    if products.iter().any(|p| p.active && p.code == g) {
        return Ok(Some(g));
    }
    Err(PhotoError::UnknownProduct {
        given: g,
        known: products
            .iter()
            .filter(|p| p.active)
            .map(|p| p.code.clone())
            .collect(),
    })
}

/// A stored path for a photo: absolute, so F3 and `photo find` open it from anywhere.
pub fn stored_path(p: &Path) -> String {
    std::fs::canonicalize(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// The staging lines of the cards in `reports` (photos with no card add none).
pub fn card_lines(
    reports: &[PhotoReport],
    paths: &[PathBuf],
    products: &[Product],
    product: Option<&str>,
) -> Vec<CardLine> {
    let refs: Vec<ProductRef> = products
        .iter()
        .map(|p| ProductRef {
            code: &p.code,
            name: &p.name,
            operator: &p.operator,
            active: p.active,
        })
        .collect();
    let mut out = Vec::new();
    for (i, r) in reports.iter().enumerate() {
        let path = paths
            .get(i)
            .map(|p| stored_path(p))
            .unwrap_or_else(|| r.photo.clone());
        for c in &r.cards {
            let m = match product {
                Some(p) => ProductMatch::Override {
                    product: p.to_string(),
                },
                // The reader gives no denomination yet; the mapping takes one when it does.
                None => map_product(c.brand.as_deref(), None, &refs),
            };
            out.push(CardLine {
                raw: RawVoucher {
                    product: Some(m.staged_product()),
                    code: Some(c.code.clone().unwrap_or_default()),
                    serial: Some(c.serial.clone().unwrap_or_default()),
                    expiry: Some(c.expiry.clone().unwrap_or_default()),
                },
                photo_path: path.clone(),
                photo_box: c.card_box.to_db(),
                brand: c.brand.clone(),
                confidence: c.confidence,
                needs_review: c.needs_review,
                reasons: c.reasons.clone(),
                product_match: m,
            });
        }
    }
    out
}

/// The batch's name: the one photo or folder given, else the count.
pub fn batch_name(inputs: &[PathBuf], photos: usize) -> String {
    match inputs {
        [one] => crate::ocr::file_name(one),
        _ => format!("{photos} foto"),
    }
}

/// Stages the cards of already-read photos (the second half of [`import_photos`]).
pub fn stage_reports(
    store: &mut Store,
    req: &PhotoRequest,
    batch_name: &str,
    reports: Vec<PhotoReport>,
    not_read: usize,
) -> Result<PhotoOutcome, PhotoError> {
    let products = store.products()?;
    let product = check_override(&products, req.product)?;
    let cards = card_lines(&reports, req.photos, &products, product.as_deref());
    let stage = if cards.is_empty() {
        None
    } else {
        let batch = NewBatch {
            source: Source::Image,
            file_name: Some(batch_name),
            created_by: req.created_by,
            has_expiry: true,
        };
        Some(store.stage_cards(
            &batch,
            &cards,
            req.today,
            req.dry_run,
            &AtomicBool::new(false),
        )?)
    };
    Ok(PhotoOutcome {
        photos: reports,
        cards,
        stage,
        not_read,
    })
}

/// Reads the photos and stages their cards. `progress` gets (photos done, photos); `on_photo`
/// each photo's report as it is read, in input order.
#[cfg(feature = "ocr")]
pub fn import_photos(
    store: &mut Store,
    req: &PhotoRequest,
    batch_name: &str,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
    on_photo: &mut dyn FnMut(&PhotoReport),
) -> Result<PhotoOutcome, PhotoError> {
    // A wrong --product is said before minutes of reading, not after.
    let products = store.products()?;
    check_override(&products, req.product)?;
    let rules = crate::ocr::ai::Rules::from_products(&products);
    let total = req.photos.len();
    let mut reports = Vec::with_capacity(total);
    progress(0, total);
    crate::ocr::pool::read_batch_cancellable(req.photos, req.threads, cancel, &mut |mut r| {
        if let Some(cfg) = req.ai {
            crate::ocr::ai::merge_report(&mut r, cfg, &rules);
        }
        on_photo(&r);
        reports.push(r);
        progress(reports.len(), total);
    })
    .map_err(|e| PhotoError::Ocr(e.to_string()))?;
    let not_read = if cancel.load(std::sync::atomic::Ordering::Relaxed) {
        total - reports.len()
    } else {
        0
    };
    stage_reports(store, req, batch_name, reports, not_read)
}

/// Without the `ocr` feature photos cannot be read: a clear error, nothing else.
#[cfg(not(feature = "ocr"))]
pub fn import_photos(
    _store: &mut Store,
    _req: &PhotoRequest,
    _batch_name: &str,
    _cancel: &AtomicBool,
    _progress: &mut dyn FnMut(usize, usize),
    _on_photo: &mut dyn FnMut(&PhotoReport),
) -> Result<PhotoOutcome, PhotoError> {
    Err(PhotoError::Ocr(NO_OCR.into()))
}

/// What a build without Tesseract says when asked to read photos.
pub const NO_OCR: &str = "this konter was built without OCR (cargo feature `ocr`); rebuild with \
                          default features and Tesseract installed (make deps) to read voucher photos";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::{Card, CardBox};
    use rust_decimal::Decimal;

    fn product(code: &str, name: &str, op: &str) -> Product {
        Product {
            code: code.into(),
            name: name.into(),
            operator: op.into(),
            price: Decimal::from(10_000),
            code_len: (14, 16),
            serial_len: (12, 16),
            active: true,
        }
    }

    fn card(brand: Option<&str>, code: Option<&str>) -> Card {
        Card {
            serial: Some("123456789012".into()),
            code: code.map(str::to_string),
            expiry: None,
            brand: brand.map(str::to_string),
            confidence: 0.9,
            needs_review: false,
            reasons: vec![],
            card_box: CardBox {
                x: 1,
                y: 2,
                w: 3,
                h: 4,
                angle: 0.5,
            },
        }
    }

    #[test]
    fn cards_become_lines_with_mapped_or_placeholder_products() {
        let products = vec![
            product("XLVD5", "XL Data 5GB", "XL"),
            product("TSELVD5", "Telkomsel Data 5GB", "TSEL"),
            product("TSELVD10", "Telkomsel Data 10GB", "TSEL"),
        ];
        let reports = vec![
            PhotoReport::read(
                "a.jpg",
                vec![
                    card(Some("XL"), Some("12345678901234")),
                    card(Some("TELKOMSEL"), None),
                ],
            ),
            PhotoReport::failed("b.jpg", &"not an image"),
            PhotoReport::read("c.jpg", vec![card(Some("SMARTFREN"), Some("1"))]),
        ];
        let paths: Vec<PathBuf> = ["a.jpg", "b.jpg", "c.jpg"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let lines = card_lines(&reports, &paths, &products, None);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].raw.product.as_deref(), Some("XLVD5"));
        assert_eq!(lines[0].photo_box, "1,2,3,4,0.5");
        assert!(lines[0].photo_path.ends_with("a.jpg"));
        // Telkomsel has two products: a placeholder, and the choice spelled out.
        assert_eq!(lines[1].raw.product.as_deref(), Some("TELKOMSEL?"));
        assert!(matches!(
            lines[1].product_match,
            ProductMatch::Ambiguous { .. }
        ));
        // An unscratched panel (no code) stays empty: the row says the code is missing.
        assert_eq!(lines[1].raw.code.as_deref(), Some(""));
        assert_eq!(lines[2].raw.product.as_deref(), Some("SMARTFREN?"));
        assert!(lines[2].photo_path.ends_with("c.jpg"));
        let given = card_lines(&reports, &paths, &products, Some("TSELVD10"));
        assert!(given
            .iter()
            .all(|l| l.raw.product.as_deref() == Some("TSELVD10")));
    }

    #[test]
    fn a_wrong_override_names_the_products() {
        let products = vec![product("XLVD5", "XL Data 5GB", "XL")];
        assert_eq!(
            check_override(&products, Some(" xlvd5 "))
                .unwrap()
                .as_deref(),
            Some("XLVD5")
        );
        assert_eq!(check_override(&products, None).unwrap(), None);
        let e = check_override(&products, Some("NOPE")).unwrap_err();
        assert!(e.message(Lang::En).contains("XLVD5"), "{e}");
    }

    #[test]
    fn staging_unmapped_cards_gives_unknown_product() {
        let mut s = Store::open_in_memory().unwrap();
        s.upsert_product(&product("XLVD5", "XL Data 5GB", "XL"))
            .unwrap();
        let paths = vec![PathBuf::from("a.jpg")];
        let req = PhotoRequest {
            photos: &paths,
            product: None,
            created_by: "kasir1",
            today: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            dry_run: false,
            threads: 1,
            ai: None,
        };
        let mut c = card(Some("AXIS"), Some("12345678901234"));
        c.expiry = Some("2028-01-01".into());
        let mut ok = card(Some("XL"), Some("22345678901234"));
        ok.serial = Some("223456789012".into());
        ok.expiry = Some("2028-01-01".into());
        let out = stage_reports(
            &mut s,
            &req,
            "a.jpg",
            vec![PhotoReport::read("a.jpg", vec![c, ok])],
            0,
        )
        .unwrap();
        let st = out.stage.unwrap();
        assert_eq!(st.accepted, 1);
        let v = st.results[0].verdict.as_ref().unwrap();
        assert_eq!(v.problem, crate::domain::voucher::Problem::UnknownProduct);
        assert!(v.message(Lang::En).contains("AXIS?"));
    }
}
