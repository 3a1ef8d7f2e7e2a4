//! The Early Warning Project's out-of-sample protocol and its scores.
//!
//! For each last training year `L` (1991 to 2021) the models are fitted on the rows with year
//! ≤ `L` and complete predictors, outcome `mk_onset_1or2` (an onset in the row's next year or
//! the one after, so the last outcome used is observed in `L + 2`), and forecast from the
//! rows of year `L + 2` with complete predictors. A forecast made from data of year `D`
//! covers target years `D + 1` and `D + 2`; it is ranked among all forecasts from year `D`
//! (1 = riskiest, ties share the best rank, as the Project's `rank(-risk, ties.method =
//! "min")`). For country-year `Y` (1994 to 2024), the score
//! uses the larger risk and the better rank of the forecasts made from `Y − 1` and `Y − 2`
//! (the Project's `maxrisk2` and `minrank2`; `risk_prev` is made from `Y − 1`,
//! `risk_two_years_prior` from `Y − 2`); a country-year with neither is left out, as the
//! Project leaves out its `NA` rows. Each is scored against `mk_onset` of year `Y`: AUC, Brier
//! score, and how many onsets had a rank ≤ 30 in one of the two forecasts.

use crate::data::{column_index, open_csv, parse_cell, Dataset};
use crate::error::{ForecastError, Result};
use crate::metrics::{auc, brier, rank_desc_min};
use crate::model::{Fitted, ModelConfig, Predictions};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Which windows to run and which years to score.
#[derive(Debug, Clone)]
pub struct BacktestConfig {
    /// First last-training-year `L`.
    pub first_train_end: i32,
    /// Last last-training-year `L`.
    pub last_train_end: i32,
    /// Forecasts are made from year `L + horizon`.
    pub horizon: i32,
    /// First scored year.
    pub first_score_year: i32,
    /// Last scored year.
    pub last_score_year: i32,
    /// Rank cut-off for the "top" count.
    pub top: f64,
    /// Worker threads (windows are independent); 0 = the machine's cores.
    pub threads: usize,
    /// The models.
    pub models: ModelConfig,
}

impl Default for BacktestConfig {
    fn default() -> Self {
        Self {
            first_train_end: 1991,
            last_train_end: 2021,
            horizon: 2,
            first_score_year: 1994,
            last_score_year: 2024,
            top: 30.0,
            threads: 0,
            models: ModelConfig::default(),
        }
    }
}

/// One model's scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Score {
    /// Model name.
    pub name: String,
    /// Area under the ROC curve of the two-year maximum risk.
    pub auc: f64,
    /// Brier score of the two-year maximum risk.
    pub brier: f64,
    /// Onsets ranked within the top in one of the two forecasts.
    pub top: usize,
    /// Onsets scored.
    pub onsets: usize,
    /// Country-years scored.
    pub rows: usize,
}

impl fmt::Display for Score {
    /// `NAME auc=0.xxx brier=0.xxxx top30=N/M`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} auc={:.3} brier={:.4} top30={}/{}",
            self.name, self.auc, self.brier, self.top, self.onsets
        )
    }
}

/// A scored country-year: the two-year maximum risk, minimum rank and the outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredRow {
    /// `maxrisk2`.
    pub risk: f64,
    /// `minrank2`.
    pub rank: f64,
    /// `mk_onset`.
    pub onset: bool,
}

/// Score rows: AUC and Brier of `risk`, onsets with `rank ≤ top`.
pub fn score_rows(name: &str, rows: &[ScoredRow], top: f64) -> Result<Score> {
    let risk: Vec<f64> = rows.iter().map(|r| r.risk).collect();
    let onset: Vec<bool> = rows.iter().map(|r| r.onset).collect();
    let auc = auc(&risk, &onset).ok_or_else(|| {
        ForecastError::Invalid(format!("{name}: scoring needs onsets and non-onsets"))
    })?;
    Ok(Score {
        name: name.to_string(),
        auc,
        brier: brier(&risk, &onset),
        top: rows.iter().filter(|r| r.onset && r.rank <= top).count(),
        onsets: onset.iter().filter(|&&o| o).count(),
        rows: rows.len(),
    })
}

