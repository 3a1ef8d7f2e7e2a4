//! Actions: what a government decided to do about a situation, drawn from the prevention
//! toolbox (a measure), owned by a department (and optionally a desk), led by one person, due
//! by a date, and followed to an outcome.
//!
//! The status moves planned → in progress → done or dropped; done and dropped are final and
//! need an outcome text. Who may record or change an action, and whether its measure and risk
//! factors exist, is decided by the caller (the application layer) and passed in as
//! [`ActionRefs`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Department, DomainError};

/// The most alerts one action links.
pub const MAX_ALERTS: usize = 50;
/// The longest outcome or notes text, in bytes.
pub const MAX_TEXT: usize = 10_000;

/// Where an action stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Decided, not started.
    Planned,
    /// Under way.
    InProgress,
    /// Carried out (final; needs an outcome).
    Done,
    /// Given up (final; needs an outcome saying why).
    Dropped,
}

impl ActionStatus {
    /// Every status, in workflow order.
    pub const ALL: [ActionStatus; 4] = [
        ActionStatus::Planned,
        ActionStatus::InProgress,
        ActionStatus::Done,
        ActionStatus::Dropped,
    ];

    /// `planned`, `in_progress`, `done`, `dropped`.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Planned => "planned",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::Dropped => "dropped",
        }
    }

    /// Parse a status name (`in-progress` works too); the error names `status`.
    pub fn parse(s: &str) -> Result<ActionStatus, DomainError> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        ActionStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid("status", "expected planned, in_progress, done or dropped")
            })
    }

    /// Done or dropped: nothing follows.
    pub fn is_final(self) -> bool {
        matches!(self, ActionStatus::Done | ActionStatus::Dropped)
    }

    /// Whether the workflow allows the move `self` → `to` (staying put is always allowed).
    pub fn may_become(self, to: ActionStatus) -> bool {
        use ActionStatus::*;
        self == to
            || matches!(
                (self, to),
                (Planned, InProgress)
                    | (InProgress, Planned)
                    | (Planned | InProgress, Done | Dropped)
            )
    }
}

impl std::fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A move the workflow does not allow (the API answers 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("status: an action that is {from} cannot become {to}{}", if from.is_final() { " (done and dropped are final)" } else { "" })]
pub struct IllegalMove {
    /// Its status.
    pub from: ActionStatus,
    /// What was asked.
    pub to: ActionStatus,
}

/// Why a change to an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// A field is invalid (naming it).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The status move is not allowed from where the action stands.
    #[error(transparent)]
    Illegal(#[from] IllegalMove),
    /// The caller edited an older version.
    #[error("the action changed since version {expected}; it is now at version {actual}")]
    Stale {
        /// The version the caller had.
        expected: i64,
        /// The stored version.
        actual: i64,
    },
}

/// An action of a situation's plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Action {
    /// Its id.
    pub id: Uuid,
    /// The toolbox measure it carries out, e.g. `M-07`.
    pub measure_id: String,
    /// The situation it answers.
    pub situation_id: Uuid,
    /// Alerts it answers (ids only).
    pub alert_ids: Vec<Uuid>,
    /// The risk factors it addresses (numbers of the UN 2014 framework's factors).
    pub risk_factors: Vec<u32>,
    /// The department that owns it.
    #[schema(value_type = String, example = "foreign affairs")]
    pub department: Department,
    /// The desk that carries it, if any.
    pub desk_id: Option<Uuid>,
    /// The person who leads it (username).
    pub lead: String,
    /// When it is due.
    pub due_date: NaiveDate,
    /// Where it stands.
    pub status: ActionStatus,
    /// What came of it (required once done or dropped).
    pub outcome: Option<String>,
    /// When it is next reviewed.
    pub next_review: Option<NaiveDate>,
    /// Free notes.
    pub notes: String,
    /// Who recorded it.
    pub created_by: String,
    /// Recorded.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Grows by one with every change.
    pub version: i64,
}

