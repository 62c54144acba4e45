//! Portable kernels: `u64::count_ones` (POPCNT where the target has it). Also the oracle
//! the SIMD kernels are tested against.

/// `|a AND b|` over the words both slices have.
#[inline]
pub(in crate::link) fn and_count(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum()
}

/// `out[j] = |query AND candidates[j]|` for consecutive candidates of `words` words.
pub(in crate::link) fn and_counts(
    query: &[u64],
    candidates: &[u64],
    words: usize,
    out: &mut [u32],
) {
    for (o, c) in out.iter_mut().zip(candidates.chunks_exact(words.max(1))) {
        *o = and_count(query, c);
    }
}
