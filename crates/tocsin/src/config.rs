//! Configuration: defaults, then a TOML file, then `TOCSIN_*` variables, then flags.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

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
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: Option<bool>,
    /// SMS gateways: `[sms]`, `[sms.kannel]`, `[sms.twilio]`, `[sms.africastalking]`,
    /// `[sms.frontlinesms]`, `[sms.smssync]`. A gateway without a table is disabled.
    pub sms: Option<tocsin_server::sms::SmsConfig>,
}

impl FileConfig {
    /// Read a TOML file.
    pub fn load(path: &Path) -> Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
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
}

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
        Config {
            listen: o
                .listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            database_url: DatabaseUrl(database_url),
            contact_key: o.contact_key.map(Secret).or(file.contact_key),
            secure_cookies: o.secure_cookies.or(file.secure_cookies).unwrap_or(false),
            sms: file.sms.unwrap_or_default(),
            data_dir,
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
    }
}
