use crate::util::*;

const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/nordic_schema.toml");

/// Two registers: the Danish and Swedish spellings of the same people, ids that need
/// CSV quoting, and one person only in the left register.
fn registers(d: &Dir) {
    d.write(
        "left.csv",
        "id,first_name,last_name,dob,sex,city\n\
         \"dk,1\",Søren,Ærø-Hansen,1961-07-07,M,København\n\
         \"dk \"\"2\"\"\",Åsa,Öberg,1984-04-25,F,Göteborg\n\
         dk3,Þórður,Guðmundsson,1975-12-01,M,Reykjavík\n\
         dk4,Jūratė,Petrauskienė,2001-06-10,F,Kaunas\n",
    );
    d.write(
        "right.csv",
        "id,first_name,last_name,dob,sex,city\n\
         se1,Asa,Oberg,1984-04-25,F,Goteborg\n\
         se2,Soeren,Aeroe Hansen,1961-07-07,m,Kobenhavn\n\
         se3,Thordur,Gudmundsson,1975-12-01,M,Reykjavik\n",
    );
}

fn encode(d: &Dir, key: &str, input: &str, output: &str) {
    ok(d, &encode_args(key, input, output, &["--id-column", "id"]));
}

/// `nordlink encode` of `input` under the example schema, with `extra` flags.
fn encode_args<'a>(
    key: &'a str,
    input: &'a str,
    output: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args =
        vec!["encode", "--schema", SCHEMA, "--key", key, "--input", input, "--output", output];
    args.extend_from_slice(extra);
    args
}

#[test]
fn links_two_registers_one_to_one_by_their_ids() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    registers(&d);
    encode(&d, "k.key", "left.csv", "left.parquet");
    encode(&d, "k.key", "right.csv", "right.csv.out.csv");
    let err = ok(
        &d,
        &["link", "--input", "left.parquet", "--input", "right.csv.out.csv", "--output", "m.csv"],
    );
    assert!(err.contains("4 x 3 records") && err.contains("3 matches"), "{err}");
    let rows = read_csv(&d.path("m.csv"));
    assert_eq!(rows[0], ["left_id", "right_id", "score"]);
    let pairs: Vec<(&str, &str)> =
        rows[1..].iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(pairs, [("dk,1", "se2"), ("dk \"2\"", "se1"), ("dk3", "se3")]);
    for r in &rows[1..] {
        let score: f64 = r[2].parse().unwrap();
        assert!((0.8..=1.0).contains(&score), "{r:?}");
    }
    // Every candidate pair instead of 1-to-1, at a lower threshold: more pairs.
    ok(
        &d,
        &[
            "link",
            "--input",
            "left.parquet",
            "--input",
            "right.csv.out.csv",
            "--output",
            "all.csv",
            "--solver",
            "none",
            "--threshold",
            "0.3",
        ],
    );
    assert!(read_csv(&d.path("all.csv")).len() > rows.len());
    // The best one per left record, at that low threshold: one row per left record.
    ok(
        &d,
        &[
            "link",
            "--input",
            "left.parquet",
            "--input",
            "right.csv.out.csv",
            "--output",
            "top.csv",
            "--solver",
            "none",
            "--threshold",
            "0.3",
            "--top-k",
            "1",
        ],
    );
    let top = read_csv(&d.path("top.csv"));
    assert!(top.len() - 1 <= 4 && top[1..].iter().all(|r| r.len() == 3), "{top:?}");
    let lefts: std::collections::HashSet<&str> = top[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(lefts.len(), top.len() - 1);
    // LSH blocking on request: same matches here, and the summary says what was used.
    let err = ok(
        &d,
        &[
            "link",
            "--input",
            "left.parquet",
            "--input",
            "right.csv.out.csv",
            "--output",
            "l.csv",
            "--blocking",
            "lsh",
        ],
    );
    assert!(err.contains("blocking lsh (") && err.contains("reduction ratio"), "{err}");
    assert_eq!(read_csv(&d.path("l.csv")), rows);
    let err = ok(
        &d,
        &["link", "--input", "left.parquet", "--input", "right.csv.out.csv", "--output", "n.csv"],
    );
    assert!(err.contains("blocking none (all pairs)"), "{err}");
}

