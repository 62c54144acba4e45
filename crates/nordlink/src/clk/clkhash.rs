//! Compatibility with clkhash 0.18.3: read its v3 linkage schema and produce bit-identical
//! CLKs from the same records and secret.
//!
//! What clkhash does, and so what this module does (see `docs/schema.md`, "clkhash
//! compatibility"):
//!
//! * Keys: one HKDF (SHA-256 or SHA-512, the schema's salt and info) over the secret's
//!   bytes, `2 x features x keySize` bytes long, cut into two keys per feature (ignored
//!   features included).
//! * Per feature: a missing-value sentinel is replaced (and skips validation); otherwise
//!   the value is validated and formatted (integers canonicalised, dates to `%Y%m%d`).
//! * Tokens: n-grams over characters padded with `n - 1` spaces (positional ones prefixed
//!   `"{i+1} "`), the whole value (`exact`), or `2 x resolution + 1` neighbouring numbers.
//! * Bits: `blakeHash` takes 16-bit little-endian words from keyed BLAKE2b-512 digests
//!   salted `"0"`, `"1"`, ... modulo the length; `doubleHash` uses `(sha1 + i x md5) mod l`
//!   of HMAC-SHA1 and HMAC-MD5 as big-endian integers (`prevent_singularity` re-hashes
//!   with a suffix byte while the MD5 value is 0).
//! * `bitsPerToken` sets k per token; `bitsPerFeature` spreads a budget over the tokens.
//! * Folding: clkhash 0.18.3 reads `clkConfig.xor_folds`, not the documented `xorFolds`,
//!   which it ignores. nordlink does the same to stay bit-identical, and reports it.

use std::collections::{HashMap, HashSet};

use hmac::{KeyInit, Mac};
use regex::Regex;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::BloomFilter;
use super::datefmt::DateFormat;
use super::encoder::NEXT_ENCODER_ID;
use super::error::{EncodeError, SchemaError};

