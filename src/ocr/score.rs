//! Scores card readings against a truth file (`truth.json` of gen_voucher_photos.py), with the
//! same rules as /work/shared/tools/score_vouchers.py: digits only are compared; a pair is a
//! true card whose serial and code (or no code) are both on one predicted card; auto-accepted
//! cards are those not flagged `needs_review`, exactly right when serial, code and expiry match.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::Card;

#[derive(Debug, Clone, Deserialize)]
pub struct TrueCard {
    pub serial: String,
    pub code: Option<String>,
    pub expiry: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TruePhoto {
    pub cards: Vec<TrueCard>,
}

/// Photo file name -> its true cards.
pub type Truth = HashMap<String, TruePhoto>;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    pub cards: usize,
    pub pairs: f64,
    pub serial_recall: f64,
    pub serial_precision: f64,
    pub code_recall: f64,
    /// cards not flagged, as a share of the true cards
    pub auto_share: f64,
    /// of the cards not flagged, the share exactly right
    pub auto_ok: f64,
}

fn digits(s: Option<&str>) -> Option<String> {
    let d: String = s?.chars().filter(char::is_ascii_digit).collect();
    (!d.is_empty()).then_some(d)
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Scores `pred` (photo file name -> predicted cards) against `truth`.
pub fn score(truth: &Truth, pred: &HashMap<String, Vec<Card>>) -> Score {
    let (mut st, mut sp, mut sf) = (0, 0, 0);
    let (mut ct, mut cf) = (0, 0);
    let (mut pairs, mut total) = (0, 0);
    let (mut auto_ok, mut auto_n) = (0, 0);
    let none = Vec::new();
    for (name, t) in truth {
        let cards = pred.get(name).unwrap_or(&none);
        let pser: HashMap<String, &Card> = cards
            .iter()
            .filter_map(|c| Some((digits(c.serial.as_deref())?, c)))
            .collect();
        let pcodes: HashSet<String> = cards
            .iter()
            .filter_map(|c| digits(c.code.as_deref()))
            .collect();
        sp += pser.len();
        let tmap: HashMap<&str, &TrueCard> =
            t.cards.iter().map(|c| (c.serial.as_str(), c)).collect();
        for c in cards.iter().filter(|c| !c.needs_review) {
            auto_n += 1;
            let right = digits(c.serial.as_deref())
                .and_then(|s| tmap.get(s.as_str()).copied())
                .is_some_and(|tc| digits(c.code.as_deref()) == tc.code && c.expiry == tc.expiry);
            auto_ok += usize::from(right);
        }
        for c in &t.cards {
            total += 1;
            sf += 1;
            let p = pser.get(&c.serial);
            st += usize::from(p.is_some());
            if let Some(code) = &c.code {
                cf += 1;
                ct += usize::from(pcodes.contains(code));
            }
            if let Some(p) = p {
                if digits(p.code.as_deref()) == c.code {
                    pairs += 1;
                }
            }
        }
    }
    Score {
        cards: total,
        pairs: ratio(pairs, total),
        serial_recall: ratio(st, sf),
        serial_precision: ratio(st, sp),
        code_recall: ratio(ct, cf),
        auto_share: ratio(auto_n, total),
        auto_ok: ratio(auto_ok, auto_n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::CardBox;

    fn card(serial: &str, code: Option<&str>, review: bool) -> Card {
        Card {
            serial: Some(serial.into()),
            code: code.map(str::to_string),
            expiry: Some("2027-01-31".into()),
            brand: None,
            confidence: 0.9,
            needs_review: review,
            reasons: Vec::new(),
            card_box: CardBox::default(),
        }
    }

    #[test]
    fn pairs_precision_and_auto_ok_follow_the_scorer() {
        let truth: Truth = serde_json::from_str(
            r#"{"a.jpg": {"cards": [
                {"serial": "1111222233334444", "code": "5555666677778888", "expiry": "2027-01-31"},
                {"serial": "999988887777", "code": null, "expiry": "2027-01-31"}]}}"#,
        )
        .unwrap();
        let pred = HashMap::from([(
            "a.jpg".to_string(),
            vec![
                card("1111 2222 3333 4444", Some("5555-6666-7777-8888"), false),
                card("999988887777", Some("123"), false),
                card("000000000000", None, true),
            ],
        )]);
        let s = score(&truth, &pred);
        assert_eq!(s.cards, 2);
        assert!((s.pairs - 0.5).abs() < 1e-9);
        assert!((s.serial_recall - 1.0).abs() < 1e-9);
        assert!((s.serial_precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((s.auto_share - 1.0).abs() < 1e-9);
        assert!((s.auto_ok - 0.5).abs() < 1e-9);
    }
}
