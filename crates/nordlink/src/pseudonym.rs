//! Keyed pseudonyms for identifiers: construction `nordlink-pseudonym/1`.
//!
//! The construction is specified in `docs/pseudonymisation.md`, with known-answer vectors
//! that the test suite checks against this code. In short, for a master key `K`, an
//! algorithm `A` (`hmac-sha256` or `blake3`) and a context `C` (a project or recipient):
//!
//! ```text
//! K_C = HKDF-SHA256(salt = "nordlink-pseudonym/1", ikm = K,
//!                   info = u8(len A) || A || u16be(len C) || C, L = 32)
//! m   = 0x01 || u8(len tag) || tag || canonical value
//! P   = HMAC-SHA256(K_C, m)   or   BLAKE3-keyed(K_C, m)      (32 bytes)
//! ```
//!
//! `tag` is the scheme code (`dk`, `se`, ... or `opaque`), so a Danish and an Icelandic
//! number with the same digits never collide, and pseudonyms under different contexts
//! cannot be joined without `K`.
//!
//! # Example
//! ```
//! use nordlink::id::{parse, Scheme};
//! use nordlink::pseudonym::{Algorithm, Context, Encoding, OutputFormat, Pseudonymiser};
//! use nordlink::SecretKey;
//!
//! let key = SecretKey::generate()?;
//! let p = Pseudonymiser::new(&key, Algorithm::HmacSha256, &Context::new("study-42")?);
//! let a = p.pseudonymise(&parse(Scheme::Dk, "211062-5629")?);
//! let b = p.pseudonymise(&parse(Scheme::Dk, "2110625629")?);
//! assert_eq!(a, b);
//! assert_eq!(a.encode(OutputFormat::default()).len(), 64);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;

use crate::id::{NationalId, Scheme};
use crate::kdf::derive_subkey;
use crate::key::{KeyId, SecretKey};
use crate::prf::{KeyedPrf, PrfAlgorithm};

/// The construction's name and version; also the HKDF salt.
pub const CONSTRUCTION: &str = "nordlink-pseudonym/1";

/// Version byte at the start of every message.
const MESSAGE_VERSION: u8 = 1;

/// Longest opaque value accepted, in bytes after trimming.
pub const MAX_OPAQUE_LEN: usize = 1024;

/// Longest context name, in bytes.
pub const MAX_CONTEXT_LEN: usize = 255;

/// The keyed pseudorandom function.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA256 (RFC 2104, FIPS 180-4): the default, the choice of the guidance.
    #[default]
    HmacSha256,
    /// BLAKE3 in keyed mode: faster, not FIPS-approved.
    Blake3,
}

impl Algorithm {
    /// The name used in the KDF, in metadata and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Self::HmacSha256 => "hmac-sha256",
            Self::Blake3 => "blake3",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = SettingsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hmac-sha256" => Ok(Self::HmacSha256),
            "blake3" => Ok(Self::Blake3),
            _ => Err(SettingsError::UnknownAlgorithm),
        }
    }
}

/// What is pseudonymised: an identifier of a scheme, or an opaque value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Namespace {
    /// A national identifier, hashed in its normalised form.
    Id(Scheme),
    /// Any other value (an internal patient number, an earlier stage's pseudonym),
    /// hashed as given after trimming ASCII whitespace.
    Opaque,
}

impl Namespace {
    /// The tag in the message: the scheme code, or `opaque`.
    pub const fn tag(self) -> &'static str {
        match self {
            Self::Id(s) => s.code(),
            Self::Opaque => "opaque",
        }
    }
}

impl FromStr for Namespace {
    type Err = SettingsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("opaque") {
            return Ok(Self::Opaque);
        }
        s.parse().map(Self::Id).map_err(|_| SettingsError::UnknownNamespace)
    }
}

/// A domain-separation context: a project or recipient name.
///
/// UTF-8, at most 255 bytes, no control characters. The empty context is the unnamed
/// default; give each project its own.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Context(String);

