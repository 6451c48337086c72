//! [`RunningPlugin`]: starting, watching and stopping a plugin.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ango_core::{Client, Error};
use serde_json::{Map, Value, json};

use crate::callback::PluginCallback;
use crate::config::{Connector, LogLevel, PluginConfig};
use crate::kinds::{Delivery, Handler, error_delivery};
use crate::logger::{PluginLogger, Sink};
use crate::outbox::{AckId, Outbox};
use crate::pool::{Pool, Refused};
use crate::rest::{self, HttpReply};
use crate::ws::WsIo;

/// One [`Client`] per API key seen (requests carry the running user's key), so that
/// connection pools and TLS setup are shared between requests.
#[derive(Clone)]
pub(crate) struct ClientCache {
    host: String,
    timeout: Duration,
    clients: Arc<Mutex<HashMap<String, Client>>>,
}

impl ClientCache {
    pub(crate) fn new(host: &str, timeout: Duration) -> Self {
        ClientCache {
            host: host.to_string(),
            timeout,
            clients: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The client for `api_key`, built on first use.
    pub(crate) fn get(&self, api_key: &str) -> Result<Client, Error> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(api_key) {
            return Ok(client.clone());
        }
        let client = Client::builder(api_key)
            .host(self.host.clone())
            .request_timeout(Some(self.timeout))
            .build()?;
        if clients.len() > 256 {
            clients.clear();
        }
        clients.insert(api_key.to_string(), client.clone());
        Ok(client)
    }
}

/// Echoes a runtime message on stderr when `level` passes the configured level.
pub(crate) fn note(config: &PluginConfig, level: LogLevel, message: &str) {
    if config.echo_logs && level >= config.log_level {
        eprintln!("{}:plugin:{}", level.name(), message);
    }
}

/// A number in `[0, 1)`, random enough for backoff jitter.
pub(crate) fn random_unit() -> f64 {
    let bits = RandomState::new().hash_one(Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

struct Status {
    stopped: bool,
    shutdown_started: bool,
    error: Option<Error>,
}

/// Flags shared by the runtime's threads.
pub(crate) struct Control {
    /// No new work is accepted.
    pub(crate) stopping: AtomicBool,
    /// The connector must flush and close now (after the workers drained).
    pub(crate) close: AtomicBool,
    /// The `/plugin` namespace is connected.
    pub(crate) connected: AtomicBool,
    status: Mutex<Status>,
    changed: Condvar,
}

impl Control {
    fn new() -> Self {
        Control {
            stopping: AtomicBool::new(false),
            close: AtomicBool::new(false),
            connected: AtomicBool::new(false),
            status: Mutex::new(Status {
                stopped: false,
                shutdown_started: false,
                error: None,
            }),
            changed: Condvar::new(),
        }
    }

    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps for `duration`, or less if a close is requested; true when it was.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut status = self.status();
        loop {
            if self.close.load(Ordering::SeqCst) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            status = self
                .changed
                .wait_timeout(status, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn request_close(&self) {
        self.close.store(true, Ordering::SeqCst);
        let _guard = self.status();
        self.changed.notify_all();
    }

    fn mark_stopped(&self, error: Option<Error>) {
        self.connected.store(false, Ordering::SeqCst);
        let mut status = self.status();
        status.stopped = true;
        if status.error.is_none() {
            status.error = error;
        }
        self.changed.notify_all();
    }

    /// Claims the right to run the stop sequence; false if someone already did.
    fn begin_stop(&self) -> bool {
        let mut status = self.status();
        let first = !status.shutdown_started;
        status.shutdown_started = true;
        first
    }

    fn wait_stopped(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut status = self.status();
        while !status.stopped {
            match deadline {
                None => status = self.changed.wait(status).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    status = self
                        .changed
                        .wait_timeout(status, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
        true
    }
}

struct Inner {
    config: Arc<PluginConfig>,
    control: Arc<Control>,
    pool: Arc<Pool>,
    io_thread: Mutex<Option<JoinHandle<()>>>,
    http_threads: Mutex<Vec<JoinHandle<()>>>,
    local_addr: Option<SocketAddr>,
}

impl Inner {
    /// The stop sequence: no new work, drain the workers, close the connector.
    fn stop(&self) {
        if !self.control.begin_stop() {
            self.control.wait_stopped(None);
            return;
        }
        self.control.stopping.store(true, Ordering::SeqCst);
        self.pool.close_and_drain();
        self.control.request_close();
        let io = lock(&self.io_thread).take();
        if let Some(io) = io {
            let _ = io.join();
        }
        let http = std::mem::take(&mut *lock(&self.http_threads));
        for thread in http {
            let _ = thread.join();
        }
        note(&self.config, LogLevel::Warning, "Plugin Stopped");
        self.control.mark_stopped(None);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A started plugin: connected (Socket.IO) or serving (REST) on runtime threads.
///
/// Dropping it does not stop the plugin (as the official `run` never returns): call
/// [`RunningPlugin::shutdown`], or [`RunningPlugin::join`] to block until it stops.
pub struct RunningPlugin {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RunningPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningPlugin")
            .field("id", &self.inner.config.id)
            .field("kind", &self.inner.config.kind)
            .field("connector", &self.inner.config.connector)
            .field("connected", &self.is_connected())
            .field("local_addr", &self.inner.local_addr)
            .finish()
    }
}

fn deliver_ws(outbox: &Outbox, delivery: Delivery) {
    match delivery {
        Delivery::Response(v) | Delivery::HubRecord(v) | Delivery::Error { record: v, .. } => {
            outbox.emit("response", &v)
        }
        Delivery::Silent => {}
    }
}

fn post_response(config: &PluginConfig, clients: &ClientCache, api_key: &str, record: &Value) {
    let sent = if api_key.is_empty() {
        Err(Error::InvalidArgument(
            "the request has no apiKey to send the result with".into(),
        ))
    } else {
        clients
            .get(api_key)
            .and_then(|client| client.plugin_response(record))
    };
    if let Err(e) = sent {
        note(
            config,
            LogLevel::Error,
            &format!("could not send the result to /v2/pluginResponse: {e}"),
        );
    }
}

fn deliver_rest(
    config: &PluginConfig,
    clients: &ClientCache,
    api_key: &str,
    delivery: Delivery,
) -> HttpReply {
    match delivery {
        Delivery::Response(v) => HttpReply::new(200, v),
        Delivery::HubRecord(v) => {
            post_response(config, clients, api_key, &v);
            HttpReply::new(200, Value::Null)
        }
        Delivery::Error { record, message } => {
            post_response(config, clients, api_key, &record);
            HttpReply::new(500, json!({ "detail": message }))
        }
        Delivery::Silent => HttpReply::new(200, Value::Null),
    }
}

fn session_only(data: &Map<String, Value>) -> Map<String, Value> {
    let mut map = Map::new();
    if let Some(session) = data.get("session") {
        map.insert("session".into(), session.clone());
    }
    map
}

fn refusal_message(config: &PluginConfig, refused: Refused) -> String {
    match refused {
        Refused::Full { waiting } => format!(
            "the plugin is busy: {} workers are busy and {waiting} requests are waiting",
            config.concurrency.max(1)
        ),
        Refused::Closed => "the plugin is shutting down".into(),
    }
}

impl RunningPlugin {
    /// Connects (WS) or binds (REST) and returns at once; work runs on runtime threads.
    /// Fails at once only for a configuration that cannot work (or a port that cannot
    /// be bound); a Hub that cannot be reached is retried per the reconnect policy.
    pub fn start(
        config: PluginConfig,
        callback: Arc<dyn PluginCallback>,
    ) -> Result<RunningPlugin, Error> {
        config.validate()?;
        let config = Arc::new(config);
        let control = Arc::new(Control::new());
        let clients = ClientCache::new(&config.api_host, config.http_timeout);
        let pool = Arc::new(Pool::new(
            config.concurrency,
            config.queue_capacity,
            config.overflow,
        ));
        let handler = Arc::new(Handler {
            config: Arc::clone(&config),
            clients: clients.clone(),
            callback,
        });
        match config.connector {
            Connector::WebSocket => {
                let (tx, rx) = mpsc::channel();
                let outbox = Outbox::new(tx);
                let on_plugin = {
                    let (config, control, pool) =
                        (Arc::clone(&config), Arc::clone(&control), Arc::clone(&pool));
                    move |data: Map<String, Value>, ack: Option<AckId>| {
                        let logger = PluginLogger::new(
                            &config.id,
                            &data,
                            config.log_level,
                            config.echo_logs,
                            Sink::Ws(outbox.clone()),
                        );
                        let session = session_only(&data);
                        let refused = if control.stopping.load(Ordering::SeqCst) {
                            Err(Refused::Closed)
                        } else {
                            let (outbox, handler) = (outbox.clone(), Arc::clone(&handler));
                            pool.submit(move || {
                                let delivery = handler.handle(data, logger);
                                deliver_ws(&outbox, delivery);
                                if let Some(id) = ack {
                                    outbox.ack(id);
                                }
                            })
                        };
                        if let Err(refused) = refused {
                            let message = refusal_message(&config, refused);
                            note(&config, LogLevel::Warning, &message);
                            deliver_ws(&outbox, error_delivery(&session, message));
                            if let Some(id) = ack {
                                outbox.ack(id);
                            }
                        }
                    }
                };
                let io = WsIo::new(
                    Arc::clone(&config),
                    Arc::clone(&control),
                    rx,
                    Box::new(on_plugin),
                );
                let inner = Arc::new(Inner {
                    config: Arc::clone(&config),
                    control: Arc::clone(&control),
                    pool,
                    io_thread: Mutex::new(None),
                    http_threads: Mutex::new(Vec::new()),
                    local_addr: None,
                });
                let thread_inner = Arc::clone(&inner);
                let thread = std::thread::Builder::new()
                    .name("ango-plugin-io".into())
                    .spawn(move || {
                        if let Err(error) = io.run() {
                            note(&thread_inner.config, LogLevel::Critical, &error.to_string());
                            if thread_inner.control.begin_stop() {
                                thread_inner.control.stopping.store(true, Ordering::SeqCst);
                                thread_inner.pool.close_and_drain();
                                thread_inner.control.mark_stopped(Some(error));
                            }
                        }
                    })
                    .map_err(|e| Error::Internal(format!("spawning the I/O thread: {e}")))?;
                *lock(&inner.io_thread) = Some(thread);
                Ok(RunningPlugin { inner })
            }
            Connector::Rest => {
                let rest_handler: rest::PluginHandler = {
                    let (config, clients, pool) =
                        (Arc::clone(&config), clients.clone(), Arc::clone(&pool));
                    Arc::new(move |data: Map<String, Value>| {
                        let api_key = match data.get("apiKey") {
                            Some(Value::String(s)) => s.clone(),
                            _ => String::new(),
                        };
                        let logger = PluginLogger::new(
                            &config.id,
                            &data,
                            config.log_level,
                            config.echo_logs,
                            Sink::Rest {
                                clients: clients.clone(),
                                api_key: Arc::from(api_key.as_str()),
                            },
                        );
                        let session = session_only(&data);
                        let (tx, rx) = mpsc::channel();
                        let handler = Arc::clone(&handler);
                        let submitted = pool.submit(move || {
                            let _ = tx.send(handler.handle(data, logger));
                        });
                        match submitted {
                            Ok(()) => match rx.recv() {
                                Ok(delivery) => deliver_rest(&config, &clients, &api_key, delivery),
                                Err(_) => HttpReply::new(
                                    500,
                                    json!({"detail": "the plugin worker failed"}),
                                ),
                            },
                            Err(refused) => {
                                let message = refusal_message(&config, refused);
                                note(&config, LogLevel::Warning, &message);
                                if let Refused::Full { .. } = refused {
                                    let record = error_delivery(&session, message.clone());
                                    if let Delivery::Error { record, .. } = record {
                                        post_response(&config, &clients, &api_key, &record);
                                    }
                                }
                                HttpReply::new(503, json!({ "detail": message }))
                            }
                        }
                    })
                };
                let (local, threads) =
                    rest::serve(Arc::clone(&config), Arc::clone(&control), rest_handler)?;
                note(
                    &config,
                    LogLevel::Info,
                    &format!("Serving the REST connector on http://{local}"),
                );
                Ok(RunningPlugin {
                    inner: Arc::new(Inner {
                        config,
                        control,
                        pool,
                        io_thread: Mutex::new(None),
                        http_threads: Mutex::new(threads),
                        local_addr: Some(local),
                    }),
                })
            }
        }
    }

    /// The configuration the plugin runs with.
    pub fn config(&self) -> &PluginConfig {
        &self.inner.config
    }

    /// Waits until the plugin has stopped or `timeout` has passed; true once stopped.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.inner.control.wait_stopped(Some(timeout))
    }

    /// Stops taking new work (new requests get an error record, or 503 in REST mode),
    /// lets every queued and running request finish and deliver its result, then leaves
    /// the namespace (`41/plugin,`) and closes the connection, or stops serving.
    /// Returns once stopped; safe to call more than once and from several threads.
    pub fn shutdown(&self) {
        self.inner.stop();
    }

    /// Waits until the plugin stops (after [`RunningPlugin::shutdown`] from another
    /// thread, or a fatal error such as exhausted reconnection attempts, which is
    /// returned).
    pub fn join(self) -> Result<(), Error> {
        // A fatal stop leaves the I/O thread finishing: `finish` reaps it.
        self.finish()
    }

    /// After a fatal stop (reconnection attempts exhausted): the error, once; for
    /// callers that keep the plugin shared and cannot [`RunningPlugin::join`] it.
    pub fn take_error(&self) -> Option<Error> {
        self.inner.control.status().error.take()
    }

    /// [`RunningPlugin::wait_timeout`] in seconds as a binding gets them: NaN or a
    /// negative number does not wait, an infinite or huge one waits for the end.
    pub fn wait_seconds(&self, seconds: f64) -> bool {
        let seconds = if seconds.is_nan() {
            0.0
        } else {
            seconds.max(0.0)
        };
        self.inner
            .control
            .wait_stopped(Duration::try_from_secs_f64(seconds).ok())
    }

    /// Starts [`RunningPlugin::shutdown`] on a thread of its own and returns at once (a
    /// callback may call it); [`RunningPlugin::wait_timeout`] tells when it is done.
    pub fn shutdown_in_background(&self) -> Result<(), Error> {
        let inner = Arc::clone(&self.inner);
        std::thread::Builder::new()
            .name("ango-plugin-shutdown".into())
            .spawn(move || inner.stop())
            .map(drop)
            .map_err(|e| Error::Internal(format!("could not stop the plugin: {e}")))
    }

    /// [`RunningPlugin::join`] for a shared handle: waits until the plugin stops and
    /// returns why, once (a second call, or one after [`RunningPlugin::take_error`],
    /// returns `Ok`).
    pub fn finish(&self) -> Result<(), Error> {
        self.inner.control.wait_stopped(None);
        let io = lock(&self.inner.io_thread).take();
        if let Some(io) = io {
            let _ = io.join();
        }
        self.take_error().map_or(Ok(()), Err)
    }

    /// REST connector: the address actually bound (useful with port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner.local_addr
    }

    /// Socket.IO connector: whether the `/plugin` namespace is connected right now.
    pub fn is_connected(&self) -> bool {
        self.inner.control.connected.load(Ordering::SeqCst)
    }
}
