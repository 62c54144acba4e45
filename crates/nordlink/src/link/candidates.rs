//! Candidate pairs: every pair at or above a threshold, or the best `k` per record.
//!
//! The right-hand filters are taken a tile at a time (a few hundred kilobytes, so a tile
//! stays in the core's L2 cache) and every left filter of a block is compared with the
//! whole tile before the next tile is loaded: each right filter is read from memory once
//! per block instead of once per left filter. Only pairs whose common-bit count can reach
//! the threshold are scored (the threshold in count form, no division in the hot loop).

use super::kernel::to_word_major;
use super::{Kernel, Measure};
use crate::clk::FilterArena;
use crate::clk::FilterRef;

/// Bytes of right-hand filters per tile: half a typical 1-2 MiB L2.
const TILE_BYTES: usize = 256 * 1024;

/// Left filters scored together against a tile (each tile word loaded once for all).
const GROUP: usize = 4;

/// Left filters compared with one tile before moving on.
const BLOCK: usize = 256;

/// A pair of records (by position in their inputs) and its score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// Position in the left input.
    pub left: u32,
    /// Position in the right input.
    pub right: u32,
    /// The similarity, 0..=1.
    pub score: f64,
}

/// Why two inputs cannot be compared.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The filters have different lengths: they cannot come from one schema.
    #[error("filters of {left} bits cannot be compared with filters of {right} bits")]
    LengthMismatch {
        /// Left filter length.
        left: usize,
        /// Right filter length.
        right: usize,
    },
    /// A threshold outside 0..=1 (or not a number).
    #[error("threshold {0} is not between 0 and 1")]
    BadThreshold(f64),
    /// An input holds more records than positions can name (2^32).
    #[error("an input holds more than 2^32 records")]
    TooManyRecords,
    /// More pairs score at least the threshold than one search keeps.
    #[error("more than {limit} pairs score at least the threshold; raise the threshold")]
    TooManyCandidates {
        /// [`MAX_CANDIDATES`].
        limit: u64,
    },
    /// Blocking keys were given for another number of records than the input holds.
    #[error("blocking keys and records differ in number")]
    KeysMismatch,
    /// A filter could not be copied (a sample of an input).
    #[error(transparent)]
    Filter(#[from] crate::clk::FilterError),
    /// Too few records to choose a threshold from their scores.
    #[error(
        "{sampled} records are too few to choose a threshold from their scores (100 or more \
         are needed); give the threshold as a number"
    )]
    TooFewToChoose {
        /// Records sampled.
        sampled: usize,
    },
    /// Key blocking was asked for without keys.
    #[error("blocking on keys needs the keys of both inputs")]
    KeysNeeded,
    /// Linkage settings that cannot work together.
    #[error("{0}")]
    BadSettings(&'static str),
}

/// Checks a threshold: a number in 0..=1.
///
/// # Errors
/// [`LinkError::BadThreshold`] otherwise (NaN included).
pub fn check_threshold(threshold: f64) -> Result<(), LinkError> {
    if (0.0..=1.0).contains(&threshold) { Ok(()) } else { Err(LinkError::BadThreshold(threshold)) }
}

/// The checks every search makes: a threshold in 0..=1, the same filter length, and
/// inputs whose positions fit in 32 bits.
pub(super) fn check(
    left: &FilterArena,
    right: &FilterArena,
    threshold: f64,
) -> Result<(), LinkError> {
    check_threshold(threshold)?;
    if left.bits() != right.bits() {
        return Err(LinkError::LengthMismatch { left: left.bits(), right: right.bits() });
    }
    if u32::try_from(left.len()).is_err() || u32::try_from(right.len()).is_err() {
        return Err(LinkError::TooManyRecords);
    }
    Ok(())
}

/// Most candidate pairs one search keeps: 2^27 (2 GiB of candidates). A threshold far
/// below real matches would otherwise make the result grow with the product of the inputs.
pub const MAX_CANDIDATES: u64 = 1 << 27;

