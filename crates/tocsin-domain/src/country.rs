//! ISO 3166-1 countries, from the table in `data/countries.tsv` (derived from pycountry).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use crate::DomainError;

const TABLE: &str = include_str!("../data/countries.tsv");

/// One row of the ISO 3166-1 table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryInfo {
    /// Alpha-3 code, e.g. `CAF`.
    pub alpha3: &'static str,
    /// Alpha-2 code, e.g. `CF`.
    pub alpha2: &'static str,
    /// Numeric code, e.g. `140`.
    pub numeric: &'static str,
    /// English short name.
    pub name: &'static str,
}

fn table() -> &'static HashMap<&'static str, CountryInfo> {
    static T: OnceLock<HashMap<&'static str, CountryInfo>> = OnceLock::new();
    T.get_or_init(|| {
        TABLE
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split('\t');
                let info = CountryInfo {
                    alpha3: f.next()?,
                    alpha2: f.next()?,
                    numeric: f.next()?,
                    name: f.next()?,
                };
                Some((info.alpha3, info))
            })
            .collect()
    })
}

/// A valid ISO 3166-1 alpha-3 country code (upper case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country(String);

impl Country {
    /// Parse an alpha-3 code (case-insensitive); `XKX` (Kosovo, user-assigned) is accepted.
    pub fn parse(code: &str) -> Result<Country, DomainError> {
        let c = code.trim().to_ascii_uppercase();
        if table().contains_key(c.as_str()) || c == "XKX" {
            Ok(Country(c))
        } else {
            Err(DomainError::invalid(
                "country",
                format!("{code:?} is not an ISO 3166-1 alpha-3 country code"),
            ))
        }
    }

    /// The alpha-3 code.
    pub fn code(&self) -> &str {
        &self.0
    }

    /// The English name, or the code where the table has none.
    pub fn name(&self) -> &str {
        table()
            .get(self.0.as_str())
            .map(|i| i.name)
            .unwrap_or(if self.0 == "XKX" { "Kosovo" } else { "" })
    }

    /// The ISO 3166-1 alpha-2 code (e.g. `CF`; `XK` for Kosovo).
    pub fn alpha2(&self) -> &'static str {
        table()
            .get(self.0.as_str())
            .map(|i| i.alpha2)
            .unwrap_or("XK")
    }

    /// The ISO 3166-1 numeric code (e.g. `140`), where the table has one.
    pub fn numeric(&self) -> Option<&'static str> {
        table().get(self.0.as_str()).map(|i| i.numeric)
    }

    /// Look a country up by ISO alpha-2, alpha-3 or numeric code, or its ISO short name
    /// (case-insensitive). Broader resolution (UCDP/GW codes, common variants) lives in
    /// `tocsin-geo`.
    pub fn from_any_code(s: &str) -> Option<Country> {
        let t = s.trim();
        if t.is_empty() {
            return None;
        }
        let up = t.to_ascii_uppercase();
        if let Ok(c) = Country::parse(&up) {
            return Some(c);
        }
        let num = t.trim_start_matches('0');
        table()
            .values()
            .find(|i| {
                i.alpha2 == up
                    || (!num.is_empty()
                        && i.numeric.trim_start_matches('0') == num
                        && t.chars().all(|c| c.is_ascii_digit()))
                    || i.name.eq_ignore_ascii_case(t)
            })
            .map(|i| Country(i.alpha3.to_string()))
    }

    /// Every country of the table, sorted by name.
    pub fn all() -> Vec<&'static CountryInfo> {
        let mut v: Vec<_> = table().values().collect();
        v.sort_by_key(|i| i.name);
        v
    }
}

impl TryFrom<String> for Country {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Country::parse(&s)
    }
}

impl From<Country> for String {
    fn from(c: Country) -> String {
        c.0
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(Country::parse("caf").unwrap().code(), "CAF");
        assert_eq!(Country::parse("BGD").unwrap().name(), "Bangladesh");
        assert!(Country::parse("XYZ").is_err());
        assert!(Country::parse("CF").is_err());
        assert!(Country::all().len() > 240);
        assert_eq!(Country::from_any_code("140").unwrap().code(), "CAF");
        assert_eq!(Country::from_any_code("cf").unwrap().code(), "CAF");
        assert_eq!(Country::from_any_code("Bangladesh").unwrap().code(), "BGD");
        assert_eq!(Country::parse("CAF").unwrap().numeric(), Some("140"));
        assert!(Country::from_any_code("999").is_none());
    }
}
