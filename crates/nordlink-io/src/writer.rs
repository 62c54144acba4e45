//! Atomic CSV and Parquet output.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::staging::{Pending, Staged, place, stage_bytes};
use crate::{Format, IoError, Provenance};
use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves,
};
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;

/// Writes batches to a temporary file beside the destination; [`finish`](Self::finish)
/// renames it into place, or [`stage`](Self::stage) readies it for [`place`](crate::place)
/// with a run's other outputs. Dropping an unfinished writer deletes the temporary file,
/// so an interrupted or failed run never leaves a partial output at the destination.
pub struct TableWriter {
    path: PathBuf,
    pending: Pending,
    sink: Sink,
    rows: u64,
    /// The provenance record; its row count is filled in on finish.
    provenance: Option<Provenance>,
}

enum Sink {
    /// Rows are rendered to CSV text in parallel (rayon) and written here in order.
    Csv(BufWriter<File>),
    Parquet(Box<ParquetSink>),
}

/// Rows per Parquet row group (the writer buffers one row group's encoded pages).
const ROW_GROUP_ROWS: usize = 1 << 20;

/// Parquet output that encodes the columns of each batch in parallel (rayon): with one
/// `ArrowWriter` a single thread encodes every column and becomes the pipeline's
/// bottleneck.
struct ParquetSink {
    file: SerializedFileWriter<BufWriter<File>>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    writers: Option<Vec<ArrowColumnWriter>>,
    row_group: usize,
    rows_in_group: usize,
    group_limit: usize,
}

impl ParquetSink {
    fn new(
        out: BufWriter<File>,
        schema: SchemaRef,
        props: WriterProperties,
        group_limit: usize,
    ) -> Result<Self, ParquetError> {
        // ArrowWriter sets up the file and its embedded Arrow schema; then we take over.
        let (file, factory) =
            ArrowWriter::try_new(out, schema.clone(), Some(props))?.into_serialized_writer()?;
        Ok(Self {
            file,
            factory,
            schema,
            writers: None,
            row_group: 0,
            rows_in_group: 0,
            group_limit,
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), ParquetError> {
        let writers = match &mut self.writers {
            Some(w) => w,
            None => self.writers.insert(self.factory.create_column_writers(self.row_group)?),
        };
        let mut leaves = Vec::with_capacity(writers.len());
        for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, column)?);
        }
        writers.par_iter_mut().zip(leaves.par_iter()).try_for_each(|(w, leaf)| w.write(leaf))?;
        self.rows_in_group += batch.num_rows();
        if self.rows_in_group >= self.group_limit {
            self.flush_group()?;
        }
        Ok(())
    }

    fn flush_group(&mut self) -> Result<(), ParquetError> {
        let Some(writers) = self.writers.take() else { return Ok(()) };
        let chunks: Vec<ArrowColumnChunk> =
            writers.into_par_iter().map(ArrowColumnWriter::close).collect::<Result<_, _>>()?;
        let mut group = self.file.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut group)?;
        }
        group.close()?;
        self.row_group += 1;
        self.rows_in_group = 0;
        Ok(())
    }

    fn finish(mut self, extra: Vec<(String, String)>) -> Result<BufWriter<File>, ParquetError> {
        self.flush_group()?;
        for (k, v) in extra {
            self.file.append_key_value_metadata(KeyValue::new(k, v));
        }
        self.file.into_inner()
    }
}

impl std::fmt::Debug for TableWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableWriter")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

/// Options for [`TableWriter::create_with`].
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// How the output was made: written into the Parquet footer, or for CSV into the
    /// sidecar `OUT.provenance.json` (see [`Provenance`]).
    pub provenance: Option<Provenance>,
    /// Top-level columns holding uniformly random values (pseudonyms, Bloom filters):
    /// Parquet writes them without dictionary, compression or statistics, which would
    /// only cost time on such data.
    pub random_columns: Vec<String>,
    /// Rows per Parquet row group; `None` for the default (1 Mi rows). The writer holds
    /// one row group's encoded pages in memory.
    pub row_group_rows: Option<usize>,
}

