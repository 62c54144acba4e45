//! Validation reports for a column of national identifiers.
//!
//! One report row per input row, in input order, with the columns of [`report_schema`]:
//! `row` (1-based), `valid`, `normalised`, `birth_date`, `sex`, `kind`, `error`, the last
//! five null where they do not apply. `error` holds a stable code: a
//! [`ParseError::code`](nordlink::id::ParseError::code) or a
//! [`RowProblem::code`](crate::RowProblem::code).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use arrow_array::builder::{BooleanBuilder, Date32Builder, StringBuilder, UInt64Builder};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use nordlink::id::{ParseOptions, Scheme, parse_with};

use crate::InputBatch;

/// The schema of an identifier report.
pub fn report_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("row", DataType::UInt64, false),
                Field::new("valid", DataType::Boolean, false),
                Field::new("normalised", DataType::Utf8, true),
                Field::new("birth_date", DataType::Date32, true),
                Field::new("sex", DataType::Utf8, true),
                Field::new("kind", DataType::Utf8, true),
                Field::new("error", DataType::Utf8, true),
            ]))
        })
        .clone()
}

/// Counts for the end-of-run summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckStats {
    /// Rows seen.
    pub rows: u64,
    /// Rows with a valid identifier.
    pub valid: u64,
    /// Valid rows per kind name.
    pub kinds: BTreeMap<&'static str, u64>,
    /// Invalid rows per error code.
    pub errors: BTreeMap<&'static str, u64>,
}

/// Builds the report rows for one input batch.
///
/// `ids` is the identifier column of `batch` as text (see [`crate::text_column`]); a null
/// cell counts as empty. Rows listed in `batch.problems` are reported invalid with the
/// problem's code, whatever their identifier cell holds.
///
/// # Panics
/// Only if `ids` is longer than the batch's row numbering allows, which no reader yields.
pub fn check_batch(
    batch: &InputBatch,
    ids: &StringArray,
    scheme: Scheme,
    options: &ParseOptions,
    stats: &mut CheckStats,
) -> RecordBatch {
    let n = ids.len();
    let mut row = UInt64Builder::with_capacity(n);
    let mut valid = BooleanBuilder::with_capacity(n);
    let mut normalised = StringBuilder::with_capacity(n, n * 12);
    let mut birth = Date32Builder::with_capacity(n);
    let mut sex = StringBuilder::with_capacity(n, n);
    let mut kind = StringBuilder::with_capacity(n, n * 8);
    let mut error = StringBuilder::with_capacity(n, n);
    for (i, problem) in batch.problem_codes().into_iter().enumerate().take(n) {
        row.append_value(batch.row_number(i));
        let result = match problem {
            Some(code) => Err(code),
            None => parse_with(scheme, if ids.is_null(i) { "" } else { ids.value(i) }, options)
                .map_err(|e| e.code()),
        };
        stats.rows += 1;
        match result {
            Ok(id) => {
                stats.valid += 1;
                *stats.kinds.entry(id.kind().as_str()).or_default() += 1;
                valid.append_value(true);
                normalised.append_value(id.as_str());
                birth.append_option(id.birth_date().map(|d| d.to_unix_days()));
                sex.append_option(id.sex().map(|s| s.as_str()));
                kind.append_value(id.kind().as_str());
                error.append_null();
            }
            Err(code) => {
                *stats.errors.entry(code).or_default() += 1;
                valid.append_value(false);
                normalised.append_null();
                birth.append_null();
                sex.append_null();
                kind.append_null();
                error.append_value(code);
            }
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(row.finish()),
        Arc::new(valid.finish()),
        Arc::new(normalised.finish()),
        Arc::new(birth.finish()),
        Arc::new(sex.finish()),
        Arc::new(kind.finish()),
        Arc::new(error.finish()),
    ];
    RecordBatch::try_new(report_schema(), columns)
        .expect("columns are built to match report_schema")
}
