//! Rows as JSON text, read in batches: the one reader behind the bindings' row
//! iterators (Python's `Rows`, Node's `RowStream`) over a paginated listing
//! ([`Pages`]) or an export ([`ExportRows`]).
//!
//! A binding hands each batch to its own decoder (Python builds objects straight from
//! the bytes, Node parses one array text with `JSON.parse`), so rows stay undecoded
//! here. A failure met after some rows of a batch is kept for the next batch, so those
//! rows are delivered first; the source is freed as soon as it ends or fails.

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
            let next = match &self.cancel {
                Some(cancel) if cancel.is_cancelled() => Some(Err(Error::Cancelled)),
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
        drop(self.take_source());
    }

    /// Closes the batches (as [`RowBatches::close`]) but hands the source over, for the
    /// caller to free where it likes: freeing a listing waits for its page fetches.
    pub fn take_source(&mut self) -> Option<Box<dyn RowSource>> {
        self.deferred = None;
        self.source.take()
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
}
