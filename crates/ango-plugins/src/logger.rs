//! [`PluginLogger`]: log records that reach the Hub's "Plugin Sessions" dialog.
//!
//! A record is `{<user fields>..., "level", "organization", "pluginId", "runBy",
//! "session", "msg"}` (the fixed fields override same-named user keys, in place, as a
//! Python dict update does). It is sent as a `log` event (Socket.IO connector) or
//! `POST /v2/pluginLog` with the request's API key (REST connector), but only when its
//! level passes the configured `LOGLEVEL` (the official runtime sends DEBUG regardless),
//! and it is echoed on stderr as `LEVEL:plugin:message`. Sending never fails the caller.

use std::fmt;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value};

use crate::config::LogLevel;
use crate::outbox::Outbox;
use crate::runtime::ClientCache;

/// A record waiting for the log thread: logger, level, message, fields.
type Queued = (PluginLogger, String, String, Map<String, Value>);

/// Where records go besides the local echo.
#[derive(Clone)]
pub(crate) enum Sink {
    /// `log` events through the Socket.IO connection.
    Ws(Outbox),
    /// `POST /v2/pluginLog` with the request's API key.
    Rest {
        clients: ClientCache,
        api_key: Arc<str>,
    },
    /// Nowhere: local echo only.
    Local,
}

struct Inner {
    plugin_id: String,
    org_id: String,
    run_by: String,
    session: String,
    level: LogLevel,
    echo: bool,
    sink: Sink,
}

/// The per-request logger handed to the callback. Cheap to clone, `Send + Sync`;
/// `Debug` never shows the API key.
#[derive(Clone)]
pub struct PluginLogger {
    inner: Arc<Inner>,
}

impl fmt::Debug for PluginLogger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sink = match &self.inner.sink {
            Sink::Ws(_) => "WS",
            Sink::Rest { .. } => "REST",
            Sink::Local => "local",
        };
        f.debug_struct("PluginLogger")
            .field("plugin_id", &self.inner.plugin_id)
            .field("org_id", &self.inner.org_id)
            .field("run_by", &self.inner.run_by)
            .field("session", &self.inner.session)
            .field("level", &self.inner.level)
            .field("sink", &sink)
            .finish()
    }
}

impl PluginLogger {
    pub(crate) fn new(
        plugin_id: &str,
        data: &Map<String, Value>,
        level: LogLevel,
        echo: bool,
        sink: Sink,
    ) -> PluginLogger {
        let text = |key: &str| -> String {
            match data.get(key) {
                Some(Value::String(s)) => s.clone(),
                None | Some(Value::Null) => String::new(),
                Some(other) => other.to_string(),
            }
        };
        PluginLogger {
            inner: Arc::new(Inner {
                plugin_id: plugin_id.to_string(),
                org_id: text("orgId"),
                run_by: text("runBy"),
                session: text("session"),
                level,
                echo,
                sink,
            }),
        }
    }

    /// A logger that only echoes locally (no Hub connection): for tests and for code
    /// that builds a logger outside a plugin run.
    pub fn detached(
        plugin_id: &str,
        org_id: &str,
        run_by: &str,
        session: &str,
        level: LogLevel,
    ) -> PluginLogger {
        let mut data = Map::new();
        data.insert("orgId".into(), Value::from(org_id));
        data.insert("runBy".into(), Value::from(run_by));
        data.insert("session".into(), Value::from(session));
        PluginLogger::new(plugin_id, &data, level, true, Sink::Local)
    }

    /// A logger sending each record as the REST connector's loggers do
    /// (`POST {api_host}/v2/pluginLog` with `api_key`), for bindings whose users build a
    /// `PluginLogger` themselves. Every HTTP call is bounded by `timeout`.
    #[allow(clippy::too_many_arguments)]
    pub fn rest(
        plugin_id: &str,
        org_id: &str,
        run_by: &str,
        session: &str,
        api_key: &str,
        api_host: &str,
        level: LogLevel,
        timeout: std::time::Duration,
    ) -> PluginLogger {
        let mut data = Map::new();
        data.insert("orgId".into(), Value::from(org_id));
        data.insert("runBy".into(), Value::from(run_by));
        data.insert("session".into(), Value::from(session));
        let sink = Sink::Rest {
            clients: ClientCache::new(api_host, timeout),
            api_key: Arc::from(api_key),
        };
        PluginLogger::new(plugin_id, &data, level, true, sink)
    }