/// Forecasts keyed by (country, data year): (risk, rank within that data year).
pub type ForecastTable = HashMap<(String, i32), (f64, f64)>;

/// Build the scored rows for years in the configured range: each country-year of `ds` with
/// a known `mk_onset` and a forecast from `Y − 1` or `Y − 2`.
pub fn align(ds: &Dataset, forecasts: &ForecastTable, cfg: &BacktestConfig) -> Vec<ScoredRow> {
    let mut out = Vec::new();
    for i in 0..ds.len() {
        let y = ds.year[i];
        if y < cfg.first_score_year || y > cfg.last_score_year {
            continue;
        }
        let Some(onset) = ds.mk_onset[i] else {
            continue;
        };
        let c = &ds.country[i];
        let prev = forecasts.get(&(c.clone(), y - 1));
        let two = forecasts.get(&(c.clone(), y - 2));
        let (risk, rank) = match (prev, two) {
            (None, None) => continue,
            (Some(a), None) | (None, Some(a)) => *a,
            (Some(a), Some(b)) => (a.0.max(b.0), a.1.min(b.1)),
        };
        out.push(ScoredRow { risk, rank, onset });
    }
    out
}

/// Score the Project's published forecasts (`maxrisk2`, `minrank2` against `mk_onset`, rows
/// without a forecast left out).
pub fn score_published(path: impl AsRef<Path>, cfg: &BacktestConfig) -> Result<Score> {
    let rows = read_published(path.as_ref())?
        .into_iter()
        .filter(|(y, _, _)| *y >= cfg.first_score_year && *y <= cfg.last_score_year)
        .filter_map(|(_, _, r)| r)
        .collect::<Vec<_>>();
    score_rows("ewp-published", &rows, cfg.top)
}

/// The published file's rows: (year, country, scored row if it has a forecast and outcome).
pub fn read_published(path: &Path) -> Result<Vec<(i32, String, Option<ScoredRow>)>> {
    let mut rdr = open_csv(path)?;
    let csv_err = |source| ForecastError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let headers = rdr.headers().map_err(csv_err)?.clone();
    let idx = column_index(&headers, path);
    let (iy, iname, io, ir, irk) = (
        idx("year")?,
        idx("ewp_name")?,
        idx("mk_onset")?,
        idx("maxrisk2")?,
        idx("minrank2")?,
    );
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec).map_err(csv_err)? {
        let line = rec.position().map_or(0, |p| p.line());
        let num = |i: usize| parse_cell(rec.get(i).unwrap_or(""), path, line, &headers[i]);
        let Some(year) = num(iy)? else { continue };
        let row = match (num(ir)?, num(irk)?, num(io)?) {
            (Some(risk), Some(rank), Some(o)) => Some(ScoredRow {
                risk,
                rank,
                onset: o != 0.0,
            }),
            _ => None,
        };
        out.push((year as i32, rec.get(iname).unwrap_or("").to_string(), row));
    }
    Ok(out)
}

/// One window's forecasts.
#[derive(Debug, Clone)]
pub struct Window {
    /// Last training year `L`.
    pub train_end: i32,
    /// Training rows used.
    pub train_rows: usize,
    /// Year the forecasts are made from (`L + 2`).
    pub data_year: i32,
    /// Dataset rows forecast from.
    pub rows: Vec<usize>,
    /// The forecasts.
    pub predictions: Predictions,
    /// Chosen elastic-net penalty.
    pub lambda: f64,
    /// Chosen number of trees.
    pub n_trees: usize,
    /// Chosen tree depth.
    pub depth: usize,
    /// Seconds spent fitting (elastic net, boosted trees).
    pub seconds: (f64, f64),
}

/// The result of a backtest.
#[derive(Debug, Clone)]
pub struct BacktestReport {
    /// One score per model: `tocsin` first, then the components.
    pub scores: Vec<Score>,
    /// Every window.
    pub windows: Vec<Window>,
    /// Wall-clock seconds for fitting and scoring.
    pub seconds: f64,
}

