//! National personal identifiers of Denmark, Sweden, Norway, Finland, Iceland, Estonia
//! and Lithuania: validation, normalisation, and what the number says about the person.
//!
//! Every scheme follows one strict input policy (see `docs/identifiers.md`):
//!
//! * leading and trailing ASCII whitespace is trimmed, nothing else;
//! * after trimming, input longer than 40 bytes or containing any non-ASCII character is
//!   rejected (no folding of fullwidth digits or Unicode dashes);
//! * at most one separator, only at the scheme's canonical position;
//! * letters (Finland only) are case-insensitive and normalised to upper case.
//!
//! Two spellings of one number always normalise to the same string, and that string is what
//! a pseudonymiser hashes. Errors never contain the input, so they are safe to log.
//!
//! # Example
//! ```
//! use nordlink::id::{parse, Kind, Scheme, Sex};
//!
//! let id = parse(Scheme::Dk, "211062-5629")?;
//! assert_eq!(id.as_str(), "2110625629");
//! assert_eq!(id.kind(), Kind::DkCpr);
//! assert_eq!(id.birth_date().unwrap().to_string(), "1862-10-21");
//! assert_eq!(id.sex(), Some(Sex::Male));
//! # Ok::<(), nordlink::id::ParseError>(())
//! ```

mod dk;
mod ee_lt;
mod error;
mod fi;
mod is;
mod kind;
mod no;
mod scheme;
mod se;

use std::fmt;

pub use error::ParseError;
pub use kind::Kind;
pub use scheme::{Scheme, UnknownScheme};

use crate::Date;

/// Longest trimmed input looked at; anything longer is rejected before other work.
pub const MAX_INPUT_LEN: usize = 40;

/// Sex as encoded in an identifier. Only some schemes and kinds carry it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Sex {
    /// Encoded as male.
    Male,
    /// Encoded as female.
    Female,
}

impl Sex {
    /// `M` or `F`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Male => "M",
            Self::Female => "F",
        }
    }

    /// The convention shared by every scheme here: odd digit male, even digit female.
    pub(crate) const fn from_parity(digit: u8) -> Self {
        if digit % 2 == 1 { Self::Male } else { Self::Female }
    }
}

/// Options that change how identifiers are read.
#[derive(Clone, Copy, Debug)]
pub struct ParseOptions {
    /// Reference date for the century of 10-digit Swedish numbers: the birth year is the
    /// latest year not after this date's year that ends in the number's two year digits
    /// (and 100 years earlier when written with `+`). Only the year is used.
    pub reference_date: Date,
}

impl ParseOptions {
    /// Options with the given Swedish reference date.
    pub const fn with_reference_date(reference_date: Date) -> Self {
        Self { reference_date }
    }
}

impl Default for ParseOptions {
    /// The reference date is today (UTC), read from the clock once per process.
    fn default() -> Self {
        static TODAY: std::sync::OnceLock<Date> = std::sync::OnceLock::new();
        Self { reference_date: *TODAY.get_or_init(Date::today_utc) }
    }
}

/// Room for the longest normalised form (12 digits, Sweden).
const NORMALISED_CAP: usize = 12;

/// A valid national identifier: its scheme, kind, canonical string, and the birth date and
/// sex where the number carries them.
///
/// `Debug` shows the scheme and kind only: the number itself must not reach logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NationalId {
    scheme: Scheme,
    kind: Kind,
    len: u8,
    normalised: [u8; NORMALISED_CAP],
    birth_date: Option<Date>,
    sex: Option<Sex>,
}

impl NationalId {
    pub(crate) fn new(
        scheme: Scheme,
        kind: Kind,
        normalised: &[u8],
        birth_date: Option<Date>,
        sex: Option<Sex>,
    ) -> Self {
        debug_assert!(normalised.len() <= NORMALISED_CAP && normalised.is_ascii());
        let mut buf = [0u8; NORMALISED_CAP];
        buf[..normalised.len()].copy_from_slice(normalised);
        // At most NORMALISED_CAP bytes: the copy above would have failed otherwise.
        let len = u8::try_from(normalised.len()).unwrap_or(u8::MAX);
        Self { scheme, kind, len, normalised: buf, birth_date, sex }
    }

    /// The scheme (country) the number belongs to.
    pub const fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The kind of number within the scheme.
    pub const fn kind(&self) -> Kind {
        self.kind
    }

    /// The normalised form: the exact bytes a pseudonymiser hashes.
    ///
    /// DK 10 digits; SE 12 digits `YYYYMMDDNNNC` with the century resolved; NO 11 digits;
    /// FI 11 characters, upper case, century sign kept; IS 10 digits; EE and LT 11 digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored (checked by every parser before copying).
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The normalised form as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.normalised[..usize::from(self.len)]
    }

    /// The birth date, when the number encodes one with its century.
    pub const fn birth_date(&self) -> Option<Date> {
        self.birth_date
    }

    /// The sex, when the number encodes it.
    pub const fn sex(&self) -> Option<Sex> {
        self.sex
    }
}

impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NationalId")
            .field("scheme", &self.scheme)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Parses and validates `input` under `scheme`, with today's date as the Swedish reference.
