use arrow_schema::DataType;

use crate::util::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/clkhash");
#[test]
fn clkhash_schemas_give_bit_identical_filters() {
    for case in ["blake-bigrams", "doublehash-features", "xorfold-numeric"] {
        let d = Dir::new();
        d.private("secret", std::fs::read(format!("{FIXTURES}/{case}/secret.txt")).unwrap());
        let schema = format!("{FIXTURES}/{case}/schema.json");
        let records = format!("{FIXTURES}/{case}/records.csv");
        let err = ok(
            &d,
            &[
                "encode",
                "--schema",
                &schema,
                "--secret",
                "secret",
                "--input",
                &records,
                "--output",
                "out.csv",
                "--id-column",
                "id",
                "--anonlink-json",
                "clks.json",
            ],
        );
        let got = read_csv(&d.path("out.csv"));
        let want = read_csv(std::path::Path::new(&format!("{FIXTURES}/{case}/expected.csv")));
        assert_eq!(got[0], ["row", "id", "clk", "popcount"]);
        assert_eq!(got.len(), 151, "{case}");
        for (g, w) in got[1..].iter().zip(&want[1..]) {
            assert_eq!((&g[2], &g[3]), (&w[1], &w[2]), "{case} row {}", g[0]);
        }
        let json = std::fs::read_to_string(d.path("clks.json")).unwrap();
        assert!(json.starts_with("{\"clks\": [\"") && json.contains(&want[150][1]), "{case}");
        assert_eq!(json.matches("\", \"").count(), 149);
        assert_eq!(err.contains("xorFolds"), case == "xorfold-numeric", "{err}");
    }
}

#[test]
fn short_clkhash_secrets_are_refused_without_showing_them() {
    let schema = format!("{FIXTURES}/blake-bigrams/schema.json");
    let records = format!("{FIXTURES}/blake-bigrams/records.csv");
    for secret in [&b""[..], b"x", b"fifteen bytes!!"] {
        let d = Dir::new();
        d.private("secret", secret);
        let args = [
            "encode", "--schema", &schema, "--secret", "secret", "--input", &records, "--output",
            "o.csv",
        ];
        let err = fails(&d, &args);
        assert!(err.contains("secret") && err.contains("at least 16"), "{err}");
        assert!(secret.len() < 2 || !err.contains(std::str::from_utf8(secret).unwrap()), "{err}");
        assert_eq!(d.listing(), ["secret"]);
    }
}

#[test]
fn native_schema_parquet_with_rejects_and_provenance() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/nordic_people.csv");
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/nordic_schema.toml");
    let err = ok(
        &d,
        &[
            "encode",
            "--schema",
            schema,
            "--key",
            "k.key",
            "--input",
            data,
            "--output",
            "out.parquet",
            "--id-column",
            "id",
            "--rejects",
            "rej.csv",
        ],
    );
    // Row 6 has 30 February: a version-3 schema encodes it by its parts (the year salting,
    // the month hashed) and counts it.
    assert!(err.contains("8 rows read = 8 encoded + 0 rejected"), "{err}");
    assert!(err.contains("1 values failed their format") && err.contains("birth_date"), "{err}");
    assert_eq!(read_csv(&d.path("rej.csv")).len(), 1);
    // As version 1 it is rejected, with the row, field and problem.
    let v1 = std::fs::read_to_string(schema).unwrap().replace("version = 3", "version = 1");
    d.write("v1.toml", &v1);
    let mut args = native("v1.toml", data, "v1.parquet", &["--rejects", "rej1.csv"]);
    args.extend(["--id-column", "id"]);
    let err = ok(&d, &args);
    assert!(err.contains("8 rows read = 7 encoded + 1 rejected"), "{err}");
    assert_eq!(read_csv(&d.path("rej1.csv"))[1], ["6", "birth_date", "bad_date", ""]);
    let b = &read_parquet(&d.path("out.parquet"))[0];
    // 1 024 bits folded once by version 3's default hardening.
    assert_eq!(b.schema().field(2).data_type(), &DataType::FixedSizeBinary(64));
    use arrow_array::cast::AsArray;
    let clk = b.column(2).as_fixed_size_binary();
    let dice = |i: usize, j: usize| {
        let (a, c) = (clk.value(i), clk.value(j));
        let inter: u32 = a.iter().zip(c).map(|(x, y)| (x & y).count_ones()).sum();
        let ones = |v: &[u8]| v.iter().map(|x| x.count_ones()).sum::<u32>();
        2.0 * f64::from(inter) / f64::from(ones(a) + ones(c))
    };
    // Nordic spellings of the same person match; different people do not.
    assert!(dice(0, 1) > 0.85, "{}", dice(0, 1));
    assert!(dice(2, 3) > 0.85, "{}", dice(2, 3));
    assert!(dice(0, 2) < 0.6, "{}", dice(0, 2));
    let kv = parquet_metadata(&d.path("out.parquet"));
    let get = |k: &str| kv.get(k).cloned();
    assert_eq!(get("nordlink.key_id").as_deref(), Some("a7fbea2583bf3446"));
    assert_eq!(get("nordlink.construction").as_deref(), Some("nordlink-clk/1"));
    assert_eq!(get("nordlink.schema_sha256").map(|s| s.len()), Some(64));
}

