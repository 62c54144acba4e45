//! Attacking one's own encodings: how much of the plaintext the published attacks that
//! need no key recover from a register holder's Bloom filters.
//!
//! The holder has both the plaintext and the filters made from it, row by row, so each
//! attack can be scored against the truth. Two attacks, each simulated for the strongest
//! attacker its literature assumes (so the figures are upper bounds of what it achieves):
//!
//! * **Pattern mining** (Christen et al. 2017–2018, Vidanage et al. 2019–2020): frequent
//!   tokens (q-grams, date parts) leave a *signature* in the filters, bit positions whose
//!   state differs between the records that hold the token and the others. The published
//!   attacks find such positions from bit co-occurrence and public q-gram frequencies;
//!   here the signature is learnt with the truth, which is what those attacks reach when
//!   they succeed. It weighs up to [`SIGNATURE_POSITIONS`] positions by their
//!   log-likelihood ratio, so it also reads hardening that only blurs bits (folding,
//!   rule 90, flips: a token's bit then shows as a raised or lowered rate, not a sure one).
//!   A token is *exposed* when its score threshold, chosen on half the records, predicts
//!   the token's presence on the other half with precision ≥ 0.9 over at least 10
//!   records. A record's value is *re-identified* when the exposed tokens its filter shows
//!   match those of exactly one value of the field (the attacker's dictionary: every value
//!   in the plaintext). With a per-record salt, tokens are learnt per salt value (the
//!   attacker is assumed to know each record's salt group, as one who can cluster by the
//!   salt would): salting helps only as far as each group is too small to learn from.
//! * **Frequency alignment** (Kuzu et al. 2011; Christen et al. 2018) on field-level
//!   filters: equal values give equal filters, so a group of equal filters whose size is
//!   unique among the groups is aligned with the value whose frequency is unique and
//!   equal in the public table (here: the plaintext's own frequencies).
//!
//!   With a per-record salt the alignment runs within each salt group, against the
//!   group's own value frequencies (the attacker who tells the groups apart, as above).
//! * **Frequency alignment on match keys** (`nordlink-matchkey/1`): a key is an exact-match
//!   pseudonym, so its groups of equal values have the sizes of the plaintext combination
//!   it hashes (a birth date, a name code and a year), and are aligned the same way, both
//!   within salt groups and over the whole file (keys are not salted); the salt key over
//!   the whole file only (its groups are the salt groups).
//!
//! A record is *singled out* when the values re-identified from its filters and keys (by
//! any attack) occur in no other record. Also reported: the correlation between a record's
//! filter popcount and its number of tokens (the values' length, for q-grams).

use std::collections::HashMap;

use std::hash::Hash;

use crate::clk::{FilterArena, Schema};
use crate::link::KeyColumn;

/// Most frequent tokens tried per field and salt group.
pub const TOKENS_TRIED: usize = 300;

/// Fewest records a token must appear in for its signature to count.
pub const MIN_SUPPORT: usize = 20;

/// Precision at which a token's signature exposes it.
pub const EXPOSED_PRECISION: f64 = 0.9;

/// Precision the attacker prefers for a token's threshold when it can have it.
const CLEAN_PRECISION: f64 = 0.99;

/// Most bit positions one token's signature weighs.
pub const SIGNATURE_POSITIONS: usize = 64;

/// Smallest difference between a position's set rate among a token's records and among
/// the others for the position to join the token's signature.
const MIN_RATE_GAP: f64 = 0.25;

/// What the attacks recovered for one field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldAssessment {
    /// The field's name.
    pub name: String,
    /// Distinct values in the plaintext, as the encoder sees them (equal token sets are one
    /// value).
    pub distinct_values: usize,
    /// Tokens whose signature was tried, and those it exposed.
    pub tokens_tried: usize,
    /// Tokens exposed by their signature.
    pub tokens_exposed: usize,
    /// Share of records whose value pattern mining re-identified.
    pub pattern_reidentified: f64,
    /// Share of records whose value frequency alignment re-identified (field filters
    /// only; `None` without them).
    pub frequency_reidentified: Option<f64>,
    /// Share of records whose value either attack re-identified.
    pub reidentified_share: f64,
}

/// What frequency alignment recovered from one match key.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyAssessment {
    /// The key's name (its column is `key_<name>`).
    pub name: String,
    /// Distinct key values among the records that have the key.
    pub distinct_values: usize,
    /// Share of records whose key value no other record has.
    pub unique_share: f64,
    /// Records in the largest group of equal key values.
    pub largest_group: usize,
    /// Share of records whose key frequency alignment re-identified: the plaintext
    /// combination the key hashes (for example the birth date, or a name code and a year).
    pub reidentified_share: f64,
}

/// The encodings of the assessed records, as the linkage unit would receive them.
#[derive(Clone, Copy, Debug)]
pub struct Encodings<'a> {
    records: &'a FilterArena,
    field_filters: Option<&'a [FilterArena]>,
    match_keys: &'a [KeyColumn],
}