/// The candidates a search may still keep, shared by its threads.
#[derive(Default)]
pub(super) struct Budget(std::sync::atomic::AtomicU64);

impl Budget {
    /// Takes one candidate's place; `false` once the limit is reached.
    pub(super) fn take(&self) -> bool {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < MAX_CANDIDATES
    }

    /// The search's verdict: an error if candidates were dropped for want of room.
    pub(super) fn check(&self) -> Result<(), LinkError> {
        if self.0.load(std::sync::atomic::Ordering::Relaxed) > MAX_CANDIDATES {
            Err(LinkError::TooManyCandidates { limit: MAX_CANDIDATES })
        } else {
            Ok(())
        }
    }
}

/// Scores one left filter against right filters stored back to back: the one inner step
/// of every search (tiled all pairs, LSH blocks, key blocks). The threshold is tested in
/// count form (`Measure::min_common`) inside the kernel, with a margin far larger than
/// rounding error, so it never drops a pair that scores at least the threshold; the
/// exact score decides for the pairs that pass. The count test subsumes the popcount
/// bound (`c ≤ min(|a|, |b|)`).
pub(super) struct Scorer<'b> {
    /// Counts every pair found; `None` when the caller keeps a bounded number itself.
    budget: Option<&'b Budget>,
    measure: Measure,
    threshold: f64,
    kernel: Kernel,
    bits: usize,
    words: usize,
    alpha: f64,
    beta: f64,
    counts: Vec<u32>,
    passing: Vec<u32>,
    /// Per query of a group scored together.
    group_counts: [Vec<u32>; GROUP],
    group_passing: [Vec<u32>; GROUP],
}

impl<'b> Scorer<'b> {
    pub(super) fn new(
        left: &FilterArena,
        (measure, threshold): (Measure, f64),
        kernel: Kernel,
        budget: Option<&'b Budget>,
    ) -> Self {
        let (alpha, beta) = measure.min_common(threshold, left.bits());
        Self {
            budget,
            measure,
            threshold,
            kernel,
            bits: left.bits(),
            words: left.words_per_filter(),
            alpha,
            beta,
            counts: Vec::new(),
            passing: Vec::new(),
            group_counts: Default::default(),
            group_passing: Default::default(),
        }
    }

    /// A right filter's share of the count a pair needs (computed once per filter).
    pub(super) fn right_need(&self, popcount: u32) -> f64 {
        self.alpha * f64::from(popcount)
    }

    /// Calls `found(p, score)` for every right filter `p` (position in `words`) scoring at
    /// least the threshold against `a`; `needs[p]` is its [`right_need`](Self::right_need)
    /// and `pops(p)` its popcount.
    pub(super) fn score(
        &mut self,
        a: FilterRef<'_>,
        (words, needs): (&[u64], &[f64]),
        pops: impl Fn(usize) -> u32,
        mut found: impl FnMut(usize, f64),
    ) {
        let n = needs.len();
        self.counts.resize(n, 0);
        self.passing.clear();
        let left_need = self.alpha * f64::from(a.popcount()) + self.beta - 1e-6;
        self.kernel.and_counts_passing(
            a.words(),
            words,
            self.words,
            (left_need, needs),
            &mut self.counts,
            &mut self.passing,
        );
        for &p in &self.passing {
            let p = p as usize;
            let score = self.measure.score(self.counts[p], a.popcount(), pops(p), self.bits);
            if score >= self.threshold && self.budget.is_none_or(Budget::take) {
                found(p, score);
            }
        }
    }

