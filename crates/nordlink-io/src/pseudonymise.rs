//! Replacing an identifier column by keyed pseudonyms, batch by batch.
//!
//! Every other column passes through unchanged, with its type. Rows whose identifier is
//! invalid (or which could not be read whole) are taken out and returned as
//! [`Reject`]s with their row number and reason, so rows in = rows out + rejects.

use std::sync::Arc;

use arrow_array::builder::{Date32Builder, StringBuilder, UInt16Builder};
use arrow_array::{Array, ArrayRef, BooleanArray, FixedSizeBinaryArray, RecordBatch, StringArray};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use nordlink::id::{NationalId, ParseOptions, parse_with};
use nordlink::pseudonym::{Encoding, Namespace, OutputFormat, Pseudonym, Pseudonymiser};

use crate::{InputBatch, IoError, Reject, text_column};

/// Columns derived from the identifier, appended after the input's columns on request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Derived {
    /// `birth_date` (`Date32`), null where the number has no date.
    pub birth_date: bool,
    /// `birth_year` (`UInt16`), null where the number has no date.
    pub birth_year: bool,
    /// `sex` (`M`/`F`), null where the number does not encode it.
    pub sex: bool,
}

impl Derived {
    fn any(self) -> bool {
        self.birth_date || self.birth_year || self.sex
    }
}

/// What to pseudonymise and how.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Index of the identifier column.
    pub column: usize,
    /// Identifier scheme, or opaque values.
    pub namespace: Namespace,
    /// Parsing options (Swedish reference date).
    pub parse_options: ParseOptions,
    /// Output encoding and length.
    pub format: OutputFormat,
    /// Derived columns to append.
    pub derived: Derived,
    /// Zero-pad integer identifier columns to this width (see [`text_column`]).
    pub zero_pad: Option<usize>,
    /// Keys of the input's schema-level metadata (Parquet footer) carried into the
    /// output; every other entry, and all column-level metadata, is dropped: an extract's
    /// metadata can name its source or hold identifiers.
    pub keep_metadata: Vec<String>,
}

impl Spec {
    /// The zero-padding width for an integer-typed identifier column of `namespace`: the
    /// scheme's digit count, or none for opaque values (`None`: the scheme's numbers are
    /// never integers).
    pub fn integer_width(namespace: Namespace) -> Option<usize> {
        match namespace {
            Namespace::Id(scheme) => scheme.integer_width(),
            Namespace::Opaque => Some(0),
        }
    }

    /// Checks the settings against each other and against the output file.
    ///
    /// # Errors
    /// [`IoError::Setting`] for raw pseudonyms in a CSV output (raw bytes are not text)
    /// or derived columns from opaque values (which carry no birth date or sex).
    pub fn check(&self, output: &std::path::Path) -> Result<(), IoError> {
        let problem = |problem| Err(IoError::Setting { path: output.to_owned(), problem });
        if self.format.encoding() == Encoding::Raw
            && crate::Format::from_path(output)? != crate::Format::Parquet
        {
            return problem("raw pseudonyms are bytes and need a .parquet output");
        }
        if self.namespace == Namespace::Opaque && self.derived.any() {
            return problem(
                "derived columns need a national identifier scheme; opaque values carry no \
                 birth date or sex",
            );
        }
        Ok(())
    }
}

/// One processed batch.
pub struct Processed {
    /// The output rows (valid input rows, in order).
    pub output: RecordBatch,
    /// The rows taken out.
    pub rejects: Vec<Reject>,
}

impl std::fmt::Debug for Processed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Other columns may hold personal data: counts only.
        f.debug_struct("Processed")
            .field("rows", &self.output.num_rows())
            .field("rejects", &self.rejects.len())
            .finish()
    }
}

