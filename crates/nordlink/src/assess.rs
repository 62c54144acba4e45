//! Attacking one's own encodings: how much of the plaintext the published attacks that
//! need no key recover from a register holder's Bloom filters.
//!
//! The holder has both the plaintext and the filters made from it, row by row, so each
//! attack can be scored against the truth. Two attacks, each simulated for the strongest
//! attacker its literature assumes (so the figures are upper bounds of what it achieves):
//!
//! * **Pattern mining** (Christen et al. 2017–2018, Vidanage et al. 2019–2020): frequent
//!   tokens (q-grams, date parts) leave a *signature* in the filters, bit positions that
//!   are nearly always set (or, after `balance`, clear) when the token is present. The
//!   published attacks find such positions from bit co-occurrence and public q-gram
//!   frequencies; here the signature is read off with the truth, which is what those
//!   attacks reach when they succeed. A token is *exposed* when its signature predicts its
//!   presence with precision ≥ 0.9 over at least 20 records. A record's value is
//!   *re-identified* when the exposed tokens its filter shows match those of exactly one
//!   value of the field (the attacker's dictionary: every value in the plaintext).
//! * **Frequency alignment** (Kuzu et al. 2011; Christen et al. 2018) on field-level
//!   filters: equal values give equal filters, so a group of equal filters whose size is
//!   unique among the groups is aligned with the value whose frequency is unique and
//!   equal in the public table (here: the plaintext's own frequencies).
//!
//! A record is *singled out* when the values re-identified from its filters (by either
//! attack) occur in no other record. Also reported: the correlation between a record's
//! filter popcount and its number of tokens (the values' length, for q-grams).

use std::collections::HashMap;

use crate::clk::{Field, FilterArena, Schema};

/// Most frequent tokens tried per field.
pub const TOKENS_TRIED: usize = 300;

/// Fewest records a token must appear in for its signature to count.
pub const MIN_SUPPORT: usize = 20;

/// Precision at which a token's signature exposes it.
pub const EXPOSED_PRECISION: f64 = 0.9;

/// Share of a token's records that must agree on a bit for it to join the signature:
/// below 1 so that bits flipped at random (randomised response) do not hide it.
const SIGNATURE_AGREEMENT: f64 = 0.9;

/// Share of a signature's positions a filter must agree with to show the token.
const MATCH_AGREEMENT: f64 = 0.85;

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

/// The whole assessment.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// Records assessed.
    pub records: usize,
    /// Per schema field.
    pub fields: Vec<FieldAssessment>,
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
}

/// A cell's dictionary key and tokens, exactly as the encoder makes them (no key needed);
/// `None` for a value that sets no bits (missing, or invalid under `missing`) or that the
/// encoder would reject. Values with equal token sets give equal filter bits, so the
/// sorted tokens are the value as far as any attack can tell.
fn value_tokens(field: &Field, raw: &str) -> Option<(String, usize)> {
    let mut tokens = Vec::new();
    field.tokens(raw, &mut tokens).ok()?;
    if tokens.is_empty() {
        return None;
    }
    let count = tokens.len();
    tokens.sort();
    tokens.dedup();
    Some((tokens.join("\u{0}"), count))
}

