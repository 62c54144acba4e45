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
    ok(&d, &["key", "generate", "--purpose", "encode", "--out", "other.key"]);
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
    assert!(json.get("pairs_completeness").is_none());
    // Candidates holding three of the four true links: pairs completeness 0.75.
    d.write("c.csv", "left_id,right_id,score\n\"a,1\",b1,0.9\na2,b2,0.85\na4,b4,0.5\na4,b5,0.5\n");
    let args = ["evaluate", "--matches", "m.csv", "--truth", "truth.csv", "--candidates", "c.csv"];
    let o = nordlink(&d, &[&args[..], &["--json"]].concat());
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["pairs_completeness"].as_f64(), Some(0.75));
    let o = nordlink(&d, &args);
    assert!(String::from_utf8_lossy(&o.stdout).contains("pairs completeness 0.7500"));
    let err = fails(&d, &["evaluate", "--matches", "missing.csv", "--truth", "truth.csv"]);
    assert!(err.contains("missing.csv"), "{err}");
}

#[test]
fn rows_set_aside_by_encode_keep_their_input_row_as_id() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    registers(&d);
    // Row 1 has a cell too many: encode sets it aside; the others keep their input row.
    let left = std::fs::read_to_string(d.path("left.csv"))
        .unwrap()
        .replace("1961-07-07,M", "1961-07-07,M,extra");
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

#[test]
fn three_registers_link_into_groups_with_at_most_one_record_per_register() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    registers(&d);
    d.write(
        "third.csv",
        "id,first_name,last_name,dob,sex,city\n\
         no1,Soren,Aero-Hansen,1961-07-07,M,Kobenhavn\n\
         no2,Thordur,Gudmundsson,1975-12-01,M,Reykjavik\n\
         no3,Kari,Nordmann,1990-01-01,F,Oslo\n",
    );
    for name in ["left", "right", "third"] {
        encode(&d, "k.key", &format!("{name}.csv"), &format!("{name}.parquet"));
    }
    let three =
        ["link", "--input", "left.parquet", "--input", "right.parquet", "--input", "third.parquet"];
    let err = ok(&d, &[&three[..], &["--output", "g.csv"]].concat());
    assert!(err.contains("4 x 3 x 3 records") && err.contains("groups"), "{err}");
    let rows = read_csv(&d.path("g.csv"));
    assert_eq!(rows[0], ["group", "input", "id", "score"]);
    let mut groups: std::collections::BTreeMap<&str, Vec<(&str, &str)>> = Default::default();
    for r in &rows[1..] {
        groups.entry(r[0].as_str()).or_default().push((r[1].as_str(), r[2].as_str()));
    }
    let groups: Vec<Vec<(&str, &str)>> = groups.into_values().collect();
    assert!(
        groups.contains(&vec![("0", "dk,1"), ("1", "se2"), ("2", "no1")])
            && groups.contains(&vec![("0", "dk3"), ("1", "se3"), ("2", "no2")])
            && groups.contains(&vec![("0", "dk \"2\""), ("1", "se1")]),
        "{groups:?}"
    );
    // Every group holds at most one record of each input.
    for g in &groups {
        let inputs: std::collections::HashSet<&str> = g.iter().map(|m| m.0).collect();
        assert_eq!(inputs.len(), g.len(), "{g:?}");
    }
    let err = fails(&d, &[&three[..], &["--output", "o.csv", "--solver", "optimal"]].concat());
    assert!(err.contains("three or more inputs"), "{err}");
}

#[test]
fn the_optimal_solver_links_one_to_one() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    registers(&d);
    encode(&d, "k.key", "left.csv", "left.parquet");
    encode(&d, "k.key", "right.csv", "right.parquet");
    let base = ["link", "--input", "left.parquet", "--input", "right.parquet"];
    let err = ok(&d, &[&base[..], &["--output", "o.csv", "--solver", "optimal"]].concat());
    assert!(err.contains("optimal 1-to-1"), "{err}");
    ok(&d, &[&base[..], &["--output", "g.csv"]].concat());
    // The best pairs here are also each other's only good ones: both solvers agree.
    assert_eq!(read_csv(&d.path("o.csv")), read_csv(&d.path("g.csv")));
}

