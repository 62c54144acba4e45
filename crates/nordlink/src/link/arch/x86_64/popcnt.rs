//! The scalar loop compiled with the POPCNT instruction: baseline x86-64 lacks it, and
//! without it `count_ones` is a dozen instructions per word.

/// `|a AND b|` over the words both slices have.
///
/// # Safety
/// The CPU must support POPCNT.
#[target_feature(enable = "popcnt")]
pub(in crate::link) unsafe fn and_count(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum()
}

/// `out[j] = |query AND candidates[j]|` for consecutive candidates of `words` words.
///
/// # Safety
/// The CPU must support POPCNT.
#[target_feature(enable = "popcnt")]
pub(in crate::link) unsafe fn and_counts(
    query: &[u64],
    candidates: &[u64],
    words: usize,
    out: &mut [u32],
) {
    for (o, c) in out.iter_mut().zip(candidates.chunks_exact(words.max(1))) {
        // SAFETY: this function runs only where POPCNT is available (its own contract).
        *o = unsafe { and_count(query, c) };
    }
}
