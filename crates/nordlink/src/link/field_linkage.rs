//! Linking on field-level evidence (Fellegi–Sunter): record filters find the candidates,
//! field-level filters say how far each field agrees, and a model learnt from the
//! candidates themselves weighs that evidence.
//!
//! 1. Candidates: each left record's best [`FieldLinker::per_record`] right records by
//!    record-level Dice at or above [`FieldLinker::floor`] (all pairs up to
//!    [`FieldLinker::all_pairs_limit`], Hamming-LSH beyond), as the Dice linker finds them.
//! 2. Comparison vectors: each field's Dice banded ([`Bands`]); a field empty on either
//!    side is [`MISSING`].
//! 3. Model: `u` is measured on each left record's *second-best* candidate, a look-alike
//!    that is almost never the match; EM ([`fit`]) fits `m` and the prior on each left
//!    record's *best* candidate, where matches are common enough to be found. Both sets
//!    were chosen by record-level similarity in the same way, so `u` describes the
//!    non-matches EM must tell apart. (Measured alternatives, each worse: `u` from random
//!    pairs, `u` fitted by EM, and fitting on all candidates. EM on all candidates finds
//!    the largest correlated group instead, same sex and salt group, not the matches;
//!    docs/linkage.md.)
//! 4. Matches: greedy 1-to-1 by match weight, then a threshold on the match probability
//!    that maximises the F1 the model expects: with `p` the probabilities of the pairs
//!    greedy kept, taking the best `k` expects `Σ_top-k p` true links out of `Σ p`.
//!    No ground truth is used anywhere.

use super::fellegi_sunter::{
    Bands, Comparisons, EmSettings, Fit, MAX_FIELDS, MISSING, Model, ModelError, fit, u_from,
};
use super::linker::{ChosenThreshold, Linker, Solver, Threshold};
use super::{Candidate, Kernel, LinkError, Measure, check_threshold, greedy};
use crate::clk::FilterArena;

/// Default record-level Dice below which pairs are not considered.
pub const DEFAULT_FLOOR: f64 = 0.5;

/// Default candidates kept per left record.
pub const DEFAULT_PER_RECORD: usize = 10;

/// Default largest number of pairs compared all against all for candidates (about 20 s
/// on 2 cores with AVX-512). The floor is far below a Dice linkage's threshold, and
/// Hamming-LSH at such a floor needs hundreds of bands that meet almost every pair:
/// scanning all pairs for each record's best is faster up to here.
pub const FIELD_ALL_PAIRS: f64 = 5e10;

/// One input: its record filters and its field-level filters (one arena per field, in
/// schema order, each holding one filter per record).
#[derive(Clone, Copy, Debug)]
pub struct FieldInput<'a> {
    /// Record-level filters (for candidates).
    pub record: &'a FilterArena,
    /// Field-level filters, one arena per field.
    pub fields: &'a [FilterArena],
}

/// Why a field-level linkage cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FieldLinkError {
    /// Finding or comparing candidates failed.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The model could not be built or fitted.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The inputs' field filters do not line up (another number of fields, or of records,
    /// than the record filters, or fields of different lengths).
    #[error("field-level filters: {0}")]
    Fields(&'static str),
}

/// Settings of a field-level linkage.
#[derive(Clone, Debug)]
pub struct FieldLinker {
    /// Record-level Dice below which a pair is not a candidate.
    pub floor: f64,
    /// Candidates kept per left record (its best by record-level Dice).
    pub per_record: usize,
    /// Up to this many pairs, candidates come from comparing all pairs; beyond, from
    /// Hamming-LSH at the floor (slow: see [`FIELD_ALL_PAIRS`]).
    pub all_pairs_limit: f64,
    /// Comparison levels, the same for every field.
    pub bands: Bands,
    /// How EM runs (by default `u` stays as the second-best pairs give it).
    pub em: EmSettings,
    /// A fixed threshold on the match probability instead of the model's choice.
    pub threshold: Option<f64>,
    /// The kernel.
    pub kernel: Kernel,
}

