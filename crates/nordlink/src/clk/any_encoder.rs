//! Encoder choice: one call turns a schema file and its secret into one encoder type,
//! whichever kind of schema it is.
//!
//! Two kinds of schema exist, told apart by content: a clkhash v3 linkage schema is a
//! JSON object with `version` and `clkConfig`; anything else is read as
//! `nordlink-schema/1` (TOML, or JSON when it starts with `{`). Each needs its own secret:
//! a `nordlink-key/1` key file for the native encoder, clkhash's secret file (used byte
//! for byte) for the clkhash one.

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::clkhash::{ClkhashCache, ClkhashEncoder, ClkhashSchema, is_clkhash_schema};
use super::encoder::{CLK_CONSTRUCTION, EncodeCache, Encoded, Encoder};
use super::error::{EncodeError, SchemaError};
use super::schema::Schema;
use crate::keyfile::{KeyPurpose, PermissionCheck, read_key_file, read_secret_file};
use crate::{KeyError, KeyId, SecretKey};

/// The name recorded for the clkhash-compatible construction.
pub const CLKHASH_CONSTRUCTION: &str = "clkhash-0.18.3";

/// Longest schema file read: real ones are a few kilobytes.
pub const MAX_SCHEMA_LEN: u64 = 1 << 20;

/// Shortest clkhash secret accepted, in bytes: shorter ones (clkhash takes any, even an
/// empty one) can be guessed, and the guesser can recompute every filter.
pub const MIN_CLKHASH_SECRET_LEN: usize = 16;

/// Which kind of schema a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchemaKind {
    /// `nordlink-schema/1`, encoded as `nordlink-clk/1`.
    Native,
    /// A clkhash v3 linkage schema, encoded bit-identically to clkhash 0.18.3.
    Clkhash,
}

impl SchemaKind {
    /// Tells the kinds apart by content, as described in the module documentation. JSON
    /// that does not parse but names `clkConfig` counts as clkhash, so its syntax error is
    /// reported by the clkhash parser rather than as a wrong kind of secret.
    pub fn detect(text: &str) -> Self {
        let text = super::without_bom(text);
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) if is_clkhash_schema(&json) => Self::Clkhash,
            Err(_) if text.trim_start().starts_with('{') && text.contains("\"clkConfig\"") => {
                Self::Clkhash
            }
            _ => Self::Native,
        }
    }

    /// The kind of secret an encoder of this kind needs.
    pub const fn secret_kind(self) -> SecretKind {
        match self {
            Self::Native => SecretKind::KeyFile,
            Self::Clkhash => SecretKind::ClkhashSecret,
        }
    }
}

impl fmt::Display for SchemaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Native => "nordlink-schema/1",
            Self::Clkhash => "clkhash v3",
        })
    }
}

/// Which kind of secret a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecretKind {
    /// A `nordlink-key/1` key file.
    KeyFile,
    /// A clkhash secret file, used byte for byte.
    ClkhashSecret,
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::KeyFile => "a nordlink key file",
            Self::ClkhashSecret => "a clkhash secret file",
        })
    }
}

/// Where the secret for an encoder is, and which kind it is.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum SecretSource<'a> {
    /// A `nordlink-key/1` key file.
    KeyFile(&'a Path),
    /// A clkhash secret file.
    ClkhashSecret(&'a Path),
}

impl SecretSource<'_> {
    /// The kind of secret.
    pub const fn kind(&self) -> SecretKind {
        match self {
            Self::KeyFile(_) => SecretKind::KeyFile,
            Self::ClkhashSecret(_) => SecretKind::ClkhashSecret,
        }
    }

    /// The file.
    pub const fn path(&self) -> &Path {
        match self {
            Self::KeyFile(p) | Self::ClkhashSecret(p) => p,
        }
    }
}

/// A loaded secret of either kind; wiped on drop, never printed.
#[non_exhaustive]
pub enum EncoderSecret {
    /// A nordlink master key.
    Key(SecretKey),
    /// A clkhash secret's bytes.
    Clkhash(Zeroizing<Vec<u8>>),
}

impl fmt::Debug for EncoderSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(k) => f.debug_tuple("Key").field(k).finish(),
            Self::Clkhash(_) => f.write_str("Clkhash([REDACTED])"),
        }
    }
}

