//! `nordlink pseudonymise`.

use std::path::Path;

use anyhow::bail;
use nordlink::Date;
use nordlink::id::ParseOptions;
use nordlink::pseudonym::{
    CONSTRUCTION, Context, Encoding, Namespace, OutputFormat, Pseudonymiser,
};
use nordlink_io::pseudonymise::{
    Derived, Processed, Spec, output_schema, pseudonymise_batch, rejects_batch, rejects_schema,
};
use nordlink_io::{Format, ReadOptions, TableReader, WriteOptions, for_each_ordered};

use super::{Outputs, ensure_distinct, id_check::integer_width, key};
use crate::flags::{DeriveColumn, OnInvalid, PseudonymiseArgs};

pub(super) fn run(args: &PseudonymiseArgs) -> anyhow::Result<()> {
    let input = args.input.input.as_path();
    let outputs: Vec<&Path> =
        std::iter::once(args.output.as_path()).chain(args.rejects.as_deref()).collect();
    ensure_distinct(input, &outputs)?;
    let format = OutputFormat::new(args.encoding, args.bits)?;
    if args.encoding == Encoding::Raw && Format::from_path(&args.output)? != Format::Parquet {
        bail!("{}: --encoding raw needs a .parquet output", args.output.display());
    }
    let derived = Derived {
        birth_date: args.derive.contains(&DeriveColumn::BirthDate),
        birth_year: args.derive.contains(&DeriveColumn::BirthYear),
        sex: args.derive.contains(&DeriveColumn::Sex),
    };
    if args.scheme == Namespace::Opaque && derived != Derived::default() {
        bail!("--derive needs a national identifier scheme, not opaque");
    }
    let context = Context::new(&args.context)?;
    let key = key::load(&args.key)?;
    let pseudonymiser = Pseudonymiser::new(&key, args.algorithm, &context);
    drop(key);

    let reader =
        TableReader::open(input, ReadOptions { batch_size: args.input.batch_size as usize })?;
    let column = reader.column_index(&args.column)?;
    let zero_pad = match (args.zero_pad_integers, args.scheme) {
        (true, Namespace::Id(s)) => integer_width(s),
        (true, Namespace::Opaque) => Some(0),
        (false, _) => None,
    };
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
    };
    let schema = output_schema(&reader.schema(), &spec, input)?;
    let provenance = provenance(args, &pseudonymiser);
    let write_options = WriteOptions {
        metadata: provenance,
        random_columns: vec![args.column.clone()],
        ..WriteOptions::default()
    };
    let rejects = args.rejects.as_deref().map(|p| (p, rejects_schema()));
    let total_rows = reader.total_rows();
    let mut outputs = Outputs::create(
        "pseudonymise",
        &args.output,
        schema.clone(),
        &write_options,
        rejects,
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
                            first.reason
                        )
                    }
                    (false, OnInvalid::Reject) => bail!(
                        "{where_}: invalid identifier ({}); pass --rejects FILE to set invalid \
                         rows aside, or --on-invalid fail; nothing was written",
                        first.reason
                    ),
                    (true, OnInvalid::Reject) => {}
                }
            }
            let rejects =
                (!processed.rejects.is_empty()).then(|| rejects_batch(&processed.rejects));
            outputs.write(&processed.output, rejects)
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

/// Parquet footer metadata: how the pseudonyms were made, never the key.
fn provenance(args: &PseudonymiseArgs, p: &Pseudonymiser) -> Vec<(String, String)> {
    let scheme = match args.scheme {
        Namespace::Id(s) => s.code(),
        Namespace::Opaque => "opaque",
    };
    [
        ("nordlink.version", env!("CARGO_PKG_VERSION").to_owned()),
        ("nordlink.construction", CONSTRUCTION.to_owned()),
        ("nordlink.algorithm", p.algorithm().name().to_owned()),
        ("nordlink.key_id", p.key_id().to_string()),
        ("nordlink.context", p.context().as_str().to_owned()),
        ("nordlink.scheme", scheme.to_owned()),
        ("nordlink.column", args.column.clone()),
        ("nordlink.encoding", args.encoding.name().to_owned()),
        ("nordlink.bits", args.bits.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}
