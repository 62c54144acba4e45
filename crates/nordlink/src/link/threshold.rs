//! Choosing the match threshold without ground truth.
//!
//! The method (docs/linkage.md has the reasoning and the measurements): take a sample of
//! left records and find, for each, its best, second-best and third-best score against
//! the whole right input. A record's best score is its true match's when it has one, else
//! the best of many non-matches. `F₀`, the distribution of a record's best non-match, is
//! estimated from the second-best scores `s₂` (a matched record's best non-match) mixed
//! with `s₂ + 2 (s₂ − s₃)` (an unmatched record's runner-up corrected by the spacing of its
//! top scores: for the largest of many scores the top spacing is about twice the next),
//! weighted by the share without a match. A two-group model follows, as in Storey's
//! estimate of the share of null hypotheses in multiple testing:
//!
//! * the share `π₀` of records without a match: below the median `λ` of the second-best
//!   scores, best scores come almost only from records without a match, so
//!   `π₀ ≈ P(best < λ) / F₀(λ)`, iterated with `F₀` (which depends on `π₀`) to a fixed
//!   point from `π₀ = 1`;
//! * for a threshold `t`, the expected false matches are `n · π₀ · (1 − F₀(t))`, the
//!   true ones the rest of the `n · P(best ≥ t)` records above `t`, and the true matches
//!   in all `n · (1 − π₀)`; the estimated F1 follows, and the threshold is the one that
//!   maximises it.
//!
//! Assumptions: a record has at most one true match in the other input; records without
//! a match look like the others (their best non-match score is distributed like anyone's);
//! the top non-match scores have an exponential-like tail; and enough records are sampled
//! for the tail of `F₀` (a few thousand).

use super::{Kernel, LinkError, Measure, top_k};
use crate::clk::FilterArena;

/// Records sampled by default: enough that the chosen threshold varies by about ±0.01
/// between samples on heavily corrupted data.
pub const DEFAULT_SAMPLE: usize = 5_000;

/// Records in the pilot run that places the search floor.
const PILOT: usize = 500;

/// Thresholds tried, in steps of 0.001.
const STEPS: u32 = 1000;

/// Best and second-best scores of a sample of left records against a whole right input.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreProfile {
    /// Each sampled record's best score (`f64::NEG_INFINITY` below [`floor`](Self::floor)).
    pub best: Vec<f64>,
    /// Each sampled record's second-best score (likewise).
    pub second: Vec<f64>,
    /// Each sampled record's third-best score (likewise).
    pub third: Vec<f64>,
    /// Scores below this were not searched for: every threshold considered is above it.
    pub floor: f64,
}

/// A threshold chosen from a [`ScoreProfile`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AutoThreshold {
    /// The threshold.
    pub threshold: f64,
    /// The estimated share of sampled records without a match in the other input.
    pub unmatched_share: f64,
    /// The F1 the model expects at the threshold (a model estimate, not a measurement).
    pub estimated_f1: f64,
    /// Another threshold, at least 0.05 away, whose estimated F1 is a local maximum within
    /// 0.02 of the chosen one's: the model cannot tell them apart, so the choice is
    /// uncertain.
    pub rival: Option<f64>,
}

impl ScoreProfile {
    /// Profiles up to `sample` left records, spread evenly over the input, against all of
    /// `right`. A pilot run over a few of them at threshold 0 sets a floor (the 5th
    /// percentile of their second-best scores), so the main run prunes most pairs.
    ///
    /// # Errors
    /// As [`candidates`](crate::link::candidates).
    pub fn measure(
        left: &FilterArena,
        right: &FilterArena,
        measure: Measure,
        kernel: Kernel,
        sample: usize,
    ) -> Result<Self, LinkError> {
        let sampled = spread(left, sample)?;
        let pilot = spread(&sampled, PILOT)?;
        let pilot = Self::search(&pilot, right, measure, 0.0, kernel)?;
        let mut seconds: Vec<f64> = pilot.second.clone();
        seconds.sort_by(f64::total_cmp);
        let floor = seconds.get(seconds.len() / 20).copied().unwrap_or(0.0).max(0.0);
        Self::search(&sampled, right, measure, floor, kernel)
    }

