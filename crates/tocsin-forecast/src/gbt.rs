//! Gradient-boosted regression trees for the logistic loss.
//!
//! Newton boosting as in XGBoost: each tree fits the gradient `p - y` and hessian `p (1-p)` of
//! the log-loss at the current log-odds; a split's gain is
//! `G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ)` and a leaf's value `-G/(H+λ)`, scaled by the
//! learning rate. Trees are shallow (depth-wise to `max_depth`), splits need `min_child_weight`
//! of hessian on each side, and each tree sees a random `subsample` of the rows and
//! `colsample` of the predictors, drawn from a seeded generator so a fit is reproducible.
//! Predictors are binned once into at most `max_bins` quantile bins of the training data
//! (histogram boosting); a split keeps its threshold in the original units, so new data needs
//! no binning. The number of trees can be chosen by K-fold cross-validation on the training
//! rows (mean held-out deviance after each tree).

use crate::data::Matrix;
use crate::error::{ForecastError, Result};
use crate::folds::Folds;
use crate::metrics;
use crate::rng::Rng;

/// Settings for boosting.
#[derive(Debug, Clone)]
pub struct GbtConfig {
    /// Number of trees (the maximum when cross-validating).
    pub n_trees: usize,
    /// Shrinkage applied to every leaf.
    pub learning_rate: f64,
    /// Depth of each tree (1 = stumps).
    pub max_depth: usize,
    /// Depths to choose from by cross-validation (empty: use `max_depth`).
    pub depths: Vec<usize>,
    /// Minimum hessian sum in a child.
    pub min_child_weight: f64,
    /// L2 penalty on leaf values.
    pub l2: f64,
    /// Fraction of rows each tree sees.
    pub subsample: f64,
    /// Fraction of predictors each tree may split on.
    pub colsample: f64,
    /// Maximum number of bins per predictor (≤ 256).
    pub max_bins: usize,
    /// When ≥ 2, choose the number of trees (up to `n_trees`) by this many CV folds.
    pub cv_folds: usize,
    /// Seed for subsampling and folds.
    pub seed: u64,
}

impl Default for GbtConfig {
    fn default() -> Self {
        Self {
            n_trees: 400,
            learning_rate: 0.02,
            max_depth: 3,
            depths: Vec::new(),
            min_child_weight: 1.0,
            l2: 1.0,
            subsample: 0.5,
            colsample: 0.7,
            max_bins: 64,
            cv_folds: 0,
            seed: 20_251_127,
        }
    }
}

/// Quantile bin edges per predictor: value `v` falls in bin `#{edges < v}`.
#[derive(Debug, Clone)]
struct Binner {
    edges: Vec<Vec<f64>>,
}

impl Binner {
    fn fit(x: &Matrix, max_bins: usize) -> Self {
        let max_bins = max_bins.clamp(2, 256);
        let edges = (0..x.cols())
            .map(|j| {
                let mut v = x.col(j).to_vec();
                v.sort_by(f64::total_cmp);
                let mut uniq = v.clone();
                uniq.dedup();
                if uniq.len() <= max_bins {
                    uniq.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect()
                } else {
                    let n = v.len();
                    let mut e: Vec<f64> = (1..max_bins).map(|k| v[k * n / max_bins]).collect();
                    e.dedup();
                    // The largest value would leave an empty right bin.
                    if e.last() == uniq.last() {
                        e.pop();
                    }
                    e
                }
            })
            .collect();
        Self { edges }
    }

    fn bin(&self, j: usize, v: f64) -> u8 {
        self.edges[j].partition_point(|&e| e < v) as u8
    }

    fn n_bins(&self, j: usize) -> usize {
        self.edges[j].len() + 1
    }

    /// Binned copy of `x`, column-major.
    fn transform(&self, x: &Matrix) -> Vec<u8> {
        let mut out = Vec::with_capacity(x.rows() * x.cols());
        for j in 0..x.cols() {
            out.extend(x.col(j).iter().map(|&v| self.bin(j, v)));
        }
        out
    }
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(f64),
    Split {
        feature: usize,
        /// Go left when the bin is ≤ this…
        bin: u8,
        /// …that is, when the value is ≤ this.
        threshold: f64,
        left: usize,
        right: usize,
    },
}

