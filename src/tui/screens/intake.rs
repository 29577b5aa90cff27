//! F2 Masuk: voucher lists into staging, preview and fix, confirm into the ledger.
//!
//! The batch is loaded once by a job into memory (100k rows are a few MB); the table draws
//! only the visible window, and filters keep an index list, so scrolling never touches SQLite.
//! Edits, drops and the confirm go through the store in jobs and come back as messages.

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::config::Config;
use crate::domain::voucher::{ProductRule, ProductRules};
use crate::i18n::Lang;
use crate::tui::action::{Action, Confirm, Level};
use crate::tui::jobs::JobId;
use crate::tui::keys::{Binding, Key};
use crate::tui::screen::{RenderCtx, Screen, ScreenCtx, ScreenId};
use crate::tui::screens::intake_io as io;
use crate::tui::widgets::input::TextInput;
use crate::tui::widgets::path::{complete_with, resolve, Completion, LIST_EXTS};
use crate::tui::widgets::preview::{CardPreview, CropLoaded};
use crate::tui::widgets::vtable::{Column, VRow, VTable, VTableState};

/// One staged line as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowView {
    pub line: i64,
    pub product: String,
    pub code: String,
    pub serial: String,
    pub expiry: String,
    pub error: Option<RowError>,
    pub dropped: bool,
    /// 0 new, 1 queued, 2 rejected, 3 inserted.
    pub insert_status: u8,
    pub insert_reason: Option<String>,
    /// The photo the voucher was read from, and the card's box in it.
    pub photo: Option<String>,
    pub photo_box: Option<String>,
    /// Review data of a card read off a photo.
    pub card: Option<CardView>,
}

/// What the reader said about a card, and what the user has checked since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardView {
    /// Flagged when read and not every flagged field checked yet.
    pub needs_review: bool,
    pub reasons: Vec<String>,
    /// Fields the reasons point at ("code", "serial", "expiry").
    pub review_fields: Vec<String>,
    pub confirmed: Vec<String>,
    /// The reader's confidence, percent.
    pub confidence: u8,
    pub brand: Option<String>,
    /// How the product was chosen, or what to do about it.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub field: String,
    pub kind: String,
    /// What went wrong and what to do next, for the line under the selected row.
    pub detail: String,
}

impl RowView {
    pub fn needs_review(&self) -> bool {
        self.card.as_ref().is_some_and(|c| c.needs_review)
            && !self.dropped
            && self.insert_status != 3
    }
    pub fn is_error(&self) -> bool {
        self.error.is_some() || self.insert_status == 2
    }
    pub fn is_ready(&self) -> bool {
        self.error.is_none() && !self.dropped && self.insert_status == 0 && !self.needs_review()
    }
}

#[derive(Debug, Clone)]
pub struct BatchView {
    pub id: i64,
    pub source: String,
    pub file_name: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub rows: Vec<RowView>,
}

#[derive(Debug, Clone)]
pub struct BatchSummary {
    pub id: i64,
    pub source: String,
    pub file_name: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub rows: u64,
    pub errors: u64,
    pub inserted: u64,
}

/// Field order of the edit popup and the manual form.
pub const FIELDS: [(&str, &str, &str); 4] = [
    ("product", "Produk", "Product"),
    ("code", "Kode voucher", "Voucher code"),
    ("serial", "Serial", "Serial"),
    ("expiry", "Kadaluarsa", "Expiry"),
];

#[derive(Debug, Clone)]
pub enum IntakeMsg {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Edit,
    Drop,
    Undo,
    ToggleErrors,
    Search,
    OpenFile,
    /// `p`: read voucher photos (files or a folder) into a new batch.
    OpenPhotos,
    /// Esc / x while photos are being read: stop (the cards read so far are kept).
    CancelRead,
    /// `v` at 80 columns: show or hide the card's picture beside the table.
    TogglePreview,
    /// Ctrl+Y in the edit popup: the focused field is checked against the photo.
    ConfirmField,
    Form,
    AskConfirm,
    Batches,
    /// Esc in a mode: leave it; in the table: clear filters.
    Back,
    /// Enter in a mode: do it.
    Submit,
    /// Tab in a mode: complete the path, or go to the next field.
    Next,
    Prev,
    /// The user confirmed: insert the ready rows of this batch into the ledger.
    Insert(i64),
    // ---- job results
    Loaded(Arc<BatchView>),
    BatchList(Arc<Vec<BatchSummary>>),
    Products(Arc<Vec<(String, ProductRule)>>),
    /// After an edit was saved and the batch reloaded: tell how the line stands now.
    RowSaved {
        line: i64,
    },
    RowDropped {
        line: i64,
        dropped: bool,
    },
    /// Result of the duplicate check of the form, for these values.
    FormChecked {
        key: (String, String, String),
        problem: Option<String>,
    },
    FormSaved {
        batch: i64,
    },
    Inserted {
        batch: i64,
        inserted: u64,
        rejected: u64,
    },
    ImportFailed(io::ImportFail),
    /// The photo job ended.
    PhotosRead(io::PhotosDone),
    /// A card's crop was decoded (or could not be).
    Crop(CropLoaded),
    /// The first visit found no batch with lines waiting.
    NothingOpen,
    /// Tab completion of the file prompt, for the text it was asked about.
    Completed {
        typed: String,
        completion: Completion,
    },
}

enum Mode {
    Table,
    Prompt {
        input: TextInput,
        product: TextInput,
        on_product: bool,
        candidates: Vec<String>,
        problem: Option<String>,
        /// Photos (files or a folder) rather than a list file.
        photos: bool,
    },
    Search {
        input: TextInput,
    },
    Edit {
        line: i64,
        fields: [TextInput; 4],
        focus: usize,
        /// Fields checked against the photo with Ctrl+Y (cards only).
        confirmed: [bool; 4],
    },
    Form(Box<FormState>),
    Batches {
        list: Arc<Vec<BatchSummary>>,
        state: VTableState,
    },
}

struct FormState {
    fields: [TextInput; 4],
    focus: usize,
    problems: [Option<String>; 4],
    /// The duplicate check for the current (product, code, serial), once it answered.
    dup: Option<((String, String, String), Option<String>)>,
    /// Some field is still empty (not an error while typing; Enter refuses it).
    incomplete: bool,
    batch: Option<i64>,
    added: u32,
}

pub struct IntakeScreen {
    base_dir: PathBuf,
    batch: Option<BatchView>,
    /// Indices into `batch.rows` that pass the filters, in order.
    view: Vec<u32>,
    counts: (usize, usize, usize),
    /// Valid cards still to be checked against their photo (not ready to insert).
    to_review: usize,
    only_errors: bool,
    search: String,
    table: VTableState,
    mode: Mode,
    undo: Vec<i64>,
    products: Arc<Vec<String>>,
    rules: Arc<ProductRules>,
    loading: Option<String>,
    inserting: Option<i64>,
    opened_latest: bool,
    /// What the file prompt held when the last import started (path, product, photos).
    last_import: Option<(String, String, bool)>,
    /// The photo-reading job, while it runs (Esc / x cancel it).
    reading: Option<JobId>,
    /// Card pictures: crops decoded in jobs, kept.
    preview: CardPreview,
    /// At narrow widths the picture is a toggle (`v`).
    show_preview: bool,
}

impl IntakeScreen {
    pub fn new(_config: &Config) -> IntakeScreen {
        IntakeScreen {
            base_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            batch: None,
            view: Vec::new(),
            counts: (0, 0, 0),
            to_review: 0,
            only_errors: false,
            search: String::new(),
            table: VTableState::default(),
            mode: Mode::Table,
            undo: Vec::new(),
            products: Arc::new(Vec::new()),
            rules: Arc::new(ProductRules::default()),
            loading: None,
            inserting: None,
            opened_latest: false,
            last_import: None,
            reading: None,
            preview: CardPreview::default(),
            show_preview: false,
        }
    }

    /// Where relative paths in the file prompt start (the working folder by default).
    pub fn with_base_dir(mut self, dir: PathBuf) -> IntakeScreen {
        self.base_dir = dir;
        self
    }

    /// (ready, wrong, inserted), kept up to date by [`Self::rebuild_view`].
    fn counts(&self) -> (usize, usize, usize) {
        self.counts
    }

    /// Recomputes the filtered index list and the counts after any change of data or filter.
    /// One pass over the rows with no allocation per row: fast enough to run per keystroke of
    /// the search at 100k rows.
    fn rebuild_view(&mut self) {
        let keep_line = self.selected_row().map(|r| r.line);
        self.view.clear();
        self.counts = (0, 0, 0);
        self.to_review = 0;
        if let Some(b) = &self.batch {
            let needle: String = self
                .search
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .collect::<String>()
                .to_uppercase();
            let needle_line: Option<i64> = needle.parse().ok();
            for (i, r) in b.rows.iter().enumerate() {
                if r.dropped {
                    continue;
                }
                if r.insert_status == 3 {
                    self.counts.2 += 1;
                } else if r.is_error() {
                    self.counts.1 += 1;
                } else if r.needs_review() {
                    self.to_review += 1;
                } else {
                    self.counts.0 += 1;
                }
                if self.only_errors && !r.is_error() {
                    continue;
                }
                if !needle.is_empty()
                    && !r.code.contains(&needle)
                    && !r.serial.contains(&needle)
                    && !r.product.contains(&needle)
                    && Some(r.line) != needle_line
                {
                    continue;
                }
                self.view.push(i as u32);
            }
            if b.source == "image" {
                // Cards that need a look come first (stable: line order within each group).
                let rows = &b.rows;
                self.view.sort_by_key(|&i| !rows[i as usize].needs_review());
            }
        }
        if let Some(line) = keep_line {
            if let Some(pos) = self.view_position(line) {
                self.table.selected = pos;
            }
        }
        self.table.clamp(self.view.len());
    }

