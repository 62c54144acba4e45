//! Bloom-filter encodings of quasi-identifiers (names, birth dates, places) for
//! privacy-preserving record linkage across registers whose identifiers differ.
//!
//! * [`BloomFilter`]: the bit vector, in clkhash's bit order.
//! * [`clkhash`]: read a clkhash v3 linkage schema and produce CLKs bit-identical to
//!   clkhash 0.18.3 for the same records and secret.
//!
//! Schemas are documented in `docs/schema.md`.

pub mod clkhash;
mod error;
mod filter;

pub use error::{EncodeError, SchemaError};
pub use filter::BloomFilter;
