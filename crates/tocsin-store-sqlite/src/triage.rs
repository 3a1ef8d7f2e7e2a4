//! Triage on SQLite: decisions in `report_triage` (append-only, at most one closing decision per
//! report by a partial unique index); the queue is the reports no incident links and no closing
//! decision names.

use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite};
use tocsin_domain::time::format as ts;
use tocsin_domain::{
    DuplicateOf, Reliability, TriageCandidate, TriageDecision, TriageFilter, TriageKind,
};
use tocsin_store::{Result, StoreError};
use uuid::Uuid;

use crate::db_err;
use crate::rows::{corrupt, parse_ts, parse_uuid, report_from_row, tlp, REPORT_SELECT};

/// Record a decision inside the op's savepoint.
pub(crate) async fn record(conn: &mut SqliteConnection, d: &TriageDecision) -> Result<()> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM reports WHERE id = ?")
        .bind(d.report_id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    sqlx::query(
        "INSERT INTO report_triage (id, report_id, kind, actor, at, reason, of_kind, of_id, \
         assignee, text) VALUES (?,?,?,?,?,?,?,?,?,?)",
    )
    .bind(d.id.to_string())
    .bind(d.report_id.to_string())
    .bind(d.kind.as_str())
    .bind(&d.by)
    .bind(ts(&d.at))
    .bind(&d.reason)
    .bind(d.duplicate_of.map(|o| o.kind()))
    .bind(d.duplicate_of.map(|o| o.id().to_string()))
    .bind(&d.assignee)
    .bind(&d.text)
    .execute(&mut *conn)
    .await
    .map_err(|e| match db_err(e) {
        StoreError::Conflict(_) => {
            StoreError::Conflict("this report has already been triaged".into())
        }
        e => e,
    })?;
    Ok(())
}

fn decision_from_row(r: &SqliteRow) -> Result<TriageDecision> {
    let of = match (
        r.get::<Option<String>, _>("of_kind").as_deref(),
        r.get::<Option<String>, _>("of_id"),
    ) {
        (Some("report"), Some(id)) => Some(DuplicateOf::Report(parse_uuid(&id)?)),
        (Some("incident"), Some(id)) => Some(DuplicateOf::Incident(parse_uuid(&id)?)),
        (None, None) => None,
        _ => return Err(corrupt("triage decision")),
    };
    Ok(TriageDecision {
        id: parse_uuid(r.get("id"))?,
        report_id: parse_uuid(r.get("report_id"))?,
        kind: TriageKind::parse(r.get("kind"))?,
        by: r.get("actor"),
        at: parse_ts(r.get("at"))?,
        reason: r.get("reason"),
        duplicate_of: of,
        assignee: r.get("assignee"),
        text: r.get("text"),
    })
}

/// The queue's conditions: reports within `f` that no incident links and no closing decision
/// names (`r` is the reports table).
fn push_queue_where(qb: &mut QueryBuilder<'_, Sqlite>, f: &TriageFilter) {
    qb.push(" WHERE r.tlp <= ").push_bind(f.max_tlp.rank());
    qb.push(
        " AND NOT EXISTS (SELECT 1 FROM report_triage d WHERE d.report_id = r.id \
         AND d.kind IN ('duplicate', 'rejected')) \
         AND r.id NOT IN (SELECT j.value FROM incidents i, json_each(i.report_ids) j \
         WHERE i.report_ids <> '[]')",
    );
    if let Some(c) = &f.country {
        qb.push(" AND r.country = ").push_bind(c.code().to_string());
    }
    if let Some(c) = f.channel {
        qb.push(" AND r.channel = ").push_bind(c.as_str());
    }
}

#[async_trait::async_trait]
impl tocsin_store::Triage for crate::SqliteStore {
    async fn triage_candidates(
        &self,
        f: &TriageFilter,
        limit: u32,
    ) -> Result<Vec<TriageCandidate>> {
        // REPORT_SELECT ends with its FROM clause; the assignee and the source's grade and label
        // are three more columns.
        let select = REPORT_SELECT.replacen(
            " FROM reports r",
            ", (SELECT d.assignee FROM report_triage d WHERE d.report_id = r.id \
             AND d.kind = 'assigned' ORDER BY d.seq DESC LIMIT 1), s.reliability, s.tlp FROM reports r",
            1,
        );
        let mut qb = QueryBuilder::<Sqlite>::new(select);
        push_queue_where(&mut qb, f);
        qb.push(" ORDER BY r.received_at DESC, r.id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(TriageCandidate {
                    report: report_from_row(r)?,
                    assignee: r.get(15),
                    source_grade: match r.get::<Option<String>, _>(16) {
                        Some(g) => Some((Reliability::parse(&g)?, tlp(r.get(17))?)),
                        None => None,
                    },
                })
            })
            .collect()
    }

    async fn triage_count(&self, f: &TriageFilter) -> Result<u64> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM reports r");
        push_queue_where(&mut qb, f);
        let n: i64 = qb
            .build_query_scalar()
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        Ok(n.max(0) as u64)
    }

    async fn triage_decisions(&self, report_id: Uuid) -> Result<Vec<TriageDecision>> {
        let rows = sqlx::query("SELECT * FROM report_triage WHERE report_id = ? ORDER BY seq")
            .bind(report_id.to_string())
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter().map(decision_from_row).collect()
    }

    async fn incidents_linking(&self, report_id: Uuid) -> Result<Vec<Uuid>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT i.id FROM incidents i, json_each(i.report_ids) j \
             WHERE i.report_ids <> '[]' AND j.value = ? ORDER BY i.id",
        )
        .bind(report_id.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        ids.iter().map(|s| parse_uuid(s)).collect()
    }
}
