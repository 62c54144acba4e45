//! Known-answer tests: every example verified in `shared/reference/identifiers.md`, with the
//! source it cites, plus the edge cases of the strict input policy.

use super::*;

fn opts(year: u16) -> ParseOptions {
    ParseOptions::with_reference_date(Date::new(year, 6, 1).unwrap())
}

/// Parses with a 2026 reference date and returns (normalised, kind, birth date, sex).
fn ok(scheme: Scheme, s: &str) -> (String, Kind, Option<String>, Option<Sex>) {
    let id = parse_with(scheme, s, &opts(2026))
        .unwrap_or_else(|e| panic!("{scheme} example at offset of a test table: {e}"));
    (id.as_str().to_owned(), id.kind(), id.birth_date().map(|d| d.to_string()), id.sex())
}

fn err(scheme: Scheme, s: &str) -> ParseError {
    parse_with(scheme, s, &opts(2026)).expect_err("expected rejection")
}

const M: Option<Sex> = Some(Sex::Male);
const F: Option<Sex> = Some(Sex::Female);

fn d(s: &str) -> Option<String> {
    Some(s.to_owned())
}

// --- Denmark -------------------------------------------------------------------------

#[test]
fn dk_stdnum_doctest_1862() {
    // python-stdnum stdnum/dk/cpr.py doctest; 7th digit 5 with YY 62 gives the 1800s.
    assert_eq!(
        ok(Scheme::Dk, "211062-5629"),
        ("2110625629".into(), Kind::DkCpr, d("1862-10-21"), M)
    );
}

#[test]
fn dk_tingeling_worked_example() {
    // kode.tingeling.dk/cpr_fix worked example.
    assert_eq!(
        ok(Scheme::Dk, "111111-1118"),
        ("1111111118".into(), Kind::DkCpr, d("1911-11-11"), F)
    );
}

#[test]
fn dk_without_mod11_is_valid_but_flagged() {
    // stdnum doctest value that fails mod 11; cpr.dk says such numbers are valid.
    assert_eq!(
        ok(Scheme::Dk, "2110620629"),
        ("2110620629".into(), Kind::DkCprNoMod11, d("1962-10-21"), M)
    );
}

#[test]
fn dk_century_table() {
    // cpr.dk / da.wikipedia century table: (7th digit, YY) -> century.
    let cases = [
        ("010136-4000", "2036"),
        ("010137-4000", "1937"),
        ("010158-4000", "1958"),
        ("010157-5000", "2057"),
        ("010158-5000", "1858"),
        ("010199-9000", "1999"),
        ("010100-9000", "2000"),
        ("010100-3000", "1900"),
    ];
    for (s, year) in cases {
        let (_, _, bd, _) = ok(Scheme::Dk, s);
        assert_eq!(&bd.unwrap()[..4], year, "{s}");
    }
}

#[test]
fn dk_rejects_impossible_dates_and_day_plus_60() {
    assert_eq!(err(Scheme::Dk, "310211-1111"), ParseError::BadDate);
    // Day 61 (a "fictitious" Unilogin-style number) is not a CPR date.
    assert_eq!(err(Scheme::Dk, "610190-1111"), ParseError::BadDate);
}

// --- Sweden --------------------------------------------------------------------------

#[test]
fn se_stdnum_doctests() {
    // python-stdnum stdnum/se/personnummer.py doctests.
    assert_eq!(
        ok(Scheme::Se, "880320-0016"),
        ("198803200016".into(), Kind::SePersonnummer, d("1988-03-20"), M)
    );
    assert_eq!(
        ok(Scheme::Se, "811228-9841"),
        ("198112289841".into(), Kind::SePersonnummer, d("1981-12-28"), F)
    );
}

#[test]
fn se_samordningsnummer_skatteverket_example() {
    // Skatteverket rättslig vägledning 2016.5: man born 1970-10-03, individual number 239.
    assert_eq!(
        ok(Scheme::Se, "701063-2391"),
        ("197010632391".into(), Kind::SeSamordningsnummer, d("1970-10-03"), M)
    );
}

