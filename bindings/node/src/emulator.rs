//! `startEmulator`: the local Ango Hub emulator, for tests and examples, with its
//! plugin hub (`runPlugin`, `pluginSessions`, `registerPlugin`, `plugins`,
//! `waitForPlugin`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Value, json};

use crate::errors::{MARKER, guard, invalid, to_napi};
use crate::task::{Call, Json, call_with};

/// Default of `runPlugin`'s `waitMs` (as `POST /__emulator/plugins/{id}/run`).
const DEFAULT_RUN_WAIT_MS: f64 = 30_000.0;
/// Default of `waitForPlugin`'s `timeoutMs`.
const DEFAULT_CONNECT_TIMEOUT_MS: f64 = 10_000.0;
/// Poll period of `waitForPlugin`.
const CONNECT_POLL: Duration = Duration::from_millis(20);

/// Options of `startEmulator`; every field is optional (type only: the object is read
/// and checked by `ango_emulator::EmulatorConfig::from_options`).
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // a TypeScript declaration only
pub struct EmulatorOptions {
    /// TCP port on 127.0.0.1 (default 0: any free port).
    pub port: Option<u32>,
    /// The API key clients must send (default: a random one).
    pub api_key: Option<String>,
    /// Latency added to every API request, in milliseconds.
    pub latency_ms: Option<u32>,
    /// Probability (0..=1) that a request is answered 429 or 503.
    pub fail_rate: Option<f64>,
    /// Probability (0..=1) that a request's connection is dropped.
    pub drop_rate: Option<f64>,
    /// Seed of the fault-injection random generator.
    pub rng_seed: Option<u32>,
    /// Create a demo project with an ontology and tasks at start.
    pub seed_demo: Option<bool>,
    /// Pooled connection threads.
    pub workers: Option<u32>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: Option<f64>,
    /// Milliseconds allowed to receive a request head.
    pub header_timeout_ms: Option<u32>,
    /// Milliseconds a keep-alive connection may stay silent.
    pub idle_timeout_ms: Option<u32>,
    /// Open connections beyond which new ones are answered 503.
    pub max_connections: Option<u32>,
    /// Plugin hub: Engine.IO ping interval, in milliseconds.
    pub plugin_ping_interval_ms: Option<u32>,
    /// Plugin hub: milliseconds a plugin has to answer a ping.
    pub plugin_ping_timeout_ms: Option<u32>,
}

/// Options of `Emulator.runPlugin`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct RunPluginOptions {
    /// How long to wait for the session to end (default 30000 ms, at most one hour);
    /// past it the session is marked `timeout`. `0` returns at once with the session
    /// `pending`.
    pub wait_ms: Option<f64>,
}

/// Options of `Emulator.registerPlugin`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct RegisterPluginOptions {
    /// The base URL of a plugin served with the REST connector: the hub then calls
    /// `POST {restUrl}/plugin` with the `Secret` header.
    pub rest_url: Option<String>,
}

/// Options of `Emulator.waitForPlugin`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct WaitForPluginOptions {
    /// How long to wait for the plugin (default 10000 ms).
    pub timeout_ms: Option<f64>,
}

/// A plugin the emulator's hub knows (type only: the hub's JSON is passed through).
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // a TypeScript declaration only
pub struct HubPlugin {
    /// The plugin id.
    pub id: String,
    /// Whether a Socket.IO connection has joined as this plugin.
    pub connected: bool,
    /// The REST connector's base URL, for a plugin registered with one.
    #[napi(ts_type = "string | null")]
    pub rest_url: Option<String>,
    /// When the last `heartbeat` arrived (ISO 8601), if any.
    #[napi(ts_type = "string | null")]
    pub last_heartbeat: Option<String>,
}

