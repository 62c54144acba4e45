//! Fellegi–Sunter scoring: how much each field's agreement says about a pair being a
//! match, learnt by expectation–maximisation (EM) from the pairs themselves, without
//! ground truth.
//!
//! Each compared pair gets a *comparison vector*: one *level* per field (for filters, the
//! band its field-level Dice falls in; [`MISSING`] when either side has no value). A
//! model holds, per field and level, `m` (the level's probability among matches) and `u`
//! (among non-matches), and the prior share of matches λ. A pair's *match weight* is
//! `log2(λ / (1 − λ)) + Σ log2(m / u)` over its fields, its match probability
//! `1 / (1 + 2^−weight)`: the fields are assumed independent given the match status
//! (conditional independence, the model's one assumption). Missing levels add nothing.
//!
//! [`fit`] runs EM over the distinct vectors with their counts (a few hundred even for
//! millions of pairs), so one iteration costs microseconds. Starting `u` usually comes
//! from random pairs ([`u_from`]), which are almost all non-matches.

use std::collections::HashMap;

/// Most fields one model compares.
pub const MAX_FIELDS: usize = 64;

/// Most levels per field (missing aside).
pub const MAX_LEVELS: usize = 16;

/// The level of a field that cannot be compared (a value missing on either side).
pub const MISSING: u8 = u8::MAX;

/// Default bands of field-level Dice, highest first: at least 0.95 (equal up to a letter
/// in a long value, or hardening noise), 0.85, 0.7, 0.5, and below 0.5.
pub const DEFAULT_BANDS: [f64; 4] = [0.95, 0.85, 0.7, 0.5];

/// Pseudo-count added to each level in every M step: no level's `m` or `u` reaches 0
/// (an infinite weight), and a level seen a few times keeps a sane estimate.
const PSEUDO_COUNT: f64 = 0.5;

/// Smallest and largest prior share of matches a fit may reach.
const PRIOR_RANGE: (f64, f64) = (1e-9, 1.0 - 1e-9);

/// Why a model or its levels are not usable.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// Band limits must fall strictly from at most 1 to more than 0.
    #[error("comparison bands must fall strictly, between 0 (excluded) and 1: {0:?}")]
    BadBands(Vec<f64>),
    /// More than [`MAX_LEVELS`] levels for one field.
    #[error("a field has {0} comparison levels; at most {MAX_LEVELS} are allowed")]
    TooManyLevels(usize),
    /// No fields, or more than [`MAX_FIELDS`].
    #[error("a model compares 1 to {MAX_FIELDS} fields, not {0}")]
    BadFieldCount(usize),
    /// `m`, `u` and the levels disagree in shape, or a probability is outside (0, 1).
    #[error("model parameters of field {field} are not probabilities over its levels")]
    BadParameters {
        /// The field (position).
        field: usize,
    },
    /// A prior outside (0, 1).
    #[error("the prior share of matches {0} is not between 0 and 1")]
    BadPrior(f64),
    /// A comparison vector of another length than the model's fields, or with a level the
    /// field does not have.
    #[error("a comparison vector does not fit the model's fields and levels")]
    BadVector,
}

/// The comparison levels of one field by Dice: band limits, highest first. A score at or
/// above limit `i` (and below limit `i − 1`) is level `i`; below the last, the last level.
#[derive(Clone, Debug, PartialEq)]
pub struct Bands(Vec<f64>);

impl Bands {
    /// Bands with these limits.
    ///
    /// # Errors
    /// [`ModelError::BadBands`] unless the limits fall strictly within (0, 1];
    /// [`ModelError::TooManyLevels`] for more than [`MAX_LEVELS`] levels.
    pub fn new(limits: &[f64]) -> Result<Self, ModelError> {
        if limits.len() + 1 > MAX_LEVELS {
            return Err(ModelError::TooManyLevels(limits.len() + 1));
        }
        let in_range = limits.iter().all(|l| *l > 0.0 && *l <= 1.0);
        let falling = limits.windows(2).all(|w| w[0] > w[1]);
        if !in_range || !falling {
            return Err(ModelError::BadBands(limits.to_vec()));
        }
        Ok(Self(limits.to_vec()))
    }

    /// Levels, the lowest band included.
    pub fn levels(&self) -> usize {
        self.0.len() + 1
    }