#[test]
fn se_plus_means_a_century_earlier() {
    // identifiers.md section 2: 120512-8919 -> 2012, 120512+8919 -> 1912.
    assert_eq!(ok(Scheme::Se, "120512-8919").0, "201205128919");
    assert_eq!(ok(Scheme::Se, "120512+8919").0, "191205128919");
    assert_eq!(ok(Scheme::Se, "1205128919").0, "201205128919");
}

#[test]
fn se_century_depends_on_reference_year() {
    let at = |year, s| parse_with(Scheme::Se, s, &opts(year)).unwrap().as_str().to_owned();
    assert_eq!(at(2011, "120512-8919"), "191205128919");
    assert_eq!(at(2012, "120512-8919"), "201205128919");
}

#[test]
fn se_leap_day_2000_vs_1900() {
    // Luhn-valid number on 2000-02-29; with '+' it would be 1900-02-29, which does not exist.
    assert_eq!(ok(Scheme::Se, "000229-1235").2, d("2000-02-29"));
    assert_eq!(err(Scheme::Se, "000229+1235"), ParseError::BadDate);
}

#[test]
fn se_twelve_digit_spellings_and_century_bounds() {
    for s in ["198803200016", "19880320-0016", "19880320 0016", "880320 0016", "8803200016"] {
        assert_eq!(ok(Scheme::Se, s).0, "198803200016", "{s}");
    }
    assert_eq!(err(Scheme::Se, "178803200016"), ParseError::BadCentury);
    assert_eq!(err(Scheme::Se, "218803200016"), ParseError::BadCentury);
    // '+' is a 10-digit marker only.
    assert!(matches!(err(Scheme::Se, "19880320+0016"), ParseError::BadSeparator { .. }));
}

#[test]
fn se_birth_number_000_is_never_assigned() {
    // 880320-0008 passes Luhn but has birth number 000.
    assert_eq!(err(Scheme::Se, "880320-0008"), ParseError::BadSerial);
}

// --- Norway --------------------------------------------------------------------------

#[test]
fn no_verified_examples() {
    // stdnum doctest.
    assert_eq!(
        ok(Scheme::No, "15108695088"),
        ("15108695088".into(), Kind::NoFnr, d("1986-10-15"), F)
    );
    // Norsk helsenett test D-number.
    assert_eq!(
        ok(Scheme::No, "70019950032"),
        ("70019950032".into(), Kind::NoDnr, d("1899-01-30"), F)
    );
    // Skatteetaten Foedselsnummer2032.md, remainder 0: classic rule.
    assert_eq!(
        ok(Scheme::No, "30108299920"),
        ("30108299920".into(), Kind::NoFnr, d("1982-10-30"), M)
    );
    // Tenor synthetic (navikt/fnrvalidator #116, #469).
    assert_eq!(
        ok(Scheme::No, "17912099997"),
        ("17912099997".into(), Kind::NoSyntheticTenorFnr, d("2020-11-17"), M)
    );
    // Skatteetaten 2032 example born 2032-01-02: its K1 remainder is 0.
    assert_eq!(ok(Scheme::No, "02013299997").2, d("2032-01-02"));
}

#[test]
fn no_2032_rule_gives_no_century_and_no_sex() {
    // Skatteetaten Foedselsnummer2032.md, remainder 1 (stdnum rejects it).
    assert_eq!(ok(Scheme::No, "30108299939"), ("30108299939".into(), Kind::NoFnr2032, None, None));
}

#[test]
fn no_spellings() {
    for s in ["151086 95088", "151086-95088", " 15108695088\t"] {
        assert_eq!(ok(Scheme::No, s).0, "15108695088", "{s}");
    }
    assert_eq!(err(Scheme::No, "15108695089"), ParseError::BadChecksum);
}

