//! Provenance: how an output was made, stored with it, read back by the next step.
//!
//! Every pseudonymised or encoded output records which construction, key (by its public
//! id), schema, context, length and settings made it. Parquet outputs keep the record in
//! the file footer's key-value metadata; CSV has no footer, so a CSV output `OUT` gets a
//! sidecar `OUT.provenance.json`. The linker reads it back with one call,
//! [`Provenance::read`], to refuse inputs made under different keys, schemas or lengths.
//!
//! The record is a data contract, `nordlink-provenance/1`, specified in
//! `docs/formats.md`. It never holds a secret or a personal value.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use nordlink::KeyId;
use nordlink::clk::AnyEncoder;
use nordlink::id::{ParseOptions, Scheme};
use nordlink::pseudonym::{
    CONSTRUCTION as PSEUDONYM_CONSTRUCTION, Namespace, OutputFormat, Pseudonymiser,
};

use crate::Format;

/// The format tag this build writes and reads.
pub const PROVENANCE_FORMAT: &str = "nordlink-provenance/1";

/// Prefix of every footer key (`nordlink.construction`, ...).
const PREFIX: &str = "nordlink.";

/// The key that carries [`PROVENANCE_FORMAT`].
const FORMAT_KEY: &str = "provenance";

/// Longest sidecar file read; real ones are under 1 KiB.
const MAX_SIDECAR_LEN: u64 = 64 * 1024;

/// Longest value accepted for any entry: the sidecar's own limit, so whatever a writer
/// stores (a long column name, say) can be read back.
const MAX_VALUE_LEN: usize = 64 * 1024;

/// How an output was made. Fields that do not apply to a construction are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Provenance {
    /// The nordlink version that wrote the file.
    pub version: String,
    /// The construction: `nordlink-pseudonym/1`, `nordlink-clk/1` or `clkhash-0.18.3`.
    pub construction: String,
    /// The public id of the master key (never for clkhash secrets).
    pub key_id: Option<String>,
    /// SHA-256 of the encoding schema file, lowercase hex.
    pub schema_sha256: Option<String>,
    /// The key-derivation context.
    pub context: Option<String>,
    /// Filter or pseudonym length in bits.
    pub bits: Option<u32>,
    /// Hardening steps (`none`, or `balance,xor_fold=1,...`).
    pub hardening: Option<String>,
    /// The pseudonym PRF (`hmac-sha256`, `blake3`).
    pub algorithm: Option<String>,
    /// The identifier scheme (`dk`, ..., `opaque`).
    pub scheme: Option<String>,
    /// The pseudonymised column.
    pub column: Option<String>,
    /// The pseudonym encoding (`hex`, `base64url`, `raw`).
    pub encoding: Option<String>,
    /// The reference date that fixed the century of 10-digit Swedish numbers.
    pub reference_date: Option<String>,
    /// Data rows in the file, filled in by the writer when the file is complete.
    pub rows: Option<u64>,
}

/// A provenance record that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvenanceError {
    /// The file has no provenance record: not written by nordlink, a report or rejects
    /// file, or a CSV output whose sidecar was not moved with it. (Parquet files of
    /// nordlink 0.1 before `nordlink-provenance/1` have `nordlink.` entries without a
    /// format tag: they are [`Malformed`](Self::Malformed).)
    #[error("{path}: no nordlink provenance record{where_}; was it written by nordlink?",
        path = .path.display(),
        where_ = .sidecar.as_ref().map(|s| format!(" ({} not found)", s.display())).unwrap_or_default())]
    Missing {
        /// The data file.
        path: PathBuf,
        /// The sidecar looked for (CSV).
        sidecar: Option<PathBuf>,
    },
    /// A record of a format version this build does not read.
    #[error("{path}: provenance format {found:?} is not supported (this build reads {PROVENANCE_FORMAT})",
        path = .path.display())]
    UnsupportedVersion {
        /// The file holding the record.
        path: PathBuf,
        /// The format it states.
        found: String,
    },
    /// The record is malformed.
    #[error("{path}: malformed provenance record: {problem}", path = .path.display())]
    Malformed {
        /// The file holding the record.
        path: PathBuf,
        /// What is wrong (names the entry, not more of the file).
        problem: String,
    },
    /// The record counts another number of rows than the file holds: it belongs to
    /// another version of the file (say, a sidecar left behind).
    #[error("{path}: the provenance record describes {recorded} rows but the file has {found}; \
             the record belongs to another version of the file", path = .path.display())]
    RowsMismatch {
        /// The data file.
        path: PathBuf,
        /// Rows the record states.
        recorded: u64,
        /// Rows read.
        found: u64,
    },
    /// Reading the file failed.
    #[error("{path}: {source}", path = .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Reading the Parquet footer failed.
    #[error("{path}: {source}", path = .path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The error.
        source: parquet::errors::ParquetError,
    },
}

