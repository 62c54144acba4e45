//! Command-line flags, as close to what the user typed as possible; `cmd` turns them into
//! library calls.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use nordlink::Date;
use nordlink::id::Scheme;
use nordlink::pseudonym::{Algorithm, Encoding, Namespace};

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
    /// Secret keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Replace an identifier column by keyed pseudonyms, passing every other column through.
    Pseudonymise(PseudonymiseArgs),
    /// Encode records into Bloom filters (CLKs) under a schema: nordlink's own (TOML/JSON)
    /// or a clkhash v3 linkage schema (recognised automatically).
    Encode(EncodeArgs),
    /// Link two encoded inputs: every pair scoring at least the threshold, matched 1-to-1.
    Link(LinkArgs),
    /// Compare links with the true links: precision, recall, F1.
    Evaluate(EvaluateArgs),
    /// Write synthetic registers of several countries, with people who moved between
    /// them, and the true links (test data: no real person).
    Synth(SynthArgs),
    /// Attack your own encodings as a keyless attacker would (pattern mining, frequency
    /// alignment) and report what they recover, before sharing them.
    Assess(AssessArgs),
    /// The whole job on synthetic registers: synthesise, pseudonymise, generate keys,
    /// encode, link across the border with an automatic threshold, evaluate, report.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AssessArgs {
    /// The file that was encoded (CSV or Parquet).
    #[arg(long, value_name = "FILE")]
    pub(crate) plaintext: PathBuf,
    /// What `nordlink encode` made of it (with its `row` column).
    #[arg(long, value_name = "FILE")]
    pub(crate) encoded: PathBuf,
    /// The nordlink schema it was encoded with.
    #[arg(long, value_name = "FILE")]
    pub(crate) schema: PathBuf,
    /// One JSON object on stdout instead of the Markdown table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Also write the Markdown report to FILE.md.
    #[arg(long, value_name = "FILE.md")]
    pub(crate) report: Option<PathBuf>,
    /// Assess at most this many encoded records (the attacks need all in memory).
    #[arg(long, value_name = "N", default_value_t = 200_000, value_parser = clap::value_parser!(u32).range(100..=2_000_000))]
    pub(crate) limit: u32,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Residents per register.
    #[arg(long, value_name = "N", default_value_t = 50_000, value_parser = clap::value_parser!(u32).range(100..=1_000_000))]
    pub(crate) people: u32,
    /// The two countries whose registers are linked.
    #[arg(long, value_name = "A,B", default_value = "se,no", value_parser = parse_two_countries)]
    pub(crate) countries: [Scheme; 2],
    /// Share of each register's residents also registered in the other country (0..=1).
    #[arg(long, value_name = "SHARE", default_value_t = 0.1, value_parser = parse_share)]
    pub(crate) overlap: f64,
    /// The same seed gives the same registers.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Where to write every file (empty or new); default: a new directory under the
    /// system's temporary directory, kept after the run.
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err("a share between 0 and 1".into()),
    }
}

fn parse_two_countries(s: &str) -> Result<[Scheme; 2], String> {
    match parse_countries(s)?.0.as_slice() {
        [a, b] if a != b => Ok([*a, *b]),
        _ => Err("give two different countries, such as se,no".into()),
    }
}

#[derive(Debug, Args)]
pub(crate) struct SynthArgs {
    /// Residents per register.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub(crate) people: u32,
    /// The countries, comma-separated: dk, se, no, fi, is, ee, lt.
    #[arg(long, value_name = "LIST", default_value = "dk,se,no,fi,is,ee,lt", value_parser = parse_countries)]
    pub(crate) registers: Countries,
    /// Share of each register's residents also registered in another country.
    #[arg(long, value_name = "SHARE", default_value_t = 0.1)]
    pub(crate) overlap: f64,
    /// How the second registration differs: none, low, default or high.
    #[arg(long, value_enum, default_value_t = Corruption::Default)]
    pub(crate) corruption: Corruption,
    /// The same seed gives the same registers.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Where to write `<country>.csv` (or .parquet), `truth.csv` and one
    /// `truth-<a>-<b>.csv` per pair of registers; created if missing. Files already there
    /// are never replaced.
    #[arg(long, value_name = "DIR")]
    pub(crate) out_dir: PathBuf,
    /// File format of the registers.
    #[arg(long, value_enum, default_value_t = SynthFormat::Csv)]
    pub(crate) format: SynthFormat,
}

/// A list of countries (identifier schemes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Countries(pub(crate) Vec<Scheme>);

