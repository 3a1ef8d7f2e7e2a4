//! Country codes and names → ISO 3166-1 alpha-3.
//!
//! The table is small and is built on first use, independently of the
//! gazetteer, so resolving a country code never pays for loading places.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::normalize::normalize;
use crate::GeoError;

const COUNTRIES_TSV: &str = include_str!("../data/countries.tsv");
const COUNTRIES_EXTRA_TSV: &str = include_str!("../data/countries-extra.tsv");
const ALIASES_TSV: &str = include_str!("../data/country-aliases.tsv");
const GW_TSV: &str = include_str!("../data/gw-codes.tsv");

/// A country (or territory) known to Tocsin: the ISO 3166-1 entries from
/// pycountry plus Kosovo (`XK`/`XKX`, user-assigned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-3 code, e.g. `"CAF"`.
    pub iso3: &'static str,
    /// ISO 3166-1 alpha-2 code, e.g. `"CF"`.
    pub iso2: &'static str,
    /// ISO 3166-1 numeric code, e.g. `140`; `None` for Kosovo.
    pub numeric: Option<u16>,
    /// ISO short name as pycountry gives it, e.g. `"Congo, The Democratic
    /// Republic of the"` (not always the common name).
    pub name: &'static str,
}

pub(crate) struct CountryTable {
    pub countries: Vec<Country>,
    by_iso2: HashMap<&'static str, u16>,
    by_iso3: HashMap<&'static str, u16>,
    by_numeric: HashMap<u16, u16>,
    by_gw: HashMap<u16, u16>,
    /// Normalised name → country index; `None` when two countries share it.
    by_name: HashMap<String, Option<u16>>,
    /// Every (normalised name, country index) pair usable in free text.
    pub names: Vec<(String, u16, bool)>,
}

static TABLE: OnceLock<CountryTable> = OnceLock::new();

pub(crate) fn table() -> &'static CountryTable {
    TABLE.get_or_init(|| {
        CountryTable::parse()
            .expect("tocsin-geo was built with malformed country data (data/countries*.tsv); the crate's tests catch this")
    })
}

