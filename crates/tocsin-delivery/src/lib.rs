//! The delivery layer: every message Tocsin sends, to a source, a user or an outside address,
//! over [`Channel`]s (the SMS gateways, [`sms`]; e-mail over SMTP, [`smtp`]; signed webhooks,
//! [`webhook`]).
//!
//! A delivery is a row of the outbox ([`OutboundMessage`]), queued in the same transaction as
//! whatever caused it. [`Delivery::pass`] (run by the job runner as the `outbox` job) claims
//! due deliveries with a lease, so a delivery is never lost on restart (a claim whose holder
//! died lapses and is claimed again) and one server sends it at a time. Each delivery:
//!
//! - is **idempotent**: a stable idempotency key (unique in the outbox, passed to gateways that
//!   take one); a delivery recorded as sent is never claimed again, and a delivery report is
//!   matched by a keyed hash of the gateway's id. Sending is at least once: a crash between a
//!   gateway's acceptance and the commit recording it repeats that delivery once its claim
//!   lapses, unless the gateway honours the key (Twilio does);
//! - is **retried with back-off** on a passing failure, up to `[sms] max_attempts`;
//! - is **checked against its recipient before it leaves** ([`clearance_rule`]): it carries
//!   the TLP of its content; a user gets it only if their clearance covers it, a source or an
//!   outside address only `TLP:CLEAR` content. A delivery refused so fails with a clear
//!   reason, is logged without its content or address, and counted ([`Delivery::withheld`]).
//!
//! The recipient's number is opened (sealed contact of a source, or the address sealed on the
//! delivery) only when it is handed to its channel, and never logged.

pub mod broadcast;
pub mod imap;
pub mod partner;
pub mod sms;
pub mod smtp;
pub mod telegram;
pub mod webhook;
pub mod whatsapp;

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tocsin_domain::{Actor, ContactKey, OutboundMessage, RecipientKind, SourceContact, Tlp};
use tocsin_jobs::{JobError, Progress};
use tocsin_store::{DynStore, Op, SendOutcome};

/// What kind of address a channel sends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// A phone number (E.164).
    Phone,
    /// An e-mail address.
    Email,
    /// A configured endpoint, named by the address's `name` (a webhook).
    Endpoint,
    /// A messaging-app chat (`SourceContact::chat`, e.g. `telegram:123`).
    Chat,
}

/// One delivery, ready for its channel: the recipient's address is open.
pub struct Outgoing<'a> {
    /// The delivery.
    pub message: &'a OutboundMessage,
    /// Where to (a number or an address; never log it).
    pub to: &'a str,
}

