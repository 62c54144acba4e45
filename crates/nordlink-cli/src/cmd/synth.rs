//! `nordlink synth`.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use nordlink_io::arrow_array::{ArrayRef, RecordBatch, StringArray};
use nordlink_io::arrow_schema::{DataType, Field, Schema};
use nordlink_synth::corrupt::Level;
use nordlink_synth::population::{Row, Spec, generate};

use crate::flags::{Corruption, SynthArgs, SynthFormat};

pub(super) fn run(args: &SynthArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let spec = Spec {
        people: args.people as usize,
        registers: args.registers.0.clone(),
        movers: args.overlap,
        corruption: match args.corruption {
            Corruption::None => Level::None,
            Corruption::Low => Level::Low,
            Corruption::Default => Level::Default,
            Corruption::High => Level::High,
        },
        seed: args.seed,
    };
    let extension = match args.format {
        SynthFormat::Csv => "csv",
        SynthFormat::Parquet => "parquet",
    };
    let register_path =
        |c: &nordlink::id::Scheme| args.out_dir.join(format!("{}.{extension}", c.code()));
    let pair_path = |a: usize, b: usize| {
        let (a, b) = (spec.registers[a].code(), spec.registers[b].code());
        args.out_dir.join(format!("truth-{a}-{b}.csv"))
    };
    let n = spec.registers.len();
    let mut targets: Vec<std::path::PathBuf> = spec.registers.iter().map(register_path).collect();
    targets.push(args.out_dir.join("truth.csv"));
    targets
        .extend((0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))).map(|(a, b)| pair_path(a, b)));
    // A run never replaces files: an earlier run's truth beside new registers would lie.
    if let Some(existing) = targets.iter().find(|p| p.exists()) {
        bail!("{}: already exists; give an empty or new --out-dir", existing.display());
    }
    let population = generate(&spec)?;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("{}: cannot create the directory", args.out_dir.display()))?;
    for (country, rows) in spec.registers.iter().zip(&population.registers) {
        super::write_table(&register_path(country), &register_batch(rows)?)?;
    }
    // Per pair of registers, the true links as `nordlink evaluate` reads them: the first
    // register's id (in --registers order), then the second's.
    for a in 0..n {
        for b in a + 1..n {
            let pairs: Vec<(String, String)> = population
                .truth
                .iter()
                .filter_map(|l| match (l.home, l.abroad) {
                    (h, o) if (h, o) == (a, b) => Some((l.home_id.clone(), l.abroad_id.clone())),
                    (h, o) if (h, o) == (b, a) => Some((l.abroad_id.clone(), l.home_id.clone())),
                    _ => None,
                })
                .collect();
            let columns = vec![
                ("left_id", pairs.iter().map(|p| p.0.clone()).collect()),
                ("right_id", pairs.into_iter().map(|p| p.1).collect()),
            ];
            super::write_table(&pair_path(a, b), &batch(columns)?)?;
        }
    }
    let truth = population.truth.iter();
    let code = |i: usize| spec.registers[i].code();
    let columns: Vec<(&str, Vec<String>)> = vec![
        ("left_register", truth.clone().map(|l| code(l.home).to_owned()).collect()),
        ("left_id", truth.clone().map(|l| l.home_id.clone()).collect()),
        ("right_register", truth.clone().map(|l| code(l.abroad).to_owned()).collect()),
        ("right_id", truth.map(|l| l.abroad_id.clone()).collect()),
    ];
    super::write_table(&args.out_dir.join("truth.csv"), &batch(columns)?)?;
    let rows: usize = population.registers.iter().map(Vec::len).sum();
    say!(
        "nordlink synth: {} registers, {rows} rows ({} residents each, {} moved abroad) in \
         {:.2} s -> {}",
        spec.registers.len(),
        spec.people,
        population.truth.len(),
        started.elapsed().as_secs_f64(),
        args.out_dir.display()
    );
    Ok(())
}

fn register_batch(rows: &[Row]) -> anyhow::Result<RecordBatch> {
    let col = |f: fn(&Row) -> &str| rows.iter().map(|r| f(r).to_owned()).collect::<Vec<_>>();
    batch(vec![
        ("id", col(|r| &r.id)),
        ("given_name", col(|r| &r.record.given)),
        ("surname", col(|r| &r.record.surname)),
        ("birth_date", col(|r| &r.record.born)),
        ("sex", col(|r| &r.record.sex)),
        ("municipality", col(|r| &r.record.place)),
    ])
}

fn batch(columns: Vec<(&str, Vec<String>)>) -> anyhow::Result<RecordBatch> {
    let schema = Arc::new(Schema::new(
        columns.iter().map(|(n, _)| Field::new(*n, DataType::Utf8, false)).collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> =
        columns.into_iter().map(|(_, v)| Arc::new(StringArray::from(v)) as ArrayRef).collect();
    Ok(RecordBatch::try_new(schema, arrays)?)
}
