//! Frozen outputs: `nordlink-pseudonym/1` and `nordlink-clk/1` may never change for the
//! same key and input (docs/formats.md, "Versioned constructions").
//!
//! The files in `tests/fixtures/frozen/` hold the outputs of this build for a fixed key
//! over many inputs and schemas covering every option: kinds, normalisers, tokenisers,
//! both hashings (also at a length that is not a power of two), per-token and per-field
//! weights, salting, missing values, every hardening step, field filters. The test
//! recomputes them and fails on the first difference.
//!
//! A change that alters any line is a new construction (`nordlink-clk/2`, ...) with the
//! old one kept selectable; never re-bless these files to make a change pass. They were
//! written once with `NORDLINK_WRITE_FROZEN=1 cargo test --test frozen_outputs`, which
//! only creates files that do not exist. (clkhash mode is pinned by
//! `clkhash_vectors.rs` against clkhash's own output.)
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use std::fmt::Write as _;
use std::path::PathBuf;

use nordlink::Date;
use nordlink::SecretKey;
use nordlink::clk::{EncodeCache, Encoder, Schema};
use nordlink::id::{ParseOptions, Scheme, parse_with};
use nordlink::pseudonym::{Algorithm, Context, Encoding, OutputFormat, Pseudonymiser};

fn master() -> SecretKey {
    let mut raw: [u8; 32] = std::array::from_fn(|i| i as u8);
    SecretKey::from_bytes(&mut raw)
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/frozen")).join(name)
}

/// Compares `got` with the frozen file, line by line.
fn check(name: &str, got: &str) {
    let path = fixture(name);
    if !path.exists() && std::env::var_os("NORDLINK_WRITE_FROZEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (frozen outputs missing)", path.display()));
    let mut got_lines = got.lines();
    for (n, w) in want.lines().enumerate() {
        let g = got_lines.next().unwrap_or("<missing>");
        assert_eq!(
            g,
            w,
            "{name} line {}: a frozen output changed; this needs a new construction version",
            n + 1
        );
    }
    assert_eq!(got_lines.next(), None, "{name}: more outputs than frozen");
}

/// (schemas as (name, text), the records' header, the records)
type Corpus = (Vec<(String, String)>, Vec<String>, Vec<Vec<String>>);

/// The schemas (`schemas/<name>.toml`, in the order of `schemas/order.txt`) and records
/// (`records.csv`) of the frozen corpus: plain files, so implementations in other
/// languages can run the same corpus (`scripts/clk_reference.py` does).
fn corpus(order: &str) -> Corpus {
    let order = std::fs::read_to_string(fixture(&format!("schemas/{order}"))).unwrap();
    let schemas = order
        .lines()
        .map(|name| {
            let text = std::fs::read_to_string(fixture(&format!("schemas/{name}.toml"))).unwrap();
            (name.to_owned(), text)
        })
        .collect();
    let mut reader = csv::Reader::from_path(fixture("records.csv")).unwrap();
    let header = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let records =
        reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    (schemas, header, records)
}

/// One line per schema and record: the record filter and field filters in base64, or
/// `!field:code` for a rejected record; with `report_invalid`, then `?field:code` for each
/// invalid value encoded under its field's `invalid` policy.
fn encode_corpus(order: &str, report_invalid: bool) -> (usize, usize, String) {
    let key = master();
    let (schemas, header, records) = corpus(order);
    let mut out = String::new();
    for (name, text) in &schemas {
        let schema = Schema::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let columns: Vec<usize> = schema
            .fields()
            .iter()
            .map(|f| header.iter().position(|h| h == f.column()).unwrap())
            .collect();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().to_owned()).collect();
        let encoder = Encoder::new(schema, &key);
        let mut cache = EncodeCache::default();
        for (i, record) in records.iter().enumerate() {
            // One shared cache and one fresh cache must agree: memoisation is invisible.
            let get = |f: usize| Some(record[columns[f]].as_str());
            let shared = encoder.encode(get, &mut cache);
            assert_eq!(shared, encoder.encode(get, &mut EncodeCache::default()), "{name} {i}");
            let _ = write!(out, "{name}\t{i}\t");
            match shared {
                Ok(e) => {
                    let _ = write!(out, "{}", e.record.to_base64());
                    for f in &e.fields {
                        let _ = write!(out, "\t{}", f.to_base64());
                    }
                    assert!(report_invalid || e.invalid.is_empty(), "{name} {i}");
                    for (field, problem) in &e.invalid {
                        let _ = write!(out, "\t?{}:{problem}", names[*field]);
                    }
                }
                Err(e) => {
                    let _ = write!(out, "!{}:{}", e.field(), e.code());
                }
            }
            out.push('\n');
        }
    }
    (schemas.len(), records.len(), out)
}

