//! `nordlink link --scoring fellegi-sunter`: two inputs linked on their field-level
//! filters by the library's [`FieldLinker`].

use std::sync::Arc;
use std::time::Instant;

use indicatif::ProgressBar;
use nordlink::clk::SALT_KEY;
use nordlink::link::{
    CandidateSource, Explanation, FieldInput, FieldLinkage, FieldLinker, Kernel, MISSING,
    NAME_ORDER_FIELD, compares_name_order,
};
use nordlink_io::Staged;
use nordlink_io::arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt8Array};
use nordlink_io::arrow_schema::{DataType, Field, Schema};
use nordlink_io::link::{EncodedInput, FIELD_FILTER_PREFIX};

use super::id;
use crate::flags::{Candidates, LinkArgs, Threshold};

pub(super) fn run(
    args: &LinkArgs,
    left: &EncodedInput,
    right: &EncodedInput,
    bar: &ProgressBar,
    started: Instant,
) -> anyhow::Result<()> {
    let linker = FieldLinker {
        threshold: match args.threshold {
            Some(Threshold::Fixed(t)) => Some(t),
            Some(Threshold::Auto) | None => None,
        },
        candidates: match args.candidates {
            Candidates::Auto => CandidateSource::Auto,
            Candidates::Keys => CandidateSource::Keys,
            Candidates::Filters => CandidateSource::Filters,
        },
        kernel: Kernel::detect(),
        ..FieldLinker::default()
    };
    bar.set_message("finding candidates and fitting the model");
    let linkage = linker.link(
        FieldInput { record: &left.filters, fields: &left.fields, keys: &left.match_keys },
        FieldInput { record: &right.filters, fields: &right.fields, keys: &right.match_keys },
    )?;
    // The matches, the explanations and the chart are placed together, all or none.
    let mut staged = vec![write(args, left, right, &linkage)?];
    if let Some(path) = &args.explain {
        staged.push(explain(path, left, right, &linkage)?);
    }
    if let Some(path) = &args.model_chart {
        staged.push(super::model_chart::stage(
            path,
            &linkage,
            &model_field_names(left),
            &linker.bands,
        )?);
    }
    nordlink_io::place(staged)?;
    bar.finish_and_clear();
    let fit = &linkage.fit;
    let how = match linker.threshold {
        Some(_) => "given".to_owned(),
        None => {
            let e = linkage.expected;
            format!(
                "auto: the fitted model expects precision {:.4}, recall {:.4}, F1 {:.4}",
                e.precision, e.recall, e.f1
            )
        }
    };
    say!(
        "nordlink link: {} x {} records, scoring fellegi-sunter on {} fields (EM {} \
         iterations{}), candidates by {}, {} candidates, match probability threshold {:.4} \
         ({how}), {} matches (greedy 1-to-1) in {:.2} s -> {}",
        left.ids.len(),
        right.ids.len(),
        fit.model.fields(),
        fit.iterations,
        if fit.converged { "" } else { ", not converged" },
        linkage.blocking,
        linkage.candidates,
        linkage.threshold,
        linkage.matches.len(),
        started.elapsed().as_secs_f64(),
        args.output.display()
    );
    // What the model learnt: each field's weight when it agrees best and when it
    // disagrees most, so a user can see which fields carry the decision.
    for (f, name) in model_field_names(left).into_iter().enumerate() {
        if linkage.left_out.get(f).copied().unwrap_or(false) {
            say!("nordlink link:   {name}: not weighed (the candidates' key decides it)");
            continue;
        }
        // The lowest Dice band, not the containment level that may follow it.
        let levels = fit.model.m[f].len().min(linker.bands.levels());
        let last = u8::try_from(levels.saturating_sub(1)).unwrap_or(0);
        let contained = if fit.model.m[f].len() > linker.bands.levels() {
            format!(", contained {:+.1}", fit.model.field_weight(f, linker.contained_level()))
        } else {
            String::new()
        };
        say!(
            "nordlink link:   {name}: agree {:+.1}, disagree {:+.1}{contained} (log2 weights; m {:.3}, u {:.4} at the top level)",
            fit.model.field_weight(f, 0),
            fit.model.field_weight(f, last),
            fit.model.m[f][0],
            fit.model.u[f][0]
        );
    }
    Ok(())
}

/// The model's fields: the field filters' names, `names_swapped` with the name-order
/// keys, then `salt` with a salt key.
fn model_field_names(input: &EncodedInput) -> Vec<&str> {
    let order = compares_name_order(&input.match_keys).then_some(NAME_ORDER_FIELD);
    let salt = input.match_keys.iter().any(|k| k.name == SALT_KEY).then_some("salt");
    input
        .field_names
        .iter()
        .map(|c| c.strip_prefix(FIELD_FILTER_PREFIX).unwrap_or(c))
        .chain(order)
        .chain(salt)
        .collect()
}

/// Per match: `left_id`, `right_id`, `score`, `match_weight`, `prior_weight`, then per
/// model field `<field>_level` (0 agrees best; null when missing) and `<field>_weight`.
fn explain(
    path: &std::path::Path,
    left: &EncodedInput,
    right: &EncodedInput,
    linkage: &FieldLinkage,
) -> anyhow::Result<Staged> {
    let m = &linkage.matches;
    let e = &linkage.explanations;
    let names = model_field_names(left);
    let prior = linkage.fit.model.prior_weight();
    let mut fields = vec![
        Field::new("left_id", DataType::Utf8, false),
        Field::new("right_id", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
        Field::new("match_weight", DataType::Float64, false),
        Field::new("prior_weight", DataType::Float64, false),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(m.iter().map(|p| id(&left.ids, p.left)))),
        Arc::new(StringArray::from_iter_values(m.iter().map(|p| id(&right.ids, p.right)))),
        Arc::new(Float64Array::from_iter_values(m.iter().map(|p| p.probability))),
        Arc::new(Float64Array::from_iter_values(m.iter().map(|p| p.weight))),
        Arc::new(Float64Array::from_iter_values(m.iter().map(|_| prior))),
    ];
    for (f, name) in names.iter().enumerate() {
        fields.push(Field::new(format!("{name}_level"), DataType::UInt8, true));
        fields.push(Field::new(format!("{name}_weight"), DataType::Float64, false));
        let level = |x: &Explanation| x.levels.get(f).copied().filter(|l| *l != MISSING);
        columns.push(Arc::new(UInt8Array::from_iter(e.iter().map(level))));
        let weight = |x: &Explanation| x.weights.get(f).copied().unwrap_or(0.0);
        columns.push(Arc::new(Float64Array::from_iter_values(e.iter().map(weight))));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    super::super::stage_table(path, &batch)
}

/// `left_id`, `right_id`, `score` (the match probability) and `match_weight`.
fn write(
    args: &LinkArgs,
    left: &EncodedInput,
    right: &EncodedInput,
    linkage: &FieldLinkage,
) -> anyhow::Result<Staged> {
    let m = &linkage.matches;
    let schema = Arc::new(Schema::new(vec![
        Field::new("left_id", DataType::Utf8, false),
        Field::new("right_id", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
        Field::new("match_weight", DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(m.iter().map(|p| id(&left.ids, p.left)))),
        Arc::new(StringArray::from_iter_values(m.iter().map(|p| id(&right.ids, p.right)))),
        Arc::new(Float64Array::from_iter_values(m.iter().map(|p| p.probability))),
        Arc::new(Float64Array::from_iter_values(m.iter().map(|p| p.weight))),
    ];
    super::super::stage_table(&args.output, &RecordBatch::try_new(schema, columns)?)
}
