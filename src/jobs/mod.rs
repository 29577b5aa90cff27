//! Jobs: the work behind both faces. The CLI calls them directly; the TUI runs them on a
//! blocking thread and turns their progress callbacks into messages. Each takes a cancel flag.

pub mod intake;
pub mod photos;
