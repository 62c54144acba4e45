//! The linkage kernels and candidate search: every kernel equals the scalar one, and the
//! tiled, pruned search returns exactly what a naive all-pairs loop returns.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use nordlink::clk::FilterArena;
use nordlink::link::{Candidate, Kernel, LinkError, Measure, candidates, top_k};
use proptest::prelude::*;

fn arena(bits: usize, filters: &[Vec<u8>]) -> FilterArena {
    let mut a = FilterArena::new(bits).unwrap();
    for f in filters {
        a.push_bytes(f).unwrap();
    }
    a
}

/// Filters of `width` bytes whose bits are set with probability `fill` / 256, so scores
/// spread over the whole range instead of clustering at 0.5.
fn filters(width: usize, n: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Vec<u8>>> {
    (0u32..=255).prop_flat_map(move |fill| {
        prop::collection::vec(
            prop::collection::vec(prop::collection::vec(any::<u8>(), 8), width).prop_map(
                move |bytes| {
                    bytes
                        .iter()
                        .map(|draws| {
                            draws.iter().enumerate().fold(0u8, |acc, (bit, &d)| {
                                acc | (u8::from(u32::from(d) < fill) << bit)
                            })
                        })
                        .collect::<Vec<u8>>()
                },
            ),
            n.clone(),
        )
    })
}

/// The reference: every pair, scored one by one with the scalar kernel.
fn naive(left: &FilterArena, right: &FilterArena, m: Measure, t: f64) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (i, a) in left.iter().enumerate() {
        for (j, b) in right.iter().enumerate() {
            let common = Kernel::scalar().and_count(a.words(), b.words());
            let score = m.score(common, a.popcount(), b.popcount(), left.bits());
            if score >= t {
                out.push(Candidate { left: i as u32, right: j as u32, score });
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_kernel_equals_the_scalar_kernel(
        words in 1usize..=20,
        n in 0usize..=21,
        seed in prop::collection::vec(any::<u64>(), 22 * 20),
    ) {
        // Word counts 1..=20 cover the AVX2 and AVX-512 tails; up to 21 candidates cover
        // the AVX-512 batches of eight and the remainder.
        let query = &seed[..words];
        let cands = &seed[words..words * (n + 1)];
        let want: Vec<u32> =
            cands.chunks_exact(words).map(|c| Kernel::scalar().and_count(query, c)).collect();
        // Needs around the counts, some equal to them: the boundary must pass.
        let right_need: Vec<f64> = want.iter().enumerate().map(|(j, &w)| f64::from(w) - 2.0 + (j % 4) as f64).collect();
        let passing_want: Vec<u32> = (0..n as u32).filter(|&j| f64::from(want[j as usize]) >= 0.5 + right_need[j as usize] - 0.5).collect();
        for k in Kernel::available() {
            let mut out = vec![u32::MAX; n];
            k.and_counts(query, cands, words, &mut out);
            prop_assert_eq!(&out, &want, "{}", k.name());
            let mut out = vec![u32::MAX; n];
            let mut passing = Vec::new();
            k.and_counts_passing(query, cands, words, (0.0, &right_need), &mut out, &mut passing);
            prop_assert_eq!(&out, &want, "{}", k.name());
            prop_assert_eq!(&passing, &passing_want, "{}", k.name());
            for (c, w) in cands.chunks_exact(words).zip(&want) {
                prop_assert_eq!(k.and_count(query, c), *w, "{}", k.name());
            }
        }
    }

    #[test]
    fn tiled_pruned_search_equals_all_pairs(
        (width, left, right) in (1usize..=40).prop_flat_map(|w| (Just(w), filters(w, 0..30), filters(w, 0..30))),
        t in 0.0f64..=1.0,
        k in 1usize..4,
    ) {
        let bits = 8 * width;
        let (l, r) = (arena(bits, &left), arena(bits, &right));
        for m in [Measure::Dice, Measure::Jaccard, Measure::Hamming] {
            // Half the time, a threshold equal to a score that occurs: the boundary case.
            let occurring: Vec<f64> = naive(&l, &r, m, 0.0).iter().map(|c| c.score).collect();
            let t = if k % 2 == 0 && !occurring.is_empty() {
                occurring[(t * (occurring.len() - 1) as f64) as usize]
            } else {
                t
            };
            let want = naive(&l, &r, m, t);
            for kernel in Kernel::available() {
                prop_assert_eq!(&candidates(&l, &r, m, t, kernel).unwrap(), &want);
                // Top k: for each left record, the k best of the naive list.
                let got = top_k(&l, &r, m, t, k, kernel).unwrap();
                let mut expect = Vec::new();
                for i in 0..l.len() as u32 {
                    let mut mine: Vec<Candidate> = want.iter().filter(|c| c.left == i).copied().collect();
                    mine.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.right.cmp(&b.right)));
                    expect.extend(mine.into_iter().take(k));
                }
                prop_assert_eq!(got, expect);
            }
        }
    }
}

#[test]
fn many_filters_cross_tile_and_block_boundaries() {
    // 1024-bit filters: a tile holds 2048, a block 256 left records; 600 x 2100 crosses both.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let make = |n: usize, next: &mut dyn FnMut() -> u64| {
        let mut a = FilterArena::new(1024).unwrap();
        for _ in 0..n {
            let words: Vec<u64> = (0..16).map(|_| next() & next()).collect();
            a.push_words(&words).unwrap();
        }
        a
    };
    let l = make(600, &mut next);
    let mut r = make(2100, &mut next);
    // Plant exact copies so some pairs score 1.
    for i in [0, 255, 256, 599] {
        r.push_words(l.get(i).unwrap().words()).unwrap();
    }
    let got = candidates(&l, &r, Measure::Dice, 0.6, Kernel::detect()).unwrap();
    assert_eq!(got, naive(&l, &r, Measure::Dice, 0.6));
    assert!(got.iter().any(|c| c.left == 599 && c.right == 2103 && c.score == 1.0));
    // Every measure and top k across tiles and blocks, at thresholds equal to scores that
    // occur (where a lossy count test would drop the boundary pair).
    for m in [Measure::Jaccard, Measure::Hamming] {
        let all = naive(&l, &r, m, 0.0);
        let mut scores: Vec<f64> = all.iter().map(|c| c.score).collect();
        scores.sort_by(f64::total_cmp);
        for t in [scores[scores.len() / 2], scores[scores.len() - 10], 1.0] {
            let want: Vec<Candidate> = all.iter().filter(|c| c.score >= t).copied().collect();
            assert_eq!(candidates(&l, &r, m, t, Kernel::detect()).unwrap(), want, "{m} {t}");
        }
        let top = top_k(&l, &r, m, 0.0, 2, Kernel::detect()).unwrap();
        assert_eq!(top.len(), 2 * l.len());
        for i in 0..l.len() as u32 {
            let mut mine: Vec<&Candidate> = all.iter().filter(|c| c.left == i).collect();
            mine.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.right.cmp(&b.right)));
            let got: Vec<&Candidate> = top.iter().filter(|c| c.left == i).collect();
            assert_eq!(got, mine[..2], "{m} left {i}");
        }
    }
}

