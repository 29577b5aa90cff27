//! A one-line text input with a cursor.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

#[derive(Debug, Clone, Default)]
pub struct TextInput {
    value: String,
    /// Cursor position in chars.
    cursor: usize,
}

impl TextInput {
    pub fn new(value: &str) -> TextInput {
        TextInput {
            value: value.to_string(),
            cursor: value.chars().count(),
        }
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    pub fn set(&mut self, value: &str) {
        self.value = value.to_string();
        self.cursor = value.chars().count();
    }

    pub fn clear(&mut self) {
        self.set("");
    }

    fn byte_at(&self, char_idx: usize) -> usize {
        self.value
            .char_indices()
            .nth(char_idx)
            .map(|(b, _)| b)
            .unwrap_or(self.value.len())
    }

    /// Applies an editing key; returns true if the key was an edit or a cursor move.
    pub fn handle(&mut self, k: &KeyEvent) -> bool {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Char('u') if ctrl => self.clear(),
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.value.chars().count(),
            KeyCode::Char(c) if !ctrl && !k.modifiers.contains(KeyModifiers::ALT) => {
                let b = self.byte_at(self.cursor);
                self.value.insert(b, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let b = self.byte_at(self.cursor);
                self.value.remove(b);
            }
            KeyCode::Delete if self.cursor < self.value.chars().count() => {
                let b = self.byte_at(self.cursor);
                self.value.remove(b);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.value.chars().count()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.value.chars().count(),
            KeyCode::Backspace | KeyCode::Delete => {}
            _ => return false,
        }
        true
    }

    /// Draws the value (scrolled so the cursor stays visible) and, if focused, places the
    /// terminal cursor.
    pub fn render(&self, f: &mut Frame, area: Rect, style: Style, focused: bool) {
        let w = area.width.max(1) as usize;
        let skip = (self.cursor + 1).saturating_sub(w);
        let shown: String = self.value.chars().skip(skip).take(w).collect();
        let pad = w.saturating_sub(shown.chars().count());
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(shown, style),
                Span::styled(" ".repeat(pad), style),
            ])),
            area,
        );
        if focused {
            f.set_cursor_position(Position::new(area.x + (self.cursor - skip) as u16, area.y));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn edits_in_the_middle_with_multibyte_chars() {
        let mut t = TextInput::new("ké");
        t.handle(&k(KeyCode::Left));
        t.handle(&k(KeyCode::Char('x')));
        assert_eq!(t.value(), "kxé");
        t.handle(&k(KeyCode::Backspace));
        t.handle(&k(KeyCode::Backspace));
        assert_eq!(t.value(), "é");
        t.handle(&k(KeyCode::Delete));
        assert_eq!(t.value(), "");
        t.handle(&k(KeyCode::Backspace));
        assert_eq!(t.value(), "");
    }
}
