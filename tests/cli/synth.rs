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
    assert!(!d.path("o").exists() || std::fs::read_dir(d.path("o")).unwrap().next().is_none());
}
