//! `Rows`: a core row iterator (export rows, auto-paginated listings) as a Python
//! iterator. Each step that may read a file or fetch a page runs without the GIL and,
//! on the main thread, can be interrupted by Ctrl-C; `close()` never blocks.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use ango_core as core;
use ango_core::rows::{RowBatches, RowSource};
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBytes;

use crate::blocking::{self, Pending};
use crate::decode::{Decoded, Decoder};
use crate::errors::to_pyerr;

/// A step's outcome: the rows of one batch (`ango_core::rows`), read as JSON text
/// without the GIL (one hop to a worker per batch on the main thread), then decoded one
/// at a time, as they are asked for, straight into Python objects by [`Decoder`], with
/// the interpreter's own `json.loads` as the exact fallback for what the fast path leaves.
enum Step {
    Texts(VecDeque<Vec<u8>>),
    Failed(core::Error),
    End,
}

/// An iterator of JSON rows (dicts), fetched or read lazily.
#[pyclass(module = "imerit_ango._native", name = "Rows", frozen)]
pub struct Rows {
    // Closed once exhausted or closed, which also frees the temporary file or threads.
    // Shared with the pool worker that reads the next step for the main thread.
    source: Arc<Mutex<RowBatches>>,
    /// A step started for the main thread whose wait a signal interrupted: the next
    /// `__next__` collects it, so no row is lost.
    in_flight: Mutex<Option<Pending<Step>>>,
    closed: AtomicBool,
    /// Export rows or listing items read but not yet decoded (at most one step's worth).
    texts: Mutex<VecDeque<Vec<u8>>>,
    /// Decodes rows and items, sharing one `str` per key across them.
    decoder: Mutex<Option<Decoder>>,
}

impl Rows {
    /// The rows of `source`: a downloaded export, or a listing's pages read with
    /// [`core::Pages::with_raw_items`].
    pub fn new(source: impl RowSource + 'static) -> Self {
        Rows {
            source: Arc::new(Mutex::new(RowBatches::new(source, None))),
            in_flight: Mutex::new(None),
            closed: AtomicBool::new(false),
            texts: Mutex::new(VecDeque::new()),
            decoder: Mutex::new(None),
        }
    }
}

fn json_loads(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    LOADS
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("json")?.getattr("loads")?.unbind())
        })
        .map(|f| f.bind(py))
}

/// Locks the batches; after a panic while they were held (poisoned), they are closed,
/// since their state can no longer be trusted.
fn lock(source: &Mutex<RowBatches>) -> MutexGuard<'_, RowBatches> {
    source.lock().unwrap_or_else(|poisoned| {
        let mut guard = poisoned.into_inner();
        guard.close();
        guard
    })
}

/// The next step. Runs without the GIL.
fn step(source: &Mutex<RowBatches>) -> Step {
    match lock(source).next_batch(None) {
        Ok(rows) if rows.is_empty() => Step::End,
        Ok(rows) => Step::Texts(rows.into()),
        Err(error) => Step::Failed(error),
    }
}

impl Rows {
    /// The next step, with panics caught. On the main thread the step runs on a pool
    /// worker and the wait is interruptible (see [`blocking`]); an interrupted step is
    /// kept for the next call. Elsewhere it runs in place without the GIL.
    fn next_step(&self, py: Python<'_>) -> PyResult<Step> {
        if self.closed.load(Ordering::SeqCst) {
            return Ok(Step::End);
        }
        // A step already in flight (interrupted, or read ahead) comes first, whichever
        // thread collects it, so that no row is skipped or reordered.
        let in_flight = self.take_in_flight();
        let result = if in_flight.is_some() || blocking::interruptible(py) {
            let pending = in_flight.unwrap_or_else(|| {
                let source = Arc::clone(&self.source);
                Pending::start(move || Ok(step(&source)))
            });
            match pending.wait(py) {
                Ok(result) => result,
                Err((pending, signal)) => {
                    *self.in_flight.lock().unwrap_or_else(|e| e.into_inner()) = Some(pending);
                    return Err(signal);
                }
            }
        } else {
            py.detach(|| blocking::catch(|| Ok(step(&self.source))))
        };
        Ok(result.unwrap_or_else(|error| {
            // A panic: this iterator is done.
            self.closed.store(true, Ordering::SeqCst);
            Step::Failed(error)
        }))
    }

