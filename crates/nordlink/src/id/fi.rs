//! Finland: henkilötunnus `DDMMYYCZZZQ`.

use super::{Kind, NationalId, ParseError, Scheme, Sex, date, two};

/// Check characters indexed by `DDMMYYZZZ mod 31` (G, I, O, Q, Z never occur).
const CHECK_CHARS: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

/// Century for a sign (already upper-cased); the 2023 decree added letters.
const fn century(sign: u8) -> Option<u16> {
    match sign {
        b'+' => Some(1800),
        b'-' | b'Y' | b'X' | b'W' | b'V' | b'U' => Some(1900),
        b'A'..=b'F' => Some(2000),
        _ => None,
    }
}

pub(super) fn parse(s: &[u8]) -> Result<NationalId, ParseError> {
    if s.len() != 11 {
        return Err(ParseError::BadLength { len: s.len() });
    }
    let mut norm = [0u8; 11];
    for (o, &c) in norm.iter_mut().zip(s) {
        *o = c.to_ascii_uppercase();
    }
    let mut n: u32 = 0;
    for pos in (0..6).chain(7..10) {
        let c = norm[pos];
        if !c.is_ascii_digit() {
            return Err(ParseError::BadCharacter { pos });
        }
        n = n * 10 + u32::from(c - b'0');
    }
    let v = |i: usize| norm[i] - b'0';
    let century = century(norm[6]).ok_or(ParseError::BadCentury)?;
    let birth = date(century + u16::from(two(v(4), v(5))), two(v(2), v(3)), two(v(0), v(1)))?;
    let individual = u16::from(v(7)) * 100 + u16::from(two(v(8), v(9)));
    let kind = match individual {
        0..=1 => return Err(ParseError::BadSerial),
        2..=899 => Kind::FiHetu,
        _ => Kind::FiHetuTemporary,
    };
    let check = norm[10];
    if !check.is_ascii_alphanumeric() {
        return Err(ParseError::BadCharacter { pos: 10 });
    }
    if CHECK_CHARS[(n % 31) as usize] != check {
        return Err(ParseError::BadChecksum);
    }
    Ok(NationalId::new(Scheme::Fi, kind, &norm, Some(birth), Some(Sex::from_parity(v(9)))))
}
