//! Running a blocking call on another thread cheaply, and waiting for its result in
//! time slices.
//!
//! A caller that must stay responsive while a call runs (the Python binding's main
//! thread, which runs signal handlers such as Ctrl-C's `KeyboardInterrupt` between
//! waits) starts the call with [`Pending::start`] and waits with
//! [`Pending::wait_slice`], doing its own checks between slices. If it gives up, it
//! drops the [`Pending`]: the call runs on to its end (stop it with a
//! [`Cancel`](crate::Cancel) token, e.g. [`cancel::scope`](crate::cancel::scope) around
//! the work) and its result is dropped.
//!
//! The hop is kept cheap: calls go to one persistent worker (the *lane*), handed over
//! through a slot and an atomic flag; the worker spins briefly for its next job before
//! parking, and the first wait spins briefly for the result before parking, so a quick
//! call usually costs no thread creation and no sleep and wake-up on either side. When
//! the lane is busy (an abandoned call still running, or another thread's call) a call
//! goes to a pool of workers instead, which grows on demand (a call never waits for
//! another one to finish) and whose threads end after [`IDLE`] without work. A child
//! process made by `fork()` inherits none of the threads: the lane and the pool notice
//! (by the process id) and start afresh.
//!
//! A panic in the work becomes [`Error::Internal`]; a call whose job is dropped
//! without running (a worker thread could not be started) ends with
//! [`Error::Internal`] too, instead of leaving its waiter waiting.
//!
//! ```
//! use std::time::Duration;
//! use ango_core::offload::Pending;
//!
//! let pending = Pending::start(|| Ok(6 * 7));
//! let answer = loop {
//!     if let Some(result) = pending.wait_slice(Duration::from_millis(100)) {
//!         break result;
//!     }
//!     // Between slices: check for an interruption, report progress, ...
//! };
//! assert_eq!(answer.unwrap(), 42);
//! ```

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long an idle pool worker waits for work before its thread ends.
pub const IDLE: Duration = Duration::from_secs(30);

/// How long the first wait for a result spins (yielding) before it parks.
const SPIN_WAIT: Duration = Duration::from_micros(300);

/// How long a caller waits for the lane to finish its previous job's last steps.
const CLAIM_WAIT: Duration = Duration::from_micros(50);

/// How long the lane's worker spins (yielding) for its next job before it parks.
const LANE_SPIN: Duration = Duration::from_micros(200);

/// The message of the error a call ends with when its job is dropped unrun.
const DROPPED: &str = "a worker thread of the Ango SDK stopped before finishing a call";

/// Where a call's result is left by the thread that ran it.
struct Slot<T> {
    /// Set (release) once `result` holds the outcome.
    done: AtomicBool,
    result: Mutex<Option<Result<T>>>,
    /// The thread waiting for the result, woken when it is set.
    waiter: Thread,
}

impl<T> Slot<T> {
    #[inline]
    fn take(&self) -> Option<Result<T>> {
        if !self.done.load(Ordering::Acquire) {
            return None;
        }
        self.result.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn fill(&self, outcome: Result<T>) {
        *self.result.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
        self.done.store(true, Ordering::Release);
        // The waiter may be gone (the caller gave up): the result is dropped with the
        // last reference to the slot.
        self.waiter.unpark();
    }
}

/// The job's hold on its slot: filled with the outcome when the job runs, or with an
/// [`Error::Internal`] if the job is dropped without running, so that no waiter waits
/// for a result that cannot come.
struct Filler<T>(Option<Arc<Slot<T>>>);

impl<T> Filler<T> {
    #[inline]
    fn fill(mut self, outcome: Result<T>) {
        if let Some(slot) = self.0.take() {
            slot.fill(outcome);
        }
    }
}

impl<T> Drop for Filler<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            slot.fill(Err(Error::Internal(DROPPED.into())));
        }
    }
}

/// A call running on a worker thread, whose result has not been collected yet.
///
/// Dropping it abandons the call: the work runs on to its end and its result is
/// dropped.
pub struct Pending<T> {
    slot: Arc<Slot<T>>,
    /// Whether a wait has spun for the result already (only the first one does).
    spun: AtomicBool,
}

