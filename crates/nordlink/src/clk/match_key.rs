//! Keyed match keys: construction `nordlink-matchkey/1` (see `docs/schema.md`).
//!
//! A match key is an exact-match pseudonym of a combination of field values, made under
//! the encoding key: records that agree on the combination agree on the key, and nothing
//! else about the values can be computed without the key. The linkage unit uses keys for
//! blocking and as agreement evidence beside the filters.
//!
//! ```text
//! K_name = HKDF-SHA256(salt = "nordlink-matchkey/1", IKM = master key,
//!                      info = u8(9) || "match-key" || u16be(len C) || C || u16be(len N) || N)
//! key    = HMAC-SHA256(K_name, u16be(len p1) || p1 || ... || u16be(len pn) || pn)[0..16]
//! ```
//! with `C` the schema's context, `N` the key's name and `p1..pn` its parts: each the
//! field's value as the encoder prepares it (normalised; a date as `YYYY-MM-DD`) passed
//! through the part's transform. A key whose part is missing, invalid or transforms to
//! nothing is missing. The `salt` key hashes the record's salt (`nordlink-clk/1`'s `s`).

use serde::Deserialize;
use zeroize::Zeroizing;

use super::encoder::Prepared;
use super::schema::{Field, FieldKind, Schema};
use super::tokenise::Tokeniser;
use crate::SecretKey;
use crate::kdf::derive_subkey;
use crate::prf::{KeyedPrf, PrfAlgorithm};

/// The construction's name; also the HKDF salt.
pub const MATCH_KEY_CONSTRUCTION: &str = "nordlink-matchkey/1";

/// Bytes of a match key: 128 bits, so unrelated values collide with probability 2^-128.
pub const MATCH_KEY_LEN: usize = 16;

/// Most match keys a schema may define (besides `salt`).
pub const MAX_MATCH_KEYS: usize = 16;

/// Most parts one match key may combine.
pub const MAX_KEY_PARTS: usize = 8;

/// The name of the key that hashes the record's salt, added when a salted schema asks
/// for match keys: the linker uses it to tell which pairs' filters are comparable.
pub const SALT_KEY: &str = "salt";

/// The default key of the given name's and the surname's phonetic codes in either order,
/// with the birth year ([`MatchKeySpec::is_unordered`]): the linker reads a pair that
/// agrees on it but not on the names one by one as names written the other way round.
pub const NAMES_UNORDERED_KEY: &str = "names_unordered_year";

/// One match key's value.
pub type MatchKeyValue = [u8; MATCH_KEY_LEN];

/// What a part takes from its field's prepared value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Transform {
    /// The whole value.
    #[default]
    Value,
    /// A date's year (`YYYY`); date fields only.
    Year,
    /// A date with day and month in ascending order (`YYYY-a-b`, `a <= b`): equal for a
    /// date and the same date with day and month swapped; date fields only.
    DayMonthUnordered,
    /// The first letter.
    Initial,
    /// The Cologne phonetic code (Postel 1969) of the value, which sorts the spelling
    /// variants of Germanic names (Carlsson and Karlsson, Nilsson and Nielsen) together
    /// once the Nordic letters are folded.
    Phonetic,
}

impl Transform {
    /// The transform in the schema's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Value => "value",
            Self::Year => "year",
            Self::DayMonthUnordered => "day_month_unordered",
            Self::Initial => "initial",
            Self::Phonetic => "phonetic",
        }
    }

    fn needs_date(self) -> bool {
        matches!(self, Self::Year | Self::DayMonthUnordered)
    }

    /// The part a prepared value gives; `None` when nothing remains.
    fn apply(self, value: &str) -> Option<String> {
        let out = match self {
            Self::Value => value.to_owned(),
            Self::Year => value.get(..4)?.to_owned(),
            Self::DayMonthUnordered => {
                let (year, rest) = value.split_once('-')?;
                let (month, day) = rest.split_once('-')?;
                let (a, b) = if month <= day { (month, day) } else { (day, month) };
                format!("{year}-{a}-{b}")
            }
            Self::Initial => value.chars().next()?.to_string(),
            Self::Phonetic => rphonetic::Encoder::encode(&rphonetic::Cologne, value),
        };
        (!out.is_empty()).then_some(out)
    }
}

/// One part of a match key: a field (by index in [`Schema::fields`]) and a transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPart {
    /// Index of the field in [`Schema::fields`].
    pub field: usize,
    /// What the part takes from the field's value.
    pub transform: Transform,
}

/// A validated match key definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchKeySpec {
    pub(crate) name: String,
    /// Empty for the [`SALT_KEY`], which hashes the record's salt.
    pub(crate) parts: Vec<KeyPart>,
    /// Whether the parts are hashed in byte order rather than as listed.
    pub(crate) unordered: bool,
}

impl MatchKeySpec {
    /// The key's name: part of its key derivation, and of its column (`key_<name>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its parts, in order (empty for the [`SALT_KEY`]).
    pub fn parts(&self) -> &[KeyPart] {
        &self.parts
    }

    /// Whether this is the key of the record's salt.
    pub fn is_salt(&self) -> bool {
        self.parts.is_empty()
    }