impl TableWriter {
    /// Starts writing `path` (format by extension) with the given schema and default
    /// options (no provenance: reports and rejects files).
    ///
    /// # Errors
    /// [`IoError`] if the format is unknown or the temporary file cannot be created.
    pub fn create(path: &Path, schema: SchemaRef) -> Result<Self, IoError> {
        Self::create_with(path, schema, &WriteOptions::default())
    }

    /// Starts writing `path` (format by extension) with the given schema and options.
    ///
    /// Output files are created readable by their owner only (mode 0600 on Unix), as
    /// they may hold personal data.
    ///
    /// # Errors
    /// [`IoError`] if the format is unknown or the temporary file cannot be created.
    pub fn create_with(
        path: &Path,
        schema: SchemaRef,
        options: &WriteOptions,
    ) -> Result<Self, IoError> {
        let format = Format::from_path(path)?;
        let (file, pending) = Pending::create(path)?;
        let out = BufWriter::with_capacity(1 << 20, file);
        let sink = match format {
            Format::Csv => {
                check_csv_columns(path, &schema)?;
                let mut out = out;
                let mut header = csv::WriterBuilder::new().from_writer(Vec::new());
                header
                    .write_record(schema.fields().iter().map(|f| f.name().as_bytes()))
                    .map_err(|e| csv_write_error(path, e))?;
                let header = header
                    .into_inner()
                    .map_err(|e| csv_write_error(path, e.into_error().into()))?;
                out.write_all(&header)
                    .map_err(|source| IoError::File { path: path.to_owned(), source })?;
                Sink::Csv(out)
            }
            Format::Parquet => {
                // The schema's own metadata (what a command chose to carry over) goes into
                // the footer as plain entries too, beside the provenance.
                let carried = schema.metadata().iter().map(|(k, v)| (k.clone(), v.clone()));
                let kv = options.provenance.iter().flat_map(Provenance::to_key_values);
                let mut props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_key_value_metadata(Some(
                        carried.chain(kv).map(|(k, v)| KeyValue::new(k, v)).collect(),
                    ))
                    .set_created_by(format!("nordlink {}", env!("CARGO_PKG_VERSION")));
                for name in &options.random_columns {
                    let col = ColumnPath::from(name.as_str());
                    props = props
                        .set_column_dictionary_enabled(col.clone(), false)
                        .set_column_compression(col.clone(), Compression::UNCOMPRESSED)
                        .set_column_statistics_enabled(col, EnabledStatistics::None);
                }
                let limit = options.row_group_rows.unwrap_or(ROW_GROUP_ROWS).max(1);
                let sink = ParquetSink::new(out, schema, props.build(), limit)
                    .map_err(|e| IoError::parquet(path, e))?;
                Sink::Parquet(Box::new(sink))
            }
        };
        Ok(Self {
            path: path.to_owned(),
            pending,
            sink,
            rows: 0,
            provenance: options.provenance.clone(),
        })
    }

