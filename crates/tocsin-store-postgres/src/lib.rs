//! PostgreSQL backend, for deployments that outgrow one machine or want several Tocsin
//! processes on one database. Same tables, indexes and guards as the SQLite backend, in native
//! types: `uuid` ids, `timestamptz`, `date`, `double precision`, TLP as a `smallint` rank,
//! `uuid[]` report lists, `bytea` sealed contacts, and the audit `detail` as `text` (it is
//! hashed, so it must come back byte-exact). Triggers (plpgsql, raising an exception) refuse any
//! UPDATE, DELETE or TRUNCATE of reports and of the audit log.
//!
//! Writes are committed in groups by one writer task per store, on connections of its own (see
//! the `writer` module): the writes waiting in its queue are committed together (a batch of new
//! reports as one statement), and each caller is answered only after that commit. Every batch
//! extends the audit chain only from the head its entries were chained to, under the lock of
//! the one-row `audit_head` table, so the chain stays linear however many processes write.
//! Reads use a pool of other connections.
//!
//! Durability: this store leaves `synchronous_commit` at its default, `on`, so a commit returns
//! only once its WAL is flushed to disk. That is only a guarantee if the *server* really
//! flushes: run PostgreSQL with `fsync = on`, `full_page_writes = on` and `synchronous_commit`
//! not `off` (all defaults), never with them turned off for speed. [`PostgresStore::open`] logs
//! a warning when it finds `fsync` or `synchronous_commit` off.
//!
//! Migrations are embedded and run at [`PostgresStore::open`] under sqlx's advisory lock, so
//! several processes may open the same database at once. The database itself must exist.

mod actions;
mod alerting;
mod analysis;
mod broadcasts;
mod contacts;
mod credentials;
mod evidence_files;
mod jobs;
mod matching;
mod monitor;
mod rows;
mod rumours;
mod share;
mod speech;
mod steps;
mod subscribers;
mod triage;
mod verification;
mod writer;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::Connection;
use sqlx::{Postgres, QueryBuilder, Row};
use std::time::Duration;
use tocsin_domain::{
    Actor, AuditEntry, Cursor, Incident, IncidentFilter, MapPoint, Page, PageRequest, Report,
    ReportFilter, SealedContact, Situation, Source, Tlp, User,
};
use tocsin_domain::{NewReport, OutboundMessage};
use tocsin_store::{
    stored_report, Analysis, Counts, Deliveries, Done, ImportChunk, Incidents, Op, Reports, Result,
    SendOutcome, Store, StoreError, StoredFormClaim, Users, WebSession,
};
use uuid::Uuid;

use rows::*;

/// The most connections one store keeps open.
const MAX_CONNECTIONS: u32 = 16;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    writer: writer::Writer,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresStore")
    }
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_string())
        }
        e => StoreError::Backend(e.to_string()),
    }
}

impl PostgresStore {
    /// Connect to the existing database at `url` (`postgres://user@host:5432/tocsin`) and run
    /// pending migrations.
    pub async fn open(url: &str) -> Result<PostgresStore> {
        let opts: PgConnectOptions = url.parse().map_err(db_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await
            .map_err(db_err)?;
        for setting in ["fsync", "synchronous_commit"] {
            let value: String = sqlx::query_scalar(&format!("SHOW {setting}"))
                .fetch_one(&pool)
                .await
                .map_err(db_err)?;
            if value == "off" {
                tracing::warn!(
                    "PostgreSQL runs with {setting} = off: writes Tocsin has acknowledged \
                     can be lost in a crash"
                );
            }
        }
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))?;
        // Writes go through the writer's own connections (one, and a second under load).
        let conn = PgConnection::connect_with(&opts).await.map_err(db_err)?;
        let writer = writer::Writer::spawn(conn, opts);
        Ok(PostgresStore { pool, writer })
    }

    /// Close every connection, after the writes already queued, waiting for connections in use
    /// to be returned.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

