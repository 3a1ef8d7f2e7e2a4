//! `tocsin forecast`: country-year forecasts, and stored runs (`tocsin forecast run --store`)
//! so situations show their country's rank and trend.

use anyhow::{bail, Result};
use clap::Args;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use tocsin_domain::{Actor, ForecastRun, ForecastScore};
use tocsin_store::{DynStore, Op};

use super::common::{open_store, settle};
use super::Global;
use crate::config::Overrides;

// The flags of `tocsin forecast`.
#[derive(Args, Debug)]
pub struct ForecastArgs {
    /// With `run`: store the run (scores, ranks, top contributions) so situations show
    /// their country's rank and trend; prints the run's id.
    #[arg(long, global = true)]
    store: bool,
    #[command(subcommand)]
    command: tocsin_forecast::cli::ForecastCommand,
}

/// Run a `tocsin forecast` subcommand.
pub async fn forecast(g: &Global, args: ForecastArgs) -> Result<ExitCode> {
    match args {
        ForecastArgs {
            store: false,
            command,
        } => {
            tocsin_forecast::cli::execute(command, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        ForecastArgs {
            store: true,
            command:
                tocsin_forecast::cli::ForecastCommand::Run {
                    data,
                    year,
                    top,
                    contributions,
                    json,
                },
        } => {
            let cfg = settle(g, Overrides::default())?;
            let store = open_store(&cfg).await?;
            let ds = tocsin_forecast::data::Dataset::load(&data)?;
            let r = tocsin_forecast::run::run(
                &ds,
                year,
                &tocsin_forecast::model::ModelConfig::default(),
            )?;
            {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                if json {
                    writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?;
                } else {
                    tocsin_forecast::cli::write_run(&r, top, contributions, &mut out)?;
                }
            }
            print!("{}", store_forecast(&store, &r, &data).await?);
            Ok(ExitCode::SUCCESS)
        }
        ForecastArgs { store: true, .. } => {
            bail!("--store applies to `tocsin forecast run` only")
        }
    }
}

/// ISO alpha-3 of a country-year row: its Correlates of War code, else its name.
pub fn forecast_country(name: &str, ccode: Option<i64>) -> Option<String> {
    ccode
        .and_then(|c| tocsin_geo::country_code(&format!("COW {c}")))
        .or_else(|| tocsin_geo::country_code(name))
        .map(str::to_string)
}

/// Contributions kept per country in a stored run.
pub const STORED_CONTRIBUTIONS: usize = 5;

/// A forecast run as stored, and the countries that could not be mapped to ISO codes.
pub fn forecast_record(
    r: &tocsin_forecast::run::ForecastRun,
    data: &Path,
) -> (ForecastRun, Vec<String>) {
    let mut skipped = vec![];
    let mut seen = std::collections::HashSet::new();
    let mut scores = vec![];
    for c in &r.results {
        let Some(iso) = forecast_country(&c.country, c.ccode)
            .and_then(|code| tocsin_domain::Country::parse(&code).ok())
        else {
            skipped.push(c.country.clone());
            continue;
        };
        if !seen.insert(iso.code().to_string()) {
            skipped.push(format!("{} (again {})", c.country, iso.code()));
            continue;
        }
        scores.push(ForecastScore {
            country: iso,
            rank: scores.len() as u32 + 1,
            probability: c.risk,
            contributions: c
                .contributions
                .iter()
                .take(STORED_CONTRIBUTIONS)
                .map(|k| (k.predictor.clone(), k.contribution))
                .collect(),
        });
    }
    let run = ForecastRun {
        id: tocsin_domain::new_id(),
        year: r.data_year,
        model: "tocsin".into(),
        data: data
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| data.display().to_string()),
        countries: scores.len() as u32,
        created_at: tocsin_domain::time::now(),
        scores,
    };
    (run, skipped)
}

/// Store a computed forecast run; returns what to print.
pub async fn store_forecast(
    store: &DynStore,
    r: &tocsin_forecast::run::ForecastRun,
    data: &Path,
) -> Result<String> {
    let (run, skipped) = forecast_record(r, data);
    let id = run.id;
    let n = run.countries;
    store
        .write(
            &Actor::system("forecast"),
            Op::StoreForecastRun(Box::new(run)),
        )
        .await?;
    let mut out = String::new();
    if !skipped.is_empty() {
        let _ = writeln!(
            out,
            "{} row(s) without an ISO country code, not stored: {}",
            skipped.len(),
            skipped.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "stored forecast run of {} data for {n} countries ({} skipped):",
        r.data_year,
        skipped.len()
    );
    let _ = writeln!(out, "{id}");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ewp_countries_map_to_iso_codes() {
        assert_eq!(
            forecast_country("Central African Republic", Some(482)).as_deref(),
            Some("CAF")
        );
        assert_eq!(
            forecast_country("Germany", Some(255)).as_deref(),
            Some("DEU")
        );
        assert_eq!(forecast_country("Yemen", Some(679)).as_deref(), Some("YEM"));
        assert_eq!(
            forecast_country("Democratic Republic of Vietnam", Some(816)).as_deref(),
            Some("VNM")
        );
        assert_eq!(
            forecast_country("Kosovo", Some(347)).as_deref(),
            Some("XKX")
        );
        assert_eq!(forecast_country("Atlantis", None), None);
    }
}