    /// Applies the (longer) search to the current view only.
    fn narrow_view(&mut self) {
        let Some(b) = &self.batch else { return };
        let needle: String = self
            .search
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_uppercase();
        let needle_line: Option<i64> = needle.parse().ok();
        let keep_line = self.selected_row().map(|r| r.line);
        let rows = &b.rows;
        self.view.retain(|&i| {
            let r = &rows[i as usize];
            r.code.contains(&needle)
                || r.serial.contains(&needle)
                || r.product.contains(&needle)
                || Some(r.line) == needle_line
        });
        if let Some(line) = keep_line {
            if let Some(pos) = self.view_position(line) {
                self.table.selected = pos;
            }
        }
        self.table.clamp(self.view.len());
    }

    fn view_position(&self, line: i64) -> Option<usize> {
        let b = self.batch.as_ref()?;
        self.view
            .iter()
            .position(|&i| b.rows[i as usize].line == line)
    }

    fn selected_row(&self) -> Option<&RowView> {
        let b = self.batch.as_ref()?;
        let i = *self.view.get(self.table.selected)?;
        b.rows.get(i as usize)
    }

    fn load_batch(&mut self, ctx: &mut ScreenCtx, id: i64) {
        let Some(db) = ctx.db.cloned() else { return };
        self.loading = Some(format!("batch #{id}"));
        let label = format!("{} #{id}", ctx.lang.t("muat batch", "load batch"));
        let lang = ctx.lang;
        ctx.jobs.spawn_blocking(label, move |p| {
            io::load_batch(&db, id, lang, p).map(|b| Action::Intake(IntakeMsg::Loaded(Arc::new(b))))
        });
    }

    fn load_products(&mut self, ctx: &mut ScreenCtx) {
        let Some(db) = ctx.db.cloned() else { return };
        ctx.jobs
            .spawn_blocking(ctx.lang.t("muat produk", "load products"), move |_| {
                io::product_rules(&db).map(|v| Action::Intake(IntakeMsg::Products(Arc::new(v))))
            });
    }

    fn list_batches(&mut self, ctx: &mut ScreenCtx) {
        let Some(db) = ctx.db.cloned() else { return };
        ctx.jobs
            .spawn_blocking(ctx.lang.t("daftar batch", "list batches"), move |_| {
                io::list_batches(&db).map(|v| Action::Intake(IntakeMsg::BatchList(Arc::new(v))))
            });
    }

    fn start_import(&mut self, ctx: &mut ScreenCtx) -> Vec<Action> {
        let lang = ctx.lang;
        let Mode::Prompt {
            input,
            product,
            problem,
            on_product,
            photos,
            ..
        } = &mut self.mode
        else {
            return vec![];
        };
        let photos = *photos;
        let typed = input.value().trim().to_string();
        if typed.is_empty() {
            *problem = Some(if photos {
                lang.t(
                    "Ketik path foto atau folder foto (Tab melengkapi).",
                    "Type the path of a photo or a folder of photos (Tab completes).",
                )
                .into()
            } else {
                lang.t(
                    "Ketik path file CSV/TXT (Tab melengkapi).",
                    "Type the path of a CSV/TXT file (Tab completes).",
                )
                .into()
            });
            return vec![];
        }
        // A missing file or a folder is reported by the import job, which reopens this prompt.
        let path = resolve(&typed, &self.base_dir);
        let product = product.value().trim().to_uppercase();
        self.last_import = Some((typed.clone(), product.clone(), photos));
        let product = (!product.is_empty()).then_some(product);
        if product
            .as_ref()
            .is_some_and(|p| !self.products.is_empty() && !self.products.contains(p))
        {
            *on_product = true;
            *problem = Some(format!(
                "{}: {}",
                lang.t(
                    "Produk tidak dikenal; pilih salah satu",
                    "Unknown product; pick one of"
                ),
                self.products.join(", ")
            ));
            return vec![];
        }
        let Some(db) = ctx.db.cloned() else {
            return vec![];
        };
        let user = ctx.config.shop.user.clone();
        let today = ctx.now.date();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.mode = Mode::Table;
        if photos {
            return self.start_photos(ctx, db, path, product, name);
        }
        self.loading = Some(name.clone());
        ctx.jobs
            .spawn_blocking(format!("{} {name}", lang.t("baca", "read")), move |p| {
                match io::import_file(&db, &path, product.as_deref(), &user, today, lang, p) {
                    Ok(id) => {
                        let b = io::load_batch(&db, id, lang, p)?;
                        let wrong = b.rows.iter().filter(|r| r.is_error()).count();
                        let ok = b.rows.len() - wrong;
                        let text = match lang {
                            Lang::Id => format!(
                                "{name}: {ok} baris benar, {wrong} salah (batch #{id}). Perbaiki yang salah atau tekan C.",
                            ),
                            Lang::En => format!(
                                "{name}: {ok} lines valid, {wrong} wrong (batch #{id}). Fix the wrong ones or press C.",
                            ),
                        };
                        let level = if wrong > 0 { Level::Warn } else { Level::Ok };
                        Ok(Action::Batch(vec![
                            Action::Intake(IntakeMsg::Loaded(Arc::new(b))),
                            Action::notify(level, text),
                        ]))
                    }
                    Err(e) => Ok(Action::Intake(IntakeMsg::ImportFailed(e))),
                }
            });
        vec![]
    }

    /// Reads the photos in a job with a gauge; Esc or x stop it (cards already read are kept).
    fn start_photos(
        &mut self,
        ctx: &mut ScreenCtx,
        db: Arc<crate::tui::data::Db>,
        path: PathBuf,
        product: Option<String>,
        name: String,
    ) -> Vec<Action> {
        let lang = ctx.lang;
        if !cfg!(feature = "ocr") {
            return vec![Action::notify(Level::Error, crate::jobs::photos::NO_OCR)];
        }
        if self.reading.is_some() {
            return vec![Action::notify(
                Level::Warn,
                lang.t(
                    "Foto lain sedang dibaca; tunggu atau batalkan (x).",
                    "Other photos are being read; wait or cancel (x).",
                ),
            )];
        }
        let user = ctx.config.shop.user.clone();
        let today = ctx.now.date();
        // The AI model of [ocr.ai] reads along when it is enabled.
        let ai = ctx.config.ocr.ai.enabled.then(|| ctx.config.ocr.ai.clone());
        if self.batch.is_none() {
            self.loading = Some(name.clone());
        }
        let id = ctx.jobs.spawn_blocking(
            format!("{} {name}", lang.t("baca foto", "read photos")),
            move |p| match io::import_photos(
                &db,
                &[path],
                product.as_deref(),
                &user,
                today,
                lang,
                ai.as_ref(),
                p,
            ) {
                Ok(done) => {
                    let mut v = Vec::new();
                    if let Some(id) = done.batch {
                        v.push(Action::Intake(IntakeMsg::Loaded(Arc::new(io::load_batch(
                            &db, id, lang, p,
                        )?))));
                    }
                    v.push(Action::Intake(IntakeMsg::PhotosRead(done)));
                    Ok(Action::Batch(v))
                }
                Err(e) => Ok(Action::Intake(IntakeMsg::ImportFailed(e))),
            },
        );
        self.reading = Some(id);
        vec![]
    }

    /// Loads the pictures of the selected card and its neighbours (so moving on is instant).
    fn want_previews(&mut self, ctx: &mut ScreenCtx) {
        let Some(b) = &self.batch else { return };
        let sel = self.table.selected;
        let lang = ctx.lang;
        let mut wanted: Vec<(String, Option<String>)> = Vec::new();
        for i in [sel, sel + 1, sel.wrapping_sub(1), sel + 2] {
            let Some(&ri) = self.view.get(i) else {
                continue;
            };
            let r = &b.rows[ri as usize];
            if let Some(p) = &r.photo {
                wanted.push((p.clone(), r.photo_box.clone()));
            }
        }
        for (p, bx) in wanted {
            self.preview.request(
                ctx.jobs,
                lang.t("foto kartu", "card photo"),
                &p,
                bx.as_deref(),
                |c| Action::Intake(IntakeMsg::Crop(c)),
            );
        }
    }

    fn form_validate(&mut self, ctx: &mut ScreenCtx) {
        let Mode::Form(form) = &mut self.mode else {
            return;
        };
        let values: [String; 4] = std::array::from_fn(|i| form.fields[i].value().to_string());
        let today = ctx.now.date();
        form.incomplete = io::is_missing_only(&self.rules, &values, today);
        form.problems = if form.incomplete {
            Default::default()
        } else {
            io::validate_fields(&self.rules, &values, today, ctx.lang)
        };
        // The duplicate check needs the store: ask once the other rules pass.
        let key = io::form_key(&values);
        let clean = !form.incomplete && form.problems.iter().all(Option::is_none);
        if clean {
            if form.dup.as_ref().map(|(k, _)| k) != Some(&key) {
                form.dup = None;
                if let Some(db) = ctx.db.cloned() {
                    let lang = ctx.lang;
                    let batch = form.batch;
                    ctx.jobs
                        .spawn_blocking(lang.t("cek duplikat", "check duplicate"), move |_| {
                            let problem = io::duplicate_problem(&db, &values, batch, today, lang)?;
                            Ok(Action::Intake(IntakeMsg::FormChecked { key, problem }))
                        });
                }
            }
        } else {
            form.dup = None;
        }
    }

