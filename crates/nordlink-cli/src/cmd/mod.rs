//! One module per subcommand; each calls library APIs only.

mod assess;
mod demo;
mod encode;
mod evaluate;
mod hints;
mod histogram;
mod id_check;
mod key;
mod link;
mod progress;
mod pseudonymise;
mod shuffle;
mod synth;

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::ProgressBar;
use nordlink_io::arrow_array::RecordBatch;
use nordlink_io::arrow_schema::SchemaRef;
use nordlink_io::{Format, Provenance, Reject, RejectsWriter, Staged, TableWriter, WriteOptions};

use anyhow::bail;

use crate::flags::{Cli, Command, IdCommand, KeyCommand};

pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Id(IdCommand::Check(args)) => id_check::run(&args),
        Command::Key(KeyCommand::Generate(args)) => key::generate(&args),
        Command::Pseudonymise(args) => pseudonymise::run(&args),
        Command::Encode(args) => encode::run(&args),
        Command::Link(args) => link::run(&args),
        Command::Evaluate(args) => evaluate::run(&args),
        Command::Synth(args) => synth::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Assess(args) => assess::run(&args),
    }
}

pub(crate) use hints::for_error as hint;

/// What a path names, for comparison.
#[derive(PartialEq, Eq)]
enum Identity {
    /// An existing file, by device and inode after following links: the same file
    /// whatever path (symbolic or hard link, `..`) reaches it.
    #[cfg(unix)]
    File(u64, u64),
    /// A file that does not exist (yet), or any file where inodes are not available: its
    /// directory resolved (links, `..`) and its name.
    Path(PathBuf),
}

fn identity(path: &Path) -> Identity {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::MetadataExt;
        return Identity::File(meta.dev(), meta.ino());
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    if let Ok(resolved) = absolute.canonicalize() {
        return Identity::Path(resolved);
    }
    match (absolute.parent().map(Path::canonicalize), absolute.file_name()) {
        (Some(Ok(dir)), Some(name)) => Identity::Path(dir.join(name)),
        _ => Identity::Path(absolute),
    }
}

/// Refuses outputs that name a file the run reads (input, key, secret, schema) or each
/// other: one would overwrite the other. Files are compared by identity (device and
/// inode), so a symbolic or hard link to an input counts as that input. A CSV output also
/// writes, or removes a stale, `OUT.provenance.json` beside it, so that path counts as an
/// output too.
fn ensure_distinct(inputs: &[&Path], outputs: &[&Path]) -> anyhow::Result<()> {
    let mut seen: Vec<(Identity, PathBuf, bool)> =
        inputs.iter().map(|p| (identity(p), p.to_path_buf(), true)).collect();
    for &out in outputs {
        let sidecar = (Format::from_path(out).ok() == Some(Format::Csv))
            .then(|| Provenance::sidecar_path(out));
        for path in std::iter::once(out.to_path_buf()).chain(sidecar) {
            let id = identity(&path);
            if let Some((_, earlier, is_input)) = seen.iter().find(|(other, ..)| *other == id) {
                let what = if *is_input { "the input" } else { "another output" };
                bail!("{}: would overwrite {what} ({})", path.display(), earlier.display());
            }
            seen.push((id, path, false));
        }
    }
    Ok(())
}

/// Checks that an identifier column can be read as text. Integer columns of a scheme whose
/// numbers hold letters or separators (Finnish) get an error of their own, not the hint to
/// zero-pad, which cannot help them.
fn check_identifier_column(
    reader: &nordlink_io::TableReader,
    column: usize,
    zero_pad: Option<usize>,
    paddable: bool,
) -> anyhow::Result<()> {
    let field = reader.schema().field(column).clone();
    if !paddable && field.data_type().is_integer() {
        bail!(
            "{}: column {:?} holds integers, but this scheme's identifiers contain letters or \
             separators, so they cannot have been stored as numbers; export the column as text",
            reader.path().display(),
            field.name()
        );
    }
    Ok(reader.check_text_column(column, zero_pad)?)
}

/// Writes one in-memory table atomically (format by extension, owner-only mode).
fn write_table(path: &Path, batch: &RecordBatch) -> anyhow::Result<()> {
    nordlink_io::place([stage_table(path, batch)?])?;
    Ok(())
}

