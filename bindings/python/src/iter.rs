//! `Rows`: a core row iterator (export rows, auto-paginated listings) as a Python
//! iterator. The rows are read ahead in batches on a thread of the core's
//! ([`ReadAhead`]); a wait for a batch releases the GIL and runs the signal handlers
//! every slice, so Ctrl-C interrupts it without losing a row; `close()` never blocks.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use ango_core::rows::{ReadAhead, RowSource};
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;

use crate::blocking;
use crate::decode::{self, Decoder};
use crate::errors::to_pyerr;

/// An iterator of JSON rows (dicts), fetched or read lazily.
#[pyclass(module = "imerit_ango._native", name = "Rows", frozen)]
pub struct Rows {
    /// `None` once exhausted or closed, which also stops the reader (freeing the
    /// temporary file or the page fetches).
    batches: Mutex<Option<ReadAhead>>,
    closed: AtomicBool,
    /// Rows read but not yet decoded (at most one batch's worth), decoded one at a time
    /// as they are asked for, straight into Python objects by [`Decoder`], with the
    /// interpreter's own `json.loads` as the exact fallback for what it leaves.
    texts: Mutex<VecDeque<Vec<u8>>>,
    /// Decodes rows and items, sharing one `str` per key across them.
    decoder: Mutex<Option<Decoder>>,
}

impl Rows {
    /// The rows of `source`: a downloaded export, or a listing's pages read with
    /// [`ango_core::Pages::with_raw_items`] (from a client bound to `cancel`, which
    /// closing the iterator cancels, so that its page fetches stop).
    pub fn new(source: impl RowSource + 'static, cancel: Option<ango_core::Cancel>) -> Self {
        Rows {
            batches: Mutex::new(Some(ReadAhead::new(source, cancel, None))),
            closed: AtomicBool::new(false),
            texts: Mutex::new(VecDeque::new()),
            decoder: Mutex::new(None),
        }
    }

    /// Reads the next batch into `texts`; `false` once the rows are over (or closed).
    /// Waits without the GIL, one slice at a time, raising what a signal handler raises
    /// in between. The batch is queued while the reader is still held, so rows read by
    /// several threads stay in order.
    fn read_batch(&self, py: Python<'_>) -> PyResult<bool> {
        loop {
            let next = py.detach(|| {
                let mut batches = self.batches.lock().unwrap_or_else(|e| e.into_inner());
                let next = batches.as_mut()?.next_within(blocking::SLICE);
                // Closed meanwhile (from another thread): nothing more is handed out.
                if self.closed.load(Ordering::SeqCst) {
                    *batches = None;
                    return None;
                }
                Some(match next {
                    Some(Ok(batch)) if batch.is_empty() => {
                        *batches = None;
                        Some(Ok(false))
                    }
                    Some(Ok(batch)) => {
                        self.queue().extend(batch);
                        Some(Ok(true))
                    }
                    other => other.map(|failed| failed.map(|_| true)),
                })
            });
            match next {
                None => return Ok(false),
                Some(Some(Ok(more))) => return Ok(more),
                Some(Some(Err(error))) => return Err(to_pyerr(py, error)),
                Some(None) => py.check_signals()?,
            }
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Vec<u8>>> {
        self.texts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One row as Python objects: the fast decoder, or `json.loads` for what it leaves
    /// (so a malformed row raises the interpreter's own `JSONDecodeError`).
    fn decode(&self, py: Python<'_>, text: &[u8]) -> PyResult<Py<PyAny>> {
        let decoded = decode::decode_with(&self.decoder, py, text);
        Ok(decoded.or_loads(py, text)?.unbind())
    }
}

#[pymethods]
impl Rows {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            loop {
                let text = match self.closed.load(Ordering::SeqCst) {
                    true => None,
                    false => self.queue().pop_front(),
                };
                if let Some(text) = text {
                    return self.decode(py, &text);
                }
                if !self.read_batch(py)? {
                    return Err(PyStopIteration::new_err(()));
                }
            }
        })
    }

    /// Stops early and frees what the iterator holds (idempotent). Never waits: a
    /// batch being read finishes on the reader's thread, which then frees the source.
    fn close(&self, py: Python<'_>) {
        self.closed.store(true, Ordering::SeqCst);
        // A thread waiting for a batch holds the reader: it drops it after its slice.
        let batches = self.batches.try_lock().ok().and_then(|mut b| b.take());
        let texts = std::mem::take(&mut *self.queue());
        // The decoder is left to `Drop`: another thread may be decoding with it.
        py.detach(move || drop((batches, texts)));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }
}
