//! SQLite backend: the embedded default. One file, created on first run, WAL mode with
//! `synchronous=FULL`, so a write acknowledged after its commit survives a crash or power cut.
//!
//! All writes go through one writer task that commits in batches ("group commit"): it takes
//! every write waiting in its queue, applies each in its own savepoint inside one transaction,
//! commits once, and only then answers each caller. Reads use a separate pool of connections,
//! which WAL lets run beside the writer.

mod actions;
mod alerting;
mod analysis;
pub mod backup;
mod broadcasts;
mod bulk;
mod contacts;
mod credentials;
mod evidence_files;
mod jobs;
mod matching;
mod monitor;
#[allow(unsafe_code)] // The crate's one piece of unsafe code: see the module.
mod prepared;
mod rows;
mod rumours;
mod share;
mod speech;
mod steps;
mod subscribers;
mod triage;
mod verification;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite};
use std::str::FromStr;
use std::time::Duration;
use tocsin_domain::audit::GENESIS_HASH;
use tocsin_domain::time::format as ts;
use tocsin_domain::{
    Actor, AuditEntry, Cursor, Incident, IncidentFilter, MapPoint, Page, PageRequest, Report,
    ReportFilter, SealedContact, Situation, Source, Tlp, User,
};
use tocsin_domain::{NewReport, OutboundMessage};
use tocsin_store::{
    stored_report, Analysis, Counts, Deliveries, Done, ImportChunk, Incidents, Op, Reports, Result,
    SendOutcome, Store, StoreError, StoredFormClaim, Users, WebSession,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use rows::*;

/// The most writes committed in one transaction.
const MAX_BATCH: usize = 1024;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

// Writes are the common case: boxing them would cost an allocation each, for a rare pause.
#[allow(clippy::large_enum_variant)]
enum Job {
    Write {
        actor: Actor,
        op: Op,
        reply: oneshot::Sender<Result<Done>>,
    },
    /// Stand aside: a streamed import writes through a connection of its own. The writer
    /// answers `ready` between two batches and waits until `resume` is sent or dropped; with
    /// `close`, it closes its connection meanwhile and opens a new one afterwards.
    Pause {
        ready: oneshot::Sender<()>,
        resume: oneshot::Receiver<()>,
        close: bool,
    },
}

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    writer: mpsc::Sender<Job>,
    /// The database file, for streamed imports and exports.
    path: std::path::PathBuf,
    /// While set, read connections close when they are released instead of going back to
    /// the pool: an exclusive import empties the pool this way.
    draining: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Whether an import may take the database for itself ([`SqliteStore::exclusive_imports`]).
    exclusive_imports: bool,
    /// The connection map-point queries use (rusqlite), opened at first use.
    map_conn: std::sync::Arc<std::sync::Mutex<Option<rusqlite::Connection>>>,
    /// The connection the job runner's bookkeeping writes through (`jobs.rs`).
    jobs: jobs::JobsConn,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_string())
        }
        e => StoreError::Backend(e.to_string()),
    }
}

impl SqliteStore {
    /// Open (creating if missing) the database at `url` (`sqlite://path/to/file.db`), run
    /// migrations and start the writer.
    pub async fn open(url: &str) -> Result<SqliteStore> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("wal_autocheckpoint", "4000")
            // Savepoint journals in memory, and a page cache large enough that batch inserts
            // into the incident indexes do not spill and re-read pages.
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-131072")
            // New files only (an existing file keeps its page size): 8 KiB pages measured
            // 10-15 % faster than 4 KiB for a million-row import (fewer pages to split, spill
            // and write) and hold the same data in 1-2 % less space.
            .pragma("page_size", "8192");
        let mut writer = SqliteConnection::connect_with(&opts)
            .await
            .map_err(db_err)?;
        MIGRATOR
            .run(&mut writer)
            .await
            .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))?;
        let path = opts.get_filename().to_path_buf();
        let draining = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let drain = draining.clone();
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .after_release(move |_, _| {
                let keep = !drain.load(std::sync::atomic::Ordering::SeqCst);
                Box::pin(async move { Ok(keep) })
            })
            .connect_with(opts.clone().read_only(true))
            .await
            .map_err(db_err)?;
        let head = chain_head(&mut writer).await?;
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(writer_loop(writer, opts, rx, head));
        Ok(SqliteStore {
            read,
            writer: tx,
            path,
            draining,
            exclusive_imports: false,
            map_conn: Default::default(),
            jobs: Default::default(),
        })
    }

    /// Let streamed imports take the database for themselves when nothing else has it open
    /// (`tocsin import` beside a stopped server, a first load): this store's own connections
    /// close for the import's length, and the import writes through a rollback journal, so
    /// each page is written once instead of twice (WAL, then its checkpoint). When another
    /// connection holds the file, the import runs in WAL mode beside it as usual. Off by
    /// default: while such an import runs, this store's reads wait for it.
    pub fn exclusive_imports(mut self, on: bool) -> Self {
        self.exclusive_imports = on;
        self
    }

    /// Close every idle read connection and let the busy ones close when released; true
    /// when none is left open within `wait`.
    async fn drain_reads(&self, wait: Duration) -> bool {
        self.draining
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let map_conn = self.map_conn.clone();
        // Waits for a map query in progress, if any.
        let _ = tokio::task::spawn_blocking(move || {
            *map_conn.lock().unwrap_or_else(|p| p.into_inner()) = None;
        })
        .await;
        let until = std::time::Instant::now() + wait;
        loop {
            while let Some(c) = self.read.try_acquire() {
                drop(c);
            }
            if self.read.size() == 0 {
                return true;
            }
            if std::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

#[derive(Clone)]
struct ChainHead {
    seq: i64,
    hash: String,
}

async fn chain_head(conn: &mut SqliteConnection) -> Result<ChainHead> {
    let row = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(match row {
        Some(r) => ChainHead {
            seq: r.get(0),
            hash: r.get(1),
        },
        None => ChainHead {
            seq: 0,
            hash: GENESIS_HASH.to_string(),
        },
    })
}

/// A write waiting in the writer's queue.
struct WriteJob {
    actor: Actor,
    op: Op,
    reply: oneshot::Sender<Result<Done>>,
}

async fn writer_loop(
    conn: SqliteConnection,
    opts: SqliteConnectOptions,
    mut rx: mpsc::Receiver<Job>,
    mut head: ChainHead,
) {
    let mut conn = Some(conn);
    let mut pending = None;
    loop {
        let first = match pending.take() {
            Some(j) => j,
            None => match rx.recv().await {
                Some(j) => j,
                None => return,
            },
        };
        let mut jobs = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Write { actor, op, reply } => jobs.push(WriteJob { actor, op, reply }),
                pause @ Job::Pause { .. } => {
                    pending = Some(pause);
                    break;
                }
            }
            if jobs.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !jobs.is_empty() {
            if conn.is_none() {
                // Reopened after an exclusive import; it may still be finishing elsewhere,
                // so the busy timeout applies as for any write.
                match SqliteConnection::connect_with(&opts).await {
                    Ok(c) => conn = Some(c),
                    Err(e) => {
                        let e = db_err(e);
                        for job in jobs {
                            let _ = job.reply.send(Err(StoreError::Backend(e.to_string())));
                        }
                        continue;
                    }
                }
            }
            let c = conn.as_mut().expect("writer connection open");
            let results = apply_batch(c, &mut head, &jobs).await;
            for (job, res) in jobs.into_iter().zip(results) {
                let _ = job.reply.send(res);
            }
        }
        if let Some(Job::Pause {
            ready,
            resume,
            close,
        }) = pending.take()
        {
            if close {
                if let Some(c) = conn.take() {
                    let _ = c.close().await;
                }
            }
            // The chain head is read again at the start of every batch, so writes made
            // meanwhile through the other connection are followed.
            if ready.send(()).is_ok() {
                let _ = resume.await;
            }
        }
    }
}

async fn exec(conn: &mut SqliteConnection, sql: &str) -> Result<()> {
    sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(db_err)
}

/// How long the writer keeps trying for the write lock while another process holds it (a
/// `tocsin import` beside the server holds it for its whole run) before it refuses the batch.
/// Each try waits the connection's busy timeout.
pub const WRITE_LOCK_PATIENCE: Duration = Duration::from_secs(120);

/// `BEGIN IMMEDIATE`, tried again while another process holds the write lock, for up to
/// [`WRITE_LOCK_PATIENCE`]: waiting writes are late, not lost.
async fn begin_write(conn: &mut SqliteConnection) -> Result<()> {
    let until = std::time::Instant::now() + WRITE_LOCK_PATIENCE;
    loop {
        match sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
            Ok(_) => return Ok(()),
            Err(sqlx::Error::Database(d))
                if is_busy(d.code().as_deref()) && std::time::Instant::now() < until =>
            {
                tracing::warn!("another process holds the database's write lock; writes wait");
            }
            Err(e) => return Err(db_err(e)),
        }
    }
}

