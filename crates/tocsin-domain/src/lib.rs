//! Tocsin's domain model: the words of `product.md` as Rust types.
//!
//! Reports, sources, incidents, situations, users and roles, Traffic Light Protocol labels,
//! the audit chain and the sealing of source contact details. Every value here is valid once
//! it exists ("parse, don't validate"): the parsers turn untrusted input into these types and
//! name the offending field when they refuse. This crate knows nothing of SQL or HTTP.

pub mod action;
pub mod alert;
pub mod area;
pub mod assessment;
pub mod audit;
pub mod broadcast;
pub mod contact;
pub mod country;
pub mod crypto;
pub mod desk;
pub mod duration;
pub mod error;
pub mod evidence;
pub mod evidence_file;
pub mod flag;
pub mod flow;
pub mod incident;
pub mod lang;
pub mod legal;
pub mod monitor;
pub mod page;
pub mod report;
pub mod rule;
pub mod rumour;
pub mod share;
pub mod shared_item;
pub mod signal;
pub mod situation;
pub mod sms;
pub mod source;
pub mod subscriber;
pub mod sync;
pub mod time;
pub mod tlp;
pub mod triage;
pub mod user;
pub mod verification;

pub use action::{
    Action, ActionError, ActionPatch, ActionRefs, ActionStatus, IllegalMove, NewAction,
};
pub use alert::{
    Alert, AlertEvidence, AlertOrigin, AlertStatus, CloseReason, Severity, TimelineEntry,
    TimelineEvent, TransitionError,
};
pub use area::{Admin1Ref, BroadcastArea, SubscriberPlace};
pub use assessment::{
    Assessment, AssessmentChange, AssessmentEdit, AssessmentStatus, Confidence, Evidence,
    EvidenceKind, Level, NewAssessment,
};
pub use audit::{AuditEntry, AuditEvent, ChainBreak};
pub use broadcast::{
    Broadcast, BroadcastAnswers, BroadcastError, BroadcastEvent, BroadcastMode, BroadcastState,
    NewBroadcast, RecipientCounts, RecipientState, SmsEncoding, SmsLength, StopSwitch,
};
pub use contact::{ChannelPrefs, InboxAfter, InboxItem, NotifyChannel, UserContacts};
pub use country::Country;
pub use crypto::{ContactKey, PublicKey, SealedContact, SigningKey};
pub use desk::{
    Department, Desk, EscalationPolicy, EscalationStep, NewDesk, Shift, Target, UnreachableStep,
};
pub use duration::TextDuration;
pub use error::DomainError;
pub use evidence::{GenericRule, GenericRuleGroup, Suggestion, SuggestionGroup, Tagged};
pub use evidence_file::{EvidenceFile, FileKind};
pub use flag::{
    FlagReview, FlagReviewInput, FlagState, FlagTerm, Hallmark, PlacedFlag, SpeechFlag,
};
pub use incident::{
    EventType, Incident, IncidentFilter, IncidentInput, IncidentPatch, MapPoint, NewIncident,
    VerificationStatus,
};
pub use lang::Lang;
pub use legal::{Crime, Finding, LegalQualification, NewLegalQualification, Term, TermUse};
pub use monitor::{FeedState, ItemKind, MonitoredItem};
pub use page::{BBox, Cursor, Page, PageRequest};
pub use report::{Channel, NewReport, Report, ReportFilter, ReportInput, ReportMeta};
pub use rule::{
    AlertRule, Area, AssessmentCondition, Condition, ForecastCondition, IncidentThreshold,
    NewAlertRule, ReportCondition, SignalCondition,
};
pub use rumour::{
    HeardHow, NewRumour, Rumour, RumourError, RumourPatch, RumourPriority, RumourStatus, Sighting,
};
pub use share::{
    IncomingIncident, Partner, PartnerActivity, PartnerInput, Received, Redact, SentRecord,
    ShareWith, SharedIncident, SharingGroup, SharingGroupInput,
};
pub use shared_item::{IncomingItem, ReceivedItem, SharedFactor, SharedItem, SharedKind};
pub use signal::{ForecastPoint, ForecastRun, ForecastScore, SignalRecord};
pub use situation::{Areas, NewSituation, Situation, SituationEdit};
pub use sms::{
    sender_lookup_key, Ack, FormClaim, InboundSms, OutboundMessage, OutboxStatus, RecipientKind,
};
pub use source::{NewSource, Reliability, Source, SourceContact};
pub use subscriber::{
    NewSubscriber, Subscriber, SubscriberPhone, SubscriberRecipient, SubscriberStatus,
};
pub use sync::SyncCursor;
pub use tlp::Tlp;
pub use triage::{
    AssignedFilter, DuplicateOf, IncidentDraft, TriageCandidate, TriageDecision, TriageFilter,
    TriageItem, TriageKey, TriageKind, TriageRanking, Urgency,
};
pub use user::{Actor, ApiToken, NewUser, Permission, Role, User};
pub use verification::{ReliabilityEntry, TaskTick, TrackRecord, VerificationEntry};

/// A new time-ordered identifier (UUIDv7): sorting ids sorts records by creation time. For
/// records whose creation time must not be read from their id, see [`random_id`].
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// A new random identifier (UUIDv4) that says nothing about when it was made. Reports, sources
/// and outbound messages use it: an id seen by someone who may not see the record (an
/// incident's `report_ids`, a delivery-report URL) must not tell when a warner's message
/// arrived, which telephone records could match to the sender.
pub fn random_id() -> uuid::Uuid {
    uuid::Uuid::new_v4()
}
