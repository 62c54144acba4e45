//! `nordlink`: the command-line front end. Parsing and glue only; the work is done by the
//! `nordlink` and `nordlink-io` library crates.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation, reason = "test code"))]

mod cmd;
mod flags;

use std::process::ExitCode;

use clap::Parser;

/// Exit status when the command could not do its job (unusable input, bad flags, I/O).
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = flags::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("nordlink: error: {err:#}");
            if let Some(hint) = cmd::hint(&err) {
                eprintln!("nordlink: hint: {hint}");
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}
