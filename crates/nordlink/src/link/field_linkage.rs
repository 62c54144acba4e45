//! Linking on field-level evidence (Fellegi–Sunter): candidates come from match keys or
//! from record filters, field-level filters say how far each field agrees, and a model
//! learnt from the candidates themselves weighs that evidence. No ground truth is used
//! anywhere; docs/linkage.md has the method's measurements and what did not work.
//!
//! * Comparison vectors: each field's Dice banded ([`Bands`]); a field empty on either
//!   side is [`MISSING`]. With a salt key ([`SALT_KEY`]), the salts' agreement is one more
//!   field, and filters made under different salts count as missing.
//! * On match-key candidates ([`CandidateSource::Keys`]): the pairs sharing one key; `u`
//!   from random pairs (of equal salt); `m` and the prior by EM on the block with the
//!   fields the key decides left out; exact agreement weighed by the value's frequency.
//! * On filter candidates ([`CandidateSource::Filters`]): each left record's best
//!   [`FieldLinker::per_record`] by record-level Dice at or above [`FieldLinker::floor`];
//!   `u` measured on each record's second-best candidate, a look-alike that is almost
//!   never the match; EM fits `m` and the prior on each record's best.
//! * Matches: greedy 1-to-1 by match weight, then a threshold on the match probability
//!   that maximises the F1 the model expects: with `p` the probabilities of the pairs
//!   greedy kept, taking the best `k` expects `Σ_top-k p` true links out of `Σ p`.

use super::candidates::position;
use super::fellegi_sunter::{
    Bands, Comparisons, EmSettings, Fit, MAX_FIELDS, MISSING, Model, ModelError, fit, u_from,
};
use super::linker::{ChosenThreshold, Linker, Solver, Threshold};
use super::{Candidate, Kernel, LinkError, Measure, check_threshold, greedy};
use crate::clk::{FilterArena, MatchKeyValue, NAMES_UNORDERED_KEY, SALT_KEY};

use std::collections::{BTreeMap, HashMap};

/// A fitted model with its candidates.
struct Fitted {
    /// Candidate pairs (left, right).
    pairs: Vec<(u32, u32)>,
    /// Their comparison vectors, with the fields left out set missing.
    vectors: Comparisons,
    fit: Fit,
    /// Per model field, whether the candidates' key decides it.
    left_out: Vec<bool>,
    /// How the candidates were found, for a report.
    blocking: String,
    /// Whether `u` comes from random pairs (then frequencies may refine it).
    u_random: bool,
}

/// Weighs pairs under a fitted model: the model's field weights, 0 for fields left out,
/// and the frequency adjustment of exact agreement when there is one.
struct Weigher<'a> {
    model: &'a Model,
    left_out: &'a [bool],
    frequencies: Option<&'a Frequencies<'a>>,
    left: FieldInput<'a>,
}

impl Weigher<'_> {
    /// Field `f`'s weight in `pair` at `level`.
    fn field(&self, pair: (u32, u32), f: usize, level: u8) -> f64 {
        if self.left_out.get(f).copied().unwrap_or(false) {
            return 0.0;
        }
        let w = self.model.field_weight(f, level);
        match (self.frequencies, self.model.u.get(f).and_then(|u| u.first())) {
            (Some(freq), Some(&u_top)) if level == 0 && f < self.left.fields.len() => {
                w + freq.adjustment(self.left, f, pair, u_top)
            }
            _ => w,
        }
    }

    /// A pair's match weight: the prior's plus every field's.
    fn weight(&self, pair: (u32, u32), levels: &[u8]) -> f64 {
        let fields: f64 = levels.iter().enumerate().map(|(f, &l)| self.field(pair, f, l)).sum();
        self.model.prior_weight() + fields
    }
}

/// Random pairs that measure `u` on key-blocked candidates: the rarest level worth a
/// weight (about 1 in 10⁵ pairs) is then seen some 20 times.
pub(crate) const RANDOM_PAIRS: usize = 2_000_000;

