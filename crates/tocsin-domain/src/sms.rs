//! Text messages in and out: an inbound SMS to ingest, and the outbox of replies.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::{DomainError, NewReport, SealedContact};

/// An inbound text message, ready for the store to ingest atomically: find or create the
/// sender's source by a keyed hash of the number, recognise a duplicate, store the report, and
/// queue the acknowledgement.
#[derive(Debug, Clone)]
pub struct InboundSms {
    /// Keyed hash of the E.164 number (the number itself is never stored in clear).
    pub phone_hash: String,
    /// The sender's contact details, sealed, used if the source is new.
    pub sealed_contact: SealedContact,
    /// A handle for the source if it is new (e.g. `M-7KQ2M`).
    pub new_handle: String,
    /// The report; `provider_message_id` is `gateway:id` when the gateway gave one.
    pub report: NewReport,
    /// Without a provider id, the same sender and text within this many seconds is a duplicate.
    pub dedupe_window_secs: i64,
    /// The acknowledgement to queue for a new (not duplicate) report: gateway and text.
    pub ack: Option<(String, String)>,
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

/// A message in the outbox. The recipient is a source; its number is decrypted only when
/// the message is handed to a gateway.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OutboundMessage {
    /// Its id.
    pub id: Uuid,
    /// One per message: the same key is never queued twice.
    pub idempotency_key: String,
    /// `kannel`, `twilio`, `africastalking`, `smssync`, `frontlinesms`.
    pub gateway: String,
    /// The recipient.
    pub source_id: Uuid,
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
    /// The gateway's id for it, once sent.
    pub provider_message_id: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl OutboundMessage {
    /// A new queued message.
    pub fn new(
        idempotency_key: String,
        gateway: &str,
        source_id: Uuid,
        report_id: Option<Uuid>,
        text: String,
    ) -> Self {
        let now = crate::time::now();
        OutboundMessage {
            id: crate::new_id(),
            idempotency_key,
            gateway: gateway.to_string(),
            source_id,
            report_id,
            text,
            status: OutboxStatus::Queued,
            attempts: 0,
            next_attempt_at: now,
            provider_message_id: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        }
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
