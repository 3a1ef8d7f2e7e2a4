//! Broadcasts on PostgreSQL: the domain's JSON in `broadcasts.body` beside its state;
//! recipients in `broadcast_recipients`, written once at approval (subscribers in one
//! `INSERT ... SELECT FROM UNNEST`) and then moved by the sender through the pool: each claim
//! (`FOR UPDATE SKIP LOCKED`) and each outcome one statement, committed before it returns.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgConnection;
use sqlx::{Postgres, QueryBuilder, Row};
use tocsin_domain::page::Cursor;
use tocsin_domain::{
    Broadcast, Page, PageRequest, RecipientCounts, RecipientState, SealedContact, StopSwitch,
};
use tocsin_store::broadcasts::STOP_SWITCH_KEY;
use tocsin_store::{BroadcastRecipient, BroadcastStep, RecipientOutcome, Result, StoreError};
use uuid::Uuid;

use crate::db_err;

fn body(b: &Broadcast) -> Result<String> {
    serde_json::to_string(b).map_err(|e| StoreError::Backend(e.to_string()))
}

fn from_body(s: &str) -> Result<Broadcast> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("corrupt broadcast body: {e}")))
}

/// Apply one broadcast step inside the op's savepoint.
pub(crate) async fn apply(conn: &mut PgConnection, step: &BroadcastStep) -> Result<()> {
    match step {
        BroadcastStep::Create(b) => {
            sqlx::query(
                "INSERT INTO broadcasts (id, state, mode, version, created_at, body) \
                 VALUES ($1,$2,$3,$4,$5,$6::jsonb)",
            )
            .bind(b.id)
            .bind(b.state.as_str())
            .bind(b.mode.as_str())
            .bind(b.version)
            .bind(b.created_at)
            .bind(body(b)?)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        BroadcastStep::Update(b) => {
            let done = sqlx::query(
                "UPDATE broadcasts SET state=$1, version=$2, body=$3::jsonb WHERE id=$4 AND version=$5",
            )
            .bind(b.state.as_str())
            .bind(b.version)
            .bind(body(b)?)
            .bind(b.id)
            .bind(b.version - 1)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM broadcasts WHERE id = $1")
                .bind(b.id)
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
            let any: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM broadcast_recipients WHERE broadcast_id = $1 LIMIT 1",
            )
            .bind(broadcast_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
            if any.is_some() {
                return Err(StoreError::Conflict(
                    "the broadcast's recipients are already queued".into(),
                ));
            }
            let now = tocsin_domain::time::now();
            let (live, test): (Vec<_>, Vec<_>) =
                recipients.iter().partition(|r| r.subscriber_id.is_some());
            let ids: Vec<Uuid> = live.iter().map(|r| r.id).collect();
            let subs: Vec<Uuid> = live.iter().filter_map(|r| r.subscriber_id).collect();
            let langs: Vec<String> = live.iter().map(|r| r.language.clone()).collect();
            sqlx::query(
                "INSERT INTO broadcast_recipients (id, broadcast_id, subscriber_id, language, \
                 state, updated_at) SELECT i, $1, s, l, 'queued', $2 \
                 FROM UNNEST($3::uuid[], $4::uuid[], $5::text[]) AS t(i, s, l)",
            )
            .bind(broadcast_id)
            .bind(now)
            .bind(&ids)
            .bind(&subs)
            .bind(&langs)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            for r in test {
                sqlx::query(
                    "INSERT INTO broadcast_recipients (id, broadcast_id, address, language, \
                     state, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5)",
                )
                .bind(r.id)
                .bind(broadcast_id)
                .bind(r.address.as_ref().map(|a| a.0.clone()))
                .bind(&r.language)
                .bind(now)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            }
            Ok(())
        }
        BroadcastStep::SkipQueued(id) => {
            sqlx::query(
                "UPDATE broadcast_recipients SET state='skipped', updated_at=$1 \
                 WHERE broadcast_id=$2 AND state='queued'",
            )
            .bind(tocsin_domain::time::now())
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        BroadcastStep::SetStop(s) => {
            let v = serde_json::to_string(s).map_err(|e| StoreError::Backend(e.to_string()))?;
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) \
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

fn recipient(r: &sqlx::postgres::PgRow) -> Result<BroadcastRecipient> {
    let state: String = r.get(5);
    Ok(BroadcastRecipient {
        id: r.get(0),
        broadcast_id: r.get(1),
        subscriber_id: r.get(2),
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
impl tocsin_store::Broadcasts for crate::PostgresStore {
    async fn get_broadcast(&self, id: Uuid) -> Result<Broadcast> {
        let b: String = sqlx::query_scalar("SELECT body::text FROM broadcasts WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        from_body(&b)
    }

    async fn list_broadcasts(&self, page: PageRequest) -> Result<Page<Broadcast>> {
        let mut qb = QueryBuilder::<Postgres>::new("SELECT body::text FROM broadcasts");
        if let Some(c) = page.after {
            qb.push(" WHERE (created_at, id) < (")
                .push_bind(c.require_time()?)
                .push(", ")
                .push_bind(c.id)
                .push(")");
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(page.limit) + 1);
        let rows: Vec<String> = qb
            .build_query_scalar()
            .fetch_all(&self.pool)
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
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(n.max(0) as u64)
    }

    async fn active_broadcasts(&self) -> Result<Vec<Broadcast>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT body::text FROM broadcasts WHERE state IN ('approved', 'sending') \
             ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(|b| from_body(b)).collect()
    }

    async fn recipient_counts(&self, broadcast_id: Uuid) -> Result<RecipientCounts> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) FROM broadcast_recipients WHERE broadcast_id = $1 GROUP BY state",
        )
        .bind(broadcast_id)
        .fetch_all(&self.pool)
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
             WHERE broadcast_id = $1 AND subscriber_id IS NOT NULL \
             AND state IN ('sending', 'sent', 'delivered')",
        )
        .bind(broadcast_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn claim_recipients(
        &self,
        broadcast_id: Uuid,
        limit: u32,
        lease_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<BroadcastRecipient>> {
        let rows = sqlx::query(&format!(
            "UPDATE broadcast_recipients SET state='sending', attempts=attempts+1, \
             lease_until=$1, updated_at=$2 WHERE id IN (SELECT id FROM broadcast_recipients \
             WHERE broadcast_id=$3 AND (state='queued' OR (state='sending' AND lease_until < $2)) \
             ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING {RECIPIENT_COLUMNS}"
        ))
        .bind(now + chrono::Duration::seconds(lease_secs))
        .bind(now)
        .bind(broadcast_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(recipient).collect()
    }

    async fn settle_recipient(&self, id: Uuid, outcome: RecipientOutcome) -> Result<()> {
        let now = tocsin_domain::time::now();
        let q = match &outcome {
            RecipientOutcome::Sent {
                gateway,
                provider_key,
            } => sqlx::query(
                "UPDATE broadcast_recipients SET state='sent', gateway=$1, provider_key=$2, \
                 lease_until=NULL, updated_at=$3 WHERE id=$4 AND state='sending'",
            )
            .bind(gateway.clone())
            .bind(provider_key.clone()),
            RecipientOutcome::Failed => sqlx::query(
                "UPDATE broadcast_recipients SET state='failed', lease_until=NULL, updated_at=$1 \
                 WHERE id=$2 AND state='sending'",
            ),
            RecipientOutcome::Skipped => sqlx::query(
                "UPDATE broadcast_recipients SET state='skipped', lease_until=NULL, updated_at=$1 \
                 WHERE id=$2 AND state='sending'",
            ),
            RecipientOutcome::Retry => sqlx::query(
                "UPDATE broadcast_recipients SET state='queued', lease_until=NULL, updated_at=$1 \
                 WHERE id=$2 AND state='sending'",
            ),
        };
        q.bind(now)
            .bind(id)
            .execute(&self.pool)
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
        let done = sqlx::query(
            "UPDATE broadcast_recipients SET state=$1, lease_until=NULL, updated_at=$2 \
             WHERE (id=$3 OR provider_key=$4) AND state IN ('sending', 'sent', 'delivered')",
        )
        .bind(if delivered { "delivered" } else { "failed" })
        .bind(tocsin_domain::time::now())
        .bind(message_id)
        .bind(provider_key)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn stop_switch(&self) -> Result<Option<StopSwitch>> {
        let v: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(STOP_SWITCH_KEY)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        v.map(|v| {
            serde_json::from_str(&v)
                .map_err(|e| StoreError::Backend(format!("corrupt stop switch: {e}")))
        })
        .transpose()
    }
}