    /// Starts the next step on a worker, to be collected by the next `next_step`, when
    /// on the main thread and no step is in flight yet.
    fn prefetch(&self, py: Python<'_>) {
        if self.closed.load(Ordering::SeqCst) || !blocking::interruptible(py) {
            return;
        }
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if in_flight.is_none() {
            let source = Arc::clone(&self.source);
            *in_flight = Some(Pending::start(move || Ok(step(&source))));
        }
    }

    /// The next export row or listing item already read, if any (never while closed).
    fn next_text(&self) -> Option<Vec<u8>> {
        if self.closed.load(Ordering::SeqCst) {
            return None;
        }
        self.texts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }

    /// One export row or listing item as Python objects: the fast decoder, or `json.loads` for what it
    /// leaves (so a malformed row raises the interpreter's own `JSONDecodeError`).
    fn decode(&self, py: Python<'_>, text: &[u8]) -> PyResult<Py<PyAny>> {
        let decoded = {
            // Only this thread decodes at a time (the GIL is held throughout).
            let mut guard = self.decoder.lock().unwrap_or_else(|e| e.into_inner());
            guard.get_or_insert_with(Decoder::new).decode(py, text)
        };
        match decoded {
            Decoded::Value(value) => Ok(value.unbind()),
            Decoded::Fallback => Ok(json_loads(py)?.call1((PyBytes::new(py, text),))?.unbind()),
        }
    }

    fn take_in_flight(&self) -> Option<Pending<Step>> {
        // Held only for the swap, never while waiting, so taking it with the GIL is safe.
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

#[pymethods]
impl Rows {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            if let Some(text) = self.next_text() {
                return self.decode(py, &text);
            }
            match self.next_step(py)? {
                Step::Texts(texts) => {
                    let mut buffer = self.texts.lock().unwrap_or_else(|e| e.into_inner());
                    // Another thread's step may have left rows here while this one
                    // waited without the GIL: add to them, never replace them.
                    if buffer.is_empty() {
                        *buffer = texts;
                    } else {
                        buffer.extend(texts);
                    }
                    let text = buffer.pop_front();
                    drop(buffer);
                    // Read the next batch on a worker while this one is decoded here
                    // (the main thread's steps only: elsewhere steps run in place).
                    self.prefetch(py);
                    match text {
                        Some(text) => self.decode(py, &text),
                        None => Err(PyStopIteration::new_err(())),
                    }
                }
                Step::Failed(error) => Err(to_pyerr(py, error)),
                Step::End => Err(PyStopIteration::new_err(())),
            }
        })
    }

    /// Stops early and frees what the iterator holds (idempotent). Never waits for a
    /// step in progress: if one is (in another thread, or abandoned by Ctrl-C), the
    /// source is freed on a pool worker as soon as that step ends.
    fn close(&self, py: Python<'_>) {
        self.closed.store(true, Ordering::SeqCst);
        drop(self.take_in_flight());
        let texts = std::mem::take(&mut *self.texts.lock().unwrap_or_else(|e| e.into_inner()));
        py.detach(move || drop(texts));
        drop(
            self.decoder
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        let taken = match self.source.try_lock() {
            Ok(mut guard) => guard.take_source(),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner().take_source(),
            Err(TryLockError::WouldBlock) => {
                let source = Arc::clone(&self.source);
                drop(Pending::start(move || {
                    lock(&source).close();
                    Ok(())
                }));
                None
            }
        };
        py.detach(move || drop(taken));
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
