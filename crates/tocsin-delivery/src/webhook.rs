//! Signed webhooks (`[[notify.webhooks]]`): a pushed [`Channel`] (`webhook`) that POSTs a JSON
//! body to an outside endpoint named in the configuration.
//!
//! A webhook delivery is an outside-address delivery whose sealed address names the endpoint
//! (`SourceContact { name: Some("ops"), .. }`, see [`address`]); its text is the JSON body
//! ([`alert_body`] makes one for an alert; plain text is sent as `{"event": "message",
//! "text": …}`). It leaves only if its label is at most the endpoint's `max_tlp` (default
//! `TLP:CLEAR`, like every outside delivery); [`targets`] tells which endpoints want an alert of
//! a severity (`min_severity`).
//!
//! Every request carries:
//!
//! - `Content-Type: application/json`;
//! - `X-Tocsin-Delivery`: the delivery's id, the same on every attempt (receivers drop repeats:
//!   sending is at least once);
//! - `X-Tocsin-Timestamp`: Unix seconds when this attempt was signed;
//! - `X-Tocsin-Signature: sha256=<hex>`: HMAC-SHA256 with the endpoint's secret over
//!   `timestamp + "." + body` (the exact bytes received).
//!
//! A 2xx answer is delivered; 408, 429, 5xx, a timeout or a connection failure is retried with
//! the delivery layer's back-off; a redirect is not followed and, like any other 4xx, fails the
//! delivery for good with the status in its reason. Neither the URL (it may hold a token), the
//! secret nor the body is logged.
//!
//! # Verifying a request (receivers)
//!
//! 1. Read the raw body bytes, `X-Tocsin-Timestamp` and `X-Tocsin-Signature`.
//! 2. Refuse a timestamp more than five minutes from your clock: an old, replayed request is
//!    stale even though its signature is valid (each retry is signed afresh).
//! 3. Compute `hex(HMAC-SHA256(secret, timestamp + "." + body))` and compare it with the value
//!    after `sha256=` in constant time.
//! 4. Remember `X-Tocsin-Delivery` ids for a while longer than the tolerance and drop repeats.
//!
//! In Python:
//!
//! ```text
//! import hmac, hashlib, time
//! ts = request.headers["X-Tocsin-Timestamp"]; sig = request.headers["X-Tocsin-Signature"]
//! if abs(time.time() - int(ts)) > 300: reject("stale")
//! mac = hmac.new(secret.encode(), ts.encode() + b"." + raw_body, hashlib.sha256).hexdigest()
//! if not hmac.compare_digest("sha256=" + mac, sig): reject("bad signature")
//! ```
//!
//! [`verify`] is the same recipe in Rust.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::time::Duration;
use tocsin_domain::{Alert, RecipientKind, Severity, SourceContact, Tlp};
use tocsin_store::SendOutcome;

use crate::sms::{Secret, MIN_SECRET_CHARS};
use crate::{AddressKind, Channel, Outgoing};

/// The channel's name, stored on each delivery.
pub const CHANNEL: &str = "webhook";
/// The header carrying the signing time.
pub const TIMESTAMP_HEADER: &str = "X-Tocsin-Timestamp";
/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Tocsin-Signature";
/// The header carrying the delivery's id.
pub const DELIVERY_HEADER: &str = "X-Tocsin-Delivery";
/// How far from their clock receivers should accept a timestamp (the recipe above).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// The longest `timeout_secs` accepted.
pub const MAX_TIMEOUT_SECS: u64 = 60;

type HmacSha256 = Hmac<Sha256>;

/// `[[notify.webhooks]]` in the configuration file: one endpoint.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Its name (lower-case letters, digits, `-`, `_`), what deliveries address.
    pub name: String,
    /// Where to POST: `https://…`, or `http://` to this machine only. Never printed whole.
    pub url: String,
    /// The signing secret (at least 24 characters; `TOCSIN_NOTIFY_WEBHOOK_<NAME>_SECRET`,
    /// the name upper-cased with `-` as `_`); never printed.
    pub secret: Option<Secret>,
    /// The highest label a body may carry (`TLP:CLEAR` by default).
    #[serde(default, deserialize_with = "tlp_text")]
    pub max_tlp: Tlp,
    /// The least severe alert it wants (`low` by default: all).
    #[serde(default = "lowest")]
    pub min_severity: Severity,
    /// Seconds one request may take (default 10, at most [`MAX_TIMEOUT_SECS`]).
    pub timeout_secs: Option<u64>,
}

fn lowest() -> Severity {
    Severity::Low
}

