//! Triage on PostgreSQL: decisions in `report_triage` (append-only, at most one closing
//! decision per report by a partial unique index); the queue is the reports no incident links
//! (a GIN index on `incidents.report_ids`) and no closing decision names.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{Postgres, QueryBuilder, Row};
use tocsin_domain::{
    DuplicateOf, Reliability, Tlp, TriageCandidate, TriageDecision, TriageFilter, TriageKind,
};
use tocsin_store::{Result, StoreError};
use uuid::Uuid;

use crate::db_err;
use crate::rows::{col, corrupt, report_from_row, REPORT_SELECT};

/// Record a decision inside the op's transaction.
pub(crate) async fn record(conn: &mut PgConnection, d: &TriageDecision) -> Result<()> {
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM reports WHERE id = $1")
        .bind(d.report_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    sqlx::query(
        "INSERT INTO report_triage (id, report_id, kind, actor, at, reason, of_kind, of_id, \
         assignee, text) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
    )
    .bind(d.id)
    .bind(d.report_id)
    .bind(d.kind.as_str())
    .bind(&d.by)
    .bind(d.at)
    .bind(&d.reason)
    .bind(d.duplicate_of.map(|o| o.kind()))
    .bind(d.duplicate_of.map(|o| o.id()))
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

fn decision_from_row(r: &PgRow) -> Result<TriageDecision> {
    let corrupt = || StoreError::Backend("corrupt triage decision in database".into());
    let get = |e: sqlx::Error| StoreError::Backend(e.to_string());
    let of_kind: Option<String> = r.try_get("of_kind").map_err(get)?;
    let of_id: Option<Uuid> = r.try_get("of_id").map_err(get)?;
    let of = match (of_kind.as_deref(), of_id) {
        (Some("report"), Some(id)) => Some(DuplicateOf::Report(id)),
        (Some("incident"), Some(id)) => Some(DuplicateOf::Incident(id)),
        (None, None) => None,
        _ => return Err(corrupt()),
    };
    let at: DateTime<Utc> = r.try_get("at").map_err(get)?;
    Ok(TriageDecision {
        id: r.try_get("id").map_err(get)?,
        report_id: r.try_get("report_id").map_err(get)?,
        kind: TriageKind::parse(r.try_get("kind").map_err(get)?)?,
        by: r.try_get("actor").map_err(get)?,
        at,
        reason: r.try_get("reason").map_err(get)?,
        duplicate_of: of,
        assignee: r.try_get("assignee").map_err(get)?,
        text: r.try_get("text").map_err(get)?,
    })
}

/// The source's reliability and label of a candidate row (columns 16 and 17).
fn source_grade(r: &PgRow) -> Result<Option<(Reliability, Tlp)>> {
    let Some(g) = col::<Option<String>>(r, 16)? else {
        return Ok(None);
    };
    let rank = i64::from(col::<i16>(r, 17)?);
    let t = Tlp::from_rank(rank).ok_or_else(|| corrupt("TLP rank"))?;
    Ok(Some((Reliability::parse(&g)?, t)))
}

/// The queue's conditions: reports within `f` that no incident links and no closing decision
/// names (`r` is the reports table).
fn push_queue_where(qb: &mut QueryBuilder<'_, Postgres>, f: &TriageFilter) {
    qb.push(" WHERE r.tlp <= ").push_bind(f.max_tlp.rank());
    qb.push(
        " AND NOT EXISTS (SELECT 1 FROM report_triage d WHERE d.report_id = r.id \
         AND d.kind IN ('duplicate', 'rejected')) \
         AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.report_ids @> ARRAY[r.id])",
    );
    if let Some(c) = &f.country {
        qb.push(" AND r.country = ").push_bind(c.code().to_string());
    }
    if let Some(c) = f.channel {
        qb.push(" AND r.channel = ").push_bind(c.as_str());
    }
}

#[async_trait::async_trait]
impl tocsin_store::Triage for crate::PostgresStore {
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
        let mut qb = QueryBuilder::<Postgres>::new(select);
        push_queue_where(&mut qb, f);
        qb.push(" ORDER BY r.received_at DESC, r.id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(TriageCandidate {
                    report: report_from_row(r)?,
                    assignee: r
                        .try_get(15)
                        .map_err(|e| StoreError::Backend(e.to_string()))?,
                    source_grade: source_grade(r)?,
                })
            })
            .collect()
    }

    async fn triage_count(&self, f: &TriageFilter) -> Result<u64> {
        let mut qb = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM reports r");
        push_queue_where(&mut qb, f);
        let n: i64 = qb
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(n.max(0) as u64)
    }

    async fn triage_decisions(&self, report_id: Uuid) -> Result<Vec<TriageDecision>> {
        let rows = sqlx::query("SELECT * FROM report_triage WHERE report_id = $1 ORDER BY seq")
            .bind(report_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(decision_from_row).collect()
    }

    async fn incidents_linking(&self, report_id: Uuid) -> Result<Vec<Uuid>> {
        sqlx::query_scalar("SELECT id FROM incidents WHERE report_ids @> ARRAY[$1] ORDER BY id")
            .bind(report_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }
}
