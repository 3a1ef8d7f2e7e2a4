//! The job runner's storage on SQLite: leases, timers and job outcomes.
//!
//! These writes are the runner's bookkeeping (no audit entry), so they go through a
//! connection of their own rather than the group-committing writer; SQLite serialises it
//! with the writer (busy timeout), and each write is one statement, atomic on its own.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Row, Sqlite};
use std::sync::Arc;
use std::time::Duration;
use tocsin_domain::time::format as ts;
use tocsin_store::{
    ChannelCount, ChannelCounters, JobRecord, Jobs, NewTimer, Result, StoreError, Timer,
};
use uuid::Uuid;

use crate::rows::{parse_ts, parse_uuid};
use crate::{db_err, SqliteStore};

/// The connection jobs bookkeeping writes through, opened at first use.
#[derive(Clone, Default)]
pub(crate) struct JobsConn(Arc<tokio::sync::Mutex<Option<SqliteConnection>>>);

impl SqliteStore {
    pub(crate) async fn jobs_conn(
        &self,
    ) -> Result<tokio::sync::MappedMutexGuard<'_, SqliteConnection>> {
        let mut g = self.jobs.0.lock().await;
        if g.is_none() {
            let opts = SqliteConnectOptions::new()
                .filename(&self.path)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            *g = Some(
                SqliteConnection::connect_with(&opts)
                    .await
                    .map_err(db_err)?,
            );
        }
        Ok(tokio::sync::MutexGuard::map(g, |c| {
            c.as_mut().expect("opened above")
        }))
    }
}

fn opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

fn timer_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<Timer> {
    let payload: String = r.get(3);
    Ok(Timer {
        id: parse_uuid(r.get(0))?,
        kind: r.get(1),
        key: r.get(2),
        payload: serde_json::from_str(&payload)
            .map_err(|_| StoreError::Backend("corrupt timer payload in database".into()))?,
        fire_at: parse_ts(r.get(4))?,
        attempts: r.get(5),
        last_error: r.get(6),
    })
}