impl Context {
    /// Validates a context name.
    ///
    /// # Errors
    /// [`SettingsError::BadContext`] if it is too long, has control characters, or is not
    /// in Unicode NFC: two spellings of one name (a precomposed `å`, or `a` and a combining
    /// ring) would give unrelated keys. Refused rather than normalised, so a context that
    /// was accepted before keeps its pseudonyms.
    pub fn new(name: &str) -> Result<Self, SettingsError> {
        if name.len() > MAX_CONTEXT_LEN
            || name.chars().any(char::is_control)
            || !unicode_normalization::is_nfc(name)
        {
            return Err(SettingsError::BadContext);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How pseudonyms are written out.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum Encoding {
    /// Lowercase hexadecimal (the default).
    #[default]
    Hex,
    /// URL-safe base64 without padding (RFC 4648 section 5).
    Base64Url,
    /// Raw bytes (Parquet `FixedSizeBinary`).
    Raw,
}

impl Encoding {
    /// Command-line and metadata name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hex => "hex",
            Self::Base64Url => "base64url",
            Self::Raw => "raw",
        }
    }
}

impl FromStr for Encoding {
    type Err = SettingsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hex" => Ok(Self::Hex),
            "base64url" => Ok(Self::Base64Url),
            "raw" => Ok(Self::Raw),
            _ => Err(SettingsError::UnknownEncoding),
        }
    }
}

/// Encoding plus length: pseudonyms may be truncated, never below 128 bits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct OutputFormat {
    encoding: Encoding,
    bytes: u8,
}

impl Default for OutputFormat {
    fn default() -> Self {
        Self { encoding: Encoding::Hex, bytes: 32 }
    }
}

impl OutputFormat {
    /// An encoding keeping the first `bits` bits of the 256-bit pseudonym.
    ///
    /// # Errors
    /// [`SettingsError::BadLength`] unless `bits` is a multiple of 8 in 128..=256.
    pub fn new(encoding: Encoding, bits: u16) -> Result<Self, SettingsError> {
        if !(128..=256).contains(&bits) || !bits.is_multiple_of(8) {
            return Err(SettingsError::BadLength);
        }
        let bytes = u8::try_from(bits / 8).map_err(|_| SettingsError::BadLength)?;
        Ok(Self { encoding, bytes })
    }

    /// The encoding.
    pub const fn encoding(self) -> Encoding {
        self.encoding
    }

    /// Bytes kept (16..=32).
    pub const fn bytes(self) -> usize {
        self.bytes as usize
    }

    /// Length of the encoded text (or bytes, for raw).
    pub const fn encoded_len(self) -> usize {
        match self.encoding {
            Encoding::Hex => 2 * self.bytes(),
            Encoding::Base64Url => (4 * self.bytes()).div_ceil(3),
            Encoding::Raw => self.bytes(),
        }
    }
}

/// A 256-bit pseudonym. Public output: meant to leave the building.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pseudonym([u8; 32]);

impl Pseudonym {
    /// All 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The bytes `format` keeps.
    pub fn truncated(&self, format: OutputFormat) -> &[u8] {
        &self.0[..format.bytes()]
    }

    /// Text in `format` (for [`Encoding::Raw`], hex: raw bytes are not text).
    pub fn encode(&self, format: OutputFormat) -> String {
        let bytes = self.truncated(format);
        match format.encoding {
            Encoding::Base64Url => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
            Encoding::Hex | Encoding::Raw => hex::encode(bytes),
        }
    }

