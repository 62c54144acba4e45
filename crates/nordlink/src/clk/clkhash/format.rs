//! clkhash's value formatting (validation, canonical forms) and tokenising.

use super::super::error::ValueProblem;
use super::pynum::{python_float, python_int};
use super::schema::{Case, Comparison, FeatureSpec, Format};

/// clkhash `format_value` after validation; errors are stable problem codes.
pub(super) fn format_value(spec: &FeatureSpec, raw: &str) -> Result<String, ValueProblem> {
    if let Some((sentinel, replacement)) = &spec.missing
        && raw == sentinel
    {
        return Ok(replacement.clone());
    }
    if spec.ascii_only && !raw.is_ascii() {
        return Err(ValueProblem::NotEncodable);
    }
    match &spec.format {
        Format::String { regex, case, min_len, max_len } => {
            if let Some(re) = regex {
                if !re.is_match(raw) {
                    return Err(ValueProblem::PatternMismatch);
                }
            } else {
                let len = raw.chars().count();
                if min_len.is_some_and(|m| len < m) {
                    return Err(ValueProblem::TooShort);
                }
                if max_len.is_some_and(|m| len > m) {
                    return Err(ValueProblem::TooLong);
                }
                match case {
                    Case::Upper if raw.to_uppercase() != raw => {
                        return Err(ValueProblem::WrongCase);
                    }
                    Case::Lower if raw.to_lowercase() != raw => {
                        return Err(ValueProblem::WrongCase);
                    }
                    _ => {}
                }
            }
            Ok(raw.to_owned())
        }
        Format::Integer { min, max } => {
            let v = python_int(raw).ok_or(ValueProblem::NotInteger)?;
            if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                return Err(ValueProblem::OutOfRange);
            }
            Ok(v.to_string())
        }
        Format::Date { format } => {
            let date = format.parse(raw).ok_or(ValueProblem::BadDate)?;
            // glibc strftime does not zero-pad %Y below 1000.
            Ok(format!("{}{:02}{:02}", date.year(), date.month(), date.day()))
        }
        Format::Enum { values } => {
            if values.contains(raw) {
                Ok(raw.to_owned())
            } else {
                Err(ValueProblem::NotInEnum)
            }
        }
    }
}

pub(super) fn tokenize(
    c: Comparison,
    word: &str,
    out: &mut Vec<String>,
) -> Result<(), ValueProblem> {
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
                Some(v) => v.checked_mul(scale).ok_or(ValueProblem::NotNumeric)?,
                None => {
                    let f = python_float(word).ok_or(ValueProblem::NotNumeric)?;
                    let x = if precision > 0 {
                        (f * scale as f64).round_ties_even()
                    } else {
                        f.trunc()
                    };
                    if x.abs() > 1e30 {
                        return Err(ValueProblem::NotNumeric);
                    }
                    #[allow(clippy::cast_possible_truncation, reason = "|x| <= 1e30 < 2^127")]
                    let x = x as i128;
                    x
                }
            };
            let v = v.checked_mul(2 * resolution).ok_or(ValueProblem::NotNumeric)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn hostile_schemas_are_refused_at_load_time() {
        use super::super::ClkhashSchema;
        let schema = |comparison: &str, strategy: &str| {
            format!(
                r#"{{"version": 3, "clkConfig": {{"l": 64, "kdf": {{"type": "HKDF"}}}},
                "features": [{{"identifier": "x", "format": {{"type": "string"}},
                "hashing": {{"comparison": {comparison}, "strategy": {strategy}}}}}]}}"#
            )
        };
        let ngram = r#"{"type": "ngram", "n": 2}"#;
        for (c, s) in [
            (ngram, r#"{"bitsPerToken": 1000000000}"#),
            (ngram, r#"{"bitsPerFeature": 18446744073709551615}"#),
            (
                r#"{"type": "numeric", "thresholdDistance": 1, "resolution": 1000000000}"#,
                r#"{"bitsPerToken": 1}"#,
            ),
            (
                r#"{"type": "numeric", "thresholdDistance": 1e300, "resolution": 2}"#,
                r#"{"bitsPerToken": 1}"#,
            ),
        ] {
            let err = ClkhashSchema::from_json(&schema(c, s)).unwrap_err();
            assert_eq!(err.code(), "bad_field", "{err}");
        }
        assert!(ClkhashSchema::from_json(&schema(ngram, r#"{"bitsPerToken": 4096}"#)).is_ok());
    }
}
