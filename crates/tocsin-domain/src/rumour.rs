//! Rumours: claims heard in a community ("the militia will attack the market on Friday"),
//! tracked from first sighting to a finding and a response.
//!
//! A rumour has a claim, a place, a priority with an action deadline, a status and, once
//! closed, findings; the response is a counter-message (and, later, a community broadcast).
//! Sightings are reports that repeat it, with how and where it was heard. The status moves
//!
//! ```text
//! new → under_investigation → probably_true ⇄ probably_false
//!                 │                 │               │
//!                 └────────→ confirmed_true, confirmed_false, cannot_be_verified (closed)
//! ```
//!
//! (probably_* may go back to under_investigation; a closed rumour may be reopened to
//! under_investigation). Closing needs findings. Ids are random ([`crate::random_id`]): a
//! rumour derives from warners' reports, and its id must not tell when one arrived. Who may
//! make a change is decided by the application layer.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

use crate::{Country, DomainError, Severity, Tlp};

/// The longest claim, in bytes.
pub const MAX_CLAIM: usize = 2_000;
/// The longest findings, response or note text, in bytes.
pub const MAX_TEXT: usize = 10_000;
/// The longest place name or "where heard", in bytes.
pub const MAX_PLACE: usize = 200;

macro_rules! text_enum {
    ($ty:ident, $field:literal, $( $v:ident = $s:literal ),+ $(,)?) => {
        impl $ty {
            /// Every value, in order.
            pub const ALL: &'static [$ty] = &[$($ty::$v),+];

            /// The value as written in the API.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$v => $s),+ }
            }

            /// Parse the API's text (`-` reads as `_`, case ignored); an error names the field.
            pub fn parse(s: &str) -> Result<$ty, DomainError> {
                let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
                $ty::ALL.iter().copied().find(|v| v.as_str() == t).ok_or_else(|| {
                    DomainError::invalid(
                        $field,
                        format!("{s:?}: expected one of {}", [$($s),+].join(", ")),
                    )
                })
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Where a rumour stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RumourStatus {
    /// Recorded, nobody has looked yet.
    New,
    /// Being checked.
    UnderInvestigation,
    /// Probably true (not closed).
    ProbablyTrue,
    /// Probably false (not closed).
    ProbablyFalse,
    /// Confirmed true (closed; needs findings).
    ConfirmedTrue,
    /// Confirmed false (closed; needs findings).
    ConfirmedFalse,
    /// Cannot be verified (closed; needs findings).
    CannotBeVerified,
}
text_enum!(
    RumourStatus,
    "status",
    New = "new",
    UnderInvestigation = "under_investigation",
    ProbablyTrue = "probably_true",
    ProbablyFalse = "probably_false",
    ConfirmedTrue = "confirmed_true",
    ConfirmedFalse = "confirmed_false",
    CannotBeVerified = "cannot_be_verified",
);

impl RumourStatus {
    /// Confirmed true or false, or cannot be verified: the work is done (until reopened).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            RumourStatus::ConfirmedTrue
                | RumourStatus::ConfirmedFalse
                | RumourStatus::CannotBeVerified
        )
    }

    /// Whether the workflow allows `self` → `to` (staying put is always allowed).
    pub fn may_become(self, to: RumourStatus) -> bool {
        use RumourStatus::*;
        self == to
            || match self {
                New => to == UnderInvestigation,
                UnderInvestigation => to != New,
                ProbablyTrue | ProbablyFalse => to != New,
                ConfirmedTrue | ConfirmedFalse | CannotBeVerified => to == UnderInvestigation,
            }
    }

    /// The statuses `self` may move to (itself left out), in workflow order.
    pub fn moves(self) -> Vec<RumourStatus> {
        RumourStatus::ALL
            .iter()
            .copied()
            .filter(|s| *s != self && self.may_become(*s))
            .collect()
    }
}

/// How urgent a rumour is; ordered, `Low < Medium < High < Critical`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RumourPriority {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}
text_enum!(
    RumourPriority,
    "priority",
    Low = "low",
    Medium = "medium",
    High = "high",
    Critical = "critical",
);

impl RumourPriority {
    /// The alert severity whose channel preferences a notification of this priority follows.
    pub fn severity(self) -> Severity {
        match self {
            RumourPriority::Low => Severity::Low,
            RumourPriority::Medium => Severity::Moderate,
            RumourPriority::High => Severity::High,
            RumourPriority::Critical => Severity::Critical,
        }
    }
}

/// How a rumour was heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeardHow {
    /// Word of mouth.
    WordOfMouth,
    /// Radio.
    Radio,
    /// Social media.
    SocialMedia,
    /// Text message.
    Sms,
    /// Leaflet or poster.
    Leaflet,
    /// Anything else.
    Other,
}
text_enum!(
    HeardHow,
    "how",
    WordOfMouth = "word_of_mouth",
    Radio = "radio",
    SocialMedia = "social_media",
    Sms = "sms",
    Leaflet = "leaflet",
    Other = "other",
);