/// One run of a plugin recorded by the emulator's hub (type only: the hub's JSON is
/// passed through, with any field it adds).
#[napi(object, object_from_js = false, object_to_js = false)]
#[allow(dead_code)] // a TypeScript declaration only
pub struct PluginSession {
    /// The session id (sent to the plugin as `data.session`).
    pub session: String,
    /// The plugin that ran.
    pub plugin_id: String,
    /// `pending` (not ended yet), `done`, `error` (an error record, or a failed REST
    /// call) or `timeout` (`runPlugin`'s `waitMs` ran out first).
    #[napi(ts_type = "'pending' | 'done' | 'error' | 'timeout'")]
    pub status: String,
    /// The plugin's `response` (for a workflow run: the annotation it sent).
    #[napi(ts_type = "any")]
    pub response: Value,
    /// Whether the plugin sent an error record.
    pub error: bool,
    /// The error record's message.
    #[napi(ts_type = "string | null")]
    pub message: Option<String>,
    /// Every `response` record the plugin sent for this session.
    #[napi(ts_type = "any[]")]
    pub records: Value,
    /// The plugin's log records (`{level, msg, session, ...}`), in arrival order.
    #[napi(
        ts_type = "Array<{ level: string; msg: string; session?: string; [field: string]: any }>"
    )]
    pub logs: Value,
    /// The data sent to the plugin, without `apiKey`.
    #[napi(ts_type = "Record<string, any>")]
    pub data: Value,
    /// Whether the run came from a workflow Plugin stage (or `data.workflow`).
    pub workflow: bool,
    /// The workflow task, for a workflow run.
    #[napi(ts_type = "string | null")]
    pub task_id: Option<String>,
    /// Whether the request has been sent to the plugin.
    pub dispatched: bool,
    /// Whether the plugin acknowledged the `plugin` event.
    pub acked: bool,
    /// When the session opened (ISO 8601).
    pub created_at: String,
    /// When it ended (ISO 8601).
    #[napi(ts_type = "string | null")]
    pub ended_at: Option<String>,
}

/// A running emulator; `stop()` it when done (it also stops when garbage-collected).
#[napi]
pub struct Emulator {
    /// `None` once stopped; an `Arc` so that long calls (`runPlugin`) run on the thread
    /// pool without holding the lock (a stop during one takes effect when it returns).
    inner: Mutex<Option<Arc<ango_emulator::Emulator>>>,
    url: String,
    api_key: String,
    organization_id: String,
    admin_email: String,
}

#[napi]
impl Emulator {
    /// Base URL, `http://127.0.0.1:PORT`: pass it as the client's `host`.
    #[napi(catch_unwind, getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The API key the emulator accepts.
    #[napi(catch_unwind, getter)]
    pub fn api_key(&self) -> String {
        self.api_key.clone()
    }

    /// The emulated organization's id.
    #[napi(catch_unwind, getter)]
    pub fn organization_id(&self) -> String {
        self.organization_id.clone()
    }

    /// The email of the API key's user (an organization admin).
    #[napi(catch_unwind, getter)]
    pub fn admin_email(&self) -> String {
        self.admin_email.clone()
    }

    /// Creates a project with a demo ontology and `tasks` tasks in the Label stage;
    /// returns its id.
    #[napi(catch_unwind)]
    pub fn seed_project(&self, name: String, tasks: u32) -> Result<String> {
        Ok(self.shared()?.seed_project(&name, tasks as usize))
    }

    /// Runs plugin `id` through the hub (as `POST /__emulator/plugins/{id}/run`): sends
    /// `data` (a missing `session`, `apiKey`, `orgId`, `runBy`, `configJSON` is filled
    /// in) to the plugin, connected over Socket.IO or registered with a REST URL, and
    /// resolves to the session once it ends or `waitMs` runs out. Occupies a thread-pool
    /// thread while it waits. Rejects with `NOT_FOUND` (404) for an unknown plugin and
    /// `INVALID_ARGUMENT` for data that is not an object (400) or a `session` id
    /// already used (409).
    #[napi(catch_unwind, ts_return_type = "Promise<PluginSession>")]
    pub fn run_plugin(
        &self,
        id: String,
        #[napi(ts_arg_type = "Record<string, any> | null")] data: Option<Value>,
        options: Option<RunPluginOptions>,
    ) -> Result<AsyncTask<HubCall>> {
        let wait_ms = options
            .and_then(|o| o.wait_ms)
            .unwrap_or(DEFAULT_RUN_WAIT_MS);
        let wait = duration_ms("waitMs", wait_ms)?;
        let data = data.unwrap_or_else(|| Value::Object(Map::new()));
        let emulator = self.shared()?;
        Ok(hub_call(move || {
            emulator.run_plugin(&id, data, wait).map_err(hub_error)
        }))
    }

