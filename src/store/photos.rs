//! Cards read off voucher photos, staged as a batch with source 'image': one staging row per
//! card, checked by exactly the rules of a CSV line ([`Store::stage_lines`]), with its photo and
//! box on the row and the card's review data (confidence, reasons, brand, how the product was
//! chosen, which fields the user has confirmed) in `staging_cards`.

use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::intake::{attach_photo, NewBatch, StageOutcome};
use super::{Result, Store, StoreError};
use crate::domain::card::{
    fields_from_text, fields_to_text, review_fields, still_needs_review, ProductMatch,
};
use crate::domain::voucher::{Field, RawVoucher};

/// One card to stage.
#[derive(Debug, Clone, PartialEq)]
pub struct CardLine {
    /// Product (mapped, given, or a placeholder), code, serial, expiry as read ("" when not).
    pub raw: RawVoucher,
    pub photo_path: String,
    /// "x,y,w,h,angle" in the photo's own pixels.
    pub photo_box: String,
    pub brand: Option<String>,
    pub confidence: f32,
    pub needs_review: bool,
    pub reasons: Vec<String>,
    pub product_match: ProductMatch,
}

/// A staged card's review data, as the preview shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardReview {
    pub line: u64,
    pub brand: Option<String>,
    pub confidence: f32,
    /// Flagged when read.
    pub flagged: bool,
    pub reasons: Vec<String>,
    pub review_fields: Vec<Field>,
    pub confirmed: Vec<Field>,
    pub product_match: ProductMatch,
    pub photo_path: Option<String>,
    pub photo_box: Option<String>,
}

impl CardReview {
    /// Flagged when read, and some flagged field is not confirmed yet.
    pub fn needs_review(&self) -> bool {
        still_needs_review(self.flagged, &self.review_fields, &self.confirmed)
    }
}

impl Store {
    /// Stages cards as one batch (source 'image'). Lines are numbered 1.. in card order. A dry
    /// run gives the same verdicts and keeps nothing. Staging is all or nothing: the rows, their
    /// photos and their review data are written in one transaction.
    pub fn stage_cards(
        &mut self,
        batch: &NewBatch,
        cards: &[CardLine],
        today: NaiveDate,
        dry_run: bool,
        cancel: &AtomicBool,
    ) -> Result<StageOutcome> {
        let lines = cards
            .iter()
            .enumerate()
            .map(|(i, c)| Ok((i as u64 + 1, c.raw.clone())));
        self.stage_stream_with(
            batch,
            lines,
            cards.len(),
            today,
            dry_run,
            cancel,
            &mut |_, _| {},
            &mut |tx, batch_id| attach_cards(tx, batch_id, cards),
        )
    }

