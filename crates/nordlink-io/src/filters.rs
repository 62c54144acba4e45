//! Filter columns of encoded files into a [`FilterArena`], without a per-record
//! allocation: Parquet `FixedSizeBinary` columns straight from their value buffer,
//! standard base64 text (CSV) through the arena's reused buffer.

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use nordlink::clk::{FilterArena, FilterError};

use crate::IoError;

/// Appends every filter of `column` to `arena`. `first_row` is the 1-based input row of
/// the column's first value, for errors.
///
/// # Errors
/// [`IoError::Filter`] naming the row for a null, a filter of another width or text that
/// is not base64; [`IoError::ColumnType`] for a column of another type. The arena then
/// holds the filters before the bad one.
pub fn append_filters(
    arena: &mut FilterArena,
    column: &ArrayRef,
    path: &Path,
    name: &str,
    first_row: u64,
) -> Result<(), IoError> {
    let at = |i: usize, source: FilterError| IoError::Filter {
        path: path.to_owned(),
        row: first_row + i as u64,
        column: name.to_owned(),
        source,
    };
    if let Some(i) = (0..column.len()).find(|&i| column.is_null(i)) {
        // A null filter is not an empty filter: refusing it keeps rows accounted for.
        return Err(at(i, FilterError::Missing));
    }
    match column.data_type() {
        DataType::FixedSizeBinary(_) => {
            let array = column.as_fixed_size_binary();
            let width = usize::try_from(array.value_length()).unwrap_or(0);
            if width != arena.bytes_per_filter() {
                return Err(at(
                    0,
                    FilterError::WrongWidth { expected: arena.bytes_per_filter(), found: width },
                ));
            }
            // Slicing a FixedSizeBinaryArray slices its value buffer, so the values start
            // at the buffer's start.
            let len = array.len() * width;
            let bytes = array.value_data().get(..len).unwrap_or_default();
            if bytes.len() != len {
                return Err(at(0, FilterError::RaggedBuffer { len: bytes.len(), width }));
            }
            arena.extend_from_fixed_width(bytes).map_err(|e| at(0, e))
        }
        DataType::Utf8 => {
            for (i, text) in column.as_string::<i32>().iter().enumerate() {
                arena.push_base64(text.unwrap_or_default()).map_err(|e| at(i, e))?;
            }
            Ok(())
        }
        DataType::LargeUtf8 => {
            for (i, text) in column.as_string::<i64>().iter().enumerate() {
                arena.push_base64(text.unwrap_or_default()).map_err(|e| at(i, e))?;
            }
            Ok(())
        }
        other => Err(IoError::ColumnType {
            path: path.to_owned(),
            column: name.to_owned(),
            found: other.clone(),
            hint: "filters are FixedSizeBinary (Parquet) or base64 text (CSV)",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{FixedSizeBinaryArray, StringArray};
    use std::sync::Arc;

    #[test]
    fn binary_and_base64_columns_load_alike_and_errors_name_the_row() {
        let rows: Vec<[u8; 2]> = vec![[0x80, 0x01], [0xff, 0x00], [0x00, 0x00]];
        let binary: ArrayRef = Arc::new(FixedSizeBinaryArray::try_from_iter(rows.iter()).unwrap());
        let text: ArrayRef = Arc::new(StringArray::from(vec!["gAE=", "/wA=", "AAA="]));
        let path = Path::new("in.parquet");
        let mut a = FilterArena::new(16).unwrap();
        let mut b = FilterArena::new(16).unwrap();
        append_filters(&mut a, &binary, path, "clk", 1).unwrap();
        append_filters(&mut b, &text, path, "clk", 1).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.popcounts(), [2, 8, 0]);
        // A slice starts where it should.
        let mut c = FilterArena::new(16).unwrap();
        append_filters(&mut c, &binary.slice(1, 2), path, "clk", 2).unwrap();
        assert_eq!(c.popcounts(), [8, 0]);
        let bad: ArrayRef = Arc::new(StringArray::from(vec![Some("gAE="), Some("gA=="), None]));
        let err = append_filters(&mut c, &bad, path, "clk", 10).unwrap_err().to_string();
        assert!(err.contains("row 12"), "{err}");
        let err = append_filters(&mut c, &bad.slice(0, 2), path, "clk", 10).unwrap_err();
        assert!(err.to_string().contains("row 11") && err.to_string().contains("\"clk\""), "{err}");
    }
}

/// An arena for the filter length of `column`: the binary width, or the decoded length
/// of the first base64 value.
pub(crate) fn new_arena(
    path: &Path,
    column: &ArrayRef,
    name: &str,
    first_row: u64,
) -> Result<FilterArena, IoError> {
    let err = |row: u64, source| IoError::Filter {
        path: path.to_owned(),
        row,
        column: name.to_owned(),
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
                column: name.to_owned(),
                found: other.clone(),
                hint: "filters are FixedSizeBinary (Parquet) or base64 text (CSV)",
            });
        }
    };
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| err(first_row, FilterError::Base64))?
        .len();
    FilterArena::new(8 * bytes).map_err(|e| err(first_row, e))
}

