//! Triage of reports: the read trait for the queue and a report's decisions. Decisions are
//! written as [`Step::Triage`](crate::Step::Triage) inside an [`Op::All`](crate::Op::All);
//! reports themselves are never changed (their triage state is derived).

use async_trait::async_trait;
use tocsin_domain::{TriageCandidate, TriageDecision, TriageFilter, TriageKey, TriageRanking};
use uuid::Uuid;

use crate::Result;

/// The most reports [`Triage::triage_candidates`] is asked for at once (the queue itself is
/// ranked and paged in the database by [`Triage::triage_page`]).
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
    /// One page of the queue ranked in the database as `r` ranks it: the reports
    /// [`TriageRanking::item`] keeps, in [`TriageItem::key`](tocsin_domain::TriageItem::key)
    /// order, those after `after` (the key of the previous page's last item), at most `limit`,
    /// each with its latest assignee and its source's grade and label.
    async fn triage_page(
        &self,
        r: &TriageRanking,
        after: Option<&TriageKey>,
        limit: u32,
    ) -> Result<Vec<TriageCandidate>>;
    /// How many reports [`Triage::triage_page`] ranks for `r` (all pages), counted in the
    /// database.
    async fn triage_ranked_count(&self, r: &TriageRanking) -> Result<u64>;
    /// A report's decisions, oldest first.
    async fn triage_decisions(&self, report_id: Uuid) -> Result<Vec<TriageDecision>>;
    /// The incidents that link a report (any label: the caller filters by clearance).
    async fn incidents_linking(&self, report_id: Uuid) -> Result<Vec<Uuid>>;
}
