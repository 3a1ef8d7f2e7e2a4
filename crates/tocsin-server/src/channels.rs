//! Messaging apps in: the Telegram bot (`[channels.telegram]`, long polling through the job
//! runner or a webhook at `POST /channels/telegram`) and WhatsApp's Cloud API
//! (`[channels.whatsapp]`, `GET`/`POST /channels/whatsapp`). A message through an app is a report
//! source exactly like a text message: it goes through [`tocsin_app::sms::ingest`], its
//! sender known by a keyed hash of channel and sender id
//! ([`tocsin_domain::sender_lookup_key`]), the chat it came from sealed in the source's
//! contact, shown only as the source's handle; the report records its channel.
//!
//! **Exactly once.** A Telegram message's provider key is a keyed hash of its chat id and
//! message id, unique per channel in the store: a webhook retry, a re-polled update (after a
//! restart before the offset was saved) or an *edit* of the message (same chat and message id)
//! is recognised and stored no second time; the first version received stands. The poller keeps
//! the next `getUpdates` offset in the database ([`tocsin_store::Jobs::channel_cursor`]), saved
//! after a batch is stored, so a new process resumes where the last one stopped.
//!
//! **Authenticated.** The webhook answers 403 unless `X-Telegram-Bot-Api-Secret-Token` equals
//! the configured secret (compared in constant time), before reading anything; it answers the
//! same `ok` whether the message was new, a duplicate or not one Tocsin takes (a group chat, a
//! photo without caption), so the answer tells nothing about the sender.
//!
//! WhatsApp's webhook is checked by `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the
//! app secret, constant time; 403 otherwise); a message's provider key is its `wamid`. Its
//! acknowledgement is sent only inside the 24-hour window
//! ([`tocsin_delivery::whatsapp`]); otherwise it is recorded as not sent, with the reason,
//! and the report page says so.
//!
//! Only private Telegram chats are taken: in a group the acknowledgement would tell the group who
//! warned. The acknowledgement, in the language of the message (as for SMS), is a delivery of
//! the outbox over the `telegram` channel ([`tocsin_delivery::telegram::TelegramChannel`]).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use tocsin_delivery::telegram::{TelegramMode, Updates, CHAT_PREFIX};
use tocsin_domain::{Ack, Actor, Channel, Country, InboundSms, NewReport, SourceContact, Tlp};
use tocsin_jobs::{Backoff, Job, JobError, Progress};

use crate::auth::same;
use crate::sms::{form_code_hash, provider_key, report_meta, GatewayError, Ingested};
use crate::AppState;

/// The name of the Telegram poller's cursor and job.
pub const TELEGRAM: &str = "telegram";

