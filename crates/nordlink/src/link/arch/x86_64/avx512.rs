//! AVX-512 with VPOPCNTDQ: a native popcount of eight 64-bit lanes per instruction.

use std::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_loadu_si512, _mm512_maskz_loadu_epi64,
    _mm512_popcnt_epi64, _mm512_reduce_add_epi64, _mm512_setzero_si512,
};

/// `|a AND b|` over `n = min(a.len(), b.len())` words.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 VPOPCNTDQ.
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
pub(in crate::link) unsafe fn and_count(a: &[u64], b: &[u64]) -> u32 {
    let n = a.len().min(b.len());
    let mut acc = _mm512_setzero_si512();
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n <= a.len(), b.len(): both loads read 8 words inside the
        // slices; loadu has no alignment requirement.
        let (va, vb) = unsafe {
            (
                _mm512_loadu_si512(a.as_ptr().add(i).cast::<__m512i>()),
                _mm512_loadu_si512(b.as_ptr().add(i).cast::<__m512i>()),
            )
        };
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_and_si512(va, vb)));
        i += 8;
    }
    if i < n {
        // The last n - i < 8 words, through a load mask: masked-off lanes read nothing.
        let mask = (1u8 << (n - i)) - 1;
        // SAFETY: the mask selects lanes i..n only, all inside both slices, and masked
        // loads do not touch memory of unselected lanes.
        let (va, vb) = unsafe {
            (
                _mm512_maskz_loadu_epi64(mask, a.as_ptr().add(i).cast::<i64>()),
                _mm512_maskz_loadu_epi64(mask, b.as_ptr().add(i).cast::<i64>()),
            )
        };
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_and_si512(va, vb)));
    }
    // At most 64 bits per word: a filter of 2^24 bits counts to 2^24, far below u32::MAX.
    u32::try_from(_mm512_reduce_add_epi64(acc)).unwrap_or(u32::MAX)
}

/// `out[j] = |query AND candidates[j]|` for consecutive candidates of `words` words.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 VPOPCNTDQ.
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
pub(in crate::link) unsafe fn and_counts(
    query: &[u64],
    candidates: &[u64],
    words: usize,
    out: &mut [u32],
) {
    for (o, c) in out.iter_mut().zip(candidates.chunks_exact(words.max(1))) {
        // SAFETY: this function runs only where the features are available (its contract).
        *o = unsafe { and_count(query, c) };
    }
}
