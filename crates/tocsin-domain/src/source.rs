//! Sources: the people and outlets behind reports. Contact details are sealed at rest.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{ContactKey, DomainError, SealedContact, Tlp};

/// Admiralty source reliability, A (completely reliable) to F (cannot be judged).
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
pub enum Reliability {
    /// Completely reliable.
    A,
    /// Usually reliable.
    B,
    /// Fairly reliable.
    C,
    /// Not usually reliable.
    D,
    /// Unreliable.
    E,
    /// Reliability cannot be judged.
    F,
}

/// `F`, reliability cannot be judged (the default where no source is known).
pub fn cannot_be_judged() -> Reliability {
    Reliability::F
}

impl std::fmt::Display for Reliability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Reliability {
    /// Every grade, best first.
    pub const ALL: [Reliability; 6] = [
        Reliability::A,
        Reliability::B,
        Reliability::C,
        Reliability::D,
        Reliability::E,
        Reliability::F,
    ];

    /// The letter.
    pub fn as_str(self) -> &'static str {
        match self {
            Reliability::A => "A",
            Reliability::B => "B",
            Reliability::C => "C",
            Reliability::D => "D",
            Reliability::E => "E",
            Reliability::F => "F",
        }
    }

    /// Parse a letter.
    pub fn parse(s: &str) -> Result<Reliability, DomainError> {
        Ok(match s.trim().to_ascii_uppercase().as_str() {
            "A" => Reliability::A,
            "B" => Reliability::B,
            "C" => Reliability::C,
            "D" => Reliability::D,
            "E" => Reliability::E,
            "F" => Reliability::F,
            _ => {
                return Err(DomainError::invalid(
                    "reliability",
                    "expected a letter A to F",
                ))
            }
        })
    }
}

/// How to reach a source. Only ever stored sealed; only roles with the permission see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceContact {
    /// Name, if the source gave one.
    pub name: Option<String>,
    /// Phone number, E.164.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// A messaging-app address replies go to, e.g. `telegram:123456789` (a Telegram chat id).
    /// Absent from contacts sealed before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<String>,
}

impl SourceContact {
    /// Seal for storage as the contact of source `source_id` (bound to it: copied onto another
    /// source's record, it does not open).
    pub fn seal(&self, key: &ContactKey, source_id: Uuid) -> SealedContact {
        key.seal_bound(
            &serde_json::to_vec(self).expect("contact serialises"),
            &binding(source_id),
        )
    }

    /// Open the sealed contact of source `source_id`.
    pub fn open(
        sealed: &SealedContact,
        key: &ContactKey,
        source_id: Uuid,
    ) -> Result<SourceContact, DomainError> {
        serde_json::from_slice(&key.open_bound(sealed, &binding(source_id))?)
            .map_err(|_| DomainError::Crypto)
    }
}

/// The associated data binding a sealed contact to its source.
fn binding(source_id: Uuid) -> Vec<u8> {
    let mut b = b"tocsin-contact-v2:".to_vec();
    b.extend_from_slice(source_id.as_bytes());
    b
}

/// A source as everyone with `SourceRead` sees it: a handle, never contact details.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Source {
    /// Its id.
    pub id: Uuid,
    /// Public handle, e.g. `M-0423`.
    pub handle: String,
    /// `monitor`, `outlet`, `organisation`, `partner`.
    pub kind: String,
    /// Admiralty reliability grade.
    pub reliability: Reliability,
    /// Label of the source record itself.
    pub tlp: Tlp,
    /// Whether contact details are held (not what they are).
    pub has_contact: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// The kinds of source.
pub const SOURCE_KINDS: &[&str] = &["monitor", "outlet", "organisation", "partner"];

/// A source to create.
#[derive(Debug, Clone)]
pub struct NewSource {
    /// The record; `has_contact` must match `contact`.
    pub source: Source,
    /// Sealed contact details.
    pub contact: Option<SealedContact>,
}

impl NewSource {
    /// Build a new source, sealing its contact details with `key`.
    pub fn new(
        handle: &str,
        kind: &str,
        reliability: Reliability,
        tlp: Tlp,
        contact: Option<&SourceContact>,
        key: &ContactKey,
    ) -> Result<NewSource, DomainError> {
        let handle = handle.trim();
        if handle.is_empty()
            || handle.len() > 40
            || !handle
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(DomainError::invalid(
                "handle",
                "1-40 letters, digits, '-' or '_'",
            ));
        }
        let id = crate::random_id();
        Ok(NewSource {
            source: Source {
                id,
                handle: handle.to_string(),
                kind: kind.to_string(),
                reliability,
                tlp,
                has_contact: contact.is_some(),
                created_at: crate::time::now(),
            },
            contact: contact.map(|c| c.seal(key, id)),
        })
    }
}
