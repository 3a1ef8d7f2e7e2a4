//! Elastic-net logistic regression by cyclic coordinate descent, as glmnet fits it
//! (Friedman, Hastie and Tibshirani 2010).
//!
//! The objective, over an intercept `b0` and coefficients `b` of the *standardised* predictors
//! `z_ij = (x_ij - mean_j) / sd_j` (`sd` with divisor `n`), is
//!
//! ```text
//! -(1/n) Σ_i [y_i η_i - log(1 + e^η_i)] + λ Σ_j [α |b_j| + (1-α)/2 b_j²],   η_i = b0 + z_i·b
//! ```
//!
//! the intercept unpenalised. Each outer (IRLS) step replaces the log-likelihood by its
//! quadratic approximation at the current fit (weights `w_i = p_i (1-p_i)`, `p_i` clipped to
//! `[1e-5, 1-1e-5]`) and minimises the penalised weighted least-squares problem by coordinate
//! descent with soft-thresholding, iterating on the active set between full sweeps. A path
//! of `n_lambda` penalties runs from `λ_max = max_j |(1/n) Σ_i z_ij (y_i - ȳ)| / max(α, 10⁻³)`
//! (the smallest penalty with every coefficient zero) down to `λ_max · lambda_min_ratio`,
//! log-spaced, each fit warm-started from the previous one, and stops early like glmnet when
//! the fraction of deviance explained changes by less than 10⁻⁵ or exceeds 0.999.
//! Coefficients are reported on the original scale too.
//!
//! [`cv_fit`] chooses `λ` by K-fold cross-validation on the path (stratified folds, seeded),
//! by mean held-out deviance or mean fold AUC, at the minimum or the one-standard-error rule.

use crate::data::Matrix;
use crate::error::{ForecastError, Result};
use crate::folds::Folds;
use crate::metrics;

/// How cross-validation scores a penalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvCriterion {
    /// Mean held-out binomial deviance (lower is better), glmnet's default.
    Deviance,
    /// Mean held-out AUC over folds (higher is better).
    Auc,
}

/// Which penalty on the cross-validation curve to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaRule {
    /// The best mean score (`lambda.min`).
    Min,
    /// The largest penalty within one standard error of the best (`lambda.1se`).
    OneSe,
}

/// Settings for the path and the cross-validation.
#[derive(Debug, Clone)]
pub struct ElasticNetConfig {
    /// Mixing: 1 is the lasso, 0 ridge.
    pub alpha: f64,
    /// Number of penalties on the path.
    pub n_lambda: usize,
    /// Smallest penalty as a fraction of `λ_max`.
    pub lambda_min_ratio: f64,
    /// Folds for cross-validation.
    pub n_folds: usize,
    /// How folds score a penalty.
    pub criterion: CvCriterion,
    /// Which penalty to keep.
    pub rule: LambdaRule,
    /// Coordinate descent stops when no coefficient's weighted squared change
    /// `v_j Δb_j²` exceeds this times the null deviance per row (glmnet's `thresh`).
    pub tol: f64,
    /// Cap on coordinate sweeps for one penalty.
    pub max_sweeps: usize,
    /// Stop the path early as glmnet does.
    pub early_stop: bool,
    /// Seed for the fold assignment.
    pub seed: u64,
}

impl Default for ElasticNetConfig {
    /// The Early Warning Project's settings: `cv.glmnet(alpha = 0.5)` with 10 folds,
    /// deviance, `lambda.min`.
    fn default() -> Self {
        Self {
            alpha: 0.5,
            n_lambda: 100,
            lambda_min_ratio: 1e-4,
            n_folds: 10,
            criterion: CvCriterion::Deviance,
            rule: LambdaRule::Min,
            tol: 1e-7,
            max_sweeps: 100_000,
            early_stop: true,
            seed: 90035,
        }
    }
}

/// Column means and standard deviations (divisor `n`) of a training matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardization {
    /// Means.
    pub mean: Vec<f64>,
    /// Standard deviations; 0 for a constant column, which then never enters the model.
    pub sd: Vec<f64>,
}

