//! The plugin hub: the server side of the Ango plugin protocol.
//!
//! Plugins connect over Socket.IO v5 / Engine.IO v4 (websocket transport
//! only) at `/socket.io/` on the emulator's own port, namespace `/plugin`, and
//! register with a `heartbeat {id, secret}` event. REST-connector plugins are
//! registered with `POST /__emulator/plugins` and called with
//! `POST {restUrl}/plugin` and a `Secret` header.
//!
//! A run opens a *session*: the request's data dict is sent to the plugin as a
//! `plugin` event (or REST call), and the session records the plugin's
//! `response` and `log` events (or `/v2/pluginResponse` and `/v2/pluginLog`
//! calls), and for workflow runs the plugin's `annotate` with `isPlugin=true`.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

use crate::Ctx;
use crate::http::{ApiError, Request, Response};
use crate::server::Outcome;
use crate::util::{hex32, iso, now_ms};

/// The namespace plugins connect to.
const NAMESPACE: &str = "/plugin";
/// `maxPayload` advertised in the Engine.IO OPEN packet (bytes).
const MAX_PAYLOAD: u64 = 64 * 1024 * 1024;
/// Poll period of a websocket connection's loop.
const POLL: Duration = Duration::from_millis(20);
/// Records kept of logs that named no known session, and of ignored frames.
const NOTES_CAPACITY: usize = 200;

/// Engine.IO heartbeat settings of the hub.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HubConfig {
    /// Interval between two server pings.
    pub ping_interval: Duration,
    /// Time a client has to answer a ping before it is dropped.
    pub ping_timeout: Duration,
    /// Timeout of calls to REST-connector plugins.
    pub rest_timeout: Duration,
}

/// An error of a hub operation, with the HTTP status it maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubError {
    /// HTTP status (400 invalid input, 404 unknown plugin).
    pub status: u16,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for HubError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl std::error::Error for HubError {}

impl From<HubError> for ApiError {
    fn from(e: HubError) -> ApiError {
        ApiError::new(e.status, e.message)
    }
}

/// A registered plugin.
#[derive(Debug)]
struct PluginEntry {
    secret: String,
    rest_url: Option<String>,
    /// The websocket connection that authenticated as this plugin, if any.
    conn: Option<u64>,
    last_heartbeat: Option<i64>,
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Done,
    Error,
    Timeout,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Done => "done",
            Status::Error => "error",
            Status::Timeout => "timeout",
        }
    }
}

/// One plugin run.
#[derive(Debug)]
struct Session {
    id: String,
    plugin_id: String,
    status: Status,
    response: Value,
    error: bool,
    message: Option<String>,
    records: Vec<Value>,
    logs: Vec<Value>,
    /// The data sent, without `apiKey`.
    data: Value,
    /// The full data dict to send (cleared once sent).
    outgoing: Option<Value>,
    /// Whether the plugin has been sent the request.
    dispatched: bool,
    /// Whether the plugin acknowledged the `plugin` event (Socket.IO ACK).
    acked: bool,
    workflow_task: Option<String>,
    created_at: i64,
    ended_at: Option<i64>,
}

impl Session {
    fn to_json(&self) -> Value {
        json!({
            "session": self.id,
            "pluginId": self.plugin_id,
            "status": self.status.as_str(),
            "response": self.response,
            "error": self.error,
            "message": self.message,
            "records": self.records,
            "logs": self.logs,
            "data": self.data,
            "workflow": self.workflow_task.is_some(),
            "taskId": self.workflow_task,
            "dispatched": self.dispatched,
            "acked": self.acked,
            "createdAt": iso(self.created_at),
            "endedAt": self.ended_at.map(iso),
        })
    }

    fn end(&mut self, status: Status) {
        self.status = status;
        self.ended_at = Some(now_ms());
    }
}

/// A live websocket connection.
struct Conn {
    tx: Sender<String>,
    plugin: Option<String>,
    next_ack: u64,
    /// Ack id → session id of `plugin` events sent on this connection.
    acks: HashMap<u64, String>,
}

#[derive(Default)]
struct HubState {
    plugins: BTreeMap<String, PluginEntry>,
    sessions: Vec<Session>,
    session_pos: HashMap<String, usize>,
    conns: HashMap<u64, Conn>,
    notes: Vec<String>,
    unattached_logs: Vec<Value>,
    ignored_frames: u64,
}

