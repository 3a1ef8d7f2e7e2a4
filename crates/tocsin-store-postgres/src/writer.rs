//! Group commit: every write of one [`crate::PostgresStore`] goes through one writer task, which
//! takes every write waiting in its queue and commits them together, then answers each caller.
//! One commit (one WAL flush) then serves a whole batch instead of one write, and the audit
//! chain's head is moved once per batch, not once per write. Callers are answered only after
//! the commit has returned, so an acknowledged write is durable and visible.
//!
//! A batch of new reports only (the intake path) is one statement committed on its own, with
//! no `BEGIN`/`COMMIT` round trips: it moves the chain's head (`UPDATE audit_head ... WHERE seq
//! = $old AND hash = $old_hash`) and, only if that matched, inserts the reports and their audit
//! entries (each an `INSERT ... SELECT FROM UNNEST` of arrays). The writer knows the head it
//! left last time, so it need not read it first. If another process moved the head meanwhile,
//! the update waits for that process's commit, then matches nothing, nothing is written, and
//! the batch is chained again to the head read afresh. Up to [`LANES`] such batches are in
//! flight at once on connections of their own, each chained to the head the one before it
//! leaves; the lock on the head row orders their commits.
//!
//! Any other batch (or one whose op failed) is one transaction: the ops in order (runs of
//! consecutive new reports as one multi-row insert), then the inbound channels' counts of the
//! batch, summed per channel in name order, then the head locked (`SELECT ... FOR
//! UPDATE`), every audit entry appended by one statement that also moves the head, and
//! `COMMIT`. If an op fails, the batch is rolled back and redone op by op, each in its own
//! savepoint, so that only the failing op's caller gets the error.
//!
//! Either way the chain stays linear across processes: a batch is written only on top of the
//! head it was chained to, under that row's lock.

use crate::{apply_op, db_err};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor, Row};
use std::collections::HashMap;
use tocsin_domain::{Actor, AuditEntry, AuditEvent, NewReport};
use tocsin_store::{stored_report, ChannelCount, Done, Op, Result, Step, StoreError};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// The most writes one transaction takes.
const MAX_BATCH: usize = 1024;

/// A message to the writer task.
enum Msg {
    Write(Box<Job>),
    /// Finish the writes queued before this, close the connections, stop.
    Close(oneshot::Sender<()>),
}

/// A write waiting in the writer's queue.
struct Job {
    actor: Actor,
    op: Op,
    reply: oneshot::Sender<Result<Done>>,
}

/// The handle to one store's writer task (cloned with the store).
#[derive(Clone)]
pub(crate) struct Writer {
    tx: mpsc::Sender<Msg>,
}

fn stopped() -> StoreError {
    StoreError::Backend("the PostgreSQL writer has stopped".into())
}

impl Writer {
    /// Start the writer on `conn`; it opens its second connection, or reconnects after losing
    /// one, with `opts`.
    pub(crate) fn spawn(conn: PgConnection, opts: PgConnectOptions) -> Writer {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(writer_loop(conn, opts, rx));
        Writer { tx }
    }

    /// Queue `op`; the answer comes once its batch has committed (or failed).
    pub(crate) async fn write(&self, actor: &Actor, op: Op) -> Result<Done> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Write(Box::new(Job {
                actor: actor.clone(),
                op,
                reply,
            })))
            .await
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Let the writes already queued finish, then close the writer's connection.
    pub(crate) async fn close(&self) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Msg::Close(done)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// Batches of new reports in flight at once, each on a connection of its own. The next batch is
/// chained to the head the one before it will leave, and PostgreSQL's lock on the head row
/// orders their commits; a batch whose predecessor failed finds the head not as it expected,
/// writes nothing, and is redone.
const LANES: usize = 2;

/// A batch in flight: its connection and jobs come back with its outcome.
type Flight = BoxFuture<
    'static,
    (
        PgConnection,
        Vec<Job>,
        std::result::Result<Option<Vec<Done>>, sqlx::Error>,
    ),