    /// The sessions of plugin `id` (oldest first), with their responses and logs.
    #[napi(catch_unwind, ts_return_type = "Promise<PluginSession[]>")]
    pub fn plugin_sessions(&self, id: String) -> Result<AsyncTask<HubCall>> {
        let emulator = self.shared()?;
        Ok(hub_call(move || {
            let mut answer = emulator.plugin_sessions(&id);
            Ok(answer
                .get_mut("sessions")
                .map(Value::take)
                .unwrap_or_else(|| json!([])))
        }))
    }

    /// One session by its id (of any plugin), or `null`.
    #[napi(catch_unwind, ts_return_type = "Promise<PluginSession | null>")]
    pub fn plugin_session(&self, session_id: String) -> Result<AsyncTask<HubCall>> {
        let emulator = self.shared()?;
        Ok(hub_call(move || {
            Ok(emulator.plugin_session(&session_id).unwrap_or(Value::Null))
        }))
    }

    /// Registers (or updates) a plugin. A Socket.IO plugin needs no registration (its
    /// first heartbeat registers it with its secret); with `restUrl`, the plugin is one
    /// served with the REST connector, which the hub calls with `POST {restUrl}/plugin`.
    #[napi(catch_unwind, ts_return_type = "Promise<HubPlugin>")]
    pub fn register_plugin(
        &self,
        id: String,
        secret: String,
        options: Option<RegisterPluginOptions>,
    ) -> Result<AsyncTask<HubCall>> {
        let rest_url = options.and_then(|o| o.rest_url);
        let emulator = self.shared()?;
        Ok(hub_call(move || {
            emulator
                .register_plugin(&id, &secret, rest_url.as_deref())
                .map_err(hub_error)
        }))
    }

    /// The plugins the hub knows, with their connection state.
    #[napi(catch_unwind, ts_return_type = "Promise<HubPlugin[]>")]
    pub fn plugins(&self) -> Result<AsyncTask<HubCall>> {
        let emulator = self.shared()?;
        Ok(hub_call(move || {
            let mut answer = emulator.plugins();
            Ok(answer
                .get_mut("plugins")
                .map(Value::take)
                .unwrap_or_else(|| json!([])))
        }))
    }

    /// Resolves once plugin `id` is connected to the hub over Socket.IO (its first
    /// heartbeat registers it), so that `runPlugin` reaches it; rejects with `TIMEOUT`
    /// after `timeoutMs` (default 10000), or at once when the emulator is stopped.
    #[napi(catch_unwind, ts_return_type = "Promise<HubPlugin>")]
    pub fn wait_for_plugin(
        &self,
        id: String,
        options: Option<WaitForPluginOptions>,
    ) -> Result<AsyncTask<HubCall>> {
        let timeout_ms = options
            .and_then(|o| o.timeout_ms)
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT_MS);
        let timeout = duration_ms("timeoutMs", timeout_ms)?;
        // Weak: a `stop()` during the wait ends it (and frees the port at once).
        let emulator = Arc::downgrade(&self.shared()?);
        Ok(hub_call(move || {
            let deadline = Instant::now() + timeout;
            loop {
                let Some(running) = emulator.upgrade() else {
                    return Err(invalid("the emulator was stopped"));
                };
                let found = running.connected_plugin(&id);
                drop(running);
                if let Some(plugin) = found {
                    return Ok(plugin);
                }
                let now = Instant::now();
                if now >= deadline {
                    return Err(to_napi(ango_core::Error::Timeout(format!(
                        "plugin {id:?} did not connect to the emulator within {timeout_ms} ms"
                    ))));
                }
                std::thread::sleep(CONNECT_POLL.min(deadline - now));
            }
        }))
    }

    /// Requests received so far.
    #[napi(catch_unwind, getter)]
    pub fn request_count(&self) -> f64 {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map_or(0.0, |e| e.request_count() as f64)
    }

    /// Stops serving and frees the port (once running `runPlugin` calls have returned).
    /// Idempotent.
    #[napi(catch_unwind)]
    pub fn stop(&self) {
        let emulator = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(emulator);
    }
}

