//! # nordlink
//!
//! Privacy-preserving record linkage for health and population registers of the Nordic and
//! Baltic countries.
//!
//! This core crate has no file-format and no command-line dependencies, so a service can
//! depend on it alone. It provides:
//!
//! * [`id`]: parsing, validation and normalisation of national personal identifiers
//!   (DK, SE, NO, FI, IS, EE, LT).
//! * [`SecretKey`] and [`keyfile`]: 256-bit keys, wiped on drop, never printed, stored in
//!   a versioned text format with a public [`KeyId`].
//! * [`pseudonym`]: keyed pseudonyms (HMAC-SHA256 or keyed BLAKE3) with per-context key
//!   derivation, construction `nordlink-pseudonym/1` (`docs/pseudonymisation.md`).
//! * [`clk`]: Bloom-filter encodings (CLKs): `nordlink-clk/1` and clkhash 0.18.3
//!   compatibility behind one [`AnyEncoder`](clk::AnyEncoder), and the
//!   [`FilterArena`](clk::FilterArena) the similarity kernels read.
//! * [`link`]: similarity of filters (Dice, Jaccard, Hamming) with AVX2 and AVX-512
//!   kernels chosen at run time, and candidate pairs above a threshold or top k.
//! * [`assess`]: the keyless attacks on one's own encodings (pattern mining, frequency
//!   alignment), scored against the plaintext.
//! * [`Error`]: one error type wrapping every module's precise one.
//!
//! With the `parallel` feature, [`AnyEncoder::encode_many`](clk::AnyEncoder) encodes a
//! batch on the rayon pool. Streamed CSV/Parquet processing and provenance records live
//! in `nordlink-io`, the `nordlink` binary in `nordlink-cli`.
//!
//! ## Pseudonymise one identifier
//!
//! ```
//! use nordlink::id::{parse, Scheme};
//! use nordlink::pseudonym::{Algorithm, Context, OutputFormat, Pseudonymiser};
//! use nordlink::SecretKey;
//!
//! let key = SecretKey::generate()?; // or keyfile::read_key_file(...)
//! let p = Pseudonymiser::new(&key, Algorithm::HmacSha256, &Context::new("study-42")?);
//! let id = parse(Scheme::No, "15076500565")?;
//! let pseudonym = p.pseudonymise(&id).encode(OutputFormat::default());
//! assert_eq!(pseudonym.len(), 64); // 256 bits in lowercase hex
//! # Ok::<(), nordlink::Error>(())
//! ```
//!
//! ## Encode one record into a Bloom filter
//!
//! ```
//! use nordlink::clk::{AnyCache, AnyEncoder, EncoderSecret};
//! use nordlink::SecretKey;
//!
//! let schema = br#"
//! version = 1
//! [filter]
//! context = "nordic-cohort-2026"
//! [[fields]]
//! name = "surname"
//! kind = "surname"
//! [[fields]]
//! name = "birth_date"
//! kind = "birth_date"
//! "#;
//! let secret = EncoderSecret::Key(SecretKey::generate()?);
//! let encoder = AnyEncoder::from_schema_bytes(schema, &secret)?;
//! let record = ["Sørensen", "1971-03-09"];
//! let filters = encoder.encode(|field| Some(record[field]), &mut AnyCache::default())?;
//! assert_eq!(filters.record.len(), 1024);
//! // The same person spelled the Swedish way still shares most bits.
//! let other = encoder.encode(|f| Some(["Sörensen", "1971-03-09"][f]), &mut AnyCache::default())?;
//! let common = filters.record.as_bytes().iter().zip(other.record.as_bytes())
//!     .map(|(a, b)| (a & b).count_ones()).sum::<u32>();
//! let dice = 2.0 * f64::from(common)
//!     / f64::from(filters.record.count_ones() + other.record.count_ones());
//! assert!(dice > 0.8, "{dice}");
//! # Ok::<(), nordlink::Error>(())
//! ```
#![deny(unsafe_code)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation, reason = "test code"))]

pub mod assess;
pub mod clk;
mod date;
mod error;
pub mod id;
mod kdf;
mod key;
pub mod keyfile;
pub mod link;
mod prf;
pub mod pseudonym;

pub use date::{Date, DateError};
pub use error::Error;
pub use key::{KEY_LEN, KeyError, KeyId, SecretKey};