/// SQLITE_BUSY, in any of its extended forms.
fn is_busy(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| c & 0xff == 5)
}

async fn apply_batch(
    conn: &mut SqliteConnection,
    head: &mut ChainHead,
    jobs: &[WriteJob],
) -> Vec<Result<Done>> {
    if let Err(e) = begin_write(conn).await {
        return jobs
            .iter()
            .map(|_| Err(StoreError::Backend(e.to_string())))
            .collect();
    }
    // Another process (e.g. the CLI beside the server) may have extended the chain since our
    // last batch; we now hold the write lock, so the head on disk is the one to follow.
    match chain_head(conn).await {
        Ok(h) => *head = h,
        Err(e) => {
            let _ = exec(conn, "ROLLBACK").await;
            return jobs
                .iter()
                .map(|_| Err(StoreError::Backend(e.to_string())))
                .collect();
        }
    }
    let start = head.clone();
    // Fast path: every op in the one transaction, their audit entries in one statement. If any
    // op fails, roll back and redo the batch op by op, each in its own savepoint, so that one
    // bad write does not sink the others.
    let mut audits = Vec::with_capacity(jobs.len());
    let mut results = Vec::with_capacity(jobs.len());
    let mut fast_ok = true;
    for job in jobs {
        match apply_op(conn, head, &mut audits, &job.actor, &job.op).await {
            Ok(d) => results.push(Ok(d)),
            Err(_) => {
                fast_ok = false;
                break;
            }
        }
    }
    let fast_ok = fast_ok && insert_audits(conn, &audits).await.is_ok();
    if !fast_ok {
        results.clear();
        *head = start.clone();
        let restarted = async {
            exec(conn, "ROLLBACK").await?;
            exec(conn, "BEGIN IMMEDIATE").await
        };
        if let Err(e) = restarted.await {
            return jobs
                .iter()
                .map(|_| Err(StoreError::Backend(e.to_string())))
                .collect();
        }
        for job in jobs {
            let saved = head.clone();
            let mut one = Vec::with_capacity(1);
            let r = match exec(conn, "SAVEPOINT op").await {
                Ok(()) => match apply_op(conn, head, &mut one, &job.actor, &job.op).await {
                    Ok(d) => insert_audits(conn, &one).await.map(|_| d),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            let r = match r {
                Ok(d) => exec(conn, "RELEASE op").await.map(|_| d),
                Err(e) => {
                    *head = saved;
                    let _ = exec(conn, "ROLLBACK TO op").await;
                    let _ = exec(conn, "RELEASE op").await;
                    Err(e)
                }
            };
            results.push(r);
        }
    }
    if let Err(e) = exec(conn, "COMMIT").await {
        tracing::error!(error = %e, "SQLite commit failed; the batch is refused");
        let _ = exec(conn, "ROLLBACK").await;
        *head = chain_head(conn).await.unwrap_or(start);
        return jobs
            .iter()
            .map(|_| Err(StoreError::Backend(format!("commit failed: {e}"))))
            .collect();
    }
    results
}

/// Apply one op; its audit entry (chained after `head`) is pushed to `audits` for the caller
/// to write.
async fn apply_op(
    conn: &mut SqliteConnection,
    head: &mut ChainHead,
    audits: &mut Vec<AuditEntry>,
    actor: &Actor,
    op: &Op,
) -> Result<Done> {
    let done = match op {
        Op::CreateReport(r) => Done::Report(Box::new(insert_report(conn, r).await?)),
        Op::CreateIncident(i) => {
            insert_incidents(conn, std::slice::from_ref(&**i), false).await?;
            Done::Incident(i.clone())
        }
        Op::ImportIncidents { dataset, incidents } => {
            tocsin_store::check_import(dataset, incidents)?;
            let updated = count_existing(conn, dataset, incidents).await?;
            insert_incidents(conn, incidents, true).await?;
            Done::Imported {
                inserted: incidents.len() as u64 - updated,
                updated,
            }
        }
        Op::UpdateIncident(id, patch) => {
            let row = sqlx::query(&format!(
                "SELECT {INCIDENT_COLS} FROM incidents WHERE id = ?"
            ))
            .bind(id.to_string())
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
            let mut inc = incident_from_row(&row)?;
            let old_version = inc.version;
            inc.apply((**patch).clone())?;
            let n = replace_incident(conn, &inc, old_version).await?;
            if n != 1 {
                return Err(StoreError::Conflict("incident changed concurrently".into()));
            }
            Done::Incident(Box::new(inc))
        }
        Op::CreateSource(ns) => {
            steps::insert_source(conn, ns, None).await?;
            Done::Source(Box::new(ns.source.clone()))
        }
        Op::CreateSituation(s) => {
            sqlx::query(
                "INSERT INTO situations (id, name, country, admin1, status, description, tlp, created_at, admin1_areas) \
                 VALUES (?,?,?,?,?,?,?,?,?)",
            )
            .bind(s.id.to_string())
            .bind(&s.name)
            .bind(s.country.code())
            .bind(s.admin1.first())
            .bind(&s.status)
            .bind(&s.description)
            .bind(s.tlp.rank())
            .bind(ts(&s.created_at))
            .bind(serde_json::to_string(&s.admin1).map_err(|e| StoreError::Backend(e.to_string()))?)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Done::Situation(s.clone())
        }
        Op::UpdateSituation(s) => {
            let r = sqlx::query(
                "UPDATE situations SET name = ?, admin1 = ?, status = ?, description = ?, admin1_areas = ? \
                 WHERE id = ?",
            )
            .bind(&s.name)
            .bind(s.admin1.first())
            .bind(&s.status)
            .bind(&s.description)
            .bind(serde_json::to_string(&s.admin1).map_err(|e| StoreError::Backend(e.to_string()))?)
            .bind(s.id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if r.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Done::Situation(s.clone())
        }
        Op::CreateUser(u) => {
            sqlx::query(
                "INSERT INTO users (id, username, role, clearance, password_hash, created_at, disabled, grants, time_zone, language) \
                 VALUES (?,?,?,?,?,?,?,?,?,?)",
            )
            .bind(u.id.to_string())
            .bind(&u.username)
            .bind(u.role.as_str())
            .bind(u.clearance.rank())
            .bind(&u.password_hash)
            .bind(ts(&u.created_at))
            .bind(u.disabled)
            .bind(u.grants_text())
            .bind(&u.time_zone)
            .bind(u.language.map(|l| l.code()))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Done::User(u.clone())
        }
        Op::CreateToken(t) => {
            sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, revoked) VALUES (?,?,?,?,?,?,?)")
                .bind(t.id.to_string())
                .bind(t.user_id.to_string())
                .bind(&t.name)
                .bind(&t.token_hash)
                .bind(ts(&t.created_at))
                .bind(t.expires_at.as_ref().map(ts))
                .bind(t.revoked)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Done::Unit
        }
        Op::CreateSession(s) => {
            sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?,?,?,?,?)")
                .bind(&s.id_hash)
                .bind(s.user_id.to_string())
                .bind(&s.csrf_token)
                .bind(ts(&s.created_at))
                .bind(ts(&s.expires_at))
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Done::Unit
        }
        Op::DeleteSession(h) => {
            sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
                .bind(h)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Done::Unit
        }
        Op::SetMeta(k, v) => {
            sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(k)
                .bind(v)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Done::Unit
        }
        Op::Audit(_) => Done::Unit,
        Op::All { steps, .. } => {
            for step in steps {
                steps::apply(conn, step).await?;
            }
            Done::Unit
        }
        Op::EnqueueSms(m) => {
            insert_outbound(conn, m).await?;
            Done::Unit
        }
        Op::ClaimOutbound {
            gateway,
            limit,
            lease_secs,
        } => {
            let now = tocsin_domain::time::now();
            let mut qb = QueryBuilder::<Sqlite>::new(format!(
                "SELECT {OUTBOX_COLS} FROM outbox WHERE status IN ('queued', 'sending') AND next_attempt_at <= "
            ));
            qb.push_bind(ts(&now));
            match gateway {
                Some(g) => {
                    qb.push(" AND gateway = ").push_bind(g.clone());
                }
                None => {
                    qb.push(" AND gateway IN (");
                    let mut sep = qb.separated(", ");
                    for g in tocsin_store::PUSH_GATEWAYS {
                        sep.push_bind(*g);
                    }
                    qb.push(")");
                }
            }
            qb.push(" ORDER BY next_attempt_at, id LIMIT ")
                .push_bind(i64::from(*limit));
            let rows = qb.build().fetch_all(&mut *conn).await.map_err(db_err)?;
            let mut claimed = Vec::with_capacity(rows.len());
            let until = now + chrono::Duration::seconds(*lease_secs);
            for row in &rows {
                let mut m = outbound_from_row(row)?;
                m.status = tocsin_domain::OutboxStatus::Sending;
                m.attempts += 1;
                m.next_attempt_at = until;
                m.updated_at = now;
                sqlx::query("UPDATE outbox SET status = 'sending', attempts = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?")
                    .bind(m.attempts)
                    .bind(ts(&until))
                    .bind(ts(&now))
                    .bind(m.id.to_string())
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                claimed.push(m);
            }
            Done::Outbound(claimed)
        }
        Op::SettleOutbound { id, outcome } => {
            let now = tocsin_domain::time::now();
            let m = sqlx::query(&format!("SELECT {OUTBOX_COLS} FROM outbox WHERE id = ?"))
                .bind(id.to_string())
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err)?;
            let m = outbound_from_row(&m)?;
            let (status, next, provider, error) = match outcome {
                SendOutcome::Sent(p) => ("sent", now, p.clone(), None),
                SendOutcome::Retry(e) => (
                    "queued",
                    now + chrono::Duration::seconds(tocsin_domain::sms::backoff_secs(m.attempts)),
                    None,
                    Some(e.clone()),
                ),
                SendOutcome::RetryAfter(e, secs) => (
                    "queued",
                    now + chrono::Duration::seconds((*secs).min(86_400) as i64),
                    None,
                    Some(e.clone()),
                ),
                SendOutcome::Failed(e) => ("failed", now, None, Some(e.clone())),
            };
            // A delivery report may arrive before the send is recorded: never downgrade a
            // delivered or failed message, and only a claimed message can go back to the queue.
            let from: &[&str] = match outcome {
                SendOutcome::Sent(_) | SendOutcome::Retry(_) | SendOutcome::RetryAfter(..) => {
                    &["sending"]
                }
                SendOutcome::Failed(_) => &["sending", "queued"],
            };
            sqlx::query(
                "UPDATE outbox SET provider_key = COALESCE(?, provider_key), \
                 last_error = COALESCE(?, last_error), updated_at = ? WHERE id = ?",
            )
            .bind(&provider)
            .bind(&error)
            .bind(ts(&now))
            .bind(id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            sqlx::query("UPDATE outbox SET status = ?, next_attempt_at = ? WHERE id = ? AND status IN (?, ?)")
                .bind(status)
                .bind(ts(&next))
                .bind(id.to_string())
                .bind(from[0])
                .bind(from.get(1).copied().unwrap_or(from[0]))
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Done::Unit
        }
        Op::DeliveryReport {
            gateway,
            provider_key,
            message_id,
            delivered,
        } => {
            let status = if *delivered { "delivered" } else { "failed" };
            // Matched by the gateway's id, or by our own id (Kannel's dlr-url carries it and may
            // call before the send is recorded).
            sqlx::query(
                "UPDATE outbox SET status = ?, updated_at = ? WHERE gateway = ? \
                 AND (provider_key = ? OR id = ?) AND status IN ('sending', 'sent', 'delivered')",
            )
            .bind(status)
            .bind(ts(&tocsin_domain::time::now()))
            .bind(gateway)
            .bind(provider_key)
            .bind(message_id.map(|m| m.to_string()))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Done::Unit
        }
        Op::GrantPermission { .. }
        | Op::CreateAssessment(_)
        | Op::ChangeAssessment { .. }
        | Op::CreateLegalQualification(_)
        | Op::SetTags { .. }
        | Op::StoreForecastRun(_)
        | Op::RecordSignals(_) => match analysis::apply(conn, actor, op).await {
            Some(done) => done?,
            None => unreachable!("analysis::apply handles every analysis op"),
        },
        Op::RevokeToken(id) => credentials::revoke_token(conn, *id).await?,
        Op::StoreItems { items, feed } => {
            monitor::store_items(conn, items, feed.as_deref()).await?
        }
        Op::StoreSuggestions(v) => {
            for x in v {
                sqlx::query(
                    "INSERT INTO report_suggestions (report_id, computed_at, matches) \
                     SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM reports WHERE id = ?1) \
                     ON CONFLICT (report_id) DO UPDATE SET computed_at = excluded.computed_at, \
                     matches = excluded.matches",
                )
                .bind(x.report_id.to_string())
                .bind(ts(&x.computed_at))
                .bind(&x.matches)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            }
            Done::Unit
        }
    };
    for ev in tocsin_store::audits_for(actor, op) {
        let e = ev.into_entry(head.seq + 1, &head.hash, tocsin_domain::time::now());
        *head = ChainHead {
            seq: e.seq,
            hash: e.hash.clone(),
        };
        audits.push(e);
    }
    Ok(done)
}

/// Audit columns: ten per entry, so 3,000 entries per statement stay under SQLite's limit.
const AUDITS_PER_INSERT: usize = 3_000;

async fn insert_audits(conn: &mut SqliteConnection, entries: &[AuditEntry]) -> Result<()> {
    for chunk in entries.chunks(AUDITS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, record_type, record_id, detail, \
             prev_hash, hash) ",
        );
        qb.push_values(chunk, |mut b, e| {
            b.push_bind(e.seq)
                .push_bind(ts(&e.at))
                .push_bind(e.actor_id.map(|u| u.to_string()))
                .push_bind(e.actor_name.as_str())
                .push_bind(e.action.as_str())
                .push_bind(e.record_type.as_str())
                .push_bind(e.record_id.as_deref())
                .push_bind(e.detail.as_str())
                .push_bind(e.prev_hash.as_str())
                .push_bind(e.hash.as_str());
        });
        qb.build().execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(())
}

