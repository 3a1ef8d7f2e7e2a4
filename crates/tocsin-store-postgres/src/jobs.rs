//! The job runner's storage on PostgreSQL: leases, timers and job outcomes.
//!
//! Each write is one statement: a lease is taken by a conditional upsert (only when free,
//! expired or already ours), timers are claimed with `FOR UPDATE SKIP LOCKED`, so several
//! servers on one database never hold one lease or claim one timer together.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use tocsin_store::{
    ChannelCount, ChannelCounters, JobRecord, Jobs, NewTimer, Result, StoreError, Timer,
};
use uuid::Uuid;

use crate::rows::col;
use crate::{db_err, PostgresStore};

fn timer_from_row(r: &PgRow) -> Result<Timer> {
    Ok(Timer {
        id: col(r, 0)?,
        kind: col(r, 1)?,
        key: col(r, 2)?,
        payload: serde_json::from_str(&col::<String>(r, 3)?)
            .map_err(|_| StoreError::Backend("corrupt timer payload in database".into()))?,
        fire_at: col(r, 4)?,
        attempts: col(r, 5)?,
        last_error: col(r, 6)?,
    })
}

#[async_trait]
impl Jobs for PostgresStore {
    async fn acquire_lease(&self, name: &str, owner: &str, ttl_secs: i64) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO job_leases (name, owner, expires_at) \
             VALUES ($1, $2, now() + make_interval(secs => $3)) \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
             WHERE job_leases.owner = excluded.owner OR job_leases.expires_at <= now()",
        )
        .bind(name)
        .bind(owner)
        .bind(ttl_secs as f64)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn release_lease(&self, name: &str, owner: &str) -> Result<()> {
        sqlx::query("DELETE FROM job_leases WHERE name = $1 AND owner = $2")
            .bind(name)
            .bind(owner)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn schedule_timer(&self, t: NewTimer) -> Result<Uuid> {
        let id = tocsin_domain::random_id();
        let r = sqlx::query(
            "INSERT INTO job_timers (id, kind, key, payload, fire_at, created_at) \
             VALUES ($1, $2, $3, $4::jsonb, $5, now()) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(&t.kind)
        .bind(&t.key)
        .bind(t.payload.to_string())
        .bind(t.fire_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if r.rows_affected() == 1 {
            return Ok(id);
        }
        sqlx::query_scalar("SELECT id FROM job_timers WHERE key = $1 AND done_at IS NULL")
            .bind(&t.key)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn cancel_timer(&self, key: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE job_timers SET done_at = now(), last_error = 'cancelled' \
             WHERE key = $1 AND done_at IS NULL",
        )
        .bind(key)
        .execute(&self.pool)
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
        let rows = sqlx::query(
            "UPDATE job_timers SET claimed_by = $1, claim_until = now() + make_interval(secs => $2), \
             attempts = attempts + 1 WHERE id IN (SELECT id FROM job_timers WHERE done_at IS NULL \
             AND fire_at <= now() AND (claim_until IS NULL OR claim_until <= now()) \
             AND kind = ANY($3) ORDER BY fire_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING id, kind, key, payload::text, fire_at, attempts, last_error",
        )
        .bind(owner)
        .bind(lease_secs as f64)
        .bind(kinds)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut v = rows
            .iter()
            .map(timer_from_row)
            .collect::<Result<Vec<_>>>()?;
        v.sort_by_key(|t| (t.fire_at, t.id));
        Ok(v)
    }

    async fn complete_timer(&self, id: Uuid, owner: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE job_timers SET done_at = now(), claim_until = NULL \
             WHERE id = $1 AND claimed_by = $2 AND done_at IS NULL",
        )
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
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
        sqlx::query(
            "UPDATE job_timers SET fire_at = $1, claim_until = NULL, claimed_by = NULL, last_error = $2 \
             WHERE id = $3 AND claimed_by = $4 AND done_at IS NULL",
        )
        .bind(retry_at)
        .bind(error)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn pending_timers(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM job_timers WHERE done_at IS NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn record_job(&self, r: &JobRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO job_status (name, last_ok, last_error, last_error_at, failing_since, backlog, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, now()) ON CONFLICT (name) DO UPDATE SET last_ok = excluded.last_ok, \
             last_error = excluded.last_error, last_error_at = excluded.last_error_at, \
             failing_since = excluded.failing_since, backlog = excluded.backlog, updated_at = excluded.updated_at",
        )
        .bind(&r.name)
        .bind(r.last_ok)
        .bind(&r.last_error)
        .bind(r.last_error_at)
        .bind(r.failing_since)
        .bind(r.backlog)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn channel_cursor(&self, name: &str) -> Result<Option<i64>> {
        sqlx::query_scalar("SELECT position FROM channel_cursors WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn advance_channel_cursor(&self, name: &str, position: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO channel_cursors (name, position, updated_at) VALUES ($1, $2, now()) \
             ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at \
             WHERE excluded.position > channel_cursors.position",
        )
        .bind(name)
        .bind(position)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn job_records(&self) -> Result<Vec<JobRecord>> {
        let rows = sqlx::query(
            "SELECT name, last_ok, last_error, last_error_at, failing_since, backlog, updated_at \
             FROM job_status ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(JobRecord {
                    name: col(r, 0)?,
                    last_ok: col(r, 1)?,
                    last_error: col(r, 2)?,
                    last_error_at: col(r, 3)?,
                    failing_since: col(r, 4)?,
                    backlog: col(r, 5)?,
                    updated_at: col(r, 6)?,
                })
            })
            .collect()
    }

    async fn count_channel(&self, name: &str, c: &ChannelCount) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        count_channel(&mut conn, name, c).await
    }

    async fn channel_counters(&self) -> Result<Vec<ChannelCounters>> {
        let rows = sqlx::query(
            "SELECT name, taken, duplicates, refused, last_taken_at, last_refused_at, last_error, \
             last_error_at FROM channel_counters ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(ChannelCounters {
                    name: col(r, 0)?,
                    taken: col(r, 1)?,
                    duplicates: col(r, 2)?,
                    refused: col(r, 3)?,
                    last_taken_at: col(r, 4)?,
                    last_refused_at: col(r, 5)?,
                    last_error: col(r, 6)?,
                    last_error_at: col(r, 7)?,
                })
            })
            .collect()
    }
}

