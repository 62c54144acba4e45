//! Compatibility with clkhash 0.18.3: read its v3 linkage schema and produce bit-identical
//! CLKs from the same records and secret.
//!
//! What clkhash does, and so what this module does (see `docs/schema.md`, "clkhash
//! compatibility"):
//!
//! * Keys: one HKDF (SHA-256 or SHA-512, the schema's salt and info) over the secret's
//!   bytes, `2 x features x keySize` bytes long, cut into two keys per feature (ignored
//!   features included).
//! * Per feature: a missing-value sentinel is replaced (and skips validation); otherwise
//!   the value is validated and formatted (integers canonicalised, dates to `%Y%m%d`).
//! * Tokens: n-grams over characters padded with `n - 1` spaces (positional ones prefixed
//!   `"{i+1} "`), the whole value (`exact`), or `2 x resolution + 1` neighbouring numbers.
//! * Bits: `blakeHash` takes 16-bit little-endian words from keyed BLAKE2b-512 digests
//!   salted `"0"`, `"1"`, ... modulo the length; `doubleHash` uses `(sha1 + i x md5) mod l`
//!   of HMAC-SHA1 and HMAC-MD5 as big-endian integers (`prevent_singularity` re-hashes
//!   with a suffix byte while the MD5 value is 0).
//! * `bitsPerToken` sets k per token; `bitsPerFeature` spreads a budget over the tokens.
//! * Folding: clkhash 0.18.3 reads `clkConfig.xor_folds`, not the documented `xorFolds`,
//!   which it ignores. nordlink does the same to stay bit-identical, and reports it.

mod encoder;
mod format;
mod hash;
mod pynum;
mod schema;

pub use encoder::{ClkhashCache, ClkhashEncoder};
pub use schema::{ClkhashSchema, is_clkhash_schema};
