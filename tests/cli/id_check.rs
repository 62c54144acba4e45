use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Date32Type;
use arrow_array::{Int64Array, StringArray};
use arrow_schema::DataType;

use crate::util::*;

const HEADER: [&str; 7] = ["row", "valid", "normalised", "birth_date", "sex", "kind", "error"];

#[test]
fn csv_report_has_one_row_per_input_row_in_order() {
    let d = Dir::new();
    // valid, valid without mod 11, empty, non-ASCII, quoted with a newline in another
    // column, ragged row, invalid date.
    d.write(
        "in.csv",
        "id,note\n211062-5629,a\n2110620629,b\n,c\n２１１０６２５６２９,d\n\" 111111-1118 \",\"x\ny\"\n111111-1118\n310290-1234,f\n",
    );
    let err = ok(
        &d,
        &[
            "id", "check", "--scheme", "dk", "--input", "in.csv", "--column", "id", "--output",
            "out.csv",
        ],
    );
    let rows = read_csv(&d.path("out.csv"));
    assert_eq!(rows[0], HEADER);
    let expect = [
        ["1", "true", "2110625629", "1862-10-21", "M", "cpr", ""],
        ["2", "true", "2110620629", "1962-10-21", "M", "cpr_no_mod11", ""],
        ["3", "false", "", "", "", "", "empty"],
        ["4", "false", "", "", "", "", "non_ascii"],
        ["5", "true", "1111111118", "1911-11-11", "F", "cpr", ""],
        ["6", "false", "", "", "", "", "field_count"],
        ["7", "false", "", "", "", "", "bad_date"],
    ];
    assert_eq!(rows.len(), expect.len() + 1);
    for (got, want) in rows[1..].iter().zip(expect) {
        assert_eq!(got, &want);
    }
    // The summary counts kinds and errors, and never echoes an identifier.
    assert!(err.contains("7 rows, 3 valid, 4 invalid"), "{err}");
    assert!(err.contains("field_count") && err.contains("cpr_no_mod11"), "{err}");
    assert!(!err.contains("211062") && !err.contains("111111"), "{err}");
}

#[test]
fn batches_keep_order_and_row_numbers() {
    let d = Dir::new();
    let mut input = String::from("pnr\n");
    for i in 0..50 {
        input.push_str(if i % 3 == 0 { "880320-0016\n" } else { "bad\n" });
    }
    d.write("in.csv", input);
    ok(
        &d,
        &[
            "id",
            "check",
            "--scheme",
            "se",
            "--input",
            "in.csv",
            "--column",
            "pnr",
            "--output",
            "out.csv",
            "--batch-size",
            "7",
            "--reference-date",
            "2026-01-01",
        ],
    );
    let rows = read_csv(&d.path("out.csv"));
    assert_eq!(rows.len(), 51);
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string());
        assert_eq!(row[1], if i % 3 == 0 { "true" } else { "false" });
    }
}

#[test]
fn reference_date_decides_the_swedish_century() {
    let d = Dir::new();
    d.write("in.csv", "pnr\n120512-8919\n");
    ok(
        &d,
        &[
            "id",
            "check",
            "--scheme",
            "se",
            "--input",
            "in.csv",
            "--column",
            "pnr",
            "--output",
            "a.csv",
            "--reference-date",
            "2011-12-31",
        ],
    );
    ok(
        &d,
        &[
            "id",
            "check",
            "--scheme",
            "se",
            "--input",
            "in.csv",
            "--column",
            "pnr",
            "--output",
            "b.csv",
            "--reference-date",
            "2012-05-12",
        ],
    );
    // Born 12 May 2012 only once that day has come; before it, a century earlier.
    assert_eq!(read_csv(&d.path("a.csv"))[1][2], "191205128919");
    assert_eq!(read_csv(&d.path("b.csv"))[1][2], "201205128919");
    let args = ["id", "check", "--scheme", "se", "--input", "in.csv", "--column", "pnr"];
    ok(&d, &[&args[..], &["--output", "c.csv", "--reference-date", "2012-05-11"]].concat());
    assert_eq!(read_csv(&d.path("c.csv"))[1][2], "191205128919");
}

