//! Lexicons on PostgreSQL: the record's JSON in `lexicons.body` beside its name, version, enabled
//! state and CSV text; evaluations append-only in `lexicon_evaluations`.

use sqlx::postgres::PgConnection;
use tocsin_store::speech::{from_body, to_body};
use tocsin_store::{LexiconEvaluation, LexiconRecord, Result, SpeechStep, StoreError, TermEdit};

use crate::db_err;

async fn stored_version(conn: &mut PgConnection, name: &str) -> Result<Option<i64>> {
    sqlx::query_scalar("SELECT version FROM lexicons WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)
}

/// Apply one step inside the op's savepoint.
pub(crate) async fn apply(conn: &mut PgConnection, step: &SpeechStep) -> Result<()> {
    match step {
        SpeechStep::PutLexicon { lexicon: l, source } => {
            let done = if l.version == 1 {
                sqlx::query(
                    "INSERT INTO lexicons (name, version, enabled, body, source) \
                     VALUES ($1,$2,$3,$4::jsonb,$5) ON CONFLICT (name) DO NOTHING",
                )
                .bind(&l.name)
                .bind(l.version)
                .bind(l.enabled)
                .bind(to_body(&**l)?)
                .bind(source)
                .execute(&mut *conn)
                .await
            } else {
                sqlx::query(
                    "UPDATE lexicons SET version=$1, enabled=$2, body=$3::jsonb, source=$4 \
                     WHERE name=$5 AND version=$6",
                )
                .bind(l.version)
                .bind(l.enabled)
                .bind(to_body(&**l)?)
                .bind(source)
                .bind(&l.name)
                .bind(l.version - 1)
                .execute(&mut *conn)
                .await
            }
            .map_err(db_err)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            moved_on(conn, &l.name).await
        }
        SpeechStep::RecordEvaluation(e) => {
            match stored_version(conn, &e.lexicon).await? {
                None => return Err(StoreError::NotFound),
                Some(v) if v != e.lexicon_version => return Err(reimported()),
                Some(_) => {}
            }
            sqlx::query(
                "INSERT INTO lexicon_evaluations (id, lexicon, lexicon_version, at, body) \
                 VALUES ($1,$2,$3,$4,$5::jsonb)",
            )
            .bind(e.id)
            .bind(&e.lexicon)
            .bind(e.lexicon_version)
            .bind(e.at)
            .bind(to_body(&**e)?)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        SpeechStep::SetEnabled(l) => {
            let done = sqlx::query(
                "UPDATE lexicons SET enabled=$1, body=$2::jsonb WHERE name=$3 AND version=$4 \
                 AND (NOT $5 OR EXISTS (SELECT 1 FROM lexicon_evaluations e \
                 WHERE e.lexicon = lexicons.name AND e.lexicon_version = lexicons.version))",
            )
            .bind(l.enabled)
            .bind(to_body(&**l)?)
            .bind(&l.name)
            .bind(l.version)
            .bind(l.enabled)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            match stored_version(conn, &l.name).await? {
                None => Err(StoreError::NotFound),
                Some(v) if v != l.version => Err(reimported()),
                Some(_) => Err(StoreError::Conflict(format!(
                    "lexicon {:?} has no evaluation of its current version: evaluate it first",
                    l.name
                ))),
            }
        }
        SpeechStep::RecordTermEdit(e) => {
            match stored_version(conn, &e.lexicon).await? {
                None => return Err(StoreError::NotFound),
                Some(v) if v != e.version => return Err(reimported()),
                Some(_) => {}
            }
            sqlx::query(
                "INSERT INTO lexicon_term_edits (id, lexicon, version, at, body) \
                 VALUES ($1,$2,$3,$4,$5::jsonb)",
            )
            .bind(e.id)
            .bind(&e.lexicon)
            .bind(e.version)
            .bind(e.at)
            .bind(to_body(&**e)?)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
    }
}

fn reimported() -> StoreError {
    StoreError::Conflict("the lexicon was imported again meanwhile; reload it".into())
}

async fn moved_on(conn: &mut PgConnection, name: &str) -> Result<()> {
    match stored_version(conn, name).await? {
        Some(_) => Err(StoreError::Conflict(format!(
            "lexicon {name:?} changed meanwhile; try again"
        ))),
        None => Err(StoreError::NotFound),
    }
}

#[async_trait::async_trait]
impl tocsin_store::Speech for crate::PostgresStore {
    async fn get_lexicon(&self, name: &str) -> Result<LexiconRecord> {
        let b: String = sqlx::query_scalar("SELECT body::text FROM lexicons WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        from_body("lexicon", &b)
    }

    async fn lexicon_source(&self, name: &str) -> Result<String> {
        sqlx::query_scalar("SELECT source FROM lexicons WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn list_lexicons(&self) -> Result<Vec<LexiconRecord>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT body::text FROM lexicons ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(|b| from_body("lexicon", b)).collect()
    }

    async fn lexicon_evaluations(&self, name: &str) -> Result<Vec<LexiconEvaluation>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT body::text FROM lexicon_evaluations WHERE lexicon = $1 \
             ORDER BY at DESC, id DESC",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|b| from_body("lexicon evaluation", b))
            .collect()
    }

    async fn enabled_lexicons(&self) -> Result<Vec<(LexiconRecord, String)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT body::text, source FROM lexicons WHERE enabled ORDER BY name")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter()
            .map(|(b, s)| Ok((from_body("lexicon", b)?, s.clone())))
            .collect()
    }

    async fn term_history(&self, name: &str) -> Result<Vec<TermEdit>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT body::text FROM lexicon_term_edits WHERE lexicon = $1 \
             ORDER BY at DESC, id DESC",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|b| from_body("lexicon term edit", b))
            .collect()
    }
}
