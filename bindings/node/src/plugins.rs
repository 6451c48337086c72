//! The plugin runtime for Node: `ango-plugins` runs the connector and the workers; the
//! user's JavaScript callback is reached through a threadsafe function.
//!
//! A worker hands each request to the JS dispatcher as `(token, requestJson)` and waits
//! ([`ango_plugins::deferred::Deferred`]); the dispatcher (in `plugins.js`) awaits the
//! user's callback (a Promise or a value) and settles the request with
//! `NativePlugin.complete(token, outcome)`. While a request is pending, its logger and
//! (Export) its rows are reachable by token.

use std::sync::Arc;

use ango_plugins::deferred::{Deferred, Outcome};
use ango_plugins::{PluginKind, RunningPlugin};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::errors::IntoNapi;
use crate::task::{Call, call_with};

/// The JS dispatcher: `(token, requestJson) => void`.
type Dispatcher = ThreadsafeFunction<
    FnArgs<(u32, String)>,
    Unknown<'static>,
    FnArgs<(u32, String)>,
    Status,
    false,
>;

/// The plugin kinds' names (`export`, `model`, `batchModel`, ...).
#[napi(catch_unwind)]
pub fn plugin_kinds() -> Vec<&'static str> {
    PluginKind::ALL.iter().map(|k| k.name()).collect()
}

/// A running plugin (the native half of `Plugin` in `plugins.js`).
#[napi]
pub struct NativePlugin {
    inner: Arc<RunningPlugin>,
    requests: Deferred,
}

/// Starts a plugin of `kind` (`export`, `model`, `batchModel`, `fileExplorer`, `input`,
/// `markdown`) with `options` (read by `ango_plugins::PluginOptions`);
/// `dispatch(token, requestJson)` is called for every request.
#[napi(catch_unwind)]
pub fn start_plugin(
    kind: String,
    options: String,
    #[napi(ts_arg_type = "(token: number, requestJson: string) => void")] dispatch: Dispatcher,
) -> Result<NativePlugin> {
    let config = ango_plugins::plugin_config(&kind, crate::task::parse_args(&options)?).napi()?;
    // The runtime holds the dispatcher (which keeps the event loop alive) until it stops.
    let (requests, callback) = Deferred::new(config.kind, move |token, json| {
        match dispatch.call(
            (token, json).into(),
            ThreadsafeFunctionCallMode::NonBlocking,
        ) {
            Status::Ok => Ok(()),
            status => Err(format!("could not call the JavaScript callback ({status})")),
        }
    });
    let running = RunningPlugin::start(config, Arc::new(callback)).napi()?;
    Ok(NativePlugin {
        inner: Arc::new(running),
        requests,
    })
}

#[napi]
impl NativePlugin {
    /// Stops taking work, lets running callbacks finish, disconnects; resolves to true.
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub fn shutdown(&self) -> AsyncTask<Call<bool>> {
        let inner = Arc::clone(&self.inner);
        call_with(move || {
            inner.shutdown();
            Ok(true)
        })
    }

    /// Resolves to true once the plugin has stopped, or false after `timeoutMs`.
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub fn wait(&self, timeout_ms: f64) -> AsyncTask<Call<bool>> {
        let inner = Arc::clone(&self.inner);
        call_with(move || Ok(inner.wait_seconds(timeout_ms / 1000.0)))
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

    /// Settles request `token` with what its callback produced.
    #[napi(catch_unwind)]
    pub fn complete(&self, token: u32, outcome: PluginOutcome) {
        let outcome = Outcome {
            error: outcome.error,
            value_json: outcome.value_json,
            file: outcome.file.map(|file| file.to_vec()),
        };
        self.requests.complete(token, outcome);
    }

    /// Logs through request `token`'s logger: `level` is a name, a number or `"Level N"`,
    /// `fieldsJson` the user's extra keys as a JSON object. Never throws; sent in order off
    /// the event loop.
    #[napi(catch_unwind)]
    pub fn log(&self, token: u32, level: String, message: String, fields_json: Option<String>) {
        self.requests
            .log(token, &level, &message, fields_json.as_deref());
    }

    /// Whether request `token`'s logger sends records at `level` (a name or a number).
    #[napi(catch_unwind)]
    pub fn log_enabled(&self, token: u32, level: String) -> bool {
        self.requests.log_enabled(token, &level)
    }

    /// Export: up to `max` next rows of request `token` as JSON texts; `null` at the end.
    /// Reads from the downloaded archive on disk.
    #[napi(catch_unwind)]
    pub fn export_next(&self, token: u32, max: u32) -> Result<Option<Vec<String>>> {
        self.requests.export_next(token, max as usize).napi()
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
