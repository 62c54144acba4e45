//! Linkage quality against ground truth.

use std::collections::HashSet;
use std::hash::Hash;

/// Counts and rates of a set of predicted links against the true links.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quality {
    /// Predicted links that are true.
    pub true_positives: u64,
    /// Predicted links that are not true.
    pub false_positives: u64,
    /// True links not predicted.
    pub false_negatives: u64,
}

impl Quality {
    /// Compares predicted pairs with true pairs (duplicates count once).
    pub fn of<T: Eq + Hash>(predicted: &[(T, T)], truth: &[(T, T)]) -> Self {
        let truth: HashSet<&(T, T)> = truth.iter().collect();
        let predicted: HashSet<&(T, T)> = predicted.iter().collect();
        let tp = predicted.iter().filter(|p| truth.contains(*p)).count() as u64;
        Self {
            true_positives: tp,
            false_positives: predicted.len() as u64 - tp,
            false_negatives: truth.len() as u64 - tp,
        }
    }

    /// Share of predicted links that are true (1 when nothing was predicted).
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }

    /// Share of true links that were predicted (1 when there are none).
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }

    /// The harmonic mean of precision and recall (0 when both are 0).
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_rates() {
        let truth = [(1, 1), (2, 2), (3, 3), (4, 4)];
        let predicted = [(1, 1), (2, 2), (3, 4), (2, 2)];
        let q = Quality::of(&predicted, &truth);
        assert_eq!((q.true_positives, q.false_positives, q.false_negatives), (2, 1, 2));
        assert!((q.precision() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(q.recall(), 0.5);
        assert!((q.f1() - 4.0 / 7.0).abs() < 1e-12);
        let none: [(u8, u8); 0] = [];
        assert_eq!(Quality::of(&none, &none).f1(), 1.0);
        assert_eq!(Quality::of(&none, &[(1, 1)]).f1(), 0.0);
    }
}
