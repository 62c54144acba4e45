//! nordlink's own encoding schema (`nordlink-schema`, versions 1 and 2), in TOML or JSON.
//!
//! ```toml
//! version = 1
//!
//! [filter]
//! bits = 1024
//! context = "nordic-cohort-2026"
//!
//! [[fields]]
//! name = "given_name"
//! kind = "given_name"
//! column = "fornavn"
//!
//! [[fields]]
//! name = "birth_date"
//! kind = "birth_date"
//! date_format = "%d.%m.%Y"
//! ```
//!
//! Every field needs a `name` and either a `kind` (which brings defaults for the
//! normalisers, tokeniser and weight) or an explicit `tokenise`. See `docs/schema.md`.

use serde::Deserialize;

use super::datefmt::DateFormat;
use super::error::SchemaError;
use super::match_key::{self, MatchKeyFile, MatchKeySpec};
use super::normalise::Normaliser;
use super::tokenise::Tokeniser;

/// Most hardening steps a schema may list (each `permute` holds a permutation of the
/// filter's positions in memory).
pub const MAX_HARDENING_STEPS: usize = 16;

/// Largest `resolution` of a numeric tokeniser: a value makes `2 r + 1` tokens.
pub const MAX_NUMERIC_RESOLUTION: u32 = 64;

