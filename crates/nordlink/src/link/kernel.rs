//! The kernel value: which instruction set computes AND-popcounts, chosen once.

use std::sync::OnceLock;

use super::arch;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Isa {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Popcnt,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// The AND-popcount kernel for this CPU: a value that exists only for an instruction set
/// the CPU has (BLAKE3's `Platform` is the model), so calling it is always safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Kernel(Isa);

impl Kernel {
    /// The fastest kernel this CPU supports, detected once per process.
    pub fn detect() -> Self {
        static BEST: OnceLock<Kernel> = OnceLock::new();
        *BEST.get_or_init(|| Self::available().into_iter().last().unwrap_or(Self::scalar()))
    }

    /// The portable kernel (also the reference the others are tested against).
    pub const fn scalar() -> Self {
        Self(Isa::Scalar)
    }

    /// Every kernel this CPU can run, slowest first (for tests and benchmarks). AVX2
    /// counts with table lookups and measured a little slower than POPCNT on 1024-bit
    /// filters (docs/performance.md), so it ranks below it.
    pub fn available() -> Vec<Self> {
        let mut out = vec![Self::scalar()];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                out.push(Self(Isa::Avx2));
            }
            if std::arch::is_x86_feature_detected!("popcnt") {
                out.push(Self(Isa::Popcnt));
            }
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
            {
                out.push(Self(Isa::Avx512));
            }
        }
        out
    }

    /// The kernel's name: `scalar`, `popcnt`, `avx2` or `avx512`.
    pub const fn name(self) -> &'static str {
        match self.0 {
            Isa::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            Isa::Popcnt => "popcnt",
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => "avx512",
        }
    }

    /// `|a AND b|` over the words both slices have.
    pub fn and_count(self, a: &[u64], b: &[u64]) -> u32 {
        match self.0 {
            Isa::Scalar => arch::scalar::and_count(a, b),
            // SAFETY: a Popcnt kernel is only made by `available` after detecting POPCNT.
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            Isa::Popcnt => unsafe { arch::x86_64::popcnt::and_count(a, b) },
            // SAFETY: an Avx2 kernel is only made by `available` after detecting AVX2.
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            Isa::Avx2 => unsafe { arch::x86_64::avx2::and_count(a, b) },
            // SAFETY: an Avx512 kernel is only made after detecting AVX-512F and VPOPCNTDQ.
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            Isa::Avx512 => unsafe { arch::x86_64::avx512::and_count(a, b) },
        }
    }

    /// `out[j] = |query AND candidate j|` for the candidates stored back to back in
    /// `candidates`, `words` words each, as many as `out` and `candidates` both hold.
    pub fn and_counts(self, query: &[u64], candidates: &[u64], words: usize, out: &mut [u32]) {
        match self.0 {
            Isa::Scalar => arch::scalar::and_counts(query, candidates, words, out),
            // SAFETY: as in `and_count`: the variant proves the CPU has POPCNT.
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            Isa::Popcnt => unsafe {
                arch::x86_64::popcnt::and_counts(query, candidates, words, out)
            },
            // SAFETY: as in `and_count`: the variant proves the CPU has AVX2.
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            Isa::Avx2 => unsafe { arch::x86_64::avx2::and_counts(query, candidates, words, out) },
            // SAFETY: as in `and_count`: the variant proves AVX-512F and VPOPCNTDQ.
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            Isa::Avx512 => unsafe {
                arch::x86_64::avx512::and_counts(query, candidates, words, out)
            },
        }
    }

    /// As [`and_counts`](Self::and_counts), and appends to `passing` the position `j` of
    /// every candidate whose count reaches `left_need + right_need[j]` (the threshold in
    /// count form), in order. AVX-512 tests eight candidates per instruction; the other
    /// kernels test after counting.
    pub fn and_counts_passing(
        self,
        query: &[u64],
        candidates: &[u64],
        words: usize,
        (left_need, right_need): (f64, &[f64]),
        out: &mut [u32],
        passing: &mut Vec<u32>,
    ) {
        #[cfg(target_arch = "x86_64")]
        if self.0 == Isa::Avx512 {
            let test = Some((left_need, right_need, passing));
            // SAFETY: an Avx512 kernel is only made after detecting AVX-512F and VPOPCNTDQ.
            #[allow(unsafe_code)]
            unsafe {
                arch::x86_64::avx512::and_counts_passing(query, candidates, words, out, test);
            }
            return;
        }
        let n = out.len().min(candidates.len() / words.max(1)).min(right_need.len());
        self.and_counts(query, candidates, words, &mut out[..n]);
        for (j, (&count, &r)) in out[..n].iter().zip(right_need).enumerate() {
            if f64::from(count) >= left_need + r {
                // Callers keep positions within u32 (inputs of at most 2^32 records).
                passing.push(u32::try_from(j).unwrap_or(u32::MAX));
            }
        }
    }

    /// Whether [`and_counts_passing_word_major`](Self::and_counts_passing_word_major) is
    /// this kernel's fastest way over a tile (AVX-512: no horizontal sums).
    pub(super) fn word_major(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        if self.0 == Isa::Avx512 {
            return true;
        }
        false
    }

    /// As [`and_counts_passing`](Self::and_counts_passing), over `n` candidates laid out
    /// by [`to_word_major`].
    pub(super) fn and_counts_passing_word_major(
        self,
        query: &[u64],
        tile: &[u64],
        (words, n): (usize, usize),
        (left_need, right_need): (f64, &[f64]),
        out: &mut [u32],
        passing: &mut Vec<u32>,
    ) {
        #[cfg(target_arch = "x86_64")]
        if self.0 == Isa::Avx512 {
            // SAFETY: an Avx512 kernel is only made after detecting AVX-512F and VPOPCNTDQ.
            #[allow(unsafe_code)]
            unsafe {
                arch::x86_64::avx512::and_counts_passing_word_major(
                    query,
                    tile,
                    (words, n),
                    (left_need, right_need),
                    out,
                    passing,
                );
            }
            return;
        }
        // Portable: gather each candidate back and count it.
        let words = words.max(1);
        let n = n.min(tile.len() / (8 * words) * 8).min(out.len()).min(right_need.len());
        let mut candidate = vec![0u64; words];
        for j in 0..n {
            let (g, k) = (j / 8, j % 8);
            for (w, word) in candidate.iter_mut().enumerate() {
                *word = tile[(g * words + w) * 8 + k];
            }
            let count = self.and_count(query, &candidate);
            out[j] = count;
            if f64::from(count) >= left_need + right_need[j] {
                passing.push(u32::try_from(j).unwrap_or(u32::MAX));
            }
        }
    }

    /// [`and_counts_passing_word_major`](Self::and_counts_passing_word_major) for `Q`
    /// queries against the same tile (AVX-512 loads each tile word once for all).
    pub(super) fn and_counts_passing_word_major_n<const Q: usize>(
        self,
        queries: [&[u64]; Q],
        tile: &[u64],
        (words, n): (usize, usize),
        (left_needs, right_need): ([f64; Q], &[f64]),
        outs: [&mut [u32]; Q],
        passing: [&mut Vec<u32>; Q],
    ) {
        #[cfg(target_arch = "x86_64")]
        if self.0 == Isa::Avx512 {
            // SAFETY: an Avx512 kernel is only made after detecting AVX-512F and VPOPCNTDQ.
            #[allow(unsafe_code)]
            unsafe {
                arch::x86_64::avx512::and_counts_passing_word_major_n(
                    queries,
                    tile,
                    (words, n),
                    (left_needs, right_need),
                    outs,
                    passing,
                );
            }
            return;
        }
        for (((q, out), need), pass) in queries.into_iter().zip(outs).zip(left_needs).zip(passing) {
            self.and_counts_passing_word_major(q, tile, (words, n), (need, right_need), out, pass);
        }
    }
}