async fn apply_op(conn: &mut PgConnection, actor: &Actor, op: &Op) -> Result<Done> {
    Ok(match op {
        Op::CreateReport(r) => Done::Report(Box::new(insert_report(conn, r).await?)),
        Op::CreateIncident(i) => {
            insert_incidents(conn, std::slice::from_ref(&**i), false).await?;
            Done::Incident(i.clone())
        }
        Op::ImportIncidents { dataset, incidents } => {
            tocsin_store::check_import(dataset, incidents)?;
            let updated = count_existing(conn, dataset, incidents).await?;
            insert_incidents(conn, incidents, true).await?;
            Done::Imported {
                inserted: incidents.len() as u64 - updated,
                updated,
            }
        }
        Op::UpdateIncident(id, patch) => {
            let row = sqlx::query(&format!(
                "SELECT {INCIDENT_COLS} FROM incidents WHERE id = $1 FOR UPDATE"
            ))
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
            let mut inc = incident_from_row(&row)?;
            let old_version = inc.version;
            inc.apply((**patch).clone())?;
            let n = replace_incident(conn, &inc, old_version).await?;
            if n != 1 {
                // Cannot happen while the row is locked; kept as a guard.
                return Err(StoreError::Conflict("incident changed concurrently".into()));
            }
            Done::Incident(Box::new(inc))
        }
        Op::CreateSource(ns) => {
            steps::insert_source(conn, ns, None).await?;
            Done::Source(Box::new(ns.source.clone()))
        }
        Op::CreateSituation(s) => {
            sqlx::query(&format!(
                "INSERT INTO situations ({SITUATION_COLS}, admin1) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
            ))
            .bind(s.id)
            .bind(&s.name)
            .bind(s.country.code())
            .bind(&s.admin1)
            .bind(&s.status)
            .bind(&s.description)
            .bind(s.tlp.rank())
            .bind(s.created_at)
            .bind(s.admin1.first())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Done::Situation(s.clone())
        }
        Op::UpdateSituation(s) => {
            let r = sqlx::query(
                "UPDATE situations SET name = $1, admin1_areas = $2, admin1 = $3, status = $4, \
                 description = $5 WHERE id = $6",
            )
            .bind(&s.name)
            .bind(&s.admin1)
            .bind(s.admin1.first())
            .bind(&s.status)
            .bind(&s.description)
            .bind(s.id)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if r.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Done::Situation(s.clone())
        }
        Op::CreateUser(u) => {
            sqlx::query(&format!(
                "INSERT INTO users ({USER_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
            ))
            .bind(u.id)
            .bind(&u.username)
            .bind(u.role.as_str())
            .bind(u.clearance.rank())
            .bind(&u.password_hash)
            .bind(u.created_at)
            .bind(u.disabled)
            .bind(u.grants_text())
            .bind(&u.time_zone)
            .bind(u.language.map(|l| l.code()))
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Done::User(u.clone())
        }
        Op::CreateToken(t) => {
            sqlx::query(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, revoked) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7)",
            )
            .bind(t.id)
            .bind(t.user_id)
            .bind(&t.name)
            .bind(&t.token_hash)
            .bind(t.created_at)
            .bind(t.expires_at)
            .bind(t.revoked)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Done::Unit
        }
        Op::CreateSession(s) => {
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) \
                 VALUES ($1,$2,$3,$4,$5)",
            )
            .bind(&s.id_hash)
            .bind(s.user_id)
            .bind(&s.csrf_token)
            .bind(s.created_at)
            .bind(s.expires_at)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Done::Unit
        }
        Op::DeleteSession(h) => {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(h)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Done::Unit
        }
        Op::SetMeta(k, v) => {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(k)
            .bind(v)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Done::Unit
        }
        Op::Audit(_) => Done::Unit,
        Op::All { steps, .. } => {
            for step in steps {
                steps::apply(conn, step).await?;
            }
            Done::Unit
        }
        Op::EnqueueSms(m) => {
            insert_outbound(conn, m).await?;
            Done::Unit
        }
        Op::ClaimOutbound {
            gateway,
            limit,
            lease_secs,
        } => {
            let now = tocsin_domain::time::now();
            let until = now + chrono::Duration::seconds(*lease_secs);
            let mut qb = QueryBuilder::<Postgres>::new(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = ",
            );
            qb.push_bind(until).push(", updated_at = ").push_bind(now);
            qb.push(" WHERE id IN (SELECT id FROM outbox WHERE status IN ('queued', 'sending') AND next_attempt_at <= ")
                .push_bind(now);
            match gateway {
                Some(g) => {
                    qb.push(" AND gateway = ").push_bind(g.clone());
                }
                None => {
                    qb.push(" AND gateway = ANY(").push_bind(
                        tocsin_store::PUSH_GATEWAYS
                            .iter()
                            .map(|g| g.to_string())
                            .collect::<Vec<_>>(),
                    );
                    qb.push(")");
                }
            }
            qb.push(" ORDER BY next_attempt_at, id LIMIT ")
                .push_bind(i64::from(*limit))
                .push(" FOR UPDATE SKIP LOCKED) RETURNING ")
                .push(OUTBOX_COLS);
            let rows = qb.build().fetch_all(&mut *conn).await.map_err(db_err)?;
            let mut v = rows
                .iter()
                .map(outbound_from_row)
                .collect::<Result<Vec<_>>>()?;
            v.sort_by_key(|m| (m.created_at, m.id));
            Done::Outbound(v)
        }
        Op::SettleOutbound { id, outcome } => {
            let now = tocsin_domain::time::now();
            let attempts: i32 =
                sqlx::query_scalar("SELECT attempts FROM outbox WHERE id = $1 FOR UPDATE")
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_err)?;
            let (status, next, provider, error) = match outcome {
                SendOutcome::Sent(p) => ("sent", now, p.clone(), None),
                SendOutcome::Retry(e) => (
                    "queued",
                    now + chrono::Duration::seconds(tocsin_domain::sms::backoff_secs(attempts)),
                    None,
                    Some(e.clone()),
                ),
                SendOutcome::RetryAfter(e, secs) => (
                    "queued",
                    now + chrono::Duration::seconds((*secs).min(86_400) as i64),
                    None,
                    Some(e.clone()),
                ),
                SendOutcome::Failed(e) => ("failed", now, None, Some(e.clone())),
            };
            // A delivery report may arrive before the send is recorded: never downgrade a
            // delivered or failed message, and only a claimed message can go back to the queue.
            let from: Vec<String> = match outcome {
                SendOutcome::Sent(_) | SendOutcome::Retry(_) | SendOutcome::RetryAfter(..) => {
                    vec!["sending".into()]
                }
                SendOutcome::Failed(_) => vec!["sending".into(), "queued".into()],
            };
            sqlx::query(
                "UPDATE outbox SET provider_key = COALESCE($1, provider_key), \
                 last_error = COALESCE($2, last_error), updated_at = $3 WHERE id = $4",
            )
            .bind(&provider)
            .bind(&error)
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            sqlx::query("UPDATE outbox SET status = $1, next_attempt_at = $2 WHERE id = $3 AND status = ANY($4)")
                .bind(status)
                .bind(next)
                .bind(id)
                .bind(&from)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Done::Unit
        }
        Op::DeliveryReport {
            gateway,
            provider_key,
            message_id,
            delivered,
        } => {
            let status = if *delivered { "delivered" } else { "failed" };
            // Matched by the gateway's id, or by our own id (Kannel's dlr-url carries it and may
            // call before the send is recorded).
            sqlx::query(
                "UPDATE outbox SET status = $1, updated_at = $2 WHERE gateway = $3 \
                 AND (provider_key = $4 OR id = $5) AND status IN ('sending', 'sent', 'delivered')",
            )
            .bind(status)
            .bind(tocsin_domain::time::now())
            .bind(gateway)
            .bind(provider_key)
            .bind(message_id)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Done::Unit
        }
        Op::GrantPermission { .. }
        | Op::CreateAssessment(_)
        | Op::ChangeAssessment { .. }
        | Op::CreateLegalQualification(_)
        | Op::SetTags { .. }
        | Op::StoreForecastRun(_)
        | Op::RecordSignals(_) => match analysis::apply(conn, actor, op).await {
            Some(done) => done?,
            None => unreachable!("analysis::apply handles every analysis op"),
        },
        Op::RevokeToken(id) => credentials::revoke_token(conn, *id).await?,
        Op::StoreItems { items, feed } => {
            monitor::store_items(conn, items, feed.as_deref()).await?
        }
        Op::StoreSuggestions(v) => {
            for x in v {
                sqlx::query(
                    "INSERT INTO report_suggestions (report_id, computed_at, matches) \
                     SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM reports WHERE id = $1) \
                     ON CONFLICT (report_id) DO UPDATE SET computed_at = excluded.computed_at, \
                     matches = excluded.matches",
                )
                .bind(x.report_id)
                .bind(x.computed_at)
                .bind(&x.matches)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            }
            Done::Unit
        }
    })
}