/// A parsed clkhash v3 linkage schema.
#[derive(Debug)]
pub struct ClkhashSchema {
    l: usize,
    xor_folds: u32,
    ignored_xor_folds: Option<u32>,
    kdf_hash: KdfHash,
    kdf_salt: Option<Vec<u8>>,
    kdf_info: Option<Vec<u8>>,
    key_size: usize,
    features: Vec<Feature>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KdfHash {
    Sha256,
    Sha512,
}

#[derive(Debug)]
struct Feature {
    identifier: String,
    spec: Option<FeatureSpec>,
}

#[derive(Debug)]
struct FeatureSpec {
    format: Format,
    comparison: Comparison,
    strategy: Strategy,
    hash: HashKind,
    missing: Option<(String, String)>,
    ascii_only: bool,
}

#[derive(Debug)]
enum Format {
    String { regex: Option<Regex>, case: Case, min_len: Option<usize>, max_len: Option<usize> },
    Integer { min: Option<i128>, max: Option<i128> },
    Date { format: DateFormat },
    Enum { values: HashSet<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Mixed,
    Upper,
    Lower,
}

#[derive(Debug, Clone, Copy)]
enum Comparison {
    Ngram { n: usize, positional: bool },
    Exact,
    Numeric { interval: i128, resolution: i128, precision: u32 },
}

#[derive(Debug, Clone, Copy)]
enum Strategy {
    BitsPerToken(usize),
    BitsPerFeature(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HashKind {
    Blake,
    Double { prevent_singularity: bool },
}

// ---- JSON shapes ------------------------------------------------------------------------

#[derive(Deserialize)]
struct SchemaJson {
    version: serde_json::Value,
    #[serde(rename = "clkConfig")]
    clk_config: ClkConfigJson,
    features: Vec<FeatureJson>,
}

#[derive(Deserialize)]
struct ClkConfigJson {
    l: usize,
    kdf: KdfJson,
    #[serde(default)]
    xor_folds: Option<u32>,
    #[serde(rename = "xorFolds", default)]
    xor_folds_documented: Option<u32>,
}

#[derive(Deserialize)]
struct KdfJson {
    #[serde(rename = "type")]
    kind: String,
    hash: Option<String>,
    salt: Option<String>,
    info: Option<String>,
    #[serde(rename = "keySize")]
    key_size: Option<usize>,
}

#[derive(Deserialize)]
struct FeatureJson {
    identifier: String,
    #[serde(default)]
    ignored: bool,
    format: Option<serde_json::Map<String, serde_json::Value>>,
    hashing: Option<HashingJson>,
}

#[derive(Deserialize)]
struct HashingJson {
    comparison: serde_json::Map<String, serde_json::Value>,
    strategy: serde_json::Map<String, serde_json::Value>,
    hash: Option<HashJson>,
    #[serde(rename = "missingValue")]
    missing_value: Option<MissingJson>,
}

#[derive(Deserialize)]
struct HashJson {
    #[serde(rename = "type")]
    kind: String,
    prevent_singularity: Option<bool>,
}

#[derive(Deserialize)]
struct MissingJson {
    sentinel: String,
    #[serde(rename = "replaceWith")]
    replace_with: Option<String>,
}

/// Whether `json` looks like a clkhash linkage schema (has `version` and `clkConfig`).
pub fn is_clkhash_schema(json: &serde_json::Value) -> bool {
    json.get("clkConfig").is_some() && json.get("version").is_some()
}

fn b64(field: &str, s: &str) -> Result<Vec<u8>, SchemaError> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| SchemaError::config(format!("clkConfig.kdf.{field} is not valid base64")))
}

fn get_u64(map: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<u64> {
    map.get(key).and_then(serde_json::Value::as_u64)
}

impl ClkhashSchema {
    /// Parses a clkhash linkage schema (JSON text). Only version 3 is read.
    ///
    /// # Errors
    /// [`SchemaError`] naming the feature and the problem.
    pub fn from_json(text: &str) -> Result<Self, SchemaError> {
        let raw: SchemaJson = serde_json::from_str(text).map_err(SchemaError::json)?;
        if raw.version != serde_json::json!(3) {
            return Err(SchemaError::config(
                "only clkhash schema version 3 is supported (upgrade older ones with clkhash)"
                    .into(),
            ));
        }
        let cfg = raw.clk_config;
        if cfg.kdf.kind != "HKDF" {
            return Err(SchemaError::config("clkConfig.kdf.type must be HKDF".into()));
        }
        let kdf_hash = match cfg.kdf.hash.as_deref().unwrap_or("SHA256") {
            "SHA256" => KdfHash::Sha256,
            "SHA512" => KdfHash::Sha512,
            _ => {
                return Err(SchemaError::config(
                    "clkConfig.kdf.hash must be SHA256 or SHA512".into(),
                ));
            }
        };
        let key_size = cfg.kdf.key_size.unwrap_or(64);
        if !(1..=64).contains(&key_size) {
            return Err(SchemaError::config("clkConfig.kdf.keySize must be 1..=64".into()));
        }
        let xor_folds = cfg.xor_folds.unwrap_or(0);
        if xor_folds > 16 {
            return Err(SchemaError::config("clkConfig.xor_folds is too large".into()));
        }
        let hash_l = cfg.l.checked_shl(xor_folds).unwrap_or(0);
        if cfg.l == 0 || !cfg.l.is_multiple_of(8) || hash_l == 0 || hash_l > 1 << 24 {
            return Err(SchemaError::config(
                "clkConfig.l must be a positive multiple of 8 (at most 2^24 bits before folding)"
                    .into(),
            ));
        }
        let mut features = Vec::with_capacity(raw.features.len());
        for (index, f) in raw.features.into_iter().enumerate() {
            let identifier = f.identifier.clone();
            let spec = if f.ignored {
                None
            } else {
                Some(
                    parse_feature(f, hash_l)
                        .map_err(|problem| SchemaError::field(index, &identifier, problem))?,
                )
            };
            features.push(Feature { identifier, spec });
        }
        let n_keys = 2 * features.len() * key_size;
        let max_okm = 255 * if kdf_hash == KdfHash::Sha256 { 32 } else { 64 };
        if n_keys > max_okm {
            return Err(SchemaError::config(
                "too many features for HKDF with this keySize (clkhash would fail too)".into(),
            ));
        }
        Ok(Self {
            l: cfg.l,
            xor_folds,
            ignored_xor_folds: cfg.xor_folds_documented.filter(|&n| n > 0),
            kdf_hash,
            kdf_salt: cfg.kdf.salt.as_deref().map(|s| b64("salt", s)).transpose()?,
            kdf_info: cfg.kdf.info.as_deref().map(|s| b64("info", s)).transpose()?,
            key_size,
            features,
        })
    }

    /// Filter length in bits (after folding).
    pub fn len_bits(&self) -> usize {
        self.l
    }

    /// Number of XOR folds applied.
    pub fn xor_folds(&self) -> u32 {
        self.xor_folds
    }

    /// `Some(n)` when the schema sets the documented `xorFolds: n`, which clkhash 0.18.3
    /// (and so this mode) ignores.
    pub fn ignored_xor_folds(&self) -> Option<u32> {
        self.ignored_xor_folds
    }

    /// For each feature in schema order, the input column it reads (`None` if ignored).
    pub fn feature_columns(&self) -> impl Iterator<Item = Option<&str>> {
        self.features.iter().map(|f| f.spec.as_ref().map(|_| f.identifier.as_str()))
    }
}

fn parse_feature(f: FeatureJson, hash_l: usize) -> Result<FeatureSpec, String> {
    let format = f.format.ok_or("missing `format`")?;
    let hashing = f.hashing.ok_or("missing `hashing`")?;
    let ftype = format.get("type").and_then(|v| v.as_str()).ok_or("missing `format.type`")?;
    let encoding = format.get("encoding").and_then(|v| v.as_str()).unwrap_or("utf-8");
    let ascii_only = match (ftype, encoding.to_ascii_lowercase().as_str()) {
        ("string", "utf-8" | "utf8") => false,
        ("string", "ascii") => true,
        ("string", _) => return Err(format!("unsupported encoding {encoding:?} (utf-8 or ascii)")),
        _ => false,
    };
    let opt_usize = |k: &str| get_u64(&format, k).map(|v| v as usize);
    let format = match ftype {
        "string" => {
            let regex = match format.get("pattern").and_then(|v| v.as_str()) {
                Some(p) => Some(
                    Regex::new(&format!(r"\A(?:{p})\z"))
                        .map_err(|_| "format.pattern is not a supported regular expression")?,
                ),
                None => None,
            };
            let case = match format.get("case").and_then(|v| v.as_str()).unwrap_or("mixed") {
                "mixed" => Case::Mixed,
                "upper" => Case::Upper,
                "lower" => Case::Lower,
                _ => return Err("format.case must be lower, upper or mixed".into()),
            };
            Format::String {
                regex,
                case,
                min_len: opt_usize("minLength"),
                max_len: opt_usize("maxLength"),
            }
        }
        "integer" => Format::Integer {
            min: format.get("minimum").and_then(|v| v.as_i64()).map(i128::from),
            max: format.get("maximum").and_then(|v| v.as_i64()).map(i128::from),
        },
        "date" => {
            let fmt =
                format.get("format").and_then(|v| v.as_str()).ok_or("missing format.format")?;
            Format::Date { format: DateFormat::new(fmt)? }
        }
        "enum" => {
            let values = format
                .get("values")
                .and_then(|v| v.as_array())
                .ok_or("missing format.values")?
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or("enum values must be strings"))
                .collect::<Result<_, _>>()?;
            Format::Enum { values }
        }
        other => return Err(format!("unknown format type {other:?}")),
    };
    let comparison = match hashing.comparison.get("type").and_then(|v| v.as_str()) {
        Some("ngram") => {
            let n = get_u64(&hashing.comparison, "n").ok_or("ngram comparison needs n")? as usize;
            if n == 0 || n > 64 {
                return Err("ngram n must be 1..=64".into());
            }
            let positional =
                hashing.comparison.get("positional").and_then(|v| v.as_bool()).unwrap_or(false);
            Comparison::Ngram { n, positional }
        }
        Some("exact") => Comparison::Exact,
        Some("numeric") => {
            let c = &hashing.comparison;
            let distance = c.get("thresholdDistance").and_then(|v| v.as_f64()).unwrap_or(-1.0);
            let resolution = c.get("resolution").and_then(|v| v.as_i64()).unwrap_or(-1);
            let precision = c.get("fractional_precision").and_then(|v| v.as_u64()).unwrap_or(0);
            if distance.is_nan() || distance <= 0.0 || resolution < 1 || precision > 18 {
                return Err("numeric comparison needs thresholdDistance > 0, resolution >= 1, fractional_precision <= 18".into());
            }
            let interval = (distance * 10f64.powi(precision as i32)).round_ties_even() as i128;
            if interval == 0 {
                return Err("not enough fractional precision to encode thresholdDistance".into());
            }
            Comparison::Numeric {
                interval,
                resolution: i128::from(resolution),
                precision: precision as u32,
            }
        }
        _ => return Err("comparison.type must be ngram, exact or numeric".into()),
    };
    let strategy = if let Some(k) = get_u64(&hashing.strategy, "bitsPerToken") {
        Strategy::BitsPerToken(k as usize)
    } else if let Some(k) = get_u64(&hashing.strategy, "bitsPerFeature") {
        Strategy::BitsPerFeature(k as usize)
    } else {
        return Err("strategy must be bitsPerToken or bitsPerFeature".into());
    };
    let hash = match hashing.hash {
        None => HashKind::Blake,
        Some(HashJson { kind, prevent_singularity }) => {
            match (kind.as_str(), prevent_singularity) {
                ("blakeHash", None) => HashKind::Blake,
                ("blakeHash", Some(_)) => return Err("prevent_singularity needs doubleHash".into()),
                ("doubleHash", p) => HashKind::Double { prevent_singularity: p.unwrap_or(false) },
                _ => return Err("hash.type must be blakeHash or doubleHash".into()),
            }
        }
    };
    if hash == HashKind::Blake && !hash_l.is_power_of_two() {
        return Err(
            "blakeHash needs a filter length (before folding) that is a power of two".into()
        );
    }
    let missing = hashing.missing_value.map(|m| {
        let replace = m.replace_with.unwrap_or_else(|| m.sentinel.clone());
        (m.sentinel, replace)
    });
    Ok(FeatureSpec { format, comparison, strategy, hash, missing, ascii_only })
}

// ---- Python number semantics --------------------------------------------------------

/// Python `int(s, 10)` for ASCII input: surrounding whitespace, a sign, and single
/// underscores between digits. (Python also reads non-ASCII decimal digits; this does not.)
fn python_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let b = digits.as_bytes();
    if b.is_empty() || b[0] == b'_' || b[b.len() - 1] == b'_' {
        return None;
    }
    let mut v: i128 = 0;
    let mut prev_underscore = false;
    for &c in b {
        match c {
            b'0'..=b'9' => {
                v = v.checked_mul(10)?.checked_add(i128::from(c - b'0'))?;
                prev_underscore = false;
            }
            b'_' if !prev_underscore => prev_underscore = true,
            _ => return None,
        }
    }
    Some(if neg { -v } else { v })
}

/// Python `float(s)` for the usual spellings.
fn python_float(s: &str) -> Option<f64> {
    let t = s.trim().replace('_', "");
    match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" | "-inf" | "-infinity" | "nan" | "+nan"
        | "-nan" => None,
        _ => t.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

// ---- encoding -------------------------------------------------------------------------

/// Encodes records under a clkhash schema and secret.
pub struct ClkhashEncoder {
    id: u64,
    schema: ClkhashSchema,
    /// Two keys per feature, as clkhash derives them. As secret as the secret.
    keys: Vec<[Zeroizing<Vec<u8>>; 2]>,
}

impl std::fmt::Debug for ClkhashEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClkhashEncoder").field("schema", &self.schema).finish_non_exhaustive()
    }
}

