//! The corruption model: how a clerk, a scanner or another country's register writes a
//! person's details differently.
//!
//! Each operation applies to a record's text independently with the rate of its level
//! ([`Level::rates`]); the default level is meant to look like the same person registered
//! in another country, `high` like a poorly kept register.

use crate::random::Random;

/// A record's fields as text, as a register writes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Given names, space-separated.
    pub given: String,
    /// Surname.
    pub surname: String,
    /// Birth date, `YYYY-MM-DD` (a corrupted one may be impossible, like `1980-02-31`).
    pub born: String,
    /// Sex, `F` or `M`.
    pub sex: String,
    /// Town or municipality (empty when unknown).
    pub place: String,
}

/// How much corruption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// None: an exact copy.
    None,
    /// Light: a careful register.
    Low,
    /// A person registered again in another country (the default).
    Default,
    /// A poorly kept register.
    High,
}

/// Probabilities (per record) of each operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
    /// A typo in the given names (keyboard neighbour, OCR confusion or a phonetic
    /// spelling).
    pub given_typo: f64,
    /// A typo in the surname.
    pub surname_typo: f64,
    /// Letters written without their diacritics or transliterated (ø → o or oe).
    pub transliterate: f64,
    /// Given name and surname swapped.
    pub swap_names: f64,
    /// A second given name dropped (when there is one).
    pub drop_middle: f64,
    /// Day and month transposed (when the result is still a date).
    pub swap_day_month: f64,
    /// An impossible date: the day set to 31 in a shorter month.
    pub impossible_date: f64,
    /// A wrong birth year: one year off, or its last two digits transposed.
    pub year_typo: f64,
    /// The place replaced (a move), given a replacement.
    pub moved: f64,
    /// The given names missing.
    pub missing_given: f64,
    /// The place missing.
    pub missing_place: f64,
    /// A surname changed by marriage: replaced by the spouse's, or joined to it with a
    /// hyphen (2 in 5).
    pub married: f64,
}

/// What the register elsewhere holds that a record may take on: the place a person moved
/// to and a spouse's surname.
#[derive(Clone, Copy, Debug, Default)]
pub struct Elsewhere<'a> {
    /// A place in the register's country.
    pub place: &'a str,
    /// A surname from the register's country.
    pub surname: &'a str,
}

