//! The storage trait every Tocsin backend implements.
//!
//! Reads are plain methods. Every write is one [`Op`], applied by [`Store::write`] in a
//! transaction together with its audit entry (see [`audit_for`]), and acknowledged only after
//! that transaction commits. Typed helpers for each write live in [`StoreExt`]. Backends:
//! `tocsin-store-sqlite` (embedded default) and `tocsin-store-postgres`. The conformance
//! story that both must pass lives in `tocsin-store-tests`.

use async_trait::async_trait;
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use tocsin_domain::{
    Actor, ApiToken, Assessment, AssessmentChange, AuditEntry, AuditEvent, Channel, Country,
    DomainError, ForecastPoint, ForecastRun, FormClaim, Incident, IncidentFilter, IncidentPatch,
    LegalQualification, NewReport, NewSource, OutboundMessage, Page, PageRequest, Permission,
    Report, ReportFilter, SealedContact, SignalRecord, Situation, Source, Tagged, Tlp, User,
};
use tocsin_domain::{InboxItem, UserContacts};
use uuid::Uuid;

pub mod actions;
pub mod alerting;
pub mod evidence_files;
pub mod jobs;
pub mod matching;
pub mod trend;
pub mod triage;
pub mod verification;
pub use actions::{ActionFilter, ActionReminder, ActionStep, Actions};
pub use alerting::{AlertFilter, Alerting};
pub use evidence_files::{audits_for, Blob, BlobRole, EvidenceFiles, EvidenceStep};
pub use jobs::{ChannelCount, ChannelCounters, JobRecord, Jobs, NewTimer, Timer};
pub use trend::{DayGroup, DaysQuery};
pub use triage::{Triage, MAX_TRIAGE_CANDIDATES};
pub mod rumours;
pub mod subscribers;
pub use matching::{IncidentNear, Matching, NearReport, ReportNear, StoredSuggestions};
pub use rumours::{
    RumourFilter, RumourReminder, RumourStep, Rumours, SightingSummary, StoredSighting,
};
pub use subscribers::{AreaCount, PlaceOffer, SubscriberRow, SubscriberStep, Subscribers};
pub use verification::{Verification, VerificationStep};
pub mod broadcasts;
pub use broadcasts::{BroadcastRecipient, BroadcastStep, Broadcasts, RecipientOutcome};
pub mod monitor;
pub use monitor::{ItemFilter, ItemWrite, Monitor};
pub mod share;
pub use share::{ShareStep, Sharing, MAX_RECEIVED_LOOKUP};
pub mod speech;
pub use speech::{
    Figures, FlagFilter, LexiconEvaluation, LexiconRecord, Speech, SpeechStep, TermAction,
    TermChange, TermEdit,
};

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (e.g. a username or handle already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The domain refused the change.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The database failed.
    #[error("database error: {0}")]
    Backend(String),
}

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A browser session. Only a hash of the cookie value is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSession {
    /// SHA-256 (hex) of the session cookie.
    pub id_hash: String,
    /// Whose session.
    pub user_id: Uuid,
    /// The token forms must echo back.
    pub csrf_token: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
}