/// The output schema: the input's, with the identifier column's type replaced and any
/// derived columns appended.
///
/// # Errors
/// [`IoError::ColumnExists`] if a derived column's name is already taken.
pub fn output_schema(
    input: &Schema,
    spec: &Spec,
    path: &std::path::Path,
) -> Result<SchemaRef, IoError> {
    let mut fields: Vec<Field> = input
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_metadata(std::collections::HashMap::new()))
        .collect();
    let id = &input.fields()[spec.column];
    let data_type = match spec.format.encoding() {
        // 16..=32 bytes.
        Encoding::Raw => {
            DataType::FixedSizeBinary(i32::try_from(spec.format.bytes()).unwrap_or(32))
        }
        _ => DataType::Utf8,
    };
    // Only valid rows reach the output, so the pseudonym is never null.
    fields[spec.column] = Field::new(id.name(), data_type, false);
    let mut add = |name: &str, data_type: DataType| {
        if input.index_of(name).is_ok() {
            return Err(IoError::ColumnExists {
                path: path.to_owned(),
                column: name.to_owned(),
                hint: "a derived column of this name was requested; rename the input column",
            });
        }
        fields.push(Field::new(name, data_type, true));
        Ok(())
    };
    if spec.derived.birth_date {
        add("birth_date", DataType::Date32)?;
    }
    if spec.derived.birth_year {
        add("birth_year", DataType::UInt16)?;
    }
    if spec.derived.sex {
        add("sex", DataType::Utf8)?;
    }
    let metadata: std::collections::HashMap<String, String> = input
        .metadata()
        .iter()
        .filter(|(k, _)| spec.keep_metadata.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Arc::new(Schema::new_with_metadata(fields, metadata)))
}

/// Pseudonymises one batch.
///
/// # Errors
/// [`IoError`] if the identifier column cannot be read as text or the output cannot be
/// assembled.
pub fn pseudonymise_batch(
    batch: &InputBatch,
    pseudonymiser: &Pseudonymiser,
    spec: &Spec,
    schema: &SchemaRef,
    path: &std::path::Path,
) -> Result<Processed, IoError> {
    let ids = text_column(path, &batch.data, spec.column, spec.zero_pad)?;
    let n = ids.len();
    let mut keep = Vec::with_capacity(n);
    let mut pseudonyms: Vec<Pseudonym> = Vec::with_capacity(n);
    let mut parsed: Vec<NationalId> = Vec::new();
    let mut rejects = Vec::new();
    for (i, problem) in batch.problem_codes().into_iter().enumerate().take(n) {
        let cell = (!ids.is_null(i)).then(|| ids.value(i));
        let result = match problem {
            Some(code) => Err(code),
            None => pseudonymise_cell(cell.unwrap_or(""), pseudonymiser, spec, &mut parsed),
        };
        match result {
            Ok(p) => {
                keep.push(true);
                pseudonyms.push(p);
            }
            Err(reason) => {
                keep.push(false);
                rejects.push(Reject::new(
                    batch.row_number(i),
                    Some(schema.field(spec.column).name().clone()),
                    reason,
                    cell.map(str::to_owned),
                ));
            }
        }
    }

    let mask = BooleanArray::from(keep);
    let all_kept = rejects.is_empty();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (c, array) in batch.data.columns().iter().enumerate() {
        if c == spec.column {
            columns.push(pseudonym_array(&pseudonyms, spec.format, path)?);
        } else if all_kept {
            columns.push(array.clone());
        } else {
            columns.push(
                arrow_select::filter::filter(array, &mask).map_err(|e| IoError::arrow(path, e))?,
            );
        }
    }
    if spec.derived.any() {
        append_derived(&parsed, spec.derived, &mut columns);
    }
    let output =
        RecordBatch::try_new(schema.clone(), columns).map_err(|e| IoError::arrow(path, e))?;
    Ok(Processed { output, rejects })
}

/// Pseudonymises one cell; keeps the parsed identifier when derived columns need it.
fn pseudonymise_cell(
    cell: &str,
    pseudonymiser: &Pseudonymiser,
    spec: &Spec,
    parsed: &mut Vec<NationalId>,
) -> Result<Pseudonym, &'static str> {
    match spec.namespace {
        Namespace::Opaque => pseudonymiser.pseudonymise_opaque(cell).map_err(|e| e.code()),
        Namespace::Id(scheme) => {
            let id = parse_with(scheme, cell, &spec.parse_options).map_err(|e| e.code())?;
            if spec.derived.any() {
                parsed.push(id);
            }
            Ok(pseudonymiser.pseudonymise(&id))
        }
    }
}

