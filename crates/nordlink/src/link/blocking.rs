//! Hamming-LSH blocking (bit sampling): which pairs to compare when all pairs are too
//! many.
//!
//! A band is `r` fixed bit positions; two filters fall in the same block of a band when
//! they agree on all `r` bits. A pair whose filters agree on a share `p` of all positions
//! meets in at least one of `b` bands with probability `1 − (1 − p^r)^b`: near 1 for
//! matches (high `p`), small for the rest. Blocking never changes a score; it only
//! decides which pairs are scored, so a pair it misses is lost, and one it finds is
//! scored exactly as without blocking.
//!
//! Parameters come from the threshold and a target recall ([`LshParams::for_threshold`]):
//! a pair at the threshold with the inputs' mean popcount `m` in filters of `l` bits
//! agrees on about `p = 1 − 2 m (1 − t) / l` of positions (for Dice); `r` is chosen so
//! that pairs at the inputs' typical (mean) similarity rarely meet, and `b` so that a pair
//! at the threshold meets with the target probability.

use std::collections::HashMap;

use super::candidates::{Budget, Scorer, position};
use super::kernel::to_word_major;
use super::{Candidate, Kernel, LinkError, Measure};
use crate::clk::{FilterArena, FilterRef};

/// Largest number of bands: beyond this, blocking costs more than it saves.
pub const MAX_BANDS: usize = 512;

/// Bits per band: the largest key a band builds is 64 bits.
pub const MAX_BAND_BITS: usize = 64;

/// Bands and bits per band of a Hamming-LSH blocking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LshParams {
    /// Number of bands.
    pub bands: usize,
    /// Bit positions per band.
    pub bits_per_band: usize,
}

impl LshParams {
    /// Parameters for finding pairs at or above Dice `threshold` with probability at
    /// least `recall`, for filters of `bits` bits with mean popcount `mean_popcount`:
    /// `r` makes a pair of agreement share `p_far` (a typical non-match, taken as Dice
    /// 0.5) meet in a band with probability about 1/1000, and `b` is the fewest bands
    /// that reach `recall` for a pair exactly at the threshold. Bounded by
    /// [`MAX_BANDS`] and [`MAX_BAND_BITS`].
    pub fn for_threshold(threshold: f64, recall: f64, bits: usize, mean_popcount: f64) -> Self {
        let l = bits.max(1) as f64;
        let agree = |dice: f64| (1.0 - 2.0 * mean_popcount * (1.0 - dice) / l).clamp(0.01, 0.999);
        let (p_near, p_far) = (agree(threshold), agree(0.5).min(agree(threshold)));
        let r = ((1e-3f64).ln() / p_far.ln()).ceil().clamp(1.0, MAX_BAND_BITS as f64);
        let hit = p_near.powf(r);
        let miss = (1.0 - recall.clamp(0.0, 0.999_999)).max(1e-9);
        let b = (miss.ln() / (1.0 - hit).max(1e-12).ln()).ceil().clamp(1.0, MAX_BANDS as f64);
        // r and b are whole numbers clamped to 1..=64 and 1..=512 above.
        #[allow(clippy::cast_possible_truncation, reason = "clamped to small integers")]
        let (bands, bits_per_band) = (b as usize, r as usize);
        Self { bands, bits_per_band }
    }
}

impl LshParams {
    /// [`for_threshold`](Self::for_threshold) for these two inputs, taking as the
    /// popcount their 95th percentile rather than their mean: pairs of fuller filters agree
    /// on fewer positions at the same score. Sized for the mean, the bands lost 0.6 % of
    /// the all-pairs candidates on skewed synthetic names (docs/performance.md).
    pub fn for_inputs(
        left: &FilterArena,
        right: &FilterArena,
        threshold: f64,
        recall: f64,
    ) -> Self {
        let mut pops: Vec<u32> =
            left.popcounts().iter().chain(right.popcounts()).copied().collect();
        let high = match pops.len() {
            0 => 0,
            n => *pops.select_nth_unstable((n * 95 / 100).min(n - 1)).1,
        };
        Self::for_threshold(threshold, recall, left.bits(), f64::from(high))
    }
}

