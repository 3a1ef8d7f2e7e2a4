//! A forecast run: ranked risks for the countries with data in one year.

use crate::data::Dataset;
use crate::error::{ForecastError, Result};
use crate::metrics::rank_desc_min;
use crate::model::{Fitted, ModelConfig};

/// One predictor's part in a country's elastic-net log-odds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Contribution {
    /// Predictor name.
    pub predictor: String,
    /// The country's value, original units.
    pub value: f64,
    /// Coefficient × standardised value (log-odds).
    pub contribution: f64,
}

/// A country's forecast.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RankedRisk {
    /// 1 = highest risk; ties share the best rank.
    pub rank: u32,
    /// `ewp_name`.
    pub country: String,
    /// `ccode`, when the file has one.
    pub ccode: Option<i64>,
    /// Tocsin's forecast probability of an onset in the next year or the one after.
    pub risk: f64,
    /// The elastic net's probability.
    pub elastic_net: f64,
    /// The boosted trees' probability.
    pub gbt: f64,
    /// Every non-zero elastic-net contribution, largest magnitude first.
    pub contributions: Vec<Contribution>,
}

/// The result of [`run`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ForecastRun {
    /// Year of the predictor data forecast from.
    pub data_year: i32,
    /// The forecast covers onsets in these two years.
    pub target_years: (i32, i32),
    /// Last year of the training rows.
    pub trained_through: i32,
    /// Number of training rows.
    pub training_rows: usize,
    /// Elastic-net penalty chosen by cross-validation.
    pub lambda: f64,
    /// Elastic-net intercept on the standardised scale (the contributions' baseline).
    pub intercept_std: f64,
    /// Number of boosted trees chosen by cross-validation.
    pub n_trees: usize,
    /// Countries, riskiest first.
    pub results: Vec<RankedRisk>,
}

/// Forecast from the rows of `year` with complete predictors. Training uses every row whose
/// outcome was known when `year`'s data came in — years up to `year − 2`, as in the
/// backtest — and never later than two years before the file's last year, whose outcomes
/// are still unobserved. For the file's last year that is every row with a known outcome.
pub fn run(ds: &Dataset, year: i32, cfg: &ModelConfig) -> Result<ForecastRun> {
    let (_, last) = ds.year_range();
    let through = (year - 2).min(last - 2);
    let train = ds.training_rows(|y| y <= through);
    if train.is_empty() {
        return Err(ForecastError::Invalid(format!(
            "no complete training rows up to {through}"
        )));
    }
    let rows = ds.forecast_rows(year);
    if rows.is_empty() {
        return Err(ForecastError::Invalid(format!(
            "no country has complete predictors in {year}"
        )));
    }
    let x = ds.x.select_rows(&train);
    let y = ds.target(&train);
    let years: Vec<i32> = train.iter().map(|&i| ds.year[i]).collect();
    let fitted = Fitted::fit(&x, &y, &ds.groups(&train), &years, cfg)?;
    let xf = ds.x.select_rows(&rows);
    let pred = fitted.predict(&xf);
    let ranks = rank_desc_min(&pred.tocsin_order);
    let model = &fitted.enet.model;
    let mut results: Vec<RankedRisk> = rows
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let row = xf.row(k);
            let mut contributions: Vec<Contribution> = model
                .contributions(&row)
                .into_iter()
                .enumerate()
                .filter(|(_, c)| *c != 0.0)
                .map(|(j, c)| Contribution {
                    predictor: ds.predictors[j].clone(),
                    value: row[j],
                    contribution: c,
                })
                .collect();
            contributions.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
            RankedRisk {
                rank: ranks[k] as u32,
                country: ds.country[i].clone(),
                ccode: ds.ccode[i],
                risk: pred.tocsin[k],
                elastic_net: pred.enet[k],
                gbt: pred.gbt[k],
                contributions,
            }
        })
        .collect();
    results.sort_by(|a, b| a.rank.cmp(&b.rank).then(a.country.cmp(&b.country)));
    Ok(ForecastRun {
        data_year: year,
        target_years: (year + 1, year + 2),
        trained_through: through,
        training_rows: train.len(),
        lambda: model.lambda,
        intercept_std: model.intercept_std,
        n_trees: fitted.gbt.model.n_trees(),
        results,
    })
}
