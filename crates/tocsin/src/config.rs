//! Configuration: defaults, then a TOML file, then `TOCSIN_*` variables, then flags.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::fmt;
use std::num::{NonZeroU64, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A secret string: never printed by `Debug` or `Display`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A database URL whose password never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(pub String);

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

/// `postgres://user:pass@host/db` → `postgres://user:<redacted>@host/db`; query strings
/// (which may carry `password=`) are dropped.
pub fn redact_url(url: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    let Some((scheme, rest)) = base.split_once("://") else {
        return base.to_string();
    };
    match rest.rsplit_once('@') {
        Some((cred, host)) => match cred.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:<redacted>@{host}"),
            None => format!("{scheme}://{cred}@{host}"),
        },
        None => base.to_string(),
    }
}

/// The TOML file's shape. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on.
    pub listen: Option<String>,
    /// Data directory.
    pub data_dir: Option<PathBuf>,
    /// Database URL.
    pub database_url: Option<Secret>,
    /// Hex key sealing contact details (else `<data_dir>/contact.key`).
    pub contact_key: Option<Secret>,
    /// Mark cookies `Secure` (default: when the public URL is `https://`).
    pub secure_cookies: Option<bool>,
    /// SMS gateways: `[sms]`, `[sms.kannel]`, `[sms.twilio]`, `[sms.africastalking]`,
    /// `[sms.frontlinesms]`, `[sms.smssync]`. A gateway without a table is disabled.
    pub sms: Option<tocsin_server::sms::SmsConfig>,
    /// Escalation signals: `[signals]` with `interval_minutes`, `weeks` and the detector's
    /// settings (`window_weeks`, `[signals.incidents]`, … as in `tocsin_signals::DetectorConfig`).
    pub signals: Option<SignalsFile>,
    /// The HTTP edge: `[server]` with `public_url`, `trusted_proxies`, `header_timeout_secs`,
    /// `request_timeout_secs`, `max_connections`.
    pub server: Option<ServerFile>,
    /// Credentials: `[auth]` with `token_expiry_days`.
    pub auth: Option<AuthFile>,
    /// Analysis frameworks: `[analysis]` with `framework` (the default for new assessments)
    /// and `framework_files` (more frameworks to load).
    pub analysis: Option<AnalysisConfig>,
    /// A file holding the hex contact key, kept apart from the data directory and its
    /// backups; it must exist (instead of `<data_dir>/contact.key`, made on first run).
    pub contact_key_file: Option<PathBuf>,
    /// Background jobs: `[jobs]` with `tolerance_secs`, `index_refresh_secs` and
    /// `[jobs.tolerance]` (seconds per job name).
    pub jobs: Option<JobsFile>,
    /// Notification channels beside SMS: `[notify.smtp]` (e-mail; see
    /// `tocsin_delivery::smtp::SmtpConfig`), `[[notify.webhooks]]` (signed webhooks; see
    /// `tocsin_delivery::webhook::WebhookConfig`).
    pub notify: Option<NotifyConfig>,
    /// `[organisation]`: the departments desks belong to.
    pub organisation: Option<OrganisationFile>,
    /// `[alerts]`: acknowledgement times of alerts raised by hand, per severity
    /// (`critical = "30m"`, `high = "4h"`, `moderate = "1d"`, `low = "2d"` by default).
    pub alerts: Option<tocsin_app::alerts::AckDefaults>,
    /// `[cap]`: who signs CAP 1.2 messages (`sender`, `sender_name`, `language`).
    pub cap: Option<CapFile>,
    /// `[share]`: `sync_minutes`, minutes between scheduled exchanges with every partner this
    /// installation holds a token for (push, then pull; 0, the default: none).
    pub share: Option<ShareFile>,
    /// `[rumours]`: the time allowed to act on a rumour, per priority (`critical = "6h"`,
    /// `high = "24h"`, `medium = "3d"`, `low = "7d"` by default).
    pub rumours: Option<tocsin_app::rumours::RumourDeadlines>,
    /// `[evidence]`: how much may be attached to a report (`max_file_bytes`,
    /// `max_report_bytes`, `max_files`; 10 MiB, 40 MiB and 10 by default).
    pub evidence: Option<tocsin_app::files::EvidenceLimits>,
    /// `[verification]`: `required_tasks`, the checklist every incident needs done before it
    /// is marked verified (default: contact a second, independent source; check the place and
    /// date against other reporting).
    pub verification: Option<tocsin_app::verification::VerificationSettings>,
    /// `[channels]`: messaging apps warners report through: `[channels.telegram]` with
    /// `bot_token`, `api_base`, `mode` (`poll` or `webhook`), `secret_token`,
    /// `poll_timeout_secs` (see `tocsin_delivery::telegram::TelegramConfig`);
    /// `[channels.whatsapp]` with `app_secret`, `verify_token`, `access_token`,
    /// `phone_number_id`, `api_base`, `api_version` (see
    /// `tocsin_delivery::whatsapp::WhatsappConfig`).
    pub channels: Option<ChannelsConfig>,
    /// `[[feeds]]`: monitored feeds (RSS, Atom, JSON Feed), each with `name`, `url`,
    /// `interval` (e.g. `"15m"`), and optionally `country`, `tlp`, `language`, `max_bytes`.
    #[serde(default)]
    pub feeds: Vec<FeedFile>,
    /// `[broadcasts]`: `test_phones` (the only numbers a test broadcast reaches, E.164),
    /// `gateway` (default: the reply gateway) and `rates` (messages per second per gateway,
    /// e.g. `{ kannel = 20 }`; 10 by default).
    pub broadcasts: Option<tocsin_app::broadcasts::BroadcastSettings>,
}

/// `[cap]` as written: the CAP 1.2 messages' signer. Links use `[server] public_url`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapFile {
    /// The `sender` of every message, unique to the organisation (e.g.
    /// `tocsin@example.org`; default `tocsin@` the public URL's host).
    pub sender: Option<String>,
    /// The organisation's name (`senderName`, the feed's author).
    pub sender_name: Option<String>,
    /// The messages' language (default `en`).
    pub language: Option<String>,
}

/// `[organisation]` as written.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationFile {
    /// The organisation's name, as its shared records name it (default: `[cap] sender_name`,
    /// else `Tocsin`).
    pub name: Option<String>,
    /// Department names (default: foreign affairs, development, defence, interior, treasury,
    /// trade).
    pub departments: Option<Vec<String>>,
}

/// `[notify]`: channels that deliver notifications. A channel without a table is disabled.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// `[notify.smtp]`: e-mail over SMTP.
    pub smtp: Option<tocsin_delivery::smtp::SmtpConfig>,
    /// `[[notify.webhooks]]`: signed webhooks, one table per endpoint.
    #[serde(default)]
    pub webhooks: Vec<tocsin_delivery::webhook::WebhookConfig>,
}

impl NotifyConfig {
    /// Refuse a configured channel that cannot work, with a message naming the key.
    pub fn validate(&self) -> Result<()> {
        if let Some(s) = &self.smtp {
            s.validate().map_err(anyhow::Error::msg)?;
        }
        tocsin_delivery::webhook::validate_all(&self.webhooks).map_err(anyhow::Error::msg)?;
        Ok(())
    }
}

/// `[jobs]` as written. Every key is optional.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsFile {
    /// Seconds a job may keep failing before `/healthz` answers 503 (default 900).
    pub tolerance_secs: Option<u64>,
    /// Seconds between refreshes of the incident index (default 30).
    pub index_refresh_secs: Option<NonZeroU64>,
    /// Per job (`outbox`, `signals`, `incident-index`, `timers`): its own tolerance.
    #[serde(default)]
    pub tolerance: std::collections::BTreeMap<String, u64>,
}

