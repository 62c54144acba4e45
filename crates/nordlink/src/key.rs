//! Secret keys and their public fingerprints.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of every nordlink secret key: 256 bits.
pub const KEY_LEN: usize = 32;

/// A 256-bit secret key.
///
/// The bytes live on the heap (moves do not copy them), are wiped when the key is dropped,
/// and are reachable only through [`SecretKey::expose_secret`], so every use can be found
/// with grep. There is no `Clone`, `Display` or serialisation; `Debug` shows the
/// [`KeyId`] only.
pub struct SecretKey {
    bytes: Box<[u8; KEY_LEN]>,
}

impl SecretKey {
    /// A new key from the operating system's CSPRNG.
    ///
    /// # Errors
    /// [`KeyError::Rng`] if the OS random source fails.
    pub fn generate() -> Result<Self, KeyError> {
        let mut key = Self { bytes: Box::new([0u8; KEY_LEN]) };
        getrandom::fill(key.bytes.as_mut_slice()).map_err(|_| KeyError::Rng)?;
        Ok(key)
    }

    /// Wraps existing key bytes, wiping the caller's copy.
    pub fn from_bytes(bytes: &mut [u8; KEY_LEN]) -> Self {
        let key = Self { bytes: Box::new(*bytes) };
        bytes.zeroize();
        key
    }

    /// The raw key bytes. Every call site is a place where the secret is used.
    pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    /// The key's public fingerprint.
    pub fn id(&self) -> KeyId {
        // A PRF of a fixed label under the key: reveals nothing about the key, yet two
        // parties can compare ids to check that they hold the same key.
        let tag = crate::prf::hmac_sha256(self.bytes.as_ref(), b"nordlink key-id v1");
        let mut id = [0u8; 8];
        id.copy_from_slice(&tag[..8]);
        KeyId(id)
    }
}

impl Drop for SecretKey {
    #[inline(never)]
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey").field("id", &self.id()).field("bytes", &"[REDACTED]").finish()
    }
}

/// A public fingerprint of a [`SecretKey`]: 64 bits, written as 16 lowercase hex digits.
///
/// It is `HMAC-SHA256(key, "nordlink key-id v1")` truncated to 8 bytes, so it identifies
/// a key in metadata and logs without revealing anything about it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; 8]);

impl KeyId {
    /// The 8 fingerprint bytes.
    pub const fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// Errors creating, reading or writing keys. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Rng,
    /// The key file is not in the documented format.
    #[error("not a valid nordlink key file: {0}")]
    Format(&'static str),
    /// The key file's format version is not one this build reads.
    #[error("unsupported key file format (this build reads nordlink-key/1 and nordlink-key/2)")]
    UnsupportedVersion,
    /// The stored key id does not match the stored secret: the file is corrupt or edited.
    #[error("key id does not match the secret (corrupted or edited key file)")]
    IdMismatch,
    /// The path names a directory, device or other non-regular file.
    #[error("not a regular file (a directory, device or pipe cannot hold a key)")]
    NotAFile,
    /// The key file can be read by group or others.
    #[error("key file is readable by group or others (mode {mode:03o}); run `chmod 600` on it")]
    Permissions {
        /// The file's permission bits.
        mode: u32,
    },
    /// The destination exists and overwriting was not requested.
    #[error("refusing to overwrite an existing key file")]
    Exists,
    /// Reading or writing the file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_id_but_never_the_bytes() {
        let mut raw = [0xabu8; KEY_LEN];
        let key = SecretKey::from_bytes(&mut raw);
        assert_eq!(raw, [0u8; KEY_LEN], "caller's copy is wiped");
        let dbg = format!("{key:?}");
        assert!(!dbg.to_lowercase().contains("abab"), "{dbg}");
        assert!(dbg.contains(&key.id().to_string()), "{dbg}");
    }

    #[test]
    fn generated_keys_differ_and_ids_are_stable() {
        let a = SecretKey::generate().unwrap();
        let b = SecretKey::generate().unwrap();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_ne!(a.id(), b.id());
        assert_eq!(a.id(), a.id());
        assert_eq!(a.id().to_string().len(), 16);
    }
}
