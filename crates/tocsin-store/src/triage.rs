//! Triage of reports: the read trait for the queue and a report's decisions. Decisions are
//! written as [`Step::Triage`](crate::Step::Triage) inside an [`Op::All`](crate::Op::All);
//! reports themselves are never changed (their triage state is derived).

use async_trait::async_trait;
use tocsin_domain::{TriageCandidate, TriageDecision, TriageFilter};
use uuid::Uuid;

use crate::Result;

/// The most reports [`Triage::triage_candidates`] hands over at once: the queue is ranked in
/// the application layer over at most this many open reports, newest received first.
pub const MAX_TRIAGE_CANDIDATES: u32 = 5_000;

/// Reads of the triage queue and of reports' decisions.
#[async_trait]
pub trait Triage: Send + Sync {
    /// Reports in the queue (linked to no incident, no duplicate or rejected decision) that
    /// match `f`, newest received first, at most `limit`, each with its latest assignee.
    async fn triage_candidates(&self, f: &TriageFilter, limit: u32)
        -> Result<Vec<TriageCandidate>>;
    /// How many reports are in the queue that match `f` (the same reports
    /// [`Triage::triage_candidates`] answers, without a limit), counted in the database.
    async fn triage_count(&self, f: &TriageFilter) -> Result<u64>;
    /// A report's decisions, oldest first.
    async fn triage_decisions(&self, report_id: Uuid) -> Result<Vec<TriageDecision>>;
    /// The incidents that link a report (any label: the caller filters by clearance).
    async fn incidents_linking(&self, report_id: Uuid) -> Result<Vec<Uuid>>;
}
