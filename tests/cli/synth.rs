use crate::util::*;

#[test]
fn synth_writes_registers_and_truth_deterministically() {
    let d = Dir::new();
    let args = ["synth", "--people", "300", "--registers", "dk,se,lt", "--overlap", "0.2"];
    let err = ok(&d, &[&args[..], &["--out-dir", "a", "--seed", "5"]].concat());
    assert!(err.contains("3 registers") && err.contains("300 residents each"), "{err}");
    ok(&d, &[&args[..], &["--out-dir", "b", "--seed", "5"]].concat());
    ok(&d, &[&args[..], &["--out-dir", "c", "--seed", "6"]].concat());
    for f in ["dk.csv", "se.csv", "lt.csv", "truth.csv"] {
        let a = std::fs::read(d.path(&format!("a/{f}"))).unwrap();
        assert_eq!(a, std::fs::read(d.path(&format!("b/{f}"))).unwrap(), "{f}: same seed");
        assert_ne!(a, std::fs::read(d.path(&format!("c/{f}"))).unwrap(), "{f}: other seed");
    }
    let dk = read_csv(&d.path("a/dk.csv"));
    assert_eq!(dk[0], ["id", "given_name", "surname", "birth_date", "sex", "municipality"]);
    let truth = read_csv(&d.path("a/truth.csv"));
    assert_eq!(truth[0], ["left_register", "left_id", "right_register", "right_id"]);
    // About a fifth of 900 residents moved; each link names rows that exist.
    assert!((100..=260).contains(&(truth.len() - 1)), "{}", truth.len());
    let ids = |cc: &str| -> std::collections::HashSet<String> {
        read_csv(&d.path(&format!("a/{cc}.csv")))[1..].iter().map(|r| r[0].clone()).collect()
    };
    let (dk_ids, se_ids, lt_ids) = (ids("dk"), ids("se"), ids("lt"));
    let of = |cc: &str| match cc {
        "dk" => &dk_ids,
        "se" => &se_ids,
        _ => &lt_ids,
    };
    for link in &truth[1..] {
        assert_ne!(link[0], link[2]);
        assert!(of(&link[0]).contains(&link[1]) && of(&link[2]).contains(&link[3]), "{link:?}");
    }
    // The per-pair truth is what `nordlink evaluate` reads: judged against itself, perfect;
    // and it holds exactly the dk-se links of the combined file.
    let pair = read_csv(&d.path("a/truth-dk-se.csv"));
    assert_eq!(pair[0], ["left_id", "right_id"]);
    let dk_se = truth[1..]
        .iter()
        .filter(|l| matches!((l[0].as_str(), l[2].as_str()), ("dk", "se") | ("se", "dk")));
    assert_eq!(pair.len() - 1, dk_se.count());
    for p in &pair[1..] {
        assert!(dk_ids.contains(&p[0]) && se_ids.contains(&p[1]), "{p:?}");
    }
    let o = nordlink(
        &d,
        &["evaluate", "--matches", "a/truth-dk-se.csv", "--truth", "a/truth-dk-se.csv", "--json"],
    );
    let q: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(q["f1"].as_f64(), Some(1.0), "{q}");
    // A second run into the same directory replaces nothing.
    let before = std::fs::read(d.path("a/truth.csv")).unwrap();
    let err = fails(&d, &[&args[..], &["--out-dir", "a", "--seed", "9"]].concat());
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(d.path("a/truth.csv")).unwrap(), before);
    // Every Danish identifier is valid: `id check` agrees.
    ok(
        &d,
        &[
            "id", "check", "--scheme", "dk", "--input", "a/dk.csv", "--column", "id", "--output",
            "r.csv",
        ],
    );
    let report = read_csv(&d.path("r.csv"));
    let valid = report[0].iter().position(|h| h == "valid").unwrap();
    assert!(report[1..].iter().all(|r| r[valid] == "true"), "{:?}", &report[..3]);
}

#[test]
fn synth_refuses_bad_arguments() {
    let d = Dir::new();
    let err = fails(&d, &["synth", "--people", "10", "--registers", "dk,xx", "--out-dir", "o"]);
    assert!(err.contains("unknown country"), "{err}");
    let err = fails(&d, &["synth", "--people", "10", "--overlap", "2", "--out-dir", "o"]);
    assert!(err.contains("share of movers"), "{err}");
    let err = fails(&d, &["synth", "--people", "10", "--registers", "dk,dk", "--out-dir", "o"]);
    assert!(err.contains("at most once"), "{err}");
    // Seven registers of 10 M residents would not fit in memory: refused up front.
    let err = fails(&d, &["synth", "--people", "10000000", "--out-dir", "o"]);
    assert!(err.contains("rows in all"), "{err}");
    assert!(!d.path("o").exists() || std::fs::read_dir(d.path("o")).unwrap().next().is_none());
}