/// One regression tree (leaf values already scaled by the learning rate).
#[derive(Debug, Clone)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    fn value(&self, row: impl Fn(usize) -> f64) -> f64 {
        let mut k = 0;
        loop {
            match &self.nodes[k] {
                Node::Leaf(v) => return *v,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                    ..
                } => {
                    k = if row(*feature) <= *threshold {
                        *left
                    } else {
                        *right
                    }
                }
            }
        }
    }

    fn value_binned(&self, bins: &[u8], n: usize, i: usize) -> f64 {
        let mut k = 0;
        loop {
            match &self.nodes[k] {
                Node::Leaf(v) => return *v,
                Node::Split {
                    feature,
                    bin,
                    left,
                    right,
                    ..
                } => {
                    k = if bins[feature * n + i] <= *bin {
                        *left
                    } else {
                        *right
                    }
                }
            }
        }
    }
}

/// A boosted model.
#[derive(Debug, Clone)]
pub struct GbtModel {
    base: f64,
    trees: Vec<Tree>,
    n_features: usize,
}

impl GbtModel {
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Log-odds for every row of `x`.
    pub fn predict_link(&self, x: &Matrix) -> Vec<f64> {
        assert_eq!(x.cols(), self.n_features, "wrong number of predictors");
        (0..x.rows())
            .map(|i| {
                self.base
                    + self
                        .trees
                        .iter()
                        .map(|t| t.value(|j| x.get(i, j)))
                        .sum::<f64>()
            })
            .collect()
    }

    /// Probabilities for every row of `x`.
    pub fn predict(&self, x: &Matrix) -> Vec<f64> {
        self.predict_link(x)
            .into_iter()
            .map(|t| 1.0 / (1.0 + (-t).exp()))
            .collect()
    }
}

struct Grower<'a> {
    bins: &'a [u8],
    n: usize,
    binner: &'a Binner,
    /// Gradient and hessian per row.
    gh: &'a [[f64; 2]],
    cfg: &'a GbtConfig,
    features: Vec<usize>,
    /// Where each predictor's bins start in a histogram.
    offsets: Vec<usize>,
    nodes: Vec<Node>,
}

/// The best split of a node: gain, predictor, bin, and the left child's gradient and
/// hessian sums.
type Split = (f64, usize, usize, f64, f64);

