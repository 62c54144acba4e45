//! Pseudonymise an extract with the core library alone: parse each Danish CPR number,
//! replace it by its keyed pseudonym, and account for every row (a pseudonym or a
//! reason, never the raw number in a message).
//!
//! ```sh
//! cargo run -p nordlink --example pseudonymise_extract
//! ```
//!
//! A real run loads the register holder's key with `nordlink::keyfile::read_key_file`
//! (made by `nordlink key generate`); this example uses a fixed key so its output is
//! reproducible. `nordlink pseudonymise` does the same at scale, streamed and parallel.

use nordlink::SecretKey;
use nordlink::id::{Scheme, parse};
use nordlink::pseudonym::{Algorithm, Context, OutputFormat, Pseudonymiser};

/// One row of the output: the row number and its pseudonym, or why it has none.
type Row = (usize, Result<String, &'static str>);

/// Pseudonymises the `cpr` column of a CSV text.
fn pseudonymise(csv_text: &str, key: &SecretKey) -> Vec<Row> {
    // One pseudonymiser per project context: the same person gets unrelated pseudonyms in
    // another project.
    let context = Context::new("example-project-2026").expect("a valid context");
    let pseudonymiser = Pseudonymiser::new(key, Algorithm::HmacSha256, &context);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(csv_text.as_bytes());
    let column = reader
        .headers()
        .ok()
        .and_then(|h| h.iter().position(|c| c == "cpr"))
        .expect("the extract has a cpr column");
    reader
        .records()
        .enumerate()
        .map(|(i, record)| {
            let row = i + 1;
            let Ok(record) = record else { return (row, Err("unreadable_row")) };
            let cell = record.get(column).unwrap_or("");
            let result = parse(Scheme::Dk, cell)
                .map(|id| pseudonymiser.pseudonymise(&id).encode(OutputFormat::default()))
                .map_err(|e| e.code());
            (row, result)
        })
        .collect()
}

fn main() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/data/dk_patients.csv"
    ))
    .expect("the bundled extract");
    let mut raw = [42u8; 32];
    let key = SecretKey::from_bytes(&mut raw);
    for (row, result) in pseudonymise(&text, &key) {
        match result {
            Ok(pseudonym) => println!("row {row}: {pseudonym}"),
            Err(code) => println!("row {row}: rejected ({code})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_gets_a_pseudonym_or_a_reason() {
        let text = "cpr,name\n211062-5629,A\n2110625629,B\n310290-1234,C\n,D\n";
        let mut raw = [42u8; 32];
        let rows = pseudonymise(text, &SecretKey::from_bytes(&mut raw));
        assert_eq!(rows.len(), 4);
        // Two spellings of one number: one pseudonym, 64 hex digits, no trace of the input.
        let (a, b) = (rows[0].1.clone().unwrap(), rows[1].1.clone().unwrap());
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert!(!a.contains("211062"));
        assert_eq!(rows[2].1, Err("bad_date"));
        assert_eq!(rows[3].1, Err("empty"));
        // Another key, another pseudonym.
        let mut other = [43u8; 32];
        let c = pseudonymise(text, &SecretKey::from_bytes(&mut other));
        assert_ne!(c[0].1, rows[0].1);
        main();
    }
}
