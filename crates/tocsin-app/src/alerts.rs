//! Alerts and their lifecycle: analysts raise them by hand, rules open them (or add evidence to
//! the rule's open one, [`open_or_add_evidence`]), desk officers who are members of the
//! alert's desk acknowledge, escalate, decide action and close, everyone who reads alerts
//! reads them within clearance (an alert above it answers `NotFound`).
//!
//! Escalation runs on the job runner: opening schedules the timer `alert.escalate` keyed
//! `alert:{id}:escalation` (payload: alert id and step) due at [`Alert::next_escalation`];
//! [`fire_escalation`] records `notified`, notifies the step's target and schedules the next
//! step; acknowledging and closing cancel the timer. Each of these is one write: the alert's
//! change, its timeline entry, the timer and the notifications commit together, guarded by
//! the version read, so a replayed or duplicated timer pages nobody twice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tocsin_domain::{
    Alert, AlertEvidence, AlertOrigin, AlertRule, AlertStatus, AuditEvent, CloseReason, Country,
    Department, Desk, Page, PageRequest, Permission, Severity, TextDuration, TimelineEntry, Tlp,
    TransitionError, User,
};
use tocsin_store::{AlertFilter, NewTimer, Op, Step, StoreError};
use uuid::Uuid;

use crate::desks::{recipients, users_named};
use crate::rules::route;
use crate::{may_label, notify, reads, require, visible, App, AppError, Result};

/// The job-runner timer kind of escalations.
pub const ESCALATION_TIMER: &str = "alert.escalate";

/// Who the audit trail and timeline name for rule-opened alerts.
pub const RULES_ACTOR: &str = "system:rules";

/// How many times a write tripped by a concurrent change is read and decided again.
const RETRIES: usize = 4;

/// The key of an alert's escalation timer.
pub fn escalation_key(id: Uuid) -> String {
    format!("alert:{id}:escalation")
}

/// The acknowledgement time of alerts raised by hand, per severity (`[alerts]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AckDefaults {
    /// Critical (default 30m).
    pub critical: TextDuration,
    /// High (default 4h).
    pub high: TextDuration,
    /// Moderate (default 1d).
    pub moderate: TextDuration,
    /// Low (default 2d).
    pub low: TextDuration,
}

impl Default for AckDefaults {
    fn default() -> Self {
        let d = |s: u64| TextDuration::from_secs(s).expect("in range");
        AckDefaults {
            critical: d(30 * 60),
            high: d(4 * 3600),
            moderate: d(86_400),
            low: d(2 * 86_400),
        }
    }
}

impl AckDefaults {
    /// The time allowed for `s`.
    pub fn for_severity(&self, s: Severity) -> TextDuration {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Moderate => self.moderate,
            Severity::Low => self.low,
        }
    }

    /// Every duration must be longer than 0s; errors name `alerts.SEVERITY`.
    pub fn validate(&self) -> Result<()> {
        for s in Severity::ALL {
            self.for_severity(*s)
                .positive(&format!("alerts.{}", s.as_str()))?;
        }
        Ok(())
    }
}

/// The deployment's alerting settings: the departments (`[organisation] departments`) and
/// the acknowledgement defaults (`[alerts]`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    /// Departments desks may belong to.
    pub departments: Vec<Department>,
    /// Acknowledgement times of alerts raised by hand.
    pub ack: AckDefaults,
    /// The time allowed to act on a rumour, per priority (`[rumours]`).
    pub rumours: crate::rumours::RumourDeadlines,
    /// When an evidence rule is flagged generic (`[analysis]`).
    pub generic_rule: tocsin_domain::evidence::GenericRule,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            departments: Department::defaults(),
            ack: AckDefaults::default(),
            rumours: Default::default(),
            generic_rule: Default::default(),
        }
    }
}

/// The default settings, for [`App::new`].
pub static DEFAULT_SETTINGS: std::sync::LazyLock<AlertSettings> =
    std::sync::LazyLock::new(AlertSettings::default);

