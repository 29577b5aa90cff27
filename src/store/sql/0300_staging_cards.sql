-- Cards read off voucher photos: the review data of a staged row whose batch came from photos
-- (source 'image'). One row per staged card; the photo path and box live with the staging row.
CREATE TABLE staging_cards (
    row_id       INTEGER PRIMARY KEY REFERENCES staging_rows(id) ON DELETE CASCADE,
    -- the brand printed on the card, as read (NULL: not read)
    brand        TEXT,
    -- 0..1, the reader's own confidence
    confidence   REAL NOT NULL,
    -- as read: 1 when anything about the card was uncertain
    needs_review INTEGER NOT NULL,
    -- why, '; '-separated
    reasons      TEXT NOT NULL DEFAULT '',
    -- the fields the reasons point at ("code,serial,expiry")
    review_fields TEXT NOT NULL DEFAULT '',
    -- the fields the user has confirmed against the photo since
    confirmed    TEXT NOT NULL DEFAULT '',
    -- 1 once every flagged field is confirmed: the card may go into stock
    cleared      INTEGER NOT NULL DEFAULT 0,
    -- how the product was chosen (JSON of domain::card::ProductMatch)
    product_match TEXT NOT NULL DEFAULT '{}'
);
