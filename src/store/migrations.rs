//! Versioned schema migrations.
//!
//! Each migration has a unique, never-reused name with a numeric prefix. Applied names are kept in
//! `schema_migrations`, so migrations from different areas (intake, hotspot, OCR, ...) can be added
//! independently; they run in list order, each in its own transaction. `PRAGMA user_version`
//! mirrors the count, for tools that only look at that.
//!
//! Number ranges by area, so parallel work never collides:
//! 0001-0099 store/intake, 0100-0199 otomax, 0200-0299 hotspot, 0300-0399 ocr/photos,
//! 0400-0499 pos, 0500-0599 invoices, 0600-0699 dashboard.

use rusqlite::{Connection, OptionalExtension};

pub struct Migration {
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "0001_intake",
        sql: include_str!("sql/0001_intake.sql"),
    },
    Migration {
        name: "0220_hotspot",
        sql: include_str!("sql/0220_hotspot.sql"),
    },
    Migration {
        name: "0300_staging_cards",
        sql: include_str!("sql/0300_staging_cards.sql"),
    },
];

pub fn run(conn: &mut Connection) -> rusqlite::Result<usize> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             name TEXT PRIMARY KEY,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S','now','localtime'))
         )",
    )?;
    let mut applied = 0;
    for m in MIGRATIONS {
        let done: Option<i64> = conn
            .query_row(
                "SELECT 1 FROM schema_migrations WHERE name = ?1",
                [m.name],
                |r| r.get(0),
            )
            .optional()?;
        if done.is_some() {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(m.sql)?;
        tx.execute("INSERT INTO schema_migrations(name) VALUES (?1)", [m.name])?;
        tx.commit()?;
        applied += 1;
    }
    let count: i64 = conn.query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))?;
    conn.pragma_update(None, "user_version", count)?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_numbered() {
        let mut names: Vec<&str> = MIGRATIONS.iter().map(|m| m.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), MIGRATIONS.len());
        for n in names {
            assert!(n[..4].chars().all(|c| c.is_ascii_digit()), "{n}");
        }
    }

    #[test]
    fn migrations_run_once() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(run(&mut c).unwrap(), MIGRATIONS.len());
        assert_eq!(run(&mut c).unwrap(), 0);
        let v: i64 = c
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, MIGRATIONS.len());
    }
}
