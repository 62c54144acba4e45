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
use super::tokenise::Tokens;

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
    /// Once full: lookups and hits in the current window, and lookups left to skip.
    window: (u32, u32),
    skip: u32,
}

/// Lookups over which a full value memo measures its hit rate.
const WINDOW: u32 = 4096;

/// A full memo that hits fewer than one lookup in this many over a window (a field of
/// nearly unique values, such as identifiers, or salted values that never fit) skips the
/// next [`SKIP_WINDOWS`] windows of lookups: a miss costs a hash and a probe that
/// usually misses the processor's cache, for nothing. It then measures again.
const LOW_HIT_RATE: u32 = 8;

/// Windows of lookups a low-hit memo skips before measuring again.
const SKIP_WINDOWS: u32 = 15;

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
        Self {
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            capacity,
            window: (0, 0),
            skip: 0,
        }
    }

    /// ORs the mask of `raw` under `salt` into `record` and returns its problem, if
    /// memoised; `None` otherwise (also while a low-hit memo skips its lookups).
    pub(crate) fn or_into(
        &mut self,
        salt: &str,
        raw: &str,
        record: &mut [u64],
    ) -> Option<Option<ValueProblem>> {
        if self.skip > 0 {
            self.skip -= 1;
            return None;
        }
        let hash = self.hasher.hash_one((salt.as_bytes(), raw.as_bytes()));
        let found =
            self.table.find(hash, |e| e.raw() == raw.as_bytes() && e.salt() == salt.as_bytes());
        if self.table.len() >= self.capacity {
            let (lookups, hits) = (self.window.0 + 1, self.window.1 + u32::from(found.is_some()));
            self.window = (lookups, hits);
            if lookups == WINDOW {
                if hits * LOW_HIT_RATE < WINDOW {
                    self.skip = SKIP_WINDOWS * WINDOW;
                }
                self.window = (0, 0);
            }
        }
        let e = found?;
        for (r, m) in record.iter_mut().zip(e.mask().chunks_exact(8)) {
            *r |= u64::from_le_bytes(m.try_into().unwrap_or_default());
        }
        Some(e.problem)
    }

    /// ORs into `into` the mask of `raw` under `salt` that `fill` writes, keeping a copy
    /// when there is room: both encoders compute a missed value's mask this way.
    pub(crate) fn or_and_keep(
        &mut self,
        (salt, raw): (&str, &str),
        problem: Option<ValueProblem>,
        into: &mut [u64],
        fill: impl FnOnce(&mut [u64]),
    ) {
        if !self.has_room(salt, raw) {
            // Not kept: straight into the record.
            fill(into);
            return;
        }
        let mut mask = vec![0u64; into.len()];
        fill(&mut mask);
        for (x, y) in into.iter_mut().zip(&mask) {
            *x |= y;
        }
        self.insert(salt, raw, &mask, problem);
        // Derived from the key, like the memo's copy.
        mask.zeroize();
    }

    /// Whether [`insert`](Self::insert) would keep a mask for this key.
    fn has_room(&self, salt: &str, raw: &str) -> bool {
        self.table.len() < self.capacity && salt.len() + raw.len() <= MAX_KEY_BYTES
    }

    /// Remembers a mask, unless the memo is full.
    fn insert(&mut self, salt: &str, raw: &str, mask: &[u64], problem: Option<ValueProblem>) {
        // Full: the value is computed each time from now on. (Wiping a full memo and
        // refilling it measured twice as slow: values that never repeat, such as
        // social-security numbers, flush out the names that do.)
        if !self.has_room(salt, raw) {
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

/// A field's cells and their tokens (normalised and tokenised, before any salt): under a
/// salt, a name seen in another salt group is not normalised and tokenised again. Nothing
/// here comes from the key (it is input text), so it needs no wiping.
pub(crate) struct TokensMemo {
    table: HashTable<TokensEntry>,
    hasher: DefaultHashBuilder,
    /// Bytes held (an estimate, overheads included), and the most it may hold.
    held: usize,
    capacity: usize,
}

/// One heap block per entry, `raw || text || ends`: a hit loads the table slot and this
/// block, where separate boxes for the cell, the token text and the offsets cost four
/// dependent cache misses. Each token's end in `text` is two ASCII bytes (7 bits each), so
/// the block stays a `str` and a hit needs no UTF-8 check.
struct TokensEntry {
    data: Box<str>,
    raw_len: u32,
    text_len: u32,
    problem: Option<ValueProblem>,
}

/// Token text longer than this is not memoised: an end must fit two 7-bit digits.
const MAX_TOKENS_TEXT: usize = 1 << 14;

impl TokensEntry {
    fn raw(&self) -> &[u8] {
        &self.data.as_bytes()[..self.raw_len as usize]
    }
}

/// The tokens of a memoised cell, borrowed from its entry.
#[derive(Clone, Copy)]
pub(crate) struct TokensView<'a> {
    text: &'a str,
    ends: &'a [u8],
}

impl<'a> TokensView<'a> {
    /// The tokens in order.
    pub(crate) fn iter(self) -> impl Iterator<Item = &'a str> + Clone {
        let text = self.text;
        let mut start = 0;
        self.ends.chunks_exact(2).map(move |c| {
            let end = usize::from(c[0]) << 7 | usize::from(c[1]);
            let token = text.get(start..end).unwrap_or_default();
            start = end;
            token
        })
    }
}

