//! CSV read as text, a batch of rows at a time, keeping malformed rows as row problems.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::{IoError, RowProblem};

/// The rows of one CSV batch and the problems of the rows that could not be read whole.
pub(crate) type CsvBatch = (RecordBatch, Vec<(usize, RowProblem)>);

pub(crate) struct CsvSource {
    reader: csv::Reader<File>,
    record: csv::ByteRecord,
    batch_size: usize,
    done: bool,
}

impl CsvSource {
    /// Reads the header: every column is nullable `Utf8`.
    pub(crate) fn open(
        path: &Path,
        file: File,
        batch_size: usize,
    ) -> Result<(SchemaRef, Self), IoError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let headers = reader.byte_headers().map_err(|e| csv_error(path, &e))?.clone();
        let mut fields = Vec::with_capacity(headers.len());
        for (i, name) in headers.iter().enumerate() {
            let name = std::str::from_utf8(name).map_err(|_| IoError::Csv {
                path: path.to_owned(),
                row: None,
                message: format!("header field {} is not valid UTF-8", i + 1),
            })?;
            fields.push(Field::new(name, DataType::Utf8, true));
        }
        if fields.is_empty() {
            return Err(IoError::Csv {
                path: path.to_owned(),
                row: None,
                message: "no header row".into(),
            });
        }
        let source = Self { reader, record: csv::ByteRecord::new(), batch_size, done: false };
        Ok((Arc::new(Schema::new(fields)), source))
    }

    /// The next batch; `first_row` is the 1-based number of its first row.
    pub(crate) fn next_batch(
        &mut self,
        path: &Path,
        schema: &SchemaRef,
        first_row: u64,
    ) -> Result<Option<CsvBatch>, IoError> {
        let src = self;
        if src.done {
            return Ok(None);
        }
        let n_cols = schema.fields().len();
        let mut builders: Vec<StringBuilder> = (0..n_cols)
            .map(|_| StringBuilder::with_capacity(src.batch_size, src.batch_size * 12))
            .collect();
        let mut problems = Vec::new();
        let mut rows = 0;
        while rows < src.batch_size {
            let more = src.reader.read_byte_record(&mut src.record).map_err(|e| IoError::Csv {
                path: path.to_owned(),
                row: Some(first_row + rows as u64),
                message: csv_message(&e),
            })?;
            if !more {
                src.done = true;
                break;
            }
            if src.record.len() != n_cols {
                let problem = RowProblem::FieldCount { found: src.record.len(), expected: n_cols };
                problems.push((rows, problem));
            }
            for (col, builder) in builders.iter_mut().enumerate() {
                match src.record.get(col).map(std::str::from_utf8) {
                    Some(Ok(s)) => builder.append_value(s),
                    Some(Err(_)) => {
                        let column = schema.field(col).name().clone();
                        problems.push((rows, RowProblem::InvalidUtf8 { column }));
                        builder.append_null();
                    }
                    None => builder.append_null(),
                }
            }
            rows += 1;
        }
        if rows == 0 {
            return Ok(None);
        }
        let columns: Vec<ArrayRef> =
            builders.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        let data =
            RecordBatch::try_new(schema.clone(), columns).map_err(|e| IoError::arrow(path, e))?;
        Ok(Some((data, problems)))
    }
}

fn csv_message(e: &csv::Error) -> String {
    // csv's messages can quote field content for UTF-8 errors; keep only the kind.
    match e.kind() {
        csv::ErrorKind::Io(err) => err.to_string(),
        csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".into(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("row has {len} fields, header has {expected_len}")
        }
        _ => "malformed CSV".into(),
    }
}

fn csv_error(path: &Path, e: &csv::Error) -> IoError {
    IoError::Csv { path: path.to_owned(), row: None, message: csv_message(e) }
}
