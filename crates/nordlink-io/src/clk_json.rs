//! anonlink's CLK JSON format, `{"clks": ["<base64>", ...]}`, written atomically.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use base64::Engine as _;

use crate::IoError;
use crate::staging::Pending;

/// Streams filters into an anonlink CLK JSON file; the file appears on
/// [`finish`](Self::finish) only.
pub struct ClkJsonWriter {
    path: PathBuf,
    pending: Pending,
    out: BufWriter<File>,
    count: u64,
}

impl std::fmt::Debug for ClkJsonWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClkJsonWriter").field("path", &self.path).finish_non_exhaustive()
    }
}

impl ClkJsonWriter {
    /// Starts the file.
    ///
    /// # Errors
    /// [`IoError::File`] if the temporary file cannot be created.
    pub fn create(path: &Path) -> Result<Self, IoError> {
        let err = |source| IoError::File { path: path.to_owned(), source };
        let (file, pending) = Pending::create(path)?;
        let mut out = BufWriter::new(file);
        out.write_all(b"{\"clks\": [").map_err(err)?;
        Ok(Self { path: path.to_owned(), pending, out, count: 0 })
    }

    /// Appends column `column` of `batch`: `FixedSizeBinary` filters or base64 text.
    ///
    /// # Errors
    /// [`IoError`] on a write failure or another column type.
    pub fn write(&mut self, batch: &RecordBatch, column: usize) -> Result<(), IoError> {
        let err = |source| IoError::File { path: self.path.clone(), source };
        let array = batch.column(column);
        let engine = base64::engine::general_purpose::STANDARD;
        let mut text = String::new();
        for i in 0..array.len() {
            text.clear();
            match array.data_type() {
                DataType::FixedSizeBinary(_) => {
                    engine.encode_string(array.as_fixed_size_binary().value(i), &mut text)
                }
                DataType::Utf8 => text.push_str(array.as_string::<i32>().value(i)),
                other => {
                    return Err(IoError::ColumnType {
                        path: self.path.clone(),
                        column: batch.schema_ref().field(column).name().clone(),
                        found: other.clone(),
                        hint: "CLK JSON takes FixedSizeBinary or base64 text filters",
                    });
                }
            }
            let sep: &[u8] = if self.count == 0 { b"\"" } else { b", \"" };
            // Base64 needs no JSON escaping.
            self.out.write_all(sep).map_err(err)?;
            self.out.write_all(text.as_bytes()).map_err(err)?;
            self.out.write_all(b"\"").map_err(err)?;
            self.count += 1;
        }
        Ok(())
    }

    /// Closes the array and renames the file into place.
    ///
    /// # Errors
    /// [`IoError::File`] if flushing or renaming fails.
    pub fn finish(self) -> Result<u64, IoError> {
        let count = self.count;
        crate::place([self.stage()?])?;
        Ok(count)
    }

    /// Closes the array and syncs the file, ready for [`place`](crate::place) with the
    /// run's other outputs.
    ///
    /// # Errors
    /// [`IoError::File`] if flushing fails.
    pub fn stage(mut self) -> Result<crate::Staged, IoError> {
        let err = |source| IoError::File { path: self.path.clone(), source };
        self.out.write_all(b"]}\n").map_err(err)?;
        let file = self.out.into_inner().map_err(|e| err(e.into_error()))?;
        file.sync_all().map_err(err)?;
        Ok(self.pending.finish())
    }
}