/// splitmix64 with a fixed seed: the random pairs, and so the outputs, are the same at
/// every run. Also the simulations of `fellegi_sunter`'s tests.
pub(super) struct SplitMix(pub(super) u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(super) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    #[allow(clippy::cast_possible_truncation, reason = "the product is below n")]
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

/// How a block of pairs chosen by a key bears on one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bearing {
    /// The key leaves the field as random pairs have it (up to what matches explain).
    Free,
    /// The key shifts the field's levels by more pairs than there can be matches
    /// (`max_matches`): a surname shares its initial in a block on the initial.
    Shifted,
    /// The key fixes the field: at least 90 % of the block's pairs agree on it at the top
    /// level, where random pairs mostly do not (the birth date in a birth-date block).
    Decided,
}

/// How a block bears on each field, from its levels against random pairs' (`u`).
fn bearings(block: &Comparisons, u: &[Vec<f64>], max_matches: f64) -> Vec<Bearing> {
    let mut counts: Vec<Vec<f64>> = u.iter().map(|l| vec![0.0; l.len()]).collect();
    for v in block.iter() {
        for (f, &l) in v.iter().enumerate() {
            if let Some(c) = counts[f].get_mut(usize::from(l)) {
                *c += 1.0;
            }
        }
    }
    counts
        .iter()
        .zip(u)
        .map(|(c, uf)| {
            let seen: f64 = c.iter().sum();
            let top = c.first().copied().unwrap_or(0.0);
            let excess: f64 = c.iter().zip(uf).map(|(x, p)| (x - p * seen).max(0.0)).sum();
            if seen > 0.0 && top >= 0.9 * seen && uf.first().is_some_and(|&u0| u0 < 0.9) {
                Bearing::Decided
            } else if excess > max_matches {
                Bearing::Shifted
            } else {
                Bearing::Free
            }
        })
        .collect()
}

/// The pairs whose keys are equal (a missing key, 0, equals nothing), by left then right
/// position; `None` when there would be more than `budget`, counted before any is made.
fn key_pairs(left: &[u64], right: &[u64], budget: f64) -> Option<Vec<(u32, u32)>> {
    let mut blocks: HashMap<u64, Vec<u32>> = HashMap::new();
    for (j, &v) in right.iter().enumerate().filter(|(_, v)| **v != 0) {
        blocks.entry(v).or_default().push(position(j));
    }
    let block = |v: &u64| blocks.get(v).filter(|_| *v != 0);
    let count: f64 = left.iter().filter_map(block).map(|b| b.len() as f64).sum();
    if count > budget {
        return None;
    }
    let mut out = Vec::new();
    for (i, v) in left.iter().enumerate() {
        if let Some(b) = block(v) {
            out.extend(b.iter().map(|&j| (position(i), j)));
        }
    }
    Some(out)
}

/// Each field filter's frequency among the right input's records of the same salt: for
/// the term-frequency adjustment (identical filters stand for identical values).
struct Frequencies<'a> {
    /// Per field, the count of each (salt, filter).
    counts: Vec<HashMap<(u64, &'a [u64]), f64>>,
    /// Records per salt.
    sizes: HashMap<u64, f64>,
    right: FieldInput<'a>,
    salt: Option<&'a [u64]>,
}

impl<'a> Frequencies<'a> {
    fn new(right: FieldInput<'a>, salt: Option<&'a [u64]>) -> Self {
        let group = |j: usize| salt.map_or(0, |s| s[j]);
        let mut sizes: HashMap<u64, f64> = HashMap::new();
        for j in 0..right.record.len() {
            *sizes.entry(group(j)).or_insert(0.0) += 1.0;
        }
        let counts = right
            .fields
            .iter()
            .map(|field| {
                let mut counts: HashMap<(u64, &[u64]), f64> = HashMap::new();
                for j in 0..field.len() {
                    if let Some(b) = field.get(j).filter(|b| b.popcount() > 0) {
                        *counts.entry((group(j), b.words())).or_insert(0.0) += 1.0;
                    }
                }
                counts
            })
            .collect();
        Self { counts, sizes, right, salt }
    }

