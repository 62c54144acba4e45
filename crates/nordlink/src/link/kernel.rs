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

    /// [`and_counts_passing`](Self::and_counts_passing) for two queries against the same
    /// candidates. AVX-512 loads each candidate once for both; the other kernels run the
    /// queries one after the other.
    pub fn and_counts_passing2(
        self,
        queries: [&[u64]; 2],
        candidates: &[u64],
        words: usize,
        (left_needs, right_need): ([f64; 2], &[f64]),
        outs: [&mut [u32]; 2],
        passing: [&mut Vec<u32>; 2],
    ) {
        #[cfg(target_arch = "x86_64")]
        if self.0 == Isa::Avx512 {
            // SAFETY: an Avx512 kernel is only made after detecting AVX-512F and VPOPCNTDQ.
            #[allow(unsafe_code)]
            unsafe {
                arch::x86_64::avx512::and_counts_passing2(
                    queries,
                    candidates,
                    words,
                    (left_needs, right_need),
                    outs,
                    passing,
                );
            }
            return;
        }
        let [out_a, out_b] = outs;
        let [pass_a, pass_b] = passing;
        self.and_counts_passing(
            queries[0],
            candidates,
            words,
            (left_needs[0], right_need),
            out_a,
            pass_a,
        );
        self.and_counts_passing(
            queries[1],
            candidates,
            words,
            (left_needs[1], right_need),
            out_b,
            pass_b,
        );
    }
}
