//! End-to-end tests of the `nordlink` binary: each runs the real executable in a fresh
//! temporary directory on inputs the test writes itself.
#![allow(missing_docs, reason = "test binary")]

mod util;

// `nordlink id check` (issue 2).
mod id_check;

// `nordlink key generate` and `nordlink pseudonymise` (issue 3).
mod pseudonymise;

// `nordlink encode` (issue 4).
mod encode;