/// Why two encoded inputs cannot be linked with each other.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("the inputs differ in {what}: {left:?} and {right:?}")]
pub struct Mismatch {
    /// The entry that differs (`construction`, `key_id`, `schema_sha256`, `bits`, ...).
    pub what: &'static str,
    /// Its value in the first input.
    pub left: Option<String>,
    /// Its value in the second input.
    pub right: Option<String>,
}

impl Provenance {
    /// The record for filters made by `encoder`.
    pub fn for_encoder(encoder: &AnyEncoder) -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            construction: encoder.construction().to_owned(),
            key_id: encoder.key_id().map(|k: KeyId| k.to_string()),
            schema_sha256: Some(encoder.schema_sha256().to_owned()),
            context: encoder.context().map(str::to_owned),
            bits: u32::try_from(encoder.bits()).ok(),
            hardening: encoder.hardening(),
            ..Self::default()
        }
    }

    /// The record for pseudonyms made by `pseudonymiser` of the identifiers in `column`.
    /// The reference date is recorded for Swedish numbers, whose century it fixes.
    pub fn for_pseudonyms(
        pseudonymiser: &Pseudonymiser,
        namespace: Namespace,
        column: &str,
        format: OutputFormat,
        options: &ParseOptions,
    ) -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            construction: PSEUDONYM_CONSTRUCTION.to_owned(),
            key_id: Some(pseudonymiser.key_id().to_string()),
            context: Some(pseudonymiser.context().as_str().to_owned()),
            bits: u32::try_from(8 * format.bytes()).ok(),
            algorithm: Some(pseudonymiser.algorithm().name().to_owned()),
            scheme: Some(namespace.tag().to_owned()),
            column: Some(column.to_owned()),
            encoding: Some(format.encoding().name().to_owned()),
            reference_date: (namespace == Namespace::Id(Scheme::Se))
                .then(|| options.reference_date.to_string()),
            ..Self::default()
        }
    }

    /// The entries in their written order, without the `nordlink.` prefix; the format
    /// tag first.
    pub fn entries(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            (FORMAT_KEY, PROVENANCE_FORMAT.to_owned()),
            ("version", self.version.clone()),
            ("construction", self.construction.clone()),
        ];
        let optional = [
            ("key_id", self.key_id.clone()),
            ("schema_sha256", self.schema_sha256.clone()),
            ("context", self.context.clone()),
            ("bits", self.bits.map(|b| b.to_string())),
            ("hardening", self.hardening.clone()),
            ("algorithm", self.algorithm.clone()),
            ("scheme", self.scheme.clone()),
            ("column", self.column.clone()),
            ("encoding", self.encoding.clone()),
            ("reference_date", self.reference_date.clone()),
            ("rows", self.rows.map(|r| r.to_string())),
        ];
        out.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        out
    }

    /// The Parquet footer entries: each entry's key prefixed with `nordlink.`.
    pub fn to_key_values(&self) -> Vec<(String, String)> {
        self.entries().into_iter().map(|(k, v)| (format!("{PREFIX}{k}"), v)).collect()
    }

    /// The sidecar JSON text: one object, keys without the prefix, `format` first.
    pub fn to_json(&self) -> String {
        // Written by hand to keep the entries in their documented order.
        let body: Vec<String> = self
            .entries()
            .into_iter()
            .map(|(k, v)| {
                let key = if k == FORMAT_KEY { "format" } else { k };
                format!("  \"{key}\": {}", serde_json::Value::String(v))
            })
            .collect();
        format!("{{\n{}\n}}\n", body.join(",\n"))
    }

    /// The sidecar path of a CSV output: `OUT.provenance.json`.
    pub fn sidecar_path(data: &Path) -> PathBuf {
        let mut name = data.as_os_str().to_owned();
        name.push(".provenance.json");
        PathBuf::from(name)
    }

    /// Reads the provenance of a nordlink output: the Parquet footer, or the CSV sidecar.
    ///
    /// # Errors
    /// [`ProvenanceError`] naming the file: missing, malformed, unsupported version or
    /// unreadable. Never a panic, whatever the file holds.
    pub fn read(data: &Path) -> Result<Self, crate::IoError> {
        match Format::from_path(data)? {
            Format::Parquet => Ok(Self::read_parquet(data)?),
            Format::Csv => Ok(Self::read_sidecar(data)?),
        }
    }

    fn read_parquet(path: &Path) -> Result<Self, ProvenanceError> {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let file = std::fs::File::open(path)
            .map_err(|source| ProvenanceError::Read { path: path.to_owned(), source })?;
        let reader = SerializedFileReader::new(file)
            .map_err(|source| ProvenanceError::Parquet { path: path.to_owned(), source })?;
        let kv = reader.metadata().file_metadata().key_value_metadata().cloned();
        let entries: Vec<(String, Option<String>)> = kv
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| Some((e.key.strip_prefix(PREFIX)?.to_owned(), e.value)))
            .collect();
        if entries.is_empty() {
            return Err(ProvenanceError::Missing { path: path.to_owned(), sidecar: None });
        }
        Self::from_entries(path, entries)
    }

    fn read_sidecar(data: &Path) -> Result<Self, ProvenanceError> {
        let path = Self::sidecar_path(data);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ProvenanceError::Missing {
                    path: data.to_owned(),
                    sidecar: Some(path),
                });
            }
            Err(source) => return Err(ProvenanceError::Read { path, source }),
        };
        let mut bytes = Vec::new();
        file.take(MAX_SIDECAR_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| ProvenanceError::Read { path: path.clone(), source })?;
        if bytes.len() as u64 > MAX_SIDECAR_LEN {
            let problem = "larger than 64 KiB".into();
            return Err(ProvenanceError::Malformed { path, problem });
        }
        Self::parse_sidecar(&path, &bytes)
    }

    /// Parses sidecar JSON (`path` is only for messages).
    ///
    /// # Errors
    /// [`ProvenanceError::Malformed`] or [`ProvenanceError::UnsupportedVersion`].
    pub fn parse_sidecar(path: &Path, bytes: &[u8]) -> Result<Self, ProvenanceError> {
        let malformed =
            |problem: String| ProvenanceError::Malformed { path: path.to_owned(), problem };
        let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            malformed(format!("not JSON (line {}, column {})", e.line(), e.column()))
        })?;
        let serde_json::Value::Object(map) = json else {
            return Err(malformed("not a JSON object".into()));
        };
        let mut entries = Vec::with_capacity(map.len());
        for (k, v) in map {
            let serde_json::Value::String(v) = v else {
                return Err(malformed(format!("entry {:?} is not a string", bounded(&k))));
            };
            let key = if k == "format" { FORMAT_KEY.to_owned() } else { k };
            entries.push((key, Some(v)));
        }
        Self::from_entries(path, entries)
    }

    /// Parses entries (keys without the prefix). Unknown keys are ignored, so later
    /// versions of this format can add entries that older readers skip.
    fn from_entries(
        path: &Path,
        entries: Vec<(String, Option<String>)>,
    ) -> Result<Self, ProvenanceError> {
        let malformed =
            |problem: String| ProvenanceError::Malformed { path: path.to_owned(), problem };
        let mut p = Self::default();
        let mut format = None;
        let mut seen = std::collections::HashSet::new();
        for (key, value) in entries {
            let Some(value) = value else {
                return Err(malformed(format!("entry {:?} has no value", bounded(&key))));
            };
            if value.len() > MAX_VALUE_LEN {
                return Err(malformed(format!("entry {:?} is too long", bounded(&key))));
            }
            if !seen.insert(key.clone()) {
                return Err(malformed(format!("entry {:?} appears twice", bounded(&key))));
            }
            let slot = match key.as_str() {
                FORMAT_KEY => {
                    format = Some(value);
                    continue;
                }
                "bits" => {
                    let bits: u32 = value
                        .parse()
                        .ok()
                        .filter(|&b: &u32| b > 0 && b as usize <= nordlink::clk::MAX_FILTER_BITS)
                        .ok_or_else(|| {
                            malformed("bits is not a positive integer up to 2^24".into())
                        })?;
                    p.bits = Some(bits);
                    continue;
                }
                "version" => {
                    p.version = value;
                    continue;
                }
                "rows" => {
                    let rows =
                        value.parse().ok().filter(|_| value.bytes().all(|b| b.is_ascii_digit()));
                    p.rows = Some(
                        rows.ok_or_else(|| malformed("rows is not a decimal integer".into()))?,
                    );
                    continue;
                }
                "construction" => {
                    p.construction = value;
                    continue;
                }
                "key_id" => {
                    if !is_lower_hex(&value, 16) {
                        return Err(malformed("key_id is not 16 lowercase hex digits".into()));
                    }
                    &mut p.key_id
                }
                "schema_sha256" => {
                    if !is_lower_hex(&value, 64) {
                        return Err(malformed(
                            "schema_sha256 is not 64 lowercase hex digits".into(),
                        ));
                    }
                    &mut p.schema_sha256
                }
                "reference_date" => {
                    if value.parse::<nordlink::Date>().is_err() {
                        return Err(malformed("reference_date is not a YYYY-MM-DD date".into()));
                    }
                    &mut p.reference_date
                }
                "context" => &mut p.context,
                "hardening" => &mut p.hardening,
                "algorithm" => &mut p.algorithm,
                "scheme" => &mut p.scheme,
                "column" => &mut p.column,
                "encoding" => &mut p.encoding,
                _ => continue,
            };
            *slot = Some(value);
        }
        match format.as_deref() {
            Some(PROVENANCE_FORMAT) => {}
            Some(other) => {
                return Err(ProvenanceError::UnsupportedVersion {
                    path: path.to_owned(),
                    found: bounded(other),
                });
            }
            None => {
                return Err(malformed(format!(
                    "no format entry (expected {PROVENANCE_FORMAT}); re-create the file with \
                     this version of nordlink"
                )));
            }
        }
        if p.version.is_empty() || p.construction.is_empty() {
            return Err(malformed("version and construction are required".into()));
        }
        Ok(p)
    }

    /// Whether outputs with this record can be joined with outputs recorded in `other`:
    /// same construction, key, schema, context, length and hardening (filters), and the
    /// same algorithm, scheme and encoding (pseudonyms). A clkhash secret has no public
    /// id, so two clkhash inputs made with different secrets cannot be told apart here.
    ///
    /// # Errors
    /// The first [`Mismatch`].
    pub fn check_linkable_with(&self, other: &Self) -> Result<(), Mismatch> {
        let pairs: [(&'static str, Option<String>, Option<String>); 9] = [
            ("construction", Some(self.construction.clone()), Some(other.construction.clone())),
            ("key_id", self.key_id.clone(), other.key_id.clone()),
            ("schema_sha256", self.schema_sha256.clone(), other.schema_sha256.clone()),
            ("context", self.context.clone(), other.context.clone()),
            ("bits", self.bits.map(|b| b.to_string()), other.bits.map(|b| b.to_string())),
            ("hardening", self.hardening.clone(), other.hardening.clone()),
            ("algorithm", self.algorithm.clone(), other.algorithm.clone()),
            ("scheme", self.scheme.clone(), other.scheme.clone()),
            ("encoding", self.encoding.clone(), other.encoding.clone()),
        ];
        for (what, left, right) in pairs {
            if left != right {
                return Err(Mismatch { what, left, right });
            }
        }
        Ok(())
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.entries();
        for (i, (k, v)) in entries.iter().enumerate().skip(1) {
            if i > 1 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A value quoted in an error: at most 64 characters, so a hostile file cannot flood it.
fn bounded(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TableWriter, WriteOptions};
    use arrow_array::{ArrayRef, RecordBatch, UInt64Array};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    fn sample() -> Provenance {
        Provenance {
            version: "0.1.0".into(),
            construction: "nordlink-clk/1".into(),
            key_id: Some("a7fbea2583bf3446".into()),
            schema_sha256: Some("ab".repeat(32)),
            context: Some("nordic \"cohort\" ø".into()),
            bits: Some(1024),
            hardening: Some("balance,permute".into()),
            ..Provenance::default()
        }
    }

    fn write(path: &Path, provenance: Option<Provenance>) {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::UInt64, false)]));
        let options = WriteOptions { provenance, ..WriteOptions::default() };
        let mut w = TableWriter::create_with(path, schema.clone(), &options).unwrap();
        let col: ArrayRef = Arc::new(UInt64Array::from(vec![1, 2]));
        w.write(&RecordBatch::try_new(schema, vec![col]).unwrap()).unwrap();
        w.finish().unwrap();
    }

    fn parse(text: &str) -> Result<Provenance, ProvenanceError> {
        Provenance::parse_sidecar(Path::new("x.json"), text.as_bytes())
    }

    #[test]
    fn round_trips_through_parquet_footers_and_csv_sidecars() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["out.parquet", "out.csv"] {
            let path = dir.path().join(name);
            write(&path, Some(sample()));
            let expected = Provenance { rows: Some(2), ..sample() };
            assert_eq!(Provenance::read(&path).unwrap(), expected, "{name}");
        }
        let sidecar = std::fs::read_to_string(dir.path().join("out.csv.provenance.json")).unwrap();
        assert!(sidecar.starts_with("{\n  \"format\": \"nordlink-provenance/1\",\n"), "{sidecar}");
        // Outputs without provenance (reports, rejects) get no sidecar, and remove a stale
        // one left by an earlier output of the same name.
        write(&dir.path().join("report.csv"), None);
        assert!(!dir.path().join("report.csv.provenance.json").exists());
        write(&dir.path().join("out.csv"), None);
        assert!(!dir.path().join("out.csv.provenance.json").exists());
        assert!(Provenance::read(&dir.path().join("out.csv")).is_err());
    }

    #[test]
    fn missing_and_malformed_records_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["plain.parquet", "plain.csv"] {
            let path = dir.path().join(name);
            write(&path, None);
            let err = Provenance::read(&path).unwrap_err();
            assert!(
                matches!(err, crate::IoError::Provenance(ProvenanceError::Missing { .. })),
                "{err}"
            );
            assert!(err.to_string().contains(name), "{err}");
        }
        let good = sample().to_json();
        let no_format = good.replace("  \"format\": \"nordlink-provenance/1\",\n", "");
        let no_construction = good.replace("  \"construction\": \"nordlink-clk/1\",\n", "");
        let cases = [
            ("not json".to_owned(), "not JSON"),
            ("[1, 2]".to_owned(), "not a JSON object"),
            ("{\"format\": 1}".to_owned(), "not a string"),
            (good.replace("a7fbea2583bf3446", "A7FBEA2583BF3446"), "key_id"),
            (good.replace("\"1024\"", "\"0\""), "bits"),
            (good.replace("\"1024\"", "\"many\""), "bits"),
            (no_format, "no format"),
            (no_construction, "construction"),
        ];
        for (text, needle) in cases {
            let err = parse(&text).unwrap_err();
            assert!(matches!(err, ProvenanceError::Malformed { .. }), "{err}");
            assert!(err.to_string().contains(needle), "{needle}: {err}");
        }
        let later = good.replace("nordlink-provenance/1", "nordlink-provenance/2");
        assert!(matches!(parse(&later), Err(ProvenanceError::UnsupportedVersion { .. })));
        // Unknown entries are skipped: later additions stay readable.
        let extra = good.replacen("{\n", "{\n  \"future\": \"x\",\n", 1);
        assert_eq!(parse(&extra).unwrap(), sample());
        // A sidecar that is too large is refused before parsing.
        let big = dir.path().join("big.csv");
        write(&big, None);
        std::fs::write(dir.path().join("big.csv.provenance.json"), vec![b' '; 70_000]).unwrap();
        assert!(Provenance::read(&big).unwrap_err().to_string().contains("64 KiB"));
    }

    #[test]
    fn linkable_only_under_the_same_key_schema_and_length() {
        let a = sample();
        assert_eq!(a.check_linkable_with(&a.clone()), Ok(()));
        let other_key = Provenance { key_id: Some("0".repeat(16)), ..sample() };
        assert_eq!(a.check_linkable_with(&other_key).unwrap_err().what, "key_id");
        let other_len = Provenance { bits: Some(512), ..sample() };
        assert_eq!(a.check_linkable_with(&other_len).unwrap_err().what, "bits");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_sidecars_never_panic(bytes in proptest::collection::vec(0u8..=255, 0..512)) {
            let _ = Provenance::parse_sidecar(Path::new("x"), &bytes);
        }
    }
}
