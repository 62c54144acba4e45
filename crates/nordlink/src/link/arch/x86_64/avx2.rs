//! AVX2: AVX2 has no vector popcount, so bytes are counted with a 16-entry table lookup
//! on each nibble (`vpshufb`) and summed with `vpsadbw` (Muła, Kurz and Lemire's method).

use std::arch::x86_64::{
    __m256i, _mm256_add_epi8, _mm256_add_epi64, _mm256_and_si256, _mm256_extract_epi64,
    _mm256_loadu_si256, _mm256_sad_epu8, _mm256_set1_epi8, _mm256_setr_epi8, _mm256_setzero_si256,
    _mm256_shuffle_epi8, _mm256_srli_epi16,
};

/// `|a AND b|` over `n = min(a.len(), b.len())` words.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(in crate::link) unsafe fn and_count(a: &[u64], b: &[u64]) -> u32 {
    let n = a.len().min(b.len());
    let lut = _mm256_setr_epi8(
        0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3,
        3, 4,
    );
    let low = _mm256_set1_epi8(0x0f);
    let mut acc = _mm256_setzero_si256();
    let mut i = 0;
    while i + 4 <= n {
        // SAFETY: i + 4 <= n <= a.len(), b.len(): both loads read 4 words inside the
        // slices; loadu has no alignment requirement.
        let (va, vb) = unsafe {
            (
                _mm256_loadu_si256(a.as_ptr().add(i).cast::<__m256i>()),
                _mm256_loadu_si256(b.as_ptr().add(i).cast::<__m256i>()),
            )
        };
        let v = _mm256_and_si256(va, vb);
        let lo = _mm256_and_si256(v, low);
        let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(v), low);
        let bytes = _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(bytes, _mm256_setzero_si256()));
        i += 4;
    }
    let lanes = _mm256_extract_epi64::<0>(acc)
        + _mm256_extract_epi64::<1>(acc)
        + _mm256_extract_epi64::<2>(acc)
        + _mm256_extract_epi64::<3>(acc);
    let tail: u32 = a[i..n].iter().zip(&b[i..n]).map(|(x, y)| (x & y).count_ones()).sum();
    // At most 64 bits per word: a filter of 2^24 bits counts to 2^24, far below u32::MAX.
    u32::try_from(lanes).unwrap_or(u32::MAX) + tail
}

/// `out[j] = |query AND candidates[j]|` for consecutive candidates of `words` words.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(in crate::link) unsafe fn and_counts(
    query: &[u64],
    candidates: &[u64],
    words: usize,
    out: &mut [u32],
) {
    for (o, c) in out.iter_mut().zip(candidates.chunks_exact(words.max(1))) {
        // SAFETY: this function runs only where AVX2 is available (its own contract).
        *o = unsafe { and_count(query, c) };
    }
}