// --- Finland -------------------------------------------------------------------------

#[test]
fn fi_dvv_examples() {
    // DVV "Mitä henkilötunnus kertoo?" example.
    assert_eq!(
        ok(Scheme::Fi, "131052-308T"),
        ("131052-308T".into(), Kind::FiHetu, d("1952-10-13"), F)
    );
    // DVV fictitious example with the new sign Y and temporary range 999.
    let (n, kind, bd, _) = ok(Scheme::Fi, "100190Y999P");
    assert_eq!((n.as_str(), kind, bd), ("100190Y999P", Kind::FiHetuTemporary, d("1990-01-10")));
}

#[test]
fn fi_new_century_signs_stay_distinct() {
    // DVV: 100190-999P and 100190Y999P are two different people.
    assert_ne!(ok(Scheme::Fi, "100190-999P").0, ok(Scheme::Fi, "100190Y999P").0);
    assert_eq!(ok(Scheme::Fi, "010594y202e").0, "010594Y202E");
    assert_eq!(ok(Scheme::Fi, "010594-202E").0, "010594-202E");
    assert_eq!(ok(Scheme::Fi, "010594A202E").2, d("2094-05-01"));
    assert_eq!(ok(Scheme::Fi, "010594+202E").2, d("1894-05-01"));
    assert_eq!(err(Scheme::Fi, "010594G202E"), ParseError::BadCentury);
    assert_eq!(err(Scheme::Fi, "131052-001H"), ParseError::BadSerial);
    assert_eq!(err(Scheme::Fi, "131052-308U"), ParseError::BadChecksum);
}

// --- Iceland -------------------------------------------------------------------------

#[test]
fn is_verified_examples() {
    // Registers Iceland worked example.
    assert_eq!(
        ok(Scheme::Is, "120160-3389"),
        ("1201603389".into(), Kind::IsPerson, d("1960-01-12"), None)
    );
    // stdnum doctests.
    assert_eq!(ok(Scheme::Is, "120174-3399").1, Kind::IsPerson);
    assert_eq!(
        ok(Scheme::Is, "450401-3150"),
        ("4504013150".into(), Kind::IsLegalEntity, None, None)
    );
    // Registers Iceland synthetic person without a check digit (2026 change).
    assert_eq!(
        ok(Scheme::Is, "2811913049"),
        ("2811913049".into(), Kind::IsPersonNoCheckdigit, d("1991-11-28"), None)
    );
}

#[test]
fn is_century_digit_and_legal_entity_check() {
    // Century digit 8 (1800s), which stdnum rejects.
    assert_eq!(ok(Scheme::Is, "120160-3388").2, d("1860-01-12"));
    assert_eq!(err(Scheme::Is, "120160-3385"), ParseError::BadCentury);
    // The check is kept for legal entities.
    assert_eq!(err(Scheme::Is, "450401-3160"), ParseError::BadChecksum);
}

// --- Estonia and Lithuania -------------------------------------------------------------

#[test]
fn ee_verified_examples() {
    // stdnum doctest; widely used example; identifiers.md section 6.
    assert_eq!(
        ok(Scheme::Ee, "36805280109"),
        ("36805280109".into(), Kind::EeIsikukood, d("1968-05-28"), M)
    );
    assert_eq!(ok(Scheme::Ee, "37605030299").2, d("1976-05-03"));
    assert_eq!(
        ok(Scheme::Ee, "49403136526"),
        ("49403136526".into(), Kind::EeIsikukood, d("1994-03-13"), F)
    );
    assert_eq!(err(Scheme::Ee, "36805280108"), ParseError::BadChecksum);
    assert_eq!(err(Scheme::Ee, "96805280109"), ParseError::BadCentury);
    assert_eq!(err(Scheme::Ee, "368052-80109"), ParseError::BadSeparator { pos: 6 });
}

