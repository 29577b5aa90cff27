//! Hotspot jobs above the RouterOS client: sync, voucher generation, printing, CLI.

pub mod print;