fn data_lines(text: &'static str) -> impl Iterator<Item = (usize, &'static str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

fn bad(file: &'static str, line: usize, msg: impl Into<String>) -> GeoError {
    GeoError::Data {
        file,
        line,
        msg: msg.into(),
    }
}

impl CountryTable {
    fn parse() -> Result<Self, GeoError> {
        let mut t = CountryTable {
            countries: Vec::with_capacity(260),
            by_iso2: HashMap::new(),
            by_iso3: HashMap::new(),
            by_numeric: HashMap::new(),
            by_gw: HashMap::new(),
            by_name: HashMap::new(),
            names: Vec::new(),
        };
        let mut derived_names: Vec<(&'static str, u16)> = Vec::new();
        for (file, text) in [
            ("countries.tsv", COUNTRIES_TSV),
            ("countries-extra.tsv", COUNTRIES_EXTRA_TSV),
        ] {
            for (ln, line) in data_lines(text).skip(1) {
                let f: Vec<&'static str> = line.split('\t').collect();
                if f.len() < 4 {
                    return Err(bad(
                        file,
                        ln,
                        "expected alpha3, alpha2, numeric, name[, other_names]",
                    ));
                }
                let numeric = if f[2].is_empty() {
                    None
                } else {
                    Some(
                        f[2].parse::<u16>()
                            .map_err(|_| bad(file, ln, "bad numeric code"))?,
                    )
                };
                if f[0].len() != 3 || f[1].len() != 2 {
                    return Err(bad(file, ln, "bad alpha-3 or alpha-2 code"));
                }
                let idx = t.countries.len() as u16;
                t.countries.push(Country {
                    iso3: f[0],
                    iso2: f[1],
                    numeric,
                    name: f[3],
                });
                t.by_iso3.insert(f[0], idx);
                t.by_iso2.insert(f[1], idx);
                if let Some(n) = numeric {
                    t.by_numeric.insert(n, idx);
                }
                derived_names.push((f[3], idx));
                if let Some(other) = f.get(4) {
                    for n in other.split('|').filter(|n| !n.is_empty()) {
                        derived_names.push((n, idx));
                    }
                }
            }
        }
        // Derived names: a name two countries share (after folding) resolves to neither.
        for (name, idx) in derived_names {
            for key in name_variants(name) {
                t.add_name(key, idx, false, is_abbreviation(name));
            }
        }
        // Hand-written: GW table names (UCDP spellings) and aliases override.
        for (ln, line) in data_lines(GW_TSV) {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 3 {
                return Err(bad("gw-codes.tsv", ln, "expected gw, iso3, name[, note]"));
            }
            let gw: u16 = f[0]
                .parse()
                .map_err(|_| bad("gw-codes.tsv", ln, "bad GW number"))?;
            let idx = *t
                .by_iso3
                .get(f[1])
                .ok_or_else(|| bad("gw-codes.tsv", ln, format!("unknown alpha-3 {}", f[1])))?;
            if t.by_gw.insert(gw, idx).is_some() {
                return Err(bad("gw-codes.tsv", ln, "duplicate GW number"));
            }
            for key in name_variants(f[2]) {
                t.add_name(key, idx, true, false);
            }
        }
        for (ln, line) in data_lines(ALIASES_TSV) {
            let (iso3, alias) = line
                .split_once('\t')
                .ok_or_else(|| bad("country-aliases.tsv", ln, "expected iso3, alias"))?;
            let idx = *t
                .by_iso3
                .get(iso3)
                .ok_or_else(|| bad("country-aliases.tsv", ln, format!("unknown alpha-3 {iso3}")))?;
            for key in name_variants(alias) {
                t.add_name(key, idx, true, is_abbreviation(alias));
            }
        }
        t.names.sort();
        t.names.dedup();
        Ok(t)
    }

    fn add_name(&mut self, key: String, idx: u16, authoritative: bool, abbreviation: bool) {
        if key.is_empty() {
            return;
        }
        match self.by_name.get_mut(&key) {
            Some(v) if authoritative => *v = Some(idx),
            Some(v) => {
                if *v != Some(idx) {
                    *v = None;
                }
            }
            None => {
                self.by_name.insert(key.clone(), Some(idx));
            }
        }
        self.names.push((key, idx, abbreviation));
    }

    pub fn get_iso2(&self, iso2: &str) -> Option<u16> {
        self.by_iso2.get(iso2).copied()
    }

    pub fn get_iso3(&self, iso3: &str) -> Option<u16> {
        self.by_iso3.get(iso3).copied()
    }

    /// Whether `idx` is still the unambiguous owner of the normalised `key`.
    pub fn name_owner(&self, key: &str) -> Option<u16> {
        self.by_name.get(key).copied().flatten()
    }

    fn resolve(&self, s: &str) -> Option<u16> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        // ISO numeric: 1-3 digits.
        if s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit()) {
            return self.by_numeric.get(&s.parse::<u16>().ok()?).copied();
        }
        if let Some(gw) = gw_prefixed(s) {
            return match gw {
                Prefixed::Gw(n) => self.by_gw.get(&n).copied(),
                Prefixed::Cow(n) => cow_to_gw(n).and_then(|g| self.by_gw.get(&g).copied()),
            };
        }
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
            if let Some(i) = self.by_iso2.get(s.to_ascii_uppercase().as_str()) {
                return Some(*i);
            }
        }
        if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
            if let Some(i) = self.by_iso3.get(s.to_ascii_uppercase().as_str()) {
                return Some(*i);
            }
        }
        for key in name_variants(s) {
            if let Some(v) = self.by_name.get(&key) {
                return *v;
            }
        }
        // "X (Y)": try the part outside, then inside, the parentheses.
        if let (Some(open), Some(close)) = (s.find('('), s.rfind(')')) {
            if open < close {
                let outer = format!("{} {}", &s[..open], &s[close + 1..]);
                if let Some(i) = self.resolve(&outer) {
                    return Some(i);
                }
                return self.resolve(&s[open + 1..close]);
            }
        }
        None
    }
}

/// An alias written in capitals (`CAR`, `DRC`, `USA`): in free text it only
/// counts when written in capitals too.
fn is_abbreviation(name: &str) -> bool {
    let letters = name.chars().filter(|c| c.is_alphabetic()).count();
    (2..=5).contains(&letters) && name.chars().all(|c| !c.is_lowercase())
}

/// The normalised keys a country name is known by: the name itself, with a
/// leading "the" dropped, and for ISO's inverted forms ("Congo, The Democratic
/// Republic of the", "Iran, Islamic Republic of") the natural order too.
fn name_variants(name: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(3);
    let mut push = |s: String| {
        let s = s.strip_prefix("the ").map(str::to_owned).unwrap_or(s);
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    };
    push(normalize(name));
    if let Some((head, tail)) = name.split_once(", ") {
        // "Congo, The Democratic Republic of the" → "Democratic Republic of the Congo"
        push(normalize(&format!("{tail} {head}")));
    }
    out
}

enum Prefixed {
    Gw(u16),
    Cow(u16),
}