/// Builds the pseudonym column straight into one values buffer: every value has the same
/// length, so offsets are arithmetic.
fn pseudonym_array(
    pseudonyms: &[Pseudonym],
    format: OutputFormat,
    path: &std::path::Path,
) -> Result<ArrayRef, IoError> {
    let width = format.encoded_len();
    // Arrow's 32-bit offsets bound a batch's text; check once, then every offset fits.
    let total = i32::try_from(pseudonyms.len() * width).map_err(|_| {
        IoError::arrow(path, ArrowError::OffsetOverflowError(pseudonyms.len() * width))
    })?;
    let width32 = i32::try_from(width).unwrap_or(i32::MAX);
    let mut values = vec![0u8; pseudonyms.len() * width];
    for (p, out) in pseudonyms.iter().zip(values.chunks_exact_mut(width)) {
        p.encode_to_slice(format, out);
    }
    let values = Buffer::from_vec(values);
    Ok(match format.encoding() {
        Encoding::Raw => Arc::new(FixedSizeBinaryArray::new(width32, values, None)),
        _ => {
            let offsets: Vec<i32> = (0..=total).step_by(width.max(1)).collect();
            let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
            // Hex and base64url are ASCII; `new` still validates, which is cheap.
            Arc::new(StringArray::new(offsets, values, None))
        }
    })
}

fn append_derived(parsed: &[NationalId], derived: Derived, columns: &mut Vec<ArrayRef>) {
    if derived.birth_date {
        let mut b = Date32Builder::with_capacity(parsed.len());
        b.extend(parsed.iter().map(|id| id.birth_date().map(|d| d.to_unix_days())));
        columns.push(Arc::new(b.finish()));
    }
    if derived.birth_year {
        let mut b = UInt16Builder::with_capacity(parsed.len());
        b.extend(parsed.iter().map(|id| id.birth_date().map(|d| d.year())));
        columns.push(Arc::new(b.finish()));
    }
    if derived.sex {
        let mut b = StringBuilder::with_capacity(parsed.len(), parsed.len());
        b.extend(parsed.iter().map(|id| id.sex().map(|s| s.as_str())));
        columns.push(Arc::new(b.finish()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nordlink::id::Scheme;
    use std::path::Path;

    #[test]
    fn settings_are_checked_against_each_other_and_the_output() {
        let spec = |namespace, encoding, derived| Spec {
            column: 0,
            namespace,
            parse_options: ParseOptions::default(),
            format: OutputFormat::new(encoding, 256).unwrap(),
            derived,
            zero_pad: None,
            keep_metadata: Vec::new(),
        };
        let dk = Namespace::Id(Scheme::Dk);
        let sex = Derived { sex: true, ..Derived::default() };
        assert!(spec(dk, Encoding::Raw, sex).check(Path::new("o.parquet")).is_ok());
        let err = spec(dk, Encoding::Raw, sex).check(Path::new("o.csv")).unwrap_err();
        assert!(err.to_string().contains(".parquet output"), "{err}");
        let err = spec(Namespace::Opaque, Encoding::Hex, sex).check(Path::new("o.csv"));
        assert!(matches!(err, Err(IoError::Setting { .. })));
        assert!(
            spec(Namespace::Opaque, Encoding::Hex, Derived::default())
                .check(Path::new("o.csv"))
                .is_ok()
        );
        assert_eq!(Spec::integer_width(dk), Some(10));
        assert_eq!(Spec::integer_width(Namespace::Id(Scheme::Fi)), None);
        assert_eq!(Spec::integer_width(Namespace::Opaque), Some(0));
    }

    #[test]
    fn only_allowed_metadata_reaches_the_output() {
        use arrow_schema::Field;
        use std::collections::HashMap;
        let meta = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        let input = Schema::new_with_metadata(
            vec![
                Field::new("cpr", DataType::Utf8, true)
                    .with_metadata(meta(&[("note", "0101901234")])),
                Field::new("visit", DataType::Utf8, true)
                    .with_metadata(meta(&[("source", "ward 7")])),
            ],
            meta(&[("origin", "hospital X, extract of patients"), ("pandas", "{}")]),
        );
        let mut spec = Spec {
            column: 0,
            namespace: Namespace::Id(Scheme::Dk),
            parse_options: ParseOptions::default(),
            format: OutputFormat::default(),
            derived: Derived::default(),
            zero_pad: None,
            keep_metadata: Vec::new(),
        };
        let out = output_schema(&input, &spec, Path::new("in.parquet")).unwrap();
        assert!(out.metadata().is_empty());
        assert!(out.fields().iter().all(|f| f.metadata().is_empty()));
        spec.keep_metadata = vec!["pandas".into()];
        let out = output_schema(&input, &spec, Path::new("in.parquet")).unwrap();
        assert_eq!(out.metadata(), &meta(&[("pandas", "{}")]));
    }
}