/// What an entry costs beyond its bytes (the slot, the allocation's header).
const TOKENS_ENTRY_COST: usize = 48;

impl TokensMemo {
    /// A memo holding about `capacity` bytes at most.
    pub(crate) fn new(capacity: usize) -> Self {
        Self { table: HashTable::new(), hasher: DefaultHashBuilder::default(), held: 0, capacity }
    }

    /// The tokens of `raw` and the problem it was encoded with, if memoised.
    pub(crate) fn get(&self, raw: &str) -> Option<(TokensView<'_>, Option<ValueProblem>)> {
        let hash = self.hasher.hash_one(raw.as_bytes());
        let e = self.table.find(hash, |e| e.raw() == raw.as_bytes())?;
        let rest = e.data.get(e.raw_len as usize..)?;
        let (text, ends) = rest.split_at_checked(e.text_len as usize)?;
        Some((TokensView { text, ends: ends.as_bytes() }, e.problem))
    }

    /// Remembers the tokens of `raw`, unless the memo is full.
    pub(crate) fn insert(&mut self, raw: &str, tokens: &Tokens, problem: Option<ValueProblem>) {
        let (text, ends) = tokens.parts();
        let cost = TOKENS_ENTRY_COST + raw.len() + text.len() + 2 * ends.len();
        if self.held + cost > self.capacity
            || raw.len() > MAX_KEY_BYTES
            || text.len() >= MAX_TOKENS_TEXT
        {
            return;
        }
        // Both below MAX_TOKENS_TEXT, checked above.
        let (Ok(raw_len), Ok(text_len)) = (u32::try_from(raw.len()), u32::try_from(text.len()))
        else {
            return;
        };
        let mut data = String::with_capacity(raw.len() + text.len() + 2 * ends.len());
        data.push_str(raw);
        data.push_str(text);
        for &end in ends {
            // Ends are at most text.len() < 2^14: two 7-bit digits, each an ASCII char.
            let digit = |d: usize| char::from(u8::try_from(d & 0x7f).unwrap_or_default());
            data.push(digit(end >> 7));
            data.push(digit(end));
        }
        self.held += cost;
        let entry = TokensEntry { data: data.into(), raw_len, text_len, problem };
        let hasher = &self.hasher;
        let hash = hasher.hash_one(raw.as_bytes());
        self.table.insert_unique(hash, entry, |e| hasher.hash_one(e.raw()));
    }
}

/// Longest token a [`TokenMemo`] keeps, in bytes: q-grams, date parts and numbers fit, and
/// a token that short is kept in the table slot itself, so a lookup compares it there.
const INLINE_TOKEN: usize = 16;

/// What a salt group costs beyond its positions, counted in positions (u32) against the
/// bound: its tables and salt, so that a file of very many distinct salts (say whole
/// birth dates) fills the memo instead of growing it.
const GROUP_COST: usize = 64;

/// Bit positions of a field's tokens, grouped by salt, then keyed by (bits per token,
/// token): `k` numbers a token instead of a whole filter-length mask, so far more tokens
/// fit in the bound. A salted batch arrives sorted by salt, so the tokens of one salt group
/// stay in the processor's cache while its records are encoded; the group of the previous
/// lookup is tried first.
pub(crate) struct TokenMemo {
    /// Index into `groups` by salt.
    index: HashTable<u32>,
    groups: Vec<SaltGroup>,
    hasher: DefaultHashBuilder,
    /// The group chosen by [`select`](Self::select), and the last one found.
    current: Option<usize>,
    last: Option<usize>,
    /// Positions held (groups counted by [`GROUP_COST`]), and the most it may hold.
    held: usize,
    capacity: usize,
    /// Positions of a token just computed.
    scratch: Vec<u32>,
}

