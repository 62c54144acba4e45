//! The Bloom filter bit vector, in clkhash's bit order.

use std::fmt;

use base64::Engine as _;

use super::bitorder::{byte_get, byte_set, words_to_bytes};

/// A Bloom filter of `len` bits.
///
/// Bit order follows clkhash (Python `bitarray`, big-endian): bit 0 is the most significant
/// bit of byte 0 (see the `bitorder` module). For many filters of one length, as the
/// linker holds them, use a [`FilterArena`](super::FilterArena). A filter is an encoding meant to be shared, so `Debug` shows it; the
/// inputs and keys that made it never are.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BloomFilter {
    bytes: Vec<u8>,
    len: usize,
}

impl BloomFilter {
    /// An all-zero filter of `len` bits (`len` a positive multiple of 8).
    ///
    /// # Panics
    /// If `len` is zero or not a multiple of 8; schemas are validated before this runs.
    pub fn zeros(len: usize) -> Self {
        assert!(len > 0 && len.is_multiple_of(8), "filter length must be a positive multiple of 8");
        Self { bytes: vec![0; len / 8], len }
    }

    /// A filter from 64-bit words holding bits in the same order (bit `i` is bit
    /// `63 - i % 64` of word `i / 64`), keeping the first `len` bits.
    ///
    /// # Panics
    /// If `len` is not a positive multiple of 8 or the words hold fewer than `len` bits.
    pub fn from_words(words: &[u64], len: usize) -> Self {
        assert!(len > 0 && len.is_multiple_of(8) && words.len() * 64 >= len, "filter length");
        let mut bytes = vec![0u8; len / 8];
        words_to_bytes(words, &mut bytes);
        Self { bytes, len }
    }

    /// Length in bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the filter has no bits (never true for a constructed filter).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sets bit `i` (taken modulo the length by the caller).
    #[inline]
    pub fn set(&mut self, i: usize) {
        byte_set(&mut self.bytes, i);
    }

    /// Whether bit `i` is set.
    pub fn get(&self, i: usize) -> bool {
        byte_get(&self.bytes, i)
    }

    /// ORs `other` (same length) into `self`.
    pub fn union_with(&mut self, other: &Self) {
        debug_assert_eq!(self.len, other.len);
        for (a, b) in self.bytes.iter_mut().zip(&other.bytes) {
            *a |= b;
        }
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> u32 {
        self.bytes.iter().map(|b| b.count_ones()).sum()
    }

    /// XOR-folds `folds` times: each fold XORs the first half with the second half and
    /// halves the length.
    ///
    /// # Panics
    /// If the length is not divisible by `8 * 2^folds` (schemas are checked first).
    pub fn fold_xor(self, folds: u32) -> Self {
        let mut f = self;
        for _ in 0..folds {
            assert!(f.len.is_multiple_of(16), "filter too short to fold");
            let half = f.bytes.len() / 2;
            let (a, b) = f.bytes.split_at(half);
            let bytes: Vec<u8> = a.iter().zip(b).map(|(x, y)| x ^ y).collect();
            f = Self { len: f.len / 2, bytes };
        }
        f
    }

    /// The filter bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Standard base64 (with padding) of the bytes: clkhash's and anonlink's text form.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.bytes)
    }
}

impl fmt::Debug for BloomFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BloomFilter({} bits, {} set)", self.len, self.count_ones())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_order_is_msb_first() {
        let mut f = BloomFilter::zeros(16);
        f.set(0);
        f.set(15);
        assert_eq!(f.as_bytes(), &[0x80, 0x01]);
        assert!(f.get(0) && f.get(15) && !f.get(1));
        assert_eq!(f.count_ones(), 2);
    }

    #[test]
    fn folding_xors_halves() {
        let mut f = BloomFilter::zeros(32);
        f.set(0); // first half
        f.set(16); // same position in the second half: cancels
        f.set(17);
        let g = f.fold_xor(1);
        assert_eq!(g.len(), 16);
        assert_eq!(g.as_bytes(), &[0x40, 0x00]);
    }
}
