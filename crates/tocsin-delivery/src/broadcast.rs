//! Sending a broadcast: its recipients' rows claimed in small batches (queued → sending,
//! committed before any is handed over), each message paced to its gateway's rate and
//! checked just before it leaves (the global stop switch off, the broadcast not cancelled,
//! the subscriber not stopped), then its outcome recorded.
//!
//! Crash safety: a row is claimed with a lease before its message is handed to the gateway,
//! so a sender killed before the hand-over leaves rows that are claimed again once the lease
//! lapses (nobody skipped), and a row recorded sent or delivered is never claimed again
//! (nobody twice). What remains is the instant between the gateway's acceptance and the
//! commit that records it: Kannel's delivery-report URL carries the row's id, so a report
//! that arrives during the lease (smsbox retries it while Tocsin restarts) marks the row
//! before the lease lapses, and it is not sent again; a row that no report settles is sent
//! again (at least once). Twilio also receives the row's idempotency key.

use std::collections::HashMap;
use std::time::Duration;
use tocsin_domain::broadcast::open_test_phone;
use tocsin_domain::subscriber::{SubscriberPhone, SubscriberStatus};
use tocsin_domain::{Broadcast, BroadcastState, OutboundMessage, RecipientKind, Tlp};
use tocsin_store::{BroadcastRecipient, RecipientOutcome, SendOutcome, StoreError};

use crate::{Delivery, Outgoing};

/// The most rows one claim takes.
const MAX_CLAIM: u32 = 200;

/// Each gateway's next free slot, kept across passes so the pace holds between them.
#[derive(Debug, Default)]
pub struct Pacer(tokio::sync::Mutex<HashMap<String, tokio::time::Instant>>);