/// One message from a messaging app, as its webhook or poll delivered it.
#[derive(Clone)]
pub struct ChatMessage {
    /// `Channel::Telegram` or `Channel::Whatsapp`.
    pub channel: Channel,
    /// The sender's id on that app (never stored in clear, never logged).
    pub sender_id: String,
    /// Where a reply goes (sealed in a new source's contact), e.g. `telegram:123`.
    pub chat: Option<String>,
    /// The app's id of the message, unique on that channel (e.g. `chat:message_id`).
    pub provider_id: String,
    /// The text.
    pub text: String,
    /// When the app stops letting Tocsin answer freely (WhatsApp's 24-hour window), if it does.
    pub reply_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl std::fmt::Debug for ChatMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatMessage")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// A Telegram update as a message Tocsin takes: a new or edited message in a private chat,
/// with text (or a caption) and a sender; `None` for anything else.
pub fn telegram_message(update: &serde_json::Value) -> Option<ChatMessage> {
    let m = update
        .get("message")
        .or_else(|| update.get("edited_message"))?;
    let chat = &m["chat"];
    if chat["type"].as_str() != Some("private") {
        return None;
    }
    let chat_id = chat["id"].as_i64()?;
    let message_id = m["message_id"].as_i64()?;
    let from = m["from"]["id"].as_i64()?;
    if m["from"]["is_bot"].as_bool() == Some(true) {
        return None;
    }
    let text = m["text"].as_str().or_else(|| m["caption"].as_str())?;
    if text.trim().is_empty() {
        return None;
    }
    Some(ChatMessage {
        channel: Channel::Telegram,
        sender_id: from.to_string(),
        chat: Some(format!("{CHAT_PREFIX}{chat_id}")),
        provider_id: format!("{chat_id}:{message_id}"),
        text: text.to_string(),
        reply_until: None,
    })
}

/// A short random handle for a new source (as for SMS senders).
fn new_handle() -> String {
    use rand::Rng;
    const A: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::thread_rng();
    let s: String = (0..6)
        .map(|_| A[rng.gen_range(0..A.len())] as char)
        .collect();
    format!("M-{s}")
}

/// Ingest one message from a messaging app (see the module): parsed as an SMS is (language,
/// category, place), stored once, acknowledged through the outbox when its channel can reply.
pub async fn ingest_message(st: &AppState, m: ChatMessage) -> Result<Ingested, GatewayError> {
    let channel = m.channel.as_str();
    let can_reply = m.chat.is_some() && st.delivery.has_channel(channel);
    let reply_until = m.reply_until;
    let incoming = Incoming {
        channel: m.channel,
        sender_id: m.sender_id,
        provider_id: m.provider_id,
        text: m.text,
        contact: SourceContact {
            chat: m.chat,
            ..Default::default()
        },
    };
    ingest_incoming(st, incoming, |text, received_at| {
        // Too little of the app's reply window left: recorded as not sent.
        let not_sent = reply_until
            .filter(|until| {
                (*until - received_at).num_seconds() < tocsin_delivery::whatsapp::REPLY_MARGIN_SECS
            })
            .map(|_| tocsin_delivery::whatsapp::WINDOW_CLOSED.to_string());
        can_reply.then(|| Ack {
            gateway: channel.to_string(),
            text,
            sender: None,
            not_sent,
        })
    })
    .await
}

/// A message in through a channel other than an SMS gateway (a messaging app, e-mail).
pub(crate) struct Incoming {
    /// Its channel.
    pub channel: Channel,
    /// The sender's id on it (never stored in clear, never logged).
    pub sender_id: String,
    /// The channel's id of the message (its provider key is a keyed hash of it).
    pub provider_id: String,
    /// The text.
    pub text: String,
    /// How to answer the sender, sealed in a new source's contact.
    pub contact: SourceContact,
}

/// Store `m` as a report exactly as an SMS is (language, category, place, form code; stored
/// once by its provider key; sender known by a keyed hash, contact sealed, handle only).
/// `ack` gets the acknowledgement's text (in the message's language) and the time received,
/// and gives the acknowledgement, if any; one that may be sent wakes the outbox.
pub(crate) async fn ingest_incoming(
    st: &AppState,
    m: Incoming,
    ack: impl FnOnce(String, chrono::DateTime<chrono::Utc>) -> Option<Ack>,
) -> Result<Ingested, GatewayError> {
    let channel = m.channel.as_str();
    if m.text.len() > tocsin_domain::report::MAX_TEXT_BYTES {
        return Err(GatewayError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "message too long",
        ));
    }
    if m.sender_id.trim().is_empty() || m.provider_id.is_empty() {
        return Err(GatewayError::bad_request("missing sender or message id"));
    }
    let text = m.text.replace('\0', "\u{FFFD}");
    let claim = tocsin_sms::parse_form_code(&text).map(|c| form_code_hash(st, &c));
    let hint = st.sms.country_hint.as_deref();
    let parsed = tocsin_sms::parse(&text, hint);
    let (lat, lon, country) = match &parsed.place {
        Some(p) => (
            Some(p.latitude),
            Some(p.longitude),
            Country::parse(&p.country).ok(),
        ),
        None => (None, None, hint.and_then(|h| Country::parse(h).ok())),
    };
    let report = NewReport {
        id: tocsin_domain::random_id(),
        channel: m.channel,
        provider_key: Some(provider_key(st, channel, &m.provider_id)),
        source_id: None,
        text,
        tlp: Tlp::AmberStrict,
        latitude: lat,
        longitude: lon,
        country,
        occurred_at: None,
        received_at: tocsin_domain::time::now(),
        meta: report_meta(&parsed),
    };
    let reference = tocsin_sms::reference_code(&report.id);
    let ack = ack(
        tocsin_sms::ack_text(parsed.language, &reference),
        report.received_at,
    );
    let wake = ack.as_ref().is_some_and(|a| a.not_sent.is_none());
    let new_source_id = tocsin_domain::random_id();
    let inbound = InboundSms {
        phone_hash: st
            .contact_key
            .lookup_hash(&tocsin_domain::sender_lookup_key(m.channel, &m.sender_id)),
        new_source_id,
        sealed_contact: m.contact.seal(&st.contact_key, new_source_id),
        new_handle: new_handle(),
        report,
        dedupe_window_secs: st.sms.dedupe_window_secs.unwrap_or(600),
        ack,
        claim,
        count_as: Some(channel.to_string()),
    };
    let actor = Actor::system(channel);
    match tocsin_app::sms::ingest(&*st.store, &actor, inbound).await {
        Ok((r, duplicate)) => {
            // No handle, no report id, no sender: see `sms::ingest`.
            tracing::info!(channel, duplicate, "message received");
            if !duplicate && wake {
                st.outbox_wake.notify_one();
            }
            Ok(Ingested {
                reference: tocsin_sms::reference_code(&r.id),
                duplicate,
            })
        }
        Err(e) => {
            tracing::error!(channel, error = %e, "could not store a message; it will be retried");
            crate::channel_status::failed(st, channel, &format!("could not store a message: {e}"))
                .await;
            Err(GatewayError::unavailable())
        }
    }
}

