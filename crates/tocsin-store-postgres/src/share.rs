//! Received records on PostgreSQL (`received_records`) and the retraction of a received
//! incident.

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::Row;
use std::collections::HashMap;
use tocsin_domain::{Received, Tlp};
use tocsin_store::{Result, ShareStep, StoreError, MAX_RECEIVED_LOOKUP};
use uuid::Uuid;

use crate::db_err;

const COLS: &str =
    "record_id, kind, origin, original_id, format, modified, tlp, received_at, retracted_at";

fn received(r: &PgRow) -> Result<Received> {
    Ok(Received {
        record_id: r.try_get(0).map_err(db_err)?,
        kind: r.try_get(1).map_err(db_err)?,
        origin: r.try_get(2).map_err(db_err)?,
        original_id: r.try_get(3).map_err(db_err)?,
        format: r.try_get(4).map_err(db_err)?,
        modified: r.try_get(5).map_err(db_err)?,
        tlp: Tlp::from_rank(r.try_get::<i16, _>(6).map_err(db_err)?.into())
            .ok_or_else(|| StoreError::Backend("corrupt TLP".into()))?,
        received_at: r.try_get(7).map_err(db_err)?,
        retracted_at: r.try_get(8).map_err(db_err)?,
    })
}

/// Apply one step inside the op's transaction.
pub(crate) async fn apply(conn: &mut PgConnection, step: &ShareStep) -> Result<()> {
    match step {
        ShareStep::Receive(r) => {
            sqlx::query(&format!(
                "INSERT INTO received_records ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) \
                 ON CONFLICT (record_id) DO UPDATE SET modified = excluded.modified, \
                 tlp = excluded.tlp, retracted_at = excluded.retracted_at \
                 WHERE received_records.origin = excluded.origin \
                 AND received_records.original_id = excluded.original_id"
            ))
            .bind(r.record_id)
            .bind(&r.kind)
            .bind(&r.origin)
            .bind(&r.original_id)
            .bind(&r.format)
            .bind(r.modified)
            .bind(r.tlp.rank())
            .bind(r.received_at)
            .bind(r.retracted_at)
            .execute(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    StoreError::Conflict("that record was received meanwhile".into())
                }
                e => db_err(e),
            })?;
            Ok(())
        }
        ShareStep::Retract {
            incident_id,
            at,
            version,
        } => {
            let n = sqlx::query(
                "UPDATE incidents SET retracted = true, updated_at = $1, version = $2 WHERE id = $3",
            )
            .bind(at)
            .bind(version)
            .bind(incident_id)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if n.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl tocsin_store::Sharing for crate::PostgresStore {
    async fn received(&self, id: Uuid) -> Result<Option<Received>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM received_records WHERE record_id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(received).transpose()
    }

    async fn received_by_original(
        &self,
        origin: &str,
        original_ids: &[String],
    ) -> Result<HashMap<String, Received>> {
        let mut out = HashMap::new();
        if original_ids.is_empty() {
            return Ok(out);
        }
        if original_ids.len() > MAX_RECEIVED_LOOKUP {
            return Err(tocsin_domain::DomainError::invalid(
                "original_ids",
                format!("at most {MAX_RECEIVED_LOOKUP} at a time"),
            )
            .into());
        }
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM received_records WHERE origin = $1 AND original_id = ANY($2)"
        ))
        .bind(origin)
        .bind(original_ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        for r in &rows {
            let r = received(r)?;
            out.insert(r.original_id.clone(), r);
        }
        Ok(out)
    }

    async fn instance_id(&self) -> Result<Uuid> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'instance_id'")
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Uuid::parse_str(&v.ok_or_else(|| StoreError::Backend("no instance id".into()))?)
            .map_err(|_| StoreError::Backend("corrupt instance id".into()))
    }
}
