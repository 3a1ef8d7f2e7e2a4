//! Risk-analysis records on SQLite: assessments, legal qualifications, tags, forecast runs and
//! signals. Nested content is the domain's JSON in `body`.

use chrono::NaiveDate;
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::collections::HashMap;
use tocsin_domain::time::format as ts;
use tocsin_domain::{
    Actor, Assessment, Country, ForecastPoint, ForecastRun, ForecastScore, LegalQualification,
    SignalRecord, Tagged, Tlp,
};
use tocsin_store::{Done, Op, Result, StoreError};
use uuid::Uuid;

use crate::db_err;
use crate::rows::{parse_ts, parse_uuid, user_from_row, USER_COLS};

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("corrupt record body: {e}")))
}

async fn write_assessment(conn: &mut SqliteConnection, a: &Assessment, insert: bool) -> Result<()> {
    let q = if insert {
        "INSERT INTO assessments (situation_id, framework, as_of, status, tlp, author_id, version, \
         created_at, updated_at, body, id) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    } else {
        "UPDATE assessments SET situation_id=?, framework=?, as_of=?, status=?, tlp=?, author_id=?, \
         version=?, created_at=?, updated_at=?, body=? WHERE id=? AND version=? - 1"
    };
    let r = sqlx::query(q)
        .bind(a.situation_id.to_string())
        .bind(&a.framework)
        .bind(a.as_of.to_string())
        .bind(a.status.as_str())
        .bind(a.tlp.rank())
        .bind(a.author_id.to_string())
        .bind(a.version)
        .bind(ts(&a.created_at))
        .bind(ts(&a.updated_at))
        .bind(to_json(a)?)
        .bind(a.id.to_string())
        .bind(a.version)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    if r.rows_affected() != 1 {
        return Err(StoreError::Conflict(
            "assessment changed concurrently".into(),
        ));
    }
    Ok(())
}

/// Apply an analysis op, or `None` if `op` is not one.
pub(crate) async fn apply(
    conn: &mut SqliteConnection,
    actor: &Actor,
    op: &Op,
) -> Option<Result<Done>> {
    Some(match op {
        Op::GrantPermission {
            user_id,
            permission,
            on,
        } => grant(conn, *user_id, *permission, *on).await,
        Op::CreateAssessment(a) => write_assessment(conn, a, true)
            .await
            .map(|_| Done::Assessment(a.clone())),
        Op::ChangeAssessment { id, change } => change_assessment(conn, actor, *id, change).await,
        Op::CreateLegalQualification(q) => insert_legal(conn, q).await,
        Op::SetTags { kind, id, tags } => set_tags(conn, *kind, *id, tags).await,
        Op::StoreForecastRun(r) => store_forecast(conn, r).await,
        Op::RecordSignals(v) => record_signals(conn, v).await,
        _ => return None,
    })
}

