//! Hotspot jobs above the RouterOS client: sync, voucher generation, printing, CLI, F4.

pub mod cli;
pub mod f4;
pub mod generate;
pub mod print;
pub mod screen;
pub mod sync;