impl Pacer {
    /// Wait for the next slot of `gateway` at `rate` messages per second.
    async fn wait(&self, gateway: &str, rate: f64) {
        let step = Duration::from_secs_f64(1.0 / rate.max(0.001));
        let at = {
            let mut m = self.0.lock().await;
            let now = tokio::time::Instant::now();
            let slot = m.entry(gateway.to_string()).or_insert(now);
            if *slot < now {
                *slot = now;
            }
            let at = *slot;
            *slot += step;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// What one pass over a broadcast did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BroadcastPass {
    /// Messages handed to the gateway.
    pub sent: u32,
    /// Recipients skipped (stopped subscribers, cancelled broadcast).
    pub skipped: u32,
    /// Lasting failures.
    pub failed: u32,
    /// The pass ended because the stop switch is on.
    pub stopped: bool,
    /// Rows were left to claim (run again).
    pub more: bool,
}

/// Why a message may not leave now.
enum Hold {
    /// The stop switch is on: back to the queue.
    Stopped,
    /// The broadcast is no longer sending.
    Cancelled,
}

impl Delivery {
    async fn hold(&self, b: &Broadcast) -> Result<Option<Hold>, StoreError> {
        if self.store.stop_switch().await?.is_some_and(|s| s.on) {
            return Ok(Some(Hold::Stopped));
        }
        if self.store.get_broadcast(b.id).await?.state != BroadcastState::Sending {
            return Ok(Some(Hold::Cancelled));
        }
        Ok(None)
    }

    /// The number a row goes to, or `None` when its subscriber stopped or is gone.
    async fn recipient_phone(&self, r: &BroadcastRecipient) -> Result<Option<String>, String> {
        if let Some(sealed) = &r.address {
            return open_test_phone(&self.key, r.id, sealed)
                .map(Some)
                .map_err(|e| e.to_string());
        }
        let Some(sid) = r.subscriber_id else {
            return Err("the recipient has neither a subscriber nor an address".into());
        };
        match self.store.get_subscriber(sid).await {
            Ok(s) if s.status == SubscriberStatus::Active => {}
            Ok(_) | Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(format!("cannot read the subscriber: {e}")),
        }
        let sealed = self
            .store
            .subscriber_contact(sid)
            .await
            .map_err(|e| format!("cannot read the subscriber's contact: {e}"))?;
        SubscriberPhone::open(&sealed, &self.key, sid)
            .map(|p| Some(p.expose().to_string()))
            .map_err(|e| e.to_string())
    }

    async fn settle_row(&self, id: uuid::Uuid, outcome: RecipientOutcome) {
        for attempt in 1..=3u64 {
            match self.store.settle_recipient(id, outcome.clone()).await {
                Ok(()) => return,
                Err(e) if attempt == 3 => {
                    tracing::error!(recipient = %id, error = %e, "could not record a broadcast message; it is claimed again when its lease lapses");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200 * attempt)).await,
            }
        }
    }

    /// One claimed row: checked just before it leaves, handed to the channel, its outcome
    /// recorded. `None` when a hold (stop switch, cancellation) kept it back.
    async fn send_row(
        &self,
        b: &Broadcast,
        r: BroadcastRecipient,
        how: &How<'_>,
        pacer: &Pacer,
    ) -> Result<Option<RecipientOutcome>, String> {
        pacer.wait(how.gateway, how.rate).await;
        match self.hold(b).await {
            Ok(None) => {}
            Ok(Some(h)) => {
                // The stop switch puts the row back in the queue, a cancellation skips it.
                let outcome = match h {
                    Hold::Stopped => RecipientOutcome::Retry,
                    Hold::Cancelled => RecipientOutcome::Skipped,
                };
                self.settle_row(r.id, outcome).await;
                return Ok(None);
            }
            Err(e) => {
                self.settle_row(r.id, RecipientOutcome::Retry).await;
                return Err(e.to_string());
            }
        }
        let to = match self.recipient_phone(&r).await {
            Ok(Some(to)) => to,
            Ok(None) => {
                self.settle_row(r.id, RecipientOutcome::Skipped).await;
                return Ok(Some(RecipientOutcome::Skipped));
            }
            Err(e) => {
                tracing::warn!(broadcast = %b.id, recipient = %r.id, error = %e, "broadcast message not sent");
                self.settle_row(r.id, RecipientOutcome::Failed).await;
                return Ok(Some(RecipientOutcome::Failed));
            }
        };
        let mut m = OutboundMessage::new(
            format!("broadcast:{}:{}", b.id, r.id),
            how.gateway,
            uuid::Uuid::nil(),
            None,
            b.text_for(&r.language).to_string(),
        );
        // Kannel's delivery-report URL carries this id: the row's.
        m.id = r.id;
        m.source_id = None;
        m.recipient_kind = RecipientKind::Address;
        m.tlp = Tlp::Clear;
        m.attempts = r.attempts;
        m.sender = how.sender.map(str::to_string);
        let outcome = match how
            .channel
            .send(&Outgoing {
                message: &m,
                to: &to,
            })
            .await
        {
            SendOutcome::Sent(provider_key) => RecipientOutcome::Sent {
                gateway: how.gateway.to_string(),
                provider_key,
            },
            SendOutcome::Retry(e) | SendOutcome::RetryAfter(e, _)
                if r.attempts < self.max_attempts =>
            {
                tracing::warn!(broadcast = %b.id, recipient = %r.id, attempts = r.attempts, error = %e, "broadcast message not sent; it will be retried");
                RecipientOutcome::Retry
            }
            SendOutcome::Retry(e) | SendOutcome::RetryAfter(e, _) | SendOutcome::Failed(e) => {
                tracing::warn!(broadcast = %b.id, recipient = %r.id, attempts = r.attempts, error = %e, "broadcast message failed");
                RecipientOutcome::Failed
            }
        };
        self.settle_row(r.id, outcome.clone()).await;
        Ok(Some(outcome))
    }

    /// Send what `budget` allows of a sending broadcast through `gateway` at `rate` messages
    /// per second (several in flight at once, so a gateway's latency does not slow the pace),
    /// from `sender` when given. Every message is checked just before it leaves.
    pub async fn send_broadcast(
        &self,
        b: &Broadcast,
        gateway: &str,
        rate: f64,
        sender: Option<&str>,
        budget: Duration,
        pacer: &Pacer,
    ) -> Result<BroadcastPass, String> {
        use futures::StreamExt as _;
        let channel = self
            .channels
            .get(gateway)
            .filter(|c| c.pushed() && c.reaches().contains(&RecipientKind::Address))
            .ok_or_else(|| format!("broadcast gateway {gateway:?} is not configured"))?
            .clone();
        let how = How {
            gateway,
            rate,
            sender,
            channel: &*channel,
        };
        let mut pass = BroadcastPass::default();
        let started = tokio::time::Instant::now();
        let batch = ((rate * budget.as_secs_f64()).ceil() as u32).clamp(1, MAX_CLAIM);
        // Long enough to hand the whole batch over at the pace, then some for a gateway's
        // delivery report of a message whose outcome a crash kept from being recorded.
        let lease = (f64::from(batch) / rate).ceil() as i64 + 60;
        while started.elapsed() < budget {
            if let Some(h) = self.hold(b).await.map_err(|e| e.to_string())? {
                pass.stopped = matches!(h, Hold::Stopped);
                return Ok(pass);
            }
            let rows = self
                .store
                .claim_recipients(b.id, batch, lease, tocsin_domain::time::now())
                .await
                .map_err(|e| format!("cannot claim recipients: {e}"))?;
            if rows.is_empty() {
                pass.more = false;
                return Ok(pass);
            }
            pass.more = true;
            let outcomes: Vec<_> = futures::stream::iter(rows)
                .map(|r| self.send_row(b, r, &how, pacer))
                .buffered(IN_FLIGHT)
                .collect()
                .await;
            let mut held = false;
            for o in outcomes {
                match o? {
                    Some(RecipientOutcome::Sent { .. }) => pass.sent += 1,
                    Some(RecipientOutcome::Skipped) => pass.skipped += 1,
                    Some(RecipientOutcome::Failed) => pass.failed += 1,
                    Some(RecipientOutcome::Retry) => {}
                    None => held = true,
                }
            }
            if held {
                pass.stopped = matches!(self.hold(b).await, Ok(Some(Hold::Stopped)));
                return Ok(pass);
            }
        }
        Ok(pass)
    }
}

/// How a broadcast's messages leave.
struct How<'a> {
    gateway: &'a str,
    rate: f64,
    sender: Option<&'a str>,
    channel: &'a dyn crate::Channel,
}

/// Messages handed over at once (a gateway's latency overlaps, the pace still holds).
const IN_FLIGHT: usize = 16;
