//! Scores: AUC, Brier score and descending ranks.

/// Ranks with 1 for the largest value; tied values share the mean of their ranks (as R's
/// `rank(-x)` does, the Project's convention).
pub fn rank_desc(scores: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Positions i..=j (0-based) share ranks i+1..=j+1.
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

/// Ranks with 1 for the largest value; tied values share the best of their ranks (R's
/// `rank(-x, ties.method = "min")`, which the Project's backtest uses).
pub fn rank_desc_min(scores: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut ranks = vec![0.0; scores.len()];
    for (pos, &k) in order.iter().enumerate() {
        ranks[k] = if pos > 0 && scores[order[pos - 1]] == scores[k] {
            ranks[order[pos - 1]]
        } else {
            (pos + 1) as f64
        };
    }
    ranks
}

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, ties counting one half (Mann–Whitney). `None` without both classes.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), labels.len());
    let n_pos = labels.iter().filter(|&&l| l).count();
    let n_neg = labels.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    // Ascending average ranks: rank_desc of the negated scores.
    let neg: Vec<f64> = scores.iter().map(|s| -s).collect();
    let ranks = rank_desc(&neg);
    let sum_pos: f64 = ranks
        .iter()
        .zip(labels)
        .filter(|(_, &l)| l)
        .map(|(r, _)| r)
        .sum();
    let u = sum_pos - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos as f64 * n_neg as f64))
}

/// Mean squared difference between forecast probabilities and 0/1 outcomes.
pub fn brier(probs: &[f64], labels: &[bool]) -> f64 {
    assert_eq!(probs.len(), labels.len());
    if probs.is_empty() {
        return f64::NAN;
    }
    probs
        .iter()
        .zip(labels)
        .map(|(p, &l)| (p - f64::from(u8::from(l))).powi(2))
        .sum::<f64>()
        / probs.len() as f64
}

/// Mean binomial deviance, `-2 mean(y log p + (1-y) log(1-p))`, with `p` clipped to
/// `[1e-5, 1-1e-5]` as glmnet does.
pub fn deviance(probs: &[f64], y: &[f64]) -> f64 {
    let n = probs.len().max(1) as f64;
    probs
        .iter()
        .zip(y)
        .map(|(&p, &y)| {
            let p = p.clamp(1e-5, 1.0 - 1e-5);
            -2.0 * (y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        })
        .sum::<f64>()
        / n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties() {
        assert_eq!(rank_desc(&[0.1, 0.9, 0.5, 0.5]), vec![4.0, 1.0, 2.5, 2.5]);
        assert_eq!(rank_desc(&[1.0, 1.0, 1.0]), vec![2.0, 2.0, 2.0]);
        assert!(rank_desc(&[]).is_empty());
        assert_eq!(
            rank_desc_min(&[0.1, 0.9, 0.5, 0.5]),
            vec![4.0, 1.0, 2.0, 2.0]
        );
        assert_eq!(rank_desc_min(&[1.0, 1.0, 1.0]), vec![1.0, 1.0, 1.0]);
    }

    #[test]
    fn auc_of_known_rankings() {
        let l = [true, true, false, false];
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &l), Some(1.0));
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &l), Some(0.0));
        // One positive above both negatives, the other between them: 3 of 4 pairs.
        assert_eq!(auc(&[0.9, 0.5, 0.6, 0.1], &l), Some(0.75));
        // All tied: one half.
        assert_eq!(auc(&[0.3; 4], &l), Some(0.5));
        // A positive tied with one negative and above the other: (0.5 + 1) / 2 per positive.
        assert_eq!(auc(&[0.5, 0.5, 0.5, 0.1], &l), Some(0.75));
        assert_eq!(auc(&[0.5, 0.4], &[true, true]), None);
    }

    #[test]
    fn auc_matches_pair_count_on_random_scores() {
        let mut rng = crate::rng::Rng::new(11);
        let s: Vec<f64> = (0..200).map(|_| (rng.next_f64() * 20.0).floor()).collect();
        let l: Vec<bool> = (0..200).map(|_| rng.next_f64() < 0.3).collect();
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..200 {
            for j in 0..200 {
                if l[i] && !l[j] {
                    den += 1.0;
                    num += if s[i] > s[j] {
                        1.0
                    } else if s[i] == s[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        assert!((auc(&s, &l).unwrap() - num / den).abs() < 1e-12);
    }

    #[test]
    fn brier_score() {
        assert_eq!(brier(&[1.0, 0.0], &[true, false]), 0.0);
        assert_eq!(brier(&[0.0, 1.0], &[true, false]), 1.0);
        assert!((brier(&[0.8, 0.3], &[true, false]) - (0.04 + 0.09) / 2.0).abs() < 1e-15);
    }

    #[test]
    fn deviance_of_perfect_and_coin() {
        assert!((deviance(&[0.5, 0.5], &[1.0, 0.0]) - 2.0 * 2f64.ln()).abs() < 1e-12);
        assert!(deviance(&[1.0, 0.0], &[1.0, 0.0]) < 1e-4);
    }
}
