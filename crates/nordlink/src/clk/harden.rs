//! Hardening steps on a filter's bits, held as 64-bit words in the order the `bitorder`
//! module defines.

use zeroize::Zeroizing;

use super::bitorder::{word_get as get, word_mask, word_set as set};
use super::schema::Hardening;
use crate::prf::blake3_stream;

/// Keys and precomputed state for the keyed steps.
pub(crate) struct Hardener {
    steps: Vec<Hardening>,
    /// One permutation per `Permute` step, for the length at that step.
    permutations: Vec<Vec<u32>>,
    rr_key: Zeroizing<[u8; 32]>,
}

/// One XOR fold: bit `i` of the result is bit `i` XOR bit `i + half` of `words`.
fn fold(words: &[u64], half: usize) -> Vec<u64> {
    let mut out = vec![0u64; half.div_ceil(64)];
    if half.is_multiple_of(64) {
        // Both halves start on a word boundary, where bit i and bit i + half sit at the
        // same place in their words: a word-wise XOR (every filter of 128 k bits).
        for (o, (a, b)) in out.iter_mut().zip(words.iter().zip(&words[half / 64..])) {
            *o = a ^ b;
        }
    } else {
        for i in 0..half {
            if get(words, i) ^ get(words, i + half) {
                set(&mut out, i);
            }
        }
    }
    out
}

/// A uniform integer in `0..n` from a keyed stream, by rejection (no modulo bias).
fn uniform(stream: &mut blake3::OutputReader, n: u32) -> u32 {
    let zone = u32::MAX - (u32::MAX % n);
    loop {
        let mut b = [0u8; 4];
        stream.fill(&mut b);
        let v = u32::from_le_bytes(b);
        if v < zone {
            return v % n;
        }
    }
}

impl Hardener {
    pub(crate) fn new(
        steps: &[Hardening],
        bits: usize,
        permute_key: &[u8; 32],
        rr_key: Zeroizing<[u8; 32]>,
    ) -> Self {
        let mut len = bits;
        let mut permutations = Vec::new();
        for (n, step) in steps.iter().enumerate() {
            match *step {
                Hardening::Balance => len *= 2,
                Hardening::XorFold(f) => len >>= f,
                Hardening::Permute => {
                    // Fisher-Yates driven by a keyed stream; the step index keeps two
                    // permute steps independent.
                    let parts: [&[u8]; 2] =
                        [&(n as u64).to_le_bytes(), &(len as u64).to_le_bytes()];
                    let mut stream = blake3_stream(permute_key, &parts);
                    // Schemas bound every length to MAX_FILTER_BITS (2^24).
                    let n = u32::try_from(len).unwrap_or(u32::MAX);
                    let mut p: Vec<u32> = (0..n).collect();
                    for i in (1..n).rev() {
                        let j = uniform(&mut stream, i + 1);
                        p.swap(i as usize, j as usize);
                    }
                    permutations.push(p);
                }
                _ => {}
            }
        }
        Self { steps: steps.to_vec(), permutations, rr_key }
    }

    /// Applies every step to `words` (`bits` long), returning the new words.
    pub(crate) fn apply(
        &self,
        mut words: Vec<u64>,
        bits: usize,
    ) -> Result<Vec<u64>, RandomnessUnavailable> {
        let mut len = bits;
        let mut perms = self.permutations.iter();
        for step in &self.steps {
            match *step {
                Hardening::Balance => {
                    let complement: Vec<u64> = words.iter().map(|w| !w).collect();
                    words.extend(complement);
                    len *= 2;
                }
                Hardening::XorFold(n) => {
                    for _ in 0..n {
                        len /= 2;
                        words = fold(&words, len);
                    }
                }
                Hardening::Rule90 => {
                    let mut out = vec![0u64; words.len()];
                    for i in 0..len {
                        if get(&words, (i + len - 1) % len) ^ get(&words, (i + 1) % len) {
                            set(&mut out, i);
                        }
                    }
                    words = out;
                }
                Hardening::Permute => {
                    let p = perms.next().expect("one permutation per permute step");
                    let mut out = vec![0u64; words.len()];
                    for (i, &to) in p.iter().enumerate() {
                        if get(&words, i) {
                            set(&mut out, to as usize);
                        }
                    }
                    words = out;
                }
                Hardening::KeyedFlip(f) => {
                    // Seeded by the key and the filter itself: deterministic per record.
                    let seed: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
                    flip(&mut words, len, f, &mut blake3_stream(&self.rr_key, &[&seed]));
                }
                Hardening::Blip(f) => {
                    // A fresh 256-bit seed per filter, expanded by BLAKE3: one system call
                    // per record rather than one per bit.
                    let mut seed = Zeroizing::new([0u8; 32]);
                    getrandom::fill(seed.as_mut_slice()).map_err(|_| RandomnessUnavailable)?;
                    flip(&mut words, len, f, &mut blake3_stream(&seed, &[b"blip"]));
                }
            }
        }
        Ok(words)
    }
}

