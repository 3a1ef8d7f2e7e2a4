//! The landing dashboard: for each kind of work the signed-in user's role does, how much waits
//! and the first few items of it — reports waiting for triage, unverified incidents, open
//! alerts, recent escalation signals, overdue actions, assessments waiting for a decision,
//! and for admins the accounts and the newest audit entries. A panel is there only for a
//! user holding its permission, and every figure and item is computed within their clearance
//! (no count includes a record above it).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tocsin_domain::{
    Alert, AssessmentStatus, AuditEntry, IncidentFilter, PageRequest, Permission, Report,
    SignalRecord, TriageFilter, User, VerificationStatus,
};
use tocsin_store::AuditFilter;

use crate::actions::ActionQuery;
use crate::alerts::AlertQuery;
use crate::assessments::AssessmentRow;
use crate::{reads, App, Result};

/// Items each panel lists at most.
pub const SHORT: usize = 5;

/// The most records a panel counts one by one (signals, overdue actions, assessments); past
/// it the panel says "at least".
pub const COUNT_CAP: u32 = 500;

/// How far back the signals panel looks.
pub const SIGNAL_DAYS: i64 = 35;

/// How many there are, and the first few.
#[derive(Debug, Clone, Serialize)]
pub struct Counted<T> {
    /// How many the user may see (at least this many when `capped`).
    pub total: u64,
    /// Whether counting stopped at a cap.
    pub capped: bool,
    /// The first [`SHORT`] of them.
    pub items: Vec<T>,
}

impl<T> Counted<T> {
    fn of(all: Vec<T>, capped: bool) -> Counted<T> {
        let total = all.len() as u64;
        let items = all.into_iter().take(SHORT).collect();
        Counted {
            total,
            capped,
            items,
        }
    }
}

/// The accounts at a glance (admins).
#[derive(Debug, Clone, Serialize)]
pub struct Accounts {
    /// Users.
    pub users: u64,
    /// Of those, disabled.
    pub disabled: u64,
}

/// What the landing dashboard shows; `None` for a panel the user's role has no use for.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    /// Reports waiting for triage, newest first (the source left out).
    pub new_reports: Option<Counted<Report>>,
    /// Unverified incidents, newest event first.
    pub unverified_incidents: Option<Counted<tocsin_domain::Incident>>,
    /// Open (unacknowledged) alerts, newest first.
    pub open_alerts: Option<Counted<Alert>>,
    /// Escalation signals of the last [`SIGNAL_DAYS`] days, newest week first.
    pub signals: Option<Counted<SignalRecord>>,
    /// Overdue actions of every plan, newest first.
    pub overdue_actions: Option<Counted<tocsin_domain::Action>>,
    /// Assessments waiting for a decision (drafts to review, reviewed ones to publish).
    pub assessments_waiting: Option<Counted<AssessmentRow>>,
    /// Users and disabled users.
    pub accounts: Option<Accounts>,
    /// Audit entries (the total and the newest).
    pub audit: Option<Counted<AuditEntry>>,
}

impl App<'_> {
    /// Reports waiting for triage that `u` may see, newest received first (their source left
    /// out), counted in the database within `u`'s clearance.
    pub async fn triage_backlog(&self, u: &User) -> Result<Counted<Report>> {
        crate::require(u, Permission::ReportRead)?;
        let f = TriageFilter {
            max_tlp: u.clearance,
            channel: None,
            country: None,
        };
        let total = self.store.triage_count(&f).await?;
        let mut items: Vec<Report> = self
            .store
            .triage_candidates(&f, SHORT as u32)
            .await?
            .into_iter()
            .map(|c| c.report)
            .filter(|r| u.may_see(r.tlp))
            .collect();
        for r in &mut items {
            r.source = None;
        }
        reads::list(self.store, u, "report", items.iter().map(|r| (r.id, r.tlp))).await?;
        Ok(Counted {
            total,
            capped: false,
            items,
        })
    }

    /// `u`'s landing dashboard at `now`.
    pub async fn dashboard(&self, u: &User, now: DateTime<Utc>) -> Result<Dashboard> {
        let new_reports = if u.can(Permission::ReportRead) {
            Some(self.triage_backlog(u).await?)
        } else {
            None
        };
        let unverified_incidents = if u.can(Permission::IncidentRead) {
            let f = IncidentFilter {
                verification_status: Some(VerificationStatus::Unverified),
                max_tlp: u.clearance,
                ..Default::default()
            };
            let total = self.incidents.count(self.store, &f).await?;
            let page = PageRequest {
                after: None,
                limit: SHORT as u32,
            };
            let items = self.list_incidents(u, f, page).await?.items;
            Some(Counted {
                total,
                capped: false,
                items,
            })
        } else {
            None
        };
        let open_alerts = if u.can(Permission::AlertRead) {
            let q = AlertQuery {
                status: Some("open".into()),
                ..Default::default()
            };
            let total = self.count_alerts(u, &q).await?;
            let page = PageRequest {
                after: None,
                limit: SHORT as u32,
            };
            let items = self.alerts(u, &q, page).await?.items;
            Some(Counted {
                total,
                capped: false,
                items,
            })
        } else {
            None
        };
        let (signals, overdue_actions) = if u.can(Permission::SituationRead) {
            let since = (now - Duration::days(SIGNAL_DAYS)).date_naive();
            let v = self
                .signals_unaudited(u, None, Some(since), COUNT_CAP)
                .await?;
            let capped = v.len() as u32 >= COUNT_CAP;
            // Counted over many, audited over the few shown.
            let shown = v.iter().take(SHORT).map(|s| (s.id, s.tlp));
            reads::list(self.store, u, "signal", shown).await?;
            let q = ActionQuery {
                overdue: true,
                ..Default::default()
            };
            let page = PageRequest {
                after: None,
                limit: COUNT_CAP,
            };
            let p = self.list_actions(u, q, page).await?;
            let more = p.next_cursor.is_some();
            (
                Some(Counted::of(v, capped)),
                Some(Counted::of(p.items, more)),
            )
        } else {
            (None, None)
        };
        let assessments_waiting =
            if u.can(Permission::AssessmentReview) || u.can(Permission::AssessmentPublish) {
                let mut v = self.assessment_rows(u, None).await?;
                v.retain(|a| a.status != AssessmentStatus::Published.as_str());
                Some(Counted::of(v, false))
            } else {
                None
            };
        let accounts = if u.can(Permission::UserManage) {
            let all = self.list_users(u).await?;
            Some(Accounts {
                users: all.len() as u64,
                disabled: all.iter().filter(|x| x.disabled).count() as u64,
            })
        } else {
            None
        };
        let audit = if u.can(Permission::AuditRead) {
            let (items, total) = self
                .search_audit(u, &AuditFilter::default(), None, SHORT as u32)
                .await?;
            Some(Counted {
                total,
                capped: false,
                items,
            })
        } else {
            None
        };
        Ok(Dashboard {
            new_reports,
            unverified_incidents,
            open_alerts,
            signals,
            overdue_actions,
            assessments_waiting,
            accounts,
            audit,
        })
    }
}
