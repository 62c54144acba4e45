//! Similarity measures, all computed from `|a AND b|` and the two popcounts.

use std::fmt;
use std::str::FromStr;

/// How two filters' similarity is scored, from the count of common bits `c` and the
/// popcounts `|a|`, `|b|`. Every measure is a similarity in 0..=1, higher is closer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Measure {
    /// `2c / (|a| + |b|)` (the Sørensen–Dice coefficient): the PPRL standard.
    #[default]
    Dice,
    /// `c / (|a| + |b| − c)`.
    Jaccard,
    /// `1 − d / l` with `d = |a| + |b| − 2c` the Hamming distance and `l` the filter
    /// length: the share of bit positions on which the filters agree.
    Hamming,
}

impl Measure {
    /// The score of a pair with `common` shared bits, popcounts `a` and `b`, in filters of
    /// `bits` bits. Two empty filters score 0 under Dice and Jaccard (nothing to compare).
    pub fn score(self, common: u32, a: u32, b: u32, bits: usize) -> f64 {
        let (c, a, b) = (f64::from(common), f64::from(a), f64::from(b));
        match self {
            Self::Dice if a + b > 0.0 => 2.0 * c / (a + b),
            Self::Jaccard if a + b - c > 0.0 => c / (a + b - c),
            Self::Dice | Self::Jaccard => 0.0,
            Self::Hamming => 1.0 - (a + b - 2.0 * c) / bits.max(1) as f64,
        }
    }

    /// The highest score any pair with these popcounts can reach (when one filter's bits
    /// are all in the other): pairs below the threshold by this bound need no comparison.
    pub fn upper_bound(self, a: u32, b: u32, bits: usize) -> f64 {
        self.score(a.min(b), a, b, bits)
    }

    /// `(α, β)` such that a pair scores at least `threshold` exactly when its common bit
    /// count `c` satisfies `c ≥ α (|a| + |b|) + β`: the threshold turned into a count, so
    /// the hot loop compares numbers instead of dividing.
    pub fn min_common(self, threshold: f64, bits: usize) -> (f64, f64) {
        match self {
            Self::Dice => (threshold / 2.0, 0.0),
            Self::Jaccard => (threshold / (1.0 + threshold), 0.0),
            Self::Hamming => (0.5, -(1.0 - threshold) * bits as f64 / 2.0),
        }
    }

    /// The name used on the command line and in outputs.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Dice => "dice",
            Self::Jaccard => "jaccard",
            Self::Hamming => "hamming",
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A measure name that is not `dice`, `jaccard` or `hamming`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown similarity measure (expected dice, jaccard or hamming)")]
pub struct UnknownMeasure;

impl FromStr for Measure {
    type Err = UnknownMeasure;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dice" => Ok(Self::Dice),
            "jaccard" => Ok(Self::Jaccard),
            "hamming" => Ok(Self::Hamming),
            _ => Err(UnknownMeasure),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_bounds() {
        assert_eq!(Measure::Dice.score(3, 4, 4, 64), 0.75);
        assert_eq!(Measure::Jaccard.score(3, 4, 4, 64), 0.6);
        assert_eq!(Measure::Hamming.score(3, 4, 4, 64), 1.0 - 2.0 / 64.0);
        assert_eq!(Measure::Dice.score(0, 0, 0, 64), 0.0);
        assert_eq!(Measure::Dice.upper_bound(2, 6, 64), 0.5);
        for m in [Measure::Dice, Measure::Jaccard, Measure::Hamming] {
            assert_eq!(m.name().parse::<Measure>(), Ok(m));
            // The count form of the threshold agrees with the score, away from rounding.
            for t in [0.1, 0.5, 0.77, 0.9] {
                let (alpha, beta) = m.min_common(t, 64);
                for (c, a, b) in [(3, 4, 4), (10, 12, 15), (0, 5, 9), (20, 20, 20)] {
                    let by_count = f64::from(c) >= alpha * f64::from(a + b) + beta;
                    assert_eq!(by_count, m.score(c, a, b, 64) >= t, "{m} {t} {c} {a} {b}");
                }
            }
            // The bound is never below a reachable score.
            for c in 0..=4 {
                assert!(m.score(c, 4, 7, 64) <= m.upper_bound(4, 7, 64));
            }
        }
    }
}