impl Standardization {
    /// Means and standard deviations of `x`'s columns.
    pub fn of(x: &Matrix) -> Self {
        let n = x.rows().max(1) as f64;
        let (mut mean, mut sd) = (Vec::new(), Vec::new());
        for j in 0..x.cols() {
            let c = x.col(j);
            let m = c.iter().sum::<f64>() / n;
            let v = c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
            let s = v.sqrt();
            mean.push(m);
            sd.push(if s > 1e-12 * (1.0 + m.abs()) { s } else { 0.0 });
        }
        Self { mean, sd }
    }

    /// The standardised value of predictor `j`.
    pub fn z(&self, j: usize, v: f64) -> f64 {
        if self.sd[j] > 0.0 {
            (v - self.mean[j]) / self.sd[j]
        } else {
            0.0
        }
    }
}

/// A fitted logistic model.
#[derive(Debug, Clone, PartialEq)]
pub struct LogitModel {
    /// Intercept on the original scale.
    pub intercept: f64,
    /// Coefficients on the original scale.
    pub coef: Vec<f64>,
    /// Intercept on the standardised scale.
    pub intercept_std: f64,
    /// Coefficients of the standardised predictors.
    pub coef_std: Vec<f64>,
    /// The training standardisation.
    pub standardization: Standardization,
    /// The penalty.
    pub lambda: f64,
    /// The mixing parameter.
    pub alpha: f64,
}

fn sigmoid(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

impl LogitModel {
    fn new(b0: f64, b: &[f64], std: &Standardization, lambda: f64, alpha: f64) -> Self {
        let coef: Vec<f64> = b
            .iter()
            .zip(&std.sd)
            .map(|(b, s)| if *s > 0.0 { b / s } else { 0.0 })
            .collect();
        let intercept = b0 - coef.iter().zip(&std.mean).map(|(c, m)| c * m).sum::<f64>();
        Self {
            intercept,
            coef,
            intercept_std: b0,
            coef_std: b.to_vec(),
            standardization: std.clone(),
            lambda,
            alpha,
        }
    }

    /// The linear predictor (log-odds) for one row of original-scale predictors.
    pub fn link(&self, row: &[f64]) -> f64 {
        self.intercept + row.iter().zip(&self.coef).map(|(x, c)| x * c).sum::<f64>()
    }

    /// Probabilities for every row of `x`.
    pub fn predict(&self, x: &Matrix) -> Vec<f64> {
        let mut eta = vec![self.intercept; x.rows()];
        for (j, c) in self.coef.iter().enumerate() {
            if *c != 0.0 {
                for (e, v) in eta.iter_mut().zip(x.col(j)) {
                    *e += c * v;
                }
            }
        }
        eta.into_iter().map(sigmoid).collect()
    }

    /// Each predictor's contribution to the log-odds of `row`: coefficient × standardised
    /// value. They add up, with [`LogitModel::intercept_std`], to the log-odds.
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        row.iter()
            .enumerate()
            .map(|(j, v)| self.coef_std[j] * self.standardization.z(j, *v))
            .collect()
    }

    /// Number of non-zero coefficients.
    pub fn nonzero(&self) -> usize {
        self.coef_std.iter().filter(|b| **b != 0.0).count()
    }
}

/// The standardised training problem.
struct Problem<'a> {
    z: Vec<f64>,
    n: usize,
    p: usize,
    y: &'a [f64],
    std: Standardization,
}