pub(crate) async fn insert_report(conn: &mut SqliteConnection, r: &NewReport) -> Result<Report> {
    sqlx::query(
        "INSERT INTO reports (id, channel, provider_key, source_id, text, tlp, latitude, longitude, \
         country, occurred_at, received_at, language, category, place_name, geo_precision, place_unresolved) \
         VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    )
    .bind(r.id.to_string())
    .bind(r.channel.as_str())
    .bind(&r.provider_key)
    .bind(r.source_id.map(|s| s.to_string()))
    .bind(&r.text)
    .bind(r.tlp.rank())
    .bind(r.latitude)
    .bind(r.longitude)
    .bind(r.country.as_ref().map(|c| c.code().to_string()))
    .bind(r.occurred_at.as_ref().map(ts))
    .bind(ts(&r.received_at))
    .bind(&r.meta.language)
    .bind(&r.meta.category)
    .bind(&r.meta.place_name)
    .bind(r.meta.geo_precision)
    .bind(r.meta.place_unresolved)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    let source = match r.source_id {
        Some(id) => Some(
            sqlx::query_scalar::<_, String>("SELECT handle FROM sources WHERE id = ?")
                .bind(id.to_string())
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err)?,
        ),
        None => None,
    };
    Ok(stored_report(r, source))
}

