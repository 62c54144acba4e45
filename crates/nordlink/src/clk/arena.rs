//! Filters stored back to back for the similarity kernels.
//!
//! A linkage run compares millions of filters of one length. Holding each as its own
//! heap allocation scatters them over memory; the arena keeps them in one `Vec<u64>`,
//! `words_per_filter` words each, with the popcounts alongside, so a kernel streams
//! through them and the popcount bound needs no pass over the bits.
//!
//! Bit positions follow the `bitorder` module: a filter whose length is a
//! multiple of 8 but not of 64 (clkhash allows 1000 bits) is padded with zero bits to
//! whole words, so kernels never need a tail path and the padding changes no count.

use std::fmt;

use base64::Engine as _;

use super::BloomFilter;
use super::bitorder::{bytes_to_words, word_get, words_to_bytes};

/// The longest filter an arena holds: 2^24 bits (clkhash's own limit before folding).
pub const MAX_FILTER_BITS: usize = 1 << 24;

/// Why filters cannot be stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// The filter length is zero, not whole bytes, or over [`MAX_FILTER_BITS`].
    #[error("filter length {bits} bits: must be a positive multiple of 8, at most 2^24")]
    BadLength {
        /// The length asked for.
        bits: usize,
    },
    /// A filter has another length than the arena's.
    #[error("filter of {found} bytes where {expected} bytes were expected")]
    WrongWidth {
        /// Bytes per filter in the arena.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// A fixed-width buffer's length is not a whole number of filters.
    #[error("buffer of {len} bytes is not a whole number of {width}-byte filters")]
    RaggedBuffer {
        /// Bytes in the buffer.
        len: usize,
        /// Bytes per filter.
        width: usize,
    },
    /// Text that is not standard padded base64.
    #[error("not standard base64")]
    Base64,
    /// No filter at all (a null cell).
    #[error("no filter (null)")]
    Missing,
}

impl FilterError {
    /// A short stable code for reports, such as `filter_width`.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::BadLength { .. } => "filter_length",
            Self::WrongWidth { .. } | Self::RaggedBuffer { .. } => "filter_width",
            Self::Base64 => "filter_base64",
            Self::Missing => "filter_missing",
        }
    }
}

/// Filters of one length in one contiguous buffer, with their popcounts.
#[derive(Clone)]
pub struct FilterArena {
    bits: usize,
    words_per_filter: usize,
    words: Vec<u64>,
    popcounts: Vec<u32>,
    /// Reused by [`push_base64`](Self::push_base64); not part of the contents.
    scratch: Vec<u8>,
}

impl PartialEq for FilterArena {
    fn eq(&self, other: &Self) -> bool {
        // The scratch buffer is not content.
        self.bits == other.bits && self.words == other.words
    }
}

impl Eq for FilterArena {}

impl fmt::Debug for FilterArena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilterArena")
            .field("bits", &self.bits)
            .field("filters", &self.len())
            .finish_non_exhaustive()
    }
}

impl FilterArena {
    /// An empty arena for filters of `bits` bits.
    ///
    /// # Errors
    /// [`FilterError::BadLength`] unless `bits` is a positive multiple of 8 up to
    /// [`MAX_FILTER_BITS`].
    pub fn new(bits: usize) -> Result<Self, FilterError> {
        Self::with_capacity(bits, 0)
    }