/// `n` people with random syllable names (common syllables far more often, as with real
/// names, so some people have many look-alikes and others none), and a second register holding the first
/// `shared` of them with a typo in every surname, plus people of its own; the truth file
/// lists the shared ones.
fn people(d: &Dir, n: usize, shared: usize) {
    const S: [&str; 32] = [
        "an", "ber", "ka", "li", "ma", "nor", "sa", "te", "vi", "jo", "hel", "ing", "rid", "sig",
        "ol", "us", "mar", "ta", "per", "kri", "sten", "bjø", "ås", "lu", "ni", "ko", "ri", "en",
        "ha", "gu", "ny", "ei",
    ];
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut below = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut person = || {
        // Rank-frequency close to Zipf's law: 32^u - 1 for u uniform in 0..1.
        let mut zipf =
            || (32f64.powf(below(1 << 20) as f64 / f64::from(1 << 20)) as usize).min(32) - 1;
        let mut name = |parts: usize| (0..parts).map(|_| S[zipf()]).collect::<String>();
        let (given, surname, city) = (name(2), name(3), name(2));
        let dob = format!("{}-{:02}-{:02}", 1940 + below(60), 1 + below(12), 1 + below(28));
        (given, surname, dob, city)
    };
    let mut left = String::from("id,first_name,last_name,dob,sex,city\n");
    let mut right = left.clone();
    let mut truth = String::from("left_id,right_id\n");
    for i in 0..n {
        let (g, s, dob, city) = person();
        left += &format!("l{i},{g},{s},{dob},F,{city}\n");
        if i < shared {
            let typo: String =
                s.chars().enumerate().map(|(k, c)| if k == 2 { 'x' } else { c }).collect();
            right += &format!("r{i},{g},{typo},{dob},F,{city}\n");
            truth += &format!("l{i},r{i}\n");
        }
    }
    for i in shared..n {
        let (g, s, dob, city) = person();
        right += &format!("r{i},{g},{s},{dob},F,{city}\n");
    }
    d.write("pl.csv", &left);
    d.write("pr.csv", &right);
    d.write("pt.csv", &truth);
}

#[test]
fn an_automatic_threshold_links_well_and_the_histogram_shows_it() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    people(&d, 3000, 1500);
    encode(&d, "k.key", "pl.csv", "pl.parquet");
    encode(&d, "k.key", "pr.csv", "pr.parquet");
    let err = ok(
        &d,
        &[
            "link",
            "--input",
            "pl.parquet",
            "--input",
            "pr.parquet",
            "--output",
            "m.csv",
            "--threshold",
            "auto",
            "--histogram",
            "h.svg",
        ],
    );
    assert!(err.contains("(auto from 3000 sampled records"), "{err}");
    assert!(!err.contains("warning"), "{err}");
    let o = nordlink(&d, &["evaluate", "--matches", "m.csv", "--truth", "pt.csv", "--json"]);
    let q: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(q["f1"].as_f64().unwrap() > 0.95, "{q}\n{err}");
    // Only an .svg name is accepted, so an input's provenance sidecar cannot be replaced.
    let err = fails(
        &d,
        &[
            "link",
            "--input",
            "pl.parquet",
            "--input",
            "pr.parquet",
            "--output",
            "m2.csv",
            "--threshold",
            "0.8",
            "--histogram",
            "pl.csv.provenance.json",
        ],
    );
    assert!(err.contains("name it FILE.svg"), "{err}");
    let svg = std::fs::read_to_string(d.path("h.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Best score of each of 3000 sampled"), "{svg}");

    // With few true pairs (a tenth of the records), the method's known weakness is
    // said out loud.
    people(&d, 3000, 300);
    encode(&d, "k.key", "pl.csv", "pl.parquet");
    encode(&d, "k.key", "pr.csv", "pr.parquet");
    let err = ok(
        &d,
        &[
            "link",
            "--input",
            "pl.parquet",
            "--input",
            "pr.parquet",
            "--output",
            "m.csv",
            "--threshold",
            "auto",
        ],
    );
    assert!(err.contains("warning: most sampled records seem to have no match"), "{err}");

    // Four records are too few to show two groups of scores.
    registers(&d);
    encode(&d, "k.key", "left.csv", "left.parquet");
    encode(&d, "k.key", "right.csv", "right.parquet");
    let err = fails(
        &d,
        &[
            "link",
            "--input",
            "left.parquet",
            "--input",
            "right.parquet",
            "--output",
            "x.csv",
            "--threshold",
            "auto",
        ],
    );
    assert!(err.contains("too few to choose a threshold"), "{err}");
    assert!(!d.path("x.csv").exists());
}

/// The example schema with field-level filters, written into `d` as `fields.toml`.
fn field_schema(d: &Dir) {
    let schema = std::fs::read_to_string(SCHEMA).unwrap().replacen(
        "[filter]\n",
        "[filter]\nfield_filters = true\nfield_filters_reveal_frequencies = true\n",
        1,
    );
    d.write("fields.toml", schema);
}