/// One write. Each is applied atomically with its audit entry.
#[derive(Debug, Clone)]
pub enum Op {
    /// Store a report (immutable from then on).
    CreateReport(NewReport),
    /// Store an incident.
    CreateIncident(Box<Incident>),
    /// Insert or update imported incidents by `(dataset, external_id)`, which every one must
    /// carry. On update the dataset's fields are replaced and the version grows; Tocsin's own
    /// fields (id, verification status, TLP, situation, linked reports) are kept.
    ImportIncidents {
        /// Dataset name, e.g. `ucdp-ged`.
        dataset: String,
        /// The rows, at most [`MAX_IMPORT_BATCH`].
        incidents: Vec<Incident>,
    },
    /// Change an incident: read, apply the patch in the domain, write, in one transaction.
    UpdateIncident(Uuid, Box<IncidentPatch>),
    /// Store a source.
    CreateSource(Box<NewSource>),
    /// Store a situation.
    CreateSituation(Box<Situation>),
    /// Replace a stored situation's name, areas, status and description (its id, country,
    /// label and creation time stay); `NotFound` when there is none.
    UpdateSituation(Box<Situation>),
    /// Store a user.
    CreateUser(Box<User>),
    /// Store an API token.
    CreateToken(ApiToken),
    /// Store a browser session.
    CreateSession(WebSession),
    /// Remove a browser session (logout).
    DeleteSession(String),
    /// Append an audit entry and nothing else (logins, reads of source identity).
    Audit(AuditEvent),
    /// Set a metadata key (e.g. `demo_seeded`).
    SetMeta(String, String),
    /// Primitive writes composed by the application layer, applied in order, all or nothing,
    /// with the one audit entry `audit` (the steps record none of their own). A step's guard
    /// that fails ([`StoreError::Conflict`], [`StoreError::NotFound`]) undoes the whole op.
    All {
        /// The writes.
        steps: Vec<Step>,
        /// The audit entry of the whole.
        audit: Box<AuditEvent>,
    },
    /// Queue an outbound message (an analyst's follow-up question).
    EnqueueSms(Box<OutboundMessage>),
    /// Claim up to `limit` due messages (of one gateway, or of every push gateway when
    /// `None`): they become `sending` until `lease_secs` pass.
    ClaimOutbound {
        /// Only this gateway.
        gateway: Option<String>,
        /// At most this many.
        limit: u32,
        /// How long the claim holds.
        lease_secs: i64,
    },
    /// Record what a gateway did with a claimed message.
    SettleOutbound {
        /// The message.
        id: Uuid,
        /// What happened.
        outcome: SendOutcome,
    },
    /// Grant or take back a grantable permission (checked by the domain).
    GrantPermission {
        /// The user.
        user_id: Uuid,
        /// The permission.
        permission: Permission,
        /// Grant (true) or take back.
        on: bool,
    },
    /// Store a new (draft) assessment.
    CreateAssessment(Box<Assessment>),
    /// Change an assessment: read, apply in the domain (workflow rules), write, in one
    /// transaction. A published assessment is never changed.
    ChangeAssessment {
        /// The assessment.
        id: Uuid,
        /// The change.
        change: Box<AssessmentChange>,
    },
    /// Store a legal qualification (built by the domain, which checks the author's grant).
    CreateLegalQualification(Box<LegalQualification>),
    /// Replace the tags of an incident or report (tags already normalised).
    SetTags {
        /// Which kind of record.
        kind: Tagged,
        /// Its id.
        id: Uuid,
        /// The new tags.
        tags: Vec<String>,
    },
    /// Store a forecast run and its scores.
    StoreForecastRun(Box<ForecastRun>),
    /// Record escalation signals; one already recorded for the same area, metric, week and
    /// label ([`SignalRecord::tlp`]) is skipped. Returns [`Done::Count`] of new ones.
    RecordSignals(Vec<SignalRecord>),
    /// A delivery report from a gateway, by its message id.
    DeliveryReport {
        /// The gateway.
        gateway: String,
        /// Keyed hash of the gateway's id for the message (as [`SendOutcome::Sent`] stored it).
        provider_key: String,
        /// Our own id for the message, when the report carries it (Kannel's dlr-url does, and
        /// may call before the send is recorded).
        message_id: Option<Uuid>,
        /// Delivered (true) or failed for good (false).
        delivered: bool,
    },
    /// Revoke an API token by id: it never works again.
    RevokeToken(Uuid),
    /// Keep reports' suggested matches (replacing what was kept for them); a report that no
    /// longer exists is skipped. Derived data: audits nothing.
    StoreSuggestions(Vec<StoredSuggestions>),
    /// Store monitored items with their flags, each unless its origin already has an item
    /// with its key (then it and its flags are skipped), and, when given, a feed's poll state
    /// (its `items` count set by the store). Returns [`Done::Items`]. Audited
    /// (`monitor.store`) only when it carries items.
    StoreItems {
        /// The items.
        items: Vec<ItemWrite>,
        /// The feed's poll state to keep.
        feed: Option<Box<tocsin_domain::FeedState>>,
    },
}

