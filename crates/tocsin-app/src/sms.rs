//! Text messages in (SMS, and messages through the messaging apps: Telegram, WhatsApp, each
//! a report source alike, its sender known by a keyed hash of channel and sender id), and the
//! web form's reports: what a message becomes is decided here, and
//! the store only stores and fetches ([`tocsin_store::Op::All`] of primitive
//! [`Step`]s).
//!
//! An inbound message ([`ingest`]) is, in this order:
//! 1. from a **known sender** when a source has its keyed phone hash;
//! 2. when its text is a **one-time form code** ([`InboundSms::claim`]): a live, unclaimed code
//!    links its web report to the sender (a new source if need be) and queues that report's
//!    acknowledgement; the same phone sending the code again is a duplicate; an unknown,
//!    expired or another phone's code leaves an ordinary message;
//! 3. a **duplicate** when it carries the gateway's id of a report already stored (a gateway's
//!    retry), or, without one, when its known sender sent the same text within
//!    [`InboundSms::dedupe_window_secs`];
//! 4. otherwise a **new report**, from a new source when the sender is new: kind `monitor`,
//!    reliability F, TLP AMBER+STRICT, the handle and sealed contact the gateway prepared
//!    (sealed for [`InboundSms::new_source_id`]); its acknowledgement is queued as a delivery,
//!    and its dangerous-speech flags ([`crate::flags::scan_steps`]) are written with it.
//!
//! Every message, duplicate or not, leaves one `sms.receive` audit entry naming only the
//! message's report id and whether it was a form code — never the number or the gateway's id.
//! The same write adds it to its channel's counters ([`InboundSms::count_as`]: taken or
//! duplicate), so the counters agree with what is stored across crashes and retries.
//!
//! Concurrency is optimistic: the decision is made on what was read, and the write is guarded
//! (unique phone hash, unique provider key, a code claimed only while unclaimed, no same text
//! since the window's start). A guard that trips means another message got there first: the
//! whole write is undone and the message is decided again on fresh reads, at most
//! [`ATTEMPTS`] times. So two messages from one new phone at once still make one source.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tocsin_domain::{
    Actor, AuditEvent, FormClaim, InboundSms, NewReport, NewSource, OutboundMessage, Reliability,
    Report, Source, Tlp,
};
use tocsin_store::{stored_report, Op, Step, Store, StoreError};
use uuid::Uuid;

use crate::{AppError, Result};

/// How many times a message is decided and written before a run of conflicts is given up
/// (the gateway then retries it later).
pub const ATTEMPTS: usize = 4;

/// What an inbound message is decided to be.
enum Decision {
    /// Nothing new: this earlier report stands for it.
    Duplicate(Box<Report>),
    /// Write these steps; the message's report is then `Stored` (built here) or `Linked` (a web
    /// report, read back).
    Write(Vec<Step>, Outcome),
}

enum Outcome {
    Stored(Box<Report>),
    Linked(Uuid),
}

/// The audit entry of an inbound message: `sms.receive` for a text message, `message.receive`
/// (with its channel) for one through a messaging app (Telegram, WhatsApp).
pub fn receive_audit(actor: &Actor, m: &InboundSms) -> AuditEvent {
    // Neither the gateway's message id nor the number: either would name the sender.
    let channel = m.report.channel;
    if channel == tocsin_domain::Channel::Sms {
        return AuditEvent::new(
            actor,
            "sms.receive",
            "report",
            Some(m.report.id.to_string()),
        )
        .with_detail(serde_json::json!({"form_code": m.claim.is_some()}));
    }
    AuditEvent::new(
        actor,
        "message.receive",
        "report",
        Some(m.report.id.to_string()),
    )
    .with_detail(serde_json::json!({"channel": channel.as_str(), "form_code": m.claim.is_some()}))
}

