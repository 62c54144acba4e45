//! Encoding record batches into Bloom filters (CLKs), with either encoder.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{FixedSizeBinaryBuilder, StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use nordlink::clk::{AnyEncoder, BloomFilter, Encoded, MATCH_KEY_LEN, MatchKeyValue};

use crate::{Format, InputBatch, IoError, Reject, TableReader};

/// Where the inputs are: the optional id column and one input column per field.
#[derive(Clone, Debug)]
pub struct EncodeSpec {
    id_column: Option<usize>,
    kept: Vec<usize>,
    field_columns: Vec<Option<usize>>,
    binary: bool,
    field_names: Vec<String>,
    key_names: Vec<String>,
    bits: usize,
}

impl EncodeSpec {
    /// Resolves the encoder's columns against the input. Filters are written as
    /// `FixedSizeBinary` in Parquet and as standard base64 text in CSV (`output`).
    ///
    /// # Errors
    /// [`IoError::MissingColumn`] for a field column or id column the input lacks;
    /// [`IoError::ColumnExists`] for an id column named like an output column (`row`,
    /// `clk`, `popcount`, `clk_<field>`), which would give the output two columns of one
    /// name.
    pub fn resolve(
        encoder: &AnyEncoder,
        reader: &TableReader,
        id_column: Option<&str>,
        output: Format,
    ) -> Result<Self, IoError> {
        let binary = output == Format::Parquet;
        let field_names: Vec<String> =
            encoder.field_filter_names().into_iter().map(str::to_owned).collect();
        let key_names: Vec<String> =
            encoder.match_key_names().into_iter().map(str::to_owned).collect();
        if let Some(name) = id_column
            && output_column_names(&field_names, &key_names).iter().any(|n| n == name)
        {
            return Err(IoError::ColumnExists {
                path: reader.path().to_owned(),
                column: name.to_owned(),
                hint: "the output has a column of that name; rename the input's id column",
            });
        }
        let id_column = id_column.map(|c| reader.column_index(c)).transpose()?;
        let field_columns = encoder
            .columns()
            .into_iter()
            .map(|c| c.map(|c| reader.column_index(c)).transpose())
            .collect::<Result<_, _>>()?;
        Ok(Self {
            id_column,
            kept: Vec::new(),
            field_columns,
            binary,
            field_names,
            key_names,
            bits: encoder.bits(),
        })
    }

    /// Also carries these input columns into the output, after the id column, unchanged
    /// (for example a birth year pseudonymised with the opaque scheme, for exact blocking
    /// in `nordlink link`). They leave with the filters: carry only keyed values.
    ///
    /// # Errors
    /// [`IoError::MissingColumn`] for a column the input lacks; [`IoError::ColumnExists`]
    /// for one named like an output column (`row`, `clk`, `popcount`, `clk_<field>`) or
    /// given twice.
    pub fn keep_columns(mut self, reader: &TableReader, names: &[String]) -> Result<Self, IoError> {
        let mut taken = output_column_names(&self.field_names, &self.key_names);
        if let Some(i) = self.id_column {
            taken.push(reader.schema().field(i).name().clone());
        }
        for name in names {
            let index = reader.column_index(name)?;
            if taken.contains(name) {
                return Err(IoError::ColumnExists {
                    path: reader.path().to_owned(),
                    column: name.clone(),
                    hint: "it is already an output column; keep it once",
                });
            }
            taken.push(name.clone());
            self.kept.push(index);
        }
        Ok(self)
    }

