//! The verification desk on SQLite: incidents written whole by the application layer, the
//! append-only histories of verification statuses and source grades, checklist ticks and
//! report credibility. Track records are derived on read from the incidents' linked reports.

use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Row, Sqlite};
use std::collections::HashMap;
use tocsin_domain::time::format as ts;
use tocsin_domain::{
    Reliability, ReliabilityEntry, TaskTick, Tlp, TrackRecord, VerificationEntry,
    VerificationStatus,
};
use tocsin_store::{Result, StoreError, VerificationStep};
use uuid::Uuid;

use crate::db_err;
use crate::rows::{parse_ts, parse_uuid};

/// Apply one step inside the op's savepoint.
pub(crate) async fn apply(conn: &mut SqliteConnection, step: &VerificationStep) -> Result<()> {
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
            let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM incidents WHERE id = ?")
                .bind(incident.id.to_string())
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
                 reason, at) VALUES (?,?,?,?,?,?)",
            )
            .bind(e.incident_id.to_string())
            .bind(e.from.as_str())
            .bind(e.to.as_str())
            .bind(&e.by)
            .bind(&e.reason)
            .bind(ts(&e.at))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        VerificationStep::Tick(t) => {
            sqlx::query(
                "INSERT INTO verification_tasks (incident_id, task, by_name, note, at) \
                 VALUES (?,?,?,?,?)",
            )
            .bind(t.incident_id.to_string())
            .bind(&t.task)
            .bind(&t.by)
            .bind(&t.note)
            .bind(ts(&t.at))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        VerificationStep::SetReliability(e) => {
            let n =
                sqlx::query("UPDATE sources SET reliability = ? WHERE id = ? AND reliability = ?")
                    .bind(e.to.as_str())
                    .bind(e.source_id.to_string())
                    .bind(e.from.as_str())
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            if n.rows_affected() != 1 {
                let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM sources WHERE id = ?")
                    .bind(e.source_id.to_string())
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
                 reason, at) VALUES (?,?,?,?,?,?)",
            )
            .bind(e.source_id.to_string())
            .bind(e.from.as_str())
            .bind(e.to.as_str())
            .bind(&e.by)
            .bind(&e.reason)
            .bind(ts(&e.at))
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
                 VALUES (?,?,?,?) ON CONFLICT (report_id) DO UPDATE SET \
                 credibility = excluded.credibility, by_name = excluded.by_name, at = excluded.at",
            )
            .bind(report_id.to_string())
            .bind(credibility)
            .bind(by)
            .bind(ts(at))
            .execute(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.message().contains("FOREIGN KEY") => {
                    StoreError::NotFound
                }
                e => db_err(e),
            })?;
            Ok(())
        }
    }
}

fn in_list<'a>(qb: &mut QueryBuilder<'a, Sqlite>, ids: &'a [Uuid]) {
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(id.to_string());
    }
    sep.push_unseparated(")");
}

#[async_trait::async_trait]
impl tocsin_store::Verification for crate::SqliteStore {
    async fn verification_history(&self, incident_id: Uuid) -> Result<Vec<VerificationEntry>> {
        let rows = sqlx::query(
            "SELECT from_status, to_status, by_name, reason, at FROM verification_history \
             WHERE incident_id = ? ORDER BY seq",
        )
        .bind(incident_id.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(VerificationEntry {
                    incident_id,
                    from: VerificationStatus::parse_lenient(r.get(0))?,
                    to: VerificationStatus::parse_lenient(r.get(1))?,
                    by: r.get(2),
                    reason: r.get(3),
                    at: parse_ts(r.get(4))?,
                })
            })
            .collect()
    }

    async fn verification_ticks(&self, incident_id: Uuid) -> Result<Vec<TaskTick>> {
        let rows = sqlx::query(
            "SELECT task, by_name, note, at FROM verification_tasks WHERE incident_id = ? \
             ORDER BY at, task",
        )
        .bind(incident_id.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(TaskTick {
                    incident_id,
                    task: r.get(0),
                    by: r.get(1),
                    note: r.get(2),
                    at: parse_ts(r.get(3))?,
                })
            })
            .collect()
    }

    async fn reliability_history(&self, source_id: Uuid) -> Result<Vec<ReliabilityEntry>> {
        let rows = sqlx::query(
            "SELECT from_grade, to_grade, by_name, reason, at FROM reliability_history \
             WHERE source_id = ? ORDER BY seq",
        )
        .bind(source_id.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(ReliabilityEntry {
                    source_id,
                    from: Reliability::parse(r.get(0))?,
                    to: Reliability::parse(r.get(1))?,
                    by: r.get(2),
                    reason: r.get(3),
                    at: parse_ts(r.get(4))?,
                })
            })
            .collect()
    }

    async fn report_credibilities(&self, report_ids: &[Uuid]) -> Result<HashMap<Uuid, i16>> {
        let mut out = HashMap::new();
        for chunk in report_ids.chunks(500) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "SELECT report_id, credibility FROM report_credibility WHERE report_id IN (",
            );
            in_list(&mut qb, chunk);
            for r in qb.build().fetch_all(&self.read).await.map_err(db_err)? {
                out.insert(parse_uuid(r.get(0))?, r.get::<i16, _>(1));
            }
        }
        Ok(out)
    }

    async fn report_source_ids(
        &self,
        report_ids: &[Uuid],
        max_tlp: Tlp,
    ) -> Result<HashMap<Uuid, Option<Uuid>>> {
        let mut out = HashMap::new();
        for chunk in report_ids.chunks(500) {
            let mut qb =
                QueryBuilder::<Sqlite>::new("SELECT id, source_id FROM reports WHERE tlp <= ");
            qb.push_bind(max_tlp.rank());
            qb.push(" AND id IN (");
            in_list(&mut qb, chunk);
            for r in qb.build().fetch_all(&self.read).await.map_err(db_err)? {
                let source = r
                    .get::<Option<String>, _>(1)
                    .map(|s| parse_uuid(&s))
                    .transpose()?;
                out.insert(parse_uuid(r.get(0))?, source);
            }
        }
        Ok(out)
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
        for chunk in source_ids.chunks(500) {
            // The counts the triggers of migration 0026 keep per source and rank: a few rows
            // a source, whatever the number of reports and incidents.
            let mut qb = QueryBuilder::<Sqlite>::new("SELECT source_id, SUM(n * (tlp <= ");
            qb.push_bind(max_tlp.rank());
            qb.push(")), SUM(n * (confirmed_rank <= ");
            qb.push_bind(max_tlp.rank());
            qb.push(")), SUM(n * (refuted_rank <= ");
            qb.push_bind(max_tlp.rank());
            qb.push(")) FROM source_track WHERE source_id IN (");
            in_list(&mut qb, chunk);
            qb.push(" GROUP BY source_id");
            for r in qb.build().fetch_all(&self.read).await.map_err(db_err)? {
                let id = parse_uuid(r.get(0))?;
                let n = |i: usize| r.get::<Option<i64>, _>(i).unwrap_or(0).max(0) as u64;
                out.insert(
                    id,
                    TrackRecord {
                        total: n(1),
                        confirmed: n(2),
                        refuted: n(3),
                    },
                );
            }
        }
        Ok(out)
    }
}
