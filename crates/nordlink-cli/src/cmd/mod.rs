//! One module per subcommand; each calls library APIs only.

mod encode;
mod id_check;
mod key;
mod progress;
mod pseudonymise;

use std::path::Path;
use std::time::Instant;

use anyhow::bail;

use crate::flags::{Cli, Command, IdCommand, KeyCommand};

pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Id(IdCommand::Check(args)) => id_check::run(&args),
        Command::Key(KeyCommand::Generate(args)) => key::generate(&args),
        Command::Pseudonymise(args) => pseudonymise::run(&args),
        Command::Encode(args) => encode::run(&args),
    }
}

/// Where a path points, for comparison: its directory resolved (links, `..`) and its
/// file name. Works for outputs that do not exist yet.
fn identity(path: &Path) -> std::path::PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    match (absolute.parent().map(Path::canonicalize), absolute.file_name()) {
        (Some(Ok(dir)), Some(name)) => dir.join(name),
        _ => absolute,
    }
}

/// Refuses outputs that name the input or each other: one would overwrite the other.
fn ensure_distinct(input: &Path, outputs: &[&Path]) -> anyhow::Result<()> {
    let mut seen = vec![(identity(input), input)];
    for &out in outputs {
        let id = identity(out);
        if let Some((_, earlier)) = seen.iter().find(|(other, _)| *other == id) {
            let what = if *earlier == input { "the input" } else { "another output" };
            bail!("{}: would overwrite {what} ({})", out.display(), earlier.display());
        }
        seen.push((id, out));
    }
    Ok(())
}

/// Prints `label: count` lines sorted by count, largest first.
fn print_counts<'a>(title: &str, counts: impl IntoIterator<Item = (&'a str, u64)>) {
    let mut counts: Vec<_> = counts.into_iter().collect();
    if counts.is_empty() {
        return;
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    eprintln!("  {title}:");
    for (label, n) in counts {
        eprintln!("    {label:<28} {n:>12}");
    }
}

/// Row accounting for the streaming commands: every row read is written or rejected.
#[derive(Debug, Default)]
struct Tally {
    read: u64,
    rejected: u64,
}

impl Tally {
    /// Counts one processed batch; returns its number of input rows.
    fn add(&mut self, written: usize, rejected: usize) -> u64 {
        let rows = (written + rejected) as u64;
        self.read += rows;
        self.rejected += rejected as u64;
        rows
    }

    /// Prints the summary line, after checking that no row went missing.
    fn report(
        &self,
        what: &str,
        written: u64,
        started: Instant,
        output: &Path,
    ) -> anyhow::Result<()> {
        if self.read != written + self.rejected {
            bail!(
                "internal error: {} rows read but {written} written and {} rejected",
                self.read,
                self.rejected
            );
        }
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "nordlink {what}: {} rows read = {written} {} + {} rejected in {secs:.2} s ({:.0} rows/s) -> {}",
            self.read,
            if what == "encode" { "encoded" } else { "written" },
            self.rejected,
            self.read as f64 / secs.max(1e-9),
            output.display()
        );
        Ok(())
    }
}
