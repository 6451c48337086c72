//! How a blocking core call runs: without the GIL, with panics caught, and, on the main
//! thread, interruptible by Ctrl-C.
//!
//! Python runs signal handlers (`KeyboardInterrupt`) only on the main thread, and only
//! when that thread runs Python code. So a call made from the main thread runs on
//! another thread while the main thread, without the GIL, waits for its result and
//! re-attaches every [`SLICE`] to run the handlers. If a handler raises, the exception
//! propagates at once and the call is abandoned: its cancellation token (a
//! [`core::cancel::scope`] around the work) is cancelled, so the core stops at its next
//! checkpoint (a wait for the server, a retry sleep, a body chunk, a page, a file) and
//! sends nothing more, and its result is dropped (the core's exports are atomic, so
//! nothing is left half-written). Iterators wait the same way for their next batch,
//! which stays queued when interrupted (see `iter`), so a row is never lost to a Ctrl-C.
//!
//! The hop itself (a persistent worker, a pool, spinning before parking: cheap for a
//! quick call) is [`core::offload`]. Calls from other threads, which receive no
//! signals, run in place without the GIL (no thread hop). Either way a Rust panic
//! becomes [`core::Error::Internal`], never a `PanicException`.

use std::os::raw::c_ulong;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::time::Duration;

use ango_core as core;
use pyo3::prelude::*;

use crate::errors::to_pyerr;

/// How often a waiting main thread runs Python's signal handlers.
pub(crate) const SLICE: Duration = Duration::from_millis(100);

/// The Python identifier of the interpreter's main thread, recorded on first use.
static MAIN_THREAD: OnceLock<c_ulong> = OnceLock::new();

fn main_thread(py: Python<'_>) -> Option<c_ulong> {
    if let Some(ident) = MAIN_THREAD.get() {
        return Some(*ident);
    }
    let lookup = || -> PyResult<c_ulong> {
        let main = py.import("threading")?.call_method0("main_thread")?;
        main.getattr("ident")?.extract()
    };
    match lookup() {
        Ok(ident) => Some(*MAIN_THREAD.get_or_init(|| ident)),
        Err(error) => {
            // Without `threading` no thread can be told apart: run in place.
            drop(error);
            None
        }
    }
}

fn on_main_thread(py: Python<'_>) -> bool {
    // SAFETY: `PyThread_get_thread_ident` only reads the calling thread's identifier;
    // it needs neither the GIL nor an initialised thread state.
    let current = unsafe { pyo3::ffi::PyThread_get_thread_ident() };
    main_thread(py) == Some(current)
}

/// Runs `work`, turning a panic into [`core::Error::Internal`].
pub fn catch<T>(work: impl FnOnce() -> core::Result<T>) -> core::Result<T> {
    core::Error::catch_panic(work)
}

/// Runs `work` in place (with the GIL held: for quick steps such as building a client)
/// and converts its error, a panic included, into the matching Python exception.
pub fn guard<T>(py: Python<'_>, work: impl FnOnce() -> core::Result<T>) -> PyResult<T> {
    catch(work).map_err(|e| to_pyerr(py, e))
}

/// Runs a quick conversion entry point (with the GIL held), turning a panic into an
/// `AngoInternalError` instead of pyo3's `PanicException`.
pub fn shield<T>(work: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        let error = core::Error::Internal(core::Error::panic_text(payload.as_ref()));
        Err(Python::attach(|py| to_pyerr(py, error)))
    })
}

/// Runs a blocking core call without the GIL (see the module documentation) and
/// converts its error into the matching Python exception. A pending signal handler's
/// exception (`KeyboardInterrupt`) is raised instead if one fires while waiting.
pub fn call<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> core::Result<T> + Send + 'static,
{
    let result = if on_main_thread(py) {
        let cancel = core::Cancel::new();
        let token = cancel.clone();
        // The thread that started the call is woken when the result is ready.
        let pending = core::offload::Pending::start(move || core::cancel::scope(&token, work));
        loop {
            if let Some(result) = py.detach(|| pending.wait_slice(SLICE)) {
                break result;
            }
            if let Err(signal) = py.check_signals() {
                // Abandoned: stop the work instead of letting it run on unseen.
                cancel.cancel();
                return Err(signal);
            }
        }
    } else {
        py.detach(|| catch(work))
    };
    result.map_err(|e| to_pyerr(py, e))
}
