//! One JSON control surface over a running [`Emulator`], for the language bindings.
//!
//! [`METHODS`] describes every control method (names in Python and Node, parameters
//! with their JSON defaults, documentation, result types) and [`call`] runs one by name
//! with a JSON object of arguments. The Python `LocalHub` and the Node emulator handle
//! attach their methods and properties from this table (`methods_json`), so arguments,
//! defaults, checks and errors live here once.
//!
//! ```no_run
//! use ango_emulator::{Emulator, EmulatorConfig, control};
//! use serde_json::json;
//!
//! let emu = Emulator::start(EmulatorConfig::default())?;
//! let id = control::call(&emu, "seed_project", json!({"name": "demo", "n_tasks": 3}))?;
//! let sessions = control::call(&emu, "plugin_sessions", json!({"plugin_id": "p"}))?;
//! # let _ = (id, sessions);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::{Emulator, HubError, MAX_PLUGIN_WAIT_SECS, plugin_wait};

/// How a parameter's JSON value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A string.
    Text,
    /// A string or `null`.
    OptText,
    /// Any JSON value, passed as it is.
    Json,
    /// A non-negative integer.
    Count,
    /// A boolean.
    Bool,
    /// A wait in seconds (`0..=3600`) under [`ParamSpec::name`]; in milliseconds under
    /// [`ParamSpec::node_name`].
    Seconds,
}

/// One parameter of a control method.
#[derive(Debug)]
pub struct ParamSpec {
    /// Python name, snake_case (a key of [`call`]'s arguments).
    pub name: &'static str,
    /// Node name, camelCase (also accepted as a key; for [`ParamKind::Seconds`] the
    /// value under this key is in milliseconds).
    pub node_name: &'static str,
    /// How the value is read and checked.
    pub kind: ParamKind,
    /// TypeScript type of the Node value.
    pub ty: &'static str,
    /// Python annotation.
    pub py_ty: &'static str,
    /// JSON literal of the default (seconds for a wait); `None` = required.
    pub default: Option<&'static str>,
    /// Python: keyword-only.
    pub keyword_only: bool,
    /// Node: a positional argument (the others go in the trailing options object).
    pub node_positional: bool,
    /// What it is.
    pub doc: &'static str,
}

/// How the bindings expose a control method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A read-only property (no arguments; answers at once).
    Property,
    /// A method answering at once (Node: synchronous).
    Sync,
    /// A method that may wait (Node: a Promise run off the event loop; Python: without
    /// the GIL, like every call).
    Blocking,
}

/// One control method.
#[derive(Debug)]
pub struct MethodSpec {
    /// Python name, snake_case (the name [`call`] takes).
    pub name: &'static str,
    /// Node name, camelCase.
    pub node_name: &'static str,
    /// What it does, its result and errors.
    pub doc: &'static str,
    /// Its parameters, in order.
    pub params: &'static [ParamSpec],
    /// How the bindings expose it.
    pub style: Style,
    /// TypeScript type of the result (types declared by the Node package).
    pub returns: &'static str,
    /// Python annotation of the result; `"None"`: the Python method drops the result.
    pub py_returns: &'static str,
}

/// What went wrong in a control call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A bad argument, unknown method, or input the hub refused (400, 409).
    InvalidArgument,
    /// An unknown plugin (404).
    NotFound,
    /// A wait ran out.
    Timeout,
    /// The emulator is stopped (or was stopped during the wait).
    Stopped,
    /// Any other hub failure.
    Failed,
}

/// The error of [`call`].
#[derive(Debug, Clone, PartialEq)]
pub struct ControlError {
    /// Its kind (the bindings pick their exception or error code from it).
    pub kind: ErrorKind,
    /// The hub's HTTP status, for a hub error.
    pub status: Option<u16>,
    /// What went wrong.
    pub message: String,
}

impl ControlError {
    fn new(kind: ErrorKind, message: impl Into<String>) -> ControlError {
        ControlError {
            kind,
            status: None,
            message: message.into(),
        }
    }