    /// The output schema: `row`, the id column (when given), the kept columns, `clk`,
    /// `popcount`, one `clk_<field>` per field-level filter, then one `key_<name>` per
    /// match key (16 bytes: `FixedSizeBinary` in Parquet, lowercase hex in CSV; null when
    /// missing).
    ///
    /// # Errors
    /// [`IoError::ColumnType`] if the filters are too wide for a Parquet column.
    pub fn output_schema(&self, input: &Schema, path: &Path) -> Result<SchemaRef, IoError> {
        let filter_type = if self.binary {
            let width = i32::try_from(self.bits / 8).map_err(|_| IoError::ColumnType {
                path: path.to_owned(),
                column: "clk".into(),
                found: DataType::Binary,
                hint: "filters wider than 2^31 bytes cannot be stored",
            })?;
            DataType::FixedSizeBinary(width)
        } else {
            DataType::Utf8
        };
        let mut fields = vec![Field::new("row", DataType::UInt64, false)];
        for i in self.id_column.iter().chain(&self.kept) {
            fields.push(input.field(*i).clone());
        }
        fields.push(Field::new("clk", filter_type.clone(), false));
        fields.push(Field::new("popcount", DataType::UInt32, false));
        for name in &self.field_names {
            fields.push(Field::new(format!("clk_{name}"), filter_type.clone(), false));
        }
        let key_type =
            if self.binary { DataType::FixedSizeBinary(KEY_WIDTH) } else { DataType::Utf8 };
        for name in &self.key_names {
            fields.push(Field::new(format!("{MATCH_KEY_PREFIX}{name}"), key_type.clone(), true));
        }
        Ok(Arc::new(Schema::new(fields)))
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, reason = "16 fits")]
const KEY_WIDTH: i32 = MATCH_KEY_LEN as i32;

/// Prefix of the match key columns an encoded file carries (`key_<name>`).
pub const MATCH_KEY_PREFIX: &str = "key_";

/// The columns the encoder itself writes: `row`, `clk`, `popcount`, `clk_<field>` per
/// field filter and `key_<name>` per match key. No input column may be carried out under
/// one of these names.
fn output_column_names(field_names: &[String], key_names: &[String]) -> Vec<String> {
    let fixed = ["row", "clk", "popcount"].map(str::to_owned);
    fixed
        .into_iter()
        .chain(field_names.iter().map(|n| format!("clk_{n}")))
        .chain(key_names.iter().map(|n| format!("{MATCH_KEY_PREFIX}{n}")))
        .collect()
}

/// One encoded batch.
pub struct EncodedBatch {
    /// Valid rows' filters, in input order.
    pub output: RecordBatch,
    /// Rows taken out: `field` names the schema field, `value` is never kept.
    pub rejects: Vec<Reject>,
    /// Per schema field, the values that failed their format but were encoded under the
    /// field's `invalid` policy (the rows are in `output`).
    pub invalid: Vec<u64>,
}

impl std::fmt::Debug for EncodedBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The output may carry an id column: counts only.
        f.debug_struct("EncodedBatch")
            .field("rows", &self.output.num_rows())
            .field("rejects", &self.rejects.len())
            .finish()
    }
}

