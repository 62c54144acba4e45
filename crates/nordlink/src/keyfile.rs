//! The key file: a small, versioned text format.
//!
//! ```text
//! # nordlink pseudonymisation key. Never share it: with it, anyone can recompute every pseudonym.
//! format: nordlink-key/2
//! purpose: pseudonymise
//! key-id: 5d1f0c9a7e3b2468
//! created: 2026-11-22T08:30:00Z
//! secret: <64 lowercase hex digits>
//! ```
//!
//! Lines starting with `#` and blank lines are ignored; each field appears exactly once,
//! as `name: value`; unknown fields are errors. `key-id` must match the secret, which
//! catches corruption and hand edits. A key serves one purpose: pseudonymisation (a
//! secret that never leaves its holder) or encoding (a secret shared by the holders of one
//! linkage project). Files of the earlier format `nordlink-key/1` have no purpose and are
//! still read. See `docs/pseudonymisation.md`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use zeroize::{Zeroize, Zeroizing};

use crate::key::{KEY_LEN, KeyError, SecretKey};

/// The format tag this build writes (and reads).
pub const KEY_FILE_FORMAT: &str = "nordlink-key/2";

/// The earlier format tag, still read: a key without a stated purpose.
pub const LEGACY_KEY_FILE_FORMAT: &str = "nordlink-key/1";

/// What a key is for. One key per purpose: a pseudonymisation key never leaves the
/// register holder, while an encoding key is shared with the other holders of a linkage
/// project, so a key used for both would let every partner recompute the pseudonyms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyPurpose {
    /// Keyed pseudonyms (`nordlink pseudonymise`).
    Pseudonymise,
    /// Bloom-filter encodings (`nordlink encode`).
    Encode,
}

impl KeyPurpose {
    /// The name in key files and on the command line: `pseudonymise` or `encode`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pseudonymise => "pseudonymise",
            Self::Encode => "encode",
        }
    }

    /// The comment heading a key file of this purpose.
    const fn warning(self) -> &'static str {
        match self {
            Self::Pseudonymise => {
                "# nordlink pseudonymisation key. Never share it: with it, anyone can recompute every pseudonym."
            }
            Self::Encode => {
                "# nordlink encoding key. Share it only with the register holders of one linkage project, never with the linkage unit."
            }
        }
    }
}

impl std::fmt::Display for KeyPurpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for KeyPurpose {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        match s {
            "pseudonymise" => Ok(Self::Pseudonymise),
            "encode" => Ok(Self::Encode),
            _ => Err(KeyError::Format("`purpose` must be `pseudonymise` or `encode`")),
        }
    }
}

/// Longest key file read; real ones are about 250 bytes.
const MAX_KEY_FILE_LEN: u64 = 4096;

/// A key with the metadata stored beside it.
#[derive(Debug)]
pub struct KeyFile {
    /// The secret.
    pub key: SecretKey,
    /// When the key was generated (RFC 3339, UTC), as stored.
    pub created: String,
    /// What the key is for; `None` for a `nordlink-key/1` file, which predates purposes.
    pub purpose: Option<KeyPurpose>,
}

/// Whether [`read_key_file`] accepts a file that group or others can read.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum PermissionCheck {
    /// Refuse such files (the default).
    #[default]
    Enforce,
    /// Accept them. For keys on filesystems without Unix permissions; never the default.
    InsecureAllowReadable,
}

/// Renders a key file (`nordlink-key/2`). The returned text holds the secret and is
/// wiped on drop.
pub fn format_key_file(key: &SecretKey, created: &str, purpose: KeyPurpose) -> Zeroizing<String> {
    let mut secret_hex = Zeroizing::new(hex::encode(key.expose_secret()));
    let text = format!(
        "{}\n\
         format: {KEY_FILE_FORMAT}\n\
         purpose: {purpose}\n\
         key-id: {}\n\
         created: {created}\n\
         secret: {}\n",
        purpose.warning(),
        key.id(),
        secret_hex.as_str()
    );
    secret_hex.zeroize();
    Zeroizing::new(text)
}

