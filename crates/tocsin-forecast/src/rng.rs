//! A small deterministic random number generator (SplitMix64), so that results depend only on
//! the seed and never on another crate's version.

/// SplitMix64 (Steele, Lea and Flood 2014).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// Stratified fold assignment: positives and negatives are each shuffled and dealt round-robin
/// into `k` folds, so every fold holds about the same number of each.
pub fn stratified_folds(y: &[f64], k: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    let mut pos: Vec<usize> = (0..y.len()).filter(|&i| y[i] > 0.5).collect();
    let mut neg: Vec<usize> = (0..y.len()).filter(|&i| y[i] <= 0.5).collect();
    rng.shuffle(&mut pos);
    rng.shuffle(&mut neg);
    let mut fold = vec![0; y.len()];
    // Start the negatives where the positives stopped so fold sizes stay balanced.
    for (r, &i) in pos.iter().chain(neg.iter()).enumerate() {
        fold[i] = r % k;
    }
    fold
}

/// Grouped fold assignment: every row of a group (a country) lands in the same fold, so a
/// held-out fold never shares a country's neighbouring years with the training folds. Groups
/// are dealt in order of decreasing number of positive rows (ties in random order) to the
/// fold with the fewest positives so far, then the fewest rows, which keeps the folds
/// balanced in onsets.
pub fn grouped_folds(y: &[f64], groups: &[u32], k: usize, seed: u64) -> Vec<usize> {
    assert_eq!(y.len(), groups.len());
    let n_groups = groups.iter().map(|&g| g as usize + 1).max().unwrap_or(0);
    let mut pos = vec![0usize; n_groups];
    let mut size = vec![0usize; n_groups];
    for (&g, &v) in groups.iter().zip(y) {
        size[g as usize] += 1;
        pos[g as usize] += usize::from(v > 0.5);
    }
    let mut order: Vec<usize> = (0..n_groups).filter(|&g| size[g] > 0).collect();
    Rng::new(seed).shuffle(&mut order);
    order.sort_by(|&a, &b| pos[b].cmp(&pos[a]).then(size[b].cmp(&size[a])));
    let mut fold_of = vec![0usize; n_groups];
    let mut fold_pos = vec![0usize; k];
    let mut fold_size = vec![0usize; k];
    for g in order {
        let f = (0..k)
            .min_by_key(|&f| (fold_pos[f], fold_size[f]))
            .expect("k > 0");
        fold_of[g] = f;
        fold_pos[f] += pos[g];
        fold_size[f] += size[g];
    }
    groups.iter().map(|&g| fold_of[g as usize]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_roughly_uniform() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..5).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        let mut r = Rng::new(1);
        let mean = (0..10_000).map(|_| r.next_f64()).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }

    #[test]
    fn folds_are_stratified() {
        let y: Vec<f64> = (0..100).map(|i| f64::from(u8::from(i % 10 == 0))).collect();
        let f = stratified_folds(&y, 5, 3);
        for k in 0..5 {
            let n = f.iter().filter(|&&x| x == k).count();
            let p = (0..100).filter(|&i| f[i] == k && y[i] > 0.5).count();
            assert_eq!(n, 20);
            assert_eq!(p, 2);
        }
    }

    #[test]
    fn grouped_folds_keep_groups_together_and_balance_positives() {
        let groups: Vec<u32> = (0..200).map(|i| (i / 10) as u32).collect();
        let y: Vec<f64> = (0..200).map(|i| f64::from(u8::from(i % 7 == 0))).collect();
        let f = grouped_folds(&y, &groups, 4, 1);
        for i in 0..200 {
            assert_eq!(f[i], f[(i / 10) * 10]);
        }
        let pos: Vec<usize> = (0..4)
            .map(|k| (0..200).filter(|&i| f[i] == k && y[i] > 0.5).count())
            .collect();
        let (lo, hi) = (pos.iter().min().unwrap(), pos.iter().max().unwrap());
        assert!(hi - lo <= 2, "{pos:?}");
    }
}
