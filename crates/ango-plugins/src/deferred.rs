//! A [`PluginCallback`] whose answer comes later, from another thread: for a binding
//! whose user code runs on an event loop (Node), where a runtime worker cannot call the
//! user's function itself.
//!
//! Each request gets a [`Token`] and is handed, as JSON text, to the binding's dispatch
//! function, which schedules the user's callback and returns at once; the worker then
//! waits until the binding settles the request with [`Deferred::complete`]. While it
//! waits, the request's logger ([`Deferred::log`]) and, for Export, its rows
//! ([`Deferred::export_next`]) are reachable by token.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use ango_plugins::deferred::{Deferred, Outcome};
//! use ango_plugins::{CallbackResult, LogLevel, PluginCallback, PluginKind, PluginLogger, PluginRequest};
//!
//! // The "event loop": a thread answering every request it is handed.
//! let slot: Arc<Mutex<Option<Arc<Deferred>>>> = Arc::default();
//! let loop_slot = Arc::clone(&slot);
//! let (deferred, callback) = Deferred::new(PluginKind::Input, move |token, json| {
//!     let deferred = loop_slot.lock().unwrap().clone().ok_or("not started")?;
//!     std::thread::spawn(move || {
//!         let outcome = Outcome { value_json: Some(json), ..Outcome::default() };
//!         deferred.complete(token, outcome);
//!     });
//!     Ok(())
//! });
//! *slot.lock().unwrap() = Some(Arc::new(deferred));
//! let request = PluginRequest {
//!     data: serde_json::from_str(r#"{"a": 1}"#).unwrap(),
//!     logger: PluginLogger::detached("p", "o", "u", "s", LogLevel::Info),
//!     export_rows: None,
//! };
//! let result = callback.call(request); // as a runtime worker would
//! assert_eq!(result, CallbackResult::Value(serde_json::json!({"a": 1})));
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::callback::{CallbackResult, ExportRowStream, PluginCallback, PluginRequest};
use crate::config::PluginKind;
use crate::logger::PluginLogger;

/// Names one pending request of a [`Deferred`] (unique among its requests).
pub type Token = u32;

/// What the user's callback produced, as the binding hands it back.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    /// The callback raised / threw: its message (the other fields are then ignored).
    pub error: Option<String>,
    /// The result as JSON text; `None` when the callback returned nothing.
    pub value_json: Option<String>,
    /// The result's binary part, `null` in `value_json` where it stood (see
    /// [`CallbackResult::from_json_with_file`]).
    pub file: Option<Vec<u8>>,
}

impl Outcome {
    /// A failed call with `message`.
    pub fn failed(message: impl Into<String>) -> Outcome {
        Outcome {
            error: Some(message.into()),
            ..Outcome::default()
        }
    }

    /// The outcome as the runtime's result for a callback of `kind`: the error, or the
    /// value read by [`CallbackResult::from_json`]; JSON text that does not parse is a
    /// failure (`the result is not JSON: ...`).
    pub fn into_result(self, kind: PluginKind) -> CallbackResult {
        if let Some(message) = self.error {
            return CallbackResult::Failed(message);
        }
        let value = match self.value_json.as_deref().map(serde_json::from_str) {
            None => Value::Null,
            Some(Ok(value)) => value,
            Some(Err(e)) => return CallbackResult::Failed(format!("the result is not JSON: {e}")),
        };
        CallbackResult::from_parts(kind, value, self.file)
    }
}

/// A request handed to the dispatch function and not settled yet.
struct Waiting {
    done: Sender<CallbackResult>,
    logger: PluginLogger,
    /// Taken out while a batch is read (see [`Deferred::export_next`]).
    rows: Option<ExportRowStream>,
}

type Dispatch = dyn Fn(Token, String) -> Result<(), String> + Send + Sync;

struct Shared {
    kind: PluginKind,
    next_token: AtomicU32,
    /// `None` once closed: waiting requests were failed, new ones fail at once.
    waiting: Mutex<Option<HashMap<Token, Waiting>>>,
}

impl Shared {
    fn waiting(&self) -> MutexGuard<'_, Option<HashMap<Token, Waiting>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads `token`'s entry under the lock.
    fn with<T>(&self, token: Token, read: impl FnOnce(&mut Waiting) -> T) -> Option<T> {
        self.waiting().as_mut()?.get_mut(&token).map(read)
    }
}

/// The requests of one plugin whose callback answers later (see the module docs). The
/// binding owns it and gives the runtime the [`DeferredCallback`] made with it; dropping
/// it (or [`Deferred::close`]) fails the requests still waiting, so no worker waits
/// forever.
pub struct Deferred {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("kind", &self.shared.kind)
            .field("pending", &self.pending())
            .finish()
    }
}

/// The runtime's side of a [`Deferred`]: the [`PluginCallback`] to start the plugin
/// with. It alone holds the dispatch function, which is dropped with it (once the
/// runtime has stopped): in Node, the threadsafe function that keeps the event loop
/// alive.
pub struct DeferredCallback {
    shared: Arc<Shared>,
    dispatch: Box<Dispatch>,
}

