use std::fmt;
use std::path::PathBuf;

use arrow_schema::DataType;

/// A file-level failure: the input or output cannot be used at all.
///
/// Messages name the file and, where known, the row and column, but never a cell's
/// content: cells may hold identifiers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The extension names no supported format.
    #[error("{path}: unsupported file type (use .csv or .parquet)", path = .path.display())]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
    },
    /// Opening, reading or creating the file failed.
    #[error("{path}: {source}", path = .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The CSV is malformed beyond a single row (unreadable header, I/O error mid-file).
    #[error("{path}: CSV error{at}: {message}", path = .path.display(),
        at = .row.map(|r| format!(" at row {r}")).unwrap_or_default())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The 1-based data row, when known.
        row: Option<u64>,
        /// What went wrong.
        message: String,
    },
    /// Parquet decoding or encoding failed.
    #[error("{path}: {source}", path = .path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The Parquet library's error (its messages do not contain cell values).
        source: parquet::errors::ParquetError,
    },
    /// Building, casting or filtering Arrow arrays failed.
    #[error("{path}: {source}", path = .path.display())]
    Arrow {
        /// The file.
        path: PathBuf,
        /// The Arrow library's error (its messages do not contain cell values).
        source: arrow_schema::ArrowError,
    },
    /// A filter column cannot be read as filters of the expected length.
    #[error("{path}: row {row}, column {column:?}: {source}", path = .path.display())]
    Filter {
        /// The file.
        path: PathBuf,
        /// The 1-based data row.
        row: u64,
        /// The column.
        column: String,
        /// What is wrong.
        source: nordlink::clk::FilterError,
    },
    /// A file's provenance record is missing, malformed or of an unknown version.
    #[error(transparent)]
    Provenance(#[from] crate::ProvenanceError),
    /// Two encoded inputs were not made alike (key, schema, length, ...).
    #[error("{left} and {right} were not encoded alike; they cannot be linked: {source}",
        left = .left.display(), right = .right.display())]
    NotLinkable {
        /// The first input.
        left: PathBuf,
        /// The second input.
        right: PathBuf,
        /// The entry that differs, with both values.
        source: crate::Mismatch,
    },
    /// A column the command needs is not in the file.
    #[error("{path}: no column named {column:?} (columns: {available})", path = .path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The requested column.
        column: String,
        /// The columns that exist, comma-separated.
        available: String,
    },
    /// Two columns share a name, so a column cannot be picked by name.
    #[error("{path}: {what} appears more than once in the header", path = .path.display(),
        what = .column.as_ref().map_or_else(|| "a column name".to_owned(), |c| format!("column name {c:?}")))]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The repeated name; `None` when the header does not look like column names (a
        /// file without a header has a data row there, and cells are never shown).
        column: Option<String>,
    },
    /// A column has a type the command cannot use.
    #[error("{path}: column {column:?} has type {found}; {hint}", path = .path.display())]
    ColumnType {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// Its Arrow type.
        found: DataType,
        /// What to do about it.
        hint: &'static str,
    },
    /// A column's values cannot be written in the output format (for example a timestamp
    /// column whose time zone is unknown, written as CSV text).
    #[error("{path}: column {column:?} cannot be written: {source}", path = .path.display())]
    ColumnFormat {
        /// The output file.
        path: PathBuf,
        /// The column.
        column: String,
        /// The Arrow library's error (its messages do not contain cell values).
        source: arrow_schema::ArrowError,
    },
    /// Settings that cannot work together or with this file.
    #[error("{path}: {problem}", path = .path.display())]
    Setting {
        /// The file the setting is about.
        path: PathBuf,
        /// What cannot work.
        problem: &'static str,
    },
    /// An output column would take the name of an input column.
    #[error("{path}: column {column:?} already exists; {hint}", path = .path.display())]
    ColumnExists {
        /// The input file.
        path: PathBuf,
        /// The clashing name.
        column: String,
        /// What to do about it.
        hint: &'static str,
    },
}

impl IoError {
    pub(crate) fn parquet(path: &std::path::Path, source: parquet::errors::ParquetError) -> Self {
        Self::Parquet { path: path.to_owned(), source }
    }

    pub(crate) fn arrow(path: &std::path::Path, source: arrow_schema::ArrowError) -> Self {
        Self::Arrow { path: path.to_owned(), source }
    }
}

/// Why one row of the input could not be read as a whole. The row still appears in the
/// output, as an invalid or rejected row with this reason.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum RowProblem {
    /// A CSV row with more or fewer fields than the header.
    FieldCount {
        /// Fields in this row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// A CSV field that is not valid UTF-8.
    InvalidUtf8 {
        /// The column holding it.
        column: String,
    },
    /// A blank line in a CSV file of more than one column.
    BlankLine,
}

impl RowProblem {
    /// A short stable code for reports, such as `field_count`.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::FieldCount { .. } => "field_count",
            Self::InvalidUtf8 { .. } => "invalid_utf8",
            Self::BlankLine => "blank_line",
        }
    }
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FieldCount { found, expected } => {
                write!(f, "row has {found} fields, header has {expected}")
            }
            Self::InvalidUtf8 { column } => write!(f, "column {column:?} is not valid UTF-8"),
            Self::BlankLine => f.write_str("blank line"),
        }
    }
}

/// The longest header entry shown in a message, and how many are listed.
const SHOWN_NAME_CHARS: usize = 40;
const SHOWN_NAMES: usize = 20;

/// Whether a header entry looks like a column name rather than a cell: short, printable,
/// and without a run of four digits (identifiers and dates have one). A file without a
/// header has its first data row there, and messages never show cells.
pub(crate) fn looks_like_a_name(name: &str) -> bool {
    let mut digits = 0;
    for c in name.chars() {
        digits = if c.is_ascii_digit() { digits + 1 } else { 0 };
        if digits >= 4 || c.is_control() {
            return false;
        }
    }
    !name.is_empty() && name.chars().count() <= SHOWN_NAME_CHARS
}

/// The header's names for a message: at most [`SHOWN_NAMES`] of them, or none at all if
/// any does not look like a name.
pub(crate) fn column_list<'a>(names: impl ExactSizeIterator<Item = &'a str> + Clone) -> String {
    let total = names.len();
    if !names.clone().all(looks_like_a_name) {
        return "the header does not look like column names (is the first row data?)".into();
    }
    let list: Vec<&str> = names.take(SHOWN_NAMES).collect();
    let more = total - list.len();
    let more = (more > 0).then(|| format!(" and {more} more"));
    list.join(", ") + more.as_deref().unwrap_or_default()
}
