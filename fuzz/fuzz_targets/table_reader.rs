//! Fuzzes the table reader (`TableReader`) on arbitrary bytes as a CSV or a Parquet file:
//! an error or batches, never a panic; batches are numbered without gaps, problems point
//! at rows of their batch, and a CSV never yields more rows than it has lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nordlink_io::{ReadOptions, TableReader};

fuzz_target!(|data: &[u8]| {
    // The reader catches panics of the parquet crate's decoder threads and reports them
    // as errors; libfuzzer-sys's hook would abort on them even so. A panic that escapes
    // the reader still fails the run (the harness aborts on it).
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Some((&kind, body)) = data.split_first() else { return };
    // A RAM-backed directory where there is one: the target writes a file per input.
    let dir = match std::path::Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm"),
        false => tempfile::tempdir(),
    };
    let Ok(dir) = dir else { return };
    let csv = kind & 1 == 0;
    let path = dir.path().join(if csv { "in.csv" } else { "in.parquet" });
    if std::fs::write(&path, body).is_err() {
        return;
    }
    let batch_size = 1 + usize::from(kind >> 1) % 7;
    let Ok(reader) = TableReader::open(&path, ReadOptions { batch_size }) else { return };
    let columns = reader.schema().fields().len();
    let mut next = 1u64;
    for batch in reader {
        let Ok(batch) = batch else { break };
        assert_eq!(batch.first_row, next);
        assert_eq!(batch.data.num_columns(), columns);
        let rows = batch.data.num_rows();
        assert!(rows > 0 && rows <= batch_size);
        assert!(batch.problems.iter().all(|(i, _)| *i < rows));
        next += rows as u64;
    }
    if csv {
        let lines = body.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64;
        assert!(next - 1 <= lines + 1, "{} rows from {lines} line breaks", next - 1);
    }
});
