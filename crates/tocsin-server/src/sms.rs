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
use axum::extract::ConnectInfo;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use rand::Rng;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use tocsin_domain::{
    Ack, Actor, Channel, Country, InboundSms, NewReport, OutboundMessage, ReportMeta,
    SourceContact, Tlp,
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
    /// Region (ISO 3166-1 alpha-2, e.g. `KE`) of numbers written without a country code, read
    /// by its numbering plan; checked when the configuration is read.
    pub default_region: Option<tocsin_sms::DefaultRegion>,
    /// The older way to say it: a calling code (e.g. `236`), standing for its main region.
    /// `default_region` wins when both are set.
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
    /// The number (or short code) warners text, shown on the public form so that its author
    /// can text the one-time code that links the report to their phone.
    pub inbound_number: Option<String>,
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
    /// Sender number or name for replies (default: the number the warner wrote to, `%P`).
    pub from: Option<String>,
    /// Inbound requests (`get-url`, `dlr-url`) must carry `secret=` with this value (required,
    /// at least 24 characters).
    pub inbound_secret: Option<Secret>,
    /// Only these networks may call the inbound endpoints (default: any).
    #[serde(default)]
    pub allow_from: Vec<ipnet::IpNet>,
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
    /// Only these networks may call the webhooks (default: any).
    #[serde(default)]
    pub allow_from: Vec<ipnet::IpNet>,
}

/// `[sms.africastalking]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AfricasTalkingConfig {
    /// Account username.
    pub username: String,
    /// API key.
    pub api_key: Secret,
    /// Sender id or short code (default: the one the warner wrote to).
    pub from: Option<String>,
    /// API base (default `https://api.africastalking.com`).
    pub api_base: Option<String>,
    /// Inbound callbacks must carry `secret=` with this value in their URL (required, at
    /// least 24 characters).
    pub inbound_secret: Option<Secret>,
    /// Only these networks may call the callbacks (default: any).
    #[serde(default)]
    pub allow_from: Vec<ipnet::IpNet>,
}

/// A gateway authenticated by a shared secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretOnly {
    /// The shared secret (at least 24 characters).
    pub secret: Secret,
    /// Only these networks may call (default: any).
    #[serde(default)]
    pub allow_from: Vec<ipnet::IpNet>,
}

/// The shortest inbound secret accepted.
pub const MIN_SECRET_CHARS: usize = 24;

impl SmsConfig {
    /// Where numbers written without a country code are from: `default_region`, else the
    /// older `default_calling_code`, as [`tocsin_sms::normalize_phone`] takes it.
    pub fn phone_region(&self) -> Option<String> {
        self.default_region
            .map(|r| r.as_str().to_string())
            .or_else(|| self.default_calling_code.clone())
    }

    /// Refuse a configuration under which some enabled gateway's endpoint would take forged
    /// calls: every enabled gateway needs its secret, of at least [`MIN_SECRET_CHARS`]
    /// characters. The message names the setting to fix.
    pub fn validate(&self) -> Result<(), String> {
        let check = |setting: &str, s: Option<&Secret>| match s {
            Some(s) if s.0.trim().chars().count() >= MIN_SECRET_CHARS => Ok(()),
            Some(_) => Err(format!(
                "{setting} is shorter than {MIN_SECRET_CHARS} characters: use a long random \
                 string (e.g. `openssl rand -hex 24`)"
            )),
            None => Err(format!(
                "{setting} is not set: every enabled gateway must be authenticated, or anyone \
                 could forge reports and make Tocsin send texts (at least {MIN_SECRET_CHARS} \
                 random characters, e.g. `openssl rand -hex 24`)"
            )),
        };
        if let Some(k) = &self.kannel {
            check("[sms.kannel] inbound_secret", k.inbound_secret.as_ref())?;
        }
        if let Some(t) = &self.twilio {
            check("[sms.twilio] auth_token", Some(&t.auth_token))?;
        }
        if let Some(a) = &self.africastalking {
            check(
                "[sms.africastalking] inbound_secret",
                a.inbound_secret.as_ref(),
            )?;
        }
        if let Some(f) = &self.frontlinesms {
            check("[sms.frontlinesms] secret", Some(&f.secret))?;
        }
        if let Some(s) = &self.smssync {
            check("[sms.smssync] secret", Some(&s.secret))?;
        }
        Ok(())
    }
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
    st.contact_key
        .lookup_hash(&format!("provider:{gateway}:{id}"))
}

