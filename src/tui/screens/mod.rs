//! The screens that exist. Register a new one in [`build`]; see the module doc of `tui`.

pub mod hotspot;
pub mod intake;
pub mod intake_io;
#[cfg(test)]
mod photo_tests;
pub mod stock;
#[cfg(test)]
mod tests;

use crate::config::Config;
use crate::tui::screen::Screen;

pub fn build(config: &Config) -> Vec<Box<dyn Screen>> {
    vec![
        Box::new(intake::IntakeScreen::new(config)),
        Box::new(stock::StockScreen::new(config)),
        Box::new(hotspot::HotspotTab::new(config)),
    ]
}
