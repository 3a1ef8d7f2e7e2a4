//! Text messages in and out: an inbound SMS to ingest, and the outbox of replies.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::{ContactKey, DomainError, NewReport, SealedContact, SourceContact, Tlp};

/// An inbound text message, ready to ingest (`tocsin_app::sms::ingest`): find or create the
/// sender's source by a keyed hash of the number, recognise a duplicate, store the report, and
/// queue the acknowledgement, in one write.
///
/// A message that is a one-time code from the public web form ([`InboundSms::claim`]) and
/// matches a live [`FormClaim`] is not stored as a report: it links that web report to the
/// sender and queues the web report's acknowledgement instead.
#[derive(Debug, Clone)]
pub struct InboundSms {
    /// Keyed hash of the E.164 number (the number itself is never stored in clear); for a
    /// messaging app, of the channel and the sender's id there ([`sender_lookup_key`]).
    pub phone_hash: String,
    /// The id the source gets if it is new (random; its sealed contact is bound to it).
    pub new_source_id: Uuid,
    /// The sender's contact details, sealed for `new_source_id`, used if the source is new.
    pub sealed_contact: SealedContact,
    /// A handle for the source if it is new (e.g. `M-7KQ2M`).
    pub new_handle: String,
    /// The report; `provider_key` is a keyed hash of the gateway's message id, if it gave one.
    pub report: NewReport,
    /// Without a provider id, the same sender and text within this many seconds is a duplicate.
    pub dedupe_window_secs: i64,
    /// The acknowledgement to queue for a new (not duplicate) report.
    pub ack: Option<Ack>,
    /// Keyed hash of the one-time form code the text consists of, if it looks like one.
    pub claim: Option<String>,
    /// The inbound channel whose counters count this message (as taken, or as a duplicate),
    /// in the same write as the message itself; `None`: not counted.
    pub count_as: Option<String>,
}

/// What a messaging app's sender is hashed as (`ContactKey::lookup_hash` of it): the channel
/// and the sender's id there, so one id on two apps makes two sources and neither id is
/// stored in clear.
pub fn sender_lookup_key(channel: crate::Channel, sender_id: &str) -> String {
    format!("sender:{}:{sender_id}", channel.as_str())
}

/// A reply to queue: through which gateway, what text, and from which of our numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The gateway to send through.
    pub gateway: String,
    /// The text.
    pub text: String,
    /// The number or short code to send from, when the gateway has none configured (the one
    /// the warner wrote to).
    pub sender: Option<String>,
    /// Set when the reply may not be sent (e.g. WhatsApp's 24-hour window has closed): it is
    /// recorded as a failed delivery with this reason, so the analyst sees why none left.
    pub not_sent: Option<String>,
}

/// A web-form report waiting for its author to prove a phone number: the page showed a
/// one-time code; when the code arrives by SMS, the report is linked to that sender, who then
/// gets `ack_text`. A number typed into a form proves nothing, so the form takes none.
#[derive(Debug, Clone, PartialEq)]
pub struct FormClaim {
    /// Keyed hash of the code (the code itself is never stored).
    pub code_hash: String,
    /// The web report.
    pub report_id: Uuid,
    /// The acknowledgement the sender gets once the code arrives.
    pub ack_text: String,
    /// After this the code is refused.
    pub expires_at: DateTime<Utc>,
}

/// Where an outbound message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting to be sent (or retried).
    Queued,
    /// Handed to a gateway; the outcome is not yet known.
    Sending,
    /// The gateway accepted it.
    Sent,
    /// The handset received it (delivery report).
    Delivered,
    /// Given up (too many attempts, or the gateway refused it for good).
    Failed,
}

impl OutboxStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Queued => "queued",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Failed => "failed",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Result<OutboxStatus, DomainError> {
        Ok(match s {
            "queued" => OutboxStatus::Queued,
            "sending" => OutboxStatus::Sending,
            "sent" => OutboxStatus::Sent,
            "delivered" => OutboxStatus::Delivered,
            "failed" => OutboxStatus::Failed,
            _ => {
                return Err(DomainError::invalid(
                    "status",
                    format!("unknown outbox status {s:?}"),
                ))
            }
        })
    }
}

/// Who a delivery goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// A source (a warner): its sealed contact is opened at send time.
    Source,
    /// A user (an analyst, a desk): the address sealed on the delivery is theirs.
    User,
    /// An outside address (a partner organisation, a community number).
    Address,
}

