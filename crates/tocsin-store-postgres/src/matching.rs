//! Candidates for report matching on PostgreSQL: incidents by the date index, reports by the
//! time-of-receipt index, each narrowed by box, country and label.

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder};
use tocsin_domain::Incident;
use tocsin_store::matching::MAX_CANDIDATES;
use tocsin_store::{IncidentNear, Matching, NearReport, ReportNear, Result, StoredSuggestions};
use uuid::Uuid;

use crate::rows::{col, incident_from_row, report_from_row, INCIDENT_COLS, REPORT_SELECT};
use crate::{db_err, PostgresStore};

#[async_trait]
impl Matching for PostgresStore {
    async fn incidents_near(&self, q: &IncidentNear) -> Result<Vec<Incident>> {
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "SELECT {INCIDENT_COLS} FROM incidents WHERE NOT retracted AND event_date BETWEEN "
        ));
        qb.push_bind(q.from)
            .push(" AND ")
            .push_bind(q.to)
            .push(" AND tlp <= ")
            .push_bind(q.max_tlp.rank());
        if let Some(b) = q.bbox {
            qb.push(" AND longitude BETWEEN ")
                .push_bind(b.min_lon)
                .push(" AND ")
                .push_bind(b.max_lon)
                .push(" AND latitude BETWEEN ")
                .push_bind(b.min_lat)
                .push(" AND ")
                .push_bind(b.max_lat);
        }
        if let Some(c) = &q.country {
            qb.push(" AND country = ").push_bind(c.code().to_string());
        }
        qb.push(" ORDER BY event_date DESC, id DESC LIMIT ")
            .push_bind(i64::from(q.limit.min(MAX_CANDIDATES)));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(incident_from_row).collect()
    }

    async fn reports_near(&self, q: &ReportNear) -> Result<Vec<NearReport>> {
        // The report columns, then the source id (column 15), never shown.
        let mut qb = QueryBuilder::<Postgres>::new(REPORT_SELECT.replacen(
            " FROM reports r",
            ", r.source_id FROM reports r",
            1,
        ));
        qb.push(" WHERE r.received_at BETWEEN ")
            .push_bind(q.from)
            .push(" AND ")
            .push_bind(q.to)
            .push(" AND r.tlp <= ")
            .push_bind(q.max_tlp.rank());
        if let Some(b) = q.bbox {
            qb.push(" AND ((r.longitude BETWEEN ")
                .push_bind(b.min_lon)
                .push(" AND ")
                .push_bind(b.max_lon)
                .push(" AND r.latitude BETWEEN ")
                .push_bind(b.min_lat)
                .push(" AND ")
                .push_bind(b.max_lat)
                .push(")");
            if q.unplaced {
                qb.push(" OR r.latitude IS NULL");
            }
            qb.push(")");
        }
        if let Some(c) = &q.country {
            qb.push(" AND (r.country = ")
                .push_bind(c.code().to_string())
                .push(" OR r.country IS NULL)");
        }
        if let Some(id) = q.exclude {
            qb.push(" AND r.id <> ").push_bind(id);
        }
        qb.push(" ORDER BY r.received_at DESC, r.id DESC LIMIT ")
            .push_bind(i64::from(q.limit.min(MAX_CANDIDATES)));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(NearReport {
                    report: report_from_row(r)?,
                    source_id: col(r, 15)?,
                })
            })
            .collect()
    }

    async fn report_sources(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, Option<Uuid>)>> {
        let rows = sqlx::query("SELECT id, source_id FROM reports WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
    }

    async fn stored_suggestions(&self, ids: &[Uuid]) -> Result<Vec<StoredSuggestions>> {
        let rows = sqlx::query(
            "SELECT report_id, computed_at, matches FROM report_suggestions \
             WHERE report_id = ANY($1)",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(StoredSuggestions {
                    report_id: col(r, 0)?,
                    computed_at: col(r, 1)?,
                    matches: col(r, 2)?,
                })
            })
            .collect()
    }
}
