//! Command-line flags, as close to what the user typed as possible; `cmd` turns them into
//! library calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use nordlink::Date;
use nordlink::id::Scheme;

/// Privacy-preserving record linkage for Nordic and Baltic registers.
#[derive(Debug, Parser)]
#[command(name = "nordlink", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// National personal identifiers.
    #[command(subcommand)]
    Id(IdCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum IdCommand {
    /// Validate and normalise a column of identifiers, writing one report row per input row.
    Check(IdCheckArgs),
}

/// Input options shared by commands that read tables.
#[derive(Debug, Args)]
pub(crate) struct InputArgs {
    /// Input file: .csv (read entirely as text) or .parquet.
    #[arg(long, value_name = "FILE")]
    pub(crate) input: PathBuf,
    /// Rows per batch (memory grows with it).
    #[arg(long, default_value_t = 65_536, hide = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) batch_size: u32,
}

#[derive(Debug, Args)]
pub(crate) struct IdCheckArgs {
    /// Identifier scheme (country).
    #[arg(long, value_parser = parse_scheme)]
    pub(crate) scheme: Scheme,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Name of the identifier column.
    #[arg(long, value_name = "NAME")]
    pub(crate) column: String,
    /// Report file: .csv or .parquet.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: PathBuf,
    /// Reference date for the century of 10-digit Swedish numbers [default: today, UTC].
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub(crate) reference_date: Option<Date>,
    /// Accept an integer-typed Parquet column, left-padding values with zeros to the
    /// scheme's digit count (leading zeros were lost when it was stored as a number).
    #[arg(long)]
    pub(crate) zero_pad_integers: bool,
}

fn parse_scheme(s: &str) -> Result<Scheme, String> {
    s.parse().map_err(|e: nordlink::id::UnknownScheme| e.to_string())
}

fn parse_date(s: &str) -> Result<Date, String> {
    s.parse().map_err(|e: nordlink::DateError| format!("{e} (expected YYYY-MM-DD)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn id_check_flags() {
        let cli = Cli::try_parse_from([
            "nordlink",
            "id",
            "check",
            "--scheme",
            "SE",
            "--input",
            "a.csv",
            "--column",
            "pnr",
            "--output",
            "b.parquet",
            "--reference-date",
            "2020-01-31",
        ])
        .unwrap();
        let Command::Id(IdCommand::Check(args)) = cli.command;
        assert_eq!(args.scheme, Scheme::Se);
        assert_eq!(args.reference_date.unwrap().to_string(), "2020-01-31");
        assert!(!args.zero_pad_integers);
        assert!(Cli::try_parse_from(["nordlink", "id", "check", "--scheme", "xx"]).is_err());
    }
}
