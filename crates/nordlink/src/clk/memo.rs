//! The encoder's memos: a field's value → its whole mask, and a token → its bit positions.
//!
//! Names, places and q-grams repeat, so most lookups hit; a lookup borrows the cell and
//! the salt (no allocation) and hashes them with foldhash (through hashbrown) instead of
//! SipHash. foldhash is not collision-resistant against someone who knows its seed, but
//! the seed is random per process and never leaves it, so a file cannot be built to
//! collide; and both memos are bounded, so even a collision flood would cost time within
//! that bound, never memory.
//!
//! Entries are derived from the key (a token's positions are what a dictionary attack
//! would want), so they stay in memory and are wiped when the memo is dropped.

use std::hash::BuildHasher as _;

use hashbrown::{DefaultHashBuilder, HashTable};
use zeroize::Zeroize;

use super::bitorder::word_set;
use super::error::ValueProblem;

/// Longest key (salt and cell, or salt and token) a memo keeps, in bytes. Entries are
/// counted, not weighed, so without this a file of distinct 1 MiB cells would fill a memo
/// with gigabytes; names, streets and their tokens are far shorter.
const MAX_KEY_BYTES: usize = 256;

/// Whole masks of a field's values (one per distinct salt and cell), with the problem of a
/// value encoded under its `invalid` policy.
pub(crate) struct ValueMemo {
    table: HashTable<ValueEntry>,
    hasher: DefaultHashBuilder,
    /// Entries it may hold.
    capacity: usize,
}

/// One heap block per entry, `mask || salt || raw` (the mask as little-endian words): a
/// hit then touches the table slot and this block only.
struct ValueEntry {
    salt_len: u32,
    mask_bytes: u32,
    data: Box<[u8]>,
    problem: Option<ValueProblem>,
}

impl ValueEntry {
    fn mask(&self) -> &[u8] {
        &self.data[..self.mask_bytes as usize]
    }

    fn salt(&self) -> &[u8] {
        &self.data[self.mask_bytes as usize..][..self.salt_len as usize]
    }

    fn raw(&self) -> &[u8] {
        &self.data[(self.mask_bytes + self.salt_len) as usize..]
    }
}

impl ValueMemo {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { table: HashTable::new(), hasher: DefaultHashBuilder::default(), capacity }
    }

    /// ORs the mask of `raw` under `salt` into `record` and returns its problem, if
    /// memoised; `None` otherwise.
    pub(crate) fn or_into(
        &self,
        salt: &str,
        raw: &str,
        record: &mut [u64],
    ) -> Option<Option<ValueProblem>> {
        let hash = self.hasher.hash_one((salt.as_bytes(), raw.as_bytes()));
        let e =
            self.table.find(hash, |e| e.raw() == raw.as_bytes() && e.salt() == salt.as_bytes())?;
        for (r, m) in record.iter_mut().zip(e.mask().chunks_exact(8)) {
            *r |= u64::from_le_bytes(m.try_into().unwrap_or_default());
        }
        Some(e.problem)
    }

    /// Remembers a mask, unless the memo is full.
    pub(crate) fn insert(
        &mut self,
        salt: &str,
        raw: &str,
        mask: &[u64],
        problem: Option<ValueProblem>,
    ) {
        // Full: the value is computed each time from now on. (Wiping a full memo and
        // refilling it measured twice as slow: values that never repeat, such as
        // social-security numbers, flush out the names that do.)
        if self.table.len() >= self.capacity || salt.len() + raw.len() > MAX_KEY_BYTES {
            return;
        }
        // Cells are bounded by the readers (1 MiB rows), masks by the filter length.
        let (Ok(salt_len), Ok(mask_bytes)) =
            (u32::try_from(salt.len()), u32::try_from(8 * mask.len()))
        else {
            return;
        };
        let mut data = Vec::with_capacity(8 * mask.len() + salt.len() + raw.len());
        data.extend(mask.iter().flat_map(|w| w.to_le_bytes()));
        data.extend_from_slice(salt.as_bytes());
        data.extend_from_slice(raw.as_bytes());
        let entry = ValueEntry { salt_len, mask_bytes, data: data.into(), problem };
        let hasher = &self.hasher;
        let hash = hasher.hash_one((salt.as_bytes(), raw.as_bytes()));
        self.table.insert_unique(hash, entry, |e| hasher.hash_one((e.salt(), e.raw())));
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }
}