/// An action as a client sends it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAction {
    /// The toolbox measure id.
    pub measure_id: String,
    /// The situation; when absent, the situation of its first linked alert that has one.
    #[serde(default)]
    pub situation_id: Option<Uuid>,
    /// Alerts it answers.
    #[serde(default)]
    pub alert_ids: Vec<Uuid>,
    /// Risk factors addressed; the measure's own when absent.
    pub risk_factors: Option<Vec<u32>>,
    /// Owner department; when absent, the department of its desk.
    #[serde(default)]
    pub department: Option<String>,
    /// Desk, if any; when absent, the desk of its first linked alert.
    pub desk_id: Option<Uuid>,
    /// Lead person (username).
    pub lead: String,
    /// Due date, `YYYY-MM-DD`.
    pub due_date: NaiveDate,
    /// `planned` (default) or `in_progress`.
    pub status: Option<String>,
    /// Next review date.
    pub next_review: Option<NaiveDate>,
    /// Notes.
    pub notes: Option<String>,
}

/// A change to an action: only the fields given change.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionPatch {
    /// The version the client edited (refused as stale when another change came first).
    pub expected_version: Option<i64>,
    /// New status.
    pub status: Option<String>,
    /// Outcome text.
    pub outcome: Option<String>,
    /// New due date.
    pub due_date: Option<NaiveDate>,
    /// New next review date.
    pub next_review: Option<NaiveDate>,
    /// New lead (username).
    pub lead: Option<String>,
    /// New owner department.
    pub department: Option<String>,
    /// New desk.
    pub desk_id: Option<Uuid>,
    /// New risk factors.
    pub risk_factors: Option<Vec<u32>>,
    /// New linked alerts.
    pub alert_ids: Option<Vec<Uuid>>,
    /// New notes.
    pub notes: Option<String>,
}

/// What the caller checked outside the domain: which measures exist (with their risk
/// factors), how many risk factors the framework has, and which departments exist.
pub struct ActionRefs<'a> {
    /// The risk factors of measure `id`, or `None` when there is no such measure.
    pub measure: &'a dyn Fn(&str) -> Option<Vec<u32>>,
    /// The number of risk factors of the framework actions refer to.
    pub factor_count: u32,
    /// The departments that exist.
    pub departments: &'a [Department],
}

fn text(field: &str, v: &str, max: usize) -> Result<String, DomainError> {
    if v.contains('\0') {
        return Err(DomainError::invalid(
            field,
            "must not contain NUL characters",
        ));
    }
    if v.len() > max {
        return Err(DomainError::invalid(
            field,
            format!("longer than {max} bytes"),
        ));
    }
    Ok(v.trim().to_string())
}

/// A username as stored: 1–64 bytes, no whitespace or control characters.
fn lead(v: &str) -> Result<String, DomainError> {
    let v = v.trim();
    if v.is_empty() || v.len() > 64 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::invalid("lead", "must name a user"));
    }
    Ok(v.to_string())
}

fn department(v: &str, refs: &ActionRefs<'_>) -> Result<Department, DomainError> {
    let d = Department::parse(v)?;
    refs.departments
        .iter()
        .find(|k| k.name().eq_ignore_ascii_case(d.name()))
        .cloned()
        .ok_or_else(|| {
            let names: Vec<&str> = refs.departments.iter().map(|d| d.name()).collect();
            DomainError::invalid(
                "department",
                format!("expected one of: {}", names.join(", ")),
            )
        })
}