pub(crate) async fn insert_outbound(
    conn: &mut SqliteConnection,
    m: &OutboundMessage,
) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO outbox ({OUTBOX_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    ))
    .bind(m.id.to_string())
    .bind(&m.idempotency_key)
    .bind(&m.gateway)
    .bind(m.source_id.map(|s| s.to_string()))
    .bind(m.report_id.map(|r| r.to_string()))
    .bind(&m.text)
    .bind(m.status.as_str())
    .bind(m.attempts)
    .bind(ts(&m.next_attempt_at))
    .bind(&m.provider_key)
    .bind(&m.last_error)
    .bind(ts(&m.created_at))
    .bind(ts(&m.updated_at))
    .bind(&m.sender)
    .bind(m.recipient_kind.as_str())
    .bind(m.user_id.map(|u| u.to_string()))
    .bind(m.address.as_ref().map(|a| a.0.clone()))
    .bind(i64::from(m.tlp.rank()))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Rows per multi-row INSERT (30 columns each, well under SQLite's 32,766 parameters).
const ROWS_PER_INSERT: usize = 500;

/// Replace an incident's row by `inc` if the stored one is still at `old_version`; the number
/// of rows changed (0 when it moved on or is gone).
pub(crate) async fn replace_incident(
    conn: &mut SqliteConnection,
    inc: &Incident,
    old_version: i64,
) -> Result<u64> {
    let n = sqlx::query(
        "UPDATE incidents SET event_date=?, date_precision=?, event_type=?, sub_event_type=?, \
         country=?, admin1=?, admin2=?, location=?, latitude=?, longitude=?, geo_precision=?, \
         actor1=?, actor2=?, targeted_group=?, fatalities=?, fatalities_low=?, fatalities_high=?, \
         credibility=?, verification_status=?, description=?, tlp=?, situation_id=?, report_ids=?, \
         updated_at=?, version=?, violence_type=? WHERE id=? AND version=?",
    )
    .bind(inc.event_date.to_string())
    .bind(inc.date_precision)
    .bind(&inc.event_type)
    .bind(&inc.sub_event_type)
    .bind(inc.country.code())
    .bind(&inc.admin1)
    .bind(&inc.admin2)
    .bind(&inc.location)
    .bind(inc.latitude)
    .bind(inc.longitude)
    .bind(inc.geo_precision)
    .bind(&inc.actor1)
    .bind(&inc.actor2)
    .bind(&inc.targeted_group)
    .bind(inc.fatalities)
    .bind(inc.fatalities_low)
    .bind(inc.fatalities_high)
    .bind(inc.credibility)
    .bind(inc.verification_status.as_str())
    .bind(&inc.description)
    .bind(inc.tlp.rank())
    .bind(inc.situation_id.map(|s| s.to_string()))
    .bind(ids_json(&inc.report_ids))
    .bind(ts(&inc.updated_at))
    .bind(inc.version)
    .bind(inc.violence_type)
    .bind(inc.id.to_string())
    .bind(old_version)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(n.rows_affected())
}

pub(crate) async fn insert_incidents(
    conn: &mut SqliteConnection,
    incidents: &[Incident],
    upsert: bool,
) -> Result<()> {
    for chunk in incidents.chunks(ROWS_PER_INSERT) {
        let mut qb =
            QueryBuilder::<Sqlite>::new(format!("INSERT INTO incidents ({INCIDENT_COLS}) "));
        qb.push_values(chunk, |mut b, i| {
            b.push_bind(i.id.to_string())
                .push_bind(i.event_date.to_string())
                .push_bind(i.date_precision)
                .push_bind(i.event_type.as_str())
                .push_bind(i.sub_event_type.as_str())
                .push_bind(i.country.code())
                .push_bind(i.admin1.as_deref())
                .push_bind(i.admin2.as_deref())
                .push_bind(i.location.as_deref())
                .push_bind(i.latitude)
                .push_bind(i.longitude)
                .push_bind(i.geo_precision)
                .push_bind(i.actor1.as_deref())
                .push_bind(i.actor2.as_deref())
                .push_bind(i.targeted_group.as_deref())
                .push_bind(i.fatalities)
                .push_bind(i.fatalities_low)
                .push_bind(i.fatalities_high)
                .push_bind(i.credibility)
                .push_bind(i.verification_status.as_str())
                .push_bind(i.description.as_str())
                .push_bind(i.tlp.rank())
                .push_bind(i.situation_id.map(|s| s.to_string()))
                .push_bind(ids_json(&i.report_ids))
                .push_bind(i.dataset.as_deref())
                .push_bind(i.external_id.as_deref())
                .push_bind(ts(&i.created_at))
                .push_bind(ts(&i.updated_at))
                .push_bind(i.version)
                .push_bind(i.violence_type);
        });
        if upsert {
            qb.push(INCIDENT_UPSERT);
        }
        qb.build().execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(())
}

/// How many of these external ids the dataset already holds.
async fn count_existing(
    conn: &mut SqliteConnection,
    dataset: &str,
    incidents: &[Incident],
) -> Result<u64> {
    let mut n = 0;
    for chunk in incidents.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM incidents WHERE dataset = ");
        qb.push_bind(dataset.to_string())
            .push(" AND external_id IN (");
        let mut sep = qb.separated(", ");
        for i in chunk {
            sep.push_bind(i.external_id.clone());
        }
        qb.push(")");
        let c: i64 = qb
            .build_query_scalar()
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        n += c as u64;
    }
    Ok(n)
}

/// Keyset paging over a list ordered by a time column, then id, newest first (records whose
/// ids are random).
pub(crate) fn push_time_page(
    qb: &mut QueryBuilder<'_, Sqlite>,
    time: &str,
    id: &str,
    page: PageRequest,
) -> Result<()> {
    if let Some(c) = page.after {
        let at = ts(&c.require_time()?);
        qb.push(format!(" AND ({time} < "))
            .push_bind(at.clone())
            .push(format!(" OR ({time} = "))
            .push_bind(at)
            .push(format!(" AND {id} < "))
            .push_bind(c.id.to_string())
            .push("))");
    }
    qb.push(format!(" ORDER BY {time} DESC, {id} DESC LIMIT "))
        .push_bind(i64::from(page.limit) + 1);
    Ok(())
}

fn push_page(qb: &mut QueryBuilder<'_, Sqlite>, alias: &str, page: PageRequest) {
    if let Some(c) = page.after {
        qb.push(format!(" AND {alias}id < "))
            .push_bind(c.id.to_string());
    }
    qb.push(format!(" ORDER BY {alias}id DESC LIMIT "))
        .push_bind(i64::from(page.limit) + 1);
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<()> {
        // Migrations run when the store opens; nothing is left to do.
        Ok(())
    }

    async fn write(&self, actor: &Actor, op: Op) -> Result<Done> {
        let (reply, rx) = oneshot::channel();
        self.writer
            .send(Job::Write {
                actor: actor.clone(),
                op,
                reply,
            })
            .await
            .map_err(|_| StoreError::Backend("the SQLite writer has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Backend("the SQLite writer has stopped".into()))?
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)
    }

    async fn counts(&self) -> Result<Counts> {
        let r = sqlx::query(
            "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM incidents), \
             (SELECT count(*) FROM sources), (SELECT count(*) FROM situations), (SELECT count(*) FROM users)",
        )
        .fetch_one(&self.read)
        .await
        .map_err(db_err)?;
        Ok(Counts {
            reports: r.get(0),
            incidents: r.get(1),
            sources: r.get(2),
            situations: r.get(3),
            users: r.get(4),
        })
    }
}

#[async_trait]
impl Reports for SqliteStore {
    async fn get_report(&self, id: Uuid) -> Result<Report> {
        let row = sqlx::query(&format!("{REPORT_SELECT} WHERE r.id = ?"))
            .bind(id.to_string())
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        report_from_row(&row)
    }

    async fn list_reports(&self, f: &ReportFilter, page: PageRequest) -> Result<Page<Report>> {
        let mut qb = QueryBuilder::<Sqlite>::new(REPORT_SELECT);
        qb.push(" WHERE r.tlp <= ").push_bind(f.max_tlp.rank());
        if let Some(c) = &f.country {
            qb.push(" AND r.country = ").push_bind(c.code().to_string());
        }
        if let Some(t) = f.from {
            qb.push(" AND r.received_at >= ").push_bind(ts(&t));
        }
        if let Some(t) = f.to {
            qb.push(" AND r.received_at < ").push_bind(ts(&t));
        }
        if let Some(b) = f.bbox {
            qb.push(" AND r.longitude BETWEEN ")
                .push_bind(b.min_lon)
                .push(" AND ")
                .push_bind(b.max_lon);
            qb.push(" AND r.latitude BETWEEN ")
                .push_bind(b.min_lat)
                .push(" AND ")
                .push_bind(b.max_lat);
        }
        if let Some(t) = f.tlp {
            qb.push(" AND r.tlp = ").push_bind(t.rank());
        }
        if let Some(c) = f.channel {
            qb.push(" AND r.channel = ").push_bind(c.as_str());
        }
        push_time_page(&mut qb, "r.received_at", "r.id", page)?;
        let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
        let items = rows
            .iter()
            .map(report_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page.limit, |r| {
            Cursor::by_time(r.received_at, r.id)
        }))
    }

    async fn get_source(&self, id: Uuid) -> Result<Source> {
        let row = sqlx::query(&format!("SELECT {SOURCE_COLS} FROM sources WHERE id = ?"))
            .bind(id.to_string())
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        source_from_row(&row)
    }

    async fn get_source_by_handle(&self, handle: &str) -> Result<Source> {
        let row = sqlx::query(&format!(
            "SELECT {SOURCE_COLS} FROM sources WHERE handle = ?"
        ))
        .bind(handle)
        .fetch_one(&self.read)
        .await
        .map_err(db_err)?;
        source_from_row(&row)
    }

    async fn list_sources(&self, max_tlp: Tlp, page: PageRequest) -> Result<Page<Source>> {
        let mut qb =
            QueryBuilder::<Sqlite>::new(format!("SELECT {SOURCE_COLS} FROM sources WHERE tlp <= "));
        qb.push_bind(max_tlp.rank());
        push_time_page(&mut qb, "created_at", "id", page)?;
        let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
        let items = rows
            .iter()
            .map(source_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page.limit, |s| {
            Cursor::by_time(s.created_at, s.id)
        }))
    }

    async fn get_source_contact(&self, id: Uuid) -> Result<Option<SealedContact>> {
        let c: Option<Vec<u8>> = sqlx::query_scalar("SELECT contact FROM sources WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        Ok(c.map(SealedContact))
    }

    async fn source_by_phone(&self, phone_hash: &str) -> Result<Option<Source>> {
        let row = sqlx::query(&format!(
            "SELECT {SOURCE_COLS} FROM sources WHERE phone_hash = ?"
        ))
        .bind(phone_hash)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.as_ref().map(source_from_row).transpose()
    }

    async fn report_by_provider_key(
        &self,
        channel: tocsin_domain::Channel,
        provider_key: &str,
    ) -> Result<Option<Report>> {
        let row = sqlx::query(&format!(
            "{REPORT_SELECT} WHERE r.channel = ? AND r.provider_key = ?"
        ))
        .bind(channel.as_str())
        .bind(provider_key)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.as_ref().map(report_from_row).transpose()
    }

    async fn report_by_text_since(
        &self,
        source_id: Uuid,
        text: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Report>> {
        let row = sqlx::query(&format!(
            "{REPORT_SELECT} WHERE r.source_id = ? AND r.received_at >= ? AND r.text = ? LIMIT 1"
        ))
        .bind(source_id.to_string())
        .bind(ts(&since))
        .bind(text)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.as_ref().map(report_from_row).transpose()
    }

    async fn get_form_claim(&self, code_hash: &str) -> Result<Option<StoredFormClaim>> {
        let row = sqlx::query(
            "SELECT report_id, ack_text, expires_at, claimed_source FROM form_claims WHERE code_hash = ?",
        )
        .bind(code_hash)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(StoredFormClaim {
            claim: tocsin_domain::FormClaim {
                code_hash: code_hash.to_string(),
                report_id: parse_uuid(row.get(0))?,
                ack_text: row.get(1),
                expires_at: parse_ts(row.get(2))?,
            },
            claimed_source: row.get::<Option<&str>, _>(3).map(parse_uuid).transpose()?,
        }))
    }
}

#[async_trait]
impl Incidents for SqliteStore {
    async fn get_incident(&self, id: Uuid) -> Result<Incident> {
        let row = sqlx::query(&format!(
            "SELECT {INCIDENT_COLS} FROM incidents WHERE id = ?"
        ))
        .bind(id.to_string())
        .fetch_one(&self.read)
        .await
        .map_err(db_err)?;
        incident_from_row(&row)
    }

    async fn get_incidents(&self, ids: &[Uuid]) -> Result<Vec<Incident>> {
        let mut out = Vec::with_capacity(ids.len());
        // Well under SQLite's limit of 32,766 parameters per statement.
        for chunk in ids.chunks(1_000) {
            let mut qb = QueryBuilder::<Sqlite>::new(format!(
                "SELECT {INCIDENT_COLS} FROM incidents WHERE id IN ("
            ));
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(id.to_string());
            }
            qb.push(")");
            let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
            for r in &rows {
                out.push(incident_from_row(r)?);
            }
        }
        Ok(out)
    }

    async fn list_incidents(
        &self,
        f: &IncidentFilter,
        page: PageRequest,
    ) -> Result<Page<Incident>> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {INCIDENT_COLS} FROM incidents WHERE retracted = 0 AND tlp <= "
        ));
        qb.push_bind(f.max_tlp.rank());
        if let Some(c) = &f.country {
            qb.push(" AND country = ").push_bind(c.code().to_string());
        }
        if let Some(d) = f.from {
            qb.push(" AND event_date >= ").push_bind(d.to_string());
        }
        if let Some(d) = f.to {
            qb.push(" AND event_date <= ").push_bind(d.to_string());
        }
        if let Some(b) = f.bbox {
            qb.push(" AND longitude BETWEEN ")
                .push_bind(b.min_lon)
                .push(" AND ")
                .push_bind(b.max_lon);
            qb.push(" AND latitude BETWEEN ")
                .push_bind(b.min_lat)
                .push(" AND ")
                .push_bind(b.max_lat);
        }
        if let Some(t) = &f.event_type {
            qb.push(" AND event_type = ").push_bind(t.clone());
        }
        if let Some(v) = f.verification_status {
            qb.push(" AND verification_status = ").push_bind(v.as_str());
        }
        if let Some(t) = f.tlp {
            qb.push(" AND tlp = ").push_bind(t.rank());
        }
        if let Some(s) = f.situation_id {
            qb.push(" AND situation_id = ").push_bind(s.to_string());
        }
        if let Some(c) = page.after {
            let d = c.require_date()?;
            qb.push(" AND (event_date < ")
                .push_bind(d.to_string())
                .push(" OR (event_date = ")
                .push_bind(d.to_string())
                .push(" AND id < ")
                .push_bind(c.id.to_string())
                .push("))");
        }
        qb.push(" ORDER BY event_date DESC, id DESC LIMIT ")
            .push_bind(i64::from(page.limit) + 1);
        let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
        let items = rows
            .iter()
            .map(incident_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page.limit, |i| {
            Cursor::by_date(i.event_date, i.id)
        }))
    }

    async fn scan_incidents(
        &self,
        f: &IncidentFilter,
        out: mpsc::Sender<Vec<Incident>>,
    ) -> Result<u64> {
        let (path, f) = (self.path.clone(), f.clone());
        tokio::task::spawn_blocking(move || bulk::scan(&path, &f, &out))
            .await
            .map_err(|e| StoreError::Backend(format!("the export thread failed: {e}")))?
    }

    async fn import_stream(
        &self,
        actor: &Actor,
        mut rows: mpsc::Receiver<ImportChunk>,
    ) -> Result<(u64, u64)> {
        // The writer stands aside while the import holds the write lock, so writes of this
        // process queue instead of timing out on the lock.
        let stopped = || StoreError::Backend("the SQLite writer has stopped".into());
        let (ready, is_ready) = oneshot::channel();
        let (resume, on_resume) = oneshot::channel::<()>();
        self.writer
            .send(Job::Pause {
                ready,
                resume: on_resume,
                close: self.exclusive_imports,
            })
            .await
            .map_err(|_| stopped())?;
        is_ready.await.map_err(|_| stopped())?;
        // Only with every connection of ours closed can the import have the file to itself.
        let exclusive = self.exclusive_imports && self.drain_reads(Duration::from_secs(2)).await;
        let (path, actor) = (self.path.clone(), actor.clone());
        let done =
            tokio::task::spawn_blocking(move || bulk::import(&path, &actor, &mut rows, exclusive))
                .await
                .map_err(|e| StoreError::Backend(format!("the import thread failed: {e}")));
        self.draining
            .store(false, std::sync::atomic::Ordering::SeqCst);
        drop(resume);
        done?
    }

    async fn incident_days(
        &self,
        q: &tocsin_store::DaysQuery,
    ) -> Result<Vec<tocsin_store::DayGroup>> {
        // Two index range reads: the country's incidents in the window, and the situation's
        // elsewhere.
        let cols = "SELECT event_date, country, admin1, COALESCE(situation_id = ?, 0), count(*), \
                    COALESCE(sum(fatalities), 0), min(longitude), min(latitude), max(longitude), \
                    max(latitude) FROM incidents";
        let tail = "AND event_date BETWEEN ? AND ? AND tlp <= ? AND retracted = 0 \
                    GROUP BY event_date, country, admin1, COALESCE(situation_id = ?, 0)";
        let sql = format!(
            "{cols} WHERE country = ? {tail} UNION ALL {cols} WHERE situation_id = ? AND country <> ? {tail}"
        );
        let sit = q.situation_id.map(|s| s.to_string());
        let country = q.country.code();
        let (from, to) = (q.from.to_string(), q.to.to_string());
        let rank = i64::from(q.max_tlp.rank());
        let rows = sqlx::query(&sql)
            .bind(&sit)
            .bind(country)
            .bind(&from)
            .bind(&to)
            .bind(rank)
            .bind(&sit)
            .bind(&sit)
            .bind(&sit)
            .bind(country)
            .bind(&from)
            .bind(&to)
            .bind(rank)
            .bind(&sit)
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(tocsin_store::DayGroup {
                    date: chrono::NaiveDate::parse_from_str(r.get(0), "%Y-%m-%d")
                        .map_err(|_| rows::corrupt("date"))?,
                    country: tocsin_domain::Country::parse(r.get(1))?,
                    admin1: r.get(2),
                    in_situation: r.get::<i64, _>(3) != 0,
                    incidents: r.get::<i64, _>(4).max(0) as u64,
                    fatalities: r.get::<i64, _>(5).max(0) as u64,
                    bounds: [r.get(6), r.get(7), r.get(8), r.get(9)],
                })
            })
            .collect()
    }

    async fn map_points(
        &self,
        since: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<MapPoint>> {
        let (path, slot) = (self.path.clone(), self.map_conn.clone());
        tokio::task::spawn_blocking(move || {
            // One connection kept for these: the map index asks before every map query.
            let mut conn = slot.lock().unwrap_or_else(|p| p.into_inner());
            if conn.is_none() {
                *conn = Some(bulk::open_read(&path)?);
            }
            let points = bulk::map_points(conn.as_ref().expect("just opened"), since, limit);
            if points.is_err() {
                *conn = None;
            }
            points
        })
        .await
        .map_err(|e| StoreError::Backend(format!("the map query thread failed: {e}")))?
    }
}