/// `[share]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareFile {
    /// Minutes between scheduled exchanges with partners (0: none).
    pub sync_minutes: Option<u64>,
}

/// The settled `[jobs]` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct JobsConfig {
    /// The tolerance of jobs without their own.
    pub tolerance: Duration,
    /// Per-job tolerances.
    pub per_job: std::collections::BTreeMap<String, Duration>,
    /// How often the incident index is refreshed.
    pub index_refresh: Duration,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            tolerance: DEFAULT_JOB_TOLERANCE,
            per_job: Default::default(),
            index_refresh: Duration::from_secs(30),
        }
    }
}

impl JobsConfig {
    /// The tolerance of job `name`.
    pub fn tolerance_for(&self, name: &str) -> Duration {
        self.per_job.get(name).copied().unwrap_or(self.tolerance)
    }
}

/// How long a job may keep failing before `/healthz` answers 503, unless configured.
pub const DEFAULT_JOB_TOLERANCE: Duration = Duration::from_secs(900);

/// `[server]` as written. Every key is optional.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerFile {
    /// This server's address as browsers reach it, e.g. `https://tocsin.example.org`
    /// (else `[sms] public_url`). When it is `https://`, answers carry HSTS and cookies are
    /// `Secure` unless `secure_cookies` says otherwise.
    pub public_url: Option<String>,
    /// Reverse proxies (networks) whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Option<Vec<ipnet::IpNet>>,
    /// Seconds a client has to send a request's headers (and the longest pause in a body).
    pub header_timeout_secs: Option<NonZeroU64>,
    /// Seconds the server has to produce a response head.
    pub request_timeout_secs: Option<NonZeroU64>,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: Option<NonZeroUsize>,
}

/// The settled `[server]` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// The public URL, if known.
    pub public_url: Option<String>,
    /// Trusted reverse proxies (none by default: `X-Forwarded-For` is ignored).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Timeouts, the connection limit and whether the public URL is HTTPS.
    pub edge: tocsin_server::edge::Edge,
}

impl ServerConfig {
    /// Refuse a public URL that is not `http://…` or `https://…`.
    pub fn validate(&self) -> Result<()> {
        match &self.public_url {
            Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) => {
                anyhow::bail!("server.public_url must start with https:// or http://, not {u:?}")
            }
            _ => Ok(()),
        }
    }
}

/// `[analysis]`: which frameworks a server loads. The shipped ones (`un-foa-2014`,
/// `osapg-2009`) always are; each file adds one (or replaces a shipped one with the same id).
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisConfig {
    /// Id of the framework new assessments use (default `un-foa-2014`).
    pub framework: Option<String>,
    /// Framework files (TOML, as `frameworks/*.toml`) to load beside the shipped ones.
    #[serde(default)]
    pub framework_files: Vec<PathBuf>,
    /// When an evidence rule is flagged "generic rule: review": it suggests more than this
    /// share (0–1, default 0.5) of the situation's incidents considered…
    #[serde(default)]
    pub generic_rule_share: Option<f64>,
    /// …or at least this many records (default 50).
    #[serde(default)]
    pub generic_rule_count: Option<u32>,
}

impl AnalysisConfig {
    /// The frameworks to load, checked: a file with broken numbering or an unknown default
    /// is refused with a message naming it.
    pub fn frameworks(&self) -> Result<tocsin_framework::Frameworks> {
        let mut all = tocsin_framework::Frameworks::shipped();
        for p in &self.framework_files {
            let text = std::fs::read_to_string(p).with_context(|| {
                format!("analysis.framework_files: cannot read {}", p.display())
            })?;
            let f = tocsin_framework::Framework::parse(&text)
                .with_context(|| format!("analysis.framework_files: {} is refused", p.display()))?;
            all = all.with(f);
        }
        match &self.framework {
            Some(id) => all.with_default(id).context("analysis.framework"),
            None => Ok(all),
        }
    }
}

/// `[auth]` as written.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    /// Days a new API token works unless `--expires` says otherwise (0: until revoked).
    pub token_expiry_days: Option<u32>,
}

/// Days new API tokens work by default.
pub const DEFAULT_TOKEN_EXPIRY_DAYS: u32 = 90;

/// `[signals]` as written: the schedule, and the detector's settings beside it.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(try_from = "toml::Table")]
pub struct SignalsFile {
    /// Minutes between scheduled runs inside `tocsin serve` (0 turns them off).
    pub interval_minutes: Option<u64>,
    /// Weeks each run looks at (the week of the run and the ones before it).
    pub weeks: Option<u32>,
    /// The detector's settings; every one optional.
    pub detector: Option<tocsin_signals::DetectorConfig>,
}

impl TryFrom<toml::Table> for SignalsFile {
    type Error = String;

    fn try_from(mut t: toml::Table) -> Result<SignalsFile, String> {
        let int = |v: toml::Value, name: &str| -> Result<i64, String> {
            v.as_integer()
                .ok_or_else(|| format!("signals.{name}: expected a whole number"))
        };
        let interval_minutes = t
            .remove("interval_minutes")
            .map(|v| {
                let n = int(v, "interval_minutes")?;
                u64::try_from(n)
                    .map_err(|_| String::from("signals.interval_minutes: must not be negative"))
            })
            .transpose()?;
        let weeks = t
            .remove("weeks")
            .map(|v| {
                let n = int(v, "weeks")?;
                u32::try_from(n)
                    .ok()
                    .filter(|w| (1..=520).contains(w))
                    .ok_or_else(|| String::from("signals.weeks: expected 1 to 520"))
            })
            .transpose()?;
        let detector = if t.is_empty() {
            None
        } else {
            let d: tocsin_signals::DetectorConfig = toml::Value::Table(t)
                .try_into()
                .map_err(|e: toml::de::Error| format!("signals: {}", e.message()))?;
            d.validate().map_err(|e| e.to_string())?;
            Some(d)
        };
        Ok(SignalsFile {
            interval_minutes,
            weeks,
            detector,
        })
    }
}

/// The settled `[signals]` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalsConfig {
    /// Minutes between scheduled runs (0: none).
    pub interval_minutes: u64,
    /// Weeks each run records.
    pub weeks: u32,
    /// The detector's settings.
    pub detector: tocsin_signals::DetectorConfig,
}

impl Default for SignalsConfig {
    fn default() -> SignalsConfig {
        SignalsConfig {
            interval_minutes: 360,
            weeks: 4,
            detector: tocsin_signals::DetectorConfig::default(),
        }
    }
}

impl FileConfig {
    /// Read a TOML file.
    pub fn load(path: &Path) -> Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

/// `[channels]`: the messaging apps reports come in through.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelsConfig {
    /// `[channels.telegram]`: the Telegram bot.
    pub telegram: Option<tocsin_delivery::telegram::TelegramConfig>,
    /// `[channels.whatsapp]`: WhatsApp's Cloud API.
    pub whatsapp: Option<tocsin_delivery::whatsapp::WhatsappConfig>,
    /// `[channels.imap]`: the mailbox reports by e-mail arrive in.
    pub imap: Option<tocsin_delivery::imap::ImapConfig>,
}

