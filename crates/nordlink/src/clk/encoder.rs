//! The native encoder: construction `nordlink-clk/1` (see `docs/schema.md`).
//!
//! ```text
//! K_purpose = HKDF-SHA256(salt = "nordlink-clk/1", IKM = master key,
//!                         info = u8(len P) || P || u16be(len C) || C || u16be(len F) || F)
//! ```
//! with purpose `P` = `field` (one key per field name `F`), `permute` or
//! `randomised-response` (`F` empty), and `C` the schema's context. A token `t` of a
//! field, with per-record salt `s` (empty without salting), sets the bits
//!
//! * random hashing: `u32_le(X[4i..4i+4]) mod l` for `i < k`, `X` the BLAKE3 XOF of
//!   `keyed_hash(K_field, u16be(len s) || s || t)`;
//! * double hashing: `(h1 + i h2) mod l` with `h1`, `h2` the first two little-endian u64
//!   of that output (`h2` replaced by 1 if it is 0 mod l).

use zeroize::Zeroizing;

use super::BloomFilter;
use super::bitorder::position;
use super::error::{EncodeError, ValueProblem};
use super::harden::Hardener;
use super::match_key::{MatchKeyValue, MatchKeyer, key_value};
use super::memo::{TokenMemo, TokensMemo, ValueMemo};
use super::normalise::normalise;
use super::schema::{Field, Hashing, Invalid, Missing, Schema, Weight};
use super::tokenise::{Tokens, date_tokens, invalid_text_tokens};
use crate::kdf::derive_subkey;
use crate::prf::blake3_stream;
use crate::{KeyId, SecretKey};

/// The construction's name; also the HKDF salt.
pub const CLK_CONSTRUCTION: &str = "nordlink-clk/1";

/// Largest number of values memoised per field in one [`EncodeCache`].
pub(crate) const VALUE_MEMO_LIMIT: usize = 1 << 14;

/// Largest number of 64-bit words of masks the value memo of one field holds: 8 MiB, so
/// memory stays bounded whatever the filter length and however many distinct salted
/// values a file brings (per-record salts make every value new).
const MEMO_WORDS: usize = 1 << 20;

/// Largest number of bytes the memo of a field's tokenised cells holds (salted schemas
/// only): about 40 k names with their tokens.
const TOKENS_MEMO_BYTES: usize = 4 << 20;

/// Largest number of bit positions (u32) the token memo of one field holds: 8 MiB of
/// positions, about 200 k tokens of 10 bits with their keys.
pub(crate) const TOKEN_MEMO_POSITIONS: usize = 1 << 21;

/// Entries a memo of masks `words` long may hold.
pub(crate) fn memo_capacity(words: usize, limit: usize) -> usize {
    (MEMO_WORDS / words.max(1)).min(limit)
}

/// Source of [`Encoder`] identities, so a cache is never used with another encoder.
pub(crate) static NEXT_ENCODER_ID: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(1);

fn derive(master: &SecretKey, purpose: &str, context: &str, field: &str) -> Zeroizing<[u8; 32]> {
    derive_subkey(master, CLK_CONSTRUCTION, purpose, &[context, field])
}

/// The filters of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// The record-level filter (CLK).
    pub record: BloomFilter,
    /// One filter per schema field, when the schema asks for field-level filters.
    pub fields: Vec<BloomFilter>,
    /// Fields whose value failed its format and was encoded under the field's
    /// [`Invalid`] policy instead of rejecting the record, with the problem.
    pub invalid: Vec<(usize, ValueProblem)>,
    /// One value per [`Schema::match_keys`] entry, in order; `None` where a part is
    /// missing or invalid.
    pub keys: Vec<Option<MatchKeyValue>>,
}

/// A field value ready for tokenising.
pub(crate) enum Prepared {
    /// Valid: the normalised (for dates, canonical) value, for the field's tokeniser.
    Valid(String),
    /// Failed its format; tokenised as `!`-prefixed text bigrams.
    Text(String),
    /// A well-formed date that is no calendar date: (year, month, day).
    Parts(u16, u8, u8),
    /// Failed its format; contributes no bits.
    Dropped,
}

