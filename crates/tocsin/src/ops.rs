//! Data at rest and operations: private files and directories, the lock that keeps a restore
//! away from a store in use, `tocsin backup` and `tocsin restore`.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::config::Config;

/// Files this process creates are private (0600, directories 0700) unless made otherwise.
pub fn private_umask() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// The file a `sqlite:` URL names, or `None` for other backends.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    Some(PathBuf::from(path))
}

/// The `sslmode` of a PostgreSQL URL when it asks for TLS (`require`, `verify-ca`,
/// `verify-full`).
pub fn tls_mode(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|kv| kv.strip_prefix("sslmode="))
        .find(|m| matches!(*m, "require" | "verify-ca" | "verify-full"))
}

/// Create `dir` (and missing parents) readable by its owner only; an existing directory that
/// others may read or enter is tightened to 0700, with a warning in the log.
pub fn private_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))?;
    #[cfg(unix)]
    tighten(dir, 0o700)?;
    Ok(())
}

/// Set `path` to `mode` when group or others have any access to it, saying so in the log.
#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let old = meta.permissions().mode() & 0o7777;
    if old & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
        tracing::warn!(
            path = %path.display(),
            "{} was readable by other users (mode {old:o}); restricted it to {mode:o}",
            path.display()
        );
    }
    Ok(())
}

/// The database file and the files SQLite keeps beside it.
fn database_files(db: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut s = db.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    [db.to_path_buf(), with("-wal"), with("-shm")]
}

/// Prepare the directories of a SQLite store (0700) and restrict its existing files to
/// 0600 (a data directory made by an older version was 0755 with a 0644 database).
pub fn private_store(cfg: &Config, db: &Path) -> Result<()> {
    private_dir(&cfg.data_dir)?;
    if let Some(parent) = db.parent() {
        private_dir(parent)?;
    }
    #[cfg(unix)]
    for f in database_files(db) {
        tighten(&f, 0o600)?;
    }
    Ok(())
}

/// The lock file of the SQLite database at `db`: every `tocsin` process using the store
/// holds a shared lock on it, `tocsin restore` an exclusive one.
fn lock_path(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

fn lock(db: &Path, exclusive: bool) -> Result<Option<File>> {
    let path = lock_path(db);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    #[cfg(unix)]
    {
        use rustix::fs::{flock, FlockOperation};
        let op = if exclusive {
            FlockOperation::NonBlockingLockExclusive
        } else {
            FlockOperation::NonBlockingLockShared
        };
        match flock(&f, op) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => return Ok(None),
            Err(e) => bail!("cannot lock {}: {e}", path.display()),
        }
    }
    Ok(Some(f))
}

/// The job runner's lease owner id of the one process holding `<data_dir>/runner.lock`
/// exclusively (held until this process ends): `runner-<id>@<host>`, `<id>` random and kept
/// in `<data_dir>/runner.id` (the host name keeps a copied data directory from sharing it).
/// A `tocsin serve` killed and started again on the same data directory gets the same id, so
/// its runner renews at once the job leases the dead process held instead of waiting them
/// out; the lock guarantees that process is gone. `None` when another live process holds
/// the lock: this one's runner then uses a random id, as any second runner does.
pub fn runner_owner(data_dir: &Path) -> Result<Option<String>> {
    static HELD: std::sync::Mutex<Vec<File>> = std::sync::Mutex::new(Vec::new());
    let Some(f) = lock(&data_dir.join("runner"), true)? else {
        return Ok(None);
    };
    let path = data_dir.join("runner.id");
    let id = match std::fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => s.trim().to_string(),
        Ok(_) | Err(_) => {
            let id = uuid::Uuid::new_v4().simple().to_string();
            std::fs::write(&path, &id)
                .with_context(|| format!("cannot write {}", path.display()))?;
            id
        }
    };
    if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        bail!("{} does not hold a runner id; delete it", path.display());
    }
    #[cfg(unix)]
    let host = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    #[cfg(not(unix))]
    let host = String::new();
    HELD.lock().unwrap_or_else(|p| p.into_inner()).push(f);
    Ok(Some(format!("runner-{id}@{host}")))
}

/// Hold a shared lock on the store at `db` until this process ends, so that no restore
/// replaces the database under it. Fails while a restore runs.
pub fn hold_shared(db: &Path) -> Result<()> {
    static HELD: std::sync::Mutex<Vec<File>> = std::sync::Mutex::new(Vec::new());
    match lock(db, false)? {
        Some(f) => {
            HELD.lock().unwrap_or_else(|p| p.into_inner()).push(f);
            Ok(())
        }
        None => bail!(
            "{} is being restored (`tocsin restore` holds {}); try again when it has finished",
            db.display(),
            lock_path(db).display()
        ),
    }
}

/// How to copy a PostgreSQL store, for the refusals of `backup` and `restore`.
const PG_DUMP_HELP: &str = "PostgreSQL stores are backed up with PostgreSQL's own tools: \
     `pg_dump --format=custom --file tocsin.dump 'postgres://tocsin@HOST/tocsin'`, and \
     restored into an empty database with `pg_restore --no-owner --dbname \
     'postgres://tocsin@HOST/tocsin' tocsin.dump` while no `tocsin serve` runs (see the README, \
     \"Backups\"); the contact key is not in the database: keep a copy of it apart";

