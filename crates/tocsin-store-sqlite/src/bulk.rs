//! Streamed imports and exports, each on a connection of its own (rusqlite, on a blocking
//! thread): a whole import is one transaction of prepared multi-row statements, and an export is
//! one read of the table in storage order. Going through sqlx's worker thread for each of a
//! million rows is what made these slow.
//!
//! Incidents carry only the indexes an import needs anyway: the primary key, the provenance
//! index its upserts look up, and the `(updated_at, id)` index new rows only append to. Lists
//! are served from the server's in-memory index; the three list indexes they replaced cost a
//! million-row import 1.6-2.1 s even when dropped and rebuilt by one sort each, so an index
//! added here should be weighed against that. Everything commits or rolls back as one: a crash
//! or `kill -9` midway leaves the database as it was.
//!
//! Rows of a dataset that had no rows when the import began, and whose external id the import
//! has not written yet, cannot conflict with anything: they go in as plain multi-row
//! `INSERT OR ROLLBACK`s. Any statement that may fail after changing some rows makes SQLite copy
//! every page it touches to a statement journal first (for a million rows, gigabytes of page
//! copies into the random leaves of the provenance index); a plain insert whose failure rolls
//! the whole import back needs none. On 1M rows: 0.2 s less (3.1-3.6 s against 3.3-4.0 s, six
//! alternating pairs) and 0.3-0.5 s less CPU. Every other row (a re-import, or an id seen before in the
//! same file) is a multi-row upsert, or a single-row one for a batch's remainder (single-row
//! statements need no statement journal either). Foreign keys are checked by hand on that
//! connection, since SQLite's own check of `situation_id` would bring the statement journal
//! back; imported rows rarely name a situation.
//!
//! When the store lets it ([`crate::SqliteStore::exclusive_imports`]) and no other connection
//! has the file open, an import switches the database from WAL to a rollback journal for its
//! length: new pages are then written once, straight into the file, where WAL writes every page
//! twice (to the log, then again when the log is checkpointed). Atomicity is the journal's: a
//! crash midway leaves a hot journal that the next connection rolls back. The file is back in
//! WAL mode when the import ends, committed or not.

use chrono::NaiveDate;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;
use tocsin_domain::audit::GENESIS_HASH;
use tocsin_domain::{Actor, Country, Incident, IncidentFilter, MapPoint, VerificationStatus};
use tocsin_store::{ImportChunk, Result, StoreError, SCAN_CHUNK};
use tokio::sync::mpsc;

use crate::prepared::{Param, Prepared};
use crate::rows::{corrupt, parse_ts, parse_uuid, tlp, INCIDENT_COLS};

/// Rows per upsert statement. Each statement run opens the table's and its indexes' cursors
/// and seeks each from the root; a statement of many rows does that once. A million-row import
/// spent 3.0 s upserting one row per statement, 2.5 s at 128 or 256 (worse at 8, no better at
/// 512 or 1,000). 128 rows are 3,840 parameters, well under SQLite's 32,766.
const ROWS_PER_STATEMENT: usize = 128;

/// Bits in an import's filter of the external ids it has written (8 MiB): with a million ids
/// one in about 90,000 unseen ids is taken for seen, with ten million one in 25. A false
/// positive only sends that row down the slower upsert path.
const SEEN_BITS: usize = 1 << 26;

/// The `(dataset, external id)` pairs an import has written so far, as a bloom filter: constant
/// memory for any number of rows. "Not seen" is certain; "seen" may be wrong.
struct Seen {
    bits: Vec<u64>,
}

impl Seen {
    fn new() -> Seen {
        Seen {
            bits: vec![0; SEEN_BITS / 64],
        }
    }

    /// The four bit positions of `(dataset, external_id)` (double hashing of one 64-bit hash).
    fn probes(dataset: &str, external_id: &str) -> impl Iterator<Item = usize> {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut h = foldhash::fast::FixedState::with_seed(0x746f_6373_696e).build_hasher();
        dataset.hash(&mut h);
        external_id.hash(&mut h);
        let h = h.finish();
        let (a, b) = (h as u32 as usize, (h >> 32) as usize | 1);
        (0..4).map(move |k| a.wrapping_add(k * b) % SEEN_BITS)
    }