impl EncoderSecret {
    /// Reads the secret a source names, checking its permissions as `check` says.
    ///
    /// # Errors
    /// [`LoadError::Secret`] naming the file.
    ///
    /// A key file made for pseudonymisation is refused ([`LoadError::WrongPurpose`]).
    pub fn read(source: SecretSource<'_>, check: PermissionCheck) -> Result<Self, LoadError> {
        Self::read_with_purpose(source, check).map(|(secret, _)| secret)
    }

    /// [`read`](Self::read), with the key file's stated purpose (`None`: a clkhash secret
    /// or a `nordlink-key/1` file, which predates purposes).
    fn read_with_purpose(
        source: SecretSource<'_>,
        check: PermissionCheck,
    ) -> Result<(Self, Option<KeyPurpose>), LoadError> {
        let path = source.path();
        let err = |source| LoadError::Secret { path: path.to_owned(), source };
        match source {
            SecretSource::KeyFile(p) => {
                let file = read_key_file(p, check).map_err(err)?;
                if file.purpose == Some(KeyPurpose::Pseudonymise) {
                    return Err(LoadError::WrongPurpose { path: p.to_owned() });
                }
                Ok((Self::Key(file.key), file.purpose))
            }
            SecretSource::ClkhashSecret(p) => {
                Ok((Self::Clkhash(read_secret_file(p, check).map_err(err)?), None))
            }
        }
    }

    /// The kind of secret.
    pub const fn kind(&self) -> SecretKind {
        match self {
            Self::Key(_) => SecretKind::KeyFile,
            Self::Clkhash(_) => SecretKind::ClkhashSecret,
        }
    }
}

/// Why an encoder could not be made from a schema file and a secret. Messages name the
/// file, never a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The schema file cannot be read.
    #[error("{path}: {source}", path = .path.display())]
    ReadSchema {
        /// The schema file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The schema file is larger than [`MAX_SCHEMA_LEN`].
    #[error("{path}: larger than 1 MiB; not a schema", path = .path.display())]
    SchemaTooLarge {
        /// The schema file.
        path: PathBuf,
    },
    /// The schema is invalid.
    #[error("{}{source}", at(path))]
    Schema {
        /// The schema file (empty when parsed from memory).
        path: PathBuf,
        /// What is wrong.
        source: SchemaError,
    },
    /// The secret cannot be read or is malformed.
    #[error("{path}: {source}", path = .path.display())]
    Secret {
        /// The secret file.
        path: PathBuf,
        /// What is wrong (never the secret).
        source: KeyError,
    },
    /// A pseudonymisation key given for encoding.
    #[error(
        "{path}: this key was made for pseudonymisation (`purpose: pseudonymise`); encoding \
         needs its own key (`nordlink key generate --purpose encode`), because encoding keys \
         are shared with the other register holders of a project, and whoever holds a \
         pseudonymisation key can recompute every pseudonym made with it",
        path = .path.display()
    )]
    WrongPurpose {
        /// The key file.
        path: PathBuf,
    },
    /// A clkhash secret shorter than [`MIN_CLKHASH_SECRET_LEN`] bytes.
    #[error(
        "{}the clkhash secret has {len} bytes; at least {MIN_CLKHASH_SECRET_LEN} are needed: a short \
         secret can be guessed, and whoever guesses it can recompute every filter (make one \
         with `head -c 32 /dev/urandom`)",
        at(path)
    )]
    ShortSecret {
        /// The secret file (empty when given in memory).
        path: PathBuf,
        /// Its length in bytes.
        len: usize,
    },
    /// The secret is of the other kind than the schema needs.
    #[error("a {schema} schema needs {needs}, not {given}")]
    WrongSecret {
        /// The schema's kind.
        schema: SchemaKind,
        /// The kind of secret it needs.
        needs: SecretKind,
        /// The kind given.
        given: SecretKind,
    },
}

/// `"path: "`, or nothing for a schema parsed from memory.
fn at(path: &Path) -> String {
    if path.as_os_str().is_empty() { String::new() } else { format!("{}: ", path.display()) }
}

