//! Fuzzes every identifier parser through one target: the first byte picks the scheme,
//! the rest is the input. A parser must never panic, and a normalised form must parse
//! back to itself with the same kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nordlink::Date;
use nordlink::id::{ParseOptions, Scheme, parse_with};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let scheme = Scheme::ALL[usize::from(first) % Scheme::ALL.len()];
    let Ok(s) = std::str::from_utf8(rest) else { return };
    let options = ParseOptions::with_reference_date(Date::new(2026, 6, 1).unwrap());
    if let Ok(id) = parse_with(scheme, s, &options) {
        let again = parse_with(scheme, id.as_str(), &options).expect("normalised form re-parses");
        assert_eq!(again.as_str(), id.as_str());
        assert_eq!(again.kind(), id.kind());
    }
});
