//! Norway: fødselsnummer and its variants (D, H, FH, synthetic, 2032 rule).

use super::{
    Kind, NationalId, ParseError, Scheme, Sex, ascii_digits, check_day_month, date, split_digits,
    two, weighted_mod,
};

const K1_WEIGHTS: [u8; 10] = [3, 7, 6, 1, 8, 9, 4, 5, 2, 1];
const K2_WEIGHTS: [u8; 11] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1];

/// Century from the individual number and two-digit year, or `None` if not allocated.
const fn century(individual: u16, yy: u8) -> Option<u16> {
    match (individual, yy) {
        (0..=499, _) => Some(1900),
        (500..=749, 54..=99) => Some(1800),
        (500..=999, 0..=39) => Some(2000),
        (900..=999, 40..=99) => Some(1900),
        _ => None,
    }
}

pub(super) fn parse(s: &[u8]) -> Result<NationalId, ParseError> {
    let (d, _) = split_digits::<11>(s, 6, b"- ")?;
    if weighted_mod(&d, &K2_WEIGHTS, 11) != 0 {
        return Err(ParseError::BadChecksum);
    }
    // Remainder 0 is the classic rule; 1..=3 are the extra K1 values allowed from 2032.
    let k1_remainder = weighted_mod(&d[..10], &K1_WEIGHTS, 11);
    if k1_remainder > 3 {
        return Err(ParseError::BadChecksum);
    }
    let classic = k1_remainder == 0;
    let norm = ascii_digits(&d);

    if d[0] >= 8 {
        // FH-number: random digits after the marker, no date, no sex.
        return if classic {
            Ok(NationalId::new(Scheme::No, Kind::NoFhnr, &norm, None, None))
        } else {
            Err(ParseError::BadChecksum)
        };
    }
    let (d_number, day) = match two(d[0], d[1]) {
        day @ 41..=71 => (true, day - 40),
        day => (false, day),
    };
    let (month_marker, month) = match two(d[2], d[3]) {
        m @ 41..=52 => (40, m - 40),
        m @ 81..=92 => (80, m - 80),
        m => (0, m),
    };
    let kind = match (d_number, month_marker, classic) {
        (false, 0, true) => Kind::NoFnr,
        (true, 0, true) => Kind::NoDnr,
        (false, 0, false) => Kind::NoFnr2032,
        (true, 0, false) => Kind::NoDnr2032,
        // The 2032 rule is defined only for fødsels- and D-numbers.
        (_, _, false) => return Err(ParseError::BadChecksum),
        (false, 40, true) => Kind::NoHnr,
        (true, 40, true) => Kind::NoSyntheticNavDnr,
        (false, _, true) => Kind::NoSyntheticTenorFnr,
        (true, _, true) => Kind::NoSyntheticTenorDnr,
    };
    let yy = two(d[4], d[5]);
    if !classic {
        // From 2032 the individual number says nothing of century or sex.
        check_day_month(yy, month, day)?;
        return Ok(NationalId::new(Scheme::No, kind, &norm, None, None));
    }
    let individual = u16::from(d[6]) * 100 + u16::from(two(d[7], d[8]));
    let century = century(individual, yy).ok_or(ParseError::BadSerial)?;
    let birth = date(century + u16::from(yy), month, day)?;
    Ok(NationalId::new(Scheme::No, kind, &norm, Some(birth), Some(Sex::from_parity(d[8]))))
}
