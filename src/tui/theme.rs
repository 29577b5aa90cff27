//! Colours that work on a 16-colour terminal, and none at all under NO_COLOR.
//!
//! Normal text keeps the terminal's own foreground (`Color::Reset`), so a light or dark
//! background both read; emphasis uses the 8 basic ANSI colours plus bold/reversed/dim, which
//! every terminal has. With NO_COLOR set, only modifiers remain, and every state also has a
//! symbol or word, so nothing depends on colour alone.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone)]
pub struct Theme {
    pub text: Style,
    pub dim: Style,
    pub title: Style,
    pub border: Style,
    pub selected: Style,
    pub tab_active: Style,
    pub tab: Style,
    pub tab_unavailable: Style,
    pub key: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
    pub error_row: Style,
    pub info: Style,
    pub gauge: Style,
    pub input: Style,
    pub popup: Style,
}

impl Theme {
    /// Honours NO_COLOR (any non-empty value) from the process environment.
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme::new(!no_color)
    }

    pub fn new(color: bool) -> Theme {
        let plain = Style::default();
        let bold = plain.add_modifier(Modifier::BOLD);
        if !color {
            return Theme {
                text: plain,
                dim: plain.add_modifier(Modifier::DIM),
                title: bold,
                border: plain,
                selected: plain.add_modifier(Modifier::REVERSED),
                tab_active: bold.add_modifier(Modifier::REVERSED),
                tab: plain,
                tab_unavailable: plain.add_modifier(Modifier::DIM),
                key: bold,
                ok: plain,
                warn: bold,
                error: bold.add_modifier(Modifier::UNDERLINED),
                error_row: bold,
                info: plain,
                gauge: plain.add_modifier(Modifier::REVERSED),
                input: plain.add_modifier(Modifier::UNDERLINED),
                popup: plain,
            };
        }
        Theme {
            text: plain.fg(Color::Reset),
            dim: plain.fg(Color::DarkGray),
            title: bold.fg(Color::Cyan),
            border: plain.fg(Color::DarkGray),
            selected: plain.add_modifier(Modifier::REVERSED),
            tab_active: bold.add_modifier(Modifier::REVERSED),
            tab: plain.fg(Color::Reset),
            tab_unavailable: plain.fg(Color::DarkGray),
            key: bold.fg(Color::Cyan),
            ok: plain.fg(Color::Green),
            warn: plain.fg(Color::Yellow),
            error: bold.fg(Color::Red),
            error_row: plain.fg(Color::Red),
            info: plain.fg(Color::Cyan),
            gauge: plain.fg(Color::Green),
            input: plain.add_modifier(Modifier::UNDERLINED),
            popup: plain.fg(Color::Reset),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_theme_has_no_colours() {
        let t = Theme::new(false);
        for s in [
            t.text,
            t.dim,
            t.title,
            t.border,
            t.selected,
            t.tab_active,
            t.tab,
            t.key,
            t.ok,
            t.warn,
            t.error,
            t.error_row,
            t.info,
            t.gauge,
            t.input,
            t.popup,
        ] {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
    }

    #[test]
    fn colour_theme_never_forces_white_text() {
        let t = Theme::new(true);
        for s in [
            t.text, t.title, t.tab, t.key, t.ok, t.warn, t.error, t.info, t.popup,
        ] {
            assert_ne!(s.fg, Some(Color::White));
            assert_ne!(s.bg, Some(Color::Black));
        }
    }
}
