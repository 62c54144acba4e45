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