pub(crate) async fn insert_report(conn: &mut PgConnection, r: &NewReport) -> Result<Report> {
    let source: Option<String> = sqlx::query_scalar(
        "INSERT INTO reports (id, channel, provider_key, source_id, text, tlp, latitude, longitude, \
         country, occurred_at, received_at, language, category, place_name, geo_precision, place_unresolved) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) \
         RETURNING (SELECT handle FROM sources WHERE sources.id = reports.source_id)",
    )
    .bind(r.id)
    .bind(r.channel.as_str())
    .bind(&r.provider_key)
    .bind(r.source_id)
    .bind(&r.text)
    .bind(r.tlp.rank())
    .bind(r.latitude)
    .bind(r.longitude)
    .bind(r.country.as_ref().map(|c| c.code()))
    .bind(r.occurred_at)
    .bind(r.received_at)
    .bind(&r.meta.language)
    .bind(&r.meta.category)
    .bind(&r.meta.place_name)
    .bind(r.meta.geo_precision)
    .bind(r.meta.place_unresolved)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(stored_report(r, source))
}

pub(crate) async fn insert_outbound(conn: &mut PgConnection, m: &OutboundMessage) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO outbox ({OUTBOX_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)"
    ))
    .bind(m.id)
    .bind(&m.idempotency_key)
    .bind(&m.gateway)
    .bind(m.source_id)
    .bind(m.report_id)
    .bind(&m.text)
    .bind(m.status.as_str())
    .bind(m.attempts)
    .bind(m.next_attempt_at)
    .bind(&m.provider_key)
    .bind(&m.last_error)
    .bind(m.created_at)
    .bind(m.updated_at)
    .bind(&m.sender)
    .bind(m.recipient_kind.as_str())
    .bind(m.user_id)
    .bind(m.address.as_ref().map(|a| a.0.clone()))
    .bind(m.tlp.rank())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Rows per multi-row INSERT (30 columns each, well under PostgreSQL's 65,535 parameters).
const ROWS_PER_INSERT: usize = 1000;

/// Replace an incident's row by `inc` if the stored one is still at `old_version`; the number
/// of rows changed (0 when it moved on or is gone).
pub(crate) async fn replace_incident(
    conn: &mut PgConnection,
    inc: &Incident,
    old_version: i64,
) -> Result<u64> {
    let n = sqlx::query(
        "UPDATE incidents SET event_date=$1, date_precision=$2, event_type=$3, sub_event_type=$4, \
         country=$5, admin1=$6, admin2=$7, location=$8, latitude=$9, longitude=$10, geo_precision=$11, \
         actor1=$12, actor2=$13, targeted_group=$14, fatalities=$15, fatalities_low=$16, \
         fatalities_high=$17, credibility=$18, verification_status=$19, description=$20, tlp=$21, \
         situation_id=$22, report_ids=$23, updated_at=$24, version=$25, violence_type=$26 \
         WHERE id=$27 AND version=$28",
    )
    .bind(inc.event_date)
    .bind(inc.date_precision)
    .bind(&inc.event_type)
    .bind(&inc.sub_event_type)
    .bind(inc.country.code())
    .bind(&inc.admin1)
    .bind(&inc.admin2)
    .bind(&inc.location)
    .bind(inc.latitude)
    .bind(inc.longitude)
    .bind(inc.geo_precision)
    .bind(&inc.actor1)
    .bind(&inc.actor2)
    .bind(&inc.targeted_group)
    .bind(inc.fatalities)
    .bind(inc.fatalities_low)
    .bind(inc.fatalities_high)
    .bind(inc.credibility)
    .bind(inc.verification_status.as_str())
    .bind(&inc.description)
    .bind(inc.tlp.rank())
    .bind(inc.situation_id)
    .bind(&inc.report_ids)
    .bind(inc.updated_at)
    .bind(inc.version)
    .bind(inc.violence_type)
    .bind(inc.id)
    .bind(old_version)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(n.rows_affected())
}

pub(crate) async fn insert_incidents(
    conn: &mut PgConnection,
    incidents: &[Incident],
    upsert: bool,
) -> Result<()> {
    for chunk in incidents.chunks(ROWS_PER_INSERT) {
        let mut qb =
            QueryBuilder::<Postgres>::new(format!("INSERT INTO incidents ({INCIDENT_COLS}) "));
        qb.push_values(chunk, |mut b, i| {
            b.push_bind(i.id)
                .push_bind(i.event_date)
                .push_bind(i.date_precision)
                .push_bind(i.event_type.clone())
                .push_bind(i.sub_event_type.clone())
                .push_bind(i.country.code().to_string())
                .push_bind(i.admin1.clone())
                .push_bind(i.admin2.clone())
                .push_bind(i.location.clone())
                .push_bind(i.latitude)
                .push_bind(i.longitude)
                .push_bind(i.geo_precision)
                .push_bind(i.actor1.clone())
                .push_bind(i.actor2.clone())
                .push_bind(i.targeted_group.clone())
                .push_bind(i.fatalities)
                .push_bind(i.fatalities_low)
                .push_bind(i.fatalities_high)
                .push_bind(i.credibility)
                .push_bind(i.verification_status.as_str())
                .push_bind(i.description.clone())
                .push_bind(i.tlp.rank())
                .push_bind(i.situation_id)
                .push_bind(i.report_ids.clone())
                .push_bind(i.dataset.clone())
                .push_bind(i.external_id.clone())
                .push_bind(i.created_at)
                .push_bind(i.updated_at)
                .push_bind(i.version)
                .push_bind(i.violence_type);
        });
        if upsert {
            qb.push(INCIDENT_UPSERT);
        }
        qb.build().execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(())
}

/// How many of these external ids the dataset already holds.
async fn count_existing(
    conn: &mut PgConnection,
    dataset: &str,
    incidents: &[Incident],
) -> Result<u64> {
    let ids: Vec<String> = incidents
        .iter()
        .filter_map(|i| i.external_id.clone())
        .collect();
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM incidents WHERE dataset = $1 AND external_id = ANY($2)",
    )
    .bind(dataset)
    .bind(&ids)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(n as u64)
}

/// `SELECT` of the incidents matching `f`, capped at its `max_tlp`; order and paging to add.
fn incident_query(f: &IncidentFilter) -> QueryBuilder<'static, Postgres> {
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "SELECT {INCIDENT_COLS} FROM incidents WHERE NOT retracted AND tlp <= "
    ));
    qb.push_bind(f.max_tlp.rank());
    if let Some(c) = &f.country {
        qb.push(" AND country = ").push_bind(c.code().to_string());
    }
    if let Some(d) = f.from {
        qb.push(" AND event_date >= ").push_bind(d);
    }
    if let Some(d) = f.to {
        qb.push(" AND event_date <= ").push_bind(d);
    }
    if let Some(b) = f.bbox {
        qb.push(" AND longitude BETWEEN ")
            .push_bind(b.min_lon)
            .push(" AND ")
            .push_bind(b.max_lon);
        qb.push(" AND latitude BETWEEN ")
            .push_bind(b.min_lat)
            .push(" AND ")
            .push_bind(b.max_lat);
    }
    if let Some(t) = &f.event_type {
        qb.push(" AND event_type = ").push_bind(t.clone());
    }
    if let Some(v) = f.verification_status {
        qb.push(" AND verification_status = ").push_bind(v.as_str());
    }
    if let Some(t) = f.tlp {
        qb.push(" AND tlp = ").push_bind(t.rank());
    }
    if let Some(s) = f.situation_id {
        qb.push(" AND situation_id = ").push_bind(s);
    }
    qb
}