impl<T> std::fmt::Debug for Pending<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("done", &self.slot.done.load(Ordering::Acquire))
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Pending<T> {
    /// Starts `work` on a worker: the persistent lane when it is free, otherwise a pool
    /// worker. A panic in `work` becomes [`Error::Internal`]. The thread calling
    /// `start` is the one woken when the result is ready (see [`Pending::wait_slice`]).
    #[inline]
    pub fn start(work: impl FnOnce() -> Result<T> + Send + 'static) -> Self {
        Self::start_on(&WORKERS, work)
    }

    #[inline]
    fn start_on(
        workers: &'static Workers,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Self {
        let (pending, job) = Self::job(work);
        workers.submit(job);
        pending
    }

    /// The pending result and the job that fills it.
    #[inline]
    fn job(work: impl FnOnce() -> Result<T> + Send + 'static) -> (Self, Job) {
        let slot = Arc::new(Slot {
            done: AtomicBool::new(false),
            result: Mutex::new(None),
            waiter: std::thread::current(),
        });
        let filler = Filler(Some(Arc::clone(&slot)));
        let job: Job = Box::new(move || filler.fill(Error::catch_panic(work)));
        let pending = Pending {
            slot,
            spun: AtomicBool::new(false),
        };
        (pending, job)
    }

    /// Waits up to about `slice` for the result: `Some` once the call has ended (its
    /// outcome, or [`Error::Internal`] if it panicked or its job was dropped unrun),
    /// `None` if the slice ended first (call again to go on waiting). The first wait on
    /// a call spins briefly before parking, so that a quick call's result arrives
    /// without the cost of being put to sleep and woken.
    ///
    /// The thread that started the call is woken as soon as the result is ready;
    /// another thread may wait too, and then sees the result by the end of its slice.
    /// Once the result has been returned, later waits return `None`.
    #[inline]
    pub fn wait_slice(&self, slice: Duration) -> Option<Result<T>> {
        let slot = &*self.slot;
        if !self.spun.swap(true, Ordering::Relaxed) {
            let until = Instant::now() + SPIN_WAIT;
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
        // A slice too long to add to the clock waits for the result however long (in
        // parks of at most a second: only the starting thread is woken by the result).
        let deadline = Instant::now().checked_add(slice);
        loop {
            if let Some(result) = slot.take() {
                return Some(result);
            }
            match deadline {
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    std::thread::park_timeout(deadline - now);
                }
                None => std::thread::park_timeout(Duration::from_secs(1)),
            }
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The lane and the pool the process's calls go to.
struct Workers {
    lane: Lane,
    pool: Pool,
}

static WORKERS: LazyLock<Workers> = LazyLock::new(|| Workers::new(IDLE));

impl Workers {
    fn new(idle: Duration) -> Self {
        Workers {
            lane: Lane {
                busy: AtomicBool::new(false),
                ready: AtomicBool::new(false),
                job: Mutex::new(None),
                worker: Mutex::new(None),
            },
            pool: Pool {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    idle: 0,
                    threads: 0,
                    pid: std::process::id(),
                }),
                work_ready: Condvar::new(),
                idle,
            },
        }
    }

    fn submit(&'static self, job: Job) {
        if let Err(job) = self.lane.submit(job) {
            self.pool.submit(job);
        }
    }
}

/// The persistent worker: a call hands its job over through one slot and an atomic
/// flag, and the worker spins briefly between jobs, so that a sequence of calls costs
/// no thread creation and, usually, no sleeping and waking. A caller that finds the
/// lane busy (an abandoned call still running) uses the pool instead.
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

impl Lane {
    /// Hands `job` to the lane's worker, or gives it back if the lane is busy.
    fn submit(&'static self, job: Job) -> std::result::Result<(), Job> {
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

/// A pool of worker threads that grows on demand (a call never waits for another one
/// to finish) and shrinks when its threads stay idle for `idle`.
struct Pool {
    state: Mutex<PoolState>,
    work_ready: Condvar,
    idle: Duration,
}

struct PoolState {
    queue: VecDeque<Job>,
    /// Waiting workers not yet promised a queued job.
    idle: usize,
    /// Live workers (started, not ended).
    threads: usize,
    /// The process these workers belong to: a child made by `fork()` (as
    /// `multiprocessing` does) inherits this state but none of the threads.
    pid: u32,
}

impl Pool {
    fn submit(&'static self, job: Job) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let pid = std::process::id();
        if state.pid != pid {
            // Forked: the counted workers do not exist in this process.
            state.pid = pid;
            state.idle = 0;
            state.threads = 0;
            state.queue.clear();
        }
        if state.idle > 0 {
            state.idle -= 1;
            state.queue.push_back(job);
            drop(state);
            self.work_ready.notify_one();
            return;
        }
        state.threads += 1;
        drop(state);
        // A failed spawn drops the job, which then ends its call with an internal error
        // instead of leaving the caller waiting forever.
        let spawned = std::thread::Builder::new()
            .name("ango-sdk-call".into())
            .spawn(move || self.work(job));
        if spawned.is_err() {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.threads = state.threads.saturating_sub(1);
        }
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
                    .wait_timeout(state, self.idle)
                    .unwrap_or_else(|e| e.into_inner());
                state = guard;
                if timeout.timed_out() && state.queue.is_empty() {
                    state.idle -= 1;
                    state.threads = state.threads.saturating_sub(1);
                    return;
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Long enough for any result in these tests: a bound on every wait, not a timing.
    const BOUND: Duration = Duration::from_secs(30);

    /// A private lane and pool (idle threads end after `idle`), so that a test's
    /// workers are not shared with the other tests running at the same time.
    fn workers(idle: Duration) -> &'static Workers {
        Box::leak(Box::new(Workers::new(idle)))
    }

    /// Waits for `pending`'s result, failing the test instead of hanging.
    fn collect<T: Send + 'static>(pending: &Pending<T>) -> Result<T> {
        let until = Instant::now() + BOUND;
        loop {
            if let Some(result) = pending.wait_slice(Duration::from_millis(20)) {
                return result;
            }
            assert!(Instant::now() < until, "no result within {BOUND:?}");
        }
    }

    fn thread_name() -> String {
        std::thread::current().name().unwrap_or("").to_string()
    }

    #[test]
    fn offload_hands_the_result_over() {
        let pending = Pending::start(|| Ok(vec![String::from("page"), String::from("two")]));
        assert_eq!(collect(&pending).unwrap(), ["page", "two"]);
        // Collected once: a later wait has nothing more.
        assert!(pending.wait_slice(Duration::from_millis(1)).is_none());

        let failed = Pending::<()>::start(|| Err(Error::InvalidArgument("bad id".into())));
        match collect(&failed) {
            Err(Error::InvalidArgument(message)) => assert_eq!(message, "bad id"),
            other => panic!("expected the work's own error, got {other:?}"),
        }
    }

    #[test]
    fn offload_runs_the_work_on_another_thread() {
        let caller = std::thread::current().id();
        let pending = Pending::start(move || Ok(std::thread::current().id()));
        assert_ne!(collect(&pending).unwrap(), caller);
    }

    #[test]
    fn offload_turns_a_panic_into_an_internal_error() {
        let pending = Pending::<u32>::start(|| panic!("bug in the work"));
        match collect(&pending) {
            Err(Error::Internal(message)) => assert!(message.contains("bug in the work")),
            other => panic!("expected Error::Internal, got {other:?}"),
        }
        // The worker survived the panic: the next call is answered.
        assert_eq!(collect(&Pending::start(|| Ok(1))).unwrap(), 1);
    }

    #[test]
    fn offload_reports_a_job_dropped_without_running() {
        let ran = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&ran);
        let (pending, job) = Pending::<u32>::job(move || {
            flag.store(true, Ordering::SeqCst);
            Ok(1)
        });
        // What a failed thread start does: the job is dropped unrun.
        drop(job);
        match collect(&pending) {
            Err(Error::Internal(message)) => assert_eq!(message, DROPPED),
            other => panic!("expected Error::Internal, got {other:?}"),
        }
        assert!(!ran.load(Ordering::SeqCst));

        // The same when the drop happens on another thread while the caller waits.
        let (pending, job) = Pending::<u32>::job(|| Ok(1));
        let dropper = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            drop(job);
        });
        assert!(matches!(collect(&pending), Err(Error::Internal(_))));
        dropper.join().unwrap();
    }

    #[test]
    fn offload_sends_a_call_to_the_pool_while_the_lane_runs_an_abandoned_one() {
        let workers = workers(IDLE);
        let (release, blocked) = mpsc::channel::<()>();
        let (started_tx, started) = mpsc::channel::<String>();
        let (finished_tx, finished) = mpsc::channel::<()>();
        let long = Pending::start_on(workers, move || {
            started_tx.send(thread_name()).unwrap();
            // Bounded: the test releases it below.
            let _ = blocked.recv_timeout(BOUND);
            finished_tx.send(()).unwrap();
            Ok(())
        });
        assert_eq!(started.recv_timeout(BOUND).unwrap(), "ango-sdk-main-call");
        // Abandoned, as after a Ctrl-C: it goes on running on the lane.
        drop(long);

        let next = Pending::start_on(workers, || Ok(thread_name()));
        assert_eq!(collect(&next).unwrap(), "ango-sdk-call");

        release.send(()).unwrap();
        finished.recv_timeout(BOUND).unwrap();
        // The lane is free again (once its job has returned) and takes the next calls.
        let until = Instant::now() + BOUND;
        loop {
            let name = collect(&Pending::start_on(workers, || Ok(thread_name()))).unwrap();
            if name == "ango-sdk-main-call" {
                break;
            }
            assert!(Instant::now() < until, "the lane never took a call again");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn offload_pool_threads_end_when_idle() {
        let workers = workers(Duration::from_millis(50));
        let (release, blocked) = mpsc::channel::<()>();
        let hold = Pending::start_on(workers, move || {
            let _ = blocked.recv_timeout(BOUND);
            Ok(())
        });
        // The lane is held: these three go to the pool, running at the same time.
        let (gate_tx, gate) = mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        let mut on_pool = Vec::new();
        for _ in 0..3 {
            let gate = Arc::clone(&gate);
            on_pool.push(Pending::start_on(workers, move || {
                let name = thread_name();
                let _ = gate.lock().unwrap().recv_timeout(BOUND);
                Ok(name)
            }));
        }
        // All three are running (blocked on the gate): three pool threads.
        assert_eq!(workers.pool.state.lock().unwrap().threads, 3);
        for _ in 0..3 {
            gate_tx.send(()).unwrap();
        }
        for pending in &on_pool {
            assert_eq!(collect(pending).unwrap(), "ango-sdk-call");
        }
        release.send(()).unwrap();
        collect(&hold).unwrap();

        let until = Instant::now() + BOUND;
        while workers.pool.state.lock().unwrap().threads > 0 {
            assert!(Instant::now() < until, "idle pool threads did not end");
            std::thread::sleep(Duration::from_millis(10));
        }
        let state = workers.pool.state.lock().unwrap();
        assert_eq!((state.idle, state.queue.len()), (0, 0));
        drop(state);

        // The pool starts threads again when needed (once the lane is free again, the
        // next call holds it and the one after goes to the pool).
        while workers.lane.busy.load(Ordering::Acquire) {
            assert!(Instant::now() < until, "the lane stayed busy");
            std::thread::sleep(Duration::from_millis(1));
        }
        let (release, blocked) = mpsc::channel::<()>();
        let hold = Pending::start_on(workers, move || {
            let _ = blocked.recv_timeout(BOUND);
            Ok(())
        });
        assert_eq!(
            collect(&Pending::start_on(workers, || Ok(thread_name()))).unwrap(),
            "ango-sdk-call"
        );
        release.send(()).unwrap();
        collect(&hold).unwrap();
    }

    #[test]
    fn offload_completes_many_calls_started_from_several_threads() {
        let workers = workers(IDLE);
        let callers: Vec<_> = (0..8u64)
            .map(|caller| {
                std::thread::spawn(move || {
                    // Some calls are started before the previous ones are collected.
                    let pending: Vec<_> = (0..50u64)
                        .map(|i| {
                            Pending::start_on(workers, move || {
                                if i % 7 == 0 {
                                    std::thread::yield_now();
                                }
                                Ok(caller * 1000 + i)
                            })
                        })
                        .collect();
                    let mut sum = 0;
                    for (i, pending) in pending.iter().enumerate() {
                        let value = collect(pending).unwrap();
                        assert_eq!(value, caller * 1000 + i as u64);
                        sum += value;
                    }
                    for i in 0..50u64 {
                        sum += collect(&Pending::start_on(workers, move || Ok(i))).unwrap();
                    }
                    sum
                })
            })
            .collect();
        let total: u64 = callers.into_iter().map(|c| c.join().unwrap()).sum();
        let per_caller = |c: u64| (0..50).map(|i| c * 1000 + i).sum::<u64>() + (0..50).sum::<u64>();
        assert_eq!(total, (0..8).map(per_caller).sum::<u64>());
    }

    #[test]
    fn offload_result_of_an_abandoned_call_is_dropped() {
        struct Counted(Arc<std::sync::atomic::AtomicUsize>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let drops = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (release, blocked) = mpsc::channel::<()>();
        let counter = Arc::clone(&drops);
        let pending = Pending::start(move || {
            let _ = blocked.recv_timeout(BOUND);
            Ok(Counted(counter))
        });
        drop(pending);
        release.send(()).unwrap();
        let until = Instant::now() + BOUND;
        while drops.load(Ordering::SeqCst) == 0 {
            assert!(
                Instant::now() < until,
                "the abandoned result was never dropped"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
