//! WhatsApp Business Cloud API: the configuration (`[channels.whatsapp]`), the webhook's
//! checks (the verify handshake's token, `X-Hub-Signature-256`, both in constant time) and the
//! reply channel of the outbox.
//!
//! WhatsApp lets a business answer freely only inside the 24-hour customer-service window
//! opened by the customer's last message; outside it only a pre-approved template may be sent.
//! Tocsin sends no template: an acknowledgement is queued only while at least
//! [`REPLY_MARGIN_SECS`] of the window remain, and the channel refuses one older than that
//! margin, so nothing leaves once the window may have closed. A reply not sent for that
//! reason is recorded as a failed delivery with [`WINDOW_CLOSED`] as its reason, shown on the
//! report.

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::time::Duration;
use tocsin_domain::{ContactKey, RecipientKind};
use tocsin_store::SendOutcome;

use crate::sms::{gateway_text, provider_key, Secret};
use crate::{AddressKind, Channel, Outgoing};

/// The prefix of a WhatsApp address in a sealed contact (then the sender's `wa_id`).
pub const CHAT_PREFIX: &str = "whatsapp:";

/// WhatsApp's customer-service window, in seconds.
pub const WINDOW_SECS: i64 = 24 * 3600;

/// A reply is queued only while this much of the window remains, and refused once it has
/// waited this long: whatever the delays, it never leaves after the window closed.
pub const REPLY_MARGIN_SECS: i64 = 3600;

/// Why a reply was not sent: the window had closed (or could have by the time it left).
pub const WINDOW_CLOSED: &str =
    "not sent: outside WhatsApp's 24-hour customer-service window (only a template may be sent; Tocsin sends none)";

/// `[channels.whatsapp]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsappConfig {
    /// The app secret the webhook's `X-Hub-Signature-256` is computed with (a secret).
    pub app_secret: Secret,
    /// The token the verify handshake must present as `hub.verify_token` (a secret).
    pub verify_token: Secret,
    /// The access token replies are sent with (a secret); without it no reply is sent.
    pub access_token: Option<Secret>,
    /// The business phone number's id replies are sent from.
    pub phone_number_id: Option<String>,
    /// The Graph API's address (default `https://graph.facebook.com`).
    pub api_base: Option<String>,
    /// The Graph API version (default `v21.0`).
    pub api_version: Option<String>,
}

impl WhatsappConfig {
    /// Refuse a configuration the server cannot run with, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.app_secret.0.len() < 16 {
            return Err("channels.whatsapp.app_secret must have at least 16 characters".into());
        }
        if self.verify_token.0.len() < 16 {
            return Err("channels.whatsapp.verify_token must have at least 16 characters".into());
        }
        if self.access_token.is_some() != self.phone_number_id.is_some() {
            return Err(
                "channels.whatsapp.access_token and phone_number_id go together (replies need both)"
                    .into(),
            );
        }
        Ok(())
    }

    /// Whether replies can be sent.
    pub fn replies(&self) -> bool {
        self.access_token.is_some() && self.phone_number_id.is_some()
    }

    /// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under the app secret,
    /// compared in constant time.
    pub fn signature_ok(&self, header: Option<&str>, body: &[u8]) -> bool {
        let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
            return false;
        };
        let Ok(sig) = hex::decode(hex_sig) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(self.app_secret.0.as_bytes())
            .expect("HMAC takes any key");
        mac.update(body);
        mac.verify_slice(&sig).is_ok()
    }

    /// Whether `token` is the verify token, in constant time.
    pub fn verify_token_ok(&self, token: &str) -> bool {
        let mut a =
            Hmac::<Sha256>::new_from_slice(b"tocsin-whatsapp-verify").expect("HMAC takes any key");
        a.update(token.as_bytes());
        let mut b =
            Hmac::<Sha256>::new_from_slice(b"tocsin-whatsapp-verify").expect("HMAC takes any key");
        b.update(self.verify_token.0.as_bytes());
        a.verify_slice(&b.finalize().into_bytes()).is_ok()
    }
}

