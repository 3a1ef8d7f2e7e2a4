//! Telegram: the bot's configuration (`[channels.telegram]`), its Bot API client (`getUpdates`
//! for long polling, `sendMessage` for replies) and the reply channel of the outbox.
//!
//! The bot token is part of every Bot API URL, so no error here ever carries a URL
//! (`reqwest::Error::without_url`), and the token and the webhook's secret are [`Secret`]s,
//! never printed. A reply goes to the chat id sealed in the source's contact
//! (`SourceContact::chat`, `telegram:<chat id>`), opened only to send.

use async_trait::async_trait;
use serde::Deserialize;
use std::time::Duration;
use tocsin_domain::{ContactKey, RecipientKind};
use tocsin_store::SendOutcome;

use crate::sms::{gateway_text, provider_key, Secret};
use crate::{AddressKind, Channel, Outgoing};

/// The prefix of a Telegram chat address in a sealed contact.
pub const CHAT_PREFIX: &str = "telegram:";

/// How updates reach Tocsin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// Tocsin asks for them (`getUpdates` with an offset kept in the database).
    #[default]
    Poll,
    /// Telegram posts them to `/channels/telegram`, with the secret token in a header.
    Webhook,
}

/// `[channels.telegram]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// The bot's token from BotFather (a secret: never printed).
    pub bot_token: Secret,
    /// The Bot API's address (default `https://api.telegram.org`; a local Bot API server or a
    /// test stand-in otherwise).
    pub api_base: Option<String>,
    /// `poll` (default) or `webhook`.
    #[serde(default)]
    pub mode: TelegramMode,
    /// The webhook's secret token, as given to `setWebhook` (a secret; at least 16 characters,
    /// required in webhook mode).
    pub secret_token: Option<Secret>,
    /// How long one `getUpdates` waits for news, in seconds (default 25; 0 asks and returns).
    pub poll_timeout_secs: Option<u64>,
}

impl TelegramConfig {
    /// The Bot API's base address, without a trailing slash.
    pub fn api(&self) -> &str {
        self.api_base
            .as_deref()
            .unwrap_or("https://api.telegram.org")
            .trim_end_matches('/')
    }

    /// Refuse a configuration the server cannot run with, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.bot_token.0.trim().is_empty() {
            return Err("channels.telegram.bot_token is empty".into());
        }
        if self.mode == TelegramMode::Webhook {
            match &self.secret_token {
                Some(s) if s.0.len() >= 16 => {}
                _ => {
                    return Err("channels.telegram.secret_token (at least 16 characters) is required in webhook mode".into())
                }
            }
        }
        if let Some(s) = &self.secret_token {
            // What Telegram accepts as a secret token.
            if !s
                .0
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                || s.0.len() > 256
            {
                return Err("channels.telegram.secret_token may hold only A-Z, a-z, 0-9, _ and - (at most 256)".into());
            }
        }
        Ok(())
    }
}

/// What a `getUpdates` call gave.
#[derive(Debug)]
pub enum Updates {
    /// The updates (raw JSON, each read defensively by the caller).
    Got(Vec<serde_json::Value>),
    /// 429: wait this long before asking again.
    RateLimited(Duration),
    /// A passing failure (network, 5xx): back off and retry.
    Unavailable(String),
    /// A lasting refusal (a wrong token: 401/404).
    Refused(String),
}

/// The Bot API client.
#[derive(Clone)]
pub struct TelegramApi {
    cfg: TelegramConfig,
    http: reqwest::Client,
}

impl std::fmt::Debug for TelegramApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramApi").finish_non_exhaustive()
    }
}