impl HubState {
    fn note(&mut self, msg: String) {
        if self.notes.len() >= NOTES_CAPACITY {
            self.notes.remove(0);
        }
        self.notes.push(msg);
    }

    fn session_mut(&mut self, id: &str) -> Option<&mut Session> {
        let &i = self.session_pos.get(id)?;
        self.sessions.get_mut(i)
    }

    /// Sends the session's request on the plugin's connection, if connected.
    fn try_dispatch_ws(&mut self, session_idx: usize) -> bool {
        let s = &self.sessions[session_idx];
        if s.dispatched || s.status != Status::Pending {
            return false;
        }
        let Some(conn_id) = self.plugins.get(&s.plugin_id).and_then(|p| p.conn) else {
            return false;
        };
        let Some(conn) = self.conns.get_mut(&conn_id) else {
            return false;
        };
        let Some(data) = s.outgoing.clone() else {
            return false;
        };
        let ack = conn.next_ack;
        conn.next_ack += 1;
        let frame = format!(
            "42{NAMESPACE},{ack}{}",
            serde_json::to_string(&json!(["plugin", data])).unwrap_or_default()
        );
        if conn.tx.send(frame).is_err() {
            return false;
        }
        conn.acks.insert(ack, s.id.clone());
        let s = &mut self.sessions[session_idx];
        s.dispatched = true;
        s.outgoing = None;
        true
    }
}

/// The hub shared by the HTTP routes, the websocket connections and the
/// [`crate::Emulator`] API.
pub(crate) struct Hub {
    state: Mutex<HubState>,
    changed: Condvar,
    /// Set by [`Hub::close`]: waits end at once.
    closed: std::sync::atomic::AtomicBool,
    next_conn: AtomicU64,
    config: HubConfig,
}

impl Hub {
    /// An empty hub.
    pub(crate) fn new(config: HubConfig) -> Hub {
        Hub {
            state: Mutex::new(HubState::default()),
            changed: Condvar::new(),
            closed: std::sync::atomic::AtomicBool::new(false),
            next_conn: AtomicU64::new(1),
            config,
        }
    }

