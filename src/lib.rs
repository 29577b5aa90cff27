//! konter: the counter tool of a konter pulsa / wartel. The TUI and the CLI are two faces of one
//! core: domain rules (pure), adapters (SQLite store, OtoMaX, RouterOS, OCR) and jobs.

pub mod cli;
pub mod config;
pub mod domain;
pub mod hotspot;
pub mod i18n;
pub mod import;
pub mod jobs;
pub mod ledger;
pub mod logging;
pub mod ocr;
pub mod otomax;
pub mod routeros;
pub mod serve;
pub mod store;
pub mod tui;