impl Level {
    /// The rates of this level (the table in docs/synth.md).
    pub const fn rates(self) -> Rates {
        let (typo, translit, swap, drop, dm, bad, moved, miss, married) = match self {
            Self::None => (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
            Self::Low => (0.05, 0.10, 0.005, 0.05, 0.01, 0.002, 0.05, 0.01, 0.02),
            Self::Default => (0.15, 0.50, 0.02, 0.20, 0.03, 0.005, 0.30, 0.02, 0.05),
            Self::High => (0.35, 0.80, 0.05, 0.40, 0.08, 0.02, 0.60, 0.06, 0.10),
        };
        // Year errors are rarer than day or month errors: a third of the swap rate.
        let year_typo = dm / 3.0;
        Rates {
            given_typo: typo,
            surname_typo: typo * 1.5,
            transliterate: translit,
            swap_names: swap,
            drop_middle: drop,
            swap_day_month: dm,
            impossible_date: bad,
            year_typo,
            moved,
            missing_given: miss,
            missing_place: miss,
            married,
        }
    }
}

/// Corrupts `record` in place by `level`, taking a new place or a spouse's surname from
/// `elsewhere`. Returns how many operations applied.
pub fn corrupt(
    record: &mut Record,
    level: Level,
    elsewhere: Elsewhere<'_>,
    rng: &mut impl Random,
) -> u32 {
    let r = level.rates();
    let other_place = elsewhere.place;
    let mut applied = 0;
    let mut apply = |done: bool| applied += u32::from(done);
    if rng.chance(r.drop_middle)
        && let Some((first, _)) = record.given.split_once(' ')
    {
        record.given = first.to_owned();
        apply(true);
    }
    if rng.chance(r.married)
        && !elsewhere.surname.is_empty()
        && !record.surname.is_empty()
        && elsewhere.surname != record.surname
    {
        record.surname = if rng.below(5) < 2 {
            format!("{}-{}", record.surname, elsewhere.surname)
        } else {
            elsewhere.surname.to_owned()
        };
        apply(true);
    }
    if rng.chance(r.given_typo) {
        let t = typo(&record.given, rng);
        apply(t != record.given);
        record.given = t;
    }
    if rng.chance(r.surname_typo) {
        let t = typo(&record.surname, rng);
        apply(t != record.surname);
        record.surname = t;
    }
    if rng.chance(r.transliterate) {
        let (g, s, p) = (
            transliterate(&record.given),
            transliterate(&record.surname),
            transliterate(&record.place),
        );
        apply(g != record.given || s != record.surname || p != record.place);
        (record.given, record.surname, record.place) = (g, s, p);
    }
    if rng.chance(r.swap_names) {
        std::mem::swap(&mut record.given, &mut record.surname);
        apply(record.given != record.surname);
    }
    if rng.chance(r.swap_day_month)
        && let Some(swapped) = swap_day_month(&record.born)
    {
        record.born = swapped;
        apply(true);
    }
    if rng.chance(r.year_typo)
        && let Some(wrong) = wrong_year(&record.born, rng.below(2) == 0)
    {
        record.born = wrong;
        apply(true);
    }
    if rng.chance(r.impossible_date)
        && let Some(bad) = impossible(&record.born)
    {
        record.born = bad;
        apply(true);
    }
    if rng.chance(r.moved) && !other_place.is_empty() && other_place != record.place {
        record.place = other_place.to_owned();
        apply(true);
    }
    if rng.chance(r.missing_given) && !record.given.is_empty() {
        record.given.clear();
        apply(true);
    }
    if rng.chance(r.missing_place) && !record.place.is_empty() {
        record.place.clear();
        apply(true);
    }
    applied
}

/// Letters next to each other on a Nordic keyboard (lower case), for typing slips.
const KEYBOARD: [(char, &str); 26] = [
    ('a', "sqz"),
    ('b', "vn"),
    ('c', "xv"),
    ('d', "sf"),
    ('e', "wr"),
    ('f', "dg"),
    ('g', "fh"),
    ('h', "gj"),
    ('i', "uo"),
    ('j', "hk"),
    ('k', "jl"),
    ('l', "kø"),
    ('m', "n"),
    ('n', "bm"),
    ('o', "ip"),
    ('p', "oå"),
    ('q', "w"),
    ('r', "et"),
    ('s', "ad"),
    ('t', "ry"),
    ('u', "yi"),
    ('v', "cb"),
    ('w', "qe"),
    ('x', "zc"),
    ('y', "tu"),
    ('z', "xa"),
];

/// Pairs a scanner confuses.
const OCR: [(&str, &str); 6] =
    [("rn", "m"), ("m", "rn"), ("cl", "d"), ("l", "1"), ("O", "0"), ("e", "c")];

/// Spellings that sound alike in the Nordic languages.
const PHONETIC: [(&str, &str); 8] = [
    ("ph", "f"),
    ("th", "t"),
    ("ck", "k"),
    ("ks", "x"),
    ("ch", "k"),
    ("w", "v"),
    ("ie", "i"),
    ("sen", "son"),
];

/// One typo: a keyboard slip, a scanner confusion or a phonetic spelling.
pub fn typo(text: &str, rng: &mut impl Random) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 2 {
        return text.to_owned();
    }
    match rng.below(3) {
        0 => {
            // A slip to a neighbouring key, keeping the case.
            let at = rng.index(chars.len());
            let lower = chars[at].to_lowercase().next().unwrap_or(chars[at]);
            let Some((_, near)) = KEYBOARD.iter().find(|(c, _)| *c == lower) else {
                // A letter off the table (å, ð, ...): dropped instead.
                return chars
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != at)
                    .map(|(_, c)| c)
                    .collect();
            };
            let near: Vec<char> = near.chars().collect();
            let mut out = chars.clone();
            let pick = near[rng.index(near.len())];
            out[at] = if chars[at].is_uppercase() {
                pick.to_uppercase().next().unwrap_or(pick)
            } else {
                pick
            };
            out.into_iter().collect()
        }
        1 => replace_one(text, &OCR, rng).unwrap_or_else(|| transposed(&chars, rng)),
        _ => replace_one(text, &PHONETIC, rng).unwrap_or_else(|| transposed(&chars, rng)),
    }
}

/// Replaces one occurrence of one applicable pattern, if any applies.
fn replace_one(text: &str, table: &[(&str, &str)], rng: &mut impl Random) -> Option<String> {
    let applicable: Vec<&(&str, &str)> =
        table.iter().filter(|(from, _)| text.contains(from)).collect();
    let (from, to) = applicable.get(rng.index(applicable.len().max(1)))?;
    Some(text.replacen(from, to, 1))
}

/// Two neighbouring, different letters swapped (the last letter dropped when all are
/// alike), so the text always changes.
fn transposed(chars: &[char], rng: &mut impl Random) -> String {
    let spots: Vec<usize> = (0..chars.len() - 1).filter(|&i| chars[i] != chars[i + 1]).collect();
    let mut out = chars.to_vec();
    match spots.get(rng.index(spots.len())) {
        Some(&at) => out.swap(at, at + 1),
        None => {
            out.pop();
        }
    }
    out.into_iter().collect()
}

/// Letters as a register without them writes them (one common rendering each).
const TRANSLITERATION: [(char, &str); 22] = [
    ('ø', "oe"),
    ('Ø', "Oe"),
    ('å', "aa"),
    ('Å', "Aa"),
    ('æ', "ae"),
    ('Æ', "Ae"),
    ('ä', "a"),
    ('Ä', "A"),
    ('ö', "o"),
    ('Ö', "O"),
    ('þ', "th"),
    ('Þ', "Th"),
    ('ð', "d"),
    ('Ð', "D"),
    ('ü', "u"),
    ('õ', "o"),
    ('š', "s"),
    ('ž', "z"),
    ('č', "c"),
    ('ė', "e"),
    ('ū', "u"),
    ('á', "a"),
];

