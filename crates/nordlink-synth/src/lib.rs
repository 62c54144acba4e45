//! Synthetic register data for nordlink: realistic names (and, as issue 9 grows, national
//! identifiers, dates, places and a corruption model) with ground truth, generated
//! without network access.
//!
//! * [`names`]: per-country name lists shipped with the crate (from Faker, MIT; sources
//!   and changes in `data/names/SOURCES.md`), and weighted picking from them.
//! * [`ids`]: valid national identifiers for a birth date and sex, for all seven
//!   countries, checked by nordlink's own parser as they are made.
//! * [`person`]: synthetic people (names, sex, birth date, place, identifier) with the
//!   choices behind them.
//! * [`corrupt`]: the corruption model (typos, transliteration, swapped names, dropped
//!   middle names, transposed or impossible dates, moves, missing values) at four levels.
//! * [`random`]: the seeded random stream everything draws from.
//! * [`population`]: registers of several countries with people who moved between them,
//!   and the true links.
#![forbid(unsafe_code)]

pub mod corrupt;
pub mod ids;
pub mod names;
pub mod person;
pub mod population;
pub mod random;