/// `GW 482`, `gw:482`, `gwno 482`, `COW 482`, `cow-482`.
fn gw_prefixed(s: &str) -> Option<Prefixed> {
    let lower = s.to_ascii_lowercase();
    let (rest, cow) = if let Some(r) = lower.strip_prefix("gwno") {
        (r, false)
    } else if let Some(r) = lower.strip_prefix("gw") {
        (r, false)
    } else if let Some(r) = lower.strip_prefix("cow") {
        (r, true)
    } else {
        return None;
    };
    let digits = rest.trim_start_matches([' ', ':', '-', '#', '=', '_']);
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u16 = digits.parse().ok()?;
    Some(if cow {
        Prefixed::Cow(n)
    } else {
        Prefixed::Gw(n)
    })
}

/// Correlates of War numbers differ from Gleditsch–Ward ones in a few places
/// (COW 679 Yemen is GW 678; COW 255 Germany after 1990 is GW 260).
fn cow_to_gw(n: u16) -> Option<u16> {
    Some(match n {
        679 => 678,
        255 => 260,
        // COW has no 340 (Serbia is 345) and no 347 before 2008; keep as is.
        other => other,
    })
}

/// Resolve a country given as ISO 3166-1 alpha-2 (`"CF"`), alpha-3 (`"CAF"`),
/// numeric (`"140"`, `"004"`, `"4"`), a Gleditsch–Ward number with a prefix
/// (`"GW 482"`, `"gw:482"`, `"gwno 482"`) or a Correlates of War one
/// (`"COW 482"`), or a name in English, French, Swahili or Arabic, ISO's or a
/// common one (`"Central African Republic"`, `"Centrafrique"`, `"CAR"`,
/// `"Côte d’Ivoire"`, `"Ivory Coast"`, `"DR Congo"`, `"Congo, DRC"`,
/// `"Myanmar (Burma)"`, `"Russia (Soviet Union)"`, `"Kosovo"`), to its ISO
/// 3166-1 alpha-3 code (`"XKX"` for Kosovo).
///
/// Names are compared case-, diacritics- and punctuation-insensitively; for
/// `"X (Y)"` the whole string is tried, then `X`, then `Y`. A bare number is
/// always read as ISO numeric (ISO 140 is the Central African Republic, GW 140
/// is Brazil): pass UCDP's `country_id`/`gwno` to [`country_from_gw`] or with a
/// `"GW "` prefix. A name that two countries share (e.g. "Guinea" in some
/// translations) resolves to `None` unless an alias pins it down. Returns
/// `None` for anything unknown, including UCDP's multi-country lists such as
/// `"625, 626"`.
pub fn country_code(s: &str) -> Option<&'static str> {
    let t = table();
    t.resolve(s).map(|i| t.countries[i as usize].iso3)
}

/// ISO alpha-3 for a Gleditsch–Ward state number as UCDP uses it
/// (`country_id`, `gwno_a`, ...): `482` → `"CAF"`, `678` → `"YEM"`,
/// `345` → `"SRB"`, `347` → `"XKX"`, `365` → `"RUS"`. Historical states map
/// to the state now holding their territory (`265` GDR → `"DEU"`, `817`
/// South Vietnam → `"VNM"`); ones since split between several states
/// (`315` Czechoslovakia) give `None`. Table: `data/gw-codes.tsv`.
pub fn country_from_gw(gw: u16) -> Option<&'static str> {
    let t = table();
    t.by_gw.get(&gw).map(|&i| t.countries[i as usize].iso3)
}

/// Details of a country given in any form [`country_code`] accepts.
pub fn country(s: &str) -> Option<&'static Country> {
    let t = table();
    t.resolve(s).map(|i| &t.countries[i as usize])
}

/// All countries and territories known to Tocsin, sorted by alpha-3
/// (ISO 3166-1 from pycountry, then Kosovo).
pub fn countries() -> &'static [Country] {
    &table().countries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_has_every_iso_country() {
        let t = table();
        assert!(t.countries.len() >= 250);
        assert_eq!(country_code("XK"), Some("XKX"));
        assert_eq!(country_code("XKX"), Some("XKX"));
    }

    #[test]
    fn name_variants_unfold_iso_inversions() {
        let v = name_variants("Congo, The Democratic Republic of the");
        assert!(
            v.contains(&"democratic republic of the congo".to_string()),
            "{v:?}"
        );
        let v = name_variants("Iran, Islamic Republic of");
        assert!(v.contains(&"islamic republic of iran".to_string()), "{v:?}");
    }

    #[test]
    fn prefixes() {
        assert!(matches!(gw_prefixed("GW 482"), Some(Prefixed::Gw(482))));
        assert!(matches!(gw_prefixed("gwno:482"), Some(Prefixed::Gw(482))));
        assert!(matches!(gw_prefixed("COW-679"), Some(Prefixed::Cow(679))));
        assert!(gw_prefixed("Gwalior").is_none());
        assert!(gw_prefixed("gw").is_none());
    }
}