/// An alert raised by hand: `{title, severity, tlp?, situation?, country?, desk?, evidence?}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseAlert {
    /// What it is about, 1–200 bytes.
    pub title: String,
    /// `low`, `moderate`, `high` or `critical`.
    pub severity: String,
    /// Label (default `TLP:AMBER`).
    #[serde(default)]
    pub tlp: Option<String>,
    /// The situation it concerns.
    #[serde(default)]
    pub situation: Option<Uuid>,
    /// The country it concerns (ISO alpha-3).
    #[serde(default)]
    pub country: Option<String>,
    /// The desk that must act; else the desk answering for the situation, else the country.
    #[serde(default)]
    pub desk: Option<Uuid>,
    /// Records it rests on: `[{"incident": id}, {"report": id}, …]`.
    #[serde(default)]
    pub evidence: Vec<AlertEvidence>,
}

/// An alert with its timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    /// The alert.
    #[serde(flatten)]
    pub alert: Alert,
    /// What happened to it, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

/// What [`open_or_add_evidence`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A new alert was opened (the desk notified, the escalation timer set).
    Opened(Alert),
    /// The evidence joined the rule's open alert (`evidence_added` on its timeline).
    EvidenceAdded(Alert),
    /// The rule's open alert already held all of it; nothing was written.
    Unchanged(Alert),
}

/// The escalation timer's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationPayload {
    /// The alert.
    pub alert: Uuid,
    /// The step to fire (1-based, over all repeats).
    pub step: u32,
}

fn transition(e: TransitionError) -> AppError {
    match e {
        TransitionError::NoReason => AppError::invalid(
            "reason",
            "closing an alert needs a reason: acted, false_alarm, duplicate or nothing_possible",
        ),
        e => AppError::Conflict(e.to_string()),
    }
}

/// The timer for the next escalation step of `alert` under `desk`'s policy, if any.
fn next_timer(alert: &Alert, desk: &Desk) -> Option<NewTimer> {
    let (step, _, due) = alert.next_escalation(&desk.escalation)?;
    Some(NewTimer {
        kind: ESCALATION_TIMER.into(),
        key: Some(escalation_key(alert.id)),
        payload: serde_json::to_value(EscalationPayload {
            alert: alert.id,
            step,
        })
        .expect("plain JSON"),
        fire_at: due,
    })
}

fn audit(actor: &tocsin_domain::Actor, action: &str, a: &Alert) -> AuditEvent {
    AuditEvent::new(actor, action, "alert", Some(a.id.to_string())).with_detail(
        serde_json::json!({"desk": a.desk_id, "severity": a.severity.as_str(), "status": a.status.as_str(), "tlp": a.tlp.as_str()}),
    )
}

/// The steps that open `alert` (with its entry) under `desk`: the alert, its timer, and the
/// notification of the desk's members.
async fn opening_steps(
    app: &App<'_>,
    alert: &Alert,
    entry: TimelineEntry,
    desk: &Desk,
    now: DateTime<Utc>,
) -> Result<Vec<Step>> {
    let mut steps = vec![Step::CreateAlert {
        alert: Box::new(alert.clone()),
        entry,
    }];
    if let Some(t) = next_timer(alert, desk) {
        steps.push(Step::ScheduleTimer(t));
    }
    let members = users_named(app, &desk.members).await?;
    steps.extend(notify::notifications_for(app, alert, &members, "opened", now).await?);
    Ok(steps)
}

