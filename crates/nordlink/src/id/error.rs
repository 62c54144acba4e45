use std::fmt;

/// Why a string is not a valid identifier.
///
/// Neither `Display` nor `Debug` contains the input: errors are safe to log. Positions are
/// byte offsets into the trimmed input.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing but whitespace.
    Empty,
    /// Longer than [`MAX_INPUT_LEN`](super::MAX_INPUT_LEN) bytes after trimming.
    TooLong,
    /// A non-ASCII character (including Unicode digits, dashes and spaces).
    NonAscii {
        /// Byte offset of the first non-ASCII byte.
        pos: usize,
    },
    /// Wrong number of characters for any accepted spelling.
    BadLength {
        /// Length of the trimmed input.
        len: usize,
    },
    /// A separator that is not allowed here, misplaced or repeated.
    BadSeparator {
        /// Byte offset of the offending character.
        pos: usize,
    },
    /// A character that cannot appear at this position (a letter where a digit belongs).
    BadCharacter {
        /// Byte offset of the offending character.
        pos: usize,
    },
    /// The century marker (SE 12-digit prefix, FI sign, IS last digit, EE/LT first digit)
    /// is not one the scheme defines.
    BadCentury,
    /// The encoded birth date does not exist.
    BadDate,
    /// The serial (individual) number is one the issuer never assigns.
    BadSerial,
    /// The check digit or character does not match.
    BadChecksum,
}

impl ParseError {
    /// A short stable code for reports and summaries, such as `bad_checksum`.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLong => "too_long",
            Self::NonAscii { .. } => "non_ascii",
            Self::BadLength { .. } => "bad_length",
            Self::BadSeparator { .. } => "bad_separator",
            Self::BadCharacter { .. } => "bad_character",
            Self::BadCentury => "bad_century",
            Self::BadDate => "bad_date",
            Self::BadSerial => "bad_serial",
            Self::BadChecksum => "bad_checksum",
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty identifier"),
            Self::TooLong => f.write_str("identifier longer than 40 characters"),
            Self::NonAscii { pos } => write!(f, "non-ASCII character at offset {pos}"),
            Self::BadLength { len } => write!(f, "wrong length ({len} characters)"),
            Self::BadSeparator { pos } => write!(f, "separator not allowed at offset {pos}"),
            Self::BadCharacter { pos } => write!(f, "unexpected character at offset {pos}"),
            Self::BadCentury => f.write_str("invalid century marker"),
            Self::BadDate => f.write_str("invalid birth date"),
            Self::BadSerial => f.write_str("serial number never assigned"),
            Self::BadChecksum => f.write_str("check digit mismatch"),
        }
    }
}

impl std::error::Error for ParseError {}
