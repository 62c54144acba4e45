//! Property tests for identifier parsing.
//!
//! Valid identifiers are generated here from their parts with check digits computed by
//! small independent implementations (not the library's), then written in every accepted
//! spelling.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use nordlink::Date;
use nordlink::id::{Kind, ParseError, ParseOptions, Scheme, parse_with};
use proptest::prelude::*;

const REF_YEAR: u16 = 2026;

fn opts() -> ParseOptions {
    ParseOptions::with_reference_date(Date::new(REF_YEAR, 6, 1).unwrap())
}

fn days_in(year: u16, month: u8) -> u8 {
    Date::new(year, month, 31)
        .or(Date::new(year, month, 30))
        .or(Date::new(year, month, 29))
        .map_or(28, |d| d.day())
}

/// A real date in `years`.
fn date_in(years: std::ops::RangeInclusive<u16>) -> impl Strategy<Value = (u16, u8, u8)> {
    (years, 1u8..=12).prop_flat_map(|(y, m)| (Just(y), Just(m), 1..=days_in(y, m)))
}

fn digits(s: &str) -> Vec<u32> {
    s.bytes().map(|b| u32::from(b - b'0')).collect()
}

fn wsum(s: &str, w: &[u32]) -> u32 {
    digits(s).iter().zip(w).map(|(a, b)| a * b).sum()
}

/// Every accepted spelling of an identifier, for the scheme's separator rules.
fn spellings(compact: &str, sep_at: usize, seps: &[&str]) -> Vec<String> {
    let mut out = vec![compact.to_owned(), format!("  {compact}\t"), format!("\n{compact}\r\n")];
    for sep in seps {
        out.push(format!("{}{sep}{}", &compact[..sep_at], &compact[sep_at..]));
    }
    out
}

// --- generators: (compact form, expected normalised form, extra spellings) -------------

fn dk() -> impl Strategy<Value = String> {
    (date_in(1858..=2057), 0u32..1000).prop_map(|((y, m, d), serial)| {
        let yy = y % 100;
        let d7 = match y {
            1858..=1899 => 5,
            1900..=1936 => 0,
            1937..=1999 => 4,
            2000..=2036 => 4,
            _ => 5,
        };
        format!("{d:02}{m:02}{yy:02}{d7}{serial:03}")
    })
}

fn se_luhn(nine: &str) -> u32 {
    let s: u32 = digits(nine)
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let p = if i % 2 == 0 { v * 2 } else { v };
            p / 10 + p % 10
        })
        .sum();
    (10 - s % 10) % 10
}

/// (12-digit normalised form, 10-digit spellings).
fn se() -> impl Strategy<Value = (String, Vec<String>)> {
    (date_in(1827..=REF_YEAR), 1u32..=999, any::<bool>()).prop_map(|((y, m, d), nnn, samord)| {
        let day = if samord { d + 60 } else { d };
        let nine = format!("{:02}{m:02}{day:02}{nnn:03}", y % 100);
        let ten = format!("{nine}{}", se_luhn(&nine));
        let twelve = format!("{}{ten}", y / 100);
        let mut all = spellings(&twelve, 8, &["-", " "]);
        // Ten digits name the latest such date on or before the reference date (1 June),
        // a century earlier with `+`; a later date has no ten-digit spelling.
        let reference = (REF_YEAR, 6, 1);
        if (y, m, d) > (REF_YEAR - 100, 6, 1) && (y, m, d) <= reference {
            all.extend(spellings(&ten, 6, &["-", " "]));
        } else if (y, m, d) > (REF_YEAR - 200, 6, 1) && (y, m, d) <= (REF_YEAR - 100, 6, 1) {
            all.push(format!("{}+{}", &ten[..6], &ten[6..]));
        }
        (twelve, all)
    })
}