/// Add `c` to the counters of inbound channel `name` on `conn` (one upsert): on a pooled
/// connection for a count of its own, or in the writer's transaction
/// ([`tocsin_store::Step::CountChannel`]).
pub(crate) async fn count_channel(
    conn: &mut sqlx::PgConnection,
    name: &str,
    c: &ChannelCount,
) -> Result<()> {
    if *c == ChannelCount::default() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO channel_counters AS c (name, taken, duplicates, refused, last_taken_at, \
         last_refused_at, last_error, last_error_at, updated_at) \
         VALUES ($1, $2, $3, $4, CASE WHEN $2 > 0 THEN now() END, CASE WHEN $4 > 0 THEN now() END, \
         $5::TEXT, CASE WHEN $5::TEXT IS NOT NULL THEN now() END, now()) \
         ON CONFLICT (name) DO UPDATE SET taken = c.taken + excluded.taken, \
         duplicates = c.duplicates + excluded.duplicates, refused = c.refused + excluded.refused, \
         last_taken_at = COALESCE(excluded.last_taken_at, c.last_taken_at), \
         last_refused_at = COALESCE(excluded.last_refused_at, c.last_refused_at), \
         last_error = COALESCE(excluded.last_error, c.last_error), \
         last_error_at = COALESCE(excluded.last_error_at, c.last_error_at), \
         updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(c.taken)
    .bind(c.duplicates)
    .bind(c.refused)
    .bind(&c.error)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}
