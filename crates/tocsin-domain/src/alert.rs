//! Alerts: a warning routed to a desk that must act, and its workflow
//! open → acknowledged → action decided → closed.
//!
//! The transitions here decide only whether a move is legal in the workflow; who may make it
//! (a desk officer of the alert's desk, an analyst…) is the application layer's decision.
//! Each transition changes the alert and returns the timeline entry to record with it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

use crate::{Country, DomainError, Tlp};

macro_rules! text_enum {
    ($ty:ident, $field:literal, $( $v:ident = $s:literal ),+ $(,)?) => {
        impl $ty {
            /// Every value, in order.
            pub const ALL: &'static [$ty] = &[$($ty::$v),+];

            /// The value as written in the API, e.g. `false_alarm`.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$v => $s),+ }
            }

            /// Parse the API's text; an error names the field.
            pub fn parse(s: &str) -> Result<$ty, DomainError> {
                match s { $($s => Ok($ty::$v),)+ _ => Err(DomainError::invalid(
                    $field,
                    format!("{s:?}: expected one of {}", [$($s),+].join(", ")),
                )) }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// How grave an alert is; ordered, `Low < Moderate < High < Critical`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Low.
    Low,
    /// Moderate.
    Moderate,
    /// High.
    High,
    /// Critical.
    Critical,
}
text_enum!(
    Severity,
    "severity",
    Low = "low",
    Moderate = "moderate",
    High = "high",
    Critical = "critical"
);

/// Where an alert is in its workflow.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Raised, nobody has acknowledged it yet; escalation runs.
    Open,
    /// Someone of the desk has taken it; nobody is paged again for it.
    Acknowledged,
    /// The desk has decided what to do.
    ActionDecided,
    /// Finished, with a [`CloseReason`].
    Closed,
}
text_enum!(
    AlertStatus,
    "status",
    Open = "open",
    Acknowledged = "acknowledged",
    ActionDecided = "action_decided",
    Closed = "closed"
);

/// Why an alert was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Action was taken (requires a decided action).
    Acted,
    /// The warning was wrong.
    FalseAlarm,
    /// Another alert covers it.
    Duplicate,
    /// Nothing could be done.
    NothingPossible,
}
text_enum!(
    CloseReason,
    "reason",
    Acted = "acted",
    FalseAlarm = "false_alarm",
    Duplicate = "duplicate",
    NothingPossible = "nothing_possible"
);

/// What raised an alert: `{"rule": id}` or `{"by_hand": "alice"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertOrigin {
    /// An alert rule fired.
    Rule(Uuid),
    /// A staff member raised it by hand (their username).
    ByHand(String),
}

/// A record an alert rests on: `{"incident": id}`, `{"report": id}`, … Report ids are
/// random (UUIDv4), so listing one tells nothing of when its warner wrote.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertEvidence {
    /// An incident.
    Incident(Uuid),
    /// A report.
    Report(Uuid),
    /// An escalation signal.
    Signal(Uuid),
    /// A published assessment.
    Assessment(Uuid),
    /// A forecast run.
    Forecast(Uuid),
}

/// One step of an alert's life, as its timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TimelineEvent {
    /// The alert was raised.
    Opened,
    /// New matching evidence joined the open alert instead of opening another.
    EvidenceAdded {
        /// The record added.
        evidence: AlertEvidence,
    },
    /// A step of the desk's escalation policy fired on its timer (steps count from 1, over
    /// all repeats).
    Notified {
        /// Which step.
        step: u32,
    },
    /// Someone escalated by hand to the next step.
    Escalated {
        /// The step notified.
        step: u32,
    },
    /// Someone took the alert.
    Acknowledged,
    /// The desk decided what to do.
    ActionDecided,
    /// The alert was closed.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// A timeline entry: when, by whom (`alice`, `system:escalation`), what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who: a username or `system:…`.
    pub by: String,
    /// What happened.
    #[serde(flatten)]
    pub event: TimelineEvent,
}