>;

async fn writer_loop(conn: PgConnection, opts: PgConnectOptions, mut rx: mpsc::Receiver<Msg>) {
    let mut idle = vec![conn];
    let mut open = 1;
    // The head the chain will have once every batch in flight has committed, when known.
    let mut head: Option<Head> = None;
    let mut flights = FuturesUnordered::<Flight>::new();
    // Writes to run alone, once nothing is in flight.
    let mut alone: Vec<Job> = Vec::new();
    let mut closing = None;
    let mut rx_open = true;
    loop {
        let taking = rx_open && closing.is_none() && alone.is_empty() && flights.len() < LANES;
        tokio::select! {
            Some((conn, jobs, res)) = flights.next(), if !flights.is_empty() => {
                match res {
                    Ok(Some(done)) => {
                        for (job, d) in jobs.into_iter().zip(done) {
                            let _ = job.reply.send(Ok(d));
                        }
                        idle.push(conn);
                    }
                    Ok(None) | Err(sqlx::Error::Database(_)) => {
                        // The head was not as expected (or an op failed): nothing was written.
                        // Those in flight after it were chained to it and fail the same way.
                        head = None;
                        alone.extend(jobs);
                        idle.push(conn);
                    }
                    Err(e) => {
                        let e = format!("writing reports failed: {e}");
                        for job in jobs {
                            let _ = job.reply.send(Err(StoreError::Backend(e.clone())));
                        }
                        open -= 1;
                        head = None;
                    }
                }
            }
            msg = rx.recv(), if taking => {
                let Some(first) = msg else {
                    rx_open = false;
                    continue;
                };
                let mut jobs = Vec::new();
                let mut next = Some(first);
                while let Some(msg) = next.take() {
                    match msg {
                        Msg::Write(job) => jobs.push(*job),
                        Msg::Close(done) => {
                            closing = Some(done);
                            break;
                        }
                    }
                    if jobs.len() < MAX_BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                let reports_only = jobs.iter().all(|j| matches!(j.op, Op::CreateReport(_)));
                match head.clone() {
                    Some(from) if reports_only && !jobs.is_empty() => {
                        if idle.is_empty() && open < LANES {
                            if let Ok(c) = PgConnection::connect_with(&opts).await {
                                idle.push(c);
                                open += 1;
                            }
                        }
                        match idle.pop() {
                            Some(conn) => {
                                let (flight, after) = fly(conn, jobs, from);
                                head = Some(after);
                                flights.push(flight);
                            }
                            None => alone.extend(jobs),
                        }
                    }
                    _ => alone.extend(jobs),
                }
            }
            else => {}
        }
        if !alone.is_empty() && flights.is_empty() {
            let jobs = std::mem::take(&mut alone);
            let conn = match idle.pop() {
                Some(c) => Ok(c),
                None => PgConnection::connect_with(&opts)
                    .await
                    .inspect(|_| open += 1),
            };
            match conn {
                Ok(mut c) => {
                    let started = std::time::Instant::now();
                    let (results, healthy) = run_batch(&mut c, &mut head, &jobs).await;
                    tracing::debug!(
                        writes = jobs.len(),
                        micros = started.elapsed().as_micros() as u64,
                        "batch done alone"
                    );
                    if healthy {
                        idle.push(c);
                    } else {
                        // Broken, or in an unknown transaction state: dropped.
                        open -= 1;
                        head = None;
                    }
                    for (job, res) in jobs.into_iter().zip(results) {
                        let _ = job.reply.send(res);
                    }
                }
                Err(e) => {
                    let e = format!("cannot reach PostgreSQL: {e}");
                    for job in jobs {
                        let _ = job.reply.send(Err(StoreError::Backend(e.clone())));
                    }
                }
            }
        }
        if (closing.is_some() || !rx_open) && flights.is_empty() && alone.is_empty() {
            break;
        }
    }
    for c in idle {
        let _ = c.close().await;
    }
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// Send a batch of new reports chained to `from`; returns it in flight and the head it leaves.
fn fly(mut conn: PgConnection, jobs: Vec<Job>, from: Head) -> (Flight, Head) {
    let (entries, after) = chain_entries(&jobs, &from);
    let flight = Box::pin(async move {
        let res = {
            let reports = new_reports(&jobs);
            insert_chained(&mut conn, &reports, &entries, &from).await
        };
        (conn, jobs, res)
    });
    (flight, after)
}

/// A control statement (`BEGIN`, `SAVEPOINT`, ...), one round trip.
fn exec<'a>(
    conn: &'a mut PgConnection,
    sql: &'static str,
) -> BoxFuture<'a, std::result::Result<(), sqlx::Error>> {
    // A plain `&str` goes by the simple query protocol: one round trip, several statements.
    Box::pin(async move { conn.execute(sql).await.map(|_| ()) })
}

