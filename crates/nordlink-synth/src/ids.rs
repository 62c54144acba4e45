//! Valid national identifiers for synthetic people.
//!
//! Each country's number is built as a prefix that carries the birth date, the century
//! marker and the sex digit, followed by the check characters; the check characters are
//! found by trying each in turn against nordlink's own parser (`nordlink::id`), which is
//! tested against the national rules and independent implementations. So no check-digit
//! rule is written twice, and every identifier generated is valid by construction: the
//! parser accepted it with the intended birth date and sex.

use nordlink::Date;
use nordlink::id::{Kind, ParseOptions, Scheme, Sex, parse_with};

use crate::random::Random;

/// Prefixes tried before giving up: a prefix fails only when no check character fits it
/// (Danish modulus-11 numbers, Norwegian control digits), which happens for a minority.
const ATTEMPTS: usize = 200;

/// A valid personal identifier of `country` for someone born on `born` with `sex`, with
/// random serial digits; `None` when the country's scheme cannot express the date (for
/// example a Danish birth year outside 1858–2057).
pub fn person_id(country: Scheme, born: Date, sex: Sex, rng: &mut impl Random) -> Option<String> {
    make(country, born, sex, Issue::Resident, rng)
}

/// The identifier a newcomer to `country` is given: a Swedish samordningsnummer (day +
/// 60) or a Norwegian D-number (day + 40), the numbers of people not (yet) registered as
/// residents; in Finland a number issued since 2023, with the new century signs (`B`–`F`
/// for the 2000s, `U`–`Y` for the 1900s); elsewhere an ordinary number.
pub fn newcomer_id(country: Scheme, born: Date, sex: Sex, rng: &mut impl Random) -> Option<String> {
    make(country, born, sex, Issue::Newcomer, rng)
}

/// Which kind of number is issued.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Issue {
    Resident,
    Newcomer,
}

fn make(
    country: Scheme,
    born: Date,
    sex: Sex,
    issue: Issue,
    rng: &mut impl Random,
) -> Option<String> {
    // The Swedish parser reads the century from the 12-digit form; the reference date only
    // matters for 10-digit numbers, which are not generated.
    let options = ParseOptions::with_reference_date(born);
    let checks = checks(country);
    // One buffer for every candidate: Norway tries up to 100 per prefix.
    let mut candidate = String::with_capacity(16);
    for _ in 0..ATTEMPTS {
        let (head, tail) = prefix(country, born, sex, issue, rng)?;
        for check in checks {
            candidate.clear();
            candidate.push_str(&head);
            candidate.push_str(check);
            candidate.push_str(&tail);
            let Ok(id) = parse_with(country, &candidate, &options) else { continue };
            // Icelandic numbers carry no sex.
            let sex_ok = id.sex().is_none_or(|s| s == sex);
            if id.birth_date() == Some(born) && sex_ok && is_kind(id.kind(), issue) {
                return Some(candidate);
            }
        }
    }
    None
}

/// Whether a parsed number is of the kind `issue` asks for.
const fn is_kind(kind: Kind, issue: Issue) -> bool {
    match issue {
        Issue::Resident => is_person(kind),
        Issue::Newcomer => {
            is_person(kind) || matches!(kind, Kind::SeSamordningsnummer | Kind::NoDnr)
        }
    }
}

/// Kinds that name an ordinary resident person (not coordination, help or synthetic
/// numbers).
const fn is_person(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::DkCpr
            | Kind::DkCprNoMod11
            | Kind::SePersonnummer
            | Kind::NoFnr
            | Kind::FiHetu
            | Kind::IsPerson
            | Kind::EeIsikukood
            | Kind::LtAsmensKodas
    )
}

/// Two-digit numbers 00 to 99, for the Norwegian control digits.
const PAIRS: [&str; 100] = {
    const DIGITS: &str = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    let mut out = [""; 100];
    let mut i = 0;
    while i < 100 {
        out[i] = DIGITS.split_at(2 * i).1.split_at(2).0;
        i += 1;
    }
    out
};