/// Per-token hash memo for one encoder, keyed by feature. Holds key-derived values: keep
/// it in memory only and drop it with the encoder.
/// It remembers which encoder filled it and starts afresh when handed to another.
#[derive(Default)]
pub struct ClkhashCache {
    owner: u64,
    fields: Vec<HashMap<String, TokenHash>>,
}

impl std::fmt::Debug for ClkhashCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClkhashCache { .. }")
    }
}

enum TokenHash {
    /// 16-bit words from as many BLAKE2b digests as were needed so far.
    Blake(Vec<u16>),
    /// (sha1 mod l, md5 mod l).
    Double(u64, u64),
}

impl ClkhashEncoder {
    /// Derives the keys from `secret` (the secret file's bytes, as clkhash reads them).
    pub fn new(schema: ClkhashSchema, secret: &[u8]) -> Self {
        let n = schema.features.len();
        let mut okm = Zeroizing::new(vec![0u8; 2 * n * schema.key_size]);
        let salt = schema.kdf_salt.as_deref();
        let info = schema.kdf_info.as_deref().unwrap_or(&[]);
        // Lengths were checked against HKDF's limit when the schema was parsed.
        let _ = match schema.kdf_hash {
            KdfHash::Sha256 => hkdf::Hkdf::<sha2::Sha256>::new(salt, secret).expand(info, &mut okm),
            KdfHash::Sha512 => hkdf::Hkdf::<sha2::Sha512>::new(salt, secret).expand(info, &mut okm),
        };
        let ks = schema.key_size;
        let keys = (0..n)
            .map(|i| {
                let at =
                    |j: usize| Zeroizing::new(okm[(2 * i + j) * ks..(2 * i + j + 1) * ks].to_vec());
                [at(0), at(1)]
            })
            .collect();
        let id = NEXT_ENCODER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self { id, schema, keys }
    }