#[async_trait]
impl Jobs for SqliteStore {
    async fn acquire_lease(&self, name: &str, owner: &str, ttl_secs: i64) -> Result<bool> {
        let now = tocsin_domain::time::now();
        let until = now + chrono::Duration::seconds(ttl_secs);
        let mut c = self.jobs_conn().await?;
        let r = sqlx::query(
            "INSERT INTO job_leases (name, owner, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
             WHERE job_leases.owner = excluded.owner OR job_leases.expires_at <= ?",
        )
        .bind(name)
        .bind(owner)
        .bind(ts(&until))
        .bind(ts(&now))
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn release_lease(&self, name: &str, owner: &str) -> Result<()> {
        let mut c = self.jobs_conn().await?;
        sqlx::query("DELETE FROM job_leases WHERE name = ? AND owner = ?")
            .bind(name)
            .bind(owner)
            .execute(&mut *c)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn schedule_timer(&self, t: NewTimer) -> Result<Uuid> {
        let id = tocsin_domain::random_id();
        let mut c = self.jobs_conn().await?;
        let r = sqlx::query(
            "INSERT INTO job_timers (id, kind, key, payload, fire_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(id.to_string())
        .bind(&t.kind)
        .bind(&t.key)
        .bind(t.payload.to_string())
        .bind(ts(&t.fire_at))
        .bind(ts(&tocsin_domain::time::now()))
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
        if r.rows_affected() == 1 {
            return Ok(id);
        }
        let existing: String =
            sqlx::query_scalar("SELECT id FROM job_timers WHERE key = ? AND done_at IS NULL")
                .bind(&t.key)
                .fetch_one(&mut *c)
                .await
                .map_err(db_err)?;
        parse_uuid(&existing)
    }

    async fn cancel_timer(&self, key: &str) -> Result<bool> {
        let mut c = self.jobs_conn().await?;
        let r = sqlx::query(
            "UPDATE job_timers SET done_at = ?, last_error = 'cancelled' \
             WHERE key = ? AND done_at IS NULL",
        )
        .bind(ts(&tocsin_domain::time::now()))
        .bind(key)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn claim_timers(
        &self,
        kinds: &[String],
        owner: &str,
        limit: u32,
        lease_secs: i64,
    ) -> Result<Vec<Timer>> {
        if kinds.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let now = tocsin_domain::time::now();
        let until = now + chrono::Duration::seconds(lease_secs);
        let mut qb = QueryBuilder::<Sqlite>::new("UPDATE job_timers SET claimed_by = ");
        qb.push_bind(owner)
            .push(", claim_until = ")
            .push_bind(ts(&until))
            .push(", attempts = attempts + 1 WHERE id IN (SELECT id FROM job_timers WHERE done_at IS NULL AND fire_at <= ")
            .push_bind(ts(&now))
            .push(" AND (claim_until IS NULL OR claim_until <= ")
            .push_bind(ts(&now))
            .push(") AND kind IN (");
        let mut sep = qb.separated(", ");
        for k in kinds {
            sep.push_bind(k.clone());
        }
        qb.push(") ORDER BY fire_at, id LIMIT ")
            .push_bind(i64::from(limit))
            .push(") RETURNING id, kind, key, payload, fire_at, attempts, last_error");
        let mut c = self.jobs_conn().await?;
        let rows = qb.build().fetch_all(&mut *c).await.map_err(db_err)?;
        let mut v = rows
            .iter()
            .map(timer_from_row)
            .collect::<Result<Vec<_>>>()?;
        v.sort_by_key(|t| (t.fire_at, t.id));
        Ok(v)
    }

    async fn complete_timer(&self, id: Uuid, owner: &str) -> Result<bool> {
        let mut c = self.jobs_conn().await?;
        let r = sqlx::query(
            "UPDATE job_timers SET done_at = ?, claim_until = NULL \
             WHERE id = ? AND claimed_by = ? AND done_at IS NULL",
        )
        .bind(ts(&tocsin_domain::time::now()))
        .bind(id.to_string())
        .bind(owner)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn retry_timer(
        &self,
        id: Uuid,
        owner: &str,
        retry_at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        let mut c = self.jobs_conn().await?;
        sqlx::query(
            "UPDATE job_timers SET fire_at = ?, claim_until = NULL, claimed_by = NULL, last_error = ? \
             WHERE id = ? AND claimed_by = ? AND done_at IS NULL",
        )
        .bind(ts(&retry_at))
        .bind(error)
        .bind(id.to_string())
        .bind(owner)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn pending_timers(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM job_timers WHERE done_at IS NULL")
            .fetch_one(&self.read)
            .await
            .map_err(db_err)
    }

    async fn record_job(&self, r: &JobRecord) -> Result<()> {
        let now = tocsin_domain::time::now();
        let mut c = self.jobs_conn().await?;
        sqlx::query(
            "INSERT INTO job_status (name, last_ok, last_error, last_error_at, failing_since, backlog, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET last_ok = excluded.last_ok, \
             last_error = excluded.last_error, last_error_at = excluded.last_error_at, \
             failing_since = excluded.failing_since, backlog = excluded.backlog, updated_at = excluded.updated_at",
        )
        .bind(&r.name)
        .bind(r.last_ok.as_ref().map(ts))
        .bind(&r.last_error)
        .bind(r.last_error_at.as_ref().map(ts))
        .bind(r.failing_since.as_ref().map(ts))
        .bind(r.backlog)
        .bind(ts(&now))
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn channel_cursor(&self, name: &str) -> Result<Option<i64>> {
        sqlx::query_scalar("SELECT position FROM channel_cursors WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)
    }

    async fn advance_channel_cursor(&self, name: &str, position: i64) -> Result<()> {
        let now = tocsin_domain::time::now();
        let mut c = self.jobs_conn().await?;
        sqlx::query(
            "INSERT INTO channel_cursors (name, position, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at \
             WHERE excluded.position > channel_cursors.position",
        )
        .bind(name)
        .bind(position)
        .bind(ts(&now))
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn job_records(&self) -> Result<Vec<JobRecord>> {
        let rows = sqlx::query(
            "SELECT name, last_ok, last_error, last_error_at, failing_since, backlog, updated_at \
             FROM job_status ORDER BY name",
        )
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(JobRecord {
                    name: r.get(0),
                    last_ok: opt_ts(r.get(1))?,
                    last_error: r.get(2),
                    last_error_at: opt_ts(r.get(3))?,
                    failing_since: opt_ts(r.get(4))?,
                    backlog: r.get(5),
                    updated_at: opt_ts(r.get(6))?,
                })
            })
            .collect()
    }

    async fn count_channel(&self, name: &str, c: &ChannelCount) -> Result<()> {
        let mut conn = self.jobs_conn().await?;
        count_channel(&mut conn, name, c).await
    }

    async fn channel_counters(&self) -> Result<Vec<ChannelCounters>> {
        let rows = sqlx::query(
            "SELECT name, taken, duplicates, refused, last_taken_at, last_refused_at, last_error, \
             last_error_at FROM channel_counters ORDER BY name",
        )
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(ChannelCounters {
                    name: r.get(0),
                    taken: r.get(1),
                    duplicates: r.get(2),
                    refused: r.get(3),
                    last_taken_at: opt_ts(r.get(4))?,
                    last_refused_at: opt_ts(r.get(5))?,
                    last_error: r.get(6),
                    last_error_at: opt_ts(r.get(7))?,
                })
            })
            .collect()
    }
}

/// Add `c` to the counters of inbound channel `name` on `conn` (one upsert): through the jobs
/// connection for a count of its own, or in a writer's transaction
/// ([`tocsin_store::Step::CountChannel`]).
pub(crate) async fn count_channel(
    conn: &mut SqliteConnection,
    name: &str,
    c: &ChannelCount,
) -> Result<()> {
    if *c == ChannelCount::default() {
        return Ok(());
    }
    let now = ts(&tocsin_domain::time::now());
    let when = |n: i64| (n > 0).then(|| now.clone());
    sqlx::query(
        "INSERT INTO channel_counters (name, taken, duplicates, refused, last_taken_at, \
         last_refused_at, last_error, last_error_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (name) DO UPDATE SET taken = taken + excluded.taken, \
         duplicates = duplicates + excluded.duplicates, refused = refused + excluded.refused, \
         last_taken_at = COALESCE(excluded.last_taken_at, last_taken_at), \
         last_refused_at = COALESCE(excluded.last_refused_at, last_refused_at), \
         last_error = COALESCE(excluded.last_error, last_error), \
         last_error_at = COALESCE(excluded.last_error_at, last_error_at), \
         updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(c.taken)
    .bind(c.duplicates)
    .bind(c.refused)
    .bind(when(c.taken))
    .bind(when(c.refused))
    .bind(&c.error)
    .bind(c.error.as_ref().map(|_| now.clone()))
    .bind(&now)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}
