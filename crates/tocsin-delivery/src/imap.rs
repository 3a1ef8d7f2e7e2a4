//! E-mail in: the configuration of the IMAP mailbox warners write to (`[channels.imap]`).
//! The client itself (IMAP over TLS, IDLE, parsing) is `tocsin_server::imap`.
//!
//! The password is a [`Secret`] (never printed; `TOCSIN_IMAP_PASSWORD` overrides the file).
//! Certificates and host names are always verified: `ca_file` only adds a trusted CA (a
//! private server's), there is no way to skip verification.

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

use crate::sms::Secret;

/// How the connection to the IMAP server is protected. Both verify the certificate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImapSecurity {
    /// TLS from the first byte (IMAPS, default port 993).
    #[default]
    Tls,
    /// A plain connection upgraded with STARTTLS before anything else is said (default port
    /// 143); a server that refuses STARTTLS is not used.
    Starttls,
}

/// `[channels.imap]`: the mailbox reports by e-mail arrive in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    /// The IMAP server's host name (checked against its certificate).
    pub host: String,
    /// Its port (default 993 with `tls`, 143 with `starttls`).
    pub port: Option<u16>,
    /// The login name.
    pub username: String,
    /// The password (`TOCSIN_IMAP_PASSWORD`); never printed.
    pub password: Secret,
    /// The mailbox read (default `INBOX`).
    pub mailbox: Option<String>,
    /// `tls` (default) or `starttls`.
    #[serde(default)]
    pub security: ImapSecurity,
    /// A PEM file of CA certificates trusted beside the public roots (a private server's CA).
    pub ca_file: Option<PathBuf>,
    /// The longest an IDLE lasts before it is re-issued, in seconds (default 1500; servers
    /// drop an IDLE after 30 minutes).
    pub idle_secs: Option<u64>,
    /// The authserv-id the organisation's mail server writes in `Authentication-Results`
    /// (RFC 8601). An acknowledgement goes only to a sender that header, from that server,
    /// says passed DMARC; without it none is sent: a forged From would have Tocsin write to
    /// someone who never warned.
    #[serde(default)]
    pub authserv_id: Option<String>,
}

/// The longest IDLE allowed (RFC 2177: re-issue before 29 minutes).
pub const MAX_IDLE_SECS: u64 = 29 * 60 - 1;

impl ImapConfig {
    /// The port, by `security` when not given.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            ImapSecurity::Tls => 993,
            ImapSecurity::Starttls => 143,
        })
    }

    /// The mailbox read.
    pub fn mailbox(&self) -> &str {
        self.mailbox.as_deref().unwrap_or("INBOX")
    }

    /// How long one IDLE lasts at most.
    pub fn idle(&self) -> Duration {
        Duration::from_secs(self.idle_secs.unwrap_or(1500))
    }

    /// Refuse a configuration the server cannot run with, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        let host = self.host.trim();
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
            return Err("channels.imap.host must be a host name (e.g. imap.example.org)".into());
        }
        if self.port == Some(0) {
            return Err("channels.imap.port must be between 1 and 65535".into());
        }
        if self.username.trim().is_empty() {
            return Err("channels.imap.username is empty".into());
        }
        if self.password.0.is_empty() {
            return Err("channels.imap.password is empty (set it, or TOCSIN_IMAP_PASSWORD)".into());
        }
        // Sent as an IMAP quoted string: no quotes, backslashes or line breaks.
        let quotable = |s: &str| !s.contains(['"', '\\', '\r', '\n', '\0']);
        if !quotable(&self.username) || !quotable(&self.password.0) {
            return Err(
                "channels.imap.username and password may not hold \", \\ or line breaks".into(),
            );
        }
        let mailbox = self.mailbox();
        if mailbox.trim().is_empty() || !quotable(mailbox) {
            return Err("channels.imap.mailbox must be a mailbox name (e.g. INBOX)".into());
        }
        match self.idle_secs {
            Some(s) if !(10..=MAX_IDLE_SECS).contains(&s) => {
                return Err(format!(
                    "channels.imap.idle_secs must be between 10 and {MAX_IDLE_SECS} (IDLE is re-issued before 29 minutes)"
                ))
            }
            _ => {}
        }
        if let Some(f) = &self.ca_file {
            let pem = std::fs::read(f).map_err(|e| {
                format!("channels.imap.ca_file {} cannot be read: {e}", f.display())
            })?;
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(format!(
                    "channels.imap.ca_file {} holds no PEM certificate",
                    f.display()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str) -> Result<ImapConfig, toml::de::Error> {
        toml::from_str(&format!(
            "host = \"imap.example.org\"\nusername = \"reports\"\npassword = \"pw-never-shown\"\n{extra}"
        ))
    }

    #[test]
    fn defaults_validation_and_a_hidden_password() {
        let c = cfg("").unwrap();
        assert_eq!(
            (c.port(), c.mailbox(), c.security),
            (993, "INBOX", ImapSecurity::Tls)
        );
        assert_eq!(c.idle(), Duration::from_secs(1500));
        assert!(c.validate().is_ok());
        assert!(!format!("{c:?}").contains("pw-never-shown"));
        let s = cfg("security = \"starttls\"").unwrap();
        assert_eq!(s.port(), 143);
        assert!(cfg("security = \"none\"").is_err(), "no unencrypted mode");
        assert!(
            cfg("verify = false").is_err(),
            "no option to skip verification"
        );
        for (extra, key) in [
            ("idle_secs = 1800", "idle_secs"),
            ("idle_secs = 1", "idle_secs"),
            ("port = 0", "port"),
            ("mailbox = \"\"", "mailbox"),
            ("ca_file = \"/nonexistent/ca.pem\"", "ca_file"),
        ] {
            let e = cfg(extra).unwrap().validate().unwrap_err();
            assert!(e.contains(&format!("channels.imap.{key}")), "{extra}: {e}");
        }
        let mut c = cfg("").unwrap();
        c.password = Secret(String::new());
        assert!(c.validate().unwrap_err().contains("TOCSIN_IMAP_PASSWORD"));
        c.password = Secret("a\"b".into());
        assert!(c.validate().is_err());
    }
}