    /// The schema.
    pub fn schema(&self) -> &ClkhashSchema {
        &self.schema
    }

    /// Encodes one record. `value(identifier)` returns the record's cell for a hashed
    /// feature (`None` for a missing column or a null, read as the empty string).
    ///
    /// # Errors
    /// [`EncodeError`] naming the feature whose value fails its format.
    pub fn encode<'a>(
        &self,
        mut value: impl FnMut(usize, &str) -> Option<&'a str>,
        cache: &mut ClkhashCache,
    ) -> Result<BloomFilter, EncodeError> {
        let hash_l = self.schema.l << self.schema.xor_folds;
        let mut filter = BloomFilter::zeros(hash_l);
        if cache.owner != self.id {
            cache.owner = self.id;
            cache.fields = self.schema.features.iter().map(|_| HashMap::new()).collect();
        }
        let mut tokens: Vec<String> = Vec::new();
        for (index, feature) in self.schema.features.iter().enumerate() {
            let Some(spec) = &feature.spec else { continue };
            let raw = value(index, &feature.identifier).unwrap_or("");
            let err = |problem| EncodeError { feature: feature.identifier.clone(), problem };
            let formatted = format_value(spec, raw).map_err(err)?;
            tokens.clear();
            tokenize(spec.comparison, &formatted, &mut tokens).map_err(err)?;
            if tokens.is_empty() {
                continue;
            }
            let n = tokens.len();
            for (t, token) in tokens.iter().enumerate() {
                let k = match spec.strategy {
                    Strategy::BitsPerToken(k) => k,
                    Strategy::BitsPerFeature(b) => b / n + usize::from(t < b % n),
                };
                self.set_bits(index, spec, token, k, hash_l, &mut cache.fields[index], &mut filter);
            }
        }
        Ok(filter.fold_xor(self.schema.xor_folds))
    }

    #[allow(clippy::too_many_arguments, reason = "a private helper of encode")]
    fn set_bits(
        &self,
        index: usize,
        spec: &FeatureSpec,
        token: &str,
        k: usize,
        l: usize,
        memo: &mut HashMap<String, TokenHash>,
        filter: &mut BloomFilter,
    ) {
        let keys = &self.keys[index];
        match spec.hash {
            HashKind::Blake => {
                // bitsPerFeature can ask one token for more words than an earlier record did.
                let words = k.div_ceil(32) * 32;
                let fresh;
                let cached = match memo.get(token) {
                    Some(TokenHash::Blake(w)) if w.len() >= words => w,
                    _ => {
                        fresh = blake_words(&keys[0], token.as_bytes(), words);
                        memo.insert(token.to_owned(), TokenHash::Blake(fresh.clone()));
                        &fresh
                    }
                };
                for &w in &cached[..k] {
                    filter.set(usize::from(w) % l);
                }
            }
            HashKind::Double { prevent_singularity } => {
                let (h1, h2) = match memo.get(token) {
                    Some(TokenHash::Double(a, b)) => (*a, *b),
                    _ => {
                        let (a, b) = double_hash(
                            &keys[0],
                            &keys[1],
                            token.as_bytes(),
                            l as u64,
                            prevent_singularity,
                        );
                        memo.insert(token.to_owned(), TokenHash::Double(a, b));
                        (a, b)
                    }
                };
                for i in 0..k as u64 {
                    filter.set(((h1 + i * h2) % l as u64) as usize);
                }
            }
        }
    }
}