impl<'a> Encodings<'a> {
    /// The record filters alone, one per record.
    pub fn new(records: &'a FilterArena) -> Self {
        Self { records, field_filters: None, match_keys: &[] }
    }

    /// Adds field-level filters: one arena per schema field, in schema order.
    #[must_use]
    pub fn with_field_filters(mut self, field_filters: &'a [FilterArena]) -> Self {
        self.field_filters = Some(field_filters);
        self
    }

    /// Adds match key columns, each named as in the schema's
    /// [`match_keys`](Schema::match_keys), in any order.
    #[must_use]
    pub fn with_match_keys(mut self, match_keys: &'a [KeyColumn]) -> Self {
        self.match_keys = match_keys;
        self
    }
}

/// The whole assessment.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// Records assessed.
    pub records: usize,
    /// Per schema field.
    pub fields: Vec<FieldAssessment>,
    /// Per match key given, in the order given.
    pub keys: Vec<KeyAssessment>,
    /// Share of records singled out by the values re-identified from their filters.
    pub reidentified_share: f64,
    /// Pearson correlation of record popcount and the record's number of tokens (for
    /// q-grams, the values' length plus one each): a length leak.
    pub popcount_length_correlation: f64,
}

/// Why an assessment cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssessError {
    /// The plaintext and the filters hold different numbers of records.
    #[error("{plaintext} plaintext records but {filters} filters")]
    RowMismatch {
        /// Plaintext records.
        plaintext: usize,
        /// Filters.
        filters: usize,
    },
    /// A record has another number of cells than the schema has fields, or field filters
    /// were given for another number of fields.
    #[error("records and field filters must have one entry per schema field")]
    FieldMismatch,
    /// A match key column the schema does not define, or with another number of records.
    #[error("match key {name:?}: not one of the schema's keys, or not one value per record")]
    KeyMismatch {
        /// The key's name.
        name: String,
    },
}

/// A cell's dictionary key and token count, exactly as the encoder makes them (no key
/// needed). As hashed (`Some(salt)`): the tokens the filter keeps, each prefixed by the
/// salt, which changes every bit it sets. As a value (`None`): all its tokens, so a birth
/// date stays a whole date even where its year only salts. `None` for a value without
/// tokens (missing, wholly left out, or invalid under `missing`) or that the encoder would
/// reject. Values with equal token sets give equal filter bits, so the sorted tokens are
/// the value as far as any attack can tell.
fn value_tokens(
    schema: &Schema,
    index: usize,
    raw: &str,
    hashed: Option<&str>,
) -> Option<(String, usize)> {
    let mut buf = crate::clk::Tokens::default();
    schema.fields()[index].tokens(raw, &mut buf).ok()?;
    let mut tokens: Vec<String> = buf.iter().map(str::to_owned).collect();
    let salt = hashed.unwrap_or_default();
    if hashed.is_some() {
        tokens.retain(|t| schema.keeps_token(index, t));
    }
    if tokens.is_empty() {
        return None;
    }
    let count = tokens.len();
    if !salt.is_empty() {
        for t in &mut tokens {
            t.insert_str(0, &format!("{salt}\u{1}"));
        }
    }
    tokens.sort();
    tokens.dedup();
    Some((tokens.join("\u{0}"), count))
}

/// Interns token-set keys as dense ids.
#[derive(Default)]
struct Dictionary {
    ids: HashMap<String, u32>,
    /// Per id, its tokens, sorted.
    tokens_of: Vec<Vec<String>>,
}

impl Dictionary {
    fn id(&mut self, key: String) -> u32 {
        let next = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        let tokens_of = &mut self.tokens_of;
        *self.ids.entry(key).or_insert_with_key(|key| {
            // Sorted: the attack looks tokens up by binary search.
            tokens_of.push(key.split('\u{0}').map(str::to_owned).collect());
            next
        })
    }
}