#[test]
fn nordlink_clk_1_outputs_are_frozen() {
    let (schemas, records, out) = encode_corpus("order.txt", false);
    assert_eq!((schemas, records), (12, 23), "the corpus is complete");
    check("nordlink-clk-1.tsv", &out);
}

/// Schema version 2's `invalid` policies (and its defaults), over the same records.
#[test]
fn nordlink_clk_1_outputs_under_schema_version_2_are_frozen() {
    let (schemas, records, out) = encode_corpus("order-2.txt", true);
    assert_eq!((schemas, records), (5, 23), "the corpus is complete");
    check("nordlink-clk-1-schema-2.tsv", &out);
}

/// Schema version 3: its defaults (hardening, birth-year salt), the salt kept out of its
/// own field, and `keyed_flip`, over the same records.
#[test]
fn nordlink_clk_1_outputs_under_schema_version_3_are_frozen() {
    let (schemas, records, out) = encode_corpus("order-3.txt", true);
    assert_eq!((schemas, records), (4, 23), "the corpus is complete");
    check("nordlink-clk-1-schema-3.tsv", &out);
}

#[test]
fn nordlink_pseudonym_1_outputs_are_frozen() {
    let key = master();
    // The published key of docs/pseudonymisation.md.
    assert_eq!(key.id().to_string(), "a7fbea2583bf3446");
    let options = ParseOptions::with_reference_date(Date::new(2026, 6, 1).unwrap());
    let ids: &[(Scheme, &str)] = &[
        (Scheme::Dk, "211062-5629"),
        (Scheme::Dk, "0101901234"),
        (Scheme::Se, "811218-9876"),
        (Scheme::Se, "121212+1212"),
        (Scheme::Se, "701063-2391"),
        (Scheme::No, "15076500565"),
        (Scheme::No, "41018036736"),
        (Scheme::Fi, "131052-308T"),
        (Scheme::Fi, "010594Y9032"),
        (Scheme::Is, "120174-3399"),
        (Scheme::Ee, "37605030299"),
        (Scheme::Lt, "33309240064"),
    ];
    let mut out = String::new();
    for algorithm in [Algorithm::HmacSha256, Algorithm::Blake3] {
        for context in ["", "study-42", "nordisk samarbejde æøå"] {
            let p = Pseudonymiser::new(&key, algorithm, &Context::new(context).unwrap());
            let formats = [
                OutputFormat::default(),
                OutputFormat::new(Encoding::Base64Url, 128).unwrap(),
                OutputFormat::new(Encoding::Hex, 160).unwrap(),
            ];
            for (scheme, input) in ids {
                let Ok(id) = parse_with(*scheme, input, &options) else {
                    let _ = writeln!(
                        out,
                        "{algorithm}\t{context}\t{}\t{input}\t!invalid",
                        scheme.code()
                    );
                    continue;
                };
                let pseudonym = p.pseudonymise(&id);
                let encoded: Vec<String> = formats.iter().map(|f| pseudonym.encode(*f)).collect();
                let _ = writeln!(
                    out,
                    "{algorithm}\t{context}\t{}\t{input}\t{}",
                    scheme.code(),
                    encoded.join("\t")
                );
            }
            for value in ["P-000123", " x ", "Ærø", &"z".repeat(100)] {
                let pseudonym = p.pseudonymise_opaque(value).unwrap();
                let _ = writeln!(
                    out,
                    "{algorithm}\t{context}\topaque\t{value}\t{}",
                    pseudonym.encode(formats[0])
                );
            }
        }
    }
    check("nordlink-pseudonym-1.tsv", &out);
}
