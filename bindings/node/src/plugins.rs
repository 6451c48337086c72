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
use std::time::Duration;

use ango_plugins::{
    CallbackResult, Connector, ExportRowStream, LogLevel, Overflow, PluginCallback, PluginConfig,
    PluginKind, PluginLogger, PluginRequest, RunningPlugin,
};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::{Map, Value};

use crate::errors::{IntoNapi, invalid};

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

/// One log call from JS, sent in order by one background thread so that the event loop
/// never waits for a REST-mode `POST /v2/pluginLog`.
struct LogCall {
    logger: PluginLogger,
    level: String,
    message: String,
    fields: Map<String, Value>,
}

static LOG_QUEUE: LazyLock<Mutex<Sender<LogCall>>> = LazyLock::new(|| {
    let (tx, rx) = mpsc::channel::<LogCall>();
    std::thread::Builder::new()
        .name("ango-plugin-node-log".into())
        .spawn(move || {
            for call in rx {
                call.logger
                    .log_level_name(&call.level, &call.message, call.fields);
            }
        })
        .expect("spawning the log thread");
    Mutex::new(tx)
});

/// The user's callback, reached through the event loop.
struct JsCallback {
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

/// Options of `runPlugin` (JavaScript names; every field but `id` and `secret` optional).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct PluginOptions {
    /// The plugin id, from the Hub UI.
    pub id: String,
    /// The plugin secret, from the Hub UI.
    pub secret: String,
    /// Socket.IO host (the official `run(host=...)`, default `https://eu-api.ango.ai`).
    pub host: Option<String>,
    /// REST API host for the runtime's own calls (default `https://imeritapi.ango.ai`).
    pub api_host: Option<String>,
    /// `"WS"` or `"REST"` (default: env `CONNECTOR`, else WS).
    pub connector: Option<String>,
    /// REST port (default: env `PORT`, else 8080; 0 = any free port).
    pub port: Option<u32>,
    /// REST bind address (default `0.0.0.0`).
    pub bind_address: Option<String>,
    /// `DEBUG` .. `CRITICAL` (default: env `LOGLEVEL`, else INFO).
    pub log_level: Option<String>,
    /// Echo log records on stderr (default true).
    pub echo_logs: Option<bool>,
    /// Callbacks running at once (Model default 1, others 8).
    pub concurrency: Option<u32>,
    /// Requests waiting for a worker before `overflow` applies (default 1024).
    pub queue_capacity: Option<u32>,
    /// `"queue"` (default) or `"reject"`.
    pub overflow: Option<String>,
    /// Ango heartbeat interval in milliseconds (default 60000).
    pub heartbeat_interval_ms: Option<f64>,
    /// Timeout of each HTTP call of the runtime in milliseconds (default 120000).
    pub http_timeout_ms: Option<f64>,
    /// Time to open the websocket and join `/plugin`, in milliseconds (default 20000).
    pub connect_timeout_ms: Option<f64>,
    /// First reconnection delay in milliseconds (default 1000).
    pub reconnect_initial_delay_ms: Option<f64>,
    /// Longest reconnection delay in milliseconds (default 30000).
    pub reconnect_max_delay_ms: Option<f64>,
    /// Failed reconnection attempts in a row before giving up (default: never).
    pub reconnect_max_attempts: Option<u32>,
    /// Read `CONNECTOR`, `PORT`, `LOGLEVEL` from the environment first (default true).
    pub use_env: Option<bool>,
}

fn millis(name: &str, value: Option<f64>) -> Result<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(Some(Duration::from_secs_f64(ms / 1000.0))),
        Some(ms) => Err(invalid(format!(
            "{name} must be a non-negative number, got {ms}"
        ))),
    }
}

