//! Voucher intake as jobs: a list file into staging, a staged batch into the ledger.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;

use crate::domain::voucher::RawVoucher;
use crate::i18n::Lang;
use crate::import::{self, ImportError};
use crate::store::intake::{ConfirmOutcome, NewBatch, Source, StageOutcome};
use crate::store::{Store, StoreError};

#[derive(Debug)]
pub enum IntakeError {
    Import(ImportError),
    Store(StoreError),
    /// OtoMaX's SQL Server refused or failed; the batch stays staged.
    Ledger(crate::ledger::LedgerError),
}

impl IntakeError {
    pub fn message(&self, lang: Lang) -> String {
        match self {
            IntakeError::Import(e) => e.message(lang),
            IntakeError::Store(StoreError::Cancelled) => ImportError::Cancelled.message(lang),
            IntakeError::Store(e) => e.to_string(),
            IntakeError::Ledger(e) => e.message(lang),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            IntakeError::Import(ImportError::Cancelled) | IntakeError::Store(StoreError::Cancelled)
        )
    }
}

impl std::fmt::Display for IntakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for IntakeError {}

impl From<ImportError> for IntakeError {
    fn from(e: ImportError) -> Self {
        IntakeError::Import(e)
    }
}

impl From<StoreError> for IntakeError {
    fn from(e: StoreError) -> Self {
        IntakeError::Store(e)
    }
}

pub struct ImportRequest<'a> {
    pub path: &'a Path,
    /// The product for lists without a product column.
    pub product: Option<&'a str>,
    pub created_by: &'a str,
    pub today: NaiveDate,
    /// Verdicts only: nothing is staged.
    pub dry_run: bool,
}

/// Reads a list file and stages it as one batch. Progress is reported as (done, total) lines.
/// Any failure, including cancel, leaves no batch behind.
///
/// The file is read while it is staged: one thread reads and parses, a second checks the
/// rules and duplicates, and this one writes, so the three overlap.
pub fn import_file(
    store: &mut Store,
    req: &ImportRequest,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<StageOutcome, IntakeError> {
    let mut reader = import::open_file(req.path, req.product)?;
    let name = req
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let batch = NewBatch {
        source: Source::Csv,
        file_name: name.as_deref(),
        created_by: req.created_by,
        has_expiry: reader.has_expiry,
    };
    let expected = reader.estimated_lines();
    // A third thread reads and parses, so reading, checking and writing all overlap.
    let staged = std::thread::scope(|sc| {
        let (to_checker, lines) = std::sync::mpsc::sync_channel(16);
        sc.spawn(move || loop {
            let mut part = Vec::with_capacity(READ_PART);
            while part.len() < READ_PART {
                match reader.next_line() {
                    Ok(Some(line)) => part.push(line),
                    Ok(None) => break,
                    Err(e) => {
                        let _ = to_checker.send(Err(e));
                        return;
                    }
                }
            }
            let last = part.len() < READ_PART;
            // The receiver is gone when staging stopped (an error or cancel).
            if part.is_empty() || to_checker.send(Ok(part)).is_err() || last {
                return;
            }
        });
        store.stage_stream(
            &batch,
            Parts {
                parts: lines,
                part: Vec::new().into_iter(),
            },
            expected,
            req.today,
            req.dry_run,
            cancel,
            progress,
        )
    });
    match staged {
        Ok(out) => Ok(out),
        // A list with a header and no line is the reader's verdict, not the store's.
        Err(StoreError::NothingToStage) => Err(ImportError::HeaderOnly.into()),
        Err(StoreError::Input(e)) => match e.downcast::<ImportError>() {
            Ok(e) => Err(IntakeError::Import(*e)),
            Err(e) => Err(IntakeError::Store(StoreError::Input(e))),
        },
        Err(e) => Err(e.into()),
    }
}

/// Lines per message from the reading thread.
const READ_PART: usize = 512;

/// The lines the reading thread sends, one by one.
struct Parts {
    parts: std::sync::mpsc::Receiver<Result<Vec<(u64, RawVoucher)>, ImportError>>,
    part: std::vec::IntoIter<(u64, RawVoucher)>,
}

impl Iterator for Parts {
    type Item = Result<(u64, RawVoucher), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(line) = self.part.next() {
                return Some(Ok(line));
            }
            match self.parts.recv().ok()? {
                Ok(part) => self.part = part.into_iter(),
                Err(e) => return Some(Err(StoreError::Input(Box::new(e)))),
            }
        }
    }
}

/// Sends a staged batch's valid rows to the embedded ledger.
pub fn confirm_embedded(
    store: &mut Store,
    batch_id: i64,
    created_by: &str,
    lang: crate::i18n::Lang,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ConfirmOutcome, IntakeError> {
    Ok(store.confirm_to_ledger_in(batch_id, created_by, lang, cancel, progress)?)
}

/// Sends a staged batch to the configured ledger: OtoMaX's SQL Server when `otomax.url` is set
/// (one transaction: set-based conflict query, then one bulk load), else the embedded ledger.
/// Either way a failure leaves the batch staged and a retry never inserts a voucher twice.
pub fn confirm(
    store: &mut Store,
    config: &crate::config::Config,
    batch_id: i64,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ConfirmOutcome, IntakeError> {
    if config.otomax.url.trim().is_empty() {
        return confirm_embedded(
            store,
            batch_id,
            &config.shop.user,
            config.shop.language,
            cancel,
            progress,
        );
    }
    store.batch(batch_id)?;
    let mut ledger =
        crate::otomax::OtomaxLedger::new(&config.otomax).map_err(IntakeError::Ledger)?;
    confirm_to_otomax(store, &mut ledger, config, batch_id, progress)
}

/// The SQL Server half of [`confirm`], with the ledger passed in so a long-lived one (the TUI's,
/// whose connection state the status bar shows) can be reused.
pub fn confirm_to_otomax(
    store: &mut Store,
    ledger: &mut crate::otomax::OtomaxLedger,
    config: &crate::config::Config,
    batch_id: i64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ConfirmOutcome, IntakeError> {
    let now = chrono::Local::now().naive_local();
    progress(0, 1);
    let r = crate::otomax::confirm::confirm_batch(
        store.conn_mut(),
        ledger,
        batch_id,
        &config.shop.user,
        now,
        config.shop.language,
    )
    .map_err(IntakeError::Ledger)?;
    progress(1, 1);
    Ok(ConfirmOutcome {
        inserted: r.inserted,
        already: r.recovered,
        rejected: r.rejected,
    })
}
