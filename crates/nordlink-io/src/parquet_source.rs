//! Parquet decoding spread over a few threads, a row group at a time.

use std::fs::File;
use std::path::Path;
use std::sync::mpsc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::errors::ParquetError;

use crate::IoError;

/// What a decoder lane sends: a batch, the end of a row group, or an error.
type LaneItem = Result<Option<RecordBatch>, ParquetError>;

/// Parquet decoding spread over a few threads, a row group at a time: lane `t` decodes row
/// groups `t, t + lanes, ...` ahead into a bounded channel, and the iterator takes them
/// back in file order. One thread decoding every column was the pipeline's serial stage.
pub(crate) struct ParquetSource {
    lanes: Vec<mpsc::Receiver<LaneItem>>,
    /// The lanes' threads, joined on drop: a source never leaves a thread decoding after
    /// it is gone.
    threads: Vec<std::thread::JoinHandle<()>>,
    group: usize,
    groups: usize,
}

impl Drop for ParquetSource {
    fn drop(&mut self) {
        // Without receivers a lane stops at its next send: after the batch it is on.
        self.lanes.clear();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl ParquetSource {
    /// Reads the footer and starts the decoder lanes: the schema, the row count the
    /// footer states, and the source.
    pub(crate) fn open(
        path: &Path,
        file: &File,
        batch_size: usize,
    ) -> Result<(SchemaRef, Option<u64>, Self), IoError> {
        let metadata = ArrowReaderMetadata::load(file, ArrowReaderOptions::default())
            .map_err(|e| IoError::parquet(path, e))?;
        check_chunks(path, file, &metadata)?;
        let total_rows = u64::try_from(metadata.metadata().file_metadata().num_rows()).ok();
        let schema = metadata.schema().clone();
        let source = Self::start(path, metadata, batch_size)
            .map_err(|source| IoError::File { path: path.to_owned(), source })?;
        Ok((schema, total_rows, source))
    }

    fn start(
        path: &Path,
        metadata: ArrowReaderMetadata,
        batch_size: usize,
    ) -> std::io::Result<Self> {
        let groups = metadata.metadata().num_row_groups();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let n_lanes = groups.min(threads);
        let mut lanes = Vec::with_capacity(n_lanes);
        let mut threads = Vec::with_capacity(n_lanes);
        for lane in 0..n_lanes {
            let (tx, rx) = mpsc::sync_channel::<LaneItem>(2);
            // Each lane opens the file itself: duplicated descriptors share one file
            // offset, and the lanes' seeks would race.
            let file = File::open(path)?;
            let metadata = metadata.clone();
            threads.push(std::thread::spawn(move || {
                // The parquet crate can panic on corrupt pages (an unwrap in its level
                // decoder, found by fuzzing): the lane reports that as an error.
                let decode = std::panic::AssertUnwindSafe(|| {
                    decode_lane(&file, &metadata, &tx, (lane, n_lanes, groups), batch_size);
                });
                if std::panic::catch_unwind(decode).is_err() {
                    let message = "the Parquet decoder failed on this file (corrupt data?)";
                    let _ = tx.send(Err(ParquetError::General(message.into())));
                }
            }));
            lanes.push(rx);
        }
        Ok(Self { lanes, threads, group: 0, groups })
    }

    /// The next batch in file order; `None` after the last.
    pub(crate) fn next_batch(&mut self) -> Option<Result<RecordBatch, ParquetError>> {
        while self.group < self.groups {
            let lane = &self.lanes[self.group % self.lanes.len()];
            match lane.recv() {
                Ok(Ok(Some(batch))) => return Some(Ok(batch)),
                Ok(Ok(None)) => self.group += 1,
                Ok(Err(e)) => {
                    self.group = self.groups;
                    return Some(Err(e));
                }
                Err(_) => {
                    self.group = self.groups;
                    return Some(Err(ParquetError::General("a decoder thread stopped".into())));
                }
            }
        }
        None
    }
}

/// Decodes row groups `lane, lane + lanes, ...` (of `groups`) into `tx`, each followed by
/// `Ok(None)`; stops at the first error or when the receiver is gone.
fn decode_lane(
    file: &File,
    metadata: &ArrowReaderMetadata,
    tx: &mpsc::SyncSender<LaneItem>,
    (lane, lanes, groups): (usize, usize, usize),
    batch_size: usize,
) {
    for group in (lane..groups).step_by(lanes) {
        let Ok(file) = file.try_clone() else {
            let _ = tx.send(Err(ParquetError::General("cannot reopen the file".into())));
            return;
        };
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone())
            .with_batch_size(batch_size)
            .with_row_groups(vec![group])
            .build();
        let reader = match reader {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        for batch in reader {
            // A failed send means the reader was dropped: stop quietly.
            if tx.send(batch.map(Some).map_err(ParquetError::from)).is_err() {
                return;
            }
        }
        if tx.send(Ok(None)).is_err() {
            return;
        }
    }
}

/// Refuses a footer whose column chunks lie outside the file: the parquet crate panics on
/// negative offsets or sizes (found by fuzzing), and reading past the end is corruption.
fn check_chunks(path: &Path, file: &File, metadata: &ArrowReaderMetadata) -> Result<(), IoError> {
    let len =
        file.metadata().map_err(|source| IoError::File { path: path.to_owned(), source })?.len();
    for (g, group) in metadata.metadata().row_groups().iter().enumerate() {
        for chunk in group.columns() {
            let start = chunk.dictionary_page_offset().unwrap_or_else(|| chunk.data_page_offset());
            let end = u64::try_from(start)
                .ok()
                .zip(u64::try_from(chunk.compressed_size()).ok())
                .and_then(|(start, size)| start.checked_add(size));
            if end.is_none_or(|end| end > len) {
                let message = format!(
                    "row group {g}: a column chunk lies outside the file (a corrupt footer)"
                );
                return Err(IoError::parquet(path, ParquetError::General(message)));
            }
        }
    }
    Ok(())
}
