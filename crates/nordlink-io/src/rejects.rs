//! Rows taken out of an output, and the one rejects file every command writes them to.
//!
//! A rejects file has the columns `row` (1-based input row), `field` (the column or
//! schema field at fault, empty for a row that could not be read whole), `problem` (a
//! stable code) and `value` (the raw cell, only where the command's rejects are meant
//! for the register holder: `pseudonymise` keeps the identifier so it can be corrected;
//! `encode` never keeps names or dates).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use arrow_array::builder::{StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::{IoError, TableWriter};

/// A row taken out of an output, with its reason. `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reject {
    /// 1-based data row number in the input.
    pub row: u64,
    /// The column or schema field at fault; `None` for a row-level problem.
    pub field: Option<String>,
    /// A stable problem code (`bad_checksum`, `bad_date`, `field_count`, ...).
    pub problem: &'static str,
    /// The raw cell, when the command keeps it. Personal data: for the register holder's
    /// rejects file only, never for logs.
    pub value: Option<String>,
}

impl Reject {
    /// A reject of row `row` for `problem`, with the field at fault and the raw cell
    /// where the command keeps it.
    pub fn new(
        row: u64,
        field: Option<String>,
        problem: &'static str,
        value: Option<String>,
    ) -> Self {
        Self { row, field, problem, value }
    }
}

impl std::fmt::Debug for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reject")
            .field("row", &self.row)
            .field("field", &self.field)
            .field("problem", &self.problem)
            .field("value", &self.value.as_ref().map(|_| "[personal data]"))
            .finish()
    }
}

/// The schema of every rejects file: `row`, `field`, `problem`, `value`.
pub fn rejects_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("row", DataType::UInt64, false),
                Field::new("field", DataType::Utf8, true),
                Field::new("problem", DataType::Utf8, false),
                Field::new("value", DataType::Utf8, true),
            ]))
        })
        .clone()
}

/// Rejects as a batch of [`rejects_schema`].
///
/// # Errors
/// [`IoError::Arrow`] naming `path` if the batch cannot be built (it always can).
pub fn rejects_batch(path: &Path, rejects: &[Reject]) -> Result<RecordBatch, IoError> {
    let mut row = UInt64Builder::with_capacity(rejects.len());
    let mut field = StringBuilder::new();
    let mut problem = StringBuilder::new();
    let mut value = StringBuilder::new();
    for r in rejects {
        row.append_value(r.row);
        field.append_option(r.field.as_deref());
        problem.append_value(r.problem);
        value.append_option(r.value.as_deref());
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(row.finish()),
        Arc::new(field.finish()),
        Arc::new(problem.finish()),
        Arc::new(value.finish()),
    ];
    RecordBatch::try_new(rejects_schema(), columns).map_err(|e| IoError::arrow(path, e))
}

/// Writes a rejects file (CSV or Parquet by extension), atomically like every output.
#[derive(Debug)]
pub struct RejectsWriter {
    table: TableWriter,
}

impl RejectsWriter {
    /// Starts the file.
    ///
    /// # Errors
    /// [`IoError`] if the format is unknown or the temporary file cannot be created.
    pub fn create(path: &Path) -> Result<Self, IoError> {
        Ok(Self { table: TableWriter::create(path, rejects_schema())? })
    }

    /// Appends rejects.
    ///
    /// # Errors
    /// [`IoError`] on a write failure.
    pub fn write(&mut self, rejects: &[Reject]) -> Result<(), IoError> {
        if rejects.is_empty() {
            return Ok(());
        }
        let batch = rejects_batch(self.table.path(), rejects)?;
        self.table.write(&batch)
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.table.rows()
    }

    /// Renames the file into place; returns the number of rejects.
    ///
    /// # Errors
    /// [`IoError`] if flushing or renaming fails.
    pub fn finish(self) -> Result<u64, IoError> {
        self.table.finish()
    }

    /// Flushes and syncs the file, ready for [`place`](crate::place) with the run's other
    /// outputs.
    ///
    /// # Errors
    /// [`IoError`] if flushing fails.
    pub fn stage(self) -> Result<crate::Staged, IoError> {
        self.table.stage()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_round_trip_through_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rej.csv");
        let mut w = RejectsWriter::create(&path).unwrap();
        w.write(&[
            Reject { row: 3, field: Some("dob".into()), problem: "bad_date", value: None },
            Reject { row: 9, field: None, problem: "field_count", value: Some("x,y".into()) },
        ])
        .unwrap();
        w.write(&[]).unwrap();
        assert_eq!(w.finish().unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "row,field,problem,value\n3,dob,bad_date,\n9,,field_count,\"x,y\"\n"
        );
    }
}
