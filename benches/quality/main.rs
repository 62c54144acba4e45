//! The linkage-quality benchmark: precision, recall and F1 of `nordlink link` on
//! synthetic cross-border registers, swept over corruption level, overlap, threshold,
//! blocking, solver and schema options.
//!
//! ```sh
//! cargo run --release -p nordlink-benches --bin quality                 # print the tables
//! cargo run --release -p nordlink-benches --bin quality -- --write      # and update docs/quality.md
//! cargo run --release -p nordlink-benches --bin quality -- --scoring-only  # Dice against Fellegi–Sunter
//! ```
//!
//! Everything runs in memory through the library calls the commands use
//! (`nordlink_synth::population::generate`, `AnyEncoder::encode_many`, `link::Linker`),
//! so the figures are those of `nordlink synth`, `encode` and `link --threshold auto`
//! on the same data. The oracle F1 (the best over thresholds 0.50–0.99, chosen with the
//! ground truth) is an upper bound for a global threshold, not a result.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    reason = "benchmark code: a panic is a failure"
)]

mod plot;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Instant;

use nordlink::SecretKey;
use nordlink::assess::{Encodings, assess};
use nordlink::clk::{AnyEncoder, EncoderSecret, FilterArena};
use nordlink::id::Scheme;
use nordlink::link::{
    Blocking, Candidate, CandidateSource, FieldInput, FieldLinker, Kernel, KeyColumn, Linker,
    Measure, Quality, Solver, Threshold, greedy, top_k,
};
use nordlink_synth::corrupt::Level;
use nordlink_synth::population::{Spec, generate};

/// The schema shipped for `nordlink synth` registers: the benchmark's default.
const SCHEMA: &str = include_str!("../../examples/data/synth_schema.toml");

/// Lowest threshold of the oracle sweep.
const FLOOR: f64 = 0.5;

/// Pairs per left record in the oracle sweep.
const ORACLE_K: usize = 20;

/// One data set: two registers' filters and the true links between them.
struct Data {
    left: FilterArena,
    right: FilterArena,
    truth: Vec<(u32, u32)>,
    /// Field-level filters per register (one arena per field), when the schema makes them.
    fields: [Vec<FilterArena>; 2],
    /// Match keys per register, when the schema makes them.
    keys: [Vec<KeyColumn>; 2],
    /// The left register's cells in schema field order, for `assess`.
    left_cells: Vec<Vec<Option<String>>>,
}

/// A linkage's quality and cost.
struct Outcome {
    threshold: f64,
    quality: Quality,
    candidates: usize,
    completeness: f64,
    seconds: f64,
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::None => "none",
        Level::Low => "low",
        Level::Default => "default",
        Level::High => "high",
    }
}

/// Synthesises Swedish and Norwegian registers and encodes them under `schema`.
fn build(people: usize, movers: f64, level: Level, seed: u64, schema: &str) -> Data {
    let spec =
        Spec { people, registers: vec![Scheme::Se, Scheme::No], movers, corruption: level, seed };
    let population = generate(&spec).unwrap();
    let mut raw = [7u8; 32];
    let encoder = AnyEncoder::from_schema_bytes(
        schema.as_bytes(),
        &EncoderSecret::Key(SecretKey::from_bytes(&mut raw)),
    )
    .unwrap();
    let columns: Vec<String> =
        encoder.columns().into_iter().map(|c| c.unwrap_or_default().to_owned()).collect();
    let left_cells = population.registers[0]
        .iter()
        .map(|row| columns.iter().map(|c| Some(cell(row, c).to_owned())).collect())
        .collect();
    let mut fields: [Vec<FilterArena>; 2] = [Vec::new(), Vec::new()];
    let key_columns = || -> Vec<KeyColumn> {
        let names = encoder.match_key_names();
        names.into_iter().map(|n| KeyColumn { name: n.to_owned(), values: Vec::new() }).collect()
    };
    let mut keys: [Vec<KeyColumn>; 2] = [key_columns(), key_columns()];
    let arenas: Vec<FilterArena> = population
        .registers
        .iter()
        .zip(fields.iter_mut().zip(&mut keys))
        .map(|(rows, (field_arenas, key_columns))| {
            let encoded = encoder.encode_many(rows, |row, f| Some(cell(row, &columns[f])));
            let mut arena = FilterArena::with_capacity(encoder.bits(), rows.len()).unwrap();
            for e in encoded {
                let e = e.unwrap();
                for (column, key) in key_columns.iter_mut().zip(&e.keys) {
                    column.values.push(KeyColumn::value(key.as_ref()));
                }
                arena.push_filter(&e.record).unwrap();
                for (f, filter) in e.fields.iter().enumerate() {
                    if field_arenas.len() <= f {
                        field_arenas.push(FilterArena::new(filter.len()).unwrap());
                    }
                    field_arenas[f].push_filter(filter).unwrap();
                }
            }
            arena
        })
        .collect();
    let position = |register: usize| -> HashMap<&str, u32> {
        population.registers[register]
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i as u32))
            .collect()
    };
    let (se, no) = (position(0), position(1));
    let truth = population
        .truth
        .iter()
        .map(|l| match (l.home, l.abroad) {
            (0, _) => (se[l.home_id.as_str()], no[l.abroad_id.as_str()]),
            _ => (se[l.abroad_id.as_str()], no[l.home_id.as_str()]),
        })
        .collect();
    let [left, right]: [FilterArena; 2] = arenas.try_into().ok().unwrap();
    Data { left, right, truth, fields, keys, left_cells }
}