/// The check characters to try, in order.
fn checks(country: Scheme) -> &'static [&'static str] {
    const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    const FINNISH: [&str; 31] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F", "H", "J",
        "K", "L", "M", "N", "P", "R", "S", "T", "U", "V", "W", "X", "Y",
    ];
    match country {
        // Two Norwegian control digits.
        Scheme::No => &PAIRS,
        // The Finnish control character.
        Scheme::Fi => &FINNISH,
        _ => &DIGITS,
    }
}

fn digit(rng: &mut impl Random, n: u64) -> u64 {
    rng.below(n)
}

/// One of `choices`, uniformly.
fn one_of(rng: &mut impl Random, choices: &[u64]) -> u64 {
    let at = rng.index(choices.len());
    choices.get(at).copied().unwrap_or(0)
}

/// An odd or even digit for the sex (odd male, even female, in every scheme here).
fn sex_digit(rng: &mut impl Random, sex: Sex) -> u64 {
    2 * rng.below(5) + u64::from(sex == Sex::Male)
}

/// Everything but the check characters: what comes before them and (in Iceland, where
/// the century digit follows the check digit) after them.
fn prefix(
    country: Scheme,
    born: Date,
    sex: Sex,
    issue: Issue,
    rng: &mut impl Random,
) -> Option<(String, String)> {
    let (y, m, d) = (u64::from(born.year()), born.month(), born.day());
    let yy = y % 100;
    let newcomer = issue == Issue::Newcomer;
    // Coordination numbers add to the day: 60 in Sweden, 40 in Norway.
    let day = match country {
        Scheme::Se if newcomer => u64::from(d) + 60,
        Scheme::No if newcomer => u64::from(d) + 40,
        _ => u64::from(d),
    };
    let date6 = format!("{day:02}{m:02}{yy:02}");
    let head = match country {
        Scheme::Dk => {
            // The 7th digit with YY gives the century (cpr.dk; see docs/identifiers.md).
            let seventh = match y {
                1858..=1899 => 5 + digit(rng, 4),
                1900..=1936 => digit(rng, 4),
                1937..=1999 => one_of(rng, &[0, 1, 2, 3, 4, 9]),
                2000..=2036 => one_of(rng, &[4, 5, 6, 7, 8, 9]),
                2037..=2057 => 5 + digit(rng, 4),
                _ => return None,
            };
            // The last digit is the check and carries the sex: tried by `checks`, so the
            // serial's own digits are free.
            format!("{date6}-{seventh}{:02}", digit(rng, 100))
        }
        Scheme::Se => {
            if !(1800..=2099).contains(&y) {
                return None;
            }
            format!("{y:04}{m:02}{day:02}-{:02}{}", digit(rng, 100), sex_digit(rng, sex))
        }
        Scheme::No => {
            // Individual numbers by birth year (Skatteetaten).
            let individual = match y {
                1854..=1899 => 500 + digit(rng, 250),
                1900..=1939 => digit(rng, 500),
                1940..=1999 => {
                    if rng.below(10) == 0 {
                        900 + digit(rng, 100)
                    } else {
                        digit(rng, 500)
                    }
                }
                2000..=2039 => 500 + digit(rng, 500),
                _ => return None,
            };
            // The third individual digit carries the sex.
            let individual = individual / 10 * 10 + sex_digit(rng, sex);
            format!("{date6}{individual:03}")
        }
        Scheme::Fi => {
            // Numbers issued since 2023 may use the new signs; the old ones stay valid.
            let signs: &[u8] = match (y, newcomer) {
                (1800..=1899, _) => b"+",
                (1900..=1999, false) => b"-",
                (1900..=1999, true) => b"YXWVU",
                (2000..=2099, false) => b"A",
                (2000..=2099, true) => b"BCDEF",
                _ => return None,
            };
            let sign = char::from(signs[rng.index(signs.len())]);
            // Permanent individual numbers (002-899); the last digit carries the sex.
            let n = (2 + digit(rng, 88)) * 10 + sex_digit(rng, sex);
            format!("{date6}{sign}{n:03}")
        }
        Scheme::Is => {
            // Kennitala: DDMMYY-RR then the check digit, then the century digit; no sex.
            let century = match y {
                1800..=1899 => 8,
                1900..=1999 => 9,
                2000..=2099 => 0,
                _ => return None,
            };
            let head = format!("{date6}-{:02}", 20 + digit(rng, 80));
            return Some((head, century.to_string()));
        }
        Scheme::Ee | Scheme::Lt => {
            // The first digit gives century and sex: 1/2 1800s, 3/4 1900s, 5/6 2000s.
            let base = match y {
                1800..=1899 => 1,
                1900..=1999 => 3,
                2000..=2099 => 5,
                _ => return None,
            };
            let first = base + u64::from(sex == Sex::Female);
            format!("{first}{yy:02}{m:02}{d:02}{:03}", digit(rng, 1000))
        }
        // A scheme added to the core later: no generator for it yet.
        _ => return None,
    };
    Some((head, String::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRng;
    use nordlink::id::parse;

    #[test]
    fn every_country_gives_valid_numbers_with_the_intended_date_and_sex() {
        let mut rng = SeededRng::new(0x1234_5678_9ABC_DEF1);
        for country in Scheme::ALL {
            let mut kinds = std::collections::HashSet::new();
            for i in 0..2_000u32 {
                let year = 1900 + u16::try_from(i % 120).unwrap();
                let born = Date::new(
                    year,
                    1 + u8::try_from(i % 12).unwrap(),
                    1 + u8::try_from(i % 28).unwrap(),
                )
                .unwrap();
                let sex = if i % 2 == 0 { Sex::Female } else { Sex::Male };
                let id = person_id(country, born, sex, &mut rng)
                    .unwrap_or_else(|| panic!("{country:?} {year}"));
                // Parsed on its own, with today's options: the 12-digit Swedish form and
                // every other scheme name their century.
                let parsed = parse(country, &id).unwrap();
                assert_eq!(parsed.birth_date(), Some(born), "{country:?}");
                if country != Scheme::Is {
                    assert_eq!(parsed.sex(), Some(sex), "{country:?}");
                }
                kinds.insert(parsed.kind());
            }
            // Denmark issues numbers with and without the modulus-11 check; both appear.
            if country == Scheme::Dk {
                assert!(kinds.contains(&Kind::DkCpr) && kinds.contains(&Kind::DkCprNoMod11));
            } else {
                assert_eq!(kinds.len(), 1, "{country:?}: {kinds:?}");
            }
        }
    }

    #[test]
    fn newcomers_get_coordination_numbers_and_new_finnish_signs() {
        let mut rng = SeededRng::new(99);
        let born = Date::new(2003, 2, 28).unwrap();
        let cases = [
            (Scheme::Se, Kind::SeSamordningsnummer),
            (Scheme::No, Kind::NoDnr),
            (Scheme::Fi, Kind::FiHetu),
            (Scheme::Dk, Kind::DkCpr),
        ];
        for (country, kind) in cases {
            for sex in [Sex::Female, Sex::Male] {
                let id = newcomer_id(country, born, sex, &mut rng).unwrap();
                let parsed = parse(country, &id).unwrap();
                assert_eq!(parsed.birth_date(), Some(born), "{id}");
                assert_eq!(parsed.sex(), Some(sex), "{id}");
                // Denmark: with or without modulus 11.
                assert!(
                    parsed.kind() == kind || country == Scheme::Dk,
                    "{id}: {:?}",
                    parsed.kind()
                );
                if country == Scheme::Fi {
                    assert!("BCDEF".contains(&id[6..7]), "{id}");
                }
            }
        }
        let old = Date::new(1950, 7, 1).unwrap();
        let fi = newcomer_id(Scheme::Fi, old, Sex::Male, &mut rng).unwrap();
        assert!("YXWVU".contains(&fi[6..7]), "{fi}");
    }

    #[test]
    fn norwegian_control_digit_pairs_are_00_to_99_in_order() {
        for (i, pair) in PAIRS.iter().enumerate() {
            assert_eq!(*pair, format!("{i:02}"));
        }
    }

    #[test]
    fn dates_a_scheme_cannot_express_give_none() {
        let mut rng = SeededRng::new(7);
        let old = Date::new(1850, 1, 1).unwrap();
        assert_eq!(person_id(Scheme::Dk, old, Sex::Male, &mut rng), None);
        assert_eq!(person_id(Scheme::No, old, Sex::Male, &mut rng), None);
    }
}