impl ValueMemo {
    /// Zeroes and forgets every entry.
    fn wipe(&mut self) {
        for e in self.table.iter_mut() {
            e.data.zeroize();
        }
        self.table.clear();
    }
}

impl Drop for ValueMemo {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// Bit positions of a field's tokens, keyed by (bits per token, salt, token): `k` numbers
/// a token instead of a whole filter-length mask, so far more tokens fit in the bound.
pub(crate) struct TokenMemo {
    table: HashTable<TokenEntry>,
    hasher: DefaultHashBuilder,
    /// Positions held, and the most it may hold.
    held: usize,
    capacity: usize,
    /// Positions of a token just computed.
    scratch: Vec<u32>,
}

/// One heap block per entry, `positions || salt || token` (positions as little-endian
/// u32), like [`ValueEntry`].
struct TokenEntry {
    k: u32,
    salt_len: u32,
    position_bytes: u32,
    data: Box<[u8]>,
}

impl TokenEntry {
    fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.data[..self.position_bytes as usize]
            .chunks_exact(4)
            .map(|p| u32::from_le_bytes(p.try_into().unwrap_or_default()) as usize)
    }

    fn salt(&self) -> &[u8] {
        &self.data[self.position_bytes as usize..][..self.salt_len as usize]
    }

    fn token(&self) -> &[u8] {
        &self.data[(self.position_bytes + self.salt_len) as usize..]
    }
}

impl TokenMemo {
    /// A memo holding at most `capacity` positions in all.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            held: 0,
            capacity,
            scratch: Vec::new(),
        }
    }

    /// Sets the bits of `token` (under `salt`, `k` bits) in `mask`; `compute` appends its
    /// positions when they are not memoised.
    pub(crate) fn set_bits(
        &mut self,
        (k, salt, token): (u32, &str, &str),
        mask: &mut [u64],
        compute: impl FnOnce(&mut Vec<u32>),
    ) {
        let (salt, token) = (salt.as_bytes(), token.as_bytes());
        let hash = self.hasher.hash_one((k, salt, token));
        let found = self.table.find(hash, |e| e.k == k && e.token() == token && e.salt() == salt);
        if let Some(e) = found {
            for p in e.positions() {
                word_set(mask, p);
            }
            return;
        }
        self.scratch.clear();
        compute(&mut self.scratch);
        for &p in &self.scratch {
            word_set(mask, p as usize);
        }
        let lens = (u32::try_from(salt.len()), u32::try_from(4 * self.scratch.len()));
        if let (true, Ok(salt_len), Ok(position_bytes)) = (
            self.held + self.scratch.len() <= self.capacity
                && salt.len() + token.len() <= MAX_KEY_BYTES,
            lens.0,
            lens.1,
        ) {
            self.held += self.scratch.len();
            let mut data = Vec::with_capacity(4 * self.scratch.len() + salt.len() + token.len());
            data.extend(self.scratch.iter().flat_map(|p| p.to_le_bytes()));
            data.extend_from_slice(salt);
            data.extend_from_slice(token);
            let entry = TokenEntry { k, salt_len, position_bytes, data: data.into() };
            let hasher = &self.hasher;
            self.table.insert_unique(hash, entry, |e| hasher.hash_one((e.k, e.salt(), e.token())));
        }
        self.scratch.zeroize();
    }

    /// Positions held.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held
    }
}

impl TokenMemo {
    /// Zeroes and forgets every entry.
    fn wipe(&mut self) {
        for e in self.table.iter_mut() {
            e.data.zeroize();
        }
        self.table.clear();
        self.held = 0;
    }
}

impl Drop for TokenMemo {
    fn drop(&mut self) {
        self.wipe();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_keys_are_not_kept() {
        let long = "x".repeat(MAX_KEY_BYTES + 1);
        let mut values = ValueMemo::new(10);
        values.insert("", &long, &[1], None);
        values.insert("1990", "berg", &[1], None);
        assert_eq!(values.len(), 1);
        let mut tokens = TokenMemo::new(100);
        let mut mask = [0u64; 1];
        tokens.set_bits((1, "", &long), &mut mask, |out| out.push(3));
        assert_eq!((tokens.held(), mask[0]), (0, 1 << 60));
        tokens.set_bits((1, "", "be"), &mut mask, |out| out.push(5));
        assert_eq!(tokens.held(), 1);
    }
}