fn tlp_text<'de, D: Deserializer<'de>>(d: D) -> Result<Tlp, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// `scheme://host[:port]/…`: enough to tell endpoints apart, nothing of a path or query that
/// may hold a token, nor credentials.
pub fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            match u.port() {
                Some(p) => format!("{}://{host}:{p}/…", u.scheme()),
                None => format!("{}://{host}/…", u.scheme()),
            }
        }
        Err(_) => "<not a URL>".into(),
    }
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("name", &self.name)
            .field("url", &redacted_url(&self.url))
            .field("secret", &self.secret)
            .field("max_tlp", &self.max_tlp)
            .field("min_severity", &self.min_severity)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

impl WebhookConfig {
    /// The `TOCSIN_*` variable holding this endpoint's secret.
    pub fn secret_variable(&self) -> String {
        format!(
            "TOCSIN_NOTIFY_WEBHOOK_{}_SECRET",
            self.name.to_ascii_uppercase().replace('-', "_")
        )
    }

    /// Refuse an endpoint that cannot work or would send in clear over a network, naming the
    /// key.
    pub fn validate(&self) -> Result<(), String> {
        let n = &self.name;
        if n.is_empty()
            || n.len() > 64
            || !n
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(format!(
                "notify.webhooks.name {n:?}: 1-64 lower-case letters, digits, - or _"
            ));
        }
        let url = reqwest::Url::parse(&self.url).map_err(|e| {
            format!(
                "notify.webhooks[{n}].url {:?} is not a URL ({e})",
                redacted_url(&self.url)
            )
        })?;
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        match url.scheme() {
            "https" if url.host().is_some() => {}
            "http" if loopback => {}
            "http" => {
                return Err(format!(
                    "notify.webhooks[{n}].url: http:// is allowed only to this machine \
                     (localhost, 127.0.0.1, ::1); use https://"
                ))
            }
            _ => return Err(format!("notify.webhooks[{n}].url: expected https://")),
        }
        match &self.secret {
            Some(s) if s.0.trim().chars().count() >= MIN_SECRET_CHARS => {}
            Some(_) => {
                return Err(format!(
                    "notify.webhooks[{n}].secret: at least {MIN_SECRET_CHARS} characters"
                ))
            }
            None => {
                return Err(format!(
                    "notify.webhooks[{n}].secret is missing (or {})",
                    self.secret_variable()
                ))
            }
        }
        if matches!(self.timeout_secs, Some(t) if t == 0 || t > MAX_TIMEOUT_SECS) {
            return Err(format!(
                "notify.webhooks[{n}].timeout_secs: 1 to {MAX_TIMEOUT_SECS} \
                 (a delivery's claim must outlast its request)"
            ));
        }
        Ok(())
    }

    /// Whether it wants an alert of `severity`.
    pub fn wants(&self, severity: Severity) -> bool {
        severity >= self.min_severity
    }
}

/// Validate every endpoint, and that no two share a name.
pub fn validate_all(hooks: &[WebhookConfig]) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for h in hooks {
        h.validate()?;
        if !seen.insert(h.name.as_str()) {
            return Err(format!(
                "notify.webhooks: the name {:?} is used twice",
                h.name
            ));
        }
    }
    Ok(())
}

/// The endpoints that want an alert of `severity`, each with the label its body may carry
/// (pass it to [`alert_body`]).
pub fn targets(hooks: &[WebhookConfig], severity: Severity) -> Vec<(&str, Tlp)> {
    hooks
        .iter()
        .filter(|h| h.wants(severity))
        .map(|h| (h.name.as_str(), h.max_tlp))
        .collect()
}

/// The address of a webhook delivery: the endpoint's name (seal it on the delivery with
/// `OutboundMessage::to_address(…, "webhook", None, &address(name), …)`).
pub fn address(endpoint: &str) -> SourceContact {
    SourceContact {
        name: Some(endpoint.to_string()),
        ..Default::default()
    }
}

/// An alert as a webhook body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertBody {
    /// What happened: `alert.opened`, `alert.escalated`, `alert.closed`, …
    pub event: String,
    /// The alert, or only its id and page when its label is above the endpoint's `max_tlp`.
    pub alert: AlertSummary,
}

