//! Issue 10: no input or key is ever overwritten, outputs are all or nothing, exit codes
//! stay 0 and 2, and nothing is left behind by a failed or interrupted run.

use std::process::{Command, Stdio};

use crate::util::{Dir, KAT_KEY, fails, ok, stderr};

const PEOPLE: &str = "cpr,name\n211062-5629,Jens\n111111-1118,Signe\n";

pub(crate) fn pseudonymise<'a>(input: &'a str, output: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "pseudonymise",
        "--key",
        "k.key",
        "--scheme",
        "dk",
        "--column",
        "cpr",
        "--context",
        "t",
        "--input",
        input,
        "--output",
        output,
    ];
    args.extend_from_slice(extra);
    args
}

fn setup() -> Dir {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    d.write("people.csv", PEOPLE);
    d
}

#[test]
fn links_to_an_input_or_key_are_the_input_or_key() {
    let d = setup();
    std::os::unix::fs::symlink("people.csv", d.path("current.csv")).unwrap();
    std::fs::hard_link(d.path("people.csv"), d.path("hard.csv")).unwrap();
    std::os::unix::fs::symlink("k.key", d.path("key-link.csv")).unwrap();
    for (input, output) in
        [("current.csv", "people.csv"), ("hard.csv", "people.csv"), ("people.csv", "key-link.csv")]
    {
        let e = fails(&d, &pseudonymise(input, output, &[]));
        assert!(e.contains("would overwrite the input"), "{input} -> {output}: {e}");
    }
    // A rejects file or a provenance sidecar through a link counts too.
    std::os::unix::fs::symlink("people.csv", d.path("x.csv.provenance.json")).unwrap();
    let e = fails(&d, &pseudonymise("people.csv", "x.csv", &[]));
    assert!(e.contains("would overwrite the input"), "{e}");
    let e = fails(&d, &pseudonymise("people.csv", "out.csv", &["--rejects", "current.csv"]));
    assert!(e.contains("would overwrite the input"), "{e}");
    assert_eq!(std::fs::read_to_string(d.path("people.csv")).unwrap(), PEOPLE);
    assert_eq!(std::fs::read_to_string(d.path("k.key")).unwrap(), KAT_KEY);
}

#[test]
fn a_run_places_all_its_outputs_or_none() {
    let d = setup();
    d.write("mixed.csv", "cpr,name\n211062-5629,Jens\nnot-a-number,Signe\n");
    std::fs::create_dir(d.path("rejects.csv")).unwrap();
    let e = fails(&d, &pseudonymise("mixed.csv", "out.csv", &["--rejects", "rejects.csv"]));
    assert!(e.contains("rejects.csv") && e.contains("is a directory"), "{e}");
    assert!(!d.path("out.csv").exists(), "the main output was placed: {:?}", d.listing());
    // Nothing else appeared either (no temporary files).
    assert_eq!(d.listing(), ["k.key", "mixed.csv", "people.csv", "rejects.csv"]);
}

#[test]
fn an_unwritable_stderr_changes_neither_the_exit_code_nor_the_output() {
    let d = setup();
    // A success, then a failure (exit 2, not 101), both with stderr on a full device.
    for (input, code) in [("people.csv", 0), ("missing.csv", 2)] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let status = Command::new(env!("CARGO_BIN_EXE_nordlink"))
            .args(pseudonymise(input, "out.csv", &[]))
            .current_dir(d.path("."))
            .stderr(Stdio::from(full))
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code), "{input}");
    }
    assert_eq!(std::fs::read_to_string(d.path("out.csv")).unwrap().lines().count(), 3);
}

#[test]
fn an_interrupted_run_leaves_nothing() {
    let d = setup();
    let mut big = String::from("cpr,name\n");
    for i in 0..2_000_000 {
        big.push_str(&format!("211062-5629,Person {i}\nnot-valid,Other {i}\n"));
    }
    d.write("big.csv", big);
    for signal in ["INT", "TERM", "HUP"] {
        let child = Command::new(env!("CARGO_BIN_EXE_nordlink"))
            .args(pseudonymise("big.csv", "out.parquet", &["--rejects", "rejects.csv"]))
            .current_dir(d.path("."))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(400));
        let killed = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let out = child.wait_with_output().unwrap();
        // 4 M rows take seconds in a test build: the signal came mid-run.
        assert_eq!(out.status.code(), Some(2), "SIG{signal}: {}", stderr(&out));
        assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
        assert_eq!(d.listing(), ["big.csv", "k.key", "people.csv"], "after SIG{signal}");
    }
    // Undisturbed, the same run places both outputs.
    ok(&d, &pseudonymise("people.csv", "out.parquet", &["--rejects", "rejects.csv"]));
    assert!(d.path("out.parquet").exists() && d.path("rejects.csv").exists());
}

#[test]
fn integer_columns_of_finnish_numbers_get_no_zero_padding_hint() {
    use arrow_array::{ArrayRef, Int64Array};
    use std::sync::Arc;
    let d = setup();
    let ids: ArrayRef = Arc::new(Int64Array::from(vec![131052308]));
    d.parquet("fi.parquet", vec![("hetu", ids)]);
    let args = [
        "pseudonymise",
        "--key",
        "k.key",
        "--scheme",
        "fi",
        "--column",
        "hetu",
        "--context",
        "t",
        "--input",
        "fi.parquet",
        "--output",
        "out.csv",
    ];
    let e = fails(&d, &args);
    assert!(e.contains("export the column as text") && !e.contains("zero-pad"), "{e}");
    // A Danish integer column still gets the hint.
    let e = fails(&d, &args.map(|a| if a == "fi" { "dk" } else { a }));
    assert!(e.contains("--zero-pad-integers"), "{e}");
}
