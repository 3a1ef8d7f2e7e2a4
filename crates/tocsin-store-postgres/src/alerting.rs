//! Alerting on PostgreSQL: desks, alert rules, alerts and their timelines (reads), and the steps
//! of [`Op::All`](tocsin_store::Op::All) that write them, run in the op's
//! transaction. Each record's content is the domain's JSON beside the columns lists filter on.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use sqlx::postgres::PgConnection;
use sqlx::{Postgres, QueryBuilder, Row};
use tocsin_domain::{
    Alert, AlertOrigin, AlertRule, Cursor, Desk, Page, PageRequest, TimelineEntry,
};
use tocsin_store::alerting::severity_rank;
use tocsin_store::{AlertFilter, Alerting, NewTimer, Result, StoreError};
use uuid::Uuid;

use crate::{db_err, PostgresStore};

fn json<T: DeserializeOwned>(s: &serde_json::Value, what: &str) -> Result<T> {
    T::deserialize(s).map_err(|e| StoreError::Backend(format!("corrupt {what} in database: {e}")))
}

fn body<T: serde::Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Backend(e.to_string()))
}

fn rule_of(a: &Alert) -> Option<Uuid> {
    match &a.origin {
        AlertOrigin::Rule(id) => Some(*id),
        AlertOrigin::ByHand(_) => None,
    }
}

