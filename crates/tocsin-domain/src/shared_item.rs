//! Records other than incidents that cross to partner organisations: published assessments'
//! summaries and risk levels, alerts with their CAP form, rumours' status, and preventive
//! actions marked shareable. Which cross, and at which label, is decided in the application
//! layer (`tocsin_app::share_items`); this module says what such a record carries (never an
//! author, a lead, a rationale's evidence, a rumour's sightings or findings, nor anything
//! naming who warned) and how one received from elsewhere is kept (read-only, with local
//! notes).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Country, DomainError, Received, Tlp};

/// What kind of record a shared item is.
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
#[serde(rename_all = "snake_case")]
pub enum SharedKind {
    /// A published assessment: its summary and risk levels.
    Assessment,
    /// An alert, with its CAP 1.2 form.
    Alert,
    /// A rumour and its status.
    Rumour,
    /// A preventive action marked shareable.
    Action,
}

impl SharedKind {
    /// Every kind, in order.
    pub const ALL: [SharedKind; 4] = [
        SharedKind::Assessment,
        SharedKind::Alert,
        SharedKind::Rumour,
        SharedKind::Action,
    ];

    /// `assessment`, `alert`, `rumour`, `action`.
    pub fn as_str(self) -> &'static str {
        match self {
            SharedKind::Assessment => "assessment",
            SharedKind::Alert => "alert",
            SharedKind::Rumour => "rumour",
            SharedKind::Action => "action",
        }
    }

    /// Parse a kind's name.
    pub fn parse(s: &str) -> Result<SharedKind, DomainError> {
        SharedKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                DomainError::invalid("kind", "expected assessment, alert, rumour or action")
            })
    }

    /// The STIX 2.1 object type it is written as: a `report` (assessments, alerts), a `note`
    /// (rumours), a `course-of-action` (actions).
    pub fn stix_type(self) -> &'static str {
        match self {
            SharedKind::Assessment | SharedKind::Alert => "report",
            SharedKind::Rumour => "note",
            SharedKind::Action => "course-of-action",
        }
    }
}

/// A risk factor's level in a shared assessment (never its rationale nor its evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SharedFactor {
    /// The framework's factor number.
    pub factor: u32,
    /// How present it is (`none` … `severe`).
    pub level: String,
    /// How sure the analysts are.
    pub confidence: String,
}

/// A record other than an incident as it may leave this organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SharedItem {
    /// Its kind.
    pub kind: SharedKind,
    /// Its id here (the origin's id for receivers).
    pub id: Uuid,
    /// What it is, in a line: the assessment's situation and date, the alert's title, the
    /// rumour's claim (cut), the action's measure.
    pub title: String,
    /// The assessment's summary, the rumour's claim, the action's outcome; empty for an alert
    /// (its CAP form says it).
    pub summary: String,
    /// Where it stands: `published`, the alert's or action's status, the rumour's status.
    pub status: String,
    /// How grave: the assessment's highest risk factor level, the alert's severity.
    pub level: Option<String>,
    /// The country it is about.
    #[schema(value_type = Option<String>)]
    pub country: Option<Country>,
    /// An assessment's risk factor levels.
    #[serde(default)]
    pub factors: Vec<SharedFactor>,
    /// An alert's CAP 1.2 message (XML).
    pub cap: Option<String>,
    /// Its label.
    pub tlp: Tlp,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Its version's time (a later one supersedes).
    pub updated_at: DateTime<Utc>,
    /// Its version.
    pub version: i64,
}

/// The most characters of a shared item's title.
pub const MAX_ITEM_TITLE: usize = 300;
/// The most bytes of a shared item's summary.
pub const MAX_ITEM_SUMMARY: usize = 20_000;
/// The most bytes of an alert's CAP form carried.
pub const MAX_ITEM_CAP: usize = 256 * 1024;
/// The most risk factors a shared assessment carries.
pub const MAX_ITEM_FACTORS: usize = 100;
/// The most bytes of a local note on a received record.
pub const MAX_ITEM_NOTE: usize = 5_000;

fn short_word(field: &str, s: &str) -> Result<(), DomainError> {
    if s.is_empty()
        || s.len() > 40
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(DomainError::invalid(
            field,
            "expected a word of at most 40 letters, digits, - or _",
        ));
    }
    Ok(())
}