/// The tokens of one salt.
struct SaltGroup {
    salt: Box<[u8]>,
    slots: HashTable<Slot>,
    /// Every slot's positions, one after the other.
    positions: Vec<u32>,
}

/// Positions a slot holds itself, as u16 (filters of up to 65 536 bits before folding):
/// with the token and its `k`, one 64-byte cache line, so a hit loads the table's control
/// bytes and this line, and never a positions array elsewhere.
const INLINE_POSITIONS: usize = 21;

/// `Slot::inline` of a token whose positions are in the group's `positions` (more than
/// [`INLINE_POSITIONS`], or beyond u16); `pos` then holds start and count as u32 halves.
const SPILLED: u8 = u8::MAX;

/// A memoised token: the token inline (zero-padded, with its length), its `k`, and its
/// positions (inline, or where they are in the group's `positions`). Aligned to a cache
/// line so a slot never straddles two.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Slot {
    token: [u64; 2],
    k: u32,
    len: u8,
    inline: u8,
    pos: [u16; INLINE_POSITIONS],
}

impl Slot {
    fn wipe(&mut self) {
        self.token.zeroize();
        self.pos.zeroize();
    }

    /// Where a spilled slot's positions are in its group's `positions`.
    fn spilled_range(&self) -> std::ops::Range<usize> {
        let start = u32::from(self.pos[0]) | u32::from(self.pos[1]) << 16;
        let count = u32::from(self.pos[2]) | u32::from(self.pos[3]) << 16;
        start as usize..(start + count) as usize
    }
}

/// What a slot costs against the bound, counted in positions (u32): its 64 bytes.
const SLOT_COST: usize = 16;

/// A token as its slot holds it (its bytes little-endian in two words, then its length),
/// or `None` if it is too long to keep. Built in registers: copying the bytes into an
/// array and reading it back as words stalls on every lookup.
fn inline(token: &[u8]) -> Option<([u64; 2], u8)> {
    let len = u8::try_from(token.len()).ok().filter(|&l| usize::from(l) <= INLINE_TOKEN)?;
    let (mut lo, mut hi) = (0u64, 0u64);
    for (i, &b) in token.iter().enumerate() {
        if i < 8 {
            lo |= u64::from(b) << (8 * i);
        } else {
            hi |= u64::from(b) << (8 * (i - 8));
        }
    }
    Some(([lo, hi], len))
}

