//! The card reader: photo -> cards. Finds each card, deskews and crops it, scales it by the
//! measured character height, reads it with Tesseract, then re-reads the serial, code and expiry
//! lines on their own (single-line mode, digit whitelist, own binarization) and votes.

use std::path::Path;

use image::GrayImage;

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
    rect: RotRect,
    scale: f32,
    turn: u8,
}

impl Attempt {
    /// The part of the photo under a box of the card image, as its own rotated rectangle, so a
    /// line is sampled once from the photo at the resolution it needs.
    fn sub_rect(&self, x0: i32, y0: i32, x1: i32, y1: i32) -> RotRect {
        let (w, h) = (self.img.width() as f32, self.img.height() as f32);
        let (mut cx, mut cy) = ((x0 + x1) as f32 / 2.0, (y0 + y1) as f32 / 2.0);
        if self.turn == 2 {
            cx = w - cx;
            cy = h - cy;
        }
        let (px, py) = self.rect.to_photo(cx / self.scale, cy / self.scale);
        RotRect {
            cx: px,
            cy: py,
            w: (x1 - x0) as f32 / self.scale,
            h: (y1 - y0) as f32 / self.scale,
            angle: self.rect.angle + if self.turn == 2 { 180.0 } else { 0.0 },
        }
    }
}

fn attempt(engine: &mut Engine, gray: &GrayImage, r: &RotRect, turn: u8) -> Option<Attempt> {
    let probe = prep::crop_rotated(gray, r, 1.0, turn);
    let ch = prep::char_height(&probe)?;
    let scale = (TARGET_CHAR_H / ch).clamp(0.4, 4.0);
    let (img, scale) = if (scale - 1.0).abs() > 0.08 {
        (prep::crop_rotated(gray, r, scale, turn), scale)
    } else {
        (probe, 1.0)
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
        rect: *r,
        scale,
        turn,
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
    Some(finish(engine, gray, &a))
}

/// Re-reads a digit run on its own: the band of its line from the end of any label to the
/// card's right edge, sampled from the photo at two text heights, binarized, cleaned of specks,
/// single-line mode with a digit whitelist. Returns the digits, whether both readings agree,
/// and the lowest word confidence.
fn confirm_digits(
    engine: &mut Engine,
    gray: &GrayImage,
    a: &Attempt,
    at: &DigitRunAt,
) -> (String, bool, f32) {
    let line = &a.lines[at.line];
    let ws = &line.words[at.run.first_word..=at.run.last_word];
    let y0 = ws.iter().map(|w| w.y).min().unwrap_or(0);
    let y1 = ws.iter().map(|w| w.y + w.h).max().unwrap_or(0);
    let lh = (y1 - y0).max(1);
    // from the end of a serial label on this line (or the card's left edge) to the card's
    // right edge, less a small margin where the table may show
    let width = a.img.width() as i32;
    let margin = width / 50 + 2;
    let x0 = match parse::serial_label_words(line).filter(|&n| n > 0 && n <= at.run.first_word) {
        Some(n) => {
            let label = &line.words[n - 1];
            label.x + label.w + 2
        }
        None => margin,
    };
    let x1 = width - margin;
    let band = a.sub_rect(x0, y0 - lh / 3 - 2, x1, y1 + lh / 3 + 2);
    let h_photo = lh as f32 / a.scale;
    let first = at.run.digits.clone();
    let mut reads = Vec::new();
    let mut confs = Vec::new();
    for (target, variant) in [(36.0f32, 0u8), (28.0, 0), (36.0, 1)] {
        let crop = prep::crop_rotated(gray, &band, target / h_photo, 0);
        let img = if variant == 1 {
            let mut bin = prep::binarize(&crop, prep::otsu(&crop));
            prep::clean_specks(&mut bin);
            bin
        } else {
            crop
        };
        let words = engine.words(&img, Psm::Line, "0123456789");
        let digits: String = words
            .iter()
            .flat_map(|w| w.text.chars())
            .filter(|c| c.is_ascii_digit())
            .collect();
        confs.push(words.iter().map(|w| w.conf).fold(100.0f32, f32::min));
        reads.push(digits);
    }
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
    let votes = reads.iter().filter(|r| **r == winner).count();
    // digits that reach the card's edge may go on beyond it
    let last = ws.last().map(|w| w.x + w.w).unwrap_or(0);
    let first_x = ws.first().map(|w| w.x).unwrap_or(0);
    let at_edge = last > width - margin - 2 * lh || first_x < margin + lh / 4;
    // Tesseract reports 0 for many long whitelisted words, so its word confidence only counts
    // when it is positive; otherwise the share of agreeing readings is the confidence
    let share = 100.0 * votes as f32 / reads.len() as f32;
    let conf = confs
        .iter()
        .copied()
        .filter(|c| *c > 0.0)
        .fold(share, f32::min);
    (winner, votes == reads.len() && !at_edge, conf)
}

fn confirm_expiry(
    engine: &mut Engine,
    gray: &GrayImage,
    a: &Attempt,
    line_idx: usize,
    first: &str,
) -> bool {
    let line = &a.lines[line_idx];
    let x0 = line.words.iter().map(|w| w.x).min().unwrap_or(0);
    let x1 = line.words.iter().map(|w| w.x + w.w).max().unwrap_or(0);
    let lh = line.height().max(1);
    let band = a.sub_rect(
        x0 - lh,
        line.top() - lh / 3 - 2,
        x1 + lh,
        line.bottom() + lh / 3 + 2,
    );
    let crop = prep::crop_rotated(gray, &band, 36.0 / (lh as f32 / a.scale), 0);
    let bin = prep::binarize(&crop, prep::otsu(&crop));
    let words = engine.words(&bin, Psm::Line, "");
    let text = words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    parse::find_date(&text).as_deref() == Some(first)
}

fn finish(engine: &mut Engine, gray: &GrayImage, a: &Attempt) -> Card {
    let f = &a.fields;
    let mut reasons: Vec<&'static str> = Vec::new();
    let mut conf = 100.0f32;

    let serial = match &f.serial {
        Some(at) => {
            let (digits, agree, c) = confirm_digits(engine, gray, a, at);
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
            let (digits, agree, c) = confirm_digits(engine, gray, a, at);
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
            if !confirm_expiry(engine, gray, a, l, e) {
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
    if conf > 0.0 && conf < MIN_CONF {
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
