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
//! nothing is left half-written). Iterators keep their pending page instead (see
//! [`Pending`]), so a row is never lost to a Ctrl-C.
//!
//! The hop is kept cheap: the main thread's calls go to one persistent worker (the
//! *lane*), handed over through a slot and an atomic flag; the worker spins briefly for
//! its next job before parking, and the waiting main thread spins briefly for the
//! result before parking, so a quick call usually costs no sleep and wake-up on either
//! side. When the lane is busy (an abandoned call still running) a call goes to a
//! small reusable pool instead. Calls from other threads, which receive no signals,
//! run in place without the GIL (no thread hop). Either way a Rust panic becomes
//! [`core::Error::Internal`], never a `PanicException`.

use std::collections::VecDeque;
use std::os::raw::c_ulong;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

use ango_core as core;
use pyo3::prelude::*;

use crate::errors::to_pyerr;

/// How often a waiting main thread runs Python's signal handlers.
const SLICE: Duration = Duration::from_millis(100);

/// How long an idle pool worker waits for work before its thread ends.
const IDLE: Duration = Duration::from_secs(30);

/// The Python identifier of the interpreter's main thread, recorded on first use.
static MAIN_THREAD: OnceLock<c_ulong> = OnceLock::new();

/// Kept for the module's start-up sequence; the main thread is now looked up on the
/// first call instead (importing `threading` at import time costs several ms).
pub fn init(_py: Python<'_>) -> PyResult<()> {
    Ok(())
}

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
        Pending::start(move || core::cancel::scope(&token, work))
            .wait(py)
            .map_err(|(_, signal)| {
                // Abandoned: stop the work instead of letting it run on unseen.
                cancel.cancel();
                signal
            })?
    } else {
        py.detach(|| catch(work))
    };
    result.map_err(|e| to_pyerr(py, e))
}

/// Whether the caller is Python's main thread, the one that runs signal handlers (so
/// a wait there should go through [`Pending::wait`]).
pub fn interruptible(py: Python<'_>) -> bool {
    on_main_thread(py)
}

/// Where a call's result is left by the thread that ran it.
struct Slot<T> {
    /// Set (release) once `result` holds the outcome.
    done: AtomicBool,
    result: Mutex<Option<core::Result<T>>>,
    /// The thread waiting for the result, woken when it is set.
    waiter: Thread,
}