    /// The Node `AngoError` code: `INVALID_ARGUMENT` (also for a stopped emulator),
    /// `NOT_FOUND`, `TIMEOUT` or `HTTP`.
    pub fn code(&self) -> &'static str {
        match self.kind {
            ErrorKind::InvalidArgument | ErrorKind::Stopped => "INVALID_ARGUMENT",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::Timeout => "TIMEOUT",
            ErrorKind::Failed => "HTTP",
        }
    }
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ControlError {}

impl From<HubError> for ControlError {
    fn from(error: HubError) -> ControlError {
        let kind = match error.status {
            404 => ErrorKind::NotFound,
            400 | 409 => ErrorKind::InvalidArgument,
            _ => ErrorKind::Failed,
        };
        ControlError {
            kind,
            status: Some(error.status),
            message: error.message,
        }
    }
}

const fn param(
    name: &'static str,
    node_name: &'static str,
    kind: ParamKind,
    doc: &'static str,
) -> ParamSpec {
    let (ty, py_ty) = match kind {
        ParamKind::Text => ("string", "str"),
        ParamKind::OptText => ("string | null", "Optional[str]"),
        ParamKind::Json => ("Record<string, any> | null", "Optional[Dict[str, Any]]"),
        ParamKind::Count => ("number", "int"),
        ParamKind::Bool => ("boolean", "bool"),
        ParamKind::Seconds => ("number", "float"),
    };
    ParamSpec {
        name,
        node_name,
        kind,
        ty,
        py_ty,
        default: None,
        keyword_only: false,
        node_positional: true,
        doc,
    }
}

impl ParamSpec {
    /// With a default (a JSON literal): in Node's options object unless `positional`.
    const fn or(mut self, default: &'static str, positional: bool) -> ParamSpec {
        self.default = Some(default);
        self.node_positional = positional;
        self
    }

    const fn keyword_only(mut self) -> ParamSpec {
        self.keyword_only = true;
        self
    }
}

const fn method(
    name: &'static str,
    node_name: &'static str,
    style: Style,
    params: &'static [ParamSpec],
    returns: &'static str,
    py_returns: &'static str,
    doc: &'static str,
) -> MethodSpec {
    MethodSpec {
        name,
        node_name,
        doc,
        params,
        style,
        returns,
        py_returns,
    }
}

const PLUGIN_ID: ParamSpec = param("plugin_id", "id", ParamKind::Text, "The plugin id.");