/// Encodes one batch.
///
/// # Errors
/// [`IoError`] if a field column is not text or the output cannot be assembled.
pub fn encode_batch(
    batch: &InputBatch,
    encoder: &AnyEncoder,
    spec: &EncodeSpec,
    schema: &SchemaRef,
    path: &Path,
) -> Result<EncodedBatch, IoError> {
    let n = batch.data.num_rows();
    let columns: Vec<Option<StringArray>> = spec
        .field_columns
        .iter()
        .map(|c| c.map(|i| crate::text_column(path, &batch.data, i, Some(0))).transpose())
        .collect::<Result<_, _>>()?;
    let cell = |field: usize, row: usize| -> Option<&str> {
        let col = columns.get(field)?.as_ref()?;
        (!col.is_null(row)).then(|| col.value(row))
    };
    // Every row is encoded on the rayon pool (so one batch uses every core); a row that
    // could not be read whole is reported by its problem instead, whatever its result.
    let rows: Vec<usize> = (0..n).collect();
    let encoded = encoder.encode_many(&rows, |&row, f| cell(f, row));
    let mut filters: Vec<Encoded> = Vec::with_capacity(n);
    let mut keep = Vec::with_capacity(n);
    let mut rejects = Vec::new();
    let mut invalid = vec![0u64; spec.field_columns.len()];
    for ((row, problem), result) in batch.problem_codes().into_iter().enumerate().zip(encoded) {
        let row_number = batch.row_number(row);
        let reject = match (problem, result) {
            (Some(code), _) => Reject::new(row_number, None, code, None),
            // Not the row's fault: the whole run stops.
            (None, Err(nordlink::clk::EncodeError::Randomness)) => {
                return Err(IoError::Setting {
                    path: path.to_owned(),
                    problem: "the system's random source failed (blip hardening needs it)",
                });
            }
            (None, Err(e)) => Reject::new(row_number, Some(e.field().to_owned()), e.code(), None),
            (None, Ok(f)) => {
                for &(field, _) in &f.invalid {
                    if let Some(n) = invalid.get_mut(field) {
                        *n += 1;
                    }
                }
                keep.push(true);
                filters.push(f);
                continue;
            }
        };
        keep.push(false);
        rejects.push(reject);
    }
    let mut out: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    let mut rows = UInt64Builder::with_capacity(filters.len());
    for (row, &k) in keep.iter().enumerate() {
        if k {
            rows.append_value(batch.row_number(row));
        }
    }
    out.push(Arc::new(rows.finish()));
    let keep = BooleanArray::from(keep);
    for &i in spec.id_column.iter().chain(&spec.kept) {
        let column = batch.data.column(i);
        out.push(if rejects.is_empty() {
            column.clone()
        } else {
            arrow_select::filter::filter(column, &keep).map_err(|e| IoError::arrow(path, e))?
        });
    }
    out.push(filter_column(filters.iter().map(|f| &f.record), filters.len(), spec, path)?);
    let mut pop = UInt32Builder::with_capacity(filters.len());
    pop.extend(filters.iter().map(|f| Some(f.record.count_ones())));
    out.push(Arc::new(pop.finish()));
    for i in 0..spec.field_names.len() {
        out.push(filter_column(filters.iter().map(|f| &f.fields[i]), filters.len(), spec, path)?);
    }
    for i in 0..spec.key_names.len() {
        out.push(key_column(
            filters.iter().map(|f| f.keys[i].as_ref()),
            filters.len(),
            spec,
            path,
        )?);
    }
    let output = RecordBatch::try_new(schema.clone(), out).map_err(|e| IoError::arrow(path, e))?;
    Ok(EncodedBatch { output, rejects, invalid })
}

/// A column of filters: `FixedSizeBinary` or standard base64 text.
fn filter_column<'a>(
    filters: impl Iterator<Item = &'a BloomFilter>,
    n: usize,
    spec: &EncodeSpec,
    path: &Path,
) -> Result<ArrayRef, IoError> {
    let width = spec.bits / 8;
    if spec.binary {
        let mut b = FixedSizeBinaryBuilder::with_capacity(n, i32::try_from(width).unwrap_or(0));
        for f in filters {
            b.append_value(f.as_bytes()).map_err(|e| IoError::arrow(path, e))?;
        }
        Ok(Arc::new(b.finish()))
    } else {
        let mut b = StringBuilder::with_capacity(n, n * width.div_ceil(3) * 4);
        for f in filters {
            b.append_value(f.to_base64());
        }
        Ok(Arc::new(b.finish()))
    }
}

/// A column of match keys: `FixedSizeBinary(16)` or lowercase hex text, null when missing.
fn key_column<'a>(
    keys: impl Iterator<Item = Option<&'a MatchKeyValue>>,
    n: usize,
    spec: &EncodeSpec,
    path: &Path,
) -> Result<ArrayRef, IoError> {
    if spec.binary {
        let mut b = FixedSizeBinaryBuilder::with_capacity(n, KEY_WIDTH);
        for k in keys {
            match k {
                Some(k) => b.append_value(k).map_err(|e| IoError::arrow(path, e))?,
                None => b.append_null(),
            }
        }
        Ok(Arc::new(b.finish()))
    } else {
        let mut b = StringBuilder::with_capacity(n, n * 2 * MATCH_KEY_LEN);
        let mut hex = [0u8; 2 * MATCH_KEY_LEN];
        for k in keys {
            match k {
                Some(k) => {
                    let text = hex::encode_to_slice(k, &mut hex)
                        .ok()
                        .and_then(|()| std::str::from_utf8(&hex).ok())
                        .unwrap_or_default();
                    b.append_value(text);
                }
                None => b.append_null(),
            }
        }
        Ok(Arc::new(b.finish()))
    }
}