impl<T> Slot<T> {
    fn take(&self) -> Option<core::Result<T>> {
        if !self.done.load(Ordering::Acquire) {
            return None;
        }
        self.result.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// A call running on a worker, whose result has not been collected yet.
pub struct Pending<T> {
    slot: Arc<Slot<T>>,
}

impl<T: Send + 'static> Pending<T> {
    /// Starts `work` on a worker: the persistent main-thread lane when it is free,
    /// otherwise a pool worker.
    pub fn start(work: impl FnOnce() -> core::Result<T> + Send + 'static) -> Self {
        let slot = Arc::new(Slot {
            done: AtomicBool::new(false),
            result: Mutex::new(None),
            waiter: std::thread::current(),
        });
        let filled = Arc::clone(&slot);
        let job: Job = Box::new(move || {
            let outcome = catch(work);
            *filled.result.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
            filled.done.store(true, Ordering::Release);
            // The waiter may be gone (the caller was interrupted): the result is dropped
            // with the last reference to the slot.
            filled.waiter.unpark();
        });
        if let Err(job) = LANE.submit(job) {
            POOL.submit(job);
        }
        Pending { slot }
    }

    /// Waits for the result without the GIL, running signal handlers every [`SLICE`].
    /// If a handler raises, gives the still-pending call back with the exception, so
    /// the caller may keep it (to collect later) or drop it (to abandon it).
    ///
    /// The thread that started the call is woken when the result is ready; another
    /// thread may wait too, and then sees the result within a [`SLICE`].
    pub fn wait(self, py: Python<'_>) -> Result<core::Result<T>, (Self, PyErr)> {
        let mut spin_until = Some(Instant::now() + SPIN_WAIT);
        loop {
            let slot = &self.slot;
            let result = py.detach(|| {
                // Spin briefly first: a quick call's result then arrives without the
                // cost of parking and being woken.
                if let Some(until) = spin_until.take() {
                    let mut spins = 0u32;
                    while Instant::now() < until {
                        if let Some(result) = slot.take() {
                            return Some(result);
                        }
                        spins += 1;
                        if spins < 64 {
                            std::hint::spin_loop();
                        } else {
                            std::thread::yield_now();
                        }
                    }
                }
                let deadline = Instant::now() + SLICE;
                loop {
                    if let Some(result) = slot.take() {
                        return Some(result);
                    }
                    let now = Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    std::thread::park_timeout(deadline - now);
                }
            });
            match result {
                Some(result) => return Ok(result),
                None => {
                    if let Err(signal) = py.check_signals() {
                        return Err((self, signal));
                    }
                    if Arc::strong_count(&self.slot) == 1 {
                        // The job was dropped without running (a worker could not start).
                        return Ok(Err(core::Error::Internal(
                            "a worker thread of the Ango SDK stopped before finishing a call"
                                .into(),
                        )));
                    }
                }
            }
        }
    }
}

/// How long a waiting main thread spins (yielding) before it parks.
const SPIN_WAIT: Duration = Duration::from_micros(300);

/// How long a caller waits for the lane to finish its previous job's last steps.
const CLAIM_WAIT: Duration = Duration::from_micros(50);

/// How long the lane's worker spins (yielding) for its next job before it parks.
const LANE_SPIN: Duration = Duration::from_micros(200);

/// The main thread's persistent worker: a call hands its job over through one slot and
/// an atomic flag, and the worker spins briefly between jobs, so that a sequence of
/// calls costs no thread creation and, usually, no sleeping and waking. A caller that
/// finds the lane busy (an abandoned call still running) uses the pool instead.
struct Lane {
    /// Claimed from submission until the job has finished.
    busy: AtomicBool,
    /// A job is in `job` for the worker.
    ready: AtomicBool,
    job: Mutex<Option<Job>>,
    /// The worker's handle, and the process it belongs to (a child made by `fork()`
    /// inherits this state but none of the threads).
    worker: Mutex<Option<(Thread, u32)>>,
}

static LANE: Lane = Lane {
    busy: AtomicBool::new(false),
    ready: AtomicBool::new(false),
    job: Mutex::new(None),
    worker: Mutex::new(None),
};

impl Lane {
    /// Hands `job` to the lane's worker, or gives it back if the lane is busy.
    fn submit(&'static self, job: Job) -> Result<(), Job> {
        let pid = std::process::id();
        let mut worker = self.worker.lock().unwrap_or_else(|e| e.into_inner());
        let thread = match worker.as_ref() {
            Some((thread, owner)) if *owner == pid => thread.clone(),
            _ => {
                // No worker yet, or forked: start one (the flags are reset, as the
                // parent's worker does not exist here).
                self.busy.store(false, Ordering::SeqCst);
                self.ready.store(false, Ordering::SeqCst);
                *self.job.lock().unwrap_or_else(|e| e.into_inner()) = None;
                match std::thread::Builder::new()
                    .name("ango-sdk-main-call".into())
                    .spawn(move || self.work())
                {
                    Ok(handle) => {
                        let thread = handle.thread().clone();
                        *worker = Some((thread.clone(), pid));
                        thread
                    }
                    Err(_) => return Err(job),
                }
            }
        };
        drop(worker);
        // The previous call's result is published just before its job returns, so
        // the lane may still look busy for a moment: wait for it briefly, but not for
        // an abandoned call that is still running (that one goes to the pool).
        let claim_until = Instant::now() + CLAIM_WAIT;
        while self
            .busy
            .compare_exchange_weak(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            if Instant::now() >= claim_until {
                return Err(job);
            }
            std::hint::spin_loop();
        }
        *self.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(job);
        self.ready.store(true, Ordering::Release);
        thread.unpark();
        Ok(())
    }

    fn work(&'static self) {
        loop {
            let spin_until = Instant::now() + LANE_SPIN;
            let mut spins = 0u32;
            while !self.ready.load(Ordering::Acquire) {
                if Instant::now() < spin_until {
                    spins += 1;
                    if spins < 64 {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                } else {
                    std::thread::park();
                }
            }
            self.ready.store(false, Ordering::Relaxed);
            let job = self.job.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(job) = job {
                // Jobs catch their own panics; this is a second line so the worker never dies.
                let _ = catch_unwind(AssertUnwindSafe(job));
            }
            self.busy.store(false, Ordering::Release);
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
        // A failed spawn drops the job, and with it its reference to the result slot:
        // the waiting caller then reports an internal error instead of waiting forever.
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