    /// The plugin id records carry.
    pub fn plugin_id(&self) -> &str {
        &self.inner.plugin_id
    }

    /// The session records carry.
    pub fn session(&self) -> &str {
        &self.inner.session
    }

    /// The configured level (`LOGLEVEL`).
    pub fn level(&self) -> LogLevel {
        self.inner.level
    }

    /// Whether a record at `level` is sent and echoed.
    pub fn enabled(&self, level: LogLevel) -> bool {
        level >= self.inner.level
    }

    /// Sends one record (WS: `log` event; REST: POST /v2/pluginLog) if `level` passes the
    /// configured LOGLEVEL, and echoes it locally (stderr). `fields` are the user's extra
    /// keys; the fixed fields (level, organization, pluginId, runBy, session, msg) are
    /// added by the runtime and override same-named keys.
    pub fn log(&self, level: LogLevel, message: &str, fields: Map<String, Value>) {
        self.log_number(level.as_number(), message, fields);
    }

    /// The number of a level given as a binding may give it: one of the five names
    /// (any case), a number, or Python's `"Level N"`.
    pub fn level_number(level: &str) -> Option<i64> {
        let trimmed = level.trim();
        trimmed
            .strip_prefix("Level ")
            .and_then(|n| n.trim().parse::<i64>().ok())
            .or_else(|| trimmed.parse::<LogLevel>().ok().map(LogLevel::as_number))
            .or_else(|| trimmed.parse::<i64>().ok())
    }

    /// Whether a record at `level` (as [`PluginLogger::level_number`] reads it) is sent;
    /// an unknown name counts as INFO.
    pub fn enabled_name(&self, level: &str) -> bool {
        let number = PluginLogger::level_number(level).unwrap_or(LogLevel::Info.as_number());
        number >= self.inner.level.as_number()
    }

    /// Where this logger's records go: `Some(connector)` during a plugin run, `None` for
    /// a detached logger.
    pub fn connector(&self) -> Option<crate::config::Connector> {
        match self.inner.sink {
            Sink::Ws(_) => Some(crate::config::Connector::WebSocket),
            Sink::Rest { .. } => Some(crate::config::Connector::Rest),
            Sink::Local => None,
        }
    }

    /// [`PluginLogger::log`] for a level given by name: one of the five names, or
    /// Python's `"Level N"` for a custom level N (gated by its number).
    pub fn log_level_name(&self, level_name: &str, message: &str, fields: Map<String, Value>) {
        match PluginLogger::level_number(level_name) {
            Some(n) => self.log_number(n, message, fields),
            // An unknown name is kept as it is and treated as INFO for gating.
            None => self.emit(
                level_name,
                LogLevel::Info.as_number(),
                message,
                fields,
                self.inner.echo,
            ),
        }
    }

