//! Helpers: a temporary working directory, running the binary, reading outputs.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// The key of the published known-answer vectors (docs/pseudonymisation.md).
pub(crate) const KAT_KEY: &str = "format: nordlink-key/1\nkey-id: a7fbea2583bf3446\ncreated: 2026-11-22T08:30:00Z\nsecret: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

pub(crate) struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    pub(crate) fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Writes a file readable by its owner only, as key and secret files must be.
    pub(crate) fn private(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.write(name, content);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    }

    /// Writes a Parquet file with the given named columns.
    pub(crate) fn parquet(&self, name: &str, columns: Vec<(&str, ArrayRef)>) -> PathBuf {
        let p = self.path(name);
        let fields: Vec<Field> =
            columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap();
        let mut w = ArrowWriter::try_new(File::create(&p).unwrap(), batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        p
    }

    /// Names of the files in the directory, sorted.
    pub(crate) fn listing(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// Runs `nordlink` with `args`, in `cwd`.
pub(crate) fn nordlink(cwd: &Dir, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_nordlink"))
        .args(args)
        .current_dir(cwd.dir.path())
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs and insists on success, returning stderr.
pub(crate) fn ok(cwd: &Dir, args: &[&str]) -> String {
    let o = nordlink(cwd, args);
    assert!(o.status.success(), "nordlink {args:?} failed: {}", stderr(&o));
    stderr(&o)
}

/// Runs and insists on exit status 2, returning stderr.
pub(crate) fn fails(cwd: &Dir, args: &[&str]) -> String {
    let o = nordlink(cwd, args);
    assert_eq!(o.status.code(), Some(2), "nordlink {args:?}: {}", stderr(&o));
    stderr(&o)
}

/// Reads a CSV file as rows of fields (header included).
pub(crate) fn read_csv(path: &Path) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Reads a whole Parquet file into batches.
pub(crate) fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A Parquet file's footer key-value metadata.
pub(crate) fn parquet_metadata(path: &Path) -> std::collections::HashMap<String, String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let kv = reader.metadata().file_metadata().key_value_metadata().cloned().unwrap_or_default();
    kv.into_iter().map(|e| (e.key, e.value.unwrap_or_default())).collect()
}
