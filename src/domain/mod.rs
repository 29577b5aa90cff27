//! Pure rules: plain values in, values out. No IO, no clock, no terminal.

pub mod card;
pub mod hotspot;
pub mod voucher;