    fn form_submit(&mut self, ctx: &mut ScreenCtx) -> Vec<Action> {
        let lang = ctx.lang;
        let Mode::Form(form) = &mut self.mode else {
            return vec![];
        };
        let values: [String; 4] = std::array::from_fn(|i| form.fields[i].value().to_string());
        if form.incomplete {
            if let Some(i) = values.iter().position(|v| v.trim().is_empty()) {
                form.focus = i;
            }
            return vec![Action::notify(
                Level::Warn,
                lang.t(
                    "Isi semua kolom: produk, kode, serial dan kadaluarsa.",
                    "Fill in every field: product, code, serial and expiry.",
                ),
            )];
        }
        if let Some((i, p)) = form
            .problems
            .iter()
            .enumerate()
            .find_map(|(i, p)| p.as_ref().map(|p| (i, p.clone())))
        {
            form.focus = i;
            return vec![Action::notify(Level::Warn, p)];
        }
        let key = io::form_key(&values);
        match &form.dup {
            Some((k, Some(p))) if *k == key => return vec![Action::notify(Level::Warn, p.clone())],
            Some((k, None)) if *k == key => {}
            _ => {
                return vec![Action::notify(
                    Level::Info,
                    lang.t(
                        "Masih mengecek duplikat, tekan Enter lagi sebentar.",
                        "Still checking for duplicates; press Enter again in a moment.",
                    ),
                )]
            }
        }
        let Some(db) = ctx.db.cloned() else {
            return vec![];
        };
        let user = ctx.config.shop.user.clone();
        let batch = form.batch;
        let today = ctx.now.date();
        ctx.jobs
            .spawn_blocking(lang.t("simpan voucher", "save voucher"), move |_| {
                let id = io::stage_manual(&db, batch, &user, &values, today)?;
                Ok(Action::Intake(IntakeMsg::FormSaved { batch: id }))
            });
        vec![]
    }

    fn save_edit(&mut self, ctx: &mut ScreenCtx) -> Vec<Action> {
        let Mode::Edit {
            line,
            fields,
            confirmed,
            ..
        } = &self.mode
        else {
            return vec![];
        };
        let confirmed = *confirmed;
        let (Some(batch), Some(db)) = (self.batch.as_ref().map(|b| b.id), ctx.db.cloned()) else {
            return vec![];
        };
        let line = *line;
        let values: [String; 4] = std::array::from_fn(|i| fields[i].value().to_string());
        let Some((old, is_card)) = self.batch.as_ref().and_then(|b| {
            b.rows.iter().find(|r| r.line == line).map(|r| {
                (
                    [
                        r.product.clone(),
                        r.code.clone(),
                        r.serial.clone(),
                        r.expiry.clone(),
                    ],
                    r.card.is_some(),
                )
            })
        }) else {
            return vec![];
        };
        let today = ctx.now.date();
        let lang = ctx.lang;
        self.mode = Mode::Table;
        ctx.jobs.spawn_blocking(
            format!("{} {line}", lang.t("ubah baris", "edit line")),
            move |p| {
                io::edit_card_row(
                    &db,
                    batch,
                    line,
                    &old,
                    &values,
                    is_card.then_some(confirmed),
                    today,
                )?;
                let b = io::load_batch(&db, batch, lang, p)?;
                Ok(Action::Batch(vec![
                    Action::Intake(IntakeMsg::Loaded(Arc::new(b))),
                    Action::Intake(IntakeMsg::RowSaved { line }),
                ]))
            },
        );
        vec![]
    }

    fn set_dropped(&mut self, ctx: &mut ScreenCtx, line: i64, dropped: bool) {
        let (Some(batch), Some(db)) = (self.batch.as_ref().map(|b| b.id), ctx.db.cloned()) else {
            return;
        };
        let today = ctx.now.date();
        let lang = ctx.lang;
        let label = if dropped {
            lang.t("hapus baris", "drop line")
        } else {
            lang.t("kembalikan baris", "restore line")
        };
        ctx.jobs
            .spawn_blocking(format!("{label} {line}"), move |p| {
                io::set_dropped(&db, batch, line, dropped, today)?;
                let b = io::load_batch(&db, batch, lang, p)?;
                Ok(Action::Batch(vec![
                    Action::Intake(IntakeMsg::Loaded(Arc::new(b))),
                    Action::Intake(IntakeMsg::RowDropped { line, dropped }),
                ]))
            });
    }

    fn ask_confirm(&self, ctx: &ScreenCtx) -> Vec<Action> {
        let lang = ctx.lang;
        let Some(b) = &self.batch else {
            return vec![Action::notify(
                Level::Warn,
                lang.t(
                    "Belum ada batch. Tekan a untuk memilih file atau f untuk form.",
                    "No batch yet. Press a to choose a file or f for the form.",
                ),
            )];
        };
        if self.inserting.is_some() {
            return vec![Action::notify(
                Level::Warn,
                lang.t(
                    "Batch ini sedang dimasukkan; tunggu sampai selesai.",
                    "This batch is being inserted; wait until it finishes.",
                ),
            )];
        }
        let (ready, errors, _) = self.counts();
        if ready == 0 && self.to_review > 0 {
            return vec![Action::notify(
                Level::Warn,
                lang.t(
                    "Belum ada kartu yang siap: cocokkan kartu bertanda cek dengan fotonya (Enter, lalu Ctrl+Y per kolom).",
                    "No card is ready yet: check the flagged cards against their photo (Enter, then Ctrl+Y per field).",
                ),
            )];
        }
        if ready == 0 {
            return vec![Action::notify(
                Level::Warn,
                lang.t(
                    "Tidak ada baris yang siap dimasukkan: perbaiki baris salah dulu (Enter).",
                    "No line is ready to insert: fix the wrong lines first (Enter).",
                ),
            )];
        }
        let target = if ctx.config.otomax.url.trim().is_empty() {
            lang.t("stok (ledger lokal)", "stock (local ledger)")
        } else {
            "OtoMaX (SQL Server)"
        };
        let review = self.to_review;
        let mut body = match lang {
            Lang::Id => format!(
                "Masukkan {ready} voucher ke {target}? {errors} baris salah tetap di staging."
            ),
            Lang::En => format!(
                "Insert {ready} vouchers into {target}? {errors} wrong lines stay in staging."
            ),
        };
        if review > 0 {
            body.push_str(&match lang {
                Lang::Id => format!(" {review} kartu yang belum dicek dengan fotonya juga tetap."),
                Lang::En => {
                    format!(" {review} cards not yet checked against their photo stay too.")
                }
            });
        }
        vec![Action::Confirm(Box::new(Confirm {
            title: format!("{} #{}", lang.t("Konfirmasi batch", "Confirm batch"), b.id),
            body,
            yes: lang.t("Masukkan", "Insert").into(),
            action: Action::Intake(IntakeMsg::Insert(b.id)),
        }))]
    }
}

fn b(key: Key, label: (&'static str, &'static str), m: IntakeMsg) -> Binding {
    Binding::new(key, label, Action::Intake(m))
}

fn photos_binding() -> Binding {
    b(
        Key::ch('p'),
        ("tambah foto", "add photos"),
        IntakeMsg::OpenPhotos,
    )
    .help(
        "baca foto voucher (file atau folder) ke batch baru",
        "read voucher photos (a file or a folder) into a new batch",
    )
}

/// Splits text into lines of at most `width` chars, at spaces where it can.
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let need = cur.chars().count() + usize::from(!cur.is_empty()) + word.chars().count();
        if need > width && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

fn grouped(code: &str) -> String {
    if code.len() == 16 && code.bytes().all(|c| c.is_ascii_digit()) {
        format!(
            "{} {} {} {}",
            &code[0..4],
            &code[4..8],
            &code[8..12],
            &code[12..16]
        )
    } else {
        code.to_string()
    }
}

/// A short status word for the table column.
fn status_word(r: &RowView, lang: Lang) -> String {
    match (r.insert_status, &r.error) {
        (3, _) => lang.t("masuk", "inserted").into(),
        (2, _) => lang.t("ditolak", "rejected").into(),
        (1, _) => lang.t("antri", "queued").into(),
        (_, Some(e)) => e.kind.clone(),
        _ if r.needs_review() => lang.t("cek foto", "check photo").into(),
        _ => "ok".into(),
    }
}

/// For a valid card still flagged: why, and how to clear it.
fn review_hint(r: &RowView, lang: Lang) -> Option<String> {
    let c = r.card.as_ref().filter(|c| c.needs_review)?;
    Some(format!(
        "{}: {}. {}",
        lang.t("Cek dengan foto", "Check against the photo"),
        crate::ocr::reasons_text(&c.reasons, lang),
        lang.t(
            "Ctrl+Y pada kolom bertanda ? bila sudah cocok.",
            "Ctrl+Y on each field marked ? once it matches."
        )
    ))
}

fn row_detail(r: &RowView, lang: Lang) -> Option<String> {
    if let Some(e) = &r.error {
        return Some(e.detail.clone());
    }
    if r.insert_status == 2 {
        return Some(format!(
            "{}: {}",
            lang.t("Ditolak saat dimasukkan", "Rejected on insert"),
            r.insert_reason.clone().unwrap_or_default()
        ));
    }
    None
}

impl Screen for IntakeScreen {
    fn id(&self) -> ScreenId {
        ScreenId::Intake
    }