fn no_controls(nine: &str) -> Option<String> {
    let k1 = (11 - wsum(nine, &[3, 7, 6, 1, 8, 9, 4, 5, 2]) % 11) % 11;
    if k1 == 10 {
        return None;
    }
    let ten = format!("{nine}{k1}");
    let k2 = (11 - wsum(&ten, &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) % 11) % 11;
    (k2 != 10).then(|| format!("{ten}{k2}"))
}

/// A classic fødselsnummer or D-number with an individual number fitting its century.
fn no() -> impl Strategy<Value = String> {
    (date_in(1900..=2039), 0u32..500, any::<bool>()).prop_filter_map(
        "control digit 10",
        |((y, m, d), ind, dnr)| {
            let ind = if y >= 2000 { 500 + ind } else { ind };
            let day = if dnr { d + 40 } else { d };
            no_controls(&format!("{day:02}{m:02}{:02}{ind:03}", y % 100))
        },
    )
}

fn fi() -> impl Strategy<Value = String> {
    (date_in(1800..=2099), 2u32..=999, 0usize..6).prop_map(|((y, m, d), ind, sign_ix)| {
        let sign = match y / 100 {
            18 => '+',
            19 => ['-', 'Y', 'X', 'W', 'V', 'U'][sign_ix],
            _ => ['A', 'B', 'C', 'D', 'E', 'F'][sign_ix],
        };
        let n: u32 = format!("{d:02}{m:02}{:02}{ind:03}", y % 100).parse().unwrap();
        let check = b"0123456789ABCDEFHJKLMNPRSTUVWXY"[(n % 31) as usize] as char;
        format!("{d:02}{m:02}{:02}{sign}{ind:03}{check}", y % 100)
    })
}

fn is_person() -> impl Strategy<Value = String> {
    (date_in(1800..=2099), 20u32..100).prop_filter_map("check digit 10", |((y, m, d), rr)| {
        let eight = format!("{d:02}{m:02}{:02}{rr:02}", y % 100);
        let p = (11 - wsum(&eight, &[3, 2, 7, 6, 5, 4, 3, 2]) % 11) % 11;
        let c = match y / 100 {
            18 => 8,
            19 => 9,
            _ => 0,
        };
        (p != 10).then(|| format!("{eight}{p}{c}"))
    })
}

fn ee_lt_check(ten: &str) -> u32 {
    let r = wsum(ten, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 1]) % 11;
    let r = if r == 10 { wsum(ten, &[3, 4, 5, 6, 7, 8, 9, 1, 2, 3]) % 11 } else { r };
    if r == 10 { 0 } else { r }
}

fn ee_lt(max_century_digit: u16) -> impl Strategy<Value = String> {
    (date_in(1800..=(1799 + 100 * max_century_digit / 2)), any::<bool>(), 0u32..1000).prop_map(
        |((y, m, d), female, serial)| {
            let g = (y / 100 - 18) * 2 + 1 + u16::from(female);
            let ten = format!("{g}{:02}{m:02}{d:02}{serial:03}", y % 100);
            format!("{ten}{}", ee_lt_check(&ten))
        },
    )
}

/// Replaces the digit at `pos` by a different one.
fn bump(s: &str, pos: usize, by: u8) -> String {
    let mut b = s.as_bytes().to_vec();
    b[pos] = b'0' + (b[pos] - b'0' + by) % 10;
    String::from_utf8(b).unwrap()
}

