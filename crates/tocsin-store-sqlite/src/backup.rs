//! Backups of the SQLite store: a consistent copy taken beside a running server
//! (`VACUUM INTO`), the checks a file must pass before it replaces a store, and the check that
//! no process still has the database open.

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use tocsin_store::{Result, StoreError};

use crate::bulk::err;
use crate::MIGRATOR;

/// What a checked backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// The newest migration applied to it.
    pub schema_version: i64,
    /// Entries in its audit trail.
    pub audit_entries: i64,
}

/// Write a consistent copy of the database at `db` to `out`, a file that must not exist yet
/// (it is created with mode 0600). Writers may go on meanwhile: the copy is the database as
/// of one moment, WAL included. On failure nothing is left at `out`.
pub fn backup(db: &Path, out: &Path) -> Result<()> {
    if !db.exists() {
        return Err(StoreError::Backend(format!(
            "there is no database at {}",
            db.display()
        )));
    }
    // Claim the name first, so that an existing file is never overwritten and the copy is
    // private from its first byte; VACUUM INTO accepts an empty file.
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(out)
        .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", out.display())))?;
    let copy = || -> Result<()> {
        let conn = Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        let target = out
            .to_str()
            .ok_or_else(|| StoreError::Backend(format!("{} is not a UTF-8 path", out.display())))?;
        conn.execute("VACUUM INTO ?1", [target]).map_err(err)?;
        std::fs::File::open(out)
            .and_then(|f| f.sync_all())
            .map_err(|e| StoreError::Backend(format!("cannot sync {}: {e}", out.display())))
    };
    copy().inspect_err(|_| {
        let _ = std::fs::remove_file(out);
    })
}

/// Check that `file` is an intact Tocsin database this version can open: SQLite's
/// `integrity_check` passes, it has Tocsin's schema (its migrations, an audit trail), and no
/// migration newer than this build's.
pub fn check_backup(file: &Path) -> Result<BackupInfo> {
    let refuse = |why: String| StoreError::Backend(format!("{} {why}", file.display()));
    if !file.is_file() {
        return Err(refuse("is not a file".into()));
    }
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| refuse(format!("cannot be opened as SQLite: {e}")))?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| refuse(format!("is not a SQLite database: {e}")))?;
    if integrity != "ok" {
        return Err(refuse(format!(
            "fails SQLite's integrity check: {integrity}"
        )));
    }
    let applied: Vec<i64> = conn
        .prepare("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .and_then(|mut s| {
            s.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()
        })
        .map_err(|_| refuse("is not a Tocsin database (it has no Tocsin migrations)".into()))?;
    let known: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    let Some(&schema_version) = applied.last() else {
        return Err(refuse(
            "is not a Tocsin database (it has no Tocsin migrations)".into(),
        ));
    };
    if let Some(v) = applied.iter().find(|v| !known.contains(v)) {
        return Err(refuse(format!(
            "has migration {v}, which this version of Tocsin does not know: restore it with \
             the version that made it"
        )));
    }
    if applied.first() != known.first() {
        return Err(refuse(
            "is not a Tocsin database (its first migration is not Tocsin's)".into(),
        ));
    }
    let audit_entries: i64 = conn
        .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .map_err(|e| refuse(format!("has no audit trail: {e}")))?;
    Ok(BackupInfo {
        schema_version,
        audit_entries,
    })
}

/// Make sure no process has the database at `db` open, and leave it self-contained (its WAL
/// folded into the file) so that it can be moved aside: switches it out of WAL mode, which
/// SQLite allows only to the one connection that has the file open. Fails with
/// [`StoreError::Conflict`] when another process holds it.
pub fn close_exclusively(db: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    let busy = || {
        StoreError::Conflict(format!(
            "{} is open in another process (a running `tocsin serve`, or another program)",
            db.display()
        ))
    };
    let mode: String = conn
        .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                busy()
            }
            e => err(e),
        })?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(busy());
    }
    Ok(())
}
