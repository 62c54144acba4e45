//! Optimal 1-to-1 matching: the largest total score the candidate pairs allow.
//!
//! The candidate graph of a real linkage falls apart into many small connected components
//! (a record and its few look-alikes), so each component is solved on its own. Within a
//! component the problem is a maximum-weight bipartite matching, solved as a min-cost
//! flow by successive shortest augmenting paths: Dijkstra over the residual graph with
//! node potentials (Johnson's reweighting), one match added per path, stopping at the
//! first path that would lower the total. Each Dijkstra run stops once it reaches the
//! sink; potentials of nodes it did not settle are raised by the sink's distance, which
//! keeps every reduced cost non-negative. A component with `m` matches and `e` pairs
//! costs `O(m · e · log e)`.
//!
//! Scores are summed as integers in units of 2^-32, so sums are exact and the result does
//! not depend on the order of `candidates`; two matchings whose totals differ by less than
//! that count as equal. A pair scoring 0 adds nothing and is never matched.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::link::Candidate;

/// Units per score point: 2^32. With at most 2^28 arcs on a path, costs stay below 2^60.
const SCALE: f64 = 4_294_967_296.0;

/// Optimal 1-to-1 matching: among all sets of `candidates` that use each left and each
/// right record at most once, one with the largest total score. The output is in order of
/// left, then right position. When the same pair appears more than once, its highest
/// score counts.
pub fn optimal(candidates: &[Candidate]) -> Vec<Candidate> {
    optimal_bounded(candidates).0
}

/// Pairs in one connected component beyond which [`optimal_bounded`] matches it greedily:
/// the exact solver's time grows with matches times pairs, minutes for one component of
/// this size made of near-identical records, and such a component means the threshold is
/// far below the matches anyway.
pub const MAX_OPTIMAL_COMPONENT: usize = 20_000;

/// [`optimal`] with bounded time: a connected component of more than
/// [`MAX_OPTIMAL_COMPONENT`] pairs is matched by [`greedy`](crate::link::greedy)
/// instead. Returns the matches and how many components were matched greedily.
pub fn optimal_bounded(candidates: &[Candidate]) -> (Vec<Candidate>, usize) {
    let lefts = sorted_unique(candidates.iter().map(|c| c.left));
    let rights = sorted_unique(candidates.iter().map(|c| c.right));
    let dense = |ids: &[u32], id: u32| ids.binary_search(&id).unwrap_or_default();
    // Pairs as dense node numbers: lefts first, then rights.
    let mut pairs: Vec<(usize, usize, usize)> = candidates
        .iter()
        .enumerate()
        .map(|(k, c)| (dense(&lefts, c.left), lefts.len() + dense(&rights, c.right), k))
        .collect();
    // One entry per pair, the highest score first among repeats.
    pairs.sort_by(|a, b| {
        (a.0, a.1).cmp(&(b.0, b.1)).then(candidates[b.2].score.total_cmp(&candidates[a.2].score))
    });
    pairs.dedup_by_key(|p| (p.0, p.1));

    let mut components = Components::new(lefts.len() + rights.len());
    for &(l, r, _) in &pairs {
        components.join(l, r);
    }
    // Pairs grouped by component, in (left, right) order within each.
    let mut by_component: Vec<(usize, usize, usize, usize)> =
        pairs.iter().map(|&(l, r, k)| (components.root(l), l, r, k)).collect();
    by_component.sort_unstable();

    let mut out = Vec::new();
    let mut greedy_components = 0;
    let mut solver = Solver::default();
    for component in by_component.chunk_by(|a, b| a.0 == b.0) {
        if let [(_, _, _, k)] = component {
            if weight(candidates[*k].score) > 0 {
                out.push(candidates[*k]);
            }
            continue;
        }
        if component.len() > MAX_OPTIMAL_COMPONENT {
            let pairs: Vec<Candidate> = component.iter().map(|&(.., k)| candidates[k]).collect();
            out.extend(crate::link::greedy(&pairs));
            greedy_components += 1;
            continue;
        }
        let pairs: Vec<(usize, usize, usize)> =
            component.iter().map(|&(_, l, r, k)| (l, r, k)).collect();
        out.extend(solver.solve(&pairs, candidates).into_iter().map(|k| candidates[k]));
    }
    out.sort_by_key(|c| (c.left, c.right));
    (out, greedy_components)
}