/// A rumour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rumour {
    /// Its id (random).
    pub id: Uuid,
    /// What is said.
    pub claim: String,
    /// Country (ISO alpha-3).
    #[schema(value_type = String, example = "KEN")]
    pub country: Country,
    /// First-level administrative area, if known.
    pub admin1: Option<String>,
    /// A place name, if known.
    pub place_name: Option<String>,
    /// Latitude, if known.
    pub latitude: Option<f64>,
    /// Longitude, if known.
    pub longitude: Option<f64>,
    /// The situation it bears on, if any.
    pub situation_id: Option<Uuid>,
    /// The desk answering for it (as alerts are routed), if one does.
    pub desk_id: Option<Uuid>,
    /// How urgent.
    pub priority: RumourPriority,
    /// By when someone must act: its creation plus the time allowed for its priority.
    pub deadline: DateTime<Utc>,
    /// Where it stands.
    pub status: RumourStatus,
    /// What checking found (required to close).
    pub findings: Option<String>,
    /// The counter-message.
    pub response: Option<String>,
    /// The community broadcast carrying the response, once there is one (id or reference).
    pub broadcast: Option<String>,
    /// Label.
    pub tlp: Tlp,
    /// Who recorded it.
    pub created_by: String,
    /// Recorded.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Grows by one with every change.
    pub version: i64,
}

/// A rumour as a client sends it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRumour {
    /// What is said, 1–2000 bytes.
    pub claim: String,
    /// Country (ISO alpha-3).
    pub country: String,
    /// First-level administrative area.
    #[serde(default)]
    pub admin1: Option<String>,
    /// Place name.
    #[serde(default)]
    pub place_name: Option<String>,
    /// Latitude.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Longitude.
    #[serde(default)]
    pub longitude: Option<f64>,
    /// The situation it bears on.
    #[serde(default)]
    pub situation_id: Option<Uuid>,
    /// The desk; when absent, the desk answering for the situation, else the country.
    #[serde(default)]
    pub desk_id: Option<Uuid>,
    /// `low`, `medium` (default), `high` or `critical`.
    #[serde(default)]
    pub priority: Option<String>,
    /// Label (default `TLP:AMBER`).
    #[serde(default)]
    pub tlp: Option<String>,
    /// The counter-message, if already known.
    #[serde(default)]
    pub response: Option<String>,
}

/// A change to a rumour: only the fields given change.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RumourPatch {
    /// The version the client edited (refused as stale when another change came first).
    #[serde(default)]
    pub expected_version: Option<i64>,
    /// New status.
    #[serde(default)]
    pub status: Option<String>,
    /// Findings (required to close).
    #[serde(default)]
    pub findings: Option<String>,
    /// New priority (the deadline follows it, counted from the rumour's creation).
    #[serde(default)]
    pub priority: Option<String>,
    /// The counter-message.
    #[serde(default)]
    pub response: Option<String>,
    /// The community broadcast carrying the response.
    #[serde(default)]
    pub broadcast: Option<String>,
    /// New claim text.
    #[serde(default)]
    pub claim: Option<String>,
    /// New admin1.
    #[serde(default)]
    pub admin1: Option<String>,
    /// New place name.
    #[serde(default)]
    pub place_name: Option<String>,
    /// New label.
    #[serde(default)]
    pub tlp: Option<String>,
}

/// A report marked as a sighting of a rumour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sighting {
    /// Its id (random).
    pub id: Uuid,
    /// The rumour.
    pub rumour_id: Uuid,
    /// The report that repeats it.
    pub report_id: Uuid,
    /// How it was heard.
    pub how: HeardHow,
    /// Where it was heard.
    #[serde(rename = "where")]
    pub where_heard: String,
    /// Who marked it (username).
    pub by: String,
    /// When it was marked.
    pub at: DateTime<Utc>,
}