    /// The band limits, highest first.
    pub fn limits(&self) -> &[f64] {
        &self.0
    }

    /// The level of a score (NaN falls in the last level).
    pub fn level(&self, score: f64) -> u8 {
        let i = self.0.iter().position(|l| score >= *l).unwrap_or(self.0.len());
        // At most MAX_LEVELS − 1, checked in `new`.
        u8::try_from(i).unwrap_or(MISSING - 1)
    }
}

impl Default for Bands {
    fn default() -> Self {
        Self(DEFAULT_BANDS.to_vec())
    }
}

/// Comparison vectors of many pairs, `fields` levels each, in one buffer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparisons {
    fields: usize,
    levels: Vec<u8>,
}

impl Comparisons {
    /// No vectors yet, of `fields` levels each.
    pub fn new(fields: usize) -> Self {
        Self { fields, levels: Vec::new() }
    }

    /// Levels per vector.
    pub fn fields(&self) -> usize {
        self.fields
    }

    /// Adds a vector (its length must be [`fields`](Self::fields); checked by [`fit`]
    /// and the model).
    pub fn push(&mut self, levels: &[u8]) {
        self.levels.extend_from_slice(levels);
    }

    /// Sets the fields marked in `fields` missing in every vector (fields a block of pairs
    /// decides, which then weigh nothing and teach EM nothing).
    pub(crate) fn blank(&mut self, fields: &[bool]) {
        for v in self.levels.chunks_exact_mut(self.fields.max(1)) {
            for (level, _) in v.iter_mut().zip(fields).filter(|(_, b)| **b) {
                *level = MISSING;
            }
        }
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.levels.len().checked_div(self.fields).unwrap_or(0)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Vector `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.levels.get(i * self.fields..(i + 1) * self.fields)
    }

    /// The vectors in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.levels.chunks_exact(self.fields.max(1))
    }

    /// The distinct vectors with their counts, most frequent first (ties by vector).
    pub fn patterns(&self) -> Vec<(Vec<u8>, f64)> {
        let mut counts: HashMap<&[u8], u64> = HashMap::new();
        for v in self.iter() {
            *counts.entry(v).or_insert(0) += 1;
        }
        let mut out: Vec<(Vec<u8>, f64)> =
            counts.into_iter().map(|(v, c)| (v.to_vec(), c as f64)).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

/// Fellegi–Sunter parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Share of the compared pairs that are matches (λ).
    pub prior: f64,
    /// Per field, each level's probability among matches.
    pub m: Vec<Vec<f64>>,
    /// Per field, each level's probability among non-matches.
    pub u: Vec<Vec<f64>>,
}

impl Model {
    /// A model from its parameters.
    ///
    /// # Errors
    /// [`ModelError`] when the shapes disagree, a field has more than [`MAX_LEVELS`]
    /// levels, a probability is outside (0, 1), or a field's levels do not sum to 1
    /// (within 10⁻⁶).
    pub fn new(prior: f64, m: Vec<Vec<f64>>, u: Vec<Vec<f64>>) -> Result<Self, ModelError> {
        if !(prior > 0.0 && prior < 1.0) {
            return Err(ModelError::BadPrior(prior));
        }
        if m.is_empty() || m.len() > MAX_FIELDS || m.len() != u.len() {
            return Err(ModelError::BadFieldCount(m.len()));
        }
        for (field, (mf, uf)) in m.iter().zip(&u).enumerate() {
            if mf.len() > MAX_LEVELS {
                return Err(ModelError::TooManyLevels(mf.len()));
            }
            let probabilities = |p: &[f64]| {
                p.iter().all(|x| *x > 0.0 && *x < 1.0 || p.len() == 1 && *x == 1.0)
                    && (p.iter().sum::<f64>() - 1.0).abs() < 1e-6
            };
            if mf.len() != uf.len() || mf.is_empty() || !probabilities(mf) || !probabilities(uf) {
                return Err(ModelError::BadParameters { field });
            }
        }
        Ok(Self { prior, m, u })
    }

    /// A starting point for [`fit`]: `u` as given, `m` falling by a factor of 4 per level
    /// (matches mostly agree), and this prior.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn starting(prior: f64, u: Vec<Vec<f64>>) -> Result<Self, ModelError> {
        let m = u
            .iter()
            .map(|levels| {
                let mut next = 1.0;
                let raw: Vec<f64> = (0..levels.len())
                    .map(|_| {
                        let x = next;
                        next *= 0.25;
                        x
                    })
                    .collect();
                let total: f64 = raw.iter().sum();
                raw.into_iter().map(|x| x / total).collect()
            })
            .collect();
        Self::new(prior, m, u)
    }

    /// Fields compared.
    pub fn fields(&self) -> usize {
        self.m.len()
    }

    /// The weight (log2 Bayes factor) of `level` on `field`; 0 for [`MISSING`] or a level
    /// the field does not have.
    pub fn field_weight(&self, field: usize, level: u8) -> f64 {
        let l = usize::from(level);
        match (self.m.get(field).and_then(|m| m.get(l)), self.u.get(field).and_then(|u| u.get(l))) {
            (Some(m), Some(u)) => (m / u).log2(),
            _ => 0.0,
        }
    }

    /// The prior's weight, `log2(λ / (1 − λ))`.
    pub fn prior_weight(&self) -> f64 {
        (self.prior / (1.0 - self.prior)).log2()
    }

    /// A vector's match weight: the prior's weight plus every field's.
    ///
    /// # Errors
    /// [`ModelError::BadVector`] for a vector of another length or with a level a field
    /// does not have.
    pub fn weight(&self, levels: &[u8]) -> Result<f64, ModelError> {
        if levels.len() != self.fields() {
            return Err(ModelError::BadVector);
        }
        let mut w = self.prior_weight();
        for (f, &l) in levels.iter().enumerate() {
            if l != MISSING && usize::from(l) >= self.m[f].len() {
                return Err(ModelError::BadVector);
            }
            w += self.field_weight(f, l);
        }
        Ok(w)
    }

    /// The match probability of a match weight.
    pub fn probability(weight: f64) -> f64 {
        1.0 / (1.0 + (-weight).exp2())
    }

    /// Checks that every vector fits the model's fields and levels.
    fn check(&self, comparisons: &Comparisons) -> Result<(), ModelError> {
        if comparisons.fields() != self.fields() {
            return Err(ModelError::BadVector);
        }
        let fits = comparisons
            .iter()
            .all(|v| v.iter().zip(&self.m).all(|(&l, m)| l == MISSING || usize::from(l) < m.len()));
        if fits { Ok(()) } else { Err(ModelError::BadVector) }
    }
}

/// Each level's share per field among `comparisons` (missing levels left out), with a
/// small pseudo-count so no level is 0: `u` from random pairs, or `m` from known matches.
///
/// # Errors
/// [`ModelError::BadVector`] when a vector's length or a level does not fit `levels`
/// (levels per field); [`ModelError::BadFieldCount`] for no or too many fields.
pub fn u_from(comparisons: &Comparisons, levels: &[usize]) -> Result<Vec<Vec<f64>>, ModelError> {
    if levels.is_empty() || levels.len() > MAX_FIELDS {
        return Err(ModelError::BadFieldCount(levels.len()));
    }
    if comparisons.fields() != levels.len() {
        return Err(ModelError::BadVector);
    }
    let mut counts: Vec<Vec<f64>> = levels.iter().map(|&n| vec![PSEUDO_COUNT; n]).collect();
    for v in comparisons.iter() {
        for (f, &l) in v.iter().enumerate() {
            if l == MISSING {
                continue;
            }
            *counts[f].get_mut(usize::from(l)).ok_or(ModelError::BadVector)? += 1.0;
        }
    }
    Ok(counts.into_iter().map(normalised).collect())
}

fn normalised(counts: Vec<f64>) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    counts.into_iter().map(|c| c / total).collect()
}

/// How [`fit`] runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EmSettings {
    /// Most EM iterations.
    pub max_iterations: usize,
    /// Stop when no parameter moves by more than this in an iteration.
    pub tolerance: f64,
    /// Keep the starting `u` (estimated elsewhere, from random pairs) and fit only `m`
    /// and the prior.
    pub fix_u: bool,
}

impl Default for EmSettings {
    /// 200 iterations, tolerance 10⁻⁶, `u` fitted.
    fn default() -> Self {
        Self { max_iterations: 200, tolerance: 1e-6, fix_u: false }
    }
}

/// A fitted model and how the fit went.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// The parameters.
    pub model: Model,
    /// Iterations run.
    pub iterations: usize,
    /// Whether the parameters settled within the tolerance.
    pub converged: bool,
}

/// Fits a model to unlabelled comparison vectors by EM, from `start`.
///
/// E step: each distinct vector's match probability under the current parameters. M step:
/// the prior is the mean probability; `m` (and `u` unless fixed) are each level's share
/// weighted by the probability of match (non-match), over the pairs where the field is
/// not missing, with a pseudo-count of 0.5 per level.
///
/// # Errors
/// [`ModelError::BadVector`] when a vector does not fit `start`'s fields and levels.
pub fn fit(
    comparisons: &Comparisons,
    start: Model,
    settings: EmSettings,
) -> Result<Fit, ModelError> {
    start.check(comparisons)?;
    let patterns = comparisons.patterns();
    let mut model = start;
    if patterns.is_empty() {
        return Ok(Fit { model, iterations: 0, converged: true });
    }
    let total: f64 = patterns.iter().map(|p| p.1).sum();
    let mut iterations = 0;
    let mut converged = false;
    while iterations < settings.max_iterations {
        iterations += 1;
        let mut m_counts: Vec<Vec<f64>> =
            model.m.iter().map(|l| vec![PSEUDO_COUNT; l.len()]).collect();
        let mut u_counts = m_counts.clone();
        let mut matched = 0.0;
        for (levels, count) in &patterns {
            // Weights are finite: every m and u is positive by construction.
            let p = Model::probability(model.weight(levels)?);
            matched += p * count;
            for (f, &l) in levels.iter().enumerate() {
                if l != MISSING {
                    m_counts[f][usize::from(l)] += p * count;
                    u_counts[f][usize::from(l)] += (1.0 - p) * count;
                }
            }
        }
        let prior = (matched / total).clamp(PRIOR_RANGE.0, PRIOR_RANGE.1);
        let m: Vec<Vec<f64>> = m_counts.into_iter().map(normalised).collect();
        let u: Vec<Vec<f64>> = if settings.fix_u {
            model.u.clone()
        } else {
            u_counts.into_iter().map(normalised).collect()
        };
        let moved =
            max_change(&model.m, &m).max(max_change(&model.u, &u)).max((prior - model.prior).abs());
        model = Model { prior, m, u };
        if moved < settings.tolerance {
            converged = true;
            break;
        }
    }
    Ok(Fit { model, iterations, converged })
}

fn max_change(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::field_linkage::SplitMix as Rng;

    fn draw(rng: &mut Rng, p: &[f64]) -> u8 {
        let mut x = rng.unit();
        for (l, q) in p.iter().enumerate() {
            if x < *q {
                return u8::try_from(l).unwrap_or(0);
            }
            x -= q;
        }
        u8::try_from(p.len() - 1).unwrap_or(0)
    }

    /// Vectors drawn from a known model, with `missing` of each field's levels missing.
    fn simulate(truth: &Model, n: usize, missing: f64, seed: u64) -> Comparisons {
        let mut rng = Rng(seed);
        let mut out = Comparisons::new(truth.fields());
        let mut v = vec![0u8; truth.fields()];
        for _ in 0..n {
            let is_match = rng.unit() < truth.prior;
            for (f, slot) in v.iter_mut().enumerate() {
                let p = if is_match { &truth.m[f] } else { &truth.u[f] };
                *slot = if rng.unit() < missing { MISSING } else { draw(&mut rng, p) };
            }
            out.push(&v);
        }
        out
    }

    fn truth() -> Model {
        Model::new(
            0.1,
            vec![
                vec![0.85, 0.1, 0.05],
                vec![0.7, 0.2, 0.05, 0.05],
                vec![0.95, 0.05],
                vec![0.6, 0.3, 0.1],
            ],
            vec![
                vec![0.02, 0.08, 0.9],
                vec![0.05, 0.15, 0.3, 0.5],
                vec![0.5, 0.5],
                vec![0.1, 0.2, 0.7],
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn em_recovers_known_parameters_from_unlabelled_vectors() {
        let truth = truth();
        let data = simulate(&truth, 200_000, 0.05, 7);
        let flat: Vec<Vec<f64>> =
            truth.u.iter().map(|l| vec![1.0 / l.len() as f64; l.len()]).collect();
        let start = Model::starting(0.3, flat).unwrap_or_else(|e| panic!("{e}"));
        let fit = fit(&data, start, EmSettings::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(fit.converged, "{fit:?}");
        assert!((fit.model.prior - truth.prior).abs() < 0.01, "{}", fit.model.prior);
        for f in 0..truth.fields() {
            for l in 0..truth.m[f].len() {
                let (m, u) = (fit.model.m[f][l], fit.model.u[f][l]);
                assert!((m - truth.m[f][l]).abs() < 0.03, "m[{f}][{l}] = {m}");
                assert!((u - truth.u[f][l]).abs() < 0.01, "u[{f}][{l}] = {u}");
            }
        }
    }

    #[test]
    fn a_fixed_u_stays_and_m_is_still_found() {
        let truth = truth();
        let data = simulate(&truth, 100_000, 0.0, 11);
        let start = Model::starting(0.5, truth.u.clone()).unwrap_or_else(|e| panic!("{e}"));
        let settings = EmSettings { fix_u: true, ..EmSettings::default() };
        let fit = fit(&data, start, settings).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fit.model.u, truth.u);
        assert!((fit.model.prior - truth.prior).abs() < 0.01, "{}", fit.model.prior);
        assert!((fit.model.m[0][0] - 0.85).abs() < 0.03, "{:?}", fit.model.m[0]);
    }

    #[test]
    fn weights_add_up_and_missing_fields_say_nothing() {
        let model = truth();
        let w = model.weight(&[0, MISSING, 1, 2]).unwrap_or_else(|e| panic!("{e}"));
        let expected = (0.1f64 / 0.9).log2()
            + (0.85f64 / 0.02).log2()
            + (0.05f64 / 0.5).log2()
            + (0.1f64 / 0.7).log2();
        assert!((w - expected).abs() < 1e-12);
        assert!((Model::probability(0.0) - 0.5).abs() < 1e-12);
        assert!(Model::probability(30.0) > 0.999_999);
        assert_eq!(model.weight(&[0, 0, 0]), Err(ModelError::BadVector));
        assert_eq!(model.weight(&[0, 4, 0, 0]), Err(ModelError::BadVector));
    }

    #[test]
    fn u_from_random_pairs_counts_levels_and_skips_missing() {
        let mut c = Comparisons::new(2);
        for v in [[0, 1], [1, 1], [1, MISSING], [1, 0]] {
            c.push(&v);
        }
        let u = u_from(&c, &[2, 2]).unwrap_or_else(|e| panic!("{e}"));
        assert!((u[0][0] - 1.5 / 5.0).abs() < 1e-12, "{u:?}");
        assert!((u[1][1] - 2.5 / 4.0).abs() < 1e-12, "{u:?}");
        assert_eq!(u_from(&c, &[2, 1]), Err(ModelError::BadVector));
    }

    #[test]
    fn bands_place_scores_and_refuse_bad_limits() {
        let b = Bands::default();
        assert_eq!(b.levels(), 5);
        assert_eq!(
            [1.0, 0.95, 0.9, 0.7, 0.69, 0.0, f64::NAN].map(|s| b.level(s)),
            [0, 0, 1, 2, 3, 4, 4]
        );
        assert!(Bands::new(&[0.5, 0.7]).is_err());
        assert!(Bands::new(&[1.5]).is_err());
        assert!(Bands::new(&[0.0]).is_err());
        assert!(Bands::new(&[0.9]).is_ok());
        let many: Vec<f64> = (1..=16).map(|i| 1.0 - f64::from(i) / 20.0).collect();
        assert_eq!(Bands::new(&many), Err(ModelError::TooManyLevels(17)));
    }

    #[test]
    fn models_with_bad_parameters_are_refused() {
        let ok = vec![vec![0.5, 0.5]];
        assert!(Model::new(0.5, ok.clone(), ok.clone()).is_ok());
        assert_eq!(Model::new(1.0, ok.clone(), ok.clone()), Err(ModelError::BadPrior(1.0)));
        assert!(Model::new(0.5, vec![vec![0.6, 0.6]], ok.clone()).is_err());
        assert!(Model::new(0.5, vec![vec![1.0, 0.0]], ok.clone()).is_err());
        assert!(Model::new(0.5, ok.clone(), vec![vec![1.0]]).is_err());
        assert_eq!(Model::new(0.5, vec![], vec![]), Err(ModelError::BadFieldCount(0)));
    }
}