/// `nordlink encode` of `input` under a native schema and the known-answer key `k.key`.
fn native<'a>(schema: &'a str, input: &'a str, output: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args =
        vec!["encode", "--schema", schema, "--key", "k.key", "--input", input, "--output", output];
    args.extend_from_slice(extra);
    args
}

#[test]
fn invalid_rows_without_a_rejects_file_fail_and_write_nothing() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    d.write("s.toml", "version = 1\n[[fields]]\nname = \"dob\"\nkind = \"birth_date\"\n");
    d.write("in.csv", "dob\n1990-01-01\nnot a date\n");
    let err = fails(&d, &native("s.toml", "in.csv", "out.csv", &["--anonlink-json", "c.json"]));
    assert!(err.contains("row 2") && err.contains("dob") && err.contains("bad_date"), "{err}");
    assert!(!err.contains("not a date"), "{err}");
    assert_eq!(d.listing(), ["in.csv", "k.key", "s.toml"]);
    // A column the schema needs but the input lacks, and the wrong secret kind.
    d.write("in2.csv", "birth\n1990-01-01\n");
    let err = fails(&d, &native("s.toml", "in2.csv", "out.csv", &[]));
    assert!(err.contains("\"dob\"") && err.contains("in2.csv"), "{err}");
    let mut args = native("s.toml", "in.csv", "out.csv", &[]);
    args[3] = "--secret";
    let err = fails(&d, &args);
    assert!(err.contains("--key"), "{err}");
    d.write("bad.toml", "version = 1\n[[fields]]\nname = \"x\"\n");
    let err = fails(&d, &native("bad.toml", "in.csv", "out.csv", &[]));
    assert!(err.contains("bad.toml") && err.contains("\"x\"") && err.contains("kind"), "{err}");
}

#[test]
fn schema_version_2_keeps_records_with_invalid_values_and_counts_them() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    d.write(
        "s.toml",
        "version = 2\n[[fields]]\nname = \"dob\"\nkind = \"birth_date\"\n\
         [[fields]]\nname = \"age\"\nkind = \"integer\"\n",
    );
    d.write("in.csv", "dob,age\n1990-01-01,34\n1990-02-31,x\n1990-13-01,35\n");
    let err = ok(&d, &native("s.toml", "in.csv", "out.csv", &[]));
    assert!(err.contains("3 rows read = 3 encoded + 0 rejected"), "{err}");
    assert!(err.contains("3 values failed their format"), "{err}");
    let counts: Vec<&str> = err.lines().filter(|l| l.starts_with("    ")).collect();
    assert_eq!(counts.len(), 2, "{err}");
    assert!(counts[0].contains("dob") && counts[0].trim_end().ends_with(" 2"), "{err}");
    assert!(counts[1].contains("age") && counts[1].trim_end().ends_with(" 1"), "{err}");
    assert!(!err.contains("1990-02-31") && !err.contains("13-01"), "{err}");
    assert_eq!(read_csv(&d.path("out.csv")).len(), 4);
}

#[test]
fn outputs_may_not_name_each_other() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    d.write("s.toml", "version = 1\n[[fields]]\nname = \"sex\"\nkind = \"sex\"\n");
    d.write("in.csv", "sex\nF\n");
    // Two spellings of one file: the rejects would overwrite the output.
    let err = fails(&d, &native("s.toml", "in.csv", "out.csv", &["--rejects", "./out.csv"]));
    assert!(err.contains("another output"), "{err}");
    let err = fails(&d, &native("s.toml", "in.csv", "o.parquet", &["--anonlink-json", "in.csv"]));
    assert!(err.contains("the input"), "{err}");
    assert_eq!(d.listing(), ["in.csv", "k.key", "s.toml"]);
}

