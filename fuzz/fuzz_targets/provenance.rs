//! Fuzzes the provenance sidecar parser: never a panic; an accepted record written out
//! again parses to the same record.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use nordlink_io::Provenance;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Provenance::parse_sidecar(Path::new("fuzz"), data) {
        let again = Provenance::parse_sidecar(Path::new("fuzz"), p.to_json().as_bytes())
            .expect("a written record re-parses");
        assert_eq!(again, p);
    }
});