impl Prepared {
    /// The value a salt takes from it: an invalid value salts nothing unless its date
    /// parts were kept.
    fn salt(self) -> String {
        match self {
            Self::Valid(v) => v,
            Self::Parts(y, m, d) => format!("{y:04}-{m:02}-{d:02}"),
            Self::Text(_) | Self::Dropped => String::new(),
        }
    }
}

/// Encodes records under a [`Schema`] and a master key.
pub struct Encoder {
    id: u64,
    key_id: KeyId,
    schema: Schema,
    field_keys: Vec<Zeroizing<[u8; 32]>>,
    hardener: Hardener,
    match_keyer: MatchKeyer,
    words: usize,
    /// Entries each value memo may hold ([`memo_capacity`]), positions each token memo
    /// may hold.
    memo_caps: (usize, usize),
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("schema", &self.schema).finish_non_exhaustive()
    }
}

/// ORs `b` into `a`.
fn or_words(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x |= y;
    }
}

/// Memo of token positions and value masks for one [`Encoder`] (module `memo`): names
/// and q-grams repeat, so most lookups hit. What it holds is derived from the key, as
/// secret as the key: memory only, bounded per field, wiped when dropped.
///
/// A cache remembers which encoder filled it and starts afresh when handed to another.
#[derive(Default)]
pub struct EncodeCache {
    owner: u64,
    tokens: Vec<TokenMemo>,
    /// Per field, masks keyed by (salt, cell).
    values: Vec<ValueMemo>,
    /// Per field, a cell's tokens (salted schemas only: without a salt the value memo
    /// already covers every cell seen).
    prepared: Vec<TokensMemo>,
    /// A value's tokens, reused from record to record.
    token_buf: Tokens,
}

impl std::fmt::Debug for EncodeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncodeCache { .. }")
    }
}

/// A field's values as the encoder reads them (no key involved): shared with the attacks
/// of [`assess`](crate::assess), which must see exactly the encoder's tokens.
impl Field {
    /// The value to tokenise, or `None` when it is missing and skipped. A value that fails
    /// the date format is handled here by the field's [`Invalid`] policy.
    pub(crate) fn prepare(&self, raw: &str) -> Result<Option<Prepared>, EncodeError> {
        let field = self;
        let mut raw = raw;
        if field.missing_values.iter().any(|m| m == raw.trim()) {
            match &field.missing {
                Missing::Skip => return Ok(None),
                Missing::Reject => {
                    return Err(EncodeError::MissingValue { field: field.name.clone() });
                }
                Missing::Replace(v) => raw = v,
            }
        }
        let v = normalise(&field.normalise, raw);
        if v.is_empty() {
            return Ok(None);
        }
        let Some(fmt) = &field.date_format else { return Ok(Some(Prepared::Valid(v))) };
        if let Some(date) = fmt.parse(&v) {
            return Ok(Some(Prepared::Valid(date.to_string())));
        }
        let parts = fmt.parts(&v);
        Ok(match field.invalid {
            Invalid::Reject => {
                return Err(EncodeError::invalid(&field.name, ValueProblem::BadDate));
            }
            Invalid::Missing => Some(Prepared::Dropped),
            Invalid::Text => Some(Prepared::Text(v)),
            Invalid::Partial => {
                Some(parts.map_or(Prepared::Dropped, |(y, m, d)| Prepared::Parts(y, m, d)))
            }
        })
    }

