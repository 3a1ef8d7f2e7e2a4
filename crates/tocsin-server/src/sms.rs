//! Field reporting by SMS, the inbound side: webhooks for Kannel, Twilio, Africa's Talking,
//! FrontlineSMS and SMSSync (including SMSSync's poll for its replies), and delivery reports.
//! Sending (the gateways' HTTP clients, the outbox) is the delivery layer's
//! (`tocsin_delivery`); its `[sms]` configuration types are re-exported here.
//!
//! Every inbound message goes through [`ingest`]: the number is normalised to E.164, looked up
//! by a keyed hash, sealed for storage, and from then on shown only as the source's handle. The
//! report, a new source and the acknowledgement are written in one transaction; a message a
//! gateway delivers twice is recognised (provider id, else sender + text within a window) and
//! answered with success without storing anything. These endpoints keep no access log and
//! answer with `Cache-Control: no-store`. A gateway without a configuration table answers 404.
//!
//! A subscription text (`JOIN <place>`, `STOP` and their equivalents, a number picking an
//! offered place: [`tocsin_sms::parse_subscription`]) is handed to
//! [`tocsin_app::subscribers::sms_subscription`] first and becomes no report and no source;
//! the gateway's answer and the log line are the same as for a report.

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use rand::Rng;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use tocsin_domain::{
    Ack, Actor, Channel, Country, InboundSms, NewReport, ReportMeta, SourceContact, Tlp,
};
use tocsin_store::{Op, SendOutcome};

use crate::auth::same;
use crate::AppState;

pub use tocsin_delivery::sms::{
    gateway_text, reply_gateway, AfricasTalkingConfig, KannelConfig, Secret, SecretOnly, SmsConfig,
    TwilioConfig, MIN_SECRET_CHARS,
};

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

/// A gateway webhook's refusal: a status and a short plain-text body, never cached. Any
/// handler here returns it with `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayError {
    /// HTTP status.
    pub status: StatusCode,
    /// The body, for the gateway's logs.
    pub body: &'static str,
}

impl GatewayError {
    /// A refusal with this status and body.
    pub const fn new(status: StatusCode, body: &'static str) -> Self {
        GatewayError { status, body }
    }

    /// 404: the gateway has no configuration table.
    pub const fn disabled() -> Self {
        Self::new(StatusCode::NOT_FOUND, "this gateway is not enabled")
    }

    /// 403: the shared secret is missing or wrong.
    pub const fn wrong_secret() -> Self {
        Self::new(StatusCode::FORBIDDEN, "wrong secret")
    }

    /// 400: the request lacks what the gateway always sends.
    pub const fn bad_request(body: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, body)
    }

    /// 503: storage did not answer; the gateway retries.
    pub const fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage unavailable; retry later",
        )
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        plain(self.status, self.body)
    }
}

/// What a gateway handler answers: its success response, or a refusal.
pub type GatewayResult = Result<Response, GatewayError>;

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

/// One inbound message as a gateway delivered it.
#[derive(Debug, Clone)]
pub struct Inbound<'a> {
    /// The gateway's name, e.g. `kannel`.
    pub gateway: &'a str,
    /// The gateway's id for the message, if it gave one.
    pub provider_id: Option<&'a str>,
    /// The sender's number (or alphanumeric sender id).
    pub from: &'a str,
    /// Our number or short code the message was sent to, if the gateway says.
    pub to: Option<&'a str>,
    /// The text.
    pub text: String,
    /// The gateway that can carry the acknowledgement (None: none can).
    pub reply_via: Option<&'a str>,
}

/// A keyed hash of a gateway's message id: enough to recognise a retry or match a delivery
/// report, useless to anyone holding the gateway's records without the key.
pub fn provider_key(st: &AppState, gateway: &str, id: &str) -> String {
    tocsin_delivery::sms::provider_key(&st.contact_key, gateway, id)
}

/// A keyed hash of a one-time form code (canonical form, see [`tocsin_sms::parse_form_code`]).
pub fn form_code_hash(st: &AppState, code: &str) -> String {
    st.contact_key.lookup_hash(&format!("form-code:{code}"))
}