#[async_trait]
impl Users for SqliteStore {
    async fn get_user(&self, id: Uuid) -> Result<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = ?"))
            .bind(id.to_string())
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        user_from_row(&row)
    }

    async fn get_user_by_name(&self, username: &str) -> Result<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE username = ?"))
            .bind(username)
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        user_from_row(&row)
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!("SELECT {USER_COLS} FROM users ORDER BY username"))
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn user_for_token(&self, token_hash: &str) -> Result<User> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users WHERE id = \
             (SELECT user_id FROM api_tokens WHERE token_hash = ? AND revoked = 0 \
             AND (expires_at IS NULL OR expires_at > ?))"
        ))
        .bind(token_hash)
        .bind(ts(&tocsin_domain::time::now()))
        .fetch_one(&self.read)
        .await
        .map_err(db_err)?;
        user_from_row(&row)
    }

    async fn get_session(&self, id_hash: &str) -> Result<WebSession> {
        let row = sqlx::query(
            "SELECT id_hash, user_id, csrf_token, created_at, expires_at FROM sessions \
             WHERE id_hash = ? AND expires_at > ?",
        )
        .bind(id_hash)
        .bind(ts(&tocsin_domain::time::now()))
        .fetch_one(&self.read)
        .await
        .map_err(db_err)?;
        Ok(WebSession {
            id_hash: row.get(0),
            user_id: parse_uuid(row.get(1))?,
            csrf_token: row.get(2),
            created_at: parse_ts(row.get(3))?,
            expires_at: parse_ts(row.get(4))?,
        })
    }

    async fn get_user_contacts(&self, user_id: Uuid) -> Result<tocsin_domain::UserContacts> {
        contacts::get_contacts(&self.read, user_id).await
    }

    async fn list_inbox(
        &self,
        user_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<tocsin_domain::InboxItem>> {
        contacts::list_inbox(&self.read, user_id, page).await
    }

    async fn inbox_unread(&self, user_id: Uuid) -> Result<u64> {
        contacts::inbox_unread(&self.read, user_id).await
    }

    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_id, actor_name, action, record_type, record_id, detail, prev_hash, hash \
             FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(audit_row).collect()
    }

    async fn search_audit(
        &self,
        f: &tocsin_store::AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        let (cond, binds) = audit_where(f);
        let sql = format!(
            "SELECT seq, at, actor_id, actor_name, action, record_type, record_id, detail, prev_hash, hash \
             FROM audit_log WHERE seq < ?{cond} ORDER BY seq DESC LIMIT ?"
        );
        let mut q = sqlx::query(&sql).bind(before.unwrap_or(i64::MAX));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter().map(audit_row).collect()
    }

    async fn count_audit(&self, f: &tocsin_store::AuditFilter) -> Result<u64> {
        let (cond, binds) = audit_where(f);
        let sql = format!("SELECT count(*) FROM audit_log WHERE 1 = 1{cond}");
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for b in binds {
            q = q.bind(b);
        }
        let n = q.fetch_one(&self.read).await.map_err(db_err)?;
        Ok(n.max(0) as u64)
    }

    async fn list_tokens(&self, user_id: Uuid) -> Result<Vec<tocsin_domain::ApiToken>> {
        credentials::list_tokens(&self.read, user_id).await
    }
}