    /// Record the pair; returns whether it may have been recorded before.
    fn insert(&mut self, dataset: &str, external_id: &str) -> bool {
        let mut seen = true;
        for p in Self::probes(dataset, external_id) {
            let (word, bit) = (p / 64, 1u64 << (p % 64));
            seen &= self.bits[word] & bit != 0;
            self.bits[word] |= bit;
        }
        seen
    }
}

/// Page cache of an import or export connection, in KiB (SQLite's negative form): room for
/// the indexes an import updates row by row. Larger measured slower, not faster: a 512 MiB
/// cache spent about a second of a million-row import allocating and zeroing its pages.
const CACHE_SIZE: i64 = -65_536;

pub(crate) fn err(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(f, msg)
            if f.code == rusqlite::ErrorCode::ConstraintViolation
                && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            StoreError::Conflict(msg.unwrap_or_else(|| "unique constraint".into()))
        }
        e => StoreError::Backend(e.to_string()),
    }
}

/// Column `i` of `r` as text.
fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r str> {
    r.get_ref(i)
        .and_then(|v| v.as_str().map_err(Into::into))
        .map_err(err)
}

/// A read-only connection of the kind exports and map loads use.
pub(crate) fn open_read(path: &Path) -> Result<Connection> {
    open(path, true)
}

fn open(path: &Path, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(err)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
    // The file is already in WAL mode (set when the store opened it). A page cache large
    // enough for the indexes of a million rows.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = memory; \
         PRAGMA cache_size = {CACHE_SIZE};"
    ))
    .map_err(err)?;
    Ok(conn)
}

/// Text forms of an incident's fields, reused from row to row.
#[derive(Default)]
struct RowText {
    id: String,
    date: String,
    created: Vec<u8>,
    updated: Vec<u8>,
    report_ids: String,
    situation: String,
}

/// Write incident `i`'s text forms into `t`.
fn fill(i: &Incident, t: &mut RowText) {
    t.id.clear();
    let _ = write!(t.id, "{}", i.id.hyphenated());
    t.date.clear();
    let _ = write!(t.date, "{}", i.event_date);
    t.created.clear();
    tocsin_domain::time::write_to(&mut t.created, &i.created_at);
    t.updated.clear();
    tocsin_domain::time::write_to(&mut t.updated, &i.updated_at);
    t.situation.clear();
    if let Some(s) = i.situation_id {
        let _ = write!(t.situation, "{}", s.hyphenated());
    }
    t.report_ids.clear();
    if i.report_ids.is_empty() {
        t.report_ids.push_str("[]");
    } else {
        t.report_ids = crate::rows::ids_json(&i.report_ids);
    }
}

/// Incident `i` as the upsert's thirty parameters, with the text forms [`fill`] wrote.
fn params<'p>(i: &'p Incident, t: &'p RowText) -> [Param<'p>; 30] {
    let text = |s: Option<&'p str>| s.map_or(Param::Null, Param::Text);
    let int = |v: Option<i64>| v.map_or(Param::Null, Param::Int);
    [
        Param::Text(&t.id),
        Param::Text(&t.date),
        Param::Int(i.date_precision.into()),
        Param::Text(i.event_type.as_str()),
        Param::Text(i.sub_event_type.as_str()),
        Param::Text(i.country.code()),
        text(i.admin1.as_deref()),
        text(i.admin2.as_deref()),
        text(i.location.as_deref()),
        Param::Real(i.latitude),
        Param::Real(i.longitude),
        Param::Int(i.geo_precision.into()),
        text(i.actor1.as_deref()),
        text(i.actor2.as_deref()),
        text(i.targeted_group.as_deref()),
        Param::Int(i.fatalities),
        int(i.fatalities_low),
        int(i.fatalities_high),
        Param::Int(i.credibility.into()),
        Param::Text(i.verification_status.as_str()),
        Param::Text(i.description.as_str()),
        Param::Int(i.tlp.rank().into()),
        if i.situation_id.is_some() {
            Param::Text(&t.situation)
        } else {
            Param::Null
        },
        Param::Text(&t.report_ids),
        text(i.dataset.as_deref()),
        text(i.external_id.as_deref()),
        Param::Text(std::str::from_utf8(&t.created).unwrap_or_default()),
        Param::Text(std::str::from_utf8(&t.updated).unwrap_or_default()),
        Param::Int(i.version),
        int(i.violence_type.map(i64::from)),
    ]
}

