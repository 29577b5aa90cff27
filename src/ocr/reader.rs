//! The card reader: photo -> cards. Finds each card, deskews and crops it, scales it by the
//! measured character height, reads it with Tesseract, then re-reads the serial, code and expiry
//! lines on their own (single-line mode, digit whitelist, own binarization) and votes.

use std::path::Path;

use image::{imageops, GrayImage};

use super::engine::{Engine, Psm};
use super::parse::{self, CardFields, DigitRunAt, Line};
use super::prep::{self, Photo, RotRect};
use super::{Card, CardBox, PhotoReport};

/// Character height (pixels) the card is scaled to before recognition.
const TARGET_CHAR_H: f32 = 30.0;
/// Word confidence below which a field is flagged.
const MIN_CONF: f32 = 60.0;

/// Reads one photo file. Never panics on bad input: a photo that cannot be read gets a verdict.
pub fn read_photo(engine: &mut Engine, path: &Path) -> PhotoReport {
    let shown = path.display().to_string();
    match prep::load_photo(path) {
        Ok((photo, _)) => read_decoded(engine, &shown, &photo),
        Err(e) => PhotoReport::failed(&shown, &e),
    }
}

/// Reads an already decoded photo.
pub fn read_decoded(engine: &mut Engine, shown: &str, photo: &Photo) -> PhotoReport {
    let gray = prep::to_gray(&photo.rgb);
    let (w, h) = gray.dimensions();
    let mut regions: Vec<RotRect> = prep::find_regions(&photo.rgb)
        .into_iter()
        .filter(|r| r.rect.w >= 60.0 && r.rect.h >= 30.0)
        .map(|r| r.rect)
        .collect();
    let whole = regions.is_empty();
    if whole {
        // no card edge found (a close-up, or a card filling the frame): read the whole photo
        regions.push(RotRect {
            cx: w as f32 / 2.0,
            cy: h as f32 / 2.0,
            w: w as f32,
            h: h as f32,
            angle: 0.0,
        });
    }
    let mut cards = Vec::new();
    for r in &regions {
        if let Some(mut c) = read_card(engine, &gray, r) {
            let s = photo.scale_to_original;
            c.card_box = CardBox::from_rect(&r.scaled(s), photo.original_size);
            cards.push(c);
        }
    }
    PhotoReport::read(shown, cards)
}

struct Attempt {
    fields: CardFields,
    lines: Vec<Line>,
    img: GrayImage,
    score: u32,
}

fn attempt(engine: &mut Engine, gray: &GrayImage, r: &RotRect, turn: u8) -> Option<Attempt> {
    let probe = prep::crop_rotated(gray, r, 1.0, turn);
    let ch = prep::char_height(&probe)?;
    let scale = (TARGET_CHAR_H / ch).clamp(0.4, 4.0);
    let img = if (scale - 1.0).abs() > 0.08 {
        prep::crop_rotated(gray, r, scale, turn)
    } else {
        probe
    };
    let words = engine.words(&img, Psm::Sparse, "");
    let lines = parse::group_lines(words);
    let fields = parse::extract(&lines);
    let score = u32::from(fields.serial.is_some()) * 4
        + u32::from(fields.serial_labelled) * 2
        + u32::from(fields.code.is_some()) * 2
        + u32::from(fields.expiry.is_some()) * 2
        + u32::from(fields.brand.is_some());
    Some(Attempt {
        fields,
        lines,
        img,
        score,
    })
}

fn read_card(engine: &mut Engine, gray: &GrayImage, r: &RotRect) -> Option<Card> {
    let mut best = attempt(engine, gray, r, 0);
    // upside down (or a portrait card turned the wrong way): try the other way round
    if best.as_ref().is_none_or(|a| a.score < 8) {
        if let Some(b) = attempt(engine, gray, r, 2) {
            if best.as_ref().is_none_or(|a| b.score > a.score) {
                best = Some(b);
            }
        }
    }
    let a = best?;
    if a.score == 0 || (a.fields.serial.is_none() && a.fields.code.is_none()) {
        return None;
    }
    Some(finish(engine, &a))
}

/// Re-reads a digit run's words on their own and votes between the readings.
/// Returns the digits, whether the two clean single-line readings agree, and a confidence.
fn confirm_digits(engine: &mut Engine, a: &Attempt, at: &DigitRunAt) -> (String, bool, f32) {
    let line = &a.lines[at.line];
    let ws = &line.words[at.run.first_word..=at.run.last_word];
    let x0 = ws.iter().map(|w| w.x).min().unwrap_or(0);
    let x1 = ws.iter().map(|w| w.x + w.w).max().unwrap_or(0);
    let y0 = ws.iter().map(|w| w.y).min().unwrap_or(0);
    let y1 = ws.iter().map(|w| w.y + w.h).max().unwrap_or(0);
    let first = at.run.digits.clone();
    let mut reads = Vec::new();
    let mut conf = at.run.min_conf;
    for target in [32.0, 24.0] {
        let Some(crop) = line_crop(&a.img, x0, y0, x1, y1, target) else {
            return (first, false, at.run.min_conf);
        };
        let mut bin = prep::binarize(&crop, prep::otsu(&crop));
        prep::clean_specks(&mut bin);
        let words = engine.words(&bin, Psm::Line, "0123456789");
        let digits: String = words
            .iter()
            .flat_map(|w| w.text.chars())
            .filter(|c| c.is_ascii_digit())
            .collect();
        if let Some(m) = words.iter().map(|w| w.conf).reduce(f32::min) {
            conf = conf.min(m.max(0.0));
        }
        reads.push(digits);
    }
    let agree = reads[0] == reads[1];
    reads.push(first.clone());
    let winner = reads
        .iter()
        .max_by_key(|r| {
            (
                reads.iter().filter(|o| o == r).count(),
                usize::from(parse::plausible_len(r.len())),
            )
        })
        .cloned()
        .unwrap_or(first);
    (winner, agree, conf)
}