/// The current schema version. Older files keep their meaning: version 1 differs from
/// version 2 only in defaults (version 1: `invalid = "reject"` on every field); version 3
/// requires `filter.context`, hardens by default, keeps the salt field's own salt out of
/// the filter and names its hardening steps for what they do (docs/schema.md).
pub const SCHEMA_VERSION: u32 = 3;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaFile {
    version: u32,
    #[serde(default)]
    filter: FilterFile,
    fields: Vec<FieldFile>,
    #[serde(default)]
    default_match_keys: bool,
    #[serde(default)]
    match_keys: Vec<MatchKeyFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterFile {
    #[serde(default = "default_bits")]
    bits: usize,
    context: Option<String>,
    #[serde(default)]
    hashing: Hashing,
    #[serde(default)]
    field_filters: bool,
    /// Version 3's acknowledgement that field filters can be matched to frequency tables.
    #[serde(default)]
    field_filters_reveal_frequencies: bool,
    hardening: Option<Vec<HardeningFile>>,
    salt: Option<SaltSetting>,
}

impl Default for FilterFile {
    fn default() -> Self {
        Self {
            bits: default_bits(),
            context: None,
            hashing: Hashing::default(),
            field_filters: false,
            field_filters_reveal_frequencies: false,
            hardening: None,
            salt: None,
        }
    }
}

/// `salt = { field = ... }`, or `salt = false` to turn version 3's default salt off.
enum SaltSetting {
    Off(bool),
    On(SaltFile),
}

// By hand rather than `untagged`, so that a mistake inside the table (an unknown key, a
// wrong type) keeps the table's own error message.
impl<'de> Deserialize<'de> for SaltSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SaltSetting;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a table such as { field = \"birth_date\", year_only = true }, or false",
                )
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<SaltSetting, E> {
                Ok(SaltSetting::Off(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<SaltSetting, A::Error> {
                SaltFile::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(SaltSetting::On)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A hardening step as spelt in a schema file; [`Hardening`] after the version's
/// spelling rules are checked.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum HardeningFile {
    Balance,
    XorFold(u32),
    Rule90,
    Permute,
    /// Versions 1 and 2's name for [`Hardening::KeyedFlip`].
    RandomisedResponse(f64),
    KeyedFlip(f64),
    Blip(f64),
}

fn default_bits() -> usize {
    1024
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaltFile {
    field: String,
    #[serde(default)]
    year_only: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldFile {
    name: String,
    column: Option<String>,
    kind: Option<FieldKind>,
    normalise: Option<Vec<Normaliser>>,
    date_format: Option<String>,
    tokenise: Option<Tokeniser>,
    bits_per_token: Option<u32>,
    bits_per_field: Option<u32>,
    missing_values: Option<Vec<String>>,
    missing: Option<Missing>,
    invalid: Option<Invalid>,
}

/// How bit positions are drawn from tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Hashing {
    /// k independent positions from a keyed BLAKE3 output stream per token (default):
    /// resists the attacks on double hashing.
    #[default]
    Random,
    /// `(h1 + i h2) mod l` from one keyed BLAKE3 hash, h2 never 0 mod l; for comparison
    /// with older tools only.
    Double,
}

/// A hardening step applied to each filter after hashing, in order.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Hardening {
    /// Append the complement: exactly half the bits set; doubles the length.
    Balance,
    /// XOR the two halves together, this many times; halves the length each time.
    XorFold(u32),
    /// Each bit becomes the XOR of its two neighbours (cyclic).
    Rule90,
    /// A key-seeded uniform permutation of the bit positions.
    Permute,
    /// With this probability each bit is replaced by a pseudo-random bit drawn from the key
    /// and the filter itself: equal records still give equal filters, so this hides no
    /// frequencies (spelt `randomised_response` in schema versions 1 and 2).
    KeyedFlip(f64),
    /// BLIP (randomised response with fresh randomness, Schnell and Borgs 2016): with this
    /// probability each bit is replaced by a bit from the operating system's random
    /// source, anew at every encoding. Equal records give different filters; outputs are
    /// not reproducible.
    Blip(f64),
}

impl Hardening {
    /// The step in the schema's own spelling (`balance`, `xor_fold=2`, `rule90`, `permute`,
    /// `randomised_response=0.05`): stable, for provenance records.
    pub fn spec(&self) -> String {
        match self {
            Self::Balance => "balance".into(),
            Self::XorFold(n) => format!("xor_fold={n}"),
            Self::Rule90 => "rule90".into(),
            Self::Permute => "permute".into(),
            // Provenance keeps the spelling files written before version 3 carry.
            Self::KeyedFlip(p) => format!("randomised_response={p}"),
            Self::Blip(p) => format!("blip={p}"),
        }
    }

    /// Whether the step's output differs between two encodings of one record.
    pub fn is_random(&self) -> bool {
        matches!(self, Self::Blip(_))
    }
}

/// The hardening a version 3 schema gets when it names none: one XOR fold. Chosen by
/// measurement with the default birth-year salt (docs/privacy.md, docs/quality.md): it
/// defeats both pattern-mining detectors where `balance` + `permute` leaves every bit
/// readable, and it keeps the automatic threshold reliable, which `balance` after it did not.
pub const DEFAULT_HARDENING: [Hardening; 1] = [Hardening::XorFold(1)];

/// A field's role, bringing defaults for normalisation, tokenising and weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldKind {
    /// A given (first) name.
    GivenName,
    /// A family name.
    Surname,
    /// Any personal name.
    Name,
    /// A birth date (parsed with `date_format`, default `%Y-%m-%d`).
    BirthDate,
    /// Sex or gender code.
    Sex,
    /// A municipality or place name.
    Municipality,
    /// A postcode.
    Postcode,
    /// Free text.
    Text,
    /// An integer (age, year).
    Integer,
}

/// What a missing value (one of `missing_values`) does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Missing {
    /// Contributes nothing to the filter (default).
    #[default]
    Skip,
    /// Rejects the record.
    Reject,
    /// Is encoded as this value instead.
    Replace(String),
}

/// What a value that fails its field's format does (an impossible date, a number that
/// is not one). Set per field with `invalid = "..."`; see `docs/schema.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Invalid {
    /// Rejects the record (version 1's only behaviour).
    Reject,
    /// Contributes no bits, like a skipped missing value.
    Missing,
    /// The normalised value is tokenised as text: padded bigrams, each prefixed with `!`
    /// so they never coincide with a valid value's tokens.
    Text,
    /// Date fields only: a value whose year, month (1 to 12) and day (1 to 31) each match
    /// the format but that is no calendar date (31 February) gives its year, month and day
    /// tokens as a valid date would; any other invalid value contributes no bits.
    Partial,
}

impl Invalid {
    /// The policy in the schema's own spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Reject => "reject",
            Self::Missing => "missing",
            Self::Text => "text",
            Self::Partial => "partial",
        }
    }
}

/// How many bits a field sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    /// k positions per token.
    PerToken(u32),
    /// A budget spread over the value's tokens (at least one each): hides value length.
    PerField(u32),
}

/// A validated field. Read-only: only [`Schema::parse`] makes one, so an encoder never
/// sees an unchecked field.
#[derive(Clone, Debug)]
pub struct Field {
    pub(crate) name: String,
    pub(crate) kind: Option<FieldKind>,
    pub(crate) column: String,
    pub(crate) normalise: Vec<Normaliser>,
    pub(crate) date_format: Option<DateFormat>,
    pub(crate) tokeniser: Tokeniser,
    pub(crate) weight: Weight,
    pub(crate) missing_values: Vec<String>,
    pub(crate) missing: Missing,
    pub(crate) invalid: Invalid,
}