#[test]
fn field_level_filters_are_linked_by_fellegi_sunter_without_ground_truth() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    field_schema(&d);
    people(&d, 3000, 600);
    for (input, output) in [("pl.csv", "pl.parquet"), ("pr.csv", "pr.csv.out.csv")] {
        let args = ["encode", "--schema", "fields.toml", "--key", "k.key", "--input", input];
        let mut args = args.to_vec();
        args.extend(["--output", output, "--id-column", "id"]);
        ok(&d, &args);
    }
    // Fellegi–Sunter is asked for; its threshold is automatic by default.
    let link = |out: &'static str, extra: &[&'static str]| {
        let mut args =
            vec!["link", "--input", "pl.parquet", "--input", "pr.csv.out.csv", "--output", out];
        args.extend(["--scoring", "fellegi-sunter"]);
        args.extend_from_slice(extra);
        args
    };
    let err = ok(&d, &link("fs.csv", &[]));
    assert!(err.contains("scoring fellegi-sunter on 5 fields"), "{err}");
    assert!(err.contains("(auto: the fitted model expects precision"), "{err}");
    for field in ["given_name", "surname", "birth_date", "sex", "municipality"] {
        assert!(err.contains(&format!("link:   {field}: agree ")), "{field}: {err}");
    }
    // Every true pair has a typo in its surname: agreement there is what matches lack.
    assert!(err.contains("link:   birth_date: agree +"), "{err}");
    assert!(err.contains("link:   surname: agree -"), "{err}");
    let rows = read_csv(&d.path("fs.csv"));
    assert_eq!(rows[0], ["left_id", "right_id", "score", "match_weight"]);
    for r in &rows[1..] {
        let (p, w): (f64, f64) = (r[2].parse().unwrap(), r[3].parse().unwrap());
        // The probability is the weight's logistic transform (log2 odds).
        assert!((p - 1.0 / (1.0 + (-w).exp2())).abs() < 1e-9, "{r:?}");
    }
    let quality = |file: &str| {
        let o = nordlink(&d, &["evaluate", "--matches", file, "--truth", "pt.csv", "--json"]);
        let q: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        q["f1"].as_f64().unwrap()
    };
    let fs = quality("fs.csv");
    assert!(fs > 0.95, "F1 {fs}\n{err}");
    // Inputs with field filters are scored by Fellegi–Sunter unless Dice is asked for, or
    // a flag only Dice reads.
    let plain = ["link", "--input", "pl.parquet", "--input", "pr.csv.out.csv", "--output"];
    let err = ok(&d, &[&plain[..], &["auto.csv"]].concat());
    assert!(err.contains("scoring fellegi-sunter"), "{err}");
    assert_eq!(read_csv(&d.path("auto.csv")), rows);
    for extra in [&["--scoring", "dice", "--threshold", "auto"][..], &["--top-k", "3"]] {
        let err = ok(&d, &[&plain[..], &["dice.csv"], extra].concat());
        assert!(err.contains("candidates (dice)") && !err.contains("fellegi-sunter"), "{err}");
        assert_eq!(read_csv(&d.path("dice.csv"))[0], ["left_id", "right_id", "score"]);
    }
    let err =
        fails(&d, &[&plain[..], &["x.csv", "--scoring", "dice", "--candidates", "keys"]].concat());
    assert!(err.contains("--candidates applies to Fellegi–Sunter scoring"), "{err}");
    // A fixed threshold is a match probability under Fellegi–Sunter.
    ok(&d, &link("strict.csv", &["--threshold", "0.999"]));
    let strict = read_csv(&d.path("strict.csv"));
    assert!(strict[1..].iter().all(|r| r[2].parse::<f64>().unwrap() >= 0.999));
    assert!(strict.len() <= rows.len());
    // Flags only Dice reads are refused.
    let err = fails(&d, &link("x.csv", &["--top-k", "3"]));
    assert!(err.contains("--top-k applies to Dice scoring"), "{err}");
    let err = fails(&d, &link("x.csv", &["--solver", "optimal"]));
    assert!(err.contains("--solver optimal|none applies to Dice scoring"), "{err}");
    // Without match keys there is nothing to block on.
    let err = fails(&d, &link("x.csv", &["--candidates", "keys"]));
    assert!(err.contains("match keys: no match key"), "{err}");
}