/// Import rows as they arrive, in one transaction; see [`tocsin_store::Incidents::import_stream`].
pub(crate) fn import(
    path: &Path,
    actor: &Actor,
    rows: &mut mpsc::Receiver<ImportChunk>,
    exclusive: bool,
) -> Result<(u64, u64)> {
    let mut conn = open(path, false)?;
    let journal = exclusive && rollback_journal(&conn)?;
    let done = import_on(&mut conn, actor, rows, journal);
    if journal {
        // Back to WAL, whether the import committed or rolled back.
        let mode: rusqlite::Result<String> =
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0));
        if !matches!(mode.as_deref(), Ok("wal")) {
            tracing::warn!(?mode, "could not set the database back to WAL mode");
        }
    }
    done
}

/// Switch `conn`'s database to a rollback journal if no other connection has it open.
fn rollback_journal(conn: &Connection) -> Result<bool> {
    // Another connection's presence shows at once as "busy": do not wait for it to go.
    conn.busy_timeout(Duration::ZERO).map_err(err)?;
    let mode: rusqlite::Result<String> =
        conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0));
    conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
    match mode {
        Ok(m) => Ok(m == "delete"),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            Ok(false)
        }
        Err(e) => Err(err(e)),
    }
}

fn import_on(
    conn: &mut Connection,
    actor: &Actor,
    rows: &mut mpsc::Receiver<ImportChunk>,
    journal: bool,
) -> Result<(u64, u64)> {
    let started = std::time::Instant::now();
    let mut waited = Duration::ZERO;
    // Checked below for the rows that name a situation (see the module doc).
    conn.execute_batch("PRAGMA foreign_keys = OFF")
        .map_err(err)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let count = |sql: &str, params: &[&dyn rusqlite::ToSql]| -> Result<u64> {
        tx.query_row(sql, params, |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(err)
    };
    // Rows of a dataset, through the provenance index: inserted = after - before.
    let in_dataset =
        "SELECT count(*) FROM incidents WHERE dataset = ?1 AND external_id IS NOT NULL";
    // Each dataset's rows before its first batch. A dataset with none then is "fresh": its
    // rows go in as plain inserts unless the filter `seen` says the import wrote the id already.
    let mut before = std::collections::BTreeMap::<String, u64>::new();
    let mut written = 0u64;
    // Upserts of ROWS_PER_STATEMENT rows, and of one row for a batch's remainder.
    let insert = |rows: usize, upsert: bool| {
        let one = format!("({})", vec!["?"; 30].join(","));
        format!(
            "INSERT {} INTO incidents ({INCIDENT_COLS}) VALUES {}{}",
            if upsert { "" } else { "OR ROLLBACK" },
            vec![one; rows].join(","),
            if upsert {
                crate::rows::INCIDENT_UPSERT
            } else {
                ""
            }
        )
    };
    let per = ROWS_PER_STATEMENT;
    let mut texts: Vec<RowText> = (0..per).map(|_| RowText::default()).collect();
    let mut stmts: Option<Statements<'_>> = None;
    let mut seen: Option<Seen> = None;
    let mut situations = std::collections::HashSet::<uuid::Uuid>::new();
    // Written batches are freed on another thread: a million incidents are some fifteen
    // million strings, and this thread is the import's bottleneck.
    let (spent, to_free) = std::sync::mpsc::sync_channel::<Vec<Incident>>(4);
    let freer = std::thread::spawn(move || to_free.into_iter().for_each(drop));
    loop {
        let wait = std::time::Instant::now();
        let next = rows.blocking_recv();
        waited += wait.elapsed();
        let (dataset, mut batch) = match next {
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
        let fresh = match before.get(&dataset) {
            Some(n) => *n == 0,
            None => {
                let n = count(in_dataset, &[&dataset])?;
                before.insert(dataset.clone(), n);
                n == 0
            }
        };
        check_situations(&tx, &batch, &mut situations)?;
        let st = match &mut stmts {
            Some(s) => s,
            None => stmts.insert(Statements {
                insert: Prepared::new(&tx, &insert(per, false)).map_err(err)?,
                upsert: Prepared::new(&tx, &insert(per, true)).map_err(err)?,
                one: Prepared::new(&tx, &insert(1, true)).map_err(err)?,
            }),
        };
        // New rows first, as plain inserts; then the rest, as upserts. No external id repeats
        // within a batch, so the order within it does not matter.
        let (new, old): (Vec<&Incident>, Vec<&Incident>) = if fresh {
            let seen = seen.get_or_insert_with(Seen::new);
            batch
                .iter()
                .partition(|i| !seen.insert(&dataset, i.external_id.as_deref().unwrap_or_default()))
        } else {
            (Vec::new(), batch.iter().collect())
        };
        for (rows, upsert) in [(&new, false), (&old, true)] {
            for chunk in rows.chunks(per) {
                for (i, t) in chunk.iter().zip(texts.iter_mut()) {
                    fill(i, t);
                }
                let mut ps = Vec::with_capacity(30 * chunk.len());
                for (i, t) in chunk.iter().zip(texts.iter()) {
                    ps.extend(params(i, t));
                }
                if chunk.len() < per {
                    for row in ps.chunks(30) {
                        st.one.run(row).map_err(err)?;
                    }
                } else if upsert {
                    st.upsert.run(&ps).map_err(err)?;
                } else {
                    st.insert.run(&ps).map_err(err)?;
                }
            }
        }
        drop((new, old));
        written += batch.len() as u64;
        let _ = spent.send(batch);
    }
    drop(stmts);
    drop(spent);
    let _ = freer.join();
    let inserting = started.elapsed();
    let mut inserted = 0;
    for (dataset, n) in &before {
        inserted += count(in_dataset, &[dataset])? - n;
    }
    let updated = written - inserted;
    // The chain head on disk is the one to follow: we hold the write lock.
    let head: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(err)?;
    let (seq, hash) = head.unwrap_or((0, GENESIS_HASH.to_string()));
    let datasets = before.into_keys().collect();
    let e = tocsin_store::import_audit(actor, &datasets, inserted, updated).into_entry(
        seq + 1,
        &hash,
        tocsin_domain::time::now(),
    );
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, record_type, record_id, \
         detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        rusqlite::params![
            e.seq,
            tocsin_domain::time::format(&e.at),
            e.actor_id.map(|u| u.to_string()),
            e.actor_name,
            e.action,
            e.record_type,
            e.record_id,
            e.detail,
            e.prev_hash,
            e.hash
        ],
    )
    .map_err(err)?;
    let committing = std::time::Instant::now();
    tx.commit().map_err(err)?;
    tracing::debug!(
        rows = written,
        journal = if journal { "rollback" } else { "wal" },
        ?inserting,
        ?waited,
        commit = ?committing.elapsed(),
        "streamed import"
    );
    Ok((inserted, updated))
}

/// An import's prepared statements: plain inserts and upserts of [`ROWS_PER_STATEMENT`] rows,
/// and a single-row upsert for the remainders.
struct Statements<'c> {
    insert: Prepared<'c>,
    upsert: Prepared<'c>,
    one: Prepared<'c>,
}

