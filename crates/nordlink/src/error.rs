//! One error type for callers who want one: every error of the crate converts into it.

use crate::clk::{EncodeError, FilterError, LoadError, SchemaError};
use crate::id::{ParseError, UnknownScheme};
use crate::pseudonym::{SettingsError, ValueError};
use crate::{DateError, KeyError};

/// Any error of the `nordlink` crate. Each module's own error stays precise; this wraps
/// them for programs that handle them all alike (`?` converts). Like them, it never holds
/// key material or a personal value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An identifier failed to parse.
    #[error(transparent)]
    Id(#[from] ParseError),
    /// An unknown identifier scheme.
    #[error(transparent)]
    Scheme(#[from] UnknownScheme),
    /// A date failed to parse.
    #[error(transparent)]
    Date(#[from] DateError),
    /// A key or key file problem.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Invalid pseudonymisation settings.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// An opaque value that cannot be pseudonymised.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// An invalid encoding schema.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// An encoder could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A record could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// Filters could not be stored.
    #[error(transparent)]
    Filter(#[from] FilterError),
}
