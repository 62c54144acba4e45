//! `--shuffle`: output rows in a random order, with the way back kept by the holder.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use nordlink_io::arrow_array::{ArrayRef, RecordBatch, UInt64Array};
use nordlink_io::arrow_schema::{DataType, Field, Schema, SchemaRef};

use nordlink_io::Staged;

use super::stage_table;

/// Most rows a shuffle holds in memory.
pub(super) const MAX_ROWS: usize = 20_000_000;

/// Most bytes of Arrow buffers a shuffle holds in memory.
const MAX_BYTES: usize = 4 << 30;

/// Output rows held back until the input is read, with the input row of each.
#[derive(Default)]
pub(super) struct Held {
    batches: Vec<RecordBatch>,
    rows: Vec<u64>,
    bytes: usize,
}

impl Held {
    /// Keeps `batch`, whose rows came from input rows `rows`.
    pub(super) fn push(
        &mut self,
        batch: RecordBatch,
        rows: impl IntoIterator<Item = u64>,
    ) -> anyhow::Result<()> {
        self.rows.extend(rows);
        self.bytes += batch.get_array_memory_size();
        if self.rows.len() > MAX_ROWS || self.bytes > MAX_BYTES {
            bail!(
                "--shuffle holds every output row in memory: at most {MAX_ROWS} rows and {} GiB",
                MAX_BYTES >> 30
            );
        }
        self.batches.push(batch);
        Ok(())
    }

    /// The held rows in a uniformly random order (Fisher–Yates over the OS's random source:
    /// no key, so no one can undo it but through the mapping), and `position,row` (1-based
    /// output position, input data row) staged for `mapping`. With `position_column`, that column is
    /// replaced by the output position.
    pub(super) fn shuffle(
        self,
        schema: &SchemaRef,
        mapping: &Path,
        position_column: Option<usize>,
    ) -> anyhow::Result<(RecordBatch, Staged)> {
        let all = arrow_select::concat::concat_batches(schema, &self.batches)?;
        drop(self.batches);
        let n = all.num_rows();
        let mut order: Vec<u64> = (0..n as u64).collect();
        let mut random = OsRandom::default();
        for i in (1..n).rev() {
            let j = usize::try_from(random.below(i as u64 + 1)?)?;
            order.swap(i, j);
        }
        let rows: ArrayRef = Arc::new(UInt64Array::from_iter_values(
            order.iter().map(|&i| self.rows[usize::try_from(i).unwrap_or(usize::MAX)]),
        ));
        let mut shuffled = arrow_select::take::take_record_batch(&all, &UInt64Array::from(order))?;
        let positions: ArrayRef = Arc::new(UInt64Array::from_iter_values(1..=n as u64));
        if let Some(c) = position_column {
            let mut columns = shuffled.columns().to_vec();
            columns[c] = positions.clone();
            shuffled = RecordBatch::try_new(schema.clone(), columns)?;
        }
        let map_schema = Arc::new(Schema::new(vec![
            Field::new("position", DataType::UInt64, false),
            Field::new("row", DataType::UInt64, false),
        ]));
        let map = stage_table(mapping, &RecordBatch::try_new(map_schema, vec![positions, rows])?)?;
        Ok((shuffled, map))
    }
}

/// The OS's random source, read 64 KiB at a time (one call per draw would cost a system
/// call per row).
#[derive(Default)]
struct OsRandom {
    buffer: Vec<u8>,
    at: usize,
}

impl OsRandom {
    fn next(&mut self) -> anyhow::Result<u64> {
        if self.at + 8 > self.buffer.len() {
            self.buffer.resize(1 << 16, 0);
            getrandom::fill(&mut self.buffer)
                .map_err(|e| anyhow::anyhow!("the OS random source failed: {e}"))?;
            self.at = 0;
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.buffer[self.at..self.at + 8]);
        self.at += 8;
        Ok(u64::from_le_bytes(b))
    }

    /// A uniform integer below `bound`, without modulo bias.
    fn below(&mut self, bound: u64) -> anyhow::Result<u64> {
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let v = self.next()?;
            if v < zone {
                return Ok(v % bound);
            }
        }
    }
}