/// Check that every situation `batch` names exists (the import connection runs without SQLite's
/// foreign key checks); `known` remembers the ones found.
fn check_situations(
    tx: &rusqlite::Transaction<'_>,
    batch: &[Incident],
    known: &mut std::collections::HashSet<uuid::Uuid>,
) -> Result<()> {
    for s in batch.iter().filter_map(|i| i.situation_id) {
        if known.contains(&s) {
            continue;
        }
        let found: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM situations WHERE id = ?1",
                [s.hyphenated().to_string()],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(err)?;
        if found.is_none() {
            return Err(tocsin_domain::DomainError::invalid(
                "situation_id",
                format!("no situation {s}"),
            )
            .into());
        }
        known.insert(s);
    }
    Ok(())
}

/// Send every incident matching `f` on `out`, in storage order, from one read transaction.
pub(crate) fn scan(
    path: &Path,
    f: &IncidentFilter,
    out: &mpsc::Sender<Vec<Incident>>,
) -> Result<u64> {
    let conn = open(path, true)?;
    let mut sql = format!("SELECT {INCIDENT_COLS} FROM incidents WHERE retracted = 0 AND tlp <= ?");
    let mut params: Vec<rusqlite::types::Value> = vec![i64::from(f.max_tlp.rank()).into()];
    if let Some(c) = &f.country {
        sql.push_str(" AND country = ?");
        params.push(c.code().to_string().into());
    }
    if let Some(d) = f.from {
        sql.push_str(" AND event_date >= ?");
        params.push(d.to_string().into());
    }
    if let Some(d) = f.to {
        sql.push_str(" AND event_date <= ?");
        params.push(d.to_string().into());
    }
    if let Some(b) = f.bbox {
        sql.push_str(" AND longitude BETWEEN ? AND ? AND latitude BETWEEN ? AND ?");
        params.extend([b.min_lon, b.max_lon, b.min_lat, b.max_lat].map(Into::into));
    }
    if let Some(t) = &f.event_type {
        sql.push_str(" AND event_type = ?");
        params.push(t.clone().into());
    }
    if let Some(v) = f.verification_status {
        sql.push_str(" AND verification_status = ?");
        params.push(v.as_str().to_string().into());
    }
    if let Some(t) = f.tlp {
        sql.push_str(" AND tlp = ?");
        params.push(i64::from(t.rank()).into());
    }
    if let Some(s) = f.situation_id {
        sql.push_str(" AND situation_id = ?");
        params.push(s.to_string().into());
    }
    let mut stmt = conn.prepare(&sql).map_err(err)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params))
        .map_err(err)?;
    let mut chunk = Vec::with_capacity(SCAN_CHUNK);
    let mut n = 0;
    while let Some(r) = rows.next().map_err(err)? {
        chunk.push(incident(r)?);
        if chunk.len() == SCAN_CHUNK {
            if out
                .blocking_send(std::mem::replace(
                    &mut chunk,
                    Vec::with_capacity(SCAN_CHUNK),
                ))
                .is_err()
            {
                return Ok(n);
            }
            n += SCAN_CHUNK as u64;
        }
    }
    // The last chunk counts only if it was taken: a receiver gone by then did not get it.
    let last = chunk.len() as u64;
    if last > 0 && out.blocking_send(chunk).is_ok() {
        n += last;
    }
    Ok(n)
}