///
/// # Errors
/// A [`ParseError`] saying what is wrong (never echoing the input).
pub fn parse(scheme: Scheme, input: &str) -> Result<NationalId, ParseError> {
    parse_with(scheme, input, &ParseOptions::default())
}

/// Parses and validates `input` under `scheme` with explicit options.
///
/// Never panics, whatever the input.
///
/// # Errors
/// A [`ParseError`] saying what is wrong (never echoing the input).
///
/// # Example
/// ```
/// use nordlink::{Date, id::{parse_with, ParseOptions, Scheme}};
/// let opts = ParseOptions::with_reference_date(Date::new(2026, 1, 1)?);
/// assert_eq!(parse_with(Scheme::Se, "120512-8919", &opts)?.as_str(), "201205128919");
/// assert_eq!(parse_with(Scheme::Se, "120512+8919", &opts)?.as_str(), "191205128919");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_with(
    scheme: Scheme,
    input: &str,
    options: &ParseOptions,
) -> Result<NationalId, ParseError> {
    let s = prepare(input.as_bytes())?;
    match scheme {
        Scheme::Dk => dk::parse(s),
        Scheme::Se => se::parse(s, options.reference_date),
        Scheme::No => no::parse(s),
        Scheme::Fi => fi::parse(s),
        Scheme::Is => is::parse(s),
        Scheme::Ee => ee_lt::parse_ee(s),
        Scheme::Lt => ee_lt::parse_lt(s),
    }
}

/// ASCII whitespace as the policy defines it: space, TAB, LF, VT, FF, CR.
const fn is_trim_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Applies the shared policy: trim, length cap, ASCII only.
fn prepare(input: &[u8]) -> Result<&[u8], ParseError> {
    let start = input.iter().position(|&b| !is_trim_byte(b)).unwrap_or(input.len());
    let end = input.iter().rposition(|&b| !is_trim_byte(b)).map_or(start, |i| i + 1);
    let s = &input[start..end];
    if s.is_empty() {
        return Err(ParseError::Empty);
    }
    if s.len() > MAX_INPUT_LEN {
        return Err(ParseError::TooLong);
    }
    if let Some(pos) = s.iter().position(|b| !b.is_ascii()) {
        return Err(ParseError::NonAscii { pos });
    }
    Ok(s)
}

/// Reads `s` as `N` digits with an optional single separator (one of `separators`, none if
/// empty) at byte offset `sep_at`.
///
/// Returns the digits (as values 0..=9) and the separator used, if any.
fn split_digits<const N: usize>(
    s: &[u8],
    sep_at: usize,
    separators: &[u8],
) -> Result<([u8; N], Option<u8>), ParseError> {
    let sep = match s.len() {
        l if l == N => None,
        l if l == N + 1 && separators.contains(&s[sep_at]) => Some(s[sep_at]),
        // One character too many: a stray or misplaced separator, or one digit too many.
        l if l == N + 1 => {
            return Err(match s.iter().position(|b| !b.is_ascii_digit()) {
                Some(pos) => bad_byte(s[pos], pos),
                None => ParseError::BadLength { len: l },
            });
        }
        len => return Err(ParseError::BadLength { len }),
    };
    let mut out = [0u8; N];
    let mut j = 0;
    for (pos, &c) in s.iter().enumerate() {
        if sep.is_some() && pos == sep_at {
            continue;
        }
        if !c.is_ascii_digit() {
            return Err(bad_byte(c, pos));
        }
        out[j] = c - b'0';
        j += 1;
    }
    Ok((out, sep))
}

/// The error for an unexpected byte: punctuation that looks like a separator is reported
/// as a misplaced separator, anything else as a bad character.
fn bad_byte(c: u8, pos: usize) -> ParseError {
    if c.is_ascii_punctuation() || c.is_ascii_whitespace() {
        ParseError::BadSeparator { pos }
    } else {
        ParseError::BadCharacter { pos }
    }
}

/// Two digit values as a number 0..=99.
const fn two(a: u8, b: u8) -> u8 {
    a * 10 + b
}

/// Digit values back to ASCII, for building normalised strings.
fn ascii_digits<const N: usize>(d: &[u8; N]) -> [u8; N] {
    d.map(|v| v + b'0')
}

/// `sum(w_i * d_i) mod m`.
fn weighted_mod(digits: &[u8], weights: &[u8], m: u32) -> u32 {
    digits.iter().zip(weights).map(|(&d, &w)| u32::from(d) * u32::from(w)).sum::<u32>() % m
}

/// A date from parts, mapping a non-existent date to [`ParseError::BadDate`].
fn date(year: u16, month: u8, day: u8) -> Result<Date, ParseError> {
    Date::new(year, month, day).map_err(|_| ParseError::BadDate)
}

/// Checks day and month when the century is unknown: 29 February is allowed when some
/// century makes the two-digit year a leap year (every `yy % 4 == 0`, as 2000 was).
fn check_day_month(yy: u8, month: u8, day: u8) -> Result<(), ParseError> {
    let year = if yy.is_multiple_of(4) { 2000 + u16::from(yy) } else { 1900 + u16::from(yy) };
    date(year, month, day).map(|_| ())
}

#[cfg(test)]
mod tests;