/// The bit positions of every band: a fixed pseudo-random choice (the same for both
/// inputs, so equal filters always meet), drawn without repetition inside a band.
fn band_positions(params: LshParams, bits: usize) -> Vec<Vec<usize>> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        // xorshift64*: statistical quality is all that is needed, not secrecy.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let per_band = params.bits_per_band.min(bits).max(1);
    (0..params.bands)
        .map(|_| {
            let mut chosen: Vec<usize> = Vec::with_capacity(per_band);
            while chosen.len() < per_band {
                let p = usize::try_from(next() % bits.max(1) as u64).unwrap_or(0);
                if !chosen.contains(&p) {
                    chosen.push(p);
                }
            }
            chosen
        })
        .collect()
}

fn key(words: &[u64], positions: &[usize]) -> u64 {
    positions.iter().fold(0u64, |k, &p| (k << 1) | (words[p / 64] >> (63 - p % 64) & 1))
}

/// What blocking did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockingStats {
    /// Pair comparisons made (a pair meeting in several bands is compared in each; it is
    /// reported once).
    pub comparisons: u64,
    /// All pairs of the two inputs.
    pub all_pairs: u64,
}

impl BlockingStats {
    /// The share of all pairs not compared.
    pub fn reduction_ratio(&self) -> f64 {
        if self.all_pairs == 0 {
            0.0
        } else {
            1.0 - self.comparisons as f64 / self.all_pairs as f64
        }
    }
}

/// Every pair that meets in at least one band and scores at least `threshold`, in order
/// of left then right position: a subset of [`candidates`](super::candidates) with the
/// same scores.
///
/// # Errors
/// As [`candidates`](super::candidates).
pub fn candidates_lsh(
    left: &FilterArena,
    right: &FilterArena,
    measure: Measure,
    threshold: f64,
    params: LshParams,
    kernel: Kernel,
) -> Result<(Vec<Candidate>, BlockingStats), LinkError> {
    lsh(left, right, (measure, threshold), params, kernel, None)
}

/// As [`candidates_lsh`], keeping only the best `k` pairs of each left record (ties to
/// the lower right position): exactly the best `k` of what [`candidates_lsh`] returns,
/// in memory that grows with `k` times the left input, not with the pairs above the
/// threshold. For 1-to-1 solvers at thresholds low enough for many look-alikes to pass.
///
/// # Errors
/// As [`candidates_lsh`].
pub fn candidates_lsh_best(
    left: &FilterArena,
    right: &FilterArena,
    (measure, threshold): (Measure, f64),
    params: LshParams,
    kernel: Kernel,
    k: usize,
) -> Result<(Vec<Candidate>, BlockingStats), LinkError> {
    lsh(left, right, (measure, threshold), params, kernel, Some(k))
}

/// The best `k` pairs of each left record among `found` (ties to the lower right
/// position). A pair is reported by one band only, so the best `k` of two bands' best `k`
/// are the best `k` of both.
fn best_per_left(mut found: Vec<Candidate>, k: usize) -> Vec<Candidate> {
    found.sort_unstable_by(|a, b| {
        a.left.cmp(&b.left).then(b.score.total_cmp(&a.score)).then(a.right.cmp(&b.right))
    });
    let mut run = 0;
    let mut last = None;
    found.retain(|c| {
        run = if last == Some(c.left) { run + 1 } else { 0 };
        last = Some(c.left);
        run < k
    });
    found
}

