//! `tocsin import` and `tocsin export`: files in and out, streamed.
//!
//! An import reads the file once, on a thread that hands batches of validated rows to the
//! store, which upserts them by provenance (dataset, external id) in one transaction and
//! commits only when the whole file has been read: a file that cannot be parsed at all
//! changes nothing.

use anyhow::{bail, Context, Result};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use tocsin_domain::{Actor, Country, Incident, IncidentFilter};
use tocsin_exchange::{ExportFormat, Format, Geo, ImportOptions, ReadInfo, Reverse, Row};
use tocsin_store::{DynStore, ImportChunk, MAX_IMPORT_BATCH};

/// Place names and codes from the embedded gazetteer (GeoNames, Natural Earth).
pub struct Gazetteer;

impl Geo for Gazetteer {
    fn country(&self, s: &str) -> Option<Country> {
        tocsin_geo::country_code(s).and_then(|c| Country::parse(c).ok())
    }

    fn country_gw(&self, code: &str) -> Option<Country> {
        let gw = code.trim().parse::<u16>().ok()?;
        tocsin_geo::country_from_gw(gw).and_then(|c| Country::parse(c).ok())
    }

    fn reverse(&self, lat: f64, lon: f64) -> Option<Reverse> {
        let p = tocsin_geo::reverse(lat, lon)?;
        Some(Reverse {
            country: Country::parse(p.country).ok()?,
            admin1: p.admin1.map(str::to_string),
            admin2: p.admin2.map(str::to_string),
            place: Some(p.nearest.name.to_string()),
        })
    }
}

/// Rows per batch handed to the store.
const BATCH: usize = 5_000;
/// Why the reader stopped when the store gave up first.
const DATABASE_STOPPED: &str = "the database side stopped";
/// Reasons for rejection told apart in the summary; rows for further reasons are counted
/// together.
const MAX_REASONS: usize = 50;
/// Line numbers listed for each reason.
const LINES_PER_REASON: usize = 5;

/// Rejected rows that share a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectGroup {
    /// The reason with the row's own values left out, grouping rows alike.
    pub key: String,
    /// The first row's full reason.
    pub example: String,
    /// How many rows.
    pub count: u64,
    /// The first rows' line numbers.
    pub lines: Vec<u64>,
    /// Whether some row's reason differs from the example in its values.
    pub alike: bool,
}

/// The reason without the values that differ from row to row: quoted text, and numbers
/// after the last `: `.
fn reason_key(reason: &str) -> String {
    let mut key = String::with_capacity(reason.len());
    let mut quoted = false;
    for c in reason.chars() {
        match (c, quoted) {
            ('"', false) => {
                quoted = true;
                key.push('…');
            }
            ('"', true) => quoted = false,
            (_, true) => {}
            (c, false) => key.push(c),
        }
    }
    if let Some(i) = key.rfind(": ") {
        if key[i + 2..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '-')
        {
            key.truncate(i);
        }
    }
    key
}

/// Exit code of an import that rejected some rows and imported others.
pub const EXIT_SOME_REJECTED: u8 = 1;
/// Exit code of an import that imported nothing (or could not read the file).
pub const EXIT_NOTHING_IMPORTED: u8 = 2;

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Data rows read.
    pub read: u64,
    /// New incidents.
    pub inserted: u64,
    /// Existing incidents updated.
    pub updated: u64,
    /// Rows refused.
    pub rejected: u64,
    /// Rows left out by choice (e.g. GDELT events outside the kept roots).
    pub skipped: u64,
    /// Rejected rows grouped by reason, in the order the reasons first came up.
    pub groups: Vec<RejectGroup>,
    /// What reading found out about the file (format, compression, encoding, layout).
    pub info: ReadInfo,
}

impl Summary {
    fn reject(&mut self, line: u64, reason: String) {
        self.rejected += 1;
        let key = reason_key(&reason);
        let at = match self.groups.iter().position(|g| g.key == key) {
            Some(i) => i,
            None if self.groups.len() < MAX_REASONS => {
                self.groups.push(RejectGroup {
                    key,
                    example: reason.clone(),
                    count: 0,
                    lines: vec![],
                    alike: false,
                });
                self.groups.len() - 1
            }
            None => return,
        };
        let g = &mut self.groups[at];
        g.alike |= g.example != reason;
        g.count += 1;
        if g.lines.len() < LINES_PER_REASON {
            g.lines.push(line);
        }
    }

