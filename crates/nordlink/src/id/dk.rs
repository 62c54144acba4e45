//! Denmark: CPR-nummer `DDMMYY-SSSS`.

use super::{Kind, NationalId, ParseError, Scheme, Sex, ascii_digits, date, split_digits, two};

const MOD11_WEIGHTS: [u8; 10] = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];

/// Century from the 7th digit and the two-digit year (cpr.dk table; years 1858-2057).
const fn century(d7: u8, yy: u8) -> u16 {
    match (d7, yy) {
        (0..=3, _) => 1900,
        (4 | 9, 0..=36) | (5..=8, 0..=57) => 2000,
        (4 | 9, _) => 1900,
        _ => 1800,
    }
}

pub(super) fn parse(s: &[u8]) -> Result<NationalId, ParseError> {
    let (d, _) = split_digits::<10>(s, 6, b"- ")?;
    let yy = two(d[4], d[5]);
    let birth = date(century(d[6], yy) + u16::from(yy), two(d[2], d[3]), two(d[0], d[1]))?;
    // Never reject on modulus 11: the CPR office issues valid numbers that fail it.
    let kind = if super::weighted_mod(&d, &MOD11_WEIGHTS, 11) == 0 {
        Kind::DkCpr
    } else {
        Kind::DkCprNoMod11
    };
    Ok(NationalId::new(
        Scheme::Dk,
        kind,
        &ascii_digits(&d),
        Some(birth),
        Some(Sex::from_parity(d[9])),
    ))
}
