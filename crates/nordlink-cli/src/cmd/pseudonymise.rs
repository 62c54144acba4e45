//! `nordlink pseudonymise`.

use std::path::Path;

use anyhow::bail;
use nordlink::Date;
use nordlink::id::ParseOptions;
use nordlink::pseudonym::{Context, OutputFormat, Pseudonymiser};
use nordlink_io::pseudonymise::{Derived, Processed, Spec, output_schema, pseudonymise_batch};
use nordlink_io::{Provenance, ReadOptions, TableReader, WriteOptions, for_each_ordered};

use super::{Outputs, ensure_distinct, key, shuffle};
use crate::flags::{DeriveColumn, OnInvalid, PseudonymiseArgs};
use nordlink_io::arrow_array::RecordBatch;

pub(super) fn run(args: &PseudonymiseArgs) -> anyhow::Result<()> {
    let input = args.input.input.as_path();
    let outputs: Vec<&Path> = std::iter::once(args.output.as_path())
        .chain(args.rejects.as_deref())
        .chain(args.shuffle.as_deref())
        .collect();
    ensure_distinct(&[input, &args.key.key], &outputs)?;
    let format = OutputFormat::new(args.encoding, args.bits)?;
    let derived = Derived {
        birth_date: args.derive.contains(&DeriveColumn::BirthDate),
        birth_year: args.derive.contains(&DeriveColumn::BirthYear),
        sex: args.derive.contains(&DeriveColumn::Sex),
    };
    let context = Context::new(&args.context)?;
    let key = key::load_for_pseudonymising(&args.key)?;
    let pseudonymiser = Pseudonymiser::new(&key, args.algorithm, &context);
    drop(key);

    let reader =
        TableReader::open(input, ReadOptions { batch_size: args.input.batch_size as usize })?;
    let column = reader.column_index(&args.column)?;
    let width = Spec::integer_width(args.scheme);
    let zero_pad = if args.zero_pad_integers { width } else { None };
    super::check_identifier_column(&reader, column, zero_pad, width.is_some())?;
    let spec = Spec {
        column,
        namespace: args.scheme,
        parse_options: ParseOptions::with_reference_date(
            args.reference_date.unwrap_or_else(Date::today_utc),
        ),
        format,
        derived,
        zero_pad,
        keep_metadata: args.keep_metadata.clone(),
    };
    spec.check(&args.output)?;
    let schema = output_schema(&reader.schema(), &spec, input)?;
    let provenance = Provenance::for_pseudonyms(
        &pseudonymiser,
        spec.namespace,
        &args.column,
        spec.format,
        &spec.parse_options,
    );
    let write_options = WriteOptions {
        provenance: Some(provenance),
        random_columns: vec![args.column.clone()],
        ..WriteOptions::default()
    };
    let total_rows = reader.total_rows();
    let mut outputs = Outputs::create(
        ("pseudonymise", "written"),
        &args.output,
        schema.clone(),
        &write_options,
        args.rejects.as_deref(),
        total_rows,
    )?;
    let threads = rayon::current_num_threads();
    let mut held = shuffle::Held::default();
    // The next batch's first input data row (1-based).
    let mut next_row = 1u64;

    for_each_ordered(
        reader,
        2 * threads + 2,
        |batch| {
            pseudonymise_batch(&batch, &pseudonymiser, &spec, &schema, input)
                .map_err(anyhow::Error::from)
        },
        |processed: Processed| {
            if let Some(first) = processed.rejects.first() {
                // Row and reason only: the value is personal data.
                let where_ =
                    format!("{}: row {}, column {:?}", input.display(), first.row, args.column);
                match (outputs.takes_rejects(), args.on_invalid) {
                    (_, OnInvalid::Fail) => {
                        bail!(
                            "{where_}: invalid identifier ({}); nothing was written",
                            first.problem
                        )
                    }
                    (false, OnInvalid::Reject) => bail!(
                        "{where_}: invalid identifier ({}); pass --rejects FILE to set invalid \
                         rows aside, or --on-invalid fail; nothing was written",
                        first.problem
                    ),
                    (true, OnInvalid::Reject) => {}
                }
            }
            let first = next_row;
            next_row += (processed.output.num_rows() + processed.rejects.len()) as u64;
            if args.shuffle.is_some() {
                // Rejects go out now; output rows wait for the shuffle. The rejects are in
                // row order, so the kept rows are the batch's other rows.
                outputs.write(&RecordBatch::new_empty(schema.clone()), &processed.rejects)?;
                let mut rejected = processed.rejects.iter().map(|r| r.row).peekable();
                let rows = (first..next_row).filter(|&r| {
                    let out = rejected.peek() == Some(&r);
                    if out {
                        rejected.next();
                    }
                    !out
                });
                return held.push(processed.output, rows);
            }
            outputs.write(&processed.output, &processed.rejects)
        },
    )?;
    let mut others = Vec::new();
    if let Some(mapping) = &args.shuffle {
        let (shuffled, map) = held.shuffle(&schema, mapping, None)?;
        others.push(map);
        outputs.add_written(&shuffled)?;
    }
    outputs.finish(others)?;
    say!(
        "  {} under key {} (context {:?})",
        pseudonymiser.algorithm(),
        pseudonymiser.key_id(),
        pseudonymiser.context().as_str()
    );
    Ok(())
}
