//! Triage on SQLite: decisions in `report_triage` (append-only, at most one closing decision per
//! report by a partial unique index); the queue is the reports no incident links and no closing
//! decision names.

use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite};
use tocsin_domain::time::format as ts;
use tocsin_domain::{
    AssignedFilter, DuplicateOf, Reliability, TriageCandidate, TriageDecision, TriageFilter,
    TriageKey, TriageKind, TriageRanking,
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

/// The queue's conditions: reports within `f` that no incident links (the links the triggers
/// keep in `incident_report_links`, one row per report an incident's `report_ids` names) and
/// no closing decision names (`r` is the reports table).
fn push_queue_where(qb: &mut QueryBuilder<'_, Sqlite>, f: &TriageFilter) {
    qb.push(" WHERE r.tlp <= ").push_bind(f.max_tlp.rank());
    qb.push(
        " AND NOT EXISTS (SELECT 1 FROM report_triage d WHERE d.report_id = r.id \
         AND d.kind IN ('duplicate', 'rejected')) \
         AND NOT EXISTS (SELECT 1 FROM incident_report_links l WHERE l.report_id = r.id)",
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
fn candidate_from_row(r: &SqliteRow) -> Result<TriageCandidate> {
    Ok(TriageCandidate {
        report: report_from_row(r)?,
        assignee: r.get(15),
        source_grade: match r.get::<Option<String>, _>(16) {
            Some(g) => Some((Reliability::parse(&g)?, tlp(r.get(17))?)),
            None => None,
        },
    })
}

/// The ranked queue of `q` as a derived table `q` of sort keys only (`k_u`, `k_a`, `k_r`,
/// `k_t`, `k_id`, as [`TriageKey`] orders them), narrowed by assignment: the assignee is
/// looked up per report only when the filter needs it, and the reports' columns are read
/// only for the page ([`Triage::triage_page`](tocsin_store::Triage::triage_page)).
fn push_ranked(qb: &mut QueryBuilder<'_, Sqlite>, q: &TriageRanking) {
    qb.push("(SELECT r.id AS k_id, r.received_at AS k_t, ");
    if q.assigned != AssignedFilter::Any {
        qb.push(ASSIGNEE).push(" AS k_as, ");
    }
    qb.push("CASE lower(trim(r.category, ' ' || char(9, 10, 11, 12, 13)))");
    for (c, rank) in TriageRanking::URGENCY_RANKS {
        qb.push(format!(" WHEN '{c}' THEN {rank}"));
    }
    qb.push(" ELSE 3 END AS k_u, ");
    if q.open_alert_reports.is_empty() {
        qb.push("1");
    } else {
        let ids: Vec<String> = q.open_alert_reports.iter().map(Uuid::to_string).collect();
        qb.push("CASE WHEN r.id IN (SELECT value FROM json_each(")
            .push_bind(serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()))
            .push(")) THEN 0 ELSE 1 END");
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
    qb.push(" AS k_r FROM reports r LEFT JOIN sources s ON s.id = r.source_id");
    push_queue_where(qb, &q.filter);
    qb.push(") q WHERE ");
    match q.assigned {
        AssignedFilter::Any => qb.push("1"),
        AssignedFilter::Me => qb.push("k_as = ").push_bind(q.viewer.clone()),
        AssignedFilter::Nobody => qb.push("k_as IS NULL"),
    };
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
            &format!(", {ASSIGNEE}, s.reliability, s.tlp FROM reports r"),
            1,
        );
        let mut qb = QueryBuilder::<Sqlite>::new(select);
        push_queue_where(&mut qb, f);
        qb.push(" ORDER BY r.received_at DESC, r.id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(candidate_from_row).collect()
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

    async fn triage_page(
        &self,
        q: &TriageRanking,
        after: Option<&TriageKey>,
        limit: u32,
    ) -> Result<Vec<TriageCandidate>> {
        // The page's keys ranked first (a subquery with its own LIMIT, never flattened), then
        // the page's rows read by id.
        let select = REPORT_SELECT.replacen(
            " FROM reports r",
            &format!(
                ", {ASSIGNEE}, s.reliability, s.tlp FROM (SELECT k_id, k_u, k_a, k_r, k_t FROM "
            ),
            1,
        );
        let (columns, joins) = select
            .split_once(" LEFT JOIN sources s")
            .unwrap_or((select.as_str(), ""));
        let mut qb = QueryBuilder::<Sqlite>::new(columns);
        push_ranked(&mut qb, q);
        if let Some(k) = after {
            qb.push(" AND (k_u, k_a, k_r, k_t, k_id) > (")
                .push_bind(i64::from(k.urgency))
                .push(", ")
                .push_bind(i64::from(k.alert))
                .push(", ")
                .push_bind(i64::from(k.reliability))
                .push(", ")
                .push_bind(ts(&k.received_at))
                .push(", ")
                .push_bind(k.id.to_string())
                .push(")");
        }
        qb.push(" ORDER BY k_u, k_a, k_r, k_t, k_id LIMIT ")
            .push_bind(i64::from(limit))
            .push(") p JOIN reports r ON r.id = p.k_id LEFT JOIN sources s")
            .push(joins)
            .push(" ORDER BY p.k_u, p.k_a, p.k_r, p.k_t, p.k_id");
        let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(candidate_from_row).collect()
    }

    async fn triage_ranked_count(&self, q: &TriageRanking) -> Result<u64> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM ");
        push_ranked(&mut qb, q);
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
