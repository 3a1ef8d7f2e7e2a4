//! Verification of incidents and grading of sources (Admiralty scale).
//!
//! - [`VerificationStatus`]: unverified → corroborated → verified, or disputed, or refuted.
//!   [`VerificationStatus::check_move`] is the state machine; every change is made by a named
//!   person with a reason and kept as a [`VerificationEntry`].
//! - [`independent_sources`] / [`auto_corroboration`]: the rule that an incident linked to
//!   reports from two or more independent sources is corroborated automatically.
//! - [`TaskTick`]: a required task of the verification checklist done by someone.
//! - [`TrackRecord`] and [`suggest_reliability`]: Tocsin's suggested grade for a source from
//!   what became of its reports; [`ReliabilityEntry`] the history of grades set by people.
//! - [`grading`]: the "B2" shown with every claim.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use crate::{DomainError, Reliability};

/// How far an incident has been verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// Not yet checked.
    Unverified,
    /// Reports from independent sources agree (automatically, or by an analyst).
    Corroborated,
    /// Confirmed, every required task of the checklist done. Final.
    Verified,
    /// Sources or evidence disagree.
    Disputed,
    /// Shown to be false. Final.
    Refuted,
}

impl<'de> Deserialize<'de> for VerificationStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        VerificationStatus::parse(&s).map_err(|e| match e {
            DomainError::Invalid { message, .. } => serde::de::Error::custom(message),
            e => serde::de::Error::custom(e),
        })
    }
}

const NAMES: &str = "unverified, corroborated, verified, disputed or refuted";