#[async_trait]
impl Deliveries for SqliteStore {
    async fn get_outbound(&self, id: Uuid) -> Result<OutboundMessage> {
        let row = sqlx::query(&format!("SELECT {OUTBOX_COLS} FROM outbox WHERE id = ?"))
            .bind(id.to_string())
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        outbound_from_row(&row)
    }

    async fn list_outbound(
        &self,
        source_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<OutboundMessage>> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {OUTBOX_COLS} FROM outbox"));
        if let Some(s) = source_id {
            qb.push(" WHERE source_id = ").push_bind(s.to_string());
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(outbound_from_row).collect()
    }

    async fn outbox_summary(&self) -> Result<tocsin_store::OutboxSummary> {
        let rows = sqlx::query(
            "SELECT status, count(*), min(CASE WHEN status IN ('queued', 'sending') THEN created_at END) \
             FROM outbox GROUP BY status",
        )
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        let mut s = tocsin_store::OutboxSummary::default();
        for r in &rows {
            let n: i64 = r.get(1);
            match r.get::<&str, _>(0) {
                "queued" => s.queued = n,
                "sending" => s.sending = n,
                "sent" => s.sent = n,
                "delivered" => s.delivered = n,
                _ => s.failed += n,
            }
            if let Some(t) = r.get::<Option<String>, _>(2) {
                let t = parse_ts(&t)?;
                s.oldest_waiting = Some(s.oldest_waiting.map_or(t, |o| o.min(t)));
            }
        }
        Ok(s)
    }
}

#[async_trait]
impl Analysis for SqliteStore {
    async fn get_situation(&self, id: Uuid) -> Result<Situation> {
        let row = sqlx::query(&format!(
            "SELECT {SITUATION_COLS} FROM situations WHERE id = ?"
        ))
        .bind(id.to_string())
        .fetch_one(&self.read)
        .await
        .map_err(db_err)?;
        situation_from_row(&row)
    }

