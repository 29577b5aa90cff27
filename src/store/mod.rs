//! The SQLite store: one file in the data dir, WAL, a busy timeout, foreign keys, migrations.
//!
//! The store is synchronous (rusqlite); async callers use it from `spawn_blocking` or a job
//! thread. Each area keeps its queries in its own file next to this one.

pub mod confirm;
pub mod hotspot;
pub mod intake;
pub mod ledger;
pub mod migrations;
pub mod photos;
pub mod static_insert;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

pub use rusqlite;

#[derive(Debug)]
pub enum StoreError {
    Open(PathBuf, String),
    Sql(rusqlite::Error),
    Invalid(String),
    /// The lines being staged could not be read; the reader's own error inside.
    Input(Box<dyn std::error::Error + Send + Sync>),
    /// There were no lines to stage.
    NothingToStage,
    Cancelled,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Open(p, e) => write!(
                f,
                "cannot open the database {}: {e}; check the data dir (KONTER_DATA_DIR) and its permissions",
                p.display()
            ),
            StoreError::Sql(e) => write!(f, "database error: {e}"),
            StoreError::Invalid(e) => write!(f, "{e}"),
            StoreError::Input(e) => write!(f, "{e}"),
            StoreError::NothingToStage => write!(f, "there are no voucher lines to stage"),
            StoreError::Cancelled => write!(f, "cancelled; nothing was saved"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sql(e)
    }
}

impl From<rusqlite::types::FromSqlError> for StoreError {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        StoreError::Sql(e.into())
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Open(path.to_path_buf(), e.to_string()))?;
            }
        }
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Open(path.to_path_buf(), e.to_string()))?;
        Self::setup(conn, path.to_path_buf())
    }

    /// Opens an existing database for reading only: no migrations, no writes. With WAL it reads
    /// while another process (the TUI) writes. A missing file is an error, not a new store.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        use rusqlite::OpenFlags;
        if !path.is_file() {
            return Err(StoreError::Open(
                path.to_path_buf(),
                "no database there yet; run `konter init` first".into(),
            ));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Open(path.to_path_buf(), e.to_string()))?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.execute_batch("PRAGMA query_only = ON; PRAGMA temp_store = MEMORY;")?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// A private in-memory store, for tests and dry runs.
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        Self::setup(conn, PathBuf::from(":memory:"))
    }

    fn setup(mut conn: Connection, path: PathBuf) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // journal_mode answers with a row, so it is queried rather than updated. Switching a
        // new file to WAL needs a moment alone with it, and SQLite answers BUSY at once (without
        // the busy timeout) when another connection opens it at the same time: retry briefly.
        let mut tries = 0;
        let _mode: String = loop {
            match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 100 =>
                {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other?,
            }
        };
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             PRAGMA synchronous = NORMAL;
             PRAGMA temp_store = MEMORY;",
        )?;
        migrations::run(&mut conn)
            .map_err(|e| StoreError::Open(path.clone(), format!("migration failed: {e}")))?;
        Ok(Store { conn, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// Local time as stored in the database.
pub fn now_text() -> String {
    chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_uses_wal_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("sub/konter.db")).unwrap();
        let mode: String = s
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = s
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }

    /// The TUI, its jobs and a second konter process may open a new store at the same moment:
    /// every one of them opens it, and each migration runs once.
    #[test]
    fn many_open_a_new_store_at_once() {
        for round in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join(format!("konter{round}.db"));
            let start = std::sync::Barrier::new(6);
            std::thread::scope(|sc| {
                for _ in 0..6 {
                    sc.spawn(|| {
                        start.wait();
                        Store::open(&p).unwrap();
                    });
                }
            });
            let s = Store::open(&p).unwrap();
            let n: i64 = s
                .conn()
                .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n as usize, migrations::MIGRATIONS.len());
        }
    }

    #[test]
    fn reopening_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("konter.db");
        {
            let s = Store::open(&p).unwrap();
            s.conn()
                .execute("INSERT INTO products(code, name) VALUES ('X1', 'Test')", [])
                .unwrap();
        }
        let s = Store::open(&p).unwrap();
        let n: i64 = s
            .conn()
            .query_row("SELECT count(*) FROM products", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn unopenable_path_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("afile");
        std::fs::write(&file, "x").unwrap();
        let err = Store::open(&file.join("konter.db")).err().unwrap();
        assert!(err.to_string().contains("KONTER_DATA_DIR"), "{err}");
    }
}