impl VerificationStatus {
    /// All statuses.
    pub const ALL: [VerificationStatus; 5] = [
        VerificationStatus::Unverified,
        VerificationStatus::Corroborated,
        VerificationStatus::Verified,
        VerificationStatus::Disputed,
        VerificationStatus::Refuted,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::Unverified => "unverified",
            VerificationStatus::Corroborated => "corroborated",
            VerificationStatus::Verified => "verified",
            VerificationStatus::Disputed => "disputed",
            VerificationStatus::Refuted => "refuted",
        }
    }

    /// Parse a stored or client-given name. The names used before issue 16
    /// (`partially_verified`, `false`) are refused with the name that replaced them.
    pub fn parse(s: &str) -> Result<VerificationStatus, DomainError> {
        let s = s.trim();
        if let Some(v) = VerificationStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
        {
            return Ok(v);
        }
        let message = match s {
            "partially_verified" => {
                format!("partially_verified is now called corroborated (expected {NAMES})")
            }
            "false" => format!("false is now called refuted (expected {NAMES})"),
            other => format!("{other:?} is not a verification status (expected {NAMES})"),
        };
        Err(DomainError::invalid("verification_status", message))
    }

    /// Parse a name from an imported file or older data: the names used before issue 16 are
    /// mapped onto today's (`partially_verified` → corroborated, `false` → refuted).
    pub fn parse_lenient(s: &str) -> Result<VerificationStatus, DomainError> {
        match s.trim() {
            "partially_verified" => Ok(VerificationStatus::Corroborated),
            "false" => Ok(VerificationStatus::Refuted),
            other => VerificationStatus::parse(other),
        }
    }

    /// Whether no move leads out of this status (verified, refuted).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            VerificationStatus::Verified | VerificationStatus::Refuted
        )
    }

    /// Whether the reports of an incident in this status count for their sources' track
    /// records as confirmed.
    pub fn confirms(self) -> bool {
        matches!(
            self,
            VerificationStatus::Verified | VerificationStatus::Corroborated
        )
    }

    /// The moves a person may make from this status, in the order a page offers them.
    ///
    /// | from | to |
    /// |---|---|
    /// | unverified | corroborated, disputed, refuted |
    /// | corroborated | verified, disputed, refuted |
    /// | disputed | corroborated, verified, refuted |
    /// | verified, refuted | none (final) |
    pub fn allowed_moves(self) -> &'static [VerificationStatus] {
        use VerificationStatus::*;
        match self {
            Unverified => &[Corroborated, Disputed, Refuted],
            Corroborated => &[Verified, Disputed, Refuted],
            Disputed => &[Corroborated, Verified, Refuted],
            Verified | Refuted => &[],
        }
    }

    /// Check a move by a person; the error says why it is refused, for a person to read.
    /// (The checklist a move to `verified` also needs is checked by [`missing_tasks`].)
    pub fn check_move(self, to: VerificationStatus) -> Result<(), DomainError> {
        if self.allowed_moves().contains(&to) {
            return Ok(());
        }
        let message = if self == to {
            format!("the incident is already {}", to.as_str())
        } else if self.is_final() {
            format!(
                "{} is final: an incident {} is not moved again",
                self.as_str(),
                self.as_str()
            )
        } else if to == VerificationStatus::Verified {
            format!(
                "an incident {} cannot be verified before it is corroborated",
                self.as_str()
            )
        } else {
            format!(
                "an incident {} cannot be moved back to {} (allowed: {})",
                self.as_str(),
                to.as_str(),
                self.allowed_moves()
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Err(DomainError::invalid("state", message))
    }
}

impl std::fmt::Display for VerificationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest reason or note accepted, in characters.
pub const REASON_CHARS: usize = 2000;

/// A required reason or an optional note: trimmed, at most [`REASON_CHARS`], no NUL.
pub fn check_reason(field: &str, s: &str, required: bool) -> Result<String, DomainError> {
    let s = s.trim();
    if required && s.is_empty() {
        return Err(DomainError::invalid(field, "a reason is required"));
    }
    if s.chars().count() > REASON_CHARS || s.contains('\0') {
        return Err(DomainError::invalid(
            field,
            format!("at most {REASON_CHARS} characters, no NUL"),
        ));
    }
    Ok(s.to_string())
}

/// One change of an incident's verification status, as its history shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerificationEntry {
    /// The incident.
    pub incident_id: Uuid,
    /// From.
    pub from: VerificationStatus,
    /// To.
    pub to: VerificationStatus,
    /// Who (a username, or `system` for the automatic rule).
    pub by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The name under which automatic changes are recorded.
pub const SYSTEM: &str = "system";

/// How many independent sources the linked reports come from: distinct source ids; reports
/// without a source count for nothing (an anonymous report cannot be told apart from another
/// report of the same person), and two reports of one source count once.
pub fn independent_sources<I, T>(report_sources: I) -> usize
where
    I: IntoIterator<Item = Option<T>>,
    T: Eq + std::hash::Hash,
{
    report_sources
        .into_iter()
        .flatten()
        .collect::<std::collections::HashSet<_>>()
        .len()
}

/// The automatic corroboration rule: an `unverified` incident whose linked reports come from
/// two or more independent sources ([`independent_sources`]) becomes `corroborated`, recorded
/// by [`SYSTEM`] with the reason "corroborated automatically: reports from N independent
/// sources". Any other status is left alone (a person's decision is never overridden).
pub fn auto_corroboration<I, T>(
    incident_id: Uuid,
    current: VerificationStatus,
    report_sources: I,
    at: DateTime<Utc>,
) -> Option<VerificationEntry>
where
    I: IntoIterator<Item = Option<T>>,
    T: Eq + std::hash::Hash,
{
    if current != VerificationStatus::Unverified {
        return None;
    }
    let n = independent_sources(report_sources);
    (n >= 2).then(|| VerificationEntry {
        incident_id,
        from: current,
        to: VerificationStatus::Corroborated,
        by: SYSTEM.to_string(),
        reason: format!("corroborated automatically: reports from {n} independent sources"),
        at,
    })
}

/// A task of the verification checklist, done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskTick {
    /// The incident.
    pub incident_id: Uuid,
    /// The task, as the configuration names it.
    pub task: String,
    /// Who did it.
    pub by: String,
    /// A note (what was found), may be empty.
    pub note: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The required tasks not yet ticked, in the configured order.
pub fn missing_tasks<'a>(required: &'a [String], ticks: &[TaskTick]) -> Vec<&'a str> {
    required
        .iter()
        .filter(|t| !ticks.iter().any(|k| &k.task == *t))
        .map(String::as_str)
        .collect()
}

/// A change of a source's reliability grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReliabilityEntry {
    /// The source.
    pub source_id: Uuid,
    /// The grade before.
    pub from: Reliability,
    /// The grade set.
    pub to: Reliability,
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// What became of a source's reports (counted over the reports and incidents the reader may
/// see): how many are linked to an incident now verified or corroborated, how many to one
/// refuted, and how many there are in all. A report linked to both kinds counts in both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrackRecord {
    /// Reports linked to a verified or corroborated incident.
    pub confirmed: u64,
    /// Reports linked to a refuted incident.
    pub refuted: u64,
    /// All the source's reports.
    pub total: u64,
}