fn build_config(kind: &str, options: PluginOptions) -> Result<PluginConfig> {
    let kind: PluginKind = kind.parse().napi()?;
    let mut config = PluginConfig::new(options.id, options.secret, kind);
    if options.use_env.unwrap_or(true) {
        config.apply_env().napi()?;
    }
    if let Some(host) = options.host {
        config.hub_url = host;
    }
    if let Some(api_host) = options.api_host {
        config.api_host = api_host;
    }
    if let Some(connector) = options.connector {
        config.connector = connector.parse::<Connector>().napi()?;
    }
    if let Some(port) = options.port {
        config.port =
            u16::try_from(port).map_err(|_| invalid(format!("port {port} is out of range")))?;
    }
    if let Some(address) = options.bind_address {
        config.bind_address = address;
    }
    if let Some(level) = options.log_level {
        config.log_level = level.parse::<LogLevel>().napi()?;
    }
    if let Some(echo) = options.echo_logs {
        config.echo_logs = echo;
    }
    if let Some(n) = options.concurrency {
        config.concurrency = n.max(1) as usize;
    }
    if let Some(n) = options.queue_capacity {
        config.queue_capacity = n as usize;
    }
    if let Some(overflow) = options.overflow {
        config.overflow = match overflow.to_ascii_lowercase().as_str() {
            "queue" => Overflow::Queue,
            "reject" => Overflow::Reject,
            other => {
                return Err(invalid(format!(
                    "overflow must be \"queue\" or \"reject\", got {other:?}"
                )));
            }
        };
    }
    if let Some(d) = millis("heartbeatIntervalMs", options.heartbeat_interval_ms)? {
        config.heartbeat_interval = d;
    }
    if let Some(d) = millis("httpTimeoutMs", options.http_timeout_ms)? {
        config.http_timeout = d;
    }
    if let Some(d) = millis("connectTimeoutMs", options.connect_timeout_ms)? {
        config.connect_timeout = d;
    }
    if let Some(d) = millis(
        "reconnectInitialDelayMs",
        options.reconnect_initial_delay_ms,
    )? {
        config.reconnect.initial_delay = d;
    }
    if let Some(d) = millis("reconnectMaxDelayMs", options.reconnect_max_delay_ms)? {
        config.reconnect.max_delay = d;
    }
    if let Some(n) = options.reconnect_max_attempts {
        config.reconnect.max_attempts = Some(n);
    }
    Ok(config)
}

/// A running plugin (the native half of `Plugin` in `plugins.js`).
#[napi]
pub struct NativePlugin {
    inner: Arc<RunningPlugin>,
}

/// Starts a plugin of `kind` (`export`, `model`, `batchModel`, `fileExplorer`, `input`,
/// `markdown`); `dispatch(token, requestJson)` is called for every request.
#[napi]
pub fn start_plugin(
    kind: String,
    options: PluginOptions,
    #[napi(ts_arg_type = "(token: number, requestJson: string) => void")] dispatch: Dispatcher,
) -> Result<NativePlugin> {
    let config = build_config(&kind, options)?;
    let callback = Arc::new(JsCallback {
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
        Ok(work())
    }

    fn resolve(&mut self, _env: Env, output: bool) -> Result<bool> {
        Ok(output)
    }
}

#[napi]
impl NativePlugin {
    /// Stops taking work, lets running callbacks finish, disconnects; resolves to true.
    #[napi(ts_return_type = "Promise<boolean>")]
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
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn wait(&self, timeout_ms: f64) -> AsyncTask<Blocking<bool>> {
        let inner = Arc::clone(&self.inner);
        let timeout = Duration::from_secs_f64((timeout_ms.max(0.0)) / 1000.0);
        AsyncTask::new(Blocking {
            work: Some(Box::new(move || inner.wait_timeout(timeout))),
        })
    }

    /// Whether the Socket.IO connection to the Hub is up.
    #[napi]
    pub fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }

    /// After the plugin stopped on its own (reconnection attempts exhausted): why, once.
    #[napi]
    pub fn take_error(&self) -> Option<String> {
        self.inner.take_error().map(|e| e.to_string())
    }

    /// REST connector: the bound port.
    #[napi]
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
    /// Export: the file's bytes.
    pub file: Option<Buffer>,
    /// Export: the file's name (default `export.json`).
    pub file_name: Option<String>,
    /// Export: a storage integration to upload to.
    pub storage_id: Option<String>,
    /// Model: a brush mask's shape (`[h, w]`, `[h, w, 3|4]`).
    pub brush_shape: Option<Vec<u32>>,
    /// Model: the brush mask's values, row-major.
    pub brush_data: Option<Vec<f64>>,
    /// Model: a medical brush mask's shape.
    pub medical_brush_shape: Option<Vec<u32>>,
    /// Model: the medical brush mask's values.
    pub medical_brush_data: Option<Vec<f64>>,
}