/// Every control method.
pub static METHODS: &[MethodSpec] = &[
    method(
        "url",
        "url",
        Style::Property,
        &[],
        "string",
        "str",
        "Base URL, `http://127.0.0.1:PORT`: pass it as the client's host.",
    ),
    method(
        "api_key",
        "apiKey",
        Style::Property,
        &[],
        "string",
        "str",
        "The API key the emulator accepts.",
    ),
    method(
        "organization_id",
        "organizationId",
        Style::Property,
        &[],
        "string",
        "str",
        "The emulated organization's id.",
    ),
    method(
        "admin_email",
        "adminEmail",
        Style::Property,
        &[],
        "string",
        "str",
        "The email of the API key's user (an organization admin).",
    ),
    method(
        "request_count",
        "requestCount",
        Style::Property,
        &[],
        "number",
        "int",
        "Number of requests the emulator has received so far.",
    ),
    method(
        "running",
        "running",
        Style::Property,
        &[],
        "boolean",
        "bool",
        "Whether the emulator is serving (false once stopped).",
    ),
    method(
        "seed_project",
        "seedProject",
        Style::Sync,
        &[
            param("name", "name", ParamKind::Text, "The project name."),
            param(
                "n_tasks",
                "tasks",
                ParamKind::Count,
                "Number of tasks (and assets).",
            )
            .or("10", true),
            param(
                "objects_per_task",
                "objectsPerTask",
                ParamKind::Count,
                "Bounding boxes annotated on every task.",
            )
            .or("0", false),
            param(
                "completed",
                "completed",
                ParamKind::Bool,
                "Move every task to the Complete stage.",
            )
            .or("false", false),
        ],
        "string",
        "str",
        "Creates a project with a demo ontology and `n_tasks` tasks in the Label stage; \
         returns its id.",
    ),
    method(
        "run_plugin",
        "runPlugin",
        Style::Blocking,
        &[
            PLUGIN_ID,
            param(
                "data",
                "data",
                ParamKind::Json,
                "The data sent to the plugin (a missing `session`, `apiKey`, `orgId`, `runBy`, \
                 `configJSON` is filled in).",
            )
            .or("null", true),
            param(
                "wait",
                "waitMs",
                ParamKind::Seconds,
                "How long to wait for the session to end (Python: seconds, Node `waitMs`: \
                 milliseconds; at most one hour); past it the session is marked `timeout`. \
                 `0` returns at once with the session `pending`.",
            )
            .or("30", false)
            .keyword_only(),
        ],
        "PluginSession",
        "Dict[str, Any]",
        "Runs a plugin through the hub (as `POST /__emulator/plugins/{id}/run`), connected over \
         Socket.IO or registered with a REST URL, and returns the session (`status`, `response`, \
         `error`, `logs`, `data`...) once it ends or the wait runs out. Errors: unknown plugin \
         (not found, 404), data that is not an object (400) or a `session` id already used (409), \
         the emulator stopped during the wait.",
    ),
    method(
        "plugin_sessions",
        "pluginSessions",
        Style::Blocking,
        &[PLUGIN_ID],
        "PluginSession[]",
        "List[Dict[str, Any]]",
        "The sessions of a plugin (oldest first), with their responses and logs.",
    ),
    method(
        "plugin_session",
        "pluginSession",
        Style::Blocking,
        &[param(
            "session_id",
            "sessionId",
            ParamKind::Text,
            "The session id.",
        )],
        "PluginSession | null",
        "Optional[Dict[str, Any]]",
        "One session by its id (of any plugin), or null.",
    ),
    method(
        "register_plugin",
        "registerPlugin",
        Style::Blocking,
        &[
            PLUGIN_ID,
            param("secret", "secret", ParamKind::Text, "The plugin's secret."),
            param(
                "rest_url",
                "restUrl",
                ParamKind::OptText,
                "The base URL of a plugin served with the REST connector: the hub then calls \
                 `POST {rest_url}/plugin` with the `Secret` header.",
            )
            .or("null", false),
        ],
        "HubPlugin",
        "Dict[str, Any]",
        "Registers (or updates) a plugin. A Socket.IO plugin needs no registration (its first \
         heartbeat registers it with its secret). Returns the plugin as `plugins` lists it; \
         a bad id or URL is refused (400).",
    ),
    method(
        "plugins",
        "plugins",
        Style::Blocking,
        &[],
        "HubPlugin[]",
        "List[Dict[str, Any]]",
        "The plugins the hub knows: `id`, `connected`, `restUrl`, `lastHeartbeat`.",
    ),
    method(
        "wait_for_plugin",
        "waitForPlugin",
        Style::Blocking,
        &[
            PLUGIN_ID,
            param(
                "timeout",
                "timeoutMs",
                ParamKind::Seconds,
                "How long to wait (Python: seconds, Node `timeoutMs`: milliseconds).",
            )
            .or("10", false),
        ],
        "HubPlugin",
        "None",
        "Waits until the plugin is connected over Socket.IO (its first heartbeat registers it), \
         so that `run_plugin` reaches it; returns it. A timeout error when the time runs out; \
         ends at once, with an error, when the emulator is stopped.",
    ),
];