fn parse_countries(s: &str) -> Result<Countries, String> {
    s.split(',')
        .map(|c| {
            c.trim()
                .parse::<Scheme>()
                .map_err(|_| format!("unknown country {c:?} (expected dk, se, no, fi, is, ee, lt)"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Countries)
}

/// Corruption level of the second registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Corruption {
    /// An exact copy.
    None,
    /// A careful register.
    Low,
    /// Another country's register.
    Default,
    /// A poorly kept register.
    High,
}

/// Register file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SynthFormat {
    /// CSV with a header.
    Csv,
    /// Parquet.
    Parquet,
}

#[derive(Debug, Args)]
pub(crate) struct EvaluateArgs {
    /// Links to judge: a CSV whose first two columns are left and right ids (the output
    /// of `nordlink link`).
    #[arg(long, value_name = "FILE")]
    pub(crate) matches: PathBuf,
    /// The true links, in the same form (a header row is allowed).
    #[arg(long, value_name = "FILE")]
    pub(crate) truth: PathBuf,
    /// Candidate pairs in the same form (the output of `nordlink link --solver none`): also
    /// report pairs completeness, the share of true links among them.
    #[arg(long, value_name = "FILE")]
    pub(crate) candidates: Option<PathBuf>,
    /// Print one JSON object: precision, recall, f1, tp, fp, fn (and
    /// pairs_completeness).
    #[arg(long)]
    pub(crate) json: bool,
    /// The first row of both files is a header [default: guessed from the cells].
    #[arg(long, conflicts_with = "no_header")]
    pub(crate) header: bool,
    /// The first row of both files is data.
    #[arg(long)]
    pub(crate) no_header: bool,
}

/// Which pairs `nordlink link` compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Blocking {
    /// All pairs on small inputs, LSH on large ones.
    Auto,
    /// All pairs.
    None,
    /// Hamming-LSH bit sampling.
    Lsh,
    /// Equal values of this column.
    Column(String),
}

/// How candidate pairs become matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Solver {
    /// Best pairs first, each record matched at most once.
    Greedy,
    /// The largest total score with each record matched at most once.
    Optimal,
    /// Every candidate pair.
    None,
}

/// How pairs are scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Scoring {
    /// Fellegi–Sunter when exactly two inputs carry the same field-level filter columns
    /// and no flag that only Dice reads is given; Dice otherwise.
    Auto,
    /// Record-level similarity (`--measure`).
    Dice,
    /// Fellegi–Sunter on field-level filters (`clk_<field>` columns), weights fitted by
    /// EM without ground truth; the score is the match probability.
    FellegiSunter,
}

/// Where Fellegi–Sunter scoring finds its candidate pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Candidates {
    /// Match keys when both inputs carry keys small enough to block on, else filters.
    Auto,
    /// Pairs sharing a match key (`key_<name>` columns, from `match_keys` in the schema).
    Keys,
    /// Each left record's best 10 by record-level Dice (at least 0.5).
    Filters,
}

