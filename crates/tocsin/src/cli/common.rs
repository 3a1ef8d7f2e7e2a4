//! What every subcommand needs: the configuration settled from its layers, the store the
//! database URL names, and the contact key.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tocsin_domain::ContactKey;
use tocsin_store::DynStore;

use super::Global;
use crate::config::{Config, FileConfig, Overrides};
use crate::ops;

/// The configuration: defaults, then the TOML file, then `TOCSIN_*`, then the flags in `o`.
pub fn settle(g: &Global, o: Overrides) -> Result<Config> {
    let file = match &g.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    Ok(Config::resolve(
        file,
        Overrides {
            data_dir: g.data_dir.clone(),
            database_url: g.database_url.clone(),
            contact_key: std::env::var("TOCSIN_CONTACT_KEY").ok(),
            token_expiry_days: match std::env::var("TOCSIN_TOKEN_EXPIRY_DAYS") {
                Ok(v) => Some(v.trim().parse().with_context(|| {
                    format!("TOCSIN_TOKEN_EXPIRY_DAYS: expected a whole number of days, got {v:?}")
                })?),
                Err(_) => None,
            },
            contact_key_file: std::env::var_os("TOCSIN_CONTACT_KEY_FILE").map(PathBuf::from),
            jobs_tolerance_secs: match std::env::var("TOCSIN_JOBS_TOLERANCE_SECS") {
                Ok(v) => Some(v.trim().parse().with_context(|| {
                    format!(
                        "TOCSIN_JOBS_TOLERANCE_SECS: expected a whole number of seconds, got {v:?}"
                    )
                })?),
                Err(_) => None,
            },
            share_sync_minutes: match std::env::var("TOCSIN_SHARE_SYNC_MINUTES") {
                Ok(v) => Some(v.trim().parse().with_context(|| {
                    format!(
                        "TOCSIN_SHARE_SYNC_MINUTES: expected a whole number of minutes, got {v:?}"
                    )
                })?),
                Err(_) => None,
            },
            sms_default_region: match std::env::var("TOCSIN_SMS_DEFAULT_REGION") {
                Ok(v) if !v.trim().is_empty() => Some(v.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "TOCSIN_SMS_DEFAULT_REGION: {v:?} is not a region of the numbering plan: \
                         expected an ISO 3166-1 alpha-2 code such as \"KE\""
                    )
                })?),
                _ => None,
            },
            verification_required_tasks: std::env::var("TOCSIN_VERIFICATION_REQUIRED_TASKS")
                .ok()
                .map(|v| crate::config::split_tasks(&v)),
            notify_smtp_username: std::env::var("TOCSIN_NOTIFY_SMTP_USERNAME")
                .ok()
                .filter(|v| !v.is_empty()),
            notify_smtp_password: std::env::var("TOCSIN_NOTIFY_SMTP_PASSWORD")
                .ok()
                .filter(|v| !v.is_empty())
                .map(crate::config::Secret),
            notify_webhook_secrets: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .filter(|(k, v)| {
                    k.starts_with("TOCSIN_NOTIFY_WEBHOOK_")
                        && k.ends_with("_SECRET")
                        && !v.is_empty()
                })
                .map(|(k, v)| (k, crate::config::Secret(v)))
                .collect(),
            channel_secrets: crate::config::CHANNEL_SECRET_VARIABLES
                .iter()
                .filter_map(|k| {
                    let v = std::env::var(k).ok().filter(|v| !v.is_empty())?;
                    Some((k.to_string(), crate::config::Secret(v)))
                })
                .collect(),
            ..o
        },
    ))
}

/// Open the backend the URL names, creating the data directory for SQLite.
pub async fn open_store(cfg: &Config) -> Result<DynStore> {
    open_store_with(cfg, false).await
}

/// [`open_store`]; with `exclusive_imports`, a SQLite import takes the file for itself when
/// nothing else has it open (see `SqliteStore::exclusive_imports`).
pub async fn open_store_with(cfg: &Config, exclusive_imports: bool) -> Result<DynStore> {
    let url = &cfg.database_url.0;
    if let Some(db) = ops::sqlite_path(url) {
        ops::private_store(cfg, &db)?;
        ops::hold_shared(&db)?;
        let s = tocsin_store_sqlite::SqliteStore::open(url)
            .await
            .with_context(|| format!("cannot open {}", cfg.database_url))?
            .exclusive_imports(exclusive_imports);
        Ok(Arc::new(s))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s = tocsin_store_postgres::PostgresStore::open(url)
            .await
            .with_context(|| match ops::tls_mode(url) {
                Some(mode) => format!(
                    "cannot open {} over TLS (sslmode={mode}; a CA file goes in sslrootcert=)",
                    cfg.database_url
                ),
                None => format!("cannot open {}", cfg.database_url),
            })?;
        Ok(Arc::new(s))
    } else {
        bail!(
            "unsupported database URL {}: use sqlite://FILE or postgres://…",
            cfg.database_url
        )
    }
}

