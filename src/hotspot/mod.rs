//! Hotspot jobs above the RouterOS client: sync, voucher generation, printing, CLI, F4.

pub mod print;
pub mod screen;
