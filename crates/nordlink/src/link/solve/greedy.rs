//! Greedy 1-to-1 matching.

use crate::link::Candidate;

/// Greedy 1-to-1 matching: pairs in order of falling score, each accepted unless one of
/// its records is already matched. Ties go to the lower left, then the lower right
/// position, so the result does not depend on the order of `candidates`. The output is
/// in acceptance order (best first).
pub fn greedy(candidates: &[Candidate]) -> Vec<Candidate> {
    let mut order: Vec<&Candidate> = candidates.iter().collect();
    order.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then(a.left.cmp(&b.left)).then(a.right.cmp(&b.right))
    });
    let mut used_left = std::collections::HashSet::new();
    let mut used_right = std::collections::HashSet::new();
    let mut out = Vec::new();
    for c in order {
        if !used_left.contains(&c.left) && !used_right.contains(&c.right) {
            used_left.insert(c.left);
            used_right.insert(c.right);
            out.push(*c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(left: u32, right: u32, score: f64) -> Candidate {
        Candidate { left, right, score }
    }

    #[test]
    fn best_pairs_first_each_record_once() {
        let cands = [c(0, 0, 0.9), c(0, 1, 0.95), c(1, 1, 0.94), c(1, 0, 0.85), c(2, 2, 0.8)];
        let m = greedy(&cands);
        assert_eq!(m, [c(0, 1, 0.95), c(1, 0, 0.85), c(2, 2, 0.8)]);
        // Order of the input does not matter; ties go to the lower positions.
        let mut rev = cands;
        rev.reverse();
        assert_eq!(greedy(&rev), m);
        assert_eq!(greedy(&[c(1, 0, 0.9), c(0, 0, 0.9)]), [c(0, 0, 0.9)]);
        assert!(greedy(&[]).is_empty());
    }
}
