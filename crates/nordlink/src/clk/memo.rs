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

/// Whole masks of a field's values (one per distinct salt and cell), with the problem of a
/// value encoded under its `invalid` policy.
pub(crate) struct ValueMemo {
    table: HashTable<ValueEntry>,
    hasher: DefaultHashBuilder,
    /// Entries it may hold.
    capacity: usize,
}

struct ValueEntry {
    salt: Box<str>,
    raw: Box<str>,
    mask: Box<[u64]>,
    problem: Option<ValueProblem>,
}

impl ValueMemo {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { table: HashTable::new(), hasher: DefaultHashBuilder::default(), capacity }
    }

    /// The mask of `raw` under `salt`, if memoised.
    pub(crate) fn get(&self, salt: &str, raw: &str) -> Option<(&[u64], Option<ValueProblem>)> {
        let hash = self.hasher.hash_one((salt, raw));
        self.table.find(hash, |e| &*e.salt == salt && &*e.raw == raw).map(|e| (&*e.mask, e.problem))
    }

    /// Remembers a mask, unless the memo is full (then the value is computed each time).
    pub(crate) fn insert(
        &mut self,
        salt: &str,
        raw: &str,
        mask: &[u64],
        problem: Option<ValueProblem>,
    ) {
        if self.table.len() >= self.capacity {
            return;
        }
        let hasher = &self.hasher;
        let hash = hasher.hash_one((salt, raw));
        let entry = ValueEntry { salt: salt.into(), raw: raw.into(), mask: mask.into(), problem };
        self.table.insert_unique(hash, entry, |e| hasher.hash_one((&*e.salt, &*e.raw)));
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }
}

impl Drop for ValueMemo {
    fn drop(&mut self) {
        for e in self.table.iter_mut() {
            e.mask.zeroize();
            e.salt.zeroize();
            e.raw.zeroize();
        }
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

struct TokenEntry {
    k: u32,
    salt: Box<str>,
    token: Box<str>,
    positions: Box<[u32]>,
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
        let hash = self.hasher.hash_one((k, salt, token));
        let found = self.table.find(hash, |e| e.k == k && &*e.token == token && &*e.salt == salt);
        if let Some(e) = found {
            for &p in &e.positions {
                word_set(mask, p as usize);
            }
            return;
        }
        self.scratch.clear();
        compute(&mut self.scratch);
        for &p in &self.scratch {
            word_set(mask, p as usize);
        }
        if self.held + self.scratch.len() <= self.capacity {
            self.held += self.scratch.len();
            let hasher = &self.hasher;
            let entry = TokenEntry {
                k,
                salt: salt.into(),
                token: token.into(),
                positions: self.scratch.as_slice().into(),
            };
            self.table.insert_unique(hash, entry, |e| hasher.hash_one((e.k, &*e.salt, &*e.token)));
        }
        self.scratch.zeroize();
    }

    /// Positions held.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held
    }
}

impl Drop for TokenMemo {
    fn drop(&mut self) {
        for e in self.table.iter_mut() {
            e.positions.zeroize();
            e.salt.zeroize();
            e.token.zeroize();
        }
    }
}