/// `POST /channels/telegram`: Telegram's webhook. 404 unless Telegram is configured in
/// webhook mode; 403 on a missing or wrong secret token (nothing read, nothing stored); 400 on
/// a body that is no JSON object; 503 when storage fails (Telegram retries); otherwise `ok`.
#[utoipa::path(post, path = "/channels/telegram", tag = "channels",
    request_body(content = String, content_type = "application/json",
        description = "A Telegram `Update` (a private chat's `message` or `edited_message` becomes a report)"),
    params(("X-Telegram-Bot-Api-Secret-Token" = String, Header,
        description = "The `secret_token` of `[channels.telegram]`, as given to `setWebhook`")),
    responses(
        (status = 200, description = "`ok`: accepted, whether new, a duplicate or left out", body = String),
        (status = 400, description = "not a JSON object", body = String),
        (status = 403, description = "missing or wrong secret token; nothing stored", body = String),
        (status = 404, description = "Telegram is not configured in webhook mode", body = String),
        (status = 503, description = "storage unavailable; Telegram retries", body = String)),
    security(()))]
pub async fn telegram_webhook(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match telegram_webhook_inner(&st, &headers, &body).await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => e.into_response(),
    }
}

async fn telegram_webhook_inner(
    st: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), GatewayError> {
    let Some(api) = st.telegram.as_ref() else {
        return Err(GatewayError::disabled());
    };
    let cfg = api.config();
    if cfg.mode != TelegramMode::Webhook {
        return Err(GatewayError::disabled());
    }
    let sent = headers
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok());
    let ok = match (&cfg.secret_token, sent) {
        (Some(want), Some(sent)) => same(sent, &want.0),
        _ => false,
    };
    if !ok {
        return Err(GatewayError::wrong_secret());
    }
    let update: serde_json::Value = serde_json::from_slice(body)
        .ok()
        .filter(serde_json::Value::is_object)
        .ok_or(GatewayError::bad_request("malformed update"))?;
    if let Some(m) = telegram_message(&update) {
        ingest_message(st, m).await?;
    }
    Ok(())
}

/// The messaging apps' webhooks in the OpenAPI document (`/api/v1/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(telegram_webhook, whatsapp_verify, whatsapp_webhook))]
pub struct ChannelsDoc;

/// What one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Polled {
    /// Updates Telegram gave.
    pub updates: usize,
    /// Of those, messages stored as new reports (not duplicates, not ignored).
    pub stored: usize,
}

/// Why a poll stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollError {
    /// 429: Telegram asks to wait this long.
    RateLimited(Duration),
    /// Telegram or storage is unavailable (5xx, network): back off.
    Unavailable(String),
    /// Telegram refuses the bot (a wrong token).
    Refused(String),
}

