use std::path::Path;

use crate::IoError;

/// A tabular file format, chosen by file extension.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Format {
    /// Comma-separated values with a header row (RFC 4180 quoting), UTF-8.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The format named by `path`'s extension: `.csv` or `.parquet`/`.pq` (any case).
    ///
    /// # Errors
    /// [`IoError::UnsupportedFormat`] for any other extension.
    pub fn from_path(path: &Path) -> Result<Self, IoError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
        if ext.eq_ignore_ascii_case("csv") {
            Ok(Self::Csv)
        } else if ext.eq_ignore_ascii_case("parquet") || ext.eq_ignore_ascii_case("pq") {
            Ok(Self::Parquet)
        } else {
            Err(IoError::UnsupportedFormat { path: path.to_owned() })
        }
    }
}