/// A move the workflow does not allow, for a person to read (the API answers 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The move is not allowed from the alert's status.
    #[error("cannot {action} an alert that is {status}: {why}")]
    Illegal {
        /// What was tried: `acknowledge`, `escalate`, …
        action: &'static str,
        /// The alert's status.
        status: AlertStatus,
        /// Why not.
        why: &'static str,
    },
    /// A timer fired a step that was already fired (another server, or a replay after a
    /// restart): it must not page anyone a second time.
    #[error("escalation step {step} has already fired")]
    AlreadyFired {
        /// The step the timer carried.
        step: u32,
    },
    /// Closing needs a reason.
    #[error("reason: closing an alert needs a reason: acted, false_alarm, duplicate or nothing_possible")]
    NoReason,
}

/// An alert: a warning routed to a desk that must act on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alert {
    /// Its id: a time-ordered UUIDv7 ([`crate::new_id`]), as for incidents. Alerts are made
    /// by staff or by rules over staff-visible records, never by a warner's message, so the
    /// time in the id is the alert's own, already shown as `opened_at`; it cannot be matched
    /// to a warner (the reports behind an alert keep their random ids).
    pub id: Uuid,
    /// What it is about.
    pub title: String,
    /// How grave.
    pub severity: Severity,
    /// Its label: who may read it and what a notification may carry.
    pub tlp: Tlp,
    /// The situation it concerns, if any.
    pub situation_id: Option<Uuid>,
    /// The country it concerns, if any.
    #[schema(value_type = Option<String>)]
    pub country: Option<Country>,
    /// The desk that must act.
    pub desk_id: Uuid,
    /// The rule that raised it, or who raised it by hand.
    pub origin: AlertOrigin,
    /// The records it rests on, in the order they were added, without repeats.
    pub evidence: Vec<AlertEvidence>,
    /// Where it is in the workflow.
    pub status: AlertStatus,
    /// Raised.
    pub opened_at: DateTime<Utc>,
    /// When it must be acknowledged by (from its severity); past it, escalation goes on.
    pub ack_deadline: DateTime<Utc>,
    /// How many escalation steps have been notified (timer or by hand), over all repeats.
    pub escalation_step: u32,
    /// Acknowledged: when and by whom.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When the action was decided.
    pub action_decided_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Why it was closed.
    pub close_reason: Option<CloseReason>,
    /// Optimistic-concurrency version: 1 when opened, +1 for every change.
    pub version: i64,
}

