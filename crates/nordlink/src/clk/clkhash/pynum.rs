//! Python's number parsing, as clkhash's validation and numeric tokens rely on it.

/// Python `int(s, 10)` for ASCII input: surrounding whitespace, a sign, and single
/// underscores between digits. (Python also reads non-ASCII decimal digits; this does not.)
pub(super) fn python_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let (neg, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let b = digits.as_bytes();
    if b.is_empty() || b[0] == b'_' || b[b.len() - 1] == b'_' {
        return None;
    }
    let mut v: i128 = 0;
    let mut prev_underscore = false;
    for &c in b {
        match c {
            b'0'..=b'9' => {
                v = v.checked_mul(10)?.checked_add(i128::from(c - b'0'))?;
                prev_underscore = false;
            }
            b'_' if !prev_underscore => prev_underscore = true,
            _ => return None,
        }
    }
    Some(if neg { -v } else { v })
}

/// Python `float(s)` for the usual spellings.
pub(super) fn python_float(s: &str) -> Option<f64> {
    let t = s.trim().replace('_', "");
    match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" | "-inf" | "-infinity" | "nan" | "+nan"
        | "-nan" => None,
        _ => t.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_semantics() {
        assert_eq!(python_int(" 12 "), Some(12));
        assert_eq!(python_int("+1_0"), Some(10));
        assert_eq!(python_int("-007"), Some(-7));
        for bad in ["", "1__0", "_1", "1_", "1.0", "0x10", "- 1"] {
            assert_eq!(python_int(bad), None, "{bad}");
        }
    }
}
