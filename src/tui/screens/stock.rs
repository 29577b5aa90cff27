//! F3 Stok: per product in stock / sold / used / expiring soon, and a search by serial or code
//! that shows one voucher's whole story.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::config::Config;
use crate::i18n::Lang;
use crate::tui::action::{Action, Level};
use crate::tui::keys::{Binding, Key};
use crate::tui::screen::{RenderCtx, Screen, ScreenCtx, ScreenId};
use crate::tui::screens::intake_io as io;
use crate::tui::widgets::input::TextInput;
use crate::tui::widgets::preview::{CardPreview, CropLoaded};
use crate::tui::widgets::vtable::{Column, VRow, VTable, VTableState};

pub use crate::store::intake::StockRow;
pub use crate::tui::screens::intake_io::Found;

#[derive(Debug, Clone)]
pub enum StockMsg {
    Up,
    Down,
    Refresh,
    Search,
    Submit,
    Back,
    Loaded(Arc<Vec<StockRow>>),
    Found {
        query: String,
        hits: Arc<Vec<Found>>,
    },
    /// The card picture of a hit was decoded (or could not be).
    Crop(CropLoaded),
}

enum Mode {
    Table,
    Search(TextInput),
    Result {
        query: String,
        hits: Arc<Vec<Found>>,
        selected: usize,
    },
}

pub struct StockScreen {
    rows: Arc<Vec<StockRow>>,
    loaded: bool,
    table: VTableState,
    mode: Mode,
    /// The searched voucher's card picture.
    preview: CardPreview,
}

impl StockScreen {
    pub fn new(_config: &Config) -> StockScreen {
        StockScreen {
            rows: Arc::new(Vec::new()),
            loaded: false,
            table: VTableState::default(),
            mode: Mode::Table,
            preview: CardPreview::default(),
        }
    }

    /// Starts loading the picture of the hit shown, if it came from a photo.
    fn want_preview(&mut self, ctx: &mut ScreenCtx) {
        let Mode::Result { hits, selected, .. } = &self.mode else {
            return;
        };
        let Some(v) = hits.get(*selected).map(|h| &h.voucher) else {
            return;
        };
        if let Some(p) = v.photo_path.clone() {
            let bx = v.photo_box.clone();
            self.preview.request(
                ctx.jobs,
                ctx.lang.t("foto kartu", "card photo"),
                &p,
                bx.as_deref(),
                |c| Action::Stock(StockMsg::Crop(c)),
            );
        }
    }

    fn refresh(&mut self, ctx: &mut ScreenCtx) {
        let Some(db) = ctx.db.cloned() else { return };
        let today = ctx.now.date();
        let days = ctx.config.stock.expiring_days;
        let config = ctx.config.clone();
        ctx.jobs
            .spawn_blocking(ctx.lang.t("muat stok", "load stock"), move |_| {
                let rows = io::stock(&db, &config, today, days)?;
                Ok(Action::Stock(StockMsg::Loaded(Arc::new(rows))))
            });
    }
}

fn status_name(s: &str, lang: Lang) -> &'static str {
    match s {
        "stock" => lang.t("di stok", "in stock"),
        "sold" => lang.t("terjual", "sold"),
        "used" => lang.t("terpakai", "used"),
        "new" => lang.t("di staging (belum dikonfirmasi)", "staged (not confirmed)"),
        "queued" => lang.t("di staging (antri)", "staged (queued)"),
        "rejected" => lang.t("di staging (ditolak)", "staged (rejected)"),
        _ => lang.t("sudah masuk", "inserted"),
    }
}

fn sb(key: Key, label: (&'static str, &'static str), m: StockMsg) -> Binding {
    Binding::new(key, label, Action::Stock(m))
}

impl Screen for StockScreen {
    fn id(&self) -> ScreenId {
        ScreenId::Stock
    }