impl Alert {
    /// A new open alert and its `opened` timeline entry. `ack_within` is the acknowledgement
    /// time allowed for its severity. The title must be 1–200 bytes without control characters.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        title: &str,
        severity: Severity,
        tlp: Tlp,
        desk_id: Uuid,
        origin: AlertOrigin,
        evidence: Vec<AlertEvidence>,
        ack_within: crate::TextDuration,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<(Alert, TimelineEntry), DomainError> {
        let title = title.trim();
        if title.is_empty() || title.len() > 200 {
            return Err(DomainError::invalid("title", "1-200 bytes"));
        }
        if title.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "title",
                "must not contain control characters",
            ));
        }
        if let AlertOrigin::ByHand(name) = &origin {
            if name.trim().is_empty() {
                return Err(DomainError::invalid("raised_by", "must name a user"));
            }
        }
        ack_within.positive("ack_within")?;
        let mut seen = Vec::with_capacity(evidence.len());
        for e in evidence {
            if !seen.contains(&e) {
                seen.push(e);
            }
        }
        let alert = Alert {
            id: crate::new_id(),
            title: title.to_string(),
            severity,
            tlp,
            situation_id: None,
            country: None,
            desk_id,
            origin,
            evidence: seen,
            status: AlertStatus::Open,
            opened_at: at,
            ack_deadline: at + ack_within.to_chrono(),
            escalation_step: 0,
            acknowledged_at: None,
            acknowledged_by: None,
            action_decided_at: None,
            closed_at: None,
            close_reason: None,
            version: 1,
        };
        let entry = entry(at, by, TimelineEvent::Opened);
        Ok((alert, entry))
    }

    /// Whether the acknowledgement deadline has passed unacknowledged at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == AlertStatus::Open && now >= self.ack_deadline
    }

    /// Add matching evidence to an alert that is not closed. `Ok(None)` if it already holds it
    /// (nothing to record).
    pub fn add_evidence(
        &mut self,
        evidence: AlertEvidence,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<TimelineEntry>, TransitionError> {
        self.refuse_closed("add evidence to", "new evidence opens a new alert")?;
        if self.evidence.contains(&evidence) {
            return Ok(None);
        }
        self.evidence.push(evidence.clone());
        self.version += 1;
        Ok(Some(entry(
            at,
            by,
            TimelineEvent::EvidenceAdded { evidence },
        )))
    }

    /// Take the alert: from `open` only. Escalation stops here.
    pub fn acknowledge(
        &mut self,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<TimelineEntry, TransitionError> {
        match self.status {
            AlertStatus::Open => {}
            AlertStatus::Closed => return Err(self.illegal("acknowledge", "it is closed")),
            _ => return Err(self.illegal("acknowledge", "it has already been acknowledged")),
        }
        self.status = AlertStatus::Acknowledged;
        self.acknowledged_at = Some(at);
        self.acknowledged_by = Some(by.to_string());
        self.version += 1;
        Ok(entry(at, by, TimelineEvent::Acknowledged))
    }

    /// Record that the desk has decided what to do: from `acknowledged` only.
    pub fn decide_action(
        &mut self,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<TimelineEntry, TransitionError> {
        match self.status {
            AlertStatus::Acknowledged => {}
            AlertStatus::Open => {
                return Err(self.illegal("decide an action on", "acknowledge it first"))
            }
            _ => return Err(self.illegal("decide an action on", "an action is already decided")),
        }
        self.status = AlertStatus::ActionDecided;
        self.action_decided_at = Some(at);
        self.version += 1;
        Ok(entry(at, by, TimelineEvent::ActionDecided))
    }

    /// Close with a reason, from any status but `closed`. `acted` needs a decided action.
    pub fn close(
        &mut self,
        reason: Option<CloseReason>,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<TimelineEntry, TransitionError> {
        self.refuse_closed("close", "it is already closed")?;
        let reason = reason.ok_or(TransitionError::NoReason)?;
        if reason == CloseReason::Acted && self.status != AlertStatus::ActionDecided {
            return Err(self.illegal(
                "close as acted",
                "no action has been decided; record the action first",
            ));
        }
        self.status = AlertStatus::Closed;
        self.closed_at = Some(at);
        self.close_reason = Some(reason);
        self.version += 1;
        Ok(entry(at, by, TimelineEvent::Closed { reason }))
    }

    /// Escalate by hand to the next step of the desk's policy: while `open` only.
    pub fn escalate(
        &mut self,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<TimelineEntry, TransitionError> {
        self.refuse_acknowledged("escalate")?;
        self.escalation_step += 1;
        self.version += 1;
        let step = self.escalation_step;
        Ok(entry(at, by, TimelineEvent::Escalated { step }))
    }

    /// A timer fires escalation step `step` (1-based, the value of `escalation_step` after
    /// it): legal while `open` and only if that step has not fired yet, so a replayed or
    /// duplicated timer pages nobody twice. A timer for a step already passed by a manual
    /// escalation is refused the same way.
    pub fn fire_step(
        &mut self,
        step: u32,
        at: DateTime<Utc>,
    ) -> Result<TimelineEntry, TransitionError> {
        self.refuse_acknowledged("notify the next step of")?;
        if step <= self.escalation_step {
            return Err(TransitionError::AlreadyFired { step });
        }
        self.escalation_step = step;
        self.version += 1;
        Ok(entry(
            at,
            "system:escalation",
            TimelineEvent::Notified { step },
        ))
    }

    fn refuse_acknowledged(&self, action: &'static str) -> Result<(), TransitionError> {
        match self.status {
            AlertStatus::Open => Ok(()),
            AlertStatus::Closed => Err(self.illegal(action, "it is closed")),
            _ => Err(self.illegal(action, "after acknowledgement nobody is paged again")),
        }
    }

    fn refuse_closed(
        &self,
        action: &'static str,
        why: &'static str,
    ) -> Result<(), TransitionError> {
        if self.status == AlertStatus::Closed {
            Err(self.illegal(action, why))
        } else {
            Ok(())
        }
    }

    fn illegal(&self, action: &'static str, why: &'static str) -> TransitionError {
        TransitionError::Illegal {
            action,
            status: self.status,
            why,
        }
    }
}

fn entry(at: DateTime<Utc>, by: &str, event: TimelineEvent) -> TimelineEntry {
    TimelineEntry {
        at,
        by: by.to_string(),
        event,
    }
}