/// Ingest one inbound message.
pub async fn ingest(st: &AppState, m: Inbound<'_>) -> Result<Ingested, GatewayError> {
    let cfg = &st.sms;
    let gateway = m.gateway;
    if m.text.len() > tocsin_domain::report::MAX_TEXT_BYTES {
        return Err(GatewayError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "message too long",
        ));
    }
    let text = m.text.replace('\0', "\u{FFFD}");
    // A number we can answer, or (alphanumeric senders) an identity we cannot reply to.
    let (identity, reply_via) =
        match tocsin_sms::normalize_phone(m.from, cfg.phone_region().as_deref()) {
            Ok(e164) => (e164, m.reply_via),
            Err(_) if !m.from.trim().is_empty() => (format!("sender:{}", m.from.trim()), None),
            Err(_) => return Err(GatewayError::bad_request("missing sender")),
        };
    if identity.starts_with('+') {
        if let Some(command) = tocsin_sms::parse_subscription(&text) {
            if subscription(st, &m, &identity, &text, command, reply_via).await? {
                return Ok(Ingested {
                    reference: String::new(),
                    duplicate: false,
                });
            }
        }
    }
    let claim = tocsin_sms::parse_form_code(&text).map(|c| form_code_hash(st, &c));
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
        id: tocsin_domain::random_id(),
        channel: Channel::Sms,
        provider_key: m
            .provider_id
            .filter(|p| !p.is_empty())
            .map(|p| provider_key(st, gateway, p)),
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
    let ack = reply_via.map(|g| Ack {
        gateway: g.to_string(),
        text: tocsin_sms::ack_text(parsed.language, &reference),
        sender: m
            .to
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        not_sent: None,
    });
    let contact = SourceContact {
        chat: None,
        phone: identity.starts_with('+').then(|| identity.clone()),
        name: None,
        email: None,
    };
    let new_source_id = tocsin_domain::random_id();
    let inbound = InboundSms {
        phone_hash: st.contact_key.lookup_hash(&identity),
        new_source_id,
        sealed_contact: contact.seal(&st.contact_key, new_source_id),
        new_handle: new_handle(),
        report,
        dedupe_window_secs: cfg.dedupe_window_secs.unwrap_or(600),
        ack,
        claim,
        count_as: Some(gateway.to_string()),
    };
    let actor = Actor::system(&format!("sms-{gateway}"));
    match tocsin_app::sms::ingest(&*st.store, &actor, inbound).await {
        Ok((r, duplicate)) => {
            // Neither the source's handle nor the report's id: a log line carries its time, and
            // a handle with the time its message arrived is what telephone records need to
            // put a number, and so a person, behind every report of that source.
            tracing::info!(gateway, duplicate, "SMS received");
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
            crate::channel_status::failed(st, gateway, &format!("could not store a message: {e}"))
                .await;
            Err(GatewayError::unavailable())
        }
    }
}

/// A subscription text: `Ok(false)` when it is not one after all (a number with no places on
/// offer), to be ingested as a message.
async fn subscription(
    st: &AppState,
    m: &Inbound<'_>,
    e164: &str,
    text: &str,
    command: tocsin_sms::SubscriptionCommand,
    reply_via: Option<&str>,
) -> Result<bool, GatewayError> {
    let gateway = m.gateway;
    let received_at = tocsin_domain::time::now();
    let dedupe_key = match m.provider_id.filter(|p| !p.is_empty()) {
        Some(p) => provider_key(st, gateway, p),
        // Without the gateway's id: the same number and text within ten minutes.
        None => st.contact_key.lookup_hash(&format!(
            "subscription:{e164}:{text}:{}",
            received_at.timestamp() / 600
        )),
    };
    let sub = tocsin_app::subscribers::SubscriptionSms {
        phone: tocsin_domain::SubscriberPhone::new(e164.to_string()),
        command,
        country_hint: st.sms.country_hint.clone(),
        reply: reply_via.map(|g| tocsin_app::subscribers::ReplyVia {
            gateway: g.to_string(),
            sender: m
                .to
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        }),
        dedupe_key,
        received_at,
    };
    let actor = Actor::system(&format!("sms-{gateway}"));
    match tocsin_app::subscribers::sms_subscription(&*st.store, &st.contact_key, &actor, sub).await
    {
        Ok(true) => {
            // The very line a report leaves: a log must not tell subscriptions from warnings.
            tracing::info!(gateway, duplicate = false, "SMS received");
            if reply_via.is_some_and(|g| tocsin_store::PUSH_GATEWAYS.contains(&g)) {
                st.outbox_wake.notify_one();
            }
            Ok(true)
        }
        Ok(false) => Ok(false),
        Err(e) => {
            tracing::error!(gateway, error = %e, "could not store an SMS; the gateway will retry");
            Err(GatewayError::unavailable())
        }
    }
}

