//! `nordlink link`.

use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use nordlink::link::{
    Candidate, Kernel, LshParams, candidates, candidates_by_key, candidates_lsh, check_threshold,
    greedy, top_k,
};
use nordlink_io::arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use nordlink_io::arrow_schema::{DataType, Field, Schema};
use nordlink_io::link::{EncodedInput, check_linkable};
use nordlink_io::{TableWriter, WriteOptions};

use super::ensure_distinct;
use crate::flags::{Blocking, LinkArgs, Solver};

pub(super) fn run(args: &LinkArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let [left_path, right_path] = args.input.as_slice() else {
        bail!("give exactly two --input files (multi-party linkage is not built yet)");
    };
    // Fail before reading inputs that may take a while.
    check_threshold(args.threshold)?;
    ensure_distinct(&[left_path, right_path], &[&args.output])?;
    let key_column = match &args.blocking {
        Blocking::Column(name) => Some(name.as_str()),
        _ => None,
    };
    let left = EncodedInput::read(left_path, args.id_column.as_deref(), key_column)?;
    let right = EncodedInput::read(right_path, args.id_column.as_deref(), key_column)?;
    for note in check_linkable(&left, &right)? {
        eprintln!("nordlink: note: {note}");
    }
    let kernel = Kernel::detect();
    // Past this many pairs, all-pairs takes more than a few seconds: block.
    const AUTO_ALL_PAIRS: f64 = 2e9;
    let all_pairs = left.ids.len() as f64 * right.ids.len() as f64;
    if !(0.0..1.0).contains(&args.recall) {
        bail!("--recall must be at least 0 and below 1");
    }
    let use_lsh = match args.blocking {
        Blocking::None | Blocking::Column(_) => false,
        Blocking::Lsh => true,
        Blocking::Auto => args.top_k.is_none() && all_pairs > AUTO_ALL_PAIRS,
    };
    if args.top_k.is_some() && !matches!(args.blocking, Blocking::Auto | Blocking::None) {
        bail!("--top-k compares all pairs; it does not combine with --blocking lsh or column");
    }
    let mut blocking_used = String::from("none (all pairs)");
    let mut comparisons = all_pairs;
    // A file without records has no filter length of its own (its arena's is a
    // placeholder): it links to nothing, whatever the other input's length.
    let found = if left.ids.is_empty() || right.ids.is_empty() {
        Vec::new()
    } else if let (Blocking::Column(name), Some(lk), Some(rk)) =
        (&args.blocking, &left.keys, &right.keys)
    {
        let (found, stats) = candidates_by_key(
            &left.filters,
            &right.filters,
            (lk, rk),
            args.measure,
            args.threshold,
            kernel,
        )?;
        comparisons = stats.comparisons as f64;
        blocking_used = format!("column {name:?} (reduction ratio {:.4})", stats.reduction_ratio());
        found
    } else if use_lsh {
        let params =
            LshParams::for_inputs(&left.filters, &right.filters, args.threshold, args.recall);
        let (found, stats) = candidates_lsh(
            &left.filters,
            &right.filters,
            args.measure,
            args.threshold,
            params,
            kernel,
        )?;
        comparisons = stats.comparisons as f64;
        blocking_used = format!(
            "lsh ({} bands x {} bits, target recall {}; reduction ratio {:.4})",
            params.bands,
            params.bits_per_band,
            args.recall,
            stats.reduction_ratio()
        );
        found
    } else if let Some(k) = args.top_k {
        blocking_used = format!("none (all pairs, best {k} per left record)");
        top_k(&left.filters, &right.filters, args.measure, args.threshold, k as usize, kernel)?
    } else {
        candidates(&left.filters, &right.filters, args.measure, args.threshold, kernel)?
    };
    let n_candidates = found.len();
    let mut matches: Vec<Candidate> = match args.solver {
        Solver::Greedy => greedy(&found),
        Solver::None => found,
    };
    matches.sort_by(|a, b| a.left.cmp(&b.left).then(a.right.cmp(&b.right)));

    let schema = Arc::new(Schema::new(vec![
        Field::new("left_id", DataType::Utf8, false),
        Field::new("right_id", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
    ]));
    let id = |ids: &[String], i: u32| ids.get(i as usize).cloned().unwrap_or_default();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(matches.iter().map(|m| id(&left.ids, m.left)))),
        Arc::new(StringArray::from_iter_values(matches.iter().map(|m| id(&right.ids, m.right)))),
        Arc::new(Float64Array::from_iter_values(matches.iter().map(|m| m.score))),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let mut writer = TableWriter::create_with(&args.output, schema, &WriteOptions::default())?;
    writer.write(&batch)?;
    writer.finish()?;

    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "nordlink link: {} x {} records, blocking {blocking_used}, {comparisons:.0} comparisons \
         ({} kernel), {n_candidates} candidates >= {} ({}), {} matches ({} solver) in \
         {secs:.2} s -> {}",
        left.ids.len(),
        right.ids.len(),
        kernel.name(),
        args.threshold,
        args.measure,
        matches.len(),
        match args.solver {
            Solver::Greedy => "greedy 1-to-1",
            Solver::None => "no",
        },
        args.output.display()
    );
    Ok(())
}