#[derive(Debug, Args)]
pub(crate) struct LinkArgs {
    /// An encoded input (from `nordlink encode`, a CSV with an id and a base64 `clk`
    /// column, or anonlink CLK JSON); give it twice, or more times for groups across
    /// several registers.
    #[arg(long, value_name = "FILE", required = true)]
    pub(crate) input: Vec<PathBuf>,
    /// Output file: .csv or .parquet, with `left_id`, `right_id`, `score` (two inputs), or
    /// `group`, `input`, `id`, `score` (one row per record of a group; more inputs).
    #[arg(long, value_name = "FILE")]
    pub(crate) output: PathBuf,
    /// Lowest score of a match, 0..=1, or `auto`: chosen without ground truth
    /// (docs/linkage.md) [default: 0.8 under Dice scoring, `auto` under Fellegi–Sunter,
    /// where it is the lowest match probability].
    #[arg(long, value_parser = parse_threshold, value_name = "T|auto")]
    pub(crate) threshold: Option<Threshold>,
    /// Left records sampled for `--threshold auto` and `--histogram` [default: as many as
    /// 2 x 10^9 comparisons allow, at least 5 000]; each costs one comparison per right
    /// record.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(100..=1_000_000))]
    pub(crate) auto_sample: Option<u32>,
    /// Draw the best scores of a sample of left records, with the threshold marked, as
    /// an SVG image.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) histogram: Option<PathBuf>,
    /// Similarity measure: dice, jaccard or hamming.
    #[arg(long, default_value = "dice", value_parser = parse_measure)]
    pub(crate) measure: nordlink::link::Measure,
    /// How candidates become matches.
    #[arg(long, value_enum, default_value_t = Solver::Greedy)]
    pub(crate) solver: Solver,
    /// Which pairs to compare: `none` (all pairs), `lsh` (pairs meeting in Hamming-LSH
    /// bands), `column:NAME` (pairs with equal values of column NAME in both inputs), or
    /// `auto`: all pairs up to 2 x 10^9 of them, LSH beyond.
    #[arg(long, default_value = "auto", value_parser = parse_blocking, value_name = "HOW")]
    pub(crate) blocking: Blocking,
    /// With LSH blocking: the least share of pairs at the threshold to find, which sets the
    /// number of bands.
    #[arg(long, default_value_t = 0.995, value_name = "SHARE")]
    pub(crate) recall: f64,
    /// Keep only the best K candidates of each left record (compares all pairs).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub(crate) top_k: Option<u32>,
    /// Column naming the records [default: `id` if present, else the row number].
    #[arg(long, value_name = "COL")]
    pub(crate) id_column: Option<String>,
    /// How pairs are scored. Under Fellegi–Sunter (two inputs encoded with
    /// `field_filters = true`, best with `default_match_keys = true`: docs/linkage.md),
    /// `--threshold` is the lowest match probability (`auto`, the default there: the one
    /// that maximises the fitted model's expected F1), and the output gains a
    /// `match_weight` column (log2 odds).
    #[arg(long, value_enum, default_value_t = Scoring::Auto)]
    pub(crate) scoring: Scoring,
    /// Under Fellegi–Sunter: where candidate pairs come from (docs/linkage.md).
    #[arg(long, value_enum, default_value_t = Candidates::Auto)]
    pub(crate) candidates: Candidates,
    /// Under Fellegi–Sunter: also write, per output pair, each field's comparison level and
    /// weight (CSV, or Parquet by extension): what made the pair a match.
    #[arg(long, value_name = "FILE")]
    pub(crate) explain: Option<PathBuf>,
    /// Under Fellegi–Sunter: draw the fitted model (each field's match weight per
    /// comparison level, with m and u) as an SVG image.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) model_chart: Option<PathBuf>,
}

impl LinkArgs {
    /// The threshold given, or the default of Dice scoring (0.8).
    pub(crate) fn dice_threshold(&self) -> Threshold {
        self.threshold.unwrap_or(Threshold::Fixed(0.8))
    }
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("secret_source").required(true).args(["key", "secret"])))]
pub(crate) struct EncodeArgs {
    /// Schema file: nordlink-schema version 1 or 2 (TOML or JSON) or a clkhash v3 linkage schema.
    #[arg(long, value_name = "FILE")]
    pub(crate) schema: PathBuf,
    /// nordlink key file (native schemas).
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
    /// clkhash secret file, used byte for byte (clkhash schemas).
    #[arg(long, value_name = "FILE")]
    pub(crate) secret: Option<PathBuf>,
    /// Accept key or secret files that group or others can read. Insecure.
    #[arg(long)]
    pub(crate) insecure_allow_readable_key: bool,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Output file: .parquet (filters as FixedSizeBinary) or .csv (standard base64).
    #[arg(long, value_name = "FILE")]
    pub(crate) output: PathBuf,
    /// A column to carry into the output as the record id.
    #[arg(long, value_name = "COL")]
    pub(crate) id_column: Option<String>,
    /// Another column to carry into the output unchanged (repeatable), for example a
    /// pseudonymised birth year for `nordlink link --blocking column:NAME`. It leaves
    /// with the filters: carry only keyed values.
    #[arg(long = "keep-column", value_name = "COL")]
    pub(crate) keep_columns: Vec<String>,
    /// File for rows that fail a field's validation: row number, field, problem.
    #[arg(long, value_name = "FILE")]
    pub(crate) rejects: Option<PathBuf>,
    /// Also write anonlink's CLK JSON (`{"clks": [...]}`) of the encoded rows, in order.
    #[arg(long, value_name = "FILE")]
    pub(crate) anonlink_json: Option<PathBuf>,
    /// Write the output rows in a random order (the OS's random source), so an extract
    /// sorted by name or identifier does not pass that order on; the `row` column then
    /// holds the output position, and MAPPING.csv (`position,row`: back to the input row)
    /// stays with you. Holds every encoded row in memory (at most 20 M rows and 4 GiB).
    #[arg(long, value_name = "MAPPING.csv")]
    pub(crate) shuffle: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Generate a 256-bit secret key from the OS CSPRNG into a new file (mode 0600).
    Generate(KeyGenerateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeyGenerateArgs {
    /// Key file to create.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// What the key is for: `pseudonymise` (never leaves you) or `encode` (shared with
    /// the other register holders of one linkage project). Use one key per purpose.
    #[arg(long, value_enum)]
    pub(crate) purpose: Purpose,
    /// Replace the file if it exists (the old key, and every pseudonym made with it, is lost).
    #[arg(long)]
    pub(crate) force: bool,
}

/// What a key is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Purpose {
    /// Keyed pseudonyms (`nordlink pseudonymise`).
    Pseudonymise,
    /// Bloom-filter encodings (`nordlink encode`).
    Encode,
}

/// What to do with rows whose identifier is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OnInvalid {
    /// Write them to the --rejects file and go on.
    Reject,
    /// Stop at the first one; write nothing.
    Fail,
}