fn lsh(
    left: &FilterArena,
    right: &FilterArena,
    (measure, threshold): (Measure, f64),
    params: LshParams,
    kernel: Kernel,
    best: Option<usize>,
) -> Result<(Vec<Candidate>, BlockingStats), LinkError> {
    super::candidates::check(left, right, threshold)?;
    let bands = band_positions(params, left.bits());
    // One band's blocks: the left and right members of every key.
    // A pair meeting in several bands is reported by the first of them only, so no band
    // holds a duplicate and memory grows with distinct candidates, not with bands.
    let first_meeting = |band: usize, a: FilterRef<'_>, b: FilterRef<'_>| {
        !bands[..band].iter().any(|p| key(a.words(), p) == key(b.words(), p))
    };
    let budget = Budget::default();
    let band = |(n, positions): (usize, &Vec<usize>)| -> (Vec<Candidate>, u64) {
        let mut blocks: HashMap<u64, (Vec<u32>, Vec<u32>)> = HashMap::new();
        for (j, f) in right.iter().enumerate() {
            let j = u32::try_from(j).unwrap_or(u32::MAX);
            blocks.entry(key(f.words(), positions)).or_default().1.push(j);
        }
        for (i, f) in left.iter().enumerate() {
            if let Some(block) = blocks.get_mut(&key(f.words(), positions)) {
                block.0.push(u32::try_from(i).unwrap_or(u32::MAX));
            }
        }
        let report = |a: FilterRef<'_>, b: FilterRef<'_>| first_meeting(n, a, b);
        // A left record meets its band's pairs in one block, so its kept pairs do not
        // depend on the order of blocks.
        let blocks = blocks.values();
        score_blocks(left, right, blocks, (measure, threshold), kernel, (&budget, best), report)
    };
    // Keeping the best k, bands are folded into one running best k per left record as
    // they finish, so memory stays near k per record whatever the number of bands.
    let fold = |k: usize| {
        move |a: (Vec<Candidate>, u64), b: (Vec<Candidate>, u64)| {
            (best_per_left([a.0, b.0].concat(), k), a.1 + b.1)
        }
    };
    #[cfg(feature = "parallel")]
    let per_band: Vec<(Vec<Candidate>, u64)> = {
        use rayon::prelude::*;
        let bands = bands.par_iter().enumerate().map(band);
        match best {
            Some(k) => vec![bands.reduce(|| (Vec::new(), 0), fold(k))],
            None => bands.collect(),
        }
    };
    #[cfg(not(feature = "parallel"))]
    let per_band: Vec<(Vec<Candidate>, u64)> = {
        let bands = bands.iter().enumerate().map(band);
        match best {
            Some(k) => vec![bands.fold((Vec::new(), 0), fold(k))],
            None => bands.collect(),
        }
    };
    budget.check()?;
    Ok(merge(left, right, per_band))
}

/// Every pair whose records have equal blocking keys (`left_keys[i]`, `right_keys[j]`:
/// for example a birth year pseudonymised with the opaque scheme, so keys stay keyed) and
/// that scores at least `threshold`, in order of left then right position. Records with
/// the key `None` (a missing value) are compared with no one.
///
/// # Errors
/// As [`candidates`](super::candidates); [`LinkError::KeysMismatch`] when a key list's
/// length differs from its input's.
pub fn candidates_by_key<K: Eq + std::hash::Hash + Sync>(
    left: &FilterArena,
    right: &FilterArena,
    (left_keys, right_keys): (&[Option<K>], &[Option<K>]),
    measure: Measure,
    threshold: f64,
    kernel: Kernel,
) -> Result<(Vec<Candidate>, BlockingStats), LinkError> {
    super::candidates::check(left, right, threshold)?;
    if left_keys.len() != left.len() || right_keys.len() != right.len() {
        return Err(LinkError::KeysMismatch);
    }
    let mut blocks: HashMap<&K, (Vec<u32>, Vec<u32>)> = HashMap::new();
    for (j, k) in right_keys.iter().enumerate() {
        if let Some(k) = k {
            blocks.entry(k).or_default().1.push(u32::try_from(j).unwrap_or(u32::MAX));
        }
    }
    for (i, k) in left_keys.iter().enumerate() {
        if let Some(block) = k.as_ref().and_then(|k| blocks.get_mut(k)) {
            block.0.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
    }
    let budget = Budget::default();
    let found = score_blocks(
        left,
        right,
        blocks.values(),
        (measure, threshold),
        kernel,
        (&budget, None),
        |_, _| true,
    );
    budget.check()?;
    Ok(merge(left, right, vec![found]))
}

/// Scores every left member of each block against the block's right members, gathered
/// into one buffer so the kernel streams them; a pair is reported when it scores at least
/// the threshold and `report(i, j)` agrees. Returns the candidates and the comparisons.
fn score_blocks<'a>(
    left: &FilterArena,
    right: &FilterArena,
    blocks: impl Iterator<Item = &'a (Vec<u32>, Vec<u32>)>,
    (measure, threshold): (Measure, f64),
    kernel: Kernel,
    (budget, best): (&Budget, Option<usize>),
    report: impl Fn(FilterRef<'_>, FilterRef<'_>) -> bool,
) -> (Vec<Candidate>, u64) {
    // Keeping the best few per left record, pairs count against the budget once kept.
    let scorer_budget = if best.is_some() { None } else { Some(budget) };
    let mut scorer = Scorer::new(left, (measure, threshold), kernel, scorer_budget);
    let (mut out, mut comparisons) = (Vec::new(), 0u64);
    // Per left member of the current block, its best pairs so far (with `best`).
    let mut kept: Vec<Vec<Candidate>> = Vec::new();
    let (mut gathered, mut needs, mut members) = (Vec::new(), Vec::new(), Vec::new());
    let mut transposed = Vec::new();
    for (lefts, rights) in blocks {
        if lefts.is_empty() || rights.is_empty() {
            continue;
        }
        gathered.clear();
        needs.clear();
        members.clear();
        for (&j, b) in rights.iter().filter_map(|j| Some((j, right.get(*j as usize)?))) {
            gathered.extend_from_slice(b.words());
            needs.push(scorer.right_need(b.popcount()));
            members.push((j, b));
        }
        // Big enough blocks are transposed once for the grouped word-major kernel.
        let layout = (kernel.word_major() && lefts.len() >= 8).then(|| {
            to_word_major(&gathered, left.words_per_filter(), &mut transposed);
            transposed.as_slice()
        });
        let named = lefts.iter().filter_map(|&i| Some((i as usize, left.get(i as usize)?)));
        comparisons += (lefts.len() * members.len()) as u64;
        kept.clear();
        kept.resize(if best.is_some() { lefts.len() } else { 0 }, Vec::new());
        scorer.score_many(
            named,
            (&gathered, layout, &needs),
            |p| members[p].1.popcount(),
            |i, p, score| {
                let (j, b) = members[p];
                let Some(a) = left.get(i) else { return };
                if !report(a, b) {
                    return;
                }
                let c = Candidate { left: position(i), right: j, score };
                let Some(k) = best else {
                    out.push(c);
                    return;
                };
                // Left members of a block are in ascending order.
                let Ok(slot) = lefts.binary_search(&c.left) else { return };
                let list = &mut kept[slot];
                let at = list.partition_point(|x| {
                    x.score > score || (x.score == score && x.right < c.right)
                });
                if at < k {
                    list.insert(at, c);
                    list.truncate(k);
                }
            },
        );
        // Bounded by k per left record per band, folded across bands by the caller: not
        // charged to the budget, which is for searches that keep every pair.
        out.extend(kept.iter().flatten());
    }
    (out, comparisons)
}