impl Field {
    /// The field's name: part of its key derivation.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The input column it reads.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// Normalisers, in order.
    pub fn normalisers(&self) -> &[Normaliser] {
        &self.normalise
    }

    /// The tokeniser.
    pub fn tokeniser(&self) -> &Tokeniser {
        &self.tokeniser
    }

    /// Bits per token or per field.
    pub fn weight(&self) -> Weight {
        self.weight
    }

    /// Raw values (after trimming) that mean "missing".
    pub fn missing_values(&self) -> &[String] {
        &self.missing_values
    }

    /// What a missing value does.
    pub fn missing(&self) -> &Missing {
        &self.missing
    }

    /// What a value that fails the field's format does.
    pub fn invalid(&self) -> Invalid {
        self.invalid
    }
}

/// Per-record salting: tokens of every other field are hashed together with this field's
/// value, so equal names in records with different salts set unrelated bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Salt {
    /// Index of the salt field in [`Schema::fields`].
    pub field: usize,
    /// Use only the year of a date field (birth year: stable and widely shared).
    pub year_only: bool,
}

/// A validated `nordlink-schema` (version 1 or 2) encoding schema. Read-only: made by [`Schema::parse`]
/// only, so an unvalidated schema cannot reach an [`Encoder`](super::Encoder).
#[derive(Clone, Debug)]
pub struct Schema {
    pub(crate) version: u32,
    pub(crate) bits: usize,
    pub(crate) context: String,
    pub(crate) hashing: Hashing,
    pub(crate) field_filters: bool,
    pub(crate) hardening: Vec<Hardening>,
    pub(crate) salt: Option<Salt>,
    pub(crate) fields: Vec<Field>,
    pub(crate) match_keys: Vec<MatchKeySpec>,
}

const NAME_STEPS: [Normaliser; 6] = [
    Normaliser::Trim,
    Normaliser::Nfkc,
    Normaliser::Casefold,
    Normaliser::NordicFold,
    Normaliser::StripPunctuation,
    Normaliser::StripWhitespace,
];

fn bigrams() -> Tokeniser {
    Tokeniser::Qgrams { q: 2, padding: true, positional: false }
}

/// (normalisers, tokeniser, bits per token) a kind implies.
fn kind_defaults(kind: FieldKind) -> (Vec<Normaliser>, Tokeniser, u32) {
    use Normaliser as N;
    match kind {
        FieldKind::GivenName | FieldKind::Surname | FieldKind::Name => {
            (NAME_STEPS.to_vec(), bigrams(), 20)
        }
        FieldKind::Municipality => (NAME_STEPS.to_vec(), bigrams(), 12),
        FieldKind::BirthDate => (vec![N::Trim], Tokeniser::DateParts, 30),
        FieldKind::Sex => (vec![N::Trim, N::Casefold], Tokeniser::Whole, 20),
        FieldKind::Postcode => (
            vec![N::Trim, N::Casefold, N::StripWhitespace],
            Tokeniser::Qgrams { q: 1, padding: false, positional: true },
            10,
        ),
        FieldKind::Text => {
            (vec![N::Trim, N::Nfkc, N::Casefold, N::CollapseWhitespace], bigrams(), 10)
        }
        FieldKind::Integer => {
            (vec![N::Trim], Tokeniser::Numeric { distance: 2, resolution: 3 }, 10)
        }
    }
}