/// The settled configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Database URL.
    pub database_url: DatabaseUrl,
    /// Hex contact key, if configured.
    pub contact_key: Option<Secret>,
    /// Mark cookies `Secure`.
    pub secure_cookies: bool,
    /// SMS gateways.
    pub sms: tocsin_server::sms::SmsConfig,
    /// Escalation signals.
    pub signals: SignalsConfig,
    /// Analysis frameworks.
    pub analysis: AnalysisConfig,
    /// The HTTP edge.
    pub server: ServerConfig,
    /// Days a new API token works by default (0: until revoked).
    pub token_expiry_days: u32,
    /// The contact key's file, if configured apart from the data directory.
    pub contact_key_file: Option<PathBuf>,
    /// Background jobs.
    pub jobs: JobsConfig,
    /// Notification channels (`[notify]`).
    pub notify: NotifyConfig,
    /// `[organisation]` as written (see [`Config::alert_settings`]).
    pub organisation: OrganisationFile,
    /// `[alerts]`.
    pub alerts: tocsin_app::alerts::AckDefaults,
    /// `[cap]`.
    pub cap: CapFile,
    /// `[rumours]`.
    pub rumours: tocsin_app::rumours::RumourDeadlines,
    /// Minutes between scheduled exchanges with partners (`[share] sync_minutes`,
    /// `TOCSIN_SHARE_SYNC_MINUTES`; 0: none).
    pub share_sync_minutes: u64,
    /// `[evidence]`.
    pub evidence: tocsin_app::files::EvidenceLimits,
    /// `[verification]`, then `TOCSIN_VERIFICATION_REQUIRED_TASKS`.
    pub verification: tocsin_app::verification::VerificationSettings,
    /// `[broadcasts]`.
    pub broadcasts: tocsin_app::broadcasts::BroadcastSettings,
    /// `[channels]`.
    pub channels: ChannelsConfig,
    /// `[[feeds]]` as written (see [`Config::feed_configs`]).
    pub feeds: Vec<FeedFile>,
}

/// One `[[feeds]]` entry as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedFile {
    /// Its name (letters, digits, `.`, `_`, `-`): its items' origin.
    pub name: String,
    /// Its address (`http://` or `https://`).
    pub url: String,
    /// How often it is polled, e.g. `"15m"` (at least 1 s; default 15 minutes).
    pub interval: Option<String>,
    /// The country of its posts (ISO 3166 alpha-3).
    pub country: Option<String>,
    /// Its items' label (default `TLP:GREEN`).
    pub tlp: Option<String>,
    /// Its language (ISO 639), unless an entry says.
    pub language: Option<String>,
    /// The largest body read (default 10 MiB).
    pub max_bytes: Option<u64>,
}

/// The default feed body limit.
pub const DEFAULT_FEED_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// Check `[[feeds]]`, naming the entry and key of the first mistake.
pub fn feed_configs(feeds: &[FeedFile]) -> Result<Vec<tocsin_app::monitor::FeedConfig>> {
    let mut out: Vec<tocsin_app::monitor::FeedConfig> = Vec::new();
    for (i, f) in feeds.iter().enumerate() {
        let at = |key: &str| format!("feeds[{i}].{key}");
        let name = tocsin_domain::monitor::check_origin("name", &f.name)
            .map_err(|e| anyhow::anyhow!("feeds[{i}].{e}"))?;
        if out.iter().any(|o| o.name == name) {
            anyhow::bail!("{}: the feed {name:?} is listed twice", at("name"));
        }
        let url = f.url.trim();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
        if host.is_none_or(|h| h.is_empty() || h.contains(char::is_whitespace))
            || url.contains(char::is_whitespace)
        {
            anyhow::bail!("{}: expected an http:// or https:// address", at("url"));
        }
        let interval = match f.interval.as_deref() {
            None => Duration::from_secs(15 * 60),
            Some(t) => Duration::from_secs(
                tocsin_domain::duration::TextDuration::parse_positive("interval", t)
                    .map_err(|e| anyhow::anyhow!("feeds[{i}].{e}"))?
                    .as_secs(),
            ),
        };
        if interval < Duration::from_secs(1) {
            anyhow::bail!("{}: at least 1s", at("interval"));
        }
        let country = match f
            .country
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => None,
            Some(c) => Some(tocsin_domain::Country::parse(c).map_err(|_| {
                anyhow::anyhow!(
                    "{}: expected an ISO 3166 alpha-3 code, e.g. CAF",
                    at("country")
                )
            })?),
        };
        let tlp = match f.tlp.as_deref() {
            None => tocsin_domain::Tlp::Green,
            Some(t) => t.parse().map_err(|_| {
                anyhow::anyhow!("{}: expected a TLP label, e.g. TLP:GREEN", at("tlp"))
            })?,
        };
        let language = match f
            .language
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            None => None,
            Some(l) if l.len() <= 8 && l.chars().all(|c| c.is_ascii_alphabetic() || c == '-') => {
                Some(l.to_ascii_lowercase())
            }
            Some(_) => anyhow::bail!("{}: expected a language code, e.g. en", at("language")),
        };
        let max_bytes = f.max_bytes.unwrap_or(DEFAULT_FEED_MAX_BYTES);
        if max_bytes == 0 {
            anyhow::bail!("{}: expected at least 1", at("max_bytes"));
        }
        out.push(tocsin_app::monitor::FeedConfig {
            name,
            url: url.to_string(),
            interval,
            country,
            tlp,
            language,
            max_bytes,
        });
    }
    Ok(out)
}

impl Config {
    /// The channels staff are paged through, as `tocsin serve` configures them: e-mail when
    /// `[notify.smtp]` is set, SMS through the gateway replies use, the region of numbers
    /// without a country code, and the public address for links. Commands use it so that
    /// `tocsin check` and `tocsin desk add` judge reachability as the server will.
    pub fn channels(&self) -> tocsin_app::notify::Channels {
        tocsin_app::notify::Channels {
            email: self.notify.smtp.is_some(),
            sms_gateway: tocsin_delivery::sms::reply_gateway(&self.sms, None),
            default_region: self.sms.phone_region(),
            public_url: self
                .server
                .public_url
                .clone()
                .or_else(|| self.sms.public_url.clone()),
            webhooks: self
                .notify
                .webhooks
                .iter()
                .map(tocsin_app::notify::WebhookTarget::of)
                .collect(),
        }
    }

    /// The CAP site (`[cap]`, `[server] public_url`, else `http://` the listen address) and
    /// the base URL of its links; a bad sender, language or URL is refused naming the key.
    pub fn cap_site(&self) -> Result<(tocsin_app::cap::Site, String)> {
        let base = match &self.server.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        };
        let host = base
            .split("://")
            .nth(1)
            .and_then(|r| r.split(['/', ':']).next())
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost")
            .to_string();
        let sender = self
            .cap
            .sender
            .clone()
            .unwrap_or_else(|| format!("tocsin@{host}"));
        let mut site = tocsin_app::cap::Site::new(sender.trim(), &base)
            .map_err(|e| anyhow::anyhow!("cap.{e}"))?;
        if let Some(n) = &self.cap.sender_name {
            site = site.with_sender_name(n);
        }
        if let Some(l) = &self.cap.language {
            site = site
                .with_language(l.trim())
                .map_err(|e| anyhow::anyhow!("cap.{e}"))?;
        }
        Ok((site, base))
    }

    /// The organisation's name as shared records carry it (`[organisation] name`, else
    /// `[cap] sender_name`, else `Tocsin`).
    pub fn organisation_name(&self) -> String {
        self.organisation
            .name
            .clone()
            .or_else(|| self.cap.sender_name.clone())
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "Tocsin".into())
    }

    /// The departments and acknowledgement defaults, checked: a bad department name or a
    /// zero duration is refused naming the key.
    pub fn alert_settings(&self) -> Result<tocsin_app::alerts::AlertSettings> {
        let departments = match &self.organisation.departments {
            None => tocsin_domain::Department::defaults(),
            Some(v) => {
                let mut out = Vec::new();
                for d in v {
                    let d = tocsin_domain::Department::parse(d)
                        .map_err(|e| anyhow::anyhow!("organisation.departments: {e}"))?;
                    if !out.contains(&d) {
                        out.push(d);
                    }
                }
                if out.is_empty() {
                    anyhow::bail!("organisation.departments: name at least one department");
                }
                out
            }
        };
        self.alerts.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        self.rumours
            .validate()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut generic_rule = tocsin_domain::evidence::GenericRule::default();
        if let Some(s) = self.analysis.generic_rule_share {
            if !(s > 0.0 && s <= 1.0) {
                anyhow::bail!(
                    "analysis.generic_rule_share: expected a share above 0 and at most 1"
                );
            }
            generic_rule.share = s;
        }
        if let Some(n) = self.analysis.generic_rule_count {
            if n == 0 {
                anyhow::bail!("analysis.generic_rule_count: expected at least 1");
            }
            generic_rule.count = n;
        }
        Ok(tocsin_app::alerts::AlertSettings {
            departments,
            ack: self.alerts.clone(),
            rumours: self.rumours.clone(),
            generic_rule,
        })
    }

    /// The default lifetime of new API tokens (`None`: until revoked).
    pub fn token_lifetime(&self) -> Result<Option<chrono::Duration>> {
        let days = i64::from(self.token_expiry_days);
        if days > tocsin_domain::user::MAX_TOKEN_DAYS {
            anyhow::bail!(
                "auth.token_expiry_days (TOCSIN_TOKEN_EXPIRY_DAYS): at most {}, or 0 for never",
                tocsin_domain::user::MAX_TOKEN_DAYS
            );
        }
        Ok((days > 0).then(|| chrono::Duration::days(days)))
    }

    /// The lifetime of a token being issued: `--expires` if given, else the default.
    pub fn token_lifetime_or(&self, expires: Option<&str>) -> Result<Option<chrono::Duration>> {
        match expires {
            Some(e) => Ok(tocsin_domain::user::parse_lifetime(e)?),
            None => self.token_lifetime(),
        }
    }
}

