//! Turning candidate pairs into matches.
//!
//! * [`greedy`]: 1-to-1, best pair first (anonlink's solver for two parties).
//! * [`optimal`]: 1-to-1 with the largest total score.
//! * [`greedy_groups`]: groups across three or more inputs, at most one record per input
//!   in a group (anonlink's multi-party greedy solver).

mod greedy;
mod groups;
mod optimal;

pub use greedy::greedy;
pub use groups::{Member, PairCandidate, Record, greedy_groups};
pub use optimal::{MAX_OPTIMAL_COMPONENT, optimal, optimal_bounded};
