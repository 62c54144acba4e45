//! One module per subcommand; each calls library APIs only.

mod encode;
mod id_check;
mod key;
mod progress;
mod pseudonymise;

use std::path::Path;

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

/// Refuses to write the output over the input (both would be lost).
fn ensure_distinct(input: &Path, output: &Path) -> anyhow::Result<()> {
    let same = match (input.canonicalize(), output.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        bail!("{}: output would overwrite the input", output.display());
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
