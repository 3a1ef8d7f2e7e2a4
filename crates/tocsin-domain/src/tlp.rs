//! Traffic Light Protocol 2.0 labels, ordered from most to least shareable.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// A TLP 2.0 label (the default, for filters, is the least privilege: CLEAR). The order is the order of restriction: `Clear < Green < Amber <
/// AmberStrict < Red`; a user with clearance `c` may see a record labelled `l` iff `l <= c`.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Tlp {
    /// `TLP:CLEAR`: may be shared publicly.
    #[serde(rename = "TLP:CLEAR")]
    #[default]
    Clear,
    /// `TLP:GREEN`: within the community.
    #[serde(rename = "TLP:GREEN")]
    Green,
    /// `TLP:AMBER`: within the organisation and its clients, need to know.
    #[serde(rename = "TLP:AMBER")]
    Amber,
    /// `TLP:AMBER+STRICT`: within the organisation only.
    #[serde(rename = "TLP:AMBER+STRICT")]
    AmberStrict,
    /// `TLP:RED`: named recipients only.
    #[serde(rename = "TLP:RED")]
    Red,
}

impl Tlp {
    /// All labels, least restricted first.
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The label as written in TLP 2.0, e.g. `TLP:AMBER+STRICT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// Rank 0 (CLEAR) to 4 (RED); stored in databases so clearance filters are a comparison.
    pub fn rank(self) -> i16 {
        self as i16
    }

    /// The label of a stored rank.
    pub fn from_rank(rank: i64) -> Option<Tlp> {
        Tlp::ALL.get(usize::try_from(rank).ok()?).copied()
    }

    /// A CSS-friendly slug: `clear`, `green`, `amber`, `amber-strict`, `red`.
    pub fn slug(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber-strict",
            Tlp::Red => "red",
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tlp {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase();
        let t = t.strip_prefix("TLP:").unwrap_or(&t);
        Ok(match t {
            "CLEAR" | "WHITE" => Tlp::Clear,
            "GREEN" => Tlp::Green,
            "AMBER" => Tlp::Amber,
            "AMBER+STRICT" => Tlp::AmberStrict,
            "RED" => Tlp::Red,
            _ => {
                return Err(DomainError::invalid(
                    "tlp",
                    "expected one of TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED",
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_round_trip() {
        assert!(
            Tlp::Clear < Tlp::Green && Tlp::Amber < Tlp::AmberStrict && Tlp::AmberStrict < Tlp::Red
        );
        for t in Tlp::ALL {
            assert_eq!(t.as_str().parse::<Tlp>().unwrap(), t);
            assert_eq!(Tlp::from_rank(t.rank().into()), Some(t));
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        assert!("TLP:PURPLE".parse::<Tlp>().is_err());
        assert_eq!(Tlp::from_rank(5), None);
    }
}
