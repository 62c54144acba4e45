//! Fuzzes both schema parsers (nordlink TOML/JSON and clkhash v3 JSON): they must never
//! panic, and an accepted schema must encode an arbitrary record without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nordlink::SecretKey;
use nordlink::clk::clkhash::{ClkhashCache, ClkhashEncoder, ClkhashSchema};
use nordlink::clk::{EncodeCache, Encoder, Schema};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Split off a record value after a NUL, if any.
    let (schema, value) = text.split_once('\0').unwrap_or((text, "Åsa Öberg 1984-04-25"));
    if let Ok(s) = Schema::parse(schema) {
        if s.bits() <= 4096 {
            let mut raw = [1u8; 32];
            let enc = Encoder::new(s, &SecretKey::from_bytes(&mut raw));
            let _ = enc.encode(|_| Some(value), &mut EncodeCache::default());
        }
    }
    if let Ok(s) = ClkhashSchema::from_json(schema) {
        if s.len_bits() << s.xor_folds() <= 4096 {
            let enc = ClkhashEncoder::new(s, b"secret");
            let _ = enc.encode(|_| Some(value), &mut ClkhashCache::default());
        }
    }
});
