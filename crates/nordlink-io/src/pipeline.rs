//! An ordered, bounded, parallel map over a table's batches.
//!
//! Reading, processing and writing overlap: this thread reads, the rayon pool processes
//! batches concurrently, and a writer thread hands results to the sink in input order.
//! At most `in_flight` batches exist between reading and writing at any time, so memory is
//! bounded by `in_flight x batch size` whatever the file size.

use std::collections::BTreeMap;
use std::sync::mpsc;

use crate::{InputBatch, IoError, TableReader};

/// Processes every batch of `reader` with `process` (in parallel) and passes the results
/// to `sink` in input order.
///
/// Stops at the first error from reading, processing or the sink, and returns it; batches
/// already in flight are finished and discarded.
///
/// # Errors
/// The first error met.
///
/// # Panics
/// If `process` or `sink` panics (the panic is propagated).
pub fn for_each_ordered<T, E, P, S>(
    reader: TableReader,
    in_flight: usize,
    process: P,
    sink: S,
) -> Result<(), E>
where
    T: Send,
    E: Send + From<IoError>,
    P: Fn(InputBatch) -> Result<T, E> + Sync,
    S: FnMut(T) -> Result<(), E> + Send,
{
    let in_flight = in_flight.max(1);
    std::thread::scope(|threads| {
        let (done_tx, done_rx) = mpsc::channel::<(usize, Result<T, E>)>();
        // A token per batch allowed in flight; the writer returns one per batch written.
        let (token_tx, token_rx) = mpsc::sync_channel::<()>(in_flight);
        for _ in 0..in_flight {
            token_tx.send(()).expect("the receiver is alive and has room");
        }
        let writer = threads.spawn(move || write_in_order(done_rx, token_tx, sink));
        let process = &process;
        // in_place_scope keeps reading on this thread: a rayon worker blocked on the token
        // channel could starve a one-thread pool.
        rayon::in_place_scope(|pool| {
            for (index, batch) in reader.enumerate() {
                if token_rx.recv().is_err() {
                    break; // the writer stopped on an error
                }
                let done = done_tx.clone();
                match batch {
                    Ok(batch) => pool.spawn(move |_| {
                        // A send fails only when the writer has already stopped.
                        let _ = done.send((index, process(batch)));
                    }),
                    Err(e) => {
                        let _ = done.send((index, Err(e.into())));
                        break;
                    }
                }
            }
        });
        drop(done_tx);
        match writer.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

fn write_in_order<T, E, S>(
    done: mpsc::Receiver<(usize, Result<T, E>)>,
    tokens: mpsc::SyncSender<()>,
    mut sink: S,
) -> Result<(), E>
where
    S: FnMut(T) -> Result<(), E>,
{
    let mut next = 0;
    let mut pending = BTreeMap::new();
    for (index, result) in done {
        pending.insert(index, result);
        while let Some(result) = pending.remove(&next) {
            sink(result?)?;
            next += 1;
            // Fails only once reading has finished; nothing then waits for tokens.
            let _ = tokens.send(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReadOptions;
    use std::io::Write;

    fn reader(rows: usize, batch_size: usize) -> (tempfile::TempPath, TableReader) {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        writeln!(f, "n").unwrap();
        for i in 0..rows {
            writeln!(f, "{i}").unwrap();
        }
        let path = f.into_temp_path();
        let r = TableReader::open(&path, ReadOptions { batch_size }).unwrap();
        (path, r)
    }

    #[test]
    fn results_arrive_in_input_order() {
        let (_p, r) = reader(1000, 7);
        let mut seen = Vec::new();
        for_each_ordered(
            r,
            3,
            |b: InputBatch| {
                // Uneven work so completion order differs from input order.
                if b.first_row % 3 == 1 {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                Ok::<_, IoError>(b.first_row)
            },
            |first| {
                seen.push(first);
                Ok(())
            },
        )
        .unwrap();
        let expect: Vec<u64> = (0..143).map(|i| 1 + 7 * i).collect();
        assert_eq!(seen, expect);
    }

    #[test]
    fn first_error_stops_the_run() {
        let (_p, r) = reader(100, 10);
        let mut written = 0;
        let result = for_each_ordered(
            r,
            2,
            |b: InputBatch| {
                if b.first_row == 41 {
                    Err(IoError::UnsupportedFormat { path: "x".into() })
                } else {
                    Ok(())
                }
            },
            |()| {
                written += 1;
                Ok(())
            },
        );
        assert!(result.is_err());
        assert_eq!(written, 4);
    }
}
