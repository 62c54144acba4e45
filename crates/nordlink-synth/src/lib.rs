//! Synthetic register data for nordlink: realistic names (and, as issue 9 grows, national
//! identifiers, dates, places and a corruption model) with ground truth, generated
//! without network access.
//!
//! * [`names`]: per-country name lists shipped with the crate (from Faker, MIT; sources
//!   and changes in `data/names/SOURCES.md`), and weighted picking from them.
#![forbid(unsafe_code)]

pub mod names;
