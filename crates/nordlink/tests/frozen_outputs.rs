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

/// (name, given_name, surname, birth_date, sex, municipality, postcode, age)
const RECORDS: &[[&str; 7]] = &[
    ["Søren", "Kierkegaard", "1813-05-05", "M", "København", "1050", "42"],
    ["Soeren", "Kirkegaard", "1813-05-05", "m", "Kobenhavn", "1050 ", "42"],
    ["Åsa", "Öberg", "1984-04-25", "F", "Göteborg", "411 05", "40"],
    ["Aasa", "Oeberg", "1984-25-04", "F", "Goteborg", "41105", "39"],
    ["Jón", "Þórðarson", "1990-12-31", "M", "Reykjavík", "101", "35"],
    ["Jon", "Thordarson", "1990-12-31", "M", "Reykjavik", "101", "36"],
    ["Guðrún Ósk", "Sigurðardóttir", "2001-02-28", "F", "Akureyri", "600", "24"],
    ["Mäkinen", "Virtanen-Mäkelä", "1955-07-01", "F", "Jyväskylä", "40100", "70"],
    ["Jūratė", "Kazlauskienė", "1977-11-11", "F", "Vilnius", "LT-01100", "48"],
    ["Mart", "Tamm", "1966-06-16", "M", "Tallinn", "10115", "59"],
    ["Ola", "Nordmann", "2000-02-29", "M", "Tromsø", "9008", "25"],
    ["  ÉLODIE  ", "D'Artagnan", "1999-01-01", "F", "Saint-Étienne", "42000", "26"],
    ["Łukasz", "Wałęsa", "1943-09-29", "M", "Gdańsk", "80-001", "82"],
    ["Ｆｕｌｌ", "ﬁnn", "1980-03-03", "X", "Åre", "837 52", "45"],
    ["", "Hansen", "", "", "", "", ""],
    ["Ib", "Ø", "1970-01-01", "M", "Ry", "8680", "0"],
    ["Anne-Marie", "Holm", "1988-08-08", "F", "Ærøskøbing", "5970", "37"],
    ["NA", "Hansen", "2010-10-10", "F", "Odense", "5000", "not a number"],
    ["Per", "Persson", "1931-02-30", "M", "Malmö", "211 20", "-3"],
    ["Kari", "Nordmann", "31.12.1990", "F", "Bergen", "5003", "35"],
    ["Kari", "Nordman", "5.3.1980", "F", "Bergen", "5003", "45"],
    ["Siri", "Lund", " 05.03.1980 ", "F", "Oslo", "0150", "45"],
    ["Eero", "Mäki", "29.02.2000", "M", "Oulu", "90100", "25"],
];

const FIELDS: &str = r#"
[[fields]]
name = "given_name"
kind = "given_name"
[[fields]]
name = "surname"
kind = "surname"
[[fields]]
name = "birth_date"
kind = "birth_date"
[[fields]]
name = "sex"
kind = "sex"
[[fields]]
name = "municipality"
kind = "municipality"
[[fields]]
name = "postcode"
kind = "postcode"
[[fields]]
name = "age"
kind = "integer"
missing_values = ["", "not a number"]
"#;

/// Schemas covering every option of `nordlink-schema/1`.
fn schemas() -> Vec<(&'static str, String)> {
    let with = |filter: &str, fields: &str| format!("version = 1\n[filter]\n{filter}\n{fields}");
    vec![
        ("kinds", with("context = \"frozen\"", FIELDS)),
        ("no-context-512", with("bits = 512", FIELDS)),
        ("double-960", with("bits = 960\nhashing = \"double\"\ncontext = \"d\"", FIELDS)),
        ("field-filters", with("bits = 256\nfield_filters = true", FIELDS)),
        ("salt-year", with("[filter.salt]\nfield = \"birth_date\"\nyear_only = true", FIELDS)),
        ("salt-surname", with("bits = 512\n[filter.salt]\nfield = \"surname\"", FIELDS)),
        ("balance-permute", with("bits = 512\nhardening = [\"balance\", \"permute\"]", FIELDS)),
        ("xor-fold", with("bits = 1024\nhardening = [{ xor_fold = 1 }]", FIELDS)),
        ("rule90", with("bits = 384\nhardening = [\"rule90\"]", FIELDS)),
        (
            "randomised-response",
            with("bits = 512\nhardening = [{ randomised_response = 0.1 }, \"permute\"]", FIELDS),
        ),
        (
            "dmy-dates",
            with(
                "bits = 128",
                "[[fields]]\nname = \"birth_date\"\nkind = \"birth_date\"\ndate_format = \"%d.%m.%Y\"\nmissing = \"reject\"\n",
            ),
        ),
        (
            "explicit",
            with(
                "bits = 640\ncontext = \"explicit\"",
                r#"
[[fields]]
name = "given_name"
normalise = ["trim", "nfkc", "casefold", "strip_diacritics", "collapse_whitespace"]
tokenise = { qgrams = { q = 3, padding = false, positional = true } }
bits_per_field = 60
[[fields]]
name = "surname"
normalise = ["casefold", "nordic_fold", "strip_punctuation", "strip_whitespace"]
tokenise = { qgrams = { q = 1, padding = true } }
bits_per_token = 7
missing = { replace = "unknown" }
[[fields]]
name = "birth_date"
kind = "birth_date"
missing = "reject"
[[fields]]
name = "sex"
tokenise = "whole"
bits_per_field = 3
[[fields]]
name = "age"
tokenise = { numeric = { distance = 5, resolution = 2 } }
missing_values = ["", "not a number"]
"#,
            ),
        ),
    ]
}

fn column(name: &str) -> usize {
    ["given_name", "surname", "birth_date", "sex", "municipality", "postcode", "age"]
        .iter()
        .position(|c| *c == name)
        .unwrap()
}

#[test]
fn nordlink_clk_1_outputs_are_frozen() {
    let key = master();
    let mut out = String::new();
    for (name, text) in schemas() {
        let schema = Schema::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let columns: Vec<usize> = schema.fields().iter().map(|f| column(f.column())).collect();
        let encoder = Encoder::new(schema, &key);
        let mut cache = EncodeCache::default();
        for (i, record) in RECORDS.iter().enumerate() {
            // One shared cache and one fresh cache must agree: memoisation is invisible.
            let get = |f: usize| Some(record[columns[f]]);
            let shared = encoder.encode(get, &mut cache);
            assert_eq!(shared, encoder.encode(get, &mut EncodeCache::default()), "{name} {i}");
            let _ = write!(out, "{name}\t{i}\t");
            match shared {
                Ok(e) => {
                    let _ = write!(out, "{}", e.record.to_base64());
                    for f in &e.fields {
                        let _ = write!(out, "\t{}", f.to_base64());
                    }
                }
                Err(e) => {
                    let _ = write!(out, "!{}:{}", e.field(), e.code());
                }
            }
            out.push('\n');
        }
    }
    check("nordlink-clk-1.tsv", &out);
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
