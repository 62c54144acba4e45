//! `nordlink link`.

use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use nordlink::link::{
    self, Candidate, ChosenThreshold, Kernel, Linker, MAX_OPTIMAL_COMPONENT, Member, PairCandidate,
    Record, Search, greedy_groups,
};
use nordlink_io::Staged;
use nordlink_io::arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array};
use nordlink_io::arrow_schema::{DataType, Field, Schema};
use nordlink_io::link::{EncodedInput, check_linkable};

use super::ensure_distinct;

mod fellegi_sunter;
mod model_chart;
use crate::flags::{Blocking, Candidates, LinkArgs, Scoring, Solver, Threshold};

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
    if multi && args.scoring == Scoring::FellegiSunter {
        bail!("--scoring fellegi-sunter needs exactly two inputs");
    }
    // An image path that cannot be mistaken for data, a key or a provenance sidecar.
    for (path, flag) in [(&args.histogram, "--histogram"), (&args.model_chart, "--model-chart")] {
        if let Some(path) = path
            && !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg"))
        {
            bail!("{}: {flag} writes an SVG image; name it FILE.svg", path.display());
        }
    }
    let inputs: Vec<&std::path::Path> = args.input.iter().map(|p| p.as_path()).collect();
    let mut outputs = vec![args.output.as_path()];
    outputs.extend(args.histogram.as_deref());
    outputs.extend(args.explain.as_deref());
    outputs.extend(args.model_chart.as_deref());
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
            let fields = !multi && args.scoring != Scoring::Dice;
            EncodedInput::read(p, args.id_column.as_deref(), key_column, fields)
        })
        .collect::<Result<Vec<_>, _>>()?;
    for other in &inputs[1..] {
        for note in check_linkable(&inputs[0], other)? {
            say!("nordlink: note: {note}");
        }
    }
    if let [left, right] = &inputs[..]
        && scores_by_fields(args, left, right)?
    {
        return fellegi_sunter::run(args, left, right, &bar, started);
    }
    let linker = linker(args);
    let solver = match args.solver {
        Solver::Greedy if multi => "greedy groups",
        Solver::Greedy => "greedy 1-to-1",
        Solver::Optimal => "optimal 1-to-1",
        Solver::None => "no",
    };

    // Every output is placed at the end, all or none.
    let mut staged = Vec::new();
    let (matches, n_candidates, comparisons, blocking, thresholds) = if let [left, right] =
        &inputs[..]
    {
        let chosen = choose_threshold(&linker, left, right, &bar)?;
        let how = describe(&linker, &chosen);
        if let (Some(path), Some(profile)) = (&args.histogram, &chosen.profile) {
            staged.push(super::histogram::stage(path, profile, chosen.value, &how)?);
        }
        bar.set_message(format!("comparing at threshold {}", chosen.value));
        let threshold = chosen.value;
        let found = search(&linker, args, left, right, chosen, args.solver != Solver::None)?;
        bar.set_message(format!("matching {} candidates", found.pairs.len()));
        let n = found.pairs.len();
        let linkage = linker.solve(found);
        if linkage.greedy_components > 0 {
            bar.suspend(|| {
                say!(
                    "nordlink: note: {} connected group(s) of more than \
                     {MAX_OPTIMAL_COMPONENT} candidate pairs matched greedily (the exact \
                     solver would take too long; raise the threshold)",
                    linkage.greedy_components
                );
            });
        }
        staged.push(write_pairs(args, left, right, &linkage.matches)?);
        let s = linkage.search;
        (linkage.matches.len(), n, s.comparisons, s.blocking, format!("{threshold} ({how})"))
    } else {
        let mut pairs = Vec::new();
        let (mut comparisons, mut blocking, mut thresholds) = (0.0, Vec::new(), Vec::new());
        for (i, left) in inputs.iter().enumerate() {
            for (j, right) in inputs.iter().enumerate().skip(i + 1) {
                let chosen = choose_threshold(&linker, left, right, &bar)?;
                let (threshold, how) = (chosen.value, describe(&linker, &chosen));
                bar.set_message(format!("comparing inputs {i} and {j} at threshold {threshold}"));
                let found = search(&linker, args, left, right, chosen, false)?;
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
        staged.push(write_groups(args, &inputs, &groups)?);
        (groups.len(), pairs.len(), comparisons, blocking.join("; "), thresholds.join("; "))
    };

    nordlink_io::place(staged)?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let sizes: Vec<String> = inputs.iter().map(|i| i.ids.len().to_string()).collect();
    say!(
        "nordlink link: {} records, blocking {blocking}, {comparisons:.0} comparisons ({} \
         kernel, {:.0} M/s), threshold {thresholds}, {n_candidates} candidates ({}), \
         {matches} {} ({solver} solver) in {secs:.2} s -> {}",
        sizes.join(" x "),
        linker.kernel.name(),
        comparisons / secs / 1e6,
        args.measure,
        if multi { "groups" } else { "matches" },
        args.output.display()
    );
    Ok(())
}

/// Whether two inputs are scored by Fellegi–Sunter: when asked for, after checking that
/// both carry the same field-level filters and that no flag only Dice reads is given;
/// under `auto`, when those hold. An empty input goes the Dice way, which links it to
/// nothing.
fn scores_by_fields(
    args: &LinkArgs,
    left: &EncodedInput,
    right: &EncodedInput,
) -> anyhow::Result<bool> {
    let candidates_given = args.candidates != Candidates::Auto;
    let fields_line_up = !left.fields.is_empty() && left.field_names == right.field_names;
    let dice_only = [
        (args.solver != Solver::Greedy, "--solver optimal|none"),
        (!matches!(args.blocking, Blocking::Auto), "--blocking"),
        (args.top_k.is_some(), "--top-k"),
        (args.measure != link::Measure::Dice, "--measure"),
        (args.histogram.is_some(), "--histogram"),
        (args.auto_sample.is_some(), "--auto-sample"),
    ];
    let dice_flag = dice_only.iter().find(|(given, _)| *given).map(|(_, flag)| *flag);
    let by_fields = match args.scoring {
        Scoring::Dice => false,
        // The better scoring when the inputs allow it (docs/linkage.md), unless a flag
        // asks for something only Dice does.
        Scoring::Auto => fields_line_up && dice_flag.is_none(),
        Scoring::FellegiSunter => true,
    };
    if !by_fields {
        if args.explain.is_some() || args.model_chart.is_some() {
            bail!(
                "--explain and --model-chart apply to Fellegi–Sunter scoring, which needs the same field-level \
                 filter columns (clk_<field>) in both inputs"
            );
        }
        if candidates_given {
            bail!(
                "--candidates applies to Fellegi–Sunter scoring, which needs the same field-level \
                 filter columns (clk_<field>) in both inputs"
            );
        }
        return Ok(false);
    }
    if let Some(flag) = dice_flag {
        bail!("{flag} applies to Dice scoring; it does not combine with --scoring fellegi-sunter");
    }
    if !fields_line_up {
        bail!(
            "--scoring fellegi-sunter needs the same field-level filter columns (clk_<field>) \
             in both inputs: {} has [{}], {} has [{}] (encode with field_filters = true; \
             docs/schema.md)",
            left.path.display(),
            left.field_names.join(", "),
            right.path.display(),
            right.field_names.join(", ")
        );
    }
    Ok(!left.ids.is_empty() && !right.ids.is_empty())
}

/// The library's settings for the flags.
fn linker(args: &LinkArgs) -> Linker {
    Linker {
        measure: args.measure,
        threshold: match args.dice_threshold() {
            Threshold::Fixed(t) => link::Threshold::Fixed(t),
            Threshold::Auto => link::Threshold::Auto(args.auto_sample.map(|n| n as usize)),
        },
        blocking: match args.blocking {
            Blocking::Auto => link::Blocking::Auto,
            Blocking::None => link::Blocking::AllPairs,
            Blocking::Lsh => link::Blocking::Lsh,
            Blocking::Column(_) => link::Blocking::Keys,
        },
        recall: args.recall,
        top_k: args.top_k.map(|k| k as usize),
        solver: match args.solver {
            Solver::Greedy => link::Solver::Greedy,
            Solver::Optimal => link::Solver::Optimal,
            Solver::None => link::Solver::None,
        },
        profile: args.histogram.is_some(),
        kernel: Kernel::detect(),
    }
}

/// The threshold for two inputs, with the warnings an automatic one may need.
fn choose_threshold(
    linker: &Linker,
    left: &EncodedInput,
    right: &EncodedInput,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<ChosenThreshold> {
    bar.set_message("sampling scores to choose the threshold");
    let started = Instant::now();
    let chosen = match linker.choose_threshold(&left.filters, &right.filters) {
        Ok(c) => c,
        Err(link::LinkError::TooFewToChoose { sampled }) => bail!(
            "{}: {sampled} records are too few to choose a threshold from their scores (100 \
             or more are needed); give --threshold a number",
            left.path.display()
        ),
        Err(e) => return Err(e.into()),
    };
    let Some(auto) = &chosen.auto else { return Ok(chosen) };
    let sampled = chosen.profile.as_ref().map_or(0, |p| p.best.len());
    // The search at this threshold may take a while: say it now.
    bar.suspend(|| {
        say!(
            "nordlink link: threshold {} ({}, in {:.1} s)",
            chosen.value,
            describe(linker, &chosen),
            started.elapsed().as_secs_f64()
        );
    });
    if let Some(rival) = auto.rival {
        bar.suspend(|| {
            say!(
                "nordlink: warning: the automatic threshold is uncertain: {rival} looks almost \
                 as good as {} to the model (docs/linkage.md); check both with --histogram, \
                 or give a number",
                chosen.value
            );
        });
    }
    if auto.unmatched_share > 0.5 {
        bar.suspend(|| {
            say!(
                "nordlink: warning: most sampled records seem to have no match; the \
                 automatic threshold is least reliable then (docs/linkage.md): check it \
                 with --histogram, or give a number"
            );
        });
    }
    if sampled < 1000 {
        say!(
            "nordlink: note: {sampled} records are few for an automatic threshold: it tends \
             to come out low on small inputs; check it with --histogram"
        );
    }
    Ok(chosen)
}

/// How a threshold was chosen, for the report.
fn describe(linker: &Linker, chosen: &ChosenThreshold) -> String {
    match (&chosen.auto, &chosen.profile, linker.threshold) {
        (Some(auto), Some(profile), _) => format!(
            "auto from {} sampled records: {:.0} % estimated without a match, estimated F1 {:.3}",
            profile.best.len(),
            auto.unmatched_share * 100.0,
            auto.estimated_f1
        ),
        (_, _, link::Threshold::Auto(_)) => "auto: an input is empty".into(),
        _ => "given".into(),
    }
}

/// The candidates of two inputs, by key when the flags block on a column.
fn search(
    linker: &Linker,
    args: &LinkArgs,
    left: &EncodedInput,
    right: &EncodedInput,
    chosen: ChosenThreshold,
    one_to_one: bool,
) -> anyhow::Result<Search> {
    let found = match (&args.blocking, &left.keys, &right.keys) {
        (Blocking::Column(name), Some(lk), Some(rk)) => linker.search_by_key(
            (&left.filters, &right.filters),
            (lk.as_slice(), rk.as_slice()),
            chosen,
            name,
        )?,
        _ => linker.search(&left.filters, &right.filters, chosen, one_to_one)?,
    };
    Ok(found)
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
) -> anyhow::Result<Staged> {
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
) -> anyhow::Result<Staged> {
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

fn write(args: &LinkArgs, schema: Arc<Schema>, columns: Vec<ArrayRef>) -> anyhow::Result<Staged> {
    super::stage_table(&args.output, &RecordBatch::try_new(schema, columns)?)
}