    /// Appends the tokens of a raw cell to `out`, as the encoder hashes them: the missing
    /// and `invalid` policies applied. Returns the problem of a value that failed its format
    /// and was encoded anyway; `None` for a valid or missing one.
    ///
    /// # Errors
    /// [`EncodeError`] when the policies reject the record.
    pub(crate) fn tokens(
        &self,
        raw: &str,
        out: &mut Tokens,
    ) -> Result<Option<ValueProblem>, EncodeError> {
        let field = self;
        Ok(match self.prepare(raw)? {
            None => None,
            Some(Prepared::Dropped) => Some(ValueProblem::BadDate),
            Some(Prepared::Valid(value)) => {
                let start = out.len();
                match field.tokeniser.tokens(&value, out) {
                    Ok(()) => None,
                    Err(problem) => {
                        out.truncate(start);
                        match field.invalid {
                            Invalid::Reject => {
                                return Err(EncodeError::invalid(&field.name, problem));
                            }
                            Invalid::Text => invalid_text_tokens(&value, out),
                            // `partial` is for dates, whose format was checked above.
                            Invalid::Missing | Invalid::Partial => {}
                        }
                        Some(problem)
                    }
                }
            }
            Some(Prepared::Text(value)) => {
                invalid_text_tokens(&value, out);
                Some(ValueProblem::BadDate)
            }
            Some(Prepared::Parts(y, m, d)) => {
                date_tokens(y, m, d, out);
                Some(ValueProblem::BadDate)
            }
        })
    }
}

impl Schema {
    /// The record's salt, from its salt field's raw cell; empty without salting, and for
    /// a salt value that is missing or failed its format (unless its date parts were kept).
    ///
    /// # Errors
    /// [`EncodeError`] when the salt field's policies reject the record.
    pub(crate) fn record_salt<'a>(
        &self,
        value: &impl Fn(usize) -> Option<&'a str>,
    ) -> Result<String, EncodeError> {
        let Some(s) = &self.salt else { return Ok(String::new()) };
        let raw = value(s.field).unwrap_or("");
        let v = self.fields[s.field].prepare(raw)?.map(Prepared::salt).unwrap_or_default();
        Ok(if s.year_only { v.get(..4).unwrap_or_default().to_owned() } else { v })
    }
}

impl Encoder {
    /// Derives the field and hardening keys.
    pub fn new(schema: Schema, master: &SecretKey) -> Self {
        let ctx = schema.context.as_str();
        let field_keys =
            schema.fields.iter().map(|f| derive(master, "field", ctx, &f.name)).collect();
        let permute = derive(master, "permute", ctx, "");
        let rr = derive(master, "randomised-response", ctx, "");
        let hardener = Hardener::new(&schema.hardening, schema.bits, &permute, rr);
        let match_keyer = MatchKeyer::new(&schema, master);
        let words = schema.bits / 64;
        let id = NEXT_ENCODER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let memo_caps = (memo_capacity(words, VALUE_MEMO_LIMIT), TOKEN_MEMO_POSITIONS);
        Self {
            id,
            key_id: master.id(),
            schema,
            field_keys,
            hardener,
            match_keyer,
            words,
            memo_caps,
        }
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The public id of the master key the filters are made under.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Encodes one record; `value(i)` is the raw cell of field `i` (`None` for null).
    ///
    /// # Errors
    /// [`EncodeError`] naming the field whose value cannot be encoded.
    pub fn encode<'a>(
        &self,
        value: impl Fn(usize) -> Option<&'a str>,
        cache: &mut EncodeCache,
    ) -> Result<Encoded, EncodeError> {
        let salt = self.schema.record_salt(&value)?;
        self.encode_salted(value, &salt, cache)
    }