/// Writes one in-memory table beside `path`, to be placed with the run's other outputs.
fn stage_table(path: &Path, batch: &RecordBatch) -> anyhow::Result<Staged> {
    let options = WriteOptions::default();
    let mut writer = TableWriter::create_with(path, batch.schema(), &options)?;
    writer.write(batch)?;
    Ok(writer.stage()?)
}

/// Prints `label: count` lines sorted by count, largest first.
fn print_counts<'a>(title: &str, counts: impl IntoIterator<Item = (&'a str, u64)>) {
    let mut counts: Vec<_> = counts.into_iter().collect();
    if counts.is_empty() {
        return;
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    say!("  {title}:");
    for (label, n) in counts {
        say!("    {label:<28} {n:>12}");
    }
}

/// The outputs of a streaming command: the table, an optional rejects table, a progress
/// bar, and the row accounting that proves every row read was written or rejected.
struct Outputs {
    what: &'static str,
    verb: &'static str,
    path: PathBuf,
    table: TableWriter,
    rejects: Option<RejectsWriter>,
    bar: ProgressBar,
    started: Instant,
    read: u64,
    rejected: u64,
}

impl Outputs {
    /// Opens the table (and the rejects file, when one is named) for writing. `what` is
    /// the command, `verb` what happened to rows that were written (`encoded`, ...).
    fn create(
        (what, verb): (&'static str, &'static str),
        path: &Path,
        schema: SchemaRef,
        options: &WriteOptions,
        rejects: Option<&Path>,
        total_rows: Option<u64>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            what,
            verb,
            path: path.to_owned(),
            table: TableWriter::create_with(path, schema, options)?,
            rejects: rejects.map(RejectsWriter::create).transpose()?,
            bar: progress::rows(total_rows),
            started: Instant::now(),
            read: 0,
            rejected: 0,
        })
    }

    /// Whether rejected rows have somewhere to go.
    fn takes_rejects(&self) -> bool {
        self.rejects.is_some()
    }

    /// Writes one processed batch and its rejects (callers stop before this when rejects
    /// have nowhere to go).
    fn write(&mut self, output: &RecordBatch, rejects: &[Reject]) -> anyhow::Result<()> {
        let n_rejects = rejects.len();
        if !rejects.is_empty() {
            let Some(w) = &mut self.rejects else {
                bail!("internal error: rejects without a rejects file")
            };
            w.write(rejects)?;
        }
        self.table.write(output)?;
        let rows = (output.num_rows() + n_rejects) as u64;
        self.read += rows;
        self.rejected += n_rejects as u64;
        self.bar.inc(rows);
        Ok(())
    }

    /// Writes rows held back until the end (`encode --shuffle`), counting them as read
    /// now.
    fn add_written(&mut self, output: &RecordBatch) -> anyhow::Result<()> {
        self.table.write(output)?;
        self.read += output.num_rows() as u64;
        self.bar.inc(output.num_rows() as u64);
        Ok(())
    }

    /// Checks the row accounting, places the table, the rejects and `others` (the run's
    /// other outputs) together, all or none, and prints the summary line.
    fn finish(self, others: impl IntoIterator<Item = Staged>) -> anyhow::Result<()> {
        self.bar.finish_and_clear();
        let written = self.table.rows();
        if self.read != written + self.rejected {
            bail!(
                "internal error: {} rows read but {written} written and {} rejected; \
                 nothing was written",
                self.read,
                self.rejected
            );
        }
        let mut staged = vec![self.table.stage()?];
        if let Some(w) = self.rejects {
            staged.push(w.stage()?);
        }
        staged.extend(others);
        nordlink_io::place(staged)?;
        let secs = self.started.elapsed().as_secs_f64();
        say!(
            "nordlink {}: {} rows read = {written} {} + {} rejected in {secs:.2} s ({:.0} rows/s) -> {}",
            self.what,
            self.read,
            self.verb,
            self.rejected,
            self.read as f64 / secs.max(1e-9),
            self.path.display()
        );
        Ok(())
    }
}