impl<'a> Problem<'a> {
    fn new(x: &Matrix, y: &'a [f64]) -> Result<Self> {
        let n = x.rows();
        if n == 0 || y.len() != n {
            return Err(ForecastError::Invalid(format!(
                "elastic net: {} rows of predictors and {} outcomes",
                n,
                y.len()
            )));
        }
        let finite = y.iter().all(|v| v.is_finite())
            && (0..x.cols()).all(|j| x.col(j).iter().all(|v| v.is_finite()));
        if !finite {
            return Err(ForecastError::Invalid(
                "elastic net: predictors and outcomes must be finite".into(),
            ));
        }
        let std = Standardization::of(x);
        let mut z = Vec::with_capacity(n * x.cols());
        for j in 0..x.cols() {
            let (m, s) = (std.mean[j], std.sd[j]);
            z.extend(
                x.col(j)
                    .iter()
                    .map(|v| if s > 0.0 { (v - m) / s } else { 0.0 }),
            );
        }
        Ok(Self {
            z,
            n,
            p: x.cols(),
            y,
            std,
        })
    }

    fn col(&self, j: usize) -> &[f64] {
        &self.z[j * self.n..(j + 1) * self.n]
    }

    fn lambda_max(&self, alpha: f64) -> f64 {
        let ybar = self.y.iter().sum::<f64>() / self.n as f64;
        (0..self.p)
            .map(|j| {
                self.col(j)
                    .iter()
                    .zip(self.y)
                    .map(|(z, y)| z * (y - ybar))
                    .sum::<f64>()
                    .abs()
                    / self.n as f64
            })
            .fold(0.0, f64::max)
            / alpha.max(1e-3)
    }

    fn null_state(&self) -> State {
        let ybar = (self.y.iter().sum::<f64>() / self.n as f64).clamp(1e-5, 1.0 - 1e-5);
        let b0 = (ybar / (1.0 - ybar)).ln();
        State {
            b0,
            b: vec![0.0; self.p],
            eta: vec![b0; self.n],
        }
    }

    /// Mean deviance of the current fit.
    fn deviance(&self, s: &State) -> f64 {
        let p: Vec<f64> = s.eta.iter().map(|e| sigmoid(*e)).collect();
        metrics::deviance(&p, self.y)
    }

    /// Minimise the penalised objective at `lambda` from the warm start `s`.
    fn solve(&self, s: &mut State, lambda: f64, alpha: f64, tol: f64, max_sweeps: usize) {
        let (n, nf) = (self.n, self.n as f64);
        let l1 = lambda * alpha;
        let l2 = lambda * (1.0 - alpha);
        let mut w = vec![0.0; n];
        let mut res = vec![0.0; n];
        let mut v = vec![0.0; self.p];
        let mut sweeps = 0;
        for _outer in 0..100 {
            // Quadratic approximation at the current fit.
            for i in 0..n {
                let p = sigmoid(s.eta[i]).clamp(1e-5, 1.0 - 1e-5);
                w[i] = p * (1.0 - p);
                res[i] = self.y[i] - p;
            }
            let sum_w = w.iter().sum::<f64>() / nf;
            for (j, vj) in v.iter_mut().enumerate() {
                *vj = weighted_sq(self.col(j), &w) / nf;
            }
            let b_old = s.b.clone();
            let b0_old = s.b0;
            // Coordinate descent: full sweeps, and the active set in between.
            let update = |j: usize, b: &mut [f64], res: &mut [f64]| -> f64 {
                if v[j] <= 0.0 {
                    return 0.0;
                }
                let zj = self.col(j);
                let g = dot(zj, res) / nf + v[j] * b[j];
                let new = soft_threshold(g, l1) / (v[j] + l2);
                let d = new - b[j];
                if d == 0.0 {
                    return 0.0;
                }
                for ((r, z), w) in res.iter_mut().zip(zj).zip(&w) {
                    *r -= d * w * z;
                }
                b[j] = new;
                v[j] * d * d
            };
            let intercept = |b0: &mut f64, res: &mut [f64]| -> f64 {
                let d = res.iter().sum::<f64>() / nf / sum_w;
                for (r, w) in res.iter_mut().zip(&w) {
                    *r -= d * w;
                }
                *b0 += d;
                sum_w * d * d
            };
            loop {
                let mut dlx = 0.0f64;
                for j in 0..self.p {
                    dlx = dlx.max(update(j, &mut s.b, &mut res));
                }
                dlx = dlx.max(intercept(&mut s.b0, &mut res));
                sweeps += 1;
                if dlx < tol || sweeps >= max_sweeps {
                    break;
                }
                let active: Vec<usize> = (0..self.p).filter(|&j| s.b[j] != 0.0).collect();
                loop {
                    let mut dlx = 0.0f64;
                    for &j in &active {
                        dlx = dlx.max(update(j, &mut s.b, &mut res));
                    }
                    dlx = dlx.max(intercept(&mut s.b0, &mut res));
                    sweeps += 1;
                    if dlx < tol || sweeps >= max_sweeps {
                        break;
                    }
                }
            }
            // New linear predictor.
            s.eta.iter_mut().for_each(|e| *e = s.b0);
            for j in 0..self.p {
                let bj = s.b[j];
                if bj != 0.0 {
                    for (e, z) in s.eta.iter_mut().zip(self.col(j)) {
                        *e += bj * z;
                    }
                }
            }
            let change = (0..self.p)
                .map(|j| v[j] * (s.b[j] - b_old[j]).powi(2))
                .fold(sum_w * (s.b0 - b0_old).powi(2), f64::max);
            if change < tol || sweeps >= max_sweeps {
                break;
            }
        }
    }
}

