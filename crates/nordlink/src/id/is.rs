//! Iceland: kennitala `DDMMYY-RRPC`.

use super::{Kind, NationalId, ParseError, Scheme, ascii_digits, date, split_digits, two};

const WEIGHTS: [u8; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

pub(super) fn parse(s: &[u8]) -> Result<NationalId, ParseError> {
    let (d, _) = split_digits::<10>(s, 6, b"- ")?;
    let century = match d[9] {
        8 => 1800,
        9 => 1900,
        0 => 2000,
        _ => return Err(ParseError::BadCentury),
    };
    let (legal_entity, day) = match two(d[0], d[1]) {
        day @ 41..=71 => (true, day - 40),
        day => (false, day),
    };
    let birth = date(century + u16::from(two(d[4], d[5])), two(d[2], d[3]), day)?;
    // 11 - r with 11 -> 0; a computed 10 never occurs on a number with a check digit.
    let expected = match 11 - super::weighted_mod(&d[..8], &WEIGHTS, 11) {
        11 => Some(0),
        10 => None,
        c => u8::try_from(c).ok(),
    };
    let check_ok = expected == Some(d[8]);
    let norm = ascii_digits(&d);
    if legal_entity {
        // Not clearly covered by the 2026 change: keep the check for legal entities.
        return if check_ok {
            Ok(NationalId::new(Scheme::Is, Kind::IsLegalEntity, &norm, None, None))
        } else {
            Err(ParseError::BadChecksum)
        };
    }
    // Since 2026-02-18 persons are issued numbers without a computed check digit.
    let kind = if check_ok { Kind::IsPerson } else { Kind::IsPersonNoCheckdigit };
    Ok(NationalId::new(Scheme::Is, kind, &norm, Some(birth), None))
}
