//! End-to-end tests of the `nordlink` binary: each runs the real executable in a fresh
//! temporary directory on inputs the test writes itself.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]
#![allow(missing_docs, reason = "test binary")]

mod util;

// `nordlink id check` (issue 2).
mod id_check;

// `nordlink key generate` and `nordlink pseudonymise` (issue 3).
mod pseudonymise;

// `nordlink encode` (issue 4).
mod encode;

// `nordlink link` (issue 8).
mod link;

// `nordlink synth` (issue 9).
mod synth;
// `nordlink demo` (issue 9).
mod demo;

// `nordlink assess` (issue 13).
mod assess;

// Reliability: links, all-or-nothing outputs, signals, stderr (issue 10).
mod reliability;
// Every command against hostile inputs (issue 10).
mod hostile;
