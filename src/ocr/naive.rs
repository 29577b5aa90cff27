//! The naive baseline the reader is measured against: Tesseract on the whole photo, every run
//! of 12 to 16 digits taken as a serial (no code, no pairing), with Tesseract's default layout
//! analysis, as `tesseract photo.jpg out` would run.

use std::path::Path;

use super::engine::{Engine, Psm};
use super::prep;
use super::{Card, CardBox, PhotoReport};

pub fn read_photo(engine: &mut Engine, path: &Path) -> PhotoReport {
    let shown = path.display().to_string();
    let photo = match prep::load_photo(path) {
        Ok((p, _)) => p,
        Err(e) => return PhotoReport::failed(&shown, &e),
    };
    let gray = prep::to_gray(&photo.rgb);
    let words = engine.words(&gray, Psm::Auto, "");
    let text = words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let mut runs = Vec::new();
    let mut cur = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            cur.push(c);
        } else {
            if (12..=16).contains(&cur.len()) {
                runs.push(cur.clone());
            }
            cur.clear();
        }
    }
    let cards = runs
        .into_iter()
        .map(|serial| Card {
            serial: Some(serial),
            code: None,
            expiry: None,
            brand: None,
            confidence: 0.0,
            needs_review: true,
            reasons: vec!["naive baseline".into()],
            card_box: CardBox::default(),
        })
        .collect();
    PhotoReport::read(&shown, cards)
}
