//! Flow metrics over the alerts a viewer may see ([`App::flow_metrics`]): how fast a warning
//! became an alert, was taken, and was acted on, per desk and per situation
//! ([`tocsin_domain::flow`] defines the figures).
//!
//! The times fed in, all from records within the viewer's clearance only:
//!
//! - **first evidence**: the earliest time an incident or report behind the alert was
//!   *recorded in Tocsin* (an incident's `created_at`, a report's `received_at`), not when the
//!   event happened: the metric measures the organisation's own delay. An evidence record
//!   labelled above the viewer's clearance is left out, as if absent (so it cannot move the
//!   figure); other evidence (signals, assessments, forecasts) has no recorded warning time;
//! - **first action**: the earliest `created_at` of the actions that link the alert and that
//!   the viewer may see (an action inherits its situation's label).
//!
//! At most [`MAX_ALERTS`] alerts (the newest) are measured, so a request's cost is bounded.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use tocsin_domain::flow::{AlertTimes, FlowReport};
use tocsin_domain::page::MAX_PAGE_SIZE;
use tocsin_domain::{AlertEvidence, Cursor, PageRequest, Permission, Tlp};
use tocsin_store::{ActionFilter, AlertFilter, StoreError};
use uuid::Uuid;

use crate::{Acting, App, AppError, Result};

/// The most alerts one report measures (the newest).
pub const MAX_ALERTS: usize = 20_000;

/// Which alerts to measure: `?desk=&situation=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct FlowQuery {
    /// Only this desk's alerts.
    pub desk: Option<Uuid>,
    /// Only alerts of this situation.
    pub situation: Option<Uuid>,
}

/// The flow metrics with the names of the desks and situations they group by (a situation
/// above the viewer's clearance is named by nothing).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlowView {
    /// The metrics.
    #[serde(flatten)]
    pub report: FlowReport,
    /// Desk names by id.
    pub desk_names: BTreeMap<Uuid, String>,
    /// Situation names by id, of the situations the viewer may see.
    pub situation_names: BTreeMap<Uuid, String>,
    /// Whether only the newest [`MAX_ALERTS`] alerts were measured.
    pub truncated: bool,
}

pub(crate) fn next(cursor: Option<String>, limit: u32) -> Result<Option<PageRequest>> {
    cursor
        .map(|c| {
            Ok(PageRequest {
                after: Some(Cursor::decode(&c).map_err(|e| AppError::Internal(e.to_string()))?),
                limit,
            })
        })
        .transpose()
}

impl App<'_> {
    /// The flow metrics of the alerts `by` may see (optionally of one desk or situation), at
    /// `now`, per desk (every desk, or the one asked for) and per situation. Users who read
    /// alerts, within their clearance; the operator at the command line sees every alert.
    pub async fn flow_metrics(
        &self,
        by: impl Into<Acting<'_>>,
        q: &FlowQuery,
        now: DateTime<Utc>,
    ) -> Result<FlowView> {
        let by = by.into();
        by.require(Permission::AlertRead)?;
        let clearance = match by {
            Acting::User(u) => u.clearance,
            Acting::Operator(_) => Tlp::Red,
        };
        let may_see = |t: Tlp| t <= clearance;
        let desks = self.store.list_desks().await?;
        if let Some(d) = q.desk {
            if !desks.iter().any(|x| x.id == d) {
                return Err(AppError::bad_field("desk", format!("{d} is not a desk")));
            }
        }
        let mut situation_names = BTreeMap::new();
        if let Some(s) = q.situation {
            match self.store.get_situation(s).await {
                Ok(sit) if may_see(sit.tlp) => {
                    situation_names.insert(sit.id, sit.name);
                }
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(AppError::bad_field(
                        "situation",
                        format!("{s} is not a situation"),
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        // The alerts, within clearance.
        let f = AlertFilter {
            status: None,
            severity: None,
            desk: q.desk,
            situation: q.situation,
            max_tlp: clearance,
        };
        let mut alerts = Vec::new();
        let mut page = Some(PageRequest::first(MAX_PAGE_SIZE));
        let mut truncated = false;
        while let Some(p) = page {
            let got = self.store.list_alerts(&f, p).await?;
            alerts.extend(got.items);
            if alerts.len() >= MAX_ALERTS {
                truncated = got.next_cursor.is_some() || alerts.len() > MAX_ALERTS;
                alerts.truncate(MAX_ALERTS);
                break;
            }
            page = next(got.next_cursor, MAX_PAGE_SIZE)?;
        }
        // First action per alert, from the actions within clearance.
        let mut first_action: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
        let af = ActionFilter::within(clearance);
        let mut page = Some(PageRequest::first(MAX_PAGE_SIZE));
        while let Some(p) = page {
            let got = self.store.list_actions(&af, p).await?;
            for a in &got.items {
                for id in &a.alert_ids {
                    let e = first_action.entry(*id).or_insert(a.created_at);
                    *e = (*e).min(a.created_at);
                }
            }
            page = next(got.next_cursor, MAX_PAGE_SIZE)?;
        }
        let mut times = Vec::with_capacity(alerts.len());
        for a in &alerts {
            let mut first: Option<DateTime<Utc>> = None;
            for e in &a.evidence {
                let at = match e {
                    AlertEvidence::Incident(id) => match self.store.get_incident(*id).await {
                        Ok(i) if may_see(i.tlp) => Some(i.created_at),
                        Ok(_) | Err(StoreError::NotFound) => None,
                        Err(e) => return Err(e.into()),
                    },
                    AlertEvidence::Report(id) => match self.store.get_report(*id).await {
                        Ok(r) if may_see(r.tlp) => Some(r.received_at),
                        Ok(_) | Err(StoreError::NotFound) => None,
                        Err(e) => return Err(e.into()),
                    },
                    _ => None,
                };
                first = match (first, at) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                };
            }
            times.push(AlertTimes::of(a, first, first_action.get(&a.id).copied()));
        }
        let desk_ids: Vec<Uuid> = match q.desk {
            Some(d) => vec![d],
            None if q.situation.is_some() => Vec::new(),
            None => desks.iter().map(|d| d.id).collect(),
        };
        let situation_ids: Vec<Uuid> = q.situation.into_iter().collect();
        let report = FlowReport::compute(&times, now, &desk_ids, &situation_ids);
        for s in report.situations.iter().filter_map(|s| s.situation_id) {
            if situation_names.contains_key(&s) {
                continue;
            }
            match self.store.get_situation(s).await {
                Ok(sit) if may_see(sit.tlp) => {
                    situation_names.insert(sit.id, sit.name);
                }
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(FlowView {
            report,
            desk_names: desks.into_iter().map(|d| (d.id, d.name)).collect(),
            situation_names,
            truncated,
        })
    }
}
