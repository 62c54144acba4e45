//! # nordlink
//!
//! Privacy-preserving record linkage for health and population registers of the Nordic and
//! Baltic countries.
//!
//! This core crate has no IO and no command-line dependencies, so a service can depend on
//! it alone. It provides:
//!
//! * [`id`]: parsing, validation and normalisation of national personal identifiers
//!   (DK, SE, NO, FI, IS, EE, LT).
//! * [`SecretKey`] and [`keyfile`]: 256-bit keys, wiped on drop, never printed, stored in
//!   a versioned text format with a public [`KeyId`].
//! * [`pseudonym`]: keyed pseudonyms (HMAC-SHA256 or keyed BLAKE3) with per-context key
//!   derivation, specified in `docs/pseudonymisation.md`.
//! * [`clk`]: Bloom-filter encodings (CLKs), including clkhash compatibility.
//!
//! Streamed CSV/Parquet processing lives in `nordlink-io`, the `nordlink` binary in
//! `nordlink-cli`.
#![deny(unsafe_code)]

pub mod clk;
mod date;
pub mod id;
mod kdf;
mod key;
pub mod keyfile;
pub mod pseudonym;

pub use date::{Date, DateError};
pub use key::{KEY_LEN, KeyError, KeyId, SecretKey};