    async fn list_situations(&self, max_tlp: Tlp, page: PageRequest) -> Result<Page<Situation>> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {SITUATION_COLS} FROM situations WHERE tlp <= "
        ));
        qb.push_bind(max_tlp.rank());
        push_page(&mut qb, "", page);
        let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
        let items = rows
            .iter()
            .map(situation_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page.limit, |s| Cursor::by_id(s.id)))
    }

    async fn get_assessment(&self, id: Uuid) -> Result<tocsin_domain::Assessment> {
        analysis::get_assessment(&self.read, id).await
    }

    async fn list_assessments(
        &self,
        situation_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<tocsin_domain::Assessment>> {
        analysis::list_assessments(&self.read, situation_id, limit).await
    }

    async fn list_legal_qualifications(
        &self,
        situation_id: Uuid,
    ) -> Result<Vec<tocsin_domain::LegalQualification>> {
        analysis::list_legal(&self.read, situation_id).await
    }

    async fn get_tags(
        &self,
        kind: tocsin_domain::Tagged,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Vec<String>>> {
        analysis::get_tags(&self.read, kind, ids).await
    }

    async fn list_signals(
        &self,
        clearance: Tlp,
        country: Option<&tocsin_domain::Country>,
        since: Option<chrono::NaiveDate>,
        limit: u32,
    ) -> Result<Vec<tocsin_domain::SignalRecord>> {
        analysis::list_signals(&self.read, clearance, country, since, limit).await
    }

    async fn get_signal(&self, id: Uuid) -> Result<tocsin_domain::SignalRecord> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM signals WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?;
        let body = body.ok_or(StoreError::NotFound)?;
        serde_json::from_str(&body).map_err(|e| StoreError::Backend(format!("signal body: {e}")))
    }

    async fn get_forecast_run(&self, id: Uuid) -> Result<tocsin_domain::ForecastRun> {
        analysis::get_forecast_run(&self.read, id).await
    }

    async fn latest_forecast_run(&self) -> Result<Option<tocsin_domain::ForecastRun>> {
        analysis::latest_forecast_run(&self.read).await
    }

    async fn forecast_history(
        &self,
        country: &tocsin_domain::Country,
    ) -> Result<Vec<tocsin_domain::ForecastPoint>> {
        analysis::forecast_history(&self.read, country).await
    }
}

