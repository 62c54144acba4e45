//! Known answers for the building blocks of `nordlink-clk/1`, produced by
//! `scripts/clk_reference.py`: an implementation written from docs/schema.md alone, in
//! Python, by someone who did not read this crate. Each normaliser on tricky input, and
//! encodings that isolate one option each (weights, q-grams, dates, numbers, salting,
//! double hashing at a length that is not a power of two, missing values, each hardening
//! step).
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use std::collections::HashMap;

use nordlink::SecretKey;
use nordlink::clk::{EncodeCache, Encoder, Normaliser, Schema, normalise};
use serde::Deserialize;

fn lines(name: &str) -> Vec<String> {
    let path = format!("{}/../../tests/fixtures/clk-kat/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let lines: Vec<String> =
        text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect();
    assert!(lines.len() >= 20, "{path}: only {} vectors", lines.len());
    lines
}

#[derive(Deserialize)]
struct NormaliserVector {
    steps: Vec<Normaliser>,
    input: String,
    output: String,
}

#[test]
fn normalisers_match_the_independent_implementation() {
    for line in lines("normalisers.jsonl") {
        let v: NormaliserVector = serde_json::from_str(&line).unwrap();
        assert_eq!(normalise(&v.steps, &v.input), v.output, "{line}");
    }
}

#[derive(Deserialize)]
struct EncodingVector {
    name: String,
    schema: String,
    record: HashMap<String, String>,
    output: Expected,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Expected {
    Error {
        error: ExpectedError,
    },
    Filters {
        record: String,
        #[serde(default)]
        fields: Vec<String>,
    },
}

#[derive(Deserialize)]
struct ExpectedError {
    field: String,
    code: String,
}

#[test]
fn encodings_match_the_independent_implementation() {
    let mut raw: [u8; 32] = std::array::from_fn(|i| i as u8);
    let key = SecretKey::from_bytes(&mut raw);
    for line in lines("encodings.jsonl") {
        let v: EncodingVector = serde_json::from_str(&line).unwrap();
        let schema = Schema::parse(&v.schema).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        let columns: Vec<String> = schema.fields().iter().map(|f| f.column().to_owned()).collect();
        let encoder = Encoder::new(schema, &key);
        let got = encoder
            .encode(|f| v.record.get(&columns[f]).map(String::as_str), &mut EncodeCache::default());
        match (&v.output, got) {
            (Expected::Filters { record, fields }, Ok(e)) => {
                assert_eq!(&e.record.to_base64(), record, "{}", v.name);
                let got: Vec<String> = e.fields.iter().map(|f| f.to_base64()).collect();
                assert_eq!(&got, fields, "{}", v.name);
            }
            (Expected::Error { error }, Err(e)) => {
                assert_eq!(
                    (e.field(), e.code()),
                    (error.field.as_str(), error.code.as_str()),
                    "{}",
                    v.name
                );
            }
            (_, got) => panic!("{}: got {got:?}", v.name),
        }
    }
}