fn mask(
    shape: Option<Vec<u32>>,
    data: Option<Vec<f64>>,
    medical: bool,
) -> std::result::Result<Option<ango_core::brush::BrushMask>, String> {
    match (shape, data) {
        (Some(shape), Some(data)) => {
            let shape: Vec<usize> = shape.into_iter().map(|n| n as usize).collect();
            ango_core::brush::BrushMask::from_shape(&shape, data, medical)
                .map(Some)
                .map_err(|e| e.to_string())
        }
        (None, None) => Ok(None),
        _ => Err("a brush mask needs both its shape and its data".into()),
    }
}

fn outcome_result(outcome: PluginOutcome) -> CallbackResult {
    if let Some(message) = outcome.error {
        return CallbackResult::Failed(message);
    }
    if let Some(file) = outcome.file {
        return CallbackResult::ExportFile {
            bytes: file.to_vec(),
            file_name: outcome.file_name.unwrap_or_else(|| "export.json".into()),
            storage_id: outcome.storage_id,
        };
    }
    let value = match outcome.value_json.as_deref() {
        None => return CallbackResult::Nothing,
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(value) => value,
            Err(e) => return CallbackResult::Failed(format!("the result is not JSON: {e}")),
        },
    };
    let brush = mask(outcome.brush_shape, outcome.brush_data, false);
    let medical = mask(
        outcome.medical_brush_shape,
        outcome.medical_brush_data,
        true,
    );
    match (brush, medical) {
        (Ok(None), Ok(None)) => CallbackResult::Value(value),
        (Ok(brush), Ok(medical_brush)) => CallbackResult::Annotation {
            payload: value,
            brush,
            medical_brush,
        },
        (Err(e), _) | (_, Err(e)) => CallbackResult::Failed(e),
    }
}

/// Settles request `token` with what its callback produced.
#[napi]
pub fn plugin_complete(token: u32, outcome: PluginOutcome) {
    let done = pending().get(&token).map(|p| p.done.clone());
    if let Some(done) = done {
        let _ = done.send(outcome_result(outcome));
    }
}

/// Logs through request `token`'s logger: `level` is a name or `"Level N"`, `fieldsJson`
/// the user's extra keys as a JSON object. Never throws; sent in order off the event loop.
#[napi]
pub fn plugin_log(token: u32, level: String, message: String, fields_json: Option<String>) {
    let Some(logger) = pending().get(&token).map(|p| p.logger.clone()) else {
        return;
    };
    let fields = match fields_json
        .as_deref()
        .map(serde_json::from_str::<Value>)
        .transpose()
    {
        Ok(Some(Value::Object(map))) => map,
        _ => Map::new(),
    };
    let queue = LOG_QUEUE.lock().unwrap_or_else(|e| e.into_inner());
    let _ = queue.send(LogCall {
        logger,
        level,
        message,
        fields,
    });
}

/// Whether request `token`'s logger sends records at `level`.
#[napi]
pub fn plugin_log_enabled(token: u32, level: String) -> bool {
    let Ok(level) = level.parse::<LogLevel>() else {
        return true;
    };
    pending()
        .get(&token)
        .is_some_and(|p| p.logger.enabled(level))
}

/// Export: up to `max` next rows of request `token` as JSON texts; `null` at the end.
/// Reads from the downloaded archive on disk.
#[napi]
pub fn plugin_export_next(token: u32, max: u32) -> Result<Option<Vec<String>>> {
    // The rows are taken out while reading, so other requests never wait for the disk.
    let Some(mut rows) = pending().get_mut(&token).and_then(|p| p.rows.take()) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    let mut failure = None;
    while out.len() < max.max(1) as usize {
        match rows.next_raw() {
            Some(Ok(bytes)) => out.push(String::from_utf8_lossy(&bytes).into_owned()),
            Some(Err(e)) => {
                failure = Some(e);
                break;
            }
            None => break,
        }
    }
    if let Some(p) = pending().get_mut(&token) {
        p.rows = Some(rows);
    }
    match failure {
        Some(e) if out.is_empty() => Err(crate::errors::to_napi(e)),
        _ => Ok(if out.is_empty() { None } else { Some(out) }),
    }
}