impl Default for FieldLinker {
    fn default() -> Self {
        Self {
            floor: DEFAULT_FLOOR,
            per_record: DEFAULT_PER_RECORD,
            all_pairs_limit: FIELD_ALL_PAIRS,
            bands: Bands::default(),
            em: EmSettings { fix_u: true, ..EmSettings::default() },
            threshold: None,
            kernel: Kernel::detect(),
        }
    }
}

/// A linked pair with its evidence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoredPair {
    /// Position in the left input.
    pub left: u32,
    /// Position in the right input.
    pub right: u32,
    /// Match weight (log2 odds).
    pub weight: f64,
    /// Match probability under the fitted model.
    pub probability: f64,
}

/// Quality the fitted model expects of the chosen matches (no ground truth involved; true
/// links outside the candidates are not counted, so recall is optimistic).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Expected {
    /// Expected share of the matches that are true.
    pub precision: f64,
    /// Expected share of the true links (among those greedy could keep) matched.
    pub recall: f64,
    /// Expected F1.
    pub f1: f64,
}

/// A finished field-level linkage.
#[derive(Clone, Debug)]
pub struct FieldLinkage {
    /// The fitted model.
    pub fit: Fit,
    /// Candidate pairs scored.
    pub candidates: usize,
    /// How candidates were found, for a report.
    pub blocking: String,
    /// The match-probability threshold chosen.
    pub threshold: f64,
    /// What the model expects of the matches.
    pub expected: Expected,
    /// The matches, by left then right position.
    pub matches: Vec<ScoredPair>,
}

impl FieldLinker {
    /// Links two inputs on their field-level evidence.
    ///
    /// # Errors
    /// [`FieldLinkError::Fields`] when field filters do not line up with the record
    /// filters or with each other; otherwise as [`Linker::search`] and [`fit`].
    pub fn link(
        &self,
        left: FieldInput<'_>,
        right: FieldInput<'_>,
    ) -> Result<FieldLinkage, FieldLinkError> {
        check_inputs(left, right)?;
        if let Some(t) = self.threshold {
            check_threshold(t)?;
        }
        let all_pairs = left.record.len() as f64 * right.record.len() as f64;
        let searcher = Linker {
            threshold: Threshold::Fixed(self.floor),
            top_k: (all_pairs <= self.all_pairs_limit).then_some(self.per_record),
            solver: Solver::None,
            kernel: self.kernel,
            ..Linker::default()
        };
        let chosen = ChosenThreshold { value: self.floor, auto: None, profile: None };
        let search = searcher.search(left.record, right.record, chosen, true)?;
        let levels: Vec<usize> = vec![self.bands.levels(); left.fields.len()];
        let vectors = self.compare(left, right, search.pairs.iter().map(|c| (c.left, c.right)));
        // Bests and seconds are candidates: their vectors are picked, not recomputed.
        let [best_vectors, seconds] = by_rank(&search.pairs).map(|ranked| {
            let mut picked = Comparisons::new(vectors.fields());
            for v in ranked.iter().filter_map(|&i| vectors.get(i)) {
                picked.push(v);
            }
            picked
        });
        let u = u_from(&seconds, &levels)?;
        let n = left.record.len().min(right.record.len()) as f64;
        let prior = (0.5 * n / best_vectors.len().max(1) as f64).clamp(1e-4, 0.5);
        let mut fit = fit(&best_vectors, Model::starting(prior, u)?, self.em)?;
        // The fit's prior is the share of matches among the bests; among all candidates
        // the same matches are a smaller share.
        let matches = fit.model.prior * best_vectors.len() as f64;
        fit.model.prior = (matches / search.pairs.len().max(1) as f64).clamp(1e-9, 1.0 - 1e-9);
        let scored: Vec<Candidate> = search
            .pairs
            .iter()
            .zip(vectors.iter())
            .map(|(c, v)| {
                let weight = fit.model.weight(v)?;
                Ok(Candidate { left: c.left, right: c.right, score: weight })
            })
            .collect::<Result<_, ModelError>>()?;
        let kept = greedy(&scored);
        let probabilities: Vec<f64> = kept.iter().map(|c| Model::probability(c.score)).collect();
        let (threshold, chosen) = match self.threshold {
            Some(t) => (t, probabilities.partition_point(|p| *p >= t)),
            None => choose(&probabilities),
        };
        let expected = expectation(&probabilities, chosen);
        let mut matches: Vec<ScoredPair> = kept[..chosen]
            .iter()
            .zip(&probabilities)
            .map(|(c, &probability)| ScoredPair {
                left: c.left,
                right: c.right,
                weight: c.score,
                probability,
            })
            .collect();
        matches.sort_unstable_by_key(|p| (p.left, p.right));
        Ok(FieldLinkage {
            fit,
            candidates: search.pairs.len(),
            blocking: search.blocking,
            threshold,
            expected,
            matches,
        })
    }