/// Runs the attacks. `cells[r][f]` is record `r`'s raw cell for schema field `f`;
/// `records` holds the record filters in the same order; `field_filters`, when the
/// encoding has them, one arena per field.
///
/// # Errors
/// [`AssessError`] when the inputs do not line up.
pub fn assess(
    schema: &Schema,
    cells: &[Vec<Option<String>>],
    records: &FilterArena,
    field_filters: Option<&[FilterArena]>,
) -> Result<Assessment, AssessError> {
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
    // Per field and record: the value's id in the field's dictionary and its tokens.
    let mut found: Vec<Vec<bool>> = vec![vec![false; n]; fields.len()];
    let mut value_ids: Vec<Vec<Option<u32>>> = Vec::with_capacity(fields.len());
    let mut lengths = vec![0usize; n];
    let mut out = Vec::with_capacity(fields.len());
    for (f, field) in fields.iter().enumerate() {
        let mut dictionary: HashMap<String, u32> = HashMap::new();
        let mut tokens_of: Vec<Vec<String>> = Vec::new();
        let mut ids = Vec::with_capacity(n);
        for (r, row) in cells.iter().enumerate() {
            let parsed = row[f].as_deref().and_then(|raw| value_tokens(field, raw));
            ids.push(parsed.map(|(key, count)| {
                lengths[r] += count;
                let next = u32::try_from(dictionary.len()).unwrap_or(u32::MAX);
                *dictionary.entry(key).or_insert_with_key(|key| {
                    // Sorted: the attack looks tokens up by binary search.
                    tokens_of.push(key.split('\u{0}').map(str::to_owned).collect());
                    next
                })
            }));
        }
        let target = field_filters.map_or(records, |ff| &ff[f]);
        let pattern = pattern_mining(target, &ids, &tokens_of);
        let (tried, exposed) = (pattern.tried, pattern.exposed);
        let frequency = field_filters.map(|ff| frequency_alignment(&ff[f], &ids));
        for r in 0..n {
            found[f][r] = pattern.reidentified[r] || frequency.as_ref().is_some_and(|x| x[r]);
        }
        let share = |v: &[bool]| v.iter().filter(|&&x| x).count() as f64 / n.max(1) as f64;
        out.push(FieldAssessment {
            name: field.name().to_owned(),
            distinct_values: dictionary.len(),
            tokens_tried: tried,
            tokens_exposed: exposed,
            pattern_reidentified: share(&pattern.reidentified),
            frequency_reidentified: frequency.as_deref().map(share),
            reidentified_share: share(&found[f]),
        });
        value_ids.push(ids);
    }
    Ok(Assessment {
        records: n,
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

/// One token's signature: bit positions set, and bit positions clear, in at least
/// [`SIGNATURE_AGREEMENT`] of the records holding it (and the opposite in at least half of
/// the others).
struct Signature {
    set: Vec<u64>,
    clear: Vec<u64>,
}

impl Signature {
    /// Whether a filter agrees with at least [`MATCH_AGREEMENT`] of the positions.
    fn matches(&self, words: &[u64]) -> bool {
        let (mut agree, mut size) = (0u32, 0u32);
        for (w, (s, c)) in words.iter().zip(self.set.iter().zip(&self.clear)) {
            agree += (w & s).count_ones() + (!w & c).count_ones();
            size += s.count_ones() + c.count_ones();
        }
        f64::from(agree) >= MATCH_AGREEMENT * f64::from(size)
    }
}

fn pattern_mining(
    filters: &FilterArena,
    ids: &[Option<u32>],
    tokens_of: &[Vec<String>],
) -> Pattern {
    let n = ids.len();
    let words = filters.words_per_filter();
    let bits = words * 64;
    // Token → records holding it.
    let mut holders: HashMap<&str, Vec<usize>> = HashMap::new();
    for (r, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            for t in &tokens_of[*id as usize] {
                holders.entry(t.as_str()).or_default().push(r);
            }
        }
    }
    let mut frequent: Vec<(&str, Vec<usize>)> =
        holders.into_iter().filter(|(_, rs)| rs.len() >= MIN_SUPPORT).collect();
    frequent.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    frequent.truncate(TOKENS_TRIED);
    let tried = frequent.len();
    let filter = |r: usize| filters.get(r).map(|f| f.words()).unwrap_or_default();
    // How often each position is set over the learning (even) records.
    let mut all_ones = vec![0u32; bits];
    for r in (0..n).step_by(2) {
        for (w, word) in filter(r).iter().enumerate() {
            let mut x = *word;
            while x != 0 {
                all_ones[w * 64 + x.trailing_zeros() as usize] += 1;
                x &= x - 1;
            }
        }
    }
    let even = u32::try_from(n.div_ceil(2)).unwrap_or(u32::MAX);
    let mut ones = vec![0u32; bits];
    let mut exposed: Vec<&str> = Vec::new();
    // Record → exposed tokens its filter shows.
    let mut shown: Vec<Vec<u16>> = vec![Vec::new(); n];
    for (token, rs) in &frequent {
        // The signature is learnt on the even records and judged on the odd ones, so a
        // token held by few records cannot pass by memorising them.
        let learn: Vec<usize> = rs.iter().copied().filter(|r| r % 2 == 0).collect();
        ones.fill(0);
        for &r in &learn {
            for (w, word) in filter(r).iter().enumerate() {
                let mut x = *word;
                while x != 0 {
                    ones[w * 64 + x.trailing_zeros() as usize] += 1;
                    x &= x - 1;
                }
            }
        }
        let held = u32::try_from(learn.len()).unwrap_or(u32::MAX);
        let others = even.saturating_sub(held).max(1);
        // 90 % of a u32 count, rounded up: never above the count itself.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let need = (SIGNATURE_AGREEMENT * f64::from(held)).ceil() as u32;
        let mut sig = Signature { set: vec![0; words], clear: vec![0; words] };
        for (p, &c) in ones.iter().enumerate() {
            // A position tells only if the token's records differ from the others there:
            // set for the token and set in at most half the others, or clear for it and
            // set in at least half the others (a `balance` complement).
            let elsewhere = f64::from(all_ones[p].saturating_sub(c)) / f64::from(others);
            if c >= need && elsewhere <= 0.5 {
                sig.set[p / 64] |= 1 << (p % 64);
            } else if held - c >= need && elsewhere >= 0.5 {
                sig.clear[p / 64] |= 1 << (p % 64);
            }
        }
        if held == 0 || sig.set.iter().chain(&sig.clear).all(|w| *w == 0) {
            continue;
        }
        let judged: Vec<usize> = (1..n).step_by(2).filter(|&r| sig.matches(filter(r))).collect();
        let right = judged.iter().filter(|r| rs.binary_search(r).is_ok()).count();
        let odd_holders = rs.len() - learn.len();
        if judged.len() < MIN_SUPPORT / 2
            || odd_holders < MIN_SUPPORT / 2
            || (right as f64) < EXPOSED_PRECISION * judged.len() as f64
        {
            continue;
        }
        let index = u16::try_from(exposed.len()).unwrap_or(u16::MAX);
        exposed.push(token);
        for r in (0..n).filter(|&r| sig.matches(filter(r))) {
            shown[r].push(index);
        }
    }
    // A value's exposed tokens. The attacker reads a record's shown tokens and picks the
    // dictionary value whose exposed tokens all show and are the most: re-identified when
    // that value is unique and right.
    let exposed_of = |tokens: &[String]| -> Vec<u16> {
        exposed
            .iter()
            .enumerate()
            .filter(|(_, t)| tokens.binary_search_by(|x| x.as_str().cmp(t)).is_ok())
            .map(|(i, _)| u16::try_from(i).unwrap_or(u16::MAX))
            .collect()
    };
    let value_sets: Vec<Vec<u16>> = tokens_of.iter().map(|t| exposed_of(t)).collect();
    // Records showing the same tokens get the same guess: work per distinct set.
    let mut guesses: HashMap<Vec<u16>, Option<u32>> = HashMap::new();
    let mut reidentified = vec![false; n];
    for r in 0..n {
        let Some(id) = ids[r] else { continue };
        let mut seen = std::mem::take(&mut shown[r]);
        seen.sort_unstable();
        let guess = *guesses.entry(seen).or_insert_with_key(|seen| best_value(seen, &value_sets));
        reidentified[r] = guess == Some(id);
    }
    Pattern { tried, exposed: exposed.len(), reidentified }
}

/// The value whose exposed tokens all appear in `seen` and are the most, when exactly one
/// value has that many (and at least one).
fn best_value(seen: &[u16], value_sets: &[Vec<u16>]) -> Option<u32> {
    let (mut best, mut size, mut ties) = (None, 0, 0);
    for (v, set) in value_sets.iter().enumerate() {
        if set.is_empty() || !set.iter().all(|t| seen.binary_search(t).is_ok()) {
            continue;
        }
        match set.len().cmp(&size) {
            std::cmp::Ordering::Greater => (best, size, ties) = (Some(v), set.len(), 1),
            std::cmp::Ordering::Equal => ties += 1,
            std::cmp::Ordering::Less => {}
        }
    }
    if ties == 1 { best.and_then(|v| u32::try_from(v).ok()) } else { None }
}

/// Frequency alignment on one field's filters: returns, per record, whether its value was
/// re-identified.
fn frequency_alignment(filters: &FilterArena, ids: &[Option<u32>]) -> Vec<bool> {
    // Groups of equal filters (missing values excluded: they are all-zero filters that
    // the attacker would recognise, not a value).
    let mut groups: HashMap<&[u64], Vec<usize>> = HashMap::new();
    for (r, id) in ids.iter().enumerate() {
        if id.is_some()
            && let Some(f) = filters.get(r)
        {
            groups.entry(f.words()).or_default().push(r);
        }
    }
    let mut value_count: HashMap<u32, usize> = HashMap::new();
    for id in ids.iter().flatten() {
        *value_count.entry(*id).or_default() += 1;
    }
    // Sizes that occur once among the groups, and once among the values.
    let mut group_sizes: HashMap<usize, usize> = HashMap::new();
    for g in groups.values() {
        *group_sizes.entry(g.len()).or_default() += 1;
    }
    let mut value_sizes: HashMap<usize, (usize, u32)> = HashMap::new();
    for (&id, &c) in &value_count {
        let e = value_sizes.entry(c).or_insert((0, id));
        e.0 += 1;
    }
    let mut out = vec![false; ids.len()];
    for g in groups.values() {
        let size = g.len();
        if group_sizes.get(&size) != Some(&1) {
            continue;
        }
        let Some(&(1, value)) = value_sizes.get(&size) else { continue };
        // Aligned: right when the group is exactly that value's records.
        if g.iter().all(|&r| ids[r] == Some(value)) {
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
        let ff = schema.field_filters().then_some(fields.as_slice());
        assess(&schema, &cells, &records, ff).unwrap()
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
    fn inputs_that_do_not_line_up_are_errors() {
        let schema =
            Schema::parse("version = 2\n[[fields]]\nname = \"a\"\nkind = \"surname\"\n").unwrap();
        let arena = FilterArena::new(1024).unwrap();
        let cells = vec![vec![Some("x".to_owned())]];
        assert!(matches!(
            assess(&schema, &cells, &arena, None),
            Err(AssessError::RowMismatch { .. })
        ));
        let empty = assess(&schema, &[], &arena, None).unwrap();
        assert_eq!((empty.records, empty.reidentified_share), (0, 0.0));
    }
}