    /// Whether the parts are sorted (by their bytes) before hashing, so that records with
    /// the same parts in another order get the same key: a given name and a surname
    /// written the other way round.
    pub fn is_unordered(&self) -> bool {
        self.unordered
    }

    /// Writes into `message` (cleared first) what the key hashes for one record: its
    /// length-prefixed parts, or the salt for the [`SALT_KEY`]. `None` when the key is
    /// missing. `nordlink assess` groups plaintext records by this message, which is the
    /// key's value before the keyed hash.
    pub(crate) fn message<F: FnMut(usize) -> Option<String>>(
        &self,
        parts: &mut Parts<F>,
        salt: &str,
        message: &mut Vec<u8>,
    ) -> Option<()> {
        message.clear();
        if self.is_salt() {
            return push_part(message, salt);
        }
        if self.unordered {
            let mut values = Vec::with_capacity(self.parts.len());
            for &p in &self.parts {
                values.push(parts.get(p)?);
            }
            values.sort_unstable();
            for value in &values {
                push_part(message, value)?;
            }
            return Some(());
        }
        for &p in &self.parts {
            push_part(message, &parts.get(p)?)?;
        }
        Some(())
    }
}

/// One record's key parts, each transformed once however many keys read it (the default
/// keys read each name's phonetic code twice). `prepared(i)` is field `i`'s prepared
/// value, `None` when missing or invalid.
pub(crate) struct Parts<F> {
    prepared: F,
    done: Vec<(KeyPart, Option<String>)>,
}

impl<F: FnMut(usize) -> Option<String>> Parts<F> {
    pub(crate) fn new(prepared: F) -> Self {
        Self { prepared, done: Vec::new() }
    }

    fn get(&mut self, p: KeyPart) -> Option<String> {
        if let Some((_, v)) = self.done.iter().find(|(q, _)| *q == p) {
            return v.clone();
        }
        let v = (self.prepared)(p.field).and_then(|value| p.transform.apply(&value));
        self.done.push((p, v.clone()));
        v
    }
}

/// A match key as written in a schema file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MatchKeyFile {
    name: String,
    parts: Vec<PartFile>,
    #[serde(default)]
    unordered: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartFile {
    field: String,
    #[serde(default)]
    transform: Transform,
}

fn is_date(field: &Field) -> bool {
    field.tokeniser == Tokeniser::DateParts
}

/// Checks the schema file's keys against its fields; `defaults` adds
/// [`default_keys`] first. A salted schema with any key gets the [`SALT_KEY`] last.
pub(crate) fn validate(
    files: Vec<MatchKeyFile>,
    defaults: bool,
    fields: &[Field],
    salted: bool,
) -> Result<Vec<MatchKeySpec>, (String, String)> {
    let mut keys = if defaults { default_keys(fields) } else { Vec::new() };
    for file in files {
        let name = file.name;
        let bad = |p: &str| (name.clone(), p.to_owned());
        let well_formed = (1..=64).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !well_formed {
            return Err(bad("a name is 1 to 64 of a-z, 0-9 and _ (it names a column)"));
        }
        if name == SALT_KEY {
            return Err(bad("the name salt is kept for the key of the record's salt"));
        }
        if keys.iter().any(|k: &MatchKeySpec| k.name == name) {
            return Err(bad("duplicate match key name (default keys count too)"));
        }
        if file.parts.is_empty() || file.parts.len() > MAX_KEY_PARTS {
            return Err(bad(&format!("a key has 1 to {MAX_KEY_PARTS} parts")));
        }
        let mut parts = Vec::with_capacity(file.parts.len());
        for p in file.parts {
            let Some(field) = fields.iter().position(|f| f.name == p.field) else {
                return Err(bad(&format!("{:?} is not a field", p.field)));
            };
            if p.transform.needs_date() && !is_date(&fields[field]) {
                return Err(bad(&format!("{} needs a date field", p.transform.as_str())));
            }
            parts.push(KeyPart { field, transform: p.transform });
        }
        if file.unordered && parts.len() < 2 {
            return Err(bad("an unordered key has at least 2 parts"));
        }
        keys.push(MatchKeySpec { name, parts, unordered: file.unordered });
    }
    if keys.len() > MAX_MATCH_KEYS {
        return Err((String::new(), format!("at most {MAX_MATCH_KEYS} match keys")));
    }
    if salted && !keys.is_empty() {
        keys.push(MatchKeySpec { name: SALT_KEY.to_owned(), parts: Vec::new(), unordered: false });
    }
    Ok(keys)
}