impl Grower<'_> {
    fn leaf(&mut self, g: f64, h: f64) -> usize {
        self.nodes
            .push(Node::Leaf(-self.cfg.learning_rate * g / (h + self.cfg.l2)));
        self.nodes.len() - 1
    }

    /// Gradient and hessian sums per (predictor, bin) over `rows`, for the sampled predictors.
    fn histogram(&self, rows: &[u32]) -> Vec<[f64; 2]> {
        let mut hist = vec![[0.0; 2]; *self.offsets.last().expect("offsets")];
        for &j in &self.features {
            let col = &self.bins[j * self.n..(j + 1) * self.n];
            let hj = &mut hist[self.offsets[j]..self.offsets[j + 1]];
            for &r in rows {
                let e = &mut hj[col[r as usize] as usize];
                let gh = self.gh[r as usize];
                e[0] += gh[0];
                e[1] += gh[1];
            }
        }
        hist
    }

    fn best_split(&self, hist: &[[f64; 2]], gs: f64, hs: f64) -> Option<Split> {
        let l2 = self.cfg.l2;
        let mcw = self.cfg.min_child_weight;
        let parent = gs * gs / (hs + l2);
        let mut best: Option<Split> = None;
        for &j in &self.features {
            let hj = &hist[self.offsets[j]..self.offsets[j + 1]];
            let (mut gl, mut hl) = (0.0, 0.0);
            for (b, e) in hj.iter().enumerate().take(hj.len().saturating_sub(1)) {
                gl += e[0];
                hl += e[1];
                let (gr, hr) = (gs - gl, hs - hl);
                if hl < mcw || hr < mcw {
                    continue;
                }
                let gain = gl * gl / (hl + l2) + gr * gr / (hr + l2) - parent;
                if gain > 1e-12 && best.is_none_or(|bst| gain > bst.0) {
                    best = Some((gain, j, b, gl, hl));
                }
            }
        }
        best
    }

    /// Grow the subtree over `rows` whose gradient and hessian sums are `gs`, `hs`; `hist`
    /// is their histogram when the node may split.
    fn grow(
        &mut self,
        rows: &mut [u32],
        depth: usize,
        gs: f64,
        hs: f64,
        hist: Option<Vec<[f64; 2]>>,
    ) -> usize {
        let Some(hist) = hist else {
            return self.leaf(gs, hs);
        };
        if rows.len() < 2 || hs < 2.0 * self.cfg.min_child_weight {
            return self.leaf(gs, hs);
        }
        let Some((_, j, b, gl, hl)) = self.best_split(&hist, gs, hs) else {
            return self.leaf(gs, hs);
        };
        // Partition the rows in place: bin ≤ b to the left.
        let col = &self.bins[j * self.n..(j + 1) * self.n];
        let mut m = 0;
        for k in 0..rows.len() {
            if col[rows[k] as usize] as usize <= b {
                rows.swap(k, m);
                m += 1;
            }
        }
        let me = self.nodes.len();
        self.nodes.push(Node::Leaf(0.0));
        let (l, r) = rows.split_at_mut(m);
        // Children that may split need histograms: build the smaller child's and take the
        // larger's as the parent's minus it.
        let (hl_hist, hr_hist) = if depth + 1 < self.cfg.max_depth {
            let small_left = l.len() <= r.len();
            let small = self.histogram(if small_left { l } else { r });
            let large: Vec<[f64; 2]> = hist
                .iter()
                .zip(&small)
                .map(|(p, s)| [p[0] - s[0], p[1] - s[1]])
                .collect();
            if small_left {
                (Some(small), Some(large))
            } else {
                (Some(large), Some(small))
            }
        } else {
            (None, None)
        };
        let left = self.grow(l, depth + 1, gl, hl, hl_hist);
        let right = self.grow(r, depth + 1, gs - gl, hs - hl, hr_hist);
        self.nodes[me] = Node::Split {
            feature: j,
            bin: b as u8,
            threshold: self.binner.edges[j][b],
            left,
            right,
        };
        me
    }

    /// Grow a tree over `rows`.
    fn tree(mut self, rows: &mut [u32]) -> Tree {
        let (mut gs, mut hs) = (0.0, 0.0);
        for &r in rows.iter() {
            gs += self.gh[r as usize][0];
            hs += self.gh[r as usize][1];
        }
        let hist = (self.cfg.max_depth > 0).then(|| self.histogram(rows));
        self.grow(rows, 0, gs, hs, hist);
        Tree { nodes: self.nodes }
    }
}

fn check(x: &Matrix, y: &[f64]) -> Result<()> {
    if x.rows() == 0 || x.rows() != y.len() {
        return Err(ForecastError::Invalid(format!(
            "boosting: {} rows of predictors and {} outcomes",
            x.rows(),
            y.len()
        )));
    }
    if !(0..x.cols()).all(|j| x.col(j).iter().all(|v| v.is_finite())) {
        return Err(ForecastError::Invalid(
            "boosting: predictors must be finite".into(),
        ));
    }
    Ok(())
}