fn sorted_unique(ids: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut v: Vec<u32> = ids.collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Union-find over dense node numbers, with path halving.
struct Components(Vec<usize>);

impl Components {
    fn new(n: usize) -> Self {
        Self((0..n).collect())
    }

    fn root(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        // The smaller root wins, so roots do not depend on the order of joins.
        let (keep, drop) = if a < b { (a, b) } else { (b, a) };
        self.0[drop] = keep;
    }
}

/// The flow network of one component, with buffers reused across components. Node 0 is
/// the source, then the component's left records, its right records, and the sink last.
/// Arcs come in pairs (an arc and its reverse at `arc ^ 1`).
#[derive(Default)]
struct Solver {
    head: Vec<usize>,
    next: Vec<usize>,
    to: Vec<usize>,
    open: Vec<bool>,
    cost: Vec<i64>,
    potential: Vec<i64>,
    dist: Vec<i64>,
    via: Vec<usize>,
    local: std::collections::HashMap<usize, usize>,
}

const NONE: usize = usize::MAX;

impl Solver {
    fn arc(&mut self, from: usize, to: usize, cost: i64) -> usize {
        let id = self.to.len();
        for (a, b, c, open) in [(from, to, cost, true), (to, from, -cost, false)] {
            self.to.push(b);
            self.cost.push(c);
            self.open.push(open);
            self.next.push(self.head[a]);
            self.head[a] = self.to.len() - 1;
        }
        id
    }

    /// The chosen pairs of one component, as indices into `candidates`.
    fn solve(&mut self, pairs: &[(usize, usize, usize)], candidates: &[Candidate]) -> Vec<usize> {
        self.local.clear();
        let mut nodes = 1;
        for &(l, r, _) in pairs {
            for x in [l, r] {
                self.local.entry(x).or_insert_with(|| {
                    nodes += 1;
                    nodes - 1
                });
            }
        }
        let (source, sink) = (0, nodes);
        let n = nodes + 1;
        self.head.clear();
        self.head.resize(n, NONE);
        for v in [&mut self.next, &mut self.to] {
            v.clear();
        }
        self.open.clear();
        self.cost.clear();
        self.potential.clear();
        self.potential.resize(n, 0);

        let mut is_left = vec![false; n];
        let mut pair_arcs = Vec::with_capacity(pairs.len());
        for &(l, r, k) in pairs {
            let (l, r) = (self.local[&l], self.local[&r]);
            is_left[l] = true;
            let w = weight(candidates[k].score);
            pair_arcs.push((self.arc(l, r, -w), k));
            // Initial potentials: shortest distances in the (acyclic) network before any
            // flow, so every reduced cost starts non-negative.
            self.potential[r] = self.potential[r].min(-w);
        }
        for (v, &left) in is_left.iter().enumerate().take(nodes).skip(1) {
            if left {
                self.arc(source, v, 0);
            } else {
                self.arc(v, sink, 0);
                self.potential[sink] = self.potential[sink].min(self.potential[v]);
            }
        }

        while self.shortest_path(source, sink) && self.potential[sink] < 0 {
            let mut v = sink;
            while v != source {
                let arc = self.via[v];
                self.open[arc] = false;
                self.open[arc ^ 1] = true;
                v = self.to[arc ^ 1];
            }
        }
        pair_arcs.into_iter().filter(|&(arc, _)| !self.open[arc]).map(|(_, k)| k).collect()
    }

    /// Dijkstra on reduced costs from `source`, stopping at `sink`; then raises the
    /// potentials, so that `potential[sink]` is the true cost of the path found. `false`
    /// when the sink cannot be reached.
    fn shortest_path(&mut self, source: usize, sink: usize) -> bool {
        let n = self.head.len();
        self.dist.clear();
        self.dist.resize(n, i64::MAX);
        self.via.clear();
        self.via.resize(n, NONE);
        let mut heap = BinaryHeap::new();
        self.dist[source] = 0;
        heap.push(Reverse((0, source)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > self.dist[u] {
                continue;
            }
            if u == sink {
                break;
            }
            let mut arc = self.head[u];
            while arc != NONE {
                let v = self.to[arc];
                if self.open[arc] {
                    let nd = d + self.cost[arc] + self.potential[u] - self.potential[v];
                    if nd < self.dist[v] {
                        self.dist[v] = nd;
                        self.via[v] = arc;
                        heap.push(Reverse((nd, v)));
                    }
                }
                arc = self.next[arc];
            }
        }
        let reach = self.dist[sink];
        if reach == i64::MAX {
            return false;
        }
        for (p, d) in self.potential.iter_mut().zip(&self.dist) {
            *p += (*d).min(reach);
        }
        true
    }
}

fn weight(score: f64) -> i64 {
    // Scores are in 0..=1 (checked thresholds, bounded measures); the cast cannot wrap.
    #[allow(clippy::cast_possible_truncation)]
    let w = (score.clamp(0.0, 1.0) * SCALE).round() as i64;
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(left: u32, right: u32, score: f64) -> Candidate {
        Candidate { left, right, score }
    }

    #[test]
    fn beats_greedy_where_the_best_pair_blocks_two_good_ones() {
        // Greedy takes (0,0) for 0.9 and leaves 0.9 in total; optimal takes 1.7.
        let cands = [c(0, 0, 0.9), c(0, 1, 0.85), c(1, 0, 0.85)];
        assert_eq!(optimal(&cands), [c(0, 1, 0.85), c(1, 0, 0.85)]);
        assert_eq!(crate::link::greedy(&cands), [c(0, 0, 0.9)]);
    }

    #[test]
    fn solves_components_apart_and_keeps_the_best_of_repeated_pairs() {
        let cands = [c(5, 7, 0.8), c(0, 0, 0.6), c(0, 0, 0.7), c(9, 9, 0.0), c(1, 1, 0.9)];
        assert_eq!(optimal(&cands), [c(0, 0, 0.7), c(1, 1, 0.9), c(5, 7, 0.8)]);
        assert!(optimal(&[]).is_empty());
    }

    #[test]
    fn a_giant_component_is_matched_greedily_and_counted() {
        // One component: every left record pairs with rights i and i + 1.
        let n = u32::try_from(MAX_OPTIMAL_COMPONENT / 2 + 1).unwrap();
        let cands: Vec<Candidate> = (0..n).flat_map(|i| [c(i, i, 0.9), c(i, i + 1, 0.8)]).collect();
        let (m, greedy_components) = optimal_bounded(&cands);
        assert_eq!(greedy_components, 1);
        let mut g = crate::link::greedy(&cands);
        g.sort_by_key(|c| (c.left, c.right));
        assert_eq!(m, g);
        // Small components are still solved exactly.
        assert_eq!(optimal_bounded(&cands[..4]).1, 0);
    }

    #[test]
    fn a_longer_augmenting_path_is_taken_when_it_pays() {
        // Chain l0-r0-l1-r1-l2-r2: all three 0.8 pairs (2.4) beat greedy's two 0.95
        // pairs (1.9), which block the rest.
        let cands = [c(0, 0, 0.8), c(1, 0, 0.95), c(1, 1, 0.8), c(2, 1, 0.95), c(2, 2, 0.8)];
        assert_eq!(optimal(&cands), [c(0, 0, 0.8), c(1, 1, 0.8), c(2, 2, 0.8)]);
        assert_eq!(crate::link::greedy(&cands).len(), 2);
    }
}