    fn search(
        left: &FilterArena,
        right: &FilterArena,
        measure: Measure,
        floor: f64,
        kernel: Kernel,
    ) -> Result<Self, LinkError> {
        let found = top_k(left, right, measure, floor, 3, kernel)?;
        let mut best = vec![f64::NEG_INFINITY; left.len()];
        let mut second = best.clone();
        let mut third = best.clone();
        // top_k lists each record's pairs best first.
        for c in found {
            let i = c.left as usize;
            if best[i] == f64::NEG_INFINITY {
                best[i] = c.score;
            } else if second[i] == f64::NEG_INFINITY {
                second[i] = c.score;
            } else {
                third[i] = c.score;
            }
        }
        Ok(Self { best, second, third, floor })
    }

    /// The threshold with the highest estimated F1 (see the module documentation);
    /// `None` for fewer than 100 sampled records, which cannot show the distributions.
    pub fn auto_threshold(&self) -> Option<AutoThreshold> {
        if self.best.len() < 100 {
            return None;
        }
        let sorted = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v
        };
        // A record without a match has its best non-match as its best score, and its
        // second-best is only the runner-up. For the largest of many scores with an
        // exponential-like tail, the k-th spacing times k is alike for every k (extreme-value
        // theory), so the top spacing is twice the next one and `s2 + 2 (s2 - s3)` predicts
        // the record's best non-match. A record with a match has its best non-match as its
        // second-best. The null mixes both, weighted by the share π₀ without a match,
        // found by iterating.
        let corrected: Vec<f64> = self
            .second
            .iter()
            .zip(&self.third)
            .map(
                |(&s, &t)| {
                    if s.is_finite() && t.is_finite() { (3.0 * s - 2.0 * t).min(1.0) } else { s }
                },
            )
            .collect();
        let (best, second, corrected) =
            (sorted(&self.best), sorted(&self.second), sorted(&corrected));
        let below = |v: &[f64], t: f64| v.partition_point(|&x| x < t) as f64 / v.len() as f64;
        let null_below =
            |t: f64, pi: f64| pi * below(&corrected, t) + (1.0 - pi) * below(&second, t);
        let lambda = second[second.len() / 2].max(self.floor);
        let mut unmatched = 1.0;
        for _ in 0..50 {
            let n = null_below(lambda, unmatched);
            let next = if n > 0.0 { (below(&best, lambda) / n).min(1.0) } else { 1.0 };
            let settled = (next - unmatched).abs() < 1e-6;
            unmatched = next;
            if settled {
                break;
            }
        }
        let mut chosen = AutoThreshold {
            threshold: 1.0,
            unmatched_share: unmatched,
            estimated_f1: 0.0,
            rival: None,
        };
        // The estimated F1 at every step (0 below the floor).
        let mut curve = vec![0.0; STEPS as usize + 1];
        for (step, f1) in curve.iter_mut().enumerate() {
            let t = step as f64 / f64::from(STEPS);
            if t < self.floor {
                continue;
            }
            let above = 1.0 - below(&best, t);
            let false_matches = (unmatched * (1.0 - null_below(t, unmatched))).min(above);
            let true_matches = above - false_matches;
            let denominator = above + (1.0 - unmatched);
            *f1 = if denominator > 0.0 { 2.0 * true_matches / denominator } else { 0.0 };
            if *f1 > chosen.estimated_f1 + 1e-12 {
                chosen.threshold = t;
                chosen.estimated_f1 = *f1;
            }
        }
        chosen.rival = rival(&curve, chosen.threshold, chosen.estimated_f1);
        Some(chosen)
    }
}

/// Thresholds at least this far from the chosen one count as a different answer.
const RIVAL_GAP: f64 = 0.05;

/// A rival's estimated F1 may fall at most this far below the chosen one's.
const RIVAL_MARGIN: f64 = 0.02;

/// Between a rival and the chosen threshold the estimated F1 must dip at least this far
/// below the rival: a separate peak, not a wiggle on a plateau where every threshold is
/// about as good.
const RIVAL_DIP: f64 = 0.01;

