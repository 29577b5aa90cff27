-- A narrower staging row, so staging a big list costs little more than a bare insert:
-- * batch_id and line are no longer stored: the id already holds them (batch_id * 2^32 + line).
--   They stay readable as virtual columns, so queries keep their names.
-- * No foreign key or CHECK on the row: only konter's store code writes staging rows, and it
--   derives the id from an existing batch. Each of these cost a lookup or an expression per row.
-- * A card's photo (rows from photos only) moves to the side table staging_photos.

CREATE TABLE staging_rows_v2 (
    id            INTEGER PRIMARY KEY,
    product       TEXT NOT NULL,
    code          TEXT NOT NULL,
    serial        TEXT NOT NULL,
    expiry        TEXT NOT NULL DEFAULT '',
    -- NULL for a valid row.
    error_field   TEXT,
    error_kind    TEXT,
    error_detail  TEXT,
    dropped       INTEGER NOT NULL DEFAULT 0,
    -- 0 new, 1 queued, 2 rejected (insert_reason says why), 3 inserted.
    insert_status INTEGER NOT NULL DEFAULT 0,
    insert_reason TEXT,
    -- NULL: entered with the batch (staging_batches.created_at); set for typed rows.
    entry_at      TEXT,
    -- NULL until the row's status or values change.
    status_at     TEXT,
    batch_id      INTEGER GENERATED ALWAYS AS (id >> 32) VIRTUAL,
    line          INTEGER GENERATED ALWAYS AS (id & 4294967295) VIRTUAL
);

INSERT INTO staging_rows_v2(id, product, code, serial, expiry, error_field, error_kind,
                            error_detail, dropped, insert_status, insert_reason, entry_at,
                            status_at)
SELECT id, product, code, serial, expiry, error_field, error_kind, error_detail, dropped,
       insert_status, insert_reason, entry_at, status_at
FROM staging_rows;

CREATE TABLE staging_photos_moved AS
SELECT id AS row_id, photo_path, photo_box FROM staging_rows WHERE photo_path IS NOT NULL;

DROP TABLE staging_rows;
ALTER TABLE staging_rows_v2 RENAME TO staging_rows;

-- The photo a staged card was read from, and the card's box in it (x,y,w,h in pixels).
CREATE TABLE staging_photos (
    row_id     INTEGER PRIMARY KEY REFERENCES staging_rows(id) ON DELETE CASCADE,
    photo_path TEXT NOT NULL,
    photo_box  TEXT
);
INSERT INTO staging_photos(row_id, photo_path, photo_box)
SELECT row_id, photo_path, photo_box FROM staging_photos_moved;
DROP TABLE staging_photos_moved;