/// Lays out filters stored back to back (`words` words each) word-major in groups of
/// eight, the last group padded with zero words, into `out` (replacing its contents).
pub(super) fn to_word_major(filters: &[u64], words: usize, out: &mut Vec<u64>) {
    let words = words.max(1);
    let n = filters.len() / words;
    out.clear();
    out.resize(n.div_ceil(8) * 8 * words, 0);
    for (j, filter) in filters.chunks_exact(words).enumerate() {
        let (g, k) = (j / 8, j % 8);
        for (w, &word) in filter.iter().enumerate() {
            out[(g * words + w) * 8 + k] = word;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_word_major_layout_counts_like_the_scalar_kernel(
            words in 1usize..=20,
            n in 0usize..=21,
            seed in prop::collection::vec(any::<u64>(), 22 * 20),
        ) {
            let query = &seed[..words];
            let cands = &seed[words..words * (n + 1)];
            let want: Vec<u32> =
                cands.chunks_exact(words).map(|c| Kernel::scalar().and_count(query, c)).collect();
            let right_need: Vec<f64> =
                want.iter().enumerate().map(|(j, &w)| f64::from(w) - 1.5 + (j % 3) as f64).collect();
            let passing_want: Vec<u32> = (0..n as u32)
                .filter(|&j| f64::from(want[j as usize]) >= 0.5 + right_need[j as usize])
                .collect();
            let mut tile = Vec::new();
            to_word_major(cands, words, &mut tile);
            prop_assert_eq!(tile.len() % (8 * words), 0);
            for k in Kernel::available() {
                let mut out = vec![u32::MAX; n];
                let mut passing = Vec::new();
                k.and_counts_passing_word_major(
                    query, &tile, (words, n), (0.5, &right_need), &mut out, &mut passing,
                );
                prop_assert_eq!(&out, &want, "{}", k.name());
                prop_assert_eq!(&passing, &passing_want, "{}", k.name());
                // Two queries: the first and its reverse, with another need.
                let other: Vec<u64> = query.iter().rev().copied().collect();
                let want2: Vec<u32> =
                    cands.chunks_exact(words).map(|c| Kernel::scalar().and_count(&other, c)).collect();
                let passing2_want: Vec<u32> = (0..n as u32)
                    .filter(|&j| f64::from(want2[j as usize]) >= 1.0 + right_need[j as usize])
                    .collect();
                let (mut out_a, mut out_b) = (vec![u32::MAX; n], vec![u32::MAX; n]);
                let (mut pass_a, mut pass_b) = (Vec::new(), Vec::new());
                k.and_counts_passing_word_major_n(
                    [query, &other],
                    &tile,
                    (words, n),
                    ([0.5, 1.0], &right_need),
                    [&mut out_a, &mut out_b],
                    [&mut pass_a, &mut pass_b],
                );
                prop_assert_eq!(&out_a, &want, "{}", k.name());
                prop_assert_eq!(&out_b, &want2, "{}", k.name());
                prop_assert_eq!(&pass_a, &passing_want, "{}", k.name());
                prop_assert_eq!(&pass_b, &passing2_want, "{}", k.name());
            }
        }
    }
}