impl RecipientKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientKind::Source => "source",
            RecipientKind::User => "user",
            RecipientKind::Address => "address",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Result<RecipientKind, DomainError> {
        Ok(match s {
            "source" => RecipientKind::Source,
            "user" => RecipientKind::User,
            "address" => RecipientKind::Address,
            _ => {
                return Err(DomainError::invalid(
                    "recipient_kind",
                    format!("unknown recipient kind {s:?}"),
                ))
            }
        })
    }
}

/// A delivery in the outbox: to a source, a user or an outside address, over one channel
/// (`gateway`). The recipient's number is decrypted only when the message is handed to the
/// channel, after its content's TLP was checked against the recipient.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OutboundMessage {
    /// Its id.
    pub id: Uuid,
    /// One per message: the same key is never queued twice.
    #[serde(skip)]
    pub idempotency_key: String,
    /// `kannel`, `twilio`, `africastalking`, `smssync`, `frontlinesms`.
    pub gateway: String,
    /// The recipient, when it is a source.
    pub source_id: Option<Uuid>,
    /// The report it answers, if any.
    pub report_id: Option<Uuid>,
    /// The text.
    pub text: String,
    /// Where it stands.
    pub status: OutboxStatus,
    /// Send attempts so far.
    pub attempts: i32,
    /// When to try next (queued) or when a claim lapses (sending).
    pub next_attempt_at: DateTime<Utc>,
    /// Keyed hash of the gateway's id for it, once sent (delivery reports are matched by it;
    /// the id itself would name the recipient in the gateway's records). Never shown.
    #[serde(skip)]
    pub provider_key: Option<String>,
    /// The number or short code to send from, when the gateway has no sender configured.
    pub sender: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Who it goes to.
    pub recipient_kind: RecipientKind,
    /// The recipient, when it is a user.
    pub user_id: Option<Uuid>,
    /// The address of a user or outside recipient, sealed with the contact key and bound to
    /// this delivery's id ([`OutboundMessage::open_address`]). Never shown.
    #[serde(skip)]
    pub address: Option<SealedContact>,
    /// The TLP of its content: it leaves only for a recipient cleared for it.
    pub tlp: Tlp,
}

impl OutboundMessage {
    /// A new queued message (its id random: Kannel's delivery reports carry it).
    pub fn new(
        idempotency_key: String,
        gateway: &str,
        source_id: Uuid,
        report_id: Option<Uuid>,
        text: String,
    ) -> Self {
        let now = crate::time::now();
        OutboundMessage {
            id: crate::random_id(),
            idempotency_key,
            gateway: gateway.to_string(),
            source_id: Some(source_id),
            report_id,
            text,
            status: OutboxStatus::Queued,
            attempts: 0,
            next_attempt_at: now,
            provider_key: None,
            sender: None,
            last_error: None,
            created_at: now,
            updated_at: now,
            recipient_kind: RecipientKind::Source,
            user_id: None,
            address: None,
            tlp: Tlp::Clear,
        }
    }

    /// A new queued delivery to a user (`Some`) or an outside address (`None`) at `address`,
    /// sealed here for this delivery, of content labelled `tlp`.
    pub fn to_address(
        idempotency_key: String,
        gateway: &str,
        user_id: Option<Uuid>,
        address: &SourceContact,
        key: &ContactKey,
        text: String,
        tlp: Tlp,
    ) -> Self {
        let mut m = OutboundMessage::new(idempotency_key, gateway, Uuid::nil(), None, text);
        m.source_id = None;
        m.recipient_kind = if user_id.is_some() {
            RecipientKind::User
        } else {
            RecipientKind::Address
        };
        m.user_id = user_id;
        m.address = Some(address.seal(key, m.id));
        m.tlp = tlp;
        m
    }

    /// Open the sealed address of a user or outside recipient (only to send).
    pub fn open_address(&self, key: &ContactKey) -> Result<Option<SourceContact>, DomainError> {
        self.address
            .as_ref()
            .map(|a| SourceContact::open(a, key, self.id))
            .transpose()
    }
}

/// The delay before retry number `attempts` (1-based): 5 s, 10 s, 20 s … capped at 30 minutes.
pub fn backoff_secs(attempts: i32) -> i64 {
    (5i64 << attempts.clamp(1, 20).saturating_sub(1)).min(1800)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff_secs(1), 5);
        assert_eq!(backoff_secs(2), 10);
        assert_eq!(backoff_secs(3), 20);
        assert_eq!(backoff_secs(30), 1800);
    }
}
