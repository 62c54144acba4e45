//! AVX-512 with VPOPCNTDQ: a native popcount of eight 64-bit lanes per instruction.

use std::arch::x86_64::{
    __m256i, __m512i, _CMP_GE_OQ, _mm256_storeu_si256, _mm512_add_epi64, _mm512_add_pd,
    _mm512_and_si512, _mm512_cmp_pd_mask, _mm512_cvtepi32_pd, _mm512_cvtepi64_epi32,
    _mm512_loadu_pd, _mm512_loadu_si512, _mm512_maskz_loadu_epi64, _mm512_popcnt_epi64,
    _mm512_reduce_add_epi64, _mm512_set1_epi64, _mm512_set1_pd, _mm512_setzero_si512,
    _mm512_shuffle_i64x2, _mm512_unpackhi_epi64, _mm512_unpacklo_epi64,
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

/// Sums each of eight vectors of eight lanes into lane `k` of one vector: a transposing
/// add tree, so eight pairs share one reduction instead of paying one each.
#[inline]
#[target_feature(enable = "avx512f")]
fn reduce8(p: [__m512i; 8]) -> __m512i {
    // Neighbouring lanes of two vectors, within each 128-bit lane: [a0+a1, b0+b1].
    let pairs = |a, b| _mm512_add_epi64(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
    // 128-bit lanes summed pairwise: [a.L0+a.L1, a.L2+a.L3, b.L0+b.L1, b.L2+b.L3].
    let lanes = |a, b| {
        _mm512_add_epi64(
            _mm512_shuffle_i64x2::<0b10_00_10_00>(a, b),
            _mm512_shuffle_i64x2::<0b11_01_11_01>(a, b),
        )
    };
    let low = lanes(pairs(p[0], p[1]), pairs(p[2], p[3]));
    let high = lanes(pairs(p[4], p[5]), pairs(p[6], p[7]));
    lanes(low, high)
}

/// `out[j] = |query AND candidates[j]|` for consecutive candidates of `words` words,
/// eight candidates at a time: the query is loaded once per eight, and their sums are
/// reduced together.
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
    // SAFETY: the caller guarantees the features (this function's own contract).
    unsafe { and_counts_passing(query, candidates, words, out, None) }
}

/// As [`and_counts`]; with `test = Some((left_need, right_need, passing))` it also
/// appends to `passing` every `j` with `out[j] >= left_need + right_need[j]`, comparing
/// eight candidates with one vector instruction. `right_need` must hold at least as many
/// values as there are candidates.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 VPOPCNTDQ.
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
pub(in crate::link) unsafe fn and_counts_passing(
    query: &[u64],
    candidates: &[u64],
    words: usize,
    out: &mut [u32],
    mut test: Option<(f64, &[f64], &mut Vec<u32>)>,
) {
    let words = words.max(1);
    let mut n = out.len().min(candidates.len() / words);
    if let Some((_, right_need, _)) = &test {
        n = n.min(right_need.len());
    }
    let mut j = 0;
    // The batch path reads `words` words of the query; a shorter query takes the
    // per-candidate path, which compares only the words both have.
    if query.len() >= words {
        while j + 8 <= n {
            let mut p = [_mm512_setzero_si512(); 8];
            let mut i = 0;
            while i < words {
                let take = (words - i).min(8);
                let mask = u8::MAX >> (8 - take);
                // SAFETY: lanes i..i + take lie inside the query (query.len() >= words)
                // and inside candidate j + k, whose words are
                // candidates[(j + k) * words..(j + k + 1) * words] with j + k < n <=
                // candidates.len() / words; masked-off lanes are not read. A full mask
                // reads all 8 lanes, which the same bounds cover.
                let load = |at: usize| unsafe {
                    if take == 8 {
                        _mm512_loadu_si512(candidates.as_ptr().add(at).cast::<__m512i>())
                    } else {
                        _mm512_maskz_loadu_epi64(mask, candidates.as_ptr().add(at).cast())
                    }
                };
                // SAFETY: as above, for the query.
                let q = unsafe { _mm512_maskz_loadu_epi64(mask, query.as_ptr().add(i).cast()) };
                for (k, acc) in p.iter_mut().enumerate() {
                    let c = load((j + k) * words + i);
                    *acc = _mm512_add_epi64(*acc, _mm512_popcnt_epi64(_mm512_and_si512(q, c)));
                }
                i += 8;
            }
            // Counts fit in 32 bits (at most 2^24 bits per filter): narrowing keeps them.
            let sums = _mm512_cvtepi64_epi32(reduce8(p));
            // SAFETY: j + 8 <= n <= out.len(): the store writes out[j..j + 8].
            unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(j).cast::<__m256i>(), sums) };
            if let Some((left_need, right_need, passing)) = &mut test {
                // SAFETY: j + 8 <= n <= right_need.len(): the load reads right_need[j..j + 8].
                let right = unsafe { _mm512_loadu_pd(right_need.as_ptr().add(j)) };
                let need = _mm512_add_pd(_mm512_set1_pd(*left_need), right);
                let mut hits = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(_mm512_cvtepi32_pd(sums), need);
                while hits != 0 {
                    // j + bit < n <= out.len() <= u32::MAX positions (checked by callers).
                    passing.push(u32::try_from(j).unwrap_or(u32::MAX) + hits.trailing_zeros());
                    hits &= hits - 1;
                }
            }
            j += 8;
        }
    }
    for (t, c) in candidates[j * words..].chunks_exact(words).enumerate().take(n - j) {
        // SAFETY: this function runs only where the features are available (its contract).
        let count = unsafe { and_count(query, c) };
        out[j + t] = count;
        if let Some((left_need, right_need, passing)) = &mut test
            && f64::from(count) >= *left_need + right_need[j + t]
        {
            passing.push(u32::try_from(j + t).unwrap_or(u32::MAX));
        }
    }
}