fn confirm_expiry(engine: &mut Engine, a: &Attempt, line_idx: usize, first: &str) -> bool {
    let line = &a.lines[line_idx];
    let x0 = line.words.iter().map(|w| w.x).min().unwrap_or(0);
    let x1 = line.words.iter().map(|w| w.x + w.w).max().unwrap_or(0);
    let Some(crop) = line_crop(&a.img, x0, line.top(), x1, line.bottom(), 32.0) else {
        return false;
    };
    let bin = prep::binarize(&crop, prep::otsu(&crop));
    let words = engine.words(&bin, Psm::Line, "");
    let text = words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    parse::find_date(&text).as_deref() == Some(first)
}

/// The box around a run of words, padded, scaled so its characters are about `target_h` high.
fn line_crop(
    img: &GrayImage,
    x0: i32,
    y0: i32,
    x1: i32,
    y1: i32,
    target_h: f32,
) -> Option<GrayImage> {
    let (w, h) = img.dimensions();
    let lh = (y1 - y0).max(1);
    let px = lh;
    let py = lh / 3 + 2;
    let cx0 = (x0 - px).max(0) as u32;
    let cy0 = (y0 - py).max(0) as u32;
    let cx1 = ((x1 + px).max(0) as u32).min(w);
    let cy1 = ((y1 + py).max(0) as u32).min(h);
    if cx1 <= cx0 + 4 || cy1 <= cy0 + 4 {
        return None;
    }
    let crop = imageops::crop_imm(img, cx0, cy0, cx1 - cx0, cy1 - cy0).to_image();
    let f = target_h / lh as f32;
    if (f - 1.0).abs() < 0.1 {
        return Some(crop);
    }
    let nw = ((crop.width() as f32 * f).round() as u32).max(1);
    let nh = ((crop.height() as f32 * f).round() as u32).max(1);
    Some(imageops::resize(
        &crop,
        nw,
        nh,
        imageops::FilterType::CatmullRom,
    ))
}

fn finish(engine: &mut Engine, a: &Attempt) -> Card {
    let f = &a.fields;
    let mut reasons: Vec<&'static str> = Vec::new();
    let mut conf = 100.0f32;

    let serial = match &f.serial {
        Some(at) => {
            let (digits, agree, c) = confirm_digits(engine, a, at);
            conf = conf.min(c);
            if !agree {
                reasons.push("serial readings disagree");
            }
            if !parse::plausible_len(digits.len()) {
                reasons.push("serial length unusual");
            }
            Some(digits)
        }
        None => {
            reasons.push("no serial found");
            None
        }
    };
    let code = match &f.code {
        Some(at) => {
            let (digits, agree, c) = confirm_digits(engine, a, at);
            conf = conf.min(c);
            if !agree {
                reasons.push("code readings disagree");
            }
            if !parse::plausible_len(digits.len()) {
                reasons.push("code length unusual");
            }
            Some(digits)
        }
        None => {
            if !f.covered {
                reasons.push("no code found and the panel does not look unscratched");
            }
            None
        }
    };
    if f.code_label_without_code {
        reasons.push("code label without a readable code");
    }
    match (&f.expiry, f.expiry_line) {
        (Some(e), Some(l)) => {
            if !confirm_expiry(engine, a, l, e) {
                reasons.push("expiry readings disagree");
            }
        }
        _ => reasons.push("no expiry found"),
    }
    if f.extra_runs > 0 {
        reasons.push("more digit lines than expected");
    }
    if serial.is_some() && serial == code {
        reasons.push("serial equals code");
    }
    if conf < MIN_CONF {
        reasons.push("low OCR confidence");
    }
    let penalty = 1.0 - 0.15 * reasons.len() as f32;
    let confidence = ((conf / 100.0) * penalty).clamp(0.0, 1.0);
    Card {
        serial,
        code,
        expiry: f.expiry.clone(),
        brand: f.brand.map(str::to_string),
        confidence: (confidence * 1000.0).round() / 1000.0,
        needs_review: !reasons.is_empty(),
        reasons: reasons.into_iter().map(str::to_string).collect(),
        card_box: CardBox::default(),
    }
}
