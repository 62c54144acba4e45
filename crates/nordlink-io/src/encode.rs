//! Encoding record batches into Bloom filters (CLKs), with either encoder.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{FixedSizeBinaryBuilder, StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use nordlink::clk::clkhash::{ClkhashCache, ClkhashEncoder};
use nordlink::clk::{BloomFilter, EncodeCache, EncodeError, Encoder};

use crate::reader::parquet_error;
use crate::{InputBatch, IoError, TableReader};

thread_local! {
    /// Per-thread memo of token masks (key-derived: memory only, never written out).
    static CACHES: std::cell::RefCell<(EncodeCache, ClkhashCache)> =
        std::cell::RefCell::new((EncodeCache::default(), ClkhashCache::default()));
}

/// Either encoder: nordlink's own, or the clkhash-compatible one.
#[derive(Debug)]
pub enum AnyEncoder {
    /// `nordlink-clk/1`.
    Native(Encoder),
    /// clkhash 0.18.3 compatible.
    Clkhash(ClkhashEncoder),
}

impl AnyEncoder {
    /// Output filter length in bits.
    pub fn bits(&self) -> usize {
        match self {
            Self::Native(e) => e.schema().output_bits(),
            Self::Clkhash(e) => e.schema().len_bits(),
        }
    }

    /// Names of field-level filters written besides the record filter.
    pub fn field_filter_names(&self) -> Vec<String> {
        match self {
            Self::Native(e) if e.schema().field_filters => {
                e.schema().fields.iter().map(|f| f.name.clone()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The input column each field or feature reads, by position (`None`: not hashed).
    fn columns(&self) -> Vec<Option<String>> {
        match self {
            Self::Native(e) => e.schema().fields.iter().map(|f| Some(f.column.clone())).collect(),
            Self::Clkhash(e) => {
                e.schema().feature_columns().map(|c| c.map(str::to_owned)).collect()
            }
        }
    }
}

/// Where the inputs are: the optional id column and one input column per field.
#[derive(Clone, Debug)]
pub struct EncodeSpec {
    id_column: Option<usize>,
    field_columns: Vec<Option<usize>>,
    binary: bool,
    field_names: Vec<String>,
    bits: usize,
}

impl EncodeSpec {
    /// Resolves the encoder's columns against the input.
    ///
    /// `binary`: filters as `FixedSizeBinary` (Parquet) or standard base64 text (CSV).
    ///
    /// # Errors
    /// [`IoError::MissingColumn`] for a field column or id column the input lacks.
    pub fn resolve(
        encoder: &AnyEncoder,
        reader: &TableReader,
        id_column: Option<&str>,
        binary: bool,
    ) -> Result<Self, IoError> {
        let id_column = id_column.map(|c| reader.column_index(c)).transpose()?;
        let field_columns = encoder
            .columns()
            .iter()
            .map(|c| c.as_deref().map(|c| reader.column_index(c)).transpose())
            .collect::<Result<_, _>>()?;
        Ok(Self {
            id_column,
            field_columns,
            binary,
            field_names: encoder.field_filter_names(),
            bits: encoder.bits(),
        })
    }

    /// The output schema: `row`, the id column (when given), `clk`, `popcount`, then one
    /// `clk_<field>` per field-level filter.
    pub fn output_schema(&self, input: &Schema) -> SchemaRef {
        let filter_type = if self.binary {
            DataType::FixedSizeBinary((self.bits / 8) as i32)
        } else {
            DataType::Utf8
        };
        let mut fields = vec![Field::new("row", DataType::UInt64, false)];
        if let Some(i) = self.id_column {
            fields.push(input.field(i).clone());
        }
        fields.push(Field::new("clk", filter_type.clone(), false));
        fields.push(Field::new("popcount", DataType::UInt32, false));
        for name in &self.field_names {
            fields.push(Field::new(format!("clk_{name}"), filter_type.clone(), false));
        }
        Arc::new(Schema::new(fields))
    }
}

/// A row that could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeReject {
    /// 1-based data row number.
    pub row: u64,
    /// The field, or empty for a row-level problem.
    pub field: String,
    /// A stable problem code.
    pub problem: &'static str,
}

/// One encoded batch.
#[derive(Debug)]
pub struct EncodedBatch {
    /// Valid rows' filters, in input order.
    pub output: RecordBatch,
    /// Rows taken out.
    pub rejects: Vec<EncodeReject>,
}

/// The schema of an encode rejects file: `row`, `field`, `problem`.
pub fn rejects_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("row", DataType::UInt64, false),
        Field::new("field", DataType::Utf8, false),
        Field::new("problem", DataType::Utf8, false),
    ]))
}

