//! Broadcasts on SQLite: the domain's JSON in `broadcasts.body` beside its state; recipients
//! in `broadcast_recipients`, written once at approval (inserted in statements of many rows)
//! and then moved by the sender through the job runner's own connection (`jobs.rs`): each
//! claim and each outcome one statement, committed before it returns.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Row, Sqlite};
use tocsin_domain::page::Cursor;
use tocsin_domain::time::format as ts;
use tocsin_domain::{
    Broadcast, Page, PageRequest, RecipientCounts, RecipientState, SealedContact, StopSwitch,
};
use tocsin_store::broadcasts::STOP_SWITCH_KEY;
use tocsin_store::{BroadcastRecipient, BroadcastStep, RecipientOutcome, Result, StoreError};
use uuid::Uuid;

use crate::db_err;
use crate::rows::parse_uuid;

fn body(b: &Broadcast) -> Result<String> {
    serde_json::to_string(b).map_err(|e| StoreError::Backend(e.to_string()))
}

fn from_body(s: &str) -> Result<Broadcast> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("corrupt broadcast body: {e}")))
}

/// Rows per INSERT statement (7 values each, well under SQLite's 32,766 variables).
const INSERT_ROWS: usize = 2000;

/// Apply one broadcast step inside the op's savepoint.
pub(crate) async fn apply(conn: &mut SqliteConnection, step: &BroadcastStep) -> Result<()> {
    match step {
        BroadcastStep::Create(b) => {
            sqlx::query(
                "INSERT INTO broadcasts (id, state, mode, version, created_at, body) \
                 VALUES (?,?,?,?,?,?)",
            )
            .bind(b.id.to_string())
            .bind(b.state.as_str())
            .bind(b.mode.as_str())
            .bind(b.version)
            .bind(ts(&b.created_at))
            .bind(body(b)?)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        BroadcastStep::Update(b) => {
            let done = sqlx::query(
                "UPDATE broadcasts SET state=?, version=?, body=? WHERE id=? AND version=?",
            )
            .bind(b.state.as_str())
            .bind(b.version)
            .bind(body(b)?)
            .bind(b.id.to_string())
            .bind(b.version - 1)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM broadcasts WHERE id = ?")
                .bind(b.id.to_string())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
            match found {
                Some(_) => Err(StoreError::Conflict(
                    "the broadcast changed meanwhile; reload it and try again".into(),
                )),
                None => Err(StoreError::NotFound),
            }
        }
        BroadcastStep::AddRecipients {
            broadcast_id,
            recipients,
        } => {
            let any: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM broadcast_recipients WHERE broadcast_id = ? LIMIT 1",
            )
            .bind(broadcast_id.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
            if any.is_some() {
                return Err(StoreError::Conflict(
                    "the broadcast's recipients are already queued".into(),
                ));
            }
            let now = ts(&tocsin_domain::time::now());
            for chunk in recipients.chunks(INSERT_ROWS) {
                let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                    "INSERT INTO broadcast_recipients (id, broadcast_id, subscriber_id, address, \
                     language, state, updated_at) ",
                );
                q.push_values(chunk, |mut row, r| {
                    row.push_bind(r.id.to_string())
                        .push_bind(broadcast_id.to_string())
                        .push_bind(r.subscriber_id.map(|s| s.to_string()))
                        .push_bind(r.address.as_ref().map(|a| a.0.clone()))
                        .push_bind(r.language.clone())
                        .push_bind(RecipientState::Queued.as_str())
                        .push_bind(now.clone());
                });
                q.build().execute(&mut *conn).await.map_err(db_err)?;
            }
            Ok(())
        }
        BroadcastStep::SkipQueued(id) => {
            sqlx::query(
                "UPDATE broadcast_recipients SET state='skipped', updated_at=? \
                 WHERE broadcast_id=? AND state='queued'",
            )
            .bind(ts(&tocsin_domain::time::now()))
            .bind(id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        BroadcastStep::SetStop(s) => {
            let v = serde_json::to_string(s).map_err(|e| StoreError::Backend(e.to_string()))?;
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES (?, ?) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(STOP_SWITCH_KEY)
            .bind(v)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
    }
}

fn recipient(r: &sqlx::sqlite::SqliteRow) -> Result<BroadcastRecipient> {
    let state: String = r.get(5);
    Ok(BroadcastRecipient {
        id: parse_uuid(r.get(0))?,
        broadcast_id: parse_uuid(r.get(1))?,
        subscriber_id: r
            .get::<Option<String>, _>(2)
            .map(|s| parse_uuid(&s))
            .transpose()?,
        address: r.get::<Option<Vec<u8>>, _>(3).map(SealedContact),
        language: r.get(4),
        state: RecipientState::parse(&state)
            .ok_or_else(|| StoreError::Backend(format!("unknown recipient state {state:?}")))?,
        attempts: r.get(6),
    })
}

const RECIPIENT_COLUMNS: &str =
    "id, broadcast_id, subscriber_id, address, language, state, attempts";

#[async_trait::async_trait]
impl tocsin_store::Broadcasts for crate::SqliteStore {
    async fn get_broadcast(&self, id: Uuid) -> Result<Broadcast> {
        let b: String = sqlx::query_scalar("SELECT body FROM broadcasts WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        from_body(&b)
    }

    async fn list_broadcasts(&self, page: PageRequest) -> Result<Page<Broadcast>> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT body FROM broadcasts");
        if let Some(c) = page.after {
            let at = ts(&c.require_time()?);
            qb.push(" WHERE (created_at < ")
                .push_bind(at.clone())
                .push(" OR (created_at = ")
                .push_bind(at)
                .push(" AND id < ")
                .push_bind(c.id.to_string())
                .push("))");
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(page.limit) + 1);
        let rows: Vec<String> = qb
            .build_query_scalar()
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        let items = rows
            .iter()
            .map(|b| from_body(b))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page.limit, |b| {
            Cursor::by_time(b.created_at, b.id)
        }))
    }

    async fn count_broadcasts(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM broadcasts")
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        Ok(n.max(0) as u64)
    }

    async fn active_broadcasts(&self) -> Result<Vec<Broadcast>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM broadcasts WHERE state IN ('approved', 'sending') \
             ORDER BY created_at, id",
        )
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(|b| from_body(b)).collect()
    }

    async fn recipient_counts(&self, broadcast_id: Uuid) -> Result<RecipientCounts> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) FROM broadcast_recipients WHERE broadcast_id = ? GROUP BY state",
        )
        .bind(broadcast_id.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        let mut c = RecipientCounts::default();
        for r in rows {
            let s: String = r.get(0);
            let n: i64 = r.get(1);
            if let Some(st) = RecipientState::parse(&s) {
                c.add(st, n as u64);
            }
        }
        Ok(c)
    }

    async fn broadcast_subscribers(&self, broadcast_id: Uuid) -> Result<Vec<(Uuid, String)>> {
        let rows = sqlx::query(
            "SELECT subscriber_id, language FROM broadcast_recipients \
             WHERE broadcast_id = ? AND subscriber_id IS NOT NULL \
             AND state IN ('sending', 'sent', 'delivered')",
        )
        .bind(broadcast_id.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok((parse_uuid(r.get(0))?, r.get(1))))
            .collect()
    }

    async fn claim_recipients(
        &self,
        broadcast_id: Uuid,
        limit: u32,
        lease_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<BroadcastRecipient>> {
        let mut conn = self.jobs_conn().await?;
        let rows = sqlx::query(&format!(
            "UPDATE broadcast_recipients SET state='sending', attempts=attempts+1, \
             lease_until=?, updated_at=? WHERE rowid IN (SELECT rowid FROM broadcast_recipients \
             WHERE broadcast_id=? AND (state='queued' OR (state='sending' AND lease_until < ?)) \
             ORDER BY rowid LIMIT ?) RETURNING {RECIPIENT_COLUMNS}"
        ))
        .bind(ts(&(now + chrono::Duration::seconds(lease_secs))))
        .bind(ts(&now))
        .bind(broadcast_id.to_string())
        .bind(ts(&now))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
        rows.iter().map(recipient).collect()
    }

    async fn settle_recipient(&self, id: Uuid, outcome: RecipientOutcome) -> Result<()> {
        let mut conn = self.jobs_conn().await?;
        let now = ts(&tocsin_domain::time::now());
        let q = match &outcome {
            RecipientOutcome::Sent {
                gateway,
                provider_key,
            } => sqlx::query(
                "UPDATE broadcast_recipients SET state='sent', gateway=?, provider_key=?, \
                 lease_until=NULL, updated_at=? WHERE id=? AND state='sending'",
            )
            .bind(gateway.clone())
            .bind(provider_key.clone()),
            RecipientOutcome::Failed => sqlx::query(
                "UPDATE broadcast_recipients SET state='failed', lease_until=NULL, updated_at=? \
                 WHERE id=? AND state='sending'",
            ),
            RecipientOutcome::Skipped => sqlx::query(
                "UPDATE broadcast_recipients SET state='skipped', lease_until=NULL, updated_at=? \
                 WHERE id=? AND state='sending'",
            ),
            RecipientOutcome::Retry => sqlx::query(
                "UPDATE broadcast_recipients SET state='queued', lease_until=NULL, updated_at=? \
                 WHERE id=? AND state='sending'",
            ),
        };
        q.bind(now)
            .bind(id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn recipient_report(
        &self,
        message_id: Option<Uuid>,
        provider_key: &str,
        delivered: bool,
    ) -> Result<bool> {
        let mut conn = self.jobs_conn().await?;
        let done = sqlx::query(
            "UPDATE broadcast_recipients SET state=?, lease_until=NULL, updated_at=? \
             WHERE (id=? OR provider_key=?) AND state IN ('sending', 'sent', 'delivered')",
        )
        .bind(if delivered { "delivered" } else { "failed" })
        .bind(ts(&tocsin_domain::time::now()))
        .bind(message_id.map(|m| m.to_string()))
        .bind(provider_key)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn stop_switch(&self) -> Result<Option<StopSwitch>> {
        let v: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(STOP_SWITCH_KEY)
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?;
        v.map(|v| {
            serde_json::from_str(&v)
                .map_err(|e| StoreError::Backend(format!("corrupt stop switch: {e}")))
        })
        .transpose()
    }
}