/// One primitive write inside [`Op::All`]. A step decides nothing: it stores what it is given,
/// and its guard (a unique index or a condition on the row) answers
/// [`StoreError::Conflict`] or [`StoreError::NotFound`] when the world changed since the
/// application layer read it, so that the caller reads again and decides again.
#[derive(Debug, Clone)]
pub enum Step {
    /// Store a source, with the keyed hash of its phone number when it is an SMS sender.
    /// Conflict when another source already has that hash (or that handle).
    CreateSource {
        /// The source and its sealed contact.
        source: Box<NewSource>,
        /// Keyed hash of its number.
        phone_hash: Option<String>,
    },
    /// Store a report. Conflict when its channel and provider key are taken, or, with
    /// `unless_text_since`, when its source stored the same text at or after that time.
    CreateReport {
        /// The report.
        report: Box<NewReport>,
        /// The start of the window the same text from the same source must not be in.
        unless_text_since: Option<DateTime<Utc>>,
    },
    /// Store a one-time form code.
    CreateFormClaim(FormClaim),
    /// Remove the form codes that expired before this time.
    PurgeFormClaims(DateTime<Utc>),
    /// Mark the form code `code_hash` as claimed by `source_id` and link its report to that
    /// source. Conflict when the code is gone or was claimed meanwhile.
    ClaimFormCode {
        /// Keyed hash of the code.
        code_hash: String,
        /// The code's web report.
        report_id: Uuid,
        /// The sender's source.
        source_id: Uuid,
    },
    /// Queue a delivery. Conflict when its idempotency key is taken.
    Enqueue(Box<OutboundMessage>),
    /// Disable (true) or enable a user. Not found when there is no such user.
    SetUserDisabled {
        /// The user.
        user_id: Uuid,
        /// Disabled or not.
        disabled: bool,
    },
    /// Set (or clear) the time zone a user reads times in. Not found when there is no such
    /// user.
    SetUserTimeZone {
        /// The user.
        user_id: Uuid,
        /// An IANA zone name, checked by the caller; `None`: UTC.
        time_zone: Option<String>,
    },
    /// Set (or clear) the language a user reads the web pages in. Not found when there is no
    /// such user.
    SetUserLanguage {
        /// The user.
        user_id: Uuid,
        /// The language; `None`: the browser's.
        language: Option<tocsin_domain::Lang>,
    },
    /// Replace a user's password hash. Not found when there is no such user.
    SetPasswordHash {
        /// The user.
        user_id: Uuid,
        /// The new Argon2id hash.
        password_hash: Redacted,
    },
    /// End every browser session of a user.
    EndSessions(Uuid),
    /// Queue a delivery unless one with its idempotency key is already queued (then nothing
    /// happens): what notifications use, so that notifying twice sends once.
    EnqueueOnce(Box<OutboundMessage>),
    /// Replace a user's contact details and channel preferences. Not found when there is no
    /// such user.
    SetUserContacts(Box<UserContacts>),
    /// Put an item in a user's inbox, unless one with its idempotency key is there already
    /// (then nothing happens).
    AddInboxItem(Box<InboxItem>),
    /// Mark an item of `user_id`'s inbox read at `at` (one already read keeps its time). Not
    /// found when that user has no such item.
    MarkInboxRead {
        /// Whose inbox.
        user_id: Uuid,
        /// The item.
        id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// A write of actions ([`ActionStep`]).
    Action(ActionStep),
    /// Store a desk. Conflict when its name is taken.
    CreateDesk(Box<tocsin_domain::Desk>),
    /// Replace a desk (same id). Not found when there is no such desk; conflict when its new
    /// name is taken.
    UpdateDesk(Box<tocsin_domain::Desk>),
    /// Store an alert rule (version 1). Conflict when its name is taken.
    CreateRule(Box<tocsin_domain::AlertRule>),
    /// Replace an alert rule whose stored version is still `expected_version` (the rule
    /// carries the new version). Conflict when it moved on; not found when it is gone.
    UpdateRule {
        /// The rule as it is to be stored.
        rule: Box<tocsin_domain::AlertRule>,
        /// The version the caller read.
        expected_version: i64,
    },
    /// Store a new alert with its `opened` timeline entry. Conflict when its rule already has
    /// an alert that is not closed.
    CreateAlert {
        /// The alert.
        alert: Box<tocsin_domain::Alert>,
        /// Its first timeline entry.
        entry: tocsin_domain::TimelineEntry,
    },
    /// Replace an alert whose stored version is still `expected_version`, appending `entry`
    /// to its timeline. Conflict when it moved on; not found when it is gone.
    ChangeAlert {
        /// The alert as it is to be stored.
        alert: Box<tocsin_domain::Alert>,
        /// The version the caller read.
        expected_version: i64,
        /// The timeline entry of the change.
        entry: tocsin_domain::TimelineEntry,
    },
    /// Persist a job-runner timer (as [`Jobs::schedule_timer`], in the op's transaction): a
    /// key already pending keeps its pending timer.
    ScheduleTimer(NewTimer),
    /// Cancel the pending timers with this key (as [`Jobs::cancel_timer`], in the op's
    /// transaction), the one now firing included.
    CancelTimer(String),
    /// Record a triage decision on a report. Not found when the report does not exist;
    /// Conflict when the decision closes the report (duplicate, rejected) and one already did.
    Triage(Box<tocsin_domain::TriageDecision>),
    /// A write of rumours ([`RumourStep`]).
    Rumour(RumourStep),
    /// A write of evidence files ([`EvidenceStep`]).
    Evidence(EvidenceStep),
    /// A write of the verification desk ([`VerificationStep`]).
    Verification(VerificationStep),
    /// A write of community-alert subscribers ([`SubscriberStep`]).
    Subscriber(SubscriberStep),
    /// A write of broadcasts ([`BroadcastStep`]).
    Broadcast(BroadcastStep),
    /// A write of dangerous-speech lexicons ([`SpeechStep`]).
    Speech(SpeechStep),
    /// Add to the counters of inbound channel `name` (as [`Jobs::count_channel`], in the op's
    /// transaction): a message and its count land together or not at all.
    CountChannel {
        /// The channel, e.g. `kannel`, `telegram`, `email`.
        name: String,
        /// What to add.
        count: ChannelCount,
    },
    /// A write of received records ([`ShareStep`]).
    Share(ShareStep),
}

/// A form code as stored ([`Reports::get_form_claim`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFormClaim {
    /// The code's claim.
    pub claim: FormClaim,
    /// The source that claimed it, once one has.
    pub claimed_source: Option<Uuid>,
}

/// A secret value whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a gateway did with a message.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    /// Accepted, with a keyed hash of the gateway's id for it when it gave one.
    Sent(Option<String>),
    /// A passing failure: retry after back-off.
    Retry(String),
    /// A passing failure whose gateway said when to try again (Telegram's 429 with
    /// `retry_after`): retry after that many seconds, not sooner.
    RetryAfter(String, u64),
    /// A lasting failure: give up.
    Failed(String),
}

/// Gateways whose messages are fetched by the gateway itself (SMSSync polls).
pub const POLLED_GATEWAYS: &[&str] = &["smssync"];

/// Channels Tocsin pushes messages to (the outbox worker claims these): SMS gateways, e-mail,
/// webhooks, and replies through the messaging apps (Telegram, WhatsApp).
pub const PUSH_GATEWAYS: &[&str] = &[
    "kannel",
    "twilio",
    "africastalking",
    "smtp",
    "webhook",
    "telegram",
    "whatsapp",
];

/// What a write produced.
#[derive(Debug, Clone)]
pub enum Done {
    /// A stored report.
    Report(Box<Report>),
    /// A stored or updated incident.
    Incident(Box<Incident>),
    /// A stored source.
    Source(Box<Source>),
    /// A stored situation.
    Situation(Box<Situation>),
    /// A stored user.
    User(Box<User>),
    /// Claimed outbound messages.
    Outbound(Vec<OutboundMessage>),
    /// How an import batch went.
    Imported {
        /// New incidents.
        inserted: u64,
        /// Incidents that existed and were updated.
        updated: u64,
    },
    /// A stored or changed assessment.
    Assessment(Box<Assessment>),
    /// A stored legal qualification.
    LegalQualification(Box<LegalQualification>),
    /// How many records were written.
    Count(u64),
    /// Monitored items written ([`Op::StoreItems`]).
    Items {
        /// New items.
        stored: u64,
        /// Of those, items stored with at least one flag.
        flagged: u64,
    },
    /// Nothing to return.
    Unit,
}