impl TelegramApi {
    /// A client for `cfg`.
    pub fn new(cfg: TelegramConfig) -> TelegramApi {
        let wait = cfg.poll_timeout_secs.unwrap_or(25);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(wait + 15))
            .build()
            .expect("HTTP client builds");
        TelegramApi { cfg, http }
    }

    /// The configuration.
    pub fn config(&self) -> &TelegramConfig {
        &self.cfg
    }

    fn url(&self, method: &str) -> String {
        format!("{}/bot{}/{method}", self.cfg.api(), self.cfg.bot_token.0)
    }

    /// `getUpdates` from `offset` (the first update not yet stored).
    pub async fn get_updates(&self, offset: Option<i64>) -> Updates {
        let mut body = serde_json::json!({
            "timeout": self.cfg.poll_timeout_secs.unwrap_or(25),
            "allowed_updates": ["message", "edited_message"],
        });
        if let Some(o) = offset {
            body["offset"] = o.into();
        }
        let r = match self
            .http
            .post(self.url("getUpdates"))
            .json(&body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return Updates::Unavailable(format!("network error: {}", e.without_url())),
        };
        let status = r.status();
        let v: serde_json::Value = r.json().await.unwrap_or_default();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let secs = v["parameters"]["retry_after"].as_u64().unwrap_or(5);
            return Updates::RateLimited(Duration::from_secs(secs.clamp(1, 3600)));
        }
        if status.is_server_error() {
            return Updates::Unavailable(format!("Telegram answered {status}"));
        }
        if !status.is_success() || v["ok"] != serde_json::Value::Bool(true) {
            let said = v["description"]
                .as_str()
                .map(gateway_text)
                .unwrap_or_default();
            return Updates::Refused(format!("Telegram refused getUpdates: {status} {said}"));
        }
        match v["result"].as_array() {
            Some(a) => Updates::Got(a.clone()),
            None => Updates::Unavailable("Telegram answered without a result".into()),
        }
    }
}

/// Replies through the bot (`sendMessage`) to a source's sealed chat id.
pub struct TelegramChannel {
    api: TelegramApi,
    key: std::sync::Arc<ContactKey>,
}

impl TelegramChannel {
    /// The channel over `api`.
    pub fn new(api: TelegramApi, key: std::sync::Arc<ContactKey>) -> TelegramChannel {
        TelegramChannel { api, key }
    }
}

#[async_trait]
impl Channel for TelegramChannel {
    fn name(&self) -> &'static str {
        "telegram"
    }
    fn reaches(&self) -> &'static [RecipientKind] {
        &[RecipientKind::Source]
    }
    fn address_kind(&self) -> AddressKind {
        AddressKind::Chat
    }
    async fn send(&self, out: &Outgoing<'_>) -> SendOutcome {
        let Some(chat) = out.to.strip_prefix(CHAT_PREFIX) else {
            return SendOutcome::Failed("the source has no Telegram chat".into());
        };
        let chat: i64 = match chat.parse() {
            Ok(c) => c,
            Err(_) => {
                return SendOutcome::Failed("the source's Telegram chat id is invalid".into())
            }
        };
        let body = serde_json::json!({"chat_id": chat, "text": out.message.text});
        match self
            .api
            .http
            .post(self.api.url("sendMessage"))
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {
                let v: serde_json::Value = r.json().await.unwrap_or_default();
                SendOutcome::Sent(
                    v["result"]["message_id"]
                        .as_i64()
                        .map(|id| provider_key(&self.key, "telegram", &format!("out:{chat}:{id}"))),
                )
            }
            Ok(r) => {
                let status = r.status();
                let v: serde_json::Value = r.json().await.unwrap_or_default();
                let said = v["description"]
                    .as_str()
                    .map(gateway_text)
                    .unwrap_or_default();
                if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                    // Flood control: Telegram says how long to wait; the outbox waits that long
                    // (at least a second) before this delivery is tried again.
                    let secs = v["parameters"]["retry_after"]
                        .as_u64()
                        .unwrap_or(5)
                        .clamp(1, 3600);
                    SendOutcome::RetryAfter(
                        format!("Telegram answered {status}: retry after {secs} s"),
                        secs,
                    )
                } else if status.is_server_error() {
                    // Backed off by the outbox (growing with each attempt).
                    SendOutcome::Retry(format!("Telegram answered {status} {said}"))
                } else {
                    SendOutcome::Failed(format!("Telegram refused the message: {status} {said}"))
                }
            }
            Err(e) => SendOutcome::Retry(format!("network error: {}", e.without_url())),
        }
    }
}