/// The highest label among the stored records `evidence` names (signals and forecasts, and
/// records gone, count as TLP:CLEAR).
async fn evidence_label(app: &App<'_>, evidence: &[AlertEvidence]) -> Result<Tlp> {
    let mut label = Tlp::Clear;
    for e in evidence {
        let l = match e {
            AlertEvidence::Incident(id) => app.store.get_incident(*id).await.map(|i| i.tlp),
            AlertEvidence::Report(id) => app.store.get_report(*id).await.map(|r| r.tlp),
            AlertEvidence::Assessment(id) => app.store.get_assessment(*id).await.map(|a| a.tlp),
            AlertEvidence::Forecast(_) | AlertEvidence::Signal(_) => Ok(Tlp::Clear),
        };
        match l {
            Ok(l) => label = label.max(l),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(label)
}

/// For the rule engine: open a new alert for `rule` resting on `evidence`, or add the evidence
/// to the rule's alert that is not closed yet (`evidence_added`). The alert goes to the rule's
/// desk, else the desk answering for `situation`, else for `country`; its acknowledgement
/// deadline is the rule's `ack_within`, its label the rule's raised to the highest label of
/// the evidence (its title counts every record, so no reader sees a figure above them). Two
/// evaluations at once open one alert: the loser adds its evidence to the winner's.
#[allow(clippy::too_many_arguments)]
pub async fn open_or_add_evidence(
    app: &App<'_>,
    rule: &AlertRule,
    evidence: Vec<AlertEvidence>,
    country: Option<Country>,
    situation: Option<Uuid>,
    title: &str,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let firing = RuleFiring {
        tlp: rule.tlp,
        may_open: true,
        evidence,
        country,
        situation,
        title,
    };
    Ok(rule_fired(app, rule, firing, now)
        .await?
        .expect("may_open: an alert is opened or found"))
}

/// What a rule's firing asks of [`rule_fired`].
#[derive(Debug, Clone)]
pub struct RuleFiring<'t> {
    /// The label of an alert it opens: at least the rule's and its evidence's highest
    /// (`Fired::tlp`); never lower than the rule's.
    pub tlp: Tlp,
    /// Whether it may open an alert (a crossed threshold), or only add to the rule's open one
    /// (a threshold still met).
    pub may_open: bool,
    /// The records it rests on.
    pub evidence: Vec<AlertEvidence>,
    /// The country it concerns.
    pub country: Option<Country>,
    /// The situation it concerns.
    pub situation: Option<Uuid>,
    /// The alert's title if one opens.
    pub title: &'t str,
}

/// For the rule engine: [`open_or_add_evidence`] with the alert's label given (raised to the
/// rule's when lower); when `may_open` is false and the rule has no open alert, nothing
/// (`None`).
pub async fn rule_fired(
    app: &App<'_>,
    rule: &AlertRule,
    firing: RuleFiring<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Outcome>> {
    let RuleFiring {
        tlp,
        may_open,
        evidence,
        country,
        situation,
        title,
    } = firing;
    let tlp = tlp.max(rule.tlp);
    let actor = tocsin_domain::Actor::system("rules");
    for _ in 0..RETRIES {
        if let Some(mut a) = app.store.open_alert_for_rule(rule.id).await? {
            let before = a.version;
            let mut steps = Vec::new();
            let mut added = Vec::new();
            for e in &evidence {
                if let Some(entry) = a
                    .add_evidence(e.clone(), RULES_ACTOR, now)
                    .map_err(transition)?
                {
                    steps.push(entry);
                    added.push(e.clone());
                }
            }
            // Evidence labelled above the alert raises its label, so nobody cleared below
            // the new evidence reads an alert (title, counts, evidence) that rests on it.
            if !added.is_empty() {
                let label = evidence_label(app, &added).await?.max(tlp);
                if let Some(entry) = a.raise_label(label, RULES_ACTOR, now).map_err(transition)? {
                    steps.push(entry);
                }
            }
            if steps.is_empty() {
                return Ok(Some(Outcome::Unchanged(a)));
            }
            // One stored version per entry: each change carries its own entry, guarded in turn.
            let mut writes = Vec::new();
            let mut version = before;
            for entry in steps {
                version += 1;
                let mut stage = a.clone();
                stage.version = version;
                writes.push(Step::ChangeAlert {
                    alert: Box::new(stage),
                    expected_version: version - 1,
                    entry,
                });
            }
            let op = Op::All {
                steps: writes,
                audit: Box::new(audit(&actor, "alert.evidence", &a)),
            };
            match app.store.write(&actor, op).await {
                Ok(_) => return Ok(Some(Outcome::EvidenceAdded(a))),
                Err(StoreError::Conflict(_)) | Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if !may_open {
            return Ok(None);
        }
        let desk = route(app, rule.desk, situation, country.as_ref())
            .await?
            .ok_or_else(|| AppError::invalid("desk", "no desk answers for this alert"))?;
        // Never below its evidence (the title counts every record it rests on), nor below
        // the label the engine gave or the rule's.
        let tlp = evidence_label(app, &evidence).await?.max(tlp);
        let (mut a, entry) = Alert::open(
            title,
            rule.severity,
            tlp,
            desk.id,
            AlertOrigin::Rule(rule.id),
            evidence.clone(),
            rule.ack_within,
            now,
            RULES_ACTOR,
        )?;
        a.situation_id = situation;
        a.country = country.clone();
        let steps = opening_steps(app, &a, entry, &desk, now).await?;
        let op = Op::All {
            steps,
            audit: Box::new(audit(&actor, "alert.open", &a)),
        };
        match app.store.write(&actor, op).await {
            Ok(_) => return Ok(Some(Outcome::Opened(a))),
            // Another evaluation opened it first: add to that one.
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict(
        "the rule's alert kept changing; try again".into(),
    ))
}

/// The job runner's escalation handler: fire step `payload.step` of the alert's policy.
/// Records `notified`, notifies the step's target (the desk's members, the user, or whoever
/// is on duty) and schedules the next step, in one write. A step already fired (a replay
/// after a crash, another server), an alert acknowledged or closed, or one gone: nothing.
pub async fn fire_escalation(
    app: &App<'_>,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let p: EscalationPayload = serde_json::from_value(payload.clone())
        .map_err(|e| AppError::Internal(format!("bad escalation timer payload: {e}")))?;
    let actor = tocsin_domain::Actor::system("escalation");
    for _ in 0..RETRIES {
        let mut a = match app.store.get_alert(p.alert).await {
            Ok(a) => a,
            Err(StoreError::NotFound) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let desk = app.store.get_desk(a.desk_id).await?;
        let before = a.version;
        let Some((index, _)) = desk.escalation.next_step(p.step.saturating_sub(1)) else {
            return Ok(());
        };
        let entry = match a.fire_step(p.step, now) {
            Ok(e) => e,
            Err(_) => return Ok(()),
        };
        let target = &desk.escalation.steps()[index].notify;
        let people = recipients(app, target, now).await?;
        let why = format!("escalation:{}", p.step);
        let mut steps = vec![
            Step::ChangeAlert {
                alert: Box::new(a.clone()),
                expected_version: before,
                entry,
            },
            Step::CancelTimer(escalation_key(a.id)),
        ];
        if let Some(t) = next_timer(&a, &desk) {
            steps.push(Step::ScheduleTimer(t));
        }
        steps.extend(notify::notifications_for(app, &a, &people, &why, now).await?);
        let op = Op::All {
            steps,
            audit: Box::new(
                audit(&actor, "alert.notify", &a).with_detail(serde_json::json!({
                    "desk": a.desk_id, "step": p.step, "target": target.to_string(),
                    "recipients": people.len(),
                })),
            ),
        };
        match app.store.write(&actor, op).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict(
        "the alert kept changing while its escalation fired".into(),
    ))
}

/// Which alerts to list, as the API's query gives them.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct AlertQuery {
    /// `open`, `acknowledged`, `action_decided` or `closed`.
    pub status: Option<String>,
    /// `low`, `moderate`, `high` or `critical`.
    pub severity: Option<String>,
    /// Desk id.
    pub desk: Option<Uuid>,
    /// Situation id.
    pub situation: Option<Uuid>,
}

/// What a desk officer does to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Take it.
    Acknowledge,
    /// Notify the next step of the policy now.
    Escalate,
    /// Record that the desk has decided what to do.
    Decide,
    /// Close with a reason.
    Close(Option<CloseReason>),
}

impl Move {
    fn action(self) -> &'static str {
        match self {
            Move::Acknowledge => "alert.acknowledge",
            Move::Escalate => "alert.escalate",
            Move::Decide => "alert.decide",
            Move::Close(_) => "alert.close",
        }
    }
}

impl App<'_> {
    /// One alert within the reader's clearance, with its timeline.
    pub async fn alert(&self, u: &User, id: Uuid) -> Result<AlertView> {
        require(u, Permission::AlertRead)?;
        let alert = self.store.get_alert(id).await?;
        visible(u, alert.tlp)?;
        let timeline = self.store.alert_timeline(id).await?;
        reads::one(self.store, u, "alert", alert.id, alert.tlp).await?;
        Ok(AlertView { alert, timeline })
    }

    /// Alerts within the reader's clearance, newest first. Bad filter values are refused
    /// naming the parameter. A page holding TLP:AMBER+STRICT or RED alerts is audited.
    pub async fn alerts(&self, u: &User, q: &AlertQuery, page: PageRequest) -> Result<Page<Alert>> {
        let p = self.alerts_unaudited(u, q, page).await?;
        reads::list(
            self.store,
            u,
            "alert",
            p.items.iter().map(|a| (a.id, a.tlp)),
        )
        .await?;
        Ok(p)
    }

    /// As [`App::alerts`] without the audit entry, for use cases that read several pages and
    /// audit only what they finally show (the situation dashboard).
    pub(crate) async fn alerts_unaudited(
        &self,
        u: &User,
        q: &AlertQuery,
        page: PageRequest,
    ) -> Result<Page<Alert>> {
        let f = alert_filter(u, q)?;
        Ok(self.store.list_alerts(&f, page).await?)
    }

    /// How many alerts [`App::alerts`] would list over all its pages (within the user's
    /// clearance: no alert above it is counted).
    pub async fn count_alerts(&self, u: &User, q: &AlertQuery) -> Result<u64> {
        let f = alert_filter(u, q)?;
        Ok(self.store.count_alerts(&f).await?)
    }

    /// Raise an alert by hand (analysts). It goes to the named desk, else the desk answering
    /// for its situation, else its country; its deadline is the configured one for its
    /// severity. The desk is notified and the escalation timer set in the same write.
    pub async fn raise_alert(&self, u: &User, r: RaiseAlert, now: DateTime<Utc>) -> Result<Alert> {
        require(u, Permission::AlertRaise)?;
        let severity = Severity::parse(r.severity.trim())?;
        let tlp = match &r.tlp {
            Some(t) => t.parse::<Tlp>()?,
            None => Tlp::Amber,
        };
        may_label(u, tlp)?;
        let country = r
            .country
            .as_deref()
            .map(|c| Country::parse(c).map_err(|e| AppError::invalid("country", e.to_string())))
            .transpose()?;
        if let Some(s) = r.situation {
            match self.store.get_situation(s).await {
                Ok(sit) if u.may_see(sit.tlp) => {}
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(AppError::invalid(
                        "situation",
                        format!("{s} is not a situation"),
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        for e in &r.evidence {
            self.check_evidence(u, e, tlp).await?;
        }
        let desk = route(self, r.desk, r.situation, country.as_ref())
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "desk",
                    "no desk answers for this situation or country: name a desk",
                )
            })?;
        let (mut a, entry) = Alert::open(
            &r.title,
            severity,
            tlp,
            desk.id,
            AlertOrigin::ByHand(u.username.clone()),
            r.evidence,
            self.alerting.ack.for_severity(severity),
            now,
            &u.username,
        )?;
        a.situation_id = r.situation;
        a.country = country;
        let steps = opening_steps(self, &a, entry, &desk, now).await?;
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps,
                    audit: Box::new(audit(&u.actor(), "alert.raise", &a)),
                },
            )
            .await?;
        Ok(a)
    }

    /// Evidence must exist, be visible to the user and be labelled at most the alert.
    async fn check_evidence(&self, u: &User, e: &AlertEvidence, tlp: Tlp) -> Result<()> {
        let label = match e {
            AlertEvidence::Incident(id) => self.store.get_incident(*id).await.map(|i| Some(i.tlp)),
            AlertEvidence::Report(id) => self.store.get_report(*id).await.map(|r| Some(r.tlp)),
            AlertEvidence::Assessment(id) => {
                self.store.get_assessment(*id).await.map(|a| Some(a.tlp))
            }
            AlertEvidence::Forecast(id) => self.store.get_forecast_run(*id).await.map(|_| None),
            AlertEvidence::Signal(_) => Ok(None),
        };
        match label {
            Ok(Some(l)) if u.may_see(l) && l <= tlp => Ok(()),
            Ok(Some(l)) if u.may_see(l) => Err(AppError::invalid(
                "evidence",
                format!("a record labelled {l} is above the alert's label {tlp}"),
            )),
            Ok(None) => Ok(()),
            Ok(Some(_)) | Err(StoreError::NotFound) => Err(AppError::invalid(
                "evidence",
                "names a record that does not exist",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// A desk officer's move on an alert of their own desk: acknowledge (stops escalation),
    /// escalate by hand (notifies the next step now), decide action, close with a reason
    /// (stops escalation). A workflow refusal is `Conflict`; a concurrent change is read and
    /// decided again.
    pub async fn move_alert(
        &self,
        u: &User,
        id: Uuid,
        m: Move,
        now: DateTime<Utc>,
    ) -> Result<AlertView> {
        require(u, Permission::AlertRespond)?;
        for _ in 0..RETRIES {
            let mut a = self.store.get_alert(id).await?;
            visible(u, a.tlp)?;
            let desk = self.store.get_desk(a.desk_id).await?;
            if !desk.members.iter().any(|m| m == &u.username) {
                return Err(AppError::refused(format!(
                    "only members of the desk {:?} act on this alert",
                    desk.name
                )));
            }
            let before = a.version;
            let key = escalation_key(a.id);
            let mut steps = Vec::new();
            let entry = match m {
                Move::Acknowledge => a.acknowledge(&u.username, now),
                Move::Decide => a.decide_action(&u.username, now),
                Move::Close(reason) => a.close(reason, &u.username, now),
                Move::Escalate => {
                    if desk.escalation.next_step(a.escalation_step).is_none()
                        && a.status == AlertStatus::Open
                    {
                        return Err(AppError::Conflict(
                            "cannot escalate: the desk's policy has no further step".into(),
                        ));
                    }
                    a.escalate(&u.username, now)
                }
            }
            .map_err(transition)?;
            steps.push(Step::ChangeAlert {
                alert: Box::new(a.clone()),
                expected_version: before,
                entry,
            });
            match m {
                Move::Acknowledge | Move::Close(_) => steps.push(Step::CancelTimer(key)),
                Move::Escalate => {
                    let (index, _) = desk
                        .escalation
                        .next_step(a.escalation_step - 1)
                        .expect("checked above");
                    let target = &desk.escalation.steps()[index].notify;
                    let people = recipients(self, target, now).await?;
                    steps.push(Step::CancelTimer(key));
                    if let Some(t) = next_timer(&a, &desk) {
                        steps.push(Step::ScheduleTimer(t));
                    }
                    let why = format!("escalation:{}", a.escalation_step);
                    steps.extend(notify::notifications_for(self, &a, &people, &why, now).await?);
                }
                Move::Decide => {}
            }
            let op = Op::All {
                steps,
                audit: Box::new(audit(&u.actor(), m.action(), &a)),
            };
            match self.store.write(&u.actor(), op).await {
                Ok(_) => {
                    let timeline = self.store.alert_timeline(id).await?;
                    return Ok(AlertView { alert: a, timeline });
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict(
            "the alert kept changing; read it again".into(),
        ))
    }
}

/// The store's filter for a user's alert query: their clearance caps the label.
fn alert_filter(u: &User, q: &AlertQuery) -> Result<AlertFilter> {
    require(u, Permission::AlertRead)?;
    Ok(AlertFilter {
        status: q
            .status
            .as_deref()
            .map(|s| AlertStatus::parse(s.trim()))
            .transpose()
            .map_err(|e| AppError::bad_field("status", e.to_string()))?,
        severity: q
            .severity
            .as_deref()
            .map(|s| Severity::parse(s.trim()))
            .transpose()
            .map_err(|e| AppError::bad_field("severity", e.to_string()))?,
        desk: q.desk,
        situation: q.situation,
        max_tlp: u.clearance,
    })
}
