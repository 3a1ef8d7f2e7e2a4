//! Actions of situations' plans: the read trait and the primitive writes the application
//! layer composes into an [`Op::All`](crate::Op::All).
//!
//! An action has no label of its own: it inherits its situation's, so every list is capped by
//! the situation's TLP ([`ActionFilter::max_tlp`]).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use tocsin_domain::{Action, ActionStatus, Page, PageRequest, Tlp};
use uuid::Uuid;

use crate::Result;

/// Which actions to list (every condition given must hold).
#[derive(Debug, Clone, PartialEq)]
pub struct ActionFilter {
    /// Only actions of situations labelled at most this (the caller's clearance).
    pub max_tlp: Tlp,
    /// Of this situation.
    pub situation_id: Option<Uuid>,
    /// In this status.
    pub status: Option<ActionStatus>,
    /// Led by this user (username).
    pub lead: Option<String>,
    /// Carried by this desk.
    pub desk_id: Option<Uuid>,
    /// Overdue on this day: due before it and neither done nor dropped.
    pub overdue_on: Option<NaiveDate>,
}

impl ActionFilter {
    /// Every action the clearance `max_tlp` covers.
    pub fn within(max_tlp: Tlp) -> ActionFilter {
        ActionFilter {
            max_tlp,
            situation_id: None,
            status: None,
            lead: None,
            desk_id: None,
            overdue_on: None,
        }
    }

    /// Whether `a`, of a situation labelled `tlp`, passes the filter.
    pub fn matches(&self, a: &Action, tlp: Tlp) -> bool {
        tlp <= self.max_tlp
            && self.situation_id.is_none_or(|s| s == a.situation_id)
            && self.status.is_none_or(|s| s == a.status)
            && self.lead.as_deref().is_none_or(|l| l == a.lead)
            && self.desk_id.is_none_or(|d| Some(d) == a.desk_id)
            && self.overdue_on.is_none_or(|d| a.is_overdue(d))
    }
}

/// The reminder that an action is overdue, recorded once per action and due date.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionReminder {
    /// The action.
    pub action_id: Uuid,
    /// The due date it was overdue against.
    pub due_date: NaiveDate,
    /// Whom it reminded (username).
    pub lead: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A primitive write of actions inside [`Op::All`](crate::Op::All) (as
/// [`Step::Action`](crate::Step::Action)).
#[derive(Debug, Clone)]
pub enum ActionStep {
    /// Store a new action. Not found when its situation does not exist.
    Create(Box<Action>),
    /// Replace an action by its next version: Conflict unless the stored one is at
    /// `action.version - 1` (another change came first); not found when it does not exist.
    Update(Box<Action>),
    /// Record that the action's lead was reminded it is overdue against `due_date`: Conflict
    /// when that reminder is already recorded (another server, or an earlier run, did it).
    Remind(ActionReminder),
}

/// Reads of actions.
#[async_trait]
pub trait Actions: Send + Sync {
    /// One action.
    async fn get_action(&self, id: Uuid) -> Result<Action>;
    /// Actions matching `f`, newest first.
    async fn list_actions(&self, f: &ActionFilter, page: PageRequest) -> Result<Page<Action>>;
    /// Every action of a situation, oldest first (a plan is short; at most `limit`).
    async fn actions_of(&self, situation_id: Uuid, limit: u32) -> Result<Vec<Action>>;
    /// Actions overdue on `today` whose lead has not yet been reminded for their current due
    /// date, oldest due first, at most `limit`.
    async fn unreminded_overdue(&self, today: NaiveDate, limit: u32) -> Result<Vec<Action>>;
    /// The reminders recorded for an action, oldest first.
    async fn action_reminders(&self, action_id: Uuid) -> Result<Vec<ActionReminder>>;
}
