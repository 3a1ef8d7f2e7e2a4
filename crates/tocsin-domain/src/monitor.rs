//! Monitored items: public posts and articles read from configured feeds (RSS, Atom, JSON
//! Feed) or imported from archives of posts (Telegram Desktop exports, JSONL, CSV). An item is
//! not a report: it has no source and no warner; its author is a public speaker as published.
//! Every item is scanned with the enabled lexicons as it is stored; a hit is a flag.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Country, DomainError, Tlp};

/// The longest text kept of one item (longer texts are cut at a character boundary).
pub const MAX_ITEM_TEXT_BYTES: usize = 64 * 1024;
/// The longest title, author, URL or language kept (longer ones are cut).
pub const MAX_ITEM_FIELD_BYTES: usize = 2048;
/// The longest origin name (a feed's or an archive's).
pub const MAX_ORIGIN_CHARS: usize = 64;

/// Where an item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A polled feed.
    Feed,
    /// An imported archive.
    Archive,
}

impl ItemKind {
    /// `feed` or `archive`.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Feed => "feed",
            ItemKind::Archive => "archive",
        }
    }
}

/// A stored public post or article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MonitoredItem {
    /// Random id (no time in it).
    pub id: Uuid,
    /// The feed's or archive's name.
    pub origin: String,
    /// Feed or archive.
    pub kind: ItemKind,
    /// SHA-256 (hex) of the entry's GUID or the archive's message id: unique per origin.
    pub key: String,
    /// Its address, when published with one.
    pub url: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// Its author (a public speaker, as published).
    pub author: Option<String>,
    /// Its text (HTML already reduced to text).
    pub text: String,
    /// Its language (ISO 639), when known.
    pub language: Option<String>,
    /// The country configured for its feed or archive.
    #[schema(value_type = Option<String>)]
    pub country: Option<Country>,
    /// When it was published, when known.
    pub published_at: Option<DateTime<Utc>>,
    /// When Tocsin read it.
    pub fetched_at: DateTime<Utc>,
    /// Its label (per feed or archive; TLP:GREEN unless configured).
    pub tlp: Tlp,
}

/// The stored key of an entry's GUID or message id: its SHA-256, hex.
pub fn item_key(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

/// `s` cut to at most `max` bytes at a character boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Check a feed's or archive's name: 1 to 64 characters, letters, digits, `.`, `_`, `-`.
pub fn check_origin(field: &str, name: &str) -> Result<String, DomainError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_ORIGIN_CHARS {
        return Err(DomainError::invalid(
            field,
            format!("a name of 1 to {MAX_ORIGIN_CHARS} characters"),
        ));
    }
    if !n
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(DomainError::invalid(
            field,
            "letters, digits, '.', '_' and '-' only",
        ));
    }
    Ok(n.to_string())
}

/// A feed's poll state, kept in the database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedState {
    /// The feed's name.
    pub name: String,
    /// Its address.
    pub url: String,
    /// The last `ETag` the feed sent.
    pub etag: Option<String>,
    /// The last `Last-Modified` the feed sent.
    pub last_modified: Option<String>,
    /// What the last poll got: `200`, `304`, `429`, `5xx`, `malformed`, `too large`, `error`.
    pub last_status: Option<String>,
    /// The last poll's error, without anything secret.
    pub last_error: Option<String>,
    /// When it was last polled.
    pub last_poll: Option<DateTime<Utc>>,
    /// Not polled before this time (the interval, a `Retry-After` or a back-off).
    pub next_poll: Option<DateTime<Utc>>,
    /// Polls made.
    pub polls: u64,
    /// Polls answered 304 Not Modified.
    pub not_modified: u64,
    /// Failed polls in a row (0 after a success).
    pub failures: u32,
    /// Items stored from this feed (counted by the store).
    pub items: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_names_and_cuts() {
        assert_eq!(item_key("a"), item_key("a"));
        assert_ne!(item_key("a"), item_key("b"));
        assert_eq!(item_key("a").len(), 64);
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("abc", 10), "abc");
        assert_eq!(check_origin("name", " radio-1 ").unwrap(), "radio-1");
        assert!(check_origin("name", "a b").is_err());
        assert!(check_origin("name", "").is_err());
    }
}
