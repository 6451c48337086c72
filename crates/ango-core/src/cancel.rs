//! Cancellation: a [`Cancel`] token attached to a [`Client`](crate::Client) with
//! [`Client::with_cancel`](crate::Client::with_cancel) stops that client's work at the
//! next checkpoint with [`Error::Cancelled`].
//!
//! Checkpoints: before every request (API calls and signed storage transfers), during
//! retry and backoff waits (which the token wakes at once), between body chunks of
//! responses, downloads and file uploads, between pages of [`Pages`](crate::Pages)
//! (including the wait for a page fetched ahead), and before each file of a parallel
//! upload (files not started are reported as not uploaded), and every
//! [`CANCEL_POLL`] while a request waits for the server (the connection is then dropped).
//! Nothing new is sent once the token is cancelled. A caller that cannot reach the
//! client a piece of work uses runs that work inside [`scope`] instead.
//!
//! ```
//! let cancel = ango_core::Cancel::new();
//! let client = ango_core::Client::new("key", "http://127.0.0.1:9")?.with_cancel(&cancel);
//! cancel.cancel();
//! assert!(matches!(client.get_project("p"), Err(ango_core::Error::Cancelled)));
//! # Ok::<(), ango_core::Error>(())
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    lock: Mutex<()>,
    woken: Condvar,
}

/// A cancellation token: cheap to clone (clones share one state), safe to cancel from
/// any thread, and never reset once cancelled.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<Inner>);

impl Cancel {
    /// A token not cancelled yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels: every client holding this token stops at its next checkpoint, and
    /// every wait in [`Cancel::sleep`] ends now.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        let _guard = self.0.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.0.woken.notify_all();
    }

    /// True once [`Cancel::cancel`] has been called on this token or a clone.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// A checkpoint: [`Error::Cancelled`] once cancelled, `Ok` otherwise.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Waits `wait`, or less if the token is cancelled meanwhile (then
    /// [`Error::Cancelled`]).
    pub fn sleep(&self, wait: Duration) -> Result<()> {
        let deadline = Instant::now().checked_add(wait);
        let mut guard = self.0.lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            self.check()?;
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            if left.is_zero() {
                return Ok(());
            }
            guard = self
                .0
                .woken
                .wait_timeout(guard, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

thread_local! {
    /// The token of the enclosing [`scope`] on this thread.
    static AMBIENT: std::cell::RefCell<Option<Cancel>> = const { std::cell::RefCell::new(None) };
}

/// Runs `work` so that every client without a token of its own obeys `cancel` for the
/// work it does on this thread (and the file transfers of an upload started here), as
/// if it had been made with [`Client::with_cancel`](crate::Client::with_cancel): for a
/// caller that cannot reach the client a call uses (the Python binding cancels the call
/// a Ctrl-C abandoned this way). Scopes nest; the innermost wins.
pub fn scope<T>(cancel: &Cancel, work: impl FnOnce() -> T) -> T {
    struct Restore(Option<Cancel>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            AMBIENT.with(|ambient| *ambient.borrow_mut() = previous);
        }
    }
    let _restore = Restore(AMBIENT.with(|ambient| ambient.replace(Some(cancel.clone()))));
    work()
}

/// The token of the enclosing [`scope`], if any.
pub(crate) fn ambient() -> Option<Cancel> {
    AMBIENT.with(|ambient| ambient.borrow().clone())
}

/// A checkpoint for an optional token.
pub(crate) fn check(cancel: Option<&Cancel>) -> Result<()> {
    cancel.map_or(Ok(()), Cancel::check)
}

/// Sleeps `wait`, woken early by an optional token.
pub(crate) fn sleep(cancel: Option<&Cancel>, wait: Duration) -> Result<()> {
    match cancel {
        Some(cancel) => cancel.sleep(wait),
        None => {
            std::thread::sleep(wait);
            Ok(())
        }
    }
}

/// A reader that checks a token before every read: a body being streamed (an upload
/// from disk, a download) stops between chunks once cancelled, with an I/O error (the
/// caller then checks the token to report [`Error::Cancelled`]).
pub(crate) struct CancelRead<R> {
    pub(crate) inner: R,
    pub(crate) cancel: Option<Cancel>,
}

/// The message of the I/O error a cancelled [`CancelRead`] gives.
const CANCELLED_IO: &str = "ango: operation cancelled";

impl<R: std::io::Read> std::io::Read for CancelRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.as_ref().is_some_and(Cancel::is_cancelled) {
            return Err(std::io::Error::other(CANCELLED_IO));
        }
        self.inner.read(buf)
    }
}

