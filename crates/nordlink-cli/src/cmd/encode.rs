//! `nordlink encode`.

use std::path::Path;

use anyhow::bail;
use nordlink::clk::{AnyEncoder, SecretSource};
use nordlink_io::encode::{EncodeSpec, EncodedBatch, encode_batch};
use nordlink_io::{
    ClkJsonWriter, Format, Provenance, ReadOptions, TableReader, WriteOptions, for_each_ordered,
};

use nordlink_io::arrow_array::{RecordBatch, UInt64Array};

use super::{Outputs, ensure_distinct, key, print_counts, shuffle};
use crate::flags::EncodeArgs;

pub(super) fn run(args: &EncodeArgs) -> anyhow::Result<()> {
    let input = args.input.input.as_path();
    let outputs: Vec<&Path> = [
        Some(args.output.as_path()),
        args.rejects.as_deref(),
        args.anonlink_json.as_deref(),
        args.shuffle.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let reads: Vec<&Path> =
        [Some(input), Some(args.schema.as_path()), args.key.as_deref(), args.secret.as_deref()]
            .into_iter()
            .flatten()
            .collect();
    ensure_distinct(&reads, &outputs)?;
    let secret = match (&args.key, &args.secret) {
        (Some(k), _) => SecretSource::KeyFile(k),
        (None, Some(s)) => SecretSource::ClkhashSecret(s),
        (None, None) => bail!("pass --key FILE (nordlink schemas) or --secret FILE (clkhash)"),
    };
    let check = key::permission_check(args.insecure_allow_readable_key, secret.path());
    let encoder = AnyEncoder::load(&args.schema, secret, check)?;
    for note in encoder.notes() {
        say!("nordlink: note: {note}");
    }
    for warning in encoder.warnings() {
        say!("nordlink: warning: {warning}");
    }

    let reader =
        TableReader::open(input, ReadOptions { batch_size: args.input.batch_size as usize })?;
    let format = Format::from_path(&args.output)?;
    let spec = EncodeSpec::resolve(&encoder, &reader, args.id_column.as_deref(), format)?
        .keep_columns(&reader, &args.keep_columns)?;
    let schema = spec.output_schema(&reader.schema(), input)?;
    let clk_column = schema.index_of("clk")?;
    let options = WriteOptions {
        provenance: Some(Provenance::for_encoder(&encoder)),
        random_columns: vec!["clk".into()],
        ..WriteOptions::default()
    };
    let total_rows = reader.total_rows();
    let mut outputs = Outputs::create(
        ("encode", "encoded"),
        &args.output,
        schema.clone(),
        &options,
        args.rejects.as_deref(),
        total_rows,
    )?;
    let mut json = args.anonlink_json.as_deref().map(ClkJsonWriter::create).transpose()?;
    let threads = rayon::current_num_threads();
    let mut held = shuffle::Held::default();
    let mut invalid = vec![0u64; encoder.field_names().len()];
    for_each_ordered(
        reader,
        2 * threads + 2,
        |batch| encode_batch(&batch, &encoder, &spec, &schema, input).map_err(anyhow::Error::from),
        |done: EncodedBatch| {
            if let Some(first) = done.rejects.first()
                && !outputs.takes_rejects()
            {
                bail!(
                    "{}: row {}: field {:?}: {}; pass --rejects FILE to set such rows aside; \
                     nothing was written",
                    input.display(),
                    first.row,
                    first.field.as_deref().unwrap_or_default(),
                    first.problem
                );
            }
            for (total, n) in invalid.iter_mut().zip(&done.invalid) {
                *total += n;
            }
            if args.shuffle.is_some() {
                // Rejects go out now; encoded rows wait for the shuffle.
                outputs.write(&RecordBatch::new_empty(schema.clone()), &done.rejects)?;
                let rows = done.output.column(0).as_any().downcast_ref::<UInt64Array>().cloned();
                let rows = rows.ok_or_else(|| anyhow::anyhow!("the row column is not UInt64"))?;
                return held.push(done.output, rows.values().iter().copied());
            }
            if let Some(j) = &mut json {
                j.write(&done.output, clk_column)?;
            }
            outputs.write(&done.output, &done.rejects)
        },
    )?;
    let mut others = Vec::new();
    if let Some(mapping) = &args.shuffle {
        // The `row` column (0) becomes the output position.
        let (shuffled, map) = held.shuffle(&schema, mapping, Some(0))?;
        others.push(map);
        if let Some(j) = &mut json {
            j.write(&shuffled, clk_column)?;
        }
        outputs.add_written(&shuffled)?;
    }
    if let Some(j) = json {
        others.push(j.stage()?);
    }
    outputs.finish(others)?;
    let names = encoder.field_names();
    let repaired: u64 = invalid.iter().sum();
    if repaired > 0 {
        say!(
            "nordlink encode: {repaired} values failed their format and were encoded by their \
             field's `invalid` policy (docs/schema.md), not rejected:"
        );
        let counts = names.into_iter().zip(invalid).filter(|&(_, n)| n > 0);
        print_counts("invalid values per field", counts);
    }
    Ok(())
}
