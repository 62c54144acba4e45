//! `nordlink encode`.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use nordlink::clk::{AnyEncoder, SecretSource};
use nordlink_io::encode::{EncodeSpec, EncodedBatch, encode_batch};
use nordlink_io::{
    ClkJsonWriter, Format, Provenance, ReadOptions, TableReader, WriteOptions, for_each_ordered,
};

use nordlink_io::arrow_array::{ArrayRef, RecordBatch, UInt64Array};
use nordlink_io::arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::{Outputs, ensure_distinct, key, print_counts, write_table};
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
        eprintln!("nordlink: note: {note}");
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
    let (mut kept, mut held) = (Vec::new(), 0usize);
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
                held += done.output.num_rows();
                if held > MAX_SHUFFLED {
                    bail!("--shuffle holds every encoded row in memory: at most {MAX_SHUFFLED}");
                }
                outputs.write(&RecordBatch::new_empty(schema.clone()), &done.rejects)?;
                kept.push(done.output);
                return Ok(());
            }
            if let Some(j) = &mut json {
                j.write(&done.output, clk_column)?;
            }
            outputs.write(&done.output, &done.rejects)
        },
    )?;
    if let Some(mapping) = &args.shuffle {
        let shuffled = shuffle(&schema, &kept, mapping)?;
        drop(kept);
        if let Some(j) = &mut json {
            j.write(&shuffled, clk_column)?;
        }
        outputs.add_written(&shuffled)?;
    }
    if let Some(j) = json {
        j.finish()?;
    }
    outputs.finish()?;
    let names = encoder.field_names();
    let repaired: u64 = invalid.iter().sum();
    if repaired > 0 {
        eprintln!(
            "nordlink encode: {repaired} values failed their format and were encoded by their \
             field's `invalid` policy (docs/schema.md), not rejected:"
        );
        let counts = names.into_iter().zip(invalid).filter(|&(_, n)| n > 0);
        print_counts("invalid values per field", counts);
    }
    Ok(())
}

/// Most rows `--shuffle` holds in memory (about 150 bytes each with 1 024-bit filters).
const MAX_SHUFFLED: usize = 20_000_000;

/// The encoded rows in a uniformly random order (Fisher–Yates over the OS's random
/// source: no key, so no one can undo it but through the mapping), with `row` replaced by
/// the output position; writes `position,row` to `mapping`.
fn shuffle(
    schema: &SchemaRef,
    kept: &[RecordBatch],
    mapping: &Path,
) -> anyhow::Result<RecordBatch> {
    let all = arrow_select::concat::concat_batches(schema, kept)?;
    let n = all.num_rows();
    let mut order: Vec<u64> = (0..n as u64).collect();
    let mut random = OsRandom::default();
    for i in (1..n).rev() {
        let j = usize::try_from(random.below(i as u64 + 1)?)?;
        order.swap(i, j);
    }
    let indices = UInt64Array::from(order);
    let mut shuffled = arrow_select::take::take_record_batch(&all, &indices)?;
    let rows = shuffled.column(0).clone();
    let positions: ArrayRef = Arc::new(UInt64Array::from_iter_values(1..=n as u64));
    let mut columns = shuffled.columns().to_vec();
    columns[0] = positions.clone();
    shuffled = RecordBatch::try_new(schema.clone(), columns)?;
    let map_schema = Arc::new(Schema::new(vec![
        Field::new("position", DataType::UInt64, false),
        Field::new("row", DataType::UInt64, false),
    ]));
    write_table(mapping, &RecordBatch::try_new(map_schema, vec![positions, rows])?)?;
    Ok(shuffled)
}

/// The OS's random source, read 64 KiB at a time (one call per draw would cost a system
/// call per row).
#[derive(Default)]
struct OsRandom {
    buffer: Vec<u8>,
    at: usize,
}

impl OsRandom {
    fn next(&mut self) -> anyhow::Result<u64> {
        if self.at + 8 > self.buffer.len() {
            self.buffer.resize(1 << 16, 0);
            getrandom::fill(&mut self.buffer)
                .map_err(|e| anyhow::anyhow!("the OS random source failed: {e}"))?;
            self.at = 0;
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.buffer[self.at..self.at + 8]);
        self.at += 8;
        Ok(u64::from_le_bytes(b))
    }

    /// A uniform integer below `bound`, without modulo bias.
    fn below(&mut self, bound: u64) -> anyhow::Result<u64> {
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let v = self.next()?;
            if v < zone {
                return Ok(v % bound);
            }
        }
    }
}