/// Rejects as a batch of [`rejects_schema`].
///
/// # Panics
/// Never: the columns are built to match the schema.
pub fn rejects_batch(rejects: &[EncodeReject]) -> RecordBatch {
    let mut row = UInt64Builder::new();
    let mut field = StringBuilder::new();
    let mut problem = StringBuilder::new();
    for r in rejects {
        row.append_value(r.row);
        field.append_value(&r.field);
        problem.append_value(r.problem);
    }
    let columns: Vec<ArrayRef> =
        vec![Arc::new(row.finish()), Arc::new(field.finish()), Arc::new(problem.finish())];
    RecordBatch::try_new(rejects_schema(), columns).expect("columns match the schema")
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
    let n_fields = spec.field_names.len();
    let mut filters: Vec<(BloomFilter, Vec<BloomFilter>)> = Vec::with_capacity(n);
    let mut keep = Vec::with_capacity(n);
    let mut rejects = Vec::new();
    // Token masks are reused across the batches a thread processes; a cache resets
    // itself when used with another encoder.
    CACHES.with_borrow_mut(|(native_cache, clkhash_cache)| {
        for (row, problem) in batch.problem_codes().into_iter().enumerate().take(n) {
            let result = match problem {
                Some(code) => Err(EncodeError { feature: String::new(), problem: code }),
                None => match encoder {
                    AnyEncoder::Native(e) => {
                        e.encode(|f| cell(f, row), native_cache).map(|x| (x.record, x.fields))
                    }
                    AnyEncoder::Clkhash(e) => {
                        e.encode(|f, _| cell(f, row), clkhash_cache).map(|x| (x, Vec::new()))
                    }
                },
            };
            match result {
                Ok(f) => {
                    keep.push(true);
                    filters.push(f);
                }
                Err(e) => {
                    keep.push(false);
                    rejects.push(EncodeReject {
                        row: batch.row_number(row),
                        field: e.feature,
                        problem: e.problem,
                    });
                }
            }
        }
    });
    let mut out: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    let mut rows = UInt64Builder::with_capacity(filters.len());
    for (row, &k) in keep.iter().enumerate() {
        if k {
            rows.append_value(batch.row_number(row));
        }
    }
    out.push(Arc::new(rows.finish()));
    if let Some(i) = spec.id_column {
        let ids = batch.data.column(i);
        out.push(if rejects.is_empty() {
            ids.clone()
        } else {
            arrow_select::filter::filter(ids, &BooleanArray::from(keep))
                .map_err(|e| parquet_error(path, &e))?
        });
    }
    out.push(filter_column(filters.iter().map(|f| &f.0), filters.len(), spec, path)?);
    let mut pop = UInt32Builder::with_capacity(filters.len());
    pop.extend(filters.iter().map(|f| Some(f.0.count_ones())));
    out.push(Arc::new(pop.finish()));
    for i in 0..n_fields {
        out.push(filter_column(filters.iter().map(|f| &f.1[i]), filters.len(), spec, path)?);
    }
    let output = RecordBatch::try_new(schema.clone(), out).map_err(|e| parquet_error(path, &e))?;
    Ok(EncodedBatch { output, rejects })
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
        let mut b = FixedSizeBinaryBuilder::with_capacity(n, width as i32);
        for f in filters {
            b.append_value(f.as_bytes()).map_err(|e| parquet_error(path, &e))?;
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
