//! A local, stateful, in-memory emulator of the iMerit Ango Hub REST API.
//!
//! The emulator serves the `/v2` endpoints used by the official SDKs (projects,
//! tasks, assets, batches, issues, exports, uploads, storages, LLM configs,
//! organization members and more), keeps consistent state in memory, and can
//! inject faults (latency, 429/503 answers, dropped connections) on demand.
//!
//! ```no_run
//! use ango_emulator::{Emulator, EmulatorConfig};
//!
//! let emu = Emulator::start(EmulatorConfig::default().seed_demo(true))?;
//! println!("{} {}", emu.url(), emu.api_key());
//! let project_id = emu.seed_project("bench", 1_000);
//! # let _ = project_id;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Hostile clients
//!
//! Every connection has a request-head deadline and an idle timeout, bodies
//! larger than [`EmulatorConfig::max_body_bytes`] are refused with 413 before
//! anything is allocated, malformed framing is answered 400 and the
//! connection closed, and a connection slot is released however its thread
//! ends. Stored files under `/files/` need the API key, or a signature the
//! emulator itself put in an upload/download URL.
//!
//! # Plugin hub
//!
//! Plugins connect to the emulator's own port over Socket.IO v5 / Engine.IO
//! v4 (websocket transport, `GET /socket.io/?EIO=4&transport=websocket`),
//! namespace `/plugin`; their first `heartbeat {id, secret}` registers them
//! (later heartbeats must carry the same secret, or the namespace is
//! disconnected with `41/plugin,`). REST-connector plugins are registered with
//! [`Emulator::register_plugin`] (or `POST /__emulator/plugins`). A run
//! ([`Emulator::run_plugin`], `POST /__emulator/plugins/{id}/run?wait=s`)
//! opens a session, sends the data dict as a `plugin` event (or `POST
//! {restUrl}/plugin` with a `Secret` header) and records the plugin's
//! `response` and `log` events (or `/v2/pluginResponse`, `/v2/pluginLog`);
//! [`Emulator::plugin_sessions`] (`GET /__emulator/plugins/{id}/sessions`)
//! reads them back. A workflow stage `{"type": "Plugin", "pluginId": ...}`
//! holds each task that enters it, sends it to the plugin with `workflow:
//! true`, and the plugin's `POST /v2/annotate/{taskId}?nextStage=true&isPlugin=true`
//! ends that session and moves the task on.
//!
//! # Control surface
//!
//! [`control`] lists every operation on a running emulator (properties, seeding, the
//! plugin hub) with its arguments, defaults and docs, and runs one by name with JSON
//! arguments ([`control::call`]): the Python `LocalHub` and the Node emulator handle
//! are made from it.
#![warn(missing_docs)]

#[cfg(feature = "cli")]
pub mod cli;
pub mod control;
mod faults;
mod filters;
mod http;
mod jsonw;
mod multipart;
mod options;
mod plugins;
mod query;
mod routes;
mod seed;
mod server;
mod state;
mod util;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use faults::FaultSettings;
pub use options::{ConfigError, MAX_PLUGIN_WAIT_SECS, plugin_wait};
pub use plugins::HubError;

use crate::faults::Faults;
use crate::state::State;

/// How often [`Emulator::wait_for_plugin`] looks for the plugin.
const PLUGIN_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// Configuration of an emulator instance.
#[derive(Debug, Clone, PartialEq)]
pub struct EmulatorConfig {
    /// TCP port on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// The API key clients must send in the `apikey` header (None = random).
    pub api_key: Option<String>,
    /// Latency added to every `/v2` request, in milliseconds.
    pub latency_ms: u64,
    /// Probability (0..=1) that a `/v2` request is answered 429 or 503 (half each).
    pub fail_rate: f64,
    /// Probability (0..=1) that a `/v2` request's connection is closed without an answer.
    pub drop_rate: f64,
    /// Seed of the fault-injection random generator (for reproducible runs).
    pub rng_seed: u64,
    /// Create a demo project with an ontology and some tasks at start.
    pub seed_demo: bool,
    /// Number of pooled connection threads (more are spawned on demand).
    pub workers: usize,
    /// Largest accepted request body in bytes; larger declared sizes are
    /// answered 413 before anything is allocated.
    pub max_body_bytes: u64,
    /// Milliseconds allowed to receive a request head once its first byte
    /// arrived (slow clients get 408 and are closed); also the longest pause
    /// allowed between two reads of a request body.
    pub header_timeout_ms: u64,
    /// Milliseconds a keep-alive connection may stay silent between requests.
    pub idle_timeout_ms: u64,
    /// Open connections beyond which new ones are answered 503 and closed.
    pub max_connections: usize,
    /// Plugin hub: Engine.IO ping interval in milliseconds (sent in OPEN).
    pub plugin_ping_interval_ms: u64,
    /// Plugin hub: milliseconds a plugin has to answer a ping before it is dropped.
    pub plugin_ping_timeout_ms: u64,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            api_key: None,
            latency_ms: 0,
            fail_rate: 0.0,
            drop_rate: 0.0,
            rng_seed: 0x5EED,
            seed_demo: false,
            workers: 8,
            max_body_bytes: 1 << 30,
            header_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            max_connections: 1024,
            plugin_ping_interval_ms: 25_000,
            plugin_ping_timeout_ms: 20_000,
        }
    }
}

