//! Actions on PostgreSQL: indexed columns for the filters, the domain's JSON in `body`;
//! overdue reminders in `action_reminders`, one row per action and due date.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgConnection;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use tocsin_domain::{Action, Cursor, Page, PageRequest};
use tocsin_store::{ActionFilter, ActionReminder, ActionStep, Result, StoreError};
use uuid::Uuid;

use crate::db_err;

const OPEN: &str = "('planned', 'in_progress')";

fn body(a: &Action) -> Result<String> {
    serde_json::to_string(a).map_err(|e| StoreError::Backend(e.to_string()))
}

fn from_body(s: &str) -> Result<Action> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("corrupt action body: {e}")))
}

/// Apply one action step inside the op's transaction.
pub(crate) async fn apply(conn: &mut PgConnection, step: &ActionStep) -> Result<()> {
    match step {
        ActionStep::Create(a) => {
            let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM situations WHERE id = $1")
                .bind(a.situation_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO actions (situation_id, measure_id, status, lead, desk_id, due_date, \
                 version, created_at, updated_at, body, id) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10::jsonb,$11)",
            )
            .bind(a.situation_id)
            .bind(&a.measure_id)
            .bind(a.status.as_str())
            .bind(&a.lead)
            .bind(a.desk_id)
            .bind(a.due_date)
            .bind(a.version)
            .bind(a.created_at)
            .bind(a.updated_at)
            .bind(body(a)?)
            .bind(a.id)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        ActionStep::Update(a) => {
            let r = sqlx::query(
                "UPDATE actions SET measure_id=$1, status=$2, lead=$3, desk_id=$4, due_date=$5, \
                 version=$6, updated_at=$7, body=$8::jsonb \
                 WHERE id=$9 AND situation_id=$10 AND version=$11",
            )
            .bind(&a.measure_id)
            .bind(a.status.as_str())
            .bind(&a.lead)
            .bind(a.desk_id)
            .bind(a.due_date)
            .bind(a.version)
            .bind(a.updated_at)
            .bind(body(a)?)
            .bind(a.id)
            .bind(a.situation_id)
            .bind(a.version - 1)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if r.rows_affected() == 1 {
                return Ok(());
            }
            let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM actions WHERE id = $1")
                .bind(a.id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
            match exists {
                None => Err(StoreError::NotFound),
                Some(_) => Err(StoreError::Conflict(
                    "the action changed meanwhile; reload it and try again".into(),
                )),
            }
        }
        ActionStep::Remind(r) => {
            sqlx::query(
                "INSERT INTO action_reminders (action_id, due_date, lead, created_at) \
                 VALUES ($1,$2,$3,$4)",
            )
            .bind(r.action_id)
            .bind(r.due_date)
            .bind(&r.lead)
            .bind(r.at)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
    }
}

pub(crate) async fn get(pool: &PgPool, id: Uuid) -> Result<Action> {
    let b: String = sqlx::query_scalar("SELECT body::text FROM actions WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    from_body(&b)
}

pub(crate) async fn list(
    pool: &PgPool,
    f: &ActionFilter,
    page: PageRequest,
) -> Result<Page<Action>> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT a.body::text FROM actions a JOIN situations s ON s.id = a.situation_id WHERE s.tlp <= ",
    );
    qb.push_bind(f.max_tlp.rank());
    if let Some(s) = f.situation_id {
        qb.push(" AND a.situation_id = ").push_bind(s);
    }
    if let Some(s) = f.status {
        qb.push(" AND a.status = ").push_bind(s.as_str());
    }
    if let Some(l) = &f.lead {
        qb.push(" AND a.lead = ").push_bind(l.clone());
    }
    if let Some(d) = f.desk_id {
        qb.push(" AND a.desk_id = ").push_bind(d);
    }
    if let Some(d) = f.overdue_on {
        qb.push(format!(" AND a.status IN {OPEN} AND a.due_date < "))
            .push_bind(d);
    }
    if let Some(c) = page.after {
        qb.push(" AND a.id < ").push_bind(c.id);
    }
    qb.push(" ORDER BY a.id DESC LIMIT ")
        .push_bind(i64::from(page.limit) + 1);
    let rows: Vec<String> = qb
        .build_query_scalar()
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    let items = rows
        .iter()
        .map(|b| from_body(b))
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, |a| Cursor::by_id(a.id)))
}

pub(crate) async fn of_situation(
    pool: &PgPool,
    situation_id: Uuid,
    limit: u32,
) -> Result<Vec<Action>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT body::text FROM actions WHERE situation_id = $1 ORDER BY id LIMIT $2",
    )
    .bind(situation_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(|b| from_body(b)).collect()
}

pub(crate) async fn unreminded_overdue(
    pool: &PgPool,
    today: NaiveDate,
    limit: u32,
) -> Result<Vec<Action>> {
    let rows: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT a.body::text FROM actions a WHERE a.status IN {OPEN} AND a.due_date < $1 \
         AND NOT EXISTS (SELECT 1 FROM action_reminders r \
                         WHERE r.action_id = a.id AND r.due_date = a.due_date) \
         ORDER BY a.due_date, a.id LIMIT $2"
    ))
    .bind(today)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(|b| from_body(b)).collect()
}

pub(crate) async fn reminders(pool: &PgPool, action_id: Uuid) -> Result<Vec<ActionReminder>> {
    let rows = sqlx::query(
        "SELECT action_id, due_date, lead, created_at FROM action_reminders \
         WHERE action_id = $1 ORDER BY created_at, due_date",
    )
    .bind(action_id)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| ActionReminder {
            action_id: r.get::<Uuid, _>("action_id"),
            due_date: r.get::<NaiveDate, _>("due_date"),
            lead: r.get("lead"),
            at: r.get::<DateTime<Utc>, _>("created_at"),
        })
        .collect())
}
#[async_trait::async_trait]
impl tocsin_store::Actions for crate::PostgresStore {
    async fn get_action(&self, id: Uuid) -> Result<Action> {
        get(&self.pool, id).await
    }

    async fn list_actions(&self, f: &ActionFilter, page: PageRequest) -> Result<Page<Action>> {
        list(&self.pool, f, page).await
    }

    async fn actions_of(&self, situation_id: Uuid, limit: u32) -> Result<Vec<Action>> {
        of_situation(&self.pool, situation_id, limit).await
    }

    async fn unreminded_overdue(&self, today: NaiveDate, limit: u32) -> Result<Vec<Action>> {
        unreminded_overdue(&self.pool, today, limit).await
    }

    async fn action_reminders(&self, action_id: Uuid) -> Result<Vec<ActionReminder>> {
        reminders(&self.pool, action_id).await
    }
}
