//! `nordlink link`.

use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use nordlink::link::{
    Candidate, DEFAULT_SAMPLE, Kernel, LshParams, MAX_OPTIMAL_COMPONENT, Member, PairCandidate,
    Record, ScoreProfile, candidates, candidates_by_key, candidates_lsh, candidates_lsh_best,
    greedy, greedy_groups, optimal_bounded, top_k,
};
use nordlink_io::arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array};
use nordlink_io::arrow_schema::{DataType, Field, Schema};
use nordlink_io::link::{EncodedInput, check_linkable};

use super::ensure_distinct;
use crate::flags::{Blocking, LinkArgs, Solver, Threshold};

/// Pairs kept per left record under LSH for a 1-to-1 solver: a record whose 16 best
/// partners are all matched to others first is far rarer than a typo.
const BEST_PER_RECORD: usize = 16;

/// Past this many pairs, all-pairs takes more than a few seconds: `auto` blocks.
const AUTO_ALL_PAIRS: f64 = 2e9;

/// The candidate pairs of two inputs and how they were found.
struct Found {
    pairs: Vec<Candidate>,
    comparisons: f64,
    blocking: String,
}

pub(super) fn run(args: &LinkArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    if args.input.len() < 2 {
        bail!("give at least two --input files");
    }
    // Fail before reading inputs that may take a while.
    if !(0.0..1.0).contains(&args.recall) {
        bail!("--recall must be at least 0 and below 1");
    }
    if args.top_k.is_some() && !matches!(args.blocking, Blocking::Auto | Blocking::None) {
        bail!("--top-k compares all pairs; it does not combine with --blocking lsh or column");
    }
    let multi = args.input.len() > 2;
    if multi && args.solver != Solver::Greedy {
        bail!("with three or more inputs the solver is greedy (groups across the inputs)");
    }
    if multi && args.top_k.is_some() {
        bail!("--top-k needs exactly two inputs");
    }
    if multi && args.histogram.is_some() {
        bail!("--histogram needs exactly two inputs");
    }
    // An image path that cannot be mistaken for data, a key or a provenance sidecar.
    if let Some(path) = &args.histogram
        && !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg"))
    {
        bail!("{}: --histogram writes an SVG image; name it FILE.svg", path.display());
    }
    let inputs: Vec<&std::path::Path> = args.input.iter().map(|p| p.as_path()).collect();
    let mut outputs = vec![args.output.as_path()];
    outputs.extend(args.histogram.as_deref());
    ensure_distinct(&inputs, &outputs)?;
    let key_column = match &args.blocking {
        Blocking::Column(name) => Some(name.as_str()),
        _ => None,
    };
    let bar = super::progress::phases();
    let inputs = args
        .input
        .iter()
        .map(|p| {
            bar.set_message(format!("reading {}", p.display()));
            EncodedInput::read(p, args.id_column.as_deref(), key_column)
        })
        .collect::<Result<Vec<_>, _>>()?;
    for other in &inputs[1..] {
        for note in check_linkable(&inputs[0], other)? {
            eprintln!("nordlink: note: {note}");
        }
    }
    let kernel = Kernel::detect();
    let solver = match args.solver {
        Solver::Greedy if multi => "greedy groups",
        Solver::Greedy => "greedy 1-to-1",
        Solver::Optimal => "optimal 1-to-1",
        Solver::None => "no",
    };

    let (matches, n_candidates, comparisons, blocking, thresholds) = if let [left, right] =
        &inputs[..]
    {
        let (threshold, how, profile) = choose_threshold(left, right, args, kernel, &bar)?;
        if let (Some(path), Some(profile)) = (&args.histogram, &profile) {
            super::histogram::write(path, profile, threshold, &how)?;
        }
        bar.set_message(format!("comparing at threshold {threshold}"));
        let found = search(left, right, args, threshold, kernel)?;
        bar.set_message(format!("matching {} candidates", found.pairs.len()));
        let n = found.pairs.len();
        let mut matches = match args.solver {
            Solver::Greedy => greedy(&found.pairs),
            Solver::Optimal => {
                let (matches, greedy_components) = optimal_bounded(&found.pairs);
                if greedy_components > 0 {
                    bar.suspend(|| {
                        eprintln!(
                            "nordlink: note: {greedy_components} connected group(s) of more \
                             than {MAX_OPTIMAL_COMPONENT} candidate pairs matched greedily \
                             (the exact solver would take too long; raise the threshold)"
                        );
                    });
                }
                matches
            }
            Solver::None => found.pairs,
        };
        matches.sort_by_key(|m| (m.left, m.right));
        write_pairs(args, left, right, &matches)?;
        (matches.len(), n, found.comparisons, found.blocking, format!("{threshold} ({how})"))
    } else {
        let mut pairs = Vec::new();
        let (mut comparisons, mut blocking, mut thresholds) = (0.0, Vec::new(), Vec::new());
        for (i, left) in inputs.iter().enumerate() {
            for (j, right) in inputs.iter().enumerate().skip(i + 1) {
                let (threshold, how, _) = choose_threshold(left, right, args, kernel, &bar)?;
                bar.set_message(format!("comparing inputs {i} and {j} at threshold {threshold}"));
                let found = search(left, right, args, threshold, kernel)?;
                comparisons += found.comparisons;
                blocking.push(format!("{i}-{j}: {}", found.blocking));
                thresholds.push(format!("{i}-{j}: {threshold} ({how})"));
                let record = |input, at| Record { input: position(input), position: at };
                pairs.extend(found.pairs.into_iter().map(|c| PairCandidate {
                    a: record(i, c.left),
                    b: record(j, c.right),
                    score: c.score,
                }));
            }
        }
        bar.set_message(format!("grouping {} candidates", pairs.len()));
        let groups = greedy_groups(&pairs);
        write_groups(args, &inputs, &groups)?;
        (groups.len(), pairs.len(), comparisons, blocking.join("; "), thresholds.join("; "))
    };

    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let sizes: Vec<String> = inputs.iter().map(|i| i.ids.len().to_string()).collect();
    eprintln!(
        "nordlink link: {} records, blocking {blocking}, {comparisons:.0} comparisons ({} \
         kernel, {:.0} M/s), threshold {thresholds}, {n_candidates} candidates ({}), \
         {matches} {} ({solver} solver) in {secs:.2} s -> {}",
        sizes.join(" x "),
        kernel.name(),
        comparisons / secs / 1e6,
        args.measure,
        if multi { "groups" } else { "matches" },
        args.output.display()
    );
    Ok(())
}

