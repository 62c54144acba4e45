//! Sweden: personnummer and samordningsnummer.

use super::{Kind, NationalId, ParseError, Scheme, Sex, date, split_digits, two};

/// Luhn check over the ten digits `YYMMDDNNNC`.
fn luhn_ok(d: &[u8; 10]) -> bool {
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let p = if i % 2 == 0 { v * 2 } else { v };
            u32::from(p / 10 + p % 10)
        })
        .sum();
    sum.is_multiple_of(10)
}

pub(super) fn parse(s: &[u8], reference_year: u16) -> Result<NationalId, ParseError> {
    // The length decides between the 10-digit (YYMMDD) and 12-digit (YYYYMMDD) families.
    let (century, d) = match s.len() {
        12 | 13 => {
            let (d12, _) = split_digits::<12>(s, 8, b"- ")?;
            let century = two(d12[0], d12[1]);
            if !(18..=20).contains(&century) {
                return Err(ParseError::BadCentury);
            }
            let mut d = [0u8; 10];
            d.copy_from_slice(&d12[2..]);
            (u16::from(century) * 100, d)
        }
        _ => {
            let (d, sep) = split_digits::<10>(s, 6, b"-+ ")?;
            let yy = u16::from(two(d[0], d[1]));
            // Latest year <= reference ending in yy; '+' marks a centenarian.
            let mut year = reference_year - reference_year % 100 + yy;
            if year > reference_year {
                year = year.saturating_sub(100);
            }
            if sep == Some(b'+') {
                year = year.saturating_sub(100);
            }
            (year - yy, d)
        }
    };
    let year = century + u16::from(two(d[0], d[1]));
    let month = two(d[2], d[3]);
    let raw_day = two(d[4], d[5]);
    let (kind, day) = if raw_day > 60 {
        (Kind::SeSamordningsnummer, raw_day - 60)
    } else {
        (Kind::SePersonnummer, raw_day)
    };
    let birth = date(year, month, day)?;
    if d[6..9] == [0, 0, 0] {
        return Err(ParseError::BadSerial);
    }
    if !luhn_ok(&d) {
        return Err(ParseError::BadChecksum);
    }
    let mut norm = [0u8; 12];
    norm[0] = (century / 1000) as u8 + b'0';
    norm[1] = (century / 100 % 10) as u8 + b'0';
    for (o, v) in norm[2..].iter_mut().zip(d) {
        *o = v + b'0';
    }
    Ok(NationalId::new(Scheme::Se, kind, &norm, Some(birth), Some(Sex::from_parity(d[8]))))
}