/// [`apply_op`], boxed (see [`run_batch`]).
fn apply<'a>(conn: &'a mut PgConnection, job: &'a Job) -> BoxFuture<'a, Result<Done>> {
    Box::pin(apply_op(conn, &job.actor, &job.op))
}

/// The same error for every job of the batch.
fn all_fail(n: usize, e: &str) -> Vec<Result<Done>> {
    (0..n)
        .map(|_| Err(StoreError::Backend(e.to_string())))
        .collect()
}

/// Apply and commit one batch. Returns each job's result and whether the connection is still
/// in a known, idle state.
///
/// Boxed: the compiler cannot otherwise prove the writer task `Send` (rust-lang/rust#102211).
fn run_batch<'a>(
    conn: &'a mut PgConnection,
    head: &'a mut Option<Head>,
    jobs: &'a [Job],
) -> BoxFuture<'a, (Vec<Result<Done>>, bool)> {
    Box::pin(async move {
        if jobs.iter().all(|j| matches!(j.op, Op::CreateReport(_))) {
            match reports_at_once(conn, head, jobs).await {
                Ok(Some(results)) => return (results, true),
                Ok(None) => {}
                Err(e) => return (all_fail(jobs.len(), &e), false),
            }
        }
        // The general path moves the head under its lock; read it again next time.
        *head = None;
        let fast = match whole_batch(conn, jobs).await {
            Ok(results) => return (results, true),
            Err(f) => f,
        };
        match fast {
            Failed::Op(e) if jobs.len() == 1 => (vec![Err(e)], true),
            Failed::Op(_) => one_by_one(conn, jobs).await,
            Failed::Connection(e) => (all_fail(jobs.len(), &e), false),
        }
    })
}

/// The end of the audit chain as this writer last saw it: its sequence number and hash.
#[derive(Clone, PartialEq)]
struct Head {
    seq: i64,
    hash: String,
}

/// How many times a batch of reports is retried when another process moved the chain's head
/// between our reading it and our write, before taking the head's lock instead.
const HEAD_RACES: usize = 3;

/// The hot path, for a batch of new reports only: one statement, committed on its own (no
/// `BEGIN`/`COMMIT` round trips), that inserts the reports and their audit entries and moves
/// the chain's head, all on condition that the head is still the one the entries were chained
/// to (`UPDATE audit_head ... WHERE seq = $old AND hash = $old_hash`, which waits for another
/// process's uncommitted move and then sees it). If the head moved, nothing is written and the
/// batch is chained again to the new head. `Ok(None)`: not done, take the general path (an op
/// failed, e.g. a duplicate id, or the head kept moving); `Err`: the connection failed.
async fn reports_at_once(
    conn: &mut PgConnection,
    head: &mut Option<Head>,
    jobs: &[Job],
) -> std::result::Result<Option<Vec<Result<Done>>>, String> {
    let reports = new_reports(jobs);
    for _ in 0..HEAD_RACES {
        let from = match head.clone() {
            Some(h) => h,
            None => read_head(conn).await.map_err(|e| e.to_string())?,
        };
        let (entries, after) = chain_entries(jobs, &from);
        match insert_chained(conn, &reports, &entries, &from).await {
            Ok(Some(done)) => {
                *head = Some(after);
                return Ok(Some(done.into_iter().map(Ok).collect()));
            }
            // Another process moved the head: nothing was written.
            Ok(None) => *head = None,
            Err(sqlx::Error::Database(e)) => {
                tracing::debug!(error = %e, "a batch of reports failed; retried op by op");
                return Ok(None);
            }
            Err(e) => return Err(format!("writing reports failed: {e}")),
        }
    }
    Ok(None)
}