    /// Appends a batch.
    ///
    /// # Errors
    /// [`IoError`] on a write failure (disk full, ...) or an unwritable column type.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), IoError> {
        match &mut self.sink {
            Sink::Csv(w) => write_csv(&self.path, w, batch)?,
            Sink::Parquet(w) => w.write(batch).map_err(|e| IoError::parquet(&self.path, e))?,
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the file into place; returns the rows written. See
    /// [`stage`](Self::stage) for the provenance record and the CSV sidecar.
    ///
    /// # Errors
    /// [`IoError`] if flushing or renaming fails.
    pub fn finish(self) -> Result<u64, IoError> {
        let rows = self.rows;
        place([self.stage()?])?;
        Ok(rows)
    }

    /// Flushes and syncs the file, ready to be placed by [`place`](crate::place) together
    /// with the run's other outputs. The provenance record gains the row count (`rows`),
    /// so a reader can tell a record that belongs to another version of the file. For
    /// CSV the sidecar is placed just before the data; a CSV written without provenance
    /// removes a stale sidecar left by an earlier output of the same name.
    ///
    /// # Errors
    /// [`IoError`] if flushing or syncing fails.
    pub fn stage(self) -> Result<Staged, IoError> {
        let path = self.path;
        let provenance = self.provenance.map(|p| Provenance { rows: Some(self.rows), ..p });
        let file_err = |source| IoError::File { path: path.clone(), source };
        let file = match self.sink {
            Sink::Csv(w) => w.into_inner().map_err(|e| file_err(e.into_error()))?,
            Sink::Parquet(w) => {
                let rows = provenance
                    .as_ref()
                    .map(|_| vec![("nordlink.rows".to_owned(), self.rows.to_string())])
                    .unwrap_or_default();
                let mut out = w.finish(rows).map_err(|e| IoError::parquet(&path, e))?;
                out.flush().map_err(file_err)?;
                out.into_inner().map_err(|e| file_err(e.into_error()))?
            }
        };
        file.sync_all().map_err(file_err)?;
        let staged = self.pending.finish();
        if Format::from_path(&path)? != Format::Csv {
            return Ok(staged);
        }
        let sidecar = Provenance::sidecar_path(&path);
        Ok(match &provenance {
            Some(p) => staged.after(stage_bytes(&sidecar, p.to_json().as_bytes())?),
            None => staged.removing(sidecar),
        })
    }
}

/// Writes a small file whole or not at all: a temporary file beside it (readable by its
/// owner only, like every output), synced, then renamed over `path`.
///
/// # Errors
/// [`IoError::File`] naming `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    place([stage_bytes(path, bytes)?])
}

fn csv_write_error(path: &Path, e: csv::Error) -> IoError {
    let source = match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    };
    IoError::File { path: path.to_owned(), source }
}

/// Every column can be formatted as CSV text, checked before any row is read: a
/// timestamp's time zone, for one, is only parsed when its column is formatted.
fn check_csv_columns(path: &Path, schema: &SchemaRef) -> Result<(), IoError> {
    let options = FormatOptions::default();
    for field in schema.fields() {
        let empty = arrow_array::new_empty_array(field.data_type());
        ArrayFormatter::try_new(empty.as_ref(), &options).map_err(|source| {
            IoError::ColumnFormat { path: path.to_owned(), column: field.name().clone(), source }
        })?;
    }
    Ok(())
}

/// Rows per piece of a batch rendered on one thread: enough to amortise a CSV writer,
/// few enough that a 65 536-row batch spreads over every core.
const CSV_PIECE_ROWS: usize = 4096;

/// Renders `batch` as CSV rows on the rayon pool, piece by piece, and writes the pieces in
/// order: formatting is most of a CSV output's cost, and on the writer's thread alone it
/// was the pipeline's serial stage.
fn write_csv(path: &Path, out: &mut BufWriter<File>, batch: &RecordBatch) -> Result<(), IoError> {
    let rows = batch.num_rows();
    let pieces: Vec<Vec<u8>> = (0..rows.div_ceil(CSV_PIECE_ROWS))
        .into_par_iter()
        .map(|p| {
            let start = p * CSV_PIECE_ROWS;
            render_csv(path, batch, start..rows.min(start + CSV_PIECE_ROWS))
        })
        .collect::<Result<_, _>>()?;
    for piece in &pieces {
        out.write_all(piece).map_err(|source| IoError::File { path: path.to_owned(), source })?;
    }
    Ok(())
}