#[test]
fn provenance_is_the_same_in_parquet_footers_and_csv_sidecars() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    let schema = "version = 1\n[filter]\ncontext = \"p\"\nhardening = [\"balance\", \"permute\", { xor_fold = 1 }]\n[[fields]]\nname = \"sex\"\nkind = \"sex\"\n";
    d.write("s.toml", schema);
    d.write("in.csv", "sex\nF\nM\n");
    ok(&d, &native("s.toml", "in.csv", "out.csv", &[]));
    ok(&d, &native("s.toml", "in.csv", "out.parquet", &[]));
    assert!(d.listing().contains(&"out.csv.provenance.json".to_owned()));
    let csv = nordlink_io::Provenance::read(&d.path("out.csv")).unwrap();
    let parquet = nordlink_io::Provenance::read(&d.path("out.parquet")).unwrap();
    assert_eq!(csv, parquet);
    assert_eq!(csv.construction, "nordlink-clk/1");
    assert_eq!(csv.key_id.as_deref(), Some("a7fbea2583bf3446"));
    assert_eq!(csv.context.as_deref(), Some("p"));
    assert_eq!(csv.bits, Some(1024));
    assert_eq!(csv.hardening.as_deref(), Some("balance,permute,xor_fold=1"));
    let sha = nordlink::clk::schema_fingerprint(schema.as_bytes());
    assert_eq!(csv.schema_sha256, Some(sha));
    assert!(csv.check_linkable_with(&parquet).is_ok());
    // The rejects file and the anonlink JSON carry no sidecar; a broken sidecar is an
    // error that names the file, not a panic.
    std::fs::write(d.path("out.csv.provenance.json"), "{\"format\": ").unwrap();
    let err = nordlink_io::Provenance::read(&d.path("out.csv")).unwrap_err().to_string();
    assert!(err.contains("out.csv.provenance.json") && err.contains("malformed"), "{err}");
}

#[test]
fn a_wrong_secret_kind_gets_a_hint_naming_the_flag() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/clkhash");
    let schema = format!("{fixtures}/blake-bigrams/schema.json");
    d.write("in.csv", "x\n1\n");
    let err = fails(
        &d,
        &[
            "encode", "--schema", &schema, "--key", "k.key", "--input", "in.csv", "--output",
            "o.csv",
        ],
    );
    assert!(err.contains("clkhash secret file") && err.contains("hint:"), "{err}");
    assert!(err.contains("--secret FILE"), "{err}");
    assert_eq!(d.listing(), ["in.csv", "k.key"]);
}

#[test]
fn outputs_and_their_sidecars_never_overwrite_a_key_or_schema() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    d.private("o.csv.provenance.json", KAT_KEY);
    d.write("s.toml", "version = 1\n[[fields]]\nname = \"sex\"\nkind = \"sex\"\n");
    d.write("in.csv", "sex\nF\n");
    // The output's provenance sidecar would replace the key file.
    let mut args = native("s.toml", "in.csv", "o.csv", &[]);
    args[4] = "o.csv.provenance.json";
    let err = fails(&d, &args);
    assert!(err.contains("the input"), "{err}");
    // Other outputs may not name the key or the schema either.
    for extra in [["--anonlink-json", "k.key"], ["--rejects", "s.toml"]] {
        let err = fails(&d, &native("s.toml", "in.csv", "out.parquet", &extra));
        assert!(err.contains("the input"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(d.path("k.key")).unwrap(), KAT_KEY);
    assert_eq!(std::fs::read_to_string(d.path("o.csv.provenance.json")).unwrap(), KAT_KEY);
    assert_eq!(d.listing(), ["in.csv", "k.key", "o.csv.provenance.json", "s.toml"]);
}

#[test]
fn shuffle_hides_the_input_order_and_the_mapping_undoes_it() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    d.write("s.toml", "version = 2\n[[fields]]\nname = \"given\"\nkind = \"given_name\"\n");
    let mut csv = String::from("given\n");
    for i in 0..500 {
        // Sorted by name, as extracts often are; row 250 has a cell too many.
        if i == 249 {
            csv.push_str("x,extra\n");
        } else {
            csv.push_str(&format!("name{i:03}\n"));
        }
    }
    d.write("in.csv", &csv);
    let plain = native("s.toml", "in.csv", "plain.csv", &["--rejects", "r1.csv"]);
    ok(&d, &plain);
    let args = native(
        "s.toml",
        "in.csv",
        "out.csv",
        &["--shuffle", "map.csv", "--rejects", "r2.csv", "--anonlink-json", "c.json"],
    );
    let err = ok(&d, &args);
    assert!(err.contains("500 rows read = 499 encoded + 1 rejected"), "{err}");
    assert_eq!(read_csv(&d.path("r2.csv")), read_csv(&d.path("r1.csv")));
    let plain = read_csv(&d.path("plain.csv"));
    let out = read_csv(&d.path("out.csv"));
    let map = read_csv(&d.path("map.csv"));
    assert_eq!((out.len(), map.len()), (500, 500));
    assert_eq!(map[0], ["position", "row"]);
    // `row` is now the output position; the mapping leads back to the input row, whose
    // filter is the one the unshuffled run wrote for it.
    let by_row: std::collections::HashMap<&str, &str> =
        plain[1..].iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    for (k, (o, m)) in out[1..].iter().zip(&map[1..]).enumerate() {
        assert_eq!(o[0], (k + 1).to_string());
        assert_eq!(m[0], o[0]);
        assert_eq!(by_row[m[1].as_str()], o[1], "position {}", o[0]);
    }
    // Shuffled: the input rows do not come out in order.
    let rows: Vec<u64> = map[1..].iter().map(|m| m[1].parse().unwrap()).collect();
    assert!(rows.windows(2).filter(|w| w[0] < w[1]).count() < 400, "not shuffled");
    let json = std::fs::read_to_string(d.path("c.json")).unwrap();
    assert!(json.contains(&format!("[\"{}\"", out[1][1])), "the JSON follows the shuffled order");
    // The mapping may not overwrite the input.
    let err = fails(&d, &native("s.toml", "in.csv", "o2.csv", &["--shuffle", "in.csv"]));
    assert!(err.contains("in.csv"), "{err}");
}