    /// Writes the encoded form into `out`, which must be exactly
    /// [`OutputFormat::encoded_len`] bytes long. Used to fill Arrow buffers in place.
    ///
    /// # Panics
    /// If `out` has the wrong length.
    pub fn encode_to_slice(&self, format: OutputFormat, out: &mut [u8]) {
        assert_eq!(out.len(), format.encoded_len(), "output slice length");
        let bytes = self.truncated(format);
        match format.encoding {
            Encoding::Raw => out.copy_from_slice(bytes),
            Encoding::Hex => {
                // 5x the `hex` crate on 32-byte pseudonyms (SSE4.1/AVX2 when present), and
                // the same lowercase digits.
                faster_hex::hex_encode(bytes, out).expect("length checked above");
            }
            Encoding::Base64Url => {
                let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode_slice(bytes, out)
                    .expect("length checked above");
                debug_assert_eq!(n, out.len());
            }
        }
    }
}

impl fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pseudonym({})", hex::encode(self.0))
    }
}

/// Invalid pseudonymisation settings: a run cannot start. Never contains key material.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// Not `hmac-sha256` or `blake3`.
    #[error("unknown algorithm (expected hmac-sha256 or blake3)")]
    UnknownAlgorithm,
    /// Not a scheme code or `opaque`.
    #[error("unknown scheme (expected dk, se, no, fi, is, ee, lt or opaque)")]
    UnknownNamespace,
    /// Not `hex`, `base64url` or `raw`.
    #[error("unknown encoding (expected hex, base64url or raw)")]
    UnknownEncoding,
    /// Truncation outside 128..=256 bits or not whole bytes.
    #[error("pseudonym length must be a multiple of 8 bits between 128 and 256")]
    BadLength,
    /// Context too long, with control characters, or not in Unicode NFC.
    #[error(
        "context must be at most 255 bytes of UTF-8 in Unicode NFC (composed letters), \
         without control characters"
    )]
    BadContext,
}

/// An opaque value that cannot be pseudonymised: one row fails, the run goes on. Never
/// contains the value.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// Empty after trimming.
    #[error("empty value")]
    Empty,
    /// Over [`MAX_OPAQUE_LEN`] bytes after trimming.
    #[error("value longer than 1024 bytes")]
    TooLong,
}

impl ValueError {
    /// A short stable code for reject files: `empty` or `too_long`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLong => "too_long",
        }
    }
}

/// Computes pseudonyms under one master key, algorithm and context.
///
/// Cheap to share between threads (`Sync`); holds derived key material that is wiped on
/// drop and never printed.
pub struct Pseudonymiser {
    prf: KeyedPrf,
    algorithm: Algorithm,
    context: Context,
    key_id: KeyId,
}