/// Keyset paging over a list ordered by a time column, then id, newest first (records whose
/// ids are random).
pub(crate) fn push_time_page(
    qb: &mut QueryBuilder<'_, Postgres>,
    time: &str,
    id: &str,
    page: PageRequest,
) -> Result<()> {
    if let Some(c) = page.after {
        qb.push(format!(" AND ({time}, {id}) < ("))
            .push_bind(c.require_time()?)
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    qb.push(format!(" ORDER BY {time} DESC, {id} DESC LIMIT "))
        .push_bind(i64::from(page.limit) + 1);
    Ok(())
}

fn push_page(qb: &mut QueryBuilder<'_, Postgres>, alias: &str, page: PageRequest) {
    if let Some(c) = page.after {
        qb.push(format!(" AND {alias}id < ")).push_bind(c.id);
    }
    qb.push(format!(" ORDER BY {alias}id DESC LIMIT "))
        .push_bind(i64::from(page.limit) + 1);
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))
    }

    async fn write(&self, actor: &Actor, op: Op) -> Result<Done> {
        // Group commit: see the `writer` module.
        self.writer.write(actor, op).await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn counts(&self) -> Result<Counts> {
        let r = sqlx::query(
            "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM incidents), \
             (SELECT count(*) FROM sources), (SELECT count(*) FROM situations), \
             (SELECT count(*) FROM users)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(Counts {
            reports: col(&r, 0)?,
            incidents: col(&r, 1)?,
            sources: col(&r, 2)?,
            situations: col(&r, 3)?,
            users: col(&r, 4)?,
        })
    }
}

