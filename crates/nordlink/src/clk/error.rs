//! Errors of schemas and of encoding, each with a stable machine-readable code.

/// A schema that cannot be used. Messages name the setting or field and the problem;
/// schemas hold no personal data, so they may quote it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The schema file is not UTF-8 text.
    #[error("schema is not UTF-8 text")]
    NotUtf8,
    /// Not valid JSON or TOML, or the wrong shape (a missing or unknown key).
    #[error("schema syntax: {message}")]
    Syntax {
        /// The parser's message, with the line and column where it has them.
        message: String,
    },
    /// A schema version this build does not read.
    #[error("schema version {found} is not supported ({supported})")]
    UnsupportedVersion {
        /// The version the schema states.
        found: String,
        /// What this build reads.
        supported: &'static str,
    },
    /// A schema-wide setting is invalid.
    #[error("schema setting {setting}: {problem}")]
    Setting {
        /// The setting, as written in the schema (`filter.bits`, `clkConfig.l`).
        setting: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The schema lists no fields.
    #[error("schema has no fields")]
    NoFields,
    /// A match key is invalid.
    #[error("schema match key {name:?}: {problem}")]
    MatchKey {
        /// The key's name as written (empty when the problem is the list itself).
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// A field (feature) is invalid.
    #[error("schema field {index} ({name:?}): {problem}")]
    Field {
        /// 0-based position in the schema's field list.
        index: usize,
        /// The field's name (clkhash: its identifier).
        name: String,
        /// What is wrong.
        problem: String,
    },
}

impl SchemaError {
    /// A short stable code: `not_utf8`, `syntax`, `unsupported_version`, `bad_setting`,
    /// `no_fields`, `bad_field` or `bad_match_key`.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::NotUtf8 => "not_utf8",
            Self::Syntax { .. } => "syntax",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::Setting { .. } => "bad_setting",
            Self::NoFields => "no_fields",
            Self::Field { .. } => "bad_field",
            Self::MatchKey { .. } => "bad_match_key",
        }
    }

    pub(crate) fn json(e: &serde_json::Error) -> Self {
        // serde's own message names the missing or unexpected key, which is what users
        // need; the position is appended in our words.
        let msg = e.to_string();
        let what = msg.split(" at line ").next().unwrap_or(&msg);
        Self::Syntax { message: format!("line {} column {}: {what}", e.line(), e.column()) }
    }

    pub(crate) fn setting(setting: &'static str, problem: impl Into<String>) -> Self {
        Self::Setting { setting, problem: problem.into() }
    }

    pub(crate) fn field(index: usize, name: &str, problem: impl Into<String>) -> Self {
        Self::Field { index, name: name.to_owned(), problem: problem.into() }
    }
}

/// Why a value cannot be encoded. The codes are stable: reject files carry them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueProblem {
    /// A string that does not match the field's pattern (clkhash).
    PatternMismatch,
    /// A string shorter than the field's minimum length (clkhash).
    TooShort,
    /// A string longer than the field's maximum length (clkhash).
    TooLong,
    /// A string not in the case the field requires (clkhash).
    WrongCase,
    /// Not an integer.
    NotInteger,
    /// An integer outside the field's range (clkhash).
    OutOfRange,
    /// Not a valid date in the field's format.
    BadDate,
    /// Not one of the field's enumerated values (clkhash).
    NotInEnum,
    /// Not encodable in the field's character encoding (clkhash `ascii`).
    NotEncodable,
    /// Not a number (clkhash numeric comparison).
    NotNumeric,
}

impl ValueProblem {
    /// The stable code: `pattern_mismatch`, `too_short`, `too_long`, `wrong_case`,
    /// `not_integer`, `out_of_range`, `bad_date`, `not_in_enum`, `not_encodable` or
    /// `not_numeric`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::PatternMismatch => "pattern_mismatch",
            Self::TooShort => "too_short",
            Self::TooLong => "too_long",
            Self::WrongCase => "wrong_case",
            Self::NotInteger => "not_integer",
            Self::OutOfRange => "out_of_range",
            Self::BadDate => "bad_date",
            Self::NotInEnum => "not_in_enum",
            Self::NotEncodable => "not_encodable",
            Self::NotNumeric => "not_numeric",
        }
    }
}

impl std::fmt::Display for ValueProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A record that cannot be encoded. Names the field and the problem, never the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A field's value fails its format.
    #[error("field {field:?}: {problem}")]
    InvalidValue {
        /// The field (clkhash: feature identifier).
        field: String,
        /// What is wrong with the value.
        problem: ValueProblem,
    },
    /// A field's value is missing and the schema says `missing = "reject"`.
    #[error("field {field:?}: missing")]
    MissingValue {
        /// The field.
        field: String,
    },
    /// The operating system's random source failed while `blip` hardening needed it.
    #[error("the system's random source failed (needed by blip hardening)")]
    Randomness,
}

impl EncodeError {
    /// The field the error is about (empty for [`EncodeError::Randomness`], which
    /// concerns the whole record).
    pub fn field(&self) -> &str {
        match self {
            Self::InvalidValue { field, .. } | Self::MissingValue { field } => field,
            Self::Randomness => "",
        }
    }

    /// The stable code: a [`ValueProblem::code`] or `missing`.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidValue { problem, .. } => problem.code(),
            Self::MissingValue { .. } => "missing",
            Self::Randomness => "randomness",
        }
    }

    pub(crate) fn invalid(field: &str, problem: ValueProblem) -> Self {
        Self::InvalidValue { field: field.to_owned(), problem }
    }
}
