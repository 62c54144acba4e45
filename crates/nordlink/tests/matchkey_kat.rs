//! Known answers for `nordlink-matchkey/1`, produced by `scripts/matchkey_reference.py`:
//! HKDF, HMAC and the Cologne phonetic code written in Python from docs/schema.md and the
//! published phonetic rules. Default keys, custom keys, salted and unsalted schemas, two
//! contexts; records with swapped day and month, spelling variants across borders,
//! impossible dates and missing values.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, reason = "test code")]

use std::collections::BTreeMap;

use nordlink::SecretKey;
use nordlink::clk::{EncodeCache, Encoder, Schema};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vector {
    name: String,
    schema: String,
    record: BTreeMap<String, String>,
    keys: BTreeMap<String, Option<String>>,
}

fn vectors() -> Vec<Vector> {
    let path =
        format!("{}/../../tests/fixtures/matchkey-kat/vectors.jsonl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: Vec<Vector> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(v.len() >= 30, "{path}: only {} vectors", v.len());
    v
}

fn key() -> SecretKey {
    let mut raw: [u8; 32] = std::array::from_fn(|i| i as u8);
    SecretKey::from_bytes(&mut raw)
}

#[test]
fn match_keys_match_the_independent_implementation() {
    let key = key();
    let mut missing = 0;
    for v in vectors() {
        let schema = Schema::parse(&v.schema).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        let columns: Vec<String> = schema.fields().iter().map(|f| f.column().to_owned()).collect();
        let names: Vec<String> = schema.match_keys().iter().map(|k| k.name().to_owned()).collect();
        let encoder = Encoder::new(schema, &key);
        let e = encoder
            .encode(|f| v.record.get(&columns[f]).map(String::as_str), &mut EncodeCache::default())
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        let got: BTreeMap<String, Option<String>> =
            names.into_iter().zip(e.keys.iter().map(|k| k.map(hex::encode))).collect();
        assert_eq!(got, v.keys, "{}", v.name);
        missing += got.values().filter(|k| k.is_none()).count();
    }
    assert!(missing > 0, "the vectors should include missing keys");
}

#[test]
fn keys_are_deterministic_key_dependent_and_context_separated() {
    let v = &vectors()[0];
    let encode = |text: &str, key: &SecretKey| {
        let schema = Schema::parse(text).unwrap();
        let columns: Vec<String> = schema.fields().iter().map(|f| f.column().to_owned()).collect();
        let e = Encoder::new(schema, key)
            .encode(|f| v.record.get(&columns[f]).map(String::as_str), &mut EncodeCache::default())
            .unwrap();
        e.keys
    };
    let a = encode(&v.schema, &key());
    assert_eq!(a, encode(&v.schema, &key()));
    let mut other: [u8; 32] = std::array::from_fn(|i| 1 + i as u8);
    let b = encode(&v.schema, &SecretKey::from_bytes(&mut other));
    let c = encode(&v.schema.replace("context = \"kat\"", "context = \"kat2\""), &key());
    for (i, k) in a.iter().enumerate() {
        assert!(k.is_some());
        assert_ne!(k, &b[i], "key {i} must depend on the encoding key");
        assert_ne!(k, &c[i], "key {i} must depend on the context");
        // Each key has its own derived key: equal parts under two names never meet.
        for l in &a[..i] {
            assert_ne!(k, l);
        }
    }
}

#[test]
fn keys_memoised_across_records_equal_the_known_answers() {
    let key = key();
    let vectors = vectors();
    let mut schemas: Vec<&str> = vectors.iter().map(|v| v.schema.as_str()).collect();
    schemas.dedup();
    for text in schemas {
        let schema = Schema::parse(text).unwrap();
        let columns: Vec<String> = schema.fields().iter().map(|f| f.column().to_owned()).collect();
        let names: Vec<String> = schema.match_keys().iter().map(|k| k.name().to_owned()).collect();
        let encoder = Encoder::new(schema, &key);
        // One cache for every record, twice over: the second pass answers from the memo.
        let mut cache = EncodeCache::default();
        for _ in 0..2 {
            for v in vectors.iter().filter(|v| v.schema == text) {
                let e = encoder
                    .encode(|f| v.record.get(&columns[f]).map(String::as_str), &mut cache)
                    .unwrap();
                let got: BTreeMap<String, Option<String>> =
                    names.iter().cloned().zip(e.keys.iter().map(|k| k.map(hex::encode))).collect();
                assert_eq!(got, v.keys, "{}", v.name);
            }
        }
    }
}
