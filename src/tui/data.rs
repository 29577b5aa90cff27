//! The UI's way to the SQLite store: a small pool of connections to one database file, used
//! only from jobs (never from the UI thread). WAL lets a long insert and the screens' reads
//! run side by side.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::store::{Store, StoreError};

pub struct Db {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
}

impl Db {
    /// Opens the store once (running migrations) so a broken path shows up at start.
    pub fn open(path: &Path) -> Result<Db, StoreError> {
        let first = Store::open(path)?;
        Ok(Db {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![first]),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with a connection from the pool (opening one if all are busy).
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let taken = self.idle.lock().ok().and_then(|mut v| v.pop());
        let mut store = match taken {
            Some(s) => s,
            None => Store::open(&self.path)?,
        };
        let r = f(&mut store);
        if let Ok(mut v) = self.idle.lock() {
            if v.len() < 4 {
                v.push(store);
            }
        }
        r
    }
}
