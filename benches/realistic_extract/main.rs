//! Writes `realistic::records` as CSV or Parquet (by extension), for timing `nordlink
//! encode` end to end on realistic data, and prints each column's distinct values.
//!
//! ```sh
//! cargo run --release -p nordlink-benches --bin realistic_extract -- OUT.parquet 1000000 [SEED]
//! ```

use std::sync::Arc;

use nordlink_io::TableWriter;
use nordlink_io::arrow_array::{ArrayRef, RecordBatch, StringArray};
use nordlink_io::arrow_schema::{DataType, Field, Schema};

#[path = "../realistic.rs"]
mod realistic;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: realistic_extract OUT.{csv,parquet} ROWS [SEED]";
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or(usage)?;
    let rows: usize = args.next().ok_or(usage)?.parse()?;
    let seed: u64 = args.next().map_or(Ok(1), |s| s.parse())?;
    let records = realistic::records(rows, seed);
    let fields: Vec<Field> =
        realistic::COLUMNS.iter().map(|c| Field::new(*c, DataType::Utf8, true)).collect();
    let schema = Arc::new(Schema::new(fields));
    let mut writer = TableWriter::create(path.as_ref(), schema.clone())?;
    for chunk in records.chunks(65_536) {
        let columns: Vec<ArrayRef> = (0..realistic::COLUMNS.len())
            .map(|c| {
                let values = chunk.iter().map(|r| Some(r[c].as_str()).filter(|v| !v.is_empty()));
                Arc::new(values.collect::<StringArray>()) as ArrayRef
            })
            .collect();
        writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
    }
    writer.finish()?;
    for (name, n) in realistic::COLUMNS.iter().zip(realistic::cardinalities(&records)) {
        println!("{name}: {n} distinct");
    }
    Ok(())
}