/// The operating system's random source failed (BLIP needs it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RandomnessUnavailable;

/// Replaces each of the first `len` bits, with probability `f`, by a bit from `stream`.
fn flip(words: &mut [u64], len: usize, f: f64, stream: &mut blake3::OutputReader) {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "f is in 0..=0.5")]
    let threshold = (f * 65_536.0) as u32;
    for i in 0..len {
        let mut b = [0u8; 3];
        stream.fill(&mut b);
        if u32::from(u16::from_le_bytes([b[0], b[1]])) < threshold {
            let word = &mut words[i / 64];
            let mask = word_mask(i);
            if b[2] & 1 == 1 { *word |= mask } else { *word &= !mask }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hardener(steps: &[Hardening], bits: usize) -> Hardener {
        Hardener::new(steps, bits, &[7; 32], Zeroizing::new([9; 32]))
    }

    fn ones(words: &[u64]) -> u32 {
        words.iter().map(|w| w.count_ones()).sum()
    }

    #[test]
    fn balance_sets_exactly_half() {
        let out = hardener(&[Hardening::Balance], 128).apply(vec![0xF0, 0], 128).unwrap();
        assert_eq!(out.len(), 4);
        assert_eq!(ones(&out), 128);
    }

    #[test]
    fn permutation_keeps_popcount_and_is_keyed() {
        let words = vec![0xDEAD_BEEF_0000_1111, 0x0123_4567_89AB_CDEF];
        let a = hardener(&[Hardening::Permute], 128).apply(words.clone(), 128).unwrap();
        assert_eq!(ones(&a), ones(&words));
        assert_ne!(a, words);
        let other = Hardener::new(&[Hardening::Permute], 128, &[8; 32], Zeroizing::new([9; 32]));
        assert_ne!(other.apply(words.clone(), 128).unwrap(), a);
        assert_eq!(hardener(&[Hardening::Permute], 128).apply(words, 128).unwrap(), a);
    }

    #[test]
    fn word_wise_fold_is_the_bitwise_fold() {
        let mut stream = blake3_stream(&[9; 32], &[b"fold"]);
        for half in [64usize, 128, 512, 4096, 96, 200, 8] {
            let mut bytes = vec![0u8; 2 * half.div_ceil(64) * 8];
            stream.fill(&mut bytes);
            let words: Vec<u64> =
                bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
            let mut expected = vec![0u64; half.div_ceil(64)];
            for i in 0..half {
                if get(&words, i) ^ get(&words, i + half) {
                    set(&mut expected, i);
                }
            }
            assert_eq!(fold(&words, half), expected, "{half}");
        }
    }

    #[test]
    fn rule90_and_fold() {
        // Bit 1 set: rule 90 sets bits 0 and 2.
        let out = hardener(&[Hardening::Rule90], 64).apply(vec![1 << 62], 64).unwrap();
        assert_eq!(out, vec![(1 << 63) | (1 << 61)]);
        let out = hardener(&[Hardening::XorFold(1)], 128)
            .apply(vec![1 << 63, (1 << 63) | 1], 128)
            .unwrap();
        assert_eq!(out, vec![1]);
    }

    #[test]
    fn keyed_flip_is_deterministic_and_bounded() {
        let h = hardener(&[Hardening::KeyedFlip(0.1)], 1024);
        let words = vec![0x5555_5555_5555_5555; 16];
        let a = h.apply(words.clone(), 1024).unwrap();
        assert_eq!(a, h.apply(words.clone(), 1024).unwrap());
        let changed: u32 = a.iter().zip(&words).map(|(x, y)| (x ^ y).count_ones()).sum();
        // About f/2 of the bits flip (5 % of 1024 = 51); far from 0 and from 1024.
        assert!((10..150).contains(&changed), "{changed}");
    }

    #[test]
    fn blip_differs_at_every_encoding_and_flips_about_half_its_rate() {
        let h = hardener(&[Hardening::Blip(0.2)], 4096);
        let words = vec![0x0F0F_0F0F_0F0F_0F0F; 64];
        let runs: Vec<Vec<u64>> = (0..8).map(|_| h.apply(words.clone(), 4096).unwrap()).collect();
        for (i, a) in runs.iter().enumerate() {
            // 10 % of 4096 = 410 bits expected to change; the odds of landing outside are
            // below 1e-9 (binomial, sd ≈ 19).
            let changed: u32 = a.iter().zip(&words).map(|(x, y)| (x ^ y).count_ones()).sum();
            assert!((300..520).contains(&changed), "{changed}");
            assert!(runs[..i].iter().all(|b| b != a), "two encodings alike");
        }
    }
}
