//! # nordlink-io
//!
//! Streamed reading and writing of tabular extracts for nordlink: CSV and Parquet in,
//! CSV and Parquet out, one Arrow [`RecordBatch`](arrow_array::RecordBatch) at a time so
//! memory stays bounded whatever the file size.
//!
//! * [`TableReader`] opens a CSV or Parquet file (chosen by extension) and yields
//!   [`InputBatch`]es that carry their 1-based row numbers and any malformed rows, so no
//!   row is ever lost silently.
//! * [`TableWriter`] writes batches to a temporary file next to the destination and
//!   renames it into place only in [`TableWriter::finish`]: a failed run leaves nothing.
//! * [`id_check`] turns a column of identifiers into a per-row validation report.
//! * [`pseudonymise`] replaces an identifier column by keyed pseudonyms.
//! * [`encode`] turns records into Bloom filters; [`ClkJsonWriter`] writes anonlink's JSON.
//! * [`for_each_ordered`] runs a batch function in parallel with ordered, bounded output.
//!
//! CSV is always read as text, so identifiers keep their leading zeros.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation, reason = "test code"))]

mod clk_json;
mod csv_source;
pub mod encode;
mod error;
mod filters;
mod format;
pub mod id_check;
mod parquet_source;
mod pipeline;
mod provenance;
pub mod pseudonymise;
mod reader;
mod rejects;
mod text;
mod writer;

pub use clk_json::ClkJsonWriter;
pub use error::{IoError, RowProblem};
pub use filters::append_filters;
pub use format::Format;
pub use pipeline::for_each_ordered;
pub use provenance::{Mismatch, PROVENANCE_FORMAT, Provenance, ProvenanceError};
pub use reader::{InputBatch, ReadOptions, TableReader};
pub use rejects::{Reject, RejectsWriter, rejects_batch, rejects_schema};
pub use text::text_column;
pub use writer::{TableWriter, WriteOptions};

/// Arrow and Parquet, re-exported so callers stay on the versions nordlink uses.
pub use arrow_array;
pub use arrow_schema;
pub use parquet;