/// Boost `n_trees` trees; when `eval` is given, record its mean deviance after each tree.
fn boost(
    x: &Matrix,
    y: &[f64],
    cfg: &GbtConfig,
    n_trees: usize,
    mut eval: Option<(&Matrix, &[f64], &mut Vec<f64>)>,
) -> GbtModel {
    let n = x.rows();
    let binner = Binner::fit(x, cfg.max_bins);
    let bins = binner.transform(x);
    let ybar = (y.iter().sum::<f64>() / n as f64).clamp(1e-6, 1.0 - 1e-6);
    let base = (ybar / (1.0 - ybar)).ln();
    let mut f = vec![base; n];
    let mut gh = vec![[0.0; 2]; n];
    let mut rng = Rng::new(cfg.seed);
    let mut all: Vec<u32> = (0..n as u32).collect();
    let n_sub = ((cfg.subsample.clamp(0.0, 1.0) * n as f64).round() as usize).clamp(1, n);
    let p = x.cols();
    let n_col = ((cfg.colsample.clamp(0.0, 1.0) * p as f64).round() as usize).clamp(1, p);
    let mut cols: Vec<usize> = (0..p).collect();
    let mut offsets = vec![0];
    for j in 0..p {
        offsets.push(offsets[j] + binner.n_bins(j));
    }
    let mut eval_bins = eval.as_ref().map(|(xe, _, _)| {
        let b = binner.transform(xe);
        (b, vec![base; xe.rows()])
    });
    let mut trees = Vec::with_capacity(n_trees);
    for _ in 0..n_trees {
        for i in 0..n {
            let pr = 1.0 / (1.0 + (-f[i]).exp());
            gh[i] = [pr - y[i], (pr * (1.0 - pr)).max(1e-12)];
        }
        // Partial Fisher–Yates: the first n_sub entries are a uniform sample.
        for k in 0..n_sub {
            let r = k + rng.below(n - k);
            all.swap(k, r);
        }
        for k in 0..n_col {
            let r = k + rng.below(p - k);
            cols.swap(k, r);
        }
        let mut rows = all[..n_sub].to_vec();
        let mut features = cols[..n_col].to_vec();
        features.sort_unstable();
        let tree = Grower {
            bins: &bins,
            n,
            binner: &binner,
            gh: &gh,
            cfg,
            features,
            offsets: offsets.clone(),
            nodes: Vec::new(),
        }
        .tree(&mut rows);
        for (i, fi) in f.iter_mut().enumerate() {
            *fi += tree.value_binned(&bins, n, i);
        }
        if let (Some((xe, ye, curve)), Some((eb, ef))) = (eval.as_mut(), eval_bins.as_mut()) {
            let ne = xe.rows();
            for (i, e) in ef.iter_mut().enumerate() {
                *e += tree.value_binned(eb, ne, i);
            }
            let pe: Vec<f64> = ef.iter().map(|t| 1.0 / (1.0 + (-t).exp())).collect();
            curve.push(metrics::deviance(&pe, ye));
        }
        trees.push(tree);
    }
    GbtModel {
        base,
        trees,
        n_features: p,
    }
}

/// A boosted model and how its size was chosen.
#[derive(Debug, Clone)]
pub struct GbtFit {
    /// The model refitted on all rows.
    pub model: GbtModel,
    /// Tree depth used.
    pub depth: usize,
    /// Mean held-out deviance after each tree at that depth (empty without
    /// cross-validation).
    pub cv_deviance: Vec<f64>,
}