/// Runs the attacks. `cells[r][f]` is record `r`'s raw cell for schema field `f`;
/// `encodings` holds the same records' filters (and keys), in the same order.
///
/// # Errors
/// [`AssessError`] when the inputs do not line up.
pub fn assess(
    schema: &Schema,
    cells: &[Vec<Option<String>>],
    encodings: Encodings<'_>,
) -> Result<Assessment, AssessError> {
    let Encodings { records, field_filters, match_keys } = encodings;
    let n = cells.len();
    if records.len() != n {
        return Err(AssessError::RowMismatch { plaintext: n, filters: records.len() });
    }
    let fields = schema.fields();
    if cells.iter().any(|c| c.len() != fields.len())
        || field_filters.is_some_and(|f| f.len() != fields.len() || f.iter().any(|a| a.len() != n))
    {
        return Err(AssessError::FieldMismatch);
    }
    let specs = match_keys
        .iter()
        .map(|k| {
            schema
                .match_keys()
                .iter()
                .find(|s| s.name() == k.name)
                .filter(|_| k.values.len() == n)
                .ok_or_else(|| AssessError::KeyMismatch { name: k.name.clone() })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Per field and record: the value's id in the field's dictionary and its tokens.
    let mut found: Vec<Vec<bool>> = vec![vec![false; n]; fields.len()];
    let mut value_ids: Vec<Vec<Option<u32>>> = Vec::with_capacity(fields.len());
    let mut lengths = vec![0usize; n];
    let mut out = Vec::with_capacity(fields.len());
    let salts: Vec<String> = cells
        .iter()
        .map(|row| {
            let cell = |i: usize| row.get(i).and_then(Option::as_deref);
            schema.record_salt(&cell).unwrap_or_default()
        })
        .collect();
    // Per field and record: its salt group (records hashed with the same salt).
    let groups: Vec<Vec<u32>> = (0..fields.len())
        .map(|f| salt_groups(salts.iter().map(|salt| schema.field_salt(f, salt))))
        .collect();
    for (f, field) in fields.iter().enumerate() {
        // `values`: what the field holds (for singling out); `attacked`: what its bits
        // depend on (the value and, when salted, the salt), which the attacks target.
        let (mut values, mut attacked) = (Dictionary::default(), Dictionary::default());
        let mut ids = Vec::with_capacity(n);
        let mut attack_ids = Vec::with_capacity(n);
        for (r, row) in cells.iter().enumerate() {
            let raw = row[f].as_deref();
            let plain = raw.and_then(|raw| value_tokens(schema, f, raw, None));
            ids.push(plain.map(|(key, _)| values.id(key)));
            let salt = schema.field_salt(f, &salts[r]);
            let hashed = raw.and_then(|raw| value_tokens(schema, f, raw, Some(salt)));
            attack_ids.push(hashed.map(|(key, count)| {
                lengths[r] += count;
                attacked.id(key)
            }));
        }
        let target = field_filters.map_or(records, |ff| &ff[f]);
        let pattern = pattern_mining(target, &attack_ids, &attacked.tokens_of, &groups[f]);
        let (tried, exposed) = (pattern.tried, pattern.exposed);
        let frequency = field_filters.map(|ff| {
            let words: Vec<Option<&[u64]>> =
                (0..n).map(|r| ff[f].get(r).map(|x| x.words())).collect();
            frequency_alignment(&words, &attack_ids, &groups[f])
        });
        for r in 0..n {
            found[f][r] = pattern.reidentified[r] || frequency.as_ref().is_some_and(|x| x[r]);
        }
        let share = |v: &[bool]| share_of(v, n);
        out.push(FieldAssessment {
            name: field.name().to_owned(),
            distinct_values: values.tokens_of.len(),
            tokens_tried: tried,
            tokens_exposed: exposed,
            pattern_reidentified: share(&pattern.reidentified),
            frequency_reidentified: frequency.as_deref().map(share),
            reidentified_share: share(&found[f]),
        });
        value_ids.push(ids);
    }
    let mut keys = Vec::with_capacity(specs.len());
    let record_groups = salt_groups(salts.iter().map(String::as_str));
    for (column, spec) in match_keys.iter().zip(specs) {
        // The plaintext combination each record's key hashes: what alignment must name.
        let mut plain = Dictionary::default();
        let mut message = Vec::new();
        let ids: Vec<Option<u32>> = cells
            .iter()
            .zip(&salts)
            .map(|(row, salt)| {
                let mut parts = crate::clk::Parts::new(|i: usize| {
                    let raw = row[i].as_deref().unwrap_or("");
                    fields[i].prepare(raw).ok().and_then(crate::clk::key_value)
                });
                spec.message(&mut parts, salt, &mut message)?;
                // Byte for char: distinct messages stay distinct.
                Some(plain.id(message.iter().copied().map(char::from).collect()))
            })
            .collect();
        let seen: Vec<Option<u64>> = column.values.iter().map(|&v| (v != 0).then_some(v)).collect();
        // Keys are not salted, so the attacker may align over the whole file as well as
        // within salt groups; the salt key's groups are the salt groups themselves.
        let whole = vec![0; n];
        let mut reidentified = frequency_alignment(&seen, &ids, &whole);
        if !spec.is_salt() {
            let within = frequency_alignment(&seen, &ids, &record_groups);
            for (r, w) in reidentified.iter_mut().zip(within) {
                *r |= w;
            }
        }
        let mut sizes: HashMap<u64, usize> = HashMap::new();
        for v in seen.iter().flatten() {
            *sizes.entry(*v).or_default() += 1;
        }
        let unique = sizes.values().filter(|&&c| c == 1).count();
        keys.push(KeyAssessment {
            name: column.name.clone(),
            distinct_values: sizes.len(),
            unique_share: unique as f64 / n.max(1) as f64,
            largest_group: sizes.values().copied().max().unwrap_or(0),
            reidentified_share: share_of(&reidentified, n),
        });
        found.push(reidentified);
        value_ids.push(ids);
    }
    Ok(Assessment {
        records: n,
        keys,
        reidentified_share: singled_out(&found, &value_ids),
        popcount_length_correlation: correlation(records.popcounts(), &lengths),
        fields: out,
    })
}

/// The outcome of pattern mining on one field.
struct Pattern {
    tried: usize,
    exposed: usize,
    reidentified: Vec<bool>,
}

/// One token's signature: positions and, per position, the log-likelihood ratio of the
/// token's presence when the bit is set and when it is clear.
struct Signature {
    positions: Vec<u32>,
    weights: Vec<(f32, f32)>,
}

impl Signature {
    /// Learns from per-position set counts: `ones` over the token's `held` learning
    /// records, `all_ones` over all `total` learning records. Positions are ranked by how
    /// far apart their two weights lie.
    fn learn(ones: &[u32], all_ones: &[u32], held: u32, total: u32) -> Self {
        let others = total.saturating_sub(held);
        let mut ranked: Vec<(f64, u32, (f32, f32))> = Vec::new();
        for (p, (&c, &all)) in ones.iter().zip(all_ones).enumerate() {
            // Laplace-smoothed rates, so no weight is infinite.
            let inside = (f64::from(c) + 1.0) / (f64::from(held) + 2.0);
            let outside = (f64::from(all.saturating_sub(c)) + 1.0) / (f64::from(others) + 2.0);
            if (inside - outside).abs() < MIN_RATE_GAP {
                continue;
            }
            let set = (inside / outside).ln();
            let clear = ((1.0 - inside) / (1.0 - outside)).ln();
            let p = u32::try_from(p).unwrap_or(u32::MAX);
            #[allow(clippy::cast_possible_truncation, reason = "weights are small logs")]
            ranked.push(((set - clear).abs(), p, (set as f32, clear as f32)));
        }
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.truncate(SIGNATURE_POSITIONS);
        Self {
            positions: ranked.iter().map(|r| r.1).collect(),
            weights: ranked.iter().map(|r| r.2).collect(),
        }
    }

    fn score(&self, words: &[u64]) -> f32 {
        self.positions
            .iter()
            .zip(&self.weights)
            .map(|(&p, &(set, clear))| {
                let bit = words.get(p as usize / 64).is_some_and(|w| w >> (p % 64) & 1 == 1);
                if bit { set } else { clear }
            })
            .sum()
    }
}

/// Share of a token's records that must agree on a bit for it to join a strict
/// signature: below 1 so that a few flipped bits do not hide it.
const STRICT_AGREEMENT: f64 = 0.9;

/// Share of a strict signature's positions a filter must agree with to show the token.
const STRICT_MATCH: f64 = 0.85;

/// The published attacks' detector: positions set (or, after `balance`, clear) in nearly
/// all of a token's records and not in most others; a filter shows the token when it
/// agrees with nearly all of them. Sharper than the scored one on unblurred filters.
fn strict_signature(ones: &[u32], all_ones: &[u32], held: u32, total: u32) -> Vec<(u32, bool)> {
    let others = total.saturating_sub(held).max(1);
    // 90 % of a u32 count, rounded up: never above the count itself.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let need = (STRICT_AGREEMENT * f64::from(held)).ceil() as u32;
    let mut out = Vec::new();
    for (p, (&c, &all)) in ones.iter().zip(all_ones).enumerate() {
        let elsewhere = f64::from(all.saturating_sub(c)) / f64::from(others);
        let p = u32::try_from(p).unwrap_or(u32::MAX);
        if c >= need && elsewhere <= 0.5 {
            out.push((p, true));
        } else if held - c >= need && elsewhere >= 0.5 {
            out.push((p, false));
        }
    }
    out
}

/// Whether a filter agrees with at least [`STRICT_MATCH`] of a strict signature.
fn strict_match(signature: &[(u32, bool)], words: &[u64]) -> bool {
    let agree = signature
        .iter()
        .filter(|&&(p, set)| {
            words.get(p as usize / 64).is_some_and(|w| w >> (p % 64) & 1 == 1) == set
        })
        .count();
    !signature.is_empty() && agree as f64 >= STRICT_MATCH * signature.len() as f64
}

/// The lowest score threshold at which at least `precision` of the records scoring at or
/// above it hold the token, over at least `MIN_SUPPORT / 2` of them: `scored` is (score,
/// holds the token), sorted by descending score.
fn lowest_threshold(scored: &[(f32, bool)], precision: f64) -> Option<f32> {
    let (mut right, mut best) = (0usize, None);
    for i in 0..scored.len() {
        right += usize::from(scored[i].1);
        // Only between distinct scores: a threshold admits all records with its score.
        let boundary = scored.get(i + 1).is_none_or(|next| next.0 < scored[i].0);
        if boundary && right >= MIN_SUPPORT / 2 && right as f64 >= precision * (i + 1) as f64 {
            best = Some(scored[i].0);
        }
    }
    best
}

/// A token's score threshold, learnt on (score, holds the token) pairs: as low as keeps
/// [`CLEAN_PRECISION`] when the token separates that well, otherwise as low as keeps
/// [`EXPOSED_PRECISION`]. False shows spoil the attacker's dictionary look-up, so a clean
/// threshold re-identifies more than a permissive one.
fn choose_threshold(scored: &mut [(f32, bool)]) -> Option<f32> {
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    lowest_threshold(scored, CLEAN_PRECISION)
        .or_else(|| lowest_threshold(scored, EXPOSED_PRECISION))
}

fn pattern_mining(
    filters: &FilterArena,
    ids: &[Option<u32>],
    tokens_of: &[Vec<String>],
    groups: &[u32],
) -> Pattern {
    let n = ids.len();
    let bits = filters.words_per_filter() * 64;
    // Token → records holding it. A salted token's holders all share its salt group.
    let mut holders: HashMap<&str, Vec<usize>> = HashMap::new();
    for (r, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            for t in &tokens_of[*id as usize] {
                holders.entry(t.as_str()).or_default().push(r);
            }
        }
    }
    // Per group: its records, and its most frequent tokens.
    let group_count = groups.iter().max().map_or(0, |&g| g as usize + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); group_count];
    for (r, &g) in groups.iter().enumerate() {
        members[g as usize].push(r);
    }
    let mut frequent: Vec<Vec<(&str, Vec<usize>)>> = vec![Vec::new(); group_count];
    for (token, rs) in holders {
        if rs.len() >= MIN_SUPPORT {
            frequent[groups[rs[0]] as usize].push((token, rs));
        }
    }
    let filter = |r: usize| filters.get(r).map(|f| f.words()).unwrap_or_default();
    let count_ones = |counts: &mut [u32], r: usize| {
        for (w, word) in filter(r).iter().enumerate() {
            let mut x = *word;
            while x != 0 {
                counts[w * 64 + x.trailing_zeros() as usize] += 1;
                x &= x - 1;
            }
        }
    };
    let (mut tried, mut exposed) = (0, Vec::new());
    // Record → exposed tokens its filter shows (indices into `exposed`).
    let mut shown: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut holds = vec![false; n];
    let (mut all_ones, mut ones) = (vec![0u32; bits], vec![0u32; bits]);
    for (group, tokens) in frequent.iter_mut().enumerate() {
        // Most groups of a fine salt hold no frequent token: nothing to learn there.
        if tokens.is_empty() {
            continue;
        }
        tokens.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        tokens.truncate(TOKENS_TRIED);
        tried += tokens.len();
        let members = &members[group];
        // How often each position is set over the group's learning (even) records.
        all_ones.fill(0);
        for &r in members.iter().filter(|r| *r % 2 == 0) {
            count_ones(&mut all_ones, r);
        }
        let even = members.iter().filter(|r| *r % 2 == 0).count();
        let even = u32::try_from(even).unwrap_or(u32::MAX);
        for (token, rs) in tokens.iter() {
            // Learnt (signature and threshold) on the even records, judged on the odd
            // ones, so a token held by few records cannot pass by memorising them.
            ones.fill(0);
            let mut held = 0;
            for &r in rs.iter().filter(|r| *r % 2 == 0) {
                count_ones(&mut ones, r);
                held += 1;
            }
            let odd_holders = rs.len() - usize::try_from(held).unwrap_or(0);
            if odd_holders < MIN_SUPPORT / 2 {
                continue;
            }
            // `shown[i]`: whether the filter of `members[i]` shows the token. Judged on
            // the group's odd records: enough shows, enough of them right.
            let passes = |shown: &[bool]| {
                let (mut judged, mut right) = (0usize, 0usize);
                for (&r, _) in members.iter().zip(shown).filter(|(r, s)| **r % 2 == 1 && **s) {
                    judged += 1;
                    right += usize::from(rs.binary_search(&r).is_ok());
                }
                judged >= MIN_SUPPORT / 2 && right as f64 >= EXPOSED_PRECISION * judged as f64
            };
            // The attacker keeps whichever detector works for this token: the strict one,
            // else the scored one.
            let strict = strict_signature(&ones, &all_ones, held, even);
            let strict_shown: Vec<bool> =
                members.iter().map(|&r| strict_match(&strict, filter(r))).collect();
            let token_shown = if passes(&strict_shown) {
                strict_shown
            } else {
                let sig = Signature::learn(&ones, &all_ones, held, even);
                if sig.positions.is_empty() {
                    continue;
                }
                let scores: Vec<f32> = members.iter().map(|&r| sig.score(filter(r))).collect();
                for &r in rs {
                    holds[r] = true;
                }
                let mut learning: Vec<(f32, bool)> = members
                    .iter()
                    .zip(&scores)
                    .filter(|(r, _)| **r % 2 == 0)
                    .map(|(&r, &score)| (score, holds[r]))
                    .collect();
                let threshold = choose_threshold(&mut learning);
                for &r in rs {
                    holds[r] = false;
                }
                let Some(threshold) = threshold else { continue };
                let scored: Vec<bool> = scores.iter().map(|&s| s >= threshold).collect();
                if !passes(&scored) {
                    continue;
                }
                scored
            };
            let index = u32::try_from(exposed.len()).unwrap_or(u32::MAX);
            exposed.push(*token);
            for (&r, _) in members.iter().zip(&token_shown).filter(|(_, s)| **s) {
                shown[r].push(index);
            }
        }
    }
    // A value's exposed tokens, and per exposed token the values holding it.
    let index_of: HashMap<&str, u32> = exposed
        .iter()
        .enumerate()
        .map(|(i, t)| (*t, u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    let value_sets: Vec<Vec<u32>> = tokens_of
        .iter()
        .map(|tokens| {
            let mut set: Vec<u32> =
                tokens.iter().filter_map(|t| index_of.get(t.as_str()).copied()).collect();
            set.sort_unstable();
            set
        })
        .collect();
    let mut holding: Vec<Vec<u32>> = vec![Vec::new(); exposed.len()];
    for (v, set) in value_sets.iter().enumerate() {
        for &t in set {
            holding[t as usize].push(u32::try_from(v).unwrap_or(u32::MAX));
        }
    }
    // The attacker reads a record's shown tokens and picks the dictionary value whose
    // exposed tokens all show and are the most: re-identified when that value is unique
    // and right. Records showing the same tokens get the same guess.
    let mut guesses: HashMap<Vec<u32>, Option<u32>> = HashMap::new();
    let mut reidentified = vec![false; n];
    for r in 0..n {
        let Some(id) = ids[r] else { continue };
        let mut seen = std::mem::take(&mut shown[r]);
        seen.sort_unstable();
        let guess =
            *guesses.entry(seen).or_insert_with_key(|seen| best_value(seen, &value_sets, &holding));
        reidentified[r] = guess == Some(id);
    }
    Pattern { tried, exposed: exposed.len(), reidentified }
}

/// The value whose exposed tokens all appear in `seen` and are the most, when exactly one
/// value has that many (and at least one). Only values holding a seen token can qualify,
/// so only those (`holding`, per exposed token) are looked at.
fn best_value(seen: &[u32], value_sets: &[Vec<u32>], holding: &[Vec<u32>]) -> Option<u32> {
    let mut candidates: Vec<u32> =
        seen.iter().flat_map(|&t| holding[t as usize].iter().copied()).collect();
    candidates.sort_unstable();
    candidates.dedup();
    let (mut best, mut size, mut ties) = (None, 0, 0);
    for v in candidates {
        let set = &value_sets[v as usize];
        if !set.iter().all(|t| seen.binary_search(t).is_ok()) {
            continue;
        }
        match set.len().cmp(&size) {
            std::cmp::Ordering::Greater => (best, size, ties) = (Some(v), set.len(), 1),
            std::cmp::Ordering::Equal => ties += 1,
            std::cmp::Ordering::Less => {}
        }
    }
    if ties == 1 { best } else { None }
}

/// Dense ids of salt values, one per record: records with equal ids were hashed alike.
fn salt_groups<'s>(salts: impl Iterator<Item = &'s str>) -> Vec<u32> {
    let mut ids: HashMap<&str, u32> = HashMap::new();
    salts
        .map(|salt| {
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            *ids.entry(salt).or_insert(next)
        })
        .collect()
}

/// Share of `n` records that are `true`.
fn share_of(v: &[bool], n: usize) -> f64 {
    v.iter().filter(|&&x| x).count() as f64 / n.max(1) as f64
}

/// Frequency alignment within each partition (salt group): returns, per record, whether
/// its value was re-identified. `seen[r]` is what the attacker sees of record `r` (a
/// field filter, a match key; records with `None` are not grouped: an empty filter or a
/// missing key is recognisable, not a value); `truth[r]` the plaintext value it encodes.
/// A group of equal `seen` whose size no other group of its partition has is aligned with
/// the partition's value whose frequency is that size and unique, which is how an attacker
/// with a public frequency table would name it.
fn frequency_alignment<K: Hash + Eq>(
    seen: &[Option<K>],
    truth: &[Option<u32>],
    partition: &[u32],
) -> Vec<bool> {
    let mut groups: HashMap<(u32, &K), Vec<usize>> = HashMap::new();
    let mut values: HashMap<(u32, u32), usize> = HashMap::new();
    for (r, (k, v)) in seen.iter().zip(truth).enumerate() {
        if let (Some(k), Some(v)) = (k, v) {
            groups.entry((partition[r], k)).or_default().push(r);
            *values.entry((partition[r], *v)).or_default() += 1;
        }
    }
    let mut group_sizes: HashMap<(u32, usize), usize> = HashMap::new();
    for (&(p, _), g) in &groups {
        *group_sizes.entry((p, g.len())).or_default() += 1;
    }
    // Per partition and frequency: how many values have it, and one of them.
    let mut value_sizes: HashMap<(u32, usize), (usize, u32)> = HashMap::new();
    for (&(p, v), &c) in &values {
        value_sizes.entry((p, c)).or_insert((0, v)).0 += 1;
    }
    let mut out = vec![false; seen.len()];
    for (&(p, _), g) in &groups {
        let size = g.len();
        if group_sizes.get(&(p, size)) != Some(&1) {
            continue;
        }
        let Some(&(1, value)) = value_sizes.get(&(p, size)) else { continue };
        // Aligned: right when the group is exactly that value's records.
        if g.iter().all(|&r| truth[r] == Some(value)) {
            for &r in g {
                out[r] = true;
            }
        }
    }
    out
}

/// Most distinct sets of re-identified fields for which singling out is counted: each
/// costs a pass over all records, so this bounds the time whatever the data.
const MAX_FIELD_SETS: usize = 64;

/// Share of records whose re-identified values (fields with `found`) occur together in no
/// other record. Only the [`MAX_FIELD_SETS`] most common sets of re-identified fields are
/// counted (records with a rarer set count as not singled out: a lower bound there).
fn singled_out(found: &[Vec<bool>], ids: &[Vec<Option<u32>>]) -> f64 {
    let n = found.first().map_or(0, Vec::len);
    if n == 0 {
        return 0.0;
    }
    let set_of = |r: usize| -> Vec<usize> { (0..found.len()).filter(|&f| found[f][r]).collect() };
    let project =
        |r: usize, set: &[usize]| -> Vec<Option<u32>> { set.iter().map(|&f| ids[f][r]).collect() };
    let sets: Vec<Vec<usize>> = (0..n).map(set_of).collect();
    let mut frequency: HashMap<&[usize], usize> = HashMap::new();
    for s in sets.iter().filter(|s| !s.is_empty()) {
        *frequency.entry(s.as_slice()).or_default() += 1;
    }
    let mut common: Vec<(&[usize], usize)> = frequency.into_iter().collect();
    common.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    common.truncate(MAX_FIELD_SETS);
    let mut single = 0;
    for (set, _) in common {
        let mut counts: HashMap<Vec<Option<u32>>, usize> = HashMap::new();
        for r in 0..n {
            *counts.entry(project(r, set)).or_default() += 1;
        }
        single += (0..n)
            .filter(|&r| sets[r].as_slice() == set && counts.get(&project(r, set)) == Some(&1))
            .count();
    }
    single as f64 / n as f64
}

fn correlation(popcounts: &[u32], lengths: &[usize]) -> f64 {
    let n = popcounts.len().min(lengths.len()) as f64;
    if n < 2.0 {
        return 0.0;
    }
    let xs = popcounts.iter().map(|&p| f64::from(p));
    let ys = lengths.iter().map(|&l| l as f64);
    let (mx, my) = (xs.clone().sum::<f64>() / n, ys.clone().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.zip(ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx == 0.0 || syy == 0.0 { 0.0 } else { sxy / (sxx * syy).sqrt() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use crate::clk::{EncodeCache, Encoder};

    const SYLLABLES: [&str; 12] =
        ["ka", "ri", "to", "ne", "su", "la", "mi", "po", "de", "ha", "vu", "jo"];

    /// 3 000 records over 60 given names, name `i` appearing about `i + 10` times (skewed
    /// and unequal, as real names are), with a unique id per record.
    fn cells() -> Vec<Vec<Option<String>>> {
        let names: Vec<String> = (0..60)
            .map(|i| {
                format!(
                    "{}{}{}",
                    SYLLABLES[i % 12],
                    SYLLABLES[(i / 12 + 3 * i) % 12],
                    SYLLABLES[(i * 7 + 1) % 12]
                )
            })
            .collect();
        let mut out = Vec::new();
        let mut i = 0;
        while out.len() < 3_000 {
            for (k, name) in names.iter().enumerate() {
                if i % (k + 10) < 10 && out.len() < 3_000 {
                    out.push(vec![Some(name.clone()), Some(format!("{:05}", out.len()))]);
                }
            }
            i += 1;
        }
        out
    }

    fn run(filter: &str) -> Assessment {
        let text = format!(
            "version = 2\n[filter]\ncontext = \"t\"\n{filter}\n[[fields]]\nname = \"given\"\nkind = \"given_name\"\n\
             [[fields]]\nname = \"rid\"\ntokenise = \"whole\"\n"
        );
        let schema = Schema::parse(&text).unwrap();
        let mut raw = [3u8; 32];
        let encoder = Encoder::new(schema.clone(), &SecretKey::from_bytes(&mut raw));
        let cells = cells();
        let mut records = FilterArena::new(schema.output_bits()).unwrap();
        let mut fields: Vec<FilterArena> =
            (0..2).map(|_| FilterArena::new(schema.output_bits()).unwrap()).collect();
        let mut cache = EncodeCache::default();
        for row in &cells {
            let e = encoder.encode(|f| row[f].as_deref(), &mut cache).unwrap();
            records.push_filter(&e.record).unwrap();
            for (a, f) in fields.iter_mut().zip(&e.fields) {
                a.push_filter(f).unwrap();
            }
        }
        let mut encodings = Encodings::new(&records);
        if schema.field_filters() {
            encodings = encodings.with_field_filters(&fields);
        }
        assess(&schema, &cells, encodings).unwrap()
    }

    #[test]
    fn unhardened_filters_give_names_away() {
        let a = run("");
        let given = &a.fields[0];
        assert!(given.tokens_exposed >= 10, "{given:?}");
        assert!(given.pattern_reidentified > 0.8, "{given:?}");
        assert_eq!(given.frequency_reidentified, None);
        // The record id is unique per record: no token reaches the support, nothing exposed.
        assert_eq!(a.fields[1].tokens_exposed, 0);
        assert!(a.reidentified_share == 0.0, "names alone single out no one here: {a:?}");
    }

    #[test]
    fn balance_and_permute_change_nothing_a_per_record_salt_hides_the_names() {
        let plain = run("");
        let balanced = run("hardening = [\"balance\", \"permute\"]");
        assert!(
            (balanced.fields[0].pattern_reidentified - plain.fields[0].pattern_reidentified).abs()
                < 0.05,
            "{balanced:?} {plain:?}"
        );
        let salted = run("salt = { field = \"rid\" }");
        assert_eq!(salted.fields[0].tokens_exposed, 0, "{salted:?}");
        assert_eq!(salted.fields[0].pattern_reidentified, 0.0);
    }

    #[test]
    fn field_filters_fall_to_frequency_alignment() {
        let a = run("field_filters = true");
        let f = a.fields[0].frequency_reidentified.unwrap();
        assert!(f > 0.3, "{a:?}");
        // Equal values, equal filters: the unique ids are groups of one, all the same size.
        assert_eq!(a.fields[1].frequency_reidentified, Some(0.0));
    }

    #[test]
    fn match_keys_fall_to_frequency_alignment_within_salt_groups() {
        let schema = Schema::parse(
            "version = 3\n[filter]\ncontext = \"t\"\n[[fields]]\nname = \"given\"\n\
             kind = \"given_name\"\n[[fields]]\nname = \"born\"\nkind = \"birth_date\"\n\
             [[match_keys]]\nname = \"dob\"\nparts = [{ field = \"born\" }]\n",
        )
        .unwrap();
        // Per birth year (the default salt), dates and how many records have each.
        let dates = [
            ("1950-01-01", 5),
            ("1950-02-02", 3),
            ("1950-03-03", 3),
            ("1950-04-04", 1),
            ("1960-05-05", 4),
            ("1960-06-06", 2),
            ("1960-07-07", 5),
        ];
        let cells: Vec<Vec<Option<String>>> = dates
            .iter()
            .flat_map(|&(d, c)| (0..c).map(move |_| vec![Some("anna".into()), Some(d.into())]))
            .collect();
        let mut raw = [5u8; 32];
        let encoder = Encoder::new(schema.clone(), &SecretKey::from_bytes(&mut raw));
        let mut records = FilterArena::new(schema.output_bits()).unwrap();
        let mut keys: Vec<KeyColumn> = schema
            .match_keys()
            .iter()
            .map(|k| KeyColumn { name: k.name().to_owned(), values: Vec::new() })
            .collect();
        let mut cache = EncodeCache::default();
        for row in &cells {
            let e = encoder.encode(|f| row[f].as_deref(), &mut cache).unwrap();
            records.push_filter(&e.record).unwrap();
            for (column, key) in keys.iter_mut().zip(&e.keys) {
                column.values.push(KeyColumn::value(key.as_ref()));
            }
        }
        keys.reverse(); // any order
        let a = assess(&schema, &cells, Encodings::new(&records).with_match_keys(&keys)).unwrap();
        let by_name = |n: &str| a.keys.iter().find(|k| k.name == n).unwrap();
        let dob = by_name("dob");
        // Within 1950 the sizes 5 and 1 are unique, within 1960 all three are; over the
        // whole file 5 and 3 repeat, so an attacker blind to the groups would name 7.
        assert_eq!(dob.reidentified_share, 17.0 / 23.0, "{a:?}");
        assert_eq!((dob.distinct_values, dob.largest_group), (7, 5));
        assert_eq!(dob.unique_share, 1.0 / 23.0);
        // Two birth years of 12 and 11 records: the salt key names both.
        assert_eq!(by_name("salt").reidentified_share, 1.0, "{a:?}");
        // The dates the key gave away single out the records whose date is theirs alone.
        assert!(a.reidentified_share > 0.0, "{a:?}");
    }

    #[test]
    fn inputs_that_do_not_line_up_are_errors() {
        let schema =
            Schema::parse("version = 2\n[[fields]]\nname = \"a\"\nkind = \"surname\"\n").unwrap();
        let arena = FilterArena::new(1024).unwrap();
        let cells = vec![vec![Some("x".to_owned())]];
        assert!(matches!(
            assess(&schema, &cells, Encodings::new(&arena)),
            Err(AssessError::RowMismatch { .. })
        ));
        let keys = [KeyColumn { name: "birth_date".into(), values: vec![] }];
        assert_eq!(
            assess(&schema, &[], Encodings::new(&arena).with_match_keys(&keys)),
            Err(AssessError::KeyMismatch { name: "birth_date".into() })
        );
        let empty = assess(&schema, &[], Encodings::new(&arena)).unwrap();
        assert_eq!((empty.records, empty.reidentified_share), (0, 0.0));
    }
}