impl EmulatorConfig {
    /// Sets the port (0 = any).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Sets a fixed API key.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }
    /// Sets the added latency in milliseconds.
    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.latency_ms = ms;
        self
    }
    /// Sets the 429/503 rate (0..=1).
    pub fn fail_rate(mut self, rate: f64) -> Self {
        self.fail_rate = rate;
        self
    }
    /// Sets the dropped-connection rate (0..=1).
    pub fn drop_rate(mut self, rate: f64) -> Self {
        self.drop_rate = rate;
        self
    }
    /// Sets the fault RNG seed.
    pub fn rng_seed(mut self, seed: u64) -> Self {
        self.rng_seed = seed;
        self
    }
    /// Enables or disables the demo project.
    pub fn seed_demo(mut self, on: bool) -> Self {
        self.seed_demo = on;
        self
    }
    /// Sets the number of pooled connection threads.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }
    /// Sets the largest accepted request body, in bytes.
    pub fn max_body_bytes(mut self, n: u64) -> Self {
        self.max_body_bytes = n;
        self
    }
    /// Sets the request-head deadline (and body read pause limit), in milliseconds.
    pub fn header_timeout_ms(mut self, ms: u64) -> Self {
        self.header_timeout_ms = ms;
        self
    }
    /// Sets the keep-alive idle timeout, in milliseconds.
    pub fn idle_timeout_ms(mut self, ms: u64) -> Self {
        self.idle_timeout_ms = ms;
        self
    }
    /// Sets the plugin hub's ping interval and ping timeout, in milliseconds.
    pub fn plugin_ping(mut self, interval_ms: u64, timeout_ms: u64) -> Self {
        self.plugin_ping_interval_ms = interval_ms;
        self.plugin_ping_timeout_ms = timeout_ms;
        self
    }
    /// Sets the cap on open connections.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }
}

/// One logged request (see `GET /__emulator/requests`).
#[derive(Debug, Clone)]
pub(crate) struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub fault: &'static str,
}

/// Request counters and a bounded log of recent requests.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    pub total: u64,
    pub faulted: u64,
    pub recent: VecDeque<LoggedRequest>,
}

/// State shared by all server threads.
pub(crate) struct Ctx {
    pub state: RwLock<State>,
    pub files: RwLock<HashMap<String, Arc<Vec<u8>>>>,
    pub base_url: String,
    pub api_key: String,
    pub faults: Faults,
    pub log: Mutex<RequestLog>,
    /// Keys of the file-URL signatures (two independent SipHash keys).
    pub file_keys: (
        std::collections::hash_map::RandomState,
        std::collections::hash_map::RandomState,
    ),
    /// The plugin hub.
    pub hub: Arc<plugins::Hub>,
}

impl Ctx {
    /// Read access to the state (recovers from poisoning).
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }
    /// Write access to the state (recovers from poisoning).
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
    /// Stores a file in the in-memory object store.
    pub(crate) fn put_file(&self, key: &str, bytes: Vec<u8>) {
        self.files
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_string(), Arc::new(bytes));
    }
    /// Reads a file from the in-memory object store.
    pub(crate) fn get_file(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        self.files
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }
    /// A signed URL on the emulator for a stored-file key.
    pub(crate) fn file_url(&self, key: &str) -> String {
        let path: Vec<String> = key.split('/').map(query::percent_encode).collect();
        format!(
            "{}/files/{}?signature={}&expires=120000",
            self.base_url,
            path.join("/"),
            self.file_signature(key)
        )
    }
    /// The signature of a stored-file key: a keyed hash (SipHash with two
    /// random per-instance keys, 128 bits) that only this emulator can issue.
    pub(crate) fn file_signature(&self, key: &str) -> String {
        use std::hash::BuildHasher;
        let a = self.file_keys.0.hash_one(("ango-emulator-file", key));
        let b = self.file_keys.1.hash_one(("ango-emulator-file", key));
        format!("{a:016x}{b:016x}")
    }
    /// Whether `signature` was issued by [`Ctx::file_url`] for `key`.
    pub(crate) fn file_signature_valid(&self, key: &str, signature: &str) -> bool {
        let expected = self.file_signature(key);
        // Constant-time comparison.
        expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0
    }
}

