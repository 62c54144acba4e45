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

pub(super) fn parse(s: &[u8], reference: crate::Date) -> Result<NationalId, ParseError> {
    let reference_year = reference.year();
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
            // A birth date after the reference date is someone born a century earlier (no
            // one is registered before birth); `+` then marks a century more (100 or older).
            let (month, day) = (two(d[2], d[3]), two(d[4], d[5]) % 60);
            if (year, month, day) > (reference_year, reference.month(), reference.day()) {
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

#[cfg(test)]
mod tests {
    use super::super::{ParseOptions, parse_with};
    use super::*;
    use crate::Date;

    fn at(reference: (u16, u8, u8), input: &str) -> Result<NationalId, ParseError> {
        let (y, m, d) = reference;
        parse_with(
            Scheme::Se,
            input,
            &ParseOptions::with_reference_date(Date::new(y, m, d).unwrap()),
        )
    }

    #[test]
    fn a_birth_date_after_the_reference_takes_the_century_before() {
        // The check digit that makes 260701-123? valid, found with a late reference.
        let number = (0..10)
            .map(|c| format!("260701-123{c}"))
            .find(|n| at((2026, 12, 31), n).is_ok())
            .unwrap();
        let born = |r| at(r, &number).unwrap().birth_date().unwrap().year();
        assert_eq!(born((2026, 12, 31)), 2026);
        assert_eq!(born((2026, 7, 1)), 2026, "born on the reference date");
        assert_eq!(born((2026, 6, 30)), 1926, "not yet born in 2026: 1926");
        assert_eq!(born((2027, 1, 1)), 2026);
        // The same for a samordningsnummer (day + 60), and `+` still means a century more.
        let coordination = (0..10)
            .map(|c| format!("260761-123{c}"))
            .find(|n| at((2026, 12, 31), n).is_ok())
            .unwrap();
        assert_eq!(at((2026, 6, 30), &coordination).unwrap().birth_date().unwrap().year(), 1926);
        let plus = number.replace('-', "+");
        assert_eq!(at((2026, 12, 31), &plus).unwrap().birth_date().unwrap().year(), 1926);
        // Turning 100 on 1 July 2026: `+` from that day, the day before a century earlier.
        assert_eq!(at((2026, 6, 30), &plus).unwrap().birth_date().unwrap().year(), 1826);
    }
}
