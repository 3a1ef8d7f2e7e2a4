//! Field reporting by SMS: inbound webhooks for Kannel, Twilio, Africa's Talking, FrontlineSMS
//! and SMSSync; delivery reports; the outbox worker that sends replies.
//!
//! Every inbound message goes through [`ingest`]: the number is normalised to E.164, looked up
//! by a keyed hash, sealed for storage, and from then on shown only as the source's handle. The
//! report, a new source and the acknowledgement are written in one transaction; a message a
//! gateway delivers twice is recognised (provider id, else sender + text within a window) and
//! answered with success without storing anything. These endpoints keep no access log and
//! answer with `Cache-Control: no-store`. A gateway without a configuration table answers 404.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use rand::Rng;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use tocsin_domain::{
    Actor, Channel, Country, InboundSms, NewReport, OutboundMessage, ReportMeta, SourceContact, Tlp,
};
use tocsin_store::{Op, SendOutcome, StoreExt};

use crate::auth::same;
use crate::AppState;

/// A secret from the configuration: never printed.
#[derive(Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `[sms]` in the configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// Calling code for numbers written nationally (e.g. `236`).
    pub default_calling_code: Option<String>,
    /// ISO alpha-3 country most messages come from (helps place names resolve).
    pub country_hint: Option<String>,
    /// Without a provider id, the same sender and text within this many seconds is a
    /// duplicate (default 600).
    pub dedupe_window_secs: Option<i64>,
    /// This server's address as gateways reach it, e.g. `https://tocsin.example.org` (Twilio
    /// signatures cover it; delivery-report URLs use it).
    pub public_url: Option<String>,
    /// Gateway for replies to sources whose gateway is unknown (default: the first enabled).
    pub reply_gateway: Option<String>,
    /// Give up on a message after this many attempts (default 8).
    pub max_attempts: Option<i32>,
    /// `[sms.kannel]`.
    pub kannel: Option<KannelConfig>,
    /// `[sms.twilio]`.
    pub twilio: Option<TwilioConfig>,
    /// `[sms.africastalking]`.
    pub africastalking: Option<AfricasTalkingConfig>,
    /// `[sms.frontlinesms]`.
    pub frontlinesms: Option<SecretOnly>,
    /// `[sms.smssync]`.
    pub smssync: Option<SecretOnly>,
}

/// `[sms.kannel]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KannelConfig {
    /// smsbox's sendsms URL, e.g. `http://127.0.0.1:13013/cgi-bin/sendsms`.
    pub sendsms_url: String,
    /// sendsms user.
    pub username: String,
    /// sendsms password.
    pub password: Secret,
    /// Sender number or name for replies.
    pub from: Option<String>,
    /// If set, inbound requests must carry `secret=` with this value.
    pub inbound_secret: Option<Secret>,
}

/// `[sms.twilio]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    /// Account SID.
    pub account_sid: String,
    /// Auth token (verifies `X-Twilio-Signature`, authenticates sends).
    pub auth_token: Secret,
    /// Sending number.
    pub from: String,
    /// API base (default `https://api.twilio.com`).
    pub api_base: Option<String>,
}

/// `[sms.africastalking]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AfricasTalkingConfig {
    /// Account username.
    pub username: String,
    /// API key.
    pub api_key: Secret,
    /// Sender id or short code.
    pub from: Option<String>,
    /// API base (default `https://api.africastalking.com`).
    pub api_base: Option<String>,
    /// If set, inbound callbacks must carry `secret=` with this value.
    pub inbound_secret: Option<Secret>,
}

/// A gateway authenticated by a shared secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretOnly {
    /// The shared secret.
    pub secret: Secret,
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

fn plain(status: StatusCode, body: &'static str) -> Response {
    no_store((status, body).into_response())
}

fn disabled() -> Response {
    plain(StatusCode::NOT_FOUND, "this gateway is not enabled")
}

/// What happened to an inbound message.
#[derive(Debug)]
pub struct Ingested {
    /// The report's reference code (what the warner is told).
    pub reference: String,
    /// It had been received before.
    pub duplicate: bool,
}

/// A short random handle for a new source, e.g. `M-7KQ2MX`.
fn new_handle() -> String {
    const A: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::thread_rng();
    let s: String = (0..6)
        .map(|_| A[rng.gen_range(0..A.len())] as char)
        .collect();
    format!("M-{s}")
}

