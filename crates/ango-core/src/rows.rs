//! Rows as JSON text, read in batches: the one reader behind the bindings' row
//! iterators (Python's `Rows`, Node's `RowStream`) over a paginated listing
//! ([`Pages`]) or an export ([`ExportRows`]).
//!
//! A binding hands each batch to its own decoder (Python builds objects straight from
//! the bytes, Node parses one array text with `JSON.parse`), so rows stay undecoded
//! here. A failure met after some rows of a batch is kept for the next batch, so those
//! rows are delivered first; the source is freed as soon as it ends or fails.

use std::sync::mpsc;
use std::time::Duration;

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::export::ExportRows;
use crate::pagination::Pages;

/// Where rows come from, one JSON text at a time.
pub trait RowSource: Send {
    /// The next row's JSON text; `None` at the end.
    fn next_row(&mut self) -> Option<Result<Vec<u8>>>;

    /// Whether the next row is at hand without waiting for the network: a batch that
    /// already has rows ends rather than wait.
    fn ready(&self) -> bool {
        true
    }

    /// How many rows a batch holds by default.
    fn batch_size(&self) -> usize {
        EXPORT_BATCH
    }
}

/// Rows per batch of an export: enough to amortise a thread hop, few enough to keep
/// memory flat.
pub const EXPORT_BATCH: usize = 256;

/// Rows per batch of a listing: at most the items of the pages already fetched.
pub const PAGE_BATCH: usize = 1024;

impl RowSource for Pages {
    fn next_row(&mut self) -> Option<Result<Vec<u8>>> {
        self.next_raw()
            .map(|row| row.map(|raw| Box::<str>::from(raw).into_string().into_bytes()))
    }

    fn ready(&self) -> bool {
        self.buffered() > 0
    }

    fn batch_size(&self) -> usize {
        PAGE_BATCH
    }
}

impl RowSource for ExportRows {
    fn next_row(&mut self) -> Option<Result<Vec<u8>>> {
        self.next_raw()
    }
}

/// A row source read in batches, with a failure deferred past the rows before it and
/// an optional [`Cancel`] checked between rows.
pub struct RowBatches {
    source: Option<Box<dyn RowSource>>,
    deferred: Option<Error>,
    cancel: Option<Cancel>,
    batch_size: usize,
}

impl std::fmt::Debug for RowBatches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowBatches")
            .field("finished", &self.is_finished())
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

impl RowBatches {
    /// Batches of `source`'s rows; `cancel`, when given, stops them between rows with
    /// [`Error::Cancelled`].
    pub fn new(source: impl RowSource + 'static, cancel: Option<Cancel>) -> Self {
        let batch_size = source.batch_size().max(1);
        RowBatches {
            source: Some(Box::new(source)),
            deferred: None,
            cancel,
            batch_size,
        }
    }

    /// The source's default batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Whether every row has been handed out (or the batches were closed), the deferred
    /// failure included.
    pub fn is_finished(&self) -> bool {
        self.source.is_none() && self.deferred.is_none()
    }

    /// Up to `max` next rows (the source's batch size when `None`, at least 1); empty
    /// once finished. The first row may wait for the server; later ones are taken only
    /// while at hand. A failure with no row yet is returned; after some rows it is
    /// returned by the next call.
    pub fn next_batch(&mut self, max: Option<usize>) -> Result<Vec<Vec<u8>>> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        let max = max.unwrap_or(self.batch_size).max(1);
        let mut rows = Vec::new();
        while rows.len() < max {
            let Some(source) = self.source.as_mut() else {
                break;
            };
            if !rows.is_empty() && !source.ready() {
                break;
            }
            let next = match self.cancel.as_ref().map(Cancel::check) {
                Some(Err(cancelled)) => Some(Err(cancelled)),
                _ => source.next_row(),
            };
            match next {
                Some(Ok(row)) => rows.push(row),
                Some(Err(error)) => {
                    // Failed: free the file or the prefetching threads now.
                    self.source = None;
                    if rows.is_empty() {
                        return Err(error);
                    }
                    self.deferred = Some(error);
                }
                None => self.source = None,
            }
        }
        Ok(rows)
    }

    /// The next batch (as [`RowBatches::next_batch`]) as the text of one JSON array,
    /// checked to be UTF-8 (`[]` once finished).
    pub fn next_batch_text(&mut self, max: Option<usize>) -> Result<String> {
        let rows = self.next_batch(max)?;
        let mut text = Vec::with_capacity(rows.iter().map(|r| r.len() + 1).sum::<usize>() + 2);
        text.push(b'[');
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                text.push(b',');
            }
            text.extend_from_slice(row);
        }
        text.push(b']');
        String::from_utf8(text).map_err(|e| Error::Decode {
            message: format!("a row is not UTF-8: {e}"),
            body_snippet: String::new(),
        })
    }

    /// Stops early and frees the source (the export's temporary file, the listing's
    /// prefetching threads); the batches are then finished.
    pub fn close(&mut self) {
        self.source = None;
        self.deferred = None;
    }
}

