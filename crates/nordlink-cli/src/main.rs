//! `nordlink`: the command-line front end. Parsing and glue only; the work is done by the
//! `nordlink` and `nordlink-io` library crates.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation, reason = "test code"))]

/// Writes a line to stderr. A message that cannot be written (closed pipe, full device)
/// is dropped: it must turn neither a finished run into a failure nor a failure into a
/// panic (exit codes stay 0 and 2).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Writes the command's result to stdout; failing to is the command's error.
macro_rules! out_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        write!(stdout, $($arg)*)
            .and_then(|()| stdout.flush())
            .map_err(|e| anyhow::anyhow!("cannot write to standard output: {e}"))?;
    }};
}

/// [`out_raw!`] with a line break.
macro_rules! out {
    ($($arg:tt)*) => {
        out_raw!("{}\n", format_args!($($arg)*))
    };
}

mod cmd;
mod flags;

use std::process::ExitCode;

use clap::Parser;

/// Exit status when the command could not do its job (unusable input, bad flags, I/O).
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    // On SIGINT, SIGTERM or SIGHUP, remove the temporary files of outputs not yet placed
    // (on Linux they usually have no name to begin with) and exit like any failed run.
    let _ = ctrlc::set_handler(|| {
        nordlink_io::remove_staged_files();
        say!("nordlink: interrupted; outputs not yet in place were removed");
        std::process::exit(i32::from(EXIT_ERROR));
    });
    let cli = flags::Cli::parse();
    // A panic is a bug, but it still exits 2 like any failure; its message comes from
    // the panic hook, and unwinding drops (removes) the temporary files.
    let outcome = std::panic::catch_unwind(|| cmd::run(cli));
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            say!("nordlink: error: {}", message(&err));
            if let Some(hint) = cmd::hint(&err) {
                say!("nordlink: hint: {hint}");
            }
            ExitCode::from(EXIT_ERROR)
        }
        Err(_) => {
            say!(
                "nordlink: internal error (a bug; please report it); outputs not yet in place were removed"
            );
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
