use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Float64Array, Int64Array, StringArray};
use arrow_schema::DataType;

use crate::util::*;

fn kat_key(d: &Dir) {
    d.private("kat.key", KAT_KEY);
}

/// Pseudonymises the `cpr` column of `input` under the known-answer key.
fn pseudonymise_input(d: &Dir, input: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "pseudonymise",
        "--key",
        "kat.key",
        "--scheme",
        "dk",
        "--column",
        "cpr",
        "--input",
        input,
    ];
    args.extend_from_slice(extra);
    // The context is required; tests that do not name one use the unnamed one, explicitly.
    if !extra.contains(&"--context") {
        args.extend(["--context", ""]);
    }
    nordlink(d, &args)
}

fn pseudonymise(d: &Dir, extra: &[&str]) -> std::process::Output {
    pseudonymise_input(d, "in.csv", extra)
}

#[test]
fn output_matches_the_published_vector_and_every_spelling_agrees() {
    let d = Dir::new();
    kat_key(&d);
    d.write("in.csv", "cpr,x\n211062-5629,a\n2110625629,b\n\" 211062 5629\",c\n");
    let o = pseudonymise(&d, &["--output", "out.csv", "--context", "project-a"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_csv(&d.path("out.csv"));
    let want = "ed7bc8e970616f48dc5e0d42e2cae748f4049114d8ebe89f246eb6baf87d80fd";
    assert_eq!(rows[0], ["cpr", "x"]);
    for (row, x) in rows[1..].iter().zip(["a", "b", "c"]) {
        assert_eq!(row, &[want, x]);
    }
    // Another context gives other pseudonyms; so does blake3; so does truncation.
    let o = pseudonymise(&d, &["--output", "b.csv", "--context", "project-b"]);
    assert!(o.status.success());
    assert_eq!(
        read_csv(&d.path("b.csv"))[1][0],
        "c60a83851674144b40b16ed85cfe77d768e12d7c5ca4cc7e209d7c058b9535eb"
    );
    let o = pseudonymise(
        &d,
        &[
            "--output",
            "c.csv",
            "--context",
            "project-a",
            "--algorithm",
            "blake3",
            "--encoding",
            "base64url",
            "--bits",
            "128",
        ],
    );
    assert!(o.status.success());
    assert_eq!(read_csv(&d.path("c.csv"))[1][0], "FMH94E1LS4VE3fWz4BRvzw");
}

#[test]
fn rows_in_equal_rows_out_plus_rejects_and_raw_ids_never_leak() {
    let d = Dir::new();
    kat_key(&d);
    let valid = ["211062-5629", "111111-1118", "010190 1234", "0707614285"];
    let mut input = String::from("cpr,note\n");
    for i in 0..40 {
        match i % 5 {
            4 => input.push_str(&format!("31029{i:01}-1234,bad{i}\n")),
            k => input.push_str(&format!("{},ok{i}\n", valid[k])),
        }
    }
    input.push_str("211062-5629,too,many\n");
    d.write("in.csv", &input);
    let o = pseudonymise(&d, &["--output", "out.csv", "--rejects", "rej.csv", "--batch-size", "3"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let out = read_csv(&d.path("out.csv"));
    let rej = read_csv(&d.path("rej.csv"));
    assert_eq!(out.len() - 1, 32);
    assert_eq!(rej.len() - 1, 9);
    assert!(err.contains("41 rows read = 32 written + 9 rejected"), "{err}");
    // Order kept across parallel batches.
    let notes: Vec<&str> = out[1..].iter().map(|r| r[1].as_str()).collect();
    let expect: Vec<String> = (0..40).filter(|i| i % 5 != 4).map(|i| format!("ok{i}")).collect();
    assert_eq!(notes, expect);
    assert_eq!(rej[0], ["row", "field", "problem", "value"]);
    assert_eq!(rej[1], ["5", "cpr", "bad_date", "310294-1234"]);
    assert_eq!(rej[9], ["41", "cpr", "field_count", "211062-5629"]);
    // Neither raw nor normalised identifiers appear in the output or on stderr.
    let text = std::fs::read_to_string(d.path("out.csv")).unwrap();
    for id in valid {
        let compact: String = id.chars().filter(char::is_ascii_digit).collect();
        for needle in [id, compact.as_str(), &compact[..6]] {
            assert!(!text.contains(needle) && !err.contains(needle), "{needle} leaked");
        }
    }
}

#[test]
fn a_failed_run_leaves_no_output() {
    let d = Dir::new();
    kat_key(&d);
    let mut input = String::from("cpr\n");
    for _ in 0..100 {
        input.push_str("211062-5629\n");
    }
    input.push_str("211062-562x\n");
    d.write("in.csv", input);
    for extra in [
        &["--output", "out.csv", "--on-invalid", "fail", "--batch-size", "7"][..],
        &["--output", "out.csv", "--batch-size", "7"][..],
        &["--output", "out.csv", "--on-invalid", "fail", "--rejects", "rej.csv"][..],
    ] {
        let o = pseudonymise(&d, extra);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(
            err.contains("row 101") && err.contains("\"cpr\"") && err.contains("bad_character"),
            "{err}"
        );
        assert!(!err.contains("211062"), "{err}");
        assert_eq!(d.listing(), ["in.csv", "kat.key"]);
    }
}

/// `nordlink pseudonymise` of the `id` column of `in.csv` as opaque values under `key`,
/// context `p`, into `out.csv`.
fn opaque_args(key: &str) -> [&str; 13] {
    [
        "pseudonymise",
        "--key",
        key,
        "--scheme",
        "opaque",
        "--column",
        "id",
        "--context",
        "p",
        "--input",
        "in.csv",
        "--output",
        "out.csv",
    ]
}

fn strs(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

#[test]
fn each_command_refuses_a_key_made_for_the_other_purpose() {
    let d = Dir::new();
    ok(&d, &["key", "generate", "--purpose", "pseudonymise", "--out", "p.key"]);
    ok(&d, &["key", "generate", "--purpose", "encode", "--out", "e.key"]);
    assert!(std::fs::read_to_string(d.path("p.key")).unwrap().contains("purpose: pseudonymise"));
    d.write("in.csv", "id,sex\nabc,F\n");
    d.write("s.toml", "version = 2\n[[fields]]\nname = \"sex\"\nkind = \"sex\"\n");
    let pseudonymise = |key: &str| opaque_args(key).map(str::to_owned);
    let encode = |key: &str| {
        ["encode", "--schema", "s.toml", "--key", key, "--input", "in.csv", "--output", "enc.csv"]
            .map(str::to_owned)
    };
    let err = fails(&d, &strs(&pseudonymise("e.key")));
    assert!(err.contains("e.key") && err.contains("--purpose pseudonymise"), "{err}");
    let err = fails(&d, &strs(&encode("p.key")));
    assert!(err.contains("p.key") && err.contains("--purpose encode"), "{err}");
    assert!(!d.listing().iter().any(|f| f.starts_with("out") || f.starts_with("enc")));
    // Each with its own key; a nordlink-key/1 file works for both, with a note.
    ok(&d, &strs(&pseudonymise("p.key")));
    ok(&d, &strs(&encode("e.key")));
    d.private("old.key", KAT_KEY);
    for mut args in [pseudonymise("old.key").to_vec(), encode("old.key").to_vec()] {
        let last = args.len() - 1;
        args[last] = format!("old-{}", args[last]);
        let err = ok(&d, &strs(&args));
        assert!(err.contains("nordlink-key/1") && err.contains("--purpose"), "{err}");
    }
}

#[test]
fn key_files_are_private_and_never_overwritten() {
    let d = Dir::new();
    ok(&d, &["key", "generate", "--purpose", "pseudonymise", "--out", "k.key"]);
    let mode = std::fs::metadata(d.path("k.key")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let before = std::fs::read(d.path("k.key")).unwrap();
    let err = fails(&d, &["key", "generate", "--purpose", "pseudonymise", "--out", "k.key"]);
    assert!(err.contains("k.key") && err.contains("overwrite"), "{err}");
    assert_eq!(std::fs::read(d.path("k.key")).unwrap(), before);
    ok(&d, &["key", "generate", "--purpose", "pseudonymise", "--out", "k.key", "--force"]);
    assert_ne!(std::fs::read(d.path("k.key")).unwrap(), before);

    // A group-readable key is refused, unless the loud flag is given.
    d.write("in.csv", "id\nabc\n");
    std::fs::set_permissions(d.path("k.key"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let args = opaque_args("k.key");
    let err = fails(&d, &args);
    assert!(err.contains("k.key") && err.contains("chmod 600"), "{err}");
    // The library's message names no flag; the binary's hint does.
    assert!(err.contains("hint:") && err.contains("--insecure-allow-readable-key"), "{err}");
    let mut insecure = args.to_vec();
    insecure.push("--insecure-allow-readable-key");
    let err = ok(&d, &insecure);
    assert!(err.contains("WARNING"), "{err}");
    // The secret never appears on stderr.
    let secret = std::fs::read_to_string(d.path("k.key")).unwrap();
    let secret = secret.lines().find_map(|l| l.strip_prefix("secret: ")).unwrap();
    assert!(!err.contains(secret));
}

#[test]
fn parquet_keeps_other_columns_and_types_and_records_provenance() {
    let d = Dir::new();
    kat_key(&d);
    d.parquet(
        "in.parquet",
        vec![
            ("visits", Arc::new(Int64Array::from(vec![Some(3), None, Some(7)]))),
            (
                "cpr",
                Arc::new(StringArray::from(vec![
                    Some("211062-5629"),
                    Some("nope"),
                    Some("111111-1118"),
                ])),
            ),
            ("bmi", Arc::new(Float64Array::from(vec![21.5, 30.0, 18.25]))),
        ],
    );
    let o = pseudonymise_input(
        &d,
        "in.parquet",
        &[
            "--output",
            "out.parquet",
            "--rejects",
            "rej.parquet",
            "--encoding",
            "raw",
            "--context",
            "project-a",
            "--derive",
            "birth-date,sex",
        ],
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("3 rows read = 2 written + 1 rejected"), "{err}");
    let kv = parquet_metadata(&d.path("out.parquet"));
    let get = |k: &str| kv.get(k).cloned();
    assert_eq!(get("nordlink.key_id").as_deref(), Some("a7fbea2583bf3446"));
    assert_eq!(get("nordlink.algorithm").as_deref(), Some("hmac-sha256"));
    assert_eq!(get("nordlink.context").as_deref(), Some("project-a"));
    assert_eq!(get("nordlink.scheme").as_deref(), Some("dk"));
    assert!(kv.values().all(|v| !v.contains("000102030405")));

    let b = &read_parquet(&d.path("out.parquet"))[0];
    let names: Vec<_> = b.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["visits", "cpr", "bmi", "birth_date", "sex"]);
    assert_eq!(b.schema().field(0).data_type(), &DataType::Int64);
    assert_eq!(b.schema().field(1).data_type(), &DataType::FixedSizeBinary(32));
    assert_eq!(b.schema().field(2).data_type(), &DataType::Float64);
    assert_eq!(b.column(0).as_primitive::<arrow_array::types::Int64Type>().value(1), 7);
    assert_eq!(b.column(2).as_primitive::<arrow_array::types::Float64Type>().value(1), 18.25);
    let p = b.column(1).as_fixed_size_binary();
    let want = "ed7bc8e970616f48dc5e0d42e2cae748f4049114d8ebe89f246eb6baf87d80fd";
    assert_eq!(p.value(0).iter().map(|x| format!("{x:02x}")).collect::<String>(), want);
    assert_eq!(b.column(4).as_string::<i32>().value(1), "F");

    let r = &read_parquet(&d.path("rej.parquet"))[0];
    assert_eq!(r.column(0).as_primitive::<arrow_array::types::UInt64Type>().value(0), 2);
    assert_eq!(r.column(2).as_string::<i32>().value(0), "bad_length");
}

#[test]
fn raw_encoding_needs_parquet_and_opaque_rejects_derive() {
    let d = Dir::new();
    kat_key(&d);
    d.write("in.csv", "cpr\n211062-5629\n");
    let err = stderr(&pseudonymise(&d, &["--output", "out.csv", "--encoding", "raw"]));
    assert!(err.contains("raw") && err.contains("parquet"), "{err}");
    let err = stderr(&pseudonymise(&d, &["--output", "out.csv", "--bits", "64"]));
    assert!(err.contains("128"), "{err}");
    assert_eq!(d.listing(), ["in.csv", "kat.key"]);
}

/// The metadata keys of the Arrow schema a Parquet file embeds (`ARROW:schema`).
fn arrow_metadata(path: &std::path::Path) -> std::collections::BTreeSet<String> {
    let file = std::fs::File::open(path).unwrap();
    let builder =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    builder.schema().metadata().iter().map(|(k, _)| k.clone()).collect()
}

#[test]
fn the_input_footer_stays_behind_unless_allowed() {
    use parquet::arrow::ArrowWriter;
    use parquet::file::metadata::KeyValue;
    use parquet::file::properties::WriterProperties;
    let d = Dir::new();
    kat_key(&d);
    let ids: arrow_array::ArrayRef = Arc::new(StringArray::from(vec!["211062-5629"]));
    let batch = arrow_array::RecordBatch::try_from_iter([("cpr", ids)]).unwrap();
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(vec![
            KeyValue::new("extract".into(), "patients of ward 7, 211062-5629".to_owned()),
            KeyValue::new("licence".into(), "CC0".to_owned()),
        ]))
        .build();
    let file = std::fs::File::create(d.path("in.parquet")).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    // The reader hands the footer to the output's schema: what the fix must filter.
    assert!(arrow_metadata(&d.path("in.parquet")).contains("extract"));
    let o = pseudonymise_input(&d, "in.parquet", &["--output", "a.parquet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let kv = parquet_metadata(&d.path("a.parquet"));
    assert!(!kv.contains_key("extract") && !kv.contains_key("licence"), "{kv:?}");
    // Nor inside the Arrow schema the footer embeds.
    let arrow = arrow_metadata(&d.path("a.parquet"));
    assert!(!arrow.contains("extract") && !arrow.contains("licence"), "{arrow:?}");
    let o = pseudonymise_input(
        &d,
        "in.parquet",
        &["--output", "b.parquet", "--keep-metadata", "licence"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let kv = parquet_metadata(&d.path("b.parquet"));
    assert_eq!(kv.get("licence").map(String::as_str), Some("CC0"));
    assert!(!kv.contains_key("extract"));
    let arrow = arrow_metadata(&d.path("b.parquet"));
    assert!(!arrow.contains("extract") && arrow.contains("licence"), "{arrow:?}");
}

#[test]
fn shuffle_hides_the_extract_order_and_the_mapping_leads_back() {
    let d = Dir::new();
    kat_key(&d);
    let valid = ["211062-5629", "111111-1118", "010190 1234", "0707614285"];
    let mut input = String::from("cpr,note\n");
    for i in 0..300 {
        // Every seventh row is invalid (a 31 February), spread over several batches.
        if i % 7 == 6 {
            input.push_str(&format!("310294-12{:02},bad{i}\n", i % 100));
        } else {
            input.push_str(&format!("{},n{i:03}\n", valid[i % 4]));
        }
    }
    d.write("in.csv", &input);
    let base = ["--rejects", "r1.csv", "--batch-size", "16"];
    let o = pseudonymise(&d, &[&["--output", "plain.csv"], &base[..]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = pseudonymise(
        &d,
        &[
            "--output",
            "out.csv",
            "--rejects",
            "r2.csv",
            "--batch-size",
            "16",
            "--shuffle",
            "map.csv",
        ],
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("300 rows read = 258 written + 42 rejected"), "{err}");
    assert_eq!(read_csv(&d.path("r2.csv")), read_csv(&d.path("r1.csv")));
    let plain = read_csv(&d.path("plain.csv"));
    let out = read_csv(&d.path("out.csv"));
    let map = read_csv(&d.path("map.csv"));
    assert_eq!((out.len(), map.len()), (259, 259));
    assert_eq!(map[0], ["position", "row"]);
    // Each output row is the unshuffled output row of the input row the mapping names: the
    // note `nNNN` is input row NNN + 1.
    let by_note: std::collections::HashMap<&str, &Vec<String>> =
        plain[1..].iter().map(|r| (r[1].as_str(), r)).collect();
    for (k, (o, m)) in out[1..].iter().zip(&map[1..]).enumerate() {
        assert_eq!(m[0], (k + 1).to_string());
        let row: usize = m[1].parse().unwrap();
        assert_eq!(o[1], format!("n{:03}", row - 1), "position {}", m[0]);
        assert_eq!(o, by_note[o[1].as_str()]);
    }
    let rows: Vec<u64> = map[1..].iter().map(|m| m[1].parse().unwrap()).collect();
    assert!(rows.windows(2).filter(|w| w[0] < w[1]).count() < 200, "not shuffled");
    // The mapping may not overwrite the key (refused before anything is read).
    let o =
        pseudonymise(&d, &["--output", "o2.csv", "--rejects", "r3.csv", "--shuffle", "kat.key"]);
    let err = stderr(&o);
    assert!(!o.status.success() && err.contains("kat.key"), "{err}");
    assert_eq!(std::fs::read_to_string(d.path("kat.key")).unwrap(), KAT_KEY);
    assert!(!d.path("o2.csv").exists() && !d.path("r3.csv").exists());
}