/// Fit on all rows. With `cfg.cv_folds ≥ 2` the number of trees (up to `n_trees`) and, when
/// `cfg.depths` lists several, the tree depth are chosen by the lowest mean held-out deviance
/// over the folds of the given scheme; otherwise `n_trees` trees of `max_depth` are grown.
pub fn fit(x: &Matrix, y: &[f64], folds: &Folds<'_>, cfg: &GbtConfig) -> Result<GbtFit> {
    check(x, y)?;
    if cfg.cv_folds < 2 {
        return Ok(GbtFit {
            model: boost(x, y, cfg, cfg.n_trees, None),
            depth: cfg.max_depth,
            cv_deviance: Vec::new(),
        });
    }
    let k = cfg.cv_folds;
    let splits = crate::folds::usable(folds.splits(y, k, cfg.seed ^ 0x5eed), y)?;
    let held_out: usize = splits.iter().map(|s| s.1.len()).sum();
    let depths = if cfg.depths.is_empty() {
        vec![cfg.max_depth]
    } else {
        cfg.depths.clone()
    };
    let data: Vec<_> = splits
        .iter()
        .map(|(train, test)| {
            (
                x.select_rows(train),
                train.iter().map(|&i| y[i]).collect::<Vec<f64>>(),
                x.select_rows(test),
                test.iter().map(|&i| y[i]).collect::<Vec<f64>>(),
            )
        })
        .collect();
    // (mean deviance, depth, trees, curve)
    let mut best: Option<(f64, usize, usize, Vec<f64>)> = None;
    for &depth in &depths {
        let c = GbtConfig {
            max_depth: depth,
            ..cfg.clone()
        };
        let mut total = vec![0.0; cfg.n_trees];
        for (xt, yt, xh, yh) in &data {
            let mut curve = Vec::with_capacity(cfg.n_trees);
            boost(xt, yt, &c, cfg.n_trees, Some((xh, yh, &mut curve)));
            for (t, d) in total.iter_mut().zip(&curve) {
                *t += d * yh.len() as f64 / held_out as f64;
            }
        }
        let (i, d) = total
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map_or((cfg.n_trees - 1, f64::INFINITY), |(i, d)| (i, *d));
        if best.as_ref().is_none_or(|b| d < b.0) {
            best = Some((d, depth, i + 1, total));
        }
    }
    let (_, depth, trees, curve) = best.expect("at least one depth");
    let c = GbtConfig {
        max_depth: depth,
        ..cfg.clone()
    };
    Ok(GbtFit {
        model: boost(x, y, &c, trees, None),
        depth,
        cv_deviance: curve,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An XOR-like pattern no linear model can separate.
    fn xor(n: usize, seed: u64) -> (Matrix, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let r: Vec<f64> = (0..4).map(|_| rng.next_f64() * 2.0 - 1.0).collect();
            let inside = (r[0] > 0.0) == (r[1] > 0.0);
            let p = if inside { 0.85 } else { 0.1 };
            y.push(f64::from(u8::from(rng.next_f64() < p)));
            rows.push(r);
        }
        (Matrix::from_rows(&rows).unwrap(), y)
    }

    fn auc(p: &[f64], y: &[f64]) -> f64 {
        let l: Vec<bool> = y.iter().map(|v| *v > 0.5).collect();
        metrics::auc(p, &l).unwrap()
    }

    #[test]
    fn learns_a_nonlinear_pattern_that_a_linear_model_cannot() {
        let (x, y) = xor(1500, 1);
        let (xt, yt) = xor(2000, 2);
        let cfg = GbtConfig {
            n_trees: 200,
            learning_rate: 0.1,
            max_depth: 2,
            ..Default::default()
        };
        let m = fit(&x, &y, &Folds::Rows, &cfg).unwrap().model;
        let a = auc(&m.predict(&xt), &yt);
        // The Bayes rate here is an AUC of about 0.87.
        assert!(a > 0.8, "boosted AUC {a}");
        let lin = crate::enet::fit_lambda(&x, &y, 0.5, 1e-4, 1e-10).unwrap();
        let al = auc(&lin.predict(&xt), &yt);
        assert!(al < 0.6, "linear AUC {al}");
    }

    #[test]
    fn deterministic_given_the_seed() {
        let (x, y) = xor(400, 3);
        let cfg = GbtConfig {
            n_trees: 30,
            ..Default::default()
        };
        let a = fit(&x, &y, &Folds::Rows, &cfg).unwrap().model.predict(&x);
        let b = fit(&x, &y, &Folds::Rows, &cfg).unwrap().model.predict(&x);
        assert_eq!(a, b);
        let c = fit(&x, &y, &Folds::Rows, &GbtConfig { seed: 9, ..cfg })
            .unwrap()
            .model
            .predict(&x);
        assert_ne!(a, c);
    }

    #[test]
    fn cross_validation_stops_before_overfitting() {
        // Pure noise: the best number of trees is small.
        let mut rng = Rng::new(5);
        let rows: Vec<Vec<f64>> = (0..300)
            .map(|_| (0..5).map(|_| rng.next_f64()).collect())
            .collect();
        let y: Vec<f64> = (0..300)
            .map(|_| f64::from(u8::from(rng.next_f64() < 0.3)))
            .collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let cfg = GbtConfig {
            n_trees: 150,
            learning_rate: 0.2,
            cv_folds: 3,
            ..Default::default()
        };
        let f = fit(&x, &y, &Folds::Rows, &cfg).unwrap();
        assert_eq!(f.cv_deviance.len(), 150);
        assert!(f.model.n_trees() < 60, "{}", f.model.n_trees());
    }

    #[test]
    fn binned_and_raw_predictions_agree() {
        let (x, y) = xor(300, 4);
        let cfg = GbtConfig {
            n_trees: 20,
            ..Default::default()
        };
        let m = boost(&x, &y, &cfg, 20, None);
        let binner = Binner::fit(&x, cfg.max_bins);
        let bins = binner.transform(&x);
        let raw = m.predict_link(&x);
        for (i, r) in raw.iter().enumerate() {
            let b: f64 = m.base
                + m.trees
                    .iter()
                    .map(|t| t.value_binned(&bins, x.rows(), i))
                    .sum::<f64>();
            assert!((b - r).abs() < 1e-12);
        }
    }
}