/// clkhash `format_value` after validation; errors are stable problem codes.
fn format_value(spec: &FeatureSpec, raw: &str) -> Result<String, &'static str> {
    if let Some((sentinel, replacement)) = &spec.missing
        && raw == sentinel
    {
        return Ok(replacement.clone());
    }
    if spec.ascii_only && !raw.is_ascii() {
        return Err("not_encodable");
    }
    match &spec.format {
        Format::String { regex, case, min_len, max_len } => {
            if let Some(re) = regex {
                if !re.is_match(raw) {
                    return Err("pattern_mismatch");
                }
            } else {
                let len = raw.chars().count();
                if min_len.is_some_and(|m| len < m) {
                    return Err("too_short");
                }
                if max_len.is_some_and(|m| len > m) {
                    return Err("too_long");
                }
                match case {
                    Case::Upper if raw.to_uppercase() != raw => return Err("wrong_case"),
                    Case::Lower if raw.to_lowercase() != raw => return Err("wrong_case"),
                    _ => {}
                }
            }
            Ok(raw.to_owned())
        }
        Format::Integer { min, max } => {
            let v = python_int(raw).ok_or("not_integer")?;
            if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                return Err("out_of_range");
            }
            Ok(v.to_string())
        }
        Format::Date { format } => {
            let date = format.parse(raw).ok_or("bad_date")?;
            // glibc strftime does not zero-pad %Y below 1000.
            Ok(format!("{}{:02}{:02}", date.year(), date.month(), date.day()))
        }
        Format::Enum { values } => {
            if values.contains(raw) {
                Ok(raw.to_owned())
            } else {
                Err("not_in_enum")
            }
        }
    }
}

