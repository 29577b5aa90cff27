//! A pool of Tesseract engines, one per worker thread (one per core by default). Photos are
//! handed out one at a time; results come back in input order, so output is deterministic.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use super::engine::{Engine, EngineError};
use super::{find_duplicates, reader, PhotoReport};

/// One engine per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Reads every photo with `threads` engines; `emit` gets each report in input order.
/// A duplicate photo is not read again: it gets a "duplicate" verdict naming the first copy.
pub fn read_batch(
    paths: &[PathBuf],
    threads: usize,
    emit: &mut dyn FnMut(PhotoReport),
) -> Result<(), EngineError> {
    read_batch_cancellable(paths, threads, &AtomicBool::new(false), emit)
}

/// As [`read_batch`], stopping early (after the photos under way) once `cancel` is set.
pub fn read_batch_cancellable(
    paths: &[PathBuf],
    threads: usize,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(PhotoReport),
) -> Result<(), EngineError> {
    let dups = find_duplicates(paths);
    let threads = threads.clamp(1, paths.len().max(1));
    // start one engine first so a missing Tesseract is one clear error, not one per photo
    let first = Engine::new()?;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, PhotoReport)>();
    std::thread::scope(|s| {
        let mut engines = vec![Some(first)];
        engines.resize_with(threads, || None);
        for slot in engines {
            let tx = tx.clone();
            let next = &next;
            let dups = &dups;
            s.spawn(move || {
                let mut engine = match slot {
                    Some(e) => e,
                    None => match Engine::new() {
                        Ok(e) => e,
                        Err(_) => return,
                    },
                };
                loop {
                    if cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(p) = paths.get(i) else { break };
                    let shown = p.display().to_string();
                    let report = match dups[i] {
                        Some(j) => PhotoReport::duplicate(&shown, &paths[j].display().to_string()),
                        None => reader::read_photo(&mut engine, p),
                    };
                    if tx.send((i, report)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut want = 0usize;
        for (i, r) in rx {
            pending.insert(i, r);
            while let Some(r) = pending.remove(&want) {
                emit(r);
                want += 1;
            }
        }
    });
    Ok(())
}
