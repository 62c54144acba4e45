//! `nordlink pseudonymise`.

use std::path::Path;

use anyhow::bail;
use nordlink::Date;
use nordlink::id::ParseOptions;
use nordlink::pseudonym::{Context, OutputFormat, Pseudonymiser};
use nordlink_io::pseudonymise::{Derived, Processed, Spec, output_schema, pseudonymise_batch};
use nordlink_io::{Provenance, ReadOptions, TableReader, WriteOptions, for_each_ordered};

use super::{Outputs, ensure_distinct, key};
use crate::flags::{DeriveColumn, OnInvalid, PseudonymiseArgs};

pub(super) fn run(args: &PseudonymiseArgs) -> anyhow::Result<()> {
    let input = args.input.input.as_path();
    let outputs: Vec<&Path> =
        std::iter::once(args.output.as_path()).chain(args.rejects.as_deref()).collect();
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
    let zero_pad = if args.zero_pad_integers { Spec::integer_width(args.scheme) } else { None };
    reader.check_text_column(column, zero_pad)?;
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
            outputs.write(&processed.output, &processed.rejects)
        },
    )?;
    outputs.finish()?;
    eprintln!(
        "  {} under key {} (context {:?})",
        pseudonymiser.algorithm(),
        pseudonymiser.key_id(),
        pseudonymiser.context().as_str()
    );
    Ok(())
}