fn tokenize(c: Comparison, word: &str, out: &mut Vec<String>) -> Result<(), &'static str> {
    if word.is_empty() {
        return Ok(());
    }
    match c {
        Comparison::Exact => out.push(word.to_owned()),
        Comparison::Ngram { n, positional } => {
            let mut chars: Vec<char> = Vec::with_capacity(word.len() + 2 * n);
            chars.extend(std::iter::repeat_n(' ', n - 1));
            chars.extend(word.chars());
            chars.extend(std::iter::repeat_n(' ', n - 1));
            for (i, gram) in chars.windows(n).enumerate() {
                let mut s = String::with_capacity(n + 4);
                if positional {
                    s.push_str(&(i + 1).to_string());
                    s.push(' ');
                }
                s.extend(gram);
                out.push(s);
            }
        }
        Comparison::Numeric { interval, resolution, precision } => {
            let scale = 10i128.pow(precision);
            let v = match python_int(word) {
                Some(v) => v.checked_mul(scale).ok_or("not_numeric")?,
                None => {
                    let f = python_float(word).ok_or("not_numeric")?;
                    let x = if precision > 0 {
                        (f * scale as f64).round_ties_even()
                    } else {
                        f.trunc()
                    };
                    if x.abs() > 1e30 {
                        return Err("not_numeric");
                    }
                    x as i128
                }
            };
            let v = v.checked_mul(2 * resolution).ok_or("not_numeric")?;
            let residue = v.rem_euclid(interval);
            let v = if residue == 0 {
                v
            } else if 2 * residue < interval {
                v - residue
            } else {
                v + (interval - residue)
            };
            for i in -resolution..=resolution {
                out.push((v + i * interval).to_string());
            }
        }
    }
    Ok(())
}