#[async_trait]
impl Reports for PostgresStore {
    async fn get_report(&self, id: Uuid) -> Result<Report> {
        let row = sqlx::query(&format!("{REPORT_SELECT} WHERE r.id = $1"))
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        report_from_row(&row)
    }

    async fn list_reports(&self, f: &ReportFilter, page: PageRequest) -> Result<Page<Report>> {
        let mut qb = QueryBuilder::<Postgres>::new(REPORT_SELECT);
        qb.push(" WHERE r.tlp <= ").push_bind(f.max_tlp.rank());
        if let Some(c) = &f.country {
            qb.push(" AND r.country = ").push_bind(c.code().to_string());
        }
        if let Some(t) = f.from {
            qb.push(" AND r.received_at >= ").push_bind(t);
        }
        if let Some(t) = f.to {
            qb.push(" AND r.received_at < ").push_bind(t);
        }
        if let Some(b) = f.bbox {
            qb.push(" AND r.longitude BETWEEN ")
                .push_bind(b.min_lon)
                .push(" AND ")
                .push_bind(b.max_lon);
            qb.push(" AND r.latitude BETWEEN ")
                .push_bind(b.min_lat)
                .push(" AND ")
                .push_bind(b.max_lat);
        }
        if let Some(t) = f.tlp {
            qb.push(" AND r.tlp = ").push_bind(t.rank());
        }
        if let Some(c) = f.channel {
            qb.push(" AND r.channel = ").push_bind(c.as_str());
        }
        push_time_page(&mut qb, "r.received_at", "r.id", page)?;
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        let items = rows
            .iter()
            .map(report_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page.limit, |r| {
            Cursor::by_time(r.received_at, r.id)
        }))
    }

    async fn get_source(&self, id: Uuid) -> Result<Source> {
        let row = sqlx::query(&format!("SELECT {SOURCE_COLS} FROM sources WHERE id = $1"))
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        source_from_row(&row)
    }

    async fn get_source_by_handle(&self, handle: &str) -> Result<Source> {
        let row = sqlx::query(&format!(
            "SELECT {SOURCE_COLS} FROM sources WHERE handle = $1"
        ))
        .bind(handle)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        source_from_row(&row)
    }

    async fn list_sources(&self, max_tlp: Tlp, page: PageRequest) -> Result<Page<Source>> {
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "SELECT {SOURCE_COLS} FROM sources WHERE tlp <= "
        ));
        qb.push_bind(max_tlp.rank());
        push_time_page(&mut qb, "created_at", "id", page)?;
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        let items = rows
            .iter()
            .map(source_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page.limit, |s| {
            Cursor::by_time(s.created_at, s.id)
        }))
    }

    async fn get_source_contact(&self, id: Uuid) -> Result<Option<SealedContact>> {
        let c: Option<Vec<u8>> = sqlx::query_scalar("SELECT contact FROM sources WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(c.map(SealedContact))
    }

    async fn source_by_phone(&self, phone_hash: &str) -> Result<Option<Source>> {
        let row = sqlx::query(&format!(
            "SELECT {SOURCE_COLS} FROM sources WHERE phone_hash = $1"
        ))
        .bind(phone_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(source_from_row).transpose()
    }

    async fn report_by_provider_key(
        &self,
        channel: tocsin_domain::Channel,
        provider_key: &str,
    ) -> Result<Option<Report>> {
        let row = sqlx::query(&format!(
            "{REPORT_SELECT} WHERE r.channel = $1 AND r.provider_key = $2"
        ))
        .bind(channel.as_str())
        .bind(provider_key)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(report_from_row).transpose()
    }

    async fn report_by_text_since(
        &self,
        source_id: Uuid,
        text: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Report>> {
        let row = sqlx::query(&format!(
            "{REPORT_SELECT} WHERE r.source_id = $1 AND r.received_at >= $2 AND r.text = $3 LIMIT 1"
        ))
        .bind(source_id)
        .bind(since)
        .bind(text)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(report_from_row).transpose()
    }

    async fn get_form_claim(&self, code_hash: &str) -> Result<Option<StoredFormClaim>> {
        let row = sqlx::query(
            "SELECT report_id, ack_text, expires_at, claimed_source FROM form_claims WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(StoredFormClaim {
            claim: tocsin_domain::FormClaim {
                code_hash: code_hash.to_string(),
                report_id: col(&row, 0)?,
                ack_text: col(&row, 1)?,
                expires_at: col(&row, 2)?,
            },
            claimed_source: col(&row, 3)?,
        }))
    }
}

