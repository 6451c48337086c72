//! What a plugin is and how the runtime runs it: [`PluginConfig`] and its enums.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use ango_core::Error;

/// The official default Socket.IO host of `run(plugin, host=...)`.
pub const DEFAULT_HUB_URL: &str = "https://eu-api.ango.ai";
/// The official default REST API host of `ExportPlugin` / `ModelPlugin`.
pub const DEFAULT_API_HOST: &str = "https://imeritapi.ango.ai";
/// The official default REST connector port (`PORT`).
pub const DEFAULT_PORT: u16 = 8080;

/// The six plugin kinds of Ango Hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginKind {
    /// Export plugin: the runtime exports the project, the callback turns rows into a file.
    Export,
    /// Model plugin: pre-labels one task (editor) or tasks reaching a workflow Plugin stage.
    Model,
    /// Batch model plugin: the callback works on a batch through the SDK itself.
    BatchModel,
    /// File explorer plugin: lists or imports files of a storage.
    FileExplorer,
    /// Input plugin.
    Input,
    /// Markdown generator plugin.
    Markdown,
}

impl PluginKind {
    /// The six kinds, in the order the Hub's UI lists them.
    pub const ALL: [PluginKind; 6] = [
        PluginKind::Export,
        PluginKind::Model,
        PluginKind::BatchModel,
        PluginKind::FileExplorer,
        PluginKind::Input,
        PluginKind::Markdown,
    ];

    /// The short camelCase name (`export`, `batchModel`, ...), as the Node API names it;
    /// [`PluginKind::from_str`] reads it back.
    pub fn name(self) -> &'static str {
        match self {
            PluginKind::Export => "export",
            PluginKind::Model => "model",
            PluginKind::BatchModel => "batchModel",
            PluginKind::FileExplorer => "fileExplorer",
            PluginKind::Input => "input",
            PluginKind::Markdown => "markdown",
        }
    }

    /// The official class name (`ExportPlugin`, `ModelPlugin`, ...).
    pub fn class_name(self) -> &'static str {
        match self {
            PluginKind::Export => "ExportPlugin",
            PluginKind::Model => "ModelPlugin",
            PluginKind::BatchModel => "BatchModelPlugin",
            PluginKind::FileExplorer => "FileExplorerPlugin",
            PluginKind::Input => "InputPlugin",
            PluginKind::Markdown => "MarkdownPlugin",
        }
    }
}

impl FromStr for PluginKind {
    type Err = Error;

    /// Accepts `export`, `model`, `batchModel`/`batch_model`/`batch-model`,
    /// `fileExplorer`/..., `input`, `markdown`, or the official class names; any case.
    fn from_str(s: &str) -> Result<Self, Error> {
        let key: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .collect::<String>()
            .to_ascii_lowercase();
        let key = key.strip_suffix("plugin").unwrap_or(&key);
        Ok(match key {
            "export" => PluginKind::Export,
            "model" => PluginKind::Model,
            "batchmodel" => PluginKind::BatchModel,
            "fileexplorer" => PluginKind::FileExplorer,
            "input" => PluginKind::Input,
            "markdown" | "markdowngenerator" => PluginKind::Markdown,
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "unknown plugin kind {s:?} (expected export, model, batchModel, \
                     fileExplorer, input or markdown)"
                )));
            }
        })
    }
}

/// How the plugin reaches Ango Hub (env `CONNECTOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Connector {
    /// `WS` (default): the plugin connects to the Hub over Socket.IO.
    WebSocket,
    /// `REST`: the plugin serves HTTP (`POST /plugin`, `GET /heartbeat`) and the Hub calls it.
    Rest,
}

impl Connector {
    /// `"WS"` or `"REST"`, as the official runtime names them.
    pub fn as_str(self) -> &'static str {
        match self {
            Connector::WebSocket => "WS",
            Connector::Rest => "REST",
        }
    }
}

impl FromStr for Connector {
    type Err = Error;

    /// `WS` or `REST`, any case (the official runtime upper-cases the variable).
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_uppercase().as_str() {
            "WS" => Ok(Connector::WebSocket),
            "REST" => Ok(Connector::Rest),
            _ => Err(Error::InvalidArgument(format!(
                "Expecting CONNECTOR Environment variable to be WS or REST, got {s:?}"
            ))),
        }
    }
}

