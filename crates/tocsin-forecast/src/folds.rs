//! Cross-validation splits.
//!
//! Country-years are not independent: `mk_onset_1or2` is 1 in both years before an onset, and
//! the lagged predictors barely change from one year to the next. Random rows therefore leak
//! a country's neighbouring years into the held-out fold and reward over-fitting (on this data
//! random-row CV prefers boosted trees several times deeper and longer than any other scheme).
//! [`Folds::YearBlocks`] holds out contiguous blocks of years and drops the `gap` years on each
//! side of the block from training, which is closest to forecasting; [`Folds::Countries`]
//! holds out whole countries; [`Folds::Rows`] is `cv.glmnet`'s scheme (stratified here).

use crate::rng::{grouped_folds, stratified_folds};

/// How to split training rows into folds.
#[derive(Debug, Clone, Copy)]
pub enum Folds<'a> {
    /// Rows at random, stratified by outcome.
    Rows,
    /// Whole groups (countries): one id per row.
    Countries(&'a [u32]),
    /// Contiguous blocks of years with about equal numbers of positive rows; rows within
    /// `gap` years of the held-out block are left out of that fold's training rows.
    YearBlocks {
        /// Year of each row.
        years: &'a [i32],
        /// Years dropped on each side of a held-out block.
        gap: i32,
    },
}

/// (training rows, held-out rows) per fold.
pub type Splits = Vec<(Vec<usize>, Vec<usize>)>;

impl Folds<'_> {
    /// `k` splits of rows with outcomes `y`.
    pub fn splits(&self, y: &[f64], k: usize, seed: u64) -> Splits {
        let n = y.len();
        let by_id = |fold: Vec<usize>| -> Splits {
            (0..k)
                .map(|f| {
                    let train = (0..n).filter(|&i| fold[i] != f).collect();
                    let test = (0..n).filter(|&i| fold[i] == f).collect();
                    (train, test)
                })
                .collect()
        };
        match *self {
            Folds::Rows => by_id(stratified_folds(y, k, seed)),
            Folds::Countries(g) => by_id(grouped_folds(y, g, k, seed)),
            Folds::YearBlocks { years, gap } => {
                let blocks = year_blocks(y, years, k);
                blocks
                    .iter()
                    .map(|&(lo, hi)| {
                        let test = (0..n)
                            .filter(|&i| years[i] >= lo && years[i] <= hi)
                            .collect();
                        let train = (0..n)
                            .filter(|&i| years[i] < lo - gap || years[i] > hi + gap)
                            .collect();
                        (train, test)
                    })
                    .collect()
            }
        }
    }
}

/// Keep the splits that can be fitted and scored: held-out rows present, and both outcomes
/// among the training rows.
pub(crate) fn usable(splits: Splits, y: &[f64]) -> crate::error::Result<Splits> {
    let kept: Splits = splits
        .into_iter()
        .filter(|(train, test)| {
            !test.is_empty()
                && train.iter().any(|&i| y[i] > 0.5)
                && train.iter().any(|&i| y[i] <= 0.5)
        })
        .collect();
    if kept.len() < 2 {
        return Err(crate::error::ForecastError::Invalid(
            "cross-validation: fewer than two usable folds".into(),
        ));
    }
    Ok(kept)
}

/// Cut the years into `k` contiguous blocks holding about equal numbers of positive rows.
fn year_blocks(y: &[f64], years: &[i32], k: usize) -> Vec<(i32, i32)> {
    let mut distinct: Vec<i32> = years.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let k = k.clamp(1, distinct.len().max(1));
    let pos_by_year: Vec<f64> = distinct
        .iter()
        .map(|&yr| {
            years
                .iter()
                .zip(y)
                .filter(|(&a, &v)| a == yr && v > 0.5)
                .count() as f64
                + 1e-3 // so that years without onsets still advance the cut
        })
        .collect();
    let total: f64 = pos_by_year.iter().sum();
    let mut blocks = Vec::with_capacity(k);
    let (mut start, mut acc) = (0usize, 0.0);
    for (i, p) in pos_by_year.iter().enumerate() {
        acc += p;
        let left = distinct.len() - i - 1;
        let need = k - blocks.len() - 1;
        if blocks.len() + 1 < k
            && (acc >= total * (blocks.len() + 1) as f64 / k as f64 || left == need)
        {
            blocks.push((distinct[start], distinct[i]));
            start = i + 1;
        }
    }
    if start < distinct.len() {
        blocks.push((distinct[start], *distinct.last().expect("non-empty")));
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_blocks_are_contiguous_balanced_and_gapped() {
        let years: Vec<i32> = (0..300).map(|i| 1960 + i / 10).collect();
        let y: Vec<f64> = (0..300).map(|i| f64::from(u8::from(i % 5 == 0))).collect();
        let splits = Folds::YearBlocks {
            years: &years,
            gap: 2,
        }
        .splits(&y, 5, 0);
        assert_eq!(splits.len(), 5);
        let mut seen = vec![0; 300];
        for (train, test) in &splits {
            let lo = test.iter().map(|&i| years[i]).min().unwrap();
            let hi = test.iter().map(|&i| years[i]).max().unwrap();
            assert_eq!(test.len() as i32, (hi - lo + 1) * 10);
            assert!(train
                .iter()
                .all(|&i| years[i] < lo - 2 || years[i] > hi + 2));
            let pos = test.iter().filter(|&&i| y[i] > 0.5).count();
            assert!((10..=14).contains(&pos), "{pos}");
            test.iter().for_each(|&i| seen[i] += 1);
        }
        assert!(seen.iter().all(|&s| s == 1));
    }
}