/// Dot product with four accumulators, so the compiler can vectorise it.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0.0; 4];
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    acc[0] + acc[1] + acc[2] + acc[3] + tail
}

/// `Σ w_i z_i²`, vectorisable.
fn weighted_sq(z: &[f64], w: &[f64]) -> f64 {
    let (cz, cw) = (z.chunks_exact(4), w.chunks_exact(4));
    let tail: f64 = cz
        .remainder()
        .iter()
        .zip(cw.remainder())
        .map(|(z, w)| w * z * z)
        .sum();
    let mut acc = [0.0; 4];
    for (z, w) in cz.zip(cw) {
        for k in 0..4 {
            acc[k] += w[k] * z[k] * z[k];
        }
    }
    acc[0] + acc[1] + acc[2] + acc[3] + tail
}

fn soft_threshold(g: f64, t: f64) -> f64 {
    if g > t {
        g - t
    } else if g < -t {
        g + t
    } else {
        0.0
    }
}

#[derive(Debug, Clone)]
struct State {
    b0: f64,
    b: Vec<f64>,
    eta: Vec<f64>,
}

/// A fitted penalty path.
#[derive(Debug, Clone)]
pub struct Path {
    /// Penalties, decreasing.
    pub lambdas: Vec<f64>,
    /// One model per penalty.
    pub models: Vec<LogitModel>,
    /// Fraction of the null deviance explained at each penalty.
    pub dev_ratio: Vec<f64>,
}

/// The log-spaced penalty sequence for `x`, `y`.
pub fn lambda_sequence(x: &Matrix, y: &[f64], cfg: &ElasticNetConfig) -> Result<Vec<f64>> {
    let prob = Problem::new(x, y)?;
    Ok(log_sequence(
        prob.lambda_max(cfg.alpha),
        cfg.lambda_min_ratio,
        cfg.n_lambda,
    ))
}

fn log_sequence(max: f64, ratio: f64, n: usize) -> Vec<f64> {
    if n <= 1 {
        return vec![max];
    }
    let step = ratio.ln() / (n - 1) as f64;
    (0..n).map(|k| max * (step * k as f64).exp()).collect()
}