#[test]
fn inputs_encoded_differently_are_refused_naming_both_values() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    ok(&d, &["key", "generate", "--out", "other.key"]);
    registers(&d);
    encode(&d, "k.key", "left.csv", "left.parquet");
    encode(&d, "other.key", "right.csv", "right.parquet");
    let err = fails(
        &d,
        &["link", "--input", "left.parquet", "--input", "right.parquet", "--output", "m.csv"],
    );
    assert!(err.contains("key_id") && err.contains("a7fbea2583bf3446"), "{err}");
    assert!(!d.path("m.csv").exists());
}

#[test]
fn empty_and_single_record_inputs_and_plain_clkhash_csvs() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    registers(&d);
    encode(&d, "k.key", "left.csv", "left.csv.enc.csv");
    // A plain CSV of base64 filters without provenance (what clkhash users have):
    // linked with a note; its records named by its id column.
    let enc = read_csv(&d.path("left.csv.enc.csv"));
    let plain: String = std::iter::once("id,clk\n".to_owned())
        .chain(enc[1..2].iter().map(|r| format!("p1,{}\n", r[2])))
        .collect();
    d.write("plain.csv", plain);
    let err = ok(
        &d,
        &["link", "--input", "left.csv.enc.csv", "--input", "plain.csv", "--output", "m.csv"],
    );
    assert!(err.contains("no provenance"), "{err}");
    let rows = read_csv(&d.path("m.csv"));
    assert_eq!(rows[1][..2], ["dk,1", "p1"]);
    assert_eq!(rows[1][2].parse::<f64>().unwrap(), 1.0);
    // An input with no records links to nothing, without error.
    d.write("empty.csv", "id,clk\n");
    let err = ok(
        &d,
        &["link", "--input", "left.csv.enc.csv", "--input", "empty.csv", "--output", "e.csv"],
    );
    assert!(err.contains("0 matches"), "{err}");
    // A malformed filter names the file and row.
    d.write("bad.csv", "id,clk\nx,not base64!\n");
    let err = fails(
        &d,
        &["link", "--input", "left.csv.enc.csv", "--input", "bad.csv", "--output", "b.csv"],
    );
    assert!(err.contains("bad.csv") && err.contains("row 1"), "{err}");
}