/// How often a request waiting for the server's bytes looks at its token.
pub const CANCEL_POLL: Duration = Duration::from_millis(25);

thread_local! {
    /// The token of the request this thread is running, seen by [`CancelTransport`].
    static CURRENT: std::cell::RefCell<Option<Cancel>> = const { std::cell::RefCell::new(None) };
}

/// Restores the thread's previous token when a request ends (panics included).
struct Restore(Option<Cancel>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// Runs `work` (one request on this thread) with `cancel` visible to the transport, so
/// a wait for the server ends once it is cancelled.
pub(crate) fn during<T>(cancel: Option<&Cancel>, work: impl FnOnce() -> T) -> T {
    let Some(cancel) = cancel else {
        return work();
    };
    let _restore = Restore(CURRENT.with(|current| current.replace(Some(cancel.clone()))));
    work()
}

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, NextTimeout, Transport, time::Duration as WaitFor,
};

/// The last link of the agent's connector chain: wraps every connection in a
/// [`CancelTransport`].
#[derive(Debug)]
pub(crate) struct CancelConnector;

impl Connector<Box<dyn Transport>> for CancelConnector {
    type Out = CancelTransport;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> std::result::Result<Option<CancelTransport>, ureq::Error> {
        Ok(chained.map(CancelTransport))
    }
}

/// A connection whose waits for input are cut in slices of [`CANCEL_POLL`] while the
/// running request has a token, ending with an error once it is cancelled. Without a
/// token it is the connection unchanged.
#[derive(Debug)]
pub(crate) struct CancelTransport(Box<dyn Transport>);

impl Transport for CancelTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        self.0.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        let Some(cancel) = CURRENT.with(|current| current.borrow().clone()) else {
            return self.0.await_input(timeout);
        };
        let whole = timeout.for_read();
        let started = Instant::now();
        loop {
            if cancel.is_cancelled() {
                return Err(ureq::Error::Io(std::io::Error::other(CANCELLED_IO)));
            }
            let left = match whole.after {
                WaitFor::Exact(total) => Some(total.saturating_sub(started.elapsed())),
                _ => None,
            };
            let mut slice = whole;
            let last = left.is_some_and(|left| left <= CANCEL_POLL);
            if !last {
                slice.after = WaitFor::Exact(CANCEL_POLL);
            } else if let Some(left) = left {
                slice.after = WaitFor::Exact(left);
            }
            match self.0.await_input(slice) {
                Err(ureq::Error::Timeout(_)) if !last => continue,
                other => return other,
            }
        }
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_wakes_a_sleep_and_sticks() {
        let cancel = Cancel::new();
        assert!(cancel.check().is_ok());
        assert!(cancel.sleep(Duration::from_millis(1)).is_ok());
        let other = cancel.clone();
        let waker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            other.cancel();
        });
        let result = cancel.sleep(Duration::from_secs(600));
        waker.join().unwrap();
        assert!(matches!(result, Err(Error::Cancelled)));
        assert!(cancel.is_cancelled());
        assert!(matches!(cancel.check(), Err(Error::Cancelled)));
        assert!(matches!(
            sleep(Some(&cancel), Duration::MAX),
            Err(Error::Cancelled)
        ));
        assert!(check(None).is_ok());
    }

    #[test]
    fn a_cancelled_reader_stops_between_chunks() {
        use std::io::Read;
        let cancel = Cancel::new();
        let mut reader = CancelRead {
            inner: &b"abcdef"[..],
            cancel: Some(cancel.clone()),
        };
        let mut buf = [0u8; 3];
        assert_eq!(reader.read(&mut buf).unwrap(), 3);
        cancel.cancel();
        let err = reader.read(&mut buf).unwrap_err();
        assert_eq!(err.to_string(), CANCELLED_IO);
    }
}