/// Identifier-derived columns that can be appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DeriveColumn {
    /// Birth date (Date32 in Parquet, YYYY-MM-DD in CSV).
    BirthDate,
    /// Birth year.
    BirthYear,
    /// Sex (M/F).
    Sex,
}

/// Options for loading a key file.
#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    /// Key file (from `nordlink key generate`).
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// Accept a key file that group or others can read. Insecure: anyone who can read the
    /// key can reverse the pseudonyms by enumerating identifiers.
    #[arg(long)]
    pub(crate) insecure_allow_readable_key: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PseudonymiseArgs {
    #[command(flatten)]
    pub(crate) key: KeyArgs,
    /// Identifier scheme of the column, or `opaque` for values that are not national
    /// identifiers (hashed as given, after trimming whitespace).
    #[arg(long, value_parser = parse_namespace)]
    pub(crate) scheme: Namespace,
    /// Name of the identifier column; it is replaced by the pseudonym.
    #[arg(long, value_name = "NAME")]
    pub(crate) column: String,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Output file: .csv or .parquet.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: PathBuf,
    /// Domain-separation context: a project or recipient name (required; `--context ""`
    /// for the unnamed context, said explicitly). Pseudonyms under different contexts
    /// cannot be joined without the key.
    #[arg(long, value_name = "NAME")]
    pub(crate) context: String,
    /// Keyed pseudorandom function.
    #[arg(long, default_value = "hmac-sha256", value_parser = parse_algorithm)]
    pub(crate) algorithm: Algorithm,
    /// Output encoding; `raw` needs Parquet output (FixedSizeBinary).
    #[arg(long, default_value = "hex", value_parser = parse_encoding)]
    pub(crate) encoding: Encoding,
    /// Keep the first N bits of the pseudonym (multiple of 8, 128..=256).
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub(crate) bits: u16,
    /// File for rows with invalid identifiers: row number, the raw identifier, the reason.
    /// Holds personal data: for the register holder only.
    #[arg(long, value_name = "FILE")]
    pub(crate) rejects: Option<PathBuf>,
    /// What to do with an invalid identifier. `reject` needs --rejects.
    #[arg(long, value_enum, default_value_t = OnInvalid::Reject)]
    pub(crate) on_invalid: OnInvalid,
    /// Append columns derived from the identifier (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "COLUMNS")]
    pub(crate) derive: Vec<DeriveColumn>,
    /// Reference date for the century of 10-digit Swedish numbers [default: today, UTC].
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_reference_date)]
    pub(crate) reference_date: Option<Date>,
    /// Carry this key of the input's Parquet footer metadata into the output
    /// (repeatable); every other key, and all column metadata, is dropped.
    #[arg(long, value_name = "KEY")]
    pub(crate) keep_metadata: Vec<String>,
    /// Write the output rows in a random order (the OS's random source), so an extract
    /// sorted by identifier or name does not pass that order on; MAPPING.csv (`position,row`:
    /// output row back to input row) stays with you. Holds every output row in memory (at
    /// most 20 M rows and 4 GiB).
    #[arg(long, value_name = "MAPPING.csv")]
    pub(crate) shuffle: Option<PathBuf>,
    /// Accept an integer-typed Parquet column, left-padding with zeros to the scheme's length.
    #[arg(long)]
    pub(crate) zero_pad_integers: bool,
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
    #[arg(long, default_value_t = 65_536, hide = true, value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
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
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_reference_date)]
    pub(crate) reference_date: Option<Date>,
    /// Accept an integer-typed Parquet column, left-padding values with zeros to the
    /// scheme's digit count (leading zeros were lost when it was stored as a number).
    #[arg(long)]
    pub(crate) zero_pad_integers: bool,
}

