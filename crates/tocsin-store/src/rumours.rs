//! Rumours and their sightings: the read trait and the primitive writes the application layer
//! composes into an [`Op::All`](crate::Op::All).
//!
//! A sighting links a rumour to a report; every read of sightings carries the report's label
//! and time, and counts take the caller's clearance ([`Rumours::sighting_summaries`]), so no
//! figure includes a report above it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use tocsin_domain::{
    Country, Page, PageRequest, Rumour, RumourPriority, RumourStatus, Sighting, Tlp,
};
use uuid::Uuid;

use crate::Result;

/// Which rumours to list (every condition given must hold), newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct RumourFilter {
    /// Only rumours labelled at most this (the caller's clearance).
    pub max_tlp: Tlp,
    /// In this status.
    pub status: Option<RumourStatus>,
    /// Of this priority.
    pub priority: Option<RumourPriority>,
    /// In this country.
    pub country: Option<Country>,
    /// Overdue at this time: past the deadline and not closed.
    pub overdue_at: Option<DateTime<Utc>>,
}

impl RumourFilter {
    /// Every rumour the clearance `max_tlp` covers.
    pub fn within(max_tlp: Tlp) -> RumourFilter {
        RumourFilter {
            max_tlp,
            status: None,
            priority: None,
            country: None,
            overdue_at: None,
        }
    }
}

/// A sighting with what the caller needs to decide who may see it: its report's label, time
/// and text (shown as an excerpt only to those who may read the report).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSighting {
    /// The sighting.
    pub sighting: Sighting,
    /// The report's label.
    pub report_tlp: Tlp,
    /// When the report was received.
    pub report_received_at: DateTime<Utc>,
    /// The report's text.
    pub report_text: String,
}

/// How many sightings of a rumour one cleared to a level may count, and when it was first
/// and last heard (the received times of those reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SightingSummary {
    /// How many.
    pub count: u64,
    /// The earliest report.
    pub first: DateTime<Utc>,
    /// The latest report.
    pub last: DateTime<Utc>,
}

/// The record that a rumour's desk was told it is overdue, once per rumour and deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct RumourReminder {
    /// The rumour.
    pub rumour_id: Uuid,
    /// The deadline it was overdue against.
    pub deadline: DateTime<Utc>,
    /// How many people were notified.
    pub notified: u32,
    /// When.
    pub at: DateTime<Utc>,
}

/// A primitive write of rumours inside [`Op::All`](crate::Op::All) (as
/// [`Step::Rumour`](crate::Step::Rumour)).
#[derive(Debug, Clone)]
pub enum RumourStep {
    /// Store a new rumour.
    Create(Box<Rumour>),
    /// Replace a rumour by its next version: Conflict unless the stored one is at
    /// `rumour.version - 1`; not found when it does not exist.
    Update(Box<Rumour>),
    /// Store a sighting: Conflict when that report is already a sighting of that rumour; not
    /// found when the rumour or the report does not exist.
    AddSighting(Box<Sighting>),
    /// Record that the rumour's desk was told it is overdue against its deadline: Conflict
    /// when that reminder is already recorded.
    Remind(RumourReminder),
}

/// Reads of rumours.
#[async_trait]
pub trait Rumours: Send + Sync {
    /// One rumour.
    async fn get_rumour(&self, id: Uuid) -> Result<Rumour>;
    /// Rumours matching `f`, newest first (cursor: time, then id).
    async fn list_rumours(&self, f: &RumourFilter, page: PageRequest) -> Result<Page<Rumour>>;
    /// Every sighting of a rumour, oldest report first (at most `limit`).
    async fn sightings_of(&self, rumour_id: Uuid, limit: u32) -> Result<Vec<StoredSighting>>;
    /// The rumours a report is a sighting of (ids).
    async fn rumours_of_report(&self, report_id: Uuid) -> Result<Vec<Uuid>>;
    /// For each of `ids` having any, the sightings whose report is labelled at most `max_tlp`.
    async fn sighting_summaries(
        &self,
        ids: &[Uuid],
        max_tlp: Tlp,
    ) -> Result<HashMap<Uuid, SightingSummary>>;
    /// Rumours overdue at `now` (not closed, deadline passed) whose desk has not yet been
    /// told for their current deadline, oldest deadline first, at most `limit`.
    async fn unreminded_overdue_rumours(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Rumour>>;
    /// The reminders recorded for a rumour, oldest first.
    async fn rumour_reminders(&self, rumour_id: Uuid) -> Result<Vec<RumourReminder>>;
}