    /// The change to field `f`'s weight in pair (i, j) when its filters are identical:
    /// the field's average `u` at the top level replaced by the value's own frequency.
    fn adjustment(&self, left: FieldInput<'_>, f: usize, (i, j): (u32, u32), u_top: f64) -> f64 {
        let (Some(a), Some(b)) =
            (left.fields[f].get(i as usize), self.right.fields[f].get(j as usize))
        else {
            return 0.0;
        };
        if a.popcount() == 0 || a.words() != b.words() {
            return 0.0;
        }
        let g = self.salt.map_or(0, |s| s[j as usize]);
        match (self.counts[f].get(&(g, b.words())), self.sizes.get(&g)) {
            (Some(count), Some(size)) => (u_top / (count / size)).log2(),
            _ => 0.0,
        }
    }
}

/// The key of the two names in either order, then the given name's and the surname's
/// ordered keys (the default keys' names), when an input carries all three.
type NameOrderKeys<'a> = [&'a [u64]; 3];

/// The name-order keys among an input's keys ([`NameOrderKeys`]).
fn name_order_keys(keys: &[KeyColumn]) -> Option<NameOrderKeys<'_>> {
    let find = |name: &str| keys.iter().find(|k| k.name == name).map(|k| &k.values[..]);
    Some([
        find(NAMES_UNORDERED_KEY)?,
        find("given_name_phonetic_year")?,
        find("surname_phonetic_year")?,
    ])
}

/// Whether inputs with these keys are compared on name order ([`NAME_ORDER_FIELD`]).
pub fn compares_name_order(keys: &[KeyColumn]) -> bool {
    name_order_keys(keys).is_some()
}

/// The model field that reads names written the other way round: after the filter
/// fields (and before the salt). Level 0 (agree): the two names' codes agree in either
/// order but not one by one; 1: they do not; missing when both names agree one by one
/// (the filters already weigh that) or a key is missing. All three keys carry the birth
/// year, so two records of different years never read as swapped, and `u` from random
/// pairs means the same without a salt key as with one (measured: without the year in the
/// order-free key, unsalted random pairs of one name in two years made `u` 30 times too
/// large and EM gave the field up, m 0.001).
pub const NAME_ORDER_FIELD: &str = "names_swapped";

fn name_order_level(l: NameOrderKeys<'_>, r: NameOrderKeys<'_>, i: usize, j: usize) -> u8 {
    let agree = |k: usize| l[k][i] != 0 && l[k][i] == r[k][j];
    if l[0][i] == 0 || r[0][j] == 0 || (agree(1) && agree(2)) {
        MISSING
    } else {
        u8::from(!agree(0))
    }
}

/// The salt key's values of the left and right input.
type SaltKeys<'a> = (&'a [u64], &'a [u64]);

/// The salt key's values on both sides, when both inputs carry one.
fn salt_keys<'a>(
    left: FieldInput<'a>,
    right: FieldInput<'a>,
) -> Result<Option<SaltKeys<'a>>, FieldLinkError> {
    let find = |side: FieldInput<'a>| side.keys.iter().find(|k| k.name == SALT_KEY);
    Ok(match (find(left), find(right)) {
        (Some(l), Some(r)) => Some((&l.values, &r.values)),
        (None, None) => None,
        _ => return Err(FieldLinkError::Keys("only one input has a salt key")),
    })
}

/// Default [`FieldLinker::containment`].
pub const DEFAULT_CONTAINMENT: f64 = 0.7;

/// Default record-level Dice below which pairs are not considered.
pub const DEFAULT_FLOOR: f64 = 0.5;

/// Default candidates kept per left record.
pub const DEFAULT_PER_RECORD: usize = 10;

/// Default largest number of pairs compared all against all for candidates (about 20 s
/// on 2 cores with AVX-512). The floor is far below a Dice linkage's threshold, and
/// Hamming-LSH at such a floor needs hundreds of bands that meet almost every pair:
/// scanning all pairs for each record's best is faster up to here.
pub const FIELD_ALL_PAIRS: f64 = 5e10;

/// Default most pairs one match key may bring as candidates, per record of both inputs:
/// a key with bigger blocks (a phonetic code alone, the salt) is not used for blocking.
pub const DEFAULT_KEY_PAIRS_PER_RECORD: f64 = 50.0;