/// A keyed hash of a one-time form code (canonical form, see [`tocsin_sms::parse_form_code`]).
pub fn form_code_hash(st: &AppState, code: &str) -> String {
    st.contact_key.lookup_hash(&format!("form-code:{code}"))
}

/// Ingest one inbound message.
pub async fn ingest(st: &AppState, m: Inbound<'_>) -> Result<Ingested, Response> {
    let cfg = &st.sms;
    let gateway = m.gateway;
    if m.text.len() > tocsin_domain::report::MAX_TEXT_BYTES {
        return Err(plain(StatusCode::PAYLOAD_TOO_LARGE, "message too long"));
    }
    let text = m.text.replace('\0', "\u{FFFD}");
    // A number we can answer, or (alphanumeric senders) an identity we cannot reply to.
    let (identity, reply_via) =
        match tocsin_sms::normalize_phone(m.from, cfg.phone_region().as_deref()) {
            Ok(e164) => (e164, m.reply_via),
            Err(_) if !m.from.trim().is_empty() => (format!("sender:{}", m.from.trim()), None),
            Err(_) => return Err(plain(StatusCode::BAD_REQUEST, "missing sender")),
        };
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
    });
    let contact = SourceContact {
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
    };
    match st
        .store
        .ingest_sms(&Actor::system(&format!("sms-{gateway}")), inbound)
        .await
    {
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
            Err(plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage unavailable; retry later",
            ))
        }
    }
}

