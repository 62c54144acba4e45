//! Fuzzes key-file parsing: never panics; an accepted file re-renders (as
//! `nordlink-key/2`, a version-1 file as a pseudonymisation key) to one that parses to the
//! same key and purpose.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nordlink::keyfile::{KeyPurpose, format_key_file, parse_key_file};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(file) = parse_key_file(text) {
        let purpose = file.purpose.unwrap_or(KeyPurpose::Pseudonymise);
        let again =
            parse_key_file(&format_key_file(&file.key, &file.created, purpose)).expect("re-parses");
        assert_eq!(again.key.expose_secret(), file.key.expose_secret());
        assert_eq!(again.purpose, Some(purpose));
    }
});