/// The best separate peak of the estimated F1 `curve` (one value per step) at least
/// [`RIVAL_GAP`] from `chosen`, when it comes within [`RIVAL_MARGIN`] of `best`: the model
/// then cannot tell the two thresholds apart.
fn rival(curve: &[f64], chosen: f64, best: f64) -> Option<f64> {
    let step = |i: usize| i as f64 / f64::from(STEPS);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "0..=1 scaled")]
    let at = (chosen * f64::from(STEPS)).round() as usize;
    let dips = |i: usize| {
        let between = if i < at { &curve[i..=at] } else { &curve[at..=i] };
        between.iter().copied().fold(f64::INFINITY, f64::min) <= curve[i] - RIVAL_DIP
    };
    (1..curve.len().saturating_sub(1))
        .filter(|&i| (step(i) - chosen).abs() >= RIVAL_GAP && at < curve.len())
        .filter(|&i| curve[i] > 0.0 && curve[i] >= curve[i - 1] && curve[i] >= curve[i + 1])
        .filter(|&i| curve[i] >= best - RIVAL_MARGIN && dips(i))
        .max_by(|&a, &b| curve[a].total_cmp(&curve[b]))
        .map(step)
}

/// Up to `n` filters of `arena`, evenly spaced (all of them when it holds no more).
fn spread(arena: &FilterArena, n: usize) -> Result<FilterArena, LinkError> {
    let len = arena.len();
    let take = n.min(len);
    let mut out = FilterArena::with_capacity(arena.bits(), take)?;
    for k in 0..take {
        // Evenly spaced positions; u128 keeps k · len exact for any input size.
        let i = usize::try_from(k as u128 * len as u128 / take as u128).unwrap_or(0);
        if let Some(f) = arena.get(i) {
            out.push_words(f.words())?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(best: Vec<f64>, second: Vec<f64>) -> ScoreProfile {
        let third = vec![f64::NEG_INFINITY; second.len()];
        ScoreProfile { best, second, third, floor: 0.0 }
    }

    /// Uniform numbers in 0..1 from a xorshift generator: simulations repeat exactly.
    fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Simulated records: each one's scores, best first, and whether its best is its
    /// true match. `scores(i)` gives record `i`'s scores, its true match's (if any) last.
    struct Simulated {
        sorted: Vec<Vec<f64>>,
        matched: Vec<bool>,
    }

    impl Simulated {
        fn new(n: usize, mut scores: impl FnMut(usize) -> (Vec<f64>, bool)) -> Self {
            let (mut sorted, mut matched) = (Vec::new(), Vec::new());
            for i in 0..n {
                let (mut s, has_match) = scores(i);
                let true_score = has_match.then(|| s[s.len() - 1]);
                s.sort_by(|a, b| b.total_cmp(a));
                matched.push(true_score == Some(s[0]));
                sorted.push(s);
            }
            Self { sorted, matched }
        }

        fn nth(&self, k: usize) -> Vec<f64> {
            self.sorted.iter().map(|s| s[k]).collect()
        }

        /// F1 of linking every record whose best score reaches `t`.
        fn f1_at(&self, t: f64) -> f64 {
            let true_links = self.matched.iter().filter(|&&m| m).count() as f64;
            let above: Vec<usize> =
                (0..self.sorted.len()).filter(|&i| self.sorted[i][0] >= t).collect();
            let tp = above.iter().filter(|&&i| self.matched[i]).count() as f64;
            2.0 * tp / (above.len() as f64 + true_links)
        }

        fn oracle(&self) -> f64 {
            (0..=1000).map(|s| self.f1_at(f64::from(s) / 1000.0)).fold(0.0, f64::max)
        }
    }

    #[test]
    fn a_rival_is_a_distant_local_maximum_nearly_as_high() {
        let mut curve = vec![0.0; STEPS as usize + 1];
        // Two bumps: at 0.600 (height 0.80) and 0.700 (0.79), and a shoulder next to the
        // first (0.620, not a local maximum).
        for (i, f) in curve.iter_mut().enumerate() {
            let t = i as f64 / f64::from(STEPS);
            *f = (0.80 - 4.0 * (t - 0.6).abs()).max(0.79 - 4.0 * (t - 0.7).abs()).max(0.0);
        }
        assert_eq!(rival(&curve, 0.6, 0.80), Some(0.7));
        // Too low, or too near: no rival.
        assert_eq!(rival(&curve, 0.6, 0.82), None);
        let near = rival(&curve, 0.68, 0.80);
        assert_eq!(near, Some(0.6), "0.7 is within 0.05 of 0.68, so only 0.6 counts");
        // One bump only.
        let single: Vec<f64> =
            (0..=STEPS).map(|i| (0.8 - (f64::from(i) / 1000.0 - 0.6).abs()).max(0.0)).collect();
        assert_eq!(rival(&single, 0.6, 0.8), None);
        // A plateau with wiggles of 0.002: every threshold there is about as good.
        let plateau: Vec<f64> = (0..=STEPS)
            .map(
                |i| if (500..900).contains(&i) { 0.9 + 0.002 * f64::from(i % 7 == 0) } else { 0.0 },
            )
            .collect();
        assert_eq!(rival(&plateau, 0.7, 0.902), None);
    }

    #[test]
    fn lands_near_the_best_threshold_on_simulated_scores() {
        // 4 000 records, 60 % without a match. Every record meets 300 non-matches with
        // bell-shaped scores (sum of uniforms) around a level of its own (records with
        // common names meet more look-alikes); matched records also meet their match,
        // with scores spread over 0.6..1 (corruption), so the groups overlap.
        let mut unit = uniform(0x2545_F491_4F6C_DD1D);
        let sim = Simulated::new(4000, |i| {
            let level = 0.35 + 0.2 * unit();
            let mut scores: Vec<f64> =
                (0..300).map(|_| level + 0.05 * (unit() + unit() + unit() + unit())).collect();
            let has_match = i % 5 < 2;
            if has_match {
                scores.push(0.6 + 0.4 * unit().sqrt());
            }
            (scores, has_match)
        });
        let oracle = sim.oracle();
        let auto = profile(sim.nth(0), sim.nth(1)).auto_threshold().unwrap();
        assert!(sim.f1_at(auto.threshold) > oracle - 0.01, "{auto:?}: oracle {oracle}");
        assert!((0.5..=0.7).contains(&auto.unmatched_share), "{auto:?}");
    }

    #[test]
    fn too_few_records_give_no_threshold() {
        assert_eq!(profile(vec![0.9; 99], vec![0.5; 99]).auto_threshold(), None);
    }

    #[test]
    fn the_spacing_correction_handles_few_close_look_alikes() {
        // As with a birth-year salt: 4 000 records, 85 % without a match. Each meets 300
        // far non-matches (other birth years, about 0.3) and 20 close ones (its own year)
        // at a level of its own with an exponential upper tail, so a record's top
        // non-match stands well above its runner-up. Matches score 0.6..1.
        let mut unit = uniform(0x9E37_79B9_7F4A_7C15);
        let sim = Simulated::new(4000, |i| {
            let mut scores: Vec<f64> = (0..300).map(|_| 0.25 + 0.1 * unit()).collect();
            let level = 0.35 + 0.25 * unit();
            scores.extend((0..20).map(|_| (level - 0.04 * (1.0 - unit()).ln()).min(1.0)));
            let has_match = i % 20 < 3;
            if has_match {
                scores.push(0.6 + 0.4 * unit().sqrt());
            }
            (scores, has_match)
        });
        let oracle = sim.oracle();
        let corrected =
            ScoreProfile { best: sim.nth(0), second: sim.nth(1), third: sim.nth(2), floor: 0.0 };
        let auto = corrected.auto_threshold().unwrap();
        assert!(sim.f1_at(auto.threshold) > oracle - 0.04, "{auto:?}: oracle {oracle}");
        // Without third-best scores the method falls back to second-best ones alone, which
        // here is clearly worse: the test exercises the correction.
        let plain = profile(sim.nth(0), sim.nth(1)).auto_threshold().unwrap();
        assert!(sim.f1_at(plain.threshold) < sim.f1_at(auto.threshold) - 0.1, "{plain:?} {auto:?}");
    }
}
