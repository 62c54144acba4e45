//! Fuzzes the EE identifier parser: it must never panic, and a normalised form must
//! parse back to itself with the same kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nordlink::Date;
use nordlink::id::{ParseOptions, Scheme, parse_with};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let options = ParseOptions::with_reference_date(Date::new(2026, 6, 1).unwrap());
    if let Ok(id) = parse_with(Scheme::Ee, s, &options) {
        let again = parse_with(Scheme::Ee, id.as_str(), &options).expect("normalised form re-parses");
        assert_eq!(again.as_str(), id.as_str());
        assert_eq!(again.kind(), id.kind());
    }
});
