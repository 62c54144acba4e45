//! Identifier columns as text: string columns of any width, and integer columns
//! zero-padded back to the scheme's length when the caller allows it.

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::{RecordBatch, StringArray};
use arrow_schema::{DataType, Field};

use crate::IoError;

/// Column `index` of `batch` as UTF-8 text.
///
/// String columns of any width are returned as `Utf8`. Integer columns are formatted in
/// decimal and, with `zero_pad = Some(width)`, left-padded with zeros to `width`
/// characters (longer values are left as they are; negative values stay negative and will
/// fail validation).
///
/// # Errors
/// [`IoError::ColumnType`] for other types (see [`TableReader::check_text_column`](crate::TableReader::check_text_column)).
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
        (DataType::Dictionary(..), _) => {
            // Dictionary-encoded text (pandas categoricals, Parquet dictionaries): decoded.
            let text =
                arrow_cast::cast(array, &DataType::Utf8).map_err(|e| IoError::arrow(path, e))?;
            Ok(text.as_string::<i32>().clone())
        }
        (_, width) => {
            // An integer column (text_type_check allowed it only with a width).
            let width = width.unwrap_or_default();
            let text =
                arrow_cast::cast(array, &DataType::Utf8).map_err(|e| IoError::arrow(path, e))?;
            Ok(text.as_string::<i32>().iter().map(|v| v.map(|s| format!("{s:0>width$}"))).collect())
        }
    }
}

/// Whether a column of this type can be read as identifier text: any string type, or an
/// integer type when a zero-padding width is given.
pub(crate) fn text_type_check(
    path: &Path,
    field: &Field,
    zero_pad: Option<usize>,
) -> Result<(), IoError> {
    let hint = match field.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => return Ok(()),
        DataType::Dictionary(_, values)
            if matches!(**values, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) =>
        {
            return Ok(());
        }
        t if t.is_integer() && zero_pad.is_some() => return Ok(()),
        t if t.is_integer() => {
            "identifiers stored as integers have lost their leading zeros; \
             export the column as text, or allow zero-padding to the scheme's length"
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, DictionaryArray, types::Int32Type};
    use std::sync::Arc;

    #[test]
    fn dictionary_encoded_text_reads_as_text() {
        let dict: DictionaryArray<Int32Type> =
            vec![Some("0101"), None, Some("0101"), Some("x")].into_iter().collect();
        let schema = Arc::new(arrow_schema::Schema::new(vec![Field::new(
            "id",
            dict.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(dict)]).unwrap();
        let text = text_column(Path::new("t.parquet"), &batch, 0, None).unwrap();
        let values: Vec<Option<&str>> = text.iter().collect();
        assert_eq!(values, [Some("0101"), None, Some("0101"), Some("x")]);
    }
}