/// The table as JSON: `[{name, node_name, doc, style, returns, py_returns, params:
/// [{name, node_name, kind, ty, py_ty, default, keyword_only, node_positional, doc}]}]`.
pub fn methods_json() -> Value {
    Value::Array(
        METHODS
            .iter()
            .map(|m| {
                let params: Vec<Value> = m
                    .params
                    .iter()
                    .map(|p| {
                        json!({
                            "name": p.name, "node_name": p.node_name,
                            "kind": format!("{:?}", p.kind).to_lowercase(),
                            "ty": p.ty, "py_ty": p.py_ty, "default": p.default,
                            "keyword_only": p.keyword_only,
                            "node_positional": p.node_positional, "doc": p.doc,
                        })
                    })
                    .collect();
                json!({
                    "name": m.name, "node_name": m.node_name, "doc": m.doc,
                    "style": format!("{:?}", m.style).to_lowercase(),
                    "returns": m.returns, "py_returns": m.py_returns, "params": params,
                })
            })
            .collect(),
    )
}

/// The method named `name` (Python or Node name).
pub fn method_spec(name: &str) -> Option<&'static MethodSpec> {
    METHODS
        .iter()
        .find(|m| m.name == name || m.node_name == name)
}

/// Runs control method `name` (Python or Node name) on `emulator` with `args`, a JSON
/// object keyed by parameter names (Python or Node; `null` = no arguments). Missing
/// arguments take the table's default; unknown ones, values of the wrong type, an
/// unknown method and a stopped emulator are errors. Blocks for `Blocking` methods.
pub fn call(emulator: &Emulator, name: &str, args: Value) -> Result<Value, ControlError> {
    let spec = method_spec(name).ok_or_else(|| {
        ControlError::new(
            ErrorKind::InvalidArgument,
            format!("unknown emulator method {name:?}"),
        )
    })?;
    let args = Args::read(spec, args)?;
    if spec.style != Style::Property && emulator.is_stopped() {
        return Err(ControlError::new(
            ErrorKind::Stopped,
            "the emulator is stopped",
        ));
    }
    let emu = emulator;
    Ok(match spec.name {
        "url" => json!(emu.url()),
        "api_key" => json!(emu.api_key()),
        "organization_id" => json!(emu.organization_id()),
        "admin_email" => json!(emu.admin_email()),
        "request_count" => json!(emu.request_count()),
        "running" => json!(!emu.is_stopped()),
        "seed_project" => json!(emu.seed_project_with(
            args.text(0)?,
            args.count(1)?,
            args.count(2)?,
            args.flag(3)?,
        )),
        "run_plugin" => {
            let session = emu.run_plugin(args.text(0)?, args.json(1), args.wait(2)?)?;
            if emu.is_stopped() && session["status"] == "pending" {
                return Err(stopped_during_wait());
            }
            session
        }
        "plugin_sessions" => take(emu.plugin_sessions(args.text(0)?), "sessions"),
        "plugin_session" => emu.plugin_session(args.text(0)?).unwrap_or(Value::Null),
        "register_plugin" => {
            emu.register_plugin(args.text(0)?, args.text(1)?, args.opt_text(2)?)?
        }
        "plugins" => take(emu.plugins(), "plugins"),
        "wait_for_plugin" => {
            let (id, timeout) = (args.text(0)?, args.wait(1)?);
            match emu.wait_for_plugin(id, timeout) {
                Some(plugin) => plugin,
                None if emu.is_stopped() => return Err(stopped_during_wait()),
                None => {
                    return Err(ControlError::new(
                        ErrorKind::Timeout,
                        format!(
                            "plugin {id:?} did not connect to the emulator within {} s",
                            timeout.as_secs_f64()
                        ),
                    ));
                }
            }
        }
        other => unreachable!("control method {other} has no implementation"),
    })
}

fn stopped_during_wait() -> ControlError {
    ControlError::new(ErrorKind::Stopped, "the emulator was stopped")
}