    fn bindings(&self, _lang: Lang) -> Vec<Binding> {
        use IntakeMsg as M;
        let enter = Key::plain(KeyCode::Enter);
        let esc = Key::plain(KeyCode::Esc);
        let tab = Key::plain(KeyCode::Tab);
        let nav = || {
            vec![
                b(Key::plain(KeyCode::Up), ("naik", "up"), M::Up)
                    .also(Key::ch('k'))
                    .grouped("pindah baris", "move between lines"),
                b(Key::plain(KeyCode::Down), ("turun", "down"), M::Down)
                    .also(Key::ch('j'))
                    .grouped("pindah baris", "move between lines"),
                b(
                    Key::plain(KeyCode::PageUp),
                    ("halaman naik", "page up"),
                    M::PageUp,
                )
                .grouped("pindah baris", "move between lines"),
                b(
                    Key::plain(KeyCode::PageDown),
                    ("halaman turun", "page down"),
                    M::PageDown,
                )
                .grouped("pindah baris", "move between lines"),
                b(
                    Key::plain(KeyCode::Home),
                    ("baris pertama", "first line"),
                    M::Home,
                )
                .grouped("pindah baris", "move between lines"),
                b(
                    Key::plain(KeyCode::End),
                    ("baris terakhir", "last line"),
                    M::End,
                )
                .grouped("pindah baris", "move between lines"),
            ]
        };
        match &self.mode {
            Mode::Table if self.batch.is_none() => vec![
                b(Key::ch('a'), ("tambah file", "add file"), M::OpenFile).help(
                    "pilih file CSV/TXT untuk diimpor",
                    "choose a CSV/TXT file to import",
                ),
                photos_binding(),
                b(Key::ch('f'), ("form", "form"), M::Form)
                    .help("ketik voucher satu per satu", "type vouchers one by one"),
                b(Key::ch('b'), ("batch", "batches"), M::Batches).help(
                    "daftar batch sebelumnya, buka lagi",
                    "earlier batches, reopen one",
                ),
            ],
            Mode::Table => {
                let mut v = vec![
                    b(enter, ("ubah", "edit"), M::Edit).help(
                        "ubah baris terpilih (divalidasi ulang)",
                        "edit the selected line (validated again)",
                    ),
                    b(Key::ch('d'), ("hapus", "drop"), M::Drop).help(
                        "buang baris dari batch (u mengurungkan)",
                        "drop the line from the batch (u undoes)",
                    ),
                    b(
                        Key::ch('e'),
                        ("hanya salah", "errors only"),
                        M::ToggleErrors,
                    )
                    .help(
                        "tampilkan hanya baris salah / semua",
                        "show only wrong lines / all",
                    ),
                    b(Key::ch('/'), ("cari", "search"), M::Search).help(
                        "cari kode, serial, produk atau nomor baris",
                        "search code, serial, product or line number",
                    ),
                    b(Key::ch('C'), ("konfirmasi", "confirm"), M::AskConfirm).help(
                        "masukkan baris yang benar ke stok (minta konfirmasi)",
                        "insert the valid lines into stock (asks first)",
                    ),
                    b(Key::ch('a'), ("tambah file", "add file"), M::OpenFile).help(
                        "pilih file CSV/TXT untuk diimpor",
                        "choose a CSV/TXT file to import",
                    ),
                    photos_binding(),
                    b(Key::ch('f'), ("form", "form"), M::Form)
                        .help("ketik voucher satu per satu", "type vouchers one by one"),
                    b(Key::ch('b'), ("batch", "batches"), M::Batches).help(
                        "daftar batch sebelumnya, buka lagi",
                        "earlier batches, reopen one",
                    ),
                ];
                if self
                    .batch
                    .as_ref()
                    .is_some_and(|b| b.rows.iter().any(|r| r.photo.is_some()))
                {
                    v.insert(
                        1,
                        b(Key::ch('v'), ("foto", "photo"), M::TogglePreview).help(
                            "tampilkan/sembunyikan foto kartu (di 120 kolom selalu tampil)",
                            "show/hide the card's photo (always shown at 120 columns)",
                        ),
                    );
                }
                if self.reading.is_some() {
                    v.insert(
                        0,
                        b(
                            Key::ch('x'),
                            ("batal baca foto", "stop reading"),
                            M::CancelRead,
                        )
                        .also(esc)
                        .help(
                            "hentikan baca foto; kartu yang sudah terbaca tetap disimpan",
                            "stop reading photos; the cards already read are kept",
                        ),
                    );
                }
                if !self.undo.is_empty() {
                    v.insert(2, b(Key::ch('u'), ("urungkan", "undo"), M::Undo));
                } else {
                    v.push(b(Key::ch('u'), ("urungkan hapus", "undo drop"), M::Undo).quiet());
                }
                v.push(b(esc, ("hapus filter", "clear filters"), M::Back).quiet());
                v.extend(nav());
                v
            }
            Mode::Prompt { .. } => vec![
                b(tab, ("lengkapi", "complete"), M::Next).help(
                    "lengkapi path / pindah ke kolom produk",
                    "complete the path / go to the product field",
                ),
                b(
                    Key::plain(KeyCode::BackTab),
                    ("kolom lain", "other field"),
                    M::Prev,
                )
                .quiet(),
                b(enter, ("impor", "import"), M::Submit),
                b(esc, ("batal", "cancel"), M::Back),
            ],
            Mode::Search { .. } => vec![
                b(enter, ("selesai", "done"), M::Submit),
                b(esc, ("hapus pencarian", "clear search"), M::Back),
            ],
            Mode::Edit { line, .. } => {
                let mut v = vec![
                    b(tab, ("kolom berikut", "next field"), M::Next)
                        .also(Key::plain(KeyCode::Down)),
                    b(
                        Key::plain(KeyCode::BackTab),
                        ("kolom sebelumnya", "previous field"),
                        M::Prev,
                    )
                    .also(Key::plain(KeyCode::Up))
                    .quiet(),
                    b(enter, ("simpan", "save"), M::Submit),
                    b(esc, ("batal", "cancel"), M::Back),
                ];
                let is_card = self
                    .batch
                    .as_ref()
                    .and_then(|b| b.rows.iter().find(|r| r.line == *line))
                    .is_some_and(|r| r.card.is_some());
                if is_card {
                    v.insert(
                        2,
                        b(Key::ctrl('y'), ("sudah dicek", "checked"), M::ConfirmField).help(
                            "kolom ini sudah dicocokkan dengan foto (mengubahnya juga)",
                            "this field matches the photo (changing it counts too)",
                        ),
                    );
                }
                v
            }
            Mode::Form(_) => vec![
                b(tab, ("kolom berikut", "next field"), M::Next).also(Key::plain(KeyCode::Down)),
                b(
                    Key::plain(KeyCode::BackTab),
                    ("kolom sebelumnya", "previous field"),
                    M::Prev,
                )
                .also(Key::plain(KeyCode::Up))
                .quiet(),
                b(enter, ("simpan voucher", "save voucher"), M::Submit),
                b(esc, ("selesai", "done"), M::Back),
            ],
            Mode::Batches { .. } => {
                let mut v = vec![
                    b(enter, ("buka", "open"), M::Submit),
                    b(esc, ("kembali", "back"), M::Back),
                ];
                v.extend(nav());
                v
            }
        }
    }

    fn handle_key(&mut self, key: KeyEvent, ctx: &mut ScreenCtx) -> Option<Action> {
        match &mut self.mode {
            Mode::Prompt {
                input,
                product,
                on_product,
                candidates,
                problem,
                ..
            } => {
                let field = if *on_product { product } else { input };
                if field.handle(&key) {
                    candidates.clear();
                    *problem = None;
                }
            }
            Mode::Search { input } => {
                if input.handle(&key) {
                    let old = std::mem::replace(&mut self.search, input.value().to_string());
                    if !old.is_empty() && self.search.starts_with(&old) {
                        // Typing on: only the rows that matched so far can match now.
                        self.narrow_view();
                    } else {
                        self.rebuild_view();
                    }
                }
            }
            Mode::Edit { fields, focus, .. } => {
                fields[*focus].handle(&key);
            }
            Mode::Form(form) => {
                if form.fields[form.focus].handle(&key) {
                    self.form_validate(ctx);
                }
            }
            Mode::Table | Mode::Batches { .. } => {}
        }
        Some(Action::Render)
    }

    fn on_show(&mut self, ctx: &mut ScreenCtx) -> Vec<Action> {
        if self.products.is_empty() {
            self.load_products(ctx);
        }
        match self.batch.as_ref().map(|b| b.id) {
            Some(id) => self.load_batch(ctx, id),
            None if !self.opened_latest => {
                // First visit: reopen the newest batch that still has lines waiting, so work
                // left from yesterday (or the demo's batch) is right there.
                self.opened_latest = true;
                if let Some(db) = ctx.db.cloned() {
                    let lang = ctx.lang;
                    self.loading = Some(lang.t("batch terakhir", "latest batch").into());
                    ctx.jobs
                        .spawn_blocking(lang.t("buka batch", "open batch"), move |p| {
                            let open = io::list_batches(&db)?
                                .into_iter()
                                .find(|b| b.inserted < b.rows);
                            match open {
                                Some(b) => io::load_batch(&db, b.id, lang, p)
                                    .map(|b| Action::Intake(IntakeMsg::Loaded(Arc::new(b)))),
                                None => Ok(Action::Intake(IntakeMsg::NothingOpen)),
                            }
                        });
                }
            }
            None => {}
        }
        vec![]
    }

    fn update(&mut self, action: &Action, ctx: &mut ScreenCtx) -> Vec<Action> {
        let out = self.update_msg(action, ctx);
        if matches!(action, Action::Intake(_)) {
            self.want_previews(ctx);
        }
        out
    }

    fn status(&self, lang: Lang) -> Option<String> {
        let (_, errors, _) = self.counts();
        (self.batch.is_some() && errors > 0).then(|| match lang {
            Lang::Id => format!("{errors} baris salah"),
            Lang::En => format!("{errors} wrong lines"),
        })
    }

