//! Text normalisers: each a pure function from string to string, applied in order.

use serde::Deserialize;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// One normalisation step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Normaliser {
    /// Remove leading and trailing whitespace.
    Trim,
    /// Unicode NFKC: compatibility forms (fullwidth letters, ligatures) to canonical ones.
    Nfkc,
    /// Lower-case (Unicode full lower-case mapping).
    Casefold,
    /// Nordic and Baltic transliteration, then removal of remaining diacritics:
    /// æ→ae ø→oe å→aa ä→ae ö→oe ü→ue þ→th ð→d ß→ss (upper case alike), then é→e, š→s ...
    NordicFold,
    /// Remove every diacritic (é→e, å→a, ø→o): for sources that dropped them.
    StripDiacritics,
    /// Remove punctuation and symbols (hyphens, apostrophes, dots).
    StripPunctuation,
    /// Remove all whitespace.
    StripWhitespace,
    /// Collapse runs of whitespace to one space.
    CollapseWhitespace,
}

/// Letters that canonical decomposition cannot split into a base letter and marks, mapped
/// by hand; used by both `strip_diacritics` and `nordic_fold`. Part of `nordlink-clk/1`:
/// docs/schema.md prints this table, and a test keeps the two equal.
pub(crate) const UNDECOMPOSABLE: &[(char, &str)] = &[
    ('ø', "o"),
    ('Ø', "O"),
    ('æ', "ae"),
    ('Æ', "AE"),
    ('œ', "oe"),
    ('Œ', "OE"),
    ('þ', "th"),
    ('Þ', "TH"),
    ('ð', "d"),
    ('đ', "d"),
    ('Ð', "D"),
    ('Đ', "D"),
    ('ł', "l"),
    ('Ł', "L"),
    ('ß', "ss"),
    ('ı', "i"),
];

/// Nordic and German transliterations `nordic_fold` applies before [`UNDECOMPOSABLE`]
/// (which it overrides for ø, Ø, æ, Æ). Part of `nordlink-clk/1`, printed in docs/schema.md.
pub(crate) const NORDIC: &[(char, &str)] = &[
    ('æ', "ae"),
    ('ä', "ae"),
    ('Æ', "AE"),
    ('Ä', "AE"),
    ('ø', "oe"),
    ('ö', "oe"),
    ('Ø', "OE"),
    ('Ö', "OE"),
    ('å', "aa"),
    ('Å', "AA"),
    ('ü', "ue"),
    ('Ü', "UE"),
];

/// Characters `strip_punctuation` removes besides ASCII punctuation, as inclusive ranges.
/// Part of `nordlink-clk/1`, printed in docs/schema.md.
pub(crate) const UNICODE_PUNCTUATION: &[(char, char)] = &[
    ('\u{00b4}', '\u{00b4}'),
    ('\u{00b7}', '\u{00b7}'),
    ('\u{02bc}', '\u{02bc}'),
    ('\u{2010}', '\u{2027}'),
    ('\u{2032}', '\u{2032}'),
];

fn lookup(table: &[(char, &'static str)], c: char) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == c).map(|(_, v)| *v)
}

fn undecomposable(c: char) -> Option<&'static str> {
    lookup(UNDECOMPOSABLE, c)
}

fn nordic(c: char) -> Option<&'static str> {
    lookup(NORDIC, c).or_else(|| undecomposable(c))
}

