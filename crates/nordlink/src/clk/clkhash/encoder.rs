//! The clkhash-compatible encoder: keys, the per-token hash memo, and bit setting.

use std::collections::HashMap;

use zeroize::Zeroizing;

use super::super::BloomFilter;
use super::super::bitorder::position;
use super::super::encoder::{Encoded, NEXT_ENCODER_ID};
use super::super::error::EncodeError;
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

/// Most tokens memoised per feature: salts and free text bring ever new tokens, and the
/// memo must stay bounded (a token's entry is at most a few hundred bytes).
const TOKEN_MEMO_LIMIT: usize = 1 << 16;

/// Per-token hash memo for one encoder, keyed by feature. Holds key-derived values: keep
/// it in memory only and drop it with the encoder.
/// It remembers which encoder filled it and starts afresh when handed to another.
#[derive(Default)]
pub struct ClkhashCache {
    owner: u64,
    fields: Vec<HashMap<String, TokenHash>>,
}

impl std::fmt::Debug for ClkhashCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClkhashCache { .. }")
    }
}

enum TokenHash {
    /// 16-bit words from as many BLAKE2b digests as were needed so far.
    Blake(Vec<u16>),
    /// (sha1 mod l, md5 mod l).
    Double(u64, u64),
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
        let mut filter = BloomFilter::zeros(hash_l);
        if cache.owner != self.id {
            cache.owner = self.id;
            cache.fields = self.schema.features.iter().map(|_| HashMap::new()).collect();
        }
        let mut tokens: Vec<String> = Vec::new();
        for (index, feature) in self.schema.features.iter().enumerate() {
            let Some(spec) = &feature.spec else { continue };
            let raw = value(index).unwrap_or("");
            let err = |problem| EncodeError::invalid(&feature.identifier, problem);
            let formatted = format_value(spec, raw).map_err(err)?;
            tokens.clear();
            tokenize(spec.comparison, &formatted, &mut tokens).map_err(err)?;
            if tokens.is_empty() {
                continue;
            }
            let n = tokens.len();
            for (t, token) in tokens.iter().enumerate() {
                let k = match spec.strategy {
                    Strategy::BitsPerToken(k) => k,
                    Strategy::BitsPerFeature(b) => b / n + usize::from(t < b % n),
                };
                self.set_bits(index, spec, token, k, hash_l, &mut cache.fields[index], &mut filter);
            }
        }
        Ok(Encoded {
            record: filter.fold_xor(self.schema.xor_folds),
            fields: Vec::new(),
            invalid: Vec::new(),
            keys: Vec::new(),
        })
    }

    #[allow(clippy::too_many_arguments, reason = "a private helper of encode")]
    fn set_bits(
        &self,
        index: usize,
        spec: &FeatureSpec,
        token: &str,
        k: usize,
        l: usize,
        memo: &mut HashMap<String, TokenHash>,
        filter: &mut BloomFilter,
    ) {
        let keys = &self.keys[index];
        match spec.hash {
            HashKind::Blake => {
                // bitsPerFeature can ask one token for more words than an earlier record did.
                let words = k.div_ceil(32) * 32;
                let fresh;
                let cached = match memo.get(token) {
                    Some(TokenHash::Blake(w)) if w.len() >= words => w,
                    _ => {
                        fresh = blake_words(&keys[0], token.as_bytes(), words);
                        if memo.len() < TOKEN_MEMO_LIMIT || memo.contains_key(token) {
                            memo.insert(token.to_owned(), TokenHash::Blake(fresh.clone()));
                        }
                        &fresh
                    }
                };
                for &w in &cached[..k] {
                    filter.set(usize::from(w) % l);
                }
            }
            HashKind::Double { prevent_singularity } => {
                let (h1, h2) = match memo.get(token) {
                    Some(TokenHash::Double(a, b)) => (*a, *b),
                    _ => {
                        let (a, b) = double_hash(
                            &keys[0],
                            &keys[1],
                            token.as_bytes(),
                            l as u64,
                            prevent_singularity,
                        );
                        if memo.len() < TOKEN_MEMO_LIMIT {
                            memo.insert(token.to_owned(), TokenHash::Double(a, b));
                        }
                        (a, b)
                    }
                };
                for i in 0..k as u64 {
                    filter.set(position((h1 + i * h2) % l as u64));
                }
            }
        }
    }
}
