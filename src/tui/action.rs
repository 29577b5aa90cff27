//! Everything that can happen in the UI, as one enum: keys map to actions, jobs finish with
//! actions, and [`crate::tui::app::App::dispatch`] applies them in one place.

use crate::tui::jobs::{JobEvent, JobId};
use crate::tui::screen::ScreenId;
use crate::tui::screens::intake::IntakeMsg;
use crate::tui::screens::stock::StockMsg;
use crate::tui::status::{Backend, ConnState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Warn,
    Error,
}

/// A question to ask before doing something that cannot be undone cheaply. The popup names the
/// exact effect; it defaults to "Batal".
#[derive(Debug, Clone)]
pub struct Confirm {
    pub title: String,
    pub body: String,
    /// The label of the "yes" button, naming the effect ("Masukkan", "Keluar").
    pub yes: String,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// Leave the program (asks first while jobs are running).
    Quit,
    /// Leave now, no questions.
    ForceQuit,
    Tick,
    /// Something changed that must be drawn; merged with other requests into one frame.
    Render,
    Resize(u16, u16),
    Goto(ScreenId),
    /// F1: open or close the help overlay.
    Help,
    /// F1 then Tab: the message log.
    Messages,
    CloseOverlay,
    /// A toast plus a line in the message log.
    Notify(Level, String),
    Conn(Backend, ConnState),
    Job(JobEvent),
    CancelJobs,
    CancelJob(JobId),
    /// Ask first: opens the confirm popup for the inner action.
    Confirm(Box<Confirm>),
    /// The user said yes to a confirm popup: run the inner action.
    Confirmed(Box<Action>),
    /// Several actions in order (a job that both notifies and refreshes, say).
    Batch(Vec<Action>),
    Intake(IntakeMsg),
    Stock(StockMsg),
    Hotspot(crate::tui::screens::hotspot::HotspotMsg),
}

impl Action {
    pub fn notify(level: Level, text: impl Into<String>) -> Action {
        Action::Notify(level, text.into())
    }
}
