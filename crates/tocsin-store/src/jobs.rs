//! Storage for the job runner (`tocsin-jobs`): leases on singleton jobs, one-off timers that
//! survive a restart, and each job's last outcome.
//!
//! None of these writes is audited: they are the runner's own bookkeeping, not records. Every
//! one is a single conditional statement, so two processes on one database never both hold a
//! lease or both claim a timer whose claim has not lapsed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Result;

/// A one-off timer to persist ([`Jobs::schedule_timer`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewTimer {
    /// Which handler fires it, e.g. `alert.escalate`.
    pub kind: String,
    /// At most one live timer per key (e.g. `alert:…:escalate`): scheduling a key already
    /// pending returns the pending timer's id and changes nothing.
    pub key: Option<String>,
    /// What the handler needs (JSON, no contact details).
    pub payload: serde_json::Value,
    /// When it is due.
    pub fire_at: DateTime<Utc>,
}

/// A timer claimed for firing ([`Jobs::claim_timers`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Timer {
    /// Its id (random): a handler uses it to make its effect idempotent, since a timer fires
    /// at least once (again when a claimant dies before completing it).
    pub id: Uuid,
    /// Which handler fires it.
    pub kind: String,
    /// Its key, if scheduled with one.
    pub key: Option<String>,
    /// What the handler needs.
    pub payload: serde_json::Value,
    /// When it was due.
    pub fire_at: DateTime<Utc>,
    /// Claims so far, this one included.
    pub attempts: i32,
    /// The last failure, if an earlier attempt failed.
    pub last_error: Option<String>,
}

/// A job's last outcome as recorded in the database ([`Jobs::record_job`]), so every server
/// on one database can report jobs another one runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobRecord {
    /// The job's name, e.g. `outbox`.
    pub name: String,
    /// The last run that succeeded.
    pub last_ok: Option<DateTime<Utc>>,
    /// The last failure's message (no contact details, no message text).
    pub last_error: Option<String>,
    /// When the last failure happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Since when every run has failed (`None` when the last run succeeded).
    pub failing_since: Option<DateTime<Utc>>,
    /// Work waiting after the last run (e.g. messages not yet sent), if the job counts it.
    pub backlog: Option<i64>,
    /// When this record was written.
    pub updated_at: Option<DateTime<Utc>>,
}

/// What one inbound call added to a channel's counters ([`Jobs::count_channel`]): nothing
/// about who sent it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelCount {
    /// Messages stored as new.
    pub taken: i64,
    /// Messages recognised as already stored (a retry, a re-poll, an edit).
    pub duplicates: i64,
    /// Calls refused for a bad secret or signature.
    pub refused: i64,
    /// An error to record as the channel's last (no message text, no sender).
    pub error: Option<String>,
}

/// An inbound channel's counters since it was first counted ([`Jobs::channel_counters`]).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ChannelCounters {
    /// The channel, e.g. `telegram`, `kannel`, `imap`.
    pub name: String,
    /// Messages stored as new.
    pub taken: i64,
    /// Messages recognised as already stored.
    pub duplicates: i64,
    /// Calls refused for a bad secret or signature.
    pub refused: i64,
    /// When a message was last stored.
    pub last_taken_at: Option<DateTime<Utc>>,
    /// When a call was last refused.
    pub last_refused_at: Option<DateTime<Utc>>,
    /// The last error recorded.
    pub last_error: Option<String>,
    /// When it was recorded.
    pub last_error_at: Option<DateTime<Utc>>,
}

/// The job runner's storage.
#[async_trait]
pub trait Jobs: Send + Sync {
    /// Take or renew the lease `name` for `owner` until `ttl_secs` from now: granted when
    /// nobody holds it, `owner` already does, or the holder's lease has expired. True when
    /// `owner` holds it afterwards.
    async fn acquire_lease(&self, name: &str, owner: &str, ttl_secs: i64) -> Result<bool>;
    /// Give the lease up if `owner` holds it (on shutdown), so another server takes over at
    /// once instead of after the expiry.
    async fn release_lease(&self, name: &str, owner: &str) -> Result<()>;
    /// Persist a timer; returns its id (the pending one's, when its key is already pending).
    async fn schedule_timer(&self, t: NewTimer) -> Result<Uuid>;
    /// Cancel a pending timer by key; true when one was pending.
    async fn cancel_timer(&self, key: &str) -> Result<bool>;
    /// Claim up to `limit` due timers of these kinds for `owner` for `lease_secs`: due and
    /// either unclaimed or their claim lapsed. Each claim adds one to `attempts`.
    async fn claim_timers(
        &self,
        kinds: &[String],
        owner: &str,
        limit: u32,
        lease_secs: i64,
    ) -> Result<Vec<Timer>>;
    /// A claimed timer has fired: it never fires again. False when `owner` no longer held
    /// its claim (it lapsed and another claimant may fire it too).
    async fn complete_timer(&self, id: Uuid, owner: &str) -> Result<bool>;
    /// A claimed timer's handler failed: release the claim and make it due again at `retry_at`.
    async fn retry_timer(
        &self,
        id: Uuid,
        owner: &str,
        retry_at: DateTime<Utc>,
        error: &str,
    ) -> Result<()>;
    /// Timers not yet fired (due or not).
    async fn pending_timers(&self) -> Result<i64>;
    /// Record a job's outcome (replacing the previous record).
    async fn record_job(&self, r: &JobRecord) -> Result<()>;
    /// Every job's recorded outcome, by name.
    async fn job_records(&self) -> Result<Vec<JobRecord>>;
    /// Where the polled inbound channel `name` has read up to (e.g. Telegram's next
    /// `getUpdates` offset), if it has read anything.
    async fn channel_cursor(&self, name: &str) -> Result<Option<i64>>;
    /// Move the cursor of channel `name` forward to `position` (never back: a lower position
    /// leaves it as it is, so two pollers racing cannot rewind it).
    async fn advance_channel_cursor(&self, name: &str, position: i64) -> Result<()>;
    /// Add `c` to the counters of inbound channel `name` (one upsert, safe from several
    /// processes at once); a count of all zeros without error changes nothing.
    async fn count_channel(&self, name: &str, c: &ChannelCount) -> Result<()>;
    /// Every counted inbound channel's counters, by name.
    async fn channel_counters(&self) -> Result<Vec<ChannelCounters>>;
}
