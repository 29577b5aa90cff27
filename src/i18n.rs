//! UI language. Strings live at their call site as an (Indonesian, English) pair, so a screen's
//! text reads in one place and a missing translation cannot happen.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl Lang {
    /// Picks the string for this language.
    pub fn t<'a>(self, id: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_by_language() {
        assert_eq!(Lang::Id.t("Batal", "Cancel"), "Batal");
        assert_eq!(Lang::En.t("Batal", "Cancel"), "Cancel");
        assert_eq!(Lang::default(), Lang::Id);
    }
}
