//! Storage for alerting: desks (with their escalation policy and duty rota), alert rules,
//! alerts and their timelines.
//!
//! Reads are the [`Alerting`] trait. Writes are [`crate::Step`]s inside one
//! [`crate::Op::All`], so an alert's change, its timeline entry, its escalation timer and its
//! notifications commit together: `CreateDesk`, `UpdateDesk`, `CreateRule`, `UpdateRule`
//! (version-guarded), `CreateAlert` (at most one alert not closed per rule, by a partial
//! unique index), `ChangeAlert` (guarded by the version read), `ScheduleTimer`, `CancelTimer`.

use async_trait::async_trait;
use tocsin_domain::{
    Alert, AlertRule, AlertStatus, Desk, Page, PageRequest, Severity, TimelineEntry, Tlp,
};
use uuid::Uuid;

use crate::Result;

/// Which alerts to list ([`Alerting::list_alerts`]), newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFilter {
    /// Only alerts with this status.
    pub status: Option<AlertStatus>,
    /// Only alerts of this severity.
    pub severity: Option<Severity>,
    /// Only alerts routed to this desk.
    pub desk: Option<Uuid>,
    /// Only alerts about this situation.
    pub situation: Option<Uuid>,
    /// Only alerts labelled at most this.
    pub max_tlp: Tlp,
}

impl AlertFilter {
    /// Every alert up to `max_tlp`.
    pub fn up_to(max_tlp: Tlp) -> AlertFilter {
        AlertFilter {
            status: None,
            severity: None,
            desk: None,
            situation: None,
            max_tlp,
        }
    }
}

/// A severity's rank as stored (0 low … 3 critical), for indexes and ordering.
pub fn severity_rank(s: Severity) -> i32 {
    match s {
        Severity::Low => 0,
        Severity::Moderate => 1,
        Severity::High => 2,
        Severity::Critical => 3,
    }
}

/// Desks, alert rules, alerts and timelines.
#[async_trait]
pub trait Alerting: Send + Sync {
    /// One desk.
    async fn get_desk(&self, id: Uuid) -> Result<Desk>;
    /// Every desk, by name.
    async fn list_desks(&self) -> Result<Vec<Desk>>;
    /// One alert rule.
    async fn get_rule(&self, id: Uuid) -> Result<AlertRule>;
    /// Alert rules by name; only the enabled ones when `enabled_only`.
    async fn list_rules(&self, enabled_only: bool) -> Result<Vec<AlertRule>>;
    /// One alert.
    async fn get_alert(&self, id: Uuid) -> Result<Alert>;
    /// Alerts matching `f`, newest first.
    async fn list_alerts(&self, f: &AlertFilter, page: PageRequest) -> Result<Page<Alert>>;
    /// How many alerts match `f` (all pages).
    async fn count_alerts(&self, f: &AlertFilter) -> Result<u64>;
    /// An alert's timeline, oldest first (empty for an unknown alert).
    async fn alert_timeline(&self, alert_id: Uuid) -> Result<Vec<TimelineEntry>>;
    /// The alert of `rule_id` that is not closed, if any (there is at most one).
    async fn open_alert_for_rule(&self, rule_id: Uuid) -> Result<Option<Alert>>;
}
