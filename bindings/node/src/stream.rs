//! `RowStream`: the core's row batches (`ango_core::rows`) of an auto-paginated
//! listing or a streamed export, each batch read on the thread pool as one JSON array
//! text. `ango.js` makes it an async iterable and takes an `AbortSignal` for it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ango_core::rows::{RowBatches, RowSource};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::task::{Call, call_with};

/// A stream of rows (tasks, assets, projects or export rows), read lazily.
///
/// Iterate with `for await (const row of stream)`; `nextBatch()` is the primitive.
#[napi]
pub struct RowStream {
    batches: Arc<Mutex<RowBatches>>,
    closed: Arc<AtomicBool>,
}

impl RowStream {
    /// Wraps a core row source; `cancel` stops it between rows.
    pub fn new(rows: impl RowSource + 'static, cancel: Option<ango_core::Cancel>) -> Self {
        RowStream {
            batches: Arc::new(Mutex::new(RowBatches::new(rows, cancel))),
            closed: Arc::new(AtomicBool::new(false)),
        }
    }
}

#[napi]
impl RowStream {
    /// Up to `max` next rows (default 256) as the JSON text of an array; `[]` means
    /// the stream is over. Rejects with the core's error if fetching or decoding fails.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn next_batch(&self, max: Option<u32>) -> AsyncTask<Call<String>> {
        let (batches, closed) = (Arc::clone(&self.batches), Arc::clone(&self.closed));
        call_with(move || {
            let mut batches = batches.lock().unwrap_or_else(|e| e.into_inner());
            if closed.load(Ordering::SeqCst) {
                batches.close();
            }
            let batch = batches.next_batch_text(Some(max.map_or(256, |n| n as usize)));
            if closed.load(Ordering::SeqCst) {
                // `close()` found this batch running and left the freeing to it.
                batches.close();
            }
            batch
        })
    }

    /// Stops the stream early and frees what it holds (pending page fetches, the
    /// export's temporary file). Safe to call more than once.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        // Drop now unless a batch is being read; that batch drops it when done.
        if let Ok(mut batches) = self.batches.try_lock() {
            batches.close();
        }
    }
}
