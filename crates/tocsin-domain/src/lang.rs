//! The languages Tocsin reads and answers SMS in (English, French, Swahili, Arabic): the
//! language of a warner's acknowledgement and of a subscriber's alerts. `tocsin_sms`
//! re-exports it with what it knows of text messages.

use serde::{Deserialize, Serialize};

/// A language of the report syntax and of the acknowledgements.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// French.
    Fr,
    /// Swahili.
    Sw,
    /// Arabic.
    Ar,
}

impl Lang {
    /// Every language, in a fixed order.
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Fr, Lang::Sw, Lang::Ar];

    /// ISO 639-1 code: `en`, `fr`, `sw`, `ar`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Sw => "sw",
            Lang::Ar => "ar",
        }
    }

    /// Parse a language code or name, case-insensitively: ISO 639-1 (`fr`),
    /// ISO 639-2/3 (`fra`, `fre`, `swa`, `swh`, `ara`, `arb`, `eng`), a BCP 47
    /// tag whose primary subtag is one of those (`fr-CF`, `sw_KE`, `ar-SD`),
    /// or the English or native name (`French`, `français`, `Kiswahili`,
    /// `العربية`). Anything else is `None`.
    ///
    /// ```
    /// use tocsin_domain::Lang;
    /// assert_eq!(Lang::parse("fr-CF"), Some(Lang::Fr));
    /// assert_eq!(Lang::parse("SW"), Some(Lang::Sw));
    /// assert_eq!(Lang::parse("de"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next()?.to_lowercase();
        Some(match primary.as_str() {
            "en" | "eng" | "english" => Lang::En,
            "fr" | "fra" | "fre" | "french" | "francais" | "français" => Lang::Fr,
            "sw" | "swa" | "swh" | "swahili" | "kiswahili" => Lang::Sw,
            "ar" | "ara" | "arb" | "arabic" | "العربية" => Lang::Ar,
            _ => return None,
        })
    }

    /// Index into per-language arrays (the order of [`Lang::ALL`]).
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for l in Lang::ALL {
            assert_eq!(Lang::parse(l.code()), Some(l));
            assert_eq!(Lang::parse(&l.code().to_uppercase()), Some(l));
            assert_eq!(Lang::ALL[l.index()], l);
            assert_eq!(l.to_string(), l.code());
        }
        assert_eq!(Lang::parse(" Français "), Some(Lang::Fr));
        assert_eq!(Lang::parse("ar_SD"), Some(Lang::Ar));
        assert_eq!(Lang::parse("swh"), Some(Lang::Sw));
        assert_eq!(Lang::parse(""), None);
        assert_eq!(Lang::parse("pt"), None);
    }
}