/// Most pairs one match key may bring, whatever the inputs' size. Each candidate holds
/// about 40 bytes while it is scored (the pair, its vector, its weight, its place in the
/// greedy solver): some 2 GiB at this bound. Counted before any pair is made.
pub const MAX_KEY_PAIRS: f64 = 5e7;

/// One input: its record filters, its field-level filters (one arena per field, in
/// schema order, each holding one filter per record) and its match keys.
#[derive(Clone, Copy, Debug)]
pub struct FieldInput<'a> {
    /// Record-level filters (for candidates).
    pub record: &'a FilterArena,
    /// Field-level filters, one arena per field.
    pub fields: &'a [FilterArena],
    /// Match keys (`nordlink-matchkey/1`), the same keys in the same order on both sides;
    /// may be empty.
    pub keys: &'a [KeyColumn],
}

/// One match key of every record of an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyColumn {
    /// The key's name ([`SALT_KEY`] for the key of the filters' salt).
    pub name: String,
    /// Per record, the key's first 8 bytes as a little-endian number; 0 where the key is
    /// missing (a key whose first 8 bytes are 0, probability 2⁻⁶⁴, is stored as 1).
    pub values: Vec<u64>,
}

impl KeyColumn {
    /// The stored form of a key (`None`: missing).
    pub fn value(key: Option<&MatchKeyValue>) -> u64 {
        key.map_or(0, |k| {
            let mut first = [0u8; 8];
            first.copy_from_slice(&k[..8]);
            u64::from_le_bytes(first).max(1)
        })
    }
}

/// Where a field-level linkage finds its candidate pairs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CandidateSource {
    /// Match keys when a key can be used ([`CandidateSource::Keys`]), else filters.
    #[default]
    Auto,
    /// Each left record's best record-level Dice scores ([`FieldLinker::per_record`]).
    Filters,
    /// Pairs that share a match key: the first key, in the inputs' order, whose blocks are
    /// small enough ([`FieldLinker::key_pairs_per_record`]) and leave three fields free.
    Keys,
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
    /// The inputs' match keys do not line up, or none can block.
    #[error("match keys: {0}")]
    Keys(&'static str),
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
    /// A field whose Dice falls below this while at least this share of the smaller
    /// filter's bits are set in the larger gets a level of its own after the bands
    /// ([`FieldLinker::contained_level`]): one value holds the other, as a given name
    /// holds itself with a second name dropped. `None`: the bands alone.
    pub containment: Option<f64>,
    /// How EM runs (by default `u` stays as the second-best pairs give it).
    pub em: EmSettings,
    /// A fixed threshold on the match probability instead of the model's choice.
    pub threshold: Option<f64>,
    /// Where candidates come from.
    pub candidates: CandidateSource,
    /// Weigh exact agreement by how common the value is (Splink's term-frequency
    /// adjustment): two records that share a rare name are likelier the same person than
    /// two that share a common one. Identical field filters stand for identical values.
    /// Match-key candidates only (on filter candidates, measured, it broke the fit).
    pub term_frequencies: bool,
    /// A match key blocks only if its blocks hold at most this many pairs per record of
    /// both inputs (and at most [`MAX_KEY_PAIRS`]).
    pub key_pairs_per_record: f64,
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
            containment: Some(DEFAULT_CONTAINMENT),
            em: EmSettings { fix_u: true, ..EmSettings::default() },
            threshold: None,
            candidates: CandidateSource::Auto,
            term_frequencies: true,
            key_pairs_per_record: DEFAULT_KEY_PAIRS_PER_RECORD,
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

/// Why a match scored as it did: per model field (the fields in order, then the salt
/// when there is a salt key), its comparison level and its weight. The weights plus the
/// model's prior weight make the match weight.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// Comparison level per field ([`MISSING`] when empty on either side).
    pub levels: Vec<u8>,
    /// Weight per field (log2 Bayes factor; 0 for a field left out or missing).
    pub weights: Vec<f64>,
}