/// Parses key file text.
///
/// # Errors
/// [`KeyError::Format`], [`KeyError::UnsupportedVersion`] or [`KeyError::IdMismatch`];
/// messages never contain the text.
pub fn parse_key_file(text: &str) -> Result<KeyFile, KeyError> {
    let (mut format, mut id, mut created, mut secret) = (None, None, None, None);
    let mut purpose = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) =
            line.split_once(": ").ok_or(KeyError::Format("a line is not `name: value`"))?;
        let slot = match name {
            "format" => &mut format,
            "key-id" => &mut id,
            "created" => &mut created,
            "secret" => &mut secret,
            "purpose" => &mut purpose,
            _ => return Err(KeyError::Format("unknown field")),
        };
        if slot.replace(value.trim()).is_some() {
            return Err(KeyError::Format("a field appears twice"));
        }
    }
    let purpose = match (format, purpose) {
        (None, _) => return Err(KeyError::Format("missing `format`")),
        (Some(KEY_FILE_FORMAT), Some(p)) => Some(p.parse()?),
        (Some(KEY_FILE_FORMAT), None) => return Err(KeyError::Format("missing `purpose`")),
        // The first format had no purpose: the field is as unknown there as before.
        (Some(LEGACY_KEY_FILE_FORMAT), None) => None,
        (Some(LEGACY_KEY_FILE_FORMAT), Some(_)) => return Err(KeyError::Format("unknown field")),
        (Some(_), _) => return Err(KeyError::UnsupportedVersion),
    };
    let id = id.ok_or(KeyError::Format("missing `key-id`"))?;
    let created = created.ok_or(KeyError::Format("missing `created`"))?;
    let secret = secret.ok_or(KeyError::Format("missing `secret`"))?;
    if secret.len() != 2 * KEY_LEN
        || !secret.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(KeyError::Format("`secret` must be 64 lowercase hex digits"));
    }
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    hex::decode_to_slice(secret, bytes.as_mut_slice())
        .map_err(|_| KeyError::Format("`secret` must be 64 lowercase hex digits"))?;
    let key = SecretKey::from_bytes(&mut bytes);
    if key.id().to_string() != id {
        return Err(KeyError::IdMismatch);
    }
    Ok(KeyFile { key, created: created.to_owned(), purpose })
}

/// Reads and parses a key file, checking its permissions first (Unix).
///
/// # Errors
/// [`KeyError::Permissions`] if group or others can read it (unless allowed),
/// [`KeyError::Io`] if it cannot be read, and the errors of [`parse_key_file`].
pub fn read_key_file(path: &Path, check: PermissionCheck) -> Result<KeyFile, KeyError> {
    let text = read_secret_file(path, check)?;
    let text = std::str::from_utf8(&text).map_err(|_| KeyError::Format("not UTF-8"))?;
    parse_key_file(text)
}

/// Reads a file holding secret material (at most 4 KiB), after checking that group and
/// others cannot read it (Unix). The bytes are wiped when dropped.
///
/// # Errors
/// [`KeyError::NotAFile`] for a directory or device, [`KeyError::Permissions`] (unless
/// allowed), [`KeyError::Format`] if larger than 4 KiB, [`KeyError::Io`].
pub fn read_secret_file(
    path: &Path,
    check: PermissionCheck,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let file = File::open(path)?;
    // Before the permission check, whose advice (`chmod 600`) would not help here.
    if !file.metadata()?.is_file() {
        return Err(KeyError::NotAFile);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 && check == PermissionCheck::Enforce {
            return Err(KeyError::Permissions { mode });
        }
    }
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE_LEN + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(KeyError::Format("larger than 4 KiB"));
    }
    Ok(bytes)
}