/// `words` 16-bit little-endian words from keyed BLAKE2b-512 digests salted "0", "1", ...
fn blake_words(key: &[u8], token: &[u8], words: usize) -> Vec<u16> {
    use blake2::digest::{FixedOutput, Update};
    let mut out = Vec::with_capacity(words);
    for i in 0..words.div_ceil(32) {
        let salt = i.to_string();
        let mut mac =
            blake2::Blake2bMac512::new_with_salt_and_personal(Some(key), salt.as_bytes(), &[])
                .expect("key of 1..=64 bytes and a short salt are valid");
        Update::update(&mut mac, token);
        let digest = mac.finalize_fixed();
        out.extend(digest.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])));
    }
    out
}

/// A digest read as a big-endian integer, modulo `l`.
fn be_mod(digest: &[u8], l: u64) -> u64 {
    digest.iter().fold(0u64, |acc, &b| ((acc << 8) | u64::from(b)) % l)
}

fn double_hash(
    key_sha1: &[u8],
    key_md5: &[u8],
    token: &[u8],
    l: u64,
    non_singular: bool,
) -> (u64, u64) {
    let sha1 = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key_sha1)
        .expect("HMAC takes keys of any length")
        .chain_update(token)
        .finalize()
        .into_bytes();
    let md5_of = |suffix: &[u8]| {
        let mac = <hmac::Hmac<md5::Md5> as KeyInit>::new_from_slice(key_md5)
            .expect("HMAC takes keys of any length");
        be_mod(&mac.chain_update(token).chain_update(suffix).finalize().into_bytes(), l)
    };
    let mut md5 = md5_of(&[]);
    if non_singular {
        let mut i = 0u32;
        while md5 == 0 {
            let c = char::from_u32(i).unwrap_or('\u{fffd}');
            md5 = md5_of(c.encode_utf8(&mut [0; 4]).as_bytes());
            i += 1;
        }
    }
    (be_mod(&sha1, l), md5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_semantics() {
        assert_eq!(python_int(" 12 "), Some(12));
        assert_eq!(python_int("+1_0"), Some(10));
        assert_eq!(python_int("-007"), Some(-7));
        for bad in ["", "1__0", "_1", "1_", "1.0", "0x10", "- 1"] {
            assert_eq!(python_int(bad), None, "{bad}");
        }
    }

    #[test]
    fn ngram_tokens_match_clkhash() {
        let mut out = Vec::new();
        tokenize(Comparison::Ngram { n: 2, positional: false }, "Liv", &mut out).unwrap();
        assert_eq!(out, [" L", "Li", "iv", "v "]);
        out.clear();
        tokenize(Comparison::Ngram { n: 1, positional: true }, "ø9", &mut out).unwrap();
        assert_eq!(out, ["1 ø", "2 9"]);
        out.clear();
        tokenize(Comparison::Numeric { interval: 2, resolution: 3, precision: 0 }, "95", &mut out)
            .unwrap();
        // v = 95 * 6 = 570, already a multiple of 2.
        assert_eq!(out, ["564", "566", "568", "570", "572", "574", "576"]);
    }
}