impl Schema {
    /// Parses TOML, or JSON when the text starts with `{`.
    ///
    /// # Errors
    /// [`SchemaError`] naming the field and the problem.
    pub fn parse(text: &str) -> Result<Self, SchemaError> {
        let text = super::without_bom(text);
        let file: SchemaFile = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| SchemaError::json(&e))?
        } else {
            toml::from_str(text)
                .map_err(|e| SchemaError::Syntax { message: e.message().to_owned() })?
        };
        Self::validate(file)
    }

    fn validate(file: SchemaFile) -> Result<Self, SchemaError> {
        if !(1..=SCHEMA_VERSION).contains(&file.version) {
            return Err(SchemaError::UnsupportedVersion {
                found: file.version.to_string(),
                supported: "this build reads nordlink-schema versions 1, 2 and 3",
            });
        }
        let v3 = file.version >= 3;
        let f = file.filter;
        if f.bits == 0 || !f.bits.is_multiple_of(64) || f.bits > 1 << 20 {
            return Err(SchemaError::setting(
                "filter.bits",
                "must be a positive multiple of 64, at most 2^20",
            ));
        }
        let context = match f.context {
            Some(c) => c,
            None if v3 => {
                return Err(SchemaError::setting(
                    "filter.context",
                    "is required from version 3: name the project, so its filters cannot be \
                     compared with another project's (write context = \"\" to use none)",
                ));
            }
            None => String::new(),
        };
        // Not in NFC: two spellings of one project name would derive unrelated keys.
        // Refused, not normalised, so an accepted context keeps its filters.
        if context.len() > 255
            || context.chars().any(char::is_control)
            || !unicode_normalization::is_nfc(&context)
        {
            return Err(SchemaError::setting(
                "filter.context",
                "at most 255 bytes in Unicode NFC (composed letters), no control characters",
            ));
        }
        if v3 && f.field_filters && !f.field_filters_reveal_frequencies {
            return Err(SchemaError::setting(
                "filter.field_filters",
                "equal values give equal field filters, which can be matched to public \
                 name frequencies; set field_filters_reveal_frequencies = true to accept that",
            ));
        }
        if f.field_filters_reveal_frequencies && !v3 {
            return Err(SchemaError::setting(
                "filter.field_filters_reveal_frequencies",
                "needs version = 3",
            ));
        }
        if f.hardening.as_ref().is_some_and(|h| h.len() > MAX_HARDENING_STEPS) {
            return Err(SchemaError::setting(
                "filter.hardening",
                format!("at most {MAX_HARDENING_STEPS} steps"),
            ));
        }
        let hardening = match f.hardening {
            None if v3 => DEFAULT_HARDENING.to_vec(),
            None => Vec::new(),
            Some(steps) => {
                steps.into_iter().map(|h| hardening_step(h, v3)).collect::<Result<Vec<_>, _>>()?
            }
        };
        let mut len = f.bits;
        for (i, h) in hardening.iter().enumerate() {
            match *h {
                // The complement is appended word by word: a length that is not whole
                // words would misplace it.
                Hardening::Balance if !len.is_multiple_of(64) => {
                    return Err(SchemaError::setting(
                        "filter.hardening",
                        format!(
                            "balance needs a length that is a multiple of 64 bits (here {len})"
                        ),
                    ));
                }
                // Each bit would meet its own complement: every output bit 1.
                Hardening::XorFold(_) if i > 0 && hardening[i - 1] == Hardening::Balance => {
                    return Err(SchemaError::setting(
                        "filter.hardening",
                        "xor_fold directly after balance folds each bit onto its complement, \
                         giving all ones; put permute between them or fold first",
                    ));
                }
                Hardening::Balance => {
                    len *= 2;
                    if len > super::MAX_FILTER_BITS {
                        return Err(SchemaError::setting(
                            "filter.hardening",
                            "balance would make the filter longer than 2^24 bits",
                        ));
                    }
                }
                Hardening::XorFold(n) => {
                    if n == 0 || n > 8 || !len.is_multiple_of(8 << n) {
                        return Err(SchemaError::setting(
                            "filter.hardening",
                            format!(
                                "xor_fold = {n}: the filter ({len} bits) cannot be folded that \
                                 often into whole bytes"
                            ),
                        ));
                    }
                    len >>= n;
                }
                Hardening::KeyedFlip(p) | Hardening::Blip(p) if !(0.0..=0.5).contains(&p) => {
                    return Err(SchemaError::setting(
                        "filter.hardening",
                        "a flip probability must be between 0 and 0.5",
                    ));
                }
                _ => {}
            }
        }
        if file.fields.is_empty() {
            return Err(SchemaError::NoFields);
        }
        let mut fields = Vec::with_capacity(file.fields.len());
        for (index, raw) in file.fields.into_iter().enumerate() {
            let name = raw.name.clone();
            let field = validate_field(raw, file.version)
                .map_err(|p| SchemaError::field(index, &name, p))?;
            if fields.iter().any(|g: &Field| g.name == field.name) {
                return Err(SchemaError::field(index, &name, "duplicate field name"));
            }
            fields.push(field);
        }
        let salt = match f.salt {
            Some(SaltSetting::Off(false)) => None,
            Some(SaltSetting::Off(true)) => {
                return Err(SchemaError::setting(
                    "filter.salt",
                    "write salt = { field = \"...\" } to salt, or salt = false for none",
                ));
            }
            None if v3 => default_salt(&fields),
            None => None,
            Some(SaltSetting::On(s)) => {
                let field = fields.iter().position(|g| g.name == s.field).ok_or_else(|| {
                    SchemaError::setting(
                        "filter.salt.field",
                        format!("{:?} is not a field", s.field),
                    )
                })?;
                if s.year_only && fields[field].tokeniser != Tokeniser::DateParts {
                    return Err(SchemaError::setting(
                        "filter.salt.year_only",
                        "needs a date field",
                    ));
                }
                Some(Salt { field, year_only: s.year_only })
            }
        };
        if !v3 && (file.default_match_keys || !file.match_keys.is_empty()) {
            return Err(SchemaError::setting("match_keys", "needs version = 3"));
        }
        let match_keys =
            match_key::validate(file.match_keys, file.default_match_keys, &fields, salt.is_some())
                .map_err(|(name, problem)| SchemaError::MatchKey { name, problem })?;
        Ok(Self {
            version: file.version,
            bits: f.bits,
            context,
            hashing: f.hashing,
            field_filters: f.field_filters,
            hardening,
            salt,
            fields,
            match_keys,
        })
    }

    /// What a user should know about this schema's privacy before sharing its filters:
    /// empty when nothing stands out. Shown by `nordlink encode`.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        // Version 3 hardens unless told not to, so empty hardening is always a choice.
        if self.hardening.is_empty() {
            out.push(
                "no hardening: frequent names and dates leave bit patterns that a keyless \
                 attack reads back (docs/privacy.md; measure with nordlink assess)"
                    .to_owned(),
            );
        }
        if self.version >= 3 && self.salt.is_none() {
            out.push(
                "no salt (salt = false, or not exactly one birth date field): tokens set the \
                 same bits in every record, which pattern mining learns from"
                    .to_owned(),
            );
        }
        if self.hardening.iter().any(Hardening::is_random) {
            out.push(
                "blip draws fresh randomness: the same records give different filters at \
                 every run, so outputs cannot be reproduced or checked against earlier ones"
                    .to_owned(),
            );
        }
        if self.version < 3 {
            out.push(format!(
                "schema version {}: version 3 hardens by default and keeps a salt field's own \
                 salt out of the filter",
                self.version
            ));
        }
        if !self.match_keys.is_empty() {
            out.push(
                "match keys are equal for equal values: the linkage unit sees which records \
                 share a birth date, a name code or a salt, and the sizes of those groups"
                    .to_owned(),
            );
        }
        if self.field_filters {
            out.push(
                "field filters are equal for equal values: their frequencies can be matched to \
                 public name statistics"
                    .to_owned(),
            );
        }
        out
    }

    /// The schema file's `version` (1 to 3): it decides the defaults.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Filter length in bits before hardening changes it.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Key-derivation context (a project name).
    pub fn context(&self) -> &str {
        &self.context
    }

    /// Position hashing.
    pub fn hashing(&self) -> Hashing {
        self.hashing
    }

    /// Whether one filter per field is produced besides the record filter.
    pub fn field_filters(&self) -> bool {
        self.field_filters
    }

    /// Hardening steps, in order.
    pub fn hardening(&self) -> &[Hardening] {
        &self.hardening
    }

    /// Per-record salt.
    pub fn salt(&self) -> Option<&Salt> {
        self.salt.as_ref()
    }

    /// The salt that field `index`'s tokens are hashed with, given the record's salt.
    /// Versions 1 and 2 leave the salt field itself unsalted; version 3 salts it too (what
    /// remains of it: see [`Schema::keeps_token`]).
    pub(crate) fn field_salt<'s>(&self, index: usize, salt: &'s str) -> &'s str {
        match &self.salt {
            Some(s) if s.field != index || self.version >= 3 => salt,
            _ => "",
        }
    }

    /// Whether field `index` hashes `token`. From version 3 the salt field keeps its own
    /// salt out of the filter: a year-only salt drops the year token (day and month stay,
    /// salted by the year), a whole-value salt drops the field's tokens altogether.
    /// Otherwise equal salts would set equal bits and sort the records into salt groups.
    pub(crate) fn keeps_token(&self, index: usize, token: &str) -> bool {
        match &self.salt {
            Some(s) if s.field == index && self.version >= 3 => {
                s.year_only && !token.starts_with(super::tokenise::YEAR_TOKEN_PREFIX)
            }
            _ => true,
        }
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The match keys each record gets, in order (the salt key last when present).
    pub fn match_keys(&self) -> &[MatchKeySpec] {
        &self.match_keys
    }

    /// Length in bits of the filters this schema produces (after hardening).
    pub fn output_bits(&self) -> usize {
        self.hardening.iter().fold(self.bits, |len, h| match h {
            Hardening::Balance => len * 2,
            Hardening::XorFold(n) => len >> n,
            _ => len,
        })
    }
}

