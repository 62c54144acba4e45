//! Key derivation shared by the constructions: one HKDF-SHA256 call from the master key.

use zeroize::Zeroizing;

use crate::key::{KEY_LEN, SecretKey};

/// `HKDF-SHA256(salt, IKM = master, info, L = 32)` with
/// `info = u8(len label) || label || (u16be(len part) || part)*`.
///
/// The length prefixes make `info` unambiguous; callers keep `label` under 256 bytes and
/// each part under 65 536 (contexts and field names are validated far below that).
pub(crate) fn derive_subkey(
    master: &SecretKey,
    salt: &str,
    label: &str,
    parts: &[&str],
) -> Zeroizing<[u8; KEY_LEN]> {
    let mut info =
        Vec::with_capacity(1 + label.len() + parts.iter().map(|p| 2 + p.len()).sum::<usize>());
    debug_assert!(label.len() <= 255 && parts.iter().all(|p| p.len() <= 65_535));
    #[allow(clippy::cast_possible_truncation, reason = "labels are short constants")]
    info.push(label.len() as u8);
    info.extend_from_slice(label.as_bytes());
    for part in parts {
        #[allow(clippy::cast_possible_truncation, reason = "contexts and names are <= 255 bytes")]
        info.extend_from_slice(&(part.len() as u16).to_be_bytes());
        info.extend_from_slice(part.as_bytes());
    }
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(salt.as_bytes()), master.expose_secret());
    let mut okm = Zeroizing::new([0u8; KEY_LEN]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
    let _ = hk.expand(&info, okm.as_mut_slice());
    okm
}