/// Fit the path: over `lambdas` if given, else over the sequence from `x`, `y`. When the path
/// stops early, the remaining penalties repeat the last fit (as glmnet's prediction does), so
/// the result always has one model per penalty.
pub fn fit_path(
    x: &Matrix,
    y: &[f64],
    cfg: &ElasticNetConfig,
    lambdas: Option<&[f64]>,
) -> Result<Path> {
    let prob = Problem::new(x, y)?;
    let lambdas_given = lambdas;
    let lambdas = match lambdas {
        Some(l) => l.to_vec(),
        None => log_sequence(
            prob.lambda_max(cfg.alpha),
            cfg.lambda_min_ratio,
            cfg.n_lambda,
        ),
    };
    let mut state = prob.null_state();
    let null_dev = prob.deviance(&state);
    let mut models = Vec::with_capacity(lambdas.len());
    let mut dev_ratio = Vec::with_capacity(lambdas.len());
    let mut stopped = false;
    let generated = lambdas_given.is_none();
    for (k, &lambda) in lambdas.iter().enumerate() {
        if k == 0 && generated {
            // λ_max: every coefficient is zero and the intercept is the null fit's.
            models.push(LogitModel::new(
                state.b0, &state.b, &prob.std, lambda, cfg.alpha,
            ));
            dev_ratio.push(0.0);
        } else if !stopped {
            prob.solve(
                &mut state,
                lambda,
                cfg.alpha,
                cfg.tol * null_dev,
                cfg.max_sweeps,
            );
            let ratio = if null_dev > 0.0 {
                1.0 - prob.deviance(&state) / null_dev
            } else {
                0.0
            };
            if cfg.early_stop && k >= 5 {
                let prev = dev_ratio.last().copied().unwrap_or(0.0);
                if ratio - prev < 1e-5 * ratio.abs().max(1e-12) || ratio > 0.999 {
                    stopped = true;
                }
            }
            models.push(LogitModel::new(
                state.b0, &state.b, &prob.std, lambda, cfg.alpha,
            ));
            dev_ratio.push(ratio);
        } else {
            let mut m = models.last().cloned().expect("at least one fit");
            m.lambda = lambda;
            models.push(m);
            dev_ratio.push(*dev_ratio.last().expect("at least one fit"));
        }
    }
    Ok(Path {
        lambdas,
        models,
        dev_ratio,
    })
}

/// Fit one penalty from the null model, until no coefficient's weighted squared change
/// `v_j Δb_j²` exceeds `tol` (absolute, unlike [`ElasticNetConfig::tol`]).
pub fn fit_lambda(x: &Matrix, y: &[f64], alpha: f64, lambda: f64, tol: f64) -> Result<LogitModel> {
    let prob = Problem::new(x, y)?;
    let mut state = prob.null_state();
    prob.solve(&mut state, lambda, alpha, tol, 1_000_000);
    Ok(LogitModel::new(
        state.b0, &state.b, &prob.std, lambda, alpha,
    ))
}

/// A cross-validated fit.
#[derive(Debug, Clone)]
pub struct CvFit {
    /// The model refitted on all rows at the chosen penalty.
    pub model: LogitModel,
    /// The penalty path.
    pub lambdas: Vec<f64>,
    /// Mean score per penalty (deviance or AUC).
    pub cv_mean: Vec<f64>,
    /// Standard error of the mean score per penalty, over folds.
    pub cv_se: Vec<f64>,
    /// Index of the best mean score.
    pub index_min: usize,
    /// Index of the largest penalty within one standard error of the best.
    pub index_1se: usize,
    /// Index kept by the configured rule.
    pub index: usize,
}

