//! Checks the library against the known-answer vectors published in
//! `docs/pseudonymisation.md`, which an independent Python implementation of the
//! specification (`scripts/pseudonym_vectors.py`) produced.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use nordlink::SecretKey;
use nordlink::id::{Scheme, parse};
use nordlink::pseudonym::{Algorithm, Context, Namespace, OutputFormat, Pseudonymiser};

struct Vector {
    algorithm: Algorithm,
    context: String,
    namespace: Namespace,
    input: String,
    format: OutputFormat,
    expected: String,
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('`')
}

fn vectors() -> Vec<Vector> {
    let doc = include_str!("../../../docs/pseudonymisation.md");
    doc.lines()
        .filter(|l| l.starts_with("| hmac-sha256 ") || l.starts_with("| blake3 "))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 7, "{line}");
            Vector {
                algorithm: cells[0].parse().unwrap(),
                context: unquote(cells[1]).to_owned(),
                namespace: cells[2].parse().unwrap(),
                input: unquote(cells[3]).to_owned(),
                format: OutputFormat::new(cells[4].parse().unwrap(), cells[5].parse().unwrap())
                    .unwrap(),
                expected: unquote(cells[6]).to_owned(),
            }
        })
        .collect()
}

fn master() -> SecretKey {
    let mut raw: [u8; 32] = std::array::from_fn(|i| i as u8);
    SecretKey::from_bytes(&mut raw)
}

#[test]
fn published_vectors_match() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 32, "the document's table was not found whole");
    let key = master();
    for v in vectors {
        let p = Pseudonymiser::new(&key, v.algorithm, &Context::new(&v.context).unwrap());
        let pseudonym = match v.namespace {
            Namespace::Id(scheme) => p.pseudonymise(&parse(scheme, &v.input).unwrap()),
            Namespace::Opaque => p.pseudonymise_opaque(&v.input).unwrap(),
        };
        assert_eq!(pseudonym.encode(v.format), v.expected, "{:?} {:?}", v.algorithm, v.context);
    }
}

#[test]
fn published_key_id_matches() {
    assert_eq!(master().id().to_string(), "a7fbea2583bf3446");
}

#[test]
fn every_spelling_gives_the_published_pseudonym() {
    // The table lists DK 2110625629 under context project-a; other spellings must agree.
    let key = master();
    let p = Pseudonymiser::new(&key, Algorithm::HmacSha256, &Context::new("project-a").unwrap());
    let want = "ed7bc8e970616f48dc5e0d42e2cae748f4049114d8ebe89f246eb6baf87d80fd";
    for s in ["211062-5629", "211062 5629", " 2110625629\n"] {
        let got = p.pseudonymise(&parse(Scheme::Dk, s).unwrap()).encode(OutputFormat::default());
        assert_eq!(got, want, "{s:?}");
    }
}