/// A log level, with Python's `logging` numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// 10.
    Debug,
    /// 20 (the default of `LOGLEVEL`).
    Info,
    /// 30.
    Warning,
    /// 40.
    Error,
    /// 50.
    Critical,
}

impl LogLevel {
    /// Python's number for the level (10, 20, 30, 40, 50).
    pub fn as_number(self) -> i64 {
        match self {
            LogLevel::Debug => 10,
            LogLevel::Info => 20,
            LogLevel::Warning => 30,
            LogLevel::Error => 40,
            LogLevel::Critical => 50,
        }
    }

    /// Python's name for the level (`DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`).
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warning => "WARNING",
            LogLevel::Error => "ERROR",
            LogLevel::Critical => "CRITICAL",
        }
    }

    /// The level with this exact number, if it is one of the five.
    pub fn from_number(number: i64) -> Option<LogLevel> {
        Some(match number {
            10 => LogLevel::Debug,
            20 => LogLevel::Info,
            30 => LogLevel::Warning,
            40 => LogLevel::Error,
            50 => LogLevel::Critical,
            _ => return None,
        })
    }

    /// Python's `logging.getLevelName(number)`: the level's name, or `"Level N"`.
    pub fn name_of_number(number: i64) -> String {
        match LogLevel::from_number(number) {
            Some(level) => level.name().to_string(),
            None => format!("Level {number}"),
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LogLevel {
    type Err = Error;

    /// `DEBUG`, `INFO`, `WARNING` (or `WARN`), `ERROR`, `CRITICAL` (or `FATAL`), any
    /// case, or one of their numbers.
    fn from_str(s: &str) -> Result<Self, Error> {
        let t = s.trim();
        if let Ok(n) = t.parse::<i64>()
            && let Some(level) = LogLevel::from_number(n)
        {
            return Ok(level);
        }
        match t.to_ascii_uppercase().as_str() {
            "DEBUG" => Ok(LogLevel::Debug),
            "INFO" => Ok(LogLevel::Info),
            "WARNING" | "WARN" => Ok(LogLevel::Warning),
            "ERROR" => Ok(LogLevel::Error),
            "CRITICAL" | "FATAL" => Ok(LogLevel::Critical),
            _ => Err(Error::InvalidArgument(format!(
                "unknown log level {s:?} (expected DEBUG, INFO, WARNING, ERROR or CRITICAL)"
            ))),
        }
    }
}

/// What happens to a request that arrives while every worker is busy and
/// [`PluginConfig::queue_capacity`] requests are already waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// The request is refused at once: the Hub gets an error record with a message
    /// (the official Model-workflow behaviour when `queue_capacity` is 0).
    Reject,
    /// The request waits for a worker anyway: the queue grows past `queue_capacity`,
    /// which then only marks when a warning is logged.
    Queue,
}

impl FromStr for Overflow {
    type Err = Error;

    /// `queue` or `reject`, any case.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "queue" => Ok(Overflow::Queue),
            "reject" => Ok(Overflow::Reject),
            _ => Err(Error::InvalidArgument(format!(
                "overflow must be \"queue\" or \"reject\", got {s:?}"
            ))),
        }
    }
}

/// How the Socket.IO connector reconnects after losing the Hub: exponential backoff
/// with jitter, starting again from `initial_delay` after each successful connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// Wait before the first attempt after a disconnect (default 1 s).
    pub initial_delay: Duration,
    /// Longest wait between attempts (default 30 s).
    pub max_delay: Duration,
    /// Growth of the wait per failed attempt (default 2).
    pub multiplier: f64,
    /// Each wait is multiplied by a random factor in `[1 - jitter, 1]` (default 0.5).
    pub jitter: f64,
    /// Failed attempts in a row before the runtime stops with an error; `None`
    /// (default) retries forever.
    pub max_attempts: Option<u32>,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.5,
            max_attempts: None,
        }
    }
}

impl ReconnectPolicy {
    /// The wait before attempt `attempt` (1-based), before jitter.
    pub fn base_delay(&self, attempt: u32) -> Duration {
        let factor = self
            .multiplier
            .max(1.0)
            .powi(attempt.saturating_sub(1).min(64) as i32);
        let secs = (self.initial_delay.as_secs_f64() * factor).min(self.max_delay.as_secs_f64());
        Duration::from_secs_f64(secs.max(0.0))
    }

