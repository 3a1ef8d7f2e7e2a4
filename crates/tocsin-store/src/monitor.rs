//! Monitored items (feeds and archives) and feed poll state: the reads, and what
//! [`Op::StoreItems`](crate::Op::StoreItems) writes.
//!
//! An item is stored once per origin and key (the hash of its GUID or message id): an item
//! whose key is already stored is skipped with its flags, so re-reading a feed or re-importing
//! an archive stores nothing new and an edited entry keeps its first version. An item and its
//! flags, and a feed's poll state, land in one transaction.

use async_trait::async_trait;
use tocsin_domain::{FeedState, MonitoredItem, Page, PageRequest, SpeechFlag, Tlp};
use uuid::Uuid;

use crate::Result;

/// One item to store with its flags (each naming the item's id).
#[derive(Debug, Clone)]
pub struct ItemWrite {
    /// The item.
    pub item: MonitoredItem,
    /// Its flags, stored only when the item is.
    pub flags: Vec<SpeechFlag>,
}

/// Which items a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFilter {
    /// Never an item labelled above this (the reader's clearance).
    pub max_tlp: Tlp,
    /// Only items of this feed or archive.
    pub origin: Option<String>,
    /// Only items with (true) or without (false) a flag.
    pub flagged: Option<bool>,
}

/// Reads of monitored items and feed states.
#[async_trait]
pub trait Monitor: Send + Sync {
    /// One item (not found when there is none).
    async fn get_item(&self, id: Uuid) -> Result<MonitoredItem>;
    /// Items matching `f`, newest first (by fetch time, then id).
    async fn list_items(&self, f: &ItemFilter, page: PageRequest) -> Result<Page<MonitoredItem>>;
    /// The flags of these items (any label: the caller filters), newest first.
    async fn flags_of_items(&self, items: &[Uuid]) -> Result<Vec<SpeechFlag>>;
    /// Every feed's stored poll state, by name.
    async fn feed_states(&self) -> Result<Vec<FeedState>>;
    /// One feed's poll state, if it was ever polled.
    async fn feed_state(&self, name: &str) -> Result<Option<FeedState>>;
    /// The names of the origins with items, with their counts, by name.
    async fn item_origins(&self) -> Result<Vec<(String, u64)>>;
}
