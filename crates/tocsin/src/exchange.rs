//! `tocsin import` and `tocsin export`: files in and out, streamed.
//!
//! An import reads the file twice. The first pass validates every row without writing, so a
//! file that cannot be parsed at all changes nothing; the second pass parses again on a thread
//! and hands batches to the store, which upserts them by provenance (dataset, external id).

use anyhow::{bail, Context, Result};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use tocsin_domain::{Actor, Country, Incident, IncidentFilter};
use tocsin_exchange::{ExportFormat, Format, Geo, ImportOptions, Reverse, Row};
use tocsin_store::{DynStore, StoreExt, MAX_IMPORT_BATCH};

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

/// Rows per write to the store.
const BATCH: usize = 5_000;
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

fn progress(total: u64, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(total);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} rows ({per_sec}, {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Import `path` as `format` into the store.
pub async fn import(
    store: &DynStore,
    format: Format,
    path: &Path,
    opts: ImportOptions,
    geo: Arc<dyn Geo + Send + Sync>,
) -> Result<Summary> {
    let opts = Arc::new(opts);
    let open =
        |p: &Path| std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()));

    // Pass 1: validate everything, write nothing.
    let file = open(path)?;
    let (o, g) = (opts.clone(), geo.clone());
    let mut summary = tokio::task::spawn_blocking(move || -> Result<Summary> {
        let mut s = Summary::default();
        tocsin_exchange::read(format, file, &o, &*g, &mut |row| {
            match row {
                Row::Incident(_) => s.read += 1,
                Row::Skipped => {
                    s.read += 1;
                    s.skipped += 1
                }
                Row::Rejected { line, reason } => {
                    s.read += 1;
                    s.rejected += 1;
                    if s.rejections.len() < LIST_REJECTED {
                        s.rejections.push((line, reason));
                    }
                }
            }
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("nothing was imported: {e}"))?;
        Ok(s)
    })
    .await??;

    // Pass 2: parse again on a thread, write batches as they fill.
    let to_write = summary.read - summary.rejected - summary.skipped;
    let pb = progress(to_write, "importing");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, Vec<Incident>)>(2);
    let file = open(path)?;
    let reader = std::thread::spawn(move || -> Result<()> {
        let mut batches: std::collections::HashMap<String, Vec<Incident>> = Default::default();
        tocsin_exchange::read(format, file, &opts, &*geo, &mut |row| {
            if let Row::Incident(i) = row {
                let ds = i.dataset.clone().unwrap_or_default();
                let b = batches.entry(ds.clone()).or_default();
                b.push(*i);
                if b.len() >= BATCH.min(MAX_IMPORT_BATCH) {
                    let full = std::mem::take(b);
                    tx.blocking_send((ds, full))
                        .map_err(|_| "the database side stopped".to_string())?;
                }
            }
            Ok(())
        })?;
        for (ds, b) in batches {
            if !b.is_empty() {
                tx.blocking_send((ds, b))
                    .map_err(|_| anyhow::anyhow!("the database side stopped"))?;
            }
        }
        Ok(())
    });
    let actor = Actor::system("import");
    let mut write_error = None;
    while let Some((dataset, batch)) = rx.recv().await {
        let n = batch.len() as u64;
        match store.import_incidents(&actor, &dataset, batch).await {
            Ok((ins, upd)) => {
                summary.inserted += ins;
                summary.updated += upd;
                pb.inc(n);
            }
            Err(e) => {
                write_error = Some(e);
                break;
            }
        }
    }
    drop(rx);
    pb.finish_and_clear();
    let read_result = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    if let Some(e) = write_error {
        bail!(
            "the import stopped after {} inserted and {} updated rows: {e}",
            summary.inserted,
            summary.updated
        );
    }
    read_result.context("the file changed between the validation pass and the import")?;
    Ok(summary)
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
