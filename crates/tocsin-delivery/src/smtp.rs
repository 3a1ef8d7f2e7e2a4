//! E-mail over SMTP (`[notify.smtp]`): a pushed [`Channel`] to users, outside addresses and
//! the sources who wrote by e-mail (`[channels.imap]`: the acknowledgement goes to the address
//! sealed in the source's contact).
//!
//! Each message carries a `Message-ID` derived (a keyed hash) from its delivery's idempotency
//! key, so a resend is recognisable and the id reveals nothing. A 2xx reply is sent; a 4xx
//! reply or a connection failure is retried with back-off; a 5xx reply fails the delivery
//! with the server's reply, any address in it masked. Neither the recipient's address nor the
//! body is logged.

use async_trait::async_trait;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use std::time::Duration;
use tocsin_domain::{ContactKey, RecipientKind};
use tocsin_store::SendOutcome;

use crate::sms::Secret;
use crate::{AddressKind, Channel, Outgoing};

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, required (default port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (default port 465).
    Tls,
    /// No encryption (default port 25): only to a server on this machine.
    None,
}

/// `[notify.smtp]` in the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The mail server's host name.
    pub host: String,
    /// Its port (default by `tls`: 587, 465 or 25).
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none` (loopback hosts only).
    #[serde(default)]
    pub tls: SmtpTls,
    /// Login name, if the server wants one.
    pub username: Option<String>,
    /// Password (`TOCSIN_NOTIFY_SMTP_PASSWORD`); never printed.
    pub password: Option<Secret>,
    /// The sender, e.g. `Tocsin <alerts@example.org>`.
    pub from: String,
    /// Seconds each exchange with the server may take (default 20).
    pub timeout_secs: Option<u64>,
    /// The subject's beginning; the text's first line follows it (default `Tocsin`).
    pub subject_prefix: Option<String>,
}

/// Whether `host` names this machine.
fn loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SmtpConfig {
    /// The port, given or the default for `tls`.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        })
    }

    /// Refuse a configuration that cannot work or would send in clear over a network.
    pub fn validate(&self) -> Result<(), String> {
        if self.host.trim().is_empty() {
            return Err("notify.smtp.host is empty".into());
        }
        if self.tls == SmtpTls::None && !loopback(&self.host) {
            return Err(format!(
                "notify.smtp.tls = \"none\" is allowed only for a mail server on this machine \
                 (localhost, 127.0.0.1, ::1), not {:?}: use \"starttls\" or \"tls\"",
                self.host
            ));
        }
        if self.port == Some(0) {
            return Err("notify.smtp.port may not be 0".into());
        }
        if self.timeout_secs == Some(0) {
            return Err("notify.smtp.timeout_secs may not be 0".into());
        }
        match (&self.username, &self.password) {
            (Some(_), None) => {
                return Err("notify.smtp.username is set without a password \
                     (notify.smtp.password or TOCSIN_NOTIFY_SMTP_PASSWORD)"
                    .into())
            }
            (None, Some(_)) => return Err("notify.smtp.password is set without a username".into()),
            _ => {}
        }
        self.from.parse::<Mailbox>().map_err(|e| {
            format!(
                "notify.smtp.from {:?} is not an e-mail address ({e})",
                self.from
            )
        })?;
        Ok(())
    }
}

/// The SMTP channel (`smtp`).
pub struct SmtpChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    subject_prefix: String,
    key: std::sync::Arc<ContactKey>,
}

impl std::fmt::Debug for SmtpChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpChannel").finish_non_exhaustive()
    }
}

impl SmtpChannel {
    /// The channel `cfg` describes (validated first).
    pub fn new(cfg: &SmtpConfig, key: std::sync::Arc<ContactKey>) -> Result<SmtpChannel, String> {
        cfg.validate()?;
        let builder = match cfg.tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
                .map_err(|e| format!("notify.smtp: {e}"))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host)
                .map_err(|e| format!("notify.smtp: {e}"))?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
        };
        let mut builder = builder
            .port(cfg.port())
            .timeout(Some(Duration::from_secs(cfg.timeout_secs.unwrap_or(20))));
        if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.0.clone()));
        }
        Ok(SmtpChannel {
            transport: builder.build(),
            from: cfg
                .from
                .parse()
                .map_err(|e| format!("notify.smtp.from: {e}"))?,
            subject_prefix: cfg
                .subject_prefix
                .clone()
                .unwrap_or_else(|| "Tocsin".into()),
            key,
        })
    }

    /// The `Message-ID` of a delivery: the same for every attempt, naming nothing.
    pub fn message_id(&self, idempotency_key: &str) -> String {
        let h = self
            .key
            .lookup_hash(&format!("smtp-message-id:{idempotency_key}"));
        let domain = self.from.email.domain();
        format!("<{}@{domain}>", &h[..32])
    }

    fn subject(&self, text: &str) -> String {
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let first: String = first.trim().chars().take(70).collect();
        if first.is_empty() {
            self.subject_prefix.clone()
        } else if first.starts_with(&self.subject_prefix) {
            // A notification that already names Tocsin first (`Tocsin: an alert needs…`).
            first
        } else {
            format!("{}: {first}", self.subject_prefix)
        }
    }
}

/// A server's reply with every word that looks like an address masked.
fn masked(reply: &str) -> String {
    reply
        .split(' ')
        .map(|w| if w.contains('@') { "<address>" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

#[async_trait]
impl Channel for SmtpChannel {
    fn name(&self) -> &'static str {
        "smtp"
    }

    fn reaches(&self) -> &'static [RecipientKind] {
        &[
            RecipientKind::User,
            RecipientKind::Address,
            RecipientKind::Source,
        ]
    }

    fn address_kind(&self) -> AddressKind {
        AddressKind::Email
    }

    async fn send(&self, out: &Outgoing<'_>) -> SendOutcome {
        let Ok(to) = out.to.parse::<Mailbox>() else {
            return SendOutcome::Failed("the recipient's e-mail address is not valid".into());
        };
        let m = out.message;
        let email = match Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(self.subject(&m.text))
            .message_id(Some(self.message_id(&m.idempotency_key)))
            .header(ContentType::TEXT_PLAIN)
            .body(m.text.clone())
        {
            Ok(e) => e,
            Err(e) => return SendOutcome::Failed(format!("cannot build the e-mail: {e}")),
        };
        match self.transport.send(email).await {
            Ok(_) => SendOutcome::Sent(None),
            Err(e) => {
                let text = masked(&e.to_string());
                if e.is_permanent() {
                    SendOutcome::Failed(format!("the mail server refused it: {text}"))
                } else if e.is_client() {
                    SendOutcome::Failed(format!("cannot send the e-mail: {text}"))
                } else {
                    SendOutcome::Retry(format!("the mail server did not take it: {text}"))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SmtpConfig {
        SmtpConfig {
            host: "mail.example.org".into(),
            port: None,
            tls: SmtpTls::Starttls,
            username: Some("tocsin".into()),
            password: Some(Secret("smtp-hunter2".into())),
            from: "Tocsin <alerts@example.org>".into(),
            timeout_secs: None,
            subject_prefix: None,
        }
    }

    #[test]
    fn the_password_never_prints() {
        let c = cfg();
        assert!(c.validate().is_ok());
        let shown = format!("{c:?}");
        assert!(!shown.contains("smtp-hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"));
        let ch = SmtpChannel::new(&c, std::sync::Arc::new(ContactKey::generate())).unwrap();
        assert!(!format!("{ch:?}").contains("smtp-hunter2"));
    }

    #[test]
    fn plain_text_only_to_this_machine_and_a_valid_sender() {
        let mut c = cfg();
        c.tls = SmtpTls::None;
        let e = c.validate().unwrap_err();
        assert!(e.contains("tls = \"none\" is allowed only"), "{e}");
        for h in ["localhost", "127.0.0.1", "::1", "[::1]"] {
            c.host = h.into();
            assert!(c.validate().is_ok(), "{h}");
        }
        c.from = "not an address".into();
        assert!(c.validate().unwrap_err().contains("notify.smtp.from"));
        let mut c = cfg();
        c.password = None;
        assert!(c.validate().unwrap_err().contains("without a password"));
    }

    #[test]
    fn replies_lose_their_addresses() {
        assert_eq!(
            masked("permanent error (550): 5.1.1 <bob@example.org> unknown"),
            "permanent error (550): 5.1.1 <address> unknown"
        );
    }
}
