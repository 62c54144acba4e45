//! The keyed pseudorandom functions every construction uses, in one place: HMAC-SHA256
//! and keyed BLAKE3 for pseudonyms, HMAC-SHA256 for key ids, and the keyed BLAKE3 output
//! stream that places CLK token bits and drives hardening.
//!
//! Keeping them here means one audit covers every use of a key, and the constructions'
//! files describe only what is hashed, not how.

use hmac::{KeyInit, Mac};
use zeroize::Zeroizing;

use crate::key::KEY_LEN;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The PRF algorithms a pseudonym can be made with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum PrfAlgorithm {
    HmacSha256,
    Blake3,
}

/// A PRF keyed once and evaluated many times. Holds key material: wiped on drop
/// (the HMAC state by the `zeroize` feature of `hmac`), never printed.
pub(crate) enum KeyedPrf {
    // The keyed inner and outer states are computed once, then cloned per message:
    // ~1.5x faster than re-keying, as SHA-NI makes the two extra compressions dominant.
    HmacSha256(HmacSha256),
    Blake3(Zeroizing<[u8; KEY_LEN]>),
}

impl KeyedPrf {
    /// Keys the PRF; the key is copied (BLAKE3) or absorbed (HMAC), and the caller's copy
    /// stays the caller's to wipe.
    pub(crate) fn new(algorithm: PrfAlgorithm, key: &[u8; KEY_LEN]) -> Self {
        match algorithm {
            PrfAlgorithm::HmacSha256 => Self::HmacSha256(hmac_sha256_keyed(key)),
            PrfAlgorithm::Blake3 => Self::Blake3(Zeroizing::new(*key)),
        }
    }

    /// The 32-byte output over the concatenation of `parts`.
    pub(crate) fn eval(&self, parts: &[&[u8]]) -> [u8; 32] {
        match self {
            Self::HmacSha256(keyed) => {
                let mut mac = keyed.clone();
                for p in parts {
                    mac.update(p);
                }
                mac.finalize().into_bytes().into()
            }
            Self::Blake3(key) => {
                if let [one] = parts {
                    // One contiguous input takes BLAKE3's fastest path.
                    return *blake3::keyed_hash(key, one).as_bytes();
                }
                let mut h = blake3::Hasher::new_keyed(key);
                for p in parts {
                    h.update(p);
                }
                *h.finalize().as_bytes()
            }
        }
    }
}

fn hmac_sha256_keyed(key: &[u8]) -> HmacSha256 {
    match <HmacSha256 as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this arm cannot run.
        Err(_) => unreachable_hmac(),
    }
}

#[cold]
fn unreachable_hmac() -> ! {
    unreachable!("HMAC accepts keys of any length")
}

/// `HMAC-SHA256(key, message)`.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = hmac_sha256_keyed(key);
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The keyed BLAKE3 output stream (XOF) over the concatenation of `parts`.
pub(crate) fn blake3_stream(key: &[u8; KEY_LEN], parts: &[&[u8]]) -> blake3::OutputReader {
    let mut h = blake3::Hasher::new_keyed(key);
    for p in parts {
        h.update(p);
    }
    h.finalize_xof()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2_and_split_messages() {
        // RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?".
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let key = [9u8; 32];
        for alg in [PrfAlgorithm::HmacSha256, PrfAlgorithm::Blake3] {
            let prf = KeyedPrf::new(alg, &key);
            assert_eq!(prf.eval(&[b"ab", b"c"]), prf.eval(&[b"abc"]));
            assert_ne!(prf.eval(&[b"abc"]), prf.eval(&[b"abd"]));
        }
        let mut stream = blake3_stream(&key, &[b"x", b"y"]);
        let mut a = [0u8; 32];
        stream.fill(&mut a);
        assert_eq!(a, *blake3::keyed_hash(&key, b"xy").as_bytes());
    }
}