/// The contact key: `contact_key` from configuration, or the file `contact_key_file` names
/// (which must exist), or `<data_dir>/contact.key`, created on first run only: while the
/// database holds sources, a missing key is an error, since a new one could not open their
/// sealed contact details.
pub async fn contact_key(cfg: &Config, store: &DynStore) -> Result<ContactKey> {
    let read = |path: &Path| -> Result<ContactKey> {
        #[cfg(unix)]
        if let Ok(m) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            if m.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the contact key file is readable by other users: chmod 600 it");
            }
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the contact key {}", path.display()))?;
        ContactKey::from_hex(&text).with_context(|| format!("invalid key in {}", path.display()))
    };
    match (&cfg.contact_key, &cfg.contact_key_file) {
        (Some(_), Some(_)) => bail!("set contact_key or contact_key_file, not both"),
        (Some(k), None) => {
            return ContactKey::from_hex(&k.0).context("invalid contact_key in configuration")
        }
        (None, Some(path)) if path.exists() => return read(path),
        (None, Some(path)) => bail!(
            "contact_key_file {} does not exist. Tocsin makes no new key there: a new key \
             would leave every sealed contact unreadable. Point the setting at your key, or \
             for a new installation create one (64 hex characters, mode 0600), e.g. \
             `openssl rand -hex 32 > {}`",
            path.display(),
            path.display()
        ),
        (None, None) => {}
    }
    let path = cfg.data_dir.join("contact.key");
    if path.exists() {
        return read(&path);
    }
    let sources = store.counts().await?.sources;
    if sources > 0 {
        bail!(
            "the contact key {} is missing, but the database holds {sources} sources whose \
             contact details it sealed: put the key back (from where it is kept apart from the \
             database) or set contact_key_file; a new key could not open them",
            path.display()
        );
    }
    ops::private_dir(&cfg.data_dir)?;
    let key = ContactKey::generate();
    write_private(&path, &key.to_hex())?;
    tracing::info!(path = %path.display(), "created a new contact-details key; keep a copy apart from the database and its backups");
    Ok(key)
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// A use case's refusal as the command line tells it: a sentence for a person, and an exit
/// code per kind (see [`Refused::exit_code`]), so scripts can tell a refusal from a failure.
#[derive(Debug)]
pub struct Refused {
    /// What the application layer answered.
    pub error: tocsin_app::AppError,
    /// The sentence printed after `error:`.
    pub message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refused {}

impl Refused {
    /// 3 forbidden, 4 not found, 5 invalid input, 6 conflict, 7 storage unavailable, 2 else.
    pub fn exit_code(&self) -> u8 {
        use tocsin_app::AppError as A;
        match self.error {
            A::Forbidden { .. } => 3,
            A::NotFound => 4,
            A::Invalid { .. } | A::BadField { .. } => 5,
            A::Conflict(_) => 6,
            A::Unavailable(_) => 7,
            A::Internal(_) => 2,
        }
    }
}

/// The exit code of a failed command: a refusal's own, else 2.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    e.chain()
        .find_map(|c| c.downcast_ref::<Refused>())
        .map_or(2, Refused::exit_code)
}

/// What a permission lets one do, in words.
fn what(p: tocsin_domain::Permission) -> &'static str {
    use tocsin_domain::Permission as P;
    match p {
        P::AssessmentWrite => "write assessments",
        P::AssessmentReview => "review assessments",
        P::AssessmentPublish => "publish assessments or send them back",
        P::LegalQualify => "record legal qualifications",
        P::IncidentCreate => "record incidents",
        P::IncidentUpdate => "change incidents",
        P::SituationWrite => "open situations",
        P::LexiconManage => "manage lexicons",
        P::PartnerManage => "manage partner organisations",
        P::ShareExport => "share with other organisations",
        P::ShareImport => "receive other organisations' bundles",
        _ => "do this",
    }
}

/// Tell `e`, answered to `u` about `record` (e.g. `situation 0193…`), as the CLI does.
pub fn refused(u: &tocsin_domain::User, record: &str, e: tocsin_app::AppError) -> anyhow::Error {
    use tocsin_app::AppError as A;
    let message = match &e {
        A::Forbidden {
            needed: Some(p), ..
        } => format!(
            "{} ({}) may not {}: the role does not hold that permission",
            u.username,
            u.role,
            what(*p)
        ),
        A::Forbidden { message, .. } => format!("{} may not do this: {message}", u.username),
        A::NotFound => format!("no {record} that {} may see", u.username),
        other => other.to_string(),
    };
    Refused { error: e, message }.into()
}

/// The user a command acts as (`--user NAME`): they must exist and not be disabled. What
/// they may do is the application layer's to decide.
pub async fn acting_user(store: &DynStore, name: &str) -> Result<tocsin_domain::User> {
    let u = store.get_user_by_name(name).await.map_err(|e| match e {
        tocsin_store::StoreError::NotFound => anyhow::anyhow!("no user named {name:?}"),
        e => e.into(),
    })?;
    if u.disabled {
        bail!("user {name:?} is disabled");
    }
    Ok(u)
}

/// A TOML or JSON file (by extension) as a JSON value.
pub fn read_document(path: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let is_json = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
    } else {
        let v: toml::Value = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        serde_json::to_value(v).context("cannot read the TOML document")
    }
}

/// A document decoded as `T`; a field of the wrong shape is refused as invalid input (exit 5).
pub fn decode<T: serde::de::DeserializeOwned>(v: serde_json::Value, path: &Path) -> Result<T> {
    serde_json::from_value(v).map_err(|e| {
        Refused {
            error: tocsin_app::AppError::bad_field("file", e.to_string()),
            message: format!("{} is refused: {e}", path.display()),
        }
        .into()
    })
}