    /// [`score`](Self::score) for [`GROUP`] left filters at once (`found(which, p,
    /// score)`) against a tile laid out by [`to_word_major`]: AVX-512 loads each tile
    /// word once for all.
    pub(super) fn score_group(
        &mut self,
        group: [FilterRef<'_>; GROUP],
        (tile, needs): (&[u64], &[f64]),
        pops: impl Fn(usize) -> u32,
        mut found: impl FnMut(usize, usize, f64),
    ) {
        let n = needs.len();
        for (c, p) in self.group_counts.iter_mut().zip(&mut self.group_passing) {
            c.resize(n, 0);
            p.clear();
        }
        let left_needs = group.map(|f| self.alpha * f64::from(f.popcount()) + self.beta - 1e-6);
        let queries = group.map(|f| f.words());
        let outs = self.group_counts.each_mut().map(Vec::as_mut_slice);
        self.kernel.and_counts_passing_word_major_n(
            queries,
            tile,
            (self.words, n),
            (left_needs, needs),
            outs,
            self.group_passing.each_mut(),
        );
        for (which, a) in group.iter().enumerate() {
            for &p in &self.group_passing[which] {
                let p = p as usize;
                let count = self.group_counts[which][p];
                let score = self.measure.score(count, a.popcount(), pops(p), self.bits);
                if score >= self.threshold && self.budget.is_none_or(Budget::take) {
                    found(which, p, score);
                }
            }
        }
    }
}

impl Scorer<'_> {
    /// Scores every `(i, filter)` of `lefts` against one tile of right filters, given
    /// back to back and (for kernels that prefer it) also word-major: left filters go
    /// [`GROUP`] at a time through the word-major kernel, the rest one by one.
    /// `visit(i, p, score)` gets each pair at or above the threshold.
    pub(super) fn score_many<'f>(
        &mut self,
        lefts: impl Iterator<Item = (usize, FilterRef<'f>)>,
        (back_to_back, word_major, needs): (&[u64], Option<&[u64]>, &[f64]),
        pops: impl Fn(usize) -> u32 + Copy,
        mut visit: impl FnMut(usize, usize, f64),
    ) {
        let mut pending: Vec<(usize, FilterRef<'f>)> = Vec::with_capacity(GROUP);
        for (i, f) in lefts {
            pending.push((i, f));
            if let (Some(tile), [a, b, c, d]) = (word_major, pending.as_slice()) {
                let ids = [a.0, b.0, c.0, d.0];
                self.score_group([a.1, b.1, c.1, d.1], (tile, needs), pops, |which, p, score| {
                    visit(ids[which], p, score)
                });
                pending.clear();
            } else if word_major.is_none() {
                self.score(f, (back_to_back, needs), pops, |p, score| visit(i, p, score));
                pending.clear();
            }
        }
        for (i, f) in pending {
            self.score(f, (back_to_back, needs), pops, |p, score| visit(i, p, score));
        }
    }
}

/// Calls `visit(i, j, score)` for every left record `i` in `rows` and right record `j`
/// scoring at least `threshold`, right tile by right tile.
fn scan(
    left: &FilterArena,
    right: &FilterArena,
    rows: std::ops::Range<usize>,
    (measure, threshold): (Measure, f64),
    kernel: Kernel,
    budget: Option<&Budget>,
    mut visit: impl FnMut(usize, usize, f64),
) {
    let words = left.words_per_filter();
    let tile = (TILE_BYTES / (8 * words)).max(1);
    let mut scorer = Scorer::new(left, (measure, threshold), kernel, budget);
    let mut needs = Vec::with_capacity(tile);
    let word_major = kernel.word_major();
    let mut transposed = Vec::new();
    for tile_start in (0..right.len()).step_by(tile) {
        let tile_end = (tile_start + tile).min(right.len());
        let tile_words = &right.words()[tile_start * words..tile_end * words];
        let tile_pops = &right.popcounts()[tile_start..tile_end];
        needs.clear();
        needs.extend(tile_pops.iter().map(|&b| scorer.right_need(b)));
        let layout = if word_major {
            to_word_major(tile_words, words, &mut transposed);
            Some(transposed.as_slice())
        } else {
            None
        };
        let lefts = rows.clone().filter_map(|i| Some((i, left.get(i)?)));
        scorer.score_many(
            lefts,
            (tile_words, layout, &needs),
            |p| tile_pops[p],
            |i, p, score| visit(i, tile_start + p, score),
        );
    }
}

/// Runs `block` on consecutive blocks of left records (in parallel with the `parallel`
/// feature) and concatenates the results in block order.
pub(super) fn by_blocks<T: Send>(
    left: &FilterArena,
    block: impl Fn(std::ops::Range<usize>) -> Vec<T> + Sync,
) -> Vec<T> {
    let starts: Vec<usize> = (0..left.len()).step_by(BLOCK).collect();
    let range = |s: &usize| *s..(*s + BLOCK).min(left.len());
    #[cfg(feature = "parallel")]
    let parts: Vec<Vec<T>> = {
        use rayon::prelude::*;
        starts.par_iter().map(|s| block(range(s))).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let parts: Vec<Vec<T>> = starts.iter().map(|s| block(range(s))).collect();
    parts.into_iter().flatten().collect()
}

pub(super) fn position(i: usize) -> u32 {
    // Inputs were checked to hold at most 2^32 records.
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Every pair scoring at least `threshold`, in order of left then right position.
///
/// # Errors
/// [`LinkError`] for filters of different lengths, a threshold outside 0..=1, or inputs
/// of more than 2^32 records.
pub fn candidates(
    left: &FilterArena,
    right: &FilterArena,
    measure: Measure,
    threshold: f64,
    kernel: Kernel,
) -> Result<Vec<Candidate>, LinkError> {
    check(left, right, threshold)?;
    let budget = Budget::default();
    let found = by_blocks(left, |rows| {
        let mut out = Vec::new();
        scan(left, right, rows, (measure, threshold), kernel, Some(&budget), |i, j, score| {
            out.push(Candidate { left: position(i), right: position(j), score });
        });
        // Tiles visit pairs in (tile, left, right) order; the contract is (left, right).
        out.sort_unstable_by_key(|c| (c.left, c.right));
        out
    });
    budget.check()?;
    Ok(found)
}

/// The best `k` right records for every left record (fewer where fewer score at least
/// `threshold`), best first; ties go to the lower right position.
///
/// # Errors
/// As [`candidates`].
pub fn top_k(
    left: &FilterArena,
    right: &FilterArena,
    measure: Measure,
    threshold: f64,
    k: usize,
    kernel: Kernel,
) -> Result<Vec<Candidate>, LinkError> {
    check(left, right, threshold)?;
    let budget = Budget::default();
    let found = by_blocks(left, |rows| {
        // Per left record of the block, its best k so far (k is small: a sorted insert
        // is cheapest).
        let first = rows.start;
        let mut best: Vec<Vec<Candidate>> = vec![Vec::new(); rows.len()];
        // Only the pairs kept count against the budget: a low threshold costs time here,
        // not memory.
        scan(left, right, rows, (measure, threshold), kernel, None, |i, j, score| {
            if k == 0 {
                return;
            }
            let list = &mut best[i - first];
            let c = Candidate { left: position(i), right: position(j), score };
            let at = list
                .partition_point(|x| x.score > score || (x.score == score && x.right < c.right));
            if at < k && (list.len() == k || budget.take()) {
                list.insert(at, c);
                list.truncate(k);
            }
        });
        best.into_iter().flatten().collect()
    });
    budget.check()?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_candidate_budget_stops_at_its_limit_and_reports_it() {
        let budget = Budget(std::sync::atomic::AtomicU64::new(MAX_CANDIDATES - 1));
        assert!(budget.check().is_ok());
        assert!(budget.take());
        assert!(budget.check().is_ok());
        assert!(!budget.take());
        assert_eq!(budget.check(), Err(LinkError::TooManyCandidates { limit: MAX_CANDIDATES }));
    }
}
