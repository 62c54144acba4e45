//! CSV read as text, a batch of rows at a time, keeping malformed rows as row problems.
//!
//! Row numbers count every record after the header, blank lines included: a blank line
//! is a row (an empty value in a one-column file, a `blank_line` problem otherwise). A
//! quoted field may hold line breaks (RFC 4180), but one left open at the end of the file
//! or spanning more than [`MAX_QUOTED_LINES`] lines is an error naming the row it starts
//! in: an unbalanced quote would otherwise swallow the rows after it into one cell.
//! Blank lines before the header are skipped.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::{IoError, RowProblem};

/// The rows of one CSV batch and the problems of the rows that could not be read whole.
pub(crate) type CsvBatch = (RecordBatch, Vec<(usize, RowProblem)>);

/// The longest row read, header included: longer ones are an error, so a file without
/// line breaks (`/dev/zero`, a binary file) cannot grow memory without bound.
pub const MAX_CSV_LINE_BYTES: usize = 1 << 20;
/// The most columns a CSV header may name.
pub const MAX_CSV_COLUMNS: usize = 4096;
/// A batch ends early once its rows hold this many bytes, bounding memory per batch.
const MAX_BATCH_BYTES: usize = 32 << 20;

pub(crate) struct CsvSource {
    reader: csv::Reader<Lines<File>>,
    record: csv::ByteRecord,
    batch_size: usize,
    done: bool,
}

/// The file as the CSV parser sees it, checked on the way: a blank line becomes `""` (one
/// empty field, which the parser would otherwise skip); a row longer than
/// [`MAX_CSV_LINE_BYTES`], a quoted field left open at the end of the file or spanning
/// more than [`MAX_QUOTED_LINES`] lines is an error. It follows the parser's quoting
/// rules (a quote opens a quoted field only at the start of a field; `""` inside one is a
/// quote), so it knows which line breaks end rows.
struct Lines<R> {
    inner: R,
    state: Quoting,
    /// The last byte of the previous read (`\n` before the first).
    last: u8,
    /// The data row being read (0: the header).
    row: u64,
    /// Bytes of the current row so far.
    run: usize,
    /// Where the open quoted field started, and the line breaks in it so far.
    quoted_from: u64,
    quoted_lines: usize,
    /// Whether a non-blank line has been seen (blank lines before the header stay
    /// skipped, as the parser skips them).
    seen_content: bool,
    /// Why reading stopped, with the row it concerns.
    failure: Option<(u64, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// Outside quotes (a quote here opens a quoted field only at the start of a field).
    Outside,
    Quoted,
    /// A quote inside a quoted field: the end of the field, or the first of `""`.
    QuoteInQuoted,
}

/// The most line breaks one quoted field may hold: legitimate multi-line cells (an
/// address, a note) are short, while a stray quote pairing with another one far below
/// would silently merge the rows between them into one cell.
pub const MAX_QUOTED_LINES: usize = 32;

impl<R> Lines<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            state: Quoting::Outside,
            last: b'\n',
            row: 0,
            run: 0,
            quoted_from: 0,
            quoted_lines: 0,
            seen_content: false,
            failure: None,
        }
    }

    /// Notes a failure; the read returns what came before it, the next read the error
    /// (the parser is given every row before the bad one).
    fn fail(&mut self, row: u64, message: String) {
        self.failure = Some((row, message));
    }

    fn error(&self) -> Option<std::io::Error> {
        let (_, message) = self.failure.as_ref()?;
        Some(std::io::Error::new(std::io::ErrorKind::InvalidData, message.clone()))
    }

    /// Scans `buf[..n]` in place, inserting `""` before the break of each blank line;
    /// returns the new length, or the length up to a failure.
    fn scan(&mut self, buf: &mut [u8], mut n: usize) -> usize {
        let mut i = 0;
        while i < n {
            let prev = |i: usize, buf: &[u8]| if i == 0 { self.last } else { buf[i - 1] };
            let skip = match self.state {
                Quoting::Outside => memchr::memchr3(b'"', b'\n', b'\r', &buf[i..n]),
                Quoting::Quoted => memchr::memchr2(b'"', b'\n', &buf[i..n]),
                Quoting::QuoteInQuoted => Some(0),
            };
            let Some(skip) = skip else {
                self.seen_content = true;
                self.run += n - i;
                i = n;
                break;
            };
            if skip > 0 {
                self.seen_content = true;
                self.run += skip;
                i += skip;
            }
            if self.run > MAX_CSV_LINE_BYTES {
                break;
            }
            let byte = buf[i];
            match self.state {
                Quoting::Quoted if byte == b'"' => self.state = Quoting::QuoteInQuoted,
                Quoting::Quoted => {
                    self.quoted_lines += 1;
                    if self.quoted_lines > MAX_QUOTED_LINES {
                        let from = self.quoted_from;
                        self.fail(
                            from,
                            format!(
                                "a quoted field starting in this row spans more than \
                                 {MAX_QUOTED_LINES} lines (an unbalanced quote?)"
                            ),
                        );
                        return i;
                    }
                }
                Quoting::QuoteInQuoted if byte == b'"' => self.state = Quoting::Quoted,
                Quoting::QuoteInQuoted => {
                    // The field closed; this byte is read again outside quotes.
                    self.state = Quoting::Outside;
                    continue;
                }
                Quoting::Outside if byte == b'"' => {
                    self.seen_content = true;
                    if matches!(prev(i, buf), b',' | b'\n' | b'\r') {
                        self.state = Quoting::Quoted;
                        self.quoted_from = self.row;
                        self.quoted_lines = 0;
                    }
                }
                Quoting::Outside => {
                    if prev(i, buf) == b'\n' && self.seen_content && n + 2 <= buf.len() {
                        buf.copy_within(i..n, i + 2);
                        buf[i..i + 2].copy_from_slice(b"\"\"");
                        n += 2;
                        i += 2;
                    }
                    if byte == b'\n' && self.seen_content {
                        self.row += 1;
                    }
                    self.run = 0;
                }
            }
            self.run += 1;
            i += 1;
        }
        if self.run > MAX_CSV_LINE_BYTES {
            let row = self.row;
            let message = format!(
                "a row is longer than {} MiB (is this a CSV file?)",
                MAX_CSV_LINE_BYTES >> 20
            );
            self.fail(row, message);
            return i;
        }
        n
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(e) = self.error() {
            return Err(e);
        }
        // Room for `""` before every byte read, in the worst case (a file of blank lines).
        let room = buf.len() / 3;
        if room == 0 {
            return Err(std::io::Error::other("read buffer too small"));
        }
        let n = self.inner.read(&mut buf[..room])?;
        if n == 0 && self.state == Quoting::Quoted {
            let from = self.quoted_from;
            let message =
                "a quoted field starting in this row is never closed (an unbalanced quote)";
            self.fail(from, message.into());
        }
        let n = self.scan(buf, n);
        if n > 0 {
            self.last = buf[n - 1];
        }
        match self.error() {
            Some(e) if n == 0 => Err(e),
            _ => Ok(n),
        }
    }
}