/// Removes a request's entry when its call ends, however it ends.
struct Settled<'a>(&'a Shared, Token);

impl Drop for Settled<'_> {
    fn drop(&mut self) {
        let removed = self.0.waiting().as_mut().and_then(|w| w.remove(&self.1));
        drop(removed); // outside the lock: dropping rows removes their temporary file
    }
}

impl PluginCallback for DeferredCallback {
    fn call(&self, request: PluginRequest) -> CallbackResult {
        let shared = &*self.shared;
        let token = shared.next_token.fetch_add(1, Ordering::Relaxed);
        let (done, settled) = mpsc::channel();
        let json = Value::Object(request.data).to_string();
        let waiting = Waiting {
            done,
            logger: request.logger,
            rows: request.export_rows,
        };
        match shared.waiting().as_mut() {
            Some(map) => map.insert(token, waiting),
            None => return CallbackResult::Failed(CLOSED.into()),
        };
        let _settled = Settled(shared, token);
        match (self.dispatch)(token, json) {
            Err(message) => CallbackResult::Failed(message),
            Ok(()) => settled
                .recv()
                .unwrap_or_else(|_| CallbackResult::Failed(CLOSED.into())),
        }
    }
}

/// Why a request failed when its plugin was closed before the callback answered.
const CLOSED: &str = "the callback never completed (the plugin was closed)";

impl Deferred {
    /// The requests of a plugin of `kind`, and the callback to start it with
    /// ([`crate::RunningPlugin::start`]). `dispatch(token, request_json)` is
    /// called on a runtime worker for each request (`request_json`: the request's data
    /// object); it must not block, and returns `Err(message)` when it could not hand the
    /// request over (the request then fails with that message).
    pub fn new(
        kind: PluginKind,
        dispatch: impl Fn(Token, String) -> Result<(), String> + Send + Sync + 'static,
    ) -> (Deferred, DeferredCallback) {
        let shared = Arc::new(Shared {
            kind,
            next_token: AtomicU32::new(1),
            waiting: Mutex::new(Some(HashMap::new())),
        });
        let callback = DeferredCallback {
            shared: Arc::clone(&shared),
            dispatch: Box::new(dispatch),
        };
        (Deferred { shared }, callback)
    }

    /// Settles request `token` with what its callback produced (converted with
    /// [`Outcome::into_result`]); an unknown or already settled token is ignored.
    pub fn complete(&self, token: Token, outcome: Outcome) {
        if let Some(done) = self.shared.with(token, |w| w.done.clone()) {
            let _ = done.send(outcome.into_result(self.shared.kind));
        }
    }

    /// Logs through request `token`'s logger without waiting (see
    /// [`PluginLogger::log_queued`]: `level` is a name, a number or `"Level N"`,
    /// `fields_json` the extra keys as a JSON object). Ignored for an unknown token.
    pub fn log(&self, token: Token, level: &str, message: &str, fields_json: Option<&str>) {
        if let Some(logger) = self.shared.with(token, |w| w.logger.clone()) {
            logger.log_queued(level, message, fields_json);
        }
    }

    /// Whether request `token`'s logger sends records at `level` (a name or a number);
    /// false for an unknown token.
    pub fn log_enabled(&self, token: Token, level: &str) -> bool {
        self.shared
            .with(token, |w| w.logger.enabled_name(level))
            .unwrap_or(false)
    }

    /// Export: up to `max` (at least 1) next rows of request `token` as JSON texts,
    /// read from the downloaded archive; `None` at the end, for an unknown token, or
    /// while another call reads the same request's rows. A row that is not UTF-8 is a
    /// decode error (never replaced with U+FFFD).
    pub fn export_next(
        &self,
        token: Token,
        max: usize,
    ) -> Result<Option<Vec<String>>, ango_core::Error> {
        // Taken out while reading, so other requests never wait for the disk.
        let Some(mut rows) = self.shared.with(token, |w| w.rows.take()).flatten() else {
            return Ok(None);
        };
        let batch = rows.next_raw_batch(max);
        // Put back unless the request was settled meanwhile (then the rows are dropped).
        self.shared.with(token, move |w| w.rows = Some(rows));
        let batch = batch?;
        if batch.is_empty() {
            return Ok(None);
        }
        batch
            .into_iter()
            .map(|row| {
                String::from_utf8(row).map_err(|e| ango_core::Error::Decode {
                    message: format!("an export row is not UTF-8: {e}"),
                    body_snippet: String::new(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// How many requests wait for their callback.
    pub fn pending(&self) -> usize {
        self.shared.waiting().as_ref().map_or(0, HashMap::len)
    }

    /// Fails every waiting request (`the callback never completed`) and every later
    /// one, so that no runtime worker waits for a callback that will not answer (the
    /// event loop is gone). Idempotent.
    pub fn close(&self) {
        let waiting = self.shared.waiting().take();
        drop(waiting); // drops the senders: each waiting call returns
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        self.close();
    }
}
