//! First-level area names as people type them, resolved to the gazetteer's own
//! ([`Gazetteer::admin1_named`]): what a broadcast's area names must match, since every
//! subscriber's place carries the gazetteer's name.

use crate::gazetteer::Gazetteer;
use crate::MatchKind;

/// How a typed first-level area name resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admin1Match<'g> {
    /// The gazetteer's name of the one area meant (`"Mambere-Kadei"` for
    /// `"Mambéré-Kadéï"`).
    Found(&'g str),
    /// No area, or more than one, fits the name: names of the country's areas it may mean,
    /// most likely first (at most [`MAX_SUGGESTIONS`]; empty for an unknown country).
    Unknown {
        /// Likely areas, by the gazetteer's names.
        suggestions: Vec<&'g str>,
    },
}

/// At most this many suggestions for an unknown name.
pub const MAX_SUGGESTIONS: usize = 5;

/// Words that only say what kind of area a name is ("Ouaka Prefecture", "Province du
/// Nord-Kivu", "ولاية الخرطوم"), and articles, in the four languages: left out when names
/// are compared after an exact comparison failed.
const GENERIC: &[&str] = &[
    "province",
    "provincia",
    "prefecture",
    "region",
    "state",
    "governorate",
    "gouvernorat",
    "wilaya",
    "wilayah",
    "department",
    "departement",
    "county",
    "district",
    "area",
    "territory",
    "territoire",
    "division",
    "mkoa",
    "jimbo",
    "of",
    "the",
    "de",
    "du",
    "des",
    "d",
    "la",
    "le",
    "l",
    "ya",
    "ولايه",
    "ولاية",
    "محافظه",
    "اقليم",
    "منطقه",
];

/// Compass words in English, French, Swahili and Arabic, each to one letter, so "North
/// Kivu", "Nord-Kivu" and "Kivu Kaskazini" compare equal, as do "Sud-Ouest" and
/// "Southwest".
const COMPASS: &[(&str, &str)] = &[
    ("north", "n"),
    ("northern", "n"),
    ("nord", "n"),
    ("kaskazini", "n"),
    ("شمال", "n"),
    ("south", "s"),
    ("southern", "s"),
    ("sud", "s"),
    ("kusini", "s"),
    ("جنوب", "s"),
    ("east", "e"),
    ("eastern", "e"),
    ("est", "e"),
    ("orientale", "e"),
    ("oriental", "e"),
    ("mashariki", "e"),
    ("شرق", "e"),
    ("west", "w"),
    ("western", "w"),
    ("ouest", "w"),
    ("occidental", "w"),
    ("occidentale", "w"),
    ("magharibi", "w"),
    ("غرب", "w"),
    ("northeast", "n e"),
    ("northwest", "n w"),
    ("southeast", "s e"),
    ("southwest", "s w"),
    ("centre", "c"),
    ("center", "c"),
    ("central", "c"),
    ("kati", "c"),
    ("وسط", "c"),
];

/// The loose key of a name: normalised, generic words dropped, compass words to one letter,
/// the words sorted (so "Kivu Kaskazini" = "North Kivu").
fn loose_key(name: &str) -> String {
    let n = crate::normalize(name);
    let mut words: Vec<&str> = Vec::new();
    for w in n.split(' ').filter(|w| !w.is_empty()) {
        if GENERIC.contains(&w) {
            continue;
        }
        match COMPASS.iter().find(|(k, _)| *k == w) {
            Some((_, c)) => words.extend(c.split(' ')),
            None => words.push(w),
        }
    }
    words.sort_unstable();
    words.join(" ")
}

impl Gazetteer {
    /// The gazetteer's name of a first-level area of `country` (any form
    /// [`crate::country_code`] accepts) typed as `name`.
    ///
    /// In order: the same name after [`crate::normalize`] (case, diacritics, punctuation:
    /// `"mambéré kadéï"`); then the same words once words that only name the kind of area
    /// and articles are left out (`"Préfecture de la Ouaka"`, `"Ouaka Prefecture"`) and
    /// compass words are read alike in English, French, Swahili and Arabic, in any order
    /// (`"Nord-Kivu"`, `"Kivu Kaskazini"` for the gazetteer's `"Nord Kivu"`). Several areas of
    /// one name (GeoNames gives some codes the same name) are one area here. When nothing
    /// fits, or two different areas do, the answer is [`Admin1Match::Unknown`] with
    /// suggestions: the areas that fitted, the area of a populated place of that name in the
    /// country (`"Bambari"` suggests `"Ouaka"`), then the closest names by spelling.
    pub fn admin1_named(&self, country: &str, name: &str) -> Admin1Match<'_> {
        let Some(c) = self.hint_index(Some(country)) else {
            return Admin1Match::Unknown {
                suggestions: Vec::new(),
            };
        };
        let mut names: Vec<&'static str> = self
            .admin1
            .iter()
            .filter(|a| a.country == c)
            .map(|a| a.name)
            .collect();
        names.sort_unstable();
        names.dedup();
        let key = crate::normalize(name);
        if key.is_empty() {
            return Admin1Match::Unknown {
                suggestions: Vec::new(),
            };
        }
        if let Some(n) = names.iter().find(|n| crate::normalize(n) == key) {
            return Admin1Match::Found(n);
        }
        let loose = loose_key(name);
        let fits: Vec<&'static str> = names
            .iter()
            .copied()
            .filter(|n| !loose.is_empty() && loose_key(n) == loose)
            .collect();
        if let [one] = fits[..] {
            return Admin1Match::Found(one);
        }
        let mut suggestions = fits;
        let iso3 = self.iso3(c);
        for cand in self.lookup(name, Some(iso3)) {
            if cand.kind == MatchKind::Place && cand.country == iso3 {
                if let Some(a) = cand.admin1.and_then(|a| names.iter().find(|n| **n == a)) {
                    if !suggestions.contains(a) {
                        suggestions.push(a);
                    }
                }
            }
        }
        let mut by_spelling: Vec<(f64, &'static str)> = names
            .iter()
            .map(|n| (strsim::jaro_winkler(&crate::normalize(n), &key), *n))
            .filter(|(s, _)| *s >= 0.75)
            .collect();
        by_spelling.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        for (_, n) in by_spelling {
            if !suggestions.contains(&n) {
                suggestions.push(n);
            }
        }
        suggestions.truncate(MAX_SUGGESTIONS);
        Admin1Match::Unknown { suggestions }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_keys() {
        assert_eq!(loose_key("Province du Nord-Kivu"), "kivu n");
        assert_eq!(loose_key("Kivu Kaskazini"), "kivu n");
        assert_eq!(loose_key("Sud-Ouest"), loose_key("Southwest"));
        assert_eq!(loose_key("Préfecture de la Ouaka"), "ouaka");
    }
}