/// A register row's value for a schema column.
fn cell<'a>(row: &'a nordlink_synth::population::Row, column: &str) -> &'a str {
    let r = &row.record;
    match column {
        "given_name" => &r.given,
        "surname" => &r.surname,
        "birth_date" => &r.born,
        "sex" => &r.sex,
        "municipality" => &r.place,
        other => panic!("the benchmark has no column {other}"),
    }
}

fn quality(matches: &[Candidate], truth: &[(u32, u32)]) -> Quality {
    let pairs: Vec<(u32, u32)> = matches.iter().map(|m| (m.left, m.right)).collect();
    Quality::of(&pairs, truth)
}

/// Runs `linker` on the data.
fn run(data: &Data, linker: &Linker) -> Outcome {
    let started = Instant::now();
    let linkage = linker.link(&data.left, &data.right).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    Outcome {
        threshold: linkage.search.threshold.value,
        quality: quality(&linkage.matches, &data.truth),
        candidates: linkage.search.pairs.len(),
        completeness: quality(&linkage.search.pairs, &data.truth).recall(),
        seconds,
    }
}

/// Greedy 1-to-1 quality at every threshold from [`FLOOR`] to 0.99 in steps of 0.01.
/// Greedy takes pairs best first, so its matches at a threshold `t` are its matches at
/// the floor that score at least `t`: one run serves every threshold. Each left record's
/// best [`ORACLE_K`] pairs are kept (as `link` keeps 16 under LSH): all pairs above 0.5
/// are tens of millions on look-alike names, and greedy never reaches a record's 20th.
fn curve(data: &Data) -> Vec<(f64, Quality)> {
    let pairs =
        top_k(&data.left, &data.right, Measure::Dice, FLOOR, ORACLE_K, Kernel::detect()).unwrap();
    let mut matches = greedy(&pairs);
    matches.sort_by(|a, b| b.score.total_cmp(&a.score));
    (50..100)
        .map(|step| {
            let t = f64::from(step) / 100.0;
            let above = matches.partition_point(|c| c.score >= t);
            (t, quality(&matches[..above], &data.truth))
        })
        .collect()
}

fn best(curve: &[(f64, Quality)]) -> (f64, Quality) {
    *curve.iter().max_by(|a, b| a.1.f1().total_cmp(&b.1.f1())).unwrap()
}

fn auto() -> Linker {
    Linker { threshold: Threshold::Auto(None), ..Linker::default() }
}