/// Map points changed after `since`, in `(updated_at, id)` order; see
/// [`tocsin_store::Incidents::map_points`]. The incident index loads a million of these at first use:
/// through sqlx each row crossed a thread and every column was copied, ~10 µs a row.
pub(crate) fn map_points(
    conn: &Connection,
    since: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
    limit: u32,
) -> Result<Vec<MapPoint>> {
    let mut sql = String::from(
        "SELECT id, event_date, event_type, country, latitude, longitude, fatalities, tlp, \
         updated_at, verification_status, situation_id, admin1, retracted FROM incidents",
    );
    let mut params: Vec<rusqlite::types::Value> = Vec::new();
    if let Some((t, id)) = since {
        // A row-value comparison, so SQLite seeks the (updated_at, id) index.
        sql.push_str(" WHERE (updated_at, id) > (?, ?)");
        params.push(tocsin_domain::time::format(&t).into());
        params.push(id.to_string().into());
    }
    sql.push_str(" ORDER BY updated_at, id LIMIT ?");
    params.push(i64::from(limit).into());
    let mut stmt = conn.prepare_cached(&sql).map_err(err)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params))
        .map_err(err)?;
    let mut out = Vec::with_capacity(limit.min(SCAN_CHUNK as u32 * 64) as usize);
    while let Some(r) = rows.next().map_err(err)? {
        let s = |i| text(r, i);
        out.push(MapPoint {
            id: parse_uuid(s(0)?)?,
            event_date: s(1)?.parse::<NaiveDate>().map_err(|_| corrupt("date"))?,
            event_type: s(2)?.to_string(),
            country: Country::parse(s(3)?)?,
            latitude: r.get(4).map_err(err)?,
            longitude: r.get(5).map_err(err)?,
            fatalities: r.get(6).map_err(err)?,
            tlp: tlp(r.get(7).map_err(err)?)?,
            updated_at: parse_ts(s(8)?)?,
            verification_status: VerificationStatus::parse(s(9)?)
                .map_err(|_| corrupt("verification status"))?,
            situation_id: match r.get_ref(10).map_err(err)?.as_str_or_null() {
                Ok(Some(t)) => Some(parse_uuid(t)?),
                Ok(None) => None,
                Err(_) => return Err(corrupt("situation")),
            },
            admin1: match r.get_ref(11).map_err(err)?.as_str_or_null() {
                Ok(a) => a.map(str::to_string),
                Err(_) => return Err(corrupt("admin1")),
            },
            retracted: r.get::<_, i64>(12).map_err(err)? != 0,
        });
    }
    Ok(out)
}

