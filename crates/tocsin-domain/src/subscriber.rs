//! Community-alert subscribers: people who asked, by SMS or through staff, to be warned about
//! their area. A subscriber is a place, a language and a status; the number is only ever held
//! sealed (bound to the subscriber's id) and as a keyed hash for lookup, under a key derived
//! for subscribers alone, so the stored hashes of subscribers and of sources cannot be joined
//! even by someone holding the database: who is a warner must not follow from who subscribed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

use crate::area::SubscriberPlace;
use crate::{ContactKey, DomainError, Lang, SealedContact};

/// Whether a subscriber receives broadcasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubscriberStatus {
    /// Receives broadcasts for their place.
    Active,
    /// Said STOP: receives nothing until they join again.
    Stopped,
}

impl SubscriberStatus {
    /// `active` or `stopped`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberStatus::Active => "active",
            SubscriberStatus::Stopped => "stopped",
        }
    }

    /// Read `active` or `stopped`.
    pub fn parse(s: &str) -> Result<SubscriberStatus, DomainError> {
        match s {
            "active" => Ok(SubscriberStatus::Active),
            "stopped" => Ok(SubscriberStatus::Stopped),
            _ => Err(DomainError::invalid("status", "active or stopped")),
        }
    }
}

/// A subscriber as stored, without the number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscriber {
    /// Random id (never time-ordered: it must not tell when someone subscribed).
    pub id: Uuid,
    /// Where they live.
    pub place: SubscriberPlace,
    /// The language of their alerts and replies.
    pub language: Lang,
    /// Active or stopped.
    pub status: SubscriberStatus,
    /// First subscribed.
    pub created_at: DateTime<Utc>,
    /// Last joined, moved or stopped.
    pub updated_at: DateTime<Utc>,
}

/// What a broadcast needs of a subscriber in its area: who, and in which language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriberRecipient {
    /// The subscriber.
    pub id: Uuid,
    /// The language of the text they are sent.
    pub language: Lang,
}

/// A subscriber's phone number in E.164, opened only to send. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SubscriberPhone(String);

impl fmt::Debug for SubscriberPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubscriberPhone(<sealed>)")
    }
}

impl SubscriberPhone {
    /// Wrap a number already normalised to E.164 (the SMS layer's `normalize_phone`).
    pub fn new(e164: String) -> SubscriberPhone {
        SubscriberPhone(e164)
    }

    /// The number, to hand to a gateway.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The keyed hash subscribers are looked up by: under a key derived from the contact key
    /// for subscribers only, so it never equals the hash of the same number as a source.
    pub fn lookup_hash(&self, key: &ContactKey) -> String {
        key.derive(SUBSCRIBER_HASH_PURPOSE).lookup_hash(&self.0)
    }

    /// Seal for storage as the number of subscriber `id` (bound to it: copied onto another
    /// subscriber's record, it does not open).
    pub fn seal(&self, key: &ContactKey, id: Uuid) -> SealedContact {
        key.seal_bound(self.0.as_bytes(), &binding(id))
    }

    /// Open the sealed number of subscriber `id`.
    pub fn open(
        sealed: &SealedContact,
        key: &ContactKey,
        id: Uuid,
    ) -> Result<SubscriberPhone, DomainError> {
        let plain = key.open_bound(sealed, &binding(id))?;
        String::from_utf8(plain)
            .map(SubscriberPhone)
            .map_err(|_| DomainError::Crypto)
    }
}

const SUBSCRIBER_HASH_PURPOSE: &str = "tocsin-subscriber-phone-v1";

fn binding(id: Uuid) -> Vec<u8> {
    let mut b = b"tocsin-subscriber-v1:".to_vec();
    b.extend_from_slice(id.as_bytes());
    b
}

/// A subscriber to store with their sealed number and its lookup hash.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubscriber {
    /// The record.
    pub subscriber: Subscriber,
    /// The number, sealed for `subscriber.id`.
    pub contact: SealedContact,
    /// The keyed hash of the number ([`SubscriberPhone::lookup_hash`]).
    pub phone_hash: String,
}

impl NewSubscriber {
    /// A new active subscriber with a random id, the number sealed for it.
    pub fn new(
        phone: &SubscriberPhone,
        place: SubscriberPlace,
        language: Lang,
        key: &ContactKey,
    ) -> NewSubscriber {
        let id = crate::random_id();
        let now = crate::time::now();
        NewSubscriber {
            subscriber: Subscriber {
                id,
                place,
                language,
                status: SubscriberStatus::Active,
                created_at: now,
                updated_at: now,
            },
            contact: phone.seal(key, id),
            phone_hash: phone.lookup_hash(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Country;

    fn place() -> SubscriberPlace {
        SubscriberPlace::new(
            Country::parse("CAF").unwrap(),
            Some("Ouaka".into()),
            "Bambari",
            5.76,
            20.67,
        )
        .unwrap()
    }

    #[test]
    fn number_sealed_bound_and_hashed_apart_from_sources() {
        let key = ContactKey::generate();
        let phone = SubscriberPhone::new("+23672000001".into());
        let n = NewSubscriber::new(&phone, place(), Lang::Fr, &key);
        assert_eq!(n.subscriber.id.get_version_num(), 4);
        assert_eq!(
            SubscriberPhone::open(&n.contact, &key, n.subscriber.id).unwrap(),
            phone
        );
        assert!(SubscriberPhone::open(&n.contact, &key, crate::random_id()).is_err());
        assert_ne!(n.phone_hash, key.lookup_hash("+23672000001"));
        assert_eq!(n.phone_hash, phone.lookup_hash(&key));
        let shown = format!("{n:?}");
        assert!(!shown.contains("23672000001"), "{shown}");
        assert!(!format!("{phone:?}").contains("2367"));
    }

    #[test]
    fn statuses() {
        for s in [SubscriberStatus::Active, SubscriberStatus::Stopped] {
            assert_eq!(SubscriberStatus::parse(s.as_str()).unwrap(), s);
        }
        assert!(SubscriberStatus::parse("x").is_err());
    }
}
