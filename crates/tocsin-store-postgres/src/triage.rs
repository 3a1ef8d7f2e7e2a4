//! Triage on PostgreSQL: decisions in `report_triage` (append-only, at most one closing
//! decision per report by a partial unique index); the queue is the reports no incident links
//! (a GIN index on `incidents.report_ids`) and no closing decision names.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{Postgres, QueryBuilder, Row};
use tocsin_domain::{
    AssignedFilter, DuplicateOf, Reliability, Tlp, TriageCandidate, TriageDecision, TriageFilter,
    TriageKey, TriageKind, TriageRanking,
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

/// The latest assignee of report `r` (a scalar subquery).
const ASSIGNEE: &str = "(SELECT d.assignee FROM report_triage d WHERE d.report_id = r.id \
     AND d.kind = 'assigned' ORDER BY d.seq DESC LIMIT 1)";

/// A candidate from a row of [`REPORT_SELECT`] followed by the assignee, the source's grade
/// and its label (columns 15–17).
fn candidate_from_row(r: &PgRow) -> Result<TriageCandidate> {
    Ok(TriageCandidate {
        report: report_from_row(r)?,
        assignee: r
            .try_get(15)
            .map_err(|e| StoreError::Backend(e.to_string()))?,
        source_grade: source_grade(r)?,
    })
}

/// The ranked queue of `q` as a derived table `q`: the candidate columns, then the sort key
/// (`k_u`, `k_a`, `k_r`, `k_t`, `k_id`, as [`TriageKey`] orders them), narrowed by assignment.
/// The category is trimmed of ASCII white space and lower-cased in ASCII only, as
/// [`tocsin_domain::Urgency::of_category`] reads the codes.
fn push_ranked(qb: &mut QueryBuilder<'_, Postgres>, q: &TriageRanking) {
    // REPORT_SELECT's columns (its FROM clause is written below).
    let columns = REPORT_SELECT
        .split_once(" FROM reports r")
        .map_or(REPORT_SELECT, |(c, _)| c);
    qb.push("(").push(columns).push(format!(
        ", {ASSIGNEE} AS k_as, s.reliability, s.tlp, \
         CASE translate(btrim(r.category, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)), \
         'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
    ));
    for (c, rank) in TriageRanking::URGENCY_RANKS {
        qb.push(format!(" WHEN '{c}' THEN {rank}"));
    }
    qb.push(" ELSE 3 END AS k_u, ");
    if q.open_alert_reports.is_empty() {
        qb.push("1");
    } else {
        let ids: Vec<Uuid> = q.open_alert_reports.iter().copied().collect();
        qb.push("CASE WHEN r.id = ANY(")
            .push_bind(ids)
            .push(") THEN 0 ELSE 1 END");
    }
    qb.push(" AS k_a, ");
    if q.sources_shown {
        qb.push("CASE WHEN s.tlp <= ")
            .push_bind(q.filter.max_tlp.rank())
            .push(
                " THEN CASE s.reliability WHEN 'A' THEN 0 WHEN 'B' THEN 1 WHEN 'C' THEN 2 \
                 WHEN 'D' THEN 3 WHEN 'E' THEN 4 WHEN 'F' THEN 5 ELSE 6 END ELSE 6 END",
            );
    } else {
        qb.push("6");
    }
    qb.push(
        " AS k_r, r.received_at AS k_t, r.id AS k_id FROM reports r \
         LEFT JOIN sources s ON s.id = r.source_id",
    );
    push_queue_where(qb, &q.filter);
    qb.push(") q WHERE ");
    match q.assigned {
        AssignedFilter::Any => qb.push("true"),
        AssignedFilter::Me => qb.push("k_as = ").push_bind(q.viewer.clone()),
        AssignedFilter::Nobody => qb.push("k_as IS NULL"),
    };
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
            &format!(", {ASSIGNEE}, s.reliability, s.tlp FROM reports r"),
            1,
        );
        let mut qb = QueryBuilder::<Postgres>::new(select);
        push_queue_where(&mut qb, f);
        qb.push(" ORDER BY r.received_at DESC, r.id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(candidate_from_row).collect()
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

    async fn triage_page(
        &self,
        q: &TriageRanking,
        after: Option<&TriageKey>,
        limit: u32,
    ) -> Result<Vec<TriageCandidate>> {
        let mut qb = QueryBuilder::<Postgres>::new("SELECT * FROM ");
        push_ranked(&mut qb, q);
        if let Some(k) = after {
            qb.push(" AND (k_u, k_a, k_r, k_t, k_id) > (")
                .push_bind(i32::from(k.urgency))
                .push(", ")
                .push_bind(i32::from(k.alert))
                .push(", ")
                .push_bind(i32::from(k.reliability))
                .push(", ")
                .push_bind(k.received_at)
                .push(", ")
                .push_bind(k.id)
                .push(")");
        }
        qb.push(" ORDER BY k_u, k_a, k_r, k_t, k_id LIMIT ")
            .push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(candidate_from_row).collect()
    }

    async fn triage_ranked_count(&self, q: &TriageRanking) -> Result<u64> {
        let mut qb = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM ");
        push_ranked(&mut qb, q);
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
