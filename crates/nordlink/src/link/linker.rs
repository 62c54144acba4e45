//! Linking two encoded inputs end to end: the threshold (given or automatic), the way
//! candidates are found (all pairs, Hamming-LSH or exact keys), and the solver. This is
//! what `nordlink link` runs, so a service or a benchmark that calls it gets the same
//! results as the command.

use super::{
    AutoThreshold, Candidate, DEFAULT_SAMPLE, Kernel, LinkError, LshParams, Measure, ScoreProfile,
    candidates, candidates_by_key, candidates_lsh, candidates_lsh_best, greedy, optimal_bounded,
    top_k,
};
use crate::clk::FilterArena;

/// Pairs kept per left record under LSH for a 1-to-1 solver: a record whose 16 best
/// partners are all matched to others first is far rarer than a typo.
pub const BEST_PER_RECORD: usize = 16;

/// Past this many pairs all-pairs takes more than a few seconds on 2 cores, so
/// [`Blocking::Auto`] switches to LSH; also the comparisons an automatic threshold's
/// sample may cost.
pub const AUTO_ALL_PAIRS: f64 = 2e9;

/// How the threshold is set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Threshold {
    /// This score (0..=1).
    Fixed(f64),
    /// Chosen from the scores of a sample of left records ([`ScoreProfile`]): this many,
    /// or with `None` as many as [`AUTO_ALL_PAIRS`] comparisons allow and at least
    /// [`DEFAULT_SAMPLE`].
    Auto(Option<usize>),
}

/// LSH's default probability of finding a pair at or above the threshold.
pub const DEFAULT_RECALL: f64 = 0.995;

/// How candidate pairs are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocking {
    /// All pairs up to [`AUTO_ALL_PAIRS`], Hamming-LSH beyond (and all pairs for top-k).
    Auto,
    /// Every pair.
    AllPairs,
    /// Hamming-LSH, finding each pair at or above the threshold with probability
    /// [`Linker::recall`].
    Lsh,
    /// Only pairs with equal keys ([`Linker::search_by_key`]).
    Keys,
}

/// How matches are chosen from the candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Solver {
    /// Best pair first, each record at most once ([`greedy`]).
    Greedy,
    /// The largest total score, each record at most once ([`optimal_bounded`]).
    Optimal,
    /// Every candidate is a match.
    None,
}

/// The settings of a linkage of two inputs.
#[derive(Clone, Copy, Debug)]
pub struct Linker {
    /// The similarity measure.
    pub measure: Measure,
    /// The threshold.
    pub threshold: Threshold,
    /// How candidates are found.
    pub blocking: Blocking,
    /// Under LSH, the probability of finding each pair at or above the threshold
    /// (0 ≤ recall < 1).
    pub recall: f64,
    /// Keep only each left record's best `k` pairs (all pairs only: [`Blocking::Auto`]
    /// or [`Blocking::AllPairs`]).
    pub top_k: Option<usize>,
    /// The solver.
    pub solver: Solver,
    /// Also measure the [`ScoreProfile`] under a fixed threshold (for a histogram).
    pub profile: bool,
    /// The kernel.
    pub kernel: Kernel,
}

impl Default for Linker {
    /// Dice, automatic threshold, automatic blocking (LSH recall 0.995), greedy.
    fn default() -> Self {
        Self {
            measure: Measure::Dice,
            threshold: Threshold::Auto(None),
            blocking: Blocking::Auto,
            recall: DEFAULT_RECALL,
            top_k: None,
            solver: Solver::Greedy,
            profile: false,
            kernel: Kernel::detect(),
        }
    }
}

/// The threshold used, and how it was found.
#[derive(Clone, Debug, PartialEq)]
pub struct ChosenThreshold {
    /// The threshold.
    pub value: f64,
    /// The automatic choice's model estimates, when it was automatic.
    pub auto: Option<AutoThreshold>,
    /// The sample's scores, when measured (automatic threshold or asked for).
    pub profile: Option<ScoreProfile>,
}