/// [`RowBatches`] read ahead on a thread of their own, started by the first request:
/// while the caller handles one batch, the next one (only) is read (a file, or pages).
/// The caller waits for a batch in slices ([`ReadAhead::next_within`]), so that it can
/// do other work between them (Python runs its signal handlers); a batch not collected
/// stays with the reader for the next call, so an interrupted wait loses no row.
/// Dropping it cancels its [`Cancel`]: the reader stops at its next checkpoint (between
/// rows, or in a listing's page fetch when its client was bound to the token) and frees
/// the source.
pub struct ReadAhead {
    state: ReadAheadState,
    max: Option<usize>,
    cancel: Cancel,
    /// The process whose thread reads: a child made by `fork()` has no such thread.
    pid: u32,
}

enum ReadAheadState {
    NotStarted(RowBatches),
    Reading(mpsc::Receiver<Result<Vec<Vec<u8>>>>),
    Finished,
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl std::fmt::Debug for ReadAhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            ReadAheadState::NotStarted(_) => "not started",
            ReadAheadState::Reading(_) => "reading",
            ReadAheadState::Finished => "finished",
        };
        f.debug_struct("ReadAhead").field("state", &state).finish()
    }
}

impl ReadAhead {
    /// Reads `source` ahead in batches of `max` rows (the source's batch size when
    /// `None`), stopped by `cancel` (a fresh token when `None`), which dropping this
    /// cancels.
    pub fn new(
        source: impl RowSource + 'static,
        cancel: Option<Cancel>,
        max: Option<usize>,
    ) -> Self {
        let cancel = cancel.unwrap_or_default();
        ReadAhead {
            state: ReadAheadState::NotStarted(RowBatches::new(source, Some(cancel.clone()))),
            max,
            cancel,
            pid: std::process::id(),
        }
    }

