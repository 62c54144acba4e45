//! clkhash 0.18.3 reference vectors (tests/fixtures/clkhash, produced by clkhash itself):
//! every CLK must be bit-identical.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use nordlink::clk::clkhash::{ClkhashCache, ClkhashEncoder, ClkhashSchema};
use nordlink::clk::{AnyCache, AnyEncoder, EncoderSecret};
use zeroize::Zeroizing;

const CASES: [&str; 3] = ["blake-bigrams", "doublehash-features", "xorfold-numeric"];

fn fixture(case: &str, file: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/clkhash");
    std::fs::read(format!("{dir}/{case}/{file}")).unwrap()
}

/// Input column index of each feature (`None` for ignored ones).
fn column_map(header: &[String], columns: &[Option<&str>]) -> Vec<Option<usize>> {
    columns.iter().map(|c| c.and_then(|c| header.iter().position(|h| h == c))).collect()
}

/// Through `AnyEncoder`, as `nordlink encode` does.
fn check(case: &str) {
    let secret = EncoderSecret::Clkhash(Zeroizing::new(fixture(case, "secret.txt")));
    let encoder = AnyEncoder::from_schema_bytes(&fixture(case, "schema.json"), &secret)
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let records = fixture(case, "records.csv");
    let mut rdr = csv::Reader::from_reader(records.as_slice());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    let map = column_map(&header, &encoder.columns());
    let expected = fixture(case, "expected.csv");
    let mut exp = csv::Reader::from_reader(expected.as_slice());
    let mut cache = AnyCache::default();
    let mut n = 0;
    for (row, (rec, want)) in rdr.records().zip(exp.records()).enumerate() {
        let (rec, want) = (rec.unwrap(), want.unwrap());
        let clk = encoder
            .encode(|f| map[f].and_then(|i| rec.get(i)), &mut cache)
            .unwrap_or_else(|e| panic!("{case} row {row}: {e}"))
            .record;
        assert_eq!(clk.to_base64(), &want[1], "{case} row {row}");
        assert_eq!(clk.count_ones().to_string(), &want[2], "{case} row {row}");
        n += 1;
    }
    assert_eq!(n, 150, "{case}");
}

#[test]
fn blake_bigrams() {
    check(CASES[0]);
}

#[test]
fn doublehash_features() {
    check(CASES[1]);
}

#[test]
fn xorfold_numeric() {
    check(CASES[2]);
    // clkhash 0.18.3 reads `xor_folds`, so this schema's `xorFolds: 1` has no effect.
    let schema =
        ClkhashSchema::from_json(std::str::from_utf8(&fixture(CASES[2], "schema.json")).unwrap())
            .unwrap();
    assert_eq!(
        (schema.xor_folds(), schema.ignored_xor_folds(), schema.len_bits()),
        (0, Some(1), 512)
    );
}

#[test]
fn the_cache_does_not_change_results() {
    // Encoding with a fresh cache per record equals encoding with one shared cache.
    let case = CASES[0];
    let schema =
        ClkhashSchema::from_json(std::str::from_utf8(&fixture(case, "schema.json")).unwrap())
            .unwrap();
    let encoder = ClkhashEncoder::new(schema, &fixture(case, "secret.txt"));
    let records = fixture(case, "records.csv");
    let mut rdr = csv::Reader::from_reader(records.as_slice());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    let columns: Vec<Option<&str>> = encoder.schema().feature_columns().collect();
    let map = column_map(&header, &columns);
    let mut shared = ClkhashCache::default();
    for rec in rdr.records().take(40) {
        let rec = rec.unwrap();
        let get = |f: usize| map[f].and_then(|i| rec.get(i));
        let a = encoder.encode(get, &mut shared).unwrap();
        let b = encoder.encode(get, &mut ClkhashCache::default()).unwrap();
        assert_eq!(a, b);
    }
}

#[test]
fn a_schema_that_encodes_no_feature_is_refused() {
    let schema: serde_json::Value =
        serde_json::from_slice(&fixture("blake-bigrams", "schema.json")).unwrap();
    let secret = EncoderSecret::Clkhash(Zeroizing::new(fixture("blake-bigrams", "secret.txt")));
    let mut none = schema.clone();
    none["features"] = serde_json::json!([]);
    let mut ignored = schema;
    for f in ignored["features"].as_array_mut().unwrap() {
        *f = serde_json::json!({ "identifier": f["identifier"], "ignored": true });
    }
    for bad in [none, ignored] {
        let e = AnyEncoder::from_schema_bytes(bad.to_string().as_bytes(), &secret).unwrap_err();
        assert!(e.to_string().contains("no feature is encoded"), "{e}");
    }
}