/// Ingest one inbound message from `gateway`. `reply_via` names the gateway that can carry
/// the acknowledgement (None: none can).
pub async fn ingest(
    st: &AppState,
    gateway: &str,
    provider_id: Option<&str>,
    from: &str,
    text: String,
    reply_via: Option<&str>,
) -> Result<Ingested, Response> {
    let cfg = &st.sms;
    if text.len() > tocsin_domain::report::MAX_TEXT_BYTES {
        return Err(plain(StatusCode::PAYLOAD_TOO_LARGE, "message too long"));
    }
    let text = text.replace('\0', "\u{FFFD}");
    // A number we can answer, or (alphanumeric senders) an identity we cannot reply to.
    let (identity, reply_via) =
        match tocsin_sms::normalize_phone(from, cfg.default_calling_code.as_deref()) {
            Ok(e164) => (e164, reply_via),
            Err(_) if !from.trim().is_empty() => (format!("sender:{}", from.trim()), None),
            Err(_) => return Err(plain(StatusCode::BAD_REQUEST, "missing sender")),
        };
    let hint = cfg.country_hint.as_deref();
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
        id: tocsin_domain::new_id(),
        channel: Channel::Sms,
        provider_message_id: provider_id
            .filter(|p| !p.is_empty())
            .map(|p| format!("{gateway}:{p}")),
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
    let ack = reply_via.map(|g| {
        (
            g.to_string(),
            tocsin_sms::ack_text(parsed.language, &reference),
        )
    });
    let contact = SourceContact {
        phone: identity.starts_with('+').then(|| identity.clone()),
        name: None,
        email: None,
    };
    let m = InboundSms {
        phone_hash: st.contact_key.lookup_hash(&identity),
        sealed_contact: contact.seal(&st.contact_key),
        new_handle: new_handle(),
        report,
        dedupe_window_secs: cfg.dedupe_window_secs.unwrap_or(600),
        ack,
    };
    match st
        .store
        .ingest_sms(&Actor::system(&format!("sms-{gateway}")), m)
        .await
    {
        Ok((r, duplicate)) => {
            tracing::info!(gateway, report = %r.id, source = r.source.as_deref().unwrap_or(""), duplicate, "SMS received");
            // Wake the sender only for gateways it pushes to; polled ones wait for their poll.
            if !duplicate && reply_via.is_some_and(|g| tocsin_store::PUSH_GATEWAYS.contains(&g)) {
                st.outbox_wake.notify_one();
            }
            Ok(Ingested {
                reference: tocsin_sms::reference_code(&r.id),
                duplicate,
            })
        }
        Err(e) => {
            tracing::error!(gateway, error = %e, "could not store an SMS; the gateway will retry");
            Err(plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage unavailable; retry later",
            ))
        }
    }
}

/// What parsing found, as stored on the report (SMS and the web form alike).
pub fn report_meta(parsed: &tocsin_sms::Parsed) -> ReportMeta {
    ReportMeta {
        language: Some(parsed.language.code().to_string()),
        category: parsed.category.map(|c| c.code().to_string()),
        // The resolved place, or the name the message seemed to give when it is unknown.
        place_name: parsed
            .place
            .as_ref()
            .map(|p| p.name.clone())
            .or_else(|| parsed.place_text.clone()),
        geo_precision: parsed.place.as_ref().map(|p| i16::from(p.geo_precision)),
        place_unresolved: parsed.unresolved_place,
    }
}

/// Decode Kannel's `%b` bytes per its `charset`/`coding`, so UCS-2 texts arrive intact.
pub fn kannel_text(
    bytes: &[u8],
    charset: Option<&str>,
    coding: Option<&str>,
) -> Result<String, &'static str> {
    let cs = charset.unwrap_or("").to_ascii_uppercase();
    let utf16 = cs == "UTF-16BE"
        || cs == "UCS-2"
        || cs == "UTF-16"
        || (cs.is_empty() && coding == Some("2"));
    if utf16 {
        if !bytes.len().is_multiple_of(2) {
            return Err("UCS-2 text with an odd number of bytes");
        }
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16(&units).map_err(|_| "invalid UTF-16 text");
    }
    match cs.as_str() {
        "ISO-8859-1" | "LATIN1" | "WINDOWS-1252" => Ok(bytes.iter().map(|&b| b as char).collect()),
        _ => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            // Kannel's default 8-bit recoding is Latin-1.
            Err(_) => Ok(bytes.iter().map(|&b| b as char).collect()),
        },
    }
}