impl Sighting {
    /// A new sighting of `rumour_id` in `report_id`, marked by `by` at `at`.
    pub fn new(
        rumour_id: Uuid,
        report_id: Uuid,
        how: &str,
        where_heard: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Sighting, DomainError> {
        Ok(Sighting {
            id: crate::random_id(),
            rumour_id,
            report_id,
            how: HeardHow::parse(how)?,
            where_heard: text("where", where_heard, MAX_PLACE)?,
            by: by.to_string(),
            at,
        })
    }
}

/// Why a change to a rumour was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RumourError {
    /// A field is invalid (naming it).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The status move is not allowed from where the rumour stands.
    #[error("status: a rumour that is {from} cannot become {to}")]
    Illegal {
        /// Its status.
        from: RumourStatus,
        /// What was asked.
        to: RumourStatus,
    },
    /// The caller edited an older version.
    #[error("the rumour changed since version {expected}; it is now at version {actual}")]
    Stale {
        /// The version the caller had.
        expected: i64,
        /// The stored version.
        actual: i64,
    },
}

fn text(field: &str, v: &str, max: usize) -> Result<String, DomainError> {
    if v.contains('\0') {
        return Err(DomainError::invalid(
            field,
            "must not contain NUL characters",
        ));
    }
    if v.len() > max {
        return Err(DomainError::invalid(
            field,
            format!("longer than {max} bytes"),
        ));
    }
    Ok(v.trim().to_string())
}

fn opt_text(field: &str, v: Option<&str>, max: usize) -> Result<Option<String>, DomainError> {
    Ok(match v {
        Some(v) => Some(text(field, v, max)?).filter(|s| !s.is_empty()),
        None => None,
    })
}

fn claim(v: &str) -> Result<String, DomainError> {
    let c = text("claim", v, MAX_CLAIM)?;
    if c.is_empty() {
        return Err(DomainError::invalid(
            "claim",
            "required: what is being said",
        ));
    }
    Ok(c)
}

fn coordinate(field: &str, v: Option<f64>, max: f64) -> Result<Option<f64>, DomainError> {
    match v {
        Some(x) if !x.is_finite() || x.abs() > max => Err(DomainError::invalid(
            field,
            format!("must be between -{max} and {max}"),
        )),
        v => Ok(v),
    }
}