/// A way of sending: an SMS gateway, e-mail over SMTP, later a signed webhook.
#[async_trait]
pub trait Channel: Send + Sync {
    /// Its name, as stored on each delivery (`kannel`, `twilio`, …).
    fn name(&self) -> &'static str;
    /// Which recipients it can reach; a delivery to another kind fails with a clear reason.
    fn reaches(&self) -> &'static [RecipientKind];
    /// Which field of a recipient's contact it sends to.
    fn address_kind(&self) -> AddressKind;
    /// Whether the outbox job hands it deliveries (true), or it fetches them itself (SMSSync).
    fn pushed(&self) -> bool {
        true
    }
    /// The highest label it may carry to the outside address `to` (the address its
    /// [`AddressKind`] names): [`OUTSIDE_MAX_TLP`] unless the channel's configuration raises it
    /// for that address (a webhook's `max_tlp`).
    fn max_tlp_for(&self, _to: &str) -> Tlp {
        OUTSIDE_MAX_TLP
    }
    /// Hand one delivery over: sent (with a keyed hash of the channel's id for it), a passing
    /// failure to retry, or a lasting one.
    async fn send(&self, out: &Outgoing<'_>) -> SendOutcome;
}

/// The most a source or an outside address may receive: content written to be sent
/// (acknowledgements, analysts' questions, public warnings), never records' contents. Users
/// receive up to their clearance.
pub const OUTSIDE_MAX_TLP: Tlp = Tlp::Clear;

/// Whether a delivery of content labelled `tlp` may go to this recipient: `Ok` or the reason
/// it may not (no content, no address in it).
pub fn clearance_rule(
    tlp: Tlp,
    kind: RecipientKind,
    user: Option<&tocsin_domain::User>,
) -> Result<(), String> {
    clearance_rule_up_to(tlp, kind, user, OUTSIDE_MAX_TLP)
}

/// [`clearance_rule`] with the ceiling of an outside address given (a channel's
/// [`Channel::max_tlp_for`]); sources stay at [`OUTSIDE_MAX_TLP`].
pub fn clearance_rule_up_to(
    tlp: Tlp,
    kind: RecipientKind,
    user: Option<&tocsin_domain::User>,
    outside_max: Tlp,
) -> Result<(), String> {
    let max = match kind {
        RecipientKind::Address => outside_max,
        _ => OUTSIDE_MAX_TLP,
    };
    match kind {
        RecipientKind::Source | RecipientKind::Address if tlp > max => Err(format!(
            "withheld: {} content may not go to {} (only {} may)",
            tlp.as_str(),
            if kind == RecipientKind::Source {
                "a source"
            } else {
                "an outside address"
            },
            max.as_str()
        )),
        RecipientKind::Source | RecipientKind::Address => Ok(()),
        RecipientKind::User => match user {
            None => Err("withheld: the recipient user does not exist".into()),
            Some(u) if u.disabled => Err("withheld: the recipient user is disabled".into()),
            Some(u) if tlp > u.clearance => Err(format!(
                "withheld: {} content is above the recipient's clearance ({})",
                tlp.as_str(),
                u.clearance.as_str()
            )),
            Some(_) => Ok(()),
        },
    }
}

/// Deliveries claimed per pass.
const BATCH: u32 = 20;
/// How long a claim holds: a delivery whose sender died is claimed again after this.
const CLAIM_SECS: i64 = 120;
/// The longest a channel may take over one delivery.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a claimed SMSSync delivery waits for the phone's confirmation.
pub const POLL_CLAIM_SECS: i64 = 120;

/// The delivery layer: its channels, the store and the contact key.
pub struct Delivery {
    store: DynStore,
    key: Arc<ContactKey>,
    channels: BTreeMap<&'static str, Arc<dyn Channel>>,
    max_attempts: i32,
    wake: Arc<tokio::sync::Notify>,
    withheld: AtomicU64,
    /// Set when every push of a pass met a passing failure (a channel down); cleared by a
    /// send that succeeds or an empty outbox. While set, the outbox job reports failure.
    failing: std::sync::Mutex<Option<String>>,
    sms: Arc<sms::SmsConfig>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("channels", &self.channels.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Delivery {
    /// Deliveries over the SMS gateways `sms` enables.
    pub fn new(store: DynStore, key: Arc<ContactKey>, sms: Arc<sms::SmsConfig>) -> Delivery {
        let http = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .build()
            .expect("HTTP client builds");
        let channels = sms::channels(&sms, &key, &http)
            .into_iter()
            .map(|c| (c.name(), c))
            .collect();
        Delivery {
            store,
            key,
            channels,
            max_attempts: sms.max_attempts.unwrap_or(8),
            wake: Arc::default(),
            withheld: AtomicU64::new(0),
            failing: Default::default(),
            sms,
        }
    }

    /// Add (or replace) a channel.
    pub fn with_channel(mut self, c: Arc<dyn Channel>) -> Delivery {
        self.channels.insert(c.name(), c);
        self
    }

    /// Whether a channel of this name is configured.
    pub fn has_channel(&self, name: &str) -> bool {
        self.channels.contains_key(name)
    }

    /// The SMS configuration.
    pub fn sms(&self) -> &sms::SmsConfig {
        &self.sms
    }

    /// Notified when a delivery is queued, so the outbox job sends it at once.
    pub fn wake_handle(&self) -> Arc<tokio::sync::Notify> {
        self.wake.clone()
    }

    /// Deliveries refused by [`clearance_rule`] since this process started.
    pub fn withheld(&self) -> u64 {
        self.withheld.load(Ordering::Relaxed)
    }

    /// Check a claimed delivery against its recipient and open its address: the address, or
    /// why it cannot leave (a lasting failure).
    pub async fn prepare(&self, m: &OutboundMessage) -> Result<String, String> {
        let channel = self
            .channels
            .get(m.gateway.as_str())
            .ok_or_else(|| format!("channel {:?} is not configured", m.gateway))?;
        if !channel.reaches().contains(&m.recipient_kind) {
            return Err(format!(
                "channel {} cannot reach a {}",
                channel.name(),
                m.recipient_kind.as_str()
            ));
        }
        let user = match (m.recipient_kind, m.user_id) {
            (RecipientKind::User, Some(id)) => match self.store.get_user(id).await {
                Ok(u) => Some(u),
                Err(tocsin_store::StoreError::NotFound) => None,
                Err(e) => return Err(format!("cannot read the recipient: {e}")),
            },
            _ => None,
        };
        // A configured endpoint's own ceiling (its name is not secret; the address of other
        // channels is opened only once the delivery may leave).
        let outside_max = match (m.recipient_kind, channel.address_kind()) {
            (RecipientKind::Address, AddressKind::Endpoint) => {
                let name = m
                    .open_address(&self.key)
                    .map_err(|e| e.to_string())?
                    .and_then(|c| c.name)
                    .unwrap_or_default();
                channel.max_tlp_for(&name)
            }
            _ => OUTSIDE_MAX_TLP,
        };
        if let Err(why) = clearance_rule_up_to(m.tlp, m.recipient_kind, user.as_ref(), outside_max)
        {
            self.withheld.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(delivery = %m.id, recipient = m.recipient_kind.as_str(), tlp = m.tlp.as_str(), "delivery withheld: content above the recipient's clearance");
            return Err(why);
        }
        let contact = match (m.recipient_kind, m.source_id) {
            (RecipientKind::Source, Some(source_id)) => {
                let sealed = self
                    .store
                    .get_source_contact(source_id)
                    .await
                    .map_err(|e| format!("cannot read the recipient: {e}"))?
                    .ok_or("the source has no contact details")?;
                SourceContact::open(&sealed, &self.key, source_id).map_err(|e| e.to_string())?
            }
            (RecipientKind::Source, None) => return Err("the delivery names no source".into()),
            _ => m
                .open_address(&self.key)
                .map_err(|e| e.to_string())?
                .ok_or("the delivery carries no address")?,
        };
        let who = m.recipient_kind.as_str();
        match channel.address_kind() {
            AddressKind::Phone => contact
                .phone
                .ok_or_else(|| format!("the {who} has no phone number")),
            AddressKind::Email => contact
                .email
                .ok_or_else(|| format!("the {who} has no e-mail address")),
            AddressKind::Endpoint => contact
                .name
                .ok_or_else(|| format!("the {who} names no endpoint")),
            AddressKind::Chat => contact
                .chat
                .ok_or_else(|| format!("the {who} has no chat address")),
        }
    }

    /// Hand one claimed delivery to its channel.
    pub async fn send_one(&self, m: &OutboundMessage) -> SendOutcome {
        let to = match self.prepare(m).await {
            Ok(t) => t,
            Err(e) => return SendOutcome::Failed(e),
        };
        let channel = &self.channels[m.gateway.as_str()];
        channel
            .send(&Outgoing {
                message: m,
                to: &to,
            })
            .await
    }

    /// Record what became of a claimed delivery (a passing failure past `max_attempts` is
    /// given up). Retried a few times: a send the gateway took but that is not recorded would
    /// be sent again once its claim lapses.
    pub async fn settle(&self, m: &OutboundMessage, outcome: SendOutcome) {
        let outcome = match outcome {
            SendOutcome::Retry(e) | SendOutcome::RetryAfter(e, _)
                if m.attempts >= self.max_attempts =>
            {
                SendOutcome::Failed(format!("gave up after {} attempts: {e}", m.attempts))
            }
            o => o,
        };
        for attempt in 1..=3 {
            let op = Op::SettleOutbound {
                id: m.id,
                outcome: outcome.clone(),
            };
            match self.store.write(&Actor::system("outbox"), op).await {
                Ok(_) => return,
                Err(e) if attempt == 3 => {
                    tracing::error!(delivery = %m.id, error = %e, "could not record a send; it will be retried when its claim lapses");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200 * attempt)).await,
            }
        }
    }

    /// One pass of the outbox job: claim due deliveries of pushed channels, send each, record
    /// each outcome. The backlog is the deliveries still queued or being sent.
    pub async fn pass(&self) -> Result<Progress, JobError> {
        let batch = self
            .store
            .claim_outbound(None, BATCH, CLAIM_SECS)
            .await
            .map_err(|e| JobError::from(format!("cannot read the outbox: {e}")))?;
        let (mut tried, mut retries, mut retry, mut sent) = (0, 0, None, false);
        for m in &batch {
            // Past its claim, another server may have claimed it again: leave it to them.
            let deadline = tocsin_domain::time::now()
                + chrono::Duration::seconds(SEND_TIMEOUT.as_secs() as i64 + 5);
            if deadline >= m.next_attempt_at {
                continue;
            }
            tried += 1;
            let outcome = self.send_one(m).await;
            match &outcome {
                SendOutcome::Sent(_) => sent = true,
                SendOutcome::Retry(e) | SendOutcome::RetryAfter(e, _) => {
                    retries += 1;
                    retry.get_or_insert_with(|| e.clone());
                }
                SendOutcome::Failed(_) => {}
            }
            if let SendOutcome::Retry(e) | SendOutcome::RetryAfter(e, _) | SendOutcome::Failed(e) =
                &outcome
            {
                tracing::warn!(delivery = %m.id, gateway = %m.gateway, attempts = m.attempts, error = %e, "delivery not sent");
            }
            self.settle(m, outcome).await;
        }
        let s = self
            .store
            .outbox_summary()
            .await
            .map_err(|e| JobError::from(format!("cannot count the outbox: {e}")))?;
        let backlog = s.queued + s.sending;
        // A channel is down when every delivery a pass tried met a passing failure (network,
        // gateway answering 5xx); it is up again once one is sent or nothing waits. A
        // delivery refused for good says nothing about the channel.
        let failing = {
            let mut f = self.failing.lock().unwrap_or_else(|p| p.into_inner());
            match retry {
                _ if sent || backlog == 0 => *f = None,
                Some(e) if retries == tried => *f = Some(e),
                _ => {}
            }
            f.clone()
        };
        if let Some(e) = failing {
            return Err(JobError {
                message: format!("deliveries are not leaving: {e}"),
                backlog: Some(backlog),
            });
        }
        Ok(Progress {
            backlog: Some(backlog),
            more: batch.len() as u32 == BATCH,
        })
    }

    /// Claim due deliveries of a polled channel (SMSSync) for its poll: each with its open
    /// address; those that may not leave are settled as failed here.
    pub async fn claim_polled(
        &self,
        channel: &str,
        limit: u32,
    ) -> Result<Vec<(OutboundMessage, String)>, tocsin_store::StoreError> {
        let claimed = self
            .store
            .claim_outbound(Some(channel), limit, POLL_CLAIM_SECS)
            .await?;
        let mut out = Vec::new();
        for m in claimed {
            match self.prepare(&m).await {
                Ok(to) => out.push((m, to)),
                Err(e) => self.settle(&m, SendOutcome::Failed(e)).await,
            }
        }
        Ok(out)
    }
}

/// The gateway to answer a source on (see [`sms::reply_gateway`]).
pub use sms::reply_gateway;

use tocsin_store::StoreExt as _;
