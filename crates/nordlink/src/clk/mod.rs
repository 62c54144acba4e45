//! Bloom-filter encodings of quasi-identifiers (names, birth dates, places) for
//! privacy-preserving record linkage across registers whose identifiers differ.
//!
//! * [`BloomFilter`]: one filter, in clkhash's bit order; [`FilterArena`]: many filters of
//!   one length in one buffer, with popcounts, as the similarity kernels read them.
//! * [`Schema`] and [`Encoder`]: nordlink's own schema (`nordlink-schema/1`) and encoding
//!   (`nordlink-clk/1`): Nordic-aware normalisation, q-gram/date/numeric tokens, keyed
//!   random hashing, hardening, memoised token masks.
//! * Match keys ([`MatchKeySpec`], `nordlink-matchkey/1`): keyed exact-match pseudonyms of
//!   field combinations, for blocking and as agreement evidence.
//! * [`AnyEncoder`]: loads either kind of schema with its secret in one call and encodes
//!   through one interface; what `nordlink encode` and services use.
//! * [`clkhash`]: read a clkhash v3 linkage schema and produce CLKs bit-identical to
//!   clkhash 0.18.3 for the same records and secret.
//!
//! Schemas are documented in `docs/schema.md`.

mod any_encoder;
mod arena;
mod bitorder;
pub mod clkhash;
mod datefmt;
mod encoder;
mod error;
mod filter;
mod harden;
mod match_key;
mod memo;
mod normalise;
mod schema;
mod tokenise;

pub use any_encoder::{
    AnyCache, AnyEncoder, CLKHASH_CONSTRUCTION, EncoderSecret, LoadError, MAX_SCHEMA_LEN,
    MIN_CLKHASH_SECRET_LEN, SchemaKind, SecretKind, SecretSource, read_schema_file,
};
pub use arena::{FilterArena, FilterError, FilterRef, MAX_FILTER_BITS};
pub use encoder::{CLK_CONSTRUCTION, EncodeCache, Encoded, Encoder};
pub use error::{EncodeError, SchemaError, ValueProblem};
pub use filter::BloomFilter;
pub use match_key::{
    KeyPart, MATCH_KEY_CONSTRUCTION, MATCH_KEY_LEN, MAX_KEY_PARTS, MAX_MATCH_KEYS, MatchKeySpec,
    MatchKeyValue, NAMES_UNORDERED_KEY, SALT_KEY, Transform,
};
pub(crate) use match_key::{Parts, key_value};
pub use normalise::{Normaliser, normalise};
pub use schema::{
    DEFAULT_HARDENING, Field, FieldKind, Hardening, Hashing, Invalid, MAX_HARDENING_STEPS,
    MAX_NUMERIC_RESOLUTION, Missing, SCHEMA_VERSION, Salt, Schema, Weight,
};
pub use tokenise::Tokeniser;
pub(crate) use tokenise::Tokens;

/// SHA-256 of a schema file's bytes, in lowercase hex: recorded in outputs so parties can
/// check that they encoded under the same schema.
pub fn schema_fingerprint(schema_text: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(schema_text))
}

/// A schema's text without a leading byte-order mark, which some Windows editors write:
/// neither JSON nor TOML allows one, and without this a clkhash schema saved that way
/// would be taken for a broken nordlink schema.
pub(crate) fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}
