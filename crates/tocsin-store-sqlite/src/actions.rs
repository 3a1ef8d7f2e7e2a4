//! Actions on SQLite: indexed columns for the filters, the domain's JSON in `body`; overdue
//! reminders in `action_reminders`, one row per action and due date.

use chrono::NaiveDate;
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tocsin_domain::time::format as ts;
use tocsin_domain::{Action, Cursor, Page, PageRequest};
use tocsin_store::{ActionFilter, ActionReminder, ActionStep, Result, StoreError};
use uuid::Uuid;

use crate::db_err;
use crate::rows::{parse_ts, parse_uuid};

const OPEN: &str = "('planned', 'in_progress')";

fn body(a: &Action) -> Result<String> {
    serde_json::to_string(a).map_err(|e| StoreError::Backend(e.to_string()))
}

fn from_body(s: &str) -> Result<Action> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("corrupt action body: {e}")))
}

/// Apply one action step inside the op's savepoint.
pub(crate) async fn apply(conn: &mut SqliteConnection, step: &ActionStep) -> Result<()> {
    match step {
        ActionStep::Create(a) => {
            let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM situations WHERE id = ?")
                .bind(a.situation_id.to_string())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO actions (situation_id, measure_id, status, lead, desk_id, due_date, \
                 version, created_at, updated_at, body, id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            )
            .bind(a.situation_id.to_string())
            .bind(&a.measure_id)
            .bind(a.status.as_str())
            .bind(&a.lead)
            .bind(a.desk_id.map(|d| d.to_string()))
            .bind(a.due_date.to_string())
            .bind(a.version)
            .bind(ts(&a.created_at))
            .bind(ts(&a.updated_at))
            .bind(body(a)?)
            .bind(a.id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        ActionStep::Update(a) => {
            let r = sqlx::query(
                "UPDATE actions SET measure_id=?, status=?, lead=?, desk_id=?, due_date=?, \
                 version=?, updated_at=?, body=? WHERE id=? AND situation_id=? AND version=?",
            )
            .bind(&a.measure_id)
            .bind(a.status.as_str())
            .bind(&a.lead)
            .bind(a.desk_id.map(|d| d.to_string()))
            .bind(a.due_date.to_string())
            .bind(a.version)
            .bind(ts(&a.updated_at))
            .bind(body(a)?)
            .bind(a.id.to_string())
            .bind(a.situation_id.to_string())
            .bind(a.version - 1)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if r.rows_affected() == 1 {
                return Ok(());
            }
            let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM actions WHERE id = ?")
                .bind(a.id.to_string())
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
                "INSERT INTO action_reminders (action_id, due_date, lead, created_at) VALUES (?,?,?,?)",
            )
            .bind(r.action_id.to_string())
            .bind(r.due_date.to_string())
            .bind(&r.lead)
            .bind(ts(&r.at))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
    }
}

pub(crate) async fn get(pool: &SqlitePool, id: Uuid) -> Result<Action> {
    let b: String = sqlx::query_scalar("SELECT body FROM actions WHERE id = ?")
        .bind(id.to_string())
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    from_body(&b)
}

pub(crate) async fn list(
    pool: &SqlitePool,
    f: &ActionFilter,
    page: PageRequest,
) -> Result<Page<Action>> {
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT a.body FROM actions a JOIN situations s ON s.id = a.situation_id WHERE s.tlp <= ",
    );
    qb.push_bind(f.max_tlp.rank());
    if let Some(s) = f.situation_id {
        qb.push(" AND a.situation_id = ").push_bind(s.to_string());
    }
    if let Some(s) = f.status {
        qb.push(" AND a.status = ").push_bind(s.as_str());
    }
    if let Some(l) = &f.lead {
        qb.push(" AND a.lead = ").push_bind(l.clone());
    }
    if let Some(d) = f.desk_id {
        qb.push(" AND a.desk_id = ").push_bind(d.to_string());
    }
    if let Some(d) = f.overdue_on {
        qb.push(format!(" AND a.status IN {OPEN} AND a.due_date < "))
            .push_bind(d.to_string());
    }
    if let Some(c) = page.after {
        qb.push(" AND a.id < ").push_bind(c.id.to_string());
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
    pool: &SqlitePool,
    situation_id: Uuid,
    limit: u32,
) -> Result<Vec<Action>> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT body FROM actions WHERE situation_id = ? ORDER BY id LIMIT ?")
            .bind(situation_id.to_string())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
    rows.iter().map(|b| from_body(b)).collect()
}

pub(crate) async fn unreminded_overdue(
    pool: &SqlitePool,
    today: NaiveDate,
    limit: u32,
) -> Result<Vec<Action>> {
    let rows: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT a.body FROM actions a WHERE a.status IN {OPEN} AND a.due_date < ? \
         AND NOT EXISTS (SELECT 1 FROM action_reminders r \
                         WHERE r.action_id = a.id AND r.due_date = a.due_date) \
         ORDER BY a.due_date, a.id LIMIT ?"
    ))
    .bind(today.to_string())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter().map(|b| from_body(b)).collect()
}

pub(crate) async fn reminders(pool: &SqlitePool, action_id: Uuid) -> Result<Vec<ActionReminder>> {
    let rows = sqlx::query(
        "SELECT action_id, due_date, lead, created_at FROM action_reminders \
         WHERE action_id = ? ORDER BY created_at, due_date",
    )
    .bind(action_id.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let due: String = r.get("due_date");
            Ok(ActionReminder {
                action_id: parse_uuid(&r.get::<String, _>("action_id"))?,
                due_date: due
                    .parse()
                    .map_err(|e| StoreError::Backend(format!("corrupt due date: {e}")))?,
                lead: r.get("lead"),
                at: parse_ts(&r.get::<String, _>("created_at"))?,
            })
        })
        .collect()
}

#[async_trait::async_trait]
impl tocsin_store::Actions for crate::SqliteStore {
    async fn get_action(&self, id: Uuid) -> Result<Action> {
        get(&self.read, id).await
    }

    async fn list_actions(&self, f: &ActionFilter, page: PageRequest) -> Result<Page<Action>> {
        list(&self.read, f, page).await
    }

    async fn actions_of(&self, situation_id: Uuid, limit: u32) -> Result<Vec<Action>> {
        of_situation(&self.read, situation_id, limit).await
    }

    async fn unreminded_overdue(&self, today: NaiveDate, limit: u32) -> Result<Vec<Action>> {
        unreminded_overdue(&self.read, today, limit).await
    }

    async fn action_reminders(&self, action_id: Uuid) -> Result<Vec<ActionReminder>> {
        reminders(&self.read, action_id).await
    }
}