    /// [`PluginLogger::log_level_name`] without waiting: the record is handed to one
    /// background thread that sends every queued record in order (for a caller on an
    /// event loop, which must not wait for a REST-mode `POST /v2/pluginLog`).
    /// `fields_json` is the JSON text of the extra keys; anything but an object is
    /// ignored. Never fails.
    pub fn log_queued(&self, level: &str, message: &str, fields_json: Option<&str>) {
        let fields = match fields_json.map(serde_json::from_str::<Value>) {
            Some(Ok(Value::Object(map))) => map,
            _ => Map::new(),
        };
        let call = (self.clone(), level.to_string(), message.to_string(), fields);
        static QUEUE: OnceLock<Option<Mutex<Sender<Queued>>>> = OnceLock::new();
        let queue = QUEUE.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Queued>();
            std::thread::Builder::new()
                .name("ango-plugin-log".into())
                .spawn(move || {
                    for (logger, level, message, fields) in rx {
                        logger.log_level_name(&level, &message, fields);
                    }
                })
                .ok()
                .map(|_| Mutex::new(tx))
        });
        let unsent = match queue {
            Some(tx) => tx
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .send(call)
                .err()
                .map(|e| e.0),
            None => Some(call),
        };
        // No background thread: send here rather than lose the record.
        if let Some((logger, level, message, fields)) = unsent {
            logger.log_level_name(&level, &message, fields);
        }
    }

    /// [`PluginLogger::log`] for a numeric level (Python's `logger.log(15, ...)`).
    pub fn log_number(&self, level: i64, message: &str, fields: Map<String, Value>) {
        let name = LogLevel::name_of_number(level);
        self.emit(&name, level, message, fields, self.inner.echo);
    }

    /// Like [`PluginLogger::log_number`], but never echoes locally: for a binding whose
    /// own logger already printed the record (Python's `PluginLogger` is a
    /// `logging.Logger` with its own handler), so the runtime's messages can still be
    /// echoed without printing the user's lines twice.
    pub fn send_number(&self, level: i64, message: &str, fields: Map<String, Value>) {
        let name = LogLevel::name_of_number(level);
        self.emit(&name, level, message, fields, false);
    }

    /// The record that would be sent for these arguments.
    pub fn record(&self, level_name: &str, message: &str, mut fields: Map<String, Value>) -> Value {
        let inner = &self.inner;
        fields.insert("level".into(), Value::from(level_name));
        fields.insert("organization".into(), Value::from(inner.org_id.as_str()));
        fields.insert("pluginId".into(), Value::from(inner.plugin_id.as_str()));
        fields.insert("runBy".into(), Value::from(inner.run_by.as_str()));
        fields.insert("session".into(), Value::from(inner.session.as_str()));
        fields.insert("msg".into(), Value::from(message));
        Value::Object(fields)
    }

    fn emit(
        &self,
        level_name: &str,
        number: i64,
        message: &str,
        fields: Map<String, Value>,
        echo: bool,
    ) {
        if number < self.inner.level.as_number() {
            return;
        }
        if echo {
            eprintln!("{level_name}:plugin:{message}");
        }
        let record = self.record(level_name, message, fields);
        match &self.inner.sink {
            Sink::Ws(outbox) => outbox.emit("log", &record),
            Sink::Rest { clients, api_key } => {
                if api_key.is_empty() {
                    return;
                }
                let sent = clients
                    .get(api_key)
                    .and_then(|client| client.plugin_log(&record));
                if let Err(error) = sent {
                    eprintln!("WARNING:plugin:could not send a log record to the Hub: {error}");
                }
            }
            Sink::Local => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fixed_fields_override_user_keys_in_place() {
        let logger = PluginLogger::detached("PID", "o1", "u1", "s0", LogLevel::Info);
        let mut fields = Map::new();
        fields.insert("session".into(), json!("mine"));
        fields.insert("foo".into(), json!("bar"));
        let record = logger.record("WARNING", "warn with kw", fields);
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"{"session":"s0","foo":"bar","level":"WARNING","organization":"o1","pluginId":"PID","runBy":"u1","msg":"warn with kw"}"#
        );
        assert!(logger.enabled(LogLevel::Info));
        assert!(!logger.enabled(LogLevel::Debug));
        assert!(logger.enabled_name("warning") && logger.enabled_name("Level 25"));
        assert!(!logger.enabled_name("DEBUG") && !logger.enabled_name("15"));
        assert!(
            logger.enabled_name("custom"),
            "an unknown name counts as INFO"
        );
        assert_eq!(logger.connector(), None);
    }

    #[test]
    fn level_names_numbers_and_python_level_texts() {
        assert_eq!(PluginLogger::level_number("critical"), Some(50));
        assert_eq!(PluginLogger::level_number("Level 15"), Some(15));
        assert_eq!(PluginLogger::level_number("35"), Some(35));
        assert_eq!(PluginLogger::level_number("LOUD"), None);
        // Queued records of a detached logger: never fail, whatever the fields.
        let logger = PluginLogger::detached("PID", "o", "u", "s", LogLevel::Critical);
        logger.log_queued("ERROR", "below the level", Some("not json"));
        logger.log_queued("Level 60", "kept", Some("[1]"));
    }
}