/// Whether a gateway's caller may reach its endpoint: from an allowed network (`allow_from`,
/// through the trusted proxies), else 403.
#[allow(clippy::result_large_err)]
fn from_allowed(
    st: &AppState,
    nets: &[ipnet::IpNet],
    peer: std::net::SocketAddr,
    headers: &HeaderMap,
) -> Result<(), Response> {
    let ip = crate::net::client_ip(headers, peer.ip(), &st.trusted_proxies);
    if crate::net::allowed(ip, nets) {
        Ok(())
    } else {
        Err(plain(
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
) -> Response {
    let Some(cfg) = st.sms.kannel.clone() else {
        return disabled();
    };
    if let Err(r) = from_allowed(&st, &cfg.allow_from, peer, &headers) {
        return r;
    }
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
        return plain(StatusCode::FORBIDDEN, "wrong secret");
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
    let inbound = Inbound {
        gateway: "kannel",
        provider_id: field(&m, "id"),
        from: sender,
        to: field(&m, "to"),
        text,
        reply_via: Some("kannel"),
    };
    match ingest(&st, inbound).await {
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
    peer: SocketAddr,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<BTreeMap<String, String>, Response> {
    let cfg = st.sms.twilio.as_ref().ok_or_else(disabled)?;
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match twilio_request(&st, peer, &uri, &headers, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (Some(from), Some(text)) = (params.get("From"), params.get("Body")) else {
        return plain(StatusCode::BAD_REQUEST, "missing From or Body");
    };
    let inbound = Inbound {
        gateway: "twilio",
        provider_id: params.get("MessageSid").map(String::as_str),
        from,
        to: params.get("To").map(String::as_str),
        text: text.clone(),
        reply_via: Some("twilio"),
    };
    match ingest(&st, inbound).await {
        Ok(_) => twiml(),
        Err(r) => r,
    }
}

/// `POST /sms/twilio/status`: Twilio's status callback.
pub async fn twilio_status(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match twilio_request(&st, peer, &uri, &headers, &body) {
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

/// Record a delivery report. `id` is the gateway's id for the message, or (Kannel) ours.
async fn delivery(st: &AppState, gateway: &str, id: &str, delivered: bool) -> Response {
    let op = Op::DeliveryReport {
        gateway: gateway.to_string(),
        provider_key: provider_key(st, gateway, id),
        message_id: uuid::Uuid::parse_str(id).ok(),
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
pub async fn kannel_dlr(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let Some(cfg) = st.sms.kannel.clone() else {
        return disabled();
    };
    if let Err(r) = from_allowed(&st, &cfg.allow_from, peer, &headers) {
        return r;
    }
    let Ok(q) = serde_urlencoded::from_str::<KannelDlr>(q.as_deref().unwrap_or("")) else {
        return plain(StatusCode::BAD_REQUEST, "expected id and status");
    };
    if !secret_ok(q.secret.as_deref(), cfg.inbound_secret.as_ref()) {
        return plain(StatusCode::FORBIDDEN, "wrong secret");
    }
    match q.status {
        1 => delivery(&st, "kannel", &q.id, true).await,
        2 | 16 => delivery(&st, "kannel", &q.id, false).await,
        _ => plain(StatusCode::OK, ""),
    }
}

/// An Africa's Talking callback's form parameters, once the gateway is enabled, the caller's
/// network allowed and the request's URL carries the inbound secret.
#[allow(clippy::result_large_err)]
fn africastalking_request(
    st: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    q: Option<&str>,
    body: &[u8],
) -> Result<BTreeMap<String, String>, Response> {
    let cfg = st.sms.africastalking.as_ref().ok_or_else(disabled)?;
    from_allowed(st, &cfg.allow_from, peer, headers)?;
    let m = raw_pairs(q.unwrap_or(""));
    if !secret_ok(field(&m, "secret"), cfg.inbound_secret.as_ref()) {
        return Err(plain(StatusCode::FORBIDDEN, "wrong secret"));
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
) -> Response {
    let p = match africastalking_request(&st, peer, &headers, q.as_deref(), &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (Some(from), Some(text)) = (p.get("from"), p.get("text")) else {
        return plain(StatusCode::BAD_REQUEST, "missing from or text");
    };
    let inbound = Inbound {
        gateway: "africastalking",
        provider_id: p.get("id").map(String::as_str),
        from,
        to: p.get("to").map(String::as_str),
        text: text.clone(),
        reply_via: Some("africastalking"),
    };
    match ingest(&st, inbound).await {
        Ok(_) => plain(StatusCode::OK, ""),
        Err(r) => r,
    }
}

/// `POST /sms/africastalking/delivery`: delivery reports (`id`, `status`).
pub async fn africastalking_delivery(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let p = match africastalking_request(&st, peer, &headers, q.as_deref(), &body) {
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
pub async fn frontlinesms(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(cfg) = st.sms.frontlinesms.clone() else {
        return disabled();
    };
    if let Err(r) = from_allowed(&st, &cfg.allow_from, peer, &headers) {
        return r;
    }
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
    let inbound = Inbound {
        gateway: "frontlinesms",
        provider_id: p.get("id").map(String::as_str),
        from,
        to: None,
        text: text.clone(),
        reply_via: reply.as_deref(),
    };
    match ingest(&st, inbound).await {
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(cfg) = st.sms.smssync.clone() else {
        return disabled();
    };
    if let Err(r) = from_allowed(&st, &cfg.allow_from, peer, &headers) {
        return r;
    }
    let query = raw_pairs(q.as_deref().unwrap_or(""));
    let task = field(&query, "task").map(str::to_string);
    if task.as_deref() == Some("sent") {
        // {"queued_messages": ["uuid", …]}: the phone sent these. Only the phone may say so
        // (else anyone holding a message id could mark a reply sent that never left): the
        // secret comes in the query or the body.
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let sent = field(&query, "secret").or_else(|| v["secret"].as_str());
        if !same(sent.unwrap_or(""), &cfg.secret.0) {
            return plain(StatusCode::FORBIDDEN, "wrong secret");
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
    let inbound = Inbound {
        gateway: "smssync",
        provider_id: p.get("message_id").map(String::as_str),
        from,
        to: p.get("sent_to").map(String::as_str),
        text: text.clone(),
        reply_via: Some("smssync"),
    };
    match ingest(&st, inbound).await {
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
pub async fn smssync_poll(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let Some(cfg) = st.sms.smssync.clone() else {
        return disabled();
    };
    if let Err(r) = from_allowed(&st, &cfg.allow_from, peer, &headers) {
        return r;
    }
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
    let c =
        SourceContact::open(&sealed, &st.contact_key, m.source_id).map_err(|e| e.to_string())?;
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

/// The most of a gateway's own error text kept (logged and shown to admins).
const GATEWAY_TEXT_CHARS: usize = 200;

/// A gateway's own words, safe to log: the start of its text on one line, with anything that
/// could be a phone number (five or more digits, spaces and `+-().` between them allowed)
/// replaced by `<number>`.
pub fn gateway_text(body: &str) -> String {
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(GATEWAY_TEXT_CHARS)
        .collect();
    let mut out = String::with_capacity(flat.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.chars().filter(char::is_ascii_digit).count();
        if digits >= 5 {
            // Mask up to the last digit; what follows it (a space, a bracket) stays.
            let end = run.rfind(|c: char| c.is_ascii_digit()).map_or(0, |i| i + 1);
            out.push_str("<number>");
            out.push_str(&run[end..]);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in flat.chars() {
        let starts = c.is_ascii_digit() || c == '+' || c == '(';
        let continues = !run.is_empty() && (c.is_ascii_digit() || " +-().".contains(c));
        if starts || continues {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out.trim().to_string()
}

/// A gateway refused a message: its status and its own explanation ([`gateway_text`]); a
/// retry for 5xx and 429, a lasting failure otherwise.
async fn refusal(mut r: reqwest::Response, what: &str) -> SendOutcome {
    let status = r.status();
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = r.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= 4 * GATEWAY_TEXT_CHARS {
            break;
        }
    }
    let said = gateway_text(&String::from_utf8_lossy(&body));
    let said = if said.is_empty() {
        String::new()
    } else {
        format!(": {said}")
    };
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        SendOutcome::Retry(format!("{what} answered {status}{said}"))
    } else {
        SendOutcome::Failed(format!("{what} refused the message: {status}{said}"))
    }
}

/// Hand one message to its gateway.
async fn send_one(st: &AppState, http: &reqwest::Client, m: &OutboundMessage) -> SendOutcome {
    let to = match recipient(st, m).await {
        Ok(t) => t,
        Err(e) => return SendOutcome::Failed(e),
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
                // Encoded: a secret with `+`, `&` or `%` must come back as it is.
                dlr.push('&');
                dlr.push_str(
                    &serde_urlencoded::to_string([("secret", s.0.as_str())])
                        .expect("a string pair encodes"),
                );
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
            // Without a configured sender, reply from the number the warner wrote to: a
            // smsbox with no global sender refuses a message without one.
            if let Some(f) = cfg.from.as_ref().or(m.sender.as_ref()) {
                q.push(("from", f.clone()));
            }
            if !base.is_empty() {
                q.push(("dlr-mask", "19".into()));
                q.push(("dlr-url", dlr));
            }
            match http.get(&cfg.sendsms_url).query(&q).send().await {
                Ok(r) if r.status().is_success() => {
                    SendOutcome::Sent(Some(provider_key(st, "kannel", &m.id.to_string())))
                }
                Ok(r) => refusal(r, "Kannel").await,
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
                    SendOutcome::Sent(v["sid"].as_str().map(|id| provider_key(st, "twilio", id)))
                }
                Ok(r) => refusal(r, "Twilio").await,
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
            if let Some(f) = cfg.from.as_ref().or(m.sender.as_ref()) {
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
                        Some("Success") | None => SendOutcome::Sent(
                            rec["messageId"]
                                .as_str()
                                .map(|id| provider_key(st, "africastalking", id)),
                        ),
                        Some(other) => SendOutcome::Failed(format!(
                            "Africa's Talking: {}",
                            gateway_text(other)
                        )),
                    }
                }
                Ok(r) => refusal(r, "Africa's Talking").await,
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

#[cfg(test)]
mod tests {
    use super::gateway_text;

    #[test]
    fn gateway_text_keeps_words_and_masks_numbers() {
        assert_eq!(
            gateway_text("Sender missing and no global set, rejected\n"),
            "Sender missing and no global set, rejected"
        );
        assert_eq!(
            gateway_text("Invalid number +236 70 01 23 45 (blocked)"),
            "Invalid number <number> (blocked)"
        );
        assert_eq!(gateway_text("to=23670012345&x=1"), "to=<number>&x=1");
        assert_eq!(gateway_text("Error 400: too long"), "Error 400: too long");
        assert_eq!(gateway_text(&"é".repeat(500)).chars().count(), 200);
        assert_eq!(gateway_text(""), "");
    }
}