fn norm(scheme: Scheme, s: &str) -> Result<String, ParseError> {
    parse_with(scheme, s, &opts()).map(|id| id.as_str().to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn dk_every_spelling_normalises_alike(id in dk()) {
        for s in spellings(&id, 6, &["-", " "]) {
            prop_assert_eq!(norm(Scheme::Dk, &s)?, id.clone());
        }
    }

    #[test]
    fn dk_changed_check_digit_is_only_flagged(id in dk(), by in 1u8..10) {
        let a = parse_with(Scheme::Dk, &id, &opts()).unwrap();
        let b = parse_with(Scheme::Dk, &bump(&id, 9, by), &opts()).unwrap();
        // At most one of ten final digits satisfies mod 11.
        prop_assert!(a.kind() == Kind::DkCprNoMod11 || b.kind() == Kind::DkCprNoMod11);
    }

    #[test]
    fn se_every_spelling_normalises_alike((twelve, all) in se()) {
        for s in all {
            prop_assert_eq!(norm(Scheme::Se, &s)?, twelve.clone(), "{}", s);
        }
    }

    #[test]
    fn se_changed_check_digit_is_rejected((twelve, _) in se(), by in 1u8..10) {
        prop_assert_eq!(norm(Scheme::Se, &bump(&twelve, 11, by)), Err(ParseError::BadChecksum));
    }

    #[test]
    fn no_every_spelling_normalises_alike(id in no()) {
        for s in spellings(&id, 6, &["-", " "]) {
            prop_assert_eq!(norm(Scheme::No, &s)?, id.clone());
        }
    }

    #[test]
    fn no_changed_second_control_digit_is_rejected(id in no(), by in 1u8..10) {
        prop_assert_eq!(norm(Scheme::No, &bump(&id, 10, by)), Err(ParseError::BadChecksum));
    }

    #[test]
    fn fi_every_spelling_normalises_alike(id in fi()) {
        for s in [id.clone(), id.to_lowercase(), format!(" {id} ")] {
            prop_assert_eq!(norm(Scheme::Fi, &s)?, id.clone());
        }
    }

    #[test]
    fn fi_changed_check_character_is_rejected(id in fi(), by in 1usize..31) {
        let alphabet = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
        let i = alphabet.iter().position(|&c| c == id.as_bytes()[10]).unwrap();
        let mut b = id.into_bytes();
        b[10] = alphabet[(i + by) % 31];
        let changed = String::from_utf8(b).unwrap();
        prop_assert_eq!(norm(Scheme::Fi, &changed), Err(ParseError::BadChecksum));
    }

    #[test]
    fn is_every_spelling_normalises_alike(id in is_person()) {
        for s in spellings(&id, 6, &["-", " "]) {
            prop_assert_eq!(norm(Scheme::Is, &s)?, id.clone());
        }
        prop_assert_eq!(parse_with(Scheme::Is, &id, &opts()).unwrap().kind(), Kind::IsPerson);
    }

    #[test]
    fn is_changed_check_digit_marks_a_person_unchecked(id in is_person(), by in 1u8..10) {
        let changed = parse_with(Scheme::Is, &bump(&id, 8, by), &opts()).unwrap();
        prop_assert_eq!(changed.kind(), Kind::IsPersonNoCheckdigit);
    }

    #[test]
    fn ee_lt_normalise_and_check(ee in ee_lt(8), lt in ee_lt(6), by in 1u8..10) {
        prop_assert_eq!(norm(Scheme::Ee, &format!(" {ee}\n"))?, ee.clone());
        prop_assert_eq!(norm(Scheme::Lt, &format!(" {lt}\n"))?, lt.clone());
        prop_assert_eq!(norm(Scheme::Ee, &bump(&ee, 10, by)), Err(ParseError::BadChecksum));
        prop_assert_eq!(norm(Scheme::Lt, &bump(&lt, 10, by)), Err(ParseError::BadChecksum));
    }

    #[test]
    fn arbitrary_strings_never_panic_and_valid_ones_are_fixed_points(
        s in "\\PC{0,48}",
        t in "[0-9+\\- A-Fa-fUVWXYa-z]{8,14}",
    ) {
        for scheme in Scheme::ALL {
            for input in [&s, &t] {
                if let Ok(id) = parse_with(scheme, input, &opts()) {
                    // A normalised form parses to itself, with the same kind.
                    let again = parse_with(scheme, id.as_str(), &opts()).unwrap();
                    prop_assert_eq!(again.as_str(), id.as_str());
                    prop_assert_eq!(again.kind(), id.kind());
                    prop_assert_eq!(id.kind().scheme(), scheme);
                }
            }
        }
    }
}
