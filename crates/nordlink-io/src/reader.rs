//! Streamed reading of CSV and Parquet files as Arrow record batches.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::csv_source::CsvSource;
use crate::parquet_source::ParquetSource;
use crate::text::text_type_check;
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
    /// An error naming the first row that could not be read whole, for readers that
    /// cannot report a row and go on (linkage inputs, where every record must be whole).
    ///
    /// # Errors
    /// [`IoError::Csv`] naming the file and row.
    pub fn require_whole(&self, path: &Path) -> Result<(), IoError> {
        match self.problems.first() {
            Some((row, problem)) => Err(IoError::Csv {
                path: path.to_owned(),
                row: Some(self.row_number(*row)),
                message: problem.to_string(),
            }),
            None => Ok(()),
        }
    }

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
    Csv(Box<CsvSource>),
    Parquet(ParquetSource),
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
        let file =
            File::open(path).map_err(|source| IoError::File { path: path.to_owned(), source })?;
        let batch_size = options.batch_size.max(1);
        let (schema, total_rows, source) = match format {
            Format::Csv => {
                let (schema, source) = CsvSource::open(path, file, batch_size)?;
                (schema, None, Source::Csv(Box::new(source)))
            }
            Format::Parquet => {
                let (schema, rows, source) = ParquetSource::open(path, &file, batch_size)?;
                (schema, rows, Source::Parquet(source))
            }
        };
        let mut seen = std::collections::HashSet::new();
        for f in schema.fields() {
            if !seen.insert(f.name()) {
                let shown = crate::error::looks_like_a_name(f.name());
                return Err(IoError::DuplicateColumn {
                    path: path.to_owned(),
                    column: shown.then(|| f.name().clone()),
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
            available: crate::error::column_list(
                self.schema.fields().iter().map(|f| f.name().as_str()),
            ),
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
            Source::Csv(src) => match src.next_batch(&self.path, &self.schema, self.next_row) {
                Ok(Some((data, problems))) => Some(Ok(self.emit(data, problems))),
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            },
            Source::Parquet(src) => match src.next_batch()? {
                Ok(data) => Some(Ok(self.emit(data, Vec::new()))),
                Err(e) => Some(Err(IoError::parquet(&self.path, e))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_schema::{DataType, Field, Schema};
    use std::io::Write;
    use std::sync::Arc;

    fn csv_file(content: &[u8]) -> tempfile::TempPath {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(content).unwrap();
        f.into_temp_path()
    }

    #[test]
    fn csv_reads_everything_as_text_with_row_numbers_and_problems() {
        let path = csv_file(b"id,name\n007,\"a, \"\"b\"\"\n\n  c\"\n1,2,3\n4\n\xff,x\n");
        let opts = ReadOptions { batch_size: 2 };
        let batches: Vec<_> =
            TableReader::open(&path, opts).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!((batches[0].first_row, batches[1].first_row), (1, 3));
        let ids = batches[0].data.column(0).as_string::<i32>();
        assert_eq!(ids.value(0), "007");
        assert_eq!(batches[0].data.column(1).as_string::<i32>().value(0), "a, \"b\"\n\n  c");
        assert_eq!(
            batches[0].problems,
            vec![(1, RowProblem::FieldCount { found: 3, expected: 2 })]
        );
        assert_eq!(batches[1].problems.len(), 2);
        assert_eq!(batches[1].problems[1].1, RowProblem::InvalidUtf8 { column: "id".into() });
        assert!(batches[1].data.column(0).is_null(1));
    }

    /// Every data row's values in order (null as `None`) and the problems' rows.
    fn read_all(content: &[u8], batch_size: usize) -> (Vec<Vec<Option<String>>>, Vec<u64>) {
        let path = csv_file(content);
        let (mut rows, mut problems) = (Vec::new(), Vec::new());
        for batch in TableReader::open(&path, ReadOptions { batch_size }).unwrap() {
            let batch = batch.unwrap();
            problems.extend(batch.problems.iter().map(|(i, _)| batch.first_row + *i as u64));
            for r in 0..batch.data.num_rows() {
                let cells = batch.data.columns().iter().map(|c| {
                    let c = c.as_string::<i32>();
                    c.is_valid(r).then(|| c.value(r).to_owned())
                });
                rows.push(cells.collect());
            }
        }
        (rows, problems)
    }

    #[test]
    fn blank_lines_are_rows_with_their_physical_numbers() {
        let some = |v: &str| Some(v.to_owned());
        // One column: a blank line is an empty value, in LF and CRLF files alike.
        for file in [&b"id\n1\n\n3\n\n"[..], b"id\r\n1\r\n\r\n3\r\n\r\n", b"\n\nid\n1\n\n3\n\n"] {
            let (rows, problems) = read_all(file, 2);
            let expected = [some("1"), some(""), some("3"), some("")];
            assert_eq!(rows, expected.map(|v| vec![v]), "{file:?}");
            assert!(problems.is_empty());
        }
        // Several columns: a blank line is a row with a problem, numbered where it stands.
        let (rows, problems) = read_all(b"id,name\n\n1,a\r\n\r\n2,b\n\n", 3);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[1], vec![some("1"), some("a")]);
        assert_eq!(rows[3], vec![some("2"), some("b")]);
        assert_eq!(problems, [1, 3, 5]);
    }

    fn read_error(content: &[u8]) -> String {
        let path = csv_file(content);
        match TableReader::open(&path, ReadOptions { batch_size: 2 }) {
            Ok(reader) => reader.collect::<Result<Vec<_>, _>>().unwrap_err().to_string(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn an_unbalanced_quote_is_an_error_at_its_row_not_one_long_cell() {
        // Left open to the end of the file.
        let e = read_error(b"id,name\n1,a\n2,\"Jens\n3,Signe\n4,Ann \"\"B\"\"\n");
        assert!(e.contains("at row 2") && e.contains("never closed"), "{e}");
        assert!(!e.contains("Signe"), "{e}");
        // Closed by another stray quote far below: the field spans too many lines.
        let mut file = b"id,name\n1,a\n2,\"Jens\n".to_vec();
        for i in 3..100 {
            file.extend(format!("{i},b\n").bytes());
        }
        file.extend(b"100,\"x\n");
        let e = read_error(&file);
        assert!(e.contains("at row 2") && e.contains("more than 32 lines"), "{e}");
        // A quote inside an unquoted field is a character, as the parser reads it.
        let (rows, _) = read_all(b"id,name\n1,Jens \"Junior\n2,b\n", 2);
        assert_eq!(rows[0][1].as_deref(), Some("Jens \"Junior"));
        assert_eq!(rows.len(), 2);
        // In the header too.
        let e = read_error(b"id,\"name\n1,a\n");
        assert!(e.contains("header") && e.contains("never closed"), "{e}");
    }

    #[test]
    fn a_file_without_line_breaks_or_with_a_huge_header_is_refused() {
        let long = vec![b'x'; crate::MAX_CSV_LINE_BYTES + 10];
        let path = csv_file(&long);
        let e = TableReader::open(&path, ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("longer than 1 MiB"), "{e}");
        let mut data = b"id\n1\n".to_vec();
        data.extend(&long);
        let path = csv_file(&data);
        let e = TableReader::open(&path, ReadOptions::default())
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap_err();
        assert!(e.to_string().contains("longer than 1 MiB"), "{e}");
        let wide: Vec<String> = (0..=crate::MAX_CSV_COLUMNS).map(|i| format!("c{i}")).collect();
        let path = csv_file(wide.join(",").as_bytes());
        let e = TableReader::open(&path, ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("columns; at most"), "{e}");
    }

    proptest::proptest! {
        /// Rows out equal lines after the header, whatever the blank lines, line endings
        /// and batch size: no row is lost or shifted.
        #[test]
        fn every_line_after_the_header_is_one_row(
            lines in proptest::collection::vec("[a-z0-9]{0,4}", 0..40),
            crlf in proptest::bool::ANY,
            batch_size in 1usize..7,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut file = format!("v{end}");
            for line in &lines {
                file.push_str(line);
                file.push_str(end);
            }
            let (rows, problems) = read_all(file.as_bytes(), batch_size);
            let values: Vec<String> = rows.into_iter().map(|r| r[0].clone().unwrap()).collect();
            proptest::prop_assert_eq!(values, lines);
            proptest::prop_assert!(problems.is_empty());
        }
    }

    #[test]
    fn messages_show_header_names_only_when_they_look_like_names() {
        let missing = |content: &[u8]| {
            let path = csv_file(content);
            let reader = TableReader::open(&path, ReadOptions::default()).unwrap();
            reader.column_index("cpr").unwrap_err().to_string()
        };
        let e = missing(b"id,name,born\n1,a,b\n");
        assert!(e.ends_with("(columns: id, name, born)"), "{e}");
        // A file without a header: its first row is a person.
        let e = missing(b"211062-5629,Jens Hansen,1962-10-21\n");
        assert!(!e.contains("5629") && !e.contains("Jens"), "{e}");
        assert!(e.contains("does not look like column names"), "{e}");
        // A secret's bytes given as input.
        let e = missing(b"3q2+7wAAAAD//////////wAAAAAAAAAAAAAAAAAAAAAAAA==\n");
        assert!(!e.contains("3q2"), "{e}");
        let wide: Vec<String> = (0..30).map(|i| format!("c{i}")).collect();
        let e = missing(format!("{}\n", wide.join(",")).as_bytes());
        assert!(e.contains("c19 and 10 more") && !e.contains("c20"), "{e}");
        // A repeated cell in a headerless file is not shown either.
        let path = csv_file(b"0101-1234,0101-1234\n");
        let e = TableReader::open(&path, ReadOptions::default()).unwrap_err().to_string();
        assert!(e.contains("a column name appears more than once") && !e.contains("0101"), "{e}");
    }

    proptest::proptest! {
        /// Whatever a CSV writer quotes (commas, quotes, line breaks, blank lines inside a
        /// field), it reads back unchanged: the blank-line and quote tracking agree with
        /// the parser.
        #[test]
        fn written_csv_reads_back_unchanged(
            rows in proptest::collection::vec(
                proptest::collection::vec("[a\",\n\r ]{0,6}", 3),
                0..30,
            ),
            crlf in proptest::bool::ANY,
        ) {
            let mut w = csv::WriterBuilder::new()
                .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
                .from_writer(Vec::new());
            w.write_record(["a", "b", "c"]).unwrap();
            // A row of three empty fields is written as `,,`: not a blank line.
            for row in &rows {
                w.write_record(row).unwrap();
            }
            let file = w.into_inner().unwrap();
            let (read, problems) = read_all(&file, 4);
            let read: Vec<Vec<String>> =
                read.into_iter().map(|r| r.into_iter().map(Option::unwrap).collect()).collect();
            proptest::prop_assert_eq!(read, rows);
            proptest::prop_assert!(problems.is_empty());
        }
    }

    #[test]
    fn corrupt_parquet_is_an_error_not_a_panic() {
        // Found by the `table_reader` fuzz target: a column chunk with a negative offset
        // made the parquet crate panic in a decoder thread.
        let seed = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/corpus/table_reader/kat-crash-negative-chunk-offset"
        );
        let bytes = std::fs::read(seed).unwrap();
        let mut f = tempfile::Builder::new().suffix(".parquet").tempfile().unwrap();
        f.write_all(&bytes[1..]).unwrap();
        let path = f.into_temp_path();
        let e = TableReader::open(&path, ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("outside the file"), "{e}");
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