#[test]
fn match_keys_choose_the_candidates_and_the_key_field_is_not_weighed() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    field_schema(&d);
    let keyed = std::fs::read_to_string(d.path("fields.toml")).unwrap().replacen(
        "version = 3\n",
        "version = 3\ndefault_match_keys = true\n",
        1,
    );
    assert!(keyed.contains("default_match_keys"));
    d.write("keys.toml", keyed);
    people(&d, 3000, 600);
    for (input, output) in [("pl.csv", "kl.parquet"), ("pr.csv", "kr.csv.out.csv")] {
        let args = ["encode", "--schema", "keys.toml", "--key", "k.key", "--input", input];
        let err = ok(&d, &[&args[..], &["--output", output, "--id-column", "id"]].concat());
        assert!(err.contains("match keys are equal for equal values"), "{err}");
    }
    let header = &read_csv(&d.path("kr.csv.out.csv"))[0];
    assert!(header.iter().any(|c| c == "key_birth_date"), "{header:?}");
    assert!(header.iter().any(|c| c == "key_salt"), "{header:?}");
    let args = ["link", "--input", "kl.parquet", "--input", "kr.csv.out.csv", "--output", "k.csv"];
    let err = ok(&d, &args);
    assert!(err.contains("candidates by match key birth_date"), "{err}");
    assert!(err.contains("link:   birth_date: not weighed"), "{err}");
    let o = nordlink(&d, &["evaluate", "--matches", "k.csv", "--truth", "pt.csv", "--json"]);
    let q: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(q["f1"].as_f64().unwrap() > 0.95, "{q}\n{err}");
    // --explain: per match, each field's level and weight, which add up to its weight.
    ok(&d, &[&args[..], &["--explain", "ex.csv"]].concat());
    let ex = read_csv(&d.path("ex.csv"));
    let matches = read_csv(&d.path("k.csv"));
    assert_eq!(ex.len(), matches.len());
    assert_eq!(
        &ex[0][..6],
        ["left_id", "right_id", "score", "match_weight", "prior_weight", "given_name_level"]
    );
    assert_eq!(ex[0].last().unwrap(), "salt_weight");
    let weight_columns: Vec<usize> =
        (5..ex[0].len()).filter(|&c| ex[0][c].ends_with("_weight")).collect();
    for row in &ex[1..] {
        let total: f64 = row[4].parse::<f64>().unwrap()
            + weight_columns.iter().map(|&c| row[c].parse::<f64>().unwrap()).sum::<f64>();
        assert!((total - row[3].parse::<f64>().unwrap()).abs() < 1e-6, "{row:?}");
    }
    let err = fails(&d, &[&args[..], &["--scoring", "dice", "--explain", "x.csv"]].concat());
    assert!(err.contains("--explain and --model-chart apply to Fellegi–Sunter"), "{err}");
    // --model-chart: the fitted weights as an SVG, one bar per field and level.
    ok(&d, &[&args[..], &["--model-chart", "model.svg"]].concat());
    let svg = std::fs::read_to_string(d.path("model.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("given_name: Dice ≥ 0.95") && svg.contains("birth_date</text>"), "{svg}");
    assert!(svg.contains("not weighed"), "{svg}");
    // given_name, surname, sex, municipality: 5 bands and "one holds the other" each;
    // names_swapped: agree and disagree; the prior: one bar.
    assert_eq!(svg.matches("<rect x=").count(), 27, "{svg}");
    assert!(svg.contains("names_swapped: agree"), "{svg}");
    assert!(svg.contains("given_name: one holds the other"), "{svg}");
    let err = fails(&d, &[&args[..], &["--model-chart", "model.png"]].concat());
    assert!(err.contains("--model-chart writes an SVG image"), "{err}");
    // Filter candidates remain available, and keys of different names do not mix.
    let err = ok(&d, &[&args[..], &["--candidates", "filters"]].concat());
    assert!(err.contains("candidates by none (all pairs, best 10"), "{err}");
}

#[test]
fn fellegi_sunter_needs_field_filters_on_both_sides() {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    field_schema(&d);
    people(&d, 200, 100);
    for (input, output) in [("pl.csv", "pl.csv.out.csv"), ("pr.csv", "pr.csv.out.csv")] {
        let mut args = vec!["encode", "--schema", "fields.toml", "--key", "k.key"];
        args.extend(["--input", input, "--output", output, "--id-column", "id"]);
        ok(&d, &args);
    }
    // The right file as a plain clkhash-style CSV: ids and record filters only.
    let rows = read_csv(&d.path("pr.csv.out.csv"));
    let (id, clk) = (
        rows[0].iter().position(|c| c == "id").unwrap(),
        rows[0].iter().position(|c| c == "clk").unwrap(),
    );
    let plain: String = rows.iter().map(|r| format!("{},{}\n", r[id], r[clk])).collect();
    d.write("plain.csv", plain);
    let link = ["link", "--input", "pl.csv.out.csv", "--input", "plain.csv", "--output", "m.csv"];
    let mut asked = link.to_vec();
    asked.extend(["--scoring", "fellegi-sunter"]);
    let err = fails(&d, &asked);
    assert!(err.contains("needs the same field-level filter columns"), "{err}");
    assert!(err.contains("plain.csv has []"), "{err}");
    // Without the flag, link scores by Dice.
    let err = ok(&d, &link);
    assert!(!err.contains("fellegi-sunter") && err.contains("200 x 200 records"), "{err}");
}