#[test]
fn inputs_that_cannot_be_compared_are_errors() {
    let a = FilterArena::new(64).unwrap();
    let b = FilterArena::new(128).unwrap();
    let k = Kernel::detect();
    assert_eq!(
        candidates(&a, &b, Measure::Dice, 0.8, k),
        Err(LinkError::LengthMismatch { left: 64, right: 128 })
    );
    assert!(matches!(candidates(&a, &a, Measure::Dice, 1.5, k), Err(LinkError::BadThreshold(_))));
    assert!(candidates(&a, &a, Measure::Dice, f64::NAN, k).is_err());
    assert_eq!(candidates(&a, &a, Measure::Dice, 0.5, k), Ok(Vec::new()));
}

proptest! {
    #[test]
    fn greedy_matching_is_one_to_one_and_maximal(
        pairs in prop::collection::vec((0u32..12, 0u32..12, 0u32..=20), 0..60),
    ) {
        use nordlink::link::greedy;
        let cands: Vec<Candidate> = pairs
            .iter()
            .map(|&(l, r, s)| Candidate { left: l, right: r, score: f64::from(s) / 20.0 })
            .collect();
        let m = greedy(&cands);
        let lefts: std::collections::HashSet<u32> = m.iter().map(|c| c.left).collect();
        let rights: std::collections::HashSet<u32> = m.iter().map(|c| c.right).collect();
        prop_assert_eq!(lefts.len(), m.len());
        prop_assert_eq!(rights.len(), m.len());
        // Every candidate left out shares a record with a match at least as good.
        for c in &cands {
            prop_assert!(m.iter().any(|x| (x.left == c.left || x.right == c.right) && x.score >= c.score));
        }
    }
}