/// Candidate pairs and how they were found.
#[derive(Clone, Debug)]
pub struct Search {
    /// The threshold.
    pub threshold: ChosenThreshold,
    /// Pairs at or above it, by left then right position unless a solver reorders them.
    pub pairs: Vec<Candidate>,
    /// Pairs compared.
    pub comparisons: f64,
    /// How the pairs were found, for a report (`none (all pairs)`, `lsh (...)`).
    pub blocking: String,
}

impl Search {
    /// The search of an empty input: nothing compared, nothing found.
    fn nothing(threshold: ChosenThreshold) -> Self {
        Self { threshold, pairs: Vec::new(), comparisons: 0.0, blocking: "none".into() }
    }
}

/// A finished linkage of two inputs.
#[derive(Clone, Debug)]
pub struct Linkage {
    /// The search that found the candidates (its `pairs` are the candidates).
    pub search: Search,
    /// The matches, sorted by left then right position.
    pub matches: Vec<Candidate>,
    /// Connected groups of candidates too large for the optimal solver, matched greedily.
    pub greedy_components: usize,
}

impl Linker {
    /// Chooses the threshold for two inputs. Either input empty: threshold 1, nothing to
    /// link.
    ///
    /// # Errors
    /// [`LinkError::TooFewToChoose`] when fewer than 100 records can be sampled for an
    /// automatic threshold; otherwise as [`candidates`].
    pub fn choose_threshold(
        &self,
        left: &FilterArena,
        right: &FilterArena,
    ) -> Result<ChosenThreshold, LinkError> {
        let wanted = matches!(self.threshold, Threshold::Auto(_)) || self.profile;
        let profile = if wanted && !left.is_empty() && !right.is_empty() {
            let sample = match self.threshold {
                Threshold::Auto(Some(n)) => n,
                _ => default_sample(right.len()),
            };
            Some(ScoreProfile::measure(left, right, self.measure, self.kernel, sample)?)
        } else {
            None
        };
        match self.threshold {
            Threshold::Fixed(value) => Ok(ChosenThreshold { value, auto: None, profile }),
            Threshold::Auto(_) => match &profile {
                None => Ok(ChosenThreshold { value: 1.0, auto: None, profile: None }),
                Some(p) => {
                    let auto = p
                        .auto_threshold()
                        .ok_or(LinkError::TooFewToChoose { sampled: p.best.len() })?;
                    Ok(ChosenThreshold { value: auto.threshold, auto: Some(auto), profile })
                }
            },
        }
    }

    /// Finds the candidate pairs at or above `threshold` (from
    /// [`choose_threshold`](Self::choose_threshold)). `one_to_one` says that a 1-to-1
    /// solver follows, so under LSH only each record's best [`BEST_PER_RECORD`] pairs are
    /// kept (bounding memory when a low threshold lets many look-alikes through).
    ///
    /// # Errors
    /// As [`candidates`]; [`LinkError::KeysNeeded`] for [`Blocking::Keys`] (which needs
    /// [`search_by_key`](Self::search_by_key)); [`LinkError::BadSettings`] for a recall
    /// outside 0..1 or top-k with blocking.
    pub fn search(
        &self,
        left: &FilterArena,
        right: &FilterArena,
        threshold: ChosenThreshold,
        one_to_one: bool,
    ) -> Result<Search, LinkError> {
        self.check()?;
        let t = threshold.value;
        let all_pairs = left.len() as f64 * right.len() as f64;
        // A file without records has no filter length of its own (its arena's is a
        // placeholder): it links to nothing, whatever the other input's length.
        if left.is_empty() || right.is_empty() {
            return Ok(Search::nothing(threshold));
        }
        let lsh = match self.blocking {
            Blocking::Lsh => true,
            Blocking::Auto => self.top_k.is_none() && all_pairs > AUTO_ALL_PAIRS,
            Blocking::Keys => return Err(LinkError::KeysNeeded),
            Blocking::AllPairs => false,
        };
        if lsh {
            let recall = self.recall;
            let params = LshParams::for_inputs(left, right, t, recall);
            let ((pairs, stats), kept) = if one_to_one {
                let best = (self.measure, t);
                let found =
                    candidates_lsh_best(left, right, best, params, self.kernel, BEST_PER_RECORD)?;
                (found, format!(", best {BEST_PER_RECORD} per left record kept"))
            } else {
                let found = candidates_lsh(left, right, self.measure, t, params, self.kernel)?;
                (found, String::new())
            };
            let blocking = format!(
                "lsh ({} bands x {} bits, target recall {recall}; reduction ratio {:.4}{kept})",
                params.bands,
                params.bits_per_band,
                stats.reduction_ratio()
            );
            return Ok(Search {
                threshold,
                pairs,
                comparisons: stats.comparisons as f64,
                blocking,
            });
        }
        let (pairs, blocking) = match self.top_k {
            Some(k) => (
                top_k(left, right, self.measure, t, k, self.kernel)?,
                format!("none (all pairs, best {k} per left record)"),
            ),
            None => {
                (candidates(left, right, self.measure, t, self.kernel)?, "none (all pairs)".into())
            }
        };
        Ok(Search { threshold, pairs, comparisons: all_pairs, blocking })
    }