impl Rumour {
    /// A new rumour from a client's input, recorded by `by` at `at`; `allowed` gives the
    /// time allowed to act for each priority. It starts `new`.
    pub fn create(
        n: NewRumour,
        by: &str,
        at: DateTime<Utc>,
        allowed: impl Fn(RumourPriority) -> Duration,
    ) -> Result<Rumour, DomainError> {
        let priority = match n.priority.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(p) => RumourPriority::parse(p)?,
            None => RumourPriority::Medium,
        };
        let tlp = match n.tlp.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(t) => t.parse::<Tlp>()?,
            None => Tlp::Amber,
        };
        let country = Country::parse(n.country.trim())
            .map_err(|e| DomainError::invalid("country", e.to_string()))?;
        let (latitude, longitude) = (
            coordinate("latitude", n.latitude, 90.0)?,
            coordinate("longitude", n.longitude, 180.0)?,
        );
        if latitude.is_some() != longitude.is_some() {
            return Err(DomainError::invalid(
                "longitude",
                "give both latitude and longitude, or neither",
            ));
        }
        Ok(Rumour {
            id: crate::random_id(),
            claim: claim(&n.claim)?,
            country,
            admin1: opt_text("admin1", n.admin1.as_deref(), MAX_PLACE)?,
            place_name: opt_text("place_name", n.place_name.as_deref(), MAX_PLACE)?,
            latitude,
            longitude,
            situation_id: n.situation_id,
            desk_id: n.desk_id,
            priority,
            deadline: at + allowed(priority),
            status: RumourStatus::New,
            findings: None,
            response: opt_text("response", n.response.as_deref(), MAX_TEXT)?,
            broadcast: None,
            tlp,
            created_by: by.to_string(),
            created_at: at,
            updated_at: at,
            version: 1,
        })
    }

    /// Apply a change at `at`; the version grows by one. Refused (nothing changes): a stale
    /// `expected_version`, a move the workflow does not allow, closing without findings, any
    /// invalid field.
    pub fn apply(
        &mut self,
        p: &RumourPatch,
        at: DateTime<Utc>,
        allowed: impl Fn(RumourPriority) -> Duration,
    ) -> Result<(), RumourError> {
        if let Some(v) = p.expected_version {
            if v != self.version {
                return Err(RumourError::Stale {
                    expected: v,
                    actual: self.version,
                });
            }
        }
        let mut next = self.clone();
        if let Some(s) = p.status.as_deref().filter(|s| !s.trim().is_empty()) {
            let to = RumourStatus::parse(s)?;
            if !self.status.may_become(to) {
                return Err(RumourError::Illegal {
                    from: self.status,
                    to,
                });
            }
            next.status = to;
        }
        if let Some(f) = &p.findings {
            next.findings = opt_text("findings", Some(f), MAX_TEXT)?;
        }
        if let Some(pr) = p.priority.as_deref().filter(|s| !s.trim().is_empty()) {
            next.priority = RumourPriority::parse(pr)?;
            next.deadline = self.created_at + allowed(next.priority);
        }
        if let Some(r) = &p.response {
            next.response = opt_text("response", Some(r), MAX_TEXT)?;
        }
        if let Some(b) = &p.broadcast {
            next.broadcast = opt_text("broadcast", Some(b), MAX_PLACE)?;
        }
        if let Some(c) = &p.claim {
            next.claim = claim(c)?;
        }
        if let Some(a) = &p.admin1 {
            next.admin1 = opt_text("admin1", Some(a), MAX_PLACE)?;
        }
        if let Some(n) = &p.place_name {
            next.place_name = opt_text("place_name", Some(n), MAX_PLACE)?;
        }
        if let Some(t) = p.tlp.as_deref().filter(|s| !s.trim().is_empty()) {
            next.tlp = t.parse::<Tlp>()?;
        }
        if next.status.is_closed() && next.findings.is_none() {
            return Err(DomainError::invalid(
                "findings",
                format!(
                    "a rumour marked {} needs findings: what checking it found",
                    next.status
                ),
            )
            .into());
        }
        next.version = self.version + 1;
        next.updated_at = at;
        *self = next;
        Ok(())
    }

    /// Past its deadline at `now` and not closed.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        !self.status.is_closed() && self.deadline < now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RumourStatus::*;

    fn allowed(p: RumourPriority) -> Duration {
        match p {
            RumourPriority::Critical => Duration::hours(6),
            RumourPriority::High => Duration::hours(24),
            RumourPriority::Medium => Duration::days(3),
            RumourPriority::Low => Duration::days(7),
        }
    }

    fn new() -> NewRumour {
        NewRumour {
            claim: "The militia will attack the market on Friday".into(),
            country: "KEN".into(),
            priority: Some("high".into()),
            ..Default::default()
        }
    }

    fn rumour_in(s: RumourStatus) -> Rumour {
        let mut r = Rumour::create(new(), "ana", crate::time::now(), allowed).unwrap();
        r.status = s;
        r
    }

    fn to(s: RumourStatus) -> RumourPatch {
        RumourPatch {
            status: Some(s.as_str().into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_rumour_starts_new_with_its_priority_deadline_and_names_bad_fields() {
        let at = crate::time::now();
        let r = Rumour::create(new(), "ana", at, allowed).unwrap();
        assert_eq!(r.status, New);
        assert_eq!(r.deadline, at + Duration::hours(24));
        assert_eq!(r.tlp, Tlp::Amber);
        assert_eq!(r.id.get_version_num(), 4, "ids are random");
        let bad = |f: fn(&mut NewRumour)| {
            let mut n = new();
            f(&mut n);
            Rumour::create(n, "ana", at, allowed)
                .unwrap_err()
                .field()
                .unwrap()
                .to_string()
        };
        assert_eq!(bad(|n| n.claim = "  ".into()), "claim");
        assert_eq!(bad(|n| n.claim = "x".repeat(MAX_CLAIM + 1)), "claim");
        assert_eq!(bad(|n| n.country = "Narnia".into()), "country");
        assert_eq!(bad(|n| n.priority = Some("urgent".into())), "priority");
        assert_eq!(bad(|n| n.tlp = Some("TLP:PINK".into())), "tlp");
        assert_eq!(bad(|n| n.latitude = Some(95.0)), "latitude");
        assert_eq!(bad(|n| n.latitude = Some(1.0)), "longitude");
        assert_eq!(bad(|n| n.place_name = Some("a\0b".into())), "place_name");
    }

    /// Every (from, to) pair: the allowed ones, written out by hand, succeed; every other one
    /// is refused as illegal and changes nothing.
    #[test]
    fn every_status_move_is_allowed_or_refused_as_the_workflow_says() {
        let allowed_moves: &[(RumourStatus, &[RumourStatus])] = &[
            (New, &[UnderInvestigation]),
            (
                UnderInvestigation,
                &[
                    ProbablyTrue,
                    ProbablyFalse,
                    ConfirmedTrue,
                    ConfirmedFalse,
                    CannotBeVerified,
                ],
            ),
            (
                ProbablyTrue,
                &[
                    UnderInvestigation,
                    ProbablyFalse,
                    ConfirmedTrue,
                    ConfirmedFalse,
                    CannotBeVerified,
                ],
            ),
            (
                ProbablyFalse,
                &[
                    UnderInvestigation,
                    ProbablyTrue,
                    ConfirmedTrue,
                    ConfirmedFalse,
                    CannotBeVerified,
                ],
            ),
            (ConfirmedTrue, &[UnderInvestigation]),
            (ConfirmedFalse, &[UnderInvestigation]),
            (CannotBeVerified, &[UnderInvestigation]),
        ];
        let now = crate::time::now();
        for (from, ok) in allowed_moves {
            assert_eq!(&from.moves(), ok, "moves from {from}");
            for target in RumourStatus::ALL.iter().copied().filter(|t| t != from) {
                let mut r = rumour_in(*from);
                r.findings = Some("Checked with two elders and the district officer".into());
                let before = r.clone();
                let got = r.apply(&to(target), now, allowed);
                if ok.contains(&target) {
                    got.unwrap_or_else(|e| panic!("{from} → {target}: {e}"));
                    assert_eq!(r.status, target);
                    assert_eq!(r.version, before.version + 1);
                } else {
                    let e = got.unwrap_err();
                    assert_eq!(
                        e,
                        RumourError::Illegal {
                            from: *from,
                            to: target
                        },
                        "{from} → {target}"
                    );
                    assert!(e.to_string().contains(&format!("cannot become {target}")));
                    assert_eq!(r, before, "a refused move changes nothing");
                }
            }
        }
    }

    #[test]
    fn closing_needs_findings_given_or_already_recorded() {
        let now = crate::time::now();
        for closed in [ConfirmedTrue, ConfirmedFalse, CannotBeVerified] {
            let mut r = rumour_in(UnderInvestigation);
            let e = r.apply(&to(closed), now, allowed).unwrap_err();
            assert!(
                matches!(&e, RumourError::Invalid(d) if d.field() == Some("findings")),
                "{closed}: {e}"
            );
            assert_eq!(r.status, UnderInvestigation);
            // Blank findings are no findings.
            let mut p = to(closed);
            p.findings = Some("   ".into());
            assert!(r.apply(&p, now, allowed).is_err());
            p.findings = Some("The market was calm; the militia's leader was in Nairobi".into());
            r.apply(&p, now, allowed).unwrap();
            assert_eq!(r.status, closed);
            assert!(!r.is_overdue(r.deadline + Duration::days(30)));
            // Findings cannot be wiped while closed.
            let wipe = RumourPatch {
                findings: Some(String::new()),
                ..Default::default()
            };
            assert!(r.apply(&wipe, now, allowed).is_err());
        }
        // Findings recorded earlier are enough.
        let mut r = rumour_in(ProbablyFalse);
        r.apply(
            &RumourPatch {
                findings: Some("No armed group seen".into()),
                ..Default::default()
            },
            now,
            allowed,
        )
        .unwrap();
        r.apply(&to(ConfirmedFalse), now, allowed).unwrap();
    }

    #[test]
    fn the_deadline_follows_the_priority_and_overdue_ends_on_closing() {
        let now = crate::time::now();
        let mut r = rumour_in(New);
        assert!(!r.is_overdue(r.deadline));
        assert!(r.is_overdue(r.deadline + Duration::seconds(1)));
        r.apply(
            &RumourPatch {
                priority: Some("critical".into()),
                ..Default::default()
            },
            now,
            allowed,
        )
        .unwrap();
        assert_eq!(r.deadline, r.created_at + Duration::hours(6));
        let stale = RumourPatch {
            expected_version: Some(1),
            ..Default::default()
        };
        assert!(matches!(
            r.apply(&stale, now, allowed).unwrap_err(),
            RumourError::Stale {
                expected: 1,
                actual: 2
            }
        ));
    }

    #[test]
    fn a_sighting_names_how_and_where() {
        let now = crate::time::now();
        let s = Sighting::new(
            Uuid::nil(),
            Uuid::nil(),
            "social-media",
            " Kibera market ",
            "ana",
            now,
        )
        .unwrap();
        assert_eq!(s.how, HeardHow::SocialMedia);
        assert_eq!(s.where_heard, "Kibera market");
        let e = Sighting::new(Uuid::nil(), Uuid::nil(), "telepathy", "", "ana", now).unwrap_err();
        assert_eq!(e.field(), Some("how"));
        let e = Sighting::new(
            Uuid::nil(),
            Uuid::nil(),
            "radio",
            &"x".repeat(300),
            "ana",
            now,
        )
        .unwrap_err();
        assert_eq!(e.field(), Some("where"));
    }
}
