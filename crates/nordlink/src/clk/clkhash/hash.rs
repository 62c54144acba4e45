//! clkhash's keyed hashes: BLAKE2b words (`blakeHash`) and HMAC-SHA1/MD5 double hashing.

use hmac::{KeyInit, Mac};

/// `words` 16-bit little-endian words from keyed BLAKE2b-512 digests salted "0", "1", ...
pub(super) fn blake_words(key: &[u8], token: &[u8], words: usize) -> Vec<u16> {
    use blake2::digest::{FixedOutput, Update};
    let mut out = Vec::with_capacity(words);
    for i in 0..words.div_ceil(32) {
        let salt = i.to_string();
        let mut mac =
            blake2::Blake2bMac512::new_with_salt_and_personal(Some(key), salt.as_bytes(), &[])
                .expect("key of 1..=64 bytes and a short salt are valid");
        Update::update(&mut mac, token);
        let digest = mac.finalize_fixed();
        out.extend(digest.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])));
    }
    out
}

/// A digest read as a big-endian integer, modulo `l`.
fn be_mod(digest: &[u8], l: u64) -> u64 {
    digest.iter().fold(0u64, |acc, &b| ((acc << 8) | u64::from(b)) % l)
}

pub(super) fn double_hash(
    key_sha1: &[u8],
    key_md5: &[u8],
    token: &[u8],
    l: u64,
    non_singular: bool,
) -> (u64, u64) {
    let sha1 = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key_sha1)
        .expect("HMAC takes keys of any length")
        .chain_update(token)
        .finalize()
        .into_bytes();
    let md5_of = |suffix: &[u8]| {
        let mac = <hmac::Hmac<md5::Md5> as KeyInit>::new_from_slice(key_md5)
            .expect("HMAC takes keys of any length");
        be_mod(&mac.chain_update(token).chain_update(suffix).finalize().into_bytes(), l)
    };
    let mut md5 = md5_of(&[]);
    if non_singular {
        let mut i = 0u32;
        while md5 == 0 {
            let c = char::from_u32(i).unwrap_or('\u{fffd}');
            md5 = md5_of(c.encode_utf8(&mut [0; 4]).as_bytes());
            i += 1;
        }
    }
    (be_mod(&sha1, l), md5)
}
