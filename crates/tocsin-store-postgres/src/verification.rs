//! The verification desk on PostgreSQL: incidents written whole by the application layer, the
//! append-only histories of verification statuses and source grades, checklist ticks and
//! report credibility. Track records are derived on read from the incidents' linked reports.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgConnection;
use sqlx::Row;
use std::collections::HashMap;
use tocsin_domain::{
    Reliability, ReliabilityEntry, TaskTick, Tlp, TrackRecord, VerificationEntry,
    VerificationStatus,
};
use tocsin_store::{Result, StoreError, VerificationStep};
use uuid::Uuid;

use crate::db_err;

/// Apply one step inside the op's transaction.
pub(crate) async fn apply(conn: &mut PgConnection, step: &VerificationStep) -> Result<()> {
    match step {
        VerificationStep::CreateIncident(i) => {
            crate::insert_incidents(conn, std::slice::from_ref(&**i), false).await?;
            Ok(())
        }
        VerificationStep::CreateIncidents(v) => {
            crate::insert_incidents(conn, v, false).await?;
            Ok(())
        }
        VerificationStep::ReplaceIncident {
            incident,
            expected_version,
        } => {
            if crate::replace_incident(conn, incident, *expected_version).await? == 1 {
                return Ok(());
            }
            let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM incidents WHERE id = $1")
                .bind(incident.id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
            match exists {
                None => Err(StoreError::NotFound),
                Some(_) => Err(StoreError::Conflict(
                    "the incident changed meanwhile; reload it and try again".into(),
                )),
            }
        }
        VerificationStep::Record(e) => {
            sqlx::query(
                "INSERT INTO verification_history (incident_id, from_status, to_status, by_name, \
                 reason, at) VALUES ($1,$2,$3,$4,$5,$6)",
            )
            .bind(e.incident_id)
            .bind(e.from.as_str())
            .bind(e.to.as_str())
            .bind(&e.by)
            .bind(&e.reason)
            .bind(e.at)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        VerificationStep::Tick(t) => {
            sqlx::query(
                "INSERT INTO verification_tasks (incident_id, task, by_name, note, at) \
                 VALUES ($1,$2,$3,$4,$5)",
            )
            .bind(t.incident_id)
            .bind(&t.task)
            .bind(&t.by)
            .bind(&t.note)
            .bind(t.at)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        VerificationStep::SetReliability(e) => {
            let n = sqlx::query(
                "UPDATE sources SET reliability = $1 WHERE id = $2 AND reliability = $3",
            )
            .bind(e.to.as_str())
            .bind(e.source_id)
            .bind(e.from.as_str())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if n.rows_affected() != 1 {
                let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM sources WHERE id = $1")
                    .bind(e.source_id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_err)?;
                return Err(match exists {
                    None => StoreError::NotFound,
                    Some(_) => StoreError::Conflict(
                        "the source's grade changed meanwhile; reload it and try again".into(),
                    ),
                });
            }
            sqlx::query(
                "INSERT INTO reliability_history (source_id, from_grade, to_grade, by_name, \
                 reason, at) VALUES ($1,$2,$3,$4,$5,$6)",
            )
            .bind(e.source_id)
            .bind(e.from.as_str())
            .bind(e.to.as_str())
            .bind(&e.by)
            .bind(&e.reason)
            .bind(e.at)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        VerificationStep::SetReportCredibility {
            report_id,
            credibility,
            by,
            at,
        } => {
            sqlx::query(
                "INSERT INTO report_credibility (report_id, credibility, by_name, at) \
                 VALUES ($1,$2,$3,$4) ON CONFLICT (report_id) DO UPDATE SET \
                 credibility = excluded.credibility, by_name = excluded.by_name, at = excluded.at",
            )
            .bind(report_id)
            .bind(credibility)
            .bind(by)
            .bind(at)
            .execute(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::NotFound,
                e => db_err(e),
            })?;
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl tocsin_store::Verification for crate::PostgresStore {
    async fn verification_history(&self, incident_id: Uuid) -> Result<Vec<VerificationEntry>> {
        let rows = sqlx::query(
            "SELECT from_status, to_status, by_name, reason, at FROM verification_history \
             WHERE incident_id = $1 ORDER BY seq",
        )
        .bind(incident_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(VerificationEntry {
                    incident_id,
                    from: VerificationStatus::parse_lenient(r.get::<&str, _>(0))?,
                    to: VerificationStatus::parse_lenient(r.get::<&str, _>(1))?,
                    by: r.get(2),
                    reason: r.get(3),
                    at: r.get::<DateTime<Utc>, _>(4),
                })
            })
            .collect()
    }

    async fn verification_ticks(&self, incident_id: Uuid) -> Result<Vec<TaskTick>> {
        let rows = sqlx::query(
            "SELECT task, by_name, note, at FROM verification_tasks WHERE incident_id = $1 \
             ORDER BY at, task",
        )
        .bind(incident_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .iter()
            .map(|r| TaskTick {
                incident_id,
                task: r.get(0),
                by: r.get(1),
                note: r.get(2),
                at: r.get::<DateTime<Utc>, _>(3),
            })
            .collect())
    }

    async fn reliability_history(&self, source_id: Uuid) -> Result<Vec<ReliabilityEntry>> {
        let rows = sqlx::query(
            "SELECT from_grade, to_grade, by_name, reason, at FROM reliability_history \
             WHERE source_id = $1 ORDER BY seq",
        )
        .bind(source_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(ReliabilityEntry {
                    source_id,
                    from: Reliability::parse(r.get::<&str, _>(0))?,
                    to: Reliability::parse(r.get::<&str, _>(1))?,
                    by: r.get(2),
                    reason: r.get(3),
                    at: r.get::<DateTime<Utc>, _>(4),
                })
            })
            .collect()
    }

    async fn report_credibilities(&self, report_ids: &[Uuid]) -> Result<HashMap<Uuid, i16>> {
        let rows = sqlx::query(
            "SELECT report_id, credibility FROM report_credibility WHERE report_id = ANY($1)",
        )
        .bind(report_ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<Uuid, _>(0), r.get::<i16, _>(1)))
            .collect())
    }

    async fn report_source_ids(
        &self,
        report_ids: &[Uuid],
        max_tlp: Tlp,
    ) -> Result<HashMap<Uuid, Option<Uuid>>> {
        let rows =
            sqlx::query("SELECT id, source_id FROM reports WHERE id = ANY($1) AND tlp <= $2")
                .bind(report_ids)
                .bind(max_tlp.rank())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<Uuid, _>(0), r.get::<Option<Uuid>, _>(1)))
            .collect())
    }

    async fn track_records(
        &self,
        source_ids: &[Uuid],
        max_tlp: Tlp,
    ) -> Result<HashMap<Uuid, TrackRecord>> {
        let mut out: HashMap<Uuid, TrackRecord> = source_ids
            .iter()
            .map(|id| (*id, TrackRecord::default()))
            .collect();
        // The counts the triggers of migration 0025 keep per source and rank: a few rows a
        // source, whatever the number of reports and incidents.
        let rows = sqlx::query(
            "SELECT source_id, \
             COALESCE(SUM(n) FILTER (WHERE tlp <= $1), 0)::bigint, \
             COALESCE(SUM(n) FILTER (WHERE confirmed_rank <= $1), 0)::bigint, \
             COALESCE(SUM(n) FILTER (WHERE refuted_rank <= $1), 0)::bigint \
             FROM source_track WHERE source_id = ANY($2) GROUP BY source_id",
        )
        .bind(max_tlp.rank())
        .bind(source_ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        for r in rows {
            let n = |i: usize| r.get::<i64, _>(i).max(0) as u64;
            out.insert(
                r.get::<Uuid, _>(0),
                TrackRecord {
                    total: n(1),
                    confirmed: n(2),
                    refuted: n(3),
                },
            );
        }
        Ok(out)
    }
}
