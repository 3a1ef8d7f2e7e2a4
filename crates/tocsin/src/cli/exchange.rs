//! `tocsin import` and `tocsin export`: their flags; the streaming itself is in
//! [`crate::exchange`].

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use super::common::{open_store, open_store_with, settle};
use super::Global;
use crate::config::Overrides;
use crate::exchange;

/// What `tocsin import --help` adds after the flags.
const IMPORT_AFTER_HELP: &str = "\
The file may be gzipped (.gz) or a .zip archive holding one data file (or name it with
--member); it is read as it streams. Text that is not UTF-8 is read as Windows-1252 (said in
the summary) unless a byte order mark (UTF-16) or --encoding says otherwise. Without FORMAT,
the format is sniffed from the header, tag row or column count, and the summary says which.

Exit codes:
  0  every row was imported, or skipped on purpose (GDELT roots not kept)
  1  some rows were rejected (listed by reason); the others were imported
  2  nothing was imported: the file could not be read, had no rows, or every row was
     rejected; or another failure (the database)";

// The arguments of `tocsin import`.
#[derive(Args, Debug)]
#[command(
    override_usage = "tocsin import [OPTIONS] [FORMAT] FILE",
    after_help = IMPORT_AFTER_HELP
)]
pub struct ImportArgs {
    /// ucdp, acled, gdelt or hxl, then the file; or only the file, to sniff its format.
    #[arg(value_name = "FORMAT")]
    format_or_file: String,
    /// The file (.csv, .tsv, .geojson, optionally .gz or .zip).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Text encoding, e.g. windows-1252, latin1, utf-16le, utf-8 (default: detected).
    #[arg(long, value_name = "LABEL")]
    encoding: Option<String>,
    /// The member of a .zip archive to read, when it holds several files.
    #[arg(long, value_name = "NAME")]
    member: Option<String>,
    /// Form of dates that could be read two ways, e.g. %d/%m/%Y or %m/%d/%Y (chrono
    /// syntax); such dates are rejected without it, never guessed.
    #[arg(long, value_name = "FORMAT")]
    date_format: Option<String>,
    /// Provenance dataset name (default: the format's, e.g. ucdp-ged).
    #[arg(long)]
    dataset: Option<String>,
    /// TLP label of the imported incidents.
    #[arg(long, default_value = "TLP:CLEAR")]
    tlp: String,
    /// GDELT CAMEO root codes to keep, comma-separated.
    #[arg(long, default_value = "18,19,20", value_delimiter = ',')]
    gdelt_roots: Vec<u8>,
    /// Event type for HXL rows without #event+type (with --sub-event-type).
    #[arg(long, requires = "sub_event_type")]
    event_type: Option<String>,
    /// Sub-event type for HXL rows without #event+subtype.
    #[arg(long, requires = "event_type")]
    sub_event_type: Option<String>,
}

// The flags of `tocsin export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// csv, geojson, hxl or acled.
    #[arg(long)]
    format: String,
    /// Write here instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Highest TLP label exported (default: only TLP:CLEAR).
    #[arg(long, default_value = "TLP:CLEAR")]
    max_tlp: String,
    /// ISO 3166-1 alpha-3.
    #[arg(long)]
    country: Option<String>,
    /// Event date on or after (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Event date on or before (YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
    /// min_lon,min_lat,max_lon,max_lat.
    #[arg(long)]
    bbox: Option<String>,
    /// ACLED event type.
    #[arg(long)]
    event_type: Option<String>,
    /// Verification status.
    #[arg(long)]
    verification_status: Option<String>,
}

/// Place names and codes for importers.
fn geo() -> Arc<dyn tocsin_exchange::Geo + Send + Sync> {
    Arc::new(exchange::Gazetteer)
}

/// Print to standard output; a reader that went away (`| head -1`) is not an error, and
/// changes nothing about what the import did.
fn say(text: &str) -> Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// `tocsin import [FORMAT] FILE`: prints the summary and the rate; exits 0, 1 (some rows
/// rejected) or 2 (nothing imported).
pub async fn import(g: &Global, args: ImportArgs) -> Result<ExitCode> {
    let ImportArgs {
        format_or_file,
        file,
        encoding,
        member,
        date_format,
        dataset,
        tlp,
        gdelt_roots,
        event_type,
        sub_event_type,
    } = args;
    let cfg = settle(g, Overrides::default())?;
    let (format, file) = match file {
        Some(f) => (Some(tocsin_exchange::Format::parse(&format_or_file)?), f),
        None => (None, PathBuf::from(format_or_file)),
    };
    let mut opts = match format {
        Some(f) => tocsin_exchange::ImportOptions::new(f),
        None => tocsin_exchange::ImportOptions::any(),
    };
    if let Some(d) = dataset {
        opts.dataset = d;
    }
    if let Some(e) = &encoding {
        tocsin_exchange::encoding_for_label(e)?;
    }
    opts.encoding = encoding;
    opts.member = member;
    opts.date_format = date_format;
    opts.tlp = tlp.parse()?;
    opts.gdelt_roots = gdelt_roots;
    opts.default_event_type = event_type.zip(sub_event_type);
    let store = open_store_with(&cfg, true).await?;
    let started = std::time::Instant::now();
    let summary = exchange::import(&store, format, &file, opts, geo()).await?;
    let secs = started.elapsed().as_secs_f64();
    say(&format!(
        "{summary}took {secs:.1} s ({:.0} rows/s)\n",
        summary.read as f64 / secs.max(1e-9)
    ))?;
    let code = summary.exit_code();
    if code == exchange::EXIT_NOTHING_IMPORTED {
        eprintln!(
            "nothing was imported: {}",
            if summary.read == 0 {
                "the file has no data rows"
            } else {
                "every row was rejected"
            }
        );
    }
    Ok(ExitCode::from(code))
}

/// `tocsin export`: the incidents up to `--max-tlp` that match the filters.
pub async fn export(g: &Global, args: ExportArgs) -> Result<ExitCode> {
    let ExportArgs {
        format,
        output,
        max_tlp,
        country,
        from,
        to,
        bbox,
        event_type,
        verification_status,
    } = args;
    let cfg = settle(g, Overrides::default())?;
    let format = tocsin_exchange::ExportFormat::parse(&format)?;
    let q = tocsin_server::api::IncidentQuery {
        country,
        from,
        to,
        bbox,
        event_type,
        verification_status,
        ..Default::default()
    };
    let (filter, _) = q.to_filter(max_tlp.parse()?)?;
    let store = open_store(&cfg).await?;
    // The operator's export of restricted incidents is audited as the API's exports are.
    let mut detail = serde_json::to_value(&q)?;
    detail["max_tlp"] = filter.max_tlp.as_str().into();
    detail["format"] = format!("{format:?}").into();
    tocsin_app::reads::export_by(
        &store,
        &tocsin_domain::Actor::system("cli"),
        filter.max_tlp,
        detail,
    )
    .await?;
    let n = match output {
        Some(p) => {
            let f = std::fs::File::create(&p)
                .with_context(|| format!("cannot create {}", p.display()))?;
            exchange::export(&store, format, &filter, f).await?
        }
        None => exchange::export(&store, format, &filter, std::io::stdout().lock()).await?,
    };
    eprintln!("exported {n} incidents");
    Ok(ExitCode::SUCCESS)
}
