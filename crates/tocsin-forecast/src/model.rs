//! The models Tocsin fits on one training window, and how they are combined.

use crate::data::Matrix;
use crate::enet::{self, CvFit, ElasticNetConfig};
use crate::error::Result;
use crate::folds::Folds;
use crate::gbt::{self, GbtConfig, GbtFit};
use crate::metrics::rank_desc;

/// How the ensemble combines its components' probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensemble {
    /// Arithmetic mean of the probabilities.
    MeanProbability,
    /// Mean of the log-odds, mapped back to a probability (a geometric-style mean).
    MeanLogit,
    /// Ranked by the mean of the components' ranks; the probability is the mean probability.
    MeanRank,
}

/// How cross-validation splits the training rows (see [`crate::folds`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldScheme {
    /// Rows at random, stratified by outcome (what `cv.glmnet` does).
    Rows,
    /// Whole countries: a country's years never straddle training and held-out folds.
    Countries,
    /// Contiguous blocks of years, with two years left out on each side.
    YearBlocks,
}

/// Settings for every model.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// Elastic net.
    pub enet: ElasticNetConfig,
    /// Cross-validation folds for the elastic net's penalty.
    pub enet_folds: FoldScheme,
    /// Boosted trees.
    pub gbt: GbtConfig,
    /// Cross-validation folds for the number of trees.
    pub gbt_folds: FoldScheme,
    /// The combination used as Tocsin's forecast.
    pub ensemble: Ensemble,
}

impl Default for ModelConfig {
    /// Tocsin's defaults: the elastic net with the Project's `α = 0.5`, 100 penalties and
    /// `lambda.min`, but five year-block folds instead of ten random ones; boosted trees with
    /// learning rate 0.05, depth 1 or 2 and up to 300 trees chosen by the same kind of folds;
    /// the mean of the two probabilities.
    fn default() -> Self {
        Self {
            enet: ElasticNetConfig {
                n_folds: 5,
                ..ElasticNetConfig::default()
            },
            enet_folds: FoldScheme::YearBlocks,
            gbt_folds: FoldScheme::YearBlocks,
            gbt: GbtConfig {
                n_trees: 300,
                learning_rate: 0.05,
                depths: vec![1, 2],
                cv_folds: 5,
                ..GbtConfig::default()
            },
            ensemble: Ensemble::MeanProbability,
        }
    }
}

/// Component and ensemble forecasts for a set of rows.
#[derive(Debug, Clone, Default)]
pub struct Predictions {
    /// Elastic net probabilities.
    pub enet: Vec<f64>,
    /// Boosted-tree probabilities.
    pub gbt: Vec<f64>,
    /// Tocsin's forecast: the ensemble probability.
    pub tocsin: Vec<f64>,
    /// Score that orders the ensemble (equal to `tocsin` except for [`Ensemble::MeanRank`]).
    pub tocsin_order: Vec<f64>,
}

/// The models fitted on one training set.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// Cross-validated elastic net.
    pub enet: CvFit,
    /// Boosted trees.
    pub gbt: GbtFit,
    /// How they are combined.
    pub ensemble: Ensemble,
    /// Seconds spent fitting (elastic net, boosted trees), cross-validation included.
    pub seconds: (f64, f64),
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    (p / (1.0 - p)).ln()
}

impl Fitted {
    /// Fit every component on `x`, `y`; `groups` names each row's country and `years` its
    /// year. All choices of penalty and number of trees are made by cross-validation on these
    /// rows only.
    pub fn fit(
        x: &Matrix,
        y: &[f64],
        groups: &[u32],
        years: &[i32],
        cfg: &ModelConfig,
    ) -> Result<Self> {
        let pick = |s: FoldScheme| match s {
            FoldScheme::Rows => Folds::Rows,
            FoldScheme::Countries => Folds::Countries(groups),
            FoldScheme::YearBlocks => Folds::YearBlocks { years, gap: 2 },
        };
        let t0 = std::time::Instant::now();
        let enet = enet::cv_fit(x, y, &pick(cfg.enet_folds), &cfg.enet)?;
        let t1 = std::time::Instant::now();
        let gbt = gbt::fit(x, y, &pick(cfg.gbt_folds), &cfg.gbt)?;
        Ok(Self {
            enet,
            gbt,
            ensemble: cfg.ensemble,
            seconds: ((t1 - t0).as_secs_f64(), t1.elapsed().as_secs_f64()),
        })
    }

    /// Forecasts for the rows of `x`.
    pub fn predict(&self, x: &Matrix) -> Predictions {
        let e = self.enet.model.predict(x);
        let g = self.gbt.model.predict(x);
        let mean: Vec<f64> = e.iter().zip(&g).map(|(a, b)| (a + b) / 2.0).collect();
        let (tocsin, order) = match self.ensemble {
            Ensemble::MeanProbability => (mean.clone(), mean),
            Ensemble::MeanLogit => {
                let p: Vec<f64> = e
                    .iter()
                    .zip(&g)
                    .map(|(a, b)| {
                        let t = (logit(*a) + logit(*b)) / 2.0;
                        1.0 / (1.0 + (-t).exp())
                    })
                    .collect();
                (p.clone(), p)
            }
            Ensemble::MeanRank => {
                let (re, rg) = (rank_desc(&e), rank_desc(&g));
                // Lower mean rank is riskier; negate so larger orders first. Break ties by
                // the mean probability.
                let order = re
                    .iter()
                    .zip(&rg)
                    .zip(&mean)
                    .map(|((a, b), m)| -(a + b) / 2.0 + m * 1e-6)
                    .collect();
                (mean, order)
            }
        };
        Predictions {
            enet: e,
            gbt: g,
            tocsin,
            tocsin_order: order,
        }
    }
}