/// Fit the path on all rows, score every penalty by K-fold cross-validation, and keep the
/// full-data fit at the chosen penalty, with the given fold scheme (`cv.glmnet` uses
/// [`Folds::Rows`]).
pub fn cv_fit(x: &Matrix, y: &[f64], folds: &Folds<'_>, cfg: &ElasticNetConfig) -> Result<CvFit> {
    let k = cfg.n_folds;
    if k < 2 {
        return Err(ForecastError::Invalid(
            "cross-validation needs ≥ 2 folds".into(),
        ));
    }
    let full = fit_path(x, y, cfg, None)?;
    let lambdas = full.lambdas.clone();
    let splits = crate::folds::usable(folds.splits(y, k, cfg.seed), y)?;
    let k = splits.len();
    let nl = lambdas.len();
    // Per-fold score at each penalty.
    let mut scores = vec![vec![0.0; nl]; k];
    let mut fold_sizes = vec![0.0; k];
    for (f, fold_scores) in scores.iter_mut().enumerate() {
        let (train, test) = (&splits[f].0, &splits[f].1);
        fold_sizes[f] = test.len() as f64;
        let xt = x.select_rows(train);
        let yt: Vec<f64> = train.iter().map(|&i| y[i]).collect();
        let xh = x.select_rows(test);
        let yh: Vec<f64> = test.iter().map(|&i| y[i]).collect();
        let lh: Vec<bool> = yh.iter().map(|v| *v > 0.5).collect();
        let path = fit_path(&xt, &yt, cfg, Some(&lambdas))?;
        let mut last: Option<(&LogitModel, f64)> = None;
        for (l, m) in path.models.iter().enumerate() {
            // Repeated (early-stopped) fits score the same; skip the recomputation.
            let s = match last {
                Some((prev, s))
                    if prev.coef_std == m.coef_std && prev.intercept_std == m.intercept_std =>
                {
                    s
                }
                _ => {
                    let p = m.predict(&xh);
                    match cfg.criterion {
                        CvCriterion::Deviance => metrics::deviance(&p, &yh),
                        CvCriterion::Auc => metrics::auc(&p, &lh).unwrap_or(0.5),
                    }
                }
            };
            fold_scores[l] = s;
            last = Some((m, s));
        }
    }
    // Weighted (by fold size) mean and its standard error, as cv.glmnet computes them.
    let total: f64 = fold_sizes.iter().sum();
    let mut cv_mean = vec![0.0; nl];
    let mut cv_se = vec![0.0; nl];
    for l in 0..nl {
        let m = (0..k).map(|f| scores[f][l] * fold_sizes[f]).sum::<f64>() / total;
        let var = (0..k)
            .map(|f| (scores[f][l] - m).powi(2) * fold_sizes[f])
            .sum::<f64>()
            / total
            / (k as f64 - 1.0);
        cv_mean[l] = m;
        cv_se[l] = var.sqrt();
    }
    let better = |a: f64, b: f64| match cfg.criterion {
        CvCriterion::Deviance => a < b,
        CvCriterion::Auc => a > b,
    };
    let mut index_min = 0;
    for l in 1..nl {
        if better(cv_mean[l], cv_mean[index_min]) {
            index_min = l;
        }
    }
    let bound = match cfg.criterion {
        CvCriterion::Deviance => cv_mean[index_min] + cv_se[index_min],
        CvCriterion::Auc => cv_mean[index_min] - cv_se[index_min],
    };
    let index_1se = (0..=index_min)
        .find(|&l| match cfg.criterion {
            CvCriterion::Deviance => cv_mean[l] <= bound,
            CvCriterion::Auc => cv_mean[l] >= bound,
        })
        .unwrap_or(index_min);
    let index = match cfg.rule {
        LambdaRule::Min => index_min,
        LambdaRule::OneSe => index_1se,
    };
    Ok(CvFit {
        model: full.models[index].clone(),
        lambdas,
        cv_mean,
        cv_se,
        index_min,
        index_1se,
        index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Logistic data with `p` predictors of which the first `k` matter.
    pub(crate) fn synthetic(n: usize, p: usize, k: usize, seed: u64) -> (Matrix, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let r: Vec<f64> = (0..p)
                .map(|_| {
                    // Approximately normal: sum of uniforms.
                    (0..6).map(|_| rng.next_f64()).sum::<f64>() - 3.0
                })
                .collect();
            let eta = -1.0 + r[..k].iter().sum::<f64>() * 2.5;
            y.push(f64::from(u8::from(rng.next_f64() < sigmoid(eta))));
            rows.push(r);
        }
        (Matrix::from_rows(&rows).unwrap(), y)
    }

    #[test]
    fn lambda_max_zeroes_everything_and_path_decreases() {
        let (x, y) = synthetic(300, 6, 2, 1);
        let cfg = ElasticNetConfig::default();
        let path = fit_path(&x, &y, &cfg, None).unwrap();
        assert_eq!(path.lambdas.len(), 100);
        assert_eq!(path.models[0].nonzero(), 0);
        assert!(path.models[1].nonzero() > 0);
        let r = path.lambdas[99] / path.lambdas[0];
        assert!((r - 1e-4).abs() < 1e-12);
        assert!(path.dev_ratio.windows(2).all(|w| w[1] >= w[0] - 1e-9));
    }

    #[test]
    fn cv_picks_a_sensible_lambda() {
        // Two of twenty predictors matter: the chosen penalty is strictly inside the path,
        // keeps both true predictors and predicts new data well.
        let (x, y) = synthetic(400, 20, 2, 2);
        let cfg = ElasticNetConfig {
            n_lambda: 50,
            n_folds: 5,
            ..Default::default()
        };
        let cv = cv_fit(&x, &y, &Folds::Rows, &cfg).unwrap();
        assert!(cv.index_min > 0 && cv.index_min < 49, "{}", cv.index_min);
        assert!(cv.index_1se <= cv.index_min);
        let m = &cv.model;
        assert!(m.coef[0] > 0.5 && m.coef[1] > 0.5, "{:?}", m.coef);
        let noise: f64 = m.coef[2..].iter().map(|c| c.abs()).sum();
        assert!(noise < m.coef[0] + m.coef[1], "{:?}", m.coef);
        // The CV curve at the chosen penalty beats both ends of the path.
        assert!(cv.cv_mean[cv.index] < cv.cv_mean[0]);
        assert!(cv.cv_mean[cv.index] <= cv.cv_mean[49]);
        let (xt, yt) = synthetic(2000, 20, 2, 3);
        let p = m.predict(&xt);
        let l: Vec<bool> = yt.iter().map(|v| *v > 0.5).collect();
        assert!(metrics::auc(&p, &l).unwrap() > 0.85);
        // AUC as the criterion lands nearby.
        let cv_auc = cv_fit(
            &x,
            &y,
            &Folds::Rows,
            &ElasticNetConfig {
                criterion: CvCriterion::Auc,
                ..cfg
            },
        )
        .unwrap();
        assert!(cv_auc.index > 0);
        assert!(metrics::auc(&cv_auc.model.predict(&xt), &l).unwrap() > 0.85);
    }

    #[test]
    fn small_lambda_approaches_maximum_likelihood() {
        // With almost no penalty the gradient of the log-likelihood vanishes.
        let (x, y) = synthetic(500, 3, 3, 4);
        let m = fit_lambda(&x, &y, 0.5, 1e-9, 1e-16).unwrap();
        let p = m.predict(&x);
        for j in 0..3 {
            let g: f64 = x
                .col(j)
                .iter()
                .zip(&p)
                .zip(&y)
                .map(|((x, p), y)| x * (y - p))
                .sum();
            assert!(g.abs() < 1e-5, "gradient {j}: {g}");
        }
        let g0: f64 = p.iter().zip(&y).map(|(p, y)| y - p).sum();
        assert!(g0.abs() < 1e-5);
    }

    #[test]
    fn constant_column_is_ignored() {
        let (x, y) = synthetic(200, 3, 1, 5);
        let mut rows: Vec<Vec<f64>> = (0..200).map(|i| x.row(i)).collect();
        rows.iter_mut().for_each(|r| r.push(7.0));
        let x2 = Matrix::from_rows(&rows).unwrap();
        let m = fit_lambda(&x2, &y, 0.5, 0.01, 1e-12).unwrap();
        assert_eq!(m.coef[3], 0.0);
        let m1 = fit_lambda(&x, &y, 0.5, 0.01, 1e-12).unwrap();
        assert!((m.coef[0] - m1.coef[0]).abs() < 1e-9);
        let c = m.contributions(&rows[0]);
        let total: f64 = c.iter().sum::<f64>() + m.intercept_std;
        assert!((total - m.link(&rows[0])).abs() < 1e-9);
    }
}