    /// An empty arena with room for `n` filters.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_capacity(bits: usize, n: usize) -> Result<Self, FilterError> {
        if bits == 0 || !bits.is_multiple_of(8) || bits > MAX_FILTER_BITS {
            return Err(FilterError::BadLength { bits });
        }
        let words_per_filter = bits.div_ceil(64);
        Ok(Self {
            bits,
            words_per_filter,
            words: Vec::with_capacity(n.saturating_mul(words_per_filter)),
            popcounts: Vec::with_capacity(n),
            scratch: Vec::new(),
        })
    }

    /// Filter length in bits (without the zero padding).
    pub const fn bits(&self) -> usize {
        self.bits
    }

    /// Bytes per filter in its byte form.
    pub const fn bytes_per_filter(&self) -> usize {
        self.bits / 8
    }

    /// 64-bit words per filter, padding included.
    pub const fn words_per_filter(&self) -> usize {
        self.words_per_filter
    }

    /// Number of filters.
    pub fn len(&self) -> usize {
        self.popcounts.len()
    }

    /// Whether the arena holds no filter.
    pub fn is_empty(&self) -> bool {
        self.popcounts.is_empty()
    }

    /// All filters' words, filter after filter.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// The popcount of every filter, in order.
    pub fn popcounts(&self) -> &[u32] {
        &self.popcounts
    }

    /// Filter `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<FilterRef<'_>> {
        let popcount = *self.popcounts.get(i)?;
        let w = self.words_per_filter;
        Some(FilterRef { words: &self.words[i * w..(i + 1) * w], bits: self.bits, popcount })
    }

    /// The filters in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = FilterRef<'_>> + '_ {
        self.words
            .chunks_exact(self.words_per_filter)
            .zip(&self.popcounts)
            .map(|(words, &popcount)| FilterRef { words, bits: self.bits, popcount })
    }

    /// Appends a filter given as words (bit `i` is bit `63 - i % 64` of word `i / 64`, the
    /// byte form read big-endian); words past `words_per_filter` are ignored and bits past
    /// `bits` are cleared.
    ///
    /// # Errors
    /// [`FilterError::WrongWidth`] if fewer words than a filter needs are given.
    pub fn push_words(&mut self, words: &[u64]) -> Result<(), FilterError> {
        let w = self.words_per_filter;
        let Some(words) = words.get(..w) else {
            return Err(FilterError::WrongWidth {
                expected: self.bytes_per_filter(),
                found: 8 * words.len(),
            });
        };
        let start = self.words.len();
        self.words.extend_from_slice(words);
        let tail = self.bits % 64;
        if tail != 0 {
            self.words[start + w - 1] &= !(u64::MAX >> tail);
        }
        self.finish_push(start);
        Ok(())
    }

    /// Appends one filter in its byte form (`bits / 8` bytes).
    ///
    /// # Errors
    /// [`FilterError::WrongWidth`] for another length.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), FilterError> {
        if bytes.len() != self.bytes_per_filter() {
            return Err(FilterError::WrongWidth {
                expected: self.bytes_per_filter(),
                found: bytes.len(),
            });
        }
        let start = self.words.len();
        self.words.resize(start + self.words_per_filter, 0);
        bytes_to_words(bytes, &mut self.words[start..]);
        self.finish_push(start);
        Ok(())
    }

    /// Appends a [`BloomFilter`] of the arena's length.
    ///
    /// # Errors
    /// [`FilterError::WrongWidth`] for another length.
    pub fn push_filter(&mut self, filter: &BloomFilter) -> Result<(), FilterError> {
        self.push_bytes(filter.as_bytes())
    }

    /// Appends every filter of a buffer holding them back to back, as Parquet's
    /// `FixedSizeBinary` value buffer does.
    ///
    /// # Errors
    /// [`FilterError::RaggedBuffer`] if the length is not a multiple of the filter width.
    pub fn extend_from_fixed_width(&mut self, values: &[u8]) -> Result<(), FilterError> {
        let width = self.bytes_per_filter();
        if !values.len().is_multiple_of(width) {
            return Err(FilterError::RaggedBuffer { len: values.len(), width });
        }
        let n = values.len() / width;
        self.words.reserve(n * self.words_per_filter);
        self.popcounts.reserve(n);
        for chunk in values.chunks_exact(width) {
            self.push_bytes(chunk)?;
        }
        Ok(())
    }

    /// Appends a filter written as standard padded base64 (clkhash's and anonlink's text
    /// form), decoding through a buffer the arena reuses.
    ///
    /// # Errors
    /// [`FilterError::Base64`] for text that is not base64, [`FilterError::WrongWidth`]
    /// for a filter of another length.
    pub fn push_base64(&mut self, text: &str) -> Result<(), FilterError> {
        let width = self.bytes_per_filter();
        // Room for any decodable text of this width plus a little, so a longer filter
        // is reported as the wrong width rather than as bad base64.
        let room = (text.len() / 4 + 1) * 3;
        if room > width + 3 * 1024 {
            return Err(FilterError::WrongWidth { expected: width, found: text.len() / 4 * 3 });
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(room, 0);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode_slice(text.as_bytes(), &mut scratch)
            .map_err(|_| FilterError::Base64);
        let result = decoded.and_then(|n| self.push_bytes(&scratch[..n]));
        self.scratch = scratch;
        result
    }

    /// Removes every filter, keeping the allocation.
    pub fn clear(&mut self) {
        self.words.clear();
        self.popcounts.clear();
    }

    fn finish_push(&mut self, start: usize) {
        let popcount: u32 = self.words[start..].iter().map(|w| w.count_ones()).sum();
        self.popcounts.push(popcount);
    }
}