impl SharedItem {
    /// Check an item read from another organisation's bundle: a title of 1 to
    /// [`MAX_ITEM_TITLE`] characters without control characters, a summary of at most
    /// [`MAX_ITEM_SUMMARY`] bytes, status and level single words, at most
    /// [`MAX_ITEM_FACTORS`] factors, a CAP form of at most [`MAX_ITEM_CAP`] bytes that is XML.
    pub fn check(&self) -> Result<(), DomainError> {
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > MAX_ITEM_TITLE {
            return Err(DomainError::invalid(
                "title",
                format!("1 to {MAX_ITEM_TITLE} characters"),
            ));
        }
        if title.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "title",
                "must not contain control characters",
            ));
        }
        if self.summary.len() > MAX_ITEM_SUMMARY {
            return Err(DomainError::invalid(
                "summary",
                format!("at most {MAX_ITEM_SUMMARY} bytes"),
            ));
        }
        short_word("status", &self.status)?;
        if let Some(l) = &self.level {
            short_word("level", l)?;
        }
        if self.factors.len() > MAX_ITEM_FACTORS {
            return Err(DomainError::invalid(
                "factors",
                format!("at most {MAX_ITEM_FACTORS}"),
            ));
        }
        for f in &self.factors {
            short_word("factors", &f.level)?;
            short_word("factors", &f.confidence)?;
        }
        if let Some(cap) = &self.cap {
            if cap.len() > MAX_ITEM_CAP || !cap.trim_start().starts_with('<') {
                return Err(DomainError::invalid(
                    "cap",
                    format!("a CAP message in XML of at most {MAX_ITEM_CAP} bytes"),
                ));
            }
        }
        Ok(())
    }
}

/// An item read from another organisation's bundle, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingItem {
    /// Its id there (e.g. `report--…`).
    pub original_id: String,
    /// Its version time there.
    pub modified: DateTime<Utc>,
    /// Retracted by its origin (STIX `revoked`).
    pub revoked: bool,
    /// What it carries (for a retraction, only its kind and label mean anything).
    pub item: SharedItem,
}

/// A record other than an incident received from another organisation: read-only, shown with
/// its origin, with the notes this organisation keeps on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceivedItem {
    /// Its id here.
    pub id: Uuid,
    /// Where it came from.
    pub received: Received,
    /// What it carries, as its origin last sent it.
    pub item: SharedItem,
    /// This organisation's note on it (never sent anywhere).
    pub note: Option<String>,
    /// Who last wrote the note.
    pub note_by: Option<String>,
    /// When.
    pub noted_at: Option<DateTime<Utc>>,
}

/// Check a local note: at most [`MAX_ITEM_NOTE`] bytes; empty clears it.
pub fn item_note(s: &str) -> Result<Option<String>, DomainError> {
    let t = s.trim();
    if t.len() > MAX_ITEM_NOTE {
        return Err(DomainError::invalid(
            "note",
            format!("at most {MAX_ITEM_NOTE} bytes"),
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::invalid(
            "note",
            "must not contain control characters",
        ));
    }
    Ok(Some(t.to_string()).filter(|t| !t.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> SharedItem {
        SharedItem {
            kind: SharedKind::Alert,
            id: Uuid::nil(),
            title: "Militia gathering near Bria".into(),
            summary: String::new(),
            status: "open".into(),
            level: Some("severe".into()),
            country: Country::parse("CAF").ok(),
            factors: vec![],
            cap: Some("<?xml version=\"1.0\"?><alert/>".into()),
            tlp: Tlp::Green,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
        }
    }

    #[test]
    fn kinds_and_their_stix_types() {
        for k in SharedKind::ALL {
            assert_eq!(SharedKind::parse(k.as_str()).unwrap(), k);
        }
        assert_eq!(SharedKind::Rumour.stix_type(), "note");
        assert_eq!(SharedKind::Action.stix_type(), "course-of-action");
        assert_eq!(
            SharedKind::parse("incident").unwrap_err().field(),
            Some("kind")
        );
    }

    #[test]
    fn incoming_items_are_checked() {
        assert!(item().check().is_ok());
        let bad = |f: fn(&mut SharedItem)| {
            let mut i = item();
            f(&mut i);
            i.check().unwrap_err().field().map(str::to_string)
        };
        assert_eq!(bad(|i| i.title = " ".into()).as_deref(), Some("title"));
        assert_eq!(
            bad(|i| i.title = "a\u{1b}[2J".into()).as_deref(),
            Some("title")
        );
        assert_eq!(
            bad(|i| i.status = "open; drop".into()).as_deref(),
            Some("status")
        );
        assert_eq!(
            bad(|i| i.level = Some(String::new())).as_deref(),
            Some("level")
        );
        assert_eq!(
            bad(|i| i.cap = Some("not xml".into())).as_deref(),
            Some("cap")
        );
        assert_eq!(
            bad(|i| i.summary = "x".repeat(MAX_ITEM_SUMMARY + 1)).as_deref(),
            Some("summary")
        );
        assert_eq!(item_note("  kept \n").unwrap().as_deref(), Some("kept"));
        assert_eq!(item_note("  ").unwrap(), None);
        assert!(item_note("a\u{7}").is_err());
    }
}