#[async_trait]
impl Incidents for PostgresStore {
    async fn get_incident(&self, id: Uuid) -> Result<Incident> {
        let row = sqlx::query(&format!(
            "SELECT {INCIDENT_COLS} FROM incidents WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        incident_from_row(&row)
    }

    async fn get_incidents(&self, ids: &[Uuid]) -> Result<Vec<Incident>> {
        let rows = sqlx::query(&format!(
            "SELECT {INCIDENT_COLS} FROM incidents WHERE id = ANY($1)"
        ))
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(incident_from_row).collect()
    }

    async fn list_incidents(
        &self,
        f: &IncidentFilter,
        page: PageRequest,
    ) -> Result<Page<Incident>> {
        let mut qb = incident_query(f);
        if let Some(c) = page.after {
            let d = c.require_date()?;
            qb.push(" AND (event_date < ")
                .push_bind(d)
                .push(" OR (event_date = ")
                .push_bind(d)
                .push(" AND id < ")
                .push_bind(c.id)
                .push("))");
        }
        qb.push(" ORDER BY event_date DESC, id DESC LIMIT ")
            .push_bind(i64::from(page.limit) + 1);
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        let items = rows
            .iter()
            .map(incident_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page.limit, |i| {
            Cursor::by_date(i.event_date, i.id)
        }))
    }

    async fn scan_incidents(
        &self,
        f: &IncidentFilter,
        out: tokio::sync::mpsc::Sender<Vec<Incident>>,
    ) -> Result<u64> {
        use futures::TryStreamExt;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // One snapshot for the whole read, however long the receiver takes.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut qb = incident_query(f);
        let mut rows = qb.build().fetch(&mut *tx);
        let mut chunk = Vec::with_capacity(tocsin_store::SCAN_CHUNK);
        let mut n = 0;
        while let Some(r) = rows.try_next().await.map_err(db_err)? {
            chunk.push(incident_from_row(&r)?);
            if chunk.len() == tocsin_store::SCAN_CHUNK {
                let full =
                    std::mem::replace(&mut chunk, Vec::with_capacity(tocsin_store::SCAN_CHUNK));
                let len = full.len() as u64;
                if out.send(full).await.is_err() {
                    return Ok(n);
                }
                n += len;
            }
        }
        // A chunk counts only if it was taken: a receiver gone by then did not get it.
        let last = chunk.len() as u64;
        if last > 0 && out.send(chunk).await.is_ok() {
            n += last;
        }
        Ok(n)
    }

    async fn import_stream(
        &self,
        actor: &Actor,
        mut rows: tokio::sync::mpsc::Receiver<ImportChunk>,
    ) -> Result<(u64, u64)> {
        // One transaction: dropped unfinished on any error or a stream cut short, which rolls
        // every batch back.
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let (mut inserted, mut updated) = (0, 0);
        let mut datasets = std::collections::BTreeSet::new();
        loop {
            let (dataset, mut batch) = match rows.recv().await {
                Some(ImportChunk::Rows { dataset, incidents }) => (dataset, incidents),
                Some(ImportChunk::End) => break,
                None => {
                    return Err(StoreError::Backend(
                        "the import stopped before its end; nothing was imported".into(),
                    ))
                }
            };
            tocsin_store::dedupe_import(&mut batch);
            tocsin_store::check_import(&dataset, &batch)?;
            let existing = count_existing(&mut tx, &dataset, &batch).await?;
            insert_incidents(&mut tx, &batch, true).await?;
            updated += existing;
            inserted += batch.len() as u64 - existing;
            datasets.insert(dataset);
        }
        writer::append_audits(
            &mut tx,
            vec![tocsin_store::import_audit(
                actor, &datasets, inserted, updated,
            )],
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok((inserted, updated))
    }

    async fn incident_days(
        &self,
        q: &tocsin_store::DaysQuery,
    ) -> Result<Vec<tocsin_store::DayGroup>> {
        // Two index range reads: the country's incidents in the window, and the situation's
        // elsewhere.
        let cols =
            "SELECT event_date, country, admin1, COALESCE(situation_id = $1, false), count(*), \
                    COALESCE(sum(fatalities), 0)::bigint, min(longitude), min(latitude), \
                    max(longitude), max(latitude) FROM incidents";
        let tail = "AND event_date BETWEEN $3 AND $4 AND tlp <= $5 AND NOT retracted \
                    GROUP BY event_date, country, admin1, COALESCE(situation_id = $1, false)";
        let sql = format!(
            "{cols} WHERE country = $2 {tail} UNION ALL {cols} WHERE situation_id = $1 AND country <> $2 {tail}"
        );
        let rows = sqlx::query(&sql)
            .bind(q.situation_id)
            .bind(q.country.code())
            .bind(q.from)
            .bind(q.to)
            .bind(q.max_tlp.rank())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(tocsin_store::DayGroup {
                    date: r.try_get(0).map_err(db_err)?,
                    country: tocsin_domain::Country::parse(
                        r.try_get::<&str, _>(1).map_err(db_err)?,
                    )?,
                    admin1: r.try_get(2).map_err(db_err)?,
                    in_situation: r.try_get(3).map_err(db_err)?,
                    incidents: r.try_get::<i64, _>(4).map_err(db_err)?.max(0) as u64,
                    fatalities: r.try_get::<i64, _>(5).map_err(db_err)?.max(0) as u64,
                    bounds: [
                        r.try_get(6).map_err(db_err)?,
                        r.try_get(7).map_err(db_err)?,
                        r.try_get(8).map_err(db_err)?,
                        r.try_get(9).map_err(db_err)?,
                    ],
                })
            })
            .collect()
    }

