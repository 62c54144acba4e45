//! Multi-party matching: groups of records across three or more inputs.
//!
//! The rule is anonlink's greedy solver (`anonlink.solving.greedy_solve`, 0.15.3), so a
//! linkage unit moving from anonlink gets the same groups from the same candidates. Every
//! record starts in a group of its own. Pairs are taken best first; a pair whose records
//! are in different groups G and H is counted between them, and G and H merge once every
//! pair of a record in G with a record in H has been counted: `count(G, H) = |G| · |H|`.
//! A merged group inherits both groups' counts to every other group. So a group only ever
//! holds records that all pair with each other at or above the threshold (a clique of the
//! candidate graph), built from its best pairs first. With two inputs this is exactly
//! [`greedy`](crate::link::greedy).
//!
//! Choices where anonlink's behaviour depends on its input: pairs are ordered here (by
//! falling score, then input, then position, as anonlink's candidate generation orders
//! them) instead of taken in the order given; a pair given twice counts once (anonlink
//! would count it twice); a pair of two records of the same input is ignored (a group
//! holds at most one record per input, which anonlink only gets from never being given
//! such pairs).

use std::collections::HashMap;

/// A record of one of several inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Record {
    /// Which input (0-based).
    pub input: u32,
    /// Position in that input.
    pub position: u32,
}

/// A pair of records of two different inputs and its score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairCandidate {
    /// One record.
    pub a: Record,
    /// The other record.
    pub b: Record,
    /// The similarity, 0..=1.
    pub score: f64,
}

/// A record in a group, with its best score against another member of the group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Member {
    /// The record.
    pub record: Record,
    /// The highest score of a pair of this record with another member.
    pub score: f64,
}

/// Groups of two or more records, at most one per input, by anonlink's greedy rule (see
/// the module documentation). Members are in record order, groups in order of their first
/// member. Records in no group are not listed.
pub fn greedy_groups(candidates: &[PairCandidate]) -> Vec<Vec<Member>> {
    let mut pairs: Vec<PairCandidate> = candidates
        .iter()
        .filter(|c| c.a.input != c.b.input)
        .map(|c| if c.a.input < c.b.input { *c } else { PairCandidate { a: c.b, b: c.a, ..*c } })
        .collect();
    pairs.sort_by(|x, y| {
        y.score.total_cmp(&x.score).then((x.a.input, x.b.input, x.a.position, x.b.position).cmp(&(
            y.a.input,
            y.b.input,
            y.a.position,
            y.b.position,
        )))
    });
    // Repeats of a pair sit together after their best; keep the first.
    let mut seen = std::collections::HashSet::new();
    pairs.retain(|c| seen.insert((c.a, c.b)));

    let mut node: HashMap<Record, usize> = HashMap::new();
    let mut records: Vec<Record> = Vec::new();
    let mut id = |r: Record| {
        *node.entry(r).or_insert_with(|| {
            records.push(r);
            records.len() - 1
        })
    };
    let ends: Vec<(usize, usize)> = pairs.iter().map(|c| (id(c.a), id(c.b))).collect();

    let mut groups = Groups::new(records.len());
    for &(x, y) in &ends {
        groups.count(x, y);
    }

    let mut best = vec![f64::NEG_INFINITY; records.len()];
    for (c, &(x, y)) in pairs.iter().zip(&ends) {
        if groups.of[x] == groups.of[y] {
            best[x] = best[x].max(c.score);
            best[y] = best[y].max(c.score);
        }
    }
    let mut out: Vec<Vec<Member>> = groups
        .members
        .into_iter()
        .filter(|m| m.len() > 1)
        .map(|m| {
            let mut group: Vec<Member> =
                m.into_iter().map(|x| Member { record: records[x], score: best[x] }).collect();
            group.sort_by_key(|m| m.record);
            group
        })
        .collect();
    out.sort_by_key(|g| g.first().map(|m| m.record));
    out
}

/// The groups while pairs are counted: members, each node's group, and the pair counts
/// between groups (kept in both directions).
struct Groups {
    members: Vec<Vec<usize>>,
    of: Vec<usize>,
    counts: Vec<HashMap<usize, usize>>,
}

impl Groups {
    fn new(n: usize) -> Self {
        Self {
            members: (0..n).map(|x| vec![x]).collect(),
            of: (0..n).collect(),
            counts: vec![HashMap::new(); n],
        }
    }

    /// Counts the pair (x, y) between their groups and merges them once every pair
    /// between them is counted.
    fn count(&mut self, x: usize, y: usize) {
        let (g, h) = (self.of[x], self.of[y]);
        if g == h {
            return;
        }
        let n = {
            let e = self.counts[g].entry(h).or_default();
            *e += 1;
            *e
        };
        *self.counts[h].entry(g).or_default() += 1;
        if n < self.members[g].len() * self.members[h].len() {
            return;
        }
        // The smaller group moves into the larger.
        let (keep, gone) =
            if self.members[g].len() >= self.members[h].len() { (g, h) } else { (h, g) };
        let moved = std::mem::take(&mut self.members[gone]);
        for &m in &moved {
            self.of[m] = keep;
        }
        self.members[keep].extend(moved);
        self.counts[keep].remove(&gone);
        for (other, n) in std::mem::take(&mut self.counts[gone]) {
            if other == keep {
                continue;
            }
            *self.counts[keep].entry(other).or_default() += n;
            let theirs = &mut self.counts[other];
            theirs.remove(&gone);
            *theirs.entry(keep).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: (u32, u32), b: (u32, u32), score: f64) -> PairCandidate {
        let r = |(input, position)| Record { input, position };
        PairCandidate { a: r(a), b: r(b), score }
    }

    fn records(groups: &[Vec<Member>]) -> Vec<Vec<(u32, u32)>> {
        groups
            .iter()
            .map(|g| g.iter().map(|m| (m.record.input, m.record.position)).collect())
            .collect()
    }

    #[test]
    fn a_chain_does_not_make_a_group_but_a_triangle_does() {
        let chain = [p((0, 0), (1, 0), 0.9), p((1, 0), (2, 0), 0.8), p((0, 0), (2, 1), 0.7)];
        assert_eq!(records(&greedy_groups(&chain)), [vec![(0, 0), (1, 0)]]);
        let triangle = [p((0, 0), (1, 0), 0.9), p((2, 0), (1, 0), 0.8), p((0, 0), (2, 0), 0.7)];
        let g = greedy_groups(&triangle);
        assert_eq!(records(&g), [vec![(0, 0), (1, 0), (2, 0)]]);
        assert_eq!(g[0].iter().map(|m| m.score).collect::<Vec<_>>(), [0.9, 0.9, 0.8]);
    }

    #[test]
    fn same_input_pairs_and_repeats_are_ignored() {
        let c = [p((0, 0), (0, 1), 1.0), p((0, 0), (1, 0), 0.9), p((0, 0), (2, 0), 0.8)];
        let repeated = [c[1], c[2], c[2]];
        assert_eq!(records(&greedy_groups(&c)), [vec![(0, 0), (1, 0)]]);
        assert_eq!(records(&greedy_groups(&repeated)), [vec![(0, 0), (1, 0)]]);
        assert!(greedy_groups(&[]).is_empty());
    }
}
