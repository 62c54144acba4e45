//! Estonia (isikukood) and Lithuania (asmens kodas): `GYYMMDDSSSC`, one check algorithm.

use super::{Kind, NationalId, ParseError, Scheme, Sex, ascii_digits, date, split_digits, two};

const STAGE1: [u8; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1];
const STAGE2: [u8; 10] = [3, 4, 5, 6, 7, 8, 9, 1, 2, 3];

/// The two-stage modulus-11 check digit shared by EE and LT.
fn check_digit(d: &[u8; 11]) -> u8 {
    let first = super::weighted_mod(&d[..10], &STAGE1, 11);
    let c = if first < 10 { first } else { super::weighted_mod(&d[..10], &STAGE2, 11) };
    if c < 10 { u8::try_from(c).unwrap_or(0) } else { 0 }
}

fn digits(s: &[u8]) -> Result<[u8; 11], ParseError> {
    // EE and LT take no separator.
    let (d, _) = split_digits::<11>(s, 0, b"")?;
    Ok(d)
}

/// 1800 for G = 1/2, 1900 for 3/4, and so on.
fn century_of(g: u8) -> u16 {
    1800 + 100 * u16::from((g - 1) / 2)
}

pub(super) fn parse_ee(s: &[u8]) -> Result<NationalId, ParseError> {
    let d = digits(s)?;
    if !(1..=8).contains(&d[0]) {
        return Err(ParseError::BadCentury);
    }
    let birth =
        date(century_of(d[0]) + u16::from(two(d[1], d[2])), two(d[3], d[4]), two(d[5], d[6]))?;
    if check_digit(&d) != d[10] {
        return Err(ParseError::BadChecksum);
    }
    let sex = Sex::from_parity(d[0]);
    Ok(NationalId::new(Scheme::Ee, Kind::EeIsikukood, &ascii_digits(&d), Some(birth), Some(sex)))
}

pub(super) fn parse_lt(s: &[u8]) -> Result<NationalId, ParseError> {
    let d = digits(s)?;
    let norm = ascii_digits(&d);
    let checked = |kind, birth, sex| {
        if check_digit(&d) == d[10] {
            Ok(NationalId::new(Scheme::Lt, kind, &norm, birth, sex))
        } else {
            Err(ParseError::BadChecksum)
        }
    };
    match d[0] {
        9 => return checked(Kind::LtAsmensKodas9, None, None),
        1..=6 => {}
        _ => return Err(ParseError::BadCentury),
    }
    let sex = Some(Sex::from_parity(d[0]));
    let (month, day) = (two(d[3], d[4]), two(d[5], d[6]));
    // Elderly people with an unknown birth month and/or day have 00 there.
    if day == 0 && (month == 0 || (1..=12).contains(&month)) {
        return checked(Kind::LtAsmensKodasUnknownDate, None, sex);
    }
    let birth = date(century_of(d[0]) + u16::from(two(d[1], d[2])), month, day)?;
    checked(Kind::LtAsmensKodas, Some(birth), sex)
}
