//! Candidate pairs: every pair at or above a threshold, or the best `k` per record.
//!
//! The right-hand filters are taken a tile at a time (a few hundred kilobytes, so a tile
//! stays in the core's L2 cache) and every left filter of a block is compared with the
//! whole tile before the next tile is loaded: each right filter is read from memory once
//! per block instead of once per left filter. Pairs whose popcounts alone rule them out
//! (`Measure::upper_bound` below the threshold) are not scored.

use super::{Kernel, Measure};
use crate::clk::FilterArena;

/// Bytes of right-hand filters per tile: half a typical 1-2 MiB L2.
const TILE_BYTES: usize = 256 * 1024;

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
}

fn check(left: &FilterArena, right: &FilterArena) -> Result<(), LinkError> {
    if left.bits() != right.bits() {
        return Err(LinkError::LengthMismatch { left: left.bits(), right: right.bits() });
    }
    if u32::try_from(left.len()).is_err() || u32::try_from(right.len()).is_err() {
        return Err(LinkError::TooManyRecords);
    }
    Ok(())
}

/// Calls `visit(i, j, common)` for every pair the popcount bound cannot rule out under
/// `measure` at `threshold`, tile by tile.
fn scan(
    left: &FilterArena,
    right: &FilterArena,
    measure: Measure,
    threshold: f64,
    kernel: Kernel,
    mut visit: impl FnMut(usize, usize, u32),
) {
    let words = left.words_per_filter();
    let bits = left.bits();
    let tile = (TILE_BYTES / (8 * words)).max(1);
    let mut counts = vec![0u32; tile];
    for block_start in (0..left.len()).step_by(BLOCK) {
        let block_end = (block_start + BLOCK).min(left.len());
        for tile_start in (0..right.len()).step_by(tile) {
            let tile_end = (tile_start + tile).min(right.len());
            let tile_words = &right.words()[tile_start * words..tile_end * words];
            let tile_pops = &right.popcounts()[tile_start..tile_end];
            let n = tile_end - tile_start;
            for i in block_start..block_end {
                let query = &left.words()[i * words..(i + 1) * words];
                let a = left.popcounts()[i];
                kernel.and_counts(query, tile_words, words, &mut counts[..n]);
                for (j, (&common, &b)) in counts[..n].iter().zip(tile_pops).enumerate() {
                    if measure.upper_bound(a, b, bits) >= threshold {
                        visit(i, tile_start + j, common);
                    }
                }
            }
        }
    }
}

fn position(i: usize) -> u32 {
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
    check(left, right)?;
    if !(0.0..=1.0).contains(&threshold) {
        return Err(LinkError::BadThreshold(threshold));
    }
    let bits = left.bits();
    let (lp, rp) = (left.popcounts(), right.popcounts());
    let mut out = Vec::new();
    scan(left, right, measure, threshold, kernel, |i, j, common| {
        let score = measure.score(common, lp[i], rp[j], bits);
        if score >= threshold {
            out.push(Candidate { left: position(i), right: position(j), score });
        }
    });
    // Tiles visit pairs in (tile, left, right) order; the contract is (left, right).
    out.sort_unstable_by_key(|c| (c.left, c.right));
    Ok(out)
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
    check(left, right)?;
    if !(0.0..=1.0).contains(&threshold) {
        return Err(LinkError::BadThreshold(threshold));
    }
    let bits = left.bits();
    let (lp, rp) = (left.popcounts(), right.popcounts());
    // Per left record, its best k so far (k is small: a sorted insert is cheapest).
    let mut best: Vec<Vec<Candidate>> = vec![Vec::new(); left.len()];
    scan(left, right, measure, threshold, kernel, |i, j, common| {
        let score = measure.score(common, lp[i], rp[j], bits);
        if score < threshold || k == 0 {
            return;
        }
        let list = &mut best[i];
        let c = Candidate { left: position(i), right: position(j), score };
        let at = list.partition_point(|x| x.score > score || (x.score == score && x.right < c.right));
        if at < k {
            list.insert(at, c);
            list.truncate(k);
        }
    });
    Ok(best.into_iter().flatten().collect())
}