fn incident(r: &rusqlite::Row<'_>) -> Result<Incident> {
    let s = |i| text(r, i);
    let os = |i: usize| -> Result<Option<String>> {
        r.get_ref(i)
            .and_then(|v| v.as_str_or_null().map_err(Into::into))
            .map(|v| v.map(str::to_string))
            .map_err(err)
    };
    let g = |i: usize| -> Result<i64> { r.get(i).map_err(err) };
    let og = |i: usize| -> Result<Option<i64>> { r.get(i).map_err(err) };
    let small = |v: i64| i16::try_from(v).map_err(|_| corrupt("number"));
    let osmall = |v: Option<i64>| v.map(small).transpose();
    let report_ids = match s(23)? {
        "[]" => Vec::new(),
        j => serde_json::from_str(j).map_err(|_| corrupt("report_ids"))?,
    };
    Ok(Incident {
        id: parse_uuid(s(0)?)?,
        event_date: s(1)?.parse::<NaiveDate>().map_err(|_| corrupt("date"))?,
        date_precision: small(g(2)?)?,
        event_type: s(3)?.to_string(),
        sub_event_type: s(4)?.to_string(),
        country: Country::parse(s(5)?)?,
        admin1: os(6)?,
        admin2: os(7)?,
        location: os(8)?,
        latitude: r.get(9).map_err(err)?,
        longitude: r.get(10).map_err(err)?,
        geo_precision: small(g(11)?)?,
        actor1: os(12)?,
        actor2: os(13)?,
        targeted_group: os(14)?,
        fatalities: g(15)?,
        fatalities_low: og(16)?,
        fatalities_high: og(17)?,
        credibility: small(g(18)?)?,
        verification_status: VerificationStatus::parse(s(19)?)?,
        description: s(20)?.to_string(),
        tlp: tlp(g(21)?)?,
        situation_id: os(22)?.map(|t| parse_uuid(&t)).transpose()?,
        report_ids,
        dataset: os(24)?,
        external_id: os(25)?,
        created_at: parse_ts(s(26)?)?,
        updated_at: parse_ts(s(27)?)?,
        version: g(28)?,
        violence_type: osmall(og(29)?)?,
        reliability: tocsin_domain::Reliability::F,
        grading: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::Seen;

    #[test]
    fn seen_remembers_pairs_and_tells_datasets_apart() {
        let mut seen = Seen::new();
        assert!(!seen.insert("acled", "CEN1"), "a new pair is certainly new");
        assert!(seen.insert("acled", "CEN1"), "and seen the second time");
        assert!(
            !seen.insert("ucdp", "CEN1"),
            "another dataset's id is another pair"
        );
        // False positives stay rare: of 100,000 new ids after 100,000 others, almost none.
        for n in 0..100_000 {
            seen.insert("acled", &format!("A{n}"));
        }
        let wrong = (0..100_000)
            .filter(|n| seen.insert("acled", &format!("B{n}")))
            .count();
        assert!(wrong < 10, "{wrong} new ids taken for seen");
    }
}
