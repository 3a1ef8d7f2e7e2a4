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
    /// Evidence labelled higher than the alert joined it, and the alert's label was raised
    /// to cover it (a label is never lowered).
    Relabelled {
        /// The label before.
        from: Tlp,
        /// The label now.
        to: Tlp,
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

    /// The next escalation timer of an open alert under its desk's `policy`: the step number
    /// to pass to [`Alert::fire_step`], the index of the policy step to notify, and when it is
    /// due: `after` from the opening, but never before the acknowledgement deadline (a slow
    /// severity does not page early; when the deadline passes, the step then due fires).
    /// `None` once acknowledged or closed, or when the policy is exhausted.
    pub fn next_escalation(
        &self,
        policy: &crate::EscalationPolicy,
    ) -> Option<(u32, usize, DateTime<Utc>)> {
        if self.status != AlertStatus::Open {
            return None;
        }
        let (index, after) = policy.next_step(self.escalation_step)?;
        let due = (self.opened_at + after.to_chrono()).max(self.ack_deadline);
        Some((self.escalation_step + 1, index, due))
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

    /// Raise the label to `to` when it is higher (evidence labelled higher joined): the
    /// timeline entry, or `None` when the label already covers it. Never lowers a label.
    pub fn raise_label(
        &mut self,
        to: Tlp,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<TimelineEntry>, TransitionError> {
        self.refuse_closed("relabel", "a closed alert keeps its label")?;
        if to <= self.tlp {
            return Ok(None);
        }
        let from = self.tlp;
        self.tlp = to;
        self.version += 1;
        Ok(Some(entry(at, by, TimelineEvent::Relabelled { from, to })))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TextDuration;
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 8, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn open() -> Alert {
        let (a, e) = Alert::open(
            "Attacks on villages near Bossangoa",
            Severity::High,
            Tlp::Amber,
            Uuid::nil(),
            AlertOrigin::Rule(Uuid::nil()),
            vec![AlertEvidence::Incident(Uuid::nil())],
            TextDuration::parse("ack_within", "30m").unwrap(),
            t(0),
            "system:rules",
        )
        .unwrap();
        assert_eq!(e.event, TimelineEvent::Opened);
        assert_eq!((e.at, e.by.as_str()), (t(0), "system:rules"));
        a
    }

    fn illegal(r: Result<TimelineEntry, TransitionError>) -> String {
        match r.unwrap_err() {
            e @ TransitionError::Illegal { .. } => e.to_string(),
            e => panic!("expected an illegal move, got {e}"),
        }
    }

    #[test]
    fn opens_with_a_deadline_from_its_severity() {
        let a = open();
        assert_eq!(a.status, AlertStatus::Open);
        assert_eq!(a.ack_deadline, t(30));
        assert_eq!((a.escalation_step, a.version), (0, 1));
        assert!(!a.is_overdue(t(29)));
        assert!(a.is_overdue(t(30)));
        assert_eq!(a.id.get_version_num(), 7);
    }

    #[test]
    fn open_refuses_bad_input_naming_the_field() {
        let try_open = |title: &str, origin: AlertOrigin, ack: &str| {
            Alert::open(
                title,
                Severity::Low,
                Tlp::Green,
                Uuid::nil(),
                origin,
                vec![],
                TextDuration::parse("ack_within", ack).unwrap(),
                t(0),
                "alice",
            )
            .unwrap_err()
            .field()
            .map(str::to_string)
        };
        let hand = || AlertOrigin::ByHand("alice".into());
        assert_eq!(try_open("  ", hand(), "1h").as_deref(), Some("title"));
        assert_eq!(
            try_open(&"x".repeat(201), hand(), "1h").as_deref(),
            Some("title")
        );
        assert_eq!(try_open("a\nb", hand(), "1h").as_deref(), Some("title"));
        assert_eq!(
            try_open("ok", AlertOrigin::ByHand(" ".into()), "1h").as_deref(),
            Some("raised_by")
        );
        assert_eq!(try_open("ok", hand(), "0s").as_deref(), Some("ack_within"));
    }

    #[test]
    fn the_whole_workflow_records_every_step() {
        let mut a = open();
        let e = a.acknowledge("alice", t(5)).unwrap();
        assert_eq!(e, entry(t(5), "alice", TimelineEvent::Acknowledged));
        assert_eq!(a.status, AlertStatus::Acknowledged);
        assert_eq!(a.acknowledged_at, Some(t(5)));
        assert_eq!(a.acknowledged_by.as_deref(), Some("alice"));
        let e = a.decide_action("bob", t(60)).unwrap();
        assert_eq!(e.event, TimelineEvent::ActionDecided);
        assert_eq!(a.action_decided_at, Some(t(60)));
        let e = a.close(Some(CloseReason::Acted), "alice", t(120)).unwrap();
        assert_eq!(
            e.event,
            TimelineEvent::Closed {
                reason: CloseReason::Acted
            }
        );
        assert_eq!(a.status, AlertStatus::Closed);
        assert_eq!(
            (a.closed_at, a.close_reason),
            (Some(t(120)), Some(CloseReason::Acted))
        );
        assert_eq!(a.version, 4);
    }

    #[test]
    fn closes_without_action_from_open_or_acknowledged_except_as_acted() {
        for reason in [
            CloseReason::FalseAlarm,
            CloseReason::Duplicate,
            CloseReason::NothingPossible,
        ] {
            let mut a = open();
            a.close(Some(reason), "alice", t(1)).unwrap();
            let mut b = open();
            b.acknowledge("alice", t(1)).unwrap();
            b.close(Some(reason), "alice", t(2)).unwrap();
            assert_eq!(b.close_reason, Some(reason));
        }
        let mut a = open();
        let msg = illegal(a.close(Some(CloseReason::Acted), "alice", t(1)));
        assert!(msg.contains("no action has been decided"), "{msg}");
        a.acknowledge("alice", t(1)).unwrap();
        illegal(a.close(Some(CloseReason::Acted), "alice", t(2)));
        assert_eq!(a.status, AlertStatus::Acknowledged);
    }

    #[test]
    fn closing_needs_a_reason() {
        let mut a = open();
        let e = a.close(None, "alice", t(1)).unwrap_err();
        assert_eq!(e, TransitionError::NoReason);
        assert!(e.to_string().starts_with("reason:"), "{e}");
        assert_eq!((a.status, a.version), (AlertStatus::Open, 1));
        let e = CloseReason::parse("").unwrap_err();
        assert_eq!(e.field(), Some("reason"));
        assert_eq!(
            CloseReason::parse("false_alarm").unwrap(),
            CloseReason::FalseAlarm
        );
    }

    #[test]
    fn refuses_moves_out_of_order_and_changes_nothing() {
        // Acknowledge twice, or after closing.
        let mut a = open();
        a.acknowledge("alice", t(1)).unwrap();
        let msg = illegal(a.acknowledge("bob", t(2)));
        assert!(msg.contains("already been acknowledged"), "{msg}");
        assert_eq!(a.acknowledged_by.as_deref(), Some("alice"));
        let mut c = open();
        c.close(Some(CloseReason::FalseAlarm), "alice", t(1))
            .unwrap();
        let msg = illegal(c.acknowledge("bob", t(2)));
        assert_eq!(
            msg,
            "cannot acknowledge an alert that is closed: it is closed"
        );
        // Decide before acknowledging, twice, or after closing.
        let mut o = open();
        assert!(illegal(o.decide_action("bob", t(1))).contains("acknowledge it first"));
        a.decide_action("bob", t(3)).unwrap();
        assert!(illegal(a.decide_action("bob", t(4))).contains("already decided"));
        illegal(c.decide_action("bob", t(3)));
        // Close twice.
        assert!(
            illegal(c.close(Some(CloseReason::Duplicate), "bob", t(3))).contains("already closed")
        );
        assert_eq!(c.close_reason, Some(CloseReason::FalseAlarm));
        assert_eq!((o.version, a.version, c.version), (1, 3, 2));
    }

    #[test]
    fn after_acknowledgement_nobody_is_paged_again() {
        let mut a = open();
        assert_eq!(
            a.fire_step(1, t(15)).unwrap(),
            entry(
                t(15),
                "system:escalation",
                TimelineEvent::Notified { step: 1 }
            )
        );
        assert_eq!(
            a.escalate("alice", t(20)).unwrap().event,
            TimelineEvent::Escalated { step: 2 }
        );
        a.acknowledge("alice", t(21)).unwrap();
        let msg = illegal(a.escalate("bob", t(22)));
        assert_eq!(
            msg,
            "cannot escalate an alert that is acknowledged: after acknowledgement nobody is paged again"
        );
        assert!(illegal(a.fire_step(3, t(60))).contains("nobody is paged again"));
        a.decide_action("alice", t(70)).unwrap();
        illegal(a.fire_step(3, t(80)));
        illegal(a.escalate("bob", t(80)));
        a.close(Some(CloseReason::Acted), "alice", t(90)).unwrap();
        assert!(illegal(a.fire_step(3, t(100))).contains("it is closed"));
        illegal(a.escalate("bob", t(100)));
        assert_eq!(a.escalation_step, 2);
    }

    #[test]
    fn escalation_timers_follow_the_policy_and_stop_at_acknowledgement() {
        use crate::{EscalationPolicy, EscalationStep, Target};
        let step = |after: &str| EscalationStep {
            after: TextDuration::parse("after", after).unwrap(),
            notify: Target::User("alice".into()),
        };
        let policy = EscalationPolicy::new(vec![step("15m"), step("45m"), step("1h")], 1).unwrap();
        let mut a = open(); // acknowledgement due after 30m
                            // The first step is due at 15m but not before the 30m deadline.
        assert_eq!(a.next_escalation(&policy), Some((1, 0, t(30))));
        a.fire_step(1, t(30)).unwrap();
        assert_eq!(a.next_escalation(&policy), Some((2, 1, t(45))));
        a.fire_step(2, t(45)).unwrap();
        assert_eq!(a.next_escalation(&policy), Some((3, 2, t(60))));
        a.fire_step(3, t(60)).unwrap();
        // The repeat round starts after the last step: 1h + 15m.
        assert_eq!(a.next_escalation(&policy), Some((4, 0, t(75))));
        a.escalate("bob", t(70)).unwrap();
        assert_eq!(a.next_escalation(&policy), Some((5, 1, t(105))));
        a.acknowledge("alice", t(80)).unwrap();
        assert_eq!(a.next_escalation(&policy), None);
        let mut b = open();
        for n in 1..=6 {
            b.fire_step(n, t(200)).unwrap();
        }
        assert_eq!(b.next_escalation(&policy), None);
    }

    #[test]
    fn each_step_fires_once() {
        let mut a = open();
        a.fire_step(1, t(15)).unwrap();
        // A second server, or the same timer replayed after a restart.
        assert_eq!(
            a.fire_step(1, t(15)).unwrap_err(),
            TransitionError::AlreadyFired { step: 1 }
        );
        // A step passed by a manual escalation is not fired again by its timer.
        a.escalate("alice", t(16)).unwrap();
        assert_eq!(
            a.fire_step(2, t(30)).unwrap_err(),
            TransitionError::AlreadyFired { step: 2 }
        );
        a.fire_step(3, t(45)).unwrap();
        assert_eq!((a.escalation_step, a.version), (3, 4));
    }

    #[test]
    fn evidence_joins_an_open_alert_once_and_not_a_closed_one() {
        let mut a = open();
        let r = AlertEvidence::Report(Uuid::from_u128(7));
        let e = a
            .add_evidence(r.clone(), "system:rules", t(3))
            .unwrap()
            .unwrap();
        assert_eq!(
            e.event,
            TimelineEvent::EvidenceAdded {
                evidence: r.clone()
            }
        );
        assert_eq!(
            a.add_evidence(r.clone(), "system:rules", t(4)).unwrap(),
            None
        );
        assert_eq!(a.evidence.len(), 2);
        a.acknowledge("alice", t(5)).unwrap();
        a.add_evidence(
            AlertEvidence::Signal(Uuid::from_u128(8)),
            "system:rules",
            t(6),
        )
        .unwrap();
        a.close(Some(CloseReason::NothingPossible), "alice", t(7))
            .unwrap();
        let e = a
            .add_evidence(
                AlertEvidence::Incident(Uuid::from_u128(9)),
                "system:rules",
                t(8),
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("new evidence opens a new alert"),
            "{e}"
        );
        assert_eq!(a.evidence.len(), 3);
    }

    #[test]
    fn severity_is_ordered_and_text_round_trips() {
        assert!(Severity::Low < Severity::Moderate);
        assert!(Severity::High < Severity::Critical);
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()).unwrap(), *s);
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{s}\""));
        }
        for s in AlertStatus::ALL {
            assert_eq!(AlertStatus::parse(s.as_str()).unwrap(), *s);
        }
        assert_eq!(
            serde_json::to_string(&AlertStatus::ActionDecided).unwrap(),
            "\"action_decided\""
        );
        assert_eq!(
            Severity::parse("High").unwrap_err().field(),
            Some("severity")
        );
    }

    #[test]
    fn alert_and_timeline_serde_shapes() {
        let mut a = open();
        let e = a
            .close(Some(CloseReason::FalseAlarm), "alice", t(1))
            .unwrap();
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"at": "2026-12-06T08:01:00Z", "by": "alice",
                "event": "closed", "reason": "false_alarm"})
        );
        assert_eq!(serde_json::from_value::<TimelineEntry>(v).unwrap(), e);
        let n =
            serde_json::to_value(entry(t(0), "x", TimelineEvent::Notified { step: 2 })).unwrap();
        assert_eq!(
            (n["event"].as_str(), n["step"].as_u64()),
            (Some("notified"), Some(2))
        );
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["status"], "closed");
        assert_eq!(v["origin"], serde_json::json!({"rule": Uuid::nil()}));
        assert_eq!(
            v["evidence"],
            serde_json::json!([{"incident": Uuid::nil()}])
        );
        assert_eq!(serde_json::from_value::<Alert>(v).unwrap(), a);
        let hand: AlertOrigin = serde_json::from_str(r#"{"by_hand": "alice"}"#).unwrap();
        assert_eq!(hand, AlertOrigin::ByHand("alice".into()));
    }
}