    /// Ends every wait in progress and those to come (the emulator is stopping).
    pub(crate) fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        // Taking the lock orders the flag before a waiter's next check.
        drop(self.lock());
        self.changed.notify_all();
    }

    /// Whether [`Hub::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers (or updates) a plugin.
    pub(crate) fn register(
        &self,
        id: &str,
        secret: &str,
        rest_url: Option<&str>,
    ) -> Result<Value, HubError> {
        if id.trim().is_empty() {
            return Err(HubError {
                status: 400,
                message: "'id' must be a non-empty string".into(),
            });
        }
        if let Some(u) = rest_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(HubError {
                status: 400,
                message: "'restUrl' must be an http(s) URL".into(),
            });
        }
        let mut st = self.lock();
        let entry = st.plugins.entry(id.to_string()).or_insert(PluginEntry {
            secret: secret.to_string(),
            rest_url: None,
            conn: None,
            last_heartbeat: None,
        });
        entry.secret = secret.to_string();
        entry.rest_url = rest_url.map(|u| u.trim_end_matches('/').to_string());
        let v = plugin_json(id, entry);
        drop(st);
        // Work that waited for this plugin can go out now.
        self.dispatch_pending(id);
        Ok(v)
    }

    /// `{"plugins": [...]}` with each plugin's connection state.
    pub(crate) fn list(&self) -> Value {
        let st = self.lock();
        let plugins: Vec<Value> = st
            .plugins
            .iter()
            .map(|(id, p)| plugin_json(id, p))
            .collect();
        json!({
            "plugins": plugins,
            "ignoredFrames": st.ignored_frames,
            "notes": st.notes,
            "unattachedLogs": st.unattached_logs,
        })
    }

    /// `{"sessions": [...]}` of one plugin, oldest first.
    pub(crate) fn sessions(&self, plugin_id: &str) -> Value {
        let st = self.lock();
        let sessions: Vec<Value> = st
            .sessions
            .iter()
            .filter(|s| s.plugin_id == plugin_id)
            .map(Session::to_json)
            .collect();
        json!({ "sessions": sessions })
    }

    /// One session by id.
    pub(crate) fn session(&self, session_id: &str) -> Option<Value> {
        let st = self.lock();
        st.session_pos
            .get(session_id)
            .map(|&i| st.sessions[i].to_json())
    }

    /// Opens a session for `plugin_id` with `data` (already completed with
    /// session/apiKey/...) and sends it if the plugin is reachable.
    /// Returns the session id.
    fn open_session(self: &Arc<Self>, plugin_id: &str, data: Map<String, Value>) -> String {
        let session_id = data
            .get("session")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let workflow_task = if crate::util::json_truthy(data.get("workflow")) {
            data.get("taskId")
                .and_then(Value::as_str)
                .map(str::to_string)
        } else {
            None
        };
        let mut shown = data.clone();
        shown.remove("apiKey");
        let session = Session {
            id: session_id.clone(),
            plugin_id: plugin_id.to_string(),
            status: Status::Pending,
            response: Value::Null,
            error: false,
            message: None,
            records: Vec::new(),
            logs: Vec::new(),
            data: Value::Object(shown),
            outgoing: Some(Value::Object(data)),
            dispatched: false,
            acked: false,
            workflow_task,
            created_at: now_ms(),
            ended_at: None,
        };
        let mut st = self.lock();
        let idx = st.sessions.len();
        st.session_pos.insert(session_id.clone(), idx);
        st.sessions.push(session);
        let rest = st
            .plugins
            .get(plugin_id)
            .filter(|p| p.conn.is_none())
            .and_then(|p| p.rest_url.clone().map(|u| (u, p.secret.clone())));
        if !st.try_dispatch_ws(idx)
            && let Some((url, secret)) = rest
        {
            let s = &mut st.sessions[idx];
            let payload = s.outgoing.take().unwrap_or(Value::Null);
            s.dispatched = true;
            drop(st);
            let hub = self.clone();
            let sid = session_id.clone();
            let spawned = std::thread::Builder::new()
                .name("ango-emu-rest-plugin".into())
                .spawn(move || hub.call_rest(&url, &secret, &sid, &payload));
            if spawned.is_err() {
                self.fail(&session_id, "cannot start the REST call");
            }
        }
        self.changed.notify_all();
        session_id
    }

    /// Calls a REST-connector plugin and records its answer.
    fn call_rest(&self, url: &str, secret: &str, session_id: &str, data: &Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.config.rest_timeout))
            .http_status_as_error(false)
            .build()
            .into();
        let body = serde_json::to_vec(data).unwrap_or_default();
        let result = agent
            .post(format!("{url}/plugin"))
            .header("Secret", secret)
            .content_type("application/json")
            .send(&body[..]);
        let mut resp = match result {
            Ok(r) => r,
            Err(e) => {
                self.fail(session_id, &format!("REST plugin call failed: {e}"));
                return;
            }
        };
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_PAYLOAD)
            .read_to_string()
            .unwrap_or_default();
        if !(200..300).contains(&status) {
            let mut st = self.lock();
            if let Some(s) = st.session_mut(session_id) {
                s.error = true;
                s.response = json!({"httpStatus": status, "body": text});
                s.message = Some(format!("REST plugin answered HTTP {status}"));
                s.end(Status::Error);
            }
            drop(st);
            self.changed.notify_all();
            return;
        }
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        match value {
            // Export and Model-workflow plugins answer null: their result
            // comes through /v2/pluginResponse or annotate.
            Value::Null => {}
            Value::Object(ref m) if m.contains_key("response") || m.contains_key("error") => {
                self.record_response(session_id, &value, None);
            }
            other => {
                self.record_response(
                    session_id,
                    &json!({"response": other, "session": session_id}),
                    None,
                );
            }
        }
    }

    fn fail(&self, session_id: &str, message: &str) {
        let mut st = self.lock();
        if let Some(s) = st.session_mut(session_id) {
            s.error = true;
            s.message = Some(message.to_string());
            s.end(Status::Error);
        }
        drop(st);
        self.changed.notify_all();
    }

    /// Records a response record (`{"response", "session", "error"?, ...}`).
    /// `from_plugin`: the plugin the record came from (websocket), which must
    /// own the session. Returns false when no session matched.
    pub(crate) fn record_response(
        &self,
        session_id: &str,
        record: &Value,
        from_plugin: Option<&str>,
    ) -> bool {
        let mut st = self.lock();
        let Some(s) = st.session_mut(session_id) else {
            return false;
        };
        if from_plugin.is_some_and(|p| p != s.plugin_id) {
            return false;
        }
        s.records.push(record.clone());
        let error = crate::util::json_truthy(record.get("error"));
        if error {
            s.error = true;
            s.message = record
                .get("message")
                .or_else(|| record.get("errorMessage"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .or(s.message.take());
            s.end(Status::Error);
        } else {
            s.response = record.get("response").cloned().unwrap_or(Value::Null);
            // A workflow session ends with the plugin's annotate call.
            if s.workflow_task.is_none() {
                s.error = false;
                s.end(Status::Done);
            }
        }
        drop(st);
        self.changed.notify_all();
        true
    }

    /// Records a log record in its session.
    pub(crate) fn record_log(&self, record: &Value, from_plugin: Option<&str>) {
        let session_id = record.get("session").and_then(Value::as_str).unwrap_or("");
        let mut st = self.lock();
        let attached = match st.session_mut(session_id) {
            Some(s) if from_plugin.is_none_or(|p| p == s.plugin_id) => {
                s.logs.push(record.clone());
                true
            }
            _ => false,
        };
        if !attached {
            if st.unattached_logs.len() >= NOTES_CAPACITY {
                st.unattached_logs.remove(0);
            }
            st.unattached_logs.push(record.clone());
        }
        drop(st);
        self.changed.notify_all();
    }

    /// The plugin's annotate (`isPlugin=true`) of a workflow task: ends the
    /// task's pending workflow session with the annotation as its response.
    pub(crate) fn finish_workflow(&self, task_id: &str, annotation: &Value) {
        let mut st = self.lock();
        if let Some(s) =
            st.sessions.iter_mut().rev().find(|s| {
                s.workflow_task.as_deref() == Some(task_id) && s.status == Status::Pending
            })
        {
            s.response = annotation.clone();
            s.end(Status::Done);
        }
        drop(st);
        self.changed.notify_all();
    }

    /// Waits until the session ends or `wait` runs out (then marks it
    /// `timeout`), and returns it.
    fn wait_session(&self, session_id: &str, wait: Duration) -> Value {
        let deadline = Instant::now() + wait;
        let mut st = self.lock();
        loop {
            let Some(&i) = st.session_pos.get(session_id) else {
                return Value::Null;
            };
            if st.sessions[i].status != Status::Pending || self.is_closed() {
                return st.sessions[i].to_json();
            }
            let now = Instant::now();
            if now >= deadline {
                if !wait.is_zero() {
                    let s = &mut st.sessions[i];
                    // Not sent yet: cancel it, so it is not sent later.
                    s.outgoing = None;
                    s.end(Status::Timeout);
                }
                return st.sessions[i].to_json();
            }
            st = self
                .changed
                .wait_timeout(st, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Sends every undelivered pending session of `plugin_id` it can.
    fn dispatch_pending(&self, plugin_id: &str) {
        let mut st = self.lock();
        let idx: Vec<usize> = st
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.plugin_id == plugin_id && !s.dispatched && s.status == Status::Pending
            })
            .map(|(i, _)| i)
            .collect();
        for i in idx {
            st.try_dispatch_ws(i);
        }
    }
}

fn plugin_json(id: &str, p: &PluginEntry) -> Value {
    json!({
        "id": id,
        "connected": p.conn.is_some(),
        "restUrl": p.rest_url,
        "lastHeartbeat": p.last_heartbeat.map(iso),
    })
}

/// Compares two secrets in constant time (for equal lengths).
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Completes a run's data dict the way the Hub does, and returns it.
fn complete_data(ctx: &Ctx, mut data: Map<String, Value>) -> Map<String, Value> {
    let (org_id, run_by) = {
        let st = ctx.read();
        (
            st.org_id.clone(),
            st.members.first().map(|m| m.id.clone()).unwrap_or_default(),
        )
    };
    let missing = |m: &Map<String, Value>, k: &str| {
        m.get(k)
            .is_none_or(|v| v.is_null() || v.as_str().is_some_and(str::is_empty))
    };
    if missing(&data, "session") {
        data.insert("session".into(), json!(crate::util::object_id()));
    }
    if missing(&data, "apiKey") {
        data.insert("apiKey".into(), json!(ctx.api_key));
    }
    if missing(&data, "orgId") {
        data.insert("orgId".into(), json!(org_id));
    }
    if missing(&data, "runBy") {
        data.insert("runBy".into(), json!(run_by));
    }
    if missing(&data, "configJSON") {
        data.insert("configJSON".into(), json!("{}"));
    }
    data
}

/// Runs a plugin: opens a session, sends the request and waits up to `wait`
/// for the session to end. Returns the session object.
pub(crate) fn run(
    ctx: &Ctx,
    plugin_id: &str,
    data: Value,
    wait: Duration,
) -> Result<Value, HubError> {
    let data = match data {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        _ => {
            return Err(HubError {
                status: 400,
                message: "the run data must be a JSON object".into(),
            });
        }
    };
    if !ctx.hub.lock().plugins.contains_key(plugin_id) {
        return Err(HubError {
            status: 404,
            message: format!("Plugin not found: {plugin_id} (connect it or register it first)"),
        });
    }
    if let Some(s) = data.get("session").and_then(Value::as_str)
        && ctx.hub.lock().session_pos.contains_key(s)
    {
        return Err(HubError {
            status: 409,
            message: format!("Session {s} already exists"),
        });
    }
    let data = complete_data(ctx, data);
    let sid = ctx.hub.open_session(plugin_id, data);
    Ok(ctx.hub.wait_session(&sid, wait))
}

/// A URL the plugin can read without the API key: files stored in the
/// emulator get a signed URL, other URLs are passed as they are.
fn readable_url(ctx: &Ctx, url: &str) -> String {
    let prefix = format!("{}/files/", ctx.base_url);
    match url.strip_prefix(&prefix) {
        Some(rest) => {
            let key = rest.split('?').next().unwrap_or_default();
            ctx.file_url(&crate::query::percent_decode(key, false))
        }
        None => url.to_string(),
    }
}

/// Sends the tasks that entered Plugin stages to their plugins (called after
/// each state-changing request).
pub(crate) fn flush_workflow(ctx: &Ctx) {
    let mut jobs = Vec::new();
    {
        // Cheap check under the read lock first.
        let st = ctx.read();
        if st.projects.iter().all(|p| p.plugin_queue.is_empty()) {
            return;
        }
    }
    {
        let mut st = ctx.write();
        for p in st.projects.iter_mut() {
            if p.plugin_queue.is_empty() {
                continue;
            }
            let queue = std::mem::take(&mut p.plugin_queue);
            for (tidx, stage_id, plugin_id) in queue {
                let (Some(t), stage) = (p.tasks.get(tidx), p.stage(&stage_id)) else {
                    continue;
                };
                if t.deleted || t.stage != stage_id {
                    continue;
                }
                let asset = &p.assets[t.asset];
                let stage = stage.cloned().unwrap_or(Value::Null);
                let config = match stage.get("configJSON") {
                    Some(Value::String(s)) => s.clone(),
                    Some(v @ Value::Object(_)) => v.to_string(),
                    _ => "{}".to_string(),
                };
                let mut data = Map::new();
                data.insert("workflow".into(), json!(true));
                data.insert("taskId".into(), json!(t.id));
                data.insert("projectId".into(), json!(p.id));
                data.insert("assetId".into(), json!(asset.id));
                data.insert("externalId".into(), json!(asset.external_id));
                data.insert("dataURL".into(), json!(readable_url(ctx, &asset.data)));
                data.insert(
                    "categorySchema".into(),
                    stage.get("categorySchema").cloned().unwrap_or(json!([])),
                );
                data.insert(
                    "overwrite".into(),
                    stage.get("overwrite").cloned().unwrap_or(json!(true)),
                );
                data.insert("stageId".into(), json!(stage_id));
                data.insert("configJSON".into(), json!(config));
                jobs.push((plugin_id, data));
            }
        }
    }
    for (plugin_id, data) in jobs {
        let data = complete_data(ctx, data);
        ctx.hub.open_session(&plugin_id, data);
    }
}

/// HTTP routes under `/__emulator/plugins`.
pub(crate) fn route(ctx: &Ctx, req: &Request, rest: &[&str]) -> Result<Response, ApiError> {
    match (req.method.as_str(), rest) {
        ("GET", []) => Ok(Response::json(200, &ctx.hub.list())),
        ("POST", []) => {
            let body = req.json_object()?;
            let id = crate::routes::req_str(&body, "id")?;
            let secret = body.get("secret").and_then(Value::as_str).unwrap_or("");
            let rest_url = match body.get("restUrl") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if !s.is_empty() => Some(s.as_str()),
                Some(_) => return Err(ApiError::bad_request("'restUrl' must be a string")),
            };
            let v = ctx.hub.register(id, secret, rest_url)?;
            Ok(Response::json(201, &v))
        }
        ("POST", [id, "run"]) => {
            let wait = match req.query.get("wait") {
                None | Some("") => Duration::from_secs(30),
                Some(w) => crate::plugin_wait("'wait'", w.parse::<f64>().unwrap_or(f64::NAN))
                    .map_err(|e| ApiError::bad_request(e.message))?,
            };
            let data = req.json()?;
            let v = run(ctx, id, data, wait)?;
            Ok(Response::json(200, &v))
        }
        ("GET", [id, "sessions"]) => Ok(Response::json(200, &ctx.hub.sessions(id))),
        ("GET", ["sessions", sid]) => ctx
            .hub
            .session(sid)
            .map(|v| Response::json(200, &v))
            .ok_or_else(|| ApiError::not_found(format!("Session not found: {sid}"))),
        _ => Err(ApiError::not_found(format!(
            "Route not found: {} {}",
            req.method, req.path
        ))),
    }
}

/// `GET /socket.io/?EIO=4&transport=websocket`: upgrades to a websocket and
/// serves the Engine.IO / Socket.IO session on the connection's thread.
pub(crate) fn upgrade(hub: &Arc<Hub>, req: &Request) -> Outcome {
    let bad = |code: u8, message: &str| {
        Outcome::Respond(Response::json(
            400,
            &json!({"code": code, "message": message}),
        ))
    };
    if req.query.get("EIO") != Some("4") {
        return bad(5, "Unsupported protocol version");
    }
    if req.query.get("transport") != Some("websocket") {
        return bad(0, "Transport unknown (only websocket is served)");
    }
    let is_ws = req
        .header("upgrade")
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let key = req.header("sec-websocket-key").unwrap_or("");
    if req.method != "GET" || !is_ws || key.is_empty() {
        return bad(3, "Bad request (expected a websocket upgrade)");
    }
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let resp = Response::bytes(101, "", crate::http::Body::Bytes(Vec::new()))
        .with_header("Upgrade", "websocket")
        .with_header("Connection", "Upgrade")
        .with_header("Sec-WebSocket-Accept", &accept);
    let hub = hub.clone();
    Outcome::Upgrade(
        resp,
        Box::new(move |stream, leftover| serve_socket(&hub, stream, leftover)),
    )
}

/// One parsed Socket.IO packet.
#[derive(Debug, PartialEq)]
struct SioPacket<'a> {
    kind: u8,
    nsp: &'a str,
    ack: Option<u64>,
    data: &'a str,
}