impl fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonymiser")
            .field("algorithm", &self.algorithm)
            .field("context", &self.context)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Pseudonymiser {
    /// Derives the context key and prepares the keyed PRF state.
    pub fn new(master: &SecretKey, algorithm: Algorithm, context: &Context) -> Self {
        let key = derive_subkey(master, CONSTRUCTION, algorithm.name(), &[context.as_str()]);
        let prf = KeyedPrf::new(
            match algorithm {
                Algorithm::HmacSha256 => PrfAlgorithm::HmacSha256,
                Algorithm::Blake3 => PrfAlgorithm::Blake3,
            },
            &key,
        );
        Self { prf, algorithm, context: context.clone(), key_id: master.id() }
    }

    /// The algorithm.
    pub const fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The context.
    pub const fn context(&self) -> &Context {
        &self.context
    }

    /// The master key's public id.
    pub const fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The pseudonym of a parsed identifier (of its normalised form).
    pub fn pseudonymise(&self, id: &NationalId) -> Pseudonym {
        self.prf(Namespace::Id(id.scheme()), id.as_bytes())
    }

    /// The pseudonym of an opaque value, after trimming ASCII whitespace.
    ///
    /// # Errors
    /// [`ValueError::Empty`] or [`ValueError::TooLong`].
    pub fn pseudonymise_opaque(&self, value: &str) -> Result<Pseudonym, ValueError> {
        let v = value.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
        if v.is_empty() {
            return Err(ValueError::Empty);
        }
        if v.len() > MAX_OPAQUE_LEN {
            return Err(ValueError::TooLong);
        }
        Ok(self.prf(Namespace::Opaque, v.as_bytes()))
    }

    /// The PRF over the message `0x01 || u8(len tag) || tag || value`.
    fn prf(&self, namespace: Namespace, value: &[u8]) -> Pseudonym {
        let tag = namespace.tag().as_bytes();
        // Tags are scheme codes or `opaque`: a handful of bytes.
        let header = [MESSAGE_VERSION, u8::try_from(tag.len()).unwrap_or(u8::MAX)];
        // Assemble short messages on the stack so the PRF sees one contiguous input:
        // per-call overhead dominates for identifiers of a dozen bytes.
        let mut buf = [0u8; 64];
        let len = 2 + tag.len() + value.len();
        let out = if len <= buf.len() {
            buf[..2].copy_from_slice(&header);
            buf[2..2 + tag.len()].copy_from_slice(tag);
            buf[2 + tag.len()..len].copy_from_slice(value);
            self.prf.eval(&[&buf[..len]])
        } else {
            self.prf.eval(&[&header, tag, value])
        };
        Pseudonym(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        let mut raw: [u8; 32] = std::array::from_fn(|i| i as u8);
        SecretKey::from_bytes(&mut raw)
    }

    #[test]
    fn contexts_must_be_nfc_so_one_name_is_one_key() {
        assert!(Context::new("tilsyn-\u{e5}").is_ok());
        assert_eq!(Context::new("tilsyn-a\u{30a}"), Err(SettingsError::BadContext));
        assert_eq!(Context::new("a\u{7}"), Err(SettingsError::BadContext));
        assert!(Context::new("").is_ok());
    }

    #[test]
    fn output_formats() {
        assert!(OutputFormat::new(Encoding::Hex, 120).is_err());
        assert!(OutputFormat::new(Encoding::Hex, 130).is_err());
        assert!(OutputFormat::new(Encoding::Hex, 264).is_err());
        let f = OutputFormat::new(Encoding::Base64Url, 128).unwrap();
        let p = Pseudonymiser::new(&key(), Algorithm::Blake3, &Context::default());
        let s = p.pseudonymise_opaque("x").unwrap().encode(f);
        assert_eq!(s.len(), f.encoded_len());
        assert!(!s.contains('=') && !s.contains('+') && !s.contains('/'));
        for format in [OutputFormat::default(), f] {
            let mut buf = vec![0u8; format.encoded_len()];
            p.pseudonymise_opaque("x").unwrap().encode_to_slice(format, &mut buf);
            assert_eq!(buf, p.pseudonymise_opaque("x").unwrap().encode(format).as_bytes());
        }
    }

    #[test]
    fn debug_never_shows_key_material() {
        let k = key();
        let p = Pseudonymiser::new(&k, Algorithm::HmacSha256, &Context::new("c").unwrap());
        let dbg = format!("{p:?}");
        assert!(dbg.contains("HmacSha256") && dbg.contains(&k.id().to_string()), "{dbg}");
        assert!(!dbg.contains("000102030405"), "{dbg}");
    }

    #[test]
    fn contexts_reject_control_characters_and_length() {
        assert!(Context::new("a\nb").is_err());
        assert!(Context::new(&"x".repeat(256)).is_err());
        assert!(Context::new(&"ø".repeat(127)).is_ok());
    }

    #[test]
    fn opaque_values_are_trimmed_and_bounded() {
        let p = Pseudonymiser::new(&key(), Algorithm::HmacSha256, &Context::default());
        assert_eq!(p.pseudonymise_opaque(" a\t"), p.pseudonymise_opaque("a"));
        assert_eq!(p.pseudonymise_opaque("  "), Err(ValueError::Empty));
        assert_eq!(p.pseudonymise_opaque(&"a".repeat(1025)), Err(ValueError::TooLong));
    }
}