    /// The wait before attempt `attempt` (1-based) with jitter; `random` is in `[0, 1)`.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let jitter = self.jitter.clamp(0.0, 1.0);
        let factor = 1.0 - jitter * random.clamp(0.0, 1.0);
        Duration::from_secs_f64(self.base_delay(attempt).as_secs_f64() * factor)
    }
}

/// Everything the runtime needs to run one plugin. Build it with [`PluginConfig::new`]
/// (official defaults) and change fields as needed. `Debug` never shows the secret.
#[derive(Clone)]
pub struct PluginConfig {
    /// The plugin id, from the Hub UI.
    pub id: String,
    /// The plugin secret, from the Hub UI.
    pub secret: String,
    /// Which kind of plugin this is.
    pub kind: PluginKind,
    /// Socket.IO host, the official `run(host=...)`; default `https://eu-api.ango.ai`.
    /// Only scheme, host and port are used (as python-engineio does), plus its query.
    pub hub_url: String,
    /// REST API host for every HTTP call the runtime makes on the user's behalf (export,
    /// upload URLs, annotate, and in REST mode `/v2/pluginLog` and `/v2/pluginResponse`);
    /// default `https://imeritapi.ango.ai`. The official runtime posts REST-mode logs of
    /// the generic kinds to the `run()` host: a binding wanting that sets both equal.
    pub api_host: String,
    /// Socket.IO (default) or REST.
    pub connector: Connector,
    /// REST connector port (env `PORT`, default 8080); 0 picks a free port (tests).
    pub port: u16,
    /// REST connector address (default `0.0.0.0`).
    pub bind_address: String,
    /// Records below this level are neither sent nor echoed (env `LOGLEVEL`, default INFO).
    pub log_level: LogLevel,
    /// Echo every record that passes `log_level` on stderr (default true).
    pub echo_logs: bool,
    /// Worker threads running callbacks (Model: the official `concurrency`, default 1;
    /// other kinds default 8, where the official runtime has no bound at all).
    pub concurrency: usize,
    /// Requests that may wait for a worker before `overflow` applies (default 1024).
    pub queue_capacity: usize,
    /// What to do with a request beyond `queue_capacity` (default [`Overflow::Queue`]).
    pub overflow: Overflow,
    /// Interval of the Ango-level `heartbeat` event (default 60 s); the first one is sent
    /// on every (re)connection.
    pub heartbeat_interval: Duration,
    /// Timeout of one whole HTTP call made by the runtime (default 120 s; downloads and
    /// uploads use ango-core's download timeout).
    pub http_timeout: Duration,
    /// Time allowed to open the websocket and get the `/plugin` namespace accepted
    /// (default 20 s; the official runtime allows 1 s and then exits).
    pub connect_timeout: Duration,
    /// Reconnection after a lost connection (Socket.IO connector).
    pub reconnect: ReconnectPolicy,
    /// Largest `POST /plugin` body the REST connector accepts (default 64 MiB).
    pub max_body_bytes: usize,
    /// Time a REST client may take to send one request (default 30 s).
    pub rest_read_timeout: Duration,
}

impl fmt::Debug for PluginConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginConfig")
            .field("id", &self.id)
            .field("secret", &"***")
            .field("kind", &self.kind)
            .field("hub_url", &self.hub_url)
            .field("api_host", &self.api_host)
            .field("connector", &self.connector)
            .field("port", &self.port)
            .field("bind_address", &self.bind_address)
            .field("log_level", &self.log_level)
            .field("echo_logs", &self.echo_logs)
            .field("concurrency", &self.concurrency)
            .field("queue_capacity", &self.queue_capacity)
            .field("overflow", &self.overflow)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("http_timeout", &self.http_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("reconnect", &self.reconnect)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("rest_read_timeout", &self.rest_read_timeout)
            .finish()
    }
}