fn parse_sio(s: &str) -> Option<SioPacket<'_>> {
    let kind = s.as_bytes().first()?.checked_sub(b'0')?;
    if kind > 6 {
        return None;
    }
    let mut rest = &s[1..];
    let nsp = if rest.starts_with('/') {
        match rest.find(',') {
            Some(i) => {
                let n = &rest[..i];
                rest = &rest[i + 1..];
                n
            }
            None => {
                let n = rest;
                rest = "";
                n
            }
        }
    } else {
        "/"
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let ack = if digits > 0 {
        let a = rest[..digits].parse::<u64>().ok()?;
        rest = &rest[digits..];
        Some(a)
    } else {
        None
    };
    Some(SioPacket {
        kind,
        nsp,
        ack,
        data: rest,
    })
}

/// Serves one websocket connection until it closes, times out or the
/// server stops.
fn serve_socket(hub: &Arc<Hub>, stream: TcpStream, leftover: Vec<u8>) {
    let conn_id = hub.next_conn.fetch_add(1, Ordering::SeqCst);
    let (tx, rx) = channel::<String>();
    hub.lock().conns.insert(
        conn_id,
        Conn {
            tx,
            plugin: None,
            next_ack: 1,
            acks: HashMap::new(),
        },
    );
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut ws = WebSocket::from_partially_read(stream, leftover, Role::Server, None);
    let result = socket_loop(hub, conn_id, &mut ws, &rx);
    let _ = ws.close(None);
    let _ = ws.flush();
    let mut st = hub.lock();
    st.conns.remove(&conn_id);
    for p in st.plugins.values_mut() {
        if p.conn == Some(conn_id) {
            p.conn = None;
        }
    }
    if let Err(reason) = result {
        st.note(format!("connection {conn_id} closed: {reason}"));
    }
    drop(st);
    hub.changed.notify_all();
}

