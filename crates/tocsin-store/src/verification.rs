//! Verification of incidents and grading of sources: the read trait and the primitive writes
//! the application layer composes into an [`Op::All`](crate::Op::All) (as
//! [`Step::Verification`](crate::Step::Verification)).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use tocsin_domain::{Incident, ReliabilityEntry, TaskTick, Tlp, TrackRecord, VerificationEntry};
use uuid::Uuid;

use crate::Result;

/// A primitive write of the verification desk.
#[derive(Debug, Clone)]
pub enum VerificationStep {
    /// Store a new incident (as built and checked by the application layer).
    CreateIncident(Box<Incident>),
    /// Store new incidents at once (multi-row inserts), e.g. a batch received from a partner.
    CreateIncidents(Vec<Incident>),
    /// Replace an incident whose stored version is still `expected_version` (the incident
    /// carries the new version). Conflict when it moved on; not found when it is gone.
    ReplaceIncident {
        /// The incident as it is to be stored.
        incident: Box<Incident>,
        /// The version the caller read.
        expected_version: i64,
    },
    /// Append a change of verification status to the incident's history.
    Record(VerificationEntry),
    /// Record a checklist task as done. Conflict when it is already ticked for the incident.
    Tick(TaskTick),
    /// Set a source's grade to `to`, guarded by its grade still being `from` (Conflict
    /// otherwise; not found when there is no such source), and append the change to its
    /// history.
    SetReliability(ReliabilityEntry),
    /// Set (or replace) a report's information credibility.
    SetReportCredibility {
        /// The report.
        report_id: Uuid,
        /// 1–6.
        credibility: i16,
        /// Who graded it.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
}

/// Reads of the verification desk.
#[async_trait]
pub trait Verification: Send + Sync {
    /// An incident's verification history, oldest first.
    async fn verification_history(&self, incident_id: Uuid) -> Result<Vec<VerificationEntry>>;
    /// The checklist tasks done for an incident, oldest first.
    async fn verification_ticks(&self, incident_id: Uuid) -> Result<Vec<TaskTick>>;
    /// A source's reliability history, oldest first.
    async fn reliability_history(&self, source_id: Uuid) -> Result<Vec<ReliabilityEntry>>;
    /// The credibility set for these reports (those never graded are absent: 6).
    async fn report_credibilities(&self, report_ids: &[Uuid]) -> Result<HashMap<Uuid, i16>>;
    /// The source id of each of these reports that exists and is labelled at most `max_tlp`
    /// (`None`: it has no source).
    async fn report_source_ids(
        &self,
        report_ids: &[Uuid],
        max_tlp: Tlp,
    ) -> Result<HashMap<Uuid, Option<Uuid>>>;
    /// The track record of each of these sources, counted only over reports and incidents
    /// labelled at most `max_tlp` (so no figure comes from records above a reader's
    /// clearance). Every source asked for is in the answer.
    async fn track_records(
        &self,
        source_ids: &[Uuid],
        max_tlp: Tlp,
    ) -> Result<HashMap<Uuid, TrackRecord>>;
}