    /// The review data of every card of a batch, in line order (empty for a batch not read
    /// from photos).
    pub fn card_reviews(&self, batch_id: i64) -> Result<Vec<CardReview>> {
        let mut st = self.conn().prepare_cached(
            "SELECT c.row_id & 4294967295, c.brand, c.confidence, c.needs_review, c.reasons,
                    c.review_fields, c.confirmed, c.product_match, p.photo_path, p.photo_box
             FROM staging_cards c LEFT JOIN staging_photos p ON p.row_id = c.row_id
             WHERE c.row_id BETWEEN (?1 << 32) AND (?1 << 32) + 4294967295
             ORDER BY c.row_id",
        )?;
        let rows = st.query_map([batch_id], |r| {
            let reasons: String = r.get(4)?;
            let pm: String = r.get(7)?;
            Ok(CardReview {
                line: r.get(0)?,
                brand: r.get(1)?,
                confidence: r.get::<_, f64>(2)? as f32,
                flagged: r.get(3)?,
                reasons: reasons
                    .split("; ")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                review_fields: fields_from_text(&r.get::<_, String>(5)?),
                confirmed: fields_from_text(&r.get::<_, String>(6)?),
                product_match: serde_json::from_str(&pm).unwrap_or(ProductMatch::NoBrand),
                photo_path: r.get(8)?,
                photo_box: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records that the user checked these fields of a card against its photo. Returns whether
    /// the card still needs review.
    pub fn confirm_card_fields(&self, batch_id: i64, line: u64, fields: &[Field]) -> Result<bool> {
        let row: Option<(bool, String, String)> = self
            .conn()
            .query_row(
                "SELECT needs_review, review_fields, confirmed FROM staging_cards
                 WHERE row_id = (?1 << 32) + ?2",
                params![batch_id, line],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((flagged, review, confirmed)) = row else {
            return Err(StoreError::Invalid(format!(
                "line {line} of batch #{batch_id} was not read from a photo"
            )));
        };
        let mut done = fields_from_text(&confirmed);
        done.extend_from_slice(fields);
        let text = fields_to_text(&done);
        let still = still_needs_review(
            flagged,
            &fields_from_text(&review),
            &fields_from_text(&text),
        );
        self.conn().execute(
            "UPDATE staging_cards SET confirmed = ?3, cleared = ?4 WHERE row_id = (?1 << 32) + ?2",
            params![batch_id, line, text, !still],
        )?;
        Ok(still)
    }
}

/// The photo and review data of each staged card (line i+1 is cards[i]).
fn attach_cards(tx: &rusqlite::Transaction, batch_id: i64, cards: &[CardLine]) -> Result<()> {
    {
        let mut card = tx.prepare_cached(
            "INSERT INTO staging_cards(row_id, brand, confidence, needs_review, reasons,
                                       review_fields, product_match)
             VALUES ((?1 << 32) + ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (i, c) in cards.iter().enumerate() {
            let line = i as i64 + 1;
            attach_photo(
                tx,
                batch_id,
                line as u64,
                &c.photo_path,
                Some(c.photo_box.as_str()),
            )?;
            let fields = if c.needs_review {
                fields_to_text(&review_fields(&c.reasons))
            } else {
                String::new()
            };
            card.execute(params![
                batch_id,
                line,
                c.brand,
                f64::from(c.confidence),
                c.needs_review,
                c.reasons.join("; "),
                fields,
                serde_json::to_string(&c.product_match).unwrap_or_else(|_| "{}".into()),
            ])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::intake::{Product, Source};
    use rust_decimal::Decimal;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn store() -> Store {
        let s = Store::open_in_memory().unwrap();
        s.upsert_product(&Product {
            code: "XLVD5".into(),
            name: "XL Data 5GB".into(),
            operator: "XL".into(),
            price: Decimal::from(24_000),
            code_len: (14, 16),
            serial_len: (12, 16),
            active: true,
        })
        .unwrap();
        s
    }

    fn card(code: &str, serial: &str, review: &[&str]) -> CardLine {
        CardLine {
            raw: RawVoucher {
                product: Some("XLVD5".into()),
                code: Some(code.into()),
                serial: Some(serial.into()),
                expiry: Some("2028-01-31".into()),
            },
            photo_path: "/photos/a.jpg".into(),
            photo_box: "10,20,300,200,1.5".into(),
            brand: Some("XL".into()),
            confidence: 0.8,
            needs_review: !review.is_empty(),
            reasons: review.iter().map(|s| s.to_string()).collect(),
            product_match: ProductMatch::Mapped {
                product: "XLVD5".into(),
            },
        }
    }

    fn batch() -> NewBatch<'static> {
        NewBatch {
            source: Source::Image,
            file_name: Some("a.jpg"),
            created_by: "kasir1",
            has_expiry: true,
        }
    }

    #[test]
    fn cards_are_staged_with_photo_box_and_review_data() {
        let mut s = store();
        let cards = vec![
            card("12345678901234", "123456789012", &[]),
            card(
                "12345678901234",
                "999999999999",
                &["serial readings disagree"],
            ),
        ];
        let out = s
            .stage_cards(&batch(), &cards, today(), false, &AtomicBool::new(false))
            .unwrap();
        let id = out.batch_id.unwrap();
        // The same rules as a CSV line: the second card repeats the first one's code.
        assert_eq!(out.accepted, 1);
        assert_eq!(
            out.results[1].verdict.as_ref().unwrap().problem,
            crate::domain::voucher::Problem::DuplicateInFile
        );
        let row = s.staged_row(id, 1).unwrap();
        assert_eq!(row.photo_path.as_deref(), Some("/photos/a.jpg"));
        assert_eq!(row.photo_box.as_deref(), Some("10,20,300,200,1.5"));
        let reviews = s.card_reviews(id).unwrap();
        assert_eq!(reviews.len(), 2);
        assert!(!reviews[0].needs_review());
        assert!(reviews[1].needs_review());
        assert_eq!(reviews[1].review_fields, vec![Field::Serial]);
        assert_eq!(s.batch(id).unwrap().source, Source::Image);
        // Confirming another field does not clear it; confirming the serial does.
        assert!(s.confirm_card_fields(id, 2, &[Field::Code]).unwrap());
        assert!(!s.confirm_card_fields(id, 2, &[Field::Serial]).unwrap());
        assert!(!s.card_reviews(id).unwrap()[1].needs_review());
    }

    /// Rows, photos and review data are one transaction: when the review data cannot be
    /// written (here a confidence that is not a number, which SQLite stores as NULL), no batch
    /// and no row is left behind.
    #[test]
    fn a_card_that_cannot_be_recorded_leaves_no_batch() {
        let mut s = store();
        let count = |s: &Store, t: &str| -> i64 {
            s.conn()
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .unwrap()
        };
        let before = (count(&s, "staging_batches"), count(&s, "staging_rows"));
        let mut bad = card("12345678901234", "123456789012", &[]);
        bad.confidence = f32::NAN;
        let err = s
            .stage_cards(&batch(), &[bad], today(), false, &AtomicBool::new(false))
            .unwrap_err();
        assert!(err.to_string().contains("NOT NULL"), "{err}");
        assert_eq!(
            (count(&s, "staging_batches"), count(&s, "staging_rows")),
            before
        );
        assert_eq!(count(&s, "staging_photos"), 0);
    }

    #[test]
    fn dry_run_keeps_nothing_and_a_plain_row_has_no_card() {
        let mut s = store();
        let out = s
            .stage_cards(
                &batch(),
                &[card("12345678901234", "123456789012", &[])],
                today(),
                true,
                &AtomicBool::new(false),
            )
            .unwrap();
        assert!(out.batch_id.is_none());
        assert!(s.batches(10).unwrap().is_empty());
        let n: i64 = s
            .conn()
            .query_row("SELECT count(*) FROM staging_cards", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        assert!(s.confirm_card_fields(1, 1, &[Field::Code]).is_err());
    }

    #[test]
    fn a_card_to_review_stays_staged_on_confirm_until_checked() {
        let mut s = store();
        let cards = vec![
            card("12345678901234", "123456789012", &[]),
            card(
                "22345678901234",
                "223456789012",
                &["code readings disagree"],
            ),
        ];
        let id = s
            .stage_cards(&batch(), &cards, today(), false, &AtomicBool::new(false))
            .unwrap()
            .batch_id
            .unwrap();
        let go = |s: &mut Store| {
            s.confirm_to_ledger(id, "kasir1", &AtomicBool::new(false), &mut |_, _| {})
                .unwrap()
        };
        assert_eq!(go(&mut s).inserted, 1, "only the clean card");
        assert_eq!(s.staged_row(id, 2).unwrap().insert_status, 0);
        s.confirm_card_fields(id, 2, &[Field::Code]).unwrap();
        assert_eq!(go(&mut s).inserted, 1, "checked: now it goes");
        assert_eq!(s.staged_row(id, 2).unwrap().insert_status, 3);
    }

    #[test]
    fn confirm_keeps_photo_and_box_in_the_ledger() {
        let mut s = store();
        let out = s
            .stage_cards(
                &batch(),
                &[card("12345678901234", "123456789012", &[])],
                today(),
                false,
                &AtomicBool::new(false),
            )
            .unwrap();
        let id = out.batch_id.unwrap();
        let c = s
            .confirm_to_ledger(id, "kasir1", &AtomicBool::new(false), &mut |_, _| {})
            .unwrap();
        assert_eq!(c.inserted, 1);
        let found = s.find_vouchers("123456789012").unwrap();
        let ledger = found.iter().find(|v| v.place == "ledger").unwrap();
        assert_eq!(ledger.photo_path.as_deref(), Some("/photos/a.jpg"));
        assert_eq!(ledger.photo_box.as_deref(), Some("10,20,300,200,1.5"));
    }
}