    fn bindings(&self, _lang: Lang) -> Vec<Binding> {
        let enter = Key::plain(KeyCode::Enter);
        let esc = Key::plain(KeyCode::Esc);
        let up = sb(Key::plain(KeyCode::Up), ("naik", "up"), StockMsg::Up)
            .also(Key::ch('k'))
            .quiet();
        let down = sb(Key::plain(KeyCode::Down), ("turun", "down"), StockMsg::Down)
            .also(Key::ch('j'))
            .quiet();
        match self.mode {
            Mode::Table => vec![
                sb(
                    Key::ch('/'),
                    ("cari serial/kode", "find serial/code"),
                    StockMsg::Search,
                )
                .help(
                    "cari voucher menurut serial atau kode: status, batch, siapa, foto",
                    "find a voucher by serial or code: status, batch, who, photo",
                ),
                sb(Key::ch('r'), ("muat ulang", "refresh"), StockMsg::Refresh),
                up,
                down,
            ],
            Mode::Search(_) => vec![
                sb(enter, ("cari", "search"), StockMsg::Submit),
                sb(esc, ("batal", "cancel"), StockMsg::Back),
            ],
            Mode::Result { ref hits, .. } => {
                let mut down = down;
                down.label = ("hasil lain", "next hit");
                down.hint = hits.len() > 1;
                vec![
                    sb(
                        Key::ch('/'),
                        ("cari lagi", "search again"),
                        StockMsg::Search,
                    ),
                    sb(esc, ("tutup", "close"), StockMsg::Back).also(enter),
                    down,
                    up,
                ]
            }
        }
    }

    fn handle_key(&mut self, key: KeyEvent, _ctx: &mut ScreenCtx) -> Option<Action> {
        if let Mode::Search(input) = &mut self.mode {
            input.handle(&key);
        }
        Some(Action::Render)
    }

    fn on_show(&mut self, ctx: &mut ScreenCtx) -> Vec<Action> {
        self.refresh(ctx);
        vec![]
    }

    fn update(&mut self, action: &Action, ctx: &mut ScreenCtx) -> Vec<Action> {
        let Action::Stock(msg) = action else {
            return vec![];
        };
        let lang = ctx.lang;
        match msg {
            StockMsg::Up | StockMsg::Down => {
                let d = if matches!(msg, StockMsg::Up) { -1 } else { 1 };
                match &mut self.mode {
                    Mode::Result { hits, selected, .. } => {
                        *selected = (*selected as isize + d)
                            .clamp(0, hits.len().max(1) as isize - 1)
                            as usize;
                    }
                    _ => self.table.move_by(d, self.rows.len()),
                }
            }
            StockMsg::Refresh => {
                // Also sent by F2 after an insert, so only reload what was already shown.
                if self.loaded {
                    self.refresh(ctx);
                }
            }
            StockMsg::Search => self.mode = Mode::Search(TextInput::default()),
            StockMsg::Back => self.mode = Mode::Table,
            StockMsg::Submit => {
                if let Mode::Search(input) = &self.mode {
                    let query: String = input
                        .value()
                        .chars()
                        .filter(|c| !c.is_whitespace() && *c != '-')
                        .collect();
                    if query.is_empty() {
                        self.mode = Mode::Table;
                        return vec![];
                    }
                    let Some(db) = ctx.db.cloned() else {
                        return vec![];
                    };
                    let config = ctx.config.clone();
                    ctx.jobs
                        .spawn_blocking(lang.t("cari voucher", "find voucher"), move |_| {
                            let hits = io::find_voucher(&db, &config, &query)?;
                            Ok(Action::Stock(StockMsg::Found {
                                query,
                                hits: Arc::new(hits),
                            }))
                        });
                }
            }
            StockMsg::Loaded(rows) => {
                self.rows = rows.clone();
                self.loaded = true;
                self.table.clamp(self.rows.len());
            }
            StockMsg::Found { query, hits } => {
                if hits.is_empty() {
                    self.mode = Mode::Search(TextInput::new(query));
                    return vec![Action::notify(
                        Level::Warn,
                        match lang {
                            Lang::Id => format!(
                                "Tidak ada voucher dengan serial atau kode {query}. Periksa angkanya, atau cek F2 apakah masih di staging."
                            ),
                            Lang::En => format!(
                                "No voucher has serial or code {query}. Check the digits, or look in F2 whether it is still staged."
                            ),
                        },
                    )];
                }
                self.mode = Mode::Result {
                    query: query.clone(),
                    hits: hits.clone(),
                    selected: 0,
                };
            }
            StockMsg::Crop(c) => self.preview.loaded(c),
        }
        self.want_preview(ctx);
        vec![Action::Render]
    }