/// Stores eight counts at `out[j..j + 8]` and, with a test, appends every `j + k` whose
/// count reaches `left_need + right_need[j + k]` to `passing`.
///
/// # Safety
/// `j + 8 <= out.len()` and, with a test, `j + 8 <= right_need.len()`; the CPU must
/// support AVX-512F.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn finish8(
    sums: __m256i,
    j: usize,
    out: &mut [u32],
    test: Option<(f64, &[f64], &mut Vec<u32>)>,
) {
    // SAFETY: j + 8 <= out.len() (the caller's contract): the store writes out[j..j + 8].
    unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(j).cast::<__m256i>(), sums) };
    if let Some((left_need, right_need, passing)) = test {
        // SAFETY: j + 8 <= right_need.len() (the caller's contract).
        let right = unsafe { _mm512_loadu_pd(right_need.as_ptr().add(j)) };
        let need = _mm512_add_pd(_mm512_set1_pd(left_need), right);
        let mut hits = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(_mm512_cvtepi32_pd(sums), need);
        while hits != 0 {
            // j + bit < out.len() <= u32::MAX positions (checked by callers).
            passing.push(u32::try_from(j).unwrap_or(u32::MAX) + hits.trailing_zeros());
            hits &= hits - 1;
        }
    }
}

/// [`and_counts_passing`] over candidates stored word-major in groups of eight (word `w`
/// of candidates `8g..8g + 8` side by side at `tile[(g * words + w) * 8..]`, the last group
/// padded with zero words): lane `k` of one accumulator counts candidate `8g + k`, so no
/// horizontal reduction is needed. Counts `n` candidates (at most as many as `tile`,
/// `out` and `right_need` hold).
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 VPOPCNTDQ.
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
pub(in crate::link) unsafe fn and_counts_passing_word_major(
    query: &[u64],
    tile: &[u64],
    (words, n): (usize, usize),
    (left_need, right_need): (f64, &[f64]),
    out: &mut [u32],
    passing: &mut Vec<u32>,
) {
    let words = words.max(1);
    let n = n.min(tile.len() / (8 * words) * 8).min(out.len()).min(right_need.len());
    // A shorter query counts over the words it has, as `and_count` does.
    let used = words.min(query.len());
    for g in 0..n.div_ceil(8) {
        let base = g * words * 8;
        let mut acc = _mm512_setzero_si512();
        for (w, &q) in query[..used].iter().enumerate() {
            // Bit pattern kept: the cast reinterprets, it does not convert.
            #[allow(clippy::cast_possible_wrap)]
            let q = _mm512_set1_epi64(q as i64);
            // SAFETY: base + 8w + 8 <= (g + 1) * words * 8 <= tile.len(), since
            // g < n / 8 rounded up and n <= tile.len() / (8 * words) * 8.
            let c =
                unsafe { _mm512_loadu_si512(tile.as_ptr().add(base + w * 8).cast::<__m512i>()) };
            acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_and_si512(q, c)));
        }
        // Counts fit in 32 bits (at most 2^24 bits per filter): narrowing keeps them.
        let sums = _mm512_cvtepi64_epi32(acc);
        let j = g * 8;
        if j + 8 <= n {
            // SAFETY: j + 8 <= n <= out.len(), right_need.len().
            unsafe { finish8(sums, j, out, Some((left_need, right_need, &mut *passing))) };
        } else {
            let mut lanes = [0u32; 8];
            // SAFETY: the store writes the eight u32 of `lanes`.
            unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast::<__m256i>(), sums) };
            for (k, &count) in lanes.iter().enumerate().take(n - j) {
                out[j + k] = count;
                if f64::from(count) >= left_need + right_need[j + k] {
                    passing.push(u32::try_from(j + k).unwrap_or(u32::MAX));
                }
            }
        }
    }
}