/// Replies through the Cloud API to a source's sealed `wa_id`, only inside the window.
pub struct WhatsappChannel {
    cfg: WhatsappConfig,
    key: std::sync::Arc<ContactKey>,
    http: reqwest::Client,
}

impl WhatsappChannel {
    /// The channel for `cfg` (which must have [`WhatsappConfig::replies`]).
    pub fn new(cfg: WhatsappConfig, key: std::sync::Arc<ContactKey>) -> WhatsappChannel {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("HTTP client builds");
        WhatsappChannel { cfg, key, http }
    }
}

#[async_trait]
impl Channel for WhatsappChannel {
    fn name(&self) -> &'static str {
        "whatsapp"
    }
    fn reaches(&self) -> &'static [RecipientKind] {
        &[RecipientKind::Source]
    }
    fn address_kind(&self) -> AddressKind {
        AddressKind::Chat
    }
    async fn send(&self, out: &Outgoing<'_>) -> SendOutcome {
        let m = out.message;
        let waited = tocsin_domain::time::now() - m.created_at;
        if waited.num_seconds() > REPLY_MARGIN_SECS {
            return SendOutcome::Failed(WINDOW_CLOSED.into());
        }
        let Some(to) = out.to.strip_prefix(CHAT_PREFIX) else {
            return SendOutcome::Failed("the source has no WhatsApp address".into());
        };
        let (Some(token), Some(phone_id)) = (&self.cfg.access_token, &self.cfg.phone_number_id)
        else {
            return SendOutcome::Failed("WhatsApp replies are not configured".into());
        };
        let url = format!(
            "{}/{}/{}/messages",
            self.cfg
                .api_base
                .as_deref()
                .unwrap_or("https://graph.facebook.com")
                .trim_end_matches('/'),
            self.cfg.api_version.as_deref().unwrap_or("v21.0"),
            phone_id
        );
        let body = serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"body": m.text},
        });
        match self
            .http
            .post(url)
            .bearer_auth(&token.0)
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {
                let v: serde_json::Value = r.json().await.unwrap_or_default();
                SendOutcome::Sent(
                    v["messages"][0]["id"]
                        .as_str()
                        .map(|id| provider_key(&self.key, "whatsapp", id)),
                )
            }
            Ok(r) => {
                let status = r.status();
                let v: serde_json::Value = r.json().await.unwrap_or_default();
                let said = v["error"]["message"]
                    .as_str()
                    .map(gateway_text)
                    .unwrap_or_default();
                if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                    SendOutcome::Retry(format!("WhatsApp answered {status} {said}"))
                } else {
                    SendOutcome::Failed(format!("WhatsApp refused the message: {status} {said}"))
                }
            }
            Err(e) => SendOutcome::Retry(format!("network error: {}", e.without_url())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> WhatsappConfig {
        WhatsappConfig {
            app_secret: Secret("app-secret-0123456789".into()),
            verify_token: Secret("verify-token-0123456789".into()),
            access_token: None,
            phone_number_id: None,
            api_base: None,
            api_version: None,
        }
    }

    #[test]
    fn signatures_and_verify_tokens() {
        let c = cfg();
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"app-secret-0123456789").unwrap();
        mac.update(body);
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(c.signature_ok(Some(&good), body));
        assert!(!c.signature_ok(Some(&good), b"{}"));
        assert!(!c.signature_ok(Some("sha256=00"), body));
        assert!(!c.signature_ok(Some("sha256=zz"), body));
        assert!(!c.signature_ok(Some(&good.replace("sha256=", "")), body));
        assert!(!c.signature_ok(None, body));
        assert!(c.verify_token_ok("verify-token-0123456789"));
        assert!(!c.verify_token_ok("verify-token-012345678"));
        assert!(!c.verify_token_ok(""));
        assert!(!format!("{c:?}").contains("app-secret"));
        assert!(!format!("{c:?}").contains("verify-token"));
    }
}