    fn render(&mut self, f: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let lang = ctx.lang;
        let t = ctx.theme;
        let low = u64::from(ctx.config.stock.low_stock);
        let days = ctx.config.stock.expiring_days;
        let wide = area.width >= 110 && matches!(self.mode, Mode::Result { .. });
        let (main, side) = if wide {
            let [a, b] =
                Layout::horizontal([Constraint::Min(60), Constraint::Length(52)]).areas(area);
            (a, Some(b))
        } else {
            (area, None)
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border)
            .title(Span::styled(
                lang.t(" Stok per produk ", " Stock per product "),
                t.title,
            ))
            .title(
                Line::from(Span::styled(
                    format!(
                        " {} {} ",
                        lang.t("hari ini", "today"),
                        ctx.now.format("%d/%m/%Y")
                    ),
                    t.dim,
                ))
                .right_aligned(),
            );
        let inner = block.inner(main);
        f.render_widget(block, main);
        let [table_area, footer] =
            Layout::vertical([Constraint::Min(2), Constraint::Length(1)]).areas(inner);
        let exp_title = match lang {
            Lang::Id => format!("Exp ≤{days} hari"),
            Lang::En => format!("Exp ≤{days} days"),
        };
        let columns = [
            Column::new(lang.t("Produk", "Product"), Constraint::Length(9)),
            Column::new(lang.t("Nama", "Name"), Constraint::Max(24)),
            Column::new(lang.t("Stok", "Stock"), Constraint::Length(8)),
            Column::new(lang.t("Terjual", "Sold"), Constraint::Length(7)),
            Column::new(lang.t("Terpakai", "Used"), Constraint::Length(8)),
            Column::new(exp_title, Constraint::Min(13)),
        ];
        let rows = &self.rows;
        VTable {
            columns: &columns,
            len: rows.len(),
            row: |i| {
                let r = &rows[i];
                let is_low = r.in_stock < low as i64;
                VRow {
                    cells: vec![
                        r.product.clone(),
                        r.name.clone(),
                        format!("{:>5}{}", r.in_stock, if is_low { " ⚠" } else { "" }),
                        format!("{:>7}", r.sold),
                        format!("{:>8}", r.used),
                        format!("{:>8}", r.expiring),
                    ],
                    style: if is_low { t.warn } else { t.text },
                }
            },
            detail: vec![],
            header_style: t.title,
            selected_style: t.selected,
            detail_style: Style::default(),
        }
        .render(table_area, f.buffer_mut(), &mut self.table);
        if self.loaded && self.rows.is_empty() {
            f.render_widget(
                Paragraph::new(Line::styled(
                    lang.t(
                        "Belum ada produk. Jalankan `konter init --demo` atau tambah produk.",
                        "No products yet. Run `konter init --demo` or add products.",
                    ),
                    t.dim,
                )),
                Rect::new(
                    table_area.x + 2,
                    table_area.y + 1,
                    table_area.width.saturating_sub(2),
                    1,
                ),
            );
        }
        let legend = match lang {
            Lang::Id => format!("⚠ stok di bawah {low}"),
            Lang::En => format!("⚠ stock below {low}"),
        };
        match &self.mode {
            Mode::Search(input) => {
                let label = lang.t("serial/kode: ", "serial/code: ");
                f.render_widget(Paragraph::new(Span::styled(label, t.key)), footer);
                let x = footer.x + label.chars().count() as u16;
                input.render(
                    f,
                    Rect::new(x, footer.y, 24.min(footer.width), 1),
                    t.input,
                    true,
                );
            }
            _ => f.render_widget(Paragraph::new(Span::styled(legend, t.dim)), footer),
        }
        if let Mode::Result {
            query,
            hits,
            selected,
        } = &self.mode
        {
            let r = match side {
                Some(s) => s,
                None => {
                    let w = 60.min(area.width);
                    // A voucher from a photo gets the whole height: its card sits below.
                    let photo = hits
                        .get(*selected)
                        .is_some_and(|h| h.voucher.photo_path.is_some());
                    let h = if photo {
                        area.height
                    } else {
                        16.min(area.height)
                    };
                    Rect::new(area.x + area.width - w, area.y + area.height - h, w, h)
                }
            };
            render_detail(f, r, query, hits, *selected, &mut self.preview, ctx);
        }
    }
}