fn factors(v: &[u32], refs: &ActionRefs<'_>) -> Result<Vec<u32>, DomainError> {
    let mut out: Vec<u32> = vec![];
    for (i, f) in v.iter().enumerate() {
        if *f < 1 || *f > refs.factor_count {
            return Err(DomainError::invalid(
                format!("risk_factors[{i}]"),
                format!("no such risk factor (1-{})", refs.factor_count),
            ));
        }
        if !out.contains(f) {
            out.push(*f);
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn alerts(v: &[Uuid]) -> Result<Vec<Uuid>, DomainError> {
    if v.len() > MAX_ALERTS {
        return Err(DomainError::invalid(
            "alert_ids",
            format!("at most {MAX_ALERTS} alerts"),
        ));
    }
    let mut out: Vec<Uuid> = vec![];
    for a in v {
        if !out.contains(a) {
            out.push(*a);
        }
    }
    Ok(out)
}

fn outcome(v: Option<&str>) -> Result<Option<String>, DomainError> {
    Ok(match v {
        Some(o) => Some(text("outcome", o, MAX_TEXT)?).filter(|o| !o.is_empty()),
        None => None,
    })
}

impl Action {
    /// A new action from a client's input, recorded by `by` at `at`. A new action starts
    /// `planned` or `in_progress` (a finished one is recorded, then moved to done).
    pub fn create(
        n: NewAction,
        refs: &ActionRefs<'_>,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Action, DomainError> {
        let measure_id = n.measure_id.trim().to_string();
        let measure_factors = (refs.measure)(&measure_id)
            .ok_or_else(|| DomainError::invalid("measure_id", "no such measure in the toolbox"))?;
        let risk_factors = match &n.risk_factors {
            Some(v) => factors(v, refs)?,
            None => factors(&measure_factors, refs)?,
        };
        let status = match n.status.as_deref() {
            None => ActionStatus::Planned,
            Some(s) => {
                let s = ActionStatus::parse(s)?;
                if s.is_final() {
                    return Err(DomainError::invalid(
                        "status",
                        "a new action is planned or in_progress; record it, then mark it done or dropped with its outcome",
                    ));
                }
                s
            }
        };
        Ok(Action {
            id: crate::new_id(),
            measure_id,
            situation_id: n.situation_id.ok_or_else(|| {
                DomainError::invalid(
                    "situation_id",
                    "required (or link an alert that concerns a situation)",
                )
            })?,
            alert_ids: alerts(&n.alert_ids)?,
            risk_factors,
            department: department(
                n.department.as_deref().ok_or_else(|| {
                    DomainError::invalid("department", "required (or name a desk)")
                })?,
                refs,
            )?,
            desk_id: n.desk_id,
            lead: lead(&n.lead)?,
            due_date: n.due_date,
            status,
            outcome: None,
            next_review: n.next_review,
            notes: text("notes", n.notes.as_deref().unwrap_or(""), MAX_TEXT)?,
            created_by: by.to_string(),
            created_at: at,
            updated_at: at,
            version: 1,
        })
    }

    /// Apply a change at `at`; the version grows by one. Refused: a stale `expected_version`,
    /// an illegal status move, done or dropped without an outcome, any invalid field.
    pub fn apply(
        &mut self,
        p: &ActionPatch,
        refs: &ActionRefs<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), ActionError> {
        if let Some(v) = p.expected_version {
            if v != self.version {
                return Err(ActionError::Stale {
                    expected: v,
                    actual: self.version,
                });
            }
        }
        let mut next = self.clone();
        if let Some(s) = &p.status {
            let to = ActionStatus::parse(s)?;
            if !self.status.may_become(to) {
                return Err(IllegalMove {
                    from: self.status,
                    to,
                }
                .into());
            }
            next.status = to;
        }
        if self.status.is_final() {
            // A final action keeps its record; only its outcome text may be corrected.
            let only_outcome = p.due_date.is_none()
                && p.next_review.is_none()
                && p.lead.is_none()
                && p.department.is_none()
                && p.desk_id.is_none()
                && p.risk_factors.is_none()
                && p.alert_ids.is_none()
                && p.notes.is_none();
            if !only_outcome {
                return Err(DomainError::invalid(
                    "status",
                    format!(
                        "the action is {}; only its outcome may be corrected",
                        self.status
                    ),
                )
                .into());
            }
        }
        if p.outcome.is_some() {
            next.outcome = outcome(p.outcome.as_deref())?;
        }
        if let Some(d) = p.due_date {
            next.due_date = d;
        }
        if let Some(d) = p.next_review {
            next.next_review = Some(d);
        }
        if let Some(l) = &p.lead {
            next.lead = lead(l)?;
        }
        if let Some(d) = &p.department {
            next.department = department(d, refs)?;
        }
        if let Some(d) = p.desk_id {
            next.desk_id = Some(d);
        }
        if let Some(f) = &p.risk_factors {
            next.risk_factors = factors(f, refs)?;
        }
        if let Some(a) = &p.alert_ids {
            next.alert_ids = alerts(a)?;
        }
        if let Some(n) = &p.notes {
            next.notes = text("notes", n, MAX_TEXT)?;
        }
        if next.status.is_final() && next.outcome.is_none() {
            return Err(DomainError::invalid(
                "outcome",
                format!(
                    "an action marked {} needs an outcome: what came of it",
                    next.status
                ),
            )
            .into());
        }
        next.version = self.version + 1;
        next.updated_at = at;
        *self = next;
        Ok(())
    }

    /// Past its due date on `today` and neither done nor dropped.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        !self.status.is_final() && self.due_date < today
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs_measure(id: &str) -> Option<Vec<u32>> {
        (id == "M-01").then(|| vec![1, 8])
    }

    fn with_refs<T>(f: impl FnOnce(&ActionRefs<'_>) -> T) -> T {
        let deps = Department::defaults();
        let refs = ActionRefs {
            measure: &refs_measure,
            factor_count: 14,
            departments: &deps,
        };
        f(&refs)
    }

    fn new() -> NewAction {
        NewAction {
            measure_id: "M-01".into(),
            situation_id: Some(Uuid::nil()),
            department: Some("Foreign Affairs".into()),
            lead: "alice".into(),
            due_date: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            ..Default::default()
        }
    }

    fn field(e: DomainError) -> String {
        e.field().unwrap().to_string()
    }

    #[test]
    fn a_new_action_takes_its_measures_factors_and_names_bad_fields() {
        with_refs(|r| {
            let a = Action::create(new(), r, "alice", crate::time::now()).unwrap();
            assert_eq!(a.risk_factors, vec![1, 8]);
            assert_eq!(a.department.name(), "foreign affairs");
            assert_eq!(a.status, ActionStatus::Planned);
            let bad = |f: fn(&mut NewAction)| {
                let mut n = new();
                f(&mut n);
                field(Action::create(n, r, "alice", crate::time::now()).unwrap_err())
            };
            assert_eq!(bad(|n| n.measure_id = "M-99".into()), "measure_id");
            assert_eq!(
                bad(|n| n.department = Some("ministry of magic".into())),
                "department"
            );
            assert_eq!(bad(|n| n.lead = " ".into()), "lead");
            assert_eq!(
                bad(|n| n.risk_factors = Some(vec![3, 15])),
                "risk_factors[1]"
            );
            assert_eq!(bad(|n| n.status = Some("done".into())), "status");
            assert_eq!(bad(|n| n.status = Some("finished".into())), "status");
        })
    }

    #[test]
    fn status_moves_follow_the_workflow_and_final_ones_need_an_outcome() {
        with_refs(|r| {
            let now = crate::time::now();
            let mut a = Action::create(new(), r, "alice", now).unwrap();
            let to = |s: &str| ActionPatch {
                status: Some(s.into()),
                ..Default::default()
            };
            a.apply(&to("in_progress"), r, now).unwrap();
            assert_eq!(a.version, 2);
            let e = a.apply(&to("done"), r, now).unwrap_err();
            assert!(
                matches!(&e, ActionError::Invalid(d) if d.field() == Some("outcome")),
                "{e}"
            );
            assert_eq!(
                a.status,
                ActionStatus::InProgress,
                "a refused change changes nothing"
            );
            let mut done = to("done");
            done.outcome = Some("Envoy received by the president".into());
            a.apply(&done, r, now).unwrap();
            assert_eq!(a.status, ActionStatus::Done);
            for s in ["planned", "in_progress", "dropped"] {
                let e = a.apply(&to(s), r, now).unwrap_err();
                assert!(matches!(e, ActionError::Illegal(_)), "{s}: {e}");
                assert!(e.to_string().contains("final"), "{e}");
            }
            // Only the outcome of a final action may be corrected.
            let e = a
                .apply(
                    &ActionPatch {
                        due_date: Some(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
                        ..Default::default()
                    },
                    r,
                    now,
                )
                .unwrap_err();
            assert!(matches!(e, ActionError::Invalid(_)));
            let e = a
                .apply(
                    &ActionPatch {
                        outcome: Some("  ".into()),
                        ..Default::default()
                    },
                    r,
                    now,
                )
                .unwrap_err();
            assert!(matches!(&e, ActionError::Invalid(d) if d.field() == Some("outcome")));
            let stale = ActionPatch {
                expected_version: Some(1),
                notes: Some("x".into()),
                ..Default::default()
            };
            assert!(matches!(
                a.apply(&stale, r, now).unwrap_err(),
                ActionError::Stale { expected: 1, .. }
            ));
        })
    }

    #[test]
    fn overdue_is_past_due_and_not_final() {
        with_refs(|r| {
            let now = crate::time::now();
            let a = Action::create(new(), r, "alice", now).unwrap();
            let due = a.due_date;
            assert!(!a.is_overdue(due));
            assert!(a.is_overdue(due.succ_opt().unwrap()));
        })
    }
}
