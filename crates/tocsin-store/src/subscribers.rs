//! Community-alert subscribers: the read trait and the primitive writes the application layer
//! composes into an [`Op::All`](crate::Op::All).
//!
//! A subscriber's number is stored sealed and as a keyed hash; nothing here returns it except
//! [`Subscribers::subscriber_contact`], the sealed value the sender opens. Area queries are
//! answered in two stages: the backend's indexes give the active subscribers the area may hold
//! (by country and admin1, or by the area's box: [`Subscribers::subscriber_candidates`]), then
//! the domain's exact test ([`BroadcastArea::contains_point`]) keeps those inside, here, the
//! same for both backends.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use tocsin_domain::{
    BroadcastArea, Country, Lang, NewSubscriber, SealedContact, Subscriber, SubscriberPlace,
    SubscriberRecipient,
};
use uuid::Uuid;

use crate::Result;

/// A primitive write of subscribers inside [`Op::All`](crate::Op::All) (as
/// [`Step::Subscriber`](crate::Step::Subscriber)).
#[derive(Debug, Clone)]
pub enum SubscriberStep {
    /// Store a new active subscriber; when one with the same phone hash exists, give that one
    /// the new place and language and make it active instead (its id, sealed number and
    /// `created_at` kept): subscribing twice is subscribing once.
    Subscribe(Box<NewSubscriber>),
    /// Stop the subscriber with this phone hash at `at` (nothing when there is none or it has
    /// already stopped), and forget any places offered to that phone.
    Stop {
        /// Keyed hash of the number.
        phone_hash: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Keep the places offered to a phone to choose from, replacing any earlier offer.
    Offer(Box<PlaceOffer>),
    /// Forget the places offered to the phone with this hash (nothing when there are none).
    ClearOffer(String),
}

/// Places offered to a phone whose JOIN named an ambiguous place: the next reply with a
/// number picks one, until `expires_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceOffer {
    /// Keyed hash of the number (as subscribers are looked up).
    pub phone_hash: String,
    /// The language the JOIN was in.
    pub language: Lang,
    /// The places, numbered from 1 in this order.
    pub places: Vec<SubscriberPlace>,
    /// Until when a number picks.
    pub expires_at: DateTime<Utc>,
}

/// An active subscriber as an area query reads it: enough to test containment and address a
/// broadcast, nothing more.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriberRow {
    /// The subscriber.
    pub id: Uuid,
    /// Their language.
    pub language: Lang,
    /// Their country.
    pub country: Country,
    /// Their first-level admin area, when known.
    pub admin1: Option<String>,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

impl SubscriberRow {
    fn inside(&self, area: &BroadcastArea) -> bool {
        area.contains_point(&self.country, self.admin1.as_deref(), self.lat, self.lon)
    }
}

/// How many active subscribers live in one admin1 area (`admin1` `None`: places the gazetteer
/// gave no admin1). Counts only, never who.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema)]
pub struct AreaCount {
    /// ISO 3166-1 alpha-3.
    #[schema(value_type = String, example = "CAF")]
    pub country: Country,
    /// The first-level admin area.
    pub admin1: Option<String>,
    /// Active subscribers.
    pub count: u64,
}

/// Reads of subscribers. The area queries have one implementation for every backend (provided
/// here on top of [`Subscribers::subscriber_candidates`]).
#[async_trait]
pub trait Subscribers: Send + Sync {
    /// One subscriber (not found when absent).
    async fn get_subscriber(&self, id: Uuid) -> Result<Subscriber>;
    /// The subscriber with this phone hash, if any (for the SMS path only: never exposed).
    async fn subscriber_by_phone_hash(&self, phone_hash: &str) -> Result<Option<Subscriber>>;
    /// The sealed number of a subscriber, for the sender to open (not found when absent).
    async fn subscriber_contact(&self, id: Uuid) -> Result<SealedContact>;
    /// The places offered to this phone, unless the offer expired before `now`.
    async fn place_offer(&self, phone_hash: &str, now: DateTime<Utc>)
        -> Result<Option<PlaceOffer>>;
    /// Every active subscriber the area may hold, by the indexes: its countries (and admin1
    /// names) or its box. A superset: callers keep those [`BroadcastArea::contains_point`]
    /// accepts (the provided methods below do).
    async fn subscriber_candidates(&self, area: &BroadcastArea) -> Result<Vec<SubscriberRow>>;
    /// Active subscribers per country and admin1, everywhere (ordered by country, admin1).
    async fn subscriber_counts_everywhere(&self) -> Result<Vec<AreaCount>>;

    /// Active subscribers per country and admin1 inside `area`, or everywhere when `None`
    /// (ordered by country, then admin1, unknown admin1 first).
    async fn subscriber_counts(&self, area: Option<&BroadcastArea>) -> Result<Vec<AreaCount>> {
        let Some(area) = area else {
            return self.subscriber_counts_everywhere().await;
        };
        let mut counts: BTreeMap<(Country, Option<String>), u64> = BTreeMap::new();
        for r in self.subscriber_candidates(area).await? {
            if r.inside(area) {
                *counts.entry((r.country, r.admin1)).or_default() += 1;
            }
        }
        Ok(counts
            .into_iter()
            .map(|((country, admin1), count)| AreaCount {
                country,
                admin1,
                count,
            })
            .collect())
    }

    /// How many active subscribers live inside `area`.
    async fn count_in_area(&self, area: &BroadcastArea) -> Result<u64> {
        Ok(self
            .subscriber_candidates(area)
            .await?
            .iter()
            .filter(|r| r.inside(area))
            .count() as u64)
    }

    /// The active subscribers inside `area`, with their language (in no particular order).
    async fn recipients_in_area(&self, area: &BroadcastArea) -> Result<Vec<SubscriberRecipient>> {
        Ok(self
            .subscriber_candidates(area)
            .await?
            .into_iter()
            .filter(|r| r.inside(area))
            .map(|r| SubscriberRecipient {
                id: r.id,
                language: r.language,
            })
            .collect())
    }
}