/// An audit entry from a row of `seq, at, actor_id, actor_name, action, record_type,
/// record_id, detail, prev_hash, hash`.
fn audit_row(r: &sqlx::sqlite::SqliteRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0),
        at: parse_ts(r.get(1))?,
        actor_id: r
            .get::<Option<String>, _>(2)
            .map(|s| parse_uuid(&s))
            .transpose()?,
        actor_name: r.get(3),
        action: r.get(4),
        record_type: r.get(5),
        record_id: r.get(6),
        detail: r.get(7),
        prev_hash: r.get(8),
        hash: r.get(9),
    })
}

/// The conditions (each starting ` AND `) and their values for an audit filter.
fn audit_where(f: &tocsin_store::AuditFilter) -> (String, Vec<String>) {
    let mut cond = String::new();
    let mut binds = Vec::new();
    if let Some(a) = &f.actor {
        cond.push_str(" AND actor_name = ?");
        binds.push(a.clone());
    }
    if let Some(a) = &f.action {
        cond.push_str(" AND substr(action, 1, length(?)) = ?");
        binds.push(a.clone());
        binds.push(a.clone());
    }
    if let Some(t) = &f.record_type {
        cond.push_str(" AND record_type = ?");
        binds.push(t.clone());
    }
    if let Some(id) = &f.record_id {
        cond.push_str(" AND record_id = ?");
        binds.push(id.clone());
    }
    (cond, binds)
}