/// The text with Nordic and Baltic letters transliterated or stripped of diacritics.
pub fn transliterate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match TRANSLITERATION.iter().find(|(from, _)| *from == c) {
            Some((_, to)) => out.push_str(to),
            None => out.push(c),
        }
    }
    out
}

fn date_parts(date: &str) -> Option<(u16, u8, u8)> {
    let mut parts = date.splitn(3, '-');
    let y = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let d = parts.next()?.parse().ok()?;
    Some((y, m, d))
}

/// Day and month transposed, when that is another valid date.
pub fn swap_day_month(date: &str) -> Option<String> {
    let (y, m, d) = date_parts(date)?;
    if d == m || nordlink::Date::new(y, d, m).is_err() {
        return None;
    }
    Some(format!("{y:04}-{d:02}-{m:02}"))
}

/// The year one off (`off_by_one`) or with its last two digits transposed, when the
/// result is another valid date.
pub fn wrong_year(date: &str, off_by_one: bool) -> Option<String> {
    let (y, m, d) = date_parts(date)?;
    let y32 = u32::from(y);
    let wrong =
        if off_by_one { y32 + 1 } else { y32 - y32 % 100 + (y32 % 10) * 10 + (y32 / 10) % 10 };
    let wrong = u16::try_from(wrong).ok()?;
    (wrong != y && nordlink::Date::new(wrong, m, d).is_ok())
        .then(|| format!("{wrong:04}-{m:02}-{d:02}"))
}

/// The same month with day 31, when the month is shorter (an impossible date).
pub fn impossible(date: &str) -> Option<String> {
    let (y, m, _) = date_parts(date)?;
    nordlink::Date::new(y, m, 31).is_err().then(|| format!("{y:04}-{m:02}-31"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRng;

    fn record() -> Record {
        Record {
            given: "Søren Åge".into(),
            surname: "Ærø-Hansen".into(),
            born: "1961-07-04".into(),
            sex: "M".into(),
            place: "Købke".into(),
        }
    }

    #[test]
    fn single_operations() {
        assert_eq!(transliterate("Þórður Ærø Åsa Kazlauskaitė"), "Thórdur Aeroe Aasa Kazlauskaite");
        assert_eq!(swap_day_month("1961-07-04").as_deref(), Some("1961-04-07"));
        assert_eq!(swap_day_month("1961-07-13"), None);
        assert_eq!(wrong_year("1961-07-04", true).as_deref(), Some("1962-07-04"));
        assert_eq!(wrong_year("1961-07-04", false).as_deref(), Some("1916-07-04"));
        assert_eq!(wrong_year("1955-07-04", false), None);
        assert_eq!(wrong_year("1960-02-29", true), None);
        // No overflow at the top of the range.
        assert_eq!(wrong_year("65535-01-01", true), None);
        assert_eq!(wrong_year("65519-01-01", false), None);
        assert_eq!(impossible("1980-02-10").as_deref(), Some("1980-02-31"));
        assert_eq!(impossible("1980-01-10"), None);
        let mut rng = SeededRng::new(3);
        for _ in 0..200 {
            let t = typo("Nordmann", &mut rng);
            assert_ne!(t, "Nordmann");
            // One slip changes the length by at most one letter.
            assert!(t.chars().count().abs_diff(8) <= 1, "{t}");
        }
    }

    #[test]
    fn levels_apply_in_proportion_and_none_copies_exactly() {
        let mut rng = SeededRng::new(11);
        let mut r = record();
        let elsewhere = Elsewhere { place: "Aarhus", surname: "Holm" };
        assert_eq!(corrupt(&mut r, Level::None, elsewhere, &mut rng), 0);
        assert_eq!(r, record());
        let mut changed = [0usize; 4];
        for (k, level) in
            [Level::None, Level::Low, Level::Default, Level::High].into_iter().enumerate()
        {
            for _ in 0..5_000 {
                let mut r = record();
                if corrupt(&mut r, level, elsewhere, &mut rng) > 0 {
                    assert_ne!(r, record());
                    changed[k] += 1;
                }
            }
        }
        assert_eq!(changed[0], 0);
        assert!(changed[1] < changed[2] && changed[2] < changed[3], "{changed:?}");
        // The default level changes most records (a move or a transliteration at least).
        assert!(changed[2] > 2_500, "{changed:?}");
        // Married surnames at the default rate (5 %, 3 in 5 replaced, 2 in 5 hyphenated; a
        // later typo may hide the spouse's name, more often in a replaced short surname).
        let (mut replaced, mut joined) = (0, 0);
        for _ in 0..20_000 {
            let mut r = record();
            corrupt(&mut r, Level::Default, elsewhere, &mut rng);
            let s = transliterate(&r.surname);
            replaced += usize::from(s.contains("Holm") && !s.contains('-'));
            joined += usize::from(s.contains("Holm") && s.contains('-'));
        }
        assert!((700..=1100).contains(&(replaced + joined)), "{replaced} {joined}");
        assert!(replaced > 300 && joined > 300, "{replaced} {joined}");
    }
}