#[test]
fn parquet_in_parquet_out_with_typed_columns() {
    let d = Dir::new();
    let ids = StringArray::from(vec![
        Some("131052-308T"),
        None,
        Some("131052-308U"),
        Some("100190y999p"),
    ]);
    d.parquet("in.parquet", vec![("hetu", Arc::new(ids))]);
    ok(
        &d,
        &[
            "id",
            "check",
            "--scheme",
            "fi",
            "--input",
            "in.parquet",
            "--column",
            "hetu",
            "--output",
            "out.parquet",
        ],
    );
    let batches = read_parquet(&d.path("out.parquet"));
    let b = &batches[0];
    assert_eq!(b.num_rows(), 4);
    assert_eq!(b.schema().field(3).data_type(), &DataType::Date32);
    let norm = b.column(2).as_string::<i32>();
    assert_eq!(norm.value(0), "131052-308T");
    assert_eq!(norm.value(3), "100190Y999P");
    let birth = b.column(3).as_primitive::<Date32Type>();
    // 1952-10-13 is 6 289 days before 1970-01-01.
    assert_eq!(birth.value(0), -6289);
    let err = b.column(6).as_string::<i32>();
    assert_eq!((err.value(1), err.value(2)), ("empty", "bad_checksum"));
    assert_eq!(b.column(5).as_string::<i32>().value(3), "hetu_temporary");
}

#[test]
fn integer_parquet_column_is_refused_unless_padding_is_asked_for() {
    let d = Dir::new();
    // 0101901234 stored as an integer has lost its leading zero.
    d.parquet("in.parquet", vec![("cpr", Arc::new(Int64Array::from(vec![101901234, 2110625629])))]);
    let err = fails(
        &d,
        &[
            "id",
            "check",
            "--scheme",
            "dk",
            "--input",
            "in.parquet",
            "--column",
            "cpr",
            "--output",
            "out.csv",
        ],
    );
    assert!(
        err.contains("in.parquet") && err.contains("\"cpr\"") && err.contains("leading zeros"),
        "{err}"
    );
    assert!(err.contains("hint: pass --zero-pad-integers"), "{err}");
    assert!(!d.path("out.csv").exists());
    ok(
        &d,
        &[
            "id",
            "check",
            "--scheme",
            "dk",
            "--input",
            "in.parquet",
            "--column",
            "cpr",
            "--output",
            "out.csv",
            "--zero-pad-integers",
        ],
    );
    let rows = read_csv(&d.path("out.csv"));
    assert_eq!(rows[1][2], "0101901234");
    assert_eq!(rows[2][2], "2110625629");
}

#[test]
fn unusable_input_fails_with_file_and_column_and_writes_nothing() {
    let d = Dir::new();
    d.write("in.csv", "a,b\n1,2\n");
    let err = fails(
        &d,
        &[
            "id", "check", "--scheme", "no", "--input", "in.csv", "--column", "fnr", "--output",
            "out.csv",
        ],
    );
    assert!(err.contains("in.csv") && err.contains("\"fnr\""), "{err}");
    let err = fails(
        &d,
        &[
            "id",
            "check",
            "--scheme",
            "no",
            "--input",
            "missing.csv",
            "--column",
            "a",
            "--output",
            "out.csv",
        ],
    );
    assert!(err.contains("missing.csv"), "{err}");
    let err = fails(
        &d,
        &[
            "id", "check", "--scheme", "no", "--input", "in.csv", "--column", "a", "--output",
            "out.txt",
        ],
    );
    assert!(err.contains("out.txt"), "{err}");
    d.write("bad.parquet", "not parquet at all");
    let err = fails(
        &d,
        &[
            "id",
            "check",
            "--scheme",
            "no",
            "--input",
            "bad.parquet",
            "--column",
            "a",
            "--output",
            "out.csv",
        ],
    );
    assert!(err.contains("bad.parquet"), "{err}");
    assert_eq!(d.listing(), ["bad.parquet", "in.csv"]);
}

#[test]
fn output_never_overwrites_input() {
    let d = Dir::new();
    d.write("in.csv", "a\n1\n");
    let err = fails(
        &d,
        &[
            "id", "check", "--scheme", "ee", "--input", "in.csv", "--column", "a", "--output",
            "in.csv",
        ],
    );
    assert!(err.contains("overwrite"), "{err}");
    assert_eq!(std::fs::read_to_string(d.path("in.csv")).unwrap(), "a\n1\n");
}

#[test]
fn bundled_example_runs() {
    let d = Dir::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/dk_patients.csv");
    let out = d.path("report.csv");
    ok(
        &d,
        &[
            "id",
            "check",
            "--scheme",
            "dk",
            "--input",
            example,
            "--column",
            "cpr",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    let rows = read_csv(&out);
    let input_rows = read_csv(std::path::Path::new(example)).len();
    assert_eq!(rows.len(), input_rows);
    assert!(rows[1..].iter().all(|r| r[1] == "true" || !r[6].is_empty()));
}