impl TokenMemo {
    /// A memo holding at most `capacity` positions in all.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            index: HashTable::new(),
            groups: Vec::new(),
            hasher: DefaultHashBuilder::default(),
            current: None,
            last: None,
            held: 0,
            capacity,
            scratch: Vec::new(),
        }
    }

    /// Chooses the salt whose tokens the following [`set_bits`](Self::set_bits) calls
    /// look up: its group, made if there is room (none when there is not).
    pub(crate) fn select(&mut self, salt: &str) {
        let salt = salt.as_bytes();
        if let Some(g) = self.last
            && *self.groups[g].salt == *salt
        {
            self.current = Some(g);
            return;
        }
        self.current = self.group(salt);
        if self.current.is_some() {
            self.last = self.current;
        }
    }

    /// The group of `salt`, made if there is room; `None` when the memo has no room for it.
    fn group(&mut self, salt: &[u8]) -> Option<usize> {
        let hash = self.hasher.hash_one(salt);
        let groups = &self.groups;
        if let Some(&g) = self.index.find(hash, |&g| *groups[g as usize].salt == *salt) {
            return Some(g as usize);
        }
        let cost = GROUP_COST + salt.len().div_ceil(4);
        let g = u32::try_from(self.groups.len())
            .ok()
            .filter(|_| self.held + cost <= self.capacity && salt.len() <= MAX_KEY_BYTES)?;
        self.held += cost;
        self.groups.push(SaltGroup {
            salt: salt.into(),
            slots: HashTable::new(),
            positions: Vec::new(),
        });
        let (groups, hasher) = (&self.groups, &self.hasher);
        self.index.insert_unique(hash, g, |&g| hasher.hash_one(&*groups[g as usize].salt));
        Some(g as usize)
    }

    /// Sets the bits of `token` (`k` bits, under the [`select`](Self::select)ed salt) in
    /// `mask`; `compute` appends its positions when they are not memoised.
    pub(crate) fn set_bits(
        &mut self,
        (k, token): (u32, &str),
        mask: &mut [u64],
        compute: impl FnOnce(&mut Vec<u32>),
    ) {
        let key = inline(token.as_bytes());
        let group = key.and(self.current);
        let mut slot = None;
        if let (Some((token, len)), Some(g)) = (key, group) {
            let group = &self.groups[g];
            let hash = self.hasher.hash_one((k, len, token));
            let found = group.slots.find(hash, |s| s.k == k && s.len == len && s.token == token);
            if let Some(s) = found {
                if s.inline == SPILLED {
                    for &p in &group.positions[s.spilled_range()] {
                        word_set(mask, p as usize);
                    }
                } else {
                    for &p in &s.pos[..usize::from(s.inline)] {
                        word_set(mask, usize::from(p));
                    }
                }
                return;
            }
            slot = Some((hash, token, len, g));
        }
        self.scratch.clear();
        compute(&mut self.scratch);
        for &p in &self.scratch {
            word_set(mask, p as usize);
        }
        if let Some((hash, token, len, g)) = slot {
            self.keep(g, hash, (k, token, len));
        }
        self.scratch.zeroize();
    }

    /// Memoises the positions in `scratch` for a token in group `g`, if there is room.
    fn keep(&mut self, g: usize, hash: u64, (k, token, len): (u32, [u64; 2], u8)) {
        let mut slot = Slot { token, k, len, inline: 0, pos: [0; INLINE_POSITIONS] };
        let inline = self.scratch.len() <= INLINE_POSITIONS
            && self.scratch.iter().all(|&p| u16::try_from(p).is_ok());
        let cost = SLOT_COST + if inline { 0 } else { self.scratch.len() };
        if self.held + cost > self.capacity {
            return;
        }
        let group = &mut self.groups[g];
        if inline {
            for (to, &p) in slot.pos.iter_mut().zip(&self.scratch) {
                *to = u16::try_from(p).unwrap_or_default();
            }
            // At most INLINE_POSITIONS, so it fits a u8 below SPILLED.
            slot.inline = u8::try_from(self.scratch.len()).unwrap_or(SPILLED);
        } else {
            let (Ok(start), Ok(count)) =
                (u32::try_from(group.positions.len()), u32::try_from(self.scratch.len()))
            else {
                return;
            };
            append_zeroising(&mut group.positions, &self.scratch);
            slot.inline = SPILLED;
            #[allow(clippy::cast_possible_truncation, reason = "u32 halves, by design")]
            let halves = [start as u16, (start >> 16) as u16, count as u16, (count >> 16) as u16];
            slot.pos[..4].copy_from_slice(&halves);
        }
        self.held += cost;
        let hasher = &self.hasher;
        let rehash = |s: &Slot| hasher.hash_one((s.k, s.len, s.token));
        // Grown by hand: hashbrown frees the old table without wiping it, and the slots
        // hold positions.
        if group.slots.len() == group.slots.capacity() {
            let mut bigger = HashTable::with_capacity((2 * group.slots.capacity()).max(16));
            for s in &group.slots {
                bigger.insert_unique(rehash(s), *s, rehash);
            }
            for s in group.slots.iter_mut() {
                s.wipe();
            }
            group.slots = bigger;
        }
        group.slots.insert_unique(hash, slot, rehash);
    }

    /// Positions held.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held
    }
}

/// Appends `items` to `v`; when `v` must grow, its old buffer is zeroed before it is
/// freed, so no copy of the positions is left behind in freed memory.
fn append_zeroising(v: &mut Vec<u32>, items: &[u32]) {
    if v.capacity() - v.len() < items.len() {
        let mut bigger = Vec::with_capacity((2 * v.capacity()).max(v.len() + items.len()).max(64));
        bigger.extend_from_slice(v);
        v.zeroize();
        *v = bigger;
    }
    v.extend_from_slice(items);
}