/// A running emulator. Stops when dropped.
pub struct Emulator {
    ctx: Arc<Ctx>,
    /// `None` once stopped; a mutex so that [`Emulator::shutdown`] works through a
    /// shared reference (a binding stops an emulator other threads are waiting on).
    server: Mutex<Option<server::Server>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.ctx.base_url)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Binds 127.0.0.1 and starts serving in background threads. A configuration that
    /// [`EmulatorConfig::validate`] refuses is an [`std::io::ErrorKind::InvalidInput`]
    /// error.
    pub fn start(config: EmulatorConfig) -> std::io::Result<Emulator> {
        config.validate()?;
        let api_key = config
            .api_key
            .clone()
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| format!("emu-{}", util::hex32()));
        // Bind first so the base URL (which appears in signed URLs) is known.
        let listener = std::net::TcpListener::bind(("127.0.0.1", config.port))?;
        let port = listener.local_addr()?.port();
        let ctx = Arc::new(Ctx {
            state: RwLock::new(State::new("admin@emulator.local")),
            files: RwLock::new(HashMap::new()),
            base_url: format!("http://127.0.0.1:{port}"),
            api_key,
            faults: Faults::new(config.faults(), config.rng_seed),
            log: Mutex::new(RequestLog::default()),
            file_keys: Default::default(),
            hub: Arc::new(plugins::Hub::new(plugins::HubConfig {
                ping_interval: std::time::Duration::from_millis(config.plugin_ping_interval_ms),
                ping_timeout: std::time::Duration::from_millis(config.plugin_ping_timeout_ms),
                rest_timeout: std::time::Duration::from_secs(60),
            })),
        });
        if config.seed_demo {
            seed::seed_demo(&ctx);
        }
        let handler_ctx = ctx.clone();
        let handler: Arc<server::Handler> = Arc::new(move |req| routes::handle(&handler_ctx, req));
        let limits = server::Limits {
            max_body: config.max_body_bytes,
            header_timeout: std::time::Duration::from_millis(config.header_timeout_ms),
            idle_timeout: std::time::Duration::from_millis(config.idle_timeout_ms),
            max_connections: config.max_connections,
        };
        let server = server::Server::start(listener, config.workers, limits, handler)?;
        Ok(Emulator {
            ctx,
            server: Mutex::new(Some(server)),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT` (API under `/v2`).
    pub fn url(&self) -> &str {
        &self.ctx.base_url
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.server_lock().as_ref().map_or(0, |s| s.addr().port())
    }

    /// The API key clients must send in the `apikey` header.
    pub fn api_key(&self) -> &str {
        &self.ctx.api_key
    }

    /// The emulated organization's id.
    pub fn organization_id(&self) -> String {
        self.ctx.read().org_id.clone()
    }

    /// The email of the API key's user (an organization admin).
    pub fn admin_email(&self) -> String {
        self.ctx.read().admin_email.clone()
    }

    /// Creates a project with a demo ontology and `n_tasks` assets/tasks in
    /// the Label stage; returns the project id. Fast enough for 50,000+ tasks.
    pub fn seed_project(&self, name: &str, n_tasks: usize) -> String {
        seed::seed_project(&self.ctx, name, n_tasks, &seed::SeedOptions::default())
    }

    /// Like [`Emulator::seed_project`], with every task annotated with
    /// `objects_per_task` bounding boxes and (if `completed`) moved to Complete.
    pub fn seed_project_with(
        &self,
        name: &str,
        n_tasks: usize,
        objects_per_task: usize,
        completed: bool,
    ) -> String {
        let opts = seed::SeedOptions {
            objects_per_task,
            completed,
        };
        seed::seed_project(&self.ctx, name, n_tasks, &opts)
    }

    /// Current fault settings.
    pub fn faults(&self) -> FaultSettings {
        self.ctx.faults.settings()
    }

    /// Replaces the fault settings; `seed` (if any) resets the fault RNG. Settings that
    /// [`FaultSettings::validate`] refuses are an error and change nothing.
    pub fn set_faults(
        &self,
        settings: FaultSettings,
        seed: Option<u64>,
    ) -> Result<(), ConfigError> {
        settings.validate()?;
        self.ctx.faults.update(settings, seed);
        Ok(())
    }

    /// Number of requests received so far (all paths).
    pub fn request_count(&self) -> u64 {
        self.ctx.log.lock().map(|l| l.total).unwrap_or(0)
    }

    /// Registers (or updates) a plugin with the hub: `rest_url` makes it a
    /// REST-connector plugin, called with `POST {rest_url}/plugin` and a
    /// `Secret` header. Websocket plugins need no registration: the first
    /// `heartbeat` of an unknown id registers it with that secret.
    /// Returns `{"id","connected","restUrl","lastHeartbeat"}`.
    pub fn register_plugin(
        &self,
        id: &str,
        secret: &str,
        rest_url: Option<&str>,
    ) -> Result<serde_json::Value, HubError> {
        self.ctx.hub.register(id, secret, rest_url)
    }

    /// Plugin `id` as [`Emulator::plugins`] lists it, when it is connected over
    /// Socket.IO (its first heartbeat registered it), else `None`.
    pub fn connected_plugin(&self, id: &str) -> Option<serde_json::Value> {
        let mut answer = self.plugins();
        let list = answer.get_mut("plugins")?.as_array_mut()?;
        let index = list
            .iter()
            .position(|p| p["id"].as_str() == Some(id) && p["connected"] == true)?;
        Some(list.swap_remove(index))
    }

    /// Waits up to `timeout` (checked with [`plugin_wait`] by the bindings) for plugin
    /// `id` to connect; returns it as [`Emulator::connected_plugin`] does, or `None`
    /// when the time ran out or the emulator was stopped ([`Emulator::is_stopped`]).
    pub fn wait_for_plugin(
        &self,
        id: &str,
        timeout: std::time::Duration,
    ) -> Option<serde_json::Value> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(plugin) = self.connected_plugin(id) {
                return Some(plugin);
            }
            let now = std::time::Instant::now();
            if now >= deadline || self.is_stopped() {
                return None;
            }
            std::thread::sleep(PLUGIN_POLL.min(deadline - now));
        }
    }

    /// The hub's plugins: `{"plugins":[{"id","connected","restUrl","lastHeartbeat"}], ...}`
    /// (same as `GET /__emulator/plugins`).
    pub fn plugins(&self) -> serde_json::Value {
        self.ctx.hub.list()
    }

    /// Runs plugin `id` with the data dict `data` (as `POST
    /// /__emulator/plugins/{id}/run` does): fills a missing `session`,
    /// `apiKey`, `orgId`, `runBy` and `configJSON`, sends the request to the
    /// plugin (websocket `plugin` event or REST call), and waits up to `wait`
    /// for the session to end. Returns the session object
    /// `{"session","pluginId","status","response","error","logs","data",...}`
    /// where `status` is `pending` (only with a zero `wait`), `done`, `error`
    /// or `timeout` (or `pending`, when [`Emulator::shutdown`] ended the wait). Blocks
    /// the calling thread; errors: unknown plugin (404),
    /// data that is not an object (400), a `session` id already used (409).
    pub fn run_plugin(
        &self,
        id: &str,
        data: serde_json::Value,
        wait: std::time::Duration,
    ) -> Result<serde_json::Value, HubError> {
        plugins::run(&self.ctx, id, data, wait)
    }

    /// One plugin session by its id (any plugin), or None.
    pub fn plugin_session(&self, session_id: &str) -> Option<serde_json::Value> {
        self.ctx.hub.session(session_id)
    }

    /// The sessions of plugin `id`, oldest first: `{"sessions":[...]}` (same
    /// as `GET /__emulator/plugins/{id}/sessions`).
    pub fn plugin_sessions(&self, id: &str) -> serde_json::Value {
        self.ctx.hub.sessions(id)
    }

    /// Number of client connections currently open (for diagnostics and tests).
    pub fn open_connections(&self) -> usize {
        self.server_lock()
            .as_ref()
            .map_or(0, |s| s.live_connections())
    }

    /// Stops the server and joins its threads. Idempotent.
    pub fn stop(&mut self) {
        self.shutdown();
    }

    /// Stops the server through a shared reference: ends the plugin waits in progress
    /// ([`Emulator::run_plugin`], [`Emulator::wait_for_plugin`]) at once, then closes
    /// the connections and joins the server threads (freeing the port). The state stays
    /// readable (`url`, `request_count`...). Idempotent.
    pub fn shutdown(&self) {
        self.ctx.hub.close();
        let server = self.server_lock().take();
        if let Some(mut s) = server {
            s.stop();
        }
    }

    /// Whether [`Emulator::shutdown`] (or `stop`) was called.
    pub fn is_stopped(&self) -> bool {
        self.ctx.hub.is_closed()
    }

    fn server_lock(&self) -> std::sync::MutexGuard<'_, Option<server::Server>> {
        self.server.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}
