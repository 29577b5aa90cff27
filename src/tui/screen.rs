//! The screen trait and the F-key map.

use std::sync::Arc;

use chrono::NaiveDateTime;
use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::Frame;

use crate::config::Config;
use crate::i18n::Lang;
use crate::tui::action::Action;
use crate::tui::data::Db;
use crate::tui::jobs::Jobs;
use crate::tui::keys::Binding;
use crate::tui::theme::Theme;

/// Every screen of design.md, in F-key order. A screen that is not built yet still has an id,
/// so its F-key can say honestly that it is not available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScreenId {
    Intake,
    Stock,
    Hotspot,
    Rusak,
    Setoran,
    Faktur,
    Kasir,
    Dasbor,
}

impl ScreenId {
    pub const ALL: [ScreenId; 8] = [
        ScreenId::Intake,
        ScreenId::Stock,
        ScreenId::Hotspot,
        ScreenId::Rusak,
        ScreenId::Setoran,
        ScreenId::Faktur,
        ScreenId::Kasir,
        ScreenId::Dasbor,
    ];

    /// F2..F9 (F1 is help).
    pub fn fkey(self) -> u8 {
        self as u8 + 2
    }

    pub fn from_fkey(n: u8) -> Option<ScreenId> {
        ScreenId::ALL.get(usize::from(n.checked_sub(2)?)).copied()
    }

    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            ScreenId::Intake => lang.t("Masuk", "Intake"),
            ScreenId::Stock => lang.t("Stok", "Stock"),
            ScreenId::Hotspot => "Hotspot",
            ScreenId::Rusak => lang.t("Rusak/Retur", "Faulty/Return"),
            ScreenId::Setoran => lang.t("Setoran", "Settlement"),
            ScreenId::Faktur => lang.t("Faktur", "Invoices"),
            ScreenId::Kasir => lang.t("Kasir", "Sales"),
            ScreenId::Dasbor => lang.t("Dasbor", "Dashboard"),
        }
    }
}

/// What a screen may use while handling a key or an action. Slow work goes through `jobs`.
pub struct ScreenCtx<'a> {
    pub lang: Lang,
    pub config: &'a Config,
    pub jobs: &'a mut Jobs,
    /// The SQLite store; `None` only in shell tests without a database.
    pub db: Option<&'a Arc<Db>>,
    /// The clock, read once per event by the app so rules stay pure and snapshots stable.
    pub now: NaiveDateTime,
}

/// What a screen gets while drawing.
pub struct RenderCtx<'a> {
    pub lang: Lang,
    pub theme: &'a Theme,
    pub config: &'a Config,
    pub now: NaiveDateTime,
}

pub trait Screen {
    fn id(&self) -> ScreenId;

    /// The keys of the current mode. Matched in order before [`Screen::handle_key`] sees the
    /// key; the hint bar and the F1 help are drawn from this list.
    fn bindings(&self, lang: Lang) -> Vec<Binding>;

    /// Keys no binding took (typing into a field, say). Global keys are F-keys, Alt+digit and
    /// Ctrl combinations only, so plain letters always reach a focused field.
    fn handle_key(&mut self, _key: KeyEvent, _ctx: &mut ScreenCtx) -> Option<Action> {
        None
    }

    /// Reacts to an action (its own messages, job results). Returns follow-up actions.
    fn update(&mut self, action: &Action, ctx: &mut ScreenCtx) -> Vec<Action>;

    /// Called when the screen is shown, e.g. to refresh its data through a job.
    fn on_show(&mut self, _ctx: &mut ScreenCtx) -> Vec<Action> {
        Vec::new()
    }

    /// Draws the body (between the tab bar and the hint line).
    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx);

    /// A short line for the status bar (e.g. "3 baris salah").
    fn status(&self, _lang: Lang) -> Option<String> {
        None
    }
}