/// What a body tells of an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSummary {
    /// Its id.
    pub id: uuid::Uuid,
    /// Its page.
    pub url: String,
    /// `true` when the content is withheld (label above the endpoint's `max_tlp`): the body says
    /// only that something needs attention, with the link.
    pub withheld: bool,
    /// Title (absent when withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Severity (absent when withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Status (absent when withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<tocsin_domain::AlertStatus>,
    /// Label (absent when withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tlp: Option<Tlp>,
    /// Country, ISO alpha-3 (absent when withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Raised (absent when withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<DateTime<Utc>>,
    /// Must be acknowledged by (absent when withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_deadline: Option<DateTime<Utc>>,
    /// Close reason, once closed (absent when withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<tocsin_domain::CloseReason>,
}

/// The body of `event` on `alert` for an endpoint that may carry `max_tlp`, and the label the
/// delivery must carry: the alert's own when it is within `max_tlp`; otherwise `TLP:CLEAR` and
/// only the id and the link (`url`: the alert's page). Never who acknowledged it or its
/// evidence.
pub fn alert_body(alert: &Alert, event: &str, url: &str, max_tlp: Tlp) -> (String, Tlp) {
    let full = alert.tlp <= max_tlp;
    let summary = AlertSummary {
        id: alert.id,
        url: url.to_string(),
        withheld: !full,
        title: full.then(|| alert.title.clone()),
        severity: full.then_some(alert.severity),
        status: full.then_some(alert.status),
        tlp: full.then_some(alert.tlp),
        country: full
            .then(|| alert.country.as_ref().map(|c| c.code().to_string()))
            .flatten(),
        opened_at: full.then_some(alert.opened_at),
        ack_deadline: full.then_some(alert.ack_deadline),
        close_reason: full.then_some(alert.close_reason).flatten(),
    };
    let body = AlertBody {
        event: event.to_string(),
        alert: summary,
    };
    (
        serde_json::to_string(&body).expect("a body serialises"),
        if full { alert.tlp } else { Tlp::Clear },
    )
}

/// `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Why a receiver refuses a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The timestamp is not a number.
    #[error("the timestamp is not Unix seconds")]
    BadTimestamp,
    /// The timestamp is further from the receiver's clock than the tolerance (a replay, or a
    /// clock far off).
    #[error("the timestamp is {0} s from now: stale or replayed")]
    Stale(i64),
    /// The signature does not match.
    #[error("the signature does not match")]
    BadSignature,
}

/// The receiver's check (the recipe in the module docs): `timestamp` within `tolerance_secs`
/// of `now`, and `signature` the one of `secret` over it and `body` (compared in constant
/// time).
pub fn verify(
    secret: &str,
    timestamp: &str,
    body: &[u8],
    signature: &str,
    now: DateTime<Utc>,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    let skew = now.timestamp() - ts;
    if skew.abs() > tolerance_secs {
        return Err(VerifyError::Stale(skew));
    }
    let hex_sig = signature
        .strip_prefix("sha256=")
        .ok_or(VerifyError::BadSignature)?;
    let sig = hex::decode(hex_sig).map_err(|_| VerifyError::BadSignature)?;
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&sig)
        .map_err(|_| VerifyError::BadSignature)
}

/// One configured endpoint, ready.
struct Endpoint {
    url: reqwest::Url,
    secret: String,
    max_tlp: Tlp,
    timeout: Duration,
}

/// The webhook channel (`webhook`): every configured endpoint.
pub struct WebhookChannel {
    http: reqwest::Client,
    endpoints: BTreeMap<String, Endpoint>,
}

