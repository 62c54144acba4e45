//! The native encoder: construction `nordlink-clk/1` (see `docs/schema.md`).
//!
//! ```text
//! K_purpose = HKDF-SHA256(salt = "nordlink-clk/1", IKM = master key,
//!                         info = u8(len P) || P || u16be(len C) || C || u16be(len F) || F)
//! ```
//! with purpose `P` = `field` (one key per field name `F`), `permute` or
//! `randomised-response` (`F` empty), and `C` the schema's context. A token `t` of a
//! field, with per-record salt `s` (empty without salting), sets the bits
//!
//! * random hashing: `u32_le(X[4i..4i+4]) mod l` for `i < k`, `X` the BLAKE3 XOF of
//!   `keyed_hash(K_field, u16be(len s) || s || t)`;
//! * double hashing: `(h1 + i h2) mod l` with `h1`, `h2` the first two little-endian u64
//!   of that output (`h2` replaced by 1 if it is 0 mod l).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use zeroize::Zeroizing;

use super::BloomFilter;
use super::bitorder::{position, word_set as set};
use super::error::{EncodeError, ValueProblem};
use super::harden::Hardener;
use super::normalise::normalise;
use super::schema::{Field, Hashing, Missing, Schema, Weight};
use crate::kdf::derive_subkey;
use crate::prf::blake3_stream;
use crate::{KeyId, SecretKey};

/// The construction's name; also the HKDF salt.
pub const CLK_CONSTRUCTION: &str = "nordlink-clk/1";

/// Largest number of values memoised per field in one [`EncodeCache`].
const VALUE_MEMO_LIMIT: usize = 1 << 14;

/// Source of [`Encoder`] identities, so a cache is never used with another encoder.
pub(crate) static NEXT_ENCODER_ID: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(1);

fn derive(master: &SecretKey, purpose: &str, context: &str, field: &str) -> Zeroizing<[u8; 32]> {
    derive_subkey(master, CLK_CONSTRUCTION, purpose, &[context, field])
}

/// The filters of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// The record-level filter (CLK).
    pub record: BloomFilter,
    /// One filter per schema field, when the schema asks for field-level filters.
    pub fields: Vec<BloomFilter>,
}

/// Encodes records under a [`Schema`] and a master key.
pub struct Encoder {
    id: u64,
    key_id: KeyId,
    schema: Schema,
    field_keys: Vec<Zeroizing<[u8; 32]>>,
    hardener: Hardener,
    words: usize,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("schema", &self.schema).finish_non_exhaustive()
    }
}

/// A filter-length bit mask, as 64-bit words.
type Mask = Box<[u64]>;

/// Token masks of one field, keyed by (bits per token, salt, token).
type TokenMemo = HashMap<(u32, String, String), Mask>;

/// Memo of token and value masks for one [`Encoder`]. Names and q-grams repeat, so most
/// lookups hit. The masks are derived from the key: as secret as the key; keep them in
/// memory only.
///
/// A cache remembers which encoder filled it and starts afresh when handed to another.
#[derive(Default)]
pub struct EncodeCache {
    owner: u64,
    tokens: Vec<TokenMemo>,
    values: Vec<HashMap<String, Mask>>,
}

impl std::fmt::Debug for EncodeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncodeCache { .. }")
    }
}

impl Encoder {
    /// Derives the field and hardening keys.
    pub fn new(schema: Schema, master: &SecretKey) -> Self {
        let ctx = schema.context.as_str();
        let field_keys =
            schema.fields.iter().map(|f| derive(master, "field", ctx, &f.name)).collect();
        let permute = derive(master, "permute", ctx, "");
        let rr = derive(master, "randomised-response", ctx, "");
        let hardener = Hardener::new(&schema.hardening, schema.bits, &permute, rr);
        let words = schema.bits / 64;
        let id = NEXT_ENCODER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self { id, key_id: master.id(), schema, field_keys, hardener, words }
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The public id of the master key the filters are made under.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Encodes one record; `value(i)` is the raw cell of field `i` (`None` for null).
    ///
    /// # Errors
    /// [`EncodeError`] naming the field whose value cannot be encoded.
    pub fn encode<'a>(
        &self,
        value: impl Fn(usize) -> Option<&'a str>,
        cache: &mut EncodeCache,
    ) -> Result<Encoded, EncodeError> {
        let n = self.schema.fields.len();
        if cache.owner != self.id {
            cache.owner = self.id;
            cache.tokens = (0..n).map(|_| HashMap::new()).collect();
            cache.values = (0..n).map(|_| HashMap::new()).collect();
        }
        let salt = match &self.schema.salt {
            None => String::new(),
            Some(s) => {
                let field = &self.schema.fields[s.field];
                let v = self.prepare(field, value(s.field).unwrap_or(""))?.unwrap_or_default();
                if s.year_only { v.get(..4).unwrap_or_default().to_owned() } else { v }
            }
        };
        let mut record = vec![0u64; self.words];
        let mut fields = Vec::new();
        for (i, field) in self.schema.fields.iter().enumerate() {
            let field_salt = match &self.schema.salt {
                Some(s) if s.field != i => salt.as_str(),
                _ => "",
            };
            let raw = value(i).unwrap_or("");
            // Most values repeat (names, dates): look them up without allocating when
            // unsalted; salted keys are length-prefixed so salt and value cannot run together.
            let salted;
            let key: &str = if field_salt.is_empty() {
                raw
            } else {
                salted = format!("{}:{field_salt}{raw}", field_salt.len());
                &salted
            };
            let computed;
            let mask: &[u64] = match cache.values[i].get(key) {
                Some(m) => m,
                None => {
                    let m = self.field_mask(i, field, raw, field_salt, &mut cache.tokens[i])?;
                    if cache.values[i].len() < VALUE_MEMO_LIMIT {
                        cache.values[i].insert(key.to_owned(), m.clone());
                    }
                    computed = m;
                    &computed
                }
            };
            for (r, m) in record.iter_mut().zip(mask) {
                *r |= m;
            }
            if self.schema.field_filters {
                fields.push(self.finish(mask.to_vec()));
            }
        }
        Ok(Encoded { record: self.finish(record), fields })
    }

