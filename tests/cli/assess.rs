use crate::util::*;

/// A register of `n` people (given name from a small skewed list, a birth date), the
/// encoding schema with `filter` lines, encoded under the known-answer key.
fn encoded(d: &Dir, filter: &str) {
    d.private("k.key", KAT_KEY);
    let names = ["anna", "erik", "maria", "lars", "karin", "nils", "eva", "olof", "ingrid", "sven"];
    let mut csv = String::from("id,given,born\n");
    for i in 0..2_000 {
        let name = names[(i * i + 3 * i) % 37 % names.len()];
        let _ = std::fmt::Write::write_fmt(
            &mut csv,
            format_args!("p{i},{name},19{:02}-0{}-1{}\n", 40 + i % 50, 1 + i % 9, i % 10),
        );
    }
    d.write("in.csv", &csv);
    let schema = format!(
        "version = 2\n[filter]\ncontext = \"t\"\n{filter}\n[[fields]]\nname = \"given\"\nkind = \"given_name\"\n\
         [[fields]]\nname = \"born\"\nkind = \"birth_date\"\n"
    );
    d.write("s.toml", &schema);
    ok(
        d,
        &[
            "encode",
            "--schema",
            "s.toml",
            "--key",
            "k.key",
            "--input",
            "in.csv",
            "--output",
            "e.parquet",
        ],
    );
}

/// `nordlink assess` of `e.parquet` under `s.toml` against `plaintext`, then `extra`.
fn assess_args<'a>(plaintext: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args =
        vec!["assess", "--plaintext", plaintext, "--encoded", "e.parquet", "--schema", "s.toml"];
    args.extend_from_slice(extra);
    args
}

fn json(d: &Dir) -> serde_json::Value {
    let o = nordlink(
        d,
        &[
            "assess",
            "--plaintext",
            "in.csv",
            "--encoded",
            "e.parquet",
            "--schema",
            "s.toml",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn assess_reports_what_the_attacks_recover() {
    let d = Dir::new();
    encoded(&d, "");
    let plain = json(&d);
    let overall = plain["overall"]["reidentified_share"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&overall));
    let given = plain["fields"]["given"]["pattern_reidentified"].as_f64().unwrap();
    assert!(given > 0.5, "{plain}");
    assert!(plain["fields"]["born"].is_object());
    // A salt per birth year hides the names' bits.
    let d2 = Dir::new();
    encoded(&d2, "salt = { field = \"born\", year_only = true }");
    let salted = json(&d2);
    assert!(
        salted["fields"]["given"]["pattern_reidentified"].as_f64().unwrap() < given,
        "{salted}"
    );
    // Markdown report; an output that is not .md, or that names an input, is refused.
    let err = ok(&d, &assess_args("in.csv", &["--report", "r.md"]));
    assert!(err.contains("r.md"), "{err}");
    assert!(std::fs::read_to_string(d.path("r.md")).unwrap().contains("| given |"));
    let err = fails(&d, &assess_args("in.csv", &["--report", "r.txt"]));
    assert!(err.contains("FILE.md"), "{err}");
    let err = fails(&d, &assess_args("in.csv", &["--report", "in.csv"]));
    assert!(err.contains("in.csv"), "{err}");
    // The wrong plaintext (fewer rows than were encoded) is an error naming the row.
    d.write("short.csv", "id,given,born\np0,anna,1940-01-10\n");
    let err = fails(&d, &assess_args("short.csv", &[]));
    assert!(err.contains("short.csv") && err.contains("row 2"), "{err}");
    assert!(!err.contains("anna"), "{err}");
}

#[test]
fn assess_reports_what_match_keys_give_away() {
    let d = Dir::new();
    encoded(&d, "");
    // The same register under version 3 (a birth-year salt) with a birth-date key.
    d.write(
        "s.toml",
        "version = 3\n[filter]\ncontext = \"t\"\n[[fields]]\nname = \"given\"\nkind = \"given_name\"\n\
         [[fields]]\nname = \"born\"\nkind = \"birth_date\"\n\
         [[match_keys]]\nname = \"dob\"\nparts = [{ field = \"born\" }]\n",
    );
    std::fs::remove_file(d.path("e.parquet")).unwrap();
    let args = ["encode", "--schema", "s.toml", "--key", "k.key", "--input", "in.csv"];
    ok(&d, &[&args[..], &["--output", "e.parquet"]].concat());
    let report = json(&d);
    let dob = &report["keys"]["dob"];
    // 2 000 records over 50 years x 9 months x 10 days, each date held by 4 or 5 records.
    assert_eq!(dob["distinct_values"].as_u64(), Some(450), "{report}");
    assert_eq!(dob["largest_group"].as_u64(), Some(5), "{report}");
    // Within a year the 40 records fall on 9 dates, four of 5 records and five of 4: no
    // size is unique, so alignment names no date.
    assert_eq!(dob["reidentified_share"].as_f64(), Some(0.0), "{report}");
    // 50 birth years of 40 records each: equal sizes, so the salt key names none.
    assert_eq!(report["keys"]["salt"]["reidentified_share"].as_f64(), Some(0.0), "{report}");
    let err = ok(&d, &assess_args("in.csv", &["--report", "r.md"]));
    assert!(err.contains("r.md"), "{err}");
    assert!(std::fs::read_to_string(d.path("r.md")).unwrap().contains("| dob |"));
    // A schema naming a key the file lacks (encoded before the key existed): noted,
    // and the other keys are assessed.
    let schema = std::fs::read_to_string(d.path("s.toml")).unwrap();
    d.write("s.toml", schema.replace("\"dob\"", "\"born_key\""));
    let err = ok(&d, &assess_args("in.csv", &["--report", "r2.md"]));
    assert!(err.contains("key_born_key") && err.contains("e.parquet"), "{err}");
    let report = std::fs::read_to_string(d.path("r2.md")).unwrap();
    assert!(report.contains("| salt |") && !report.contains("born_key"), "{report}");
}
