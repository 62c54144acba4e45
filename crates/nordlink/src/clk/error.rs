use std::fmt;

/// A schema that cannot be used. Messages name the field and the problem; schemas hold no
/// personal data, so they may quote it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// Not valid JSON or TOML, or the wrong shape.
    #[error("schema syntax: {0}")]
    Syntax(String),
    /// A global setting is invalid.
    #[error("schema: {0}")]
    Config(String),
    /// A field (feature) is invalid.
    #[error("schema field {index} ({identifier:?}): {problem}")]
    Field {
        /// 0-based position in the schema's field list.
        index: usize,
        /// The field's name.
        identifier: String,
        /// What is wrong.
        problem: String,
    },
}

impl SchemaError {
    pub(crate) fn json(e: serde_json::Error) -> Self {
        Self::Syntax(format!("line {} column {}: {}", e.line(), e.column(), classify(&e)))
    }

    pub(crate) fn config(problem: String) -> Self {
        Self::Config(problem)
    }

    pub(crate) fn field(index: usize, identifier: &str, problem: impl Into<String>) -> Self {
        Self::Field { index, identifier: identifier.to_owned(), problem: problem.into() }
    }
}

fn classify(e: &serde_json::Error) -> String {
    // serde's own message names the missing or unexpected key, which is what users need.
    let msg = e.to_string();
    msg.split(" at line ").next().unwrap_or(&msg).to_owned()
}

/// A record that cannot be encoded: a field's value fails its format. Holds the field name
/// and a stable problem code, never the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeError {
    /// The field (feature) whose value is invalid.
    pub feature: String,
    /// A stable code: `pattern_mismatch`, `too_short`, `too_long`, `wrong_case`,
    /// `not_integer`, `out_of_range`, `bad_date`, `not_in_enum`, `not_encodable`,
    /// `not_numeric`.
    pub problem: &'static str,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field {:?}: {}", self.feature, self.problem)
    }
}

impl std::error::Error for EncodeError {}
