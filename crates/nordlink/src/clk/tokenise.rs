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
    pub(crate) fn tokens(&self, value: &str, out: &mut Tokens) -> Result<(), ValueProblem> {
        match self {
            Self::Whole => out.push(value),
            Self::Qgrams { q, padding, positional } => {
                qgrams(value, *q, *padding, *positional, "", out);
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
                let start = out.len();
                for i in -r..=r {
                    // Values so close to the i64 limits that a neighbour overflows.
                    let Some(t) = i.checked_mul(step).and_then(|x| base.checked_add(x)) else {
                        out.truncate(start);
                        return Err(ValueProblem::OutOfRange);
                    };
                    out.push_fmt(format_args!("{t}"));
                }
            }
        }
        Ok(())
    }
}

/// The q-grams of `value`, each prefixed by `prefix`.
fn qgrams(value: &str, q: usize, padding: bool, positional: bool, prefix: &str, out: &mut Tokens) {
    let mut chars = std::mem::take(&mut out.chars);
    chars.clear();
    let pad = if padding { q - 1 } else { 0 };
    chars.extend(std::iter::repeat_n('_', pad));
    chars.extend(value.chars());
    chars.extend(std::iter::repeat_n('_', pad));
    if chars.len() < q {
        // Shorter than q: the value itself is the only token.
        out.text.push_str(prefix);
        out.text.extend(chars.iter());
        out.end();
    } else {
        for (i, gram) in chars.windows(q).enumerate() {
            out.text.push_str(prefix);
            if positional {
                // Writing to a String cannot fail.
                let _ = std::fmt::Write::write_fmt(&mut out.text, format_args!("{i}:"));
            }
            out.text.extend(gram);
            out.end();
        }
    }
    out.chars = chars;
}

/// The tokens of one value, kept in one string: tokenising allocates nothing once the
/// buffers have grown to the longest value.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tokens {
    text: String,
    /// Where each token ends in `text`.
    ends: Vec<usize>,
    /// Scratch for q-grams.
    chars: Vec<char>,
}

impl Tokens {
    /// Forgets every token (keeps the memory).
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Number of tokens.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The tokens' text, one after the other, and where each ends in it.
    pub(crate) fn parts(&self) -> (&str, &[usize]) {
        (&self.text, &self.ends)
    }

    /// Keeps the first `n` tokens.
    pub(crate) fn truncate(&mut self, n: usize) {
        if n < self.ends.len() {
            self.text.truncate(if n == 0 { 0 } else { self.ends[n - 1] });
            self.ends.truncate(n);
        }
    }

    fn push(&mut self, token: &str) {
        self.text.push_str(token);
        self.end();
    }

    fn push_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        // Writing to a String cannot fail.
        let _ = std::fmt::Write::write_fmt(&mut self.text, args);
        self.end();
    }

    /// Ends the token being written at the end of `text`.
    fn end(&mut self) {
        self.ends.push(self.text.len());
    }

    /// The tokens in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> + Clone + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.text[a..b])
    }
}

/// What a date's year token starts with (and no other date token does): a year-only salt
/// field leaves it out of the filter from schema version 3.
pub(crate) const YEAR_TOKEN_PREFIX: char = 'y';

/// The year, month and day tokens of a date (also of an impossible one, for
/// `invalid = "partial"`).
pub(crate) fn date_tokens(year: u16, month: u8, day: u8, out: &mut Tokens) {
    out.push_fmt(format_args!("{YEAR_TOKEN_PREFIX}{year}"));
    out.push_fmt(format_args!("m{month:02}"));
    out.push_fmt(format_args!("d{day:02}"));
}

/// Tokens of a value that failed its format under `invalid = "text"`: padded bigrams,
/// each prefixed with `!`, so they can only meet other invalid values' tokens.
pub(crate) fn invalid_text_tokens(value: &str, out: &mut Tokens) {
    qgrams(value, 2, true, false, "!", out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(t: &Tokens) -> Vec<&str> {
        t.iter().collect()
    }

    #[test]
    fn qgrams_with_and_without_padding() {
        let mut out = Tokens::default();
        Tokeniser::Qgrams { q: 2, padding: true, positional: false }
            .tokens("liv", &mut out)
            .unwrap();
        assert_eq!(strings(&out), ["_l", "li", "iv", "v_"]);
        out.clear();
        Tokeniser::Qgrams { q: 3, padding: false, positional: true }
            .tokens("anna", &mut out)
            .unwrap();
        assert_eq!(strings(&out), ["0:ann", "1:nna"]);
        out.clear();
        Tokeniser::Qgrams { q: 3, padding: false, positional: false }
            .tokens("al", &mut out)
            .unwrap();
        assert_eq!(strings(&out), ["al"]);
    }

    #[test]
    fn dates_and_numbers() {
        let mut out = Tokens::default();
        Tokeniser::DateParts.tokens("1990-05-17", &mut out).unwrap();
        assert_eq!(strings(&out), ["y1990", "m05", "d17"]);
        assert!(Tokeniser::DateParts.tokens("1990-02-30", &mut out).is_err());
        out.clear();
        invalid_text_tokens("4o", &mut out);
        assert_eq!(strings(&out), ["!_4", "!4o", "!o_"]);
        let mut a = Tokens::default();
        let mut b = Tokens::default();
        let t = Tokeniser::Numeric { distance: 2, resolution: 2 };
        t.tokens("40", &mut a).unwrap();
        t.tokens("41", &mut b).unwrap();
        assert_eq!(a.iter().filter(|x| b.iter().any(|y| y == *x)).count(), 4);
        assert_eq!(strings(&a), ["38", "39", "40", "41", "42"]);
        // Neighbours past the i64 limits are an invalid value, not an overflow.
        assert_eq!(t.tokens(&i64::MAX.to_string(), &mut b), Err(ValueProblem::OutOfRange));
        assert_eq!(t.tokens(&i64::MIN.to_string(), &mut b), Err(ValueProblem::OutOfRange));
        // A failed value leaves the tokens before it as they were.
        assert_eq!(strings(&b), ["39", "40", "41", "42", "43"]);
    }
}
