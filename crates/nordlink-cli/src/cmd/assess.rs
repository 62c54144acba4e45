//! `nordlink assess`: the keyless attacks on one's own encodings, before sharing them.

use std::collections::HashMap;
use std::fmt::Write as _;

use anyhow::{Context as _, bail};
use nordlink::assess::{
    Assessment, EXPOSED_PRECISION, Encodings, MIN_SUPPORT, TOKENS_TRIED, assess,
};
use nordlink::clk::{Schema, SchemaKind, read_schema_file};
use nordlink_io::arrow_array::Array as _;
use nordlink_io::encode::MATCH_KEY_PREFIX;
use nordlink_io::{ReadOptions, TableReader, read_filter_columns, text_column, write_atomically};

use super::ensure_distinct;
use crate::flags::AssessArgs;

/// What the figures assume, for every report.
const ASSUMPTIONS: &str = "Upper bounds for an attacker without the key: pattern mining is \
    scored as if the attacker had found each frequent token's bit signature (what the \
    published attacks reach when they succeed) and held every plaintext value as a \
    dictionary; frequency alignment uses the plaintext's own value frequencies as the public \
    table; with a per-record salt, both attacks are run within each salt group, as by an \
    attacker who can tell the groups apart. A record is singled out when the values \
    re-identified from its filters and match keys occur together in no other record.";

pub(super) fn run(args: &AssessArgs) -> anyhow::Result<()> {
    let reads = [args.plaintext.as_path(), args.encoded.as_path(), args.schema.as_path()];
    let outputs: Vec<&std::path::Path> = args.report.iter().map(|p| p.as_path()).collect();
    ensure_distinct(&reads, &outputs)?;
    if let Some(path) = &args.report
        && !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("md"))
    {
        bail!("{}: --report writes Markdown; name it FILE.md", path.display());
    }
    let bytes = read_schema_file(&args.schema)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| anyhow::anyhow!("{}: not UTF-8", args.schema.display()))?;
    if SchemaKind::detect(text) != SchemaKind::Native {
        bail!(
            "{}: assess reads nordlink schemas (clkhash schemas are not supported yet)",
            args.schema.display()
        );
    }
    let schema = Schema::parse(text).with_context(|| args.schema.display().to_string())?;
    let names: Vec<String> = schema.fields().iter().map(|f| format!("clk_{}", f.name())).collect();
    let mut columns = vec!["clk"];
    if schema.field_filters() {
        columns.extend(names.iter().map(String::as_str));
    }
    let key_names: Vec<&str> = schema.match_keys().iter().map(|k| k.name()).collect();
    let limit = args.limit as usize;
    let mut encoded = read_filter_columns(&args.encoded, &columns, &key_names, limit)?;
    // Files encoded before a default key was added lack its column: assess the others.
    for name in key_names.iter().filter(|n| !encoded.keys.iter().any(|k| k.name == **n)) {
        say!(
            "nordlink assess: note: {} has no column {MATCH_KEY_PREFIX}{name}; that key is not \
             assessed",
            args.encoded.display()
        );
    }
    let cells = plaintext_cells(args, &schema, &encoded.rows)?;
    let records = encoded.arenas.remove(0);
    let mut encodings = Encodings::new(&records).with_match_keys(&encoded.keys);
    if schema.field_filters() {
        encodings = encodings.with_field_filters(&encoded.arenas);
    }
    let result = assess(&schema, &cells, encodings)?;
    if args.json {
        out!("{}", json(&result));
    } else {
        out_raw!("{}", markdown(&result, args));
    }
    if let Some(path) = &args.report {
        write_atomically(path, markdown(&result, args).as_bytes())?;
        say!("nordlink assess: report -> {}", path.display());
    }
    if encoded.rows.len() == limit {
        say!(
            "nordlink assess: note: the first {limit} encoded records were assessed (--limit); \
             attacks on larger files do at least as well"
        );
    }
    Ok(())
}

