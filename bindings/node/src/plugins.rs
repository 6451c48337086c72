//! The plugin runtime for Node: `ango-plugins` runs the connector and the workers; the
//! user's JavaScript callback is reached through a threadsafe function.
//!
//! A worker calls the JS dispatcher with `(token, requestJson)` and waits; the
//! dispatcher (in `plugins.js`) awaits the user's callback (a Promise or a value) and
//! settles the request with `pluginComplete(token, outcome)`. While a request is
//! pending, its logger and (Export) its rows are reachable by token.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, LazyLock, Mutex};

use ango_plugins::{
    CallbackResult, ExportRowStream, PluginCallback, PluginKind, PluginLogger, PluginRequest,
    RunningPlugin,
};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;

use crate::errors::IntoNapi;

/// The JS dispatcher: `(token, requestJson) => void`.
type Dispatcher = ThreadsafeFunction<
    FnArgs<(u32, String)>,
    Unknown<'static>,
    FnArgs<(u32, String)>,
    Status,
    false,
>;

/// A request waiting for its JS callback.
struct Pending {
    kind: PluginKind,
    done: Sender<CallbackResult>,
    logger: PluginLogger,
    rows: Option<ExportRowStream>,
}

static PENDING: LazyLock<Mutex<HashMap<u32, Pending>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT_TOKEN: AtomicU32 = AtomicU32::new(1);

fn pending() -> std::sync::MutexGuard<'static, HashMap<u32, Pending>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The user's callback, reached through the event loop.
struct JsCallback {
    kind: PluginKind,
    dispatcher: Dispatcher,
}

impl PluginCallback for JsCallback {
    fn call(&self, request: PluginRequest) -> CallbackResult {
        let token = NEXT_TOKEN.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = mpsc::channel();
        let json = Value::Object(request.data).to_string();
        pending().insert(
            token,
            Pending {
                kind: self.kind,
                done: tx,
                logger: request.logger,
                rows: request.export_rows,
            },
        );
        let status = self.dispatcher.call(
            (token, json).into(),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
        let result = if status != Status::Ok {
            CallbackResult::Failed(format!("could not call the JavaScript callback ({status})"))
        } else {
            rx.recv().unwrap_or_else(|_| {
                CallbackResult::Failed("the JavaScript callback never completed".into())
            })
        };
        pending().remove(&token);
        result
    }
}

/// The plugin kinds' names (`export`, `model`, `batchModel`, ...).
#[napi(catch_unwind)]
pub fn plugin_kinds() -> Vec<&'static str> {
    PluginKind::ALL.iter().map(|k| k.name()).collect()
}

/// A running plugin (the native half of `Plugin` in `plugins.js`).
#[napi]
pub struct NativePlugin {
    inner: Arc<RunningPlugin>,
}

/// Starts a plugin of `kind` (`export`, `model`, `batchModel`, `fileExplorer`, `input`,
/// `markdown`) with `options` (read by `ango_plugins::PluginOptions`);
/// `dispatch(token, requestJson)` is called for every request.
#[napi(catch_unwind)]
pub fn start_plugin(
    kind: String,
    #[napi(ts_arg_type = "Record<string, unknown>")] options: Value,
    #[napi(ts_arg_type = "(token: number, requestJson: string) => void")] dispatch: Dispatcher,
) -> Result<NativePlugin> {
    let config = ango_plugins::plugin_config(&kind, options).napi()?;
    let callback = Arc::new(JsCallback {
        kind: config.kind,
        dispatcher: dispatch,
    });
    let running = RunningPlugin::start(config, callback).napi()?;
    Ok(NativePlugin {
        inner: Arc::new(running),
    })
}

/// A blocking wait on the thread pool.
pub struct Blocking<T: Send + 'static> {
    work: Option<Box<dyn FnOnce() -> T + Send>>,
}

impl Task for Blocking<bool> {
    type Output = bool;
    type JsValue = bool;

    fn compute(&mut self) -> Result<bool> {
        let work = self
            .work
            .take()
            .ok_or_else(|| Error::from_reason("the call already ran"))?;
        // A panic must not unwind out of the libuv worker (that aborts Node).
        crate::errors::guard(|| Ok(work()))
    }

    fn resolve(&mut self, _env: Env, output: bool) -> Result<bool> {
        Ok(output)
    }
}