/// The most incidents one [`Op::ImportIncidents`] may carry.
pub const MAX_IMPORT_BATCH: usize = 10_000;

/// One message of a streamed import ([`Incidents::import_stream`]).
#[derive(Debug)]
pub enum ImportChunk {
    /// More rows of one dataset, at most [`MAX_IMPORT_BATCH`], each carrying that dataset; a
    /// repeated external id updates the incident its earlier copy created (the last copy wins).
    Rows {
        /// Dataset name, e.g. `acled`.
        dataset: String,
        /// The rows.
        incidents: Vec<Incident>,
    },
    /// Every row has been sent: commit. A stream that closes without it changes nothing.
    End,
}

/// The audit event of a streamed import: one entry for the whole import, saying what landed.
pub fn import_audit(
    actor: &Actor,
    datasets: &std::collections::BTreeSet<String>,
    inserted: u64,
    updated: u64,
) -> AuditEvent {
    AuditEvent::new(actor, "incident.import", "incident", None).with_detail(serde_json::json!({
        "datasets": datasets,
        "rows": inserted + updated,
        "inserted": inserted,
        "updated": updated,
    }))
}

/// Incidents sent per message by [`Incidents::scan_incidents`].
pub const SCAN_CHUNK: usize = 1_000;

/// Keep only the last row of each repeated external id (a file may list an event twice).
pub fn dedupe_import(incidents: &mut Vec<Incident>) {
    let mut last = foldhash::HashMap::with_capacity_and_hasher(incidents.len(), Default::default());
    for (n, i) in incidents.iter().enumerate() {
        last.insert(i.external_id.as_deref(), n);
    }
    if last.len() == incidents.len() {
        return;
    }
    let keep: Vec<bool> = incidents
        .iter()
        .enumerate()
        .map(|(n, i)| last.get(&i.external_id.as_deref()) == Some(&n))
        .collect();
    drop(last);
    let mut keep = keep.into_iter();
    incidents.retain(|_| keep.next().unwrap_or(false));
}

/// Check an import batch: at most [`MAX_IMPORT_BATCH`] rows, each carrying the batch's
/// dataset and an external id, no id twice.
pub fn check_import(dataset: &str, incidents: &[Incident]) -> Result<()> {
    if incidents.len() > MAX_IMPORT_BATCH {
        return Err(DomainError::invalid(
            "incidents",
            format!("at most {MAX_IMPORT_BATCH} per batch"),
        )
        .into());
    }
    let mut seen = foldhash::HashSet::with_capacity_and_hasher(incidents.len(), Default::default());
    for i in incidents {
        if i.dataset.as_deref() != Some(dataset) || i.external_id.is_none() {
            return Err(DomainError::invalid(
                "external_id",
                "every imported incident needs the batch's dataset and an external id",
            )
            .into());
        }
        if !seen.insert(i.external_id.as_deref()) {
            return Err(DomainError::invalid(
                "external_id",
                "an external id repeats within the batch",
            )
            .into());
        }
    }
    Ok(())
}

