-- Products, staging of voucher intake, and the embedded voucher ledger.
-- Money is whole rupiah (INTEGER). Dates are ISO text (yyyy-mm-dd), times ISO local time.

CREATE TABLE products (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    operator       TEXT NOT NULL DEFAULT '',
    price          INTEGER NOT NULL DEFAULT 0 CHECK (price >= 0),
    code_len_min   INTEGER NOT NULL DEFAULT 16,
    code_len_max   INTEGER NOT NULL DEFAULT 16,
    serial_len_min INTEGER NOT NULL DEFAULT 12,
    serial_len_max INTEGER NOT NULL DEFAULT 12,
    active         INTEGER NOT NULL DEFAULT 1,
    CHECK (code_len_min <= code_len_max AND serial_len_min <= serial_len_max)
);

-- One import (a file, a form session, a set of photos).
CREATE TABLE staging_batches (
    id         INTEGER PRIMARY KEY,
    source     TEXT NOT NULL CHECK (source IN ('manual', 'csv', 'image', 'ai')),
    file_name  TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status_at  TEXT NOT NULL,
    -- 0 when the list had no expiry column at all (the plain `code | serial` list).
    has_expiry INTEGER NOT NULL DEFAULT 1
);

-- One voucher line of a batch. Values are normalized where they could be, else kept as typed,
-- so the preview shows what was wrong. error_kind is NULL for a valid row.
-- insert_status: 0 new, 1 queued, 2 rejected (insert_reason says why), 3 inserted.
-- id is batch_id * 2^32 + line: the rows of a batch are one range of the table's own b-tree,
-- so staging a big list only appends and needs no second index. Every insert sets it.
CREATE TABLE staging_rows (
    id            INTEGER PRIMARY KEY,
    batch_id      INTEGER NOT NULL REFERENCES staging_batches(id) ON DELETE CASCADE,
    line          INTEGER NOT NULL,
    product       TEXT NOT NULL,
    code          TEXT NOT NULL,
    serial        TEXT NOT NULL,
    expiry        TEXT NOT NULL DEFAULT '',
    error_field   TEXT,
    error_kind    TEXT,
    error_detail  TEXT,
    dropped       INTEGER NOT NULL DEFAULT 0,
    insert_status INTEGER NOT NULL DEFAULT 0 CHECK (insert_status BETWEEN 0 AND 3),
    insert_reason TEXT,
    -- NULL: entered with the batch (staging_batches.created_at); set for typed rows.
    entry_at      TEXT,
    -- NULL until the row's status or values change.
    status_at     TEXT,
    photo_path    TEXT,
    photo_box     TEXT,
    CHECK (line BETWEEN 0 AND 4294967295)
);

-- The embedded ledger: stands in for OtoMaX's voucher table when no SQL Server is configured.
-- status: 0 in stock, 1 sold, 2 used (activated by the customer).
CREATE TABLE vouchers (
    id         INTEGER PRIMARY KEY,
    product    TEXT NOT NULL REFERENCES products(code),
    code       TEXT NOT NULL,
    serial     TEXT NOT NULL,
    expiry     TEXT,
    status     INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),
    batch_id   INTEGER REFERENCES staging_batches(id) ON DELETE SET NULL,
    created_by TEXT,
    entry_at   TEXT NOT NULL,
    sold_at    TEXT,
    used_at    TEXT,
    photo_path TEXT,
    photo_box  TEXT,
    UNIQUE (product, code),
    UNIQUE (product, serial)
);
CREATE INDEX vouchers_code ON vouchers(code);
CREATE INDEX vouchers_serial ON vouchers(serial);
