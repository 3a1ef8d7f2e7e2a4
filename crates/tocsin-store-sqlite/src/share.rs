//! Received records on SQLite (`received_records`) and the retraction of a received incident.

use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Row, Sqlite};
use std::collections::HashMap;
use tocsin_domain::time::format as ts;
use tocsin_domain::{Received, Tlp};
use tocsin_store::{Result, ShareStep, StoreError, MAX_RECEIVED_LOOKUP};
use uuid::Uuid;

use crate::db_err;
use crate::rows::{corrupt, parse_ts, parse_uuid};

const COLS: &str =
    "record_id, kind, origin, original_id, format, modified, tlp, received_at, retracted_at";

fn received(r: &sqlx::sqlite::SqliteRow) -> Result<Received> {
    let retracted: Option<String> = r.get(8);
    Ok(Received {
        record_id: parse_uuid(r.get(0))?,
        kind: r.get(1),
        origin: r.get(2),
        original_id: r.get(3),
        format: r.get(4),
        modified: parse_ts(r.get(5))?,
        tlp: Tlp::from_rank(r.get::<i64, _>(6)).ok_or_else(|| corrupt("TLP rank"))?,
        received_at: parse_ts(r.get(7))?,
        retracted_at: retracted.as_deref().map(parse_ts).transpose()?,
    })
}

/// Apply one step inside the op's savepoint.
pub(crate) async fn apply(conn: &mut SqliteConnection, step: &ShareStep) -> Result<()> {
    match step {
        ShareStep::Receive(r) => {
            sqlx::query(&format!(
                "INSERT INTO received_records ({COLS}) VALUES (?,?,?,?,?,?,?,?,?) \
                 ON CONFLICT (record_id) DO UPDATE SET modified = excluded.modified, \
                 tlp = excluded.tlp, retracted_at = excluded.retracted_at \
                 WHERE received_records.origin = excluded.origin \
                 AND received_records.original_id = excluded.original_id"
            ))
            .bind(r.record_id.to_string())
            .bind(&r.kind)
            .bind(&r.origin)
            .bind(&r.original_id)
            .bind(&r.format)
            .bind(ts(&r.modified))
            .bind(r.tlp.rank())
            .bind(ts(&r.received_at))
            .bind(r.retracted_at.as_ref().map(ts))
            .execute(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.message().contains("UNIQUE") => {
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
                "UPDATE incidents SET retracted = 1, updated_at = ?, version = ? WHERE id = ?",
            )
            .bind(ts(at))
            .bind(version)
            .bind(incident_id.to_string())
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
impl tocsin_store::Sharing for crate::SqliteStore {
    async fn received(&self, id: Uuid) -> Result<Option<Received>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM received_records WHERE record_id = ?"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
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
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {COLS} FROM received_records WHERE origin = "
        ));
        qb.push_bind(origin.to_string())
            .push(" AND original_id IN (");
        let mut sep = qb.separated(", ");
        for id in original_ids {
            sep.push_bind(id.clone());
        }
        qb.push(")");
        for r in qb.build().fetch_all(&self.read).await.map_err(db_err)? {
            let r = received(&r)?;
            out.insert(r.original_id.clone(), r);
        }
        Ok(out)
    }

    async fn instance_id(&self) -> Result<Uuid> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'instance_id'")
                .fetch_optional(&self.read)
                .await
                .map_err(db_err)?;
        parse_uuid(&v.ok_or_else(|| corrupt("instance id"))?)
    }
}