    /// [`search`](Self::search) comparing only records whose keys are equal (`None` keys
    /// never match); `name` names the key for the report.
    ///
    /// # Errors
    /// As [`candidates_by_key`].
    pub fn search_by_key<K: Eq + std::hash::Hash + Sync>(
        &self,
        (left, right): (&FilterArena, &FilterArena),
        keys: (&[Option<K>], &[Option<K>]),
        threshold: ChosenThreshold,
        name: &str,
    ) -> Result<Search, LinkError> {
        if left.is_empty() || right.is_empty() {
            return Ok(Search::nothing(threshold));
        }
        let (pairs, stats) =
            candidates_by_key(left, right, keys, self.measure, threshold.value, self.kernel)?;
        let blocking = format!("column {name:?} (reduction ratio {:.4})", stats.reduction_ratio());
        Ok(Search { threshold, pairs, comparisons: stats.comparisons as f64, blocking })
    }

    /// Settings that cannot work together.
    fn check(&self) -> Result<(), LinkError> {
        if !(0.0..1.0).contains(&self.recall) {
            return Err(LinkError::BadSettings("recall must be at least 0 and below 1"));
        }
        if self.top_k.is_some() && matches!(self.blocking, Blocking::Lsh | Blocking::Keys) {
            return Err(LinkError::BadSettings("top-k compares all pairs; it takes no blocking"));
        }
        Ok(())
    }

    /// Solves a search's candidates into matches, sorted by left then right position.
    pub fn solve(&self, search: Search) -> Linkage {
        let (mut matches, greedy_components) = match self.solver {
            Solver::Greedy => (greedy(&search.pairs), 0),
            Solver::Optimal => optimal_bounded(&search.pairs),
            Solver::None => (search.pairs.clone(), 0),
        };
        matches.sort_by_key(|m| (m.left, m.right));
        Linkage { search, matches, greedy_components }
    }

    /// The whole linkage of two inputs (without keys): threshold, search, solver.
    ///
    /// # Errors
    /// As [`choose_threshold`](Self::choose_threshold) and [`search`](Self::search).
    pub fn link(&self, left: &FilterArena, right: &FilterArena) -> Result<Linkage, LinkError> {
        let threshold = self.choose_threshold(left, right)?;
        let search = self.search(left, right, threshold, self.solver != Solver::None)?;
        Ok(self.solve(search))
    }
}

