//! Streamed reading of CSV and Parquet files as Arrow record batches.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::sync::mpsc;

use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::errors::ParquetError;

use crate::{Format, IoError, RowProblem};

/// Options for [`TableReader::open`].
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    /// Rows per batch. Larger batches amortise per-batch work; memory grows with it.
    pub batch_size: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self { batch_size: 64 * 1024 }
    }
}

/// One batch of input rows.
#[derive(Debug)]
pub struct InputBatch {
    /// The rows. CSV columns are all `Utf8`; Parquet columns keep their types.
    pub data: RecordBatch,
    /// The 1-based data row number of the batch's first row (header not counted).
    pub first_row: u64,
    /// Rows that could not be read whole, by index within this batch. Their unreadable
    /// cells are null; callers must report these rows, not process them.
    pub problems: Vec<(usize, RowProblem)>,
}

impl InputBatch {
    /// The 1-based row number of row `index` of this batch.
    pub fn row_number(&self, index: usize) -> u64 {
        self.first_row + index as u64
    }

    /// For each row, the code of its first [`RowProblem`], if it could not be read whole.
    pub fn problem_codes(&self) -> Vec<Option<&'static str>> {
        let mut codes = vec![None; self.data.num_rows()];
        for (row, problem) in &self.problems {
            if let Some(slot) = codes.get_mut(*row) {
                slot.get_or_insert(problem.code());
            }
        }
        codes
    }
}

/// A streaming reader over a CSV or Parquet file; an iterator of [`InputBatch`]es.
pub struct TableReader {
    path: PathBuf,
    schema: SchemaRef,
    total_rows: Option<u64>,
    next_row: u64,
    source: Source,
}

enum Source {
    Csv(CsvSource),
    Parquet(ParquetSource),
}

/// What a decoder lane sends: a batch, the end of a row group, or an error.
type LaneItem = Result<Option<RecordBatch>, ParquetError>;

/// Parquet decoding spread over a few threads, a row group at a time: lane `t` decodes row
/// groups `t, t + lanes, ...` ahead into a bounded channel, and the iterator takes them
/// back in file order. One thread decoding every column was the pipeline's serial stage.
struct ParquetSource {
    lanes: Vec<mpsc::Receiver<LaneItem>>,
    group: usize,
    groups: usize,
}

impl ParquetSource {
    fn start(
        path: &Path,
        metadata: ArrowReaderMetadata,
        batch_size: usize,
    ) -> std::io::Result<Self> {
        let groups = metadata.metadata().num_row_groups();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let n_lanes = groups.min(threads);
        let mut lanes = Vec::with_capacity(n_lanes);
        for lane in 0..n_lanes {
            let (tx, rx) = mpsc::sync_channel::<LaneItem>(2);
            // Each lane opens the file itself: duplicated descriptors share one file
            // offset, and the lanes' seeks would race.
            let file = File::open(path)?;
            let metadata = metadata.clone();
            std::thread::spawn(move || {
                for group in (lane..groups).step_by(n_lanes) {
                    let Ok(file) = file.try_clone() else {
                        let _ =
                            tx.send(Err(ParquetError::General("cannot reopen the file".into())));
                        return;
                    };
                    let reader =
                        ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone())
                            .with_batch_size(batch_size)
                            .with_row_groups(vec![group])
                            .build();
                    let reader = match reader {
                        Ok(r) => r,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    for batch in reader {
                        // A failed send means the reader was dropped: stop quietly.
                        if tx.send(batch.map(Some).map_err(ParquetError::from)).is_err() {
                            return;
                        }
                    }
                    if tx.send(Ok(None)).is_err() {
                        return;
                    }
                }
            });
            lanes.push(rx);
        }
        Ok(Self { lanes, group: 0, groups })
    }

    fn next_batch(&mut self) -> Option<Result<RecordBatch, ParquetError>> {
        while self.group < self.groups {
            let lane = &self.lanes[self.group % self.lanes.len()];
            match lane.recv() {
                Ok(Ok(Some(batch))) => return Some(Ok(batch)),
                Ok(Ok(None)) => self.group += 1,
                Ok(Err(e)) => {
                    self.group = self.groups;
                    return Some(Err(e));
                }
                Err(_) => {
                    self.group = self.groups;
                    return Some(Err(ParquetError::General("a decoder thread stopped".into())));
                }
            }
        }
        None
    }
}

struct CsvSource {
    reader: csv::Reader<File>,
    record: csv::ByteRecord,
    batch_size: usize,
    done: bool,
}

impl std::fmt::Debug for TableReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableReader")
            .field("path", &self.path)
            .field("next_row", &self.next_row)
            .finish_non_exhaustive()
    }
}

