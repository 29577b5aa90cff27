-- Hotspot: the router's users and active sessions as last synced, konter's login history and
-- events, the Mikhmon sales records (live_sales), sync state, and generated voucher batches.
-- Money is whole rupiah (INTEGER); dates yyyy-mm-dd; times ISO local text.

-- One row per router user, as of the last sync. removed_at is set when the user is gone from the
-- router (rows are kept: a sale must never lose its user).
CREATE TABLE hotspot_users (
    name          TEXT PRIMARY KEY,
    router_id     TEXT NOT NULL DEFAULT '',
    profile       TEXT NOT NULL DEFAULT '',
    comment       TEXT NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0,
    limit_uptime  TEXT NOT NULL DEFAULT '',
    uptime_s      INTEGER NOT NULL DEFAULT 0,
    bytes_in      INTEGER NOT NULL DEFAULT 0,
    bytes_out     INTEGER NOT NULL DEFAULT 0,
    blok          TEXT,
    synced_at     TEXT NOT NULL,
    removed_at    TEXT
);
CREATE INDEX hotspot_users_blok ON hotspot_users(blok);

-- /ip/hotspot/active as of the last sync. login_at is fixed when the session is first seen.
CREATE TABLE hotspot_active (
    router_id  TEXT PRIMARY KEY,
    username   TEXT NOT NULL,
    address    TEXT NOT NULL DEFAULT '',
    mac        TEXT NOT NULL DEFAULT '',
    uptime_s   INTEGER NOT NULL DEFAULT 0,
    bytes      INTEGER NOT NULL DEFAULT 0,
    login_at   TEXT NOT NULL,
    seen_at    TEXT NOT NULL
);
CREATE INDEX hotspot_active_user ON hotspot_active(username);

-- Per user, what konter knows beyond the router (WartelPas login_history).
CREATE TABLE login_history (
    username        TEXT PRIMARY KEY,
    blok_name       TEXT,
    profile         TEXT NOT NULL DEFAULT '',
    raw_comment     TEXT NOT NULL DEFAULT '',
    price           INTEGER NOT NULL DEFAULT 0,
    validity        TEXT NOT NULL DEFAULT '',
    first_ip        TEXT NOT NULL DEFAULT '',
    last_ip         TEXT NOT NULL DEFAULT '',
    first_mac       TEXT NOT NULL DEFAULT '',
    last_mac        TEXT NOT NULL DEFAULT '',
    last_uptime_s   INTEGER NOT NULL DEFAULT 0,
    last_bytes      INTEGER NOT NULL DEFAULT 0,
    first_login_at  TEXT,
    last_login_at   TEXT,
    last_logout_at  TEXT,
    last_status     TEXT CHECK (last_status IN ('ready','online','terpakai','rusak','retur','invalid')),
    login_count     INTEGER NOT NULL DEFAULT 0,
    auto_rusak      INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL
);

-- One row per login; a relogin is every row after a user's first.
CREATE TABLE login_events (
    id           INTEGER PRIMARY KEY,
    username     TEXT NOT NULL,
    date_key     TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    login_time   TEXT NOT NULL,
    logout_time  TEXT,
    ip           TEXT NOT NULL DEFAULT '',
    mac          TEXT NOT NULL DEFAULT '',
    uptime_s     INTEGER NOT NULL DEFAULT 0,
    bytes        INTEGER NOT NULL DEFAULT 0,
    session_id   TEXT,
    UNIQUE (username, date_key, login_time)
);
CREATE INDEX login_events_user ON login_events(username);

-- Mikhmon sales records from /system/script (comment=mikhmon), deduplicated: one per
-- username + sale_date (an unreadable date is ''), and an identical record once.
CREATE TABLE live_sales (
    id              INTEGER PRIMARY KEY,
    raw_date        TEXT NOT NULL,
    raw_time        TEXT NOT NULL,
    sale_date       TEXT NOT NULL,
    sale_time       TEXT NOT NULL,
    username        TEXT NOT NULL,
    profile         TEXT NOT NULL DEFAULT '',
    price           INTEGER NOT NULL DEFAULT 0 CHECK (price >= 0),
    validity        TEXT NOT NULL DEFAULT '',
    comment         TEXT NOT NULL DEFAULT '',
    blok_name       TEXT NOT NULL,
    ip              TEXT NOT NULL DEFAULT '',
    mac             TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'normal' CHECK (status IN ('normal','rusak','retur','invalid')),
    is_rusak        INTEGER NOT NULL DEFAULT 0,
    is_retur        INTEGER NOT NULL DEFAULT 0,
    is_invalid      INTEGER NOT NULL DEFAULT 0,
    qty             INTEGER NOT NULL DEFAULT 1,
    full_raw_data   TEXT NOT NULL UNIQUE,
    sync_status     TEXT NOT NULL DEFAULT 'pending' CHECK (sync_status IN ('pending','final')),
    synced_at       TEXT NOT NULL,
    UNIQUE (username, sale_date)
);
CREATE INDEX live_sales_date ON live_sales(sale_date, blok_name);

-- Sales records konter has read (also the skipped ones), so a later sync only parses new ones.
CREATE TABLE hotspot_scripts_seen (
    router_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (router_id, name)
);

-- One row per router (addr): when it was last synced and how it went.
CREATE TABLE hotspot_sync_state (
    router        TEXT PRIMARY KEY,
    last_sync_at  TEXT,
    last_ok_at    TEXT,
    users         INTEGER NOT NULL DEFAULT 0,
    active        INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    runs          INTEGER NOT NULL DEFAULT 0
);

-- A generate request. Its rows are written BEFORE anything is sent to the router, so an
-- interrupted batch can be reconciled: state planned -> created | failed, or missing after a
-- reconcile found it absent on the router.
CREATE TABLE hotspot_batches (
    id           INTEGER PRIMARY KEY,
    router       TEXT NOT NULL,
    profile      TEXT NOT NULL,
    blok         TEXT NOT NULL,
    mode         TEXT NOT NULL CHECK (mode IN ('vc','up')),
    comment      TEXT NOT NULL,
    count        INTEGER NOT NULL CHECK (count > 0),
    status       TEXT NOT NULL CHECK (status IN ('creating','done','interrupted','reconciled')),
    error        TEXT,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE hotspot_vouchers (
    id            INTEGER PRIMARY KEY,
    batch_id      INTEGER NOT NULL REFERENCES hotspot_batches(id),
    seq           INTEGER NOT NULL,
    name          TEXT NOT NULL,
    password      TEXT NOT NULL,
    profile       TEXT NOT NULL,
    limit_uptime  TEXT,
    comment       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('planned','created','failed','missing')),
    router_id     TEXT,
    error         TEXT,
    updated_at    TEXT NOT NULL,
    UNIQUE (batch_id, seq),
    UNIQUE (name, batch_id)
);
CREATE INDEX hotspot_vouchers_name ON hotspot_vouchers(name);
