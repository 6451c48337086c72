//! A fixed pool of worker threads with a queue, bounded or not per [`Overflow`].

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use crate::config::Overflow;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Why a job was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Every worker is busy and the queue is full (overflow `Reject`).
    Full { waiting: usize },
    /// The pool is draining for shutdown.
    Closed,
}

struct State {
    queue: VecDeque<Job>,
    busy: usize,
    closed: bool,
    warned_full: bool,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
}

/// Worker threads running jobs in arrival order.
pub(crate) struct Pool {
    shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    concurrency: usize,
    capacity: usize,
    overflow: Overflow,
}

impl Pool {
    pub(crate) fn new(concurrency: usize, capacity: usize, overflow: Overflow) -> Pool {
        let concurrency = concurrency.max(1);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                busy: 0,
                closed: false,
                warned_full: false,
            }),
            ready: Condvar::new(),
        });
        let workers = (0..concurrency)
            .map(|i| {
                let shared = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name(format!("ango-plugin-worker-{i}"))
                    .spawn(move || worker(shared))
                    .expect("spawning a plugin worker thread")
            })
            .collect();
        Pool {
            shared,
            workers: Mutex::new(workers),
            concurrency,
            capacity,
            overflow,
        }
    }

    /// Queues a job, or refuses it.
    pub(crate) fn submit(&self, job: impl FnOnce() + Send + 'static) -> Result<(), Refused> {
        let mut state = lock(&self.shared.state);
        if state.closed {
            return Err(Refused::Closed);
        }
        let free = self.concurrency.saturating_sub(state.busy);
        let waiting_after = (state.queue.len() + 1).saturating_sub(free);
        if waiting_after > self.capacity {
            match self.overflow {
                Overflow::Reject => {
                    return Err(Refused::Full {
                        waiting: state.queue.len(),
                    });
                }
                Overflow::Queue => {
                    if !state.warned_full {
                        state.warned_full = true;
                        eprintln!(
                            "WARNING:plugin:more than {} requests are waiting for a worker",
                            self.capacity
                        );
                    }
                }
            }
        } else {
            state.warned_full = false;
        }
        state.queue.push_back(Box::new(job));
        drop(state);
        self.shared.ready.notify_one();
        Ok(())
    }

    /// Refuses new jobs, lets the workers finish every queued and running job, and
    /// joins them. Idempotent.
    pub(crate) fn close_and_drain(&self) {
        lock(&self.shared.state).closed = true;
        self.shared.ready.notify_all();
        let workers = std::mem::take(&mut *lock(&self.workers));
        for worker in workers {
            let _ = worker.join();
        }
    }
}

fn worker(shared: Arc<Shared>) {
    loop {
        let job = {
            let mut state = lock(&shared.state);
            loop {
                if let Some(job) = state.queue.pop_front() {
                    state.busy += 1;
                    break job;
                }
                if state.closed {
                    return;
                }
                state = shared.ready.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        };
        // Jobs catch their callback's panics themselves; this is a last guard so a
        // worker never dies.
        let _ = catch_unwind(AssertUnwindSafe(job));
        lock(&shared.state).busy -= 1;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn reject_refuses_beyond_the_queue_and_drain_runs_everything() {
        let pool = Pool::new(1, 1, Overflow::Reject);
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let done = Arc::new(AtomicUsize::new(0));
        let job = |done: Arc<AtomicUsize>| {
            let release_rx = Arc::clone(&release_rx);
            let started_tx = started_tx.clone();
            move || {
                let _ = started_tx.send(());
                let _ = release_rx
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(5));
                done.fetch_add(1, Ordering::SeqCst);
            }
        };
        pool.submit(job(Arc::clone(&done))).unwrap();
        started_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        pool.submit(job(Arc::clone(&done))).unwrap();
        assert_eq!(
            pool.submit(job(Arc::clone(&done))),
            Err(Refused::Full { waiting: 1 })
        );
        release_tx.send(()).unwrap();
        release_tx.send(()).unwrap();
        pool.close_and_drain();
        assert_eq!(done.load(Ordering::SeqCst), 2);
        assert_eq!(pool.submit(|| {}), Err(Refused::Closed));
    }
}
