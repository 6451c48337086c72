//! `RowStream`: a core row iterator (auto-paginated listing or streamed export) read in
//! batches on the thread pool. `ango.js` makes it an async iterable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::task::{Call, call};

type Rows = Box<dyn Iterator<Item = ango_core::Result<Value>> + Send>;

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
}

impl RowStream {
    /// Wraps a core iterator.
    pub fn new(rows: impl Iterator<Item = ango_core::Result<Value>> + Send + 'static) -> Self {
        RowStream {
            state: Arc::new(Mutex::new(State {
                rows: Some(Box::new(rows)),
                deferred_error: None,
            })),
            closed: Arc::new(AtomicBool::new(false)),
        }
    }
}

#[napi]
impl RowStream {
    /// Up to `max` next rows (default 256); an empty array means the stream is over.
    /// Rejects with the core's error if fetching or decoding fails.
    #[napi(catch_unwind, ts_return_type = "Promise<any[]>")]
    pub fn next_batch(&self, max: Option<u32>) -> AsyncTask<Call<Value>> {
        let (state, closed) = (Arc::clone(&self.state), Arc::clone(&self.closed));
        let max = max.unwrap_or(DEFAULT_BATCH).max(1) as usize;
        call(move || {
            let mut state = state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(error) = state.deferred_error.take() {
                return Err(error);
            }
            if closed.load(Ordering::SeqCst) {
                state.rows = None;
            }
            let mut batch = Vec::new();
            let Some(rows) = state.rows.as_mut() else {
                return Ok(Value::Array(batch));
            };
            while batch.len() < max {
                match rows.next() {
                    Some(Ok(row)) => batch.push(row),
                    Some(Err(error)) if batch.is_empty() => {
                        state.rows = None;
                        return Err(error);
                    }
                    Some(Err(error)) => {
                        state.rows = None;
                        state.deferred_error = Some(error);
                        break;
                    }
                    None => {
                        state.rows = None;
                        break;
                    }
                }
            }
            Ok(Value::Array(batch))
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
