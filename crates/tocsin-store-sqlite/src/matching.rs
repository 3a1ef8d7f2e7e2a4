//! Candidates for report matching on SQLite: incidents by the date index, reports by the
//! time-of-receipt index, each narrowed by box, country and label.

use async_trait::async_trait;
use sqlx::{QueryBuilder, Row, Sqlite};
use tocsin_domain::time::format as ts;
use tocsin_domain::Incident;
use tocsin_store::matching::MAX_CANDIDATES;
use tocsin_store::{IncidentNear, Matching, NearReport, ReportNear, Result, StoredSuggestions};
use uuid::Uuid;

use crate::rows::{
    incident_from_row, parse_ts, parse_uuid, report_from_row, INCIDENT_COLS, REPORT_SELECT,
};
use crate::{db_err, SqliteStore};

#[async_trait]
impl Matching for SqliteStore {
    async fn incidents_near(&self, q: &IncidentNear) -> Result<Vec<Incident>> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {INCIDENT_COLS} FROM incidents WHERE retracted = 0 AND event_date BETWEEN "
        ));
        qb.push_bind(q.from.to_string())
            .push(" AND ")
            .push_bind(q.to.to_string())
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
        let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(incident_from_row).collect()
    }

    async fn reports_near(&self, q: &ReportNear) -> Result<Vec<NearReport>> {
        // The report columns, then the source id (column 15), never shown.
        let mut qb = QueryBuilder::<Sqlite>::new(REPORT_SELECT.replacen(
            " FROM reports r",
            ", r.source_id FROM reports r",
            1,
        ));
        qb.push(" WHERE r.received_at BETWEEN ")
            .push_bind(ts(&q.from))
            .push(" AND ")
            .push_bind(ts(&q.to))
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
            qb.push(" AND r.id <> ").push_bind(id.to_string());
        }
        qb.push(" ORDER BY r.received_at DESC, r.id DESC LIMIT ")
            .push_bind(i64::from(q.limit.min(MAX_CANDIDATES)));
        let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(NearReport {
                    report: report_from_row(r)?,
                    source_id: r
                        .get::<Option<String>, _>(15)
                        .map(|s| parse_uuid(&s))
                        .transpose()?,
                })
            })
            .collect()
    }

    async fn report_sources(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, Option<Uuid>)>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(1_000) {
            let mut qb =
                QueryBuilder::<Sqlite>::new("SELECT id, source_id FROM reports WHERE id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(id.to_string());
            }
            qb.push(")");
            let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
            for r in &rows {
                let source = r
                    .get::<Option<String>, _>(1)
                    .map(|s| parse_uuid(&s))
                    .transpose()?;
                out.push((parse_uuid(r.get(0))?, source));
            }
        }
        Ok(out)
    }

    async fn stored_suggestions(&self, ids: &[Uuid]) -> Result<Vec<StoredSuggestions>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(1_000) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "SELECT report_id, computed_at, matches FROM report_suggestions WHERE report_id IN (",
            );
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(id.to_string());
            }
            qb.push(")");
            let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
            for r in &rows {
                out.push(StoredSuggestions {
                    report_id: parse_uuid(r.get(0))?,
                    computed_at: parse_ts(r.get(1))?,
                    matches: r.get(2),
                });
            }
        }
        Ok(out)
    }
}
