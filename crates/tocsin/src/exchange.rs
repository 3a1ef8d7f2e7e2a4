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
use tocsin_exchange::{ExportFormat, Format, Geo, ImportOptions, Reverse, Row};
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
/// Rejected rows listed in the summary.
const LIST_REJECTED: usize = 50;

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
    /// The first rejected rows: line and reason.
    pub rejections: Vec<(u64, String)>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "read {}, inserted {}, updated {}, rejected {}, skipped {}",
            self.read, self.inserted, self.updated, self.rejected, self.skipped
        )?;
        for (line, reason) in &self.rejections {
            writeln!(f, "  rejected line {line}: {reason}")?;
        }
        if self.rejected > self.rejections.len() as u64 {
            writeln!(
                f,
                "  … and {} more rejected rows",
                self.rejected - self.rejections.len() as u64
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

/// Import `path` as `format` into the store, as one transaction: a file that cannot be read
/// to its end (wrong delimiter, missing columns, a line over the limit) changes nothing, and
/// neither does a failure of the database midway.
///
/// One pass: a thread parses and validates rows and hands batches to the store, which writes
/// them as they come (parsing and writing use a core each).
pub async fn import(
    store: &DynStore,
    format: Format,
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
        tocsin_exchange::read(format, file, &opts, &*geo, &mut |row| {
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
                Row::Rejected { line, reason } => {
                    s.rejected += 1;
                    if s.rejections.len() < LIST_REJECTED {
                        s.rejections.push((line, reason));
                    }
                }
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
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