fn socket_loop(
    hub: &Arc<Hub>,
    conn_id: u64,
    ws: &mut WebSocket<TcpStream>,
    rx: &Receiver<String>,
) -> Result<(), String> {
    let cfg = hub.config;
    let sid = hex32();
    let open = json!({
        "sid": sid,
        "upgrades": [],
        "pingInterval": cfg.ping_interval.as_millis() as u64,
        "pingTimeout": cfg.ping_timeout.as_millis() as u64,
        "maxPayload": MAX_PAYLOAD,
    });
    send(ws, format!("0{open}"))?;
    let mut ns_connected = false;
    let mut next_ping = Instant::now() + cfg.ping_interval;
    let mut pong_due: Option<Instant> = None;
    loop {
        while let Ok(frame) = rx.try_recv() {
            send(ws, frame)?;
        }
        let now = Instant::now();
        if let Some(due) = pong_due
            && now >= due
        {
            return Err("ping timeout".into());
        }
        if pong_due.is_none() && now >= next_ping {
            send(ws, "2".into())?;
            pong_due = Some(now + cfg.ping_timeout);
            next_ping = now + cfg.ping_interval;
        }
        let msg = match ws.read() {
            Ok(m) => m,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(tungstenite::Error::ConnectionClosed) => return Ok(()),
            Err(e) => return Err(format!("websocket error: {e}")),
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => return Ok(()),
            Message::Binary(_) => {
                ignore(hub, conn_id, "binary frame");
                continue;
            }
            _ => continue,
        };
        let text = text.as_str();
        match text.as_bytes().first() {
            Some(b'3') => pong_due = None,
            Some(b'2') => send(ws, format!("3{}", &text[1..]))?,
            Some(b'1') => return Ok(()),
            Some(b'4') => {
                if let Some(reply) = on_message(hub, conn_id, &text[1..], &mut ns_connected) {
                    for r in reply {
                        send(ws, r)?;
                    }
                }
            }
            // Upgrade and noop packets mean nothing on a websocket-only session.
            Some(b'5') | Some(b'6') => {}
            _ => ignore(
                hub,
                conn_id,
                &format!("malformed Engine.IO packet {text:.64}"),
            ),
        }
    }
}