/// The best total score of a 1-to-1 subset of `cands`, by trying every subset of
/// left records' choices (small inputs only), in units of 1/20.
fn brute_force_best(cands: &[(u32, u32, u32)]) -> u32 {
    fn go(lefts: &[u32], at: usize, cands: &[(u32, u32, u32)], used: &mut Vec<u32>) -> u32 {
        let Some(&l) = lefts.get(at) else { return 0 };
        // This left record unmatched...
        let mut best = go(lefts, at + 1, cands, used);
        // ...or matched to any free right record it has a pair with.
        for &(_, r, s) in cands.iter().filter(|c| c.0 == l) {
            if !used.contains(&r) {
                used.push(r);
                best = best.max(s + go(lefts, at + 1, cands, used));
                used.pop();
            }
        }
        best
    }
    let mut lefts: Vec<u32> = cands.iter().map(|c| c.0).collect();
    lefts.sort_unstable();
    lefts.dedup();
    go(&lefts, 0, cands, &mut Vec::new())
}

proptest! {
    #[test]
    fn optimal_matching_is_one_to_one_and_beats_every_other(
        pairs in prop::collection::vec((0u32..6, 0u32..6, 1u32..=20), 0..16),
    ) {
        use nordlink::link::{greedy, optimal};
        let cands: Vec<Candidate> = pairs
            .iter()
            .map(|&(l, r, s)| Candidate { left: l, right: r, score: f64::from(s) / 20.0 })
            .collect();
        let m = optimal(&cands);
        let lefts: std::collections::HashSet<u32> = m.iter().map(|c| c.left).collect();
        let rights: std::collections::HashSet<u32> = m.iter().map(|c| c.right).collect();
        prop_assert_eq!(lefts.len(), m.len());
        prop_assert_eq!(rights.len(), m.len());
        for x in &m {
            prop_assert!(cands.contains(x));
        }
        // A repeated pair counts with its best score, as optimal takes it.
        let mut best_of: std::collections::HashMap<(u32, u32), u32> = Default::default();
        for &(l, r, s) in &pairs {
            let e = best_of.entry((l, r)).or_default();
            *e = (*e).max(s);
        }
        let unique: Vec<(u32, u32, u32)> = best_of.iter().map(|(&(l, r), &s)| (l, r, s)).collect();
        let units = |m: &[Candidate]| m.iter().map(|c| (c.score * 20.0).round() as u32).sum::<u32>();
        prop_assert_eq!(units(&m), brute_force_best(&unique));
        prop_assert!(units(&m) >= units(&greedy(&cands)));
        // The result does not depend on the order of the candidates.
        let mut rev = cands.clone();
        rev.reverse();
        prop_assert_eq!(optimal(&rev), m);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn lsh_blocking_only_drops_pairs_never_changes_scores(
        (width, left, right) in (1usize..=16).prop_flat_map(|w| (Just(w), filters(w, 0..25), filters(w, 0..25))),
        bands in 1usize..8,
        bits_per_band in 1usize..24,
        t in 0.0f64..=1.0,
    ) {
        use nordlink::link::{LshParams, candidates_lsh};
        let (l, r) = (arena(8 * width, &left), arena(8 * width, &right));
        let all = candidates(&l, &r, Measure::Dice, t, Kernel::detect()).unwrap();
        let params = LshParams { bands, bits_per_band };
        let (mut got, stats) = candidates_lsh(&l, &r, Measure::Dice, t, params, Kernel::detect()).unwrap();
        got.sort_by_key(|c| (c.left, c.right));
        for c in &got {
            prop_assert!(all.contains(c), "{c:?} not in all-pairs");
        }
        // Each band compares a pair at most once.
        prop_assert!(stats.comparisons <= bands as u64 * stats.all_pairs);
        prop_assert_eq!(stats.all_pairs, (l.len() * r.len()) as u64);
        // Keeping the best k per left record gives exactly the best k of those pairs.
        for k in [1usize, 2, 5] {
            let (best, _) = nordlink::link::candidates_lsh_best(
                &l, &r, (Measure::Dice, t), params, Kernel::detect(), k,
            ).unwrap();
            let mut want = got.clone();
            want.sort_by(|a, b| a.left.cmp(&b.left).then(b.score.total_cmp(&a.score)).then(a.right.cmp(&b.right)));
            let mut per_left = std::collections::HashMap::<u32, usize>::new();
            want.retain(|c| {
                let n = per_left.entry(c.left).or_default();
                *n += 1;
                *n <= k
            });
            want.sort_by_key(|c| (c.left, c.right));
            prop_assert_eq!(&best, &want, "k = {}", k);
        }
    }
}

#[test]
fn lsh_blocking_finds_near_duplicates_and_skips_most_pairs() {
    use nordlink::link::{LshParams, candidates_lsh};
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut left = FilterArena::new(1024).unwrap();
    let mut right = FilterArena::new(1024).unwrap();
    for _ in 0..3000 {
        let words: Vec<u64> = (0..16).map(|_| next() & (next() | next())).collect();
        left.push_words(&words).unwrap();
        // A corrupted copy: about 1 in 16 set bits cleared and as many set elsewhere.
        let noisy: Vec<u64> = words
            .iter()
            .map(|w| {
                let (drop, add) =
                    (next() & next() & next() & next(), next() & next() & next() & next());
                (w & !drop) | (add & !w & next() & next())
            })
            .collect();
        right.push_words(&noisy).unwrap();
        let other: Vec<u64> = (0..16).map(|_| next() & (next() | next())).collect();
        right.push_words(&other).unwrap();
    }
    let truth = candidates(&left, &right, Measure::Dice, 0.8, Kernel::detect()).unwrap();
    let params = LshParams::for_inputs(&left, &right, 0.8, 0.995);
    let (found, stats) =
        candidates_lsh(&left, &right, Measure::Dice, 0.8, params, Kernel::detect()).unwrap();
    let recall = found.len() as f64 / truth.len() as f64;
    assert!(truth.len() > 2500, "{}", truth.len());
    assert!(recall >= 0.98, "recall {recall} with {params:?}");
    assert!(stats.reduction_ratio() > 0.9, "reduction {} with {params:?}", stats.reduction_ratio());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn key_blocking_equals_all_pairs_with_equal_keys(
        (width, left, right) in (1usize..=16).prop_flat_map(|w| (Just(w), filters(w, 0..25), filters(w, 0..25))),
        key_seed in prop::collection::vec(0u8..4, 50),
        t in 0.0f64..=1.0,
    ) {
        use nordlink::link::candidates_by_key;
        let (l, r) = (arena(8 * width, &left), arena(8 * width, &right));
        // Keys 0..=2, and 3 standing for a missing key.
        let key = |x: u8| (x < 3).then_some(x);
        let lk: Vec<Option<u8>> = key_seed[..l.len()].iter().map(|&x| key(x)).collect();
        let rk: Vec<Option<u8>> = key_seed[25..25 + r.len()].iter().map(|&x| key(x)).collect();
        let want: Vec<Candidate> = candidates(&l, &r, Measure::Dice, t, Kernel::detect())
            .unwrap()
            .into_iter()
            .filter(|c| lk[c.left as usize].is_some() && lk[c.left as usize] == rk[c.right as usize])
            .collect();
        let (got, stats) = candidates_by_key(&l, &r, (&lk, &rk), Measure::Dice, t, Kernel::detect()).unwrap();
        prop_assert_eq!(got, want);
        prop_assert!(stats.comparisons <= stats.all_pairs);
        prop_assert!(candidates_by_key(&l, &r, (&lk[..0], &rk), Measure::Dice, t, Kernel::detect()).is_err() || l.is_empty());
    }
}
