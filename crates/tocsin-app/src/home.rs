//! A signed-in user's home: the desks they sit on, their desks' alerts that are not closed
//! (open and acknowledged), the open ones past their acknowledgement deadline, the alerts
//! they acknowledged, and the actions they lead (overdue first). Everything within their
//! clearance; the lists are capped at [`HOME_LIMIT`] items each.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;
use tocsin_domain::{
    Action, Alert, AlertEvidence, AlertStatus, Cursor, Desk, PageRequest, Permission, User,
};
use tocsin_store::AlertFilter;
use uuid::Uuid;

use crate::actions::ActionQuery;
use crate::{require, App, Result};

/// Alerts [`App::alerts_on_signals`] looks through at most.
pub const SIGNAL_SCAN: usize = 1000;

/// Items one home list shows at most.
pub const HOME_LIMIT: u32 = 100;

/// What the home page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Home {
    /// The desks the user is a member of, by name.
    pub desks: Vec<Desk>,
    /// Their desks' open and acknowledged (or action-decided) alerts, newest first.
    pub my_alerts: Vec<Alert>,
    /// Of those, the open ones past their acknowledgement deadline.
    pub overdue: Vec<Alert>,
    /// Alerts of their desks they acknowledged themselves (not closed).
    pub acknowledged_by_me: Vec<Alert>,
    /// Actions they lead that are neither done nor dropped, overdue first, then by due date.
    pub my_actions: Vec<Action>,
    /// Of those, how many are overdue.
    pub overdue_actions: usize,
}

impl App<'_> {
    /// The desks `u` is a member of, by name.
    pub async fn my_desks(&self, u: &User) -> Result<Vec<Desk>> {
        require(u, Permission::AlertRead)?;
        let mut v = self.store.list_desks().await?;
        v.retain(|d| d.members.iter().any(|m| m == &u.username));
        Ok(v)
    }

    /// The actions `u` leads that are neither done nor dropped, overdue (on `today`) first,
    /// then by due date.
    pub async fn my_actions(&self, u: &User, today: NaiveDate) -> Result<Vec<Action>> {
        let q = ActionQuery {
            lead: Some(u.username.clone()),
            ..Default::default()
        };
        let page = PageRequest {
            after: None,
            limit: HOME_LIMIT,
        };
        let mut v = self.list_actions(u, q, page).await?.items;
        v.retain(|a| !a.status.is_final());
        v.sort_by_key(|a| (!a.is_overdue(today), a.due_date));
        Ok(v)
    }

    /// For each of `signals`, the newest alert within `u`'s clearance resting on it (among
    /// the [`SIGNAL_SCAN`] newest alerts they may see). A user who may not read alerts gets none.
    pub async fn alerts_on_signals(
        &self,
        u: &User,
        signals: &[Uuid],
    ) -> Result<HashMap<Uuid, Uuid>> {
        let mut out = HashMap::new();
        if signals.is_empty() || !u.can(Permission::AlertRead) {
            return Ok(out);
        }
        let f = AlertFilter::up_to(u.clearance);
        let mut page = PageRequest {
            after: None,
            limit: HOME_LIMIT,
        };
        let mut seen = 0;
        while seen < SIGNAL_SCAN {
            let p = self.store.list_alerts(&f, page).await?;
            seen += p.items.len();
            for a in &p.items {
                for e in &a.evidence {
                    if let AlertEvidence::Signal(s) = e {
                        if signals.contains(s) {
                            out.entry(*s).or_insert(a.id);
                        }
                    }
                }
            }
            match p.next_cursor {
                Some(c) => page.after = Some(Cursor::decode(&c)?),
                None => break,
            }
        }
        Ok(out)
    }

    /// `u`'s home at `now`.
    pub async fn home(&self, u: &User, now: DateTime<Utc>) -> Result<Home> {
        let desks = self.my_desks(u).await?;
        let mut my_alerts = Vec::new();
        for d in &desks {
            for status in [
                AlertStatus::Open,
                AlertStatus::Acknowledged,
                AlertStatus::ActionDecided,
            ] {
                let f = AlertFilter {
                    status: Some(status),
                    severity: None,
                    desk: Some(d.id),
                    situation: None,
                    max_tlp: u.clearance,
                };
                let page = PageRequest {
                    after: None,
                    limit: HOME_LIMIT,
                };
                my_alerts.extend(self.store.list_alerts(&f, page).await?.items);
            }
        }
        my_alerts.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(b.id.cmp(&a.id)));
        my_alerts.truncate(HOME_LIMIT as usize);
        let overdue = my_alerts
            .iter()
            .filter(|a| a.status == AlertStatus::Open && a.ack_deadline < now)
            .cloned()
            .collect();
        let acknowledged_by_me = my_alerts
            .iter()
            .filter(|a| a.acknowledged_by.as_deref() == Some(u.username.as_str()))
            .cloned()
            .collect();
        let my_actions = if u.can(Permission::SituationRead) {
            self.my_actions(u, now.date_naive()).await?
        } else {
            Vec::new()
        };
        let today = now.date_naive();
        let overdue_actions = my_actions.iter().filter(|a| a.is_overdue(today)).count();
        Ok(Home {
            desks,
            my_alerts,
            overdue,
            acknowledged_by_me,
            my_actions,
            overdue_actions,
        })
    }
}