fn send(ws: &mut WebSocket<TcpStream>, frame: String) -> Result<(), String> {
    ws.send(Message::text(frame))
        .map_err(|e| format!("send failed: {e}"))
}

fn ignore(hub: &Hub, conn_id: u64, what: &str) {
    let mut st = hub.lock();
    st.ignored_frames += 1;
    st.note(format!("connection {conn_id}: ignored {what}"));
}

/// Handles one Socket.IO packet; returns the frames to send back.
fn on_message(
    hub: &Arc<Hub>,
    conn_id: u64,
    packet: &str,
    ns_connected: &mut bool,
) -> Option<Vec<String>> {
    let Some(p) = parse_sio(packet) else {
        ignore(
            hub,
            conn_id,
            &format!("malformed Socket.IO packet {packet:.64}"),
        );
        return None;
    };
    match (p.kind, p.nsp) {
        (0, "/") => Some(vec![format!("40{}", json!({"sid": hex32()}))]),
        (0, NAMESPACE) => {
            *ns_connected = true;
            Some(vec![format!("40{NAMESPACE},{}", json!({"sid": hex32()}))])
        }
        (0, other) => Some(vec![format!(
            "44{other},{}",
            json!({"message": "Invalid namespace"})
        )]),
        (1, NAMESPACE) => {
            *ns_connected = false;
            let mut st = hub.lock();
            if let Some(pid) = st.conns.get_mut(&conn_id).and_then(|c| c.plugin.take())
                && let Some(pl) = st.plugins.get_mut(&pid)
                && pl.conn == Some(conn_id)
            {
                pl.conn = None;
            }
            None
        }
        (2, NAMESPACE) if *ns_connected => {
            let args: Value = match serde_json::from_str(p.data) {
                Ok(Value::Array(a)) if a.first().is_some_and(Value::is_string) => Value::Array(a),
                _ => {
                    ignore(hub, conn_id, &format!("malformed event {:.64}", p.data));
                    return None;
                }
            };
            let mut out = Vec::new();
            if let Some(ack) = p.ack {
                out.push(format!("43{NAMESPACE},{ack}[]"));
            }
            let name = args[0].as_str().unwrap_or_default();
            let payload = args.get(1).cloned().unwrap_or(Value::Null);
            if let Some(kick) = on_event(hub, conn_id, name, &payload) {
                *ns_connected = false;
                out.push(kick);
            }
            Some(out)
        }
        (3, NAMESPACE) if *ns_connected => {
            let mut st = hub.lock();
            let session = p
                .ack
                .and_then(|a| st.conns.get_mut(&conn_id).and_then(|c| c.acks.remove(&a)));
            if let Some(s) = session.and_then(|s| st.session_mut(&s)) {
                s.acked = true;
            }
            None
        }
        _ => {
            ignore(hub, conn_id, &format!("packet {packet:.64}"));
            None
        }
    }
}

