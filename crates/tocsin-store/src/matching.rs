//! Candidates for report matching: incidents and reports near a new report in time and space,
//! within the viewer's clearance ([`Matching`]).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use tocsin_domain::page::BBox;
use tocsin_domain::{Country, Incident, Report, Tlp};
use uuid::Uuid;

use crate::Result;

/// The most candidates one query answers.
pub const MAX_CANDIDATES: u32 = 2_000;

/// Which incidents may be about a new report.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentNear {
    /// Event dated on or after this day.
    pub from: NaiveDate,
    /// Event dated on or before this day.
    pub to: NaiveDate,
    /// With a point inside this box, if given.
    pub bbox: Option<BBox>,
    /// In this country, if given.
    pub country: Option<Country>,
    /// The viewer's clearance: nothing labelled above it is answered.
    pub max_tlp: Tlp,
    /// At most this many (capped at [`MAX_CANDIDATES`]), newest event date first.
    pub limit: u32,
}

/// Which reports may be about the same event as a new report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportNear {
    /// Received at or after.
    pub from: DateTime<Utc>,
    /// Received at or before.
    pub to: DateTime<Utc>,
    /// With a point inside this box, if given; reports without a point are answered too when
    /// `unplaced` is set (their text may name the place).
    pub bbox: Option<BBox>,
    /// Also reports without a point (only with `bbox`; without a box every report is).
    pub unplaced: bool,
    /// About this country or of no stated country, if given.
    pub country: Option<Country>,
    /// Leave this report out (the new report itself).
    pub exclude: Option<Uuid>,
    /// The viewer's clearance: nothing labelled above it is answered.
    pub max_tlp: Tlp,
    /// At most this many (capped at [`MAX_CANDIDATES`]), newest first.
    pub limit: u32,
}

/// A candidate report with the id of its source (never shown: used only to tell whether two
/// reports come from the same source).
#[derive(Debug, Clone, PartialEq)]
pub struct NearReport {
    /// The report.
    pub report: Report,
    /// Its source, when known.
    pub source_id: Option<Uuid>,
}

/// A report's suggested matches as the application computed them at `computed_at`, kept so
/// the triage queue need not match every report of a page on every request. `matches` is the
/// application's own JSON; the store only keeps it. A report's row goes with the report.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSuggestions {
    /// The report.
    pub report_id: Uuid,
    /// When they were computed: records changed since may be missing from them.
    pub computed_at: DateTime<Utc>,
    /// The matches, as JSON.
    pub matches: String,
}

/// Candidate queries for report matching.
#[async_trait]
pub trait Matching: Send + Sync {
    /// Incidents matching `q`, newest event date first, at most `q.limit`.
    async fn incidents_near(&self, q: &IncidentNear) -> Result<Vec<Incident>>;
    /// Reports matching `q`, newest received first, at most `q.limit`.
    async fn reports_near(&self, q: &ReportNear) -> Result<Vec<NearReport>>;
    /// The source of each of these reports that exists (report id, source id or none).
    async fn report_sources(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, Option<Uuid>)>>;
    /// The stored suggestions of these reports that have some, in no particular order
    /// (written by [`Op::StoreSuggestions`](crate::Op::StoreSuggestions)).
    async fn stored_suggestions(&self, ids: &[Uuid]) -> Result<Vec<StoredSuggestions>>;
}