    fn render(&mut self, f: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let lang = ctx.lang;
        let t = ctx.theme;
        if let Mode::Batches { list, state } = &mut self.mode {
            render_batches(f, area, list, state, ctx);
            return;
        }
        // The manual form sits above the batch it fills.
        let area = if let Mode::Form(form) = &self.mode {
            let [top, rest] =
                Layout::vertical([Constraint::Length(8), Constraint::Min(5)]).areas(area);
            render_form(f, top, form, &self.products, &self.rules, ctx);
            rest
        } else {
            area
        };
        let (ready, errors, inserted) = self.counts();
        let title = match &self.batch {
            Some(b) => format!(
                " Batch #{}  {}  ({}, {} {}) ",
                b.id,
                b.file_name
                    .clone()
                    .unwrap_or_else(|| lang.t("ketik manual", "typed").into()),
                b.source,
                b.rows.len(),
                lang.t("baris", "lines")
            ),
            None => format!(" {} ", lang.t("Voucher masuk", "Voucher intake")),
        };
        let mut right = vec![];
        if self.batch.is_some() {
            right.push(Span::styled(format!(" {ready} ok "), t.ok));
            right.push(Span::styled(
                format!(" {errors} {} ", lang.t("salah", "wrong")),
                if errors > 0 { t.error } else { t.dim },
            ));
            if self.to_review > 0 {
                right.push(Span::styled(
                    format!(" {} {} ", self.to_review, lang.t("cek", "to check")),
                    t.warn,
                ));
            }
            if inserted > 0 {
                right.push(Span::styled(
                    format!(" {inserted} {} ", lang.t("masuk", "in")),
                    t.info,
                ));
            }
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border)
            .title(Span::styled(title, t.title))
            .title(Line::from(right).right_aligned());
        let inner = block.inner(area);
        f.render_widget(block, area);

        let Some(batch) = &self.batch else {
            let msg = match &self.loading {
                Some(what) => vec![Line::styled(
                    format!("{} {what} ...", lang.t("Membaca", "Reading")),
                    t.info,
                )],
                None => vec![
                    Line::raw(""),
                    Line::styled(
                        lang.t("Belum ada batch terbuka.", "No batch is open."),
                        t.title,
                    ),
                    Line::raw(""),
                    Line::raw(lang.t(
                        "a  pilih file CSV/TXT dari pemasok",
                        "a  choose a CSV/TXT file from the supplier",
                    )),
                    Line::raw(lang.t(
                        "f  ketik voucher satu per satu",
                        "f  type vouchers one by one",
                    )),
                    Line::raw(lang.t("b  buka batch sebelumnya", "b  reopen an earlier batch")),
                ],
            };
            f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), inner);
            self.render_popups(f, area, ctx);
            return;
        };

        // At 120 columns and more, the detail of the selected line opens beside the table.
        let wide = inner.width >= 110;
        let (table_area, side) = if wide {
            let [a, b] =
                Layout::horizontal([Constraint::Min(70), Constraint::Length(40)]).areas(inner);
            (a, Some(b))
        } else {
            (inner, None)
        };
        let [table_area, footer] =
            Layout::vertical([Constraint::Min(2), Constraint::Length(1)]).areas(table_area);
        let columns = [
            Column::new("#", Constraint::Length(5)),
            Column::new(lang.t("Produk", "Product"), Constraint::Length(9)),
            Column::new(
                lang.t("Kode voucher", "Voucher code"),
                Constraint::Length(19),
            ),
            // Serials on cards run to 16 digits; supplier lists have 12.
            Column::new(
                "Serial",
                Constraint::Length(if batch.source == "image" { 17 } else { 13 }),
            ),
            Column::new(lang.t("Kadaluarsa", "Expiry"), Constraint::Length(10)),
            Column::new("Status", Constraint::Fill(1)),
        ];
        let selected = self.selected_row().cloned();
        let detail: Vec<Line> = if side.is_none() {
            selected
                .as_ref()
                .and_then(|r| row_detail(r, lang))
                .map(|d| {
                    wrap_words(&d, table_area.width.saturating_sub(6) as usize)
                        .into_iter()
                        .take(2)
                        .map(|l| Line::styled(l, t.warn))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            vec![]
        };
        let rows = &batch.rows;
        let view = &self.view;
        VTable {
            columns: &columns,
            len: view.len(),
            row: |i| {
                let r = &rows[view[i] as usize];
                VRow {
                    cells: vec![
                        r.line.to_string(),
                        r.product.clone(),
                        grouped(&r.code),
                        r.serial.clone(),
                        r.expiry.clone(),
                        status_word(r, lang),
                    ],
                    style: if r.is_error() {
                        t.error_row
                    } else if r.needs_review() {
                        t.warn
                    } else if r.insert_status == 3 {
                        t.dim
                    } else {
                        t.text
                    },
                }
            },
            detail,
            header_style: t.title,
            selected_style: t.selected,
            detail_style: Style::default(),
        }
        .render(table_area, f.buffer_mut(), &mut self.table);
        if self.view.is_empty() {
            let msg = if self.only_errors && self.search.is_empty() {
                lang.t(
                    "Tidak ada baris salah. Tekan e untuk semua baris.",
                    "No wrong lines. Press e for all lines.",
                )
            } else {
                lang.t(
                    "Tidak ada baris yang cocok. Esc menghapus filter.",
                    "No matching lines. Esc clears the filters.",
                )
            };
            f.render_widget(
                Paragraph::new(Line::styled(msg, t.dim)),
                Rect::new(
                    table_area.x + 2,
                    table_area.y + 1,
                    table_area.width.saturating_sub(2),
                    1,
                ),
            );
        }

        // Footer: filters on the left, position on the right.
        let mut left = vec![];
        if self.only_errors {
            left.push(Span::styled(
                format!("[{}] ", lang.t("hanya salah", "errors only")),
                t.warn,
            ));
        }
        match &self.mode {
            Mode::Search { input } => {
                left.push(Span::styled(
                    format!("{}: ", lang.t("cari", "search")),
                    t.key,
                ));
                let used: usize = left.iter().map(|s| s.width()).sum();
                f.render_widget(Paragraph::new(Line::from(left)), footer);
                let w = footer.width.saturating_sub(used as u16 + 20).min(30);
                input.render(
                    f,
                    Rect::new(footer.x + used as u16, footer.y, w, 1),
                    t.input,
                    true,
                );
            }
            _ => {
                if !self.search.is_empty() {
                    left.push(Span::styled(
                        format!("{}: {} ", lang.t("cari", "search"), self.search),
                        t.warn,
                    ));
                }
                f.render_widget(Paragraph::new(Line::from(left)), footer);
            }
        }
        let pos = if self.view.is_empty() {
            0
        } else {
            self.table.selected + 1
        };
        f.render_widget(
            Paragraph::new(format!(
                "{} {pos} / {} ",
                lang.t("baris", "line"),
                self.view.len()
            ))
            .style(t.dim)
            .right_aligned(),
            footer,
        );
        let editing = matches!(self.mode, Mode::Edit { .. });
        if let (Some(side), Some(r)) = (side, selected.as_ref()) {
            render_row_side(f, side, r, &batch.created_by, &mut self.preview, ctx);
        } else if let (None, true, Some(r), false) =
            (side, self.show_preview, selected.as_ref(), editing)
        {
            // 80 columns: the picture is a toggle, a pane over the right of the table.
            let w = 36.min(table_area.width);
            let pane = Rect::new(
                table_area.x + table_area.width - w,
                table_area.y,
                w,
                table_area.height,
            );
            f.render_widget(Clear, pane);
            render_row_side(f, pane, r, &batch.created_by, &mut self.preview, ctx);
        }
        self.render_popups(f, area, ctx);
        // 80 columns, editing a card: the picture under the edit popup.
        if let (None, true, Some(r)) = (side, editing, selected.as_ref()) {
            if let Some(p) = &r.photo {
                let top = area.y + 1 + 10;
                if area.y + area.height > top + 4 {
                    let pic = Rect::new(
                        area.x + 2,
                        top,
                        area.width.saturating_sub(4).min(76),
                        area.y + area.height - top - 1,
                    );
                    f.render_widget(Clear, pic);
                    self.preview
                        .render(f, pic, p, r.photo_box.as_deref(), t, lang);
                }
            }
        }
    }
}