    /// The comparison vectors of these pairs.
    fn compare(
        &self,
        left: FieldInput<'_>,
        right: FieldInput<'_>,
        pairs: impl Iterator<Item = (u32, u32)>,
    ) -> Comparisons {
        let mut out = Comparisons::new(left.fields.len());
        let mut v = vec![0u8; left.fields.len()];
        for (i, j) in pairs {
            for ((slot, l), r) in v.iter_mut().zip(left.fields).zip(right.fields) {
                *slot = match (l.get(i as usize), r.get(j as usize)) {
                    (Some(a), Some(b)) if a.popcount() > 0 && b.popcount() > 0 => {
                        let common = self.kernel.and_count(a.words(), b.words());
                        let dice =
                            Measure::Dice.score(common, a.popcount(), b.popcount(), l.bits());
                        self.bands.level(dice)
                    }
                    _ => MISSING,
                };
            }
            out.push(&v);
        }
        out
    }
}

/// Both inputs' field filters: as many fields on each side, one filter per record, and
/// each field of one length on both sides.
fn check_inputs(left: FieldInput<'_>, right: FieldInput<'_>) -> Result<(), FieldLinkError> {
    if left.fields.is_empty() || left.fields.len() != right.fields.len() {
        return Err(FieldLinkError::Fields("the inputs have different numbers of fields"));
    }
    if left.fields.len() > MAX_FIELDS {
        return Err(FieldLinkError::Fields("more fields than a model compares (64)"));
    }
    for side in [left, right] {
        if side.fields.iter().any(|f| f.len() != side.record.len()) {
            return Err(FieldLinkError::Fields("a field has another number of records"));
        }
    }
    if left.fields.iter().zip(right.fields).any(|(l, r)| l.bits() != r.bits()) {
        return Err(FieldLinkError::Fields("a field's filters differ in length"));
    }
    Ok(())
}

/// The positions in `pairs` of each left record's best and second-best candidates by
/// record-level score (ties to the lower right position).
fn by_rank(pairs: &[Candidate]) -> [Vec<usize>; 2] {
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (&pairs[a], &pairs[b]);
        a.left.cmp(&b.left).then(b.score.total_cmp(&a.score)).then(a.right.cmp(&b.right))
    });
    let mut out: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    let mut rank = 0;
    for (k, &i) in order.iter().enumerate() {
        rank = if k > 0 && pairs[order[k - 1]].left == pairs[i].left { rank + 1 } else { 0 };
        if let Some(list) = out.get_mut(rank) {
            list.push(i);
        }
    }
    out
}

/// What the model expects of taking the first `taken` of greedy's pairs (best first),
/// given their match probabilities: `Σ p` over those taken are true links, out of `Σ p`
/// over all.
fn expectation(probabilities: &[f64], taken: usize) -> Expected {
    let links: f64 = probabilities.iter().sum();
    let true_links: f64 = probabilities[..taken].iter().sum();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    Expected {
        precision: ratio(true_links, taken as f64),
        recall: ratio(true_links, links),
        f1: ratio(2.0 * true_links, taken as f64 + links),
    }
}

/// The threshold on match probability that maximises the expected F1 over greedy's
/// pairs (probabilities best first), and how many pairs pass it.
fn choose(probabilities: &[f64]) -> (f64, usize) {
    let links: f64 = probabilities.iter().sum();
    let (mut best, mut best_f1, mut true_links) = ((1.0, 0), 0.0, 0.0);
    for (k, p) in probabilities.iter().enumerate() {
        true_links += p;
        let f1 = 2.0 * true_links / ((k + 1) as f64 + links);
        if f1 > best_f1 {
            (best, best_f1) = ((*p, k + 1), f1);
        }
    }
    best
}