/// The threshold for two inputs, how it was chosen, and the sample's score profile when
/// one was measured (for `auto` or `--histogram`).
fn choose_threshold(
    left: &EncodedInput,
    right: &EncodedInput,
    args: &LinkArgs,
    kernel: Kernel,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<(f64, String, Option<ScoreProfile>)> {
    let wanted = args.threshold == Threshold::Auto || args.histogram.is_some();
    let started = Instant::now();
    let profile = if wanted && !left.ids.is_empty() && !right.ids.is_empty() {
        bar.set_message("sampling scores to choose the threshold");
        Some(ScoreProfile::measure(
            &left.filters,
            &right.filters,
            args.measure,
            kernel,
            args.auto_sample.map_or_else(|| default_sample(right.ids.len()), |n| n as usize),
        )?)
    } else {
        None
    };
    match args.threshold {
        Threshold::Fixed(t) => Ok((t, "given".into(), profile)),
        // Nothing to link: any threshold finds nothing.
        Threshold::Auto if profile.is_none() => Ok((1.0, "auto: an input is empty".into(), None)),
        Threshold::Auto => {
            let sampled = profile.as_ref().map_or(0, |p| p.best.len());
            let Some(auto) = profile.as_ref().and_then(ScoreProfile::auto_threshold) else {
                bail!(
                    "{}: {sampled} records are too few to choose a threshold from their \
                     scores (100 or more are needed); give --threshold a number",
                    left.path.display()
                );
            };
            let how = format!(
                "auto from {sampled} sampled records in {:.1} s: {:.0} % estimated without a \
                 match, estimated F1 {:.3}",
                started.elapsed().as_secs_f64(),
                auto.unmatched_share * 100.0,
                auto.estimated_f1
            );
            // The search at this threshold may take a while: say it now.
            bar.suspend(|| eprintln!("nordlink link: threshold {} ({how})", auto.threshold));
            if auto.unmatched_share > 0.5 {
                bar.suspend(|| {
                    eprintln!(
                        "nordlink: warning: most sampled records seem to have no match; the \
                         automatic threshold then tends to come out low (docs/linkage.md): \
                         check it with --histogram, or give a number"
                    );
                });
            }
            if sampled < 1000 {
                eprintln!(
                    "nordlink: note: {sampled} records are few for an automatic threshold: it \
                     tends to come out low on small inputs; check it with --histogram"
                );
            }
            Ok((auto.threshold, how, profile))
        }
    }
}

/// Sampled records for an automatic threshold: as many as 2 x 10^9 comparisons allow
/// (a few seconds), at least [`DEFAULT_SAMPLE`]: on 100 k x 100 k records of heavily
/// corrupted data, 5 000 records put the threshold within ±0.015 of the full data's
/// choice, 20 000 within ±0.01.
fn default_sample(right: usize) -> usize {
    // 2 x 10^9 / right is below 2^31: the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let budget = (AUTO_ALL_PAIRS / right.max(1) as f64) as usize;
    budget.max(DEFAULT_SAMPLE)
}

/// The candidate pairs of two inputs, by the blocking the flags ask for.
fn search(
    left: &EncodedInput,
    right: &EncodedInput,
    args: &LinkArgs,
    threshold: f64,
    kernel: Kernel,
) -> anyhow::Result<Found> {
    let all_pairs = left.ids.len() as f64 * right.ids.len() as f64;
    let use_lsh = match args.blocking {
        Blocking::None | Blocking::Column(_) => false,
        Blocking::Lsh => true,
        Blocking::Auto => args.top_k.is_none() && all_pairs > AUTO_ALL_PAIRS,
    };
    // A file without records has no filter length of its own (its arena's is a
    // placeholder): it links to nothing, whatever the other input's length.
    if left.ids.is_empty() || right.ids.is_empty() {
        return Ok(Found { pairs: Vec::new(), comparisons: 0.0, blocking: "none".into() });
    }
    let measure = args.measure;
    if let (Blocking::Column(name), Some(lk), Some(rk)) = (&args.blocking, &left.keys, &right.keys)
    {
        let (pairs, stats) =
            candidates_by_key(&left.filters, &right.filters, (lk, rk), measure, threshold, kernel)?;
        return Ok(Found {
            pairs,
            comparisons: stats.comparisons as f64,
            blocking: format!("column {name:?} (reduction ratio {:.4})", stats.reduction_ratio()),
        });
    }
    if use_lsh {
        let params = LshParams::for_inputs(&left.filters, &right.filters, threshold, args.recall);
        // A 1-to-1 solver of two inputs uses only each record's best few pairs: keeping
        // no more bounds memory where a low threshold lets many look-alikes through.
        let one_to_one = args.input.len() == 2 && args.solver != Solver::None;
        let ((pairs, stats), kept) = if one_to_one {
            let found = candidates_lsh_best(
                &left.filters,
                &right.filters,
                (measure, threshold),
                params,
                kernel,
                BEST_PER_RECORD,
            )?;
            (found, format!(", best {BEST_PER_RECORD} per left record kept"))
        } else {
            let found =
                candidates_lsh(&left.filters, &right.filters, measure, threshold, params, kernel)?;
            (found, String::new())
        };
        return Ok(Found {
            pairs,
            comparisons: stats.comparisons as f64,
            blocking: format!(
                "lsh ({} bands x {} bits, target recall {}; reduction ratio {:.4}{kept})",
                params.bands,
                params.bits_per_band,
                args.recall,
                stats.reduction_ratio()
            ),
        });
    }
    let (pairs, blocking) = match args.top_k {
        Some(k) => (
            top_k(&left.filters, &right.filters, measure, threshold, k as usize, kernel)?,
            format!("none (all pairs, best {k} per left record)"),
        ),
        None => (
            candidates(&left.filters, &right.filters, measure, threshold, kernel)?,
            "none (all pairs)".into(),
        ),
    };
    Ok(Found { pairs, comparisons: all_pairs, blocking })
}

/// Group and input numbers are far below 2^32 (groups hold two or more records, each
/// named by a u32 position).
fn position(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

fn id(ids: &[String], i: u32) -> String {
    ids.get(i as usize).cloned().unwrap_or_default()
}

fn write_pairs(
    args: &LinkArgs,
    left: &EncodedInput,
    right: &EncodedInput,
    matches: &[Candidate],
) -> anyhow::Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("left_id", DataType::Utf8, false),
        Field::new("right_id", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(matches.iter().map(|m| id(&left.ids, m.left)))),
        Arc::new(StringArray::from_iter_values(matches.iter().map(|m| id(&right.ids, m.right)))),
        Arc::new(Float64Array::from_iter_values(matches.iter().map(|m| m.score))),
    ];
    write(args, schema, columns)
}

/// One row per member: `group` (0-based, in order of the groups' first members), `input`
/// (0-based, in the order of `--input`), `id`, and the member's best score in its group.
fn write_groups(
    args: &LinkArgs,
    inputs: &[EncodedInput],
    groups: &[Vec<Member>],
) -> anyhow::Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("group", DataType::UInt32, false),
        Field::new("input", DataType::UInt32, false),
        Field::new("id", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
    ]));
    let rows = || groups.iter().enumerate().flat_map(|(g, m)| m.iter().map(move |m| (g, m)));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt32Array::from_iter_values(rows().map(|(g, _)| position(g)))),
        Arc::new(UInt32Array::from_iter_values(rows().map(|(_, m)| m.record.input))),
        Arc::new(StringArray::from_iter_values(
            rows().map(|(_, m)| id(&inputs[m.record.input as usize].ids, m.record.position)),
        )),
        Arc::new(Float64Array::from_iter_values(rows().map(|(_, m)| m.score))),
    ];
    write(args, schema, columns)
}

fn write(args: &LinkArgs, schema: Arc<Schema>, columns: Vec<ArrayRef>) -> anyhow::Result<()> {
    super::write_table(&args.output, &RecordBatch::try_new(schema, columns)?)
}
