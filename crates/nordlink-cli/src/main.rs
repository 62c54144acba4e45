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
            eprintln!("nordlink: error: {}", message(&err));
            if let Some(hint) = cmd::hint(&err) {
                eprintln!("nordlink: hint: {hint}");
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The error and the causes under it, each cause once: library errors often repeat their
/// source in their own message, and `{:#}` would print it twice.
fn message(err: &anyhow::Error) -> String {
    let mut out = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !out.contains(&cause) {
            out.push_str(": ");
            out.push_str(&cause);
        }
    }
    out
}