/// The audit event a write appends, if any. Shared by every backend so they record alike.
pub fn audit_for(actor: &Actor, op: &Op) -> Option<AuditEvent> {
    let ev = |action: &str, rt: &str, id: String| AuditEvent::new(actor, action, rt, Some(id));
    Some(match op {
        Op::CreateReport(r) => ev("report.create", "report", r.id.to_string())
            .with_detail(serde_json::json!({"channel": r.channel.as_str(), "tlp": r.tlp.as_str()})),
        Op::ImportIncidents { dataset, incidents } => {
            AuditEvent::new(actor, "incident.import", "incident", None)
                .with_detail(serde_json::json!({"dataset": dataset, "rows": incidents.len()}))
        }
        Op::CreateIncident(i) => ev("incident.create", "incident", i.id.to_string())
            .with_detail(serde_json::json!({"tlp": i.tlp.as_str()})),
        Op::UpdateIncident(id, p) => {
            let fields: Vec<String> = match serde_json::to_value(p) {
                Ok(serde_json::Value::Object(m)) => m
                    .into_iter()
                    .filter(|(k, v)| !v.is_null() && k != "expected_version")
                    .map(|(k, _)| k)
                    .collect(),
                _ => vec![],
            };
            ev("incident.update", "incident", id.to_string())
                .with_detail(serde_json::json!({ "fields": fields }))
        }
        Op::CreateSource(s) => ev("source.create", "source", s.source.id.to_string())
            .with_detail(serde_json::json!({"handle": s.source.handle})),
        Op::CreateSituation(s) => ev("situation.create", "situation", s.id.to_string()),
        Op::UpdateSituation(s) => ev("situation.update", "situation", s.id.to_string())
            .with_detail(serde_json::json!({"admin1": s.admin1, "status": s.status})),
        Op::CreateUser(u) => ev("user.create", "user", u.id.to_string())
            .with_detail(serde_json::json!({"username": u.username, "role": u.role.as_str()})),
        Op::CreateToken(t) => ev("token.create", "user", t.user_id.to_string()).with_detail(
            serde_json::json!({"token_id": t.id.to_string(), "name": t.name,
                "expires_at": t.expires_at.map(|e| tocsin_domain::time::format(&e))}),
        ),
        Op::Audit(e) => e.clone(),
        Op::All { audit, .. } => (**audit).clone(),
        Op::EnqueueSms(m) => {
            // The recipient: a source or user by id; an outside address only by the delivery.
            let (kind, id) = match (m.source_id, m.user_id) {
                (Some(s), _) => ("source", s),
                (None, Some(u)) => ("user", u),
                (None, None) => ("outbox", m.id),
            };
            ev("sms.enqueue", kind, id.to_string()).with_detail(serde_json::json!({
                "message_id": m.id.to_string(), "gateway": m.gateway, "tlp": m.tlp.as_str()}))
        }
        Op::GrantPermission {
            user_id,
            permission,
            on,
        } => ev(
            if *on {
                "user.grant"
            } else {
                "user.revoke_grant"
            },
            "user",
            user_id.to_string(),
        )
        .with_detail(serde_json::json!({"permission": permission.as_str()})),
        Op::CreateAssessment(a) => ev("assessment.create", "assessment", a.id.to_string())
            .with_detail(
                serde_json::json!({"situation_id": a.situation_id.to_string(),
                "framework": a.framework, "tlp": a.tlp.as_str()}),
            ),
        Op::ChangeAssessment { id, change } => {
            let detail = match &**change {
                AssessmentChange::Edit(e) => serde_json::json!({
                    "factors": e.factors.iter().map(|f| f.factor).collect::<Vec<_>>(),
                    "observations": e.observations.iter().map(|o| &o.indicator).collect::<Vec<_>>(),
                }),
                AssessmentChange::Transition { to, note, .. } => {
                    serde_json::json!({"to": to.as_str(), "note": note})
                }
                AssessmentChange::Decide {
                    indicator,
                    evidence,
                    ..
                } => serde_json::json!({"indicator": indicator, "evidence": evidence.reference}),
                AssessmentChange::DecideMany { decisions, .. } => {
                    let mut per: std::collections::BTreeMap<&str, u64> = Default::default();
                    for (i, _) in decisions {
                        *per.entry(i.as_str()).or_default() += 1;
                    }
                    serde_json::json!({"count": decisions.len(), "indicators": per})
                }
            };
            ev(
                &format!("assessment.{}", change.action()),
                "assessment",
                id.to_string(),
            )
            .with_detail(detail)
        }
        Op::CreateLegalQualification(q) => ev(
            "legal_qualification.create",
            "situation",
            q.situation_id.to_string(),
        )
        .with_detail(serde_json::json!({"id": q.id.to_string(),
                    "crime": q.crime, "finding": q.finding})),
        Op::SetTags { kind, id, tags } => ev("tags.set", kind.as_str(), id.to_string())
            .with_detail(serde_json::json!({"tags": tags})),
        Op::StoreForecastRun(r) => ev("forecast.store", "forecast_run", r.id.to_string())
            .with_detail(
                serde_json::json!({"year": r.year, "model": r.model, "countries": r.countries}),
            ),
        Op::RecordSignals(v) => AuditEvent::new(actor, "signals.record", "signal", None)
            .with_detail(serde_json::json!({"offered": v.len(),
                "tlp": v.first().map(|s| s.tlp.as_str())})),
        Op::RevokeToken(id) => ev("token.revoke", "token", id.to_string()),
        Op::CreateSession(_)
        | Op::DeleteSession(_)
        | Op::SetMeta(..)
        | Op::ClaimOutbound { .. }
        | Op::SettleOutbound { .. }
        | Op::DeliveryReport { .. }
        | Op::StoreSuggestions(_) => return None,
        Op::StoreItems { items, .. } => {
            let first = items.first()?;
            AuditEvent::new(actor, "monitor.store", "monitored_item", None).with_detail(
                serde_json::json!({"origin": first.item.origin, "kind": first.item.kind.as_str(),
                    "offered": items.len()}),
            )
        }
    })
}

/// The stored form of a new report, once its source's handle (if it names a source) is known.
/// Shared by every backend so they answer a report creation alike.
pub fn stored_report(r: &NewReport, source_handle: Option<String>) -> Report {
    Report {
        id: r.id,
        channel: r.channel,
        source: source_handle,
        text: r.text.clone(),
        tlp: r.tlp,
        latitude: r.latitude,
        longitude: r.longitude,
        country: r.country.clone(),
        occurred_at: r.occurred_at,
        received_at: r.received_at,
        meta: r.meta.clone(),
        credibility: 6,
        reliability: tocsin_domain::Reliability::F,
        grading: "F6".into(),
    }
}