/// The keys `default_match_keys = true` brings, from the first field of each kind: the
/// birth date, birth date with day and month unordered, year + sex + surname initial, the
/// phonetic code of the given name and of the surname, each with the birth year, and the
/// two codes in either order with the birth year ([`NAMES_UNORDERED_KEY`]). A key whose fields the schema
/// lacks is left out.
///
/// Each blocks few enough pairs to block on at register scale, and each leaves some
/// fields free so that their m can be learnt inside its block: the birth-date block learns
/// the names', the name-code blocks learn the birth date's.
pub(crate) fn default_keys(fields: &[Field]) -> Vec<MatchKeySpec> {
    let find = |kind: FieldKind| fields.iter().position(|f| f.kind == Some(kind));
    let date = fields.iter().position(|f| f.kind == Some(FieldKind::BirthDate) && is_date(f));
    let given = find(FieldKind::GivenName);
    let surname = find(FieldKind::Surname);
    let sex = find(FieldKind::Sex);
    let part = |field, transform| KeyPart { field, transform };
    let mut keys = Vec::new();
    let mut add = |name: &str, parts: Option<Vec<KeyPart>>| {
        if let Some(parts) = parts {
            keys.push(MatchKeySpec { name: name.to_owned(), parts, unordered: false });
        }
    };
    add("birth_date", date.map(|d| vec![part(d, Transform::Value)]));
    add("birth_date_unordered", date.map(|d| vec![part(d, Transform::DayMonthUnordered)]));
    add(
        "year_sex_surname_initial",
        date.zip(sex).zip(surname).map(|((d, x), s)| {
            vec![part(d, Transform::Year), part(x, Transform::Value), part(s, Transform::Initial)]
        }),
    );
    let with_year = |field: Option<usize>| {
        date.zip(field).map(|(d, f)| vec![part(f, Transform::Phonetic), part(d, Transform::Year)])
    };
    add("given_name_phonetic_year", with_year(given));
    add("surname_phonetic_year", with_year(surname));
    if let (Some(g), Some(s), Some(d)) = (given, surname, date) {
        // The year sorts among the codes harmlessly: a Cologne code never holds a 9, nor a
        // 0 after its first digit, so no year from 1900 to 2099 equals one.
        keys.push(MatchKeySpec {
            name: NAMES_UNORDERED_KEY.to_owned(),
            parts: vec![
                part(g, Transform::Phonetic),
                part(s, Transform::Phonetic),
                part(d, Transform::Year),
            ],
            unordered: true,
        });
    }
    keys
}

/// The keyed PRFs of a schema's match keys (wiped on drop, never printed).
pub(crate) struct MatchKeyer {
    prfs: Vec<KeyedPrf>,
}

impl MatchKeyer {
    pub(crate) fn new(schema: &Schema, master: &SecretKey) -> Self {
        let prfs = schema
            .match_keys
            .iter()
            .map(|k| {
                let key = derive_subkey(
                    master,
                    MATCH_KEY_CONSTRUCTION,
                    "match-key",
                    &[&schema.context, &k.name],
                );
                KeyedPrf::new(PrfAlgorithm::HmacSha256, &key)
            })
            .collect();
        Self { prfs }
    }

    /// The record's keys in schema order. `prepared(i)` is field `i`'s prepared value
    /// (`None` when missing or invalid); `salt` the record's salt.
    pub(crate) fn keys(
        &self,
        schema: &Schema,
        prepared: impl FnMut(usize) -> Option<String>,
        salt: &str,
    ) -> Vec<Option<MatchKeyValue>> {
        let mut message = Zeroizing::new(Vec::new());
        let mut parts = Parts::new(prepared);
        schema
            .match_keys
            .iter()
            .zip(&self.prfs)
            .map(|(spec, prf)| {
                spec.message(&mut parts, salt, &mut message)?;
                let mac = prf.eval(&[&message]);
                let mut out = [0u8; MATCH_KEY_LEN];
                out.copy_from_slice(&mac[..MATCH_KEY_LEN]);
                Some(out)
            })
            .collect()
    }
}

/// Appends `u16be(len) || part`; `None` for an empty part (the key is missing) or one too
/// long to prefix.
fn push_part(message: &mut Vec<u8>, part: &str) -> Option<()> {
    let len = u16::try_from(part.len()).ok().filter(|&n| n > 0)?;
    message.extend_from_slice(&len.to_be_bytes());
    message.extend_from_slice(part.as_bytes());
    Some(())
}

/// The value a match key reads from a prepared field: only valid values count.
pub(crate) fn key_value(prepared: Option<Prepared>) -> Option<String> {
    match prepared {
        Some(Prepared::Valid(v)) => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms() {
        assert_eq!(Transform::Year.apply("1984-07-03").as_deref(), Some("1984"));
        assert_eq!(Transform::DayMonthUnordered.apply("1984-07-03").as_deref(), Some("1984-03-07"));
        assert_eq!(Transform::DayMonthUnordered.apply("1984-03-07").as_deref(), Some("1984-03-07"));
        assert_eq!(Transform::Initial.apply("örjan").as_deref(), Some("ö"));
        assert_eq!(Transform::Initial.apply(""), None);
        // Spelling variants across the borders meet once Nordic letters are folded.
        let code = |s| Transform::Phonetic.apply(s);
        assert_eq!(code("karlsson"), code("carlsson"));
        assert_eq!(code("nilsson"), code("nielsen"));
        assert_eq!(code("kristiansen"), code("christiansen"));
        assert_ne!(code("nilsson"), code("karlsson"));
        assert_eq!(code("123"), None);
    }
}
