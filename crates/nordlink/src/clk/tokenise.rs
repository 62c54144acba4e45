//! Tokenisers: how a normalised value becomes the set of tokens hashed into the filter.

use serde::Deserialize;

use super::error::ValueProblem;
use crate::Date;

/// How a field's normalised value is split into tokens.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Tokeniser {
    /// Character q-grams.
    Qgrams {
        /// q (1..=8).
        q: usize,
        /// Pad with q - 1 `_` on each side, so first and last letters weigh as much as others.
        #[serde(default = "yes")]
        padding: bool,
        /// Prefix each q-gram with its position: order-sensitive.
        #[serde(default)]
        positional: bool,
    },
    /// The whole value as one token (sex, codes).
    Whole,
    /// A date (`YYYY-MM-DD` after parsing) as year, month and day tokens, so two dates
    /// sharing a year or month overlap.
    DateParts,
    /// An integer and its neighbours: values within `distance` share tokens.
    Numeric {
        /// Values closer than this share most tokens.
        distance: u32,
        /// Neighbours on each side (more: smoother similarity, more bits).
        #[serde(default = "three")]
        resolution: u32,
    },
}

fn yes() -> bool {
    true
}

fn three() -> u32 {
    3
}

impl Tokeniser {
    /// Appends the tokens of `value` (non-empty) to `out`.
    pub(crate) fn tokens(&self, value: &str, out: &mut Vec<String>) -> Result<(), ValueProblem> {
        match self {
            Self::Whole => out.push(value.to_owned()),
            Self::Qgrams { q, padding, positional } => {
                let mut chars: Vec<char> = Vec::with_capacity(value.len() + 2 * q);
                let pad = if *padding { q - 1 } else { 0 };
                chars.extend(std::iter::repeat_n('_', pad));
                chars.extend(value.chars());
                chars.extend(std::iter::repeat_n('_', pad));
                if chars.len() < *q {
                    // Shorter than q: the value itself is the only token.
                    out.push(chars.iter().collect());
                    return Ok(());
                }
                for (i, gram) in chars.windows(*q).enumerate() {
                    let mut s = String::with_capacity(q + 3);
                    if *positional {
                        s.push_str(&i.to_string());
                        s.push(':');
                    }
                    s.extend(gram);
                    out.push(s);
                }
            }
            Self::DateParts => {
                let d: Date = value.parse().map_err(|_| ValueProblem::BadDate)?;
                date_tokens(d.year(), d.month(), d.day(), out);
            }
            Self::Numeric { distance, resolution } => {
                let v: i64 = value.trim().parse().map_err(|_| ValueProblem::NotInteger)?;
                let d = i64::from((*distance).max(1));
                // Snap to the grid of half-distances, then emit neighbours on that grid.
                let step = (d + 1) / 2;
                let base = v.div_euclid(step) * step;
                let r = i64::from(*resolution);
                for i in -r..=r {
                    // Values so close to the i64 limits that a neighbour overflows.
                    let t = i
                        .checked_mul(step)
                        .and_then(|x| base.checked_add(x))
                        .ok_or(ValueProblem::OutOfRange)?;
                    out.push(t.to_string());
                }
            }
        }
        Ok(())
    }
}

/// What a date's year token starts with (and no other date token does): a year-only salt
/// field leaves it out of the filter from schema version 3.
pub(crate) const YEAR_TOKEN_PREFIX: char = 'y';

/// The year, month and day tokens of a date (also of an impossible one, for
/// `invalid = "partial"`).
pub(crate) fn date_tokens(year: u16, month: u8, day: u8, out: &mut Vec<String>) {
    out.push(format!("{YEAR_TOKEN_PREFIX}{year}"));
    out.push(format!("m{month:02}"));
    out.push(format!("d{day:02}"));
}

/// Tokens of a value that failed its format under `invalid = "text"`: padded bigrams,
/// each prefixed with `!`, so they can only meet other invalid values' tokens.
pub(crate) fn invalid_text_tokens(value: &str, out: &mut Vec<String>) {
    let start = out.len();
    // Bigrams never fail.
    let _ = Tokeniser::Qgrams { q: 2, padding: true, positional: false }.tokens(value, out);
    for t in &mut out[start..] {
        t.insert(0, '!');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qgrams_with_and_without_padding() {
        let mut out = Vec::new();
        Tokeniser::Qgrams { q: 2, padding: true, positional: false }
            .tokens("liv", &mut out)
            .unwrap();
        assert_eq!(out, ["_l", "li", "iv", "v_"]);
        out.clear();
        Tokeniser::Qgrams { q: 3, padding: false, positional: true }
            .tokens("anna", &mut out)
            .unwrap();
        assert_eq!(out, ["0:ann", "1:nna"]);
        out.clear();
        Tokeniser::Qgrams { q: 3, padding: false, positional: false }
            .tokens("al", &mut out)
            .unwrap();
        assert_eq!(out, ["al"]);
    }

    #[test]
    fn dates_and_numbers() {
        let mut out = Vec::new();
        Tokeniser::DateParts.tokens("1990-05-17", &mut out).unwrap();
        assert_eq!(out, ["y1990", "m05", "d17"]);
        assert!(Tokeniser::DateParts.tokens("1990-02-30", &mut out).is_err());
        out.clear();
        invalid_text_tokens("4o", &mut out);
        assert_eq!(out, ["!_4", "!4o", "!o_"]);
        let mut a = Vec::new();
        let mut b = Vec::new();
        let t = Tokeniser::Numeric { distance: 2, resolution: 2 };
        t.tokens("40", &mut a).unwrap();
        t.tokens("41", &mut b).unwrap();
        assert_eq!(a.iter().filter(|x| b.contains(x)).count(), 4);
        // Neighbours past the i64 limits are an invalid value, not an overflow.
        assert_eq!(t.tokens(&i64::MAX.to_string(), &mut b), Err(ValueProblem::OutOfRange));
        assert_eq!(t.tokens(&i64::MIN.to_string(), &mut b), Err(ValueProblem::OutOfRange));
    }
}