/// Decided reports a suggestion needs at least.
pub const MIN_DECIDED: u64 = 3;

/// Tocsin's suggested reliability from a track record. Decided reports are the confirmed plus
/// the refuted ones; below [`MIN_DECIDED`] there is no suggestion (`None`: reliability cannot
/// be judged yet). Otherwise, by the share confirmed:
///
/// | share confirmed | suggestion |
/// |---|---|
/// | ≥ 0.95 and at least 10 decided | A |
/// | ≥ 0.80 | B |
/// | ≥ 0.60 | C |
/// | ≥ 0.40 | D |
/// | below | E |
///
/// F ("cannot be judged") is never suggested from a record: it is what no suggestion means.
pub fn suggest_reliability(t: &TrackRecord) -> Option<Reliability> {
    let decided = t.confirmed + t.refuted;
    if decided < MIN_DECIDED {
        return None;
    }
    // Compare in integers: share ≥ p/100  ⇔  100·confirmed ≥ p·decided.
    let at_least = |pct: u64| t.confirmed * 100 >= pct * decided;
    Some(if at_least(95) && decided >= 10 {
        Reliability::A
    } else if at_least(80) {
        Reliability::B
    } else if at_least(60) {
        Reliability::C
    } else if at_least(40) {
        Reliability::D
    } else {
        Reliability::E
    })
}

/// The Admiralty grading shown with a claim: the source's reliability letter and the
/// information's credibility digit, e.g. `B2`.
pub fn grading(reliability: Reliability, credibility: i16) -> String {
    format!("{}{}", reliability.as_str(), credibility)
}