    /// 0 when every row was imported or skipped on purpose; [`EXIT_SOME_REJECTED`] when
    /// some were rejected; [`EXIT_NOTHING_IMPORTED`] when none was imported.
    pub fn exit_code(&self) -> u8 {
        if self.inserted + self.updated == 0 && (self.rejected > 0 || self.read == 0) {
            EXIT_NOTHING_IMPORTED
        } else if self.rejected > 0 {
            EXIT_SOME_REJECTED
        } else {
            0
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for note in self.info.notes() {
            writeln!(f, "{note}")?;
        }
        writeln!(
            f,
            "read {}, inserted {}, updated {}, rejected {}, skipped {}",
            self.read, self.inserted, self.updated, self.rejected, self.skipped
        )?;
        if !self.groups.is_empty() {
            writeln!(f, "rejected rows by reason:")?;
        }
        for g in &self.groups {
            let rows = if g.count == 1 { "row" } else { "rows" };
            let like = if g.alike { " (and alike)" } else { "" };
            let lines = g
                .lines
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let more = if g.count > g.lines.len() as u64 {
                ", …"
            } else {
                ""
            };
            let word = if g.lines.len() == 1 { "line" } else { "lines" };
            writeln!(
                f,
                "  {} {rows}: {}{like} — {word} {lines}{more}",
                g.count, g.example
            )?;
        }
        let grouped: u64 = self.groups.iter().map(|g| g.count).sum();
        if self.rejected > grouped {
            writeln!(
                f,
                "  {} more rows for other reasons",
                self.rejected - grouped
            )?;
        }
        Ok(())
    }
}

fn progress(what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {pos} rows ({per_sec})")
            .expect("valid template"),
    );
    pb.set_message(what.to_string());
    pb
}

/// Import `path` as `format` (sniffed when `None`) into the store, as one transaction: a
/// file that cannot be read to its end (wrong delimiter, missing columns, a line over the
/// limit) changes nothing, and neither does a failure of the database midway. A `.gz` file
/// or one member of a `.zip` is read as it streams, in any encoding (see [`ImportOptions`]).
///
/// One pass: a thread parses and validates rows and hands batches to the store, which writes
/// them as they come (parsing and writing use a core each).
pub async fn import(
    store: &DynStore,
    format: Option<Format>,
    path: &Path,
    opts: ImportOptions,
    geo: Arc<dyn Geo + Send + Sync>,
) -> Result<Summary> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let pb = progress("importing");
    let (tx, rx) = tokio::sync::mpsc::channel::<ImportChunk>(4);
    let bar = pb.clone();
    let reader = std::thread::spawn(move || -> Result<Summary, String> {
        let mut s = Summary::default();
        // Rows by dataset (an HXL file may name several), each sent when full.
        let mut batches: std::collections::BTreeMap<String, Vec<Incident>> = Default::default();
        let send = |chunk| {
            tx.blocking_send(chunk)
                .map_err(|_| DATABASE_STOPPED.to_string())
        };
        let info = tocsin_exchange::read_file(format, file, &opts, &*geo, &mut |row| {
            s.read += 1;
            match row {
                Row::Incident(i) => {
                    let dataset = i.dataset.clone().unwrap_or_default();
                    let batch = batches.entry(dataset.clone()).or_default();
                    batch.push(*i);
                    if batch.len() >= BATCH.min(MAX_IMPORT_BATCH) {
                        bar.inc(batch.len() as u64);
                        let incidents = std::mem::replace(batch, Vec::with_capacity(BATCH));
                        send(ImportChunk::Rows { dataset, incidents })?;
                    }
                }
                Row::Skipped => s.skipped += 1,
                Row::Rejected { line, reason } => s.reject(line, reason),
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        s.info = info;
        for (dataset, incidents) in batches {
            if !incidents.is_empty() {
                send(ImportChunk::Rows { dataset, incidents })?;
            }
        }
        // Only now may the store commit; a reader that stops early never sends this.
        send(ImportChunk::End)?;
        Ok(s)
    });
    let actor = Actor::system("import");
    let stored = store.import_stream(&actor, rx).await;
    pb.finish_and_clear();
    let read = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    match (read, stored) {
        (Ok(mut summary), Ok((inserted, updated))) => {
            summary.inserted = inserted;
            summary.updated = updated;
            Ok(summary)
        }
        // The file's problem, unless the reader stopped because the database side did.
        (Err(e), _) if e != DATABASE_STOPPED => bail!("nothing was imported: {e}"),
        (_, Err(e)) => bail!("nothing was imported: {e}"),
        (Err(e), Ok(_)) => bail!("nothing was imported: {e}"),
    }
}

/// Export incidents matching `filter` (capped at its `max_tlp`) to `out`, page by page.
pub async fn export(
    store: &DynStore,
    format: ExportFormat,
    filter: &IncidentFilter,
    out: impl Write,
) -> Result<u64> {
    let out = std::cell::RefCell::new(BufWriter::with_capacity(1 << 20, out));
    let n = tocsin_server::export::export_incidents(store, format, filter, |chunk| {
        let r = out
            .borrow_mut()
            .write_all(&chunk)
            .map_err(tocsin_server::export::ExportError::from);
        async move { r }
    })
    .await?;
    out.into_inner().flush()?;
    Ok(n)
}