/// A hardening step from its file spelling: `randomised_response` is versions 1 and 2's
/// name for `keyed_flip` (refused in version 3, where the name would overclaim).
fn hardening_step(h: HardeningFile, v3: bool) -> Result<Hardening, SchemaError> {
    Ok(match h {
        HardeningFile::Balance => Hardening::Balance,
        HardeningFile::XorFold(n) => Hardening::XorFold(n),
        HardeningFile::Rule90 => Hardening::Rule90,
        HardeningFile::Permute => Hardening::Permute,
        HardeningFile::RandomisedResponse(p) if !v3 => Hardening::KeyedFlip(p),
        HardeningFile::RandomisedResponse(_) => {
            return Err(SchemaError::setting(
                "filter.hardening",
                "randomised_response is called keyed_flip from version 3: its flips are \
                 drawn from the key and the record, so equal records still give equal \
                 filters; for fresh randomness use blip",
            ));
        }
        HardeningFile::KeyedFlip(p) if v3 => Hardening::KeyedFlip(p),
        HardeningFile::Blip(p) if v3 => Hardening::Blip(p),
        HardeningFile::KeyedFlip(_) | HardeningFile::Blip(_) => {
            return Err(SchemaError::setting(
                "filter.hardening",
                "keyed_flip and blip need version = 3",
            ));
        }
    })
}

