//! Reading encoded files for linkage: filters into a [`FilterArena`], record ids, and the
//! file's provenance.

use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::DataType;
use base64::Engine as _;
use nordlink::clk::{FilterArena, FilterError};

use crate::{IoError, Provenance, ProvenanceError, ReadOptions, TableReader, append_filters};

/// The name of the filter column `nordlink encode` writes, and clkhash users' CSVs have.
pub const FILTER_COLUMN: &str = "clk";

/// One encoded input, in memory.
#[derive(Debug)]
pub struct EncodedInput {
    /// The file.
    pub path: PathBuf,
    /// The record filters, in file order.
    pub filters: FilterArena,
    /// Each record's id: the id column's text, or the row number (the `row` column of a
    /// `nordlink encode` output, which is the input row even after rejects; else the
    /// 1-based row number in this file).
    pub ids: Vec<String>,
    /// The column the ids came from (`None`: row numbers).
    pub id_column: Option<String>,
    /// Each record's blocking key (`None` for a null), when a key column was asked for.
    pub keys: Option<Vec<Option<String>>>,
    /// The file's provenance, when it has one (a plain clkhash/anonlink CSV has none).
    pub provenance: Option<Provenance>,
}

impl EncodedInput {
    /// Reads a file written by `nordlink encode` (Parquet or CSV), or any CSV/Parquet
    /// with a `clk` column of base64 or fixed-width binary filters. Ids come from
    /// `id_column`, else a column named `id`, else a column named `row`, else the row
    /// number in this file. A null id is an error: records must stay nameable.
    ///
    /// # Errors
    /// [`IoError`] naming the file (and row) for an unreadable file, a missing column, a
    /// null or malformed filter, filters of different lengths, or a malformed provenance
    /// record. A missing provenance record is not an error (see [`Self::provenance`]).
    /// With `key_column`, each record's value of that column is read as its blocking
    /// key (as text; a null is no key).
    pub fn read(
        path: &Path,
        id_column: Option<&str>,
        key_column: Option<&str>,
    ) -> Result<Self, IoError> {
        let provenance = match Provenance::read(path) {
            Ok(p) => Some(p),
            Err(IoError::Provenance(ProvenanceError::Missing { .. })) => None,
            Err(e) => return Err(e),
        };
        let reader = TableReader::open(path, ReadOptions::default())?;
        let clk = reader.column_index(FILTER_COLUMN)?;
        let id_name = match id_column {
            Some(name) => Some(name.to_owned()),
            None => ["id", "row"]
                .into_iter()
                .find(|c| reader.schema().index_of(c).is_ok())
                .map(str::to_owned),
        };
        let id_index = id_name.as_deref().map(|n| reader.column_index(n)).transpose()?;
        let key_index = key_column.map(|n| reader.column_index(n)).transpose()?;
        let mut keys: Option<Vec<Option<String>>> = key_index.map(|_| Vec::new());
        let mut filters: Option<FilterArena> = None;
        let mut ids = Vec::new();
        for batch in reader {
            let batch = batch?;
            // A record that cannot be read whole cannot be linked, nor silently dropped.
            if let Some((row, problem)) = batch.problems.first() {
                return Err(IoError::Csv {
                    path: path.to_owned(),
                    row: Some(batch.row_number(*row)),
                    message: problem.to_string(),
                });
            }
            let column = batch.data.column(clk);
            if column.is_empty() {
                continue;
            }
            let arena = match &mut filters {
                Some(a) => a,
                None => filters.insert(new_arena(path, column, batch.first_row)?),
            };
            append_filters(arena, column, path, FILTER_COLUMN, batch.first_row)?;
            if let (Some(k), Some(keys)) = (key_index, &mut keys) {
                let mut text = Vec::new();
                push_ids(path, batch.data.column(k), &mut text)?;
                let column = batch.data.column(k);
                keys.extend(
                    text.into_iter().enumerate().map(|(r, v)| (!column.is_null(r)).then_some(v)),
                );
            }
            match id_index {
                Some(i) => {
                    let column = batch.data.column(i);
                    if let Some(row) = (0..column.len()).find(|&r| column.is_null(r)) {
                        return Err(IoError::Csv {
                            path: path.to_owned(),
                            row: Some(batch.row_number(row)),
                            message: format!(
                                "the id column {:?} is empty: records must be nameable",
                                id_name.as_deref().unwrap_or_default()
                            ),
                        });
                    }
                    push_ids(path, column, &mut ids)?;
                }
                None => {
                    ids.extend((0..batch.data.num_rows()).map(|r| batch.row_number(r).to_string()))
                }
            }
        }
        let filters = match filters {
            Some(f) => f,
            // An empty file: take the length from the provenance, or any; nothing to link.
            None => {
                let bits = provenance.as_ref().and_then(|p| p.bits).map_or(8, |b| b as usize);
                FilterArena::new(bits).map_err(|source| IoError::Filter {
                    path: path.to_owned(),
                    row: 0,
                    column: FILTER_COLUMN.into(),
                    source,
                })?
            }
        };
        Ok(Self { path: path.to_owned(), filters, ids, id_column: id_name, keys, provenance })
    }
}

/// An arena for the filter length of `column`: the binary width, or the decoded length
/// of the first base64 value.
fn new_arena(path: &Path, column: &ArrayRef, first_row: u64) -> Result<FilterArena, IoError> {
    let err = |row: u64, source| IoError::Filter {
        path: path.to_owned(),
        row,
        column: FILTER_COLUMN.into(),
        source,
    };
    if column.is_null(0) {
        return Err(err(first_row, FilterError::Missing));
    }
    let text = match column.data_type() {
        DataType::FixedSizeBinary(w) => {
            return FilterArena::new(8 * usize::try_from(*w).unwrap_or(0))
                .map_err(|e| err(first_row, e));
        }
        DataType::Utf8 => column.as_string::<i32>().value(0),
        DataType::LargeUtf8 => column.as_string::<i64>().value(0),
        other => {
            return Err(IoError::ColumnType {
                path: path.to_owned(),
                column: FILTER_COLUMN.into(),
                found: other.clone(),
                hint: "filters are FixedSizeBinary (Parquet) or base64 text (CSV)",
            });
        }
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| err(first_row, FilterError::Base64))?
        .len();
    FilterArena::new(8 * bytes).map_err(|e| err(first_row, e))
}

/// Appends the ids of a column of any type, as the text CSV would show.
fn push_ids(path: &Path, column: &ArrayRef, ids: &mut Vec<String>) -> Result<(), IoError> {
    if let DataType::Utf8 = column.data_type() {
        ids.extend(column.as_string::<i32>().iter().map(|v| v.unwrap_or_default().to_owned()));
        return Ok(());
    }
    let options = FormatOptions::default().with_null("");
    let f =
        ArrayFormatter::try_new(column.as_ref(), &options).map_err(|e| IoError::arrow(path, e))?;
    ids.extend((0..column.len()).map(|i| f.value(i).to_string()));
    Ok(())
}