impl std::fmt::Debug for WebhookChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookChannel")
            .field("endpoints", &self.endpoints.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl WebhookChannel {
    /// The channel over `hooks` (validated first).
    pub fn new(hooks: &[WebhookConfig]) -> Result<WebhookChannel, String> {
        validate_all(hooks)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Tocsin-Webhook")
            .build()
            .map_err(|e| format!("notify.webhooks: {e}"))?;
        let endpoints = hooks
            .iter()
            .map(|h| {
                (
                    h.name.clone(),
                    Endpoint {
                        url: reqwest::Url::parse(&h.url).expect("validated"),
                        secret: h.secret.as_ref().expect("validated").0.clone(),
                        max_tlp: h.max_tlp,
                        timeout: Duration::from_secs(h.timeout_secs.unwrap_or(10)),
                    },
                )
            })
            .collect();
        Ok(WebhookChannel { http, endpoints })
    }

    /// The body sent for a delivery's text: the text itself when it is JSON, else
    /// `{"event": "message", "text": …}`.
    pub fn body(text: &str) -> String {
        if serde_json::from_str::<serde_json::Value>(text).is_ok() {
            text.to_string()
        } else {
            serde_json::json!({"event": "message", "text": text}).to_string()
        }
    }
}

/// The first 200 characters of a reply, on one line, for a failure's reason.
fn snippet(body: &str) -> String {
    let s: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    s.trim().to_string()
}

#[async_trait]
impl Channel for WebhookChannel {
    fn name(&self) -> &'static str {
        CHANNEL
    }

    fn reaches(&self) -> &'static [RecipientKind] {
        &[RecipientKind::Address]
    }

    fn address_kind(&self) -> AddressKind {
        AddressKind::Endpoint
    }

    fn max_tlp_for(&self, to: &str) -> Tlp {
        self.endpoints
            .get(to)
            .map_or(crate::OUTSIDE_MAX_TLP, |e| e.max_tlp)
    }

    async fn send(&self, out: &Outgoing<'_>) -> SendOutcome {
        let Some(ep) = self.endpoints.get(out.to) else {
            return SendOutcome::Failed(format!("webhook {:?} is not configured", out.to));
        };
        let name = out.to;
        if out.message.tlp > ep.max_tlp {
            return SendOutcome::Failed(format!(
                "withheld: {} content is above webhook {name}'s max_tlp ({})",
                out.message.tlp.as_str(),
                ep.max_tlp.as_str()
            ));
        }
        let body = WebhookChannel::body(&out.message.text);
        let ts = Utc::now().timestamp();
        let sig = signature(&ep.secret, ts, body.as_bytes());
        let sent = self
            .http
            .post(ep.url.clone())
            .timeout(ep.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, sig)
            .header(DELIVERY_HEADER, out.message.id.to_string())
            .body(body)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                let e = e.without_url();
                return if e.is_timeout() {
                    SendOutcome::Retry(format!("webhook {name} did not answer in time"))
                } else if e.is_builder() {
                    SendOutcome::Failed(format!("cannot build the request to webhook {name}: {e}"))
                } else {
                    SendOutcome::Retry(format!("webhook {name} could not be reached: {e}"))
                };
            }
        };
        let status = resp.status();
        if status.is_success() {
            return SendOutcome::Sent(None);
        }
        let text = snippet(&resp.text().await.unwrap_or_default());
        let why = if text.is_empty() {
            status.to_string()
        } else {
            format!("{status}: {text}")
        };
        if status.is_server_error()
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
        {
            SendOutcome::Retry(format!("webhook {name} answered {why}"))
        } else if status.is_redirection() {
            SendOutcome::Failed(format!(
                "webhook {name} answered a redirect ({status}), which is not followed: \
                 configure its final address"
            ))
        } else {
            SendOutcome::Failed(format!("webhook {name} refused it: {why}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook() -> WebhookConfig {
        toml::from_str(
            "name = \"ops-room\"\nurl = \"https://hooks.example.org/t/SECRET-PATH-TOKEN?key=q1\"\n\
             secret = \"webhook-s3cret-0123456789abcdef\"\n",
        )
        .unwrap()
    }

    #[test]
    fn defaults_and_what_never_prints() {
        let h = hook();
        assert_eq!((h.max_tlp, h.min_severity), (Tlp::Clear, Severity::Low));
        assert!(h.validate().is_ok());
        let shown = format!("{h:?}");
        for secret in ["webhook-s3cret", "SECRET-PATH-TOKEN", "key=q1"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("https://hooks.example.org/…"), "{shown}");
        assert!(shown.contains("<redacted>"));
        let ch = WebhookChannel::new(std::slice::from_ref(&h)).unwrap();
        assert!(!format!("{ch:?}").contains("SECRET-PATH"));
        assert_eq!(h.secret_variable(), "TOCSIN_NOTIFY_WEBHOOK_OPS_ROOM_SECRET");
        let h: WebhookConfig = toml::from_str(
            "name = \"a\"\nurl = \"https://x\"\nmax_tlp = \"amber\"\nmin_severity = \"high\"\n",
        )
        .unwrap();
        assert_eq!((h.max_tlp, h.min_severity), (Tlp::Amber, Severity::High));
        assert!(toml::from_str::<WebhookConfig>(
            "name = \"a\"\nurl = \"https://x\"\nmax_tlp = \"pink\"\n"
        )
        .is_err());
        assert!(toml::from_str::<WebhookConfig>(
            "name = \"a\"\nurl = \"https://x\"\nsecrets = \"x\"\n"
        )
        .is_err());
    }

    #[test]
    fn refuses_what_cannot_work_naming_the_key() {
        let mut h = hook();
        h.url = "http://hooks.example.org/x".into();
        assert!(h
            .validate()
            .unwrap_err()
            .contains("http:// is allowed only"));
        for ok in [
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://[::1]:8/x",
        ] {
            h.url = ok.into();
            assert!(h.validate().is_ok(), "{ok}");
        }
        h.url = "ftp://x/y".into();
        assert!(h.validate().unwrap_err().contains("expected https://"));
        let mut h = hook();
        h.secret = Some(Secret("short".into()));
        assert!(h.validate().unwrap_err().contains("at least 24"));
        h.secret = None;
        assert!(h
            .validate()
            .unwrap_err()
            .contains("TOCSIN_NOTIFY_WEBHOOK_OPS_ROOM_SECRET"));
        let mut h = hook();
        h.name = "Ops Room".into();
        assert!(h.validate().unwrap_err().contains("notify.webhooks.name"));
        let mut h = hook();
        h.timeout_secs = Some(600);
        assert!(h.validate().unwrap_err().contains("timeout_secs: 1 to 60"));
        let e = validate_all(&[hook(), hook()]).unwrap_err();
        assert!(e.contains("used twice"), "{e}");
    }

    #[test]
    fn targets_by_severity_and_bodies_within_the_label() {
        let mut high: WebhookConfig = hook();
        high.name = "high".into();
        high.min_severity = Severity::High;
        high.max_tlp = Tlp::Amber;
        let hooks = [hook(), high];
        assert_eq!(
            targets(&hooks, Severity::Moderate),
            vec![("ops-room", Tlp::Clear)]
        );
        assert_eq!(targets(&hooks, Severity::Critical).len(), 2);

        let (mut alert, _) = Alert::open(
            "Militia moving on Bria",
            Severity::High,
            Tlp::Amber,
            uuid::Uuid::nil(),
            tocsin_domain::AlertOrigin::ByHand("alice".into()),
            vec![],
            tocsin_domain::TextDuration::parse("ack_within", "30m").unwrap(),
            Utc::now(),
            "alice",
        )
        .unwrap();
        alert.acknowledge("alice", Utc::now()).unwrap();
        let url = "https://tocsin.example.org/alerts/1";
        let (body, tlp) = alert_body(&alert, "alert.acknowledged", url, Tlp::Amber);
        assert_eq!(tlp, Tlp::Amber);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["event"], "alert.acknowledged");
        assert_eq!(v["alert"]["title"], "Militia moving on Bria");
        assert_eq!(v["alert"]["tlp"], "TLP:AMBER");
        assert_eq!(v["alert"]["withheld"], false);
        assert!(!body.contains("alice"), "never who acknowledged: {body}");
        // Above the endpoint's label: only that something needs attention, with the link.
        let (body, tlp) = alert_body(&alert, "alert.acknowledged", url, Tlp::Clear);
        assert_eq!(tlp, Tlp::Clear);
        assert!(
            !body.contains("Militia") && !body.contains("AMBER"),
            "{body}"
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["alert"]["withheld"], true);
        assert_eq!(v["alert"]["url"], url);
        assert_eq!(v["alert"].as_object().unwrap().len(), 3, "{body}");
    }

    #[test]
    fn the_receivers_check_accepts_fresh_and_refuses_stale_or_forged() {
        let body = br#"{"event":"alert.opened"}"#;
        let now = Utc::now();
        let ts = now.timestamp();
        let sig = signature("k", ts, body);
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert_eq!(verify("k", &ts.to_string(), body, &sig, now, 300), Ok(()));
        // Replayed six minutes later: stale, though the signature is right.
        let later = now + chrono::Duration::minutes(6);
        assert_eq!(
            verify("k", &ts.to_string(), body, &sig, later, 300),
            Err(VerifyError::Stale(360))
        );
        // A new timestamp on an old signature, another body, another key: refused.
        let ts2 = (ts + 1).to_string();
        assert_eq!(
            verify("k", &ts2, body, &sig, now, 300),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify("k", &ts.to_string(), b"{}", &sig, now, 300),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify("other", &ts.to_string(), body, &sig, now, 300),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify("k", "soon", body, &sig, now, 300),
            Err(VerifyError::BadTimestamp)
        );
    }

    #[test]
    fn plain_text_is_wrapped_as_json() {
        assert_eq!(WebhookChannel::body("{\"a\":1}"), "{\"a\":1}");
        let v: serde_json::Value =
            serde_json::from_str(&WebhookChannel::body("Check \"alert\" 5")).unwrap();
        assert_eq!(v["event"], "message");
        assert_eq!(v["text"], "Check \"alert\" 5");
    }
}
