//! A table that builds only the rows it shows. ratatui's `Table` wants every row up front,
//! which is slow at 100k rows; here the caller hands a function that makes row `i`, and it is
//! called only for the visible window. An optional detail line opens under the selected row.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::Widget;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VTableState {
    pub selected: usize,
    pub offset: usize,
}

impl VTableState {
    pub fn clamp(&mut self, len: usize) {
        if len == 0 {
            self.selected = 0;
            self.offset = 0;
        } else if self.selected >= len {
            self.selected = len - 1;
        }
    }

    pub fn move_by(&mut self, delta: isize, len: usize) {
        if len == 0 {
            return;
        }
        let s = self.selected as isize + delta;
        self.selected = s.clamp(0, len as isize - 1) as usize;
    }

    pub fn first(&mut self) {
        self.selected = 0;
    }

    pub fn last(&mut self, len: usize) {
        self.selected = len.saturating_sub(1);
    }

    /// Moves the window so the selected row (and its detail lines) is visible.
    pub fn scroll_into_view(&mut self, rows_visible: usize, detail_lines: usize) {
        let room = rows_visible.saturating_sub(detail_lines).max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + room {
            self.offset = self.selected + 1 - room;
        }
    }
}

pub struct Column {
    pub title: String,
    pub width: Constraint,
}

impl Column {
    pub fn new(title: impl Into<String>, width: Constraint) -> Column {
        Column {
            title: title.into(),
            width,
        }
    }
}

pub struct VRow {
    pub cells: Vec<String>,
    pub style: Style,
}

pub struct VTable<'a, F: FnMut(usize) -> VRow> {
    pub columns: &'a [Column],
    pub len: usize,
    pub row: F,
    pub detail: Vec<Line<'a>>,
    pub header_style: Style,
    pub selected_style: Style,
    pub detail_style: Style,
}

impl<'a, F: FnMut(usize) -> VRow> VTable<'a, F> {
    /// Draws the window into `buf`; returns how many rows were built.
    pub fn render(mut self, area: Rect, buf: &mut Buffer, state: &mut VTableState) -> usize {
        if area.height == 0 || area.width < 3 {
            return 0;
        }
        state.clamp(self.len);
        let body_h = (area.height - 1) as usize;
        let detail_n = if self.len > 0 { self.detail.len() } else { 0 };
        state.scroll_into_view(body_h, detail_n);

        let cells_area = Rect::new(area.x + 2, area.y, area.width - 2, 1);
        let cols: Vec<Rect> = Layout::horizontal(self.columns.iter().map(|c| c.width))
            .spacing(1)
            .split(cells_area)
            .to_vec();
        for (c, r) in self.columns.iter().zip(&cols) {
            buf.set_stringn(r.x, area.y, &c.title, r.width as usize, self.header_style);
        }

        let mut y = area.y + 1;
        let bottom = area.y + area.height;
        let mut built = 0;
        let mut i = state.offset;
        while i < self.len && y < bottom {
            let row = (self.row)(i);
            built += 1;
            let selected = i == state.selected;
            let style = if selected {
                row.style.patch(self.selected_style)
            } else {
                row.style
            };
            let line = Rect::new(area.x, y, area.width, 1);
            buf.set_style(line, style);
            if selected {
                buf.set_string(area.x, y, "▶", style);
            }
            for (text, r) in row.cells.iter().zip(&cols) {
                let dx = r.x - area.x;
                let w = r.width.min(area.width - dx) as usize;
                buf.set_stringn(r.x, y, text, w, style);
            }
            y += 1;
            if selected {
                for d in &self.detail {
                    if y >= bottom {
                        break;
                    }
                    let r = Rect::new(area.x + 4, y, area.width.saturating_sub(4), 1);
                    buf.set_style(Rect::new(area.x, y, area.width, 1), self.detail_style);
                    d.clone().style(self.detail_style).render(r, buf);
                    y += 1;
                }
            }
            i += 1;
        }
        built
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn cols() -> Vec<Column> {
        vec![
            Column::new("#", Constraint::Length(7)),
            Column::new("Kode", Constraint::Length(20)),
            Column::new("Status", Constraint::Fill(1)),
        ]
    }

    #[test]
    fn builds_only_visible_rows_of_100k() {
        let area = Rect::new(0, 0, 80, 20);
        let mut buf = Buffer::empty(area);
        let mut state = VTableState::default();
        let columns = cols();
        let len = 100_000;
        let mut calls = Vec::new();
        state.last(len);
        let start = Instant::now();
        let built = VTable {
            columns: &columns,
            len,
            row: |i| {
                calls.push(i);
                VRow {
                    cells: vec![(i + 1).to_string(), format!("{i:016}"), "ok".into()],
                    style: Style::default(),
                }
            },
            detail: vec![Line::raw("alasan")],
            header_style: Style::default(),
            selected_style: Style::default(),
            detail_style: Style::default(),
        }
        .render(area, &mut buf, &mut state);
        assert!(start.elapsed().as_millis() < 500, "{:?}", start.elapsed());
        // 19 body lines, one taken by the detail line under the last row.
        assert_eq!(built, 18);
        assert_eq!(calls.first(), Some(&(len - 18)));
        assert_eq!(calls.last(), Some(&(len - 1)));
        assert_eq!(state.offset, len - 18);
        let last_line: String = (0..80).map(|x| buf[(x, 19)].symbol().to_string()).collect();
        assert!(last_line.contains("alasan"), "{last_line}");
    }

    #[test]
    fn window_follows_selection_both_ways() {
        let mut s = VTableState::default();
        s.move_by(30, 100);
        s.scroll_into_view(10, 1);
        assert_eq!((s.selected, s.offset), (30, 22));
        s.move_by(-25, 100);
        s.scroll_into_view(10, 1);
        assert_eq!((s.selected, s.offset), (5, 5));
        s.move_by(-100, 100);
        assert_eq!(s.selected, 0);
        s.move_by(1000, 100);
        assert_eq!(s.selected, 99);
        s.clamp(10);
        assert_eq!(s.selected, 9);
    }
}