/// Check an information credibility grade, 1 (confirmed) to 6 (cannot be judged).
pub fn check_credibility(v: i16) -> Result<i16, DomainError> {
    if (1..=6).contains(&v) {
        Ok(v)
    } else {
        Err(DomainError::invalid(
            "credibility",
            "must be between 1 (confirmed) and 6 (cannot be judged)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::VerificationStatus::*;
    use super::*;

    /// Every move, allowed or refused, with the message a person is shown.
    #[test]
    fn state_machine_every_move() {
        let table: [(VerificationStatus, VerificationStatus, Result<(), &str>); 25] = [
            (Unverified, Unverified, Err("the incident is already unverified")),
            (Unverified, Corroborated, Ok(())),
            (Unverified, Verified, Err("an incident unverified cannot be verified before it is corroborated")),
            (Unverified, Disputed, Ok(())),
            (Unverified, Refuted, Ok(())),
            (Corroborated, Unverified, Err("an incident corroborated cannot be moved back to unverified (allowed: verified, disputed, refuted)")),
            (Corroborated, Corroborated, Err("the incident is already corroborated")),
            (Corroborated, Verified, Ok(())),
            (Corroborated, Disputed, Ok(())),
            (Corroborated, Refuted, Ok(())),
            (Disputed, Unverified, Err("an incident disputed cannot be moved back to unverified (allowed: corroborated, verified, refuted)")),
            (Disputed, Corroborated, Ok(())),
            (Disputed, Verified, Ok(())),
            (Disputed, Disputed, Err("the incident is already disputed")),
            (Disputed, Refuted, Ok(())),
            (Verified, Unverified, Err("verified is final: an incident verified is not moved again")),
            (Verified, Corroborated, Err("verified is final: an incident verified is not moved again")),
            (Verified, Verified, Err("the incident is already verified")),
            (Verified, Disputed, Err("verified is final: an incident verified is not moved again")),
            (Verified, Refuted, Err("verified is final: an incident verified is not moved again")),
            (Refuted, Unverified, Err("refuted is final: an incident refuted is not moved again")),
            (Refuted, Corroborated, Err("refuted is final: an incident refuted is not moved again")),
            (Refuted, Verified, Err("refuted is final: an incident refuted is not moved again")),
            (Refuted, Disputed, Err("refuted is final: an incident refuted is not moved again")),
            (Refuted, Refuted, Err("the incident is already refuted")),
        ];
        for (from, to, want) in table {
            let got = from.check_move(to);
            match (want, got) {
                (Ok(()), Ok(())) => {}
                (Err(msg), Err(DomainError::Invalid { field, message })) => {
                    assert_eq!(field, "state");
                    assert_eq!(message, msg, "{from} → {to}");
                }
                (w, g) => panic!("{from} → {to}: wanted {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn old_names_refused_naming_new_ones_but_mapped_on_import() {
        for (old, new) in [("partially_verified", "corroborated"), ("false", "refuted")] {
            let e = VerificationStatus::parse(old).unwrap_err();
            assert_eq!(e.field(), Some("verification_status"));
            assert!(e.to_string().contains(&format!("now called {new}")), "{e}");
            assert_eq!(
                VerificationStatus::parse_lenient(old).unwrap().as_str(),
                new
            );
        }
        let e = serde_json::from_str::<VerificationStatus>("\"false\"").unwrap_err();
        assert!(e.to_string().contains("now called refuted"), "{e}");
        assert_eq!(
            serde_json::from_str::<VerificationStatus>("\"corroborated\"").unwrap(),
            Corroborated
        );
        for v in VerificationStatus::ALL {
            assert_eq!(VerificationStatus::parse(v.as_str()).unwrap(), v);
        }
    }

    #[test]
    fn independent_sources_rule() {
        let a = Some("M-1");
        let b = Some("M-2");
        // Two reports of one source never corroborate each other.
        assert_eq!(independent_sources([a, a]), 1);
        // Reports without a source never count (not even once each).
        assert_eq!(independent_sources([a, None, None]), 1);
        assert_eq!(independent_sources::<_, &str>([None, None]), 0);
        assert_eq!(independent_sources([a, b, a, None]), 2);
        let id = Uuid::nil();
        let now = crate::time::now();
        assert!(auto_corroboration(id, Unverified, [a, a, None], now).is_none());
        let e = auto_corroboration(id, Unverified, [a, b, Some("M-3")], now).unwrap();
        assert_eq!(
            (e.from, e.to, e.by.as_str()),
            (Unverified, Corroborated, "system")
        );
        assert_eq!(
            e.reason,
            "corroborated automatically: reports from 3 independent sources"
        );
        // A person's decision is never overridden.
        for s in [Corroborated, Verified, Disputed, Refuted] {
            assert!(auto_corroboration(id, s, [a, b], now).is_none());
        }
    }

    #[test]
    fn suggestion_from_track_record() {
        let s = |confirmed, refuted| {
            suggest_reliability(&TrackRecord {
                confirmed,
                refuted,
                total: confirmed + refuted + 5,
            })
            .map(|r| r.as_str())
        };
        assert_eq!(s(0, 0), None);
        assert_eq!(s(2, 0), None, "two decided reports are not enough");
        assert_eq!(s(1, 1), None);
        assert_eq!(s(3, 0), Some("B"), "A needs at least 10 decided reports");
        assert_eq!(s(10, 0), Some("A"));
        assert_eq!(s(19, 1), Some("A"), "0.95 exactly");
        assert_eq!(s(18, 2), Some("B"), "0.90");
        assert_eq!(s(4, 1), Some("B"), "0.80 exactly");
        assert_eq!(s(3, 1), Some("C"), "0.75");
        assert_eq!(s(3, 2), Some("C"), "0.60 exactly");
        assert_eq!(s(2, 2), Some("D"), "0.50");
        assert_eq!(s(2, 3), Some("D"), "0.40 exactly");
        assert_eq!(s(1, 2), Some("E"));
        assert_eq!(s(0, 3), Some("E"));
    }

    #[test]
    fn checklist_and_grading() {
        let req = vec!["Call a second contact".to_string(), "Check the map".into()];
        let tick = |t: &str| TaskTick {
            incident_id: Uuid::nil(),
            task: t.into(),
            by: "ana".into(),
            note: String::new(),
            at: crate::time::now(),
        };
        assert_eq!(
            missing_tasks(&req, &[]),
            vec!["Call a second contact", "Check the map"]
        );
        assert_eq!(
            missing_tasks(&req, &[tick("Check the map")]),
            vec!["Call a second contact"]
        );
        assert!(missing_tasks(
            &req,
            &[tick("Check the map"), tick("Call a second contact")]
        )
        .is_empty());
        assert_eq!(grading(Reliability::B, 2), "B2");
        assert!(check_credibility(0).is_err() && check_credibility(7).is_err());
        assert_eq!(
            check_reason("reason", "  ", true).unwrap_err().field(),
            Some("reason")
        );
        assert_eq!(check_reason("note", "", false).unwrap(), "");
    }
}