fn render_detail(
    f: &mut Frame,
    area: Rect,
    query: &str,
    hits: &[Found],
    selected: usize,
    preview: &mut CardPreview,
    ctx: &RenderCtx,
) {
    let lang = ctx.lang;
    let t = ctx.theme;
    f.render_widget(Clear, area);
    let title = if hits.len() > 1 {
        format!(" {query}: {} / {} ", selected + 1, hits.len())
    } else {
        format!(" {query} ")
    };
    let Some(found) = hits.get(selected) else {
        return;
    };
    let v = &found.voucher;
    let kv = |k: &str, val: String, style: Style| {
        Line::from(vec![
            Span::styled(format!(" {k:<16}"), t.dim),
            Span::styled(val, style),
        ])
    };
    let none = "-".to_string();
    let status_style = match v.status.as_str() {
        "stock" => t.ok,
        "sold" => t.info,
        "used" => t.dim,
        _ => t.warn,
    };
    let mut lines = vec![
        kv(lang.t("Produk", "Product"), v.product.clone(), t.text),
        kv(lang.t("Kode", "Code"), v.code.clone(), t.text),
        kv("Serial", v.serial.clone(), t.text),
        kv(
            "Status",
            if v.place == "otomax" {
                format!("{} (OtoMaX)", status_name(&v.status, lang))
            } else {
                status_name(&v.status, lang).into()
            },
            status_style,
        ),
        kv(
            lang.t("Kadaluarsa", "Expiry"),
            if v.expiry.is_empty() {
                none.clone()
            } else {
                v.expiry.clone()
            },
            t.text,
        ),
        kv(
            lang.t("Masuk", "Entered"),
            v.entry_at.replace('T', " "),
            t.text,
        ),
        kv(
            "Batch",
            match (&v.batch_id, &found.batch_file, &found.batch_source) {
                (Some(id), Some(f), _) => format!("#{id} {f}"),
                (Some(id), None, Some(s)) => format!("#{id} ({s})"),
                (Some(id), None, None) => format!("#{id}"),
                _ => none.clone(),
            },
            t.text,
        ),
        kv(
            lang.t("Dimasukkan oleh", "Entered by"),
            v.created_by.clone().unwrap_or_else(|| none.clone()),
            t.text,
        ),
    ];
    if let Some(line) = v.line {
        lines.push(kv(
            lang.t("Baris file", "File line"),
            line.to_string(),
            t.text,
        ));
    }
    if let Some(s) = &v.sold_at {
        lines.push(kv(lang.t("Terjual", "Sold"), s.replace('T', " "), t.text));
    }
    if let Some(u) = &v.used_at {
        lines.push(kv(lang.t("Terpakai", "Used"), u.replace('T', " "), t.text));
    }
    lines.push(kv(
        lang.t("Foto", "Photo"),
        v.photo_path
            .clone()
            .unwrap_or_else(|| lang.t("tidak ada foto", "no photo").into()),
        t.text,
    ));
    if let Some(b) = &v.photo_box {
        lines.push(kv(lang.t("Kotak kartu", "Card box"), b.clone(), t.dim));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border)
        .title(Span::styled(title, t.title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    // The card's picture under its details, in whatever height is left.
    let text_h = (lines.len() as u16 + 1).min(inner.height);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        Rect::new(inner.x, inner.y, inner.width, text_h),
    );
    if let Some(p) = &v.photo_path {
        let pic_h = inner.height.saturating_sub(text_h);
        if pic_h >= 3 {
            preview.render(
                f,
                Rect::new(
                    inner.x + 1,
                    inner.y + text_h,
                    inner.width.saturating_sub(2),
                    pic_h,
                ),
                p,
                v.photo_box.as_deref(),
                t,
                lang,
            );
        }
    }
}
