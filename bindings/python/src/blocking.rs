//! How a blocking core call runs: without the GIL, with panics caught, and, on the main
//! thread, interruptible by Ctrl-C.
//!
//! Python runs signal handlers (`KeyboardInterrupt`) only on the main thread, and only
//! when that thread runs Python code. So a call made from the main thread runs on a
//! worker of a small reusable pool while the main thread, without the GIL, waits for
//! its result in short slices and re-attaches between them to run the handlers. If a
//! handler raises, the exception propagates at once and the call is abandoned: it
//! finishes in the background and its result is dropped (the core's exports are
//! atomic, so nothing is left half-written). Calls from other threads, which receive no
//! signals, run in place without the GIL (no thread hop). Either way a Rust panic
//! becomes [`core::Error::Internal`], never a `PanicException`.

use std::any::Any;
use std::collections::VecDeque;
use std::os::raw::c_ulong;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Condvar, LazyLock, Mutex, OnceLock};
use std::time::Duration;

use ango_core as core;
use pyo3::prelude::*;

use crate::errors::to_pyerr;

/// How often a waiting main thread runs Python's signal handlers.
const SLICE: Duration = Duration::from_millis(100);

/// How long an idle pool worker waits for work before its thread ends.
const IDLE: Duration = Duration::from_secs(30);

/// The Python identifier of the interpreter's main thread, recorded at import.
static MAIN_THREAD: OnceLock<c_ulong> = OnceLock::new();

/// Records which thread is Python's main thread (called once, at module import).
pub fn init(py: Python<'_>) -> PyResult<()> {
    let main = py.import("threading")?.call_method0("main_thread")?;
    let ident: c_ulong = main.getattr("ident")?.extract()?;
    let _ = MAIN_THREAD.set(ident);
    Ok(())
}

fn on_main_thread() -> bool {
    // SAFETY: `PyThread_get_thread_ident` only reads the calling thread's identifier;
    // it needs neither the GIL nor an initialised thread state.
    let current = unsafe { pyo3::ffi::PyThread_get_thread_ident() };
    MAIN_THREAD.get() == Some(&current)
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Runs `work`, turning a panic into [`core::Error::Internal`].
pub fn catch<T>(work: impl FnOnce() -> core::Result<T>) -> core::Result<T> {
    catch_unwind(AssertUnwindSafe(work))
        .unwrap_or_else(|payload| Err(core::Error::Internal(panic_message(payload.as_ref()))))
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
        let error = core::Error::Internal(panic_message(payload.as_ref()));
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
    let result = if on_main_thread() {
        Pending::start(work)
            .wait(py)
            .map_err(|(_, signal)| signal)?
    } else {
        py.detach(|| catch(work))
    };
    result.map_err(|e| to_pyerr(py, e))
}

/// Whether the caller is Python's main thread, the one that runs signal handlers (so
/// a wait there should go through [`Pending::wait`]).
pub fn interruptible() -> bool {
    on_main_thread()
}

/// A call running on the pool, whose result has not been collected yet.
pub struct Pending<T> {
    result: Receiver<core::Result<T>>,
}

impl<T: Send + 'static> Pending<T> {
    /// Starts `work` on a pool worker.
    pub fn start(work: impl FnOnce() -> core::Result<T> + Send + 'static) -> Self {
        let (sender, result) = mpsc::sync_channel(1);
        POOL.submit(Box::new(move || {
            // The receiver may be gone (the caller was interrupted): drop the result.
            let _ = sender.send(catch(work));
        }));
        Pending { result }
    }

    /// Waits for the result without the GIL, running signal handlers every [`SLICE`].
    /// If a handler raises, gives the still-pending call back with the exception, so
    /// the caller may keep it (to collect later) or drop it (to abandon it).
    pub fn wait(self, py: Python<'_>) -> Result<core::Result<T>, (Self, PyErr)> {
        let mut receiver = self.result;
        loop {
            // The receiver moves into the detached closure and back (it is not `Sync`).
            let (back, received) = py.detach(move || {
                let received = receiver.recv_timeout(SLICE);
                (receiver, received)
            });
            receiver = back;
            match received {
                Ok(result) => return Ok(result),
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(signal) = py.check_signals() {
                        return Err((Pending { result: receiver }, signal));
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Ok(Err(core::Error::Internal(
                        "a worker thread of the Ango SDK stopped before finishing a call".into(),
                    )));
                }
            }
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A pool of worker threads that grows on demand (a call never waits for another one
/// to finish) and shrinks when its threads stay idle for [`IDLE`].
struct Pool {
    state: Mutex<PoolState>,
    work_ready: Condvar,
}

struct PoolState {
    queue: VecDeque<Job>,
    /// Waiting workers not yet promised a queued job.
    idle: usize,
    /// The process these workers belong to: a child made by `fork()` (as
    /// `multiprocessing` does) inherits this state but none of the threads.
    pid: u32,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| Pool {
    state: Mutex::new(PoolState {
        queue: VecDeque::new(),
        idle: 0,
        pid: std::process::id(),
    }),
    work_ready: Condvar::new(),
});

impl Pool {
    fn submit(&'static self, job: Job) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let pid = std::process::id();
        if state.pid != pid {
            // Forked: the counted workers do not exist in this process.
            state.pid = pid;
            state.idle = 0;
            state.queue.clear();
        }
        if state.idle > 0 {
            state.idle -= 1;
            state.queue.push_back(job);
            drop(state);
            self.work_ready.notify_one();
            return;
        }
        drop(state);
        // A failed spawn drops the job, and with it the result's sender: the waiting
        // caller then reports an internal error instead of waiting forever.
        let _ = std::thread::Builder::new()
            .name("ango-sdk-call".into())
            .spawn(move || self.work(job));
    }

    fn work(&'static self, first: Job) {
        let mut job = first;
        loop {
            // Jobs catch their own panics; this is a second line so a worker never dies.
            let _ = catch_unwind(AssertUnwindSafe(job));
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.idle += 1;
            job = loop {
                if let Some(next) = state.queue.pop_front() {
                    break next;
                }
                let (guard, timeout) = self
                    .work_ready
                    .wait_timeout(state, IDLE)
                    .unwrap_or_else(|e| e.into_inner());
                state = guard;
                if timeout.timed_out() && state.queue.is_empty() {
                    state.idle -= 1;
                    return;
                }
            };
        }
    }
}
