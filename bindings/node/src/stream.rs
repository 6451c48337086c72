//! `RowStream`: a core row iterator (auto-paginated listing or streamed export) read in
//! batches on the thread pool, each batch one JSON array text. `ango.js` makes it an
//! async iterable and takes an `AbortSignal` for it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::task::{Call, call_with};

/// Where rows come from, as their JSON text, undecoded.
pub trait RowSource: Send {
    /// The next row.
    fn next_row(&mut self) -> Option<ango_core::Result<Vec<u8>>>;
    /// Whether the next row is at hand (a batch ends early rather than wait for the
    /// server once it has some rows).
    fn ready(&self) -> bool {
        true
    }
}

impl RowSource for ango_core::Pages {
    fn next_row(&mut self) -> Option<ango_core::Result<Vec<u8>>> {
        self.next_raw()
            .map(|row| row.map(|raw| raw.get().as_bytes().to_vec()))
    }

    fn ready(&self) -> bool {
        self.buffered() > 0
    }
}

impl RowSource for ango_core::export::ExportRows {
    fn next_row(&mut self) -> Option<ango_core::Result<Vec<u8>>> {
        self.next_raw()
    }
}

type Rows = Box<dyn RowSource>;

/// The iterator (gone once exhausted or closed) and an error met after some rows of a
/// batch, kept for the next call so those rows are not lost.
struct State {
    rows: Option<Rows>,
    deferred_error: Option<ango_core::Error>,
}

/// Rows are handed to JavaScript this many at a time unless asked otherwise: enough to
/// amortise the thread hop, small enough to keep memory flat.
const DEFAULT_BATCH: u32 = 256;

/// A stream of rows (tasks, assets, projects or export rows), read lazily.
///
/// Iterate with `for await (const row of stream)`; `nextBatch()` is the primitive.
#[napi]
pub struct RowStream {
    state: Arc<Mutex<State>>,
    closed: Arc<AtomicBool>,
    cancel: Option<ango_core::Cancel>,
}

impl RowStream {
    /// Wraps a core row source; `cancel` stops it between rows.
    pub fn new(rows: impl RowSource + 'static, cancel: Option<ango_core::Cancel>) -> Self {
        RowStream {
            state: Arc::new(Mutex::new(State {
                rows: Some(Box::new(rows)),
                deferred_error: None,
            })),
            closed: Arc::new(AtomicBool::new(false)),
            cancel,
        }
    }
}

#[napi]
impl RowStream {
    /// Up to `max` next rows (default 256) as the JSON text of an array; `[]` means
    /// the stream is over. Rejects with the core's error if fetching or decoding fails.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn next_batch(&self, max: Option<u32>) -> AsyncTask<Call<String>> {
        let (state, closed) = (Arc::clone(&self.state), Arc::clone(&self.closed));
        let cancel = self.cancel.clone();
        let max = max.unwrap_or(DEFAULT_BATCH).max(1) as usize;
        call_with(move || {
            let mut state = state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(error) = state.deferred_error.take() {
                return Err(error);
            }
            if closed.load(Ordering::SeqCst) {
                state.rows = None;
            }
            let mut batch = vec![b'['];
            let mut count = 0;
            while count < max {
                let Some(rows) = state.rows.as_mut() else {
                    break;
                };
                if count > 0 && !rows.ready() {
                    break;
                }
                let next = match &cancel {
                    Some(cancel) if cancel.is_cancelled() => Some(Err(ango_core::Error::Cancelled)),
                    _ => rows.next_row(),
                };
                match next {
                    Some(Ok(row)) => {
                        if count > 0 {
                            batch.push(b',');
                        }
                        batch.extend_from_slice(&row);
                        count += 1;
                    }
                    Some(Err(error)) => {
                        state.rows = None;
                        if count == 0 {
                            return Err(error);
                        }
                        state.deferred_error = Some(error);
                    }
                    None => state.rows = None,
                }
            }
            if closed.load(Ordering::SeqCst) {
                // `close()` found this batch running and left the freeing to it.
                state.rows = None;
            }
            batch.push(b']');
            crate::task::text_of(batch)
        })
    }

    /// Stops the stream early and frees what it holds (pending page fetches, the
    /// export's temporary file). Safe to call more than once.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        // Drop now unless a batch is being read; that batch drops it when done.
        if let Ok(mut state) = self.state.try_lock() {
            state.rows = None;
        }
    }
}