    async fn map_points(
        &self,
        since: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<MapPoint>> {
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT id, event_date, event_type, country, latitude, longitude, fatalities, tlp, updated_at, \
             verification_status, situation_id, admin1, retracted FROM incidents",
        );
        if let Some((t, id)) = since {
            qb.push(" WHERE (updated_at, id) > (")
                .push_bind(t)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        qb.push(" ORDER BY updated_at, id LIMIT ")
            .push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(MapPoint {
                    id: r.try_get(0).map_err(db_err)?,
                    event_date: r.try_get(1).map_err(db_err)?,
                    event_type: r.try_get(2).map_err(db_err)?,
                    country: tocsin_domain::Country::parse(
                        r.try_get::<&str, _>(3).map_err(db_err)?,
                    )?,
                    latitude: r.try_get(4).map_err(db_err)?,
                    longitude: r.try_get(5).map_err(db_err)?,
                    fatalities: r.try_get(6).map_err(db_err)?,
                    tlp: Tlp::from_rank(r.try_get::<i16, _>(7).map_err(db_err)?.into())
                        .ok_or_else(|| StoreError::Backend("corrupt TLP".into()))?,
                    updated_at: r.try_get(8).map_err(db_err)?,
                    verification_status: tocsin_domain::VerificationStatus::parse(
                        r.try_get::<&str, _>(9).map_err(db_err)?,
                    )
                    .map_err(|_| StoreError::Backend("corrupt verification status".into()))?,
                    situation_id: r.try_get(10).map_err(db_err)?,
                    admin1: r.try_get(11).map_err(db_err)?,
                    retracted: r.try_get(12).map_err(db_err)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl Users for PostgresStore {
    async fn get_user(&self, id: Uuid) -> Result<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        user_from_row(&row)
    }

    async fn get_user_by_name(&self, username: &str) -> Result<User> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        user_from_row(&row)
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        // Bytewise order ("C" collation), as SQLite sorts, whatever the database's locale.
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users ORDER BY username COLLATE \"C\""
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn user_for_token(&self, token_hash: &str) -> Result<User> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users WHERE id = \
             (SELECT user_id FROM api_tokens WHERE token_hash = $1 AND NOT revoked \
             AND (expires_at IS NULL OR expires_at > $2))"
        ))
        .bind(token_hash)
        .bind(tocsin_domain::time::now())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        user_from_row(&row)
    }

    async fn get_session(&self, id_hash: &str) -> Result<WebSession> {
        // "Now" is the application's clock, as with SQLite, not the database server's.
        let row = sqlx::query(
            "SELECT id_hash, user_id, csrf_token, created_at, expires_at FROM sessions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(tocsin_domain::time::now())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(WebSession {
            id_hash: col(&row, 0)?,
            user_id: col(&row, 1)?,
            csrf_token: col(&row, 2)?,
            created_at: col(&row, 3)?,
            expires_at: col(&row, 4)?,
        })
    }

    async fn get_user_contacts(&self, user_id: Uuid) -> Result<tocsin_domain::UserContacts> {
        contacts::get_contacts(&self.pool, user_id).await
    }

