//! Reading encoded files for linkage: filters into a [`FilterArena`], record ids, and the
//! file's provenance.

use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::DataType;
use base64::Engine as _;
use nordlink::clk::{FilterArena, FilterError, MATCH_KEY_LEN};
use nordlink::link::KeyColumn;

use crate::filters::new_arena;
use crate::{IoError, Provenance, ProvenanceError, ReadOptions, TableReader, append_filters};

/// The name of the filter column `nordlink encode` writes, and clkhash users' CSVs have.
pub const FILTER_COLUMN: &str = "clk";

/// One encoded input, in memory.
#[derive(Debug)]
pub struct EncodedInput {
    /// The file.
    pub path: PathBuf,
    /// The record filters, in file order.
    pub filters: FilterArena,
    /// Each record's id: the id column's text, or the row number (the `row` column of a
    /// `nordlink encode` output, which is the input row even after rejects; else the
    /// 1-based row number in this file).
    pub ids: Vec<String>,
    /// The column the ids came from (`None`: row numbers).
    pub id_column: Option<String>,
    /// Each record's blocking key (`None` for a null), when a key column was asked for.
    pub keys: Option<Vec<Option<String>>>,
    /// The file's provenance, when it has one (a plain clkhash/anonlink CSV has none).
    pub provenance: Option<Provenance>,
    /// The field-level filter columns read (`clk_<field>`), in file order.
    pub field_names: Vec<String>,
    /// Field-level filters, one arena per name in [`field_names`](Self::field_names),
    /// each with one filter per record.
    pub fields: Vec<FilterArena>,
    /// The match key columns read (`key_<name>`, named without the prefix), in file order.
    pub match_keys: Vec<KeyColumn>,
}

/// The prefix of a field-level filter column (`clk_<field>`).
pub const FIELD_FILTER_PREFIX: &str = "clk_";

