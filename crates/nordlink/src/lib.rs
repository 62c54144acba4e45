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
//!
//! Streamed CSV/Parquet processing lives in `nordlink-io`, the `nordlink` binary in
//! `nordlink-cli`.
#![deny(unsafe_code)]

mod date;
pub mod id;

pub use date::{Date, DateError};