impl LoadError {
    /// A short stable code: `read_schema`, `schema_too_large`, the schema's own
    /// [`SchemaError::code`], `secret`, `short_secret`, `wrong_purpose` or `wrong_secret`.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::ReadSchema { .. } => "read_schema",
            Self::SchemaTooLarge { .. } => "schema_too_large",
            Self::Schema { source, .. } => source.code(),
            Self::Secret { .. } => "secret",
            Self::ShortSecret { .. } => "short_secret",
            Self::WrongPurpose { .. } => "wrong_purpose",
            Self::WrongSecret { .. } => "wrong_secret",
        }
    }
}

/// Reads a schema file (at most [`MAX_SCHEMA_LEN`] bytes).
///
/// # Errors
/// [`LoadError::ReadSchema`] or [`LoadError::SchemaTooLarge`].
pub fn read_schema_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    use std::io::Read;
    let err = |source| LoadError::ReadSchema { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(err)?;
    let mut bytes = Vec::new();
    file.take(MAX_SCHEMA_LEN + 1).read_to_end(&mut bytes).map_err(err)?;
    if bytes.len() as u64 > MAX_SCHEMA_LEN {
        return Err(LoadError::SchemaTooLarge { path: path.to_owned() });
    }
    Ok(bytes)
}

enum Inner {
    Native(Encoder),
    Clkhash(ClkhashEncoder),
}

/// Either encoder behind one interface: nordlink's own (`nordlink-clk/1`) or the
/// clkhash-compatible one, as the schema file asks.
pub struct AnyEncoder {
    inner: Inner,
    schema_sha256: String,
    /// Loaded from a key file that states no purpose (`nordlink-key/1`).
    legacy_key: bool,
}

impl fmt::Debug for AnyEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("AnyEncoder");
        match &self.inner {
            Inner::Native(e) => d.field("native", e),
            Inner::Clkhash(e) => d.field("clkhash", e),
        };
        d.field("schema_sha256", &self.schema_sha256).finish()
    }
}

/// Token memos for an [`AnyEncoder`]: as secret as the key; keep them in memory only.
#[derive(Debug, Default)]
pub struct AnyCache {
    native: EncodeCache,
    clkhash: ClkhashCache,
}