/// Sampled records for an automatic threshold: as many as [`AUTO_ALL_PAIRS`] comparisons
/// allow (a few seconds), at least [`DEFAULT_SAMPLE`]: on 100 k x 100 k records of heavily
/// corrupted data, 5 000 records put the threshold within ±0.015 of the full data's
/// choice, 20 000 within ±0.01.
pub fn default_sample(right: usize) -> usize {
    // 2 x 10^9 / right is below 2^31: the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let budget = (AUTO_ALL_PAIRS / right.max(1) as f64) as usize;
    budget.max(DEFAULT_SAMPLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` pseudo-random 256-bit filters: filter `i` is the same in every arena but for
    /// random flips within the bits of `noise`, so two arenas' `i`-th filters are near copies.
    fn arena(n: usize, noise: u64) -> FilterArena {
        let mut a = FilterArena::new(256).unwrap();
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        for i in 0..n {
            let words: Vec<u64> = (0..4)
                .map(|w| {
                    x = x
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let base =
                        (i as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407).rotate_left(w * 16);
                    (base ^ (base >> 7)) ^ (x & noise)
                })
                .collect();
            a.push_words(&words).unwrap();
        }
        a
    }

    #[test]
    fn link_is_threshold_then_search_then_solver() {
        let (left, right) = (arena(300, 0x11), arena(300, 0x1100));
        for solver in [Solver::Greedy, Solver::Optimal, Solver::None] {
            let linker = Linker {
                threshold: Threshold::Fixed(0.6),
                blocking: Blocking::AllPairs,
                solver,
                kernel: Kernel::scalar(),
                ..Linker::default()
            };
            let got = linker.link(&left, &right).unwrap();
            let pairs = candidates(&left, &right, Measure::Dice, 0.6, Kernel::scalar()).unwrap();
            assert_eq!(got.search.pairs, pairs);
            let mut want = match solver {
                Solver::Greedy => greedy(&pairs),
                Solver::Optimal => optimal_bounded(&pairs).0,
                Solver::None => pairs.clone(),
            };
            want.sort_by_key(|m| (m.left, m.right));
            assert_eq!(got.matches, want);
            assert_eq!(got.search.comparisons, 90_000.0);
        }
    }

    #[test]
    fn automatic_threshold_and_its_edge_cases() {
        let (left, right) = (arena(2000, 0x11), arena(2000, 0x1100));
        let linker = Linker { kernel: Kernel::scalar(), ..Linker::default() };
        let got = linker.link(&left, &right).unwrap();
        let auto = got.search.threshold.auto.unwrap();
        assert_eq!(got.search.threshold.value, auto.threshold);
        // Near copies: (almost) every record finds its own partner.
        let own = got.matches.iter().filter(|m| m.left == m.right).count();
        assert!(own >= 1990, "{own}");
        // An empty input links nothing; too few records cannot choose.
        let empty = FilterArena::new(256).unwrap();
        let none = linker.link(&empty, &right).unwrap();
        assert!(none.matches.is_empty() && none.search.threshold.value >= 1.0);
        let few = arena(50, 0x11);
        assert!(matches!(linker.link(&few, &few), Err(LinkError::TooFewToChoose { .. })));
        // Key blocking goes through `search_by_key`.
        let keys = Linker { blocking: Blocking::Keys, threshold: Threshold::Fixed(0.5), ..linker };
        assert!(matches!(keys.link(&left, &right), Err(LinkError::KeysNeeded)));
        let k: Vec<Option<u8>> = (0..2000).map(|i| Some((i % 7) as u8)).collect();
        let t = keys.choose_threshold(&left, &right).unwrap();
        let by_key = keys.search_by_key((&left, &right), (&k, &k), t, "k").unwrap();
        assert!(by_key.pairs.iter().all(|c| c.left % 7 == c.right % 7));
        assert!(by_key.blocking.starts_with("column \"k\""));
    }

    #[test]
    fn lsh_uses_the_recall_asked_for_and_bad_settings_are_refused() {
        let (left, right) = (arena(500, 0x11), arena(500, 0x1100));
        let fixed = ChosenThreshold { value: 0.7, auto: None, profile: None };
        let base = Linker {
            threshold: Threshold::Fixed(0.7),
            kernel: Kernel::scalar(),
            ..Linker::default()
        };
        let lsh = Linker { blocking: Blocking::Lsh, recall: 0.9, ..base };
        let found = lsh.search(&left, &right, fixed.clone(), true).unwrap();
        assert!(found.blocking.contains("target recall 0.9;"), "{}", found.blocking);
        for bad in [
            Linker { recall: 1.0, ..lsh },
            Linker { recall: -0.1, ..lsh },
            Linker { top_k: Some(2), ..lsh },
            Linker { top_k: Some(2), blocking: Blocking::Keys, ..base },
        ] {
            assert!(matches!(
                bad.search(&left, &right, fixed.clone(), true),
                Err(LinkError::BadSettings(_))
            ));
        }
    }
}