/// The plaintext cells (schema field order) of the input rows the encoded file holds.
fn plaintext_cells(
    args: &AssessArgs,
    schema: &Schema,
    rows: &[u64],
) -> anyhow::Result<Vec<Vec<Option<String>>>> {
    let path = args.plaintext.as_path();
    let reader = TableReader::open(path, ReadOptions::default())?;
    let indices: Vec<usize> = schema
        .fields()
        .iter()
        .map(|f| reader.column_index(f.column()))
        .collect::<Result<_, _>>()?;
    let wanted: HashMap<u64, usize> = rows.iter().enumerate().map(|(i, &r)| (r, i)).collect();
    let last = rows.iter().copied().max().unwrap_or(0);
    let mut cells: Vec<Option<Vec<Option<String>>>> = vec![None; rows.len()];
    for batch in reader {
        let batch = batch?;
        if batch.first_row > last {
            break;
        }
        let texts = indices
            .iter()
            .map(|&i| text_column(path, &batch.data, i, Some(0)))
            .collect::<Result<Vec<_>, _>>()?;
        for r in 0..batch.data.num_rows() {
            let Some(&at) = wanted.get(&batch.row_number(r)) else { continue };
            if batch.problems.iter().any(|(p, _)| *p == r) {
                bail!("{}: row {} cannot be read whole", path.display(), batch.row_number(r));
            }
            cells[at] = Some(
                texts.iter().map(|t| (!t.is_null(r)).then(|| t.value(r).to_owned())).collect(),
            );
        }
    }
    cells
        .into_iter()
        .zip(rows)
        .map(|(c, r)| {
            c.ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: the encoded file names input row {r}, which the plaintext lacks: \
                     give the file that was encoded",
                    path.display()
                )
            })
        })
        .collect()
}

fn json(a: &Assessment) -> String {
    let fields: serde_json::Map<String, serde_json::Value> = a
        .fields
        .iter()
        .map(|f| {
            let value = serde_json::json!({
                "distinct_values": f.distinct_values,
                "tokens_tried": f.tokens_tried,
                "tokens_exposed": f.tokens_exposed,
                "pattern_reidentified": f.pattern_reidentified,
                "frequency_reidentified": f.frequency_reidentified,
                "reidentified_share": f.reidentified_share,
            });
            (f.name.clone(), value)
        })
        .collect();
    let keys: serde_json::Map<String, serde_json::Value> = a
        .keys
        .iter()
        .map(|k| {
            let value = serde_json::json!({
                "distinct_values": k.distinct_values,
                "unique_share": k.unique_share,
                "largest_group": k.largest_group,
                "reidentified_share": k.reidentified_share,
            });
            (k.name.clone(), value)
        })
        .collect();
    serde_json::json!({
        "records": a.records,
        "overall": {
            "reidentified_share": a.reidentified_share,
            "popcount_length_correlation": a.popcount_length_correlation,
        },
        "fields": fields,
        "keys": keys,
        "assumptions": ASSUMPTIONS,
    })
    .to_string()
}

fn markdown(a: &Assessment, args: &AssessArgs) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# nordlink assess\n");
    let _ = writeln!(
        s,
        "{} records of `{}` (schema `{}`).\n",
        a.records,
        args.encoded.display(),
        args.schema.display()
    );
    let _ = writeln!(
        s,
        "**Singled out: {:.1} % of records.** Popcount–length correlation: {:.2}.\n",
        100.0 * a.reidentified_share,
        a.popcount_length_correlation
    );
    let _ = writeln!(
        s,
        "| field | distinct values | tokens tried | tokens exposed | pattern mining | frequency alignment | re-identified |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for f in &a.fields {
        let frequency =
            f.frequency_reidentified.map_or("–".to_owned(), |x| format!("{:.1} %", 100.0 * x));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.1} % | {frequency} | {:.1} % |",
            f.name,
            f.distinct_values,
            f.tokens_tried,
            f.tokens_exposed,
            100.0 * f.pattern_reidentified,
            100.0 * f.reidentified_share
        );
    }
    if !a.keys.is_empty() {
        let _ = writeln!(
            s,
            "\n| match key | distinct values | records unique by it | largest group | frequency alignment |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|");
        for k in &a.keys {
            let _ = writeln!(
                s,
                "| {} | {} | {:.1} % | {} | {:.1} % |",
                k.name,
                k.distinct_values,
                100.0 * k.unique_share,
                k.largest_group,
                100.0 * k.reidentified_share
            );
        }
    }
    let _ = writeln!(
        s,
        "\nTokens tried: the {TOKENS_TRIED} most frequent per field held by at least \
         {MIN_SUPPORT} records; exposed: signature precision at least {EXPOSED_PRECISION} on \
         records it was not learnt from. {ASSUMPTIONS} See docs/privacy.md."
    );
    s
}
