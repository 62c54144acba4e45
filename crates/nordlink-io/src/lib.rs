//! # nordlink-io
//!
//! Streamed reading and writing of tabular extracts for nordlink: CSV and Parquet in,
//! CSV and Parquet out, one Arrow [`RecordBatch`](arrow_array::RecordBatch) at a time so
//! memory stays bounded whatever the file size. Built on the `nordlink` core crate.
//!
//! * [`TableReader`] opens a CSV or Parquet file (chosen by extension) and yields
//!   [`InputBatch`]es that carry their 1-based row numbers and any malformed rows, so no
//!   row is ever lost silently.
//! * [`TableWriter`] writes batches to a temporary file next to the destination and
//!   renames it into place only in [`TableWriter::finish`]: a failed run leaves nothing.
//!   A run with several outputs stages each ([`TableWriter::stage`], [`stage_bytes`]) and
//!   places them together with [`place`], all or none; [`remove_staged_files`] is for
//!   signal handlers.
//! * [`Provenance`]: how an output was made, in its Parquet footer or a CSV sidecar
//!   (`OUT.provenance.json`), read back with [`Provenance::read`]; see `docs/formats.md`.
//! * [`Reject`] and [`RejectsWriter`]: rows taken out, with row number and reason, in one
//!   file format for every command.
//! * [`id_check`], [`pseudonymise`] and [`encode`]: the per-batch work of the commands.
//! * [`link::EncodedInput`] reads an encoded file for linkage: filters, ids, provenance.
//! * [`append_filters`] loads an encoded file's filter column into a
//!   [`FilterArena`](nordlink::clk::FilterArena) for the similarity kernels.
//! * [`for_each_ordered`] runs a batch function in parallel with ordered, bounded output.
//!
//! CSV is always read as text, so identifiers keep their leading zeros.
//!
//! ## Encode a file, then read its provenance
//!
//! ```
//! use nordlink::clk::{AnyEncoder, EncoderSecret};
//! use nordlink::SecretKey;
//! use nordlink_io::encode::{encode_batch, EncodeSpec};
//! use nordlink_io::{Format, Provenance, ReadOptions, TableReader, TableWriter, WriteOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let input = dir.path().join("people.csv");
//! std::fs::write(&input, "id,surname,born\n1,Sørensen,1971-03-09\n2,Virtanen,1985-12-01\n")?;
//! let schema = b"version = 1\n[filter]\ncontext = \"demo\"\n\
//!     [[fields]]\nname = \"surname\"\nkind = \"surname\"\n\
//!     [[fields]]\nname = \"born\"\nkind = \"birth_date\"\n";
//! let encoder = AnyEncoder::from_schema_bytes(schema, &EncoderSecret::Key(SecretKey::generate()?))?;
//!
//! let reader = TableReader::open(&input, ReadOptions::default())?;
//! let spec = EncodeSpec::resolve(&encoder, &reader, Some("id"), Format::Parquet)?;
//! let out_schema = spec.output_schema(&reader.schema(), &input)?;
//! let output = dir.path().join("filters.parquet");
//! let options = WriteOptions { provenance: Some(Provenance::for_encoder(&encoder)), ..Default::default() };
//! let mut writer = TableWriter::create_with(&output, out_schema.clone(), &options)?;
//! for batch in reader {
//!     let done = encode_batch(&batch?, &encoder, &spec, &out_schema, &input)?;
//!     assert!(done.rejects.is_empty());
//!     writer.write(&done.output)?;
//! }
//! assert_eq!(writer.finish()?, 2);
//!
//! // What a linkage unit does first: read how the file was made.
//! let provenance = Provenance::read(&output)?;
//! assert_eq!(provenance.construction, "nordlink-clk/1");
//! assert_eq!(provenance.bits, Some(1024));
//! assert_eq!(provenance.context.as_deref(), Some("demo"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation, reason = "test code"))]

mod clk_json;
mod csv_source;
pub mod encode;
mod error;
mod filters;
mod format;
pub mod id_check;
pub mod link;
mod parquet_source;
mod pipeline;
mod provenance;
pub mod pseudonymise;
mod reader;
mod rejects;
mod staging;
mod text;
mod writer;

pub use clk_json::ClkJsonWriter;
pub use csv_source::{MAX_CSV_COLUMNS, MAX_CSV_LINE_BYTES, MAX_QUOTED_LINES};
pub use error::{IoError, RowProblem};
pub use filters::{FilterColumns, append_filters, read_filter_columns};
pub use format::Format;
pub use pipeline::for_each_ordered;
pub use provenance::{Mismatch, PROVENANCE_FORMAT, Provenance, ProvenanceError};
pub use reader::{InputBatch, ReadOptions, TableReader};
pub use rejects::{Reject, RejectsWriter, rejects_batch, rejects_schema};
pub use staging::{Staged, place, remove_staged_files, stage_bytes, uninterrupted};
pub use text::text_column;
pub use writer::{TableWriter, WriteOptions, write_atomically};

/// Arrow and Parquet, re-exported so callers stay on the versions nordlink uses.
pub use arrow_array;
pub use arrow_schema;
pub use parquet;
