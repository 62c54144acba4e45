use crate::util::*;

#[test]
fn demo_runs_every_step_and_reports_quality() {
    let d = Dir::new();
    let err = ok(
        &d,
        &["demo", "--people", "400", "--countries", "dk,fi", "--overlap", "0.3", "--dir", "out"],
    );
    for step in [
        "synthesise registers",
        "pseudonymise one extract",
        "encode both registers",
        "link across the border",
        "evaluate",
        "total",
    ] {
        assert!(err.contains(step), "{step}: {err}");
    }
    // The report's counts are those of the files it wrote.
    let truth = read_csv(&d.path("out/registers/truth-dk-fi.csv")).len() - 1;
    let found = read_csv(&d.path("out/matches.csv")).len() - 1;
    assert!(truth > 150, "{truth}");
    assert!(err.contains(&format!("true links {truth}, found {found} (")), "{err}");
    let f1: f64 = err.rsplit("F1 ").next().unwrap()[..6].parse().unwrap();
    assert!(f1 > 0.5, "{err}");
    for file in [
        "dk-pseudonymised.csv",
        "dk.parquet",
        "fi.parquet",
        "histogram.svg",
        "schema.toml",
        "encode.key",
        "pseudonymise.key",
    ] {
        assert!(d.path("out").join(file).exists(), "{file}");
    }
    // The pseudonymised extract has no raw identifier left.
    let dk = read_csv(&d.path("out/registers/dk.csv"));
    let pseudonymised = std::fs::read_to_string(d.path("out/dk-pseudonymised.csv")).unwrap();
    assert!(!pseudonymised.contains(&dk[1][0]));
    // A directory that is not empty is refused, and one country twice is an error.
    let err = fails(&d, &["demo", "--people", "400", "--dir", "out"]);
    assert!(err.contains("not empty"), "{err}");
    let o = nordlink(&d, &["demo", "--countries", "se,se", "--dir", "x"]);
    assert!(!o.status.success() && stderr(&o).contains("two different countries"));
    let o = nordlink(&d, &["demo", "--overlap=-0.1", "--dir", "x"]);
    assert!(!o.status.success() && stderr(&o).contains("between 0 and 1"));
    assert!(!d.path("x").exists());
}