/// Schema variants: (name, schema text). Each sets the `[filter]` options it compares
/// explicitly, so a change of version 3's defaults shows only in the first row.
fn schemas() -> Vec<(&'static str, String)> {
    let with_filter = |line: &str| SCHEMA.replacen("[filter]\n", &format!("[filter]\n{line}\n"), 1);
    let without_place = {
        let at = SCHEMA.find("[[fields]]\nname = \"municipality\"").unwrap();
        SCHEMA[..at].to_owned()
    };
    let unsalted = |hardening: &str| with_filter(&format!("hardening = {hardening}\nsalt = false"));
    let year_salted = |hardening: &str| {
        with_filter(&format!(
            "hardening = {hardening}\nsalt = {{ field = \"birth_date\", year_only = true }}"
        ))
    };
    vec![
        ("default (`examples/data/synth_schema.toml`)", SCHEMA.to_owned()),
        ("no hardening, no salt", unsalted("[]")),
        ("balance + permute", unsalted("[\"balance\", \"permute\"]")),
        ("xor_fold = 1", unsalted("[{ xor_fold = 1 }]")),
        ("rule90 + permute", unsalted("[\"rule90\", \"permute\"]")),
        ("keyed_flip = 0.05", unsalted("[{ keyed_flip = 0.05 }]")),
        ("blip = 0.05", unsalted("[{ blip = 0.05 }]")),
        ("birth-year salt", year_salted("[]")),
        ("birth-year salt + balance + permute", year_salted("[\"balance\", \"permute\"]")),
        ("birth-year salt + xor_fold = 1", year_salted("[{ xor_fold = 1 }]")),
        ("birth-year salt + xor_fold = 2", year_salted("[{ xor_fold = 2 }]")),
        (
            "birth-year salt + xor_fold = 1 + balance + permute",
            year_salted("[{ xor_fold = 1 }, \"balance\", \"permute\"]"),
        ),
        ("default without municipality", without_place),
        ("default at 2048 bits", SCHEMA.replacen("bits = 1024", "bits = 2048", 1)),
    ]
}

/// The default schema with field-level filters and the default match keys (the evidence
/// Fellegi–Sunter scoring reads).
fn with_field_filters(schema: &str) -> String {
    schema.replacen("version = 3\n", "version = 3\ndefault_match_keys = true\n", 1).replacen(
        "[filter]\n",
        "[filter]\nfield_filters = true\nfield_filters_reveal_frequencies = true\n",
        1,
    )
}

/// Fellegi–Sunter scoring on the data's field filters, with candidates from `source`
/// (filter candidates see no keys: as before match keys existed).
fn run_fields(data: &Data, source: CandidateSource) -> (Outcome, f64) {
    let started = Instant::now();
    let linker = FieldLinker { candidates: source, ..FieldLinker::default() };
    let keys = |side: usize| -> &[KeyColumn] {
        if source == CandidateSource::Filters { &[] } else { &data.keys[side] }
    };
    let left = FieldInput { record: &data.left, fields: &data.fields[0], keys: keys(0) };
    let right = FieldInput { record: &data.right, fields: &data.fields[1], keys: keys(1) };
    let linkage = linker.link(left, right).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let matches: Vec<Candidate> = linkage
        .matches
        .iter()
        .map(|p| Candidate { left: p.left, right: p.right, score: p.probability })
        .collect();
    let outcome = Outcome {
        threshold: linkage.threshold,
        quality: quality(&matches, &data.truth),
        candidates: linkage.candidates,
        // Candidates' completeness is not reported for this scoring.
        completeness: f64::NAN,
        seconds,
    };
    (outcome, linkage.expected.f1)
}