/// Version 3's salt when the file names none: the year of the one birth date field (of
/// kind `birth_date` with the date tokeniser).
fn default_salt(fields: &[Field]) -> Option<Salt> {
    let mut dates = fields.iter().enumerate().filter(|(_, f)| {
        f.kind == Some(FieldKind::BirthDate) && f.tokeniser == Tokeniser::DateParts
    });
    match (dates.next(), dates.next()) {
        (Some((field, _)), None) => Some(Salt { field, year_only: true }),
        _ => None,
    }
}

fn validate_field(raw: FieldFile, version: u32) -> Result<Field, String> {
    if raw.name.is_empty() || raw.name.len() > 255 {
        return Err("name must be 1..=255 bytes".into());
    }
    let defaults = raw.kind.map(kind_defaults);
    let tokeniser = match (raw.tokenise, &defaults) {
        (Some(t), _) => t,
        (None, Some((_, t, _))) => t.clone(),
        (None, None) => return Err("give a `kind` or a `tokenise`".into()),
    };
    if let Tokeniser::Qgrams { q, .. } = tokeniser
        && !(1..=8).contains(&q)
    {
        return Err("qgrams q must be 1..=8".into());
    }
    if let Tokeniser::Numeric { resolution, .. } = tokeniser
        && resolution > MAX_NUMERIC_RESOLUTION
    {
        return Err(format!("numeric resolution must be at most {MAX_NUMERIC_RESOLUTION}"));
    }
    let normalise = raw
        .normalise
        .or_else(|| defaults.as_ref().map(|d| d.0.clone()))
        .unwrap_or_else(|| vec![Normaliser::Trim]);
    let weight = match (raw.bits_per_token, raw.bits_per_field) {
        (Some(_), Some(_)) => return Err("give bits_per_token or bits_per_field, not both".into()),
        (Some(k), None) => Weight::PerToken(k),
        (None, Some(b)) => Weight::PerField(b),
        (None, None) => Weight::PerToken(defaults.as_ref().map_or(10, |d| d.2)),
    };
    match weight {
        Weight::PerToken(k) if !(1..=256).contains(&k) => {
            return Err("bits_per_token must be 1..=256".into());
        }
        Weight::PerField(b) if !(1..=4096).contains(&b) => {
            return Err("bits_per_field must be 1..=4096".into());
        }
        _ => {}
    }
    let date_format = match (&tokeniser, raw.date_format) {
        (Tokeniser::DateParts, f) => Some(DateFormat::new(f.as_deref().unwrap_or("%Y-%m-%d"))?),
        (_, Some(_)) => return Err("date_format needs the date_parts tokeniser".into()),
        (_, None) => None,
    };
    let is_date = tokeniser == Tokeniser::DateParts;
    let invalid = match raw.invalid {
        // Version 1 predates the key: a build of that time refuses it, so accepting it
        // here would let one "version 1" file mean two things.
        Some(_) if version == 1 => return Err("`invalid` needs `version = 2`".into()),
        Some(Invalid::Partial) if !is_date => {
            return Err("invalid = \"partial\" needs a date field".into());
        }
        Some(p) => p,
        None if version == 1 => Invalid::Reject,
        None if is_date => Invalid::Partial,
        None => Invalid::Missing,
    };
    Ok(Field {
        kind: raw.kind,
        column: raw.column.unwrap_or_else(|| raw.name.clone()),
        name: raw.name,
        normalise,
        date_format,
        tokeniser,
        weight,
        missing_values: raw.missing_values.unwrap_or_else(|| vec![String::new()]),
        missing: raw.missing.unwrap_or_default(),
        invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
version = 1
[filter]
context = "p"
[[fields]]
name = "given_name"
kind = "given_name"
[[fields]]
name = "birth_date"
kind = "birth_date"
date_format = "%d.%m.%Y"
"#;

    #[test]
    fn kinds_bring_defaults() {
        let s = Schema::parse(MINIMAL).unwrap();
        assert_eq!(s.bits, 1024);
        assert_eq!(s.fields[0].column, "given_name");
        assert_eq!(s.fields[0].weight, Weight::PerToken(20));
        assert_eq!(s.fields[1].tokeniser, Tokeniser::DateParts);
        assert_eq!(s.output_bits(), 1024);
    }

    #[test]
    fn json_is_accepted_too() {
        let json = r#"{"version": 1, "filter": {"bits": 512, "hardening": ["balance", "permute", {"xor_fold": 1}]},
                       "fields": [{"name": "sex", "kind": "sex"}]}"#;
        let s = Schema::parse(json).unwrap();
        assert_eq!(s.hardening, [Hardening::Balance, Hardening::Permute, Hardening::XorFold(1)]);
        assert_eq!(s.output_bits(), 512);
    }

    #[test]
    fn errors_name_the_field_and_problem() {
        let cases = [
            (MINIMAL.replace("kind = \"given_name\"", ""), "given_name"),
            (MINIMAL.replace("%d.%m.%Y", "%H"), "birth_date"),
            (MINIMAL.replace("[filter]", "[filter]\nbits = 1000"), "multiple of 64"),
            (MINIMAL.replace("version = 1", "version = 4"), "version 4"),
            (MINIMAL.replace("context = \"p\"", "context = \"p\"\nfoo = 1"), "foo"),
            (MINIMAL.replace("context = \"p\"", "context = \"pa\u{30a}\""), "NFC"),
            (MINIMAL.replace("[filter]", "[filter]\nhardening = [{ xor_fold = 9 }]"), "xor_fold"),
            (
                MINIMAL
                    .replace("[filter]", "[filter]\nhardening = [\"balance\", { xor_fold = 1 }]"),
                "complement",
            ),
            (
                MINIMAL
                    .replace("[filter]", "[filter]\nhardening = [{ xor_fold = 5 }, \"balance\"]"),
                "multiple of 64 bits (here 32)",
            ),
        ];
        for (text, needle) in cases {
            let e = Schema::parse(&text).unwrap_err().to_string();
            assert!(e.contains(needle), "{needle}: {e}");
        }
    }

    fn v3(filter: &str) -> Result<Schema, SchemaError> {
        let text = MINIMAL
            .replace("version = 1", "version = 3")
            .replace("[filter]\n", &format!("[filter]\n{filter}\n"));
        Schema::parse(&text)
    }

    fn with_keys(keys: &str) -> Result<Schema, SchemaError> {
        let text = MINIMAL.replace("version = 1", "version = 3");
        Schema::parse(&text.replacen("[filter]", &format!("{keys}\n[filter]"), 1))
    }

    #[test]
    fn match_keys_are_checked_against_the_fields() {
        let names =
            |s: &Schema| s.match_keys().iter().map(|k| k.name().to_owned()).collect::<Vec<_>>();
        let defaults = with_keys("default_match_keys = true").unwrap();
        assert_eq!(
            names(&defaults),
            ["birth_date", "birth_date_unordered", "given_name_phonetic_year", "salt"],
            "no surname or sex field: the keys that need them are left out"
        );
        assert!(defaults.match_keys().last().unwrap().is_salt());
        assert!(defaults.warnings().iter().any(|w| w.contains("match keys")));
        let custom = "[[match_keys]]\nname = \"dob\"\nparts = [{ field = \"birth_date\" }]";
        let unsalted = Schema::parse(&format!(
            "{}\n{custom}",
            MINIMAL
                .replace("version = 1", "version = 3")
                .replace("[filter]", "[filter]\nsalt = false")
        ))
        .unwrap();
        assert_eq!(names(&unsalted), ["dob"]);
        let bad = [
            (custom.replace("dob", "Dob"), "1 to 64 of a-z"),
            (custom.replace("dob", "salt"), "kept for the key"),
            (custom.replace("birth_date\" }", "nope\" }"), "\"nope\" is not a field"),
            (
                custom
                    .replace("\" }", "\", transform = \"year\" }")
                    .replace("birth_date", "given_name"),
                "year needs a date field",
            ),
            (custom.replace("[{ field = \"birth_date\" }]", "[]"), "1 to 8 parts"),
            (
                format!("default_match_keys = true\n{}", custom.replace("dob", "birth_date")),
                "duplicate",
            ),
            (custom.replace("\" }", "\", transfrom = \"year\" }"), "unknown field"),
            (custom.replace("parts", "unordered = true\nparts"), "at least 2 parts"),
        ];
        for (keys, needle) in bad {
            let e = with_keys(&keys).unwrap_err();
            assert!(e.to_string().contains(needle), "{needle}: {e}");
        }
        let many: String =
            (0..17).map(|i| custom.replace("dob", &format!("k{i}")) + "\n").collect();
        assert!(with_keys(&many).unwrap_err().to_string().contains("at most 16"));
        let v2 = MINIMAL.replace("version = 1", "version = 2") + "\ndefault_match_keys = true";
        assert!(Schema::parse(&v2).is_err());
    }

    #[test]
    fn version_3_hardens_and_salts_by_default() {
        let s = v3("").unwrap();
        assert_eq!(s.hardening(), DEFAULT_HARDENING);
        assert_eq!(s.salt(), Some(&Salt { field: 1, year_only: true }));
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
        // Older versions keep their meaning: no hardening, no salt, and a warning.
        let old = Schema::parse(MINIMAL).unwrap();
        assert!(old.hardening().is_empty() && old.salt().is_none());
        assert!(old.warnings().iter().any(|w| w.contains("no hardening")), "{:?}", old.warnings());
        // Two birth dates: no guess at which one salts.
        let two = MINIMAL.replace("version = 1", "version = 3")
            + "[[fields]]\nname = \"other\"\nkind = \"birth_date\"\n";
        assert_eq!(Schema::parse(&two).unwrap().salt(), None);
    }

    #[test]
    fn version_3_defaults_can_be_turned_off_with_a_warning() {
        let s = v3("hardening = []\nsalt = false").unwrap();
        assert!(s.hardening().is_empty() && s.salt().is_none());
        assert!(s.warnings().iter().any(|w| w.contains("no hardening")));
        let s = v3("hardening = [{ blip = 0.1 }, { keyed_flip = 0.02 }]\nsalt = { field = \"given_name\" }")
            .unwrap();
        assert_eq!(s.hardening(), [Hardening::Blip(0.1), Hardening::KeyedFlip(0.02)]);
        assert_eq!(s.salt(), Some(&Salt { field: 0, year_only: false }));
        let s = v3("field_filters = true\nfield_filters_reveal_frequencies = true").unwrap();
        assert!(s.field_filters() && s.warnings().iter().any(|w| w.contains("field filters")));
    }

    #[test]
    fn version_3_refuses_what_older_versions_allowed_silently() {
        let no_context =
            MINIMAL.replace("version = 1", "version = 3").replace("context = \"p\"\n", "");
        let cases =
            [
                (Schema::parse(&no_context), "context = \"\""),
                (v3("field_filters = true"), "field_filters_reveal_frequencies"),
                (v3("hardening = [{ randomised_response = 0.05 }]"), "keyed_flip"),
                (v3("salt = true"), "salt = false"),
                (v3("hardening = [{ blip = 0.7 }]"), "between 0 and 0.5"),
                (v3("salt = { field = \"birth_date\", yaer_only = true }"), "yaer_only"),
                (v3(&format!("hardening = [{}]", ["\"permute\""; 17].join(", "))), "at most 16"),
                (
                    Schema::parse(
                        &MINIMAL.replace("[filter]\n", "[filter]\nhardening = [{ blip = 0.1 }]\n"),
                    ),
                    "version = 3",
                ),
                (
                    Schema::parse(&MINIMAL.replace(
                        "[filter]\n",
                        "[filter]\nfield_filters_reveal_frequencies = true\n",
                    )),
                    "version = 3",
                ),
            ];
        for (got, needle) in cases {
            let e = got.unwrap_err().to_string();
            assert!(e.contains(needle), "{needle}: {e}");
        }
        // Version 2 still reads randomised_response, as the same step.
        let v2 = MINIMAL
            .replace("version = 1", "version = 2")
            .replace("[filter]\n", "[filter]\nhardening = [{ randomised_response = 0.05 }]\n");
        assert_eq!(Schema::parse(&v2).unwrap().hardening(), [Hardening::KeyedFlip(0.05)]);
    }
}