async fn grant(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    p: tocsin_domain::Permission,
    on: bool,
) -> Result<Done> {
    let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = ?"))
        .bind(user_id.to_string())
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
    let mut u = user_from_row(&row)?;
    u.set_grant(p, on)?;
    sqlx::query("UPDATE users SET grants = ? WHERE id = ?")
        .bind(u.grants_text())
        .bind(user_id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(Done::User(Box::new(u)))
}

async fn change_assessment(
    conn: &mut SqliteConnection,
    actor: &Actor,
    id: Uuid,
    change: &tocsin_domain::AssessmentChange,
) -> Result<Done> {
    let body: String = sqlx::query_scalar("SELECT body FROM assessments WHERE id = ?")
        .bind(id.to_string())
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
    let mut a: Assessment = from_json(&body)?;
    a.apply(change.clone(), actor, tocsin_domain::time::now())?;
    write_assessment(conn, &a, false).await?;
    Ok(Done::Assessment(Box::new(a)))
}

async fn insert_legal(conn: &mut SqliteConnection, q: &LegalQualification) -> Result<Done> {
    sqlx::query(
        "INSERT INTO legal_qualifications (id, situation_id, crime, tlp, author_id, created_at, body) \
         VALUES (?,?,?,?,?,?,?)",
    )
    .bind(q.id.to_string())
    .bind(q.situation_id.to_string())
    .bind(q.crime.label())
    .bind(q.tlp.rank())
    .bind(q.author_id.to_string())
    .bind(ts(&q.created_at))
    .bind(to_json(q)?)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(Done::LegalQualification(Box::new(q.clone())))
}

async fn set_tags(
    conn: &mut SqliteConnection,
    kind: Tagged,
    id: Uuid,
    tags: &[String],
) -> Result<Done> {
    let table = match kind {
        Tagged::Incident => "incidents",
        Tagged::Report => "reports",
    };
    let exists: Option<i64> = sqlx::query_scalar(&format!("SELECT 1 FROM {table} WHERE id = ?"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    sqlx::query("DELETE FROM tags WHERE kind = ? AND record_id = ?")
        .bind(kind.as_str())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    for t in tags {
        sqlx::query("INSERT INTO tags (kind, record_id, tag) VALUES (?,?,?)")
            .bind(kind.as_str())
            .bind(id.to_string())
            .bind(t)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    Ok(Done::Count(tags.len() as u64))
}

async fn store_forecast(conn: &mut SqliteConnection, r: &ForecastRun) -> Result<Done> {
    sqlx::query(
        "INSERT INTO forecast_runs (id, year, model, data, countries, created_at) VALUES (?,?,?,?,?,?)",
    )
    .bind(r.id.to_string())
    .bind(r.year)
    .bind(&r.model)
    .bind(&r.data)
    .bind(r.countries as i64)
    .bind(ts(&r.created_at))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    for chunk in r.scores.chunks(100) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO forecast_scores (run_id, country, rank, probability, contributions) ",
        );
        let mut err = None;
        qb.push_values(chunk, |mut b, s| {
            let c = to_json(&s.contributions).unwrap_or_else(|e| {
                err = Some(e);
                String::new()
            });
            b.push_bind(r.id.to_string())
                .push_bind(s.country.code().to_string())
                .push_bind(s.rank as i64)
                .push_bind(s.probability)
                .push_bind(c);
        });
        if let Some(e) = err {
            return Err(e);
        }
        qb.build().execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(Done::Count(r.scores.len() as u64))
}

async fn record_signals(conn: &mut SqliteConnection, v: &[SignalRecord]) -> Result<Done> {
    let mut n = 0;
    for s in v {
        let r = sqlx::query(
            "INSERT INTO signals (id, country, admin1, metric, week_start, created_at, body, tlp) \
             VALUES (?,?,?,?,?,?,?,?) \
             ON CONFLICT (country, admin1, metric, week_start, tlp) DO NOTHING",
        )
        .bind(s.id.to_string())
        .bind(s.country.code())
        .bind(s.admin1.clone().unwrap_or_default())
        .bind(&s.metric)
        .bind(s.week_start.to_string())
        .bind(ts(&s.created_at))
        .bind(to_json(s)?)
        .bind(i64::from(s.tlp.rank()))
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        n += r.rows_affected();
    }
    Ok(Done::Count(n))
}

pub(crate) async fn get_assessment(pool: &SqlitePool, id: Uuid) -> Result<Assessment> {
    let body: String = sqlx::query_scalar("SELECT body FROM assessments WHERE id = ?")
        .bind(id.to_string())
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    from_json(&body)
}

pub(crate) async fn list_assessments(
    pool: &SqlitePool,
    situation_id: Option<Uuid>,
    limit: u32,
) -> Result<Vec<Assessment>> {
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT body FROM assessments");
    if let Some(s) = situation_id {
        qb.push(" WHERE situation_id = ").push_bind(s.to_string());
    }
    qb.push(" ORDER BY as_of DESC, created_at DESC LIMIT ")
        .push_bind(limit as i64);
    let rows = qb.build().fetch_all(pool).await.map_err(db_err)?;
    rows.iter()
        .map(|r| from_json(r.get::<&str, _>(0)))
        .collect()
}

pub(crate) async fn list_legal(
    pool: &SqlitePool,
    situation_id: Uuid,
) -> Result<Vec<LegalQualification>> {
    let rows = sqlx::query(
        "SELECT body FROM legal_qualifications WHERE situation_id = ? ORDER BY created_at, id",
    )
    .bind(situation_id.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| from_json(r.get::<&str, _>(0)))
        .collect()
}

pub(crate) async fn get_tags(
    pool: &SqlitePool,
    kind: Tagged,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<String>>> {
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT record_id, tag FROM tags WHERE kind = ");
        qb.push_bind(kind.as_str()).push(" AND record_id IN (");
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(id.to_string());
        }
        qb.push(") ORDER BY record_id, tag");
        for r in qb.build().fetch_all(pool).await.map_err(db_err)? {
            out.entry(parse_uuid(r.get(0))?).or_default().push(r.get(1));
        }
    }
    Ok(out)
}

pub(crate) async fn list_signals(
    pool: &SqlitePool,
    clearance: Tlp,
    country: Option<&Country>,
    since: Option<NaiveDate>,
    limit: u32,
) -> Result<Vec<SignalRecord>> {
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT body FROM signals WHERE 1 = 1");
    qb.push(" AND tlp = ")
        .push_bind(i64::from(clearance.rank()));
    if let Some(c) = country {
        qb.push(" AND country = ").push_bind(c.code().to_string());
    }
    if let Some(d) = since {
        qb.push(" AND week_start >= ").push_bind(d.to_string());
    }
    qb.push(" ORDER BY week_start DESC, country, admin1, metric LIMIT ")
        .push_bind(limit as i64);
    let rows = qb.build().fetch_all(pool).await.map_err(db_err)?;
    rows.iter()
        .map(|r| from_json(r.get::<&str, _>(0)))
        .collect()
}

async fn run_from_row(pool: &SqlitePool, r: &sqlx::sqlite::SqliteRow) -> Result<ForecastRun> {
    let id: String = r.get(0);
    let rows = sqlx::query(
        "SELECT country, rank, probability, contributions FROM forecast_scores \
         WHERE run_id = ? ORDER BY rank",
    )
    .bind(&id)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    let scores = rows
        .iter()
        .map(|s| {
            Ok(ForecastScore {
                country: Country::parse(s.get(0))?,
                rank: s.get::<i64, _>(1) as u32,
                probability: s.get(2),
                contributions: from_json(s.get::<&str, _>(3))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ForecastRun {
        id: parse_uuid(&id)?,
        year: r.get::<i64, _>(1) as i32,
        model: r.get(2),
        data: r.get(3),
        countries: r.get::<i64, _>(4) as u32,
        created_at: parse_ts(r.get(5))?,
        scores,
    })
}

const RUN_COLS: &str = "id, year, model, data, countries, created_at";

pub(crate) async fn get_forecast_run(pool: &SqlitePool, id: Uuid) -> Result<ForecastRun> {
    let r = sqlx::query(&format!(
        "SELECT {RUN_COLS} FROM forecast_runs WHERE id = ?"
    ))
    .bind(id.to_string())
    .fetch_one(pool)
    .await
    .map_err(db_err)?;
    run_from_row(pool, &r).await
}

pub(crate) async fn latest_forecast_run(pool: &SqlitePool) -> Result<Option<ForecastRun>> {
    let r = sqlx::query(&format!(
        "SELECT {RUN_COLS} FROM forecast_runs ORDER BY year DESC, created_at DESC LIMIT 1"
    ))
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    match r {
        Some(r) => Ok(Some(run_from_row(pool, &r).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn forecast_history(
    pool: &SqlitePool,
    country: &Country,
) -> Result<Vec<ForecastPoint>> {
    let rows = sqlx::query(
        "SELECT r.id, r.year, r.model, s.rank, r.countries, s.probability, r.created_at \
         FROM forecast_scores s JOIN forecast_runs r ON r.id = s.run_id \
         WHERE s.country = ? ORDER BY r.year, r.created_at",
    )
    .bind(country.code())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(ForecastPoint {
                run_id: parse_uuid(r.get(0))?,
                year: r.get::<i64, _>(1) as i32,
                model: r.get(2),
                rank: r.get::<i64, _>(3) as u32,
                countries: r.get::<i64, _>(4) as u32,
                probability: r.get(5),
                created_at: parse_ts(r.get(6))?,
            })
        })
        .collect()
}
