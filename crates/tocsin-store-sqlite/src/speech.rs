//! Lexicons on SQLite: the record's JSON in `lexicons.body` beside its name, version, enabled
//! state and CSV text; evaluations append-only in `lexicon_evaluations`; flags in
//! `speech_flags` (JSON in `body`, beside the columns lists filter on); the scanner token in
//! `speech_state`.

use sqlx::sqlite::{Sqlite, SqliteConnection};
use sqlx::QueryBuilder;
use tocsin_domain::time::format as ts;
use tocsin_domain::{Cursor, Page, PageRequest, PlacedFlag, SpeechFlag};
use tocsin_store::speech::{categories_column, from_body, placed_flag, to_body};
use tocsin_store::{
    FlagFilter, LexiconEvaluation, LexiconRecord, Result, SpeechStep, StoreError, TermEdit,
};
use uuid::Uuid;

use crate::db_err;

/// Replace the scanner token: the enabled lexicons may have changed.
async fn new_token(conn: &mut SqliteConnection) -> Result<()> {
    sqlx::query("UPDATE speech_state SET token = ? WHERE id = 1")
        .bind(tocsin_domain::random_id().simple().to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

async fn stored_version(conn: &mut SqliteConnection, name: &str) -> Result<Option<i64>> {
    sqlx::query_scalar("SELECT version FROM lexicons WHERE name = ?")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)
}

/// Apply one step inside the op's savepoint.
pub(crate) async fn apply(conn: &mut SqliteConnection, step: &SpeechStep) -> Result<()> {
    match step {
        SpeechStep::PutLexicon { lexicon: l, source } => {
            let done = if l.version == 1 {
                sqlx::query(
                    "INSERT INTO lexicons (name, version, enabled, body, source) \
                     VALUES (?,?,?,?,?) ON CONFLICT (name) DO NOTHING",
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
                    "UPDATE lexicons SET version=?, enabled=?, body=?, source=? \
                     WHERE name=? AND version=?",
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
                return new_token(conn).await;
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
                 VALUES (?,?,?,?,?)",
            )
            .bind(e.id.to_string())
            .bind(&e.lexicon)
            .bind(e.lexicon_version)
            .bind(ts(&e.at))
            .bind(to_body(&**e)?)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        SpeechStep::SetEnabled(l) => {
            let done = sqlx::query(
                "UPDATE lexicons SET enabled=?, body=? WHERE name=? AND version=? \
                 AND (NOT ? OR EXISTS (SELECT 1 FROM lexicon_evaluations e \
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
                return new_token(conn).await;
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
                 VALUES (?,?,?,?,?)",
            )
            .bind(e.id.to_string())
            .bind(&e.lexicon)
            .bind(e.version)
            .bind(ts(&e.at))
            .bind(to_body(&**e)?)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        SpeechStep::CreateFlag(f) => {
            if stored_version(conn, &f.lexicon).await?.is_none() {
                return Err(StoreError::NotFound);
            }
            let r = sqlx::query(
                "INSERT INTO speech_flags (id, report_id, item_id, tlp, lexicon, state, \
                 categories, created_at, version, body) VALUES (?,?,?,?,?,?,?,?,?,?)",
            )
            .bind(f.id.to_string())
            .bind(f.report_id.map(|x| x.to_string()))
            .bind(f.item_id.map(|x| x.to_string()))
            .bind(f.tlp.rank())
            .bind(&f.lexicon)
            .bind(f.state.as_str())
            .bind(categories_column(f))
            .bind(ts(&f.created_at))
            .bind(f.version)
            .bind(to_body(&**f)?)
            .execute(&mut *conn)
            .await;
            match r {
                Ok(_) => Ok(()),
                Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                    Err(StoreError::NotFound)
                }
                Err(e) => Err(db_err(e)),
            }
        }
        SpeechStep::ReviewFlag(f) => {
            let done = sqlx::query(
                "UPDATE speech_flags SET state=?, version=?, body=? WHERE id=? AND version=?",
            )
            .bind(f.state.as_str())
            .bind(f.version)
            .bind(to_body(&**f)?)
            .bind(f.id.to_string())
            .bind(f.version - 1)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
            let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM speech_flags WHERE id = ?")
                .bind(f.id.to_string())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
            match found {
                Some(_) => Err(StoreError::Conflict(
                    "the flag was reviewed meanwhile; reload it".into(),
                )),
                None => Err(StoreError::NotFound),
            }
        }
    }
}

fn reimported() -> StoreError {
    StoreError::Conflict("the lexicon was imported again meanwhile; reload it".into())
}

async fn moved_on(conn: &mut SqliteConnection, name: &str) -> Result<()> {
    match stored_version(conn, name).await? {
        Some(_) => Err(StoreError::Conflict(format!(
            "lexicon {name:?} changed meanwhile; try again"
        ))),
        None => Err(StoreError::NotFound),
    }
}

#[async_trait::async_trait]
impl tocsin_store::Speech for crate::SqliteStore {
    async fn get_lexicon(&self, name: &str) -> Result<LexiconRecord> {
        let b: String = sqlx::query_scalar("SELECT body FROM lexicons WHERE name = ?")
            .bind(name)
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        from_body("lexicon", &b)
    }

    async fn lexicon_source(&self, name: &str) -> Result<String> {
        sqlx::query_scalar("SELECT source FROM lexicons WHERE name = ?")
            .bind(name)
            .fetch_one(&self.read)
            .await
            .map_err(db_err)
    }

    async fn list_lexicons(&self) -> Result<Vec<LexiconRecord>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT body FROM lexicons ORDER BY name")
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter().map(|b| from_body("lexicon", b)).collect()
    }

    async fn lexicon_evaluations(&self, name: &str) -> Result<Vec<LexiconEvaluation>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM lexicon_evaluations WHERE lexicon = ? ORDER BY at DESC, id DESC",
        )
        .bind(name)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|b| from_body("lexicon evaluation", b))
            .collect()
    }

    async fn enabled_lexicons(&self) -> Result<Vec<(LexiconRecord, String)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT body, source FROM lexicons WHERE enabled ORDER BY name")
                .fetch_all(&self.read)
                .await
                .map_err(db_err)?;
        rows.iter()
            .map(|(b, s)| Ok((from_body("lexicon", b)?, s.clone())))
            .collect()
    }

    async fn term_history(&self, name: &str) -> Result<Vec<TermEdit>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM lexicon_term_edits WHERE lexicon = ? \
             ORDER BY at DESC, id DESC",
        )
        .bind(name)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|b| from_body("lexicon term edit", b))
            .collect()
    }

    async fn speech_token(&self) -> Result<String> {
        sqlx::query_scalar("SELECT token FROM speech_state WHERE id = 1")
            .fetch_one(&self.read)
            .await
            .map_err(db_err)
    }

    async fn get_flag(&self, id: Uuid) -> Result<SpeechFlag> {
        let b: String = sqlx::query_scalar("SELECT body FROM speech_flags WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        from_body("speech flag", &b)
    }

    async fn list_flags(&self, f: &FlagFilter, page: PageRequest) -> Result<Page<SpeechFlag>> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT body FROM speech_flags f WHERE f.tlp <= ");
        qb.push_bind(f.max_tlp.rank());
        if let Some(s) = f.state {
            qb.push(" AND f.state = ").push_bind(s.as_str());
        }
        if let Some(l) = &f.lexicon {
            qb.push(" AND f.lexicon = ").push_bind(l.clone());
        }
        if let Some(c) = &f.category {
            qb.push(" AND instr(f.categories, ")
                .push_bind(format!("|{c}|"))
                .push(") > 0");
        }
        crate::push_time_page(&mut qb, "f.created_at", "f.id", page)?;
        let rows: Vec<String> = qb
            .build_query_scalar()
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        let items = rows
            .iter()
            .map(|b| from_body("speech flag", b))
            .collect::<Result<Vec<SpeechFlag>>>()?;
        Ok(Page::from_rows(items, page.limit, |x| {
            Cursor::by_time(x.created_at, x.id)
        }))
    }

    async fn confirmed_flags(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        max_tlp: tocsin_domain::Tlp,
    ) -> Result<Vec<PlacedFlag>> {
        type Row = (
            String,
            Option<String>,
            Option<f64>,
            Option<f64>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT f.body, r.country, r.latitude, r.longitude, r.occurred_at, r.received_at, \
             m.body FROM speech_flags f \
             LEFT JOIN reports r ON r.id = f.report_id \
             LEFT JOIN monitored_items m ON m.id = f.item_id \
             WHERE f.state = 'confirmed' AND f.tlp <= ? AND f.created_at >= ? \
             ORDER BY f.created_at, f.id",
        )
        .bind(max_tlp.rank())
        .bind(ts(&since))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        let time = |t: Option<String>| t.as_deref().map(crate::rows::parse_ts).transpose();
        rows.into_iter()
            .map(|(body, country, lat, lon, occurred, received, item)| {
                placed_flag(
                    from_body("speech flag", &body)?,
                    country,
                    lat,
                    lon,
                    time(occurred)?,
                    time(received)?,
                    item.as_deref(),
                )
            })
            .collect()
    }

    async fn flags_of_reports(&self, reports: &[Uuid]) -> Result<Vec<SpeechFlag>> {
        let mut out = Vec::new();
        if reports.is_empty() {
            return Ok(out);
        }
        for chunk in reports.chunks(500) {
            let mut qb =
                QueryBuilder::<Sqlite>::new("SELECT body FROM speech_flags WHERE report_id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(id.to_string());
            }
            qb.push(") ORDER BY created_at DESC, id DESC");
            let rows: Vec<String> = qb
                .build_query_scalar()
                .fetch_all(&self.read)
                .await
                .map_err(db_err)?;
            for b in &rows {
                out.push(from_body("speech flag", b)?);
            }
        }
        Ok(out)
    }
}