impl PluginConfig {
    /// A configuration with the official defaults (environment not read: see
    /// [`PluginConfig::apply_env`]).
    pub fn new(id: impl Into<String>, secret: impl Into<String>, kind: PluginKind) -> Self {
        PluginConfig {
            id: id.into(),
            secret: secret.into(),
            kind,
            hub_url: DEFAULT_HUB_URL.to_string(),
            api_host: DEFAULT_API_HOST.to_string(),
            connector: Connector::WebSocket,
            port: DEFAULT_PORT,
            bind_address: "0.0.0.0".to_string(),
            log_level: LogLevel::Info,
            echo_logs: true,
            concurrency: if kind == PluginKind::Model { 1 } else { 8 },
            queue_capacity: 1024,
            overflow: Overflow::Queue,
            heartbeat_interval: Duration::from_secs(60),
            http_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(20),
            reconnect: ReconnectPolicy::default(),
            max_body_bytes: 64 << 20,
            rest_read_timeout: Duration::from_secs(30),
        }
    }

    /// Applies `CONNECTOR`, `PORT` and `LOGLEVEL` from the process environment, as the
    /// official runtime reads them; an unset or empty variable keeps the current value,
    /// a bad one is an [`Error::InvalidArgument`].
    pub fn apply_env(&mut self) -> Result<(), Error> {
        self.apply_env_from(|name| std::env::var(name).ok())
    }

    /// [`PluginConfig::apply_env`] with another source of variables (tests, bindings).
    pub fn apply_env_from(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), Error> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        if let Some(value) = get("CONNECTOR") {
            self.connector = value.parse()?;
        }
        if let Some(value) = get("PORT") {
            self.port = value.trim().parse().map_err(|_| {
                Error::InvalidArgument(format!("PORT must be a port number, got {value:?}"))
            })?;
        }
        if let Some(value) = get("LOGLEVEL") {
            self.log_level = value.parse()?;
        }
        Ok(())
    }

    /// Checks the values that cannot work (empty id, bad URLs) before anything starts.
    pub fn validate(&self) -> Result<(), Error> {
        if self.id.trim().is_empty() {
            return Err(Error::InvalidArgument("the plugin id is empty".into()));
        }
        if self.connector == Connector::WebSocket {
            crate::sio::engine_io_url(&self.hub_url, 0.0)?;
            if self.heartbeat_interval.is_zero() {
                return Err(Error::InvalidArgument(
                    "heartbeat_interval must be positive".into(),
                ));
            }
        }
        let host = self.api_host.trim();
        if !(host.starts_with("http://") || host.starts_with("https://")) {
            return Err(Error::InvalidArgument(format!(
                "api_host must start with https:// or http://, got {host:?}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_parse_like_the_official_runtime() {
        let mut config = PluginConfig::new("p", "s", PluginKind::Model);
        assert_eq!(config.concurrency, 1);
        config
            .apply_env_from(|name| match name {
                "CONNECTOR" => Some("rest".into()),
                "PORT" => Some("9000".into()),
                "LOGLEVEL" => Some("debug".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.connector, Connector::Rest);
        assert_eq!(config.port, 9000);
        assert_eq!(config.log_level, LogLevel::Debug);
        assert!(config.apply_env_from(|_| Some("x".into())).is_err());
        assert!(!format!("{config:?}").contains("\"s\""));
    }

    #[test]
    fn levels_kinds_and_backoff() {
        assert_eq!(LogLevel::name_of_number(15), "Level 15");
        assert_eq!("warn".parse::<LogLevel>().unwrap(), LogLevel::Warning);
        assert_eq!(
            "batch_model".parse::<PluginKind>().unwrap(),
            PluginKind::BatchModel
        );
        assert_eq!(
            "FileExplorerPlugin".parse::<PluginKind>().unwrap(),
            PluginKind::FileExplorer
        );
        assert!("nope".parse::<PluginKind>().is_err());
        for kind in PluginKind::ALL {
            assert_eq!(kind.name().parse::<PluginKind>().unwrap(), kind);
            assert_eq!(kind.class_name().parse::<PluginKind>().unwrap(), kind);
        }
        let policy = ReconnectPolicy::default();
        assert_eq!(policy.base_delay(1), Duration::from_secs(1));
        assert_eq!(policy.base_delay(3), Duration::from_secs(4));
        assert_eq!(policy.base_delay(30), Duration::from_secs(30));
        assert_eq!(policy.delay(2, 1.0), Duration::from_secs(1));
    }
}