impl TokenMemo {
    /// Zeroes and forgets every entry: the positions, which come from the key, must not
    /// outlive the memo (slots hold them too, beside tokens, which are input text).
    fn wipe(&mut self) {
        for g in &mut self.groups {
            g.positions.zeroize();
            g.salt.zeroize();
            for s in g.slots.iter_mut() {
                s.wipe();
            }
            g.slots.clear();
        }
        self.groups.clear();
        self.index.clear();
        self.current = None;
        self.last = None;
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
    fn a_full_memo_that_rarely_hits_stops_looking() {
        let mut values = ValueMemo::new(2);
        values.insert("", "a", &[1], None);
        values.insert("", "b", &[2], None);
        let mut record = [0u64];
        // Every lookup misses for a window: the next windows are skipped, even for "a".
        for i in 0..WINDOW {
            assert!(values.or_into("", &i.to_string(), &mut record).is_none());
        }
        for _ in 0..SKIP_WINDOWS * WINDOW {
            assert!(values.or_into("", "a", &mut record).is_none());
        }
        assert_eq!(record[0], 0);
        // Then it looks again, and a memo that hits keeps looking.
        for _ in 0..2 * WINDOW {
            assert_eq!(values.or_into("", "b", &mut record), Some(None));
        }
        assert_eq!((record[0], values.skip), (2, 0));
    }

    #[test]
    fn positions_come_back_inline_or_spilled() {
        let mut memo = TokenMemo::new(1 << 20);
        memo.select("1990");
        // Short lists of small positions sit in the slot; long lists and positions beyond
        // u16 go to the group's array. Enough tokens that the table grows several times.
        let positions = |t: u32, k: u32| -> Vec<u32> {
            let big = if t.is_multiple_of(3) { 70_000 } else { 0 };
            (0..k).map(|i| big + (t * 131 + i * 17) % 4096).collect()
        };
        let mask_of = |ps: &[u32]| {
            let mut m = vec![0u64; 75_000 / 64 + 1];
            ps.iter().for_each(|&p| word_set(&mut m, p as usize));
            m
        };
        for round in 0..2 {
            for t in 0..500u32 {
                let k = if t.is_multiple_of(2) { 10 } else { 30 };
                let want = positions(t, k);
                let mut got = vec![0u64; 75_000 / 64 + 1];
                let mut computed = false;
                memo.set_bits((k, &format!("t{t}")), &mut got, |out| {
                    computed = true;
                    out.extend(&want);
                });
                assert_eq!(got, mask_of(&want), "token {t}");
                assert_eq!(computed, round == 0, "token {t} memoised after its first use");
            }
        }
    }

    #[test]
    fn tokenised_cells_come_back_as_they_went_in() {
        use super::super::tokenise::Tokeniser;
        let mut memo = TokensMemo::new(1 << 10);
        let mut tokens = Tokens::default();
        let tokeniser = Tokeniser::Qgrams { q: 2, padding: true, positional: false };
        for cell in ["Åsa", "Þórunn", "x", ""] {
            tokens.clear();
            tokeniser.tokens(cell, &mut tokens).unwrap();
            memo.insert(cell, &tokens, None);
            let (view, problem) = memo.get(cell).expect("room for it");
            assert!(view.iter().eq(tokens.iter()), "{cell}");
            assert_eq!(problem, None);
        }
        assert!(memo.get("Åse").is_none());
        // Full: a further cell is not kept, and what is held stays within the bound.
        tokens.clear();
        tokeniser.tokens(&"y".repeat(200), &mut tokens).unwrap();
        for i in 0..20 {
            memo.insert(&format!("{i}{}", "y".repeat(200)), &tokens, None);
        }
        assert!(memo.held <= memo.capacity);
        assert!(memo.get(&format!("19{}", "y".repeat(200))).is_none());
    }

    #[test]
    fn long_keys_are_not_kept() {
        let long = "x".repeat(MAX_KEY_BYTES + 1);
        let mut values = ValueMemo::new(10);
        values.insert("", &long, &[1], None);
        values.insert("1990", "berg", &[1], None);
        assert_eq!(values.len(), 1);
        let mut tokens = TokenMemo::new(100);
        let mut mask = [0u64; 1];
        tokens.select("");
        tokens.set_bits((1, &long), &mut mask, |out| out.push(3));
        assert_eq!((tokens.held(), mask[0]), (GROUP_COST, 1 << 60));
        tokens.set_bits((1, "be"), &mut mask, |out| out.push(5));
        assert_eq!(tokens.held(), GROUP_COST + SLOT_COST);
    }
}
