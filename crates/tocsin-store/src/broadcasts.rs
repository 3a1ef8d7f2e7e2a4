//! Broadcasts and their recipients: the read trait, the sender's bookkeeping and the
//! primitive writes the application layer composes into an [`Op::All`](crate::Op::All).
//!
//! A broadcast's recipients are rows written once, in the transaction that approves it (one
//! per subscriber, or per staff test phone, whose number is sealed on the row bound to the
//! row's id). The sender claims rows (queued → sending, with a lease) before it hands them to
//! a gateway and records each outcome; a lapsed lease makes the row claimable again. Reads
//! give counts per state, never a subscriber's number.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tocsin_domain::{
    Broadcast, Page, PageRequest, RecipientCounts, RecipientState, SealedContact, StopSwitch,
};
use uuid::Uuid;

use crate::Result;

/// One recipient of a broadcast, as the sender sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastRecipient {
    /// The row's id (random): the message id gateways echo in delivery reports.
    pub id: Uuid,
    /// The broadcast.
    pub broadcast_id: Uuid,
    /// The subscriber (live), or `None` for a staff test phone.
    pub subscriber_id: Option<Uuid>,
    /// A test phone's number, sealed bound to the row's id.
    pub address: Option<SealedContact>,
    /// The language of the text to send.
    pub language: String,
    /// Where it stands.
    pub state: RecipientState,
    /// How many times it was claimed.
    pub attempts: i32,
}

/// What became of a claimed recipient's message.
#[derive(Debug, Clone, PartialEq)]
pub enum RecipientOutcome {
    /// Accepted by `gateway`, with a keyed hash of the gateway's id for it.
    Sent {
        /// The gateway.
        gateway: String,
        /// Keyed hash of the gateway's message id (matches delivery reports).
        provider_key: Option<String>,
    },
    /// Not sent, for good (the reason is logged, never stored with a number).
    Failed,
    /// Not sent: the subscriber stopped, or the broadcast was cancelled.
    Skipped,
    /// A passing failure: back to the queue.
    Retry,
}

/// A primitive write of broadcasts inside [`Op::All`](crate::Op::All) (as
/// [`Step::Broadcast`](crate::Step::Broadcast)).
#[derive(Debug, Clone)]
pub enum BroadcastStep {
    /// Store a new broadcast.
    Create(Box<Broadcast>),
    /// Replace a broadcast by its next version: Conflict unless the stored one is at
    /// `broadcast.version - 1`; not found when it does not exist.
    Update(Box<Broadcast>),
    /// Queue the recipients of a broadcast (rows given whole, state queued). Conflict when the
    /// broadcast already has recipients: they are written once.
    AddRecipients {
        /// The broadcast.
        broadcast_id: Uuid,
        /// The rows.
        recipients: Vec<BroadcastRecipient>,
    },
    /// Mark every recipient of a broadcast still queued as skipped (a cancellation).
    SkipQueued(Uuid),
    /// Set the global stop switch.
    SetStop(StopSwitch),
}

/// Reads of broadcasts and the sender's bookkeeping (not audited, like the outbox's claims).
#[async_trait]
pub trait Broadcasts: Send + Sync {
    /// One broadcast.
    async fn get_broadcast(&self, id: Uuid) -> Result<Broadcast>;
    /// The broadcasts, newest written first, one page (cursors by time written, then id).
    async fn list_broadcasts(&self, page: PageRequest) -> Result<Page<Broadcast>>;
    /// How many broadcasts there are.
    async fn count_broadcasts(&self) -> Result<u64>;
    /// Broadcasts approved or sending (the sender's work), oldest first.
    async fn active_broadcasts(&self) -> Result<Vec<Broadcast>>;
    /// How many recipients of a broadcast stand where.
    async fn recipient_counts(&self, broadcast_id: Uuid) -> Result<RecipientCounts>;
    /// The subscribers a broadcast went to (sent, delivered, or handed over with the outcome
    /// unknown), ids and languages: a correction's recipients.
    async fn broadcast_subscribers(&self, broadcast_id: Uuid) -> Result<Vec<(Uuid, String)>>;
    /// Claim up to `limit` recipients of a broadcast that are queued, or sending with a lease
    /// that lapsed before `now`: each becomes sending with a lease until `now + lease_secs`
    /// and one more attempt, committed before this returns.
    async fn claim_recipients(
        &self,
        broadcast_id: Uuid,
        limit: u32,
        lease_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<BroadcastRecipient>>;
    /// Record what became of a claimed recipient (only while it is still sending: a delivery
    /// report that came first is kept).
    async fn settle_recipient(&self, id: Uuid, outcome: RecipientOutcome) -> Result<()>;
    /// A delivery report for a recipient, by our id or by the keyed hash of the gateway's id:
    /// whether one matched.
    async fn recipient_report(
        &self,
        message_id: Option<Uuid>,
        provider_key: &str,
        delivered: bool,
    ) -> Result<bool>;
    /// The global stop switch, if it was ever set.
    async fn stop_switch(&self) -> Result<Option<StopSwitch>>;
}

/// The `meta` key the stop switch is kept under (JSON of [`StopSwitch`]).
pub const STOP_SWITCH_KEY: &str = "broadcasts.stop";