/// `answer[key]` (a list), `[]` when absent.
fn take(mut answer: Value, key: &str) -> Value {
    answer
        .get_mut(key)
        .map(Value::take)
        .unwrap_or_else(|| json!([]))
}

/// A method's arguments, one slot per parameter (the given value under the key used,
/// or the default).
struct Args {
    method: &'static MethodSpec,
    values: Vec<(Value, &'static str)>,
}

impl Args {
    fn read(method: &'static MethodSpec, args: Value) -> Result<Args, ControlError> {
        let mut given = match args {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                return Err(ControlError::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "{}: the arguments must be an object, got {other}",
                        method.name
                    ),
                ));
            }
        };
        let mut values = Vec::with_capacity(method.params.len());
        for p in method.params {
            let value = match (given.remove(p.name), given.remove(p.node_name)) {
                (Some(_), Some(_)) if p.name != p.node_name => {
                    return Err(ControlError::new(
                        ErrorKind::InvalidArgument,
                        format!("{}: both {} and {} given", method.name, p.name, p.node_name),
                    ));
                }
                (Some(v), _) => (v, p.name),
                (None, Some(v)) => (v, p.node_name),
                (None, None) => match p.default {
                    // Table literals: parsing cannot fail (checked by the tests).
                    Some(text) => (serde_json::from_str(text).unwrap_or(Value::Null), p.name),
                    None => {
                        return Err(ControlError::new(
                            ErrorKind::InvalidArgument,
                            format!("{}: missing argument {}", method.name, p.name),
                        ));
                    }
                },
            };
            values.push(value);
        }
        if let Some(key) = given.keys().next() {
            return Err(ControlError::new(
                ErrorKind::InvalidArgument,
                format!("{}: unknown argument {key:?}", method.name),
            ));
        }
        Ok(Args { method, values })
    }

    fn bad(&self, i: usize, what: &str) -> ControlError {
        let (value, key) = &self.values[i];
        ControlError::new(
            ErrorKind::InvalidArgument,
            format!("{}: {key} must be {what}, got {value}", self.method.name),
        )
    }

    fn text(&self, i: usize) -> Result<&str, ControlError> {
        self.values[i]
            .0
            .as_str()
            .ok_or_else(|| self.bad(i, "a string"))
    }

    fn opt_text(&self, i: usize) -> Result<Option<&str>, ControlError> {
        match &self.values[i].0 {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    fn count(&self, i: usize) -> Result<usize, ControlError> {
        self.values[i]
            .0
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| self.bad(i, "a non-negative integer"))
    }

    fn flag(&self, i: usize) -> Result<bool, ControlError> {
        self.values[i]
            .0
            .as_bool()
            .ok_or_else(|| self.bad(i, "a boolean"))
    }

    fn json(&self, i: usize) -> Value {
        self.values[i].0.clone()
    }

    /// A wait: seconds under the Python name, milliseconds under the Node name.
    fn wait(&self, i: usize) -> Result<Duration, ControlError> {
        let (value, key) = &self.values[i];
        let millis = *key == self.method.params[i].node_name;
        let number = value.as_f64().unwrap_or(f64::NAN);
        let seconds = if millis { number / 1000.0 } else { number };
        plugin_wait(key, seconds).map_err(|e| {
            let message = if millis {
                let max = MAX_PLUGIN_WAIT_SECS * 1000.0;
                format!("{key} must be a number of milliseconds in 0..={max}, got {value}")
            } else if value.is_number() {
                e.to_string()
            } else {
                format!(
                    "{key} must be a number of seconds in 0..={MAX_PLUGIN_WAIT_SECS}, got {value}"
                )
            };
            ControlError::new(ErrorKind::InvalidArgument, message)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EmulatorConfig;

    fn emulator() -> Emulator {
        Emulator::start(EmulatorConfig::default().workers(1)).expect("start")
    }

    #[test]
    fn table_is_consistent() {
        let (mut names, mut node_names) = (Vec::new(), Vec::new());
        for m in METHODS {
            assert!(!names.contains(&m.name), "{} twice", m.name);
            assert!(!node_names.contains(&m.node_name), "{} twice", m.node_name);
            names.push(m.name);
            node_names.push(m.node_name);
            assert_eq!(method_spec(m.node_name).map(|s| s.name), Some(m.name));
            assert!(!m.doc.is_empty(), "{} has no doc", m.name);
            if m.style == Style::Property {
                assert!(m.params.is_empty(), "{}", m.name);
            }
            let mut optional = false;
            for p in m.params {
                assert!(!p.doc.is_empty());
                if let Some(d) = p.default {
                    serde_json::from_str::<Value>(d).expect("default is JSON");
                    optional = true;
                } else {
                    assert!(
                        !optional,
                        "{}: required {} after an optional one",
                        m.name, p.name
                    );
                }
            }
        }
        let listed = methods_json();
        assert_eq!(listed.as_array().map(Vec::len), Some(METHODS.len()));
        assert_eq!(listed[7]["name"], "run_plugin");
        assert_eq!(listed[7]["params"][2]["node_name"], "waitMs");
        assert_eq!(listed[7]["params"][2]["default"], "30");
        assert_eq!(listed[7]["style"], "blocking");
    }

    #[test]
    fn every_method_is_reachable() {
        let emu = emulator();
        let key = emu.api_key().to_string();
        let rest = json!({"id": "rest", "secret": "s", "rest_url": "http://127.0.0.1:9"});
        call(&emu, "register_plugin", rest).unwrap();
        for m in METHODS {
            let args = match m.name {
                "seed_project" => json!({"name": "p", "n_tasks": 2}),
                "run_plugin" => json!({"plugin_id": "rest", "wait": 0}),
                "plugin_sessions" => json!({"id": "rest"}),
                "plugin_session" => json!({"sessionId": "none"}),
                "register_plugin" => {
                    json!({"plugin_id": "rest", "secret": "s", "restUrl": "http://127.0.0.1:9"})
                }
                "wait_for_plugin" => json!({"plugin_id": "ws", "timeoutMs": 0}),
                _ => json!({}),
            };
            let answer = call(&emu, m.node_name, args);
            match m.name {
                "url" => assert_eq!(answer.unwrap(), json!(emu.url())),
                "api_key" => assert_eq!(answer.unwrap(), json!(key)),
                "running" => assert_eq!(answer.unwrap(), json!(true)),
                "request_count" => assert!(answer.unwrap().is_u64()),
                "seed_project" => assert!(answer.unwrap().as_str().is_some_and(|s| !s.is_empty())),
                "register_plugin" => assert_eq!(answer.unwrap()["id"], "rest"),
                "plugins" => assert_eq!(answer.unwrap()[0]["id"], "rest"),
                "plugin_sessions" => assert_eq!(answer.unwrap()[0]["pluginId"], "rest"),
                "plugin_session" => assert_eq!(answer.unwrap(), Value::Null),
                "wait_for_plugin" => assert_eq!(answer.unwrap_err().kind, ErrorKind::Timeout),
                "run_plugin" | "organization_id" | "admin_email" => {
                    assert!(!answer.unwrap().is_null(), "{}", m.name)
                }
                other => panic!("method {other} is not covered by this test"),
            }
        }
        let session = call(&emu, "run_plugin", json!({"plugin_id": "rest", "wait": 0})).unwrap();
        assert_eq!(session["pluginId"], "rest");
    }

    fn tasks_of(emu: &Emulator, id: &Value) -> usize {
        let st = emu.ctx.read();
        st.projects[st.project_pos[id.as_str().unwrap()]]
            .tasks
            .len()
    }

    #[test]
    fn defaults_and_both_names() {
        let emu = emulator();
        let id = call(&emu, "seedProject", json!({"name": "d"})).unwrap();
        assert_eq!(tasks_of(&emu, &id), 10, "the default n_tasks");
        let id = call(&emu, "seed_project", json!({"name": "e", "tasks": 3})).unwrap();
        assert_eq!(tasks_of(&emu, &id), 3);
    }

    #[test]
    fn bad_arguments_are_clear_errors() {
        let emu = emulator();
        let cases = [
            ("nope", json!({}), "unknown emulator method \"nope\""),
            (
                "seed_project",
                json!({}),
                "seed_project: missing argument name",
            ),
            (
                "seed_project",
                json!({"name": 1}),
                "seed_project: name must be a string, got 1",
            ),
            (
                "seed_project",
                json!({"name": "x", "n_tasks": -1}),
                "n_tasks must be a non-negative integer, got -1",
            ),
            (
                "seed_project",
                json!({"name": "x", "completed": "yes"}),
                "completed must be a boolean",
            ),
            (
                "seed_project",
                json!({"name": "x", "bogus": 1}),
                "seed_project: unknown argument \"bogus\"",
            ),
            (
                "seed_project",
                json!([1]),
                "the arguments must be an object",
            ),
            (
                "seed_project",
                json!({"name": "x", "n_tasks": 1, "tasks": 2}),
                "both n_tasks and tasks",
            ),
            (
                "run_plugin",
                json!({"id": "p", "wait": -1}),
                "wait must be a number of seconds in 0..=3600, got -1",
            ),
            (
                "run_plugin",
                json!({"id": "p", "waitMs": 4e6}),
                "waitMs must be a number of milliseconds in 0..=3600000",
            ),
            (
                "wait_for_plugin",
                json!({"id": "p", "timeout": "soon"}),
                "timeout must be a number of seconds",
            ),
            (
                "register_plugin",
                json!({"id": "p", "secret": "s", "rest_url": 3}),
                "rest_url must be a string",
            ),
        ];
        for (name, args, expected) in cases {
            let error = call(&emu, name, args).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidArgument, "{name}: {error}");
            assert!(error.message.contains(expected), "{name}: {error}");
        }
        let error = call(&emu, "run_plugin", json!({"id": "ghost"})).unwrap_err();
        assert_eq!(
            (error.kind, error.status, error.code()),
            (ErrorKind::NotFound, Some(404), "NOT_FOUND")
        );
        let error = call(&emu, "register_plugin", json!({"id": " ", "secret": "s"})).unwrap_err();
        assert_eq!(
            (error.kind, error.status),
            (ErrorKind::InvalidArgument, Some(400))
        );
    }

    #[test]
    fn a_stopped_emulator_refuses_calls_and_ends_waits() {
        let emu = std::sync::Arc::new(emulator());
        call(
            &emu,
            "register_plugin",
            json!({"id": "silent", "secret": "s"}),
        )
        .unwrap();
        let waiter = {
            let emu = emu.clone();
            std::thread::spawn(move || {
                call(
                    &emu,
                    "wait_for_plugin",
                    json!({"id": "never", "timeout": 600}),
                )
            })
        };
        let runner = {
            let emu = emu.clone();
            std::thread::spawn(move || {
                call(&emu, "run_plugin", json!({"id": "silent", "wait": 600}))
            })
        };
        // Let both start waiting (they end with the stop whether or not they have).
        std::thread::sleep(Duration::from_millis(50));
        emu.shutdown();
        for handle in [waiter, runner] {
            let error = handle.join().unwrap().unwrap_err();
            assert_eq!(error.kind, ErrorKind::Stopped, "{error}");
            assert!(error.message.contains("stopped"));
        }
        let error = call(&emu, "plugins", Value::Null).unwrap_err();
        assert_eq!(
            (error.kind, error.message.as_str()),
            (ErrorKind::Stopped, "the emulator is stopped")
        );
        assert_eq!(call(&emu, "running", Value::Null).unwrap(), json!(false));
        assert_eq!(call(&emu, "url", Value::Null).unwrap(), json!(emu.url()));
    }
}