#[napi]
impl NativePlugin {
    /// Stops taking work, lets running callbacks finish, disconnects; resolves to true.
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub fn shutdown(&self) -> AsyncTask<Blocking<bool>> {
        let inner = Arc::clone(&self.inner);
        AsyncTask::new(Blocking {
            work: Some(Box::new(move || {
                inner.shutdown();
                true
            })),
        })
    }

    /// Resolves to true once the plugin has stopped, or false after `timeoutMs`.
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub fn wait(&self, timeout_ms: f64) -> AsyncTask<Blocking<bool>> {
        let inner = Arc::clone(&self.inner);
        AsyncTask::new(Blocking {
            work: Some(Box::new(move || inner.wait_seconds(timeout_ms / 1000.0))),
        })
    }

    /// Whether the Socket.IO connection to the Hub is up.
    #[napi(catch_unwind)]
    pub fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }

    /// After the plugin stopped on its own (reconnection attempts exhausted): why, once.
    #[napi(catch_unwind)]
    pub fn take_error(&self) -> Option<String> {
        self.inner.take_error().map(|e| e.to_string())
    }

    /// REST connector: the bound port.
    #[napi(catch_unwind)]
    pub fn port(&self) -> Option<u32> {
        self.inner.local_addr().map(|a| u32::from(a.port()))
    }
}

/// What a JS callback produced (built by `plugins.js`).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct PluginOutcome {
    /// The callback threw: its message.
    pub error: Option<String>,
    /// The result as JSON text (absent: the callback returned nothing).
    pub value_json: Option<String>,
    /// The result's binary part (a `Buffer`), `null` in `valueJson` where it stood.
    pub file: Option<Buffer>,
}

fn outcome_result(kind: PluginKind, outcome: PluginOutcome) -> CallbackResult {
    if let Some(message) = outcome.error {
        return CallbackResult::Failed(message);
    }
    let value = match outcome
        .value_json
        .as_deref()
        .map(serde_json::from_str::<Value>)
    {
        None => Value::Null,
        Some(Ok(value)) => value,
        Some(Err(e)) => return CallbackResult::Failed(format!("the result is not JSON: {e}")),
    };
    match outcome.file {
        Some(file) => CallbackResult::from_json_with_file(kind, value, file.to_vec()),
        None => CallbackResult::from_json(kind, value),
    }
}

/// Settles request `token` with what its callback produced.
#[napi(catch_unwind)]
pub fn plugin_complete(token: u32, outcome: PluginOutcome) {
    let pending = pending().get(&token).map(|p| (p.kind, p.done.clone()));
    if let Some((kind, done)) = pending {
        let _ = done.send(outcome_result(kind, outcome));
    }
}

/// Logs through request `token`'s logger: `level` is a name, a number or `"Level N"`,
/// `fieldsJson` the user's extra keys as a JSON object. Never throws; sent in order off
/// the event loop.
#[napi(catch_unwind)]
pub fn plugin_log(token: u32, level: String, message: String, fields_json: Option<String>) {
    if let Some(logger) = pending().get(&token).map(|p| p.logger.clone()) {
        logger.log_queued(&level, &message, fields_json.as_deref());
    }
}

/// Whether request `token`'s logger sends records at `level` (a name or a number).
#[napi(catch_unwind)]
pub fn plugin_log_enabled(token: u32, level: String) -> bool {
    pending()
        .get(&token)
        .is_some_and(|p| p.logger.enabled_name(&level))
}

/// Export: up to `max` next rows of request `token` as JSON texts; `null` at the end.
/// Reads from the downloaded archive on disk.
#[napi(catch_unwind)]
pub fn plugin_export_next(token: u32, max: u32) -> Result<Option<Vec<String>>> {
    // The rows are taken out while reading, so other requests never wait for the disk.
    let Some(mut rows) = pending().get_mut(&token).and_then(|p| p.rows.take()) else {
        return Ok(None);
    };
    let batch = rows.next_raw_batch(max as usize);
    if let Some(p) = pending().get_mut(&token) {
        p.rows = Some(rows);
    }
    let batch = batch.napi()?;
    if batch.is_empty() {
        return Ok(None);
    }
    // A row that is not UTF-8 fails like a reply that is not (no silent U+FFFD).
    batch
        .into_iter()
        .map(crate::task::text_of)
        .collect::<ango_core::Result<Vec<_>>>()
        .map(Some)
        .napi()
}
