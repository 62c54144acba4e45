//! Fuzzes reading an encoded input for linkage (`EncodedInput::read`), as CSV and as
//! anonlink CLK JSON: whatever the file holds, an error or a result, never a panic; ids
//! and filters always pair up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nordlink_io::link::EncodedInput;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    for name in ["in.csv", "in.json"] {
        let path = dir.path().join(name);
        if std::fs::write(&path, data).is_err() {
            return;
        }
        if let Ok(input) = EncodedInput::read(&path, None, None) {
            assert_eq!(input.ids.len(), input.filters.len());
        }
    }
});