    /// [`encode`](Self::encode) with the record's salt already known (what
    /// [`Schema::record_salt`] gives for it).
    pub(crate) fn encode_salted<'a>(
        &self,
        value: impl Fn(usize) -> Option<&'a str>,
        salt: &str,
        cache: &mut EncodeCache,
    ) -> Result<Encoded, EncodeError> {
        self.ready(cache);
        let mut record = vec![0u64; self.words];
        let mut fields = Vec::new();
        let mut invalid = Vec::new();
        for i in 0..self.schema.fields.len() {
            let field_salt = self.schema.field_salt(i, salt);
            let raw = value(i).unwrap_or("");
            // With field filters each field's bits are kept apart first.
            let mut own = self.schema.field_filters.then(|| vec![0u64; self.words]);
            let into: &mut [u64] = own.as_deref_mut().unwrap_or(&mut record);
            let problem = self.or_field(i, raw, field_salt, into, cache)?;
            invalid.extend(problem.map(|p| (i, p)));
            if let Some(own) = own {
                or_words(&mut record, &own);
                fields.push(self.finish(own)?);
            }
        }
        self.complete(record, fields, invalid, &value, salt)
    }

    /// Encodes `n` records field by field (all records' first field, then their second
    /// ...), with the same results as [`encode_salted`](Self::encode_salted) one record at
    /// a time: one field's memos are all a pass touches, so they stay in the processor's
    /// cache. `value(r, i)` is field `i` of record `r`; `salt(r)` its salt, or the error
    /// its salt field gave.
    #[cfg_attr(not(feature = "parallel"), allow(dead_code, reason = "used by encode_many"))]
    pub(crate) fn encode_columns<'a, 's>(
        &self,
        n: usize,
        value: impl Fn(usize, usize) -> Option<&'a str>,
        salt: impl Fn(usize) -> Result<&'s str, EncodeError>,
        cache: &mut EncodeCache,
    ) -> Vec<Result<Encoded, EncodeError>> {
        self.ready(cache);
        let w = self.words;
        let mut records = vec![0u64; n * w];
        // Per record: the first error, the invalid values and the field filters so far.
        let mut failed: Vec<Option<EncodeError>> = (0..n).map(|r| salt(r).err()).collect();
        let mut invalid: Vec<Vec<(usize, ValueProblem)>> = vec![Vec::new(); n];
        let mut fields: Vec<Vec<BloomFilter>> = vec![Vec::new(); n];
        let mut own = vec![0u64; if self.schema.field_filters { w } else { 0 }];
        for i in 0..self.schema.fields.len() {
            for r in 0..n {
                let (Ok(record_salt), None) = (salt(r), &failed[r]) else { continue };
                let field_salt = self.schema.field_salt(i, record_salt);
                let raw = value(r, i).unwrap_or("");
                let record = &mut records[r * w..][..w];
                let into: &mut [u64] = if own.is_empty() { record } else { &mut own };
                let problem = match self.or_field(i, raw, field_salt, into, cache) {
                    Ok(problem) => problem,
                    Err(e) => {
                        failed[r] = Some(e);
                        own.fill(0);
                        continue;
                    }
                };
                invalid[r].extend(problem.map(|p| (i, p)));
                if !own.is_empty() {
                    or_words(&mut records[r * w..][..w], &own);
                    match self.finish(own.clone()) {
                        Ok(filter) => fields[r].push(filter),
                        Err(e) => failed[r] = Some(e),
                    }
                    own.fill(0);
                }
            }
        }
        let mut out = Vec::with_capacity(n);
        let parts = failed.into_iter().zip(invalid).zip(fields).enumerate();
        for (r, ((failed, invalid), fields)) in parts {
            out.push(match (failed, salt(r)) {
                (Some(e), _) | (None, Err(e)) => Err(e),
                (None, Ok(record_salt)) => {
                    let record = records[r * w..][..w].to_vec();
                    self.complete(record, fields, invalid, &|i| value(r, i), record_salt)
                }
            });
        }
        out
    }

    /// Makes `cache` this encoder's.
    fn ready(&self, cache: &mut EncodeCache) {
        if cache.owner != self.id {
            let n = self.schema.fields.len();
            cache.owner = self.id;
            cache.tokens = (0..n).map(|_| TokenMemo::new(self.memo_caps.1)).collect();
            cache.values = (0..n).map(|_| ValueMemo::new(self.memo_caps.0)).collect();
            let prepared = if self.schema.salt.is_some() { TOKENS_MEMO_BYTES } else { 0 };
            cache.prepared = (0..n).map(|_| TokensMemo::new(prepared)).collect();
        }
    }

    /// ORs the bits of field `i`'s cell `raw` (under `salt`) into `into`; returns the
    /// problem of a value encoded under the field's `invalid` policy.
    fn or_field(
        &self,
        i: usize,
        raw: &str,
        salt: &str,
        into: &mut [u64],
        cache: &mut EncodeCache,
    ) -> Result<Option<ValueProblem>, EncodeError> {
        if let Some(problem) = cache.values[i].or_into(salt, raw, into) {
            return Ok(problem);
        }
        if let Some((tokens, problem)) = cache.prepared[i].get(raw) {
            let memos = (&mut cache.values[i], &mut cache.tokens[i]);
            self.or_tokens(i, tokens.iter(), (salt, raw), problem, memos, into);
            return Ok(problem);
        }
        cache.token_buf.clear();
        let problem = self.schema.fields[i].tokens(raw, &mut cache.token_buf)?;
        let memos = (&mut cache.values[i], &mut cache.tokens[i]);
        self.or_tokens(i, cache.token_buf.iter(), (salt, raw), problem, memos, into);
        cache.prepared[i].insert(raw, &cache.token_buf, problem);
        Ok(problem)
    }

    /// ORs the bits of field `i`'s `tokens` (of cell `raw`, under `salt`) into `into`,
    /// and memoises the cell's mask if the value memo has room.
    fn or_tokens<'t>(
        &self,
        i: usize,
        tokens: impl Iterator<Item = &'t str> + Clone,
        (salt, raw): (&str, &str),
        problem: Option<ValueProblem>,
        (values, token_memo): (&mut ValueMemo, &mut TokenMemo),
        into: &mut [u64],
    ) {
        values.or_and_keep((salt, raw), problem, into, |mask| {
            self.field_mask(i, tokens, salt, token_memo, mask);
        });
    }

    /// The match keys, then hardening: the record's filters as they leave.
    fn complete<'a>(
        &self,
        record: Vec<u64>,
        fields: Vec<BloomFilter>,
        invalid: Vec<(usize, ValueProblem)>,
        value: &impl Fn(usize) -> Option<&'a str>,
        salt: &str,
    ) -> Result<Encoded, EncodeError> {
        let keys = if self.schema.match_keys.is_empty() {
            Vec::new()
        } else {
            // Each field is prepared at most once, and only if a key reads it.
            let mut prepared: Vec<Option<Option<String>>> = vec![None; self.schema.fields.len()];
            let read = |i: usize| {
                prepared[i]
                    .get_or_insert_with(|| {
                        let raw = value(i).unwrap_or("");
                        self.schema.fields[i].prepare(raw).ok().and_then(key_value)
                    })
                    .clone()
            };
            self.match_keyer.keys(&self.schema, read, salt)
        };
        Ok(Encoded { record: self.finish(record)?, fields, invalid, keys })
    }

    /// Hardening, then conversion to the byte form.
    fn finish(&self, words: Vec<u64>) -> Result<BloomFilter, EncodeError> {
        let words =
            self.hardener.apply(words, self.schema.bits).map_err(|_| EncodeError::Randomness)?;
        Ok(BloomFilter::from_words(&words, self.schema.output_bits()))
    }

    /// Sets the field's bits for one value's tokens in `mask`.
    fn field_mask<'t>(
        &self,
        index: usize,
        tokens: impl Iterator<Item = &'t str> + Clone,
        salt: &str,
        memo: &mut TokenMemo,
        mask: &mut [u64],
    ) {
        let weight = self.schema.fields[index].weight;
        memo.select(salt);
        let kept = |t: &&str| self.schema.keeps_token(index, t);
        // Only a per-field weight needs the count (a second pass over the tokens). Values
        // are bounded by the readers' cell limits, far below 2^32 tokens.
        let n = match weight {
            Weight::PerToken(_) => 0,
            Weight::PerField(_) => {
                u32::try_from(tokens.clone().filter(kept).count()).unwrap_or(u32::MAX)
            }
        };
        for (t, token) in tokens.filter(kept).enumerate() {
            let k = match weight {
                Weight::PerToken(k) => k,
                Weight::PerField(b) => {
                    let t = u32::try_from(t).unwrap_or(u32::MAX);
                    (b / n + u32::from(t < b % n)).max(1)
                }
            };
            memo.set_bits((k, token), mask, |out| {
                self.token_positions(index, salt, token, k, out);
            });
        }
    }

    /// Appends the `k` bit positions of a token (repeats included: they set one bit).
    fn token_positions(&self, index: usize, salt: &str, token: &str, k: u32, out: &mut Vec<u32>) {
        let l = self.schema.bits as u64;
        // nordlink-clk/1 hashes the salt's length modulo 2^16 (u16be); kept exactly, as
        // the construction is frozen.
        #[allow(clippy::cast_possible_truncation, reason = "the frozen definition wraps")]
        let salt_len = (salt.len() as u16).to_be_bytes();
        let parts: [&[u8]; 3] = [&salt_len, salt.as_bytes(), token.as_bytes()];
        let mut stream = blake3_stream(&self.field_keys[index], &parts);
        // Below the filter length, at most 2^24 bits (schemas check it): fits a u32.
        #[allow(clippy::cast_possible_truncation, reason = "below 2^24")]
        let at = |reduced: u64| position(reduced) as u32;
        match self.schema.hashing {
            Hashing::Random => {
                let mut buf = vec![0u8; 4 * k as usize];
                stream.fill(&mut buf);
                for c in buf.chunks_exact(4) {
                    let w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                    out.push(at(u64::from(w) % l));
                }
            }
            Hashing::Double => {
                let mut b = [0u8; 16];
                stream.fill(&mut b);
                let h1 = u64::from_le_bytes(b[..8].try_into().unwrap_or_default()) % l;
                let mut h2 = u64::from_le_bytes(b[8..].try_into().unwrap_or_default()) % l;
                if h2 == 0 {
                    h2 = 1;
                }
                for i in 0..u64::from(k) {
                    out.push(at((h1 + i * h2) % l));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tokenise::Tokeniser;
    use super::*;

    fn key(b: u8) -> SecretKey {
        let mut raw = [b; 32];
        SecretKey::from_bytes(&mut raw)
    }

    #[test]
    fn tokeniser_is_used_for_dates() {
        let schema = Schema::parse(
            "version = 1\n[[fields]]\nname = \"dob\"\nkind = \"birth_date\"\ndate_format = \"%d.%m.%Y\"\n",
        )
        .unwrap();
        assert_eq!(schema.fields[0].tokeniser, Tokeniser::DateParts);
        let e = Encoder::new(schema, &key(1));
        let mut c = EncodeCache::default();
        let a = e.encode(|_| Some("17.05.1990"), &mut c).unwrap();
        let b = e.encode(|_| Some("17.5.1990"), &mut c).unwrap();
        assert_eq!(a, b);
        assert!(e.encode(|_| Some("1990-05-17"), &mut c).is_err());
        assert_eq!(e.encode(|_| Some(""), &mut c).unwrap().record.count_ones(), 0);
    }

    fn dice(a: &BloomFilter, b: &BloomFilter) -> f64 {
        let and: u32 =
            a.as_bytes().iter().zip(b.as_bytes()).map(|(x, y)| (x & y).count_ones()).sum();
        2.0 * f64::from(and) / f64::from(a.count_ones() + b.count_ones())
    }

    /// A birth date and an integer field; `policy` (if any) on both, but `partial` (for
    /// dates only) on the date alone.
    fn date_schema(version: u32, policy: &str) -> Encoder {
        let line =
            |p: &str| if p.is_empty() { String::new() } else { format!("invalid = \"{p}\"\n") };
        let age_policy = if policy == "partial" { "" } else { policy };
        let text = format!(
            "version = {version}\n[[fields]]\nname = \"dob\"\nkind = \"birth_date\"\n{}\
             [[fields]]\nname = \"age\"\nkind = \"integer\"\n{}",
            line(policy),
            line(age_policy)
        );
        Encoder::new(Schema::parse(&text).unwrap(), &key(7))
    }

    fn enc(e: &Encoder, dob: &str, age: &str) -> Result<Encoded, EncodeError> {
        let cells = [dob, age];
        e.encode(|i| Some(cells[i]), &mut EncodeCache::default())
    }

    #[test]
    fn invalid_values_follow_the_field_policy() {
        // Version 1, and an explicit `reject`, reject the record, naming field and problem.
        for e in [date_schema(1, ""), date_schema(2, "reject")] {
            let err = enc(&e, "1990-02-31", "40").unwrap_err();
            assert_eq!((err.field(), err.code()), ("dob", "bad_date"));
            let err = enc(&e, "1990-02-13", "4o").unwrap_err();
            assert_eq!((err.field(), err.code()), ("age", "not_integer"));
        }
        // `missing`: exactly the filter of an empty value, and reported.
        let e = date_schema(2, "missing");
        let got = enc(&e, "1990-02-31", "4o").unwrap();
        assert_eq!(got.record, enc(&e, "", "").unwrap().record);
        assert_eq!(got.invalid, [(0, ValueProblem::BadDate), (1, ValueProblem::NotInteger)]);
        assert!(enc(&e, "1990-02-13", "40").unwrap().invalid.is_empty());
        // `text`: bits of their own, equal for equal invalid values, disjoint in tokens from
        // valid ones (only chance collisions of positions).
        let e = date_schema(2, "text");
        let a = enc(&e, "1990-02-31", "").unwrap();
        assert!(a.record.count_ones() > 0);
        assert_eq!(a.record, enc(&e, "1990-02-31", "").unwrap().record);
        assert!(dice(&a.record, &enc(&e, "1990-02-13", "").unwrap().record) < 0.2);
        // `partial`: the year and month still agree with the true date.
        let e = date_schema(2, "partial");
        let p = enc(&e, "1990-02-31", "").unwrap();
        assert_eq!(p.invalid, [(0, ValueProblem::BadDate)]);
        let d = dice(&p.record, &enc(&e, "1990-02-13", "").unwrap().record);
        assert!((0.55..0.75).contains(&d), "{d}");
        // Same tokens as a valid date with that day: the 31st of March shares y and d.
        let d = dice(&p.record, &enc(&e, "1990-03-31", "").unwrap().record);
        assert!((0.55..0.75).contains(&d), "{d}");
        // A value that does not match the pattern at all sets nothing.
        assert_eq!(enc(&e, "1990-13-01", "").unwrap().record.count_ones(), 0);
    }

    #[test]
    fn version_2_defaults_keep_damaged_records() {
        let e = date_schema(2, "");
        assert_eq!(e.schema().fields()[0].invalid(), Invalid::Partial);
        assert_eq!(e.schema().fields()[1].invalid(), Invalid::Missing);
        let got = enc(&e, "1990-02-31", "4o").unwrap();
        assert_eq!(got.invalid.len(), 2);
        assert_eq!(date_schema(1, "").schema().fields()[0].invalid(), Invalid::Reject);
        // `partial` is for dates only.
        let text =
            "version = 2\n[[fields]]\nname = \"a\"\nkind = \"integer\"\ninvalid = \"partial\"\n";
        assert!(Schema::parse(text).unwrap_err().to_string().contains("date"));
    }

    #[test]
    fn memos_stay_bounded_and_invisible() {
        // 65 536-bit filters: 1 024 words a mask, so each value memo keeps at most 1 024
        // masks; the token memos get a small bound here, to be filled.
        let text = "version = 2\n[filter]\nbits = 65536\nsalt = { field = \"s\" }\n\
                    [[fields]]\nname = \"s\"\nkind = \"text\"\n[[fields]]\nname = \"n\"\nkind = \"surname\"\n";
        let mut e = Encoder::new(Schema::parse(text).unwrap(), &key(5));
        e.memo_caps.1 = 5_000;
        let mut cache = EncodeCache::default();
        for i in 0..1500 {
            let (salt, name) = (i.to_string(), format!("name{i}"));
            let shared = e.encode(|f| Some([salt.as_str(), name.as_str()][f]), &mut cache).unwrap();
            if i % 250 == 0 || i > 1400 {
                let fresh = e.encode(
                    |f| Some([salt.as_str(), name.as_str()][f]),
                    &mut EncodeCache::default(),
                );
                assert_eq!(shared, fresh.unwrap(), "{i}");
            }
        }
        for f in 0..2 {
            assert!(cache.tokens[f].held() <= 5_000, "{}", cache.tokens[f].held());
            assert!(cache.values[f].len() <= 1024, "{}", cache.values[f].len());
        }
        assert_eq!(cache.values[1].len(), 1024, "filled to the bound");
        assert!(cache.tokens[1].held() > 4_500, "filled to the bound");
    }

    #[test]
    fn a_cell_that_looks_like_a_salted_key_never_meets_one() {
        let text = "version = 2\n[filter]\nsalt = { field = \"s\" }\n[[fields]]\nname = \"s\"\n\
                    kind = \"text\"\n[[fields]]\nname = \"n\"\nkind = \"surname\"\n";
        let e = Encoder::new(Schema::parse(text).unwrap(), &key(4));
        let encode = |cells: [&str; 2], cache: &mut EncodeCache| {
            e.encode(|i| Some(cells[i]), cache).unwrap().record
        };
        // Salt "1990" and cell "berg" make the salted key "4:1990berg"; an empty salt and
        // the cell "4:1990berg" must not be served that entry.
        let mut cache = EncodeCache::default();
        encode(["1990", "berg"], &mut cache);
        let shared = encode(["", "4:1990berg"], &mut cache);
        assert_eq!(shared, encode(["", "4:1990berg"], &mut EncodeCache::default()));
    }

    #[test]
    fn an_invalid_salt_date_salts_by_its_parts_or_not_at_all() {
        let text = |policy: &str| {
            format!(
                "version = 2\n[filter]\nsalt = {{ field = \"dob\", year_only = true }}\n\
                 [[fields]]\nname = \"dob\"\nkind = \"birth_date\"\ninvalid = \"{policy}\"\n\
                 [[fields]]\nname = \"n\"\nkind = \"surname\"\n"
            )
        };
        // (record, record without the name) for a birth date.
        let encode = |policy: &str, dob: &str| {
            let e = Encoder::new(Schema::parse(&text(policy)).unwrap(), &key(3));
            let mut cache = EncodeCache::default();
            let with = e.encode(|i| Some([dob, "berg"][i]), &mut cache).unwrap().record;
            let without = e.encode(|i| Some([dob, ""][i]), &mut cache).unwrap().record;
            (with, without)
        };
        // Under `partial` the salt is the year: the name's bits equal those under a valid
        // date of that year.
        let (with_name, date_only) = encode("partial", "1990-02-31");
        let (valid_name, valid_date) = encode("partial", "1990-03-31");
        let name_bits = |a: &BloomFilter, b: &BloomFilter| -> Vec<u8> {
            a.as_bytes().iter().zip(b.as_bytes()).map(|(x, y)| x & !y).collect()
        };
        // Bits the name adds beyond the date (position collisions aside) agree.
        let a = name_bits(&with_name, &date_only);
        let b = name_bits(&valid_name, &valid_date);
        let common: u32 = a.iter().zip(&b).map(|(x, y)| (x & y).count_ones()).sum();
        let total: u32 = a.iter().map(|x| x.count_ones()).sum();
        assert!(total > 0 && common * 10 >= total * 9, "{common} of {total}");
        // Under `missing` the salt is empty: the name sets the bits of an unsalted record.
        assert_eq!(encode("missing", "1990-02-31").0, encode("missing", "").0);
    }

    #[test]
    fn version_3_keeps_the_salt_out_of_its_own_field() {
        let shared = |version: u32| {
            let schema = Schema::parse(&format!(
                "version = {version}\n[filter]\ncontext = \"c\"\nhardening = []\n\
                 salt = {{ field = \"dob\", year_only = true }}\n\
                 [[fields]]\nname = \"dob\"\nkind = \"birth_date\"\n"
            ))
            .unwrap();
            let e = Encoder::new(schema, &key(4));
            let mut cache = EncodeCache::default();
            let mut one = |d: &'static str| e.encode(|_| Some(d), &mut cache).unwrap().record;
            let (a, b) = (one("1980-03-04"), one("1980-05-06"));
            let same = a.as_bytes().iter().zip(b.as_bytes()).map(|(x, y)| (x & y).count_ones());
            (same.sum::<u32>(), a.count_ones())
        };
        // Version 2: the unsalted year token (30 bits) is common to both dates.
        let (shared2, ones2) = shared(2);
        assert!(shared2 >= 25 && ones2 > 60, "{shared2} {ones2}");
        // Version 3: only day and month, salted by the year: chance overlaps only.
        let (shared3, ones3) = shared(3);
        assert!(shared3 < 12 && ones3 <= 60, "{shared3} {ones3}");
    }
}