#[test]
fn lt_verified_example_and_exceptions() {
    // lt.wikipedia / stdnum doctest.
    assert_eq!(
        ok(Scheme::Lt, "33309240064"),
        ("33309240064".into(), Kind::LtAsmensKodas, d("1933-09-24"), M)
    );
    // Unknown month and day, then unknown day: check digits computed by the two-stage rule.
    assert_eq!(ok(Scheme::Lt, "33300000007").1, Kind::LtAsmensKodasUnknownDate);
    assert_eq!(ok(Scheme::Lt, "33309000008").1, Kind::LtAsmensKodasUnknownDate);
    assert_eq!(ok(Scheme::Lt, "33309000008").2, None);
    // A code starting with 9 follows no date rules.
    assert_eq!(ok(Scheme::Lt, "99999999997").1, Kind::LtAsmensKodas9);
    assert_eq!(err(Scheme::Lt, "73309240064"), ParseError::BadCentury);
}

// --- Shared input policy -------------------------------------------------------------

#[test]
fn policy_trims_ascii_whitespace_only() {
    assert_eq!(ok(Scheme::Dk, "\t\r\n\x0b\x0c 211062-5629 \n").0, "2110625629");
    assert_eq!(err(Scheme::Dk, "\u{a0}211062-5629"), ParseError::NonAscii { pos: 0 });
    assert_eq!(err(Scheme::Dk, "\u{feff}211062-5629"), ParseError::NonAscii { pos: 0 });
    assert_eq!(err(Scheme::Dk, "211062\u{2013}5629"), ParseError::NonAscii { pos: 6 });
    // Fullwidth digits are not folded.
    assert!(matches!(err(Scheme::Dk, "２１１０６２５６２９"), ParseError::NonAscii { .. }));
}

#[test]
fn policy_empty_long_and_separators() {
    assert_eq!(err(Scheme::Dk, ""), ParseError::Empty);
    assert_eq!(err(Scheme::Dk, " \t "), ParseError::Empty);
    assert_eq!(err(Scheme::Dk, &"1".repeat(41)), ParseError::TooLong);
    assert_eq!(err(Scheme::Dk, "211062--5629"), ParseError::BadLength { len: 12 });
    assert_eq!(err(Scheme::Dk, "21106-25629"), ParseError::BadSeparator { pos: 5 });
    assert_eq!(err(Scheme::Dk, "211062.5629"), ParseError::BadSeparator { pos: 6 });
    assert_eq!(err(Scheme::Dk, "211062\t5629"), ParseError::BadSeparator { pos: 6 });
    assert_eq!(err(Scheme::Dk, "21106a5629"), ParseError::BadCharacter { pos: 5 });
    assert_eq!(err(Scheme::Dk, "21106256291"), ParseError::BadLength { len: 11 });
}

#[test]
fn errors_and_debug_never_echo_the_input() {
    let secret_digits = "2110625620";
    for scheme in Scheme::ALL {
        for input in [secret_digits, "21106256209999", "211062x5620"] {
            if let Err(e) = parse_with(scheme, input, &opts(2026)) {
                for text in [e.to_string(), format!("{e:?}")] {
                    assert!(!text.contains("211062"), "{scheme}: {text}");
                }
            }
        }
    }
    let id = parse(Scheme::Dk, "211062-5629").unwrap();
    assert!(!format!("{id:?}").contains("211062"));
}

#[test]
fn kind_names_are_unique_and_belong_to_their_scheme() {
    let mut names: Vec<_> = Kind::ALL.iter().map(|k| (k.scheme(), k.as_str())).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), Kind::ALL.len());
}

#[test]
fn scheme_codes_round_trip() {
    for s in Scheme::ALL {
        assert_eq!(s.code().parse::<Scheme>(), Ok(s));
        assert_eq!(s.code().to_uppercase().parse::<Scheme>(), Ok(s));
    }
    assert!("xx".parse::<Scheme>().is_err());
}