/// A borrowed view of one filter in a [`FilterArena`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FilterRef<'a> {
    words: &'a [u64],
    bits: usize,
    popcount: u32,
}

impl fmt::Debug for FilterRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FilterRef({} bits, {} set)", self.bits, self.popcount)
    }
}

impl<'a> FilterRef<'a> {
    /// The words, zero-padded to whole words.
    pub const fn words(&self) -> &'a [u64] {
        self.words
    }

    /// Length in bits (without padding).
    pub const fn bits(&self) -> usize {
        self.bits
    }

    /// Number of set bits.
    pub const fn popcount(&self) -> u32 {
        self.popcount
    }

    /// Whether bit `i` is set (`false` past the end).
    pub fn get(&self, i: usize) -> bool {
        i < self.bits && word_get(self.words, i)
    }

    /// Writes the byte form (`bits / 8` bytes) into `out`.
    ///
    /// # Errors
    /// [`FilterError::WrongWidth`] if `out` has another length.
    pub fn write_bytes(&self, out: &mut [u8]) -> Result<(), FilterError> {
        if out.len() != self.bits / 8 {
            return Err(FilterError::WrongWidth { expected: self.bits / 8, found: out.len() });
        }
        words_to_bytes(self.words, out);
        Ok(())
    }

    /// An owned copy in byte form.
    pub fn to_filter(&self) -> BloomFilter {
        BloomFilter::from_words(self.words, self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_checked() {
        for bits in [0, 12, MAX_FILTER_BITS + 8] {
            assert_eq!(FilterArena::new(bits), Err(FilterError::BadLength { bits }));
        }
        assert_eq!(FilterArena::new(1000).unwrap().words_per_filter(), 16);
    }

    #[test]
    fn bytes_base64_and_fixed_width_agree() {
        let mut f = BloomFilter::zeros(1000);
        for i in [0, 5, 63, 64, 500, 999] {
            f.set(i);
        }
        let mut a = FilterArena::new(1000).unwrap();
        a.push_filter(&f).unwrap();
        a.push_base64(&f.to_base64()).unwrap();
        let mut two = f.as_bytes().to_vec();
        two.extend_from_slice(f.as_bytes());
        a.extend_from_fixed_width(&two).unwrap();
        assert_eq!(a.len(), 4);
        assert_eq!(a.popcounts(), [6, 6, 6, 6]);
        for r in a.iter() {
            assert_eq!(r.to_filter(), f);
            assert!(r.get(999) && !r.get(998) && !r.get(1000));
            // The last word's 24 padding bits stay zero.
            assert_eq!(r.words()[15] & 0xFF_FFFF, 0);
        }
        assert_eq!(a.words().len(), 4 * 16);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let mut a = FilterArena::new(64).unwrap();
        assert_eq!(a.push_bytes(&[0; 7]), Err(FilterError::WrongWidth { expected: 8, found: 7 }));
        assert_eq!(a.push_base64("!!!!"), Err(FilterError::Base64));
        assert!(matches!(a.push_base64("AAAAAAAAAAAA"), Err(FilterError::WrongWidth { .. })));
        assert!(matches!(a.push_base64(&"A".repeat(1 << 20)), Err(FilterError::WrongWidth { .. })));
        assert_eq!(a.extend_from_fixed_width(&[0; 9]).unwrap_err().code(), "filter_width");
        assert!(a.is_empty());
        // Words beyond the length are cleared.
        let mut b = FilterArena::new(8).unwrap();
        b.push_words(&[u64::MAX]).unwrap();
        assert_eq!(b.popcounts(), [8]);
        assert_eq!(b.get(0).unwrap().words(), [0xFF00_0000_0000_0000]);
    }
}