    async fn list_inbox(
        &self,
        user_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<tocsin_domain::InboxItem>> {
        contacts::list_inbox(&self.pool, user_id, page).await
    }

    async fn inbox_unread(&self, user_id: Uuid) -> Result<u64> {
        contacts::inbox_unread(&self.pool, user_id).await
    }

    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn search_audit(
        &self,
        f: &tocsin_store::AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        let (cond, binds) = audit_where(f, 2);
        let sql = format!(
            "SELECT {AUDIT_COLS} FROM audit_log WHERE seq < $1{cond} ORDER BY seq DESC LIMIT ${}",
            binds.len() + 2
        );
        let mut q = sqlx::query(&sql).bind(before.unwrap_or(i64::MAX));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn count_audit(&self, f: &tocsin_store::AuditFilter) -> Result<u64> {
        let (cond, binds) = audit_where(f, 1);
        let sql = format!("SELECT count(*) FROM audit_log WHERE TRUE{cond}");
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for b in binds {
            q = q.bind(b);
        }
        let n = q.fetch_one(&self.pool).await.map_err(db_err)?;
        Ok(n.max(0) as u64)
    }

    async fn list_tokens(&self, user_id: Uuid) -> Result<Vec<tocsin_domain::ApiToken>> {
        credentials::list_tokens(&self.pool, user_id).await
    }
}

#[async_trait]
impl Deliveries for PostgresStore {
    async fn get_outbound(&self, id: Uuid) -> Result<OutboundMessage> {
        let row = sqlx::query(&format!("SELECT {OUTBOX_COLS} FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        outbound_from_row(&row)
    }

    async fn list_outbound(
        &self,
        source_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<OutboundMessage>> {
        let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {OUTBOX_COLS} FROM outbox"));
        if let Some(s) = source_id {
            qb.push(" WHERE source_id = ").push_bind(s);
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(outbound_from_row).collect()
    }

    async fn outbox_summary(&self) -> Result<tocsin_store::OutboxSummary> {
        let rows = sqlx::query(
            "SELECT status, count(*), min(created_at) FILTER (WHERE status IN ('queued', 'sending')) \
             FROM outbox GROUP BY status",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut s = tocsin_store::OutboxSummary::default();
        for r in &rows {
            let n: i64 = col(r, 1)?;
            match col::<&str>(r, 0)? {
                "queued" => s.queued = n,
                "sending" => s.sending = n,
                "sent" => s.sent = n,
                "delivered" => s.delivered = n,
                _ => s.failed += n,
            }
            if let Some(t) = col::<Option<chrono::DateTime<chrono::Utc>>>(r, 2)? {
                s.oldest_waiting = Some(s.oldest_waiting.map_or(t, |o| o.min(t)));
            }
        }
        Ok(s)
    }
}

#[async_trait]
impl Analysis for PostgresStore {
    async fn get_situation(&self, id: Uuid) -> Result<Situation> {
        let row = sqlx::query(&format!(
            "SELECT {SITUATION_COLS} FROM situations WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        situation_from_row(&row)
    }

    async fn list_situations(&self, max_tlp: Tlp, page: PageRequest) -> Result<Page<Situation>> {
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "SELECT {SITUATION_COLS} FROM situations WHERE tlp <= "
        ));
        qb.push_bind(max_tlp.rank());
        push_page(&mut qb, "", page);
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        let items = rows
            .iter()
            .map(situation_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, page.limit, |s| Cursor::by_id(s.id)))
    }

    async fn get_assessment(&self, id: Uuid) -> Result<tocsin_domain::Assessment> {
        analysis::get_assessment(&self.pool, id).await
    }

    async fn list_assessments(
        &self,
        situation_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<tocsin_domain::Assessment>> {
        analysis::list_assessments(&self.pool, situation_id, limit).await
    }

    async fn list_legal_qualifications(
        &self,
        situation_id: Uuid,
    ) -> Result<Vec<tocsin_domain::LegalQualification>> {
        analysis::list_legal(&self.pool, situation_id).await
    }

    async fn get_tags(
        &self,
        kind: tocsin_domain::Tagged,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Vec<String>>> {
        analysis::get_tags(&self.pool, kind, ids).await
    }

    async fn list_signals(
        &self,
        clearance: Tlp,
        country: Option<&tocsin_domain::Country>,
        since: Option<chrono::NaiveDate>,
        limit: u32,
    ) -> Result<Vec<tocsin_domain::SignalRecord>> {
        analysis::list_signals(&self.pool, clearance, country, since, limit).await
    }

    async fn get_signal(&self, id: Uuid) -> Result<tocsin_domain::SignalRecord> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body::text FROM signals WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        let body = body.ok_or(StoreError::NotFound)?;
        serde_json::from_str(&body).map_err(|e| StoreError::Backend(format!("signal body: {e}")))
    }

    async fn get_forecast_run(&self, id: Uuid) -> Result<tocsin_domain::ForecastRun> {
        analysis::get_forecast_run(&self.pool, id).await
    }

    async fn latest_forecast_run(&self) -> Result<Option<tocsin_domain::ForecastRun>> {
        analysis::latest_forecast_run(&self.pool).await
    }

    async fn forecast_history(
        &self,
        country: &tocsin_domain::Country,
    ) -> Result<Vec<tocsin_domain::ForecastPoint>> {
        analysis::forecast_history(&self.pool, country).await
    }
}

/// The conditions (each starting ` AND `, numbered from `$first`) and their values for an
/// audit filter.
fn audit_where(f: &tocsin_store::AuditFilter, first: usize) -> (String, Vec<String>) {
    let mut cond = String::new();
    let mut binds: Vec<String> = Vec::new();
    let mut add = |sql: &str, v: &String| {
        binds.push(v.clone());
        cond.push_str(&sql.replace('#', &format!("${}", first + binds.len() - 1)));
    };
    if let Some(a) = &f.actor {
        add(" AND actor_name = #", a);
    }
    if let Some(a) = &f.action {
        add(" AND starts_with(action, #)", a);
    }
    if let Some(t) = &f.record_type {
        add(" AND record_type = #", t);
    }
    if let Some(id) = &f.record_id {
        add(" AND record_id = #", id);
    }
    (cond, binds)
}