/// Whether a gateway's caller may reach its endpoint: from an allowed network (`allow_from`,
/// through the trusted proxies), else 403.
fn from_allowed(
    st: &AppState,
    nets: &[ipnet::IpNet],
    peer: std::net::SocketAddr,
    headers: &HeaderMap,
) -> Result<(), GatewayError> {
    let ip = crate::net::client_ip(headers, peer.ip(), &st.trusted_proxies);
    if crate::net::allowed(ip, nets) {
        Ok(())
    } else {
        Err(GatewayError::new(
            StatusCode::FORBIDDEN,
            "not allowed from this network",
        ))
    }
}

/// Whether `sent` is the configured secret; a gateway with no secret configured accepts
/// nothing (`tocsin serve` refuses to start so configured, see [`SmsConfig::validate`]).
fn secret_ok(sent: Option<&str>, want: Option<&Secret>) -> bool {
    match want {
        Some(w) => same(sent.unwrap_or(""), &w.0),
        None => false,
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> GatewayResult {
    let cfg = st.sms.kannel.clone().ok_or(GatewayError::disabled())?;
    from_allowed(&st, &cfg.allow_from, peer, &headers)?;
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
    if !secret_ok(field(&m, "secret"), cfg.inbound_secret.as_ref()) {
        return Err(GatewayError::wrong_secret());
    }
    let charset = field(&m, "charset").map(str::to_string).or_else(|| {
        headers
            .get("x-kannel-charset")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let (Some(sender), Some(msg)) = (field(&m, "sender"), m.get("message")) else {
        return Err(GatewayError::bad_request("missing sender or message"));
    };
    let text = kannel_text(msg, charset.as_deref(), field(&m, "coding"))
        .map_err(GatewayError::bad_request)?;
    let inbound = Inbound {
        gateway: "kannel",
        provider_id: field(&m, "id"),
        from: sender,
        to: field(&m, "to"),
        text,
        reply_via: Some("kannel"),
    };
    ingest(&st, inbound).await?;
    // An empty body: with `omit-empty = true` Kannel sends nothing back itself; the
    // acknowledgement goes out through the outbox.
    Ok(plain(StatusCode::OK, ""))
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

fn form_map(body: &[u8]) -> Result<BTreeMap<String, String>, GatewayError> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map(|v| v.into_iter().collect())
        .map_err(|_| GatewayError::bad_request("malformed form body"))
}

/// A Twilio callback's form parameters, once Twilio is enabled and the request's
/// `X-Twilio-Signature` (over our public URL and the parameters) checks out.
fn twilio_request(
    st: &AppState,
    peer: SocketAddr,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<BTreeMap<String, String>, GatewayError> {
    let cfg = st.sms.twilio.as_ref().ok_or(GatewayError::disabled())?;
    from_allowed(st, &cfg.allow_from, peer, headers)?;
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
        Err(GatewayError::new(
            StatusCode::FORBIDDEN,
            "bad X-Twilio-Signature",
        ))
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> GatewayResult {
    let params = twilio_request(&st, peer, &uri, &headers, &body)?;
    let (Some(from), Some(text)) = (params.get("From"), params.get("Body")) else {
        return Err(GatewayError::bad_request("missing From or Body"));
    };
    let inbound = Inbound {
        gateway: "twilio",
        provider_id: params.get("MessageSid").map(String::as_str),
        from,
        to: params.get("To").map(String::as_str),
        text: text.clone(),
        reply_via: Some("twilio"),
    };
    ingest(&st, inbound).await?;
    Ok(twiml())
}

/// `POST /sms/twilio/status`: Twilio's status callback.
pub async fn twilio_status(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> GatewayResult {
    let params = twilio_request(&st, peer, &uri, &headers, &body)?;
    let (Some(sid), Some(status)) = (params.get("MessageSid"), params.get("MessageStatus")) else {
        return Err(GatewayError::bad_request(
            "missing MessageSid or MessageStatus",
        ));
    };
    let delivered = match status.as_str() {
        "delivered" => true,
        "undelivered" | "failed" => false,
        _ => return Ok(plain(StatusCode::OK, "")),
    };
    delivery(&st, "twilio", sid, delivered).await
}

/// Record a delivery report. `id` is the gateway's id for the message, or (Kannel) ours.
async fn delivery(st: &AppState, gateway: &str, id: &str, delivered: bool) -> GatewayResult {
    let key = provider_key(st, gateway, id);
    let message_id = uuid::Uuid::parse_str(id).ok();
    // A broadcast's recipient first (matched by our row id or the gateway's); otherwise an
    // outbox delivery.
    match st.store.recipient_report(message_id, &key, delivered).await {
        Ok(true) => return Ok(plain(StatusCode::OK, "")),
        Ok(false) => {}
        Err(_) => return Err(GatewayError::unavailable()),
    }
    let op = Op::DeliveryReport {
        gateway: gateway.to_string(),
        provider_key: key,
        message_id,
        delivered,
    };
    match st
        .store
        .write(&Actor::system(&format!("sms-{gateway}")), op)
        .await
    {
        Ok(_) => Ok(plain(StatusCode::OK, "")),
        Err(_) => Err(GatewayError::unavailable()),
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
pub async fn kannel_dlr(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> GatewayResult {
    let cfg = st.sms.kannel.clone().ok_or(GatewayError::disabled())?;
    from_allowed(&st, &cfg.allow_from, peer, &headers)?;
    let q = serde_urlencoded::from_str::<KannelDlr>(q.as_deref().unwrap_or(""))
        .map_err(|_| GatewayError::bad_request("expected id and status"))?;
    if !secret_ok(q.secret.as_deref(), cfg.inbound_secret.as_ref()) {
        return Err(GatewayError::wrong_secret());
    }
    match q.status {
        1 => delivery(&st, "kannel", &q.id, true).await,
        2 | 16 => delivery(&st, "kannel", &q.id, false).await,
        _ => Ok(plain(StatusCode::OK, "")),
    }
}

/// An Africa's Talking callback's form parameters, once the gateway is enabled, the caller's
/// network allowed and the request's URL carries the inbound secret.
fn africastalking_request(
    st: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    q: Option<&str>,
    body: &[u8],
) -> Result<BTreeMap<String, String>, GatewayError> {
    let cfg = st
        .sms
        .africastalking
        .as_ref()
        .ok_or(GatewayError::disabled())?;
    from_allowed(st, &cfg.allow_from, peer, headers)?;
    let m = raw_pairs(q.unwrap_or(""));
    if !secret_ok(field(&m, "secret"), cfg.inbound_secret.as_ref()) {
        return Err(GatewayError::wrong_secret());
    }
    form_map(body)
}

/// `POST /sms/africastalking`: incoming messages (`id, text, from, to, date, linkId`).
pub async fn africastalking(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> GatewayResult {
    let p = africastalking_request(&st, peer, &headers, q.as_deref(), &body)?;
    let (Some(from), Some(text)) = (p.get("from"), p.get("text")) else {
        return Err(GatewayError::bad_request("missing from or text"));
    };
    let inbound = Inbound {
        gateway: "africastalking",
        provider_id: p.get("id").map(String::as_str),
        from,
        to: p.get("to").map(String::as_str),
        text: text.clone(),
        reply_via: Some("africastalking"),
    };
    ingest(&st, inbound).await?;
    Ok(plain(StatusCode::OK, ""))
}

/// `POST /sms/africastalking/delivery`: delivery reports (`id`, `status`).
pub async fn africastalking_delivery(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> GatewayResult {
    let p = africastalking_request(&st, peer, &headers, q.as_deref(), &body)?;
    let (Some(id), Some(status)) = (p.get("id"), p.get("status")) else {
        return Err(GatewayError::bad_request("missing id or status"));
    };
    match status.as_str() {
        "Success" => delivery(&st, "africastalking", id, true).await,
        "Failed" | "Rejected" => delivery(&st, "africastalking", id, false).await,
        _ => Ok(plain(StatusCode::OK, "")),
    }
}

/// Form or JSON body as string pairs.
fn body_map(headers: &HeaderMap, body: &[u8]) -> Result<BTreeMap<String, String>, GatewayError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if json {
        let v: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| GatewayError::bad_request("malformed JSON"))?;
        let obj = v
            .as_object()
            .ok_or(GatewayError::bad_request("expected a JSON object"))?;
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
pub async fn frontlinesms(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> GatewayResult {
    let cfg = st
        .sms
        .frontlinesms
        .clone()
        .ok_or(GatewayError::disabled())?;
    from_allowed(&st, &cfg.allow_from, peer, &headers)?;
    let p = body_map(&headers, &body)?;
    if !same(
        p.get("secret").map(String::as_str).unwrap_or(""),
        &cfg.secret.0,
    ) {
        return Err(GatewayError::wrong_secret());
    }
    let (Some(from), Some(text)) = (p.get("from"), p.get("message")) else {
        return Err(GatewayError::bad_request("missing from or message"));
    };
    let reply = reply_gateway(&st.sms, None);
    let inbound = Inbound {
        gateway: "frontlinesms",
        provider_id: p.get("id").map(String::as_str),
        from,
        to: None,
        text: text.clone(),
        reply_via: reply.as_deref(),
    };
    ingest(&st, inbound).await?;
    Ok(no_store(
        Json(serde_json::json!({"success": true})).into_response(),
    ))
}

fn smssync_json(v: serde_json::Value) -> Response {
    no_store(Json(v).into_response())
}

/// `POST /sms/smssync`: SMSSync delivers a message (`secret, from, message, sent_to,
/// sent_timestamp`), or confirms sent messages (`?task=sent`).
pub async fn smssync(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> GatewayResult {
    let cfg = st.sms.smssync.clone().ok_or(GatewayError::disabled())?;
    from_allowed(&st, &cfg.allow_from, peer, &headers)?;
    let query = raw_pairs(q.as_deref().unwrap_or(""));
    let task = field(&query, "task").map(str::to_string);
    if task.as_deref() == Some("sent") {
        // {"queued_messages": ["uuid", …]}: the phone sent these. Only the phone may say so
        // (else anyone holding a message id could mark a reply sent that never left): the
        // secret comes in the query or the body.
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let sent = field(&query, "secret").or_else(|| v["secret"].as_str());
        if !same(sent.unwrap_or(""), &cfg.secret.0) {
            return Err(GatewayError::wrong_secret());
        }
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
        return Ok(smssync_json(serde_json::json!({ "message_uuids": done })));
    }
    let p = body_map(&headers, &body)?;
    if !same(
        p.get("secret").map(String::as_str).unwrap_or(""),
        &cfg.secret.0,
    ) {
        // SMSSync reads its answer from the payload, not the status.
        return Ok(smssync_json(
            serde_json::json!({"payload": {"success": false, "error": "wrong secret"}}),
        ));
    }
    let (Some(from), Some(text)) = (p.get("from"), p.get("message")) else {
        return Err(GatewayError::bad_request("missing from or message"));
    };
    let inbound = Inbound {
        gateway: "smssync",
        provider_id: p.get("message_id").map(String::as_str),
        from,
        to: p.get("sent_to").map(String::as_str),
        text: text.clone(),
        reply_via: Some("smssync"),
    };
    ingest(&st, inbound).await?;
    Ok(smssync_json(
        serde_json::json!({"payload": {"success": true, "error": null}}),
    ))
}

/// Query of `GET /sms/smssync`.
#[derive(Deserialize, Default)]
pub struct SmsSyncPoll {
    task: Option<String>,
    secret: Option<String>,
}

/// `GET /sms/smssync?task=send&secret=…`: the phone fetches queued replies.
pub async fn smssync_poll(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> GatewayResult {
    let cfg = st.sms.smssync.clone().ok_or(GatewayError::disabled())?;
    from_allowed(&st, &cfg.allow_from, peer, &headers)?;
    let q: SmsSyncPoll = serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    if q.task.as_deref() != Some("send") {
        return Err(GatewayError::bad_request("expected task=send"));
    }
    if !same(q.secret.as_deref().unwrap_or(""), &cfg.secret.0) {
        return Err(GatewayError::wrong_secret());
    }
    // Claimed for two minutes: unconfirmed messages are offered again after that. Each one
    // was checked against its recipient first; those that may not leave are failed.
    let claimed =
        st.delivery.claim_polled("smssync", 20).await.map_err(|_| {
            GatewayError::new(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable")
        })?;
    let messages: Vec<_> = claimed
        .into_iter()
        .map(|(m, to)| serde_json::json!({"to": to, "message": m.text, "uuid": m.id.to_string()}))
        .collect();
    Ok(smssync_json(
        serde_json::json!({"payload": {"task": "send", "secret": cfg.secret.0, "messages": messages}}),
    ))
}

/// Send due deliveries until `shutdown` turns true: the `outbox` job alone on a job runner
/// (`tocsin serve` runs it with the others; see `tocsin_jobs`).
pub async fn run_outbox(st: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut runner = tocsin_jobs::Runner::new(st.store.clone());
    runner.add(crate::health::outbox_job(
        &st,
        tocsin_jobs::DEFAULT_TOLERANCE,
    ));
    let running = runner.start();
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            break;
        }
    }
    running.shutdown().await;
}
