//! Linkage: comparing Bloom-filter encodings, fast.
//!
//! * [`Kernel`]: the AND-popcount of two filters, the one operation every similarity
//!   needs, in a portable version and in AVX2 and AVX-512 (VPOPCNTDQ) versions chosen once
//!   at run time. The SIMD code sits in `arch/`; with the calls into it in `kernel.rs`
//!   (each justified by the kernel value's detection), the only `unsafe` in the crate.
//! * [`Measure`]: Dice (default), Jaccard or Hamming similarity from that count and the
//!   filters' popcounts, with the upper bound the popcounts alone allow.
//! * [`greedy`] and [`optimal`]: 1-to-1 matches from candidates, best first or with the
//!   largest total score; [`greedy_groups`]: groups across three or more inputs.
//! * [`FieldLinker`]: linkage on field-level evidence, a Fellegi–Sunter [`Model`] fitted by
//!   EM ([`fit`]) on the candidates, with a threshold from the model.
//! * [`Quality`]: precision, recall and F1 against ground truth.
//! * [`Linker`]: the whole linkage of two inputs (threshold, blocking, solver), as
//!   `nordlink link` runs it.
//! * [`candidates`] and [`top_k`]: every pair at or above a threshold, or the best `k`
//!   per record, comparing cache-sized tiles of one input against the other; every pair's
//!   common bits are counted, and only pairs whose count can reach the threshold are
//!   scored.
//!
//! Filters come in [`FilterArena`](crate::clk::FilterArena)s, which pad every filter to
//! whole 64-bit words with zero bits, so no kernel needs a tail path for the filter
//! length.

mod arch;
mod blocking;
mod candidates;
mod evaluate;
mod fellegi_sunter;
mod field_linkage;
mod kernel;
mod linker;
mod measure;
mod solve;
mod threshold;

pub use blocking::{
    BlockingStats, LshParams, MAX_BAND_BITS, MAX_BANDS, candidates_by_key, candidates_lsh,
    candidates_lsh_best,
};
pub use candidates::{Candidate, LinkError, MAX_CANDIDATES, candidates, check_threshold, top_k};
pub use evaluate::Quality;
pub use fellegi_sunter::{
    Bands, Comparisons, DEFAULT_BANDS, EmSettings, Fit, MAX_FIELDS, MAX_LEVELS, MISSING, Model,
    ModelError, fit, u_from,
};
pub use field_linkage::{
    CandidateSource, DEFAULT_CONTAINMENT, DEFAULT_FLOOR, DEFAULT_KEY_PAIRS_PER_RECORD,
    DEFAULT_PER_RECORD, Expected, Explanation, FIELD_ALL_PAIRS, FieldInput, FieldLinkError,
    FieldLinkage, FieldLinker, KeyColumn, MAX_KEY_PAIRS, NAME_ORDER_FIELD, ScoredPair,
    compares_name_order,
};
pub use kernel::Kernel;
pub use linker::{
    AUTO_ALL_PAIRS, BEST_PER_RECORD, Blocking, ChosenThreshold, DEFAULT_RECALL, Linkage, Linker,
    Search, Solver, Threshold, default_sample,
};
pub use measure::{Measure, UnknownMeasure};
pub use solve::{
    MAX_OPTIMAL_COMPONENT, Member, PairCandidate, Record, greedy, greedy_groups, optimal,
    optimal_bounded,
};
pub use threshold::{AutoThreshold, DEFAULT_SAMPLE, ScoreProfile};