#[test]
fn schemas_without_hardening_or_older_than_version_3_are_warned_about() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    d.write("in.csv", "given,born\nanna,1980-01-02\nbo,1990-03-04\n");
    let fields = "[[fields]]\nname = \"given\"\nkind = \"given_name\"\n";
    let born = "[[fields]]\nname = \"born\"\nkind = \"birth_date\"\n";
    let v3 = "version = 3\n[filter]\ncontext = \"p\"\n";
    let cases = [
        (format!("{v3}hardening = []\n{fields}{born}"), Some("no hardening")),
        (format!("version = 2\n{fields}"), Some("schema version 2")),
        (format!("{v3}{fields}"), Some("no salt")),
        (format!("{v3}salt = false\n{fields}{born}"), Some("no salt")),
        (format!("{v3}hardening = [{{ blip = 0.05 }}]\n{fields}{born}"), Some("blip")),
        (format!("{v3}{fields}{born}"), None),
    ];
    for (i, (schema_text, warning)) in cases.into_iter().enumerate() {
        let schema = format!("s{i}.toml");
        d.write(&schema, schema_text);
        let out = format!("o{i}.csv");
        let err = ok(&d, &native(&schema, "in.csv", &out, &[]));
        match warning {
            Some(w) => assert!(err.contains("warning:") && err.contains(w), "{i}: {err}"),
            None => assert!(!err.contains("warning:"), "{i}: {err}"),
        }
    }
}

#[test]
fn an_id_column_named_like_an_output_column_is_refused() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    d.write("in.csv", "row,clk,clk_given,given\n1,a,x,anna\n2,b,y,bo\n");
    d.write(
        "s.toml",
        "version = 3\n[filter]\ncontext = \"p\"\nfield_filters = true\n\
         field_filters_reveal_frequencies = true\n[[fields]]\nname = \"given\"\nkind = \"given_name\"\n",
    );
    for column in ["row", "clk", "clk_given"] {
        let err = fails(&d, &native("s.toml", "in.csv", "out.csv", &["--id-column", column]));
        assert!(err.contains(&format!("column {column:?} already exists")), "{err}");
        assert!(!d.path("out.csv").exists());
    }
    // `given` is no output column's name: accepted.
    ok(&d, &native("s.toml", "in.csv", "out.csv", &["--id-column", "given"]));
    assert_eq!(read_csv(&d.path("out.csv"))[0][..3], ["row", "given", "clk"]);
}

#[test]
fn a_directory_as_key_file_is_named_as_such_once() {
    let d = Dir::new();
    std::fs::create_dir(d.path("keys")).unwrap();
    d.write("in.csv", "given\nanna\n");
    d.write("s.toml", "version = 3\n[filter]\ncontext = \"p\"\n[[fields]]\nname = \"given\"\nkind = \"given_name\"\n");
    let mut args = native("s.toml", "in.csv", "out.csv", &[]);
    args[4] = "keys";
    let err = fails(&d, &args);
    assert_eq!(err.matches("not a regular file").count(), 1, "{err}");
    assert!(!err.contains("mode"), "{err}");
}
