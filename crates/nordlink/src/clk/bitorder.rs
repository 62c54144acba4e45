//! The one definition of where bit `i` of a filter lives, shared by the byte form
//! ([`BloomFilter`](super::BloomFilter)), the word form (encoder, hardening, the
//! [`FilterArena`](super::FilterArena)) and the conversions between them.
//!
//! Bit `i` is the most significant bit first, as clkhash's Python `bitarray` (big-endian)
//! stores it: bit `i` is bit `7 - i % 8` of byte `i / 8`, which is the same as bit
//! `63 - i % 64` of the 64-bit word `i / 64` when eight bytes are read big-endian into a
//! word. Popcounts and AND/OR/XOR do not depend on the order; anything that names a bit
//! position (hardening, the encoder, a future segment view) must go through here.

/// A bit position reduced modulo a filter length, as an index. Filter lengths are at most
/// 2^24 bits (the schemas check it), so the value fits any `usize`.
#[inline]
#[allow(clippy::cast_possible_truncation, reason = "below a filter length of at most 2^24")]
pub(crate) const fn position(reduced: u64) -> usize {
    reduced as usize
}

/// Whether bit `i` of the words is set.
#[inline]
pub(crate) fn word_get(words: &[u64], i: usize) -> bool {
    words[i / 64] >> (63 - i % 64) & 1 == 1
}

/// Sets bit `i` of the words.
#[inline]
pub(crate) fn word_set(words: &mut [u64], i: usize) {
    words[i / 64] |= 1 << (63 - i % 64);
}

/// The mask of bit `i` within its word.
#[inline]
pub(crate) const fn word_mask(i: usize) -> u64 {
    1 << (63 - i % 64)
}

/// Whether bit `i` of the bytes is set.
#[inline]
pub(crate) fn byte_get(bytes: &[u8], i: usize) -> bool {
    bytes[i >> 3] & (0x80 >> (i & 7)) != 0
}

/// Sets bit `i` of the bytes.
#[inline]
pub(crate) fn byte_set(bytes: &mut [u8], i: usize) {
    bytes[i >> 3] |= 0x80 >> (i & 7);
}

/// Fills `words` from `bytes` (at most `8 * words.len()` of them); bits beyond the bytes
/// are zero, so a filter of 1000 bits sits in 16 words with 24 trailing zero bits.
pub(crate) fn bytes_to_words(bytes: &[u8], words: &mut [u64]) {
    debug_assert!(bytes.len() <= 8 * words.len());
    let mut chunks = bytes.chunks_exact(8);
    let mut i = 0;
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        words[i] = u64::from_be_bytes(b);
        i += 1;
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut b = [0u8; 8];
        b[..tail.len()].copy_from_slice(tail);
        words[i] = u64::from_be_bytes(b);
        i += 1;
    }
    words[i..].fill(0);
}

/// Writes the first `out.len()` bytes held by `words`.
pub(crate) fn words_to_bytes(words: &[u64], out: &mut [u8]) {
    debug_assert!(out.len() <= 8 * words.len());
    for (chunk, w) in out.chunks_mut(8).zip(words) {
        let b = w.to_be_bytes();
        chunk.copy_from_slice(&b[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_bytes_agree_on_every_position() {
        for i in [0usize, 1, 7, 8, 63, 64, 65, 127, 999] {
            let mut bytes = [0u8; 125];
            byte_set(&mut bytes, i);
            let mut words = [0u64; 16];
            bytes_to_words(&bytes, &mut words);
            let mut direct = [0u64; 16];
            word_set(&mut direct, i);
            assert_eq!(words, direct, "bit {i}");
            assert!(word_get(&words, i) && byte_get(&bytes, i));
            assert_eq!(words[i / 64], word_mask(i));
            let mut back = [0u8; 125];
            words_to_bytes(&words, &mut back);
            assert_eq!(back, bytes);
        }
        assert_eq!(
            {
                let mut b = [0u8; 2];
                byte_set(&mut b, 0);
                byte_set(&mut b, 15);
                b
            },
            [0x80, 0x01]
        );
    }
}
