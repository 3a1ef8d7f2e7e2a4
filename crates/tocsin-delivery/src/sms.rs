//! The SMS channels: gateway configuration (`[sms]`) and the HTTP clients that hand messages
//! to Kannel, Twilio and Africa's Talking; SMSSync fetches its own (a polled channel).
//!
//! Nothing here logs or returns a number: a gateway's own words pass through
//! [`gateway_text`], which masks anything that looks like one.

use async_trait::async_trait;
use serde::Deserialize;
use std::fmt;
use tocsin_domain::{ContactKey, RecipientKind};
use tocsin_store::SendOutcome;

use crate::{AddressKind, Channel, Outgoing};

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

/// A keyed hash of a gateway's message id: enough to recognise a retry or match a delivery
/// report, useless to anyone holding the gateway's records without the key.
pub fn provider_key(key: &ContactKey, gateway: &str, id: &str) -> String {
    key.lookup_hash(&format!("provider:{gateway}:{id}"))
}

fn net(e: reqwest::Error) -> SendOutcome {
    SendOutcome::Retry(format!("network error: {}", e.without_url()))
}

/// SMS reaches a source (its sealed number) or a user or outside address given by number.
const SMS_REACHES: &[RecipientKind] = &[
    RecipientKind::Source,
    RecipientKind::User,
    RecipientKind::Address,
];

/// Kannel's smsbox `sendsms` interface.
pub struct Kannel {
    cfg: KannelConfig,
    public_url: Option<String>,
    key: std::sync::Arc<ContactKey>,
    http: reqwest::Client,
}

#[async_trait]
impl Channel for Kannel {
    fn name(&self) -> &'static str {
        "kannel"
    }
    fn reaches(&self) -> &'static [RecipientKind] {
        SMS_REACHES
    }
    fn address_kind(&self) -> AddressKind {
        AddressKind::Phone
    }
    async fn send(&self, out: &Outgoing<'_>) -> SendOutcome {
        let (cfg, m) = (&self.cfg, out.message);
        let base = self
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
            ("to", out.to.to_string()),
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
        match self.http.get(&cfg.sendsms_url).query(&q).send().await {
            Ok(r) if r.status().is_success() => {
                SendOutcome::Sent(Some(provider_key(&self.key, "kannel", &m.id.to_string())))
            }
            Ok(r) => refusal(r, "Kannel").await,
            Err(e) => net(e),
        }
    }
}

/// Twilio's Messages API (with its idempotency token, so a retry of a send Twilio accepted is
/// not sent twice).
pub struct Twilio {
    cfg: TwilioConfig,
    public_url: Option<String>,
    key: std::sync::Arc<ContactKey>,
    http: reqwest::Client,
}

#[async_trait]
impl Channel for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }
    fn reaches(&self) -> &'static [RecipientKind] {
        SMS_REACHES
    }
    fn address_kind(&self) -> AddressKind {
        AddressKind::Phone
    }
    async fn send(&self, out: &Outgoing<'_>) -> SendOutcome {
        let (cfg, m) = (&self.cfg, out.message);
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
            ("To", out.to.to_string()),
            ("From", cfg.from.clone()),
            ("Body", m.text.clone()),
        ];
        if let Some(base) = &self.public_url {
            form.push((
                "StatusCallback",
                format!("{}/sms/twilio/status", base.trim_end_matches('/')),
            ));
        }
        match self
            .http
            .post(url)
            .basic_auth(&cfg.account_sid, Some(&cfg.auth_token.0))
            .header("I-Twilio-Idempotency-Token", m.idempotency_key.clone())
            .form(&form)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {
                let v: serde_json::Value = r.json().await.unwrap_or_default();
                SendOutcome::Sent(
                    v["sid"]
                        .as_str()
                        .map(|id| provider_key(&self.key, "twilio", id)),
                )
            }
            Ok(r) => refusal(r, "Twilio").await,
            Err(e) => net(e),
        }
    }
}

/// Africa's Talking's messaging API.
pub struct AfricasTalking {
    cfg: AfricasTalkingConfig,
    key: std::sync::Arc<ContactKey>,
    http: reqwest::Client,
}

#[async_trait]
impl Channel for AfricasTalking {
    fn name(&self) -> &'static str {
        "africastalking"
    }
    fn reaches(&self) -> &'static [RecipientKind] {
        SMS_REACHES
    }
    fn address_kind(&self) -> AddressKind {
        AddressKind::Phone
    }
    async fn send(&self, out: &Outgoing<'_>) -> SendOutcome {
        let (cfg, m) = (&self.cfg, out.message);
        let api = cfg
            .api_base
            .as_deref()
            .unwrap_or("https://api.africastalking.com")
            .trim_end_matches('/');
        let mut form = vec![
            ("username", cfg.username.clone()),
            ("to", out.to.to_string()),
            ("message", m.text.clone()),
        ];
        if let Some(f) = cfg.from.as_ref().or(m.sender.as_ref()) {
            form.push(("from", f.clone()));
        }
        match self
            .http
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
                            .map(|id| provider_key(&self.key, "africastalking", id)),
                    ),
                    Some(other) => {
                        SendOutcome::Failed(format!("Africa's Talking: {}", gateway_text(other)))
                    }
                }
            }
            Ok(r) => refusal(r, "Africa's Talking").await,
            Err(e) => net(e),
        }
    }
}

/// SMSSync: an Android phone that fetches its messages (`GET /sms/smssync?task=send`) and
/// confirms them; nothing is pushed to it.
pub struct SmsSync;

#[async_trait]
impl Channel for SmsSync {
    fn name(&self) -> &'static str {
        "smssync"
    }
    fn reaches(&self) -> &'static [RecipientKind] {
        SMS_REACHES
    }
    fn address_kind(&self) -> AddressKind {
        AddressKind::Phone
    }
    fn pushed(&self) -> bool {
        false
    }
    async fn send(&self, _out: &Outgoing<'_>) -> SendOutcome {
        SendOutcome::Retry("SMSSync fetches its messages; it is not sent to".into())
    }
}

/// The SMS channels `cfg` enables (FrontlineSMS only receives: its replies go through the
/// reply gateway).
pub fn channels(
    cfg: &SmsConfig,
    key: &std::sync::Arc<ContactKey>,
    http: &reqwest::Client,
) -> Vec<std::sync::Arc<dyn Channel>> {
    let mut v: Vec<std::sync::Arc<dyn Channel>> = Vec::new();
    if let Some(k) = &cfg.kannel {
        v.push(std::sync::Arc::new(Kannel {
            cfg: k.clone(),
            public_url: cfg.public_url.clone(),
            key: key.clone(),
            http: http.clone(),
        }));
    }
    if let Some(t) = &cfg.twilio {
        v.push(std::sync::Arc::new(Twilio {
            cfg: t.clone(),
            public_url: cfg.public_url.clone(),
            key: key.clone(),
            http: http.clone(),
        }));
    }
    if let Some(a) = &cfg.africastalking {
        v.push(std::sync::Arc::new(AfricasTalking {
            cfg: a.clone(),
            key: key.clone(),
            http: http.clone(),
        }));
    }
    if cfg.smssync.is_some() {
        v.push(std::sync::Arc::new(SmsSync));
    }
    v
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
