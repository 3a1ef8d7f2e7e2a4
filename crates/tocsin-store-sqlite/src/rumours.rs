//! Rumours on SQLite: indexed columns for the filters, the domain's JSON in `body`;
//! sightings in `rumour_sightings` (one per rumour and report), reminders to the desk in
//! `rumour_reminders` (one per rumour and deadline).

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Row, Sqlite};
use std::collections::HashMap;
use tocsin_domain::time::format as ts;
use tocsin_domain::{Cursor, HeardHow, Page, PageRequest, Rumour, Sighting, Tlp};
use tocsin_store::{
    Result, RumourFilter, RumourReminder, RumourStep, SightingSummary, StoreError, StoredSighting,
};
use uuid::Uuid;

use crate::db_err;
use crate::rows::{parse_ts, parse_uuid};

fn body(r: &Rumour) -> Result<String> {
    serde_json::to_string(r).map_err(|e| StoreError::Backend(e.to_string()))
}

fn from_body(s: &str) -> Result<Rumour> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("corrupt rumour body: {e}")))
}

async fn exists(conn: &mut SqliteConnection, table: &str, id: Uuid) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(&format!("SELECT 1 FROM {table} WHERE id = ?"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(found.is_some())
}

/// Apply one rumour step inside the op's savepoint.
pub(crate) async fn apply(conn: &mut SqliteConnection, step: &RumourStep) -> Result<()> {
    match step {
        RumourStep::Create(r) => {
            sqlx::query(
                "INSERT INTO rumours (status, priority, country, tlp, deadline, closed, version, \
                 created_at, updated_at, body, id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            )
            .bind(r.status.as_str())
            .bind(r.priority.as_str())
            .bind(r.country.code())
            .bind(r.tlp.rank())
            .bind(ts(&r.deadline))
            .bind(r.status.is_closed())
            .bind(r.version)
            .bind(ts(&r.created_at))
            .bind(ts(&r.updated_at))
            .bind(body(r)?)
            .bind(r.id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        RumourStep::Update(r) => {
            let done = sqlx::query(
                "UPDATE rumours SET status=?, priority=?, country=?, tlp=?, deadline=?, closed=?, \
                 version=?, updated_at=?, body=? WHERE id=? AND version=?",
            )
            .bind(r.status.as_str())
            .bind(r.priority.as_str())
            .bind(r.country.code())
            .bind(r.tlp.rank())
            .bind(ts(&r.deadline))
            .bind(r.status.is_closed())
            .bind(r.version)
            .bind(ts(&r.updated_at))
            .bind(body(r)?)
            .bind(r.id.to_string())
            .bind(r.version - 1)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 1 {
                Ok(())
            } else if exists(conn, "rumours", r.id).await? {
                Err(StoreError::Conflict(
                    "the rumour changed meanwhile; reload it and try again".into(),
                ))
            } else {
                Err(StoreError::NotFound)
            }
        }
        RumourStep::AddSighting(s) => {
            if !exists(conn, "rumours", s.rumour_id).await?
                || !exists(conn, "reports", s.report_id).await?
            {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO rumour_sightings (id, rumour_id, report_id, how, where_heard, \
                 by_user, created_at) VALUES (?,?,?,?,?,?,?)",
            )
            .bind(s.id.to_string())
            .bind(s.rumour_id.to_string())
            .bind(s.report_id.to_string())
            .bind(s.how.as_str())
            .bind(&s.where_heard)
            .bind(&s.by)
            .bind(ts(&s.at))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        RumourStep::Remind(r) => {
            sqlx::query(
                "INSERT INTO rumour_reminders (rumour_id, deadline, notified, created_at) \
                 VALUES (?,?,?,?)",
            )
            .bind(r.rumour_id.to_string())
            .bind(ts(&r.deadline))
            .bind(i64::from(r.notified))
            .bind(ts(&r.at))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
    }
}

fn bodies(rows: Vec<String>) -> Result<Vec<Rumour>> {
    rows.iter().map(|b| from_body(b)).collect()
}

#[async_trait::async_trait]
impl tocsin_store::Rumours for crate::SqliteStore {
    async fn get_rumour(&self, id: Uuid) -> Result<Rumour> {
        let b: String = sqlx::query_scalar("SELECT body FROM rumours WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        from_body(&b)
    }

    async fn list_rumours(&self, f: &RumourFilter, page: PageRequest) -> Result<Page<Rumour>> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT body FROM rumours WHERE tlp <= ");
        qb.push_bind(f.max_tlp.rank());
        if let Some(s) = f.status {
            qb.push(" AND status = ").push_bind(s.as_str());
        }
        if let Some(p) = f.priority {
            qb.push(" AND priority = ").push_bind(p.as_str());
        }
        if let Some(c) = &f.country {
            qb.push(" AND country = ").push_bind(c.code().to_string());
        }
        if let Some(t) = f.overdue_at {
            qb.push(" AND closed = 0 AND deadline < ").push_bind(ts(&t));
        }
        crate::push_time_page(&mut qb, "created_at", "id", page)?;
        let rows: Vec<String> = qb
            .build_query_scalar()
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        Ok(Page::from_rows(bodies(rows)?, page.limit, |r| {
            Cursor::by_time(r.created_at, r.id)
        }))
    }

    async fn sightings_of(&self, rumour_id: Uuid, limit: u32) -> Result<Vec<StoredSighting>> {
        let rows = sqlx::query(
            "SELECT s.id, s.rumour_id, s.report_id, s.how, s.where_heard, s.by_user, s.created_at, \
             r.tlp, r.received_at, r.text FROM rumour_sightings s JOIN reports r ON r.id = s.report_id \
             WHERE s.rumour_id = ? ORDER BY r.received_at, s.id LIMIT ?",
        )
        .bind(rumour_id.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(StoredSighting {
                    sighting: Sighting {
                        id: parse_uuid(&r.get::<String, _>("id"))?,
                        rumour_id: parse_uuid(&r.get::<String, _>("rumour_id"))?,
                        report_id: parse_uuid(&r.get::<String, _>("report_id"))?,
                        how: HeardHow::parse(&r.get::<String, _>("how"))?,
                        where_heard: r.get("where_heard"),
                        by: r.get("by_user"),
                        at: parse_ts(&r.get::<String, _>("created_at"))?,
                    },
                    report_tlp: Tlp::from_rank(r.get::<i64, _>("tlp"))
                        .ok_or_else(|| StoreError::Backend("corrupt report label".into()))?,
                    report_received_at: parse_ts(&r.get::<String, _>("received_at"))?,
                    report_text: r.get("text"),
                })
            })
            .collect()
    }

    async fn rumours_of_report(&self, report_id: Uuid) -> Result<Vec<Uuid>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT rumour_id FROM rumour_sightings WHERE report_id = ? ORDER BY rumour_id",
        )
        .bind(report_id.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter().map(|s| parse_uuid(s)).collect()
    }

    async fn sighting_summaries(
        &self,
        ids: &[Uuid],
        max_tlp: Tlp,
    ) -> Result<HashMap<Uuid, SightingSummary>> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT s.rumour_id, COUNT(*) AS n, MIN(r.received_at) AS first, \
             MAX(r.received_at) AS last FROM rumour_sightings s JOIN reports r ON r.id = s.report_id \
             WHERE r.tlp <= ",
        );
        qb.push_bind(max_tlp.rank()).push(" AND s.rumour_id IN (");
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(id.to_string());
        }
        qb.push(") GROUP BY s.rumour_id");
        let rows = qb.build().fetch_all(&self.read).await.map_err(db_err)?;
        for r in rows {
            out.insert(
                parse_uuid(&r.get::<String, _>("rumour_id"))?,
                SightingSummary {
                    count: r.get::<i64, _>("n") as u64,
                    first: parse_ts(&r.get::<String, _>("first"))?,
                    last: parse_ts(&r.get::<String, _>("last"))?,
                },
            );
        }
        Ok(out)
    }

    async fn unreminded_overdue_rumours(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Rumour>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT u.body FROM rumours u WHERE u.closed = 0 AND u.deadline < ? \
             AND NOT EXISTS (SELECT 1 FROM rumour_reminders m \
                             WHERE m.rumour_id = u.id AND m.deadline = u.deadline) \
             ORDER BY u.deadline, u.id LIMIT ?",
        )
        .bind(ts(&now))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        bodies(rows)
    }

    async fn rumour_reminders(&self, rumour_id: Uuid) -> Result<Vec<RumourReminder>> {
        let rows = sqlx::query(
            "SELECT rumour_id, deadline, notified, created_at FROM rumour_reminders \
             WHERE rumour_id = ? ORDER BY created_at, deadline",
        )
        .bind(rumour_id.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(RumourReminder {
                    rumour_id: parse_uuid(&r.get::<String, _>("rumour_id"))?,
                    deadline: parse_ts(&r.get::<String, _>("deadline"))?,
                    notified: r.get::<i64, _>("notified") as u32,
                    at: parse_ts(&r.get::<String, _>("created_at"))?,
                })
            })
            .collect()
    }
}