/// Ingest an inbound text message (see the module): returns its report (the earlier one for a
/// duplicate, the web report for a form code) and whether it was a duplicate.
pub async fn ingest<S: Store + ?Sized>(
    store: &S,
    actor: &Actor,
    m: InboundSms,
) -> Result<(Report, bool)> {
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        // The first attempt spares the provider-key lookup: the key's unique index trips on a
        // retry, and the next attempt looks.
        let decision = decide(store, &m, attempt > 0).await?;
        let (steps, outcome) = match decision {
            Decision::Duplicate(r) => {
                let audit = receive_audit(actor, &m);
                let op = match count_step(&m, true) {
                    Some(count) => Op::All {
                        steps: vec![count],
                        audit: Box::new(audit),
                    },
                    None => Op::Audit(audit),
                };
                store.write(actor, op).await?;
                return Ok((*r, true));
            }
            Decision::Write(mut steps, outcome) => {
                steps.extend(count_step(&m, false));
                (steps, outcome)
            }
        };
        let op = Op::All {
            steps,
            audit: Box::new(receive_audit(actor, &m)),
        };
        match store.write(actor, op).await {
            Ok(_) => {
                let report = match outcome {
                    Outcome::Stored(r) => *r,
                    Outcome::Linked(id) => store.get_report(id).await?,
                };
                return Ok((report, false));
            }
            Err(StoreError::Conflict(e)) => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict(format!(
        "an SMS kept conflicting with concurrent ones: {}",
        last.unwrap_or_default()
    )))
}

/// The step that counts the message on its channel's counters ([`InboundSms::count_as`]), in
/// the message's own write: a count is never lost or doubled by a crash between the two.
fn count_step(m: &InboundSms, duplicate: bool) -> Option<Step> {
    m.count_as.as_ref().map(|name| Step::CountChannel {
        name: name.clone(),
        count: tocsin_store::ChannelCount {
            taken: i64::from(!duplicate),
            duplicates: i64::from(duplicate),
            ..Default::default()
        },
    })
}

/// Read what the message depends on and decide what it is.
async fn decide<S: Store + ?Sized>(
    store: &S,
    m: &InboundSms,
    check_provider_key: bool,
) -> Result<Decision> {
    let known = store.source_by_phone(&m.phone_hash).await?;
    if let Some(code_hash) = &m.claim {
        if let Some(d) = claim(store, m, code_hash, known.as_ref()).await? {
            return Ok(d);
        }
    }
    if let (true, Some(key)) = (check_provider_key, &m.report.provider_key) {
        if let Some(r) = store.report_by_provider_key(m.report.channel, key).await? {
            return Ok(Decision::Duplicate(Box::new(r)));
        }
    }
    let window_start = (m.report.provider_key.is_none())
        .then(|| m.report.received_at - chrono::Duration::seconds(m.dedupe_window_secs));
    if let (Some(s), Some(since)) = (&known, window_start) {
        if let Some(r) = store
            .report_by_text_since(s.id, &m.report.text, since)
            .await?
        {
            return Ok(Decision::Duplicate(Box::new(r)));
        }
    }
    let mut steps = Vec::with_capacity(3);
    let source = sender(m, known, &mut steps);
    let mut report = m.report.clone();
    report.source_id = Some(source.id);
    let ack = m
        .ack
        .as_ref()
        .map(|a| ack_message(a, &a.text, source.id, report.id));
    let stored = stored_report(&report, Some(source.handle));
    let flags = crate::flags::scan_steps(store, &report).await?;
    steps.push(Step::CreateReport {
        report: Box::new(report),
        unless_text_since: window_start,
    });
    steps.extend(ack.map(|a| Step::Enqueue(Box::new(a))));
    steps.extend(flags);
    Ok(Decision::Write(steps, Outcome::Stored(Box::new(stored))))
}

/// The form-code branch: `None` when the message is then an ordinary one.
async fn claim<S: Store + ?Sized>(
    store: &S,
    m: &InboundSms,
    code_hash: &str,
    known: Option<&Source>,
) -> Result<Option<Decision>> {
    let Some(c) = store.get_form_claim(code_hash).await? else {
        return Ok(None);
    };
    if let Some(by) = c.claimed_source {
        // The same phone sending the code again (a gateway's retry): nothing more to do.
        return Ok(match known {
            Some(s) if s.id == by => Some(Decision::Duplicate(Box::new(
                store.get_report(c.claim.report_id).await?,
            ))),
            _ => None,
        });
    }
    if c.claim.expires_at < m.report.received_at {
        return Ok(None);
    }
    let FormClaim {
        report_id,
        ack_text,
        ..
    } = c.claim;
    let mut steps = Vec::with_capacity(3);
    let source = sender(m, known.cloned(), &mut steps);
    steps.push(Step::ClaimFormCode {
        code_hash: code_hash.to_string(),
        report_id,
        source_id: source.id,
    });
    if let Some(ack) = &m.ack {
        steps.push(Step::Enqueue(Box::new(ack_message(
            ack, &ack_text, source.id, report_id,
        ))));
    }
    Ok(Some(Decision::Write(steps, Outcome::Linked(report_id))))
}

