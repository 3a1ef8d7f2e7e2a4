//! The languages Tocsin reads and answers SMS in.

use serde::{Deserialize, Serialize};

/// A language of the report syntax and of the acknowledgements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// use tocsin_sms::Lang;
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
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The language an acknowledgement falls back to when a message says
    /// nothing about its language (only a place name, say): the main
    /// language of SMS in the country of `country_hint` (any form
    /// [`tocsin_geo::country_code`] accepts), else English. French for the
    /// francophone countries of Africa and Haiti, Arabic for the Arab
    /// League's Arabic-speaking members, Swahili for Tanzania.
    pub fn default_for_country(country_hint: Option<&str>) -> Lang {
        const FR: &[&str] = &[
            "BDI", "BEN", "BFA", "CAF", "CIV", "CMR", "COD", "COG", "COM", "DJI", "FRA", "GAB",
            "GIN", "HTI", "MDG", "MLI", "NER", "SEN", "TCD", "TGO",
        ];
        const AR: &[&str] = &[
            "ARE", "BHR", "DZA", "EGY", "IRQ", "JOR", "KWT", "LBN", "LBY", "MAR", "MRT", "OMN",
            "PSE", "QAT", "SAU", "SDN", "SYR", "TUN", "YEM",
        ];
        const SW: &[&str] = &["TZA"];
        match country_hint.and_then(tocsin_geo::country_code) {
            Some(c) if FR.contains(&c) => Lang::Fr,
            Some(c) if AR.contains(&c) => Lang::Ar,
            Some(c) if SW.contains(&c) => Lang::Sw,
            _ => Lang::En,
        }
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

    #[test]
    fn country_defaults() {
        assert_eq!(Lang::default_for_country(Some("CF")), Lang::Fr);
        assert_eq!(Lang::default_for_country(Some("SDN")), Lang::Ar);
        assert_eq!(Lang::default_for_country(Some("TZ")), Lang::Sw);
        assert_eq!(Lang::default_for_country(Some("KEN")), Lang::En);
        assert_eq!(Lang::default_for_country(Some("nowhere")), Lang::En);
        assert_eq!(Lang::default_for_country(None), Lang::En);
    }
}