impl AnyEncoder {
    /// Reads a schema file and the secret it needs, and builds the encoder: the one call
    /// a program embedding nordlink makes.
    ///
    /// # Errors
    /// [`LoadError`] naming the file at fault; [`LoadError::WrongSecret`] when the
    /// secret is of the kind the other schema kind needs.
    pub fn load(
        schema_path: &Path,
        secret: SecretSource<'_>,
        check: PermissionCheck,
    ) -> Result<Self, LoadError> {
        let bytes = read_schema_file(schema_path)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| LoadError::Schema {
            path: schema_path.to_owned(),
            source: SchemaError::NotUtf8,
        })?;
        // Check the secret's kind before reading it: a wrong flag should not cost a
        // permission error about a file the run would not use.
        let kind = SchemaKind::detect(text);
        if kind.secret_kind() != secret.kind() {
            return Err(LoadError::WrongSecret {
                schema: kind,
                needs: kind.secret_kind(),
                given: secret.kind(),
            });
        }
        let secret_path = secret.path().to_owned();
        let is_key_file = secret.kind() == SecretKind::KeyFile;
        let (secret, purpose) = EncoderSecret::read_with_purpose(secret, check)?;
        let mut encoder = Self::from_schema_bytes(&bytes, &secret).map_err(|e| match e {
            LoadError::Schema { source, .. } => {
                LoadError::Schema { path: schema_path.to_owned(), source }
            }
            LoadError::ShortSecret { len, .. } => {
                LoadError::ShortSecret { path: secret_path.clone(), len }
            }
            other => other,
        })?;
        encoder.legacy_key = is_key_file && purpose.is_none();
        Ok(encoder)
    }

    /// Builds the encoder from a schema file's bytes and a loaded secret.
    ///
    /// # Errors
    /// [`LoadError::Schema`] (with an empty path), [`LoadError::ShortSecret`] or
    /// [`LoadError::WrongSecret`].
    pub fn from_schema_bytes(bytes: &[u8], secret: &EncoderSecret) -> Result<Self, LoadError> {
        let schema_err = |source| LoadError::Schema { path: PathBuf::new(), source };
        let text = std::str::from_utf8(bytes).map_err(|_| schema_err(SchemaError::NotUtf8))?;
        let kind = SchemaKind::detect(text);
        let inner = match (kind, secret) {
            (SchemaKind::Native, EncoderSecret::Key(key)) => {
                Inner::Native(Encoder::new(Schema::parse(text).map_err(schema_err)?, key))
            }
            (SchemaKind::Clkhash, EncoderSecret::Clkhash(bytes))
                if bytes.len() < MIN_CLKHASH_SECRET_LEN =>
            {
                return Err(LoadError::ShortSecret { path: PathBuf::new(), len: bytes.len() });
            }
            (SchemaKind::Clkhash, EncoderSecret::Clkhash(bytes)) => Inner::Clkhash(
                ClkhashEncoder::new(ClkhashSchema::from_json(text).map_err(schema_err)?, bytes),
            ),
            _ => {
                return Err(LoadError::WrongSecret {
                    schema: kind,
                    needs: kind.secret_kind(),
                    given: secret.kind(),
                });
            }
        };
        Ok(Self { inner, schema_sha256: super::schema_fingerprint(bytes), legacy_key: false })
    }

    /// The kind of schema.
    pub fn kind(&self) -> SchemaKind {
        match self.inner {
            Inner::Native(_) => SchemaKind::Native,
            Inner::Clkhash(_) => SchemaKind::Clkhash,
        }
    }

    /// The native encoder, when that is what this is.
    pub fn as_native(&self) -> Option<&Encoder> {
        match &self.inner {
            Inner::Native(e) => Some(e),
            Inner::Clkhash(_) => None,
        }
    }

    /// The clkhash-compatible encoder, when that is what this is.
    pub fn as_clkhash(&self) -> Option<&ClkhashEncoder> {
        match &self.inner {
            Inner::Clkhash(e) => Some(e),
            Inner::Native(_) => None,
        }
    }

    /// The construction's versioned name: `nordlink-clk/1` or `clkhash-0.18.3`.
    pub fn construction(&self) -> &'static str {
        match self.inner {
            Inner::Native(_) => CLK_CONSTRUCTION,
            Inner::Clkhash(_) => CLKHASH_CONSTRUCTION,
        }
    }

    /// SHA-256 of the schema file's bytes, lowercase hex.
    pub fn schema_sha256(&self) -> &str {
        &self.schema_sha256
    }

    /// The master key's public id (native only: a clkhash secret may be a low-entropy
    /// passphrase, so no fingerprint of it is published).
    pub fn key_id(&self) -> Option<KeyId> {
        self.as_native().map(Encoder::key_id)
    }

    /// The key-derivation context (native only).
    pub fn context(&self) -> Option<&str> {
        self.as_native().map(|e| e.schema().context())
    }

    /// The hardening steps in their stable spelling, comma-separated (`none` for none);
    /// native only.
    pub fn hardening(&self) -> Option<String> {
        self.as_native().map(|e| {
            let steps: Vec<String> = e.schema().hardening().iter().map(|h| h.spec()).collect();
            if steps.is_empty() { "none".to_owned() } else { steps.join(",") }
        })
    }

    /// Length in bits of the filters produced.
    pub fn bits(&self) -> usize {
        match &self.inner {
            Inner::Native(e) => e.schema().output_bits(),
            Inner::Clkhash(e) => e.schema().len_bits(),
        }
    }

    /// For each field in schema order, the input column it reads (`None`: an ignored
    /// clkhash feature, never read).
    pub fn columns(&self) -> Vec<Option<&str>> {
        match &self.inner {
            Inner::Native(e) => e.schema().fields().iter().map(|f| Some(f.column())).collect(),
            Inner::Clkhash(e) => e.schema().feature_columns().collect(),
        }
    }

    /// The schema's field names (clkhash: feature identifiers), in schema order.
    pub fn field_names(&self) -> Vec<&str> {
        match &self.inner {
            Inner::Native(e) => e.schema().fields().iter().map(|f| f.name()).collect(),
            Inner::Clkhash(e) => e.schema().feature_names().collect(),
        }
    }

    /// Names of the field-level filters each record gets besides its record filter, in
    /// the order of [`Encoded::fields`] (empty when the schema asks for none).
    pub fn field_filter_names(&self) -> Vec<&str> {
        match &self.inner {
            Inner::Native(e) if e.schema().field_filters() => {
                e.schema().fields().iter().map(|f| f.name()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Names of the match keys each record gets, in the order of [`Encoded::keys`] (empty
    /// for clkhash schemas, which have none).
    pub fn match_key_names(&self) -> Vec<&str> {
        match &self.inner {
            Inner::Native(e) => e.schema().match_keys().iter().map(|k| k.name()).collect(),
            Inner::Clkhash(_) => Vec::new(),
        }
    }

    /// Things a user should know about the schema that are not errors, such as a clkhash
    /// setting that clkhash itself ignores.
    pub fn notes(&self) -> Vec<String> {
        match &self.inner {
            Inner::Clkhash(e) => e
                .schema()
                .ignored_xor_folds()
                .map(|n| {
                    format!(
                        "clkConfig.xorFolds = {n} is ignored, as clkhash 0.18.3 ignores it (it \
                         reads xor_folds); filters stay bit-identical to clkhash"
                    )
                })
                .into_iter()
                .collect(),
            Inner::Native(_) if self.legacy_key => vec![
                "the key file is nordlink-key/1, which states no purpose; make encoding keys \
                 with `nordlink key generate --purpose encode` and never use one key both to \
                 pseudonymise and to encode (docs/pseudonymisation.md#keys)"
                    .to_owned(),
            ],
            Inner::Native(_) => Vec::new(),
        }
    }

    /// What a user should know about the privacy of these filters before sharing them
    /// ([`Schema::warnings`](super::Schema::warnings)); none for clkhash schemas, which
    /// are encoded as clkhash encodes them.
    pub fn warnings(&self) -> Vec<String> {
        match &self.inner {
            Inner::Native(e) => e.schema().warnings(),
            Inner::Clkhash(_) => Vec::new(),
        }
    }

    /// Encodes one record: `value(i)` is the raw cell of field `i` in schema order
    /// ([`columns`](Self::columns)), `None` for a null.
    ///
    /// # Errors
    /// [`EncodeError`] naming the field whose value cannot be encoded.
    pub fn encode<'a>(
        &self,
        value: impl Fn(usize) -> Option<&'a str>,
        cache: &mut AnyCache,
    ) -> Result<Encoded, EncodeError> {
        match &self.inner {
            Inner::Native(e) => e.encode(value, &mut cache.native),
            Inner::Clkhash(e) => e.encode(value, &mut cache.clkhash),
        }
    }

    /// Encodes many records on the rayon thread pool, keeping their order. `value(r, i)`
    /// is field `i` of record `r`. Each pool thread keeps its own token memo for the
    /// life of the thread (memory only; it resets when used with another encoder).
    #[cfg(feature = "parallel")]
    pub fn encode_many<'a, R: Sync + 'a>(
        &self,
        records: &'a [R],
        value: impl Fn(&'a R, usize) -> Option<&'a str> + Sync,
    ) -> Vec<Result<Encoded, EncodeError>> {
        use rayon::prelude::*;
        thread_local! {
            static CACHE: std::cell::RefCell<AnyCache> = std::cell::RefCell::default();
        }
        let Inner::Native(e) = &self.inner else {
            let encode =
                |r: &'a R| CACHE.with_borrow_mut(|cache| self.encode(|i| value(r, i), cache));
            return records.par_iter().with_min_len(CHUNK).map(encode).collect();
        };
        // Records that share a salt share memo entries: encoded side by side, their
        // tokens stay in cache (a birth-year salt spreads a batch over ~100 salts).
        let Some((order, salts)) = self.salt_order(records, &value) else {
            let encode = |chunk: &'a [R]| {
                CACHE.with_borrow_mut(|cache| {
                    let value = |r: usize, i| value(&chunk[r], i);
                    e.encode_columns(chunk.len(), value, |_| Ok(""), &mut cache.native)
                })
            };
            return records.par_chunks(CHUNK).flat_map_iter(encode).collect();
        };
        let fields = e.schema().fields.len();
        let value = &value;
        let encode = |chunk: &[usize]| {
            // The records of a chunk are scattered over the batch: gathering their cells
            // first lets those memory reads overlap instead of stalling each field's pass.
            let n = chunk.len();
            let cells: Vec<Option<&str>> = (0..fields)
                .flat_map(|i| chunk.iter().map(move |&r| value(&records[r], i)))
                .collect();
            let salts: Vec<&RecordSalt> = chunk.iter().map(|&r| &salts[r]).collect();
            CACHE.with_borrow_mut(|cache| {
                let value = |r: usize, i: usize| cells[i * n + r];
                let salt = |r: usize| salts[r].as_deref().map_err(Clone::clone);
                let encoded = e.encode_columns(chunk.len(), value, salt, &mut cache.native);
                chunk.iter().copied().zip(encoded).collect::<Vec<_>>()
            })
        };
        let encoded: Vec<(usize, Result<Encoded, EncodeError>)> =
            order.par_chunks(CHUNK).flat_map_iter(encode).collect();
        let mut out: Vec<Option<Result<Encoded, EncodeError>>> =
            std::iter::repeat_with(|| None).take(records.len()).collect();
        for (i, result) in encoded {
            out[i] = Some(result);
        }
        // Every index appears once in `order`, so every slot is filled.
        out.into_iter().flatten().collect()
    }

    /// The records' indices ordered by their salt (stable), with each record's salt or
    /// the error its salt field gives (sorted as empty), or `None` when the schema has no
    /// salt.
    #[cfg(feature = "parallel")]
    fn salt_order<'a, R: Sync + 'a>(
        &self,
        records: &'a [R],
        value: &(impl Fn(&'a R, usize) -> Option<&'a str> + Sync),
    ) -> Option<(Vec<usize>, Vec<RecordSalt>)> {
        use rayon::prelude::*;
        let Inner::Native(e) = &self.inner else { return None };
        let schema = e.schema();
        schema.salt.as_ref()?;
        let salts: Vec<RecordSalt> =
            records.par_iter().map(|r| schema.record_salt(&|i| value(r, i))).collect();
        let key = |i: usize| salts[i].as_deref().unwrap_or("");
        let mut order: Vec<usize> = (0..records.len()).collect();
        order.sort_by(|&a, &b| key(a).cmp(key(b)));
        Some((order, salts))
    }
}

/// A record's salt, or the error its salt field gives.
#[cfg(feature = "parallel")]
type RecordSalt = Result<String, EncodeError>;

/// Records per task in [`AnyEncoder::encode_many`]: enough work per task that splitting
/// costs nothing, and small enough that a 100 k-record file spreads over every core; the
/// native encoder passes over a task's records field by field, so a field's memos stay in
/// the processor's cache for the whole task.
#[cfg(feature = "parallel")]
const CHUNK: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        let mut raw = [7u8; 32];
        SecretKey::from_bytes(&mut raw)
    }

    #[test]
    fn kinds_are_told_apart_and_secrets_must_match() {
        let native = b"version = 1\n[[fields]]\nname = \"sex\"\nkind = \"sex\"\n";
        let clkhash = br#"{"version": 3, "clkConfig": {"l": 64, "kdf": {"type": "HKDF"}},
            "features": [{"identifier": "sex", "format": {"type": "string"},
            "hashing": {"comparison": {"type": "exact"}, "strategy": {"bitsPerToken": 3}}}]}"#;
        let k = EncoderSecret::Key(key());
        let s = EncoderSecret::Clkhash(Zeroizing::new(b"a secret of 24 bytes....".to_vec()));
        let short = EncoderSecret::Clkhash(Zeroizing::new(b"zq9x".to_vec()));
        let err = AnyEncoder::from_schema_bytes(clkhash, &short).unwrap_err();
        assert_eq!(err.code(), "short_secret");
        assert!(!err.to_string().contains("zq9x"), "{err}");
        let a = AnyEncoder::from_schema_bytes(native, &k).unwrap();
        let b = AnyEncoder::from_schema_bytes(clkhash, &s).unwrap();
        assert_eq!((a.kind(), b.kind()), (SchemaKind::Native, SchemaKind::Clkhash));
        assert_eq!((a.construction(), b.construction()), (CLK_CONSTRUCTION, "clkhash-0.18.3"));
        assert_eq!((a.bits(), b.bits()), (1024, 64));
        assert_eq!(a.key_id(), Some(key().id()));
        assert_eq!(b.key_id(), None);
        assert_eq!(a.hardening().as_deref(), Some("none"));
        assert_eq!(a.columns(), [Some("sex")]);
        let mut cache = AnyCache::default();
        let one = |e: &AnyEncoder, c: &mut AnyCache| e.encode(|_| Some("F"), c).unwrap();
        assert!(one(&a, &mut cache).record.count_ones() > 0);
        assert!(one(&b, &mut cache).record.count_ones() > 0);
        assert_eq!(one(&a, &mut cache), one(&a, &mut AnyCache::default()));
        for (schema, secret) in [(&native[..], &s), (&clkhash[..], &k)] {
            let err = AnyEncoder::from_schema_bytes(schema, secret).unwrap_err();
            assert_eq!(err.code(), "wrong_secret", "{err}");
        }
        let err = AnyEncoder::from_schema_bytes(b"\xff", &k).unwrap_err();
        assert_eq!(err.code(), "not_utf8");
    }

    #[test]
    fn clkhash_schemas_are_recognised_however_odd() {
        let body = r#""version": 3, "clkConfig": {"l": 64, "kdf": {"type": "HKDF"}},
            "features": [{"identifier": "sex", "format": {"type": "string"},
            "hashing": {"comparison": {"type": "exact"}, "strategy": {"bitsPerToken": 3}}}]"#;
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        let s = EncoderSecret::Clkhash(Zeroizing::new(b"a secret of 24 bytes....".to_vec()));
        for text in [
            format!("{{\"x\": {deep}, {body}}}"),
            format!("{{{body}, \"x\": {{\"y\": {deep}}}}}"),
            format!("\u{feff}{{{body}}}"),
            format!("\u{feff}{{{body}, \"x\": {deep}}}"),
        ] {
            let prefix: String = text.chars().take(30).collect();
            assert_eq!(SchemaKind::detect(&text), SchemaKind::Clkhash, "{prefix}");
            let Err(e) = AnyEncoder::from_schema_bytes(text.as_bytes(), &s) else { continue };
            assert!(!e.to_string().contains("nordlink"), "{prefix}: {e}");
        }
        let native = "\u{feff}version = 1\n[[fields]]\nname = \"sex\"\nkind = \"sex\"\n";
        assert_eq!(SchemaKind::detect(native), SchemaKind::Native);
        assert!(
            AnyEncoder::from_schema_bytes(native.as_bytes(), &EncoderSecret::Key(key())).is_ok()
        );
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn batch_encoding_keeps_order_and_equals_one_by_one() {
        let fields = "[[fields]]\nname = \"n\"\nkind = \"surname\"\n\
                      [[fields]]\nname = \"d\"\nkind = \"birth_date\"\n";
        // Unsalted, and salted by birth year (version 3's default): salted batches are
        // encoded in salt order and put back in input order.
        let unsalted = format!("version = 1\n{fields}");
        let salted = format!("version = 3\n[filter]\ncontext = \"\"\n{fields}");
        // Field filters and a match key; a salt field that rejects bad dates, so some
        // records fail on their salt.
        let rich = format!(
            "version = 3\n[filter]\ncontext = \"\"\nfield_filters = true\n\
             field_filters_reveal_frequencies = true\n{fields}invalid = \"reject\"\n\
             [[match_keys]]\nname = \"k\"\nparts = [{{ field = \"n\" }}, {{ field = \"d\" }}]\n"
        );
        let records: Vec<[String; 2]> = (0..2000)
            .map(|i| {
                let date = format!("19{:02}-{:02}-{:02}", i % 90, 1 + i % 12, 1 + i % 31);
                [format!("name{}", i % 37), date]
            })
            .collect();
        // Day 31 of a 30-day month: a reject under version 1, a partly encoded date
        // (listed in `invalid`) under version 3; either way at its own position.
        for (schema, rejects, extras) in
            [(unsalted, true, (0, 0)), (salted, false, (0, 0)), (rich, true, (2, 2))]
        {
            let e = AnyEncoder::from_schema_bytes(schema.as_bytes(), &EncoderSecret::Key(key()))
                .unwrap();
            let many = e.encode_many(&records, |r, f| Some(r[f].as_str()));
            assert_eq!(many.len(), records.len());
            let mut cache = AnyCache::default();
            for (r, got) in records.iter().zip(&many) {
                assert_eq!(got, &e.encode(|f| Some(r[f].as_str()), &mut cache));
            }
            assert_eq!(many.iter().any(Result::is_err), rejects);
            let partial = many.iter().filter(|e| e.as_ref().is_ok_and(|e| !e.invalid.is_empty()));
            assert_eq!(partial.count() > 0, !rejects);
            let ok = many.iter().flatten().next().unwrap();
            assert_eq!((ok.fields.len(), ok.keys.len()), extras);
        }
    }
}