impl Emulator {
    /// The running emulator, shared with a call that runs on the thread pool.
    fn shared(&self) -> Result<Arc<ango_emulator::Emulator>> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| invalid("the emulator is stopped"))
    }
}

/// A millisecond option as a duration, checked by the emulator (`0..=` one hour).
fn duration_ms(name: &str, ms: f64) -> Result<Duration> {
    ango_emulator::plugin_wait(name, ms / 1000.0).map_err(|_| {
        let max = ango_emulator::MAX_PLUGIN_WAIT_SECS * 1000.0;
        invalid(format!(
            "{name} must be a number of milliseconds in 0..={max}, got {ms}"
        ))
    })
}

/// A plugin-hub error as an `AngoError` carrying the hub's HTTP status: `NOT_FOUND`
/// (404, unknown plugin), `INVALID_ARGUMENT` (400 bad input, 409 session id in use),
/// `HTTP` for any other status.
fn hub_error(error: ango_emulator::HubError) -> napi::Error {
    let code = match error.status {
        404 => "NOT_FOUND",
        400 | 409 => "INVALID_ARGUMENT",
        _ => "HTTP",
    };
    let fields = json!({"code": code, "message": error.message, "status": error.status});
    napi::Error::from_reason(format!("{MARKER}{fields}"))
}

type HubWork = Box<dyn FnOnce() -> Result<Value> + Send>;

/// A hub call run on the libuv thread pool; resolves to the hub's JSON.
pub struct HubCall {
    work: Option<HubWork>,
}

/// A hub call to run off the event loop.
fn hub_call(work: impl FnOnce() -> Result<Value> + Send + 'static) -> AsyncTask<HubCall> {
    AsyncTask::new(HubCall {
        work: Some(Box::new(work)),
    })
}

impl Task for HubCall {
    type Output = Value;
    type JsValue = Json;

    fn compute(&mut self) -> Result<Value> {
        let work = self
            .work
            .take()
            .ok_or_else(|| Error::from_reason("the call already ran"))?;
        // A panic must not unwind out of the libuv worker (that aborts Node).
        guard(work)
    }

    fn resolve(&mut self, _env: Env, output: Value) -> Result<Json> {
        Ok(Json(output))
    }
}

/// Starts an emulator on 127.0.0.1; resolves once it accepts connections. Rejects with
/// `INVALID_ARGUMENT` for an option the emulator refuses (unknown, wrong type, a rate
/// outside 0..1 ...).
#[napi(catch_unwind, ts_return_type = "Promise<Emulator>")]
pub fn start_emulator(
    #[napi(ts_arg_type = "EmulatorOptions | undefined | null")] options: Option<Value>,
) -> Result<AsyncTask<Call<Emulator>>> {
    let config = ango_emulator::EmulatorConfig::from_options(&options.unwrap_or(Value::Null))
        .map_err(|e| invalid(e.to_string()))?;
    Ok(call_with(move || {
        let emulator =
            ango_emulator::Emulator::start(config).map_err(|e| ango_core::Error::Io {
                context: "starting the emulator".into(),
                source: e,
            })?;
        Ok(Emulator {
            url: emulator.url().to_string(),
            api_key: emulator.api_key().to_string(),
            organization_id: emulator.organization_id(),
            admin_email: emulator.admin_email(),
            inner: Mutex::new(Some(Arc::new(emulator))),
        })
    }))
}
