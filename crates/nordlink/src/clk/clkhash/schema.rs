//! The clkhash v3 linkage schema: JSON shapes, validation, and the parsed form the encoder
//! reads.

use std::collections::HashSet;

use regex::Regex;
use serde::Deserialize;

use super::super::datefmt::DateFormat;
use super::super::error::SchemaError;

/// A parsed clkhash v3 linkage schema.
#[derive(Debug)]
pub struct ClkhashSchema {
    pub(super) l: usize,
    pub(super) xor_folds: u32,
    pub(super) ignored_xor_folds: Option<u32>,
    pub(super) kdf_hash: KdfHash,
    pub(super) kdf_salt: Option<Vec<u8>>,
    pub(super) kdf_info: Option<Vec<u8>>,
    pub(super) key_size: usize,
    pub(super) features: Vec<Feature>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KdfHash {
    Sha256,
    Sha512,
}

#[derive(Debug)]
pub(super) struct Feature {
    pub(super) identifier: String,
    pub(super) spec: Option<FeatureSpec>,
}

#[derive(Debug)]
pub(super) struct FeatureSpec {
    pub(super) format: Format,
    pub(super) comparison: Comparison,
    pub(super) strategy: Strategy,
    pub(super) hash: HashKind,
    pub(super) missing: Option<(String, String)>,
    pub(super) ascii_only: bool,
}

#[derive(Debug)]
pub(super) enum Format {
    String { regex: Option<Regex>, case: Case, min_len: Option<usize>, max_len: Option<usize> },
    Integer { min: Option<i128>, max: Option<i128> },
    Date { format: DateFormat },
    Enum { values: HashSet<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Case {
    Mixed,
    Upper,
    Lower,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Comparison {
    Ngram { n: usize, positional: bool },
    Exact,
    Numeric { interval: i128, resolution: i128, precision: u32 },
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Strategy {
    BitsPerToken(usize),
    BitsPerFeature(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HashKind {
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

fn b64(setting: &'static str, s: &str) -> Result<Vec<u8>, SchemaError> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| SchemaError::setting(setting, "not valid base64"))
}

/// Largest `bitsPerToken` or `bitsPerFeature` read: far above real schemas (tens to a few
/// hundred), low enough that a hostile schema cannot exhaust memory.
const MAX_BITS_PER_FEATURE: usize = 4096;

/// Largest numeric `resolution` read (a value makes `2 r + 1` tokens).
const MAX_RESOLUTION: i64 = 1024;

/// A JSON integer as `usize`, saturating (limits are checked on the result).
fn saturating_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
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
        let text = crate::clk::without_bom(text);
        let raw: SchemaJson = serde_json::from_str(text).map_err(|e| SchemaError::json(&e))?;
        if raw.version != serde_json::json!(3) {
            return Err(SchemaError::UnsupportedVersion {
                found: raw.version.to_string(),
                supported: "only clkhash schema version 3 is read; upgrade older ones with clkhash",
            });
        }
        let cfg = raw.clk_config;
        if cfg.kdf.kind != "HKDF" {
            return Err(SchemaError::setting("clkConfig.kdf.type", "must be HKDF"));
        }
        let kdf_hash = match cfg.kdf.hash.as_deref().unwrap_or("SHA256") {
            "SHA256" => KdfHash::Sha256,
            "SHA512" => KdfHash::Sha512,
            _ => {
                return Err(SchemaError::setting("clkConfig.kdf.hash", "must be SHA256 or SHA512"));
            }
        };
        let key_size = cfg.kdf.key_size.unwrap_or(64);
        if !(1..=64).contains(&key_size) {
            return Err(SchemaError::setting("clkConfig.kdf.keySize", "must be 1..=64"));
        }
        let xor_folds = cfg.xor_folds.unwrap_or(0);
        if xor_folds > 16 {
            return Err(SchemaError::setting("clkConfig.xor_folds", "too large (at most 16)"));
        }
        let hash_l = cfg.l.checked_shl(xor_folds).unwrap_or(0);
        if cfg.l == 0 || !cfg.l.is_multiple_of(8) || hash_l == 0 || hash_l > 1 << 24 {
            return Err(SchemaError::setting(
                "clkConfig.l",
                "must be a positive multiple of 8 (at most 2^24 bits before folding)",
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
        if features.iter().all(|f| f.spec.is_none()) {
            // clkhash accepts this and writes empty filters, which link nothing.
            return Err(SchemaError::setting(
                "features",
                "no feature is encoded (none listed, or all ignored): every filter would be empty",
            ));
        }
        let n_keys = 2 * features.len() * key_size;
        let max_okm = 255 * if kdf_hash == KdfHash::Sha256 { 32 } else { 64 };
        if n_keys > max_okm {
            return Err(SchemaError::setting(
                "clkConfig.kdf.keySize",
                "too many features for HKDF with this keySize (clkhash would fail too)",
            ));
        }
        Ok(Self {
            l: cfg.l,
            xor_folds,
            ignored_xor_folds: cfg.xor_folds_documented.filter(|&n| n > 0),
            kdf_hash,
            kdf_salt: cfg.kdf.salt.as_deref().map(|s| b64("clkConfig.kdf.salt", s)).transpose()?,
            kdf_info: cfg.kdf.info.as_deref().map(|s| b64("clkConfig.kdf.info", s)).transpose()?,
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

    /// Every feature's identifier, in schema order (ignored ones too).
    pub fn feature_names(&self) -> impl Iterator<Item = &str> {
        self.features.iter().map(|f| f.identifier.as_str())
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
    let opt_usize = |k: &str| get_u64(&format, k).map(saturating_usize);
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
            let n = saturating_usize(
                get_u64(&hashing.comparison, "n").ok_or("ngram comparison needs n")?,
            );
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
            if distance.is_nan()
                || distance <= 0.0
                || !(1..=MAX_RESOLUTION).contains(&resolution)
                || precision > 18
            {
                return Err(format!(
                    "numeric comparison needs thresholdDistance > 0, resolution in \
                     1..={MAX_RESOLUTION}, fractional_precision <= 18"
                ));
            }
            let precision = u32::try_from(precision).unwrap_or(18);
            let scaled = (distance * 10f64.powi(precision.cast_signed())).round_ties_even();
            // A float-to-int cast saturates; a huge distance gives i128::MAX, never UB.
            #[allow(clippy::cast_possible_truncation, reason = "saturating by definition")]
            let interval = scaled as i128;
            if interval == 0 {
                return Err("not enough fractional precision to encode thresholdDistance".into());
            }
            // Far beyond any real distance; keeps the token arithmetic inside i128.
            if interval > 10i128.pow(30) {
                return Err("thresholdDistance is too large".into());
            }
            Comparison::Numeric { interval, resolution: i128::from(resolution), precision }
        }
        _ => return Err("comparison.type must be ngram, exact or numeric".into()),
    };
    let strategy = if let Some(k) = get_u64(&hashing.strategy, "bitsPerToken") {
        Strategy::BitsPerToken(saturating_usize(k))
    } else if let Some(k) = get_u64(&hashing.strategy, "bitsPerFeature") {
        Strategy::BitsPerFeature(saturating_usize(k))
    } else {
        return Err("strategy must be bitsPerToken or bitsPerFeature".into());
    };
    let (Strategy::BitsPerToken(k) | Strategy::BitsPerFeature(k)) = strategy;
    if k > MAX_BITS_PER_FEATURE {
        return Err(format!(
            "bitsPerToken and bitsPerFeature must be at most {MAX_BITS_PER_FEATURE}"
        ));
    }
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