/// Reports and their sources (a source's contact details stay sealed).
#[async_trait]
pub trait Reports: Send + Sync {
    /// One report.
    async fn get_report(&self, id: Uuid) -> Result<Report>;
    /// Reports, newest first.
    async fn list_reports(&self, f: &ReportFilter, page: PageRequest) -> Result<Page<Report>>;
    /// One source (no contact details).
    async fn get_source(&self, id: Uuid) -> Result<Source>;
    /// A source by its public handle.
    async fn get_source_by_handle(&self, handle: &str) -> Result<Source>;
    /// Sources up to `max_tlp`, newest first.
    async fn list_sources(&self, max_tlp: Tlp, page: PageRequest) -> Result<Page<Source>>;
    /// A source's sealed contact details. Callers must audit the read ([`StoreExt::read_source_contact`]).
    async fn get_source_contact(&self, id: Uuid) -> Result<Option<SealedContact>>;
    /// The source whose number has this keyed hash, if any.
    async fn source_by_phone(&self, phone_hash: &str) -> Result<Option<Source>>;
    /// The report stored with this channel and provider key, if any.
    async fn report_by_provider_key(
        &self,
        channel: Channel,
        provider_key: &str,
    ) -> Result<Option<Report>>;
    /// A report of `source_id` with exactly `text`, received at or after `since`, if any.
    async fn report_by_text_since(
        &self,
        source_id: Uuid,
        text: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Report>>;
    /// The form code with this keyed hash, claimed or not, expired or not, if any.
    async fn get_form_claim(&self, code_hash: &str) -> Result<Option<StoredFormClaim>>;
}

/// Incidents: one, by ids, lists, streamed scans and imports, and the points the incident index loads.
#[async_trait]
pub trait Incidents: Send + Sync {
    /// One incident.
    async fn get_incident(&self, id: Uuid) -> Result<Incident>;
    /// The incidents among `ids` that exist, in no particular order (at most
    /// [`MAX_PAGE_SIZE`](tocsin_domain::page::MAX_PAGE_SIZE) ids per call are needed by lists,
    /// but any number is accepted). Lists served from an in-memory index fetch their rows here.
    async fn get_incidents(&self, ids: &[Uuid]) -> Result<Vec<Incident>>;
    /// Incidents, newest first. The reference query: the server answers lists from its
    /// in-memory index and [`Incidents::get_incidents`], and the SQLite store keeps no index for
    /// this (a scan of the table).
    async fn list_incidents(&self, f: &IncidentFilter, page: PageRequest)
        -> Result<Page<Incident>>;
    /// Every incident matching `f` (capped at its `max_tlp`), in storage order, read in one
    /// snapshot and sent on `out` in chunks of at most [`SCAN_CHUNK`]; returns how many were
    /// sent. Stops early, without error, when the receiver goes away. Exports read through this.
    async fn scan_incidents(
        &self,
        f: &IncidentFilter,
        out: tokio::sync::mpsc::Sender<Vec<Incident>>,
    ) -> Result<u64>;
    /// Import incidents as they arrive on `rows`, all in one transaction with one audit entry
    /// ([`import_audit`]): when `rows` closes without [`ImportChunk::End`], or anything fails,
    /// nothing changes. Upserts as [`Op::ImportIncidents`] does. Returns (inserted, updated).
    async fn import_stream(
        &self,
        actor: &Actor,
        rows: tokio::sync::mpsc::Receiver<ImportChunk>,
    ) -> Result<(u64, u64)>;
    /// Map points of incidents changed after `(since, after_id)` in `(updated_at, id)` order,
    /// at most `limit`: the incident index loads and refreshes through this.
    async fn map_points(
        &self,
        since: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<tocsin_domain::MapPoint>>;
    /// Incidents matching `q` grouped by event day, country, admin-1 area and whether they
    /// belong to the situation (a situation dashboard's trend), in no particular order.
    /// Answered from the (country, event date) index and the index of incidents with a
    /// situation.
    async fn incident_days(&self, q: &DaysQuery) -> Result<Vec<DayGroup>>;
}

/// Situations and their analysis: assessments, legal qualifications, tags, signals and forecast runs.
#[async_trait]
pub trait Analysis: Send + Sync {
    /// One situation.
    async fn get_situation(&self, id: Uuid) -> Result<Situation>;
    /// Situations up to `max_tlp`, newest first.
    async fn list_situations(&self, max_tlp: Tlp, page: PageRequest) -> Result<Page<Situation>>;
    /// One assessment.
    async fn get_assessment(&self, id: Uuid) -> Result<Assessment>;
    /// Assessments of one situation (or of all), newest `as_of` first, at most `limit`.
    async fn list_assessments(
        &self,
        situation_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Assessment>>;
    /// Legal qualifications of a situation, oldest first.
    async fn list_legal_qualifications(
        &self,
        situation_id: Uuid,
    ) -> Result<Vec<LegalQualification>>;
    /// The tags of these records.
    async fn get_tags(&self, kind: Tagged, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<String>>>;
    /// Signals computed at exactly the caller's `clearance` (so from the incidents it may
    /// see), newest week first, of one country (or all), from `since`, at most `limit`.
    async fn list_signals(
        &self,
        clearance: Tlp,
        country: Option<&Country>,
        since: Option<NaiveDate>,
        limit: u32,
    ) -> Result<Vec<SignalRecord>>;
    /// One signal (at whatever clearance it was computed: the caller checks). Not found when
    /// there is none with this id.
    async fn get_signal(&self, id: Uuid) -> Result<SignalRecord>;
    /// One forecast run with its scores.
    async fn get_forecast_run(&self, id: Uuid) -> Result<ForecastRun>;
    /// The newest forecast run (by data year, then time), if any.
    async fn latest_forecast_run(&self) -> Result<Option<ForecastRun>>;
    /// A country's rank in every stored run, oldest data year first.
    async fn forecast_history(&self, country: &Country) -> Result<Vec<ForecastPoint>>;
}

/// Which audit entries to find ([`Users::search_audit`]); every field left `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Entries by this actor (their name, exactly).
    pub actor: Option<String>,
    /// Entries whose action starts with this (`source.` finds `source.contact_read`).
    pub action: Option<String>,
    /// Entries about this kind of record (`user`, `source`, …).
    pub record_type: Option<String>,
    /// Entries about this record (its id, exactly).
    pub record_id: Option<String>,
}

/// Users, their API tokens and browser sessions, and the audit trail.
#[async_trait]
pub trait Users: Send + Sync {
    /// One user.
    async fn get_user(&self, id: Uuid) -> Result<User>;
    /// A user by login name.
    async fn get_user_by_name(&self, username: &str) -> Result<User>;
    /// All users.
    async fn list_users(&self) -> Result<Vec<User>>;
    /// The user a token hash belongs to.
    async fn user_for_token(&self, token_hash: &str) -> Result<User>;
    /// A live (unexpired) browser session.
    async fn get_session(&self, id_hash: &str) -> Result<WebSession>;
    /// A user's API tokens, oldest first, revoked and expired ones included.
    async fn list_tokens(&self, user_id: Uuid) -> Result<Vec<ApiToken>>;
    /// Audit entries with `seq > after`, in order, at most `limit`.
    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>>;
    /// Audit entries matching `f` with `seq < before` (all when `None`), newest first, at most
    /// `limit`.
    async fn search_audit(
        &self,
        f: &AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>>;
    /// How many audit entries match `f`.
    async fn count_audit(&self, f: &AuditFilter) -> Result<u64>;
    /// A user's contact details and channel preferences ([`UserContacts::empty`] when none
    /// were set). Not found when there is no such user.
    async fn get_user_contacts(&self, user_id: Uuid) -> Result<UserContacts>;
    /// A user's inbox: unread items first, each part newest first (cursor:
    /// [`InboxItem::cursor`]).
    async fn list_inbox(&self, user_id: Uuid, page: PageRequest) -> Result<Page<InboxItem>>;
    /// How many items of a user's inbox are unread.
    async fn inbox_unread(&self, user_id: Uuid) -> Result<u64>;
}

/// Messages going out (the outbox).
#[async_trait]
pub trait Deliveries: Send + Sync {
    /// One outbound message.
    async fn get_outbound(&self, id: Uuid) -> Result<OutboundMessage>;
    /// Outbound messages, newest first, to one source or all.
    async fn list_outbound(
        &self,
        source_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<OutboundMessage>>;
    /// How the outbox stands: messages by status and the oldest still waiting, so that
    /// replies that never leave are noticed.
    async fn outbox_summary(&self) -> Result<OutboxSummary>;
}

/// The storage every backend provides: reads by concern ([`Reports`], [`Incidents`],
/// [`Analysis`], [`Users`], [`Deliveries`], [`Alerting`], and the job runner's [`Jobs`]) and every write through [`Store::write`]. Callers
/// holding a [`DynStore`] call any of them; elsewhere `use tocsin_store::prelude::*;`.
#[async_trait]
pub trait Store:
    Reports
    + Incidents
    + Analysis
    + Users
    + Deliveries
    + Jobs
    + Actions
    + Alerting
    + Triage
    + Rumours
    + Subscribers
    + EvidenceFiles
    + Verification
    + Matching
    + Broadcasts
    + Speech
    + Monitor
    + Sharing
    + Send
    + Sync
    + 'static
{
    /// Apply pending migrations.
    async fn migrate(&self) -> Result<()>;
    /// Apply one write with its audit entry; returns only after the commit.
    async fn write(&self, actor: &Actor, op: Op) -> Result<Done>;
    /// A metadata value.
    async fn get_meta(&self, key: &str) -> Result<Option<String>>;
    /// Counts of reports, incidents, sources, situations, users.
    async fn counts(&self) -> Result<Counts>;
}

/// Outbound messages by status ([`Deliveries::outbox_summary`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct OutboxSummary {
    /// Waiting to be sent or retried.
    pub queued: i64,
    /// Handed to a gateway, outcome not yet known.
    pub sending: i64,
    /// Accepted by a gateway.
    pub sent: i64,
    /// Delivered to the handset.
    pub delivered: i64,
    /// Given up.
    pub failed: i64,
    /// Creation time of the oldest message still queued or sending.
    pub oldest_waiting: Option<DateTime<Utc>>,
}

/// How many records a store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Reports.
    pub reports: i64,
    /// Incidents.
    pub incidents: i64,
    /// Sources.
    pub sources: i64,
    /// Situations.
    pub situations: i64,
    /// Users.
    pub users: i64,
}

fn unexpected(d: Done) -> StoreError {
    StoreError::Backend(format!("backend returned an unexpected result: {d:?}"))
}

/// Typed helpers over [`Store::write`].
#[async_trait]
pub trait StoreExt: Store {
    /// Store a report.
    async fn create_report(&self, actor: &Actor, r: NewReport) -> Result<Report> {
        match self.write(actor, Op::CreateReport(r)).await? {
            Done::Report(r) => Ok(*r),
            d => Err(unexpected(d)),
        }
    }
    /// Store an incident.
    async fn create_incident(&self, actor: &Actor, i: Incident) -> Result<Incident> {
        match self.write(actor, Op::CreateIncident(Box::new(i))).await? {
            Done::Incident(i) => Ok(*i),
            d => Err(unexpected(d)),
        }
    }
    /// Insert or update a batch of imported incidents; returns (inserted, updated).
    async fn import_incidents(
        &self,
        actor: &Actor,
        dataset: &str,
        mut incidents: Vec<Incident>,
    ) -> Result<(u64, u64)> {
        dedupe_import(&mut incidents);
        let op = Op::ImportIncidents {
            dataset: dataset.to_string(),
            incidents,
        };
        match self.write(actor, op).await? {
            Done::Imported { inserted, updated } => Ok((inserted, updated)),
            d => Err(unexpected(d)),
        }
    }
    /// Change an incident.
    async fn update_incident(&self, actor: &Actor, id: Uuid, p: IncidentPatch) -> Result<Incident> {
        match self
            .write(actor, Op::UpdateIncident(id, Box::new(p)))
            .await?
        {
            Done::Incident(i) => Ok(*i),
            d => Err(unexpected(d)),
        }
    }
    /// Store a source.
    async fn create_source(&self, actor: &Actor, s: NewSource) -> Result<Source> {
        match self.write(actor, Op::CreateSource(Box::new(s))).await? {
            Done::Source(s) => Ok(*s),
            d => Err(unexpected(d)),
        }
    }
    /// Store a situation.
    async fn create_situation(&self, actor: &Actor, s: Situation) -> Result<Situation> {
        match self.write(actor, Op::CreateSituation(Box::new(s))).await? {
            Done::Situation(s) => Ok(*s),
            d => Err(unexpected(d)),
        }
    }
    /// Replace a situation ([`Op::UpdateSituation`]).
    async fn update_situation(&self, actor: &Actor, s: Situation) -> Result<Situation> {
        match self.write(actor, Op::UpdateSituation(Box::new(s))).await? {
            Done::Situation(s) => Ok(*s),
            d => Err(unexpected(d)),
        }
    }
    /// Store a user.
    async fn create_user(&self, actor: &Actor, u: User) -> Result<User> {
        match self.write(actor, Op::CreateUser(Box::new(u))).await? {
            Done::User(u) => Ok(*u),
            d => Err(unexpected(d)),
        }
    }
    /// Claim due outbound messages.
    async fn claim_outbound(
        &self,
        gateway: Option<&str>,
        limit: u32,
        lease_secs: i64,
    ) -> Result<Vec<OutboundMessage>> {
        let op = Op::ClaimOutbound {
            gateway: gateway.map(str::to_string),
            limit,
            lease_secs,
        };
        match self.write(&Actor::system("outbox"), op).await? {
            Done::Outbound(v) => Ok(v),
            d => Err(unexpected(d)),
        }
    }
    /// Store a new assessment.
    async fn create_assessment(&self, actor: &Actor, a: Assessment) -> Result<Assessment> {
        match self.write(actor, Op::CreateAssessment(Box::new(a))).await? {
            Done::Assessment(a) => Ok(*a),
            d => Err(unexpected(d)),
        }
    }
    /// Change an assessment.
    async fn change_assessment(
        &self,
        actor: &Actor,
        id: Uuid,
        change: AssessmentChange,
    ) -> Result<Assessment> {
        let op = Op::ChangeAssessment {
            id,
            change: Box::new(change),
        };
        match self.write(actor, op).await? {
            Done::Assessment(a) => Ok(*a),
            d => Err(unexpected(d)),
        }
    }
    /// Store a legal qualification.
    async fn create_legal_qualification(
        &self,
        actor: &Actor,
        q: LegalQualification,
    ) -> Result<LegalQualification> {
        match self
            .write(actor, Op::CreateLegalQualification(Box::new(q)))
            .await?
        {
            Done::LegalQualification(q) => Ok(*q),
            d => Err(unexpected(d)),
        }
    }
    /// Record signals; returns how many were new.
    async fn record_signals(&self, actor: &Actor, v: Vec<SignalRecord>) -> Result<u64> {
        match self.write(actor, Op::RecordSignals(v)).await? {
            Done::Count(n) => Ok(n),
            d => Err(unexpected(d)),
        }
    }
    /// Append an audit entry.
    async fn audit(&self, event: AuditEvent) -> Result<()> {
        self.write(&event.actor.clone(), Op::Audit(event))
            .await
            .map(|_| ())
    }
    /// Read a source's sealed contact details, recording the read in the audit trail first.
    async fn read_source_contact(&self, actor: &Actor, id: Uuid) -> Result<Option<SealedContact>> {
        let source = self.get_source(id).await?;
        self.audit(
            AuditEvent::new(actor, "source.contact.read", "source", Some(id.to_string()))
                .with_detail(serde_json::json!({"handle": source.handle})),
        )
        .await?;
        self.get_source_contact(id).await
    }
    /// Check the whole audit chain; the number of entries verified, or the first break.
    async fn verify_audit(&self) -> Result<std::result::Result<i64, tocsin_domain::ChainBreak>> {
        let mut v = tocsin_domain::audit::ChainVerifier::default();
        let mut after = 0;
        loop {
            let batch = self.audit_entries(after, 1000).await?;
            let Some(last) = batch.last() else {
                return Ok(Ok(v.verified()));
            };
            after = last.seq;
            for e in &batch {
                if let Err(b) = v.check(e) {
                    return Ok(Err(b));
                }
            }
        }
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

/// The store's traits, for `use tocsin_store::prelude::*;` where methods are called on a
/// backend's own type (a [`DynStore`] needs no import).
pub mod prelude {
    pub use crate::Broadcasts;
    pub use crate::Matching;
    pub use crate::Speech;
    pub use crate::{
        Actions, Alerting, Analysis, Deliveries, EvidenceFiles, Incidents, Jobs, Reports, Rumours,
        Store, StoreExt, Subscribers, Triage, Users, Verification,
    };
}

/// A shared handle to any backend, as the server and CLI hold it.
pub type DynStore = std::sync::Arc<dyn Store>;