fn parse_scheme(s: &str) -> Result<Scheme, String> {
    s.parse().map_err(|e: nordlink::id::UnknownScheme| e.to_string())
}

fn parse_namespace(s: &str) -> Result<Namespace, String> {
    s.parse().map_err(|e: nordlink::pseudonym::SettingsError| e.to_string())
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    s.parse().map_err(|e: nordlink::pseudonym::SettingsError| e.to_string())
}

fn parse_encoding(s: &str) -> Result<Encoding, String> {
    s.parse().map_err(|e: nordlink::pseudonym::SettingsError| e.to_string())
}

fn parse_measure(s: &str) -> Result<nordlink::link::Measure, String> {
    s.parse().map_err(|e: nordlink::link::UnknownMeasure| e.to_string())
}

/// A match threshold: a number, or chosen from the data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Threshold {
    /// This score, 0..=1.
    Fixed(f64),
    /// Chosen from a sample's score distribution.
    Auto,
}

fn parse_threshold(s: &str) -> Result<Threshold, String> {
    if s == "auto" {
        return Ok(Threshold::Auto);
    }
    match s.parse::<f64>() {
        Ok(t) if (0.0..=1.0).contains(&t) => Ok(Threshold::Fixed(t)),
        _ => Err("expected a number from 0 to 1, or auto".into()),
    }
}

fn parse_blocking(s: &str) -> Result<Blocking, String> {
    match s {
        "auto" => Ok(Blocking::Auto),
        "none" => Ok(Blocking::None),
        "lsh" => Ok(Blocking::Lsh),
        _ => match s.strip_prefix("column:") {
            Some(name) if !name.is_empty() => Ok(Blocking::Column(name.to_owned())),
            _ => Err("expected auto, none, lsh or column:NAME".into()),
        },
    }
}

fn parse_date(s: &str) -> Result<Date, String> {
    s.parse().map_err(|e: nordlink::DateError| format!("{e} (expected YYYY-MM-DD)"))
}

/// A reference date for Swedish 10-digit numbers: from 1947, when the numbers began, to
/// 2199 (a date outside gives centuries no number can have, e.g. a birth year 17xx).
fn parse_reference_date(s: &str) -> Result<Date, String> {
    let date = parse_date(s)?;
    let (first, last) = (Date::new(1947, 1, 1), Date::new(2199, 12, 31));
    match (first, last) {
        (Ok(first), Ok(last)) if (first..=last).contains(&date) => Ok(date),
        _ => Err("the reference date must lie between 1947-01-01 and 2199-12-31".into()),
    }
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
        let Command::Id(IdCommand::Check(args)) = cli.command else { panic!("not id check") };
        assert_eq!(args.scheme, Scheme::Se);
        assert_eq!(args.reference_date.unwrap().to_string(), "2020-01-31");
        assert!(!args.zero_pad_integers);
        assert!(Cli::try_parse_from(["nordlink", "id", "check", "--scheme", "xx"]).is_err());
        for (date, ok) in [("1800-01-01", false), ("1946-12-31", false), ("1947-01-01", true)] {
            assert_eq!(parse_reference_date(date).is_ok(), ok, "{date}");
        }
    }

    #[test]
    fn pseudonymise_defaults_are_the_secure_ones() {
        let base = [
            "nordlink",
            "pseudonymise",
            "--key",
            "k",
            "--scheme",
            "opaque",
            "--column",
            "c",
            "--input",
            "a.csv",
            "--output",
            "b.csv",
            "--context",
            "",
        ];
        // No context: an error, not a silent default.
        assert!(Cli::try_parse_from(&base[..base.len() - 2]).is_err());
        let Command::Pseudonymise(a) = Cli::try_parse_from(base).unwrap().command else {
            panic!("not pseudonymise")
        };
        assert_eq!(a.algorithm, Algorithm::HmacSha256);
        assert_eq!((a.encoding, a.bits), (Encoding::Hex, 256));
        assert_eq!(a.on_invalid, OnInvalid::Reject);
        assert!(!a.key.insecure_allow_readable_key);
        assert_eq!(a.scheme, Namespace::Opaque);
        assert_eq!(a.context, "");
        let mut args = base.to_vec();
        args.extend(["--derive", "birth-year,sex"]);
        let Command::Pseudonymise(a) = Cli::try_parse_from(args).unwrap().command else {
            panic!("not pseudonymise")
        };
        assert_eq!(a.derive, [DeriveColumn::BirthYear, DeriveColumn::Sex]);
    }
}