#[test]
fn evaluate_reports_precision_recall_and_f1() {
    let d = Dir::new();
    d.write("m.csv", "left_id,right_id,score\n\"a,1\",b1,0.9\na2,b2,0.85\na3,b9,0.81\n");
    d.write("truth.csv", "left_id,right_id\n\"a,1\",b1\na2,b2\na4,b4\na5,b5\n");
    let o = nordlink(&d, &["evaluate", "--matches", "m.csv", "--truth", "truth.csv", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (json["tp"].as_u64(), json["fp"].as_u64(), json["fn"].as_u64()),
        (Some(2), Some(1), Some(2))
    );
    assert!((json["precision"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(json["recall"].as_f64(), Some(0.5));
    assert!((json["f1"].as_f64().unwrap() - 4.0 / 7.0).abs() < 1e-12);
    let o = nordlink(&d, &["evaluate", "--matches", "m.csv", "--truth", "truth.csv"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("F1 0.5714"));
    let err = fails(&d, &["evaluate", "--matches", "missing.csv", "--truth", "truth.csv"]);
    assert!(err.contains("missing.csv"), "{err}");
}

#[test]
fn rows_set_aside_by_encode_keep_their_input_row_as_id() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    registers(&d);
    // Row 1 has an impossible date: encode sets it aside; the others keep their input row.
    let left = std::fs::read_to_string(d.path("left.csv"))
        .unwrap()
        .replace("1961-07-07,M", "1961-02-30,M");
    d.write("left.csv", left);
    ok(&d, &encode_args("k.key", "left.csv", "l.parquet", &["--rejects", "rej.csv"]));
    encode(&d, "k.key", "right.csv", "r.parquet");
    ok(
        &d,
        &[
            "link",
            "--input",
            "l.parquet",
            "--input",
            "r.parquet",
            "--output",
            "m.csv",
            "--id-column",
            "row",
        ],
    );
    let rows = read_csv(&d.path("m.csv"));
    let pairs: Vec<(&str, &str)> =
        rows[1..].iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    // Left rows 2 (Åsa) and 3 (Þórður) of the input, right ids by the id column... here
    // also by --id-column row: rows 1 (Asa) and 3 (Thordur).
    assert_eq!(pairs, [("2", "1"), ("3", "3")]);
    // Without --id-column: the left output has no id column, so its `row` column names
    // records; the right one has `id`.
    ok(&d, &["link", "--input", "l.parquet", "--input", "r.parquet", "--output", "m2.csv"]);
    let rows = read_csv(&d.path("m2.csv"));
    let pairs: Vec<(&str, &str)> =
        rows[1..].iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(pairs, [("2", "se1"), ("3", "se3")]);
    // An explicit header flag overrides the guess.
    d.write("t.csv", "rec_id_1,rec_id_2\n2,1\n3,3\n");
    let o =
        nordlink(&d, &["evaluate", "--matches", "m.csv", "--truth", "t.csv", "--json", "--header"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["f1"].as_f64(), Some(1.0), "{json}");
}

#[test]
fn exact_blocking_on_a_column_carried_through_encode() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    registers(&d);
    for (input, output) in [("left.csv", "l.parquet"), ("right.csv", "r.csv")] {
        ok(
            &d,
            &encode_args("k.key", input, output, &["--id-column", "id", "--keep-column", "dob"]),
        );
    }
    let err = ok(
        &d,
        &[
            "link",
            "--input",
            "l.parquet",
            "--input",
            "r.csv",
            "--output",
            "m.csv",
            "--blocking",
            "column:dob",
        ],
    );
    assert!(err.contains("blocking column \"dob\""), "{err}");
    let rows = read_csv(&d.path("m.csv"));
    let pairs: Vec<(&str, &str)> =
        rows[1..].iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(pairs, [("dk,1", "se2"), ("dk \"2\"", "se1"), ("dk3", "se3")]);
    // Blocking on sex, written "M" in one register and "m" in the other: that pair is
    // never compared, which is what exact blocking means.
    for (input, output) in [("left.csv", "l2.parquet"), ("right.csv", "r2.parquet")] {
        ok(
            &d,
            &encode_args("k.key", input, output, &["--id-column", "id", "--keep-column", "sex"]),
        );
    }
    ok(
        &d,
        &[
            "link",
            "--input",
            "l2.parquet",
            "--input",
            "r2.parquet",
            "--output",
            "s.csv",
            "--blocking",
            "column:sex",
        ],
    );
    assert_eq!(read_csv(&d.path("s.csv")).len(), 3);
    // A kept column may not shadow an output column; a bad --blocking value is refused.
    let err = fails(
        &d,
        &encode_args("k.key", "left.csv", "x.csv", &["--id-column", "id", "--keep-column", "id"]),
    );
    assert!(err.contains("\"id\""), "{err}");
    let o = nordlink(
        &d,
        &[
            "link",
            "--input",
            "l.parquet",
            "--input",
            "r.csv",
            "--output",
            "m.csv",
            "--blocking",
            "column:",
        ],
    );
    assert!(!o.status.success());
}

#[test]
fn anonlink_clk_json_inputs_are_named_by_position() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    registers(&d);
    for (input, json) in [("left.csv", "left.json"), ("right.csv", "right.json")] {
        ok(
            &d,
            &encode_args(
                "k.key",
                input,
                &format!("{input}.enc.parquet"),
                &["--anonlink-json", json],
            ),
        );
    }
    let err =
        ok(&d, &["link", "--input", "left.json", "--input", "right.json", "--output", "m.csv"]);
    assert!(err.contains("no provenance") && err.contains("3 matches"), "{err}");
    let rows = read_csv(&d.path("m.csv"));
    let pairs: Vec<(&str, &str)> =
        rows[1..].iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(pairs, [("0", "1"), ("1", "0"), ("2", "2")]);
    d.write("bad.json", "{\"clks\": [\"gAE=\", 7]}");
    let err =
        fails(&d, &["link", "--input", "left.json", "--input", "bad.json", "--output", "b.csv"]);
    assert!(err.contains("bad.json") && err.contains("anonlink"), "{err}");
    let err = fails(
        &d,
        &[
            "link",
            "--input",
            "left.json",
            "--input",
            "right.json",
            "--output",
            "b.csv",
            "--id-column",
            "x",
        ],
    );
    assert!(err.contains("no columns"), "{err}");
}