/// Filter columns of an encoded file, with each record's input row.
#[derive(Debug)]
pub struct FilterColumns {
    /// Each record's input row (the `row` column of a `nordlink encode` output).
    pub rows: Vec<u64>,
    /// One arena per column asked for, in that order.
    pub arenas: Vec<FilterArena>,
    /// One match key column per key column asked for that the file has, in the order
    /// asked (named as asked): a file encoded before a key existed lacks its column.
    pub keys: Vec<nordlink::link::KeyColumn>,
}

/// Reads the `row` column, the named filter columns and those of the named match key
/// columns (`key_<name>`, each as [`KeyColumn`](nordlink::link::KeyColumn) named as asked)
/// the file has, of at most `limit` records of an encoded file (Parquet or CSV).
///
/// # Errors
/// [`IoError`] naming the file, row and column: a missing column, a null or malformed
/// filter or row number, a malformed key, a row that cannot be read whole.
pub fn read_filter_columns(
    path: &Path,
    columns: &[&str],
    key_columns: &[&str],
    limit: usize,
) -> Result<FilterColumns, IoError> {
    let reader = crate::TableReader::open(path, crate::ReadOptions::default())?;
    let row_index = reader.column_index("row")?;
    let indices: Vec<usize> =
        columns.iter().map(|c| reader.column_index(c)).collect::<Result<_, _>>()?;
    let mut keys: Vec<(usize, nordlink::link::KeyColumn)> = key_columns
        .iter()
        .filter_map(|&name| {
            let column = format!("{}{name}", crate::encode::MATCH_KEY_PREFIX);
            let index = reader.schema().index_of(&column).ok()?;
            Some((index, nordlink::link::KeyColumn { name: name.to_owned(), values: Vec::new() }))
        })
        .collect();
    let mut rows = Vec::new();
    let mut arenas: Vec<Option<FilterArena>> = columns.iter().map(|_| None).collect();
    for batch in reader {
        let batch = batch?;
        batch.require_whole(path)?;
        let take = batch.data.num_rows().min(limit - rows.len());
        let data = batch.data.slice(0, take);
        let numbers = arrow_cast::cast(data.column(row_index), &DataType::UInt64)
            .map_err(|e| IoError::arrow(path, e))?;
        let numbers = numbers.as_primitive::<arrow_array::types::UInt64Type>();
        if let Some(r) = (0..numbers.len()).find(|&r| numbers.is_null(r)) {
            return Err(IoError::Csv {
                path: path.to_owned(),
                row: Some(batch.row_number(r)),
                message: "the `row` column must hold the input row number".into(),
            });
        }
        rows.extend(numbers.values().iter().copied());
        for ((arena, &i), name) in arenas.iter_mut().zip(&indices).zip(columns) {
            let column = data.column(i);
            if column.is_empty() {
                continue;
            }
            let arena = match arena {
                Some(a) => a,
                None => arena.insert(new_arena(path, column, name, batch.first_row)?),
            };
            append_filters(arena, column, path, name, batch.first_row)?;
        }
        for (i, key) in &mut keys {
            let name = format!("{}{}", crate::encode::MATCH_KEY_PREFIX, key.name);
            crate::link::push_match_keys(
                path,
                data.column(*i),
                &name,
                batch.first_row,
                &mut key.values,
            )?;
        }
        if rows.len() >= limit {
            break;
        }
    }
    let arenas = arenas
        .into_iter()
        .map(|a| a.map_or_else(|| FilterArena::new(8), Ok))
        .collect::<Result<_, _>>()
        .map_err(|source| IoError::Filter {
            path: path.to_owned(),
            row: 0,
            column: columns.first().copied().unwrap_or("clk").to_owned(),
            source,
        })?;
    Ok(FilterColumns { rows, arenas, keys: keys.into_iter().map(|(_, k)| k).collect() })
}