/// Handles an event on `/plugin`; returns a kick frame when the connection
/// must leave the namespace.
fn on_event(hub: &Arc<Hub>, conn_id: u64, name: &str, payload: &Value) -> Option<String> {
    let authed = hub
        .lock()
        .conns
        .get(&conn_id)
        .and_then(|c| c.plugin.clone());
    match name {
        "heartbeat" => {
            let id = payload.get("id").and_then(Value::as_str).unwrap_or("");
            let secret = payload.get("secret").and_then(Value::as_str).unwrap_or("");
            if id.is_empty() {
                ignore(hub, conn_id, "heartbeat without an id");
                return None;
            }
            let mut st = hub.lock();
            let entry = st.plugins.entry(id.to_string()).or_insert(PluginEntry {
                secret: secret.to_string(),
                rest_url: None,
                conn: None,
                last_heartbeat: None,
            });
            if !same_secret(&entry.secret, secret) {
                if entry.conn == Some(conn_id) {
                    entry.conn = None;
                }
                st.note(format!(
                    "connection {conn_id}: wrong secret for plugin {id}, kicked"
                ));
                if let Some(c) = st.conns.get_mut(&conn_id) {
                    c.plugin = None;
                }
                return Some(format!("41{NAMESPACE},"));
            }
            entry.conn = Some(conn_id);
            entry.last_heartbeat = Some(now_ms());
            if let Some(c) = st.conns.get_mut(&conn_id) {
                c.plugin = Some(id.to_string());
            }
            drop(st);
            hub.dispatch_pending(id);
            hub.changed.notify_all();
            None
        }
        "response" | "log" if authed.is_none() => {
            ignore(hub, conn_id, &format!("'{name}' before a valid heartbeat"));
            None
        }
        "response" => {
            let session = payload.get("session").and_then(Value::as_str).unwrap_or("");
            if !hub.record_response(session, payload, authed.as_deref()) {
                ignore(
                    hub,
                    conn_id,
                    &format!("response for unknown session '{session:.64}'"),
                );
            }
            None
        }
        "log" => {
            hub.record_log(payload, authed.as_deref());
            None
        }
        other => {
            ignore(hub, conn_id, &format!("unknown event '{other:.64}'"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_socket_io_packets() {
        assert_eq!(
            parse_sio("2/plugin,12[\"a\"]"),
            Some(SioPacket {
                kind: 2,
                nsp: "/plugin",
                ack: Some(12),
                data: "[\"a\"]"
            })
        );
        assert_eq!(
            parse_sio("0/plugin,{}"),
            Some(SioPacket {
                kind: 0,
                nsp: "/plugin",
                ack: None,
                data: "{}"
            })
        );
        assert_eq!(
            parse_sio("1/plugin"),
            Some(SioPacket {
                kind: 1,
                nsp: "/plugin",
                ack: None,
                data: ""
            })
        );
        assert_eq!(parse_sio("0").map(|p| p.nsp), Some("/"));
        assert_eq!(parse_sio("9/plugin,"), None);
        assert_eq!(parse_sio(""), None);
        assert_eq!(parse_sio("2/plugin,99999999999999999999999[]"), None);
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