/// `tocsin backup --out FILE`: a consistent copy of the SQLite store, taken beside a
/// running server; never the contact key.
pub async fn backup(cfg: &Config, out: &Path) -> Result<String> {
    let Some(db) = sqlite_path(&cfg.database_url.0) else {
        bail!("`tocsin backup` copies SQLite stores. {PG_DUMP_HELP}.");
    };
    if out.exists() {
        bail!(
            "{} already exists: `tocsin backup` never overwrites a file; choose a new name",
            out.display()
        );
    }
    if !db.exists() {
        bail!("there is no database at {} to back up", db.display());
    }
    hold_shared(&db)?;
    let (src, dst) = (db.clone(), out.to_path_buf());
    tokio::task::spawn_blocking(move || tocsin_store_sqlite::backup::backup(&src, &dst))
        .await?
        .with_context(|| format!("backup of {} failed", db.display()))?;
    let info = tocsin_store_sqlite::backup::check_backup(out)?;
    Ok(format!(
        "backed up {} to {} ({} audit entries); the contact key is not in it: keep a copy of \
         the key apart from the backups\n",
        db.display(),
        out.display(),
        info.audit_entries
    ))
}

/// `tocsin restore FILE [--force]`: replace the SQLite store with a checked backup while no
/// process uses the store; the files it replaces are moved aside, not deleted.
pub async fn restore(cfg: &Config, file: &Path, force: bool) -> Result<String> {
    let Some(db) = sqlite_path(&cfg.database_url.0) else {
        bail!("`tocsin restore` restores SQLite stores. {PG_DUMP_HELP}.");
    };
    let files = database_files(&db);
    if let Ok(from) = file.canonicalize() {
        if files
            .iter()
            .any(|f| f.canonicalize().is_ok_and(|f| f == from))
        {
            bail!(
                "refused: {} is the store itself; restore from a file made by `tocsin backup`",
                file.display()
            );
        }
    }
    let src = file.to_path_buf();
    let info = tokio::task::spawn_blocking(move || tocsin_store_sqlite::backup::check_backup(&src))
        .await?
        .context("refused")?;
    private_store(cfg, &db)?;
    let _guard = lock(&db, true)?.with_context(|| {
        format!(
            "refused: the store at {} is in use (a running `tocsin serve` or another tocsin \
             command holds {}); stop it first",
            db.display(),
            lock_path(&db).display()
        )
    })?;
    let existing = files.iter().any(|f| f.exists());
    if existing && !force {
        bail!(
            "refused: {} already holds a database; add --force to replace it (its files are \
             moved aside, not deleted)",
            db.display()
        );
    }
    // Copy beside the target first, then move the old files aside and rename: a store is
    // never half restored.
    let mut partial = db.as_os_str().to_owned();
    partial.push(".restoring");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    {
        let mut from =
            File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut to = opts
            .open(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        std::io::copy(&mut from, &mut to)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        to.sync_all()?;
    }
    let mut moved = Vec::new();
    if existing {
        if db.exists() {
            let d = db.clone();
            let closed = tokio::task::spawn_blocking(move || {
                tocsin_store_sqlite::backup::close_exclusively(&d)
            })
            .await?;
            if let Err(e) = closed {
                let _ = std::fs::remove_file(&partial);
                return Err(anyhow::Error::new(e).context("refused"));
            }
        }
        let stamp = tocsin_domain::time::now().format("%Y%m%dT%H%M%SZ");
        for f in &files {
            if f.exists() {
                let mut aside = f.as_os_str().to_owned();
                aside.push(format!(".before-restore-{stamp}"));
                let aside = PathBuf::from(aside);
                std::fs::rename(f, &aside).with_context(|| {
                    format!("cannot move {} aside to {}", f.display(), aside.display())
                })?;
                moved.push(aside);
            }
        }
    }
    std::fs::rename(&partial, &db)
        .with_context(|| format!("cannot move {} to {}", partial.display(), db.display()))?;
    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent).and_then(|d| d.sync_all())?;
    }
    // Open it as `tocsin serve` would (WAL mode, migrations of a backup from an older
    // version) and check its audit trail.
    let store = tocsin_store_sqlite::SqliteStore::open(&cfg.database_url.0)
        .await
        .with_context(|| format!("cannot open the restored {}", db.display()))?;
    use tocsin_store::StoreExt;
    let verified = match store.verify_audit().await? {
        Ok(n) => n,
        Err(b) => bail!(
            "restored {}, but its audit chain is broken at entry {}: {}",
            db.display(),
            b.seq,
            b.reason
        ),
    };
    let mut msg = format!(
        "restored {} from {} (schema {}, audit chain intact: {verified} entries verified)\n",
        db.display(),
        file.display(),
        info.schema_version
    );
    for m in moved {
        msg.push_str(&format!("the replaced file was moved to {}\n", m.display()));
    }
    let key = cfg
        .contact_key_file
        .clone()
        .unwrap_or_else(|| cfg.data_dir.join("contact.key"));
    if cfg.contact_key.is_none() && !key.exists() {
        msg.push_str(&format!(
            "the backup holds no contact key: put the key kept with it at {} (or set \
             contact_key_file) before `tocsin serve`\n",
            key.display()
        ));
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_process_at_a_time_holds_the_stable_runner_id() {
        let dir = tempfile::tempdir().unwrap();
        let owner = runner_owner(dir.path()).unwrap().expect("the lock is free");
        let id = std::fs::read_to_string(dir.path().join("runner.id")).unwrap();
        assert!(owner.starts_with(&format!("runner-{id}@")), "{owner}");
        // Held: another holder (here another open of the lock file) gets no stable id.
        assert_eq!(runner_owner(dir.path()).unwrap(), None);
        // A corrupted id file is refused, not used.
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("runner.id"), "x y\n").unwrap();
        assert!(runner_owner(other.path()).is_err());
    }
}
