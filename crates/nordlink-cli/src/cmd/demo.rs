//! `nordlink demo`: the whole job on synthetic registers, step by step, with a report.
//!
//! Each step runs the real subcommand in-process, as a user would type it, so the demo
//! exercises exactly the code paths of the commands it names.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::Parser as _;
use nordlink::link::Quality;

use crate::flags::{Cli, DemoArgs};

/// The encoding schema the demo writes: the one shipped for `nordlink synth` registers.
const SCHEMA: &str = include_str!("../../../../examples/data/synth_schema.toml");

/// One step: what it did and how long it took.
struct Step {
    name: &'static str,
    seconds: f64,
}

pub(super) fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => fresh_temp_dir()?,
    };
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    if std::fs::read_dir(&dir).with_context(|| dir.display().to_string())?.next().is_some() {
        bail!("{}: not empty; the demo writes into an empty or new directory", dir.display());
    }
    let [a, b] = args.countries.map(|c| c.code());
    say!(
        "nordlink demo: {} residents in each of the {a} and {b} registers, {:.0} % of them \
         also registered in the other country, written as the other country's clerk would \
         (corruption level default); all files in {}",
        args.people,
        args.overlap * 100.0,
        dir.display()
    );
    let path = |name: &str| dir.join(name);
    // Paths stay OS strings all the way into the steps' arguments: a directory name that
    // is not UTF-8 must name the same directory in every step.
    let p = |name: &str| OsString::from(path(name));
    let register = |c: &str| OsString::from(path("registers").join(format!("{c}.csv")));
    let mut steps = Vec::new();
    let people = args.people.to_string();
    let overlap = args.overlap.to_string();
    let seed = args.seed.to_string();
    let registers = format!("{a},{b}");
    step(
        &mut steps,
        "synthesise registers",
        &[
            "synth".into(),
            "--people".into(),
            people.into(),
            "--registers".into(),
            registers.into(),
            "--overlap".into(),
            overlap.into(),
            "--seed".into(),
            seed.into(),
            "--out-dir".into(),
            p("registers"),
        ],
    )?;
    // Two keys: a pseudonymisation key never leaves the register holder, an encoding key
    // is shared by the holders of one linkage project.
    for (file, purpose) in [("pseudonymise.key", "pseudonymise"), ("encode.key", "encode")] {
        let argv = [
            "key".into(),
            "generate".into(),
            "--purpose".into(),
            purpose.into(),
            "--out".into(),
            p(file),
        ];
        step(&mut steps, "generate keys", &argv)?;
    }
    step(
        &mut steps,
        "pseudonymise one extract",
        &[
            "pseudonymise".into(),
            "--key".into(),
            p("pseudonymise.key"),
            "--scheme".into(),
            a.into(),
            "--column".into(),
            "id".into(),
            "--context".into(),
            "nordlink-demo".into(),
            "--input".into(),
            register(a),
            "--output".into(),
            p(&format!("{a}-pseudonymised.csv")),
        ],
    )?;
    std::fs::write(path("schema.toml"), SCHEMA)
        .with_context(|| path("schema.toml").display().to_string())?;
    for c in [a, b] {
        step(
            &mut steps,
            "encode both registers",
            &[
                "encode".into(),
                "--schema".into(),
                p("schema.toml"),
                "--key".into(),
                p("encode.key"),
                "--input".into(),
                register(c),
                "--output".into(),
                p(&format!("{c}.parquet")),
                "--id-column".into(),
                "id".into(),
            ],
        )?;
    }
    step(
        &mut steps,
        "link across the border",
        &[
            "link".into(),
            "--input".into(),
            p(&format!("{a}.parquet")),
            "--input".into(),
            p(&format!("{b}.parquet")),
            "--threshold".into(),
            "auto".into(),
            "--histogram".into(),
            p("histogram.svg"),
            "--output".into(),
            p("matches.csv"),
        ],
    )?;
    let started = Instant::now();
    let truth = path("registers").join(format!("truth-{a}-{b}.csv"));
    let matches = super::evaluate::pairs(&path("matches.csv"), None)?;
    let quality = Quality::of(&matches, &super::evaluate::pairs(&truth, None)?);
    steps.push(Step { name: "evaluate", seconds: started.elapsed().as_secs_f64() });
    report(&steps, &quality, &dir, (a, b));
    Ok(())
}

/// Runs one subcommand in-process and records its time under `name` (steps of the same
/// name add up).
fn step(steps: &mut Vec<Step>, name: &'static str, argv: &[OsString]) -> anyhow::Result<()> {
    let program = OsString::from("nordlink");
    let cli = Cli::try_parse_from(std::iter::once(&program).chain(argv))
        .with_context(|| format!("internal error: the demo built bad arguments for {name}"))?;
    let started = Instant::now();
    super::run(cli).with_context(|| format!("demo step {name:?}"))?;
    let seconds = started.elapsed().as_secs_f64();
    match steps.last_mut() {
        Some(last) if last.name == name => last.seconds += seconds,
        _ => steps.push(Step { name, seconds }),
    }
    Ok(())
}

fn report(steps: &[Step], q: &Quality, dir: &Path, (a, b): (&str, &str)) {
    let total: f64 = steps.iter().map(|s| s.seconds).sum();
    say!("\nnordlink demo: report");
    for s in steps {
        say!("  {:<28} {:>8.2} s", s.name, s.seconds);
    }
    say!("  {:<28} {total:>8.2} s", "total");
    say!(
        "  true links {}, found {} ({} right, {} wrong, {} missed)",
        q.true_positives + q.false_negatives,
        q.true_positives + q.false_positives,
        q.true_positives,
        q.false_positives,
        q.false_negatives
    );
    say!(
        "  precision {:.4}, recall {:.4}, F1 {:.4} (threshold chosen without the truth)",
        q.precision(),
        q.recall(),
        q.f1()
    );
    let show = |name: &str| dir.join(name).display().to_string();
    say!("  registers and true links  {}", show("registers"));
    say!("  pseudonymised extract     {}", show(&format!("{a}-pseudonymised.csv")));
    say!("  schema and keys           {}, encode.key, pseudonymise.key", show("schema.toml"));
    say!("  filters                   {}, {b}.parquet", show(&format!("{a}.parquet")));
    say!("  links                     {}", show("matches.csv"));
    say!("  similarity histogram      {}", show("histogram.svg"));
    say!("  what these figures mean, and where the automatic threshold errs: docs/quality.md");
}

/// A new directory under the system's temporary directory (kept after the run: the point
/// is to look at the files).
fn fresh_temp_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    let stamp =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "nordlink-demo-{}-{}-{attempt}",
            stamp.as_secs(),
            std::process::id()
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| dir.display().to_string()),
        }
    }
    bail!("{}: could not create a new directory for the demo", base.display())
}