/// Store a desk.
pub(crate) async fn create_desk(conn: &mut PgConnection, d: &Desk) -> Result<()> {
    sqlx::query("INSERT INTO desks (id, name, body, updated_at) VALUES ($1,$2,$3,$4)")
        .bind(d.id)
        .bind(&d.name)
        .bind(body(d)?)
        .bind(tocsin_domain::time::now())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Replace a desk.
pub(crate) async fn update_desk(conn: &mut PgConnection, d: &Desk) -> Result<()> {
    let r = sqlx::query("UPDATE desks SET name = $1, body = $2, updated_at = $3 WHERE id = $4")
        .bind(&d.name)
        .bind(body(d)?)
        .bind(tocsin_domain::time::now())
        .bind(d.id)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    if r.rows_affected() != 1 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Store a rule.
pub(crate) async fn create_rule(conn: &mut PgConnection, r: &AlertRule) -> Result<()> {
    sqlx::query(
        "INSERT INTO alert_rules (id, name, enabled, version, body, updated_at) VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(r.id)
    .bind(&r.name)
    .bind(r.enabled)
    .bind(r.version)
    .bind(body(r)?)
    .bind(tocsin_domain::time::now())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Replace a rule still at `expected`.
pub(crate) async fn update_rule(
    conn: &mut PgConnection,
    r: &AlertRule,
    expected: i64,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE alert_rules SET name = $1, enabled = $2, version = $3, body = $4, updated_at = $5 \
         WHERE id = $6 AND version = $7",
    )
    .bind(&r.name)
    .bind(r.enabled)
    .bind(r.version)
    .bind(body(r)?)
    .bind(tocsin_domain::time::now())
    .bind(r.id)
    .bind(expected)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    if n.rows_affected() == 1 {
        return Ok(());
    }
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM alert_rules WHERE id = $1")
        .bind(r.id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    Err(match exists {
        Some(_) => StoreError::Conflict("the rule was changed meanwhile; read it again".into()),
        None => StoreError::NotFound,
    })
}

async fn append_entry(conn: &mut PgConnection, id: Uuid, e: &TimelineEntry) -> Result<()> {
    sqlx::query("INSERT INTO alert_timeline (alert_id, at, body) VALUES ($1,$2,$3)")
        .bind(id)
        .bind(e.at)
        .bind(body(e)?)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Store a new alert and its first timeline entry.
pub(crate) async fn create_alert(
    conn: &mut PgConnection,
    a: &Alert,
    e: &TimelineEntry,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO alerts (id, rule_id, status, severity, tlp, desk_id, situation_id, opened_at, version, body) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
    )
    .bind(a.id)
    .bind(rule_of(a))
    .bind(a.status.as_str())
    .bind(severity_rank(a.severity))
    .bind(a.tlp.rank())
    .bind(a.desk_id)
    .bind(a.situation_id)
    .bind(a.opened_at)
    .bind(a.version)
    .bind(body(a)?)
    .execute(&mut *conn)
    .await
    .map_err(|e| match db_err(e) {
        StoreError::Conflict(_) => {
            StoreError::Conflict("this rule already has an alert that is not closed".into())
        }
        e => e,
    })?;
    append_entry(conn, a.id, e).await
}

/// Replace an alert still at `expected` and append its timeline entry.
pub(crate) async fn change_alert(
    conn: &mut PgConnection,
    a: &Alert,
    expected: i64,
    e: &TimelineEntry,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE alerts SET status = $1, severity = $2, tlp = $3, desk_id = $4, situation_id = $5, \
         version = $6, body = $7 WHERE id = $8 AND version = $9",
    )
    .bind(a.status.as_str())
    .bind(severity_rank(a.severity))
    .bind(a.tlp.rank())
    .bind(a.desk_id)
    .bind(a.situation_id)
    .bind(a.version)
    .bind(body(a)?)
    .bind(a.id)
    .bind(expected)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    if n.rows_affected() != 1 {
        let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM alerts WHERE id = $1")
            .bind(a.id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
        return Err(match exists {
            Some(_) => {
                StoreError::Conflict("the alert was changed meanwhile; read it again".into())
            }
            None => StoreError::NotFound,
        });
    }
    append_entry(conn, a.id, e).await
}

/// Persist a timer in the op's transaction; a pending one with the same key stays.
pub(crate) async fn schedule_timer(conn: &mut PgConnection, t: &NewTimer) -> Result<()> {
    sqlx::query(
        "INSERT INTO job_timers (id, kind, key, payload, fire_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(tocsin_domain::random_id())
    .bind(&t.kind)
    .bind(&t.key)
    .bind(&t.payload)
    .bind(t.fire_at)
    .bind(tocsin_domain::time::now())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Cancel the pending timers with this key in the op's transaction.
pub(crate) async fn cancel_timer(conn: &mut PgConnection, key: &str) -> Result<()> {
    sqlx::query(
        "UPDATE job_timers SET done_at = $1, last_error = 'cancelled' \
         WHERE key = $2 AND done_at IS NULL",
    )
    .bind(tocsin_domain::time::now())
    .bind(key)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl Alerting for PostgresStore {
    async fn get_desk(&self, id: Uuid) -> Result<Desk> {
        let b: serde_json::Value = sqlx::query_scalar("SELECT body FROM desks WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        json(&b, "desk")
    }

    async fn list_desks(&self) -> Result<Vec<Desk>> {
        let rows: Vec<serde_json::Value> =
            sqlx::query_scalar("SELECT body FROM desks ORDER BY name, id")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter().map(|b| json(b, "desk")).collect()
    }

    async fn get_rule(&self, id: Uuid) -> Result<AlertRule> {
        let b: serde_json::Value = sqlx::query_scalar("SELECT body FROM alert_rules WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        json(&b, "alert rule")
    }

    async fn list_rules(&self, enabled_only: bool) -> Result<Vec<AlertRule>> {
        let sql = if enabled_only {
            "SELECT body FROM alert_rules WHERE enabled ORDER BY name, id"
        } else {
            "SELECT body FROM alert_rules ORDER BY name, id"
        };
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(|b| json(b, "alert rule")).collect()
    }

    async fn get_alert(&self, id: Uuid) -> Result<Alert> {
        let b: serde_json::Value = sqlx::query_scalar("SELECT body FROM alerts WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        json(&b, "alert")
    }

    async fn list_alerts(&self, f: &AlertFilter, page: PageRequest) -> Result<Page<Alert>> {
        let mut qb = QueryBuilder::<Postgres>::new("SELECT body FROM alerts WHERE tlp <= ");
        qb.push_bind(f.max_tlp.rank());
        filter_alerts(&mut qb, f);
        if let Some(c) = page.after {
            qb.push(" AND id < ").push_bind(c.id);
        }
        qb.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(page.limit) + 1);
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        let items = rows
            .iter()
            .map(|r| json::<Alert>(&r.get::<serde_json::Value, _>(0), "alert"))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page.limit, |a| Cursor::by_id(a.id)))
    }

    async fn count_alerts(&self, f: &AlertFilter) -> Result<u64> {
        let mut qb = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM alerts WHERE tlp <= ");
        qb.push_bind(f.max_tlp.rank());
        filter_alerts(&mut qb, f);
        let n: i64 = qb
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(n as u64)
    }

    async fn alert_timeline(&self, alert_id: Uuid) -> Result<Vec<TimelineEntry>> {
        let rows: Vec<serde_json::Value> =
            sqlx::query_scalar("SELECT body FROM alert_timeline WHERE alert_id = $1 ORDER BY seq")
                .bind(alert_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter().map(|b| json(b, "timeline entry")).collect()
    }

    async fn open_alert_for_rule(&self, rule_id: Uuid) -> Result<Option<Alert>> {
        let b: Option<serde_json::Value> =
            sqlx::query_scalar("SELECT body FROM alerts WHERE rule_id = $1 AND status <> 'closed'")
                .bind(rule_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        b.map(|b| json(&b, "alert")).transpose()
    }
}

/// The conditions of an alert filter after its label condition (shared by list and count).
fn filter_alerts(qb: &mut QueryBuilder<'_, Postgres>, f: &AlertFilter) {
    if let Some(s) = f.status {
        qb.push(" AND status = ").push_bind(s.as_str());
    }
    if let Some(s) = f.severity {
        qb.push(" AND severity = ").push_bind(severity_rank(s));
    }
    if let Some(d) = f.desk {
        qb.push(" AND desk_id = ").push_bind(d);
    }
    if let Some(s) = f.situation {
        qb.push(" AND situation_id = ").push_bind(s);
    }
}
