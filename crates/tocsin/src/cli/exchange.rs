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

// The arguments of `tocsin import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// ucdp, acled, gdelt or hxl.
    format: String,
    /// The file.
    file: PathBuf,
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

/// `tocsin import FORMAT FILE`: prints the summary and the rate.
pub async fn import(g: &Global, args: ImportArgs) -> Result<ExitCode> {
    let ImportArgs {
        format,
        file,
        dataset,
        tlp,
        gdelt_roots,
        event_type,
        sub_event_type,
    } = args;
    let cfg = settle(g, Overrides::default())?;
    let format = tocsin_exchange::Format::parse(&format)?;
    let mut opts = tocsin_exchange::ImportOptions::new(format);
    if let Some(d) = dataset {
        opts.dataset = d;
    }
    opts.tlp = tlp.parse()?;
    opts.gdelt_roots = gdelt_roots;
    opts.default_event_type = event_type.zip(sub_event_type);
    let store = open_store_with(&cfg, true).await?;
    let started = std::time::Instant::now();
    let summary = exchange::import(&store, format, &file, opts, geo()).await?;
    print!("{summary}");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "took {secs:.1} s ({:.0} rows/s)",
        summary.read as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
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