/// The CSV text of rows `range` of `batch`.
fn render_csv(
    path: &Path,
    batch: &RecordBatch,
    range: std::ops::Range<usize>,
) -> Result<Vec<u8>, IoError> {
    let options = FormatOptions::default().with_null("");
    enum Col<'a> {
        Text(&'a arrow_array::StringArray),
        Other(ArrayFormatter<'a>),
    }
    let mut cols = Vec::with_capacity(batch.num_columns());
    for (array, field) in batch.columns().iter().zip(batch.schema_ref().fields()) {
        cols.push(match array.data_type() {
            DataType::Utf8 => Col::Text(array.as_string::<i32>()),
            _ => {
                Col::Other(ArrayFormatter::try_new(array.as_ref(), &options).map_err(|source| {
                    IoError::ColumnFormat {
                        path: path.to_owned(),
                        column: field.name().clone(),
                        source,
                    }
                })?)
            }
        });
    }
    let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(64 * range.len()));
    let mut cell = String::new();
    for row in range {
        for col in &cols {
            match col {
                Col::Text(a) if a.is_null(row) => w.write_field(b""),
                Col::Text(a) => w.write_field(a.value(row)),
                Col::Other(f) => {
                    cell.clear();
                    use std::fmt::Write as _;
                    let _ = write!(cell, "{}", f.value(row));
                    w.write_field(cell.as_bytes())
                }
            }
            .map_err(|e| csv_write_error(path, e))?;
        }
        w.write_record(None::<&[u8]>).map_err(|e| csv_write_error(path, e))?;
    }
    w.into_inner().map_err(|e| csv_write_error(path, e.into_error().into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, StringArray, UInt64Array};
    use arrow_schema::{Field, Schema};

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("row", DataType::UInt64, false),
            Field::new("ok", DataType::Boolean, true),
            Field::new("text", DataType::Utf8, true),
        ]));
        let cols: Vec<ArrayRef> = vec![
            Arc::new(UInt64Array::from(vec![1, 2])),
            Arc::new(BooleanArray::from(vec![Some(true), None])),
            Arc::new(StringArray::from(vec![Some("a,\"b\""), None])),
        ];
        RecordBatch::try_new(schema, cols).unwrap()
    }

    #[test]
    fn csv_output_appears_only_on_finish() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        let b = batch();
        let mut w = TableWriter::create(&out, b.schema()).unwrap();
        w.write(&b).unwrap();
        assert!(!out.exists());
        assert_eq!(w.finish().unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "row,ok,text\n1,true,\"a,\"\"b\"\"\"\n2,,\n"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn parquet_round_trips_across_row_groups() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.parquet");
        let b = batch();
        let options = WriteOptions { row_group_rows: Some(3), ..WriteOptions::default() };
        let mut w = TableWriter::create_with(&out, b.schema(), &options).unwrap();
        for _ in 0..5 {
            w.write(&b).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 10);
        let file = File::open(&out).unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 3);
        assert_eq!(reader.schema().as_ref(), b.schema().as_ref());
        let rows: Vec<RecordBatch> = reader.build().unwrap().collect::<Result<_, _>>().unwrap();
        let all = arrow_select::concat::concat_batches(&b.schema(), &rows).unwrap();
        assert_eq!(all.num_rows(), 10);
        assert_eq!(all.slice(8, 2), b);
    }

    fn timestamps(zone: &str) -> RecordBatch {
        let ts = arrow_array::TimestampSecondArray::from(vec![Some(0), None]).with_timezone(zone);
        let schema = Arc::new(Schema::new(vec![Field::new("seen", ts.data_type().clone(), true)]));
        RecordBatch::try_new(schema, vec![Arc::new(ts)]).unwrap()
    }

    #[test]
    fn named_time_zones_format_as_csv() {
        let dir = tempfile::tempdir().unwrap();
        for (zone, text) in [
            ("UTC", "1970-01-01T00:00:00Z"),
            ("Europe/Oslo", "1970-01-01T01:00:00+01:00"),
            ("+02:00", "1970-01-01T02:00:00+02:00"),
        ] {
            let out = dir.path().join("ts.csv");
            let b = timestamps(zone);
            let mut w = TableWriter::create(&out, b.schema()).unwrap();
            w.write(&b).unwrap();
            w.finish().unwrap();
            assert_eq!(std::fs::read_to_string(&out).unwrap(), format!("seen\n{text}\n\"\"\n"));
        }
    }

    #[test]
    fn an_unknown_time_zone_names_its_column_before_any_row() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("ts.csv");
        let b = timestamps("Mars/Olympus_Mons");
        let Err(e) = TableWriter::create(&out, b.schema()) else { panic!("accepted") };
        assert!(matches!(&e, IoError::ColumnFormat { column, .. } if column == "seen"), "{e}");
        assert!(e.to_string().contains("column \"seen\""), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn dropped_writer_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.parquet");
        let b = batch();
        let mut w = TableWriter::create(&out, b.schema()).unwrap();
        w.write(&b).unwrap();
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