fn strip_marks(s: &str, table: fn(char) -> Option<&'static str>) -> String {
    if s.is_ascii() {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.nfc() {
        match table(c) {
            Some(t) => out.push_str(t),
            None if c.is_ascii() => out.push(c),
            None => out.extend(std::iter::once(c).nfd().filter(|m| !is_combining_mark(*m))),
        }
    }
    out
}

impl Normaliser {
    /// Applies the step.
    pub fn apply(self, s: &str) -> String {
        match self {
            Self::Trim => s.trim().to_owned(),
            // The quick check answers most names without composing anything; `Yes` is
            // definite (`Maybe` and `No` take the full path).
            Self::Nfkc if is_nfkc_quick(s.chars()) == IsNormalized::Yes => s.to_owned(),
            Self::Nfkc => s.nfkc().collect(),
            Self::Casefold if s.is_ascii() => s.to_ascii_lowercase(),
            Self::Casefold => s.to_lowercase(),
            Self::NordicFold => strip_marks(s, nordic),
            Self::StripDiacritics => strip_marks(s, undecomposable),
            Self::StripPunctuation => {
                s.chars().filter(|c| !(c.is_ascii_punctuation() || is_unicode_punct(*c))).collect()
            }
            Self::StripWhitespace => s.chars().filter(|c| !c.is_whitespace()).collect(),
            Self::CollapseWhitespace => s.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }
}

/// Non-ASCII punctuation and symbols common in names (dashes, quotes, middle dots).
fn is_unicode_punct(c: char) -> bool {
    UNICODE_PUNCTUATION.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Applies `steps` in order.
pub fn normalise(steps: &[Normaliser], s: &str) -> String {
    let mut v = s.to_owned();
    for step in steps {
        v = step.apply(&v);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use Normaliser::*;

    proptest::proptest! {
        /// The fast paths (quick check, ASCII) give what the full mappings give.
        #[test]
        fn fast_paths_change_nothing(s in "\\PC{0,12}|[a-zA-Z \u{e5}\u{c5}\u{fb01}\u{ff21}\u{301}]{0,12}") {
            proptest::prop_assert_eq!(Nfkc.apply(&s), s.nfkc().collect::<String>());
            proptest::prop_assert_eq!(Casefold.apply(&s), s.to_lowercase());
        }
    }

    #[test]
    fn nordic_names_fold_consistently() {
        let steps = [Trim, Nfkc, Casefold, NordicFold, StripPunctuation, StripWhitespace];
        assert_eq!(normalise(&steps, "  Søren Ærø-Hansen "), "soerenaeroehansen");
        assert_eq!(normalise(&steps, "Þórður"), "thordur");
        assert_eq!(normalise(&steps, "Jürgen Müller"), "juergenmueller");
        assert_eq!(normalise(&steps, "Åsa Öberg"), "aasaoeberg");
        assert_eq!(normalise(&steps, "Petrauskienė"), "petrauskiene");
        assert_eq!(normalise(&steps, "O\u{2019}Neil"), "oneil");
        // Decomposed input (NFD) folds like precomposed input.
        assert_eq!(normalise(&steps, "A\u{030a}sa"), normalise(&steps, "Åsa"));
        // Fullwidth letters are compatibility forms.
        assert_eq!(normalise(&steps, "ＪＯＮ"), "jon");
    }

    /// Ranges of consecutive characters, for the docs.
    fn ranges(chars: impl IntoIterator<Item = char>) -> Vec<(char, char)> {
        let mut out: Vec<(char, char)> = Vec::new();
        for c in chars {
            match out.last_mut() {
                Some((_, hi)) if u32::from(*hi) + 1 == u32::from(c) => *hi = c,
                _ => out.push((c, c)),
            }
        }
        out
    }

    fn cell(c: char) -> String {
        match c {
            '|' => "\\|".into(),
            '`' => "`` ` ``".into(),
            c if c.is_whitespace() || c.is_control() => format!("U+{:04X}", u32::from(c)),
            c => c.to_string(),
        }
    }

    /// The two tables docs/schema.md prints, rendered from the code.
    fn generated_tables() -> [(&'static str, String); 2] {
        let mut letters: Vec<char> = UNDECOMPOSABLE.iter().chain(NORDIC).map(|(c, _)| *c).collect();
        letters.sort_unstable();
        letters.dedup();
        let mut fold = String::from(
            "| character | code point | `nordic_fold` | `strip_diacritics` |\n|---|---|---|---|\n",
        );
        for c in letters {
            let one = c.to_string();
            fold.push_str(&format!(
                "| {c} | U+{:04X} | {} | {} |\n",
                u32::from(c),
                NordicFold.apply(&one),
                StripDiacritics.apply(&one)
            ));
        }
        let mut punct = String::from("| code points | characters removed |\n|---|---|\n");
        let ascii = ranges((0u8..128).map(char::from).filter(char::is_ascii_punctuation));
        let all = ascii.iter().chain(UNICODE_PUNCTUATION);
        for &(lo, hi) in all {
            let points = if lo == hi {
                format!("U+{:04X}", u32::from(lo))
            } else {
                format!("U+{:04X}–U+{:04X}", u32::from(lo), u32::from(hi))
            };
            let chars: Vec<String> = (lo..=hi).map(cell).collect();
            punct.push_str(&format!("| {points} | {} |\n", chars.join(" ")));
        }
        [("fold table", fold), ("punctuation table", punct)]
    }

    /// docs/schema.md prints the tables of this file; they must not drift apart. Run with
    /// NORDLINK_WRITE_DOCS=1 to rewrite the generated blocks after a deliberate change
    /// (which is a change of nordlink-clk/1, so a new construction version).
    #[test]
    fn docs_print_exactly_these_tables() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema.md");
        let mut doc = std::fs::read_to_string(path).unwrap();
        for (name, table) in generated_tables() {
            let begin = format!("<!-- BEGIN GENERATED: {name} ");
            let end = format!("<!-- END GENERATED: {name} -->");
            let start = doc.find(&begin).unwrap();
            let start = start + doc[start..].find("-->\n").unwrap() + 4;
            let stop = doc.find(&end).unwrap();
            if std::env::var_os("NORDLINK_WRITE_DOCS").is_some() {
                doc.replace_range(start..stop, &table);
                std::fs::write(path, &doc).unwrap();
                continue;
            }
            assert_eq!(doc[start..stop], table, "docs/schema.md {name} differs from the code");
        }
    }

    #[test]
    fn strip_diacritics_is_the_lossy_alternative() {
        assert_eq!(normalise(&[Casefold, StripDiacritics], "Søren Åberg"), "soren aberg");
    }
}