impl CsvSource {
    /// Reads the header: every column is nullable `Utf8`.
    pub(crate) fn open(
        path: &Path,
        file: File,
        batch_size: usize,
    ) -> Result<(SchemaRef, Self), IoError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(Lines::new(file));
        let headers = match reader.byte_headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                let message = match &reader.get_ref().failure {
                    Some((0, message)) => format!("header: {message}"),
                    Some((row, message)) => format!("row {row}: {message}"),
                    None => csv_message(&e),
                };
                return Err(IoError::Csv { path: path.to_owned(), row: None, message });
            }
        };
        if headers.len() > MAX_CSV_COLUMNS {
            return Err(IoError::Csv {
                path: path.to_owned(),
                row: None,
                message: format!(
                    "the header has {} columns; at most {MAX_CSV_COLUMNS}",
                    headers.len()
                ),
            });
        }
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
        // Capacity for typical rows, but never gigabytes up front for a wide header.
        let per_column = (src.batch_size * 12).min((16 << 20) / n_cols.max(1));
        let mut builders: Vec<StringBuilder> =
            (0..n_cols).map(|_| StringBuilder::with_capacity(src.batch_size, per_column)).collect();
        let mut problems = Vec::new();
        let mut rows = 0;
        let mut bytes = 0;
        while rows < src.batch_size && bytes < MAX_BATCH_BYTES {
            let row = first_row + rows as u64;
            let more = match src.reader.read_byte_record(&mut src.record) {
                Ok(more) => more,
                Err(e) => {
                    let (row, message) = match &src.reader.get_ref().failure {
                        Some((row, message)) => (*row, message.clone()),
                        None => (row, csv_message(&e)),
                    };
                    return Err(IoError::Csv { path: path.to_owned(), row: Some(row), message });
                }
            };
            if !more {
                src.done = true;
                break;
            }
            let blank = n_cols > 1 && src.record.len() == 1 && src.record[0].is_empty();
            if blank {
                problems.push((rows, RowProblem::BlankLine));
                builders.iter_mut().for_each(StringBuilder::append_null);
            } else {
                append_record(&src.record, schema, &mut builders, rows, &mut problems);
            }
            bytes += src.record.as_slice().len() + n_cols;
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

/// Appends one record's fields (null for missing ones), noting its problems.
fn append_record(
    record: &csv::ByteRecord,
    schema: &SchemaRef,
    builders: &mut [StringBuilder],
    row: usize,
    problems: &mut Vec<(usize, RowProblem)>,
) {
    if record.len() != builders.len() {
        let problem = RowProblem::FieldCount { found: record.len(), expected: builders.len() };
        problems.push((row, problem));
    }
    for (col, builder) in builders.iter_mut().enumerate() {
        match record.get(col).map(std::str::from_utf8) {
            Some(Ok(s)) => builder.append_value(s),
            Some(Err(_)) => {
                let column = schema.field(col).name().clone();
                problems.push((row, RowProblem::InvalidUtf8 { column }));
                builder.append_null();
            }
            None => builder.append_null(),
        }
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
