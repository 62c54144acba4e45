//! Writes a synthetic hospital extract as Parquet: a Danish CPR column plus five other
//! columns (visit date, diagnosis, length of stay, cost, hospital), for benchmarks.
//!
//! ```sh
//! cargo run --release -p nordlink-io --example synthetic_extract -- extract.parquet 10000000
//! ```
//!
//! About 1 in 200 identifiers is made invalid (a letter in the serial), so rejects are
//! exercised too. The data are deterministic in the row number; no real person is meant.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, reason = "an example program")]

use std::sync::Arc;

use nordlink_io::TableWriter;
use nordlink_io::arrow_array::builder::{
    Date32Builder, Float64Builder, Int32Builder, StringBuilder,
};
use nordlink_io::arrow_array::{ArrayRef, RecordBatch};
use nordlink_io::arrow_schema::{DataType, Field, Schema};

const DIAGNOSES: [&str; 6] = ["E11", "I10", "J45", "C50", "F32", "Z00"];
const HOSPITALS: [&str; 4] = ["Rigshospitalet", "Aarhus Universitetshospital", "Odense", "Aalborg"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: synthetic_extract OUT.parquet ROWS")?;
    let rows: usize = args.next().ok_or("usage: synthetic_extract OUT.parquet ROWS")?.parse()?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("cpr", DataType::Utf8, true),
        Field::new("visit_date", DataType::Date32, true),
        Field::new("diagnosis", DataType::Utf8, true),
        Field::new("length_of_stay", DataType::Int32, true),
        Field::new("cost_eur", DataType::Float64, true),
        Field::new("hospital", DataType::Utf8, true),
    ]));
    let mut writer = TableWriter::create(path.as_ref(), schema.clone())?;
    let batch = 65_536;
    let mut start = 0;
    while start < rows {
        let n = batch.min(rows - start);
        let mut cpr = StringBuilder::with_capacity(n, n * 11);
        let mut visit = Date32Builder::with_capacity(n);
        let mut diagnosis = StringBuilder::with_capacity(n, n * 3);
        let mut los = Int32Builder::with_capacity(n);
        let mut cost = Float64Builder::with_capacity(n);
        let mut hospital = StringBuilder::with_capacity(n, n * 16);
        for i in start..start + n {
            let x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let (day, month, year) = (1 + x % 28, 1 + (x >> 8) % 12, (x >> 16) % 100);
            let serial = (x >> 24) % 10_000;
            if i % 200 == 199 {
                cpr.append_value(format!("{day:02}{month:02}{year:02}-12x4"));
            } else {
                cpr.append_value(format!("{day:02}{month:02}{year:02}-{serial:04}"));
            }
            visit.append_value(19_000 + (x % 2000) as i32);
            diagnosis.append_value(DIAGNOSES[(x >> 32) as usize % DIAGNOSES.len()]);
            los.append_value(1 + ((x >> 40) % 30) as i32);
            cost.append_value(((x >> 44) % 100_000) as f64 / 7.0);
            hospital.append_value(HOSPITALS[(x >> 52) as usize % HOSPITALS.len()]);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(cpr.finish()),
            Arc::new(visit.finish()),
            Arc::new(diagnosis.finish()),
            Arc::new(los.finish()),
            Arc::new(cost.finish()),
            Arc::new(hospital.finish()),
        ];
        writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
        start += n;
    }
    writer.finish()?;
    Ok(())
}
