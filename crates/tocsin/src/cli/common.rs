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