/// One `getUpdates` from the stored offset; every message stored (or recognised); then the
/// offset moved past the last update handled. An update that fails to store stops the batch
/// with the offset at it, so it is asked for again.
pub async fn poll_telegram(st: &AppState) -> Result<Polled, PollError> {
    let Some(api) = st.telegram.as_ref() else {
        return Ok(Polled::default());
    };
    let offset = st
        .store
        .channel_cursor(TELEGRAM)
        .await
        .map_err(|e| PollError::Unavailable(format!("cannot read the Telegram offset: {e}")))?;
    let updates = match api.get_updates(offset).await {
        Updates::Got(u) => u,
        Updates::RateLimited(d) => return Err(PollError::RateLimited(d)),
        Updates::Unavailable(e) => return Err(PollError::Unavailable(e)),
        Updates::Refused(e) => return Err(PollError::Refused(e)),
    };
    let mut polled = Polled {
        updates: updates.len(),
        stored: 0,
    };
    let mut next = offset;
    let mut failure = None;
    for u in &updates {
        // An update without an id cannot be acknowledged to Telegram: skipped.
        let Some(id) = u["update_id"].as_i64() else {
            continue;
        };
        if let Some(m) = telegram_message(u) {
            match ingest_message(st, m).await {
                Ok(i) if !i.duplicate => polled.stored += 1,
                Ok(_) => {}
                // Too long, no sender: a lasting refusal, skipped like any malformed update.
                Err(e) if e.status.is_client_error() => {}
                Err(e) => {
                    failure = Some(e.body.to_string());
                    break;
                }
            }
        }
        next = Some(next.map_or(id + 1, |n| n.max(id + 1)));
    }
    if let Some(n) = next.filter(|n| Some(*n) != offset) {
        st.store
            .advance_channel_cursor(TELEGRAM, n)
            .await
            .map_err(|e| PollError::Unavailable(format!("cannot save the Telegram offset: {e}")))?;
    }
    match failure {
        Some(e) => Err(PollError::Unavailable(e)),
        None => Ok(polled),
    }
}

/// The Telegram poller as a job (`telegram`, one server at a time): long polls back to back;
/// on 429 it waits what Telegram asked (`retry_after`, at most ten minutes) before failing the
/// run, and failures back off from one second to a minute. `None` unless Telegram is
/// configured in poll mode.
pub fn telegram_poll_job(st: AppState) -> Option<Job> {
    let api = st.telegram.as_ref()?;
    if api.config().mode != TelegramMode::Poll {
        return None;
    }
    Some(
        Job::new(TELEGRAM, Duration::from_millis(200), move || {
            let st = st.clone();
            async move {
                match poll_telegram(&st).await {
                    Ok(p) => Ok(Progress {
                        backlog: None,
                        more: p.updates > 0,
                    }),
                    Err(PollError::RateLimited(d)) => {
                        tokio::time::sleep(d.min(Duration::from_secs(600))).await;
                        Err(JobError::from(format!(
                            "Telegram asked to wait {} s (429)",
                            d.as_secs()
                        )))
                    }
                    Err(PollError::Unavailable(e) | PollError::Refused(e)) => {
                        Err(JobError::from(e))
                    }
                }
            }
        })
        .singleton()
        .backoff(Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }),
    )
}

/// The messages of a WhatsApp Cloud API webhook body Tocsin takes: text messages (or media
/// with a caption) with a sender and a `wamid`; statuses and anything else are left out.
pub fn whatsapp_messages(body: &serde_json::Value) -> Vec<ChatMessage> {
    let mut out = Vec::new();
    let entries = body["entry"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    for change in entries
        .iter()
        .filter_map(|e| e["changes"].as_array())
        .flatten()
    {
        let messages = change["value"]["messages"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for m in messages {
            let (Some(from), Some(id)) = (m["from"].as_str(), m["id"].as_str()) else {
                continue;
            };
            let from = from.trim_start_matches('+');
            if from.is_empty() || !from.bytes().all(|b| b.is_ascii_digit()) || id.is_empty() {
                continue;
            }
            let text = match m["type"].as_str() {
                Some("text") => m["text"]["body"].as_str(),
                Some(kind @ ("image" | "video" | "document")) => m[kind]["caption"].as_str(),
                _ => None,
            };
            let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
                continue;
            };
            // The window opens with the customer's message (its own time, in seconds).
            let sent_at = m["timestamp"]
                .as_str()
                .and_then(|t| t.parse::<i64>().ok())
                .or_else(|| m["timestamp"].as_i64())
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .unwrap_or_else(tocsin_domain::time::now);
            out.push(ChatMessage {
                channel: Channel::Whatsapp,
                sender_id: from.to_string(),
                chat: Some(format!("{}{from}", tocsin_delivery::whatsapp::CHAT_PREFIX)),
                provider_id: id.to_string(),
                text: text.to_string(),
                reply_until: Some(
                    sent_at + chrono::Duration::seconds(tocsin_delivery::whatsapp::WINDOW_SECS),
                ),
            });
        }
    }
    out
}

/// `GET /channels/whatsapp`: the verify handshake. With `hub.mode=subscribe` and the
/// configured `hub.verify_token` (compared in constant time) it answers `hub.challenge`;
/// otherwise 403 (404 when WhatsApp is not configured).
#[utoipa::path(get, path = "/channels/whatsapp", tag = "channels",
    params(
        ("hub.mode" = String, Query, description = "`subscribe`"),
        ("hub.verify_token" = String, Query, description = "The `verify_token` of `[channels.whatsapp]`"),
        ("hub.challenge" = String, Query, description = "Echoed back when the token is right")),
    responses(
        (status = 200, description = "the challenge", body = String),
        (status = 403, description = "wrong mode or token", body = String),
        (status = 404, description = "WhatsApp is not configured", body = String)),
    security(()))]
