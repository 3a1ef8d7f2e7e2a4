//! The `tocsin forecast` subcommands, so that the binary only has to mount them.

use crate::backtest::{backtest, score_published, BacktestConfig};
use crate::data::Dataset;
use crate::error::{ForecastError, Result};
use crate::model::ModelConfig;
use crate::run::{run, ForecastRun};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `tocsin forecast …`
#[derive(Debug, clap::Subcommand)]
pub enum ForecastCommand {
    /// Backtest on the Early Warning Project's country-year data with its protocol (train
    /// through L, forecast from L+2, for L = 1991…2021; score 1994–2024) and print one line
    /// per model: `NAME auc=… brier=… top30=N/M`.
    Backtest {
        /// The country-year file (`prepared2024predictors-….csv`).
        #[arg(long)]
        data: PathBuf,
        /// The Project's published out-of-sample forecasts (`FOOSforecasts_….csv`), scored
        /// as `ewp-published`. Defaults to the one `FOOSforecasts*.csv` beside `--data`.
        #[arg(long)]
        published: Option<PathBuf>,
        /// Worker threads; 0 uses every core.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Also print each window's training size, penalty and number of trees.
        #[arg(long)]
        verbose: bool,
    },
    /// Rank the countries with data in one year by risk of a mass-killing onset in the next
    /// two years, with each predictor's contribution to the elastic-net part.
    Run {
        /// The country-year file.
        #[arg(long)]
        data: PathBuf,
        /// Year of the data to forecast from.
        #[arg(long)]
        year: i32,
        /// How many countries to print.
        #[arg(long, default_value_t = 30)]
        top: usize,
        /// How many contributions to print per country.
        #[arg(long, default_value_t = 4)]
        contributions: usize,
        /// Print the whole run (every country, every contribution) as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn out_err(e: std::io::Error) -> ForecastError {
    ForecastError::Output(e)
}

/// The single `FOOSforecasts*.csv` in the data file's folder, if there is exactly one.
fn published_beside(data: &Path) -> Option<PathBuf> {
    let dir = data.parent().filter(|d| !d.as_os_str().is_empty())?;
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("FOOSforecasts") && n.ends_with(".csv"))
        })
        .collect();
    (found.len() == 1).then(|| found[0].clone())
}

/// Run a `tocsin forecast` subcommand, writing its report to `out`.
pub fn execute(cmd: ForecastCommand, out: &mut dyn Write) -> Result<()> {
    match cmd {
        ForecastCommand::Backtest {
            data,
            published,
            threads,
            verbose,
        } => {
            let ds = Dataset::load(&data)?;
            let cfg = BacktestConfig {
                threads,
                ..BacktestConfig::default()
            };
            let published = published.or_else(|| published_beside(&data));
            let ewp = published
                .as_ref()
                .map(|p| score_published(p, &cfg))
                .transpose()?;
            let report = backtest(&ds, &cfg)?;
            let mut lines: Vec<String> = report.scores.iter().map(|s| s.to_string()).collect();
            if let Some(e) = &ewp {
                lines.insert(1, e.to_string());
            }
            for l in &lines {
                writeln!(out, "{l}").map_err(out_err)?;
            }
            if verbose {
                for w in &report.windows {
                    writeln!(
                        out,
                        "window: trained through {} on {} rows, forecast from {} ({} countries): \
                         lambda={:.5}; depth {}, {} trees; fitted in {:.1} s + {:.1} s",
                        w.train_end,
                        w.train_rows,
                        w.data_year,
                        w.rows.len(),
                        w.lambda,
                        w.depth,
                        w.n_trees,
                        w.seconds.0,
                        w.seconds.1
                    )
                    .map_err(out_err)?;
                }
            }
            let s = &report.scores[0];
            writeln!(
                out,
                "backtest: {} windows (trained through {}–{}), {} country-years {}–{}, {} onsets, \
                 {:.1} s",
                report.windows.len(),
                cfg.first_train_end,
                cfg.last_train_end,
                s.rows,
                cfg.first_score_year,
                cfg.last_score_year,
                s.onsets,
                report.seconds
            )
            .map_err(out_err)?;
            if published.is_none() {
                writeln!(
                    out,
                    "(no published forecasts given: pass --published FOOSforecasts….csv to score \
                     ewp-published)"
                )
                .map_err(out_err)?;
            }
            Ok(())
        }
        ForecastCommand::Run {
            data,
            year,
            top,
            contributions,
            json,
        } => {
            let ds = Dataset::load(&data)?;
            let r = run(&ds, year, &ModelConfig::default())?;
            if json {
                let text = serde_json::to_string_pretty(&r)
                    .map_err(|e| ForecastError::Invalid(format!("cannot encode the run: {e}")))?;
                writeln!(out, "{text}").map_err(out_err)?;
            } else {
                write_run(&r, top, contributions, out).map_err(out_err)?;
            }
            Ok(())
        }
    }
}

/// The human-readable table of a run.
pub fn write_run(
    r: &ForecastRun,
    top: usize,
    contributions: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "Forecast from {} data: risk of a mass-killing onset in {} or {}. Trained on {} \
         country-years through {} (elastic-net lambda={:.5}, {} trees).",
        r.data_year,
        r.target_years.0,
        r.target_years.1,
        r.training_rows,
        r.trained_through,
        r.lambda,
        r.n_trees
    )?;
    writeln!(
        out,
        "Contributions: elastic-net coefficient × standardised value, in log-odds (baseline \
         {:+.2}).",
        r.intercept_std
    )?;
    writeln!(
        out,
        "{:>4}  {:>6}  {:>6}  {:>6}  {:<34}  top contributions",
        "rank", "risk", "enet", "gbt", "country"
    )?;
    for c in r.results.iter().take(top) {
        let parts: Vec<String> = c
            .contributions
            .iter()
            .take(contributions)
            .map(|k| format!("{} {:+.2}", k.predictor, k.contribution))
            .collect();
        writeln!(
            out,
            "{:>4}  {:>6.4}  {:>6.4}  {:>6.4}  {:<34}  {}",
            c.rank,
            c.risk,
            c.elastic_net,
            c.gbt,
            c.country,
            parts.join(", ")
        )?;
    }
    Ok(())
}