/// The tasks of `TOCSIN_VERIFICATION_REQUIRED_TASKS`: separated by `;`, trimmed, empty ones
/// dropped.
pub fn split_tasks(v: &str) -> Vec<String> {
    v.split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Values from flags and `TOCSIN_*` variables (clap merges those two, flags first).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--listen` / `TOCSIN_LISTEN`.
    pub listen: Option<String>,
    /// `--data-dir` / `TOCSIN_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--database-url` / `TOCSIN_DATABASE_URL`.
    pub database_url: Option<String>,
    /// `TOCSIN_CONTACT_KEY`.
    pub contact_key: Option<String>,
    /// `--secure-cookies` / `TOCSIN_SECURE_COOKIES`.
    pub secure_cookies: Option<bool>,
    /// `--signals-interval-minutes` / `TOCSIN_SIGNALS_INTERVAL_MINUTES`.
    pub signals_interval_minutes: Option<u64>,
    /// `--public-url` / `TOCSIN_PUBLIC_URL`.
    pub public_url: Option<String>,
    /// `--trusted-proxies` / `TOCSIN_TRUSTED_PROXIES` (comma-separated).
    pub trusted_proxies: Option<Vec<ipnet::IpNet>>,
    /// `TOCSIN_TOKEN_EXPIRY_DAYS`.
    pub token_expiry_days: Option<u32>,
    /// `TOCSIN_CONTACT_KEY_FILE`.
    pub contact_key_file: Option<PathBuf>,
    /// `TOCSIN_JOBS_TOLERANCE_SECS`.
    pub jobs_tolerance_secs: Option<u64>,
    /// `TOCSIN_SHARE_SYNC_MINUTES`.
    pub share_sync_minutes: Option<u64>,
    /// `TOCSIN_SMS_DEFAULT_REGION`.
    pub sms_default_region: Option<tocsin_sms::DefaultRegion>,
    /// `TOCSIN_NOTIFY_SMTP_USERNAME` (applies when `[notify.smtp]` is configured).
    pub notify_smtp_username: Option<String>,
    /// `TOCSIN_NOTIFY_SMTP_PASSWORD` (applies when `[notify.smtp]` is configured).
    pub notify_smtp_password: Option<Secret>,
    /// `TOCSIN_NOTIFY_WEBHOOK_<NAME>_SECRET`, by variable name (applies to the
    /// `[[notify.webhooks]]` entry of that name, upper-cased with `-` as `_`).
    pub notify_webhook_secrets: std::collections::BTreeMap<String, Secret>,
    /// `TOCSIN_VERIFICATION_REQUIRED_TASKS`: the checklist's tasks separated by `;` (empty: no
    /// checklist).
    pub verification_required_tasks: Option<Vec<String>>,
    /// The messaging channels' secrets by variable name (`TOCSIN_TELEGRAM_BOT_TOKEN`,
    /// `TOCSIN_TELEGRAM_SECRET_TOKEN`, `TOCSIN_WHATSAPP_APP_SECRET`,
    /// `TOCSIN_WHATSAPP_VERIFY_TOKEN`, `TOCSIN_WHATSAPP_ACCESS_TOKEN`, `TOCSIN_IMAP_PASSWORD`);
    /// each applies when its
    /// `[channels.…]` section is configured, and wins over the file.
    pub channel_secrets: std::collections::BTreeMap<String, Secret>,
}

/// The variables [`Overrides::channel_secrets`] reads.
pub const CHANNEL_SECRET_VARIABLES: [&str; 6] = [
    "TOCSIN_TELEGRAM_BOT_TOKEN",
    "TOCSIN_TELEGRAM_SECRET_TOKEN",
    "TOCSIN_WHATSAPP_APP_SECRET",
    "TOCSIN_WHATSAPP_VERIFY_TOKEN",
    "TOCSIN_WHATSAPP_ACCESS_TOKEN",
    "TOCSIN_IMAP_PASSWORD",
];

impl Config {
    /// Layer defaults < file < overrides.
    pub fn resolve(file: FileConfig, o: Overrides) -> Config {
        let data_dir = o
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./tocsin-data"));
        let database_url = o
            .database_url
            .or(file.database_url.map(|s| s.0))
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("tocsin.db").display()));
        let mut sms = file.sms.unwrap_or_default();
        if let Some(r) = o.sms_default_region {
            sms.default_region = Some(r);
        }
        let mut notify = file.notify.unwrap_or_default();
        if let Some(smtp) = &mut notify.smtp {
            if let Some(u) = o.notify_smtp_username {
                smtp.username = Some(u);
            }
            if let Some(p) = o.notify_smtp_password {
                smtp.password = Some(tocsin_delivery::sms::Secret(p.0));
            }
        }
        for hook in &mut notify.webhooks {
            if let Some(s) = o.notify_webhook_secrets.get(&hook.secret_variable()) {
                hook.secret = Some(tocsin_delivery::sms::Secret(s.0.clone()));
            }
        }
        let server = {
            let f = file.server.unwrap_or_default();
            let d = tocsin_server::edge::Edge::default();
            let secs =
                |v: Option<NonZeroU64>, d: Duration| v.map_or(d, |n| Duration::from_secs(n.get()));
            let public_url = o.public_url.or(f.public_url).or(sms.public_url.clone());
            ServerConfig {
                edge: tocsin_server::edge::Edge {
                    header_timeout: secs(f.header_timeout_secs, d.header_timeout),
                    request_timeout: secs(f.request_timeout_secs, d.request_timeout),
                    max_connections: f.max_connections.map_or(d.max_connections, |n| n.get()),
                    https: public_url
                        .as_deref()
                        .is_some_and(|u| u.starts_with("https://")),
                },
                trusted_proxies: o.trusted_proxies.or(f.trusted_proxies).unwrap_or_default(),
                public_url,
            }
        };
        Config {
            listen: o
                .listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            database_url: DatabaseUrl(database_url),
            contact_key: o.contact_key.map(Secret).or(file.contact_key),
            // Secure cookies by default when served over HTTPS; an explicit setting wins.
            secure_cookies: o
                .secure_cookies
                .or(file.secure_cookies)
                .unwrap_or(server.edge.https),
            sms,
            notify,
            organisation: file.organisation.unwrap_or_default(),
            alerts: file.alerts.unwrap_or_default(),
            cap: file.cap.unwrap_or_default(),
            rumours: file.rumours.unwrap_or_default(),
            share_sync_minutes: o
                .share_sync_minutes
                .or(file.share.and_then(|s| s.sync_minutes))
                .unwrap_or(0),
            evidence: file.evidence.unwrap_or_default(),
            verification: match o.verification_required_tasks {
                Some(tasks) => tocsin_app::verification::VerificationSettings {
                    required_tasks: tasks,
                },
                None => file.verification.unwrap_or_default(),
            },
            broadcasts: file.broadcasts.unwrap_or_default(),
            feeds: file.feeds,
            channels: {
                let mut ch = file.channels.unwrap_or_default();
                let env = |name: &str| {
                    o.channel_secrets
                        .get(name)
                        .map(|s| tocsin_delivery::sms::Secret(s.0.clone()))
                };
                if let Some(t) = &mut ch.telegram {
                    if let Some(v) = env("TOCSIN_TELEGRAM_BOT_TOKEN") {
                        t.bot_token = v;
                    }
                    if let Some(v) = env("TOCSIN_TELEGRAM_SECRET_TOKEN") {
                        t.secret_token = Some(v);
                    }
                }
                if let Some(w) = &mut ch.whatsapp {
                    if let Some(v) = env("TOCSIN_WHATSAPP_APP_SECRET") {
                        w.app_secret = v;
                    }
                    if let Some(v) = env("TOCSIN_WHATSAPP_VERIFY_TOKEN") {
                        w.verify_token = v;
                    }
                    if let Some(v) = env("TOCSIN_WHATSAPP_ACCESS_TOKEN") {
                        w.access_token = Some(v);
                    }
                }
                if let Some(m) = &mut ch.imap {
                    if let Some(v) = env("TOCSIN_IMAP_PASSWORD") {
                        m.password = v;
                    }
                }
                ch
            },
            server,
            analysis: file.analysis.unwrap_or_default(),
            signals: {
                let f = file.signals.unwrap_or_default();
                let d = SignalsConfig::default();
                SignalsConfig {
                    interval_minutes: o
                        .signals_interval_minutes
                        .or(f.interval_minutes)
                        .unwrap_or(d.interval_minutes),
                    weeks: f.weeks.unwrap_or(d.weeks),
                    detector: f.detector.unwrap_or(d.detector),
                }
            },
            contact_key_file: o.contact_key_file.or(file.contact_key_file),
            jobs: {
                let f = file.jobs.unwrap_or_default();
                let d = JobsConfig::default();
                JobsConfig {
                    tolerance: o
                        .jobs_tolerance_secs
                        .or(f.tolerance_secs)
                        .map_or(d.tolerance, Duration::from_secs),
                    per_job: f
                        .tolerance
                        .into_iter()
                        .map(|(k, v)| (k, Duration::from_secs(v)))
                        .collect(),
                    index_refresh: f
                        .index_refresh_secs
                        .map_or(d.index_refresh, |n| Duration::from_secs(n.get())),
                }
            },
            data_dir,
            token_expiry_days: o
                .token_expiry_days
                .or(file.auth.and_then(|a| a.token_expiry_days))
                .unwrap_or(DEFAULT_TOKEN_EXPIRY_DAYS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layering_and_redaction() {
        let file: FileConfig = toml::from_str(
            "listen = \"0.0.0.0:9000\"\ndatabase_url = \"postgres://tocsin:hunter2@db/tocsin\"\ncontact_key = \"00ff\"",
        )
        .unwrap();
        let c = Config::resolve(
            file,
            Overrides {
                listen: Some("127.0.0.1:1".into()),
                ..Default::default()
            },
        );
        assert_eq!(c.listen, "127.0.0.1:1");
        let with_sms: FileConfig = toml::from_str(
            "[sms]\ndefault_calling_code = \"236\"\n[sms.twilio]\naccount_sid = \"AC1\"\nauth_token = \"tw-s3cret\"\nfrom = \"+1555\"\n",
        )
        .unwrap();
        let c2 = Config::resolve(with_sms, Overrides::default());
        assert!(c2.sms.twilio.is_some() && c2.sms.kannel.is_none());
        assert!(!format!("{c2:?}").contains("tw-s3cret"));
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2") && !dbg.contains("00ff"), "{dbg}");
        assert!(dbg.contains("postgres://tocsin:<redacted>@db/tocsin"));
        let d = Config::resolve(FileConfig::default(), Overrides::default());
        assert_eq!(d.database_url.0, "sqlite://./tocsin-data/tocsin.db");
        assert!(toml::from_str::<FileConfig>("unknown = 1").is_err());
        assert_eq!(d.signals, SignalsConfig::default());
        assert_eq!(d.signals.interval_minutes, 360);
    }

    #[test]
    fn token_expiry_layers() {
        let d = Config::resolve(FileConfig::default(), Overrides::default());
        assert_eq!(
            d.token_lifetime().unwrap(),
            Some(chrono::Duration::days(90))
        );
        let file: FileConfig = toml::from_str("[auth]\ntoken_expiry_days = 30\n").unwrap();
        let c = Config::resolve(file, Overrides::default());
        assert_eq!(
            c.token_lifetime().unwrap(),
            Some(chrono::Duration::days(30))
        );
        assert_eq!(
            c.token_lifetime_or(Some("12h")).unwrap(),
            Some(chrono::Duration::hours(12))
        );
        assert_eq!(c.token_lifetime_or(Some("never")).unwrap(), None);
        let file: FileConfig = toml::from_str("[auth]\ntoken_expiry_days = 30\n").unwrap();
        let never = Config::resolve(
            file,
            Overrides {
                token_expiry_days: Some(0),
                ..Default::default()
            },
        );
        assert_eq!(
            never.token_lifetime().unwrap(),
            None,
            "the environment wins; 0 is never"
        );
        let file: FileConfig = toml::from_str("[auth]\ntoken_expiry_days = 99999\n").unwrap();
        assert!(Config::resolve(file, Overrides::default())
            .token_lifetime()
            .is_err());
        assert!(toml::from_str::<FileConfig>("[auth]\nbogus = 1\n").is_err());
    }

    #[test]
    fn analysis_table_loads_frameworks_and_refuses_unknown_ones() {
        let d = Config::resolve(FileConfig::default(), Overrides::default());
        let f = d.analysis.frameworks().unwrap();
        assert_eq!(f.default_framework().id, "un-foa-2014");
        assert!(
            f.get("osapg-2009").is_some(),
            "every shipped framework is loaded"
        );
        let file: FileConfig = toml::from_str("[analysis]\nframework = \"osapg-2009\"\n").unwrap();
        let c = Config::resolve(file, Overrides::default());
        assert_eq!(
            c.analysis.frameworks().unwrap().default_framework().id,
            "osapg-2009"
        );
        let dir = tempfile::tempdir().unwrap();
        let national = dir.path().join("national.toml");
        std::fs::write(
            &national,
            tocsin_framework::OSAPG_2009.replace("id = \"osapg-2009\"", "id = \"national-1\""),
        )
        .unwrap();
        let file: FileConfig = toml::from_str(&format!(
            "[analysis]\nframework = \"national-1\"\nframework_files = [{:?}]\n",
            national.display().to_string()
        ))
        .unwrap();
        let f = Config::resolve(file, Overrides::default())
            .analysis
            .frameworks()
            .unwrap();
        assert_eq!(f.default_framework().id, "national-1");
        assert!(f.get("un-foa-2014").is_some());
        for (bad, says) in [
            ("[analysis]\nframework = \"nope\"\n", "analysis.framework"),
            (
                "[analysis]\nframework_files = [\"/nonexistent.toml\"]\n",
                "framework_files",
            ),
        ] {
            let file: FileConfig = toml::from_str(bad).unwrap();
            let e = Config::resolve(file, Overrides::default())
                .analysis
                .frameworks()
                .unwrap_err();
            assert!(format!("{e:#}").contains(says), "{e:#}");
        }
        assert!(toml::from_str::<FileConfig>("[analysis]\nbogus = 1\n").is_err());
    }

    #[test]
    fn signals_table_layers_and_refuses_bad_settings() {
        let file: FileConfig = toml::from_str(
            "[signals]\ninterval_minutes = 60\nweeks = 2\nwindow_weeks = 26\n\
             [signals.incidents]\nthreshold = 5.5\n",
        )
        .unwrap();
        let c = Config::resolve(file, Overrides::default());
        assert_eq!(c.signals.interval_minutes, 60);
        assert_eq!(c.signals.weeks, 2);
        assert_eq!(c.signals.detector.window_weeks, 26);
        assert_eq!(c.signals.detector.incidents.threshold, 5.5);
        // Settings not written keep the detector's defaults.
        let d = tocsin_signals::DetectorConfig::default();
        assert_eq!(c.signals.detector.guard_weeks, d.guard_weeks);
        assert_eq!(c.signals.detector.incidents.shift, d.incidents.shift);
        assert_eq!(c.signals.detector.fatalities, d.fatalities);
        // The environment (or the flag) beats the file; 0 turns the schedule off.
        let file: FileConfig = toml::from_str("[signals]\ninterval_minutes = 60\n").unwrap();
        let c = Config::resolve(
            file,
            Overrides {
                signals_interval_minutes: Some(0),
                ..Default::default()
            },
        );
        assert_eq!(c.signals.interval_minutes, 0);
        assert_eq!(c.signals.detector, d);
        for bad in [
            "[signals]\nbogus = 1\n",
            "[signals]\ninterval_minutes = -5\n",
            "[signals]\nweeks = 0\n",
            "[signals]\nweeks = \"four\"\n",
            "[signals]\nwindow_weeks = 0\n",
            "[signals.incidents]\nshift = 0.5\n",
            "[signals.incidents]\nbogus = 1\n",
        ] {
            let e = toml::from_str::<FileConfig>(bad).unwrap_err().to_string();
            assert!(e.contains("signals"), "{bad}: {e}");
        }
    }

    #[test]
    fn server_table_https_defaults_and_explicit_settings() {
        let d = Config::resolve(FileConfig::default(), Overrides::default());
        assert_eq!(d.server.edge, tocsin_server::edge::Edge::default());
        assert!(d.server.edge.header_timeout <= Duration::from_secs(10));
        assert!(d.server.trusted_proxies.is_empty() && d.server.public_url.is_none());
        assert!(!d.secure_cookies);
        let file = |t: &str| toml::from_str::<FileConfig>(t).unwrap();
        let c = Config::resolve(
            file(
                "[server]\npublic_url = \"https://tocsin.example.org\"\n\
                 trusted_proxies = [\"127.0.0.1/32\", \"::1/128\"]\n\
                 header_timeout_secs = 3\nrequest_timeout_secs = 20\nmax_connections = 40\n",
            ),
            Overrides::default(),
        );
        assert!(
            c.server.edge.https && c.secure_cookies,
            "https: Secure by default"
        );
        assert_eq!(c.server.trusted_proxies.len(), 2);
        assert_eq!(c.server.edge.header_timeout, Duration::from_secs(3));
        assert_eq!(c.server.edge.request_timeout, Duration::from_secs(20));
        assert_eq!(c.server.edge.max_connections, 40);
        c.server.validate().unwrap();
        // An explicit setting wins over the https default, from the file or the environment.
        let c = Config::resolve(
            file("secure_cookies = false\n[server]\npublic_url = \"https://t.example\"\n"),
            Overrides::default(),
        );
        assert!(c.server.edge.https && !c.secure_cookies);
        let c = Config::resolve(
            file("[server]\npublic_url = \"https://t.example\"\n"),
            Overrides {
                secure_cookies: Some(false),
                trusted_proxies: Some(vec!["10.0.0.0/8".parse().unwrap()]),
                ..Default::default()
            },
        );
        assert!(!c.secure_cookies);
        assert_eq!(
            c.server.trusted_proxies,
            vec!["10.0.0.0/8".parse().unwrap()]
        );
        // `[sms] public_url` stands in for a missing `[server] public_url`, not for a set one.
        let c = Config::resolve(
            file("[sms]\npublic_url = \"https://t.example\"\n"),
            Overrides::default(),
        );
        assert!(c.server.edge.https && c.secure_cookies);
        let c = Config::resolve(
            file("[server]\npublic_url = \"http://t.example\"\n[sms]\npublic_url = \"https://t.example\"\n"),
            Overrides::default(),
        );
        assert!(!c.server.edge.https && !c.secure_cookies);
        let c = Config::resolve(
            FileConfig::default(),
            Overrides {
                public_url: Some("https://t.example".into()),
                ..Default::default()
            },
        );
        assert!(c.server.edge.https && c.secure_cookies);
        // Bad settings are refused.
        for bad in [
            "[server]\nheader_timeout_secs = 0\n",
            "[server]\nmax_connections = 0\n",
            "[server]\ntrusted_proxies = [\"not-a-network\"]\n",
            "[server]\nbogus = 1\n",
        ] {
            assert!(toml::from_str::<FileConfig>(bad).is_err(), "{bad}");
        }
        let c = Config::resolve(
            file("[server]\npublic_url = \"tocsin.example.org\"\n"),
            Overrides::default(),
        );
        assert!(c
            .server
            .validate()
            .unwrap_err()
            .to_string()
            .contains("server.public_url"));
    }

    #[test]
    fn verification_checklist_layers() {
        let file = |t: &str| toml::from_str::<FileConfig>(t).unwrap();
        let c = Config::resolve(FileConfig::default(), Overrides::default());
        assert_eq!(
            c.verification.required_tasks,
            tocsin_app::verification::DEFAULT_TASKS
        );
        let toml =
            "[verification]\nrequired_tasks = [\"Call a second contact\", \"Check photos\"]\n";
        let c = Config::resolve(file(toml), Overrides::default());
        assert_eq!(
            c.verification.required_tasks,
            ["Call a second contact", "Check photos"]
        );
        // The variable wins over the file; `;` separates tasks, empty ones are dropped.
        let c = Config::resolve(
            file(toml),
            Overrides {
                verification_required_tasks: Some(split_tasks("Call the priest; ;Visit the site")),
                ..Default::default()
            },
        );
        assert_eq!(
            c.verification.required_tasks,
            ["Call the priest", "Visit the site"]
        );
        let twice = tocsin_app::verification::VerificationSettings {
            required_tasks: vec!["A".into(), "A".into()],
        };
        assert!(twice.validate().unwrap_err().contains("listed twice"));
        assert!(toml::from_str::<FileConfig>("[verification]\nbogus = 1\n").is_err());
    }

    #[test]
    fn organisation_and_alert_defaults_come_from_the_file() {
        let c = Config::resolve(FileConfig::default(), Overrides::default());
        let s = c.alert_settings().unwrap();
        assert_eq!(s.departments, tocsin_domain::Department::defaults());
        assert_eq!(s.ack.critical.to_string(), "30m");
        assert_eq!(s.ack.low.to_string(), "2d");
        let file: FileConfig = toml::from_str(
            "[organisation]\ndepartments = [\"culture\", \"defence\"]\n[alerts]\ncritical = \"10m\"\n",
        )
        .unwrap();
        let s = Config::resolve(file, Overrides::default())
            .alert_settings()
            .unwrap();
        assert_eq!(s.departments.len(), 2);
        assert_eq!(s.ack.critical.to_string(), "10m");
        assert_eq!(s.ack.high.to_string(), "4h");
        let file: FileConfig = toml::from_str("[alerts]\nhigh = \"0s\"\n").unwrap();
        let e = Config::resolve(file, Overrides::default())
            .alert_settings()
            .unwrap_err();
        assert!(e.to_string().contains("alerts.high"), "{e}");
        assert!(toml::from_str::<FileConfig>("[alerts]\nurgent = \"1m\"\n").is_err());
    }

    #[test]
    fn rumour_deadlines_and_the_generic_rule_come_from_the_file() {
        let s = Config::resolve(FileConfig::default(), Overrides::default())
            .alert_settings()
            .unwrap();
        assert_eq!(s.rumours.critical.to_string(), "6h");
        assert_eq!(s.rumours.low.to_string(), "7d");
        assert_eq!((s.generic_rule.share, s.generic_rule.count), (0.5, 50));
        let file: FileConfig = toml::from_str(
            "[rumours]\ncritical = \"2h\"\n[analysis]\ngeneric_rule_share = 0.8\ngeneric_rule_count = 20\n",
        )
        .unwrap();
        let s = Config::resolve(file, Overrides::default())
            .alert_settings()
            .unwrap();
        assert_eq!(s.rumours.critical.to_string(), "2h");
        assert_eq!(s.rumours.high.to_string(), "1d");
        assert_eq!((s.generic_rule.share, s.generic_rule.count), (0.8, 20));
        for (toml, field) in [
            ("[rumours]\nmedium = \"0s\"\n", "rumours.medium"),
            (
                "[analysis]\ngeneric_rule_share = 1.5\n",
                "generic_rule_share",
            ),
            ("[analysis]\ngeneric_rule_count = 0\n", "generic_rule_count"),
        ] {
            let file: FileConfig = toml::from_str(toml).unwrap();
            let e = Config::resolve(file, Overrides::default())
                .alert_settings()
                .unwrap_err();
            assert!(e.to_string().contains(field), "{e}");
        }
        assert!(toml::from_str::<FileConfig>("[rumours]\nurgent = \"1m\"\n").is_err());
    }

    #[test]
    fn jobs_tolerances_layer_defaults_file_and_environment() {
        let c = Config::resolve(FileConfig::default(), Overrides::default());
        assert_eq!(c.jobs.tolerance_for("outbox"), Duration::from_secs(900));
        assert_eq!(c.jobs.index_refresh, Duration::from_secs(30));
        let file = || -> FileConfig {
            toml::from_str(
                "[jobs]\ntolerance_secs = 120\nindex_refresh_secs = 5\n[jobs.tolerance]\nsignals = 86400\n",
            )
            .unwrap()
        };
        let c = Config::resolve(file(), Overrides::default());
        assert_eq!(c.jobs.tolerance_for("outbox"), Duration::from_secs(120));
        assert_eq!(c.jobs.tolerance_for("signals"), Duration::from_secs(86400));
        assert_eq!(c.jobs.index_refresh, Duration::from_secs(5));
        let c = Config::resolve(
            file(),
            Overrides {
                jobs_tolerance_secs: Some(30),
                ..Default::default()
            },
        );
        assert_eq!(c.jobs.tolerance_for("outbox"), Duration::from_secs(30));
        assert_eq!(c.jobs.tolerance_for("signals"), Duration::from_secs(86400));
        assert!(toml::from_str::<FileConfig>("[jobs]\ntolerance = 5\n").is_err());
        assert!(toml::from_str::<FileConfig>("[jobs]\nindex_refresh_secs = 0\n").is_err());
    }

    #[test]
    fn share_sync_is_off_by_default_and_layers() {
        assert_eq!(
            Config::resolve(FileConfig::default(), Overrides::default()).share_sync_minutes,
            0
        );
        let file = || -> FileConfig { toml::from_str("[share]\nsync_minutes = 15\n").unwrap() };
        assert_eq!(
            Config::resolve(file(), Overrides::default()).share_sync_minutes,
            15
        );
        let o = Overrides {
            share_sync_minutes: Some(5),
            ..Default::default()
        };
        assert_eq!(Config::resolve(file(), o).share_sync_minutes, 5);
        assert!(toml::from_str::<FileConfig>("[share]\nsync = 1\n").is_err());
    }

    #[test]
    fn notify_smtp_layers_validates_and_hides_its_password() {
        let toml_text = "[notify.smtp]\nhost = \"mail.example.org\"\nusername = \"tocsin\"\n\
                         password = \"file-s3cret\"\nfrom = \"Tocsin <alerts@example.org>\"\n";
        let c = Config::resolve(toml::from_str(toml_text).unwrap(), Overrides::default());
        let smtp = c.notify.smtp.as_ref().unwrap();
        assert_eq!(smtp.port(), 587, "STARTTLS by default");
        assert!(c.notify.validate().is_ok());
        // TOCSIN_NOTIFY_SMTP_PASSWORD wins over the file.
        let c = Config::resolve(
            toml::from_str(toml_text).unwrap(),
            Overrides {
                notify_smtp_password: Some(Secret("env-s3cret".into())),
                ..Default::default()
            },
        );
        let smtp = c.notify.smtp.as_ref().unwrap();
        assert_eq!(smtp.password.as_ref().unwrap().0, "env-s3cret");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("env-s3cret") && !shown.contains("file-s3cret"),
            "{shown}"
        );
        // No encryption to a remote server is refused at start, saying why.
        let c = Config::resolve(
            toml::from_str(&format!("{toml_text}tls = \"none\"\n")).unwrap(),
            Overrides::default(),
        );
        let e = c.notify.validate().unwrap_err().to_string();
        assert!(e.contains("tls = \"none\" is allowed only"), "{e}");
        assert!(toml::from_str::<FileConfig>(
            "[notify.smtp]\nhost = \"h\"\nfrom = \"a@b\"\ntls = \"ssl\"\n"
        )
        .is_err());
        assert!(Config::resolve(FileConfig::default(), Overrides::default())
            .notify
            .smtp
            .is_none());
    }

    #[test]
    fn notify_webhooks_layer_validate_and_hide_their_secrets_and_urls() {
        let toml_text = "[[notify.webhooks]]\nname = \"ops-room\"\n\
                         url = \"https://hooks.example.org/T0/SECRETPATH\"\n\
                         secret = \"file-webhook-secret-0123456789\"\n\
                         max_tlp = \"TLP:GREEN\"\nmin_severity = \"high\"\n\
                         [[notify.webhooks]]\nname = \"hub\"\n\
                         url = \"https://hub.example.org/in\"\n";
        let c = Config::resolve(toml::from_str(toml_text).unwrap(), Overrides::default());
        assert_eq!(c.notify.webhooks.len(), 2);
        let ops = &c.notify.webhooks[0];
        assert_eq!(ops.max_tlp, tocsin_domain::Tlp::Green);
        assert_eq!(ops.min_severity, tocsin_domain::Severity::High);
        assert_eq!(c.notify.webhooks[1].max_tlp, tocsin_domain::Tlp::Clear);
        // The second has no secret: refused at start, naming its variable.
        let e = c.notify.validate().unwrap_err().to_string();
        assert!(e.contains("TOCSIN_NOTIFY_WEBHOOK_HUB_SECRET"), "{e}");
        // The variable supplies it; one for ops-room wins over the file.
        let env = [
            (
                "TOCSIN_NOTIFY_WEBHOOK_HUB_SECRET",
                "env-hub-secret-0123456789abcdef",
            ),
            (
                "TOCSIN_NOTIFY_WEBHOOK_OPS_ROOM_SECRET",
                "env-ops-secret-0123456789abcdef",
            ),
        ];
        let c = Config::resolve(
            toml::from_str(toml_text).unwrap(),
            Overrides {
                notify_webhook_secrets: env
                    .iter()
                    .map(|(k, v)| (k.to_string(), Secret(v.to_string())))
                    .collect(),
                ..Default::default()
            },
        );
        assert!(c.notify.validate().is_ok());
        assert_eq!(
            c.notify.webhooks[0].secret.as_ref().unwrap().0,
            "env-ops-secret-0123456789abcdef"
        );
        let shown = format!("{c:?}");
        for s in [
            "env-ops-secret",
            "env-hub-secret",
            "file-webhook-secret",
            "SECRETPATH",
        ] {
            assert!(!shown.contains(s), "{s} printed: {shown}");
        }
        assert!(Config::resolve(FileConfig::default(), Overrides::default())
            .notify
            .webhooks
            .is_empty());
    }

    #[test]
    fn channel_secrets_from_the_environment_win_over_the_file_and_stay_hidden() {
        let toml_text = "[channels.telegram]\nbot_token = \"1:file-token\"\nmode = \"webhook\"\n\
                         secret_token = \"file-secret\"\n\
                         [channels.whatsapp]\napp_secret = \"file-app\"\nverify_token = \"file-verify\"\n";
        let mut env = std::collections::BTreeMap::new();
        for (k, v) in [
            ("TOCSIN_TELEGRAM_BOT_TOKEN", "2:env-token"),
            ("TOCSIN_TELEGRAM_SECRET_TOKEN", "env-secret"),
            ("TOCSIN_WHATSAPP_APP_SECRET", "env-app"),
            ("TOCSIN_WHATSAPP_VERIFY_TOKEN", "env-verify"),
            ("TOCSIN_WHATSAPP_ACCESS_TOKEN", "env-access"),
        ] {
            env.insert(k.to_string(), Secret(v.into()));
        }
        let c = Config::resolve(
            toml::from_str(toml_text).unwrap(),
            Overrides {
                channel_secrets: env.clone(),
                ..Default::default()
            },
        );
        let tg = c.channels.telegram.as_ref().unwrap();
        assert_eq!(tg.bot_token.0, "2:env-token");
        assert_eq!(tg.secret_token.as_ref().unwrap().0, "env-secret");
        let wa = c.channels.whatsapp.as_ref().unwrap();
        assert_eq!(wa.app_secret.0, "env-app");
        assert_eq!(wa.verify_token.0, "env-verify");
        assert_eq!(wa.access_token.as_ref().unwrap().0, "env-access");
        let shown = format!("{c:?}");
        for v in [
            "env-token",
            "env-secret",
            "env-app",
            "env-verify",
            "env-access",
            "file-",
        ] {
            assert!(!shown.contains(v), "{v} shown: {shown}");
        }
        // A variable without its section configures nothing.
        let c = Config::resolve(
            FileConfig::default(),
            Overrides {
                channel_secrets: env,
                ..Default::default()
            },
        );
        assert!(c.channels.telegram.is_none() && c.channels.whatsapp.is_none());
    }

    #[test]
    fn channels_telegram_reads_validates_and_hides_its_secrets() {
        let toml_text = "[channels.telegram]\nbot_token = \"123:bot-token-never-printed\"\n\
                         api_base = \"http://127.0.0.1:9\"\nmode = \"webhook\"\n\
                         secret_token = \"secret-token-never-printed\"\n";
        let c = Config::resolve(toml::from_str(toml_text).unwrap(), Overrides::default());
        let tg = c.channels.telegram.as_ref().unwrap();
        assert_eq!(tg.mode, tocsin_delivery::telegram::TelegramMode::Webhook);
        assert_eq!(tg.api(), "http://127.0.0.1:9");
        assert!(tg.validate().is_ok());
        let shown = format!("{c:?}");
        for s in ["bot-token-never-printed", "secret-token-never-printed"] {
            assert!(!shown.contains(s), "{s} printed: {shown}");
        }
        // Webhook mode without a secret token, or a short one, is refused naming the key.
        let no_secret = "[channels.telegram]\nbot_token = \"1:x\"\nmode = \"webhook\"\n";
        let c = Config::resolve(toml::from_str(no_secret).unwrap(), Overrides::default());
        let e = c.channels.telegram.unwrap().validate().unwrap_err();
        assert!(e.contains("channels.telegram.secret_token"), "{e}");
        // Poll mode is the default and needs none.
        let poll = "[channels.telegram]\nbot_token = \"1:x\"\n";
        let c = Config::resolve(toml::from_str(poll).unwrap(), Overrides::default());
        let tg = c.channels.telegram.unwrap();
        assert_eq!(tg.mode, tocsin_delivery::telegram::TelegramMode::Poll);
        assert!(tg.validate().is_ok());
        assert!(toml::from_str::<FileConfig>(
            "[channels.telegram]\nbot_token = \"1:x\"\nmode = \"push\"\n"
        )
        .is_err());
    }

    #[test]
    fn channels_imap_reads_validates_and_hides_its_password() {
        let toml_text = "[channels.imap]\nhost = \"imap.example.org\"\nusername = \"reports\"\n\
                         password = \"imap-file-password\"\nsecurity = \"starttls\"\nidle_secs = 600\n";
        let c = Config::resolve(toml::from_str(toml_text).unwrap(), Overrides::default());
        let m = c.channels.imap.as_ref().unwrap();
        assert_eq!(m.port(), 143);
        assert_eq!(m.mailbox(), "INBOX");
        assert_eq!(m.security, tocsin_delivery::imap::ImapSecurity::Starttls);
        assert!(m.validate().is_ok());
        assert!(!format!("{c:?}").contains("imap-file-password"));
        // The variable wins over the file, and is never shown either.
        let mut env = std::collections::BTreeMap::new();
        env.insert(
            "TOCSIN_IMAP_PASSWORD".to_string(),
            Secret("imap-env-password".into()),
        );
        let c = Config::resolve(
            toml::from_str(toml_text).unwrap(),
            Overrides {
                channel_secrets: env.clone(),
                ..Default::default()
            },
        );
        assert_eq!(
            c.channels.imap.as_ref().unwrap().password.0,
            "imap-env-password"
        );
        let shown = format!("{c:?}");
        assert!(!shown.contains("imap-env-password") && !shown.contains("imap-file-password"));
        // Without the section, the variable configures nothing.
        let c = Config::resolve(
            FileConfig::default(),
            Overrides {
                channel_secrets: env,
                ..Default::default()
            },
        );
        assert!(c.channels.imap.is_none());
        // No way to turn verification off; a bad IDLE period is refused naming the key.
        for bad in ["tls_verify = false", "security = \"plain\""] {
            assert!(
                toml::from_str::<FileConfig>(&format!("{toml_text}{bad}\n")).is_err(),
                "{bad}"
            );
        }
        let long_idle = toml_text.replace("idle_secs = 600", "idle_secs = 3600");
        let c = Config::resolve(toml::from_str(&long_idle).unwrap(), Overrides::default());
        let e = c.channels.imap.unwrap().validate().unwrap_err();
        assert!(e.contains("channels.imap.idle_secs"), "{e}");
        let no_password = "[channels.imap]\nhost = \"h.example.org\"\nusername = \"u\"\n";
        assert!(
            toml::from_str::<FileConfig>(no_password).is_err(),
            "a password is required (in the file, or the variable over it)"
        );
    }
}