/// Fit and forecast every window.
pub fn run_windows(ds: &Dataset, cfg: &BacktestConfig) -> Result<Vec<Window>> {
    let ends: Vec<i32> = (cfg.first_train_end..=cfg.last_train_end).collect();
    let threads = if cfg.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        cfg.threads
    }
    .clamp(1, ends.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Result<Window>>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&end) = ends.get(k) else { break };
                let w = window(ds, end, cfg);
                results.lock().expect("no panics while holding").push(w);
            });
        }
    });
    let mut windows = results
        .into_inner()
        .expect("no panics while holding")
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    windows.sort_by_key(|w| w.train_end);
    Ok(windows)
}

fn window(ds: &Dataset, end: i32, cfg: &BacktestConfig) -> Result<Window> {
    let train = ds.training_rows(|y| y <= end);
    let data_year = end + cfg.horizon;
    let rows = ds.forecast_rows(data_year);
    if train.is_empty() {
        return Err(ForecastError::Invalid(format!(
            "no complete training rows up to {end}"
        )));
    }
    let x = ds.x.select_rows(&train);
    let y = ds.target(&train);
    let years: Vec<i32> = train.iter().map(|&i| ds.year[i]).collect();
    let fitted = Fitted::fit(&x, &y, &ds.groups(&train), &years, &cfg.models)?;
    let predictions = fitted.predict(&ds.x.select_rows(&rows));
    Ok(Window {
        train_end: end,
        train_rows: train.len(),
        data_year,
        rows,
        predictions,
        lambda: fitted.enet.model.lambda,
        n_trees: fitted.gbt.model.n_trees(),
        depth: fitted.gbt.depth,
        seconds: fitted.seconds,
    })
}

/// Forecast table of one model across windows; `order` gives the score that ranks.
fn table(
    ds: &Dataset,
    windows: &[Window],
    pick: impl Fn(&Predictions) -> (&[f64], &[f64]),
) -> ForecastTable {
    let mut t = ForecastTable::new();
    for w in windows {
        let (risk, order) = pick(&w.predictions);
        let ranks = rank_desc_min(order);
        for (k, &i) in w.rows.iter().enumerate() {
            t.insert((ds.country[i].clone(), w.data_year), (risk[k], ranks[k]));
        }
    }
    t
}

/// Score `tocsin` and each component over the windows.
pub fn score_windows(ds: &Dataset, windows: &[Window], cfg: &BacktestConfig) -> Result<Vec<Score>> {
    type Pick = fn(&Predictions) -> (&[f64], &[f64]);
    let models: [(&str, Pick); 3] = [
        ("tocsin", |p| (&p.tocsin, &p.tocsin_order)),
        ("elastic-net", |p| (&p.enet, &p.enet)),
        ("gbt", |p| (&p.gbt, &p.gbt)),
    ];
    models
        .iter()
        .map(|(name, pick)| score_rows(name, &align(ds, &table(ds, windows, pick), cfg), cfg.top))
        .collect()
}

/// Run the whole backtest.
pub fn backtest(ds: &Dataset, cfg: &BacktestConfig) -> Result<BacktestReport> {
    let t0 = Instant::now();
    let windows = run_windows(ds, cfg)?;
    let scores = score_windows(ds, &windows, cfg)?;
    Ok(BacktestReport {
        scores,
        windows,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_line_format() {
        let s = Score {
            name: "tocsin".into(),
            auc: 0.85123,
            brier: 0.008_61,
            top: 30,
            onsets: 39,
            rows: 5000,
        };
        assert_eq!(s.to_string(), "tocsin auc=0.851 brier=0.0086 top30=30/39");
    }

    #[test]
    fn scoring_counts_top_ranks_and_ties() {
        let r = |risk, rank, onset| ScoredRow { risk, rank, onset };
        let rows = [
            r(0.9, 1.0, true),
            r(0.5, 30.0, true),
            r(0.4, 30.5, true),
            r(0.1, 40.0, false),
            r(0.5, 2.0, false),
        ];
        let s = score_rows("m", &rows, 30.0).unwrap();
        assert_eq!((s.top, s.onsets, s.rows), (2, 3, 5));
        // Positives 0.9, 0.5, 0.4 against negatives 0.1, 0.5: (2 + 1.5 + 1) / 6.
        assert!((s.auc - 4.5 / 6.0).abs() < 1e-12);
    }
}