/// Dice against Fellegi–Sunter scoring, both with automatic thresholds, on the default
/// schema with field-level filters, salted (the default) and unsalted.
fn scoring_table(people: usize, seed: u64, md: &mut String) {
    let _ = writeln!(md, "### Scoring: record-level Dice against Fellegi–Sunter\n");
    let _ = writeln!(
        md,
        "Default schema plus `field_filters = true` and `default_match_keys = true` (the \
         evidence Fellegi–Sunter reads), with the default birth-year salt and with \
         `salt = false`. Every scoring chooses its threshold without ground truth (Dice: \
         `--threshold auto`; Fellegi–Sunter: the fitted model's expected F1). Oracle: Dice's \
         best F1 over thresholds chosen with the ground truth. FS keys: candidates from the \
         birth-date key (`nordlink link`'s default for such inputs); FS filters: the best \
         record-level Dice candidates, without keys. Times are whole linkages on 2 \
         threads.\n"
    );
    let _ = writeln!(
        md,
        "| salt | corruption | overlap | true links | Dice F1 (auto) | Dice oracle F1 | FS filters F1 | **FS keys F1** | FS keys precision | FS keys recall | FS keys expected F1 | Dice s | FS filters s | FS keys s |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let unsalted = SCHEMA.replacen("[filter]\n", "[filter]\nsalt = false\n", 1);
    for (salt, schema) in [("birth year", SCHEMA.to_owned()), ("none", unsalted)] {
        let schema = with_field_filters(&schema);
        for level in [Level::Low, Level::Default, Level::High] {
            for movers in [0.1, 0.5, 1.0] {
                let data = build(people, movers, level, seed, &schema);
                let dice = run(&data, &auto());
                let (_, oracle) = best(&curve(&data));
                let (filters, _) = run_fields(&data, CandidateSource::Filters);
                let (fs, expected) = run_fields(&data, CandidateSource::Keys);
                let q = fs.quality;
                let _ = writeln!(
                    md,
                    "| {salt} | {} | {movers} | {} | {:.4} | {:.4} | {:.4} | **{:.4}** | {:.4} | {:.4} | {expected:.4} | {:.1} | {:.1} | {:.1} |",
                    level_name(level),
                    data.truth.len(),
                    dice.quality.f1(),
                    oracle.f1(),
                    filters.quality.f1(),
                    q.f1(),
                    q.precision(),
                    q.recall(),
                    dice.seconds,
                    filters.seconds,
                    fs.seconds
                );
                eprintln!(
                    "salt {salt}, level {} overlap {movers}: Dice {:.4} FS filters {:.4} FS keys {:.4}",
                    level_name(level),
                    dice.quality.f1(),
                    filters.quality.f1(),
                    q.f1()
                );
            }
        }
    }
    let _ = writeln!(md);
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split_once(':').map_or(String::new(), |(_, v)| v.trim().to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpu}, {} threads, {} kernel", rayon::current_num_threads(), Kernel::detect().name())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let write = args.iter().any(|a| a == "--write");
    let quick = args.iter().any(|a| a == "--quick");
    // Only the schema table (for trying schema options); not with --write.
    let schemas_only = args.iter().any(|a| a == "--schemas-only") && !write;
    let people: usize = args
        .iter()
        .position(|a| a == "--people")
        .and_then(|i| args.get(i + 1))
        .map_or(20_000, |s| s.parse().expect("--people N"));
    let seed = 11;
    let started = Instant::now();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Generated by `cargo run --release -p nordlink-benches --bin quality -- --write` \
         ({people} residents per register, seed {seed}; {}).\n",
        machine()
    );

    if args.iter().any(|a| a == "--scoring-only") {
        scoring_table(people, seed, &mut md);
        println!("{md}");
        return;
    }
    let mut svg = String::new();
    if !schemas_only {
        // 1. Corruption level x overlap, default schema, automatic threshold.
        let _ = writeln!(md, "### Corruption level and overlap\n");
        let _ = writeln!(
            md,
            "Default schema, greedy 1-to-1, automatic threshold (`--threshold auto`) against the \
             oracle (best F1 over thresholds 0.50–0.99 chosen with the ground truth: an upper \
             bound). Overlap: the share of each register's residents also registered in the \
             other country.\n"
        );
        let _ = writeln!(
            md,
            "| corruption | overlap | true links | auto threshold | precision | recall | **F1 (auto)** | oracle threshold | oracle F1 |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
        let mut curves = Vec::new();
        for level in [Level::None, Level::Low, Level::Default, Level::High] {
            for movers in [0.1, 0.5, 1.0] {
                let data = build(people, movers, level, seed, SCHEMA);
                let got = run(&data, &auto());
                let c = curve(&data);
                let (bt, bq) = best(&c);
                let q = got.quality;
                let _ = writeln!(
                    md,
                    "| {} | {movers} | {} | {:.3} | {:.4} | {:.4} | **{:.4}** | {bt:.2} | {:.4} |",
                    level_name(level),
                    data.truth.len(),
                    got.threshold,
                    q.precision(),
                    q.recall(),
                    q.f1(),
                    bq.f1()
                );
                eprintln!(
                    "level {} overlap {movers}: auto F1 {:.4}, oracle {:.4}",
                    level_name(level),
                    q.f1(),
                    bq.f1()
                );
                if movers == 0.5 {
                    curves.push((level_name(level), c, got.threshold));
                }
            }
        }
        svg = plot::f1_curves(
            "F1 against the threshold (overlap 0.5); dots: the automatic threshold",
            &curves,
        );
        let _ = writeln!(
            md,
            "\n![F1 against threshold by corruption level](quality/f1-by-level.svg)\n"
        );

        if quick {
            println!("{md}");
            return;
        }

        // 2. Blocking and solver, default level.
        let _ = writeln!(md, "### Blocking and solver\n");
        let _ = writeln!(
            md,
            "Default corruption, default schema, automatic threshold. Pairs completeness: the \
             share of true links among the candidates (what blocking lost).\n"
        );
        let _ = writeln!(
            md,
            "| overlap | blocking | solver | candidates | pairs completeness | precision | recall | F1 | time (s) |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
        for movers in [0.1, 0.5] {
            let data = build(people, movers, Level::Default, seed, SCHEMA);
            for (blocking, bname) in
                [(Blocking::AllPairs, "all pairs"), (Blocking::Lsh, "LSH (recall 0.995)")]
            {
                for (solver, sname) in [(Solver::Greedy, "greedy"), (Solver::Optimal, "optimal")] {
                    let got = run(&data, &Linker { blocking, solver, ..auto() });
                    let q = got.quality;
                    let _ = writeln!(
                        md,
                        "| {movers} | {bname} | {sname} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.2} |",
                        got.candidates,
                        got.completeness,
                        q.precision(),
                        q.recall(),
                        q.f1(),
                        got.seconds
                    );
                }
            }
        }
    }
    if !schemas_only {
        // 3. Scoring.
        scoring_table(people, seed, &mut md);
    }
    // 4. Schema options.
    let _ = writeln!(md, "\n### Schema and hardening options\n");
    let _ = writeln!(
        md,
        "Default corruption, greedy, automatic threshold; the schema is changed one option at \
         a time. Beside the linkage figures, what `nordlink assess`'s keyless attacks recover \
         from the Swedish register's filters (upper bounds; method in docs/privacy.md). What \
         each hardening step defends against: docs/schema.md.\n"
    );
    let _ = writeln!(
        md,
        "| schema | overlap | auto threshold | **F1 (auto)** | oracle threshold | oracle F1 | \
         given names | surnames | birth dates | municipalities | sex | singled out |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    // `--schema TEXT`: only the variants whose name contains TEXT (not with --write).
    let only = args.iter().position(|a| a == "--schema").and_then(|i| args.get(i + 1));
    for (name, schema) in schemas() {
        if only.is_some_and(|o| !name.contains(o.as_str())) && !write {
            continue;
        }
        for movers in [0.1, 0.5] {
            let data = build(people, movers, Level::Default, seed, &schema);
            let got = run(&data, &auto());
            let (bt, bq) = best(&curve(&data));
            // The keyless attacks on the left register's filters (docs/privacy.md).
            let parsed = nordlink::clk::Schema::parse(&schema).unwrap();
            let attack = assess(&parsed, &data.left_cells, Encodings::new(&data.left)).unwrap();
            let field = |n: &str| {
                attack.fields.iter().find(|f| f.name == n).map_or(0.0, |f| f.reidentified_share)
            };
            let _ = writeln!(
                md,
                "| {name} | {movers} | {:.3} | **{:.4}** | {bt:.2} | {:.4} | {:.1} % | {:.1} % | {:.1} % | {:.1} % | {:.1} % | {:.1} % |",
                got.threshold,
                got.quality.f1(),
                bq.f1(),
                100.0 * field("given_name"),
                100.0 * field("surname"),
                100.0 * field("birth_date"),
                100.0 * field("municipality"),
                100.0 * field("sex"),
                100.0 * attack.reidentified_share
            );
            eprintln!(
                "schema {name} overlap {movers}: auto F1 {:.4}, oracle {:.4}",
                got.quality.f1(),
                bq.f1()
            );
        }
    }
    let _ = writeln!(md, "\nWhole run: {:.0} s.", started.elapsed().as_secs_f64());

    println!("{md}");
    if write {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let doc = format!("{root}/docs/quality.md");
        let text = std::fs::read_to_string(&doc).unwrap_or_default();
        let (begin, end) = ("<!-- BEGIN GENERATED: quality -->", "<!-- END GENERATED: quality -->");
        let (Some(a), Some(b)) = (text.find(begin), text.find(end)) else {
            panic!("{doc}: no generated section (markers {begin} ... {end})");
        };
        let updated = format!("{}{begin}\n{md}{}", &text[..a], &text[b..]);
        std::fs::write(&doc, updated).unwrap();
        std::fs::create_dir_all(format!("{root}/docs/quality")).unwrap();
        std::fs::write(format!("{root}/docs/quality/f1-by-level.svg"), svg).unwrap();
        eprintln!("wrote {doc} and docs/quality/f1-by-level.svg");
    }
}
