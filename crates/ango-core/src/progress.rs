//! Progress reporting for bulk operations (uploads, exports, listings).
//!
//! A [`Progress`] receives `start`, `advance` and `finish`; the core ships a terminal bar
//! ([`StderrBar`]), a silent reporter and a callback adapter ([`FnProgress`]) that the
//! Python and Node bindings use to call back into user code.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::config::ProgressMode;

/// Receives the progress of one bulk operation. Implementations must be cheap: `advance`
/// is called from worker threads once per item.
pub trait Progress: Send + Sync {
    /// The operation starts; `total` items are expected (0 when unknown).
    fn start(&self, total: u64, label: &str);
    /// `n` more items are done.
    fn advance(&self, n: u64);
    /// The operation ended (successfully or not).
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _total: u64, _label: &str) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

/// A one-line bar on stderr, redrawn at most ten times a second.
#[derive(Debug)]
pub struct StderrBar {
    total: AtomicU64,
    done: AtomicU64,
    state: Mutex<BarState>,
}

#[derive(Debug)]
struct BarState {
    label: String,
    started: Instant,
    last_draw: Option<Instant>,
}

impl Default for StderrBar {
    fn default() -> Self {
        StderrBar {
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            state: Mutex::new(BarState {
                label: String::new(),
                started: Instant::now(),
                last_draw: None,
            }),
        }
    }
}

impl StderrBar {
    fn draw(&self, force: bool) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let now = Instant::now();
        if !force
            && state
                .last_draw
                .is_some_and(|t| now.duration_since(t) < Duration::from_millis(100))
        {
            return;
        }
        state.last_draw = Some(now);
        let done = self.done.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed);
        let elapsed = now.duration_since(state.started).as_secs_f64();
        let rate = if elapsed > 0.0 {
            done as f64 / elapsed
        } else {
            0.0
        };
        let line = if total > 0 {
            let width = 30usize;
            let filled = ((done.min(total) as f64 / total as f64) * width as f64) as usize;
            format!(
                "\r{} [{}{}] {}/{} ({:.1}/s)",
                state.label,
                "#".repeat(filled),
                "-".repeat(width - filled),
                done,
                total,
                rate
            )
        } else {
            format!("\r{} {} ({:.1}/s)", state.label, done, rate)
        };
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(line.as_bytes());
        let _ = stderr.flush();
    }
}

impl Progress for StderrBar {
    fn start(&self, total: u64, label: &str) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        if let Ok(mut state) = self.state.lock() {
            state.label = label.to_string();
            state.started = Instant::now();
            state.last_draw = None;
        }
        self.draw(true);
    }

    fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
        self.draw(false);
    }

    fn finish(&self) {
        self.draw(true);
        let _ = std::io::stderr().write_all(b"\n");
    }
}

/// Calls a function with `(done, total)` on every event: the bridge to user callbacks.
///
/// Calls are serialised, so the callback sees `done` strictly increasing even when
/// worker threads finish items at the same time.
pub struct FnProgress<F: Fn(u64, u64) + Send + Sync> {
    callback: F,
    total: AtomicU64,
    done: Mutex<u64>,
}

impl<F: Fn(u64, u64) + Send + Sync> FnProgress<F> {
    /// Wraps `callback(done, total)`.
    pub fn new(callback: F) -> Self {
        FnProgress {
            callback,
            total: AtomicU64::new(0),
            done: Mutex::new(0),
        }
    }
}

impl<F: Fn(u64, u64) + Send + Sync> std::fmt::Debug for FnProgress<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnProgress")
            .field("done", &self.done)
            .field("total", &self.total)
            .finish()
    }
}

impl<F: Fn(u64, u64) + Send + Sync> Progress for FnProgress<F> {
    fn start(&self, total: u64, _label: &str) {
        self.total.store(total, Ordering::Relaxed);
        if let Ok(mut done) = self.done.lock() {
            *done = 0;
            (self.callback)(0, total);
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(mut done) = self.done.lock() {
            *done += n;
            (self.callback)(*done, self.total.load(Ordering::Relaxed));
        }
    }

    fn finish(&self) {}
}

/// The reporter a [`ProgressMode`] asks for: a bar when on (or auto and stderr is a
/// terminal), otherwise nothing.
pub fn for_mode(mode: ProgressMode) -> Arc<dyn Progress> {
    let bar = match mode {
        ProgressMode::On => true,
        ProgressMode::Off => false,
        ProgressMode::Auto => std::io::stderr().is_terminal(),
    };
    if bar {
        Arc::new(StderrBar::default())
    } else {
        Arc::new(NoProgress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_see_running_totals() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let progress = FnProgress::new(move |done, total| sink.lock().unwrap().push((done, total)));
        progress.start(3, "x");
        progress.advance(1);
        progress.advance(2);
        progress.finish();
        assert_eq!(*seen.lock().unwrap(), vec![(0, 3), (1, 3), (3, 3)]);
    }

    #[test]
    fn concurrent_advances_reach_the_callback_in_order() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let progress = FnProgress::new(move |done, _| sink.lock().unwrap().push(done));
        progress.start(400, "x");
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| (0..100).for_each(|_| progress.advance(1)));
            }
        });
        let seen = seen.lock().unwrap();
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(seen.last(), Some(&400));
    }

    #[test]
    fn off_mode_is_silent() {
        let p = for_mode(ProgressMode::Off);
        p.start(1, "x");
        p.advance(1);
        p.finish();
    }
}
