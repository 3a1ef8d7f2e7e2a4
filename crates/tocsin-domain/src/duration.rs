//! Durations as people write them in policies and rules: `30s`, `15m`, `4h`, `2d`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use crate::DomainError;

/// The longest duration accepted: ten years (as for API tokens). Anything longer is a typo,
/// and the bound keeps every sum with a timestamp far from overflow.
pub const MAX_SECONDS: u64 = 3650 * 86_400;

/// A whole number of seconds, read and written as text: one ASCII number without sign or
/// leading zeros, then one unit, `s`, `m`, `h` or `d` (lower case; `M` could be months), with
/// no spaces. It is shown in the largest unit that divides it exactly (`90m` stays `90m`,
/// `60m` is shown as `1h`), so showing then reading gives the same value. Zero (`0s`) is a
/// duration; callers for which zero means nothing refuse it with [`TextDuration::positive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TextDuration(u64);

const UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

impl TextDuration {
    /// A duration of `secs` seconds, if at most [`MAX_SECONDS`].
    pub fn from_secs(secs: u64) -> Option<TextDuration> {
        (secs <= MAX_SECONDS).then_some(TextDuration(secs))
    }

    /// Parse `s`; an error names `field`.
    pub fn parse(field: &str, s: &str) -> Result<TextDuration, DomainError> {
        let bad = |why: &str| {
            DomainError::invalid(
                field,
                format!("{s:?}: {why}; expected a number and a unit s, m, h or d, e.g. 30s, 15m, 4h, 2d"),
            )
        };
        let Some(unit) = s.chars().last() else {
            return Err(bad("empty"));
        };
        let Some(&(_, scale)) = UNITS.iter().find(|(u, _)| *u == unit) else {
            return Err(bad("no known unit"));
        };
        let digits = &s[..s.len() - unit.len_utf8()];
        if digits.is_empty() {
            return Err(bad("no number"));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                "the number must be plain digits, without sign or spaces",
            ));
        }
        if digits.len() > 1 && digits.starts_with('0') {
            return Err(bad("leading zeros"));
        }
        let secs = digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(scale))
            .filter(|&n| n <= MAX_SECONDS)
            .ok_or_else(|| bad("longer than 3650d"))?;
        Ok(TextDuration(secs))
    }

    /// Parse `s` and refuse zero.
    pub fn parse_positive(field: &str, s: &str) -> Result<TextDuration, DomainError> {
        TextDuration::parse(field, s)?.positive(field)
    }

    /// `self` if not zero; otherwise an error naming `field`.
    pub fn positive(self, field: &str) -> Result<TextDuration, DomainError> {
        if self.0 == 0 {
            Err(DomainError::invalid(field, "must be longer than 0s"))
        } else {
            Ok(self)
        }
    }

    /// Whole seconds.
    pub fn as_secs(self) -> u64 {
        self.0
    }

    /// As a chrono duration, to add to timestamps.
    pub fn to_chrono(self) -> chrono::Duration {
        // At most MAX_SECONDS, far inside i64 and chrono's range.
        chrono::Duration::seconds(self.0 as i64)
    }

    /// `self * n`, or `None` past [`MAX_SECONDS`].
    pub fn checked_mul(self, n: u64) -> Option<TextDuration> {
        self.0.checked_mul(n).and_then(TextDuration::from_secs)
    }

    /// `self + other`, or `None` past [`MAX_SECONDS`].
    pub fn checked_add(self, other: TextDuration) -> Option<TextDuration> {
        self.0
            .checked_add(other.0)
            .and_then(TextDuration::from_secs)
    }
}

impl fmt::Display for TextDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, scale) = UNITS
            .iter()
            .copied()
            .find(|(_, scale)| self.0.is_multiple_of(*scale) && self.0 != 0)
            .unwrap_or(('s', 1));
        write!(f, "{}{unit}", self.0 / scale)
    }
}

impl std::str::FromStr for TextDuration {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TextDuration::parse("duration", s)
    }
}

impl Serialize for TextDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TextDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<TextDuration, DomainError> {
        TextDuration::parse("ack_within", s)
    }

    #[test]
    fn reads_the_issue_examples_and_shows_them_back() {
        for (text, secs) in [("30s", 30), ("15m", 900), ("4h", 14_400), ("2d", 172_800)] {
            let d = p(text).unwrap();
            assert_eq!(d.as_secs(), secs);
            assert_eq!(d.to_string(), text);
            assert_eq!(d.to_chrono(), chrono::Duration::seconds(secs as i64));
        }
    }

    #[test]
    fn shows_the_largest_exact_unit_and_round_trips() {
        assert_eq!(p("60m").unwrap().to_string(), "1h");
        assert_eq!(p("90m").unwrap().to_string(), "90m");
        assert_eq!(p("48h").unwrap().to_string(), "2d");
        assert_eq!(p("0s").unwrap().to_string(), "0s");
        assert_eq!(p("0d").unwrap().to_string(), "0s");
        assert_eq!(p("3650d").unwrap().as_secs(), MAX_SECONDS);
        for secs in [
            0,
            1,
            59,
            60,
            61,
            3599,
            3600,
            86_399,
            86_400,
            90_000,
            MAX_SECONDS,
        ] {
            let d = TextDuration::from_secs(secs).unwrap();
            assert_eq!(p(&d.to_string()).unwrap(), d, "{secs}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_duration_naming_the_field() {
        for bad in [
            "",
            "s",
            "15",
            "15x",
            "15M",
            "15 m",
            " 15m",
            "15m ",
            "1 5m",
            "-15m",
            "+15m",
            "1.5h",
            "015m",
            "00s",
            "1h30m",
            "15mm",
            "15min",
            "١٥m",
            "15ｍ",
            "\u{0}15m",
            "m15",
            "3651d",
            "87601h",
            "99999999999999999999s",
            "18446744073709551615d",
        ] {
            let e = p(bad).unwrap_err();
            assert_eq!(e.field(), Some("ack_within"), "{bad:?}");
            assert!(e.to_string().contains("e.g. 30s"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn zero_is_refused_only_where_asked() {
        assert_eq!(p("0m").unwrap().as_secs(), 0);
        let e = TextDuration::parse_positive("window", "0m").unwrap_err();
        assert_eq!(e.field(), Some("window"));
        assert!(TextDuration::parse_positive("window", "1s").is_ok());
    }

    #[test]
    fn serde_is_text() {
        let d: TextDuration = serde_json::from_str("\"15m\"").unwrap();
        assert_eq!(d.as_secs(), 900);
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"15m\"");
        assert!(serde_json::from_str::<TextDuration>("900").is_err());
        let e = serde_json::from_str::<TextDuration>("\"15 m\"").unwrap_err();
        assert!(e.to_string().contains("duration"), "{e}");
    }

    #[test]
    fn arithmetic_stays_bounded() {
        let day = p("1d").unwrap();
        assert_eq!(day.checked_mul(3).unwrap().to_string(), "3d");
        assert!(day.checked_mul(3651).is_none());
        assert!(day.checked_mul(u64::MAX).is_none());
        assert_eq!(
            day.checked_add(p("1h").unwrap()).unwrap().to_string(),
            "25h"
        );
        assert!(TextDuration::from_secs(MAX_SECONDS + 1).is_none());
    }
}