/// The new reports of `jobs`.
fn new_reports(jobs: &[Job]) -> Vec<&NewReport> {
    jobs.iter()
        .filter_map(|j| match &j.op {
            Op::CreateReport(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The audit entries of `jobs` chained after `from`, and the head they leave.
fn chain_entries(jobs: &[Job], from: &Head) -> (Vec<AuditEntry>, Head) {
    let mut entries = Vec::with_capacity(jobs.len());
    let (mut seq, mut hash) = (from.seq, from.hash.clone());
    for job in jobs {
        for ev in tocsin_store::audits_for(&job.actor, &job.op) {
            let e = ev.into_entry(seq + 1, &hash, tocsin_domain::time::now());
            seq = e.seq;
            hash.clone_from(&e.hash);
            entries.push(e);
        }
    }
    (entries, Head { seq, hash })
}

/// The chain's head, read without a lock.
async fn read_head(conn: &mut PgConnection) -> std::result::Result<Head, sqlx::Error> {
    let row = sqlx::query("SELECT seq, hash FROM audit_head")
        .fetch_one(&mut *conn)
        .await?;
    Ok(Head {
        seq: row.try_get(0)?,
        hash: row.try_get(1)?,
    })
}

/// The one statement of [`reports_at_once`]; `None` when the head was no longer `from`.
fn insert_chained<'a>(
    conn: &'a mut PgConnection,
    rs: &'a [&'a NewReport],
    entries: &'a [AuditEntry],
    from: &'a Head,
) -> BoxFuture<'a, std::result::Result<Option<Vec<Done>>, sqlx::Error>> {
    Box::pin(async move {
        let (seq, hash) = entries
            .last()
            .map_or((from.seq, from.hash.as_str()), |e| (e.seq, e.hash.as_str()));
        let rows = sqlx::query(
            "WITH head AS (UPDATE audit_head SET seq = $27, hash = $28 \
             WHERE seq = $29 AND hash = $30 RETURNING 1), \
             r AS (INSERT INTO reports (id, channel, provider_key, source_id, text, tlp, latitude, \
             longitude, country, occurred_at, received_at, language, category, place_name, \
             geo_precision, place_unresolved) \
             SELECT u.* FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], \
             $6::int2[], $7::float8[], $8::float8[], $9::text[], $10::timestamptz[], \
             $11::timestamptz[], $12::text[], $13::text[], $14::text[], $15::int2[], $16::bool[]) u \
             WHERE EXISTS (SELECT 1 FROM head) RETURNING id, source_id), \
             a AS (INSERT INTO audit_log (seq, at, actor_id, actor_name, action, record_type, \
             record_id, detail, prev_hash, hash) \
             SELECT u.* FROM UNNEST($17::int8[], $18::timestamptz[], $19::uuid[], $20::text[], \
             $21::text[], $22::text[], $23::text[], $24::text[], $25::text[], $26::text[]) u \
             WHERE EXISTS (SELECT 1 FROM head)) \
             SELECT r.id, s.handle FROM r LEFT JOIN sources s ON s.id = r.source_id",
        );
        let rows = bind_reports(rows, rs);
        let rows = bind_entries(rows, entries)
            .bind(seq)
            .bind(hash)
            .bind(from.seq)
            .bind(&from.hash)
            .fetch_all(&mut *conn)
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(stored_reports(rs, &rows)?))
    })
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Bind the 16 columns of new reports, as arrays ($1..$16 of the statements above).
fn bind_reports<'q>(q: PgQuery<'q>, rs: &[&'q NewReport]) -> PgQuery<'q> {
    q.bind(rs.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(rs.iter().map(|r| r.channel.as_str()).collect::<Vec<_>>())
        .bind(
            rs.iter()
                .map(|r| r.provider_key.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(rs.iter().map(|r| r.source_id).collect::<Vec<_>>())
        .bind(rs.iter().map(|r| r.text.as_str()).collect::<Vec<_>>())
        .bind(rs.iter().map(|r| r.tlp.rank()).collect::<Vec<_>>())
        .bind(rs.iter().map(|r| r.latitude).collect::<Vec<_>>())
        .bind(rs.iter().map(|r| r.longitude).collect::<Vec<_>>())
        .bind(
            rs.iter()
                .map(|r| r.country.as_ref().map(|c| c.code()))
                .collect::<Vec<_>>(),
        )
        .bind(rs.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
        .bind(rs.iter().map(|r| r.received_at).collect::<Vec<_>>())
        .bind(
            rs.iter()
                .map(|r| r.meta.language.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            rs.iter()
                .map(|r| r.meta.category.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            rs.iter()
                .map(|r| r.meta.place_name.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(rs.iter().map(|r| r.meta.geo_precision).collect::<Vec<_>>())
        .bind(
            rs.iter()
                .map(|r| r.meta.place_unresolved)
                .collect::<Vec<_>>(),
        )
}

/// Bind the 10 columns of audit entries, as arrays.
fn bind_entries<'q>(q: PgQuery<'q>, es: &'q [AuditEntry]) -> PgQuery<'q> {
    q.bind(es.iter().map(|e| e.seq).collect::<Vec<_>>())
        .bind(es.iter().map(|e| e.at).collect::<Vec<_>>())
        .bind(es.iter().map(|e| e.actor_id).collect::<Vec<_>>())
        .bind(es.iter().map(|e| e.actor_name.as_str()).collect::<Vec<_>>())
        .bind(es.iter().map(|e| e.action.as_str()).collect::<Vec<_>>())
        .bind(
            es.iter()
                .map(|e| e.record_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            es.iter()
                .map(|e| e.record_id.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(es.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>())
        .bind(es.iter().map(|e| e.prev_hash.as_str()).collect::<Vec<_>>())
        .bind(es.iter().map(|e| e.hash.as_str()).collect::<Vec<_>>())
}

/// The stored form of each new report, in order, from rows of (id, source handle).
fn stored_reports(
    rs: &[&NewReport],
    rows: &[sqlx::postgres::PgRow],
) -> std::result::Result<Vec<Done>, sqlx::Error> {
    let mut handles = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: Uuid = row.try_get(0)?;
        let handle: Option<String> = row.try_get(1)?;
        handles.insert(id, handle);
    }
    Ok(rs
        .iter()
        .map(|r| {
            let handle = handles.get(&r.id).cloned().flatten();
            Done::Report(Box::new(stored_report(r, handle)))
        })
        .collect())
}

enum Failed {
    /// An op failed (with this error); the transaction was rolled back and the connection is
    /// usable.
    Op(StoreError),
    /// The connection failed or the commit's outcome is unknown; every job fails.
    Connection(String),
}

/// Roll back after an op failed with `e`.
async fn roll_back(conn: &mut PgConnection, e: StoreError) -> Failed {
    match exec(conn, "ROLLBACK").await {
        Ok(()) => Failed::Op(e),
        Err(r) => Failed::Connection(format!("{e}; rollback failed: {r}")),
    }
}

/// The fast path: the whole batch in one transaction, no savepoints.
async fn whole_batch(
    conn: &mut PgConnection,
    jobs: &[Job],
) -> std::result::Result<Vec<Result<Done>>, Failed> {
    exec(conn, "BEGIN")
        .await
        .map_err(|e| Failed::Connection(format!("cannot begin: {e}")))?;
    let mut results = Vec::with_capacity(jobs.len());
    let mut i = 0;
    while i < jobs.len() {
        // A run of new reports goes in as one statement.
        let run = jobs[i..]
            .iter()
            .take_while(|j| matches!(j.op, Op::CreateReport(_)))
            .count();
        if run > 1 {
            let reports: Vec<&NewReport> = jobs[i..i + run]
                .iter()
                .map(|j| match &j.op {
                    Op::CreateReport(r) => r,
                    _ => unreachable!("a run holds only new reports"),
                })
                .collect();
            match insert_reports(conn, &reports).await {
                Ok(done) => results.extend(done.into_iter().map(Ok)),
                Err(e) => return Err(roll_back(conn, e).await),
            }
            i += run;
            continue;
        }
        match apply(conn, &jobs[i]).await {
            Ok(d) => results.push(Ok(d)),
            Err(e) => return Err(roll_back(conn, e).await),
        }
        i += 1;
    }
    if let Err(e) = count_channels(conn, jobs.iter().map(|j| &j.op)).await {
        // Not any one op's fault either.
        return Err(roll_back(conn, e).await);
    }
    let mut events = Vec::with_capacity(jobs.len());
    for job in jobs {
        events.extend(tocsin_store::audits_for(&job.actor, &job.op));
    }
    if let Err(e) = append_audits(conn, events).await {
        // Not any one op's fault: retried op by op, where it fails every op it fails again.
        return Err(roll_back(conn, e).await);
    }
    commit(conn).await.map_err(Failed::Connection)?;
    Ok(results)
}

/// `COMMIT`. On failure the batch's outcome is unknown to us (the connection may have dropped
/// after the server committed), so every caller gets the error: never a false acknowledgement.
async fn commit(conn: &mut PgConnection) -> std::result::Result<(), String> {
    exec(conn, "COMMIT").await.map_err(|e| {
        tracing::error!(error = %e, "PostgreSQL commit failed; the batch is refused");
        format!("commit failed: {e}")
    })
}

/// The slow path, after an op of the batch failed: each op in its own savepoint, so a failing
/// op is undone alone and only its caller gets the error.
async fn one_by_one(conn: &mut PgConnection, jobs: &[Job]) -> (Vec<Result<Done>>, bool) {
    let broken = |e: sqlx::Error| (all_fail(jobs.len(), &e.to_string()), false);
    if let Err(e) = exec(conn, "BEGIN").await {
        return broken(e);
    }
    let mut results = Vec::with_capacity(jobs.len());
    let mut events = Vec::new();
    let mut applied = Vec::with_capacity(jobs.len());
    for job in jobs {
        if let Err(e) = exec(conn, "SAVEPOINT op").await {
            return broken(e);
        }
        match apply(conn, job).await {
            Ok(d) => {
                if let Err(e) = exec(conn, "RELEASE SAVEPOINT op").await {
                    return broken(e);
                }
                events.extend(tocsin_store::audits_for(&job.actor, &job.op));
                applied.push(&job.op);
                results.push(Ok(d));
            }
            Err(err) => {
                if let Err(e) = exec(conn, "ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op").await {
                    return broken(e);
                }
                results.push(Err(err));
            }
        }
    }
    if let Err(e) = count_channels(conn, applied.into_iter()).await {
        let healthy = exec(conn, "ROLLBACK").await.is_ok();
        return (all_fail(jobs.len(), &e.to_string()), healthy);
    }
    if let Err(e) = append_audits(conn, events).await {
        let healthy = exec(conn, "ROLLBACK").await.is_ok();
        return (all_fail(jobs.len(), &e.to_string()), healthy);
    }
    match commit(conn).await {
        Ok(()) => (results, true),
        Err(e) => (all_fail(jobs.len(), &e), false),
    }
}

/// The inbound channel counts of a batch's applied ops ([`tocsin_store::Step::CountChannel`],
/// which [`crate::steps::apply`] leaves to this), summed per channel and written in name order
/// just before the audit head is locked: one upsert per channel per batch, and two processes'
/// batches never lock two counter rows in opposite orders (no deadlock).
fn count_channels<'a>(
    conn: &'a mut PgConnection,
    ops: impl Iterator<Item = &'a Op>,
) -> BoxFuture<'a, Result<()>> {
    let mut sums: std::collections::BTreeMap<&str, ChannelCount> = Default::default();
    for op in ops {
        let Op::All { steps, .. } = op else { continue };
        for step in steps {
            if let Step::CountChannel { name, count } = step {
                let sum = sums.entry(name.as_str()).or_default();
                sum.taken += count.taken;
                sum.duplicates += count.duplicates;
                sum.refused += count.refused;
                if count.error.is_some() {
                    sum.error.clone_from(&count.error);
                }
            }
        }
    }
    Box::pin(async move {
        for (name, count) in sums {
            crate::jobs::count_channel(conn, name, &count).await?;
        }
        Ok(())
    })
}

/// Insert several new reports with one statement; their stored forms, in order.
fn insert_reports<'a>(
    conn: &'a mut PgConnection,
    rs: &'a [&'a NewReport],
) -> BoxFuture<'a, Result<Vec<Done>>> {
    Box::pin(async move {
        let q = sqlx::query(
            "WITH r AS (INSERT INTO reports (id, channel, provider_key, source_id, text, tlp, \
             latitude, longitude, country, occurred_at, received_at, language, category, place_name, \
             geo_precision, place_unresolved) \
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], \
             $6::int2[], $7::float8[], $8::float8[], $9::text[], $10::timestamptz[], \
             $11::timestamptz[], $12::text[], $13::text[], $14::text[], $15::int2[], $16::bool[]) \
             RETURNING id, source_id) \
             SELECT r.id, s.handle FROM r LEFT JOIN sources s ON s.id = r.source_id",
        );
        let rows = bind_reports(q, rs)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        stored_reports(rs, &rows).map_err(db_err)
    })
}

/// Extend the audit chain by `events`, in order, inside the open transaction: lock the head,
/// then one statement inserts every entry and moves the head. The head stays locked until the
/// transaction ends.
pub(crate) fn append_audits(
    conn: &mut PgConnection,
    events: Vec<AuditEvent>,
) -> BoxFuture<'_, Result<()>> {
    Box::pin(async move {
        if events.is_empty() {
            return Ok(());
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_head FOR UPDATE")
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        let (mut seq, mut hash): (i64, String) = (
            head.try_get(0).map_err(db_err)?,
            head.try_get(1).map_err(db_err)?,
        );
        let mut entries: Vec<AuditEntry> = Vec::with_capacity(events.len());
        for ev in events {
            // Stamped once the head is held, so times follow the chain's order.
            let e = ev.into_entry(seq + 1, &hash, tocsin_domain::time::now());
            seq = e.seq;
            hash.clone_from(&e.hash);
            entries.push(e);
        }
        let q = sqlx::query(
            "WITH appended AS (INSERT INTO audit_log (seq, at, actor_id, actor_name, action, \
             record_type, record_id, detail, prev_hash, hash) SELECT * FROM UNNEST($1::int8[], \
             $2::timestamptz[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], \
             $8::text[], $9::text[], $10::text[])) UPDATE audit_head SET seq = $11, hash = $12",
        );
        bind_entries(q, &entries)
            .bind(seq)
            .bind(&hash)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        Ok(())
    })
}