impl IntakeScreen {
    fn render_popups(&self, f: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let lang = ctx.lang;
        let t = ctx.theme;
        match &self.mode {
            Mode::Prompt {
                input,
                product,
                on_product,
                candidates,
                problem,
                photos,
            } => {
                let h = (9 + candidates.len().min(6)) as u16;
                let w = area.width.saturating_sub(4).min(90);
                let r = Rect::new(
                    area.x + (area.width - w) / 2,
                    area.y + 2,
                    w,
                    h.min(area.height.saturating_sub(2)),
                );
                f.render_widget(Clear, r);
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(t.border)
                    .title(Span::styled(
                        if *photos {
                            lang.t(
                                " Tambah foto voucher (file, folder, atau pola seperti foto/*.jpg) ",
                                " Add voucher photos (a file, a folder, or a pattern like photos/*.jpg) ",
                            )
                        } else {
                            lang.t(" Impor file CSV/TXT ", " Import a CSV/TXT file ")
                        },
                        t.title,
                    ));
                let inner = block.inner(r);
                f.render_widget(block, r);
                let label_w = 8u16;
                let rows = Layout::vertical([
                    Constraint::Length(1),
                    Constraint::Length(1),
                    Constraint::Length(1),
                    Constraint::Length(2),
                    Constraint::Min(0),
                ])
                .split(inner);
                f.render_widget(
                    Paragraph::new(Span::styled(
                        if *photos {
                            lang.t("Foto", "Photos")
                        } else {
                            "File"
                        },
                        t.key,
                    )),
                    rows[0],
                );
                input.render(
                    f,
                    Rect::new(rows[0].x + label_w, rows[0].y, rows[0].width - label_w, 1),
                    t.input,
                    !*on_product,
                );
                f.render_widget(
                    Paragraph::new(Span::styled(lang.t("Produk", "Product"), t.key)),
                    rows[1],
                );
                product.render(
                    f,
                    Rect::new(
                        rows[1].x + label_w,
                        rows[1].y,
                        20.min(rows[1].width - label_w),
                        1,
                    ),
                    t.input,
                    *on_product,
                );
                f.render_widget(
                    Paragraph::new(Span::styled(
                        if *photos {
                            lang.t(
                                "  kosong: produk dari merek kartu",
                                "  empty: product from the card's brand",
                            )
                        } else {
                            lang.t(
                                "  untuk daftar kode|serial tanpa kolom produk",
                                "  for code|serial lists without a product",
                            )
                        },
                        t.dim,
                    )),
                    Rect::new(
                        rows[1].x + label_w + 20,
                        rows[1].y,
                        rows[1].width.saturating_sub(label_w + 20),
                        1,
                    ),
                );
                if let Some(p) = problem {
                    f.render_widget(
                        Paragraph::new(Span::styled(p.clone(), t.error)).wrap(Wrap { trim: true }),
                        rows[3],
                    );
                } else {
                    f.render_widget(
                        Paragraph::new(Span::styled(
                            format!(
                                "{} {}",
                                lang.t("Folder:", "Folder:"),
                                self.base_dir.display()
                            ),
                            t.dim,
                        )),
                        rows[3],
                    );
                }
                let lines: Vec<Line> = candidates
                    .iter()
                    .take(6)
                    .map(|c| Line::styled(format!("  {c}"), t.text))
                    .chain((candidates.len() > 6).then(|| {
                        Line::styled(
                            format!("  ... {} {}", candidates.len() - 6, lang.t("lagi", "more")),
                            t.dim,
                        )
                    }))
                    .collect();
                f.render_widget(Paragraph::new(lines), rows[4]);
            }
            Mode::Edit {
                line,
                fields,
                focus,
                confirmed,
            } => {
                let row = self
                    .batch
                    .as_ref()
                    .and_then(|b| b.rows.iter().find(|r| r.line == *line));
                let card = row.and_then(|r| r.card.as_ref());
                let w = area.width.saturating_sub(4).min(76);
                let h = 10.min(area.height);
                // A card's picture stays in sight: the popup moves left of the side pane
                // (120 columns) or to the top, with the picture under it (80 columns).
                let r = match (row.is_some_and(|r| r.photo.is_some()), area.width >= 112) {
                    (true, true) => Rect::new(area.x + 1, area.y + 2, w, h),
                    (true, false) => Rect::new(area.x + (area.width - w) / 2, area.y + 1, w, h),
                    _ => Rect::new(
                        area.x + (area.width - w) / 2,
                        area.y + (area.height - h) / 2,
                        w,
                        h,
                    ),
                };
                f.render_widget(Clear, r);
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(t.border)
                    .title(Span::styled(
                        format!(" {} {line} ", lang.t("Ubah baris", "Edit line")),
                        t.title,
                    ));
                let inner = block.inner(r);
                f.render_widget(block, r);
                for (i, (_, id, en)) in FIELDS.iter().enumerate() {
                    let y = inner.y + i as u16;
                    if y >= inner.y + inner.height {
                        break;
                    }
                    f.render_widget(
                        Paragraph::new(Span::styled(lang.t(id, en), t.key)),
                        Rect::new(inner.x + 1, y, 14, 1),
                    );
                    let mark_w = if card.is_some() { 12 } else { 0 };
                    fields[i].render(
                        f,
                        Rect::new(inner.x + 16, y, inner.width.saturating_sub(17 + mark_w), 1),
                        t.input,
                        i == *focus,
                    );
                    if let Some(c) = card {
                        let name = FIELDS[i].0;
                        let changed = row.is_some_and(|r| {
                            [&r.product, &r.code, &r.serial, &r.expiry][i] != fields[i].value()
                        });
                        let mark =
                            if confirmed[i] || changed || c.confirmed.iter().any(|x| x == name) {
                                Span::styled(lang.t(" ✓ dicek", " ✓ checked"), t.ok)
                            } else if c.needs_review && c.review_fields.iter().any(|x| x == name) {
                                Span::styled(lang.t(" ? cek", " ? check"), t.warn)
                            } else {
                                Span::raw("")
                            };
                        f.render_widget(
                            Paragraph::new(mark),
                            Rect::new(inner.x + inner.width.saturating_sub(mark_w), y, mark_w, 1),
                        );
                    }
                }
                if let Some(reason) = self
                    .batch
                    .as_ref()
                    .and_then(|b| b.rows.iter().find(|r| r.line == *line))
                    .and_then(|r| row_detail(r, lang).or_else(|| review_hint(r, lang)))
                {
                    let y = inner.y + 5;
                    if y < inner.y + inner.height {
                        f.render_widget(
                            Paragraph::new(Span::styled(reason, t.warn)).wrap(Wrap { trim: true }),
                            Rect::new(
                                inner.x + 1,
                                y,
                                inner.width.saturating_sub(2),
                                inner.y + inner.height - y,
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

fn render_row_side(
    f: &mut Frame,
    area: Rect,
    r: &RowView,
    created_by: &str,
    preview: &mut CardPreview,
    ctx: &RenderCtx,
) {
    let lang = ctx.lang;
    let t = ctx.theme;
    let block = Block::default()
        .borders(Borders::LEFT)
        .border_style(t.border)
        .title(Span::styled(
            if r.photo.is_some() {
                lang.t(" Kartu ", " Card ")
            } else {
                lang.t(" Detail baris ", " Line detail ")
            },
            t.title,
        ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    // A card's picture on top, its fields below.
    let text_area = match &r.photo {
        Some(p) if inner.height >= 12 => {
            let h = (inner.height / 2).clamp(6, 14);
            let [pic, rest] =
                Layout::vertical([Constraint::Length(h), Constraint::Min(1)]).areas(inner);
            preview.render(
                f,
                Rect::new(pic.x + 1, pic.y, pic.width.saturating_sub(1), pic.height),
                p,
                r.photo_box.as_deref(),
                t,
                lang,
            );
            rest
        }
        _ => inner,
    };
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<12}"), t.dim),
            Span::styled(v, t.text),
        ])
    };
    let mark = |field: &str| -> &'static str {
        match &r.card {
            Some(c) if c.confirmed.iter().any(|x| x == field) => " ✓",
            Some(c) if c.needs_review && c.review_fields.iter().any(|x| x == field) => " ?",
            _ => "",
        }
    };
    let mut lines = vec![
        kv(lang.t("Baris", "Line"), r.line.to_string()),
        kv(lang.t("Produk", "Product"), r.product.clone()),
        kv(
            lang.t("Kode", "Code"),
            format!("{}{}", grouped(&r.code), mark("code")),
        ),
        kv("Serial", format!("{}{}", r.serial, mark("serial"))),
        kv(
            lang.t("Kadaluarsa", "Expiry"),
            format!("{}{}", r.expiry, mark("expiry")),
        ),
        kv("Status", status_word(r, lang)),
    ];
    if let Some(c) = &r.card {
        lines.push(kv(
            lang.t("Merek", "Brand"),
            format!(
                "{}  {}%",
                c.brand.clone().unwrap_or_else(|| "-".into()),
                c.confidence
            ),
        ));
        if c.needs_review {
            lines.push(Line::styled(
                format!(
                    "{}: {}",
                    lang.t("Cek", "Review"),
                    crate::ocr::reasons_text(&c.reasons, lang)
                ),
                t.warn,
            ));
        }
        lines.push(Line::styled(c.note.clone(), t.dim));
    } else {
        lines.push(kv(lang.t("Oleh", "By"), created_by.to_string()));
    }
    if let Some(p) = &r.photo {
        let name = std::path::Path::new(p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.clone());
        lines.push(kv(lang.t("Foto", "Photo"), name));
    }
    lines.push(Line::raw(""));
    if let Some(d) = row_detail(r, lang) {
        if let Some(e) = &r.error {
            lines.push(Line::styled(
                format!(
                    "{}: {}",
                    lang.t("Kolom", "Field"),
                    crate::domain::voucher::Field::parse(&e.field)
                        .map(|f| f.label(lang))
                        .unwrap_or(e.field.as_str())
                ),
                t.error,
            ));
        }
        lines.push(Line::styled(d, t.warn));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), text_area);
}

fn render_form(
    f: &mut Frame,
    area: Rect,
    form: &FormState,
    products: &[String],
    rules: &ProductRules,
    ctx: &RenderCtx,
) {
    let lang = ctx.lang;
    let t = ctx.theme;
    let title = match form.batch {
        Some(id) => format!(
            " {} (batch #{id}, {} {}) ",
            lang.t("Form voucher", "Voucher form"),
            form.added,
            lang.t("diketik", "typed")
        ),
        None => format!(" {} ", lang.t("Form voucher", "Voucher form")),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(title, t.title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let values: [String; 4] = std::array::from_fn(|i| form.fields[i].value().to_string());
    let key = io::form_key(&values);
    let dup = match &form.dup {
        Some((k, p)) if *k == key => Some(p.clone()),
        _ => None,
    };
    let clean = !form.incomplete && form.problems.iter().all(Option::is_none);
    for (i, (_, id, en)) in FIELDS.iter().enumerate() {
        let y = inner.y + i as u16;
        if y >= inner.y + inner.height {
            break;
        }
        f.render_widget(
            Paragraph::new(Span::styled(lang.t(id, en), t.key)),
            Rect::new(inner.x + 1, y, 13, 1),
        );
        form.fields[i].render(
            f,
            Rect::new(inner.x + 15, y, 22, 1),
            t.input,
            i == form.focus,
        );
        // A mark beside each field as you type; the reason is spelled out below the fields.
        // While a code or serial is still short, a digit count says how far along it is.
        let digits = values[i].chars().filter(char::is_ascii_digit).count();
        let want = rules
            .get(&key.0)
            .map(|r| if i == 1 { r.code_len } else { r.serial_len });
        let short = (i == 1 || i == 2) && want.is_some_and(|(min, _)| digits < min as usize);
        let long = (i == 1 || i == 2) && want.is_some_and(|(_, max)| digits > max as usize);
        let verdict = match &form.problems[i] {
            Some(_) => Span::styled(lang.t("✗ salah", "✗ wrong"), t.error),
            None if values[i].trim().is_empty() => Span::raw(""),
            None if long => Span::styled(
                format!(
                    "✗ {digits}/{} {}",
                    want.map(|w| w.1).unwrap_or(0),
                    lang.t("digit", "digits")
                ),
                t.error,
            ),
            None if short => Span::styled(
                format!(
                    "{digits}/{} {}",
                    want.map(|w| w.0).unwrap_or(0),
                    lang.t("digit", "digits")
                ),
                t.dim,
            ),
            None if (i == 1 || i == 2) && clean => match &dup {
                Some(Some(_)) => Span::styled(lang.t("✗ sudah ada", "✗ exists"), t.error),
                Some(None) => Span::styled("✓", t.ok),
                None => Span::styled(lang.t("cek duplikat...", "checking duplicates..."), t.dim),
            },
            None => Span::styled("✓", t.ok),
        };
        f.render_widget(
            Paragraph::new(verdict),
            Rect::new(inner.x + 39, y, inner.width.saturating_sub(40), 1),
        );
    }
    let reason = form.problems.iter().flatten().next().cloned().or_else(|| {
        if clean {
            dup.flatten()
        } else {
            None
        }
    });
    let y = inner.y + 4;
    if y < inner.y + inner.height {
        let r = Rect::new(
            inner.x + 1,
            y,
            inner.width.saturating_sub(2),
            inner.y + inner.height - y,
        );
        let text = match reason {
            Some(p) => Line::styled(p, t.error),
            None => Line::styled(
                format!(
                    "{}: {}",
                    lang.t("Produk dikenal", "Known products"),
                    products.join(" ")
                ),
                t.dim,
            ),
        };
        f.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), r);
    }
}

fn render_batches(
    f: &mut Frame,
    area: Rect,
    list: &[BatchSummary],
    state: &mut VTableState,
    ctx: &RenderCtx,
) {
    let lang = ctx.lang;
    let t = ctx.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(
            lang.t(" Batch sebelumnya ", " Earlier batches "),
            t.title,
        ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let columns = [
        Column::new("Batch", Constraint::Length(6)),
        Column::new(lang.t("Waktu", "Time"), Constraint::Length(16)),
        Column::new(lang.t("Sumber", "Source"), Constraint::Length(6)),
        Column::new(lang.t("Oleh", "By"), Constraint::Length(8)),
        Column::new(lang.t("Baris", "Lines"), Constraint::Length(6)),
        Column::new(lang.t("Salah", "Wrong"), Constraint::Length(5)),
        Column::new(lang.t("Masuk", "In"), Constraint::Length(6)),
        Column::new("File", Constraint::Fill(1)),
    ];
    VTable {
        columns: &columns,
        len: list.len(),
        row: |i| {
            let s = &list[i];
            VRow {
                cells: vec![
                    format!("#{}", s.id),
                    s.created_at.replace('T', " ").chars().take(16).collect(),
                    s.source.clone(),
                    s.created_by.clone(),
                    s.rows.to_string(),
                    s.errors.to_string(),
                    s.inserted.to_string(),
                    s.file_name.clone().unwrap_or_default(),
                ],
                style: if s.errors > 0 { t.warn } else { t.text },
            }
        },
        detail: vec![],
        header_style: t.title,
        selected_style: t.selected,
        detail_style: Style::default(),
    }
    .render(inner, f.buffer_mut(), state);
}

impl IntakeScreen {
    fn update_msg(&mut self, action: &Action, ctx: &mut ScreenCtx) -> Vec<Action> {
        let Action::Intake(msg) = action else {
            return vec![];
        };
        let lang = ctx.lang;
        let len = self.view.len();
        let page = 10isize;
        match msg {
            IntakeMsg::Up | IntakeMsg::Down | IntakeMsg::PageUp | IntakeMsg::PageDown => {
                let d = match msg {
                    IntakeMsg::Up => -1,
                    IntakeMsg::Down => 1,
                    IntakeMsg::PageUp => -page,
                    _ => page,
                };
                match &mut self.mode {
                    Mode::Batches { list, state } => state.move_by(d, list.len()),
                    _ => self.table.move_by(d, len),
                }
            }
            IntakeMsg::Home => match &mut self.mode {
                Mode::Batches { state, .. } => state.first(),
                _ => self.table.first(),
            },
            IntakeMsg::End => match &mut self.mode {
                Mode::Batches { list, state } => state.last(list.len()),
                _ => self.table.last(len),
            },
            IntakeMsg::Edit => {
                if let Some(r) = self.selected_row() {
                    if r.insert_status == 3 {
                        return vec![Action::notify(
                            Level::Info,
                            lang.t(
                                "Baris ini sudah masuk stok dan tidak bisa diubah di sini.",
                                "This line is already in stock and cannot be edited here.",
                            ),
                        )];
                    }
                    let values = [&r.product, &r.code, &r.serial, &r.expiry];
                    let review_first = r.card.as_ref().filter(|c| c.needs_review).and_then(|c| {
                        FIELDS.iter().position(|f| {
                            c.review_fields.iter().any(|x| x == f.0)
                                && !c.confirmed.iter().any(|x| x == f.0)
                        })
                    });
                    let focus = r
                        .error
                        .as_ref()
                        .and_then(|e| FIELDS.iter().position(|f| f.0 == e.field))
                        .or(review_first)
                        .unwrap_or(1);
                    self.mode = Mode::Edit {
                        line: r.line,
                        fields: std::array::from_fn(|i| TextInput::new(values[i])),
                        focus,
                        confirmed: [false; 4],
                    };
                }
            }
            IntakeMsg::Drop => {
                if let Some(r) = self.selected_row() {
                    if r.insert_status == 3 {
                        return vec![Action::notify(
                            Level::Info,
                            lang.t(
                                "Baris ini sudah masuk stok; tidak bisa dihapus dari batch.",
                                "This line is already in stock; it cannot be dropped.",
                            ),
                        )];
                    }
                    let line = r.line;
                    self.set_dropped(ctx, line, true);
                }
            }
            IntakeMsg::Undo => match self.undo.pop() {
                Some(line) => self.set_dropped(ctx, line, false),
                None => {
                    return vec![Action::notify(
                        Level::Info,
                        lang.t("Tidak ada yang bisa diurungkan.", "Nothing to undo."),
                    )]
                }
            },
            IntakeMsg::ToggleErrors => {
                self.only_errors = !self.only_errors;
                self.rebuild_view();
            }
            IntakeMsg::Search => {
                self.mode = Mode::Search {
                    input: TextInput::new(&self.search),
                }
            }
            IntakeMsg::OpenFile | IntakeMsg::OpenPhotos => {
                self.mode = Mode::Prompt {
                    input: TextInput::default(),
                    product: TextInput::default(),
                    on_product: false,
                    candidates: Vec::new(),
                    problem: None,
                    photos: matches!(msg, IntakeMsg::OpenPhotos),
                };
                if self.products.is_empty() {
                    self.load_products(ctx);
                }
            }
            IntakeMsg::CancelRead => {
                if let Some(id) = self.reading {
                    ctx.jobs.cancel(id);
                    return vec![Action::notify(
                        Level::Warn,
                        lang.t(
                            "Membatalkan baca foto; kartu yang sudah terbaca tetap disimpan.",
                            "Stopping the photo reading; the cards already read are kept.",
                        ),
                    )];
                }
            }
            IntakeMsg::TogglePreview => self.show_preview = !self.show_preview,
            IntakeMsg::ConfirmField => {
                if let Mode::Edit {
                    focus, confirmed, ..
                } = &mut self.mode
                {
                    confirmed[*focus] = !confirmed[*focus];
                }
            }
            IntakeMsg::Crop(c) => self.preview.loaded(c),
            IntakeMsg::PhotosRead(done) => {
                self.reading = None;
                self.loading = None;
                let mut out = Vec::new();
                for (photo, why) in &done.bad {
                    out.push(Action::notify(Level::Warn, format!("{photo}: {why}")));
                }
                let bad = done.bad.len();
                let text = match (done.batch, lang) {
                    (Some(id), Lang::Id) => format!(
                        "{} foto: {} kartu ke batch #{id}, {} perlu dicek (di atas), {bad} foto gagal{}.",
                        done.photos, done.cards, done.review,
                        if done.not_read > 0 { format!(", {} belum dibaca (dibatalkan)", done.not_read) } else { String::new() }
                    ),
                    (Some(id), Lang::En) => format!(
                        "{} photos: {} cards into batch #{id}, {} to review (on top), {bad} photos failed{}.",
                        done.photos, done.cards, done.review,
                        if done.not_read > 0 { format!(", {} not read (cancelled)", done.not_read) } else { String::new() }
                    ),
                    (None, Lang::Id) => format!(
                        "{} foto dibaca, tidak ada kartu terbaca; tidak ada batch. Lihat pesan (F1, Tab).",
                        done.photos
                    ),
                    (None, Lang::En) => format!(
                        "{} photos read, no card found; no batch. See the messages (F1, Tab).",
                        done.photos
                    ),
                };
                let level = if done.batch.is_none() || bad > 0 || done.review > 0 {
                    Level::Warn
                } else {
                    Level::Ok
                };
                out.push(Action::notify(level, text));
                out.push(Action::Render);
                return out;
            }
            IntakeMsg::Form => {
                let batch = self
                    .batch
                    .as_ref()
                    .filter(|b| b.source == "manual" && b.rows.iter().all(|r| r.insert_status != 3))
                    .map(|b| b.id);
                let mut fields: [TextInput; 4] = Default::default();
                if let Some(p) = self.products.first() {
                    fields[0].set(p);
                }
                self.mode = Mode::Form(Box::new(FormState {
                    fields,
                    focus: 1,
                    problems: Default::default(),
                    dup: None,
                    incomplete: true,
                    batch,
                    added: 0,
                }));
                if self.products.is_empty() {
                    self.load_products(ctx);
                }
                self.form_validate(ctx);
            }
            IntakeMsg::AskConfirm => return self.ask_confirm(ctx),
            IntakeMsg::Batches => {
                self.list_batches(ctx);
            }
            IntakeMsg::Back => match &self.mode {
                Mode::Table => {
                    if self.only_errors || !self.search.is_empty() {
                        self.only_errors = false;
                        self.search.clear();
                        self.rebuild_view();
                    }
                }
                Mode::Search { .. } => {
                    self.search.clear();
                    self.rebuild_view();
                    self.mode = Mode::Table;
                }
                Mode::Form(f) => {
                    let added = f.added;
                    self.mode = Mode::Table;
                    if added > 0 {
                        return vec![Action::notify(
                            Level::Ok,
                            match lang {
                                Lang::Id => format!("{added} voucher diketik ke staging. Tekan C untuk memasukkan ke stok."),
                                Lang::En => format!("{added} vouchers typed into staging. Press C to insert them into stock."),
                            },
                        )];
                    }
                }
                _ => self.mode = Mode::Table,
            },
            IntakeMsg::Next | IntakeMsg::Prev => {
                let fwd = matches!(msg, IntakeMsg::Next);
                match &mut self.mode {
                    Mode::Prompt {
                        input,
                        on_product,
                        photos,
                        ..
                    } => {
                        if *on_product || !fwd {
                            *on_product = !*on_product;
                        } else {
                            // Listing a folder is IO: done in a job, applied if the
                            // text is still what was completed.
                            let typed = input.value().to_string();
                            let base = self.base_dir.clone();
                            let exts: &'static [&'static str] = if *photos {
                                &crate::ocr::PHOTO_EXTS
                            } else {
                                &LIST_EXTS
                            };
                            ctx.jobs.spawn_blocking(
                                lang.t("lengkapi path", "complete path"),
                                move |_| {
                                    let completion = complete_with(&typed, &base, exts);
                                    Ok(Action::Intake(IntakeMsg::Completed { typed, completion }))
                                },
                            );
                        }
                    }
                    Mode::Edit { focus, .. } => {
                        *focus = if fwd {
                            (*focus + 1) % 4
                        } else {
                            (*focus + 3) % 4
                        };
                    }
                    Mode::Form(f) => {
                        f.focus = if fwd {
                            (f.focus + 1) % 4
                        } else {
                            (f.focus + 3) % 4
                        };
                    }
                    _ => {}
                }
            }
            IntakeMsg::Submit => match &self.mode {
                Mode::Prompt { .. } => return self.start_import(ctx),
                Mode::Search { .. } => self.mode = Mode::Table,
                Mode::Edit { .. } => return self.save_edit(ctx),
                Mode::Form(_) => return self.form_submit(ctx),
                Mode::Batches { list, state } => {
                    if let Some(s) = list.get(state.selected) {
                        let id = s.id;
                        self.mode = Mode::Table;
                        self.only_errors = false;
                        self.search.clear();
                        self.load_batch(ctx, id);
                    }
                }
                Mode::Table => {}
            },
            IntakeMsg::Insert(id) => {
                let Some(db) = ctx.db.cloned() else {
                    return vec![];
                };
                let id = *id;
                self.inserting = Some(id);
                let config = ctx.config.clone();
                let tx = ctx.jobs.sender();
                ctx.jobs.spawn_blocking(
                    format!("{} #{id}", lang.t("masukkan", "insert")),
                    move |p| {
                        let (inserted, rejected) =
                            io::insert_batch(&db, id, &config, lang, p, &tx)?;
                        Ok(Action::Intake(IntakeMsg::Inserted {
                            batch: id,
                            inserted,
                            rejected,
                        }))
                    },
                );
            }
            IntakeMsg::Loaded(b) => {
                let b = (**b).clone();
                let new_batch = self.batch.as_ref().map(|x| x.id) != Some(b.id);
                self.loading = None;
                if new_batch {
                    self.table = VTableState::default();
                    self.undo.clear();
                }
                self.batch = Some(b);
                self.rebuild_view();
            }
            IntakeMsg::BatchList(list) => {
                if list.is_empty() {
                    return vec![Action::notify(
                        Level::Info,
                        lang.t(
                            "Belum ada batch. Tekan a untuk memilih file atau f untuk form.",
                            "No batches yet. Press a to choose a file or f for the form.",
                        ),
                    )];
                }
                self.mode = Mode::Batches {
                    list: list.clone(),
                    state: VTableState::default(),
                };
            }
            IntakeMsg::Products(p) => {
                self.products = Arc::new(p.iter().map(|(code, _)| code.clone()).collect());
                self.rules = Arc::new(p.iter().cloned().collect());
                if let Mode::Form(f) = &mut self.mode {
                    if f.fields[0].value().is_empty() {
                        if let Some(first) = p.first() {
                            f.fields[0].set(&first.0);
                        }
                    }
                    self.form_validate(ctx);
                }
            }
            IntakeMsg::RowSaved { line } => {
                let line = *line;
                let err = self
                    .batch
                    .as_ref()
                    .and_then(|b| b.rows.iter().find(|r| r.line == line))
                    .and_then(|r| r.error.clone());
                if let Some(pos) = self.view_position(line) {
                    self.table.selected = pos;
                }
                return vec![match err {
                    None => Action::notify(
                        Level::Ok,
                        match lang {
                            Lang::Id => format!("Baris {line} sudah benar."),
                            Lang::En => format!("Line {line} is valid now."),
                        },
                    ),
                    Some(e) => Action::notify(
                        Level::Warn,
                        match lang {
                            Lang::Id => format!("Baris {line} masih salah: {}", e.detail),
                            Lang::En => format!("Line {line} is still wrong: {}", e.detail),
                        },
                    ),
                }];
            }
            IntakeMsg::RowDropped { line, dropped } => {
                let (line, dropped) = (*line, *dropped);
                if dropped {
                    self.undo.push(line);
                }
                self.rebuild_view();
                if !dropped {
                    if let Some(pos) = self.view_position(line) {
                        self.table.selected = pos;
                    }
                }
                return vec![Action::notify(
                    Level::Info,
                    match (lang, dropped) {
                        (Lang::Id, true) => {
                            format!("Baris {line} dihapus dari batch (u mengurungkan).")
                        }
                        (Lang::Id, false) => format!("Baris {line} dikembalikan."),
                        (Lang::En, true) => format!("Line {line} dropped (u undoes)."),
                        (Lang::En, false) => format!("Line {line} restored."),
                    },
                )];
            }
            IntakeMsg::FormChecked { key, problem } => {
                if let Mode::Form(f) = &mut self.mode {
                    let values: [String; 4] =
                        std::array::from_fn(|i| f.fields[i].value().to_string());
                    if io::form_key(&values) == *key {
                        f.dup = Some((key.clone(), problem.clone()));
                    }
                }
            }
            IntakeMsg::FormSaved { batch } => {
                let batch = *batch;
                if let Mode::Form(f) = &mut self.mode {
                    f.batch = Some(batch);
                    f.added += 1;
                    f.fields[1].clear();
                    f.fields[2].clear();
                    f.focus = 1;
                    f.dup = None;
                }
                self.form_validate(ctx);
                self.load_batch(ctx, batch);
            }
            IntakeMsg::Inserted {
                batch,
                inserted,
                rejected,
            } => {
                self.inserting = None;
                if self.batch.as_ref().map(|b| b.id) == Some(*batch) {
                    self.load_batch(ctx, *batch);
                }
                let (_, errors, _) = self.counts();
                let text = match lang {
                    Lang::Id => format!(
                        "Batch #{batch}: {inserted} voucher masuk ke stok, {rejected} ditolak. {} baris salah tetap di staging.",
                        errors as u64 + rejected
                    ),
                    Lang::En => format!(
                        "Batch #{batch}: {inserted} vouchers inserted, {rejected} rejected. {} wrong lines stay in staging.",
                        errors as u64 + rejected
                    ),
                };
                return vec![
                    Action::notify(
                        if *rejected > 0 {
                            Level::Warn
                        } else {
                            Level::Ok
                        },
                        text,
                    ),
                    Action::Stock(crate::tui::screens::stock::StockMsg::Refresh),
                ];
            }
            IntakeMsg::NothingOpen => self.loading = None,
            IntakeMsg::Completed { typed, completion } => {
                if let Mode::Prompt {
                    input,
                    on_product,
                    candidates,
                    problem,
                    photos,
                    ..
                } = &mut self.mode
                {
                    if input.value() == typed && !*on_product {
                        let unchanged = completion.input == *typed;
                        input.set(&completion.input);
                        *problem = None;
                        *candidates = completion.candidates.clone();
                        if candidates.is_empty() {
                            *problem = Some(if *photos {
                                lang.t(
                                    "Tidak ada folder atau foto (.jpg/.png/...) yang cocok.",
                                    "No matching folder or photo (.jpg/.png/...).",
                                )
                                .into()
                            } else {
                                lang.t(
                                    "Tidak ada folder atau file .csv/.txt yang cocok.",
                                    "No matching folder or .csv/.txt file.",
                                )
                                .into()
                            });
                        } else if unchanged && candidates.len() == 1 {
                            // Already complete: Tab moves on to the product.
                            *on_product = true;
                        }
                    }
                }
            }
            IntakeMsg::ImportFailed(fail) => {
                self.loading = None;
                if let (Some(_), Some((_, _, true))) = (self.reading, &self.last_import) {
                    self.reading = None;
                }
                if fail.cancelled {
                    return vec![Action::notify(Level::Warn, fail.message.clone())];
                }
                // Back to the prompt with what was typed, so the fix is one field away.
                let (path, product, photos) = self.last_import.clone().unwrap_or_default();
                self.mode = Mode::Prompt {
                    input: TextInput::new(&path),
                    product: TextInput::new(&product),
                    on_product: fail.need_product,
                    candidates: Vec::new(),
                    problem: Some(fail.message.clone()),
                    photos,
                };
                return vec![Action::notify(Level::Error, fail.message.clone())];
            }
        }
        if let Mode::Batches { list, state } = &mut self.mode {
            state.clamp(list.len());
        }
        vec![Action::Render]
    }
}