    /// The next batch, if it arrives within `wait`; `None` if it has not yet. An empty
    /// batch means the rows are over; a failure comes once, then the rows are over.
    pub fn next_within(&mut self, wait: Duration) -> Option<Result<Vec<Vec<u8>>>> {
        if let ReadAheadState::NotStarted(_) = self.state {
            let ReadAheadState::NotStarted(batches) =
                std::mem::replace(&mut self.state, ReadAheadState::Finished)
            else {
                return None;
            };
            match Self::spawn(batches, self.max) {
                Ok(receiver) => self.state = ReadAheadState::Reading(receiver),
                Err(error) => return Some(Err(error)),
            }
        }
        let ReadAheadState::Reading(receiver) = &self.state else {
            return Some(Ok(Vec::new()));
        };
        if self.pid != std::process::id() {
            self.state = ReadAheadState::Finished;
            return Some(Err(Error::Internal(
                "rows started in the parent process cannot be read after fork()".into(),
            )));
        }
        match receiver.recv_timeout(wait) {
            Ok(Ok(batch)) if batch.is_empty() => {
                self.state = ReadAheadState::Finished;
                Some(Ok(batch))
            }
            Ok(batch) => Some(batch),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // The reader ends only after the empty batch: it died (a panic).
                self.state = ReadAheadState::Finished;
                Some(Err(Error::Internal(
                    "the row reader stopped unexpectedly".into(),
                )))
            }
        }
    }

    fn spawn(
        mut batches: RowBatches,
        max: Option<usize>,
    ) -> Result<mpsc::Receiver<Result<Vec<Vec<u8>>>>> {
        // A rendezvous: the reader holds one batch until it is taken, so it reads at
        // most one batch ahead of the caller.
        let (sender, receiver) = mpsc::sync_channel(0);
        std::thread::Builder::new()
            .name("ango-rows".into())
            .spawn(move || {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    loop {
                        let batch = batches.next_batch(max);
                        let over = matches!(&batch, Ok(rows) if rows.is_empty());
                        // A send fails once the receiver is dropped: stop, freeing the source.
                        if sender.send(batch).is_err() || over {
                            break;
                        }
                    }
                }));
            })
            .map_err(|e| Error::io("starting a thread to read rows", e))?;
        Ok(receiver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows `0..n` (as JSON numbers), failing at `fail_at`; `ready` only for the rows
    /// before `wait_at`.
    struct Numbers {
        next: usize,
        n: usize,
        fail_at: Option<usize>,
        wait_at: usize,
    }

    impl RowSource for Numbers {
        fn next_row(&mut self) -> Option<Result<Vec<u8>>> {
            if Some(self.next) == self.fail_at {
                self.fail_at = None;
                return Some(Err(Error::Internal("boom".into())));
            }
            if self.next >= self.n {
                return None;
            }
            self.next += 1;
            Some(Ok((self.next - 1).to_string().into_bytes()))
        }

        fn ready(&self) -> bool {
            self.next < self.wait_at
        }
    }

    fn numbers(n: usize, fail_at: Option<usize>) -> Numbers {
        Numbers {
            next: 0,
            n,
            fail_at,
            wait_at: usize::MAX,
        }
    }

    fn texts(rows: Vec<Vec<u8>>) -> Vec<String> {
        rows.into_iter()
            .map(|r| String::from_utf8(r).unwrap())
            .collect()
    }

    #[test]
    fn batches_split_the_rows_in_order_and_end_empty() {
        let mut batches = RowBatches::new(numbers(5, None), None);
        assert_eq!(texts(batches.next_batch(Some(2)).unwrap()), ["0", "1"]);
        assert_eq!(batches.next_batch_text(Some(2)).unwrap(), "[2,3]");
        // A batch size of 0 means 1; the end is seen only when asked past the last row.
        assert_eq!(texts(batches.next_batch(Some(0)).unwrap()), ["4"]);
        assert!(!batches.is_finished());
        assert!(batches.next_batch(Some(3)).unwrap().is_empty());
        assert!(batches.is_finished());
        assert!(batches.next_batch(None).unwrap().is_empty());
        assert_eq!(batches.next_batch_text(None).unwrap(), "[]");
    }

    #[test]
    fn a_failure_after_some_rows_comes_with_the_next_batch() {
        let mut batches = RowBatches::new(numbers(5, Some(2)), None);
        assert_eq!(texts(batches.next_batch(Some(10)).unwrap()), ["0", "1"]);
        assert!(!batches.is_finished());
        assert!(matches!(batches.next_batch(None), Err(Error::Internal(_))));
        assert!(batches.is_finished());
        assert!(batches.next_batch(None).unwrap().is_empty());
    }

    #[test]
    fn a_failure_before_any_row_fails_the_batch() {
        let mut batches = RowBatches::new(numbers(5, Some(0)), None);
        assert!(batches.next_batch(None).is_err());
        assert!(batches.next_batch(None).unwrap().is_empty());
    }

    #[test]
    fn a_batch_with_rows_does_not_wait_for_more() {
        let mut source = numbers(6, None);
        source.wait_at = 3;
        let mut batches = RowBatches::new(source, None);
        assert_eq!(texts(batches.next_batch(None).unwrap()), ["0", "1", "2"]);
        // The first row of a batch may wait.
        assert_eq!(texts(batches.next_batch(None).unwrap()), ["3"]);
    }

    #[test]
    fn cancel_stops_between_rows_and_close_frees() {
        let cancel = Cancel::new();
        let mut batches = RowBatches::new(numbers(5, None), Some(cancel.clone()));
        assert_eq!(texts(batches.next_batch(Some(1)).unwrap()), ["0"]);
        cancel.cancel();
        assert!(matches!(batches.next_batch(None), Err(Error::Cancelled)));
        let mut closed = RowBatches::new(numbers(5, None), None);
        closed.close();
        assert!(closed.is_finished());
        assert!(closed.next_batch(None).unwrap().is_empty());
    }

    #[test]
    fn rows_that_are_not_utf8_are_refused_as_text() {
        struct Bad;
        impl RowSource for Bad {
            fn next_row(&mut self) -> Option<Result<Vec<u8>>> {
                Some(Ok(vec![b'"', 0xff, b'"']))
            }
        }
        let mut batches = RowBatches::new(Bad, None);
        assert!(matches!(
            batches.next_batch_text(Some(1)),
            Err(Error::Decode { .. })
        ));
    }

    /// Collects a read-ahead's batches, waiting in short slices.
    fn drain(mut rows: ReadAhead) -> (Vec<String>, Option<Error>) {
        let (mut out, mut failure) = (Vec::new(), None);
        loop {
            match rows.next_within(Duration::from_millis(5)) {
                None => continue,
                Some(Ok(batch)) if batch.is_empty() => return (out, failure),
                Some(Ok(batch)) => out.extend(texts(batch)),
                Some(Err(error)) => failure = Some(error),
            }
        }
    }

    #[test]
    fn read_ahead_delivers_every_row_in_order_then_ends() {
        let (rows, failure) = drain(ReadAhead::new(numbers(1000, None), None, Some(7)));
        assert!(failure.is_none());
        assert_eq!(rows, (0..1000).map(|n| n.to_string()).collect::<Vec<_>>());
    }

    #[test]
    fn read_ahead_delivers_the_rows_before_a_failure_then_the_failure() {
        let (rows, failure) = drain(ReadAhead::new(numbers(10, Some(5)), None, Some(3)));
        assert_eq!(rows, ["0", "1", "2", "3", "4"]);
        assert!(matches!(failure, Some(Error::Internal(_))));
    }

    /// Rows that become available only when the test says so; tells when it is freed.
    struct Gated(mpsc::Receiver<u32>, mpsc::Sender<()>);

    impl RowSource for Gated {
        fn next_row(&mut self) -> Option<Result<Vec<u8>>> {
            self.0.recv().ok().map(|n| Ok(n.to_string().into_bytes()))
        }
    }

    impl Drop for Gated {
        fn drop(&mut self) {
            let _ = self.1.send(());
        }
    }

    #[test]
    fn a_wait_that_times_out_loses_no_row_and_dropping_stops_the_reader() {
        let (gate, rows) = mpsc::channel();
        let (freed, source_freed) = mpsc::channel();
        let mut ahead = ReadAhead::new(Gated(rows, freed), None, Some(1));
        assert!(ahead.next_within(Duration::from_millis(20)).is_none());
        gate.send(7).unwrap();
        let batch = loop {
            if let Some(batch) = ahead.next_within(Duration::from_millis(20)) {
                break batch.unwrap();
            }
        };
        assert_eq!(texts(batch), ["7"]);
        // The reader reads one batch ahead and holds it: dropped now, it is cancelled,
        // its hand-over fails, and it frees the source.
        gate.send(8).unwrap();
        drop(ahead);
        let _ = gate.send(9);
        assert!(source_freed.recv_timeout(Duration::from_secs(10)).is_ok());
    }

    #[test]
    fn dropping_cancels_a_reader_in_the_middle_of_a_batch() {
        let (gate, rows) = mpsc::channel();
        let (freed, source_freed) = mpsc::channel();
        let mut ahead = ReadAhead::new(Gated(rows, freed), None, Some(100));
        gate.send(1).unwrap();
        // Started; its batch waits for more rows (the gate stays open).
        assert!(ahead.next_within(Duration::from_millis(20)).is_none());
        drop(ahead);
        // The next row reaches a cancelled reader, which stops instead of waiting for
        // the rest of its batch.
        let _ = gate.send(2);
        assert!(source_freed.recv_timeout(Duration::from_secs(10)).is_ok());
        drop(gate);
    }

    #[test]
    fn a_reader_that_dies_is_an_error_not_a_hang() {
        struct Panics;
        impl RowSource for Panics {
            fn next_row(&mut self) -> Option<Result<Vec<u8>>> {
                panic!("boom")
            }
        }
        let (rows, failure) = drain(ReadAhead::new(Panics, None, None));
        assert!(rows.is_empty());
        assert!(matches!(failure, Some(Error::Internal(_))));
    }
}