/// Joins per-band (or per-key) results, which hold each pair at most once between them:
/// candidates in order of left then right position.
fn merge(
    left: &FilterArena,
    right: &FilterArena,
    parts: Vec<(Vec<Candidate>, u64)>,
) -> (Vec<Candidate>, BlockingStats) {
    let mut stats =
        BlockingStats { comparisons: 0, all_pairs: left.len() as u64 * right.len() as u64 };
    let mut out = Vec::new();
    for (found, comparisons) in parts {
        out.extend(found);
        stats.comparisons += comparisons;
    }
    out.sort_unstable_by_key(|c| (c.left, c.right));
    debug_assert!(out.windows(2).all(|w| (w[0].left, w[0].right) != (w[1].left, w[1].right)));
    (out, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_grow_with_the_recall_asked_for() {
        let low = LshParams::for_threshold(0.8, 0.9, 1024, 400.0);
        let high = LshParams::for_threshold(0.8, 0.999, 1024, 400.0);
        assert!(high.bands > low.bands, "{low:?} {high:?}");
        assert_eq!(low.bits_per_band, high.bits_per_band);
        assert!((1..=MAX_BAND_BITS).contains(&low.bits_per_band));
        // Extreme inputs stay within the bounds.
        let p = LshParams::for_threshold(1.0, 1.0, 8, 0.0);
        assert!(
            (1..=MAX_BANDS).contains(&p.bands) && (1..=MAX_BAND_BITS).contains(&p.bits_per_band)
        );
    }

    #[test]
    fn equal_filters_always_meet() {
        let mut a = FilterArena::new(128).unwrap();
        a.push_words(&[0xDEAD_BEEF, 0x1234]).unwrap();
        let params = LshParams { bands: 3, bits_per_band: 20 };
        let (c, stats) =
            candidates_lsh(&a, &a, Measure::Dice, 1.0, params, Kernel::scalar()).unwrap();
        // Met in every band, compared in each, reported once.
        assert_eq!(c.len(), 1);
        assert_eq!(stats.comparisons, 3);
    }
}