pub async fn whatsapp_verify(
    State(st): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<std::collections::BTreeMap<String, String>>,
) -> Response {
    let Some(cfg) = st.whatsapp.as_ref() else {
        return GatewayError::disabled().into_response();
    };
    let token_ok = cfg.verify_token_ok(q.get("hub.verify_token").map_or("", String::as_str));
    let challenge = q.get("hub.challenge").map_or("", String::as_str);
    let challenge_ok = !challenge.is_empty()
        && challenge.len() <= 256
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if q.get("hub.mode").map(String::as_str) == Some("subscribe") && token_ok && challenge_ok {
        (StatusCode::OK, challenge.to_string()).into_response()
    } else {
        GatewayError::wrong_secret().into_response()
    }
}

/// `POST /channels/whatsapp`: the Cloud API's webhook. 403 unless `X-Hub-Signature-256` is the
/// HMAC-SHA256 of the raw body under the app secret (nothing read, nothing stored); 400 on a
/// body that is no JSON object; 503 when storage fails (WhatsApp retries; every message is
/// stored once by its `wamid`); otherwise `ok`, whatever the messages were.
#[utoipa::path(post, path = "/channels/whatsapp", tag = "channels",
    request_body(content = String, content_type = "application/json",
        description = "A Cloud API notification; each text message (or captioned media) becomes a report"),
    params(("X-Hub-Signature-256" = String, Header,
        description = "`sha256=` and the hex HMAC-SHA256 of the raw body with `app_secret`")),
    responses(
        (status = 200, description = "`ok`: accepted, whatever the messages were", body = String),
        (status = 400, description = "not a JSON object", body = String),
        (status = 403, description = "missing or wrong signature; nothing stored", body = String),
        (status = 404, description = "WhatsApp is not configured", body = String),
        (status = 503, description = "storage unavailable; WhatsApp retries", body = String)),
    security(()))]
pub async fn whatsapp_webhook(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(cfg) = st.whatsapp.as_ref() else {
        return GatewayError::disabled().into_response();
    };
    let sig = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !cfg.signature_ok(sig, &body) {
        return GatewayError::wrong_secret().into_response();
    }
    let Some(v) = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .filter(serde_json::Value::is_object)
    else {
        return GatewayError::bad_request("malformed notification").into_response();
    };
    for m in whatsapp_messages(&v) {
        match ingest_message(&st, m).await {
            Ok(_) => {}
            Err(e) if e.status.is_client_error() => {}
            Err(e) => return e.into_response(),
        }
    }
    (StatusCode::OK, "ok").into_response()
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn only_private_text_messages_from_people_are_taken() {
        let u = |m: serde_json::Value| serde_json::json!({"update_id": 1, "message": m});
        let ok = telegram_message(&u(serde_json::json!({
            "message_id": 7, "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": false}, "text": "hello"})))
        .unwrap();
        assert_eq!(ok.provider_id, "42:7");
        assert_eq!(ok.chat.as_deref(), Some("telegram:42"));
        let edit = telegram_message(&serde_json::json!({"update_id": 2, "edited_message": {
            "message_id": 7, "chat": {"id": 42, "type": "private"},
            "from": {"id": 42}, "text": "hello (edited)"}}))
        .unwrap();
        assert_eq!(
            edit.provider_id, ok.provider_id,
            "an edit is the same message"
        );
        for bad in [
            serde_json::json!({"message_id": 7, "chat": {"id": -5, "type": "group"}, "from": {"id": 1}, "text": "x"}),
            serde_json::json!({"message_id": 7, "chat": {"id": 42, "type": "private"}, "from": {"id": 42}}),
            serde_json::json!({"message_id": 7, "chat": {"id": 42, "type": "private"}, "from": {"id": 42, "is_bot": true}, "text": "x"}),
            serde_json::json!({"chat": {"id": 42, "type": "private"}, "from": {"id": 42}, "text": "x"}),
            serde_json::json!("not an object"),
        ] {
            assert!(telegram_message(&u(bad.clone())).is_none(), "{bad}");
        }
        assert!(
            telegram_message(&serde_json::json!({"update_id": 3, "callback_query": {}})).is_none()
        );
    }
}