impl TableReader {
    /// Opens `path`, choosing the format by extension.
    ///
    /// # Errors
    /// [`IoError`] if the file cannot be opened, its format is unknown, or its header or
    /// footer cannot be read.
    pub fn open(path: &Path, options: ReadOptions) -> Result<Self, IoError> {
        let format = Format::from_path(path)?;
        let file_err = |source| IoError::File { path: path.to_owned(), source };
        let file = File::open(path).map_err(file_err)?;
        let batch_size = options.batch_size.max(1);
        let mut total_rows = None;
        let (schema, source) = match format {
            Format::Csv => {
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
                let source =
                    CsvSource { reader, record: csv::ByteRecord::new(), batch_size, done: false };
                (Arc::new(Schema::new(fields)), Source::Csv(source))
            }
            Format::Parquet => {
                let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
                    .map_err(|e| parquet_error(path, &e))?;
                total_rows = u64::try_from(metadata.metadata().file_metadata().num_rows()).ok();
                let schema = metadata.schema().clone();
                let source = ParquetSource::start(path, metadata, batch_size).map_err(file_err)?;
                (schema, Source::Parquet(source))
            }
        };
        let mut seen = std::collections::HashSet::new();
        for f in schema.fields() {
            if !seen.insert(f.name()) {
                return Err(IoError::DuplicateColumn {
                    path: path.to_owned(),
                    column: f.name().clone(),
                });
            }
        }
        Ok(Self { path: path.to_owned(), schema, total_rows, next_row: 1, source })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number of data rows, when the format records it (Parquet).
    pub fn total_rows(&self) -> Option<u64> {
        self.total_rows
    }

    /// The schema every batch has.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The index of the column called `name`.
    ///
    /// # Errors
    /// [`IoError::MissingColumn`] listing the columns that do exist.
    pub fn column_index(&self, name: &str) -> Result<usize, IoError> {
        self.schema.index_of(name).map_err(|_| IoError::MissingColumn {
            path: self.path.clone(),
            column: name.to_owned(),
            available: self
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// Checks that column `index` can be read as identifier text: any string type, or an
    /// integer type when `zero_pad` is given.
    ///
    /// # Errors
    /// [`IoError::ColumnType`] explaining why an integer column is refused by default.
    pub fn check_text_column(&self, index: usize, zero_pad: Option<usize>) -> Result<(), IoError> {
        text_type_check(&self.path, self.schema.field(index), zero_pad)
    }

    fn next_csv(&mut self) -> Result<Option<InputBatch>, IoError> {
        let Source::Csv(src) = &mut self.source else { return Ok(None) };
        if src.done {
            return Ok(None);
        }
        let n_cols = self.schema.fields().len();
        let mut builders: Vec<StringBuilder> = (0..n_cols)
            .map(|_| StringBuilder::with_capacity(src.batch_size, src.batch_size * 12))
            .collect();
        let mut problems = Vec::new();
        let mut rows = 0;
        while rows < src.batch_size {
            let more = src.reader.read_byte_record(&mut src.record).map_err(|e| IoError::Csv {
                path: self.path.clone(),
                row: Some(self.next_row + rows as u64),
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
                        let column = self.schema.field(col).name().clone();
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
        let data = RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| parquet_error(&self.path, &e))?;
        Ok(Some(self.emit(data, problems)))
    }

    fn emit(&mut self, data: RecordBatch, problems: Vec<(usize, RowProblem)>) -> InputBatch {
        let first_row = self.next_row;
        self.next_row += data.num_rows() as u64;
        InputBatch { data, first_row, problems }
    }
}

impl Iterator for TableReader {
    type Item = Result<InputBatch, IoError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Csv(_) => self.next_csv().transpose(),
            Source::Parquet(reader) => match reader.next_batch()? {
                Ok(data) => Some(Ok(self.emit(data, Vec::new()))),
                Err(e) => Some(Err(parquet_error(&self.path, &e))),
            },
        }
    }
}

/// Column `index` of `batch` as UTF-8 text.
///
/// String columns of any width are returned as `Utf8`. Integer columns are formatted in
/// decimal and, with `zero_pad = Some(width)`, left-padded with zeros to `width`
/// characters (longer values are left as they are; negative values stay negative and will
/// fail validation).
///
/// # Errors
/// [`IoError::ColumnType`] for other types (see [`TableReader::check_text_column`]).
pub fn text_column(
    path: &Path,
    batch: &RecordBatch,
    index: usize,
    zero_pad: Option<usize>,
) -> Result<StringArray, IoError> {
    let array = batch.column(index);
    text_type_check(path, batch.schema_ref().field(index), zero_pad)?;
    match (array.data_type(), zero_pad) {
        (DataType::Utf8, _) => Ok(array.as_string::<i32>().clone()),
        (DataType::LargeUtf8, _) => Ok(array.as_string::<i64>().iter().collect()),
        (DataType::Utf8View, _) => Ok(array.as_string_view().iter().collect()),
        (_, width) => {
            // An integer column (text_type_check allowed it only with a width).
            let width = width.unwrap_or_default();
            let text =
                arrow_cast::cast(array, &DataType::Utf8).map_err(|e| parquet_error(path, &e))?;
            Ok(text.as_string::<i32>().iter().map(|v| v.map(|s| format!("{s:0>width$}"))).collect())
        }
    }
}

/// Whether a column of this type can be read as identifier text: any string type, or an
/// integer type when a zero-padding width is given.
fn text_type_check(path: &Path, field: &Field, zero_pad: Option<usize>) -> Result<(), IoError> {
    let hint = match field.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => return Ok(()),
        t if t.is_integer() && zero_pad.is_some() => return Ok(()),
        t if t.is_integer() => {
            "identifiers stored as integers have lost their leading zeros; \
             export the column as text, or pass --zero-pad-integers to left-pad with zeros"
        }
        _ => "identifiers must be stored as text",
    };
    Err(IoError::ColumnType {
        path: path.to_owned(),
        column: field.name().clone(),
        found: field.data_type().clone(),
        hint,
    })
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

pub(crate) fn parquet_error(path: &Path, e: &dyn std::error::Error) -> IoError {
    IoError::Parquet { path: path.to_owned(), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn csv_file(content: &[u8]) -> tempfile::TempPath {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(content).unwrap();
        f.into_temp_path()
    }

    #[test]
    fn csv_reads_everything_as_text_with_row_numbers_and_problems() {
        let path = csv_file(b"id,name\n007,\"a, \"\"b\"\"\n  c\"\n1,2,3\n4\n\xff,x\n");
        let opts = ReadOptions { batch_size: 2 };
        let batches: Vec<_> =
            TableReader::open(&path, opts).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!((batches[0].first_row, batches[1].first_row), (1, 3));
        let ids = batches[0].data.column(0).as_string::<i32>();
        assert_eq!(ids.value(0), "007");
        assert_eq!(batches[0].data.column(1).as_string::<i32>().value(0), "a, \"b\"\n  c");
        assert_eq!(
            batches[0].problems,
            vec![(1, RowProblem::FieldCount { found: 3, expected: 2 })]
        );
        assert_eq!(batches[1].problems.len(), 2);
        assert_eq!(batches[1].problems[1].1, RowProblem::InvalidUtf8 { column: "id".into() });
        assert!(batches[1].data.column(0).is_null(1));
    }

    #[test]
    fn parquet_row_groups_come_back_in_order() {
        use crate::{TableWriter, WriteOptions};
        use arrow_array::UInt64Array;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::UInt64, false)]));
        let options = WriteOptions { row_group_rows: Some(7), ..WriteOptions::default() };
        let mut w = TableWriter::create_with(&path, schema.clone(), &options).unwrap();
        for start in (0..100u64).step_by(5) {
            let col = Arc::new(UInt64Array::from_iter_values(start..start + 5));
            w.write(&RecordBatch::try_new(schema.clone(), vec![col]).unwrap()).unwrap();
        }
        w.finish().unwrap();
        let reader = TableReader::open(&path, ReadOptions { batch_size: 3 }).unwrap();
        assert_eq!(reader.total_rows(), Some(100));
        let mut next = 0u64;
        for batch in reader {
            let batch = batch.unwrap();
            assert_eq!(batch.first_row, next + 1);
            let values = batch.data.column(0).as_primitive::<arrow_array::types::UInt64Type>();
            for v in values.values() {
                assert_eq!(*v, next);
                next += 1;
            }
        }
        assert_eq!(next, 100);
    }

    #[test]
    fn missing_and_duplicate_columns_are_named() {
        let path = csv_file(b"a,b\n1,2\n");
        let reader = TableReader::open(&path, ReadOptions::default()).unwrap();
        let err = reader.column_index("c").unwrap_err().to_string();
        assert!(err.contains("\"c\"") && err.contains("a, b"), "{err}");
        let dup = csv_file(b"a,a\n1,2\n");
        assert!(matches!(
            TableReader::open(&dup, ReadOptions::default()),
            Err(IoError::DuplicateColumn { .. })
        ));
        assert!(matches!(
            TableReader::open(&csv_file(b""), ReadOptions::default()),
            Err(IoError::Csv { .. })
        ));
    }
}