/// A finished field-level linkage.
#[derive(Clone, Debug)]
pub struct FieldLinkage {
    /// The fitted model.
    pub fit: Fit,
    /// Per model field, whether it was left out of the weights because the key that chose
    /// the candidates decides it (every candidate agrees on the birth date in a birth-date
    /// block); its `m` and `u` are then placeholders.
    pub left_out: Vec<bool>,
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
    /// Per match, in the same order, why it scored as it did.
    pub explanations: Vec<Explanation>,
}

impl FieldLinker {
    /// The level of a field whose values contain one another ([`Self::containment`]):
    /// the one after the bands.
    pub fn contained_level(&self) -> u8 {
        u8::try_from(self.bands.levels()).unwrap_or(MISSING - 1)
    }

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
        let salt = salt_keys(left, right)?;
        let filter_levels = self.bands.levels() + usize::from(self.containment.is_some());
        let mut levels: Vec<usize> = vec![filter_levels; left.fields.len()];
        if compares_name_order(left.keys) {
            levels.push(2);
        }
        if salt.is_some() {
            levels.push(2);
        }
        let no_key = "no match key both inputs share has blocks small enough to block on and \
                      leaves three fields free";
        let fitted = match self.candidates {
            CandidateSource::Filters => self.fit_on_filters(left, right, salt, &levels)?,
            CandidateSource::Keys => {
                self.fit_on_keys(left, right, salt, &levels)?.ok_or(FieldLinkError::Keys(no_key))?
            }
            CandidateSource::Auto => match self.fit_on_keys(left, right, salt, &levels)? {
                Some(fitted) => fitted,
                None => self.fit_on_filters(left, right, salt, &levels)?,
            },
        };
        let Fitted { pairs, vectors, fit, left_out, blocking, u_random } = fitted;
        // Frequencies refine a `u` measured on random pairs; the look-alikes that give `u`
        // on filter candidates already share common values far more often than random.
        let frequencies =
            (self.term_frequencies && u_random).then(|| Frequencies::new(right, salt.map(|s| s.1)));
        let weigh = Weigher {
            model: &fit.model,
            left_out: &left_out,
            frequencies: frequencies.as_ref(),
            left,
        };
        let weights: Vec<f64> =
            pairs.iter().zip(vectors.iter()).map(|(&pair, v)| weigh.weight(pair, v)).collect();
        let scored: Vec<Candidate> = pairs
            .iter()
            .zip(&weights)
            .filter(|(_, w)| w.is_finite())
            .map(|(&(l, r), &score)| Candidate { left: l, right: r, score })
            .collect();
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
        let explanations = self.explain(right, salt, &matches, &weigh);
        Ok(FieldLinkage {
            fit,
            left_out,
            explanations,
            candidates: pairs.len(),
            blocking,
            threshold,
            expected,
            matches,
        })
    }

    /// Each match's comparison levels (as compared, left-out fields included) and
    /// per-field weights.
    fn explain(
        &self,
        right: FieldInput<'_>,
        salt: Option<SaltKeys<'_>>,
        matches: &[ScoredPair],
        weigh: &Weigher<'_>,
    ) -> Vec<Explanation> {
        let pairs: Vec<(u32, u32)> = matches.iter().map(|p| (p.left, p.right)).collect();
        let vectors = self.compare(weigh.left, right, salt, &pairs);
        pairs
            .iter()
            .zip(vectors.iter())
            .map(|(&pair, levels)| Explanation {
                levels: levels.to_vec(),
                weights: (0..levels.len()).map(|f| weigh.field(pair, f, levels[f])).collect(),
            })
            .collect()
    }

    /// Candidates from record-level Dice: `u` from each left record's second-best
    /// candidate, `m` and the prior by EM on the bests (the module's steps 1 and 3).
    fn fit_on_filters(
        &self,
        left: FieldInput<'_>,
        right: FieldInput<'_>,
        salt: Option<SaltKeys<'_>>,
        levels: &[usize],
    ) -> Result<Fitted, FieldLinkError> {
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
        let pairs: Vec<(u32, u32)> = search.pairs.iter().map(|c| (c.left, c.right)).collect();
        let vectors = self.compare(left, right, salt, &pairs);
        // Bests and seconds are candidates: their vectors are picked, not recomputed.
        let [best_vectors, seconds] = by_rank(&search.pairs).map(|ranked| {
            let mut picked = Comparisons::new(vectors.fields());
            for v in ranked.iter().filter_map(|&i| vectors.get(i)) {
                picked.push(v);
            }
            picked
        });
        let u = u_from(&seconds, levels)?;
        let n = left.record.len().min(right.record.len()) as f64;
        let prior = (0.5 * n / best_vectors.len().max(1) as f64).clamp(1e-4, 0.5);
        let mut fit = fit(&best_vectors, Model::starting(prior, u)?, self.em)?;
        // The fit's prior is the share of matches among the bests; among all candidates
        // the same matches are a smaller share.
        let matches = fit.model.prior * best_vectors.len() as f64;
        fit.model.prior = (matches / pairs.len().max(1) as f64).clamp(1e-9, 1.0 - 1e-9);
        let left_out = vec![false; levels.len()];
        Ok(Fitted { pairs, vectors, fit, left_out, blocking: search.blocking, u_random: false })
    }

    /// Candidates from one match key's block: the first key, in the inputs' order (the
    /// schema's), whose block fits the pair budget and leaves three fields free (`u` from
    /// random pairs; `m` and the prior by EM on the block with the fields the key bears on
    /// left out). The default keys put the birth date first: it is the value true pairs
    /// agree on most often, and it leaves every name free. The smallest block was tried
    /// as the rule instead and picked a name-code block that held few of the matches.
    ///
    /// Inside a birth-date block every pair agrees on the birth date, so the block says
    /// nothing of how often matches do; but the names there are as random pairs have
    /// them, so EM can learn theirs (Splink's way). A field the key decides or shifts by
    /// more than matches could explain ([`bearings`]) is left out. EM needs three free
    /// fields. Only one block is used: measured on the 110 k cross-border set, adding the
    /// other keys' blocks, each with its own model, lost more precision than it gained
    /// recall (docs/linkage.md), because keys on names also bear on sex and given names
    /// in ways no field-by-field test sees.
    fn fit_on_keys(
        &self,
        left: FieldInput<'_>,
        right: FieldInput<'_>,
        salt: Option<SaltKeys<'_>>,
        levels: &[usize],
    ) -> Result<Option<Fitted>, FieldLinkError> {
        let records = (left.record.len() + right.record.len()) as f64;
        let budget = (self.key_pairs_per_record * records).min(MAX_KEY_PAIRS);
        let mut u = None;
        let n = left.record.len().min(right.record.len()) as f64;
        // The order-free name key is evidence only (`names_swapped`), never the block.
        let blocks = |l: &&KeyColumn| l.name != SALT_KEY && l.name != NAMES_UNORDERED_KEY;
        for (l, r) in left.keys.iter().zip(right.keys).filter(|(l, _)| blocks(l)) {
            let Some(pairs) = key_pairs(&l.values, &r.values, budget) else { continue };
            let u = match &mut u {
                Some(u) => u,
                None => u.insert(self.random_u(left, right, salt, levels)?),
            };
            let mut vectors = self.compare(left, right, salt, &pairs);
            let left_out: Vec<bool> =
                bearings(&vectors, u, n).iter().map(|b| *b != Bearing::Free).collect();
            if left_out.iter().filter(|o| !**o).count() < 3 {
                continue;
            }
            vectors.blank(&left_out);
            let prior = (0.5 * n / pairs.len().max(1) as f64).clamp(1e-6, 0.5);
            let fit = fit(&vectors, Model::starting(prior, u.clone())?, self.em)?;
            let all = left.record.len() as f64 * right.record.len() as f64;
            let blocking = format!(
                "match key {} ({} pairs, reduction ratio {:.6})",
                l.name,
                pairs.len(),
                1.0 - pairs.len() as f64 / all.max(1.0),
            );
            return Ok(Some(Fitted { pairs, vectors, fit, left_out, blocking, u_random: true }));
        }
        Ok(None)
    }

    /// `u` from [`RANDOM_PAIRS`] random pairs, which are non-matches but for a negligible
    /// few. With a salt key, filters are compared in random pairs *of equal salt* (their
    /// `u` given that the salts agree, which is what they mean in a pair that shares one)
    /// and the salt's own `u` is the exact share of all pairs whose salts agree.
    fn random_u(
        &self,
        left: FieldInput<'_>,
        right: FieldInput<'_>,
        salt: Option<SaltKeys<'_>>,
        levels: &[usize],
    ) -> Result<Vec<Vec<f64>>, FieldLinkError> {
        let (nl, nr) = (left.record.len(), right.record.len());
        let mut rng = SplitMix(0x6e6f_72646c696e6b);
        let samples = RANDOM_PAIRS.min(nl.saturating_mul(nr));
        let mut pairs = Vec::with_capacity(samples);
        let mut salt_agree = None;
        match salt {
            None => {
                for _ in 0..samples {
                    pairs.push((position(rng.below(nl)), position(rng.below(nr))));
                }
            }
            Some((ls, rs)) => {
                // Groups of equal salt; a pair is drawn uniformly from the pairs within
                // groups: a group by its number of pairs, then one member of each side.
                // Ordered by salt, so the draws are the same at every run.
                let mut groups: BTreeMap<u64, (Vec<u32>, Vec<u32>)> = BTreeMap::new();
                for (i, &v) in ls.iter().enumerate().filter(|(_, v)| **v != 0) {
                    groups.entry(v).or_default().0.push(position(i));
                }
                for (j, &v) in rs.iter().enumerate().filter(|(_, v)| **v != 0) {
                    groups.entry(v).or_default().1.push(position(j));
                }
                let groups: Vec<(Vec<u32>, Vec<u32>)> =
                    groups.into_values().filter(|(l, r)| !l.is_empty() && !r.is_empty()).collect();
                let mut cumulative = Vec::with_capacity(groups.len());
                let mut total = 0.0;
                for (l, r) in &groups {
                    total += l.len() as f64 * r.len() as f64;
                    cumulative.push(total);
                }
                let salted = |s: &[u64]| s.iter().filter(|v| **v != 0).count() as f64;
                salt_agree = Some(total / (salted(ls) * salted(rs)).max(1.0));
                if total > 0.0 {
                    for _ in 0..samples {
                        let at = rng.unit() * total;
                        let g = cumulative.partition_point(|c| *c <= at).min(groups.len() - 1);
                        let (l, r) = &groups[g];
                        pairs.push((l[rng.below(l.len())], r[rng.below(r.len())]));
                    }
                }
            }
        }
        let vectors = self.compare(left, right, salt, &pairs);
        let mut u = u_from(&vectors, levels)?;
        if let (Some(agree), Some(last)) = (salt_agree, u.last_mut()) {
            let agree = agree.clamp(1e-9, 1.0 - 1e-9);
            *last = vec![agree, 1.0 - agree];
        }
        Ok(u)
    }

    /// The comparison vectors of these pairs: each field's band, then, with a salt key,
    /// whether the salts agree. Filters made under different salts are not comparable,
    /// so their fields count as missing in such pairs.
    fn compare(
        &self,
        left: FieldInput<'_>,
        right: FieldInput<'_>,
        salt: Option<SaltKeys<'_>>,
        pairs: &[(u32, u32)],
    ) -> Comparisons {
        let order = name_order_keys(left.keys).zip(name_order_keys(right.keys));
        let width = left.fields.len() + usize::from(order.is_some()) + usize::from(salt.is_some());
        let mut out = Comparisons::new(width);
        let mut v = vec![0u8; width];
        let contained = self.contained_level();
        for &(i, j) in pairs {
            if let Some((l, r)) = order {
                v[left.fields.len()] = name_order_level(l, r, i as usize, j as usize);
            }
            let salts = salt.map(|(l, r)| (l[i as usize], r[j as usize]));
            let unsalted = matches!(salts, Some((a, b)) if a != 0 && b != 0 && a != b);
            if let Some((a, b)) = salts {
                v[width - 1] = match (a, b) {
                    (0, _) | (_, 0) => MISSING,
                    _ => u8::from(a != b),
                };
            }
            for ((slot, l), r) in v.iter_mut().zip(left.fields).zip(right.fields) {
                if unsalted {
                    *slot = MISSING;
                    continue;
                }
                *slot = match (l.get(i as usize), r.get(j as usize)) {
                    (Some(a), Some(b)) if a.popcount() > 0 && b.popcount() > 0 => {
                        let common = self.kernel.and_count(a.words(), b.words());
                        let dice =
                            Measure::Dice.score(common, a.popcount(), b.popcount(), l.bits());
                        let level = self.bands.level(dice);
                        let smaller = a.popcount().min(b.popcount());
                        match self.containment {
                            Some(c) if dice < c && f64::from(common) >= c * f64::from(smaller) => {
                                contained
                            }
                            _ => level,
                        }
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
    if left.keys.len() != right.keys.len()
        || left.keys.iter().zip(right.keys).any(|(l, r)| l.name != r.name)
    {
        return Err(FieldLinkError::Keys("the inputs carry different match keys"));
    }
    for side in [left, right] {
        if side.keys.iter().any(|k| k.values.len() != side.record.len()) {
            return Err(FieldLinkError::Keys("a key has another number of records"));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One field's filters as the record filters too.
    fn input(a: &[FilterArena]) -> FieldInput<'_> {
        FieldInput { record: &a[0], fields: a, keys: &[] }
    }

    fn arena(filters: &[[u64; 2]]) -> FilterArena {
        let mut a = FilterArena::new(128).unwrap();
        for f in filters {
            a.push_words(f).unwrap();
        }
        a
    }

    #[test]
    fn a_value_inside_another_gets_the_contained_level() {
        // A value, the same value with more bits (a second name), an unrelated value.
        let short = [0b1111_1111u64, 0];
        let long = [0b1111_1111u64 | 0xFFFF_0000, 0xFF];
        let other = [0, 0xFFFF_FFFF];
        let (l, r) = ([arena(&[short, other])], [arena(&[long, short])]);
        let (l, r) = (&l[..], &r[..]);
        let pairs = [(0, 0), (0, 1), (1, 0)];
        let linker = FieldLinker::default();
        let got = linker.compare(input(l), input(r), None, &pairs);
        // 8 bits inside 32: Dice 0.4, every bit of the shorter in the longer.
        assert_eq!(got.get(0), Some(&[linker.contained_level()][..]));
        assert_eq!(got.get(1), Some(&[0][..]), "equal filters stay at the top level");
        assert_eq!(got.get(2), Some(&[linker.bands.levels() as u8 - 1][..]));
        let bands_only = FieldLinker { containment: None, ..FieldLinker::default() };
        let got = bands_only.compare(input(l), input(r), None, &pairs);
        assert_eq!(got.get(0), Some(&[bands_only.bands.levels() as u8 - 1][..]));
    }

    #[test]
    fn names_the_other_way_round_are_told_apart() {
        // Keys per record: [names in either order, given name, surname]; 0 is missing.
        let left: [Vec<u64>; 3] = [vec![7, 7, 7, 0], vec![1, 1, 1, 1], vec![2, 2, 2, 2]];
        let right: [Vec<u64>; 3] = [vec![7, 7, 8, 7], vec![1, 2, 1, 1], vec![2, 1, 3, 2]];
        let l = [&left[0][..], &left[1][..], &left[2][..]];
        let r = [&right[0][..], &right[1][..], &right[2][..]];
        // Both names agree one by one: the filters weigh that, nothing more to read.
        assert_eq!(name_order_level(l, r, 0, 0), MISSING);
        // Either order agrees, one by one does not: swapped.
        assert_eq!(name_order_level(l, r, 1, 1), 0);
        // Neither: a different surname.
        assert_eq!(name_order_level(l, r, 2, 2), 1);
        // A missing key.
        assert_eq!(name_order_level(l, r, 3, 3), MISSING);
        let column = |name: &str| KeyColumn { name: name.into(), values: vec![1] };
        let keys = ["names_unordered_year", "given_name_phonetic_year", "surname_phonetic_year"];
        assert!(compares_name_order(&keys.map(column)));
        assert!(!compares_name_order(&keys[..2].iter().map(|k| column(k)).collect::<Vec<_>>()));
    }
}