/// [`and_counts_passing_word_major`] for `Q` queries: each tile word is loaded once for
/// all of them. `n` is the number of candidates, as there.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 VPOPCNTDQ.
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
pub(in crate::link) unsafe fn and_counts_passing_word_major_n<const Q: usize>(
    queries: [&[u64]; Q],
    tile: &[u64],
    (words, n): (usize, usize),
    (needs, right_need): ([f64; Q], &[f64]),
    outs: [&mut [u32]; Q],
    passing: [&mut Vec<u32>; Q],
) {
    let words = words.max(1);
    let mut n = n.min(tile.len() / (8 * words) * 8).min(right_need.len());
    for out in &outs {
        n = n.min(out.len());
    }
    if queries.iter().any(|q| q.len() < words) {
        for q in 0..Q {
            // SAFETY: the caller guarantees the features (this function's own contract).
            unsafe {
                and_counts_passing_word_major(
                    queries[q],
                    tile,
                    (words, n),
                    (needs[q], right_need),
                    outs[q],
                    passing[q],
                );
            }
        }
        return;
    }
    for g in 0..n.div_ceil(8) {
        let base = g * words * 8;
        let mut acc = [_mm512_setzero_si512(); Q];
        for w in 0..words {
            // SAFETY: base + 8w + 8 <= (g + 1) * words * 8 <= tile.len() (as in the
            // one-query version).
            let c =
                unsafe { _mm512_loadu_si512(tile.as_ptr().add(base + w * 8).cast::<__m512i>()) };
            for (acc, query) in acc.iter_mut().zip(&queries) {
                // Bit pattern kept: the cast reinterprets, it does not convert.
                #[allow(clippy::cast_possible_wrap)]
                let q = _mm512_set1_epi64(query[w] as i64);
                *acc = _mm512_add_epi64(*acc, _mm512_popcnt_epi64(_mm512_and_si512(q, c)));
            }
        }
        let j = g * 8;
        for q in 0..Q {
            let sums = _mm512_cvtepi64_epi32(acc[q]);
            let (out, pass) = (&mut *outs[q], &mut *passing[q]);
            if j + 8 <= n {
                // SAFETY: j + 8 <= n <= out.len(), right_need.len().
                unsafe { finish8(sums, j, out, Some((needs[q], right_need, pass))) };
            } else {
                let mut lanes = [0u32; 8];
                // SAFETY: the store writes the eight u32 of `lanes`.
                unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast::<__m256i>(), sums) };
                for (k, &count) in lanes.iter().enumerate().take(n - j) {
                    out[j + k] = count;
                    if f64::from(count) >= needs[q] + right_need[j + k] {
                        pass.push(u32::try_from(j + k).unwrap_or(u32::MAX));
                    }
                }
            }
        }
    }
}
