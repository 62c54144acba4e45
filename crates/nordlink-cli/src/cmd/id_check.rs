//! `nordlink id check`.

use std::time::Instant;

use nordlink::Date;
use nordlink::id::ParseOptions;
use nordlink_io::id_check::{CheckStats, check_batch, report_schema};
use nordlink_io::{ReadOptions, TableReader, TableWriter, text_column};

use super::{ensure_distinct, print_counts};
use crate::flags::IdCheckArgs;

pub(super) fn run(args: &IdCheckArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let input = &args.input.input;
    ensure_distinct(&[input], &[&args.output])?;
    let options =
        ParseOptions::with_reference_date(args.reference_date.unwrap_or_else(Date::today_utc));
    let read_options = ReadOptions { batch_size: args.input.batch_size as usize };
    let reader = TableReader::open(input, read_options)?;
    let column = reader.column_index(&args.column)?;
    let width = args.scheme.integer_width();
    let zero_pad = if args.zero_pad_integers { width } else { None };
    super::check_identifier_column(&reader, column, zero_pad, width.is_some())?;

    let mut writer = TableWriter::create(&args.output, report_schema())?;
    let mut stats = CheckStats::default();
    for batch in reader {
        let batch = batch?;
        let ids = text_column(input, &batch.data, column, zero_pad)?;
        let report = check_batch(&batch, &ids, args.scheme, &options, &mut stats);
        writer.write(&report)?;
    }
    writer.finish()?;

    say!(
        "nordlink id check: {} rows, {} valid, {} invalid in {:.2} s -> {}",
        stats.rows,
        stats.valid,
        stats.rows - stats.valid,
        started.elapsed().as_secs_f64(),
        args.output.display()
    );
    print_counts("valid by kind", stats.kinds.iter().map(|(k, n)| (*k, *n)));
    print_counts("invalid by reason", stats.errors.iter().map(|(k, n)| (*k, *n)));
    Ok(())
}
