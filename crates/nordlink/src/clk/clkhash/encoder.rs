//! The clkhash-compatible encoder: keys, the per-token hash memo, and bit setting.

use zeroize::{Zeroize, Zeroizing};

use super::super::BloomFilter;
use super::super::bitorder::position;
use super::super::encoder::{
    Encoded, NEXT_ENCODER_ID, TOKEN_MEMO_POSITIONS, VALUE_MEMO_LIMIT, memo_capacity,
};
use super::super::error::EncodeError;
use super::super::memo::{TokenMemo, ValueMemo};
use super::format::{format_value, tokenize};
use super::hash::{blake_words, double_hash};
use super::schema::{ClkhashSchema, FeatureSpec, HashKind, KdfHash, Strategy};

/// Encodes records under a clkhash schema and secret.
pub struct ClkhashEncoder {
    id: u64,
    schema: ClkhashSchema,
    /// Two keys per feature, as clkhash derives them. As secret as the secret.
    keys: Vec<[Zeroizing<Vec<u8>>; 2]>,
}

impl std::fmt::Debug for ClkhashEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClkhashEncoder").field("schema", &self.schema).finish_non_exhaustive()
    }
}

/// Per-feature memos for one encoder (module `memo`): a cell's whole mask, and a token's bit
/// positions. They hold key-derived values: memory only, bounded per feature, wiped when
/// dropped. A cache remembers which encoder filled it and starts afresh when handed to
/// another.
#[derive(Default)]
pub struct ClkhashCache {
    owner: u64,
    values: Vec<ValueMemo>,
    tokens: Vec<TokenMemo>,
    /// Reused for each cell's tokens.
    token_buf: Vec<String>,
}

impl std::fmt::Debug for ClkhashCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClkhashCache { .. }")
    }
}

impl ClkhashEncoder {
    /// Derives the keys from `secret` (the secret file's bytes, as clkhash reads them).
    pub fn new(schema: ClkhashSchema, secret: &[u8]) -> Self {
        let n = schema.features.len();
        let mut okm = Zeroizing::new(vec![0u8; 2 * n * schema.key_size]);
        let salt = schema.kdf_salt.as_deref();
        let info = schema.kdf_info.as_deref().unwrap_or(&[]);
        // Lengths were checked against HKDF's limit when the schema was parsed.
        let _ = match schema.kdf_hash {
            KdfHash::Sha256 => hkdf::Hkdf::<sha2::Sha256>::new(salt, secret).expand(info, &mut okm),
            KdfHash::Sha512 => hkdf::Hkdf::<sha2::Sha512>::new(salt, secret).expand(info, &mut okm),
        };
        let ks = schema.key_size;
        let keys = (0..n)
            .map(|i| {
                let at =
                    |j: usize| Zeroizing::new(okm[(2 * i + j) * ks..(2 * i + j + 1) * ks].to_vec());
                [at(0), at(1)]
            })
            .collect();
        let id = NEXT_ENCODER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self { id, schema, keys }
    }

    /// The schema.
    pub fn schema(&self) -> &ClkhashSchema {
        &self.schema
    }

    /// Encodes one record. `value(i)` returns the record's cell for feature `i` in schema
    /// order (`None` for a null, read as the empty string), as for the native
    /// [`Encoder`](crate::clk::Encoder); ignored features are never asked for. clkhash has
    /// no field-level filters, so [`Encoded::fields`] is empty.
    ///
    /// # Errors
    /// [`EncodeError`] naming the feature whose value fails its format.
    pub fn encode<'a>(
        &self,
        value: impl Fn(usize) -> Option<&'a str>,
        cache: &mut ClkhashCache,
    ) -> Result<Encoded, EncodeError> {
        let hash_l = self.schema.l << self.schema.xor_folds;
        let words = hash_l.div_ceil(64);
        if cache.owner != self.id {
            let n = self.schema.features.len();
            cache.owner = self.id;
            let values = memo_capacity(words, VALUE_MEMO_LIMIT);
            cache.values = (0..n).map(|_| ValueMemo::new(values)).collect();
            cache.tokens = (0..n)
                .map(|_| {
                    let mut memo = TokenMemo::new(TOKEN_MEMO_POSITIONS);
                    // clkhash has no salts: every token is in the one unsalted group.
                    memo.select("");
                    memo
                })
                .collect();
        }
        let mut record = vec![0u64; words];
        for (index, feature) in self.schema.features.iter().enumerate() {
            let Some(spec) = &feature.spec else { continue };
            let raw = value(index).unwrap_or("");
            // Only values that format and tokenise are memoised, so a hit is a valid value.
            if cache.values[index].or_into("", raw, &mut record).is_some() {
                continue;
            }
            let err = |problem| EncodeError::invalid(&feature.identifier, problem);
            let formatted = format_value(spec, raw).map_err(err)?;
            let tokens = &mut cache.token_buf;
            tokens.clear();
            tokenize(spec.comparison, &formatted, tokens).map_err(err)?;
            let (n, memo) = (tokens.len(), &mut cache.tokens[index]);
            cache.values[index].or_and_keep(("", raw), None, &mut record, |mask| {
                for (t, token) in tokens.iter().enumerate() {
                    let k = match spec.strategy {
                        Strategy::BitsPerToken(k) => k,
                        Strategy::BitsPerFeature(b) => b / n + usize::from(t < b % n),
                    };
                    // k is at most MAX_BITS_PER_FEATURE (schema check), so the key is exact.
                    let key = (u32::try_from(k).unwrap_or(u32::MAX), token.as_str());
                    memo.set_bits(key, mask, |out| {
                        self.positions(index, spec, token, k, hash_l, out);
                    });
                }
            });
        }
        let filter = BloomFilter::from_words(&record, hash_l);
        record.zeroize();
        Ok(Encoded {
            record: filter.fold_xor(self.schema.xor_folds),
            fields: Vec::new(),
            invalid: Vec::new(),
            keys: Vec::new(),
        })
    }

    /// Appends the `k` bit positions of `token` in feature `index` (filter length `l`).
    fn positions(
        &self,
        index: usize,
        spec: &FeatureSpec,
        token: &str,
        k: usize,
        l: usize,
        out: &mut Vec<u32>,
    ) {
        let keys = &self.keys[index];
        // Filter lengths are at most 2^24 bits (schema check): positions fit u32.
        let at = |p: usize| u32::try_from(p).unwrap_or(u32::MAX);
        match spec.hash {
            HashKind::Blake => {
                // Words come 32 to a digest; the first k are the same however many are made.
                let words = blake_words(&keys[0], token.as_bytes(), k.div_ceil(32) * 32);
                out.extend(words[..k].iter().map(|&w| at(usize::from(w) % l)));
            }
            HashKind::Double { prevent_singularity } => {
                let (h1, h2) = double_hash(
                    &keys[0],
                    &keys[1],
                    token.as_bytes(),
                    l as u64,
                    prevent_singularity,
                );
                out.extend((0..k as u64).map(|i| at(position((h1 + i * h2) % l as u64))));
            }
        }
    }
}
