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
        name: "0002_staging_narrow",
        sql: include_str!("sql/0002_staging_narrow.sql"),
    },
    Migration {
        name: "0220_hotspot",
        sql: include_str!("sql/0220_hotspot.sql"),
    },
    Migration {
        name: "0300_staging_cards",
        sql: include_str!("sql/0300_staging_cards.sql"),
    },
    Migration {
        name: "0350_photo_numbers",
        sql: include_str!("sql/0350_photo_numbers.sql"),
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
        let is_done = |c: &Connection| -> rusqlite::Result<bool> {
            Ok(c.query_row(
                "SELECT 1 FROM schema_migrations WHERE name = ?1",
                [m.name],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .is_some())
        };
        if is_done(conn)? {
            continue;
        }
        // Immediate: the write lock is taken first (waiting for the busy timeout), then the
        // check is repeated, so two processes opening a new store at once run each migration
        // exactly once instead of one of them failing half-way.
        let tx = rusqlite::Transaction::new(conn, rusqlite::TransactionBehavior::Immediate)?;
        if is_done(&tx)? {
            continue;
        }
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

    /// A store made before 0002 keeps every staged row, its batch and line, and its photo.
    #[test]
    fn narrowing_staging_keeps_rows_and_photos() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        c.execute_batch(include_str!("sql/0001_intake.sql"))
            .unwrap();
        c.execute_batch(
            "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT '');
             INSERT INTO schema_migrations(name) VALUES ('0001_intake');
             INSERT INTO staging_batches(id, source, created_by, created_at, status_at)
             VALUES (3, 'image', 't', 'x', 'x');
             INSERT INTO staging_rows(id, batch_id, line, product, code, serial, expiry,
                                      error_field, error_kind, dropped, insert_status,
                                      photo_path, photo_box)
             VALUES ((3 << 32) + 1, 3, 1, 'XLVD5', '1111222233334444', '111122223333', '',
                     NULL, NULL, 0, 3, 'a.jpg', '1,2,3,4'),
                    ((3 << 32) + 2, 3, 2, 'XLVD5', '12AB', '111122223334', '',
                     'code', 'not_digits', 1, 0, NULL, NULL);",
        )
        .unwrap();
        run(&mut c).unwrap();
        let rows: Vec<(i64, i64, String, Option<String>, i64, i64)> = c
            .prepare(
                "SELECT batch_id, line, code, error_kind, dropped, insert_status
                 FROM staging_rows ORDER BY id",
            )
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            rows,
            vec![
                (3, 1, "1111222233334444".into(), None, 0, 3),
                (3, 2, "12AB".into(), Some("not_digits".into()), 1, 0),
            ]
        );
        let photo: (i64, String, String) = c
            .query_row(
                "SELECT row_id, photo_path, photo_box FROM staging_photos",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(photo, ((3 << 32) + 1, "a.jpg".into(), "1,2,3,4".into()));
        let fk: i64 = c
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(fk, 0);
    }
}