/// The sender's source: the known one, or a new one (pushed onto `steps`).
fn sender(m: &InboundSms, known: Option<Source>, steps: &mut Vec<Step>) -> Source {
    if let Some(s) = known {
        return s;
    }
    let source = new_source(m);
    steps.push(Step::CreateSource {
        source: Box::new(NewSource {
            source: source.clone(),
            contact: Some(m.sealed_contact.clone()),
        }),
        phone_hash: Some(m.phone_hash.clone()),
    });
    source
}

/// A new SMS sender's source: a monitor whose reliability cannot yet be judged, AMBER+STRICT,
/// with the id its contact was sealed for.
pub fn new_source(m: &InboundSms) -> Source {
    Source {
        id: m.new_source_id,
        handle: m.new_handle.clone(),
        kind: "monitor".into(),
        reliability: Reliability::F,
        tlp: Tlp::AmberStrict,
        has_contact: true,
        created_at: m.report.received_at,
    }
}

/// The acknowledgement of report `report_id` to its source (once per report).
fn ack_message(
    ack: &tocsin_domain::Ack,
    text: &str,
    source_id: Uuid,
    report_id: Uuid,
) -> OutboundMessage {
    let mut msg = OutboundMessage::new(
        format!("ack:{report_id}"),
        &ack.gateway,
        source_id,
        Some(report_id),
        text.to_string(),
    );
    msg.sender = ack.sender.clone();
    if let Some(why) = &ack.not_sent {
        msg.status = tocsin_domain::OutboxStatus::Failed;
        msg.last_error = Some(why.clone());
    }
    msg
}

/// The write of a report from the public web form and, when its author asked for a reply, the
/// one-time code that will link it to their phone; expired codes are removed meanwhile (those
/// before `now`); `extra` steps (the report's files, its flags) go in the same write. Audited as
/// `report.create` with whether a reply was asked for.
pub fn form_report_op(
    actor: &Actor,
    report: NewReport,
    claim: Option<FormClaim>,
    now: DateTime<Utc>,
    extra: Vec<Step>,
) -> Op {
    let audit = AuditEvent::new(
        actor,
        "report.create",
        "report",
        Some(report.id.to_string()),
    )
    .with_detail(serde_json::json!({
            "channel": report.channel.as_str(), "tlp": report.tlp.as_str(),
            "reply_requested": claim.is_some()}));
    let mut steps = vec![Step::CreateReport {
        report: Box::new(report),
        unless_text_since: None,
    }];
    if let Some(c) = claim {
        steps.push(Step::PurgeFormClaims(now));
        steps.push(Step::CreateFormClaim(c));
    }
    steps.extend(extra);
    Op::All {
        steps,
        audit: Box::new(audit),
    }
}

/// Store a report from the public web form ([`form_report_op`]), as the form's system actor,
/// with its dangerous-speech flags ([`crate::flags::scan_steps`]) in the same write.
pub async fn submit_form_report<S: Store + ?Sized>(
    store: &S,
    actor: &Actor,
    report: NewReport,
    claim: Option<FormClaim>,
) -> Result<()> {
    let flags = crate::flags::scan_steps(store, &report).await?;
    let op = form_report_op(actor, report, claim, tocsin_domain::time::now(), flags);
    store.write(actor, op).await?;
    Ok(())
}

/// [`ingest`] as a method of any store.
#[async_trait]
pub trait Intake {
    /// Ingest an inbound text message ([`ingest`]).
    async fn ingest_sms(&self, actor: &Actor, m: InboundSms) -> Result<(Report, bool)>;
}

#[async_trait]
impl<S: Store + ?Sized> Intake for S {
    async fn ingest_sms(&self, actor: &Actor, m: InboundSms) -> Result<(Report, bool)> {
        ingest(self, actor, m).await
    }
}
