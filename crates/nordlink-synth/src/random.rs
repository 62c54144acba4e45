//! Random numbers for the generator: reproducible for a seed on every platform; no
//! secrecy needed (the data is synthetic).

/// A source of uniform 64-bit values, with the draws the generator needs on top.
pub trait Random {
    /// The next uniform 64-bit value.
    fn next_u64(&mut self) -> u64;

    /// Uniform in `0..n` (`n > 0`; the tiny modulo bias is irrelevant for test data).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `0..n` as an index (`n > 0`).
    fn index(&mut self, n: usize) -> usize {
        // Below n, which is a usize: the conversion cannot fail.
        usize::try_from(self.below(n as u64)).unwrap_or(0)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.index(i + 1));
        }
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `true` with probability `p` (never for `p <= 0`).
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }
}

/// xorshift64* seeded through splitmix64, so neighbouring seeds give unrelated streams.
#[derive(Clone, Debug)]
pub struct SeededRng(u64);

impl SeededRng {
    /// The stream for `seed`.
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        // xorshift must not start at zero.
        Self((z ^ (z >> 31)) | 1)
    }
}

impl Random for SeededRng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}