/// Percent-decode a query string into raw byte values (Kannel's `%b` is binary).
pub fn raw_pairs(q: &str) -> BTreeMap<String, Vec<u8>> {
    fn dec(s: &str) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    match u8::from_str_radix(
                        std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"),
                        16,
                    ) {
                        Ok(v) => {
                            out.push(v);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                c => out.push(c),
            }
            i += 1;
        }
        out
    }
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (String::from_utf8_lossy(&dec(k)).into_owned(), dec(v))
        })
        .collect()
}

fn field<'a>(m: &'a BTreeMap<String, Vec<u8>>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(|v| std::str::from_utf8(v).ok())
}

/// `GET|POST /sms/kannel`: Kannel `sms-service` get-url or post-url.
pub async fn kannel(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(cfg) = st.sms.kannel.clone() else {
        return disabled();
    };
    // get-url sends everything in the query; post-url sends the text as the body.
    let mut m = raw_pairs(q.as_deref().unwrap_or(""));
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if form {
        m.extend(raw_pairs(&String::from_utf8_lossy(&body)));
    } else if !body.is_empty() && !m.contains_key("message") {
        m.insert("message".into(), body.to_vec());
    }
    if let Some(secret) = &cfg.inbound_secret {
        if !same(field(&m, "secret").unwrap_or(""), &secret.0) {
            return plain(StatusCode::FORBIDDEN, "wrong secret");
        }
    }
    let charset = field(&m, "charset").map(str::to_string).or_else(|| {
        headers
            .get("x-kannel-charset")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let (Some(sender), Some(msg)) = (field(&m, "sender"), m.get("message")) else {
        return plain(StatusCode::BAD_REQUEST, "missing sender or message");
    };
    let text = match kannel_text(msg, charset.as_deref(), field(&m, "coding")) {
        Ok(t) => t,
        Err(e) => return no_store((StatusCode::BAD_REQUEST, e).into_response()),
    };
    match ingest(&st, "kannel", field(&m, "id"), sender, text, Some("kannel")).await {
        // An empty body: with `omit-empty = true` Kannel sends nothing back itself; the
        // acknowledgement goes out through the outbox.
        Ok(_) => plain(StatusCode::OK, ""),
        Err(r) => r,
    }
}

/// Twilio's request signature: base64(HMAC-SHA1(token, url + sorted key/value pairs)).
pub fn twilio_signature(token: &str, url: &str, params: &BTreeMap<String, String>) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).expect("HMAC takes any key");
    mac.update(url.as_bytes());
    for (k, v) in params {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

// The error is the response itself, returned at once by every caller.
#[allow(clippy::result_large_err)]
fn form_map(body: &[u8]) -> Result<BTreeMap<String, String>, Response> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map(|v| v.into_iter().collect())
        .map_err(|_| plain(StatusCode::BAD_REQUEST, "malformed form body"))
}

/// A Twilio callback's form parameters, once Twilio is enabled and the request's
/// `X-Twilio-Signature` (over our public URL and the parameters) checks out.
#[allow(clippy::result_large_err)]
fn twilio_request(
    st: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<BTreeMap<String, String>, Response> {
    let cfg = st.sms.twilio.as_ref().ok_or_else(disabled)?;
    let params = form_map(body)?;
    let base = st
        .sms
        .public_url
        .as_deref()
        .unwrap_or("")
        .trim_end_matches('/');
    let url = format!(
        "{base}{}",
        uri.path_and_query()
            .map(|p| p.as_str())
            .unwrap_or(uri.path())
    );
    let sent = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if same(sent, &twilio_signature(&cfg.auth_token.0, &url, &params)) {
        Ok(params)
    } else {
        Err(plain(StatusCode::FORBIDDEN, "bad X-Twilio-Signature"))
    }
}

fn twiml() -> Response {
    no_store(
        (
            [(header::CONTENT_TYPE, "text/xml")],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
        )
            .into_response(),
    )
}

/// `POST /sms/twilio`: Twilio's incoming-message webhook (signature verified).
pub async fn twilio(
    State(st): State<AppState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match twilio_request(&st, &uri, &headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (Some(from), Some(text)) = (params.get("From"), params.get("Body")) else {
        return plain(StatusCode::BAD_REQUEST, "missing From or Body");
    };
    match ingest(
        &st,
        "twilio",
        params.get("MessageSid").map(String::as_str),
        from,
        text.clone(),
        Some("twilio"),
    )
    .await
    {
        Ok(_) => twiml(),
        Err(r) => r,
    }
}

/// `POST /sms/twilio/status`: Twilio's status callback.
pub async fn twilio_status(
    State(st): State<AppState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match twilio_request(&st, &uri, &headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (Some(sid), Some(status)) = (params.get("MessageSid"), params.get("MessageStatus")) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "missing MessageSid or MessageStatus",
        );
    };
    let delivered = match status.as_str() {
        "delivered" => true,
        "undelivered" | "failed" => false,
        _ => return plain(StatusCode::OK, ""),
    };
    delivery(&st, "twilio", sid, delivered).await
}

async fn delivery(st: &AppState, gateway: &str, id: &str, delivered: bool) -> Response {
    let op = Op::DeliveryReport {
        gateway: gateway.to_string(),
        provider_message_id: id.to_string(),
        delivered,
    };
    match st
        .store
        .write(&Actor::system(&format!("sms-{gateway}")), op)
        .await
    {
        Ok(_) => plain(StatusCode::OK, ""),
        Err(_) => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage unavailable; retry later",
        ),
    }
}

/// Query of `GET /sms/kannel/dlr`.
#[derive(Deserialize)]
pub struct KannelDlr {
    id: String,
    status: i32,
    secret: Option<String>,
}

/// `GET /sms/kannel/dlr?id=…&status=%d`: Kannel delivery reports (1 delivered, 2 failed,
/// 16 rejected; 4 buffered and 8 submitted are progress only).
pub async fn kannel_dlr(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let Some(cfg) = st.sms.kannel.clone() else {
        return disabled();
    };
    let Ok(q) = serde_urlencoded::from_str::<KannelDlr>(q.as_deref().unwrap_or("")) else {
        return plain(StatusCode::BAD_REQUEST, "expected id and status");
    };
    if let Some(secret) = &cfg.inbound_secret {
        if !same(q.secret.as_deref().unwrap_or(""), &secret.0) {
            return plain(StatusCode::FORBIDDEN, "wrong secret");
        }
    }
    match q.status {
        1 => delivery(&st, "kannel", &q.id, true).await,
        2 | 16 => delivery(&st, "kannel", &q.id, false).await,
        _ => plain(StatusCode::OK, ""),
    }
}

fn query_secret_ok(q: Option<&str>, want: Option<&Secret>) -> bool {
    let Some(want) = want else { return true };
    let m = raw_pairs(q.unwrap_or(""));
    same(field(&m, "secret").unwrap_or(""), &want.0)
}

/// An Africa's Talking callback's form parameters, once the gateway is enabled and the
/// request carries its inbound secret (when one is configured).
#[allow(clippy::result_large_err)]
fn africastalking_request(
    st: &AppState,
    q: Option<&str>,
    body: &[u8],
) -> Result<BTreeMap<String, String>, Response> {
    let cfg = st.sms.africastalking.as_ref().ok_or_else(disabled)?;
    if !query_secret_ok(q, cfg.inbound_secret.as_ref()) {
        return Err(plain(StatusCode::FORBIDDEN, "wrong secret"));
    }
    form_map(body)
}

/// `POST /sms/africastalking`: incoming messages (`id, text, from, to, date, linkId`).
pub async fn africastalking(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let p = match africastalking_request(&st, q.as_deref(), &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (Some(from), Some(text)) = (p.get("from"), p.get("text")) else {
        return plain(StatusCode::BAD_REQUEST, "missing from or text");
    };
    match ingest(
        &st,
        "africastalking",
        p.get("id").map(String::as_str),
        from,
        text.clone(),
        Some("africastalking"),
    )
    .await
    {
        Ok(_) => plain(StatusCode::OK, ""),
        Err(r) => r,
    }
}

/// `POST /sms/africastalking/delivery`: delivery reports (`id`, `status`).
pub async fn africastalking_delivery(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let p = match africastalking_request(&st, q.as_deref(), &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (Some(id), Some(status)) = (p.get("id"), p.get("status")) else {
        return plain(StatusCode::BAD_REQUEST, "missing id or status");
    };
    match status.as_str() {
        "Success" => delivery(&st, "africastalking", id, true).await,
        "Failed" | "Rejected" => delivery(&st, "africastalking", id, false).await,
        _ => plain(StatusCode::OK, ""),
    }
}

/// Form or JSON body as string pairs.
#[allow(clippy::result_large_err)]
fn body_map(headers: &HeaderMap, body: &[u8]) -> Result<BTreeMap<String, String>, Response> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if json {
        let v: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| plain(StatusCode::BAD_REQUEST, "malformed JSON"))?;
        let obj = v
            .as_object()
            .ok_or_else(|| plain(StatusCode::BAD_REQUEST, "expected a JSON object"))?;
        Ok(obj
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect())
    } else {
        form_map(body)
    }
}

/// `POST /sms/frontlinesms`: FrontlineSMS webhook (`secret, from, message`). Replies to
/// FrontlineSMS senders go through the configured reply gateway, if any.
pub async fn frontlinesms(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(cfg) = st.sms.frontlinesms.clone() else {
        return disabled();
    };
    let p = match body_map(&headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !same(
        p.get("secret").map(String::as_str).unwrap_or(""),
        &cfg.secret.0,
    ) {
        return plain(StatusCode::FORBIDDEN, "wrong secret");
    }
    let (Some(from), Some(text)) = (p.get("from"), p.get("message")) else {
        return plain(StatusCode::BAD_REQUEST, "missing from or message");
    };
    let reply = reply_gateway(&st.sms, None);
    match ingest(
        &st,
        "frontlinesms",
        p.get("id").map(String::as_str),
        from,
        text.clone(),
        reply.as_deref(),
    )
    .await
    {
        Ok(_) => no_store(Json(serde_json::json!({"success": true})).into_response()),
        Err(r) => r,
    }
}

fn smssync_json(v: serde_json::Value) -> Response {
    no_store(Json(v).into_response())
}

/// `POST /sms/smssync`: SMSSync delivers a message (`secret, from, message, sent_to,
/// sent_timestamp`), or confirms sent messages (`?task=sent`).
pub async fn smssync(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(cfg) = st.sms.smssync.clone() else {
        return disabled();
    };
    let task = field(&raw_pairs(q.as_deref().unwrap_or("")), "task").map(str::to_string);
    if task.as_deref() == Some("sent") {
        // {"queued_messages": ["uuid", …]}: the phone sent these.
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let ids: Vec<String> = v["queued_messages"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut done = Vec::new();
        for id in ids {
            if let Ok(uuid) = uuid::Uuid::parse_str(&id) {
                if let Ok(m) = st.store.get_outbound(uuid).await {
                    if m.gateway == "smssync" {
                        let op = Op::SettleOutbound {
                            id: uuid,
                            outcome: SendOutcome::Sent(Some(id.clone())),
                        };
                        if st
                            .store
                            .write(&Actor::system("sms-smssync"), op)
                            .await
                            .is_ok()
                        {
                            done.push(id);
                        }
                    }
                }
            }
        }
        return smssync_json(serde_json::json!({ "message_uuids": done }));
    }
    let p = match body_map(&headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !same(
        p.get("secret").map(String::as_str).unwrap_or(""),
        &cfg.secret.0,
    ) {
        return smssync_json(
            serde_json::json!({"payload": {"success": false, "error": "wrong secret"}}),
        );
    }
    let (Some(from), Some(text)) = (p.get("from"), p.get("message")) else {
        return plain(StatusCode::BAD_REQUEST, "missing from or message");
    };
    match ingest(
        &st,
        "smssync",
        p.get("message_id").map(String::as_str),
        from,
        text.clone(),
        Some("smssync"),
    )
    .await
    {
        Ok(_) => smssync_json(serde_json::json!({"payload": {"success": true, "error": null}})),
        Err(r) => r,
    }
}

/// Query of `GET /sms/smssync`.
#[derive(Deserialize, Default)]
pub struct SmsSyncPoll {
    task: Option<String>,
    secret: Option<String>,
}

/// `GET /sms/smssync?task=send&secret=…`: the phone fetches queued replies.
pub async fn smssync_poll(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let Some(cfg) = st.sms.smssync.clone() else {
        return disabled();
    };
    let q: SmsSyncPoll = serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    if q.task.as_deref() != Some("send") {
        return plain(StatusCode::BAD_REQUEST, "expected task=send");
    }
    if !same(q.secret.as_deref().unwrap_or(""), &cfg.secret.0) {
        return plain(StatusCode::FORBIDDEN, "wrong secret");
    }
    // Claimed for two minutes: unconfirmed messages are offered again after that.
    let claimed = match st.store.claim_outbound(Some("smssync"), 20, 120).await {
        Ok(c) => c,
        Err(_) => return plain(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable"),
    };
    let mut messages = Vec::new();
    for m in claimed {
        match recipient(&st, &m).await {
            Ok(to) => messages
                .push(serde_json::json!({"to": to, "message": m.text, "uuid": m.id.to_string()})),
            Err(e) => settle(&st, &m, SendOutcome::Failed(e)).await,
        }
    }
    smssync_json(
        serde_json::json!({"payload": {"task": "send", "secret": cfg.secret.0, "messages": messages}}),
    )
}

/// The gateway to answer a source on: the one its messages came through, else the configured
/// reply gateway, else the first push gateway enabled.
pub fn reply_gateway(cfg: &SmsConfig, last_used: Option<&str>) -> Option<String> {
    let enabled = |g: &str| match g {
        "kannel" => cfg.kannel.is_some(),
        "twilio" => cfg.twilio.is_some(),
        "africastalking" => cfg.africastalking.is_some(),
        "smssync" => cfg.smssync.is_some(),
        _ => false,
    };
    last_used
        .filter(|g| enabled(g))
        .map(str::to_string)
        .or_else(|| cfg.reply_gateway.clone().filter(|g| enabled(g)))
        .or_else(|| {
            ["kannel", "twilio", "africastalking", "smssync"]
                .into_iter()
                .find(|g| enabled(g))
                .map(str::to_string)
        })
}

/// The recipient's number, decrypted only for sending.
async fn recipient(st: &AppState, m: &OutboundMessage) -> Result<String, String> {
    let sealed = st
        .store
        .get_source_contact(m.source_id)
        .await
        .map_err(|e| format!("cannot read the recipient: {e}"))?
        .ok_or("the source has no contact details")?;
    let c = SourceContact::open(&sealed, &st.contact_key).map_err(|e| e.to_string())?;
    c.phone
        .ok_or_else(|| "the source has no phone number".to_string())
}

async fn settle(st: &AppState, m: &OutboundMessage, outcome: SendOutcome) {
    let max = st.sms.max_attempts.unwrap_or(8);
    let outcome = match outcome {
        SendOutcome::Retry(e) if m.attempts >= max => {
            SendOutcome::Failed(format!("gave up after {} attempts: {e}", m.attempts))
        }
        o => o,
    };
    if let Err(e) = st
        .store
        .write(
            &Actor::system("outbox"),
            Op::SettleOutbound { id: m.id, outcome },
        )
        .await
    {
        tracing::error!(message = %m.id, error = %e, "could not record a send; it will be retried when its claim lapses");
    }
}

/// Hand one message to its gateway.
async fn send_one(st: &AppState, http: &reqwest::Client, m: &OutboundMessage) -> SendOutcome {
    let to = match recipient(st, m).await {
        Ok(t) => t,
        Err(e) => return SendOutcome::Failed(e),
    };
    let classify = |status: reqwest::StatusCode, what: &str| {
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            SendOutcome::Retry(format!("{what} answered {status}"))
        } else {
            SendOutcome::Failed(format!("{what} refused the message: {status}"))
        }
    };
    let net = |e: reqwest::Error| SendOutcome::Retry(format!("network error: {}", e.without_url()));
    match m.gateway.as_str() {
        "kannel" => {
            let Some(cfg) = &st.sms.kannel else {
                return SendOutcome::Retry("kannel is not configured".into());
            };
            let base = st
                .sms
                .public_url
                .as_deref()
                .unwrap_or("")
                .trim_end_matches('/');
            let mut dlr = format!("{base}/sms/kannel/dlr?id={}&status=%d", m.id);
            if let Some(s) = &cfg.inbound_secret {
                dlr.push_str(&format!("&secret={}", s.0));
            }
            // GSM 7-bit when the text fits it (accents such as é do): one SMS instead of two.
            let gsm = tocsin_sms::gsm7_septets(&m.text).is_some();
            let mut q: Vec<(&str, String)> = vec![
                ("username", cfg.username.clone()),
                ("password", cfg.password.0.clone()),
                ("to", to),
                ("text", m.text.clone()),
                ("charset", "UTF-8".into()),
                ("coding", if gsm { "0" } else { "2" }.into()),
            ];
            if let Some(f) = &cfg.from {
                q.push(("from", f.clone()));
            }
            if !base.is_empty() {
                q.push(("dlr-mask", "19".into()));
                q.push(("dlr-url", dlr));
            }
            match http.get(&cfg.sendsms_url).query(&q).send().await {
                Ok(r) if r.status().is_success() => SendOutcome::Sent(Some(m.id.to_string())),
                Ok(r) => classify(r.status(), "Kannel"),
                Err(e) => net(e),
            }
        }
        "twilio" => {
            let Some(cfg) = &st.sms.twilio else {
                return SendOutcome::Retry("twilio is not configured".into());
            };
            let api = cfg
                .api_base
                .as_deref()
                .unwrap_or("https://api.twilio.com")
                .trim_end_matches('/');
            let url = format!(
                "{api}/2010-04-01/Accounts/{}/Messages.json",
                cfg.account_sid
            );
            let mut form = vec![
                ("To", to),
                ("From", cfg.from.clone()),
                ("Body", m.text.clone()),
            ];
            if let Some(base) = &st.sms.public_url {
                form.push((
                    "StatusCallback",
                    format!("{}/sms/twilio/status", base.trim_end_matches('/')),
                ));
            }
            match http
                .post(url)
                .basic_auth(&cfg.account_sid, Some(&cfg.auth_token.0))
                .header("I-Twilio-Idempotency-Token", m.idempotency_key.clone())
                .form(&form)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => {
                    let v: serde_json::Value = r.json().await.unwrap_or_default();
                    SendOutcome::Sent(v["sid"].as_str().map(str::to_string))
                }
                Ok(r) => classify(r.status(), "Twilio"),
                Err(e) => net(e),
            }
        }
        "africastalking" => {
            let Some(cfg) = &st.sms.africastalking else {
                return SendOutcome::Retry("africastalking is not configured".into());
            };
            let api = cfg
                .api_base
                .as_deref()
                .unwrap_or("https://api.africastalking.com")
                .trim_end_matches('/');
            let mut form = vec![
                ("username", cfg.username.clone()),
                ("to", to),
                ("message", m.text.clone()),
            ];
            if let Some(f) = &cfg.from {
                form.push(("from", f.clone()));
            }
            match http
                .post(format!("{api}/version1/messaging"))
                .header("apiKey", cfg.api_key.0.clone())
                .header("Accept", "application/json")
                .form(&form)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => {
                    let v: serde_json::Value = r.json().await.unwrap_or_default();
                    let rec = &v["SMSMessageData"]["Recipients"][0];
                    match rec["status"].as_str() {
                        Some("Success") | None => {
                            SendOutcome::Sent(rec["messageId"].as_str().map(str::to_string))
                        }
                        Some(other) => SendOutcome::Failed(format!("Africa's Talking: {other}")),
                    }
                }
                Ok(r) => classify(r.status(), "Africa's Talking"),
                Err(e) => net(e),
            }
        }
        other => SendOutcome::Failed(format!("cannot push through gateway {other:?}")),
    }
}

/// Send due messages until `shutdown`; wakes on new messages and every second.
pub async fn run_outbox(st: AppState, shutdown: tokio::sync::watch::Receiver<bool>) {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("HTTP client builds");
    let mut shutdown = shutdown;
    loop {
        if *shutdown.borrow() {
            return;
        }
        match st.store.claim_outbound(None, 50, 60).await {
            Ok(batch) => {
                for m in &batch {
                    let outcome = send_one(&st, &http, m).await;
                    if let SendOutcome::Retry(e) | SendOutcome::Failed(e) = &outcome {
                        tracing::warn!(message = %m.id, gateway = %m.gateway, attempts = m.attempts, error = %e, "SMS not sent");
                    }
                    settle(&st, m, outcome).await;
                }
                if batch.len() == 50 {
                    continue;
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the outbox"),
        }
        tokio::select! {
            _ = st.outbox_wake.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