/// Writes a key file readable by its owner only (mode 0600 on Unix), all or nothing: the
/// key goes into a new file beside `path`, synced, then takes `path`'s place (renamed
/// over it with `overwrite`, else linked in only if nothing is there). An interrupted run
/// leaves the old key untouched, and a symlink at `path` is replaced, never followed.
///
/// # Errors
/// [`KeyError::Exists`] if `path` exists (even as a dangling symlink) and `overwrite` is
/// false; [`KeyError::Io`].
pub fn write_key_file(
    path: &Path,
    key: &SecretKey,
    (created, purpose): (&str, KeyPurpose),
    overwrite: bool,
) -> Result<(), KeyError> {
    if !overwrite && std::fs::symlink_metadata(path).is_ok() {
        return Err(KeyError::Exists);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or(KeyError::Format("the key path names no file"))?;
    let (temp, mut file) = new_temp_file(dir, name)?;
    let written = (|| -> Result<(), KeyError> {
        file.write_all(format_key_file(key, created, purpose).as_bytes())?;
        file.sync_all()?;
        if overwrite {
            std::fs::rename(&temp, path)?;
        } else {
            // A hard link fails if anything appeared at `path` meanwhile: no overwrite.
            std::fs::hard_link(&temp, path).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => KeyError::Exists,
                _ => KeyError::Io(e),
            })?;
            std::fs::remove_file(&temp)?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// A new file for a key beside its destination, mode 0600 from the start.
fn new_temp_file(
    dir: &Path,
    name: &std::ffi::OsStr,
) -> Result<(std::path::PathBuf, File), KeyError> {
    for attempt in 0..100u32 {
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}-{attempt}.nordlink-key.partial", std::process::id()));
        let temp = dir.join(temp_name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(KeyError::Io(e)),
        }
    }
    Err(KeyError::Format("could not create a temporary file beside the key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (SecretKey, String) {
        let mut raw = [0xa7u8; KEY_LEN];
        let key = SecretKey::from_bytes(&mut raw);
        let text =
            format_key_file(&key, "2026-11-22T08:30:00Z", KeyPurpose::Pseudonymise).to_string();
        (key, text)
    }

    #[test]
    fn a_directory_or_device_is_not_a_key_file() {
        let dir = std::env::temp_dir();
        for path in [dir.as_path(), Path::new("/dev/null")] {
            let e = read_secret_file(path, PermissionCheck::Enforce).unwrap_err();
            assert!(matches!(e, KeyError::NotAFile), "{}: {e}", path.display());
        }
    }

    #[test]
    fn purposes_are_stated_and_the_first_format_still_reads() {
        let (key, text) = sample();
        assert_eq!(parse_key_file(&text).unwrap().purpose, Some(KeyPurpose::Pseudonymise));
        let encode = format_key_file(&key, "x", KeyPurpose::Encode).to_string();
        assert!(
            encode.starts_with("# nordlink encoding key.") && encode.contains("purpose: encode\n")
        );
        assert_eq!(parse_key_file(&encode).unwrap().purpose, Some(KeyPurpose::Encode));
        // A nordlink-key/1 file: no purpose line; read, with no purpose.
        let legacy =
            text.replace("nordlink-key/2", "nordlink-key/1").replace("purpose: pseudonymise\n", "");
        let parsed = parse_key_file(&legacy).unwrap();
        assert_eq!((parsed.purpose, parsed.key.id()), (None, key.id()));
        // Refused: a purpose in a version-1 file, none in a version-2 file, an unknown one.
        for bad in [
            text.replace("nordlink-key/2", "nordlink-key/1"),
            text.replace("purpose: pseudonymise\n", ""),
            text.replace("purpose: pseudonymise", "purpose: both"),
        ] {
            assert!(parse_key_file(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trip() {
        let (key, text) = sample();
        let parsed = parse_key_file(&text).unwrap();
        assert_eq!(parsed.key.expose_secret(), key.expose_secret());
        assert_eq!(parsed.created, "2026-11-22T08:30:00Z");
        // Windows line endings and extra comments are fine.
        let crlf = format!("# note\r\n{}", text.replace('\n', "\r\n"));
        assert!(parse_key_file(&crlf).is_ok());
    }

    #[test]
    fn rejects_tampering_and_malformed_files_without_echoing_them() {
        let (_, text) = sample();
        let secret_hex = "a7".repeat(KEY_LEN);
        let cases = [
            text.replace("a7a7a7a7a7", "a7a7a7a7a8"),
            text.replace("nordlink-key/2", "nordlink-key/3"),
            text.replace("created: ", "created:"),
            format!("{text}extra: 1\n"),
            format!("{text}created: again\n"),
            text.replace(&secret_hex, &secret_hex.to_uppercase()),
            text.replace(&secret_hex, &secret_hex[2..]),
            String::new(),
        ];
        for case in cases {
            let err = parse_key_file(&case).unwrap_err();
            let msg = format!("{err} {err:?}");
            assert!(!msg.contains("a7a7"), "{msg}");
        }
        assert!(matches!(
            parse_key_file(&text.replace("a7a7a7a7a7", "a7a7a7a7a8")),
            Err(KeyError::IdMismatch)
        ));
    }

    #[test]
    fn the_documented_grammar_holds() {
        let (_, text) = sample();
        let id = sample().0.id().to_string();
        // Accepted: CRLF, trailing whitespace in values, blank and comment lines, no final
        // newline.
        for ok in [
            text.replace('\n', "\r\n"),
            text.replace("format: nordlink-key/2", "format: nordlink-key/2  \t"),
            format!("\n   \n# comment: x\n{text}"),
            text.trim_end().to_owned(),
        ] {
            assert!(parse_key_file(&ok).is_ok(), "{ok:?}");
        }
        // Refused: a byte-order mark, a name with leading space or another case, `:`
        // without a space, an upper-case key id, a comment not in the first column.
        for bad in [
            format!("\u{feff}{text}"),
            text.replace("format:", " format:"),
            text.replace("format:", "Format:"),
            text.replace("secret: ", "secret:"),
            text.replace(&id, &id.to_uppercase()),
            format!(" # note\n{text}"),
        ] {
            assert!(parse_key_file(&bad).is_err(), "{bad:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_enforced_and_files_never_overwritten_by_default() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("nordlink-keytest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.key");
        let _ = std::fs::remove_file(&path);
        let (key, _) = sample();
        write_key_file(&path, &key, ("2026-11-22T08:30:00Z", KeyPurpose::Pseudonymise), false)
            .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(
            write_key_file(&path, &key, ("x", KeyPurpose::Pseudonymise), false),
            Err(KeyError::Exists)
        ));
        assert!(read_key_file(&path, PermissionCheck::Enforce).is_ok());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_key_file(&path, PermissionCheck::Enforce),
            Err(KeyError::Permissions { mode: 0o644 })
        ));
        assert!(read_key_file(&path, PermissionCheck::InsecureAllowReadable).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn writes_are_atomic_and_never_follow_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir =
            std::env::temp_dir().join(format!("nordlink-keyfile-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (key, _) = sample();
        let path = dir.join("k.key");
        write_key_file(&path, &key, ("2026-01-01T00:00:00Z", KeyPurpose::Pseudonymise), false)
            .unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(matches!(
            write_key_file(&path, &key, ("2027-01-01T00:00:00Z", KeyPurpose::Pseudonymise), false),
            Err(KeyError::Exists)
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
        write_key_file(&path, &key, ("2027-01-01T00:00:00Z", KeyPurpose::Pseudonymise), true)
            .unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("2027"));
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        // A symlink at the destination: refused without overwrite (even dangling), and
        // replaced (its target untouched) with it.
        let target = dir.join("target.txt");
        std::fs::write(&target, "keep me").unwrap();
        let link = dir.join("link.key");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            write_key_file(&link, &key, ("x", KeyPurpose::Pseudonymise), false),
            Err(KeyError::Exists)
        ));
        write_key_file(&link, &key, ("2028-01-01T00:00:00Z", KeyPurpose::Pseudonymise), true)
            .unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        assert!(!std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        let dangling = dir.join("dangling.key");
        std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
        assert!(matches!(
            write_key_file(&dangling, &key, ("x", KeyPurpose::Pseudonymise), false),
            Err(KeyError::Exists)
        ));
        // Nothing left behind.
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["dangling.key", "k.key", "link.key", "target.txt"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
