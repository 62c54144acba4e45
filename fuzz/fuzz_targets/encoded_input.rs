//! Fuzzes reading an encoded input for linkage (`EncodedInput::read`), as CSV and as
//! anonlink CLK JSON, with field filters and match keys: whatever the file holds, an error
//! or a result, never a panic; ids, filters, field filters and keys always pair up.
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
        if let Ok(input) = EncodedInput::read(&path, None, None, true) {
            assert_eq!(input.ids.len(), input.filters.len());
            assert!(input.fields.iter().all(|f| f.len() == input.ids.len()));
            assert!(input.match_keys.iter().all(|k| k.values.len() == input.ids.len()));
        }
    }
});
