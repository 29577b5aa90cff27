//! Reusable pieces: a table that builds only its visible rows, a text input, a path prompt
//! with completion, and helpers for popups.

pub mod input;
pub mod path;
pub mod preview;
pub mod vtable;

use ratatui::layout::Rect;

/// A centred rectangle of the given percentages of `area`.
pub fn popup_area(area: Rect, pct_x: u16, pct_y: u16) -> Rect {
    let w = (area.width as u32 * pct_x as u32 / 100) as u16;
    let h = (area.height as u32 * pct_y as u32 / 100) as u16;
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
