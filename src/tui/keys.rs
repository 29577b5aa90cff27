//! Keys as data: a screen lists [`Binding`]s, the dispatcher matches key events against that list,
//! and the hint line and the F1 help are drawn from the same list.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::i18n::Lang;
use crate::tui::action::Action;

/// A key with its modifiers. For characters, Shift is part of the character ('C' vs 'c'), so
/// it is ignored when matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Key {
        Key {
            code,
            mods: KeyModifiers::NONE,
        }
    }
    pub const fn ch(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }
    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            mods: KeyModifiers::CONTROL,
        }
    }
    pub const fn alt(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            mods: KeyModifiers::ALT,
        }
    }
    pub const fn f(n: u8) -> Key {
        Key::plain(KeyCode::F(n))
    }

    pub fn matches(&self, ev: &KeyEvent) -> bool {
        let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
        let (want, got) = match self.code {
            KeyCode::Char(_) => (self.mods & relevant, ev.modifiers & relevant),
            _ => (self.mods, ev.modifiers),
        };
        let code_eq = match (self.code, ev.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) if self.mods.contains(KeyModifiers::CONTROL) => {
                a.eq_ignore_ascii_case(&b)
            }
            (a, b) => a == b,
        };
        code_eq && want == got
    }

    /// How the key is written in hints: "F2", "Enter", "C", "Ctrl+X", "Alt+2".
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift+Tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Backspace => "Backspace".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::Char(' ') => "Spasi".into(),
            KeyCode::Char(c) => c.to_string(),
            other => format!("{other:?}"),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            format!("Ctrl+{}", base.to_uppercase())
        } else if self.mods.contains(KeyModifiers::ALT) {
            format!("Alt+{base}")
        } else {
            base
        }
    }
}

/// One key of a screen: what it does, in both languages, and whether it earns a place on the
/// one-line hint bar (everything is listed in F1 help).
#[derive(Debug, Clone)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub label: (&'static str, &'static str),
    pub help: (&'static str, &'static str),
    pub action: Action,
    pub hint: bool,
    /// Bindings of one group (moving around, say) share one line in the F1 help.
    pub group: Option<(&'static str, &'static str)>,
}

impl Binding {
    pub fn new(key: Key, label: (&'static str, &'static str), action: Action) -> Binding {
        Binding {
            keys: vec![key],
            label,
            help: ("", ""),
            action,
            hint: true,
            group: None,
        }
    }
    /// Shares one F1 help line with the other bindings of the same group; not on the hint bar.
    pub fn grouped(mut self, id: &'static str, en: &'static str) -> Binding {
        self.group = Some((id, en));
        self.hint = false;
        self
    }
    /// A longer explanation for the F1 help.
    pub fn help(mut self, id: &'static str, en: &'static str) -> Binding {
        self.help = (id, en);
        self
    }
    /// Listed in F1 help only, not on the hint bar.
    pub fn quiet(mut self) -> Binding {
        self.hint = false;
        self
    }
    pub fn also(mut self, key: Key) -> Binding {
        self.keys.push(key);
        self
    }
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        self.keys.iter().any(|k| k.matches(ev))
    }
    pub fn key_label(&self) -> String {
        self.keys
            .iter()
            .map(Key::label)
            .collect::<Vec<_>>()
            .join("/")
    }
    pub fn label(&self, lang: Lang) -> &'static str {
        lang.t(self.label.0, self.label.1)
    }
    pub fn help_text(&self, lang: Lang) -> &'static str {
        let h = lang.t(self.help.0, self.help.1);
        if h.is_empty() {
            self.label(lang)
        } else {
            h
        }
    }
}

/// The first binding that matches, as its action.
pub fn lookup(bindings: &[Binding], ev: &KeyEvent) -> Option<Action> {
    bindings
        .iter()
        .find(|b| b.matches(ev))
        .map(|b| b.action.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn shifted_char_matches_its_capital() {
        let k = Key::ch('C');
        assert!(k.matches(&ev(KeyCode::Char('C'), KeyModifiers::SHIFT)));
        assert!(!k.matches(&ev(KeyCode::Char('c'), KeyModifiers::NONE)));
    }

    #[test]
    fn ctrl_and_alt_must_match() {
        assert!(Key::ctrl('x').matches(&ev(KeyCode::Char('x'), KeyModifiers::CONTROL)));
        assert!(!Key::ctrl('x').matches(&ev(KeyCode::Char('x'), KeyModifiers::NONE)));
        assert!(!Key::ch('x').matches(&ev(KeyCode::Char('x'), KeyModifiers::CONTROL)));
        assert!(Key::alt('2').matches(&ev(KeyCode::Char('2'), KeyModifiers::ALT)));
        assert_eq!(Key::alt('2').label(), "Alt+2");
        assert_eq!(Key::ctrl('x').label(), "Ctrl+X");
    }
}
