//! Fuzzes key-file parsing: never panics; an accepted file re-renders to one that parses
//! to the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nordlink::keyfile::{format_key_file, parse_key_file};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(file) = parse_key_file(text) {
        let again = parse_key_file(&format_key_file(&file.key, &file.created)).expect("re-parses");
        assert_eq!(again.key.expose_secret(), file.key.expose_secret());
    }
});