    /// Hardening, then conversion to the byte form.
    fn finish(&self, words: Vec<u64>) -> BloomFilter {
        let words = self.hardener.apply(words, self.schema.bits);
        BloomFilter::from_words(&words, self.schema.output_bits())
    }

    /// The normalised (and, for dates, canonical) value, or `None` when missing and skipped.
    fn prepare(&self, field: &Field, raw: &str) -> Result<Option<String>, EncodeError> {
        let mut raw = raw;
        if field.missing_values.iter().any(|m| m == raw.trim()) {
            match &field.missing {
                Missing::Skip => return Ok(None),
                Missing::Reject => {
                    return Err(EncodeError::MissingValue { field: field.name.clone() });
                }
                Missing::Replace(v) => raw = v,
            }
        }
        let v = normalise(&field.normalise, raw);
        if v.is_empty() {
            return Ok(None);
        }
        match &field.date_format {
            Some(fmt) => Ok(Some(
                fmt.parse(&v)
                    .ok_or_else(|| EncodeError::invalid(&field.name, ValueProblem::BadDate))?
                    .to_string(),
            )),
            None => Ok(Some(v)),
        }
    }

    fn field_mask(
        &self,
        index: usize,
        field: &Field,
        raw: &str,
        salt: &str,
        memo: &mut TokenMemo,
    ) -> Result<Box<[u64]>, EncodeError> {
        let mut mask = vec![0u64; self.words].into_boxed_slice();
        let Some(value) = self.prepare(field, raw)? else { return Ok(mask) };
        let mut tokens = Vec::new();
        field
            .tokeniser
            .tokens(&value, &mut tokens)
            .map_err(|problem| EncodeError::invalid(&field.name, problem))?;
        // Values are bounded by the readers' cell limits, far below 2^32 tokens.
        let n = u32::try_from(tokens.len()).unwrap_or(u32::MAX);
        for (t, token) in tokens.into_iter().enumerate() {
            let k = match field.weight {
                Weight::PerToken(k) => k,
                Weight::PerField(b) => {
                    let t = u32::try_from(t).unwrap_or(u32::MAX);
                    (b / n + u32::from(t < b % n)).max(1)
                }
            };
            let memo_key = (k, salt.to_owned(), token);
            let m = match memo.entry(memo_key) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    let m = self.token_mask(index, salt, &e.key().2, k);
                    e.insert(m)
                }
            };
            for (a, b) in mask.iter_mut().zip(m.iter()) {
                *a |= b;
            }
        }
        Ok(mask)
    }

    fn token_mask(&self, index: usize, salt: &str, token: &str, k: u32) -> Box<[u64]> {
        let l = self.schema.bits as u64;
        // nordlink-clk/1 hashes the salt's length modulo 2^16 (u16be); kept exactly, as
        // the construction is frozen.
        #[allow(clippy::cast_possible_truncation, reason = "the frozen definition wraps")]
        let salt_len = (salt.len() as u16).to_be_bytes();
        let parts: [&[u8]; 3] = [&salt_len, salt.as_bytes(), token.as_bytes()];
        let mut stream = blake3_stream(&self.field_keys[index], &parts);
        let mut mask = vec![0u64; self.words].into_boxed_slice();
        match self.schema.hashing {
            Hashing::Random => {
                let mut buf = vec![0u8; 4 * k as usize];
                stream.fill(&mut buf);
                for c in buf.chunks_exact(4) {
                    let w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                    set(&mut mask, position(u64::from(w) % l));
                }
            }
            Hashing::Double => {
                let mut b = [0u8; 16];
                stream.fill(&mut b);
                let h1 = u64::from_le_bytes(b[..8].try_into().unwrap_or_default()) % l;
                let mut h2 = u64::from_le_bytes(b[8..].try_into().unwrap_or_default()) % l;
                if h2 == 0 {
                    h2 = 1;
                }
                for i in 0..u64::from(k) {
                    set(&mut mask, position((h1 + i * h2) % l));
                }
            }
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::super::tokenise::Tokeniser;
    use super::*;

    fn key(b: u8) -> SecretKey {
        let mut raw = [b; 32];
        SecretKey::from_bytes(&mut raw)
    }

    #[test]
    fn tokeniser_is_used_for_dates() {
        let schema = Schema::parse(
            "version = 1\n[[fields]]\nname = \"dob\"\nkind = \"birth_date\"\ndate_format = \"%d.%m.%Y\"\n",
        )
        .unwrap();
        assert_eq!(schema.fields[0].tokeniser, Tokeniser::DateParts);
        let e = Encoder::new(schema, &key(1));
        let mut c = EncodeCache::default();
        let a = e.encode(|_| Some("17.05.1990"), &mut c).unwrap();
        let b = e.encode(|_| Some("17.5.1990"), &mut c).unwrap();
        assert_eq!(a, b);
        assert!(e.encode(|_| Some("1990-05-17"), &mut c).is_err());
        assert_eq!(e.encode(|_| Some(""), &mut c).unwrap().record.count_ones(), 0);
    }
}