impl EncodedInput {
    /// Reads a file written by `nordlink encode` (Parquet or CSV), or any CSV/Parquet
    /// with a `clk` column of base64 or fixed-width binary filters. Ids come from
    /// `id_column`, else a column named `id`, else a column named `row`, else the row
    /// number in this file. A null id is an error: records must stay nameable.
    ///
    /// # Errors
    /// [`IoError`] naming the file (and row) for an unreadable file, a missing column, a
    /// null or malformed filter, filters of different lengths, or a malformed provenance
    /// record. A missing provenance record is not an error (see [`Self::provenance`]).
    /// With `key_column`, each record's value of that column is read as its blocking
    /// key (as text; a null is no key). With `field_evidence`, every `clk_<field>` column
    /// is read into [`fields`](Self::fields) and every `key_<name>` column into
    /// [`match_keys`](Self::match_keys) (none is not an error: the caller decides).
    pub fn read(
        path: &Path,
        id_column: Option<&str>,
        key_column: Option<&str>,
        field_evidence: bool,
    ) -> Result<Self, IoError> {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            if let Some(column) = id_column.or(key_column) {
                return Err(IoError::MissingColumn {
                    path: path.to_owned(),
                    column: column.to_owned(),
                    available: "anonlink CLK JSON has no columns; records are named 0, 1, ..."
                        .into(),
                });
            }
            return Self::read_clk_json(path);
        }
        let provenance = match Provenance::read(path) {
            Ok(p) => Some(p),
            Err(IoError::Provenance(ProvenanceError::Missing { .. })) => None,
            Err(e) => return Err(e),
        };
        let reader = TableReader::open(path, ReadOptions::default())?;
        let clk = reader.column_index(FILTER_COLUMN)?;
        let id_name = match id_column {
            Some(name) => Some(name.to_owned()),
            None => ["id", "row"]
                .into_iter()
                .find(|c| reader.schema().index_of(c).is_ok())
                .map(str::to_owned),
        };
        let id_index = id_name.as_deref().map(|n| reader.column_index(n)).transpose()?;
        let key_index = key_column.map(|n| reader.column_index(n)).transpose()?;
        let field_columns: Vec<(usize, String)> = if field_evidence {
            reader
                .schema()
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| f.name().starts_with(FIELD_FILTER_PREFIX))
                .map(|(i, f)| (i, f.name().clone()))
                .collect()
        } else {
            Vec::new()
        };
        let mut match_keys: Vec<(usize, KeyColumn)> = if field_evidence {
            reader
                .schema()
                .fields()
                .iter()
                .enumerate()
                .filter_map(|(i, f)| {
                    let name = f.name().strip_prefix(crate::encode::MATCH_KEY_PREFIX)?;
                    Some((i, KeyColumn { name: name.to_owned(), values: Vec::new() }))
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut fields: Vec<Option<FilterArena>> = vec![None; field_columns.len()];
        let mut keys: Option<Vec<Option<String>>> = key_index.map(|_| Vec::new());
        let mut filters: Option<FilterArena> = None;
        let mut ids = Vec::new();
        for batch in reader {
            let batch = batch?;
            // A record that cannot be read whole cannot be linked, nor silently dropped.
            batch.require_whole(path)?;
            let column = batch.data.column(clk);
            if column.is_empty() {
                continue;
            }
            let arena = match &mut filters {
                Some(a) => a,
                None => filters.insert(new_arena(path, column, FILTER_COLUMN, batch.first_row)?),
            };
            append_filters(arena, column, path, FILTER_COLUMN, batch.first_row)?;
            for ((index, name), slot) in field_columns.iter().zip(&mut fields) {
                let column = batch.data.column(*index);
                let arena = match slot {
                    Some(a) => a,
                    None => slot.insert(new_arena(path, column, name, batch.first_row)?),
                };
                append_filters(arena, column, path, name, batch.first_row)?;
            }
            for (index, key) in &mut match_keys {
                let column = batch.data.column(*index);
                let name = format!("{}{}", crate::encode::MATCH_KEY_PREFIX, key.name);
                push_match_keys(path, column, &name, batch.first_row, &mut key.values)?;
            }
            if let (Some(k), Some(keys)) = (key_index, &mut keys) {
                let mut text = Vec::new();
                push_ids(path, batch.data.column(k), &mut text)?;
                let column = batch.data.column(k);
                keys.extend(
                    text.into_iter().enumerate().map(|(r, v)| (!column.is_null(r)).then_some(v)),
                );
            }
            match id_index {
                Some(i) => {
                    let column = batch.data.column(i);
                    if let Some(row) = (0..column.len()).find(|&r| column.is_null(r)) {
                        return Err(IoError::Csv {
                            path: path.to_owned(),
                            row: Some(batch.row_number(row)),
                            message: format!(
                                "the id column {:?} is empty: records must be nameable",
                                id_name.as_deref().unwrap_or_default()
                            ),
                        });
                    }
                    push_ids(path, column, &mut ids)?;
                }
                None => {
                    ids.extend((0..batch.data.num_rows()).map(|r| batch.row_number(r).to_string()))
                }
            }
        }
        let filters = match filters {
            Some(f) => f,
            // An empty file: take the length from the provenance, or any; nothing to link.
            None => {
                let bits = provenance.as_ref().and_then(|p| p.bits).map_or(8, |b| b as usize);
                FilterArena::new(bits).map_err(|source| IoError::Filter {
                    path: path.to_owned(),
                    row: 0,
                    column: FILTER_COLUMN.into(),
                    source,
                })?
            }
        };
        if let Some(recorded) = provenance.as_ref().and_then(|p| p.rows)
            && recorded != ids.len() as u64
        {
            let found = ids.len() as u64;
            return Err(
                ProvenanceError::RowsMismatch { path: path.to_owned(), recorded, found }.into()
            );
        }
        // A field column's arena exists once the record column's does (same batches).
        let (field_names, fields) = field_columns
            .into_iter()
            .zip(fields)
            .filter_map(|((_, name), arena)| arena.map(|a| (name, a)))
            .unzip();
        Ok(Self {
            path: path.to_owned(),
            filters,
            ids,
            id_column: id_name,
            keys,
            provenance,
            field_names,
            fields,
            match_keys: match_keys.into_iter().map(|(_, k)| k).collect(),
        })
    }
}

/// Appends a column of match keys (`FixedSizeBinary(16)`, or 32 hex digits as text) in
/// [`KeyColumn`]'s stored form; a null or empty cell is a missing key.
pub(crate) fn push_match_keys(
    path: &Path,
    column: &ArrayRef,
    name: &str,
    first_row: u64,
    out: &mut Vec<u64>,
) -> Result<(), IoError> {
    let bad = |row: usize, message: &str| IoError::Csv {
        path: path.to_owned(),
        row: Some(first_row + row as u64),
        message: format!("column {name:?}: {message}"),
    };
    match column.data_type() {
        DataType::FixedSizeBinary(w) if *w as usize == MATCH_KEY_LEN => {
            let keys = column.as_fixed_size_binary();
            for row in 0..keys.len() {
                let key = (!keys.is_null(row)).then(|| keys.value(row));
                let key: Option<[u8; MATCH_KEY_LEN]> = key.and_then(|k| k.try_into().ok());
                out.push(KeyColumn::value(key.as_ref()));
            }
        }
        DataType::Utf8 => {
            for (row, cell) in column.as_string::<i32>().iter().enumerate() {
                let key = match cell.filter(|c| !c.is_empty()) {
                    None => None,
                    Some(text) => {
                        let mut key = [0u8; MATCH_KEY_LEN];
                        hex::decode_to_slice(text, &mut key)
                            .map_err(|_| bad(row, "a match key is 32 hexadecimal digits"))?;
                        Some(key)
                    }
                };
                out.push(KeyColumn::value(key.as_ref()));
            }
        }
        other => {
            return Err(IoError::ColumnType {
                path: path.to_owned(),
                column: name.to_owned(),
                found: other.clone(),
                hint: "match keys are 16-byte binary or 32 hexadecimal digits",
            });
        }
    }
    Ok(())
}

/// Checks that two inputs can be linked: both provenance records agree (construction,
/// key, schema, context, length, hardening). Returns notes for inputs without a record,
/// which cannot be checked.
///
/// # Errors
/// [`IoError::NotLinkable`] naming both files, the entry and both values.
pub fn check_linkable(left: &EncodedInput, right: &EncodedInput) -> Result<Vec<String>, IoError> {
    match (&left.provenance, &right.provenance) {
        (Some(a), Some(b)) => {
            a.check_linkable_with(b).map_err(|source| IoError::NotLinkable {
                left: left.path.clone(),
                right: right.path.clone(),
                source,
            })?;
            Ok(Vec::new())
        }
        _ => Ok([left, right]
            .into_iter()
            .filter(|input| input.provenance.is_none())
            .map(|input| {
                format!(
                    "{} has no provenance record; nothing shows it was encoded like the other input",
                    input.path.display()
                )
            })
            .collect()),
    }
}

/// Longest anonlink CLK JSON file read: it is parsed in memory.
const MAX_CLK_JSON: u64 = 2 << 30;

impl EncodedInput {
    /// anonlink's CLK JSON (`{"clks": ["<base64>", ...]}`): records are named by their
    /// 0-based position, as anonlink names them; there is no provenance.
    fn read_clk_json(path: &Path) -> Result<Self, IoError> {
        #[derive(serde::Deserialize)]
        struct Clks {
            clks: Vec<String>,
        }
        let file_err = |source| IoError::File { path: path.to_owned(), source };
        let file = std::fs::File::open(path).map_err(file_err)?;
        if file.metadata().map_err(file_err)?.len() > MAX_CLK_JSON {
            return Err(file_err(std::io::Error::other("larger than 2 GiB")));
        }
        let clks: Clks =
            serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| IoError::Csv {
                path: path.to_owned(),
                row: None,
                message: format!(
                    "not anonlink CLK JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            })?;
        let err = |row: usize, source| IoError::Filter {
            path: path.to_owned(),
            row: row as u64 + 1,
            column: "clks".into(),
            source,
        };
        let bytes = match clks.clks.first() {
            Some(first) => base64::engine::general_purpose::STANDARD
                .decode(first)
                .map_err(|_| err(0, FilterError::Base64))?
                .len(),
            None => 1,
        };
        let mut filters =
            FilterArena::with_capacity(8 * bytes, clks.clks.len()).map_err(|e| err(0, e))?;
        for (i, text) in clks.clks.iter().enumerate() {
            filters.push_base64(text).map_err(|e| err(i, e))?;
        }
        let ids = (0..clks.clks.len()).map(|i| i.to_string()).collect();
        Ok(Self {
            path: path.to_owned(),
            filters,
            ids,
            id_column: None,
            keys: None,
            provenance: None,
            field_names: Vec::new(),
            fields: Vec::new(),
            match_keys: Vec::new(),
        })
    }
}

/// Appends the ids of a column of any type, as the text CSV would show.
fn push_ids(path: &Path, column: &ArrayRef, ids: &mut Vec<String>) -> Result<(), IoError> {
    if let DataType::Utf8 = column.data_type() {
        ids.extend(column.as_string::<i32>().iter().map(|v| v.unwrap_or_default().to_owned()));
        return Ok(());
    }
    let options = FormatOptions::default().with_null("");
    let f =
        ArrayFormatter::try_new(column.as_ref(), &options).map_err(|e| IoError::arrow(path, e))?;
    ids.extend((0..column.len()).map(|i| f.value(i).to_string()));
    Ok(())
}
