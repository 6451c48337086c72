//! [`PluginOptions`]: a plugin's options as a binding receives them (a Python dict or a
//! JS object, as JSON), read into a [`PluginConfig`] with the defaults of this crate.

use std::time::Duration;

use ango_core::Error;
use serde::Deserialize;
use serde_json::Value;

use crate::config::{PluginConfig, PluginKind};

/// The options of a plugin run, deserialised from JSON. Keys are camelCase (Node) or
/// snake_case (Python); every field is optional and absent (or `null`) means the
/// default of [`PluginConfig::new`], after the environment (`CONNECTOR`, `PORT`,
/// `LOGLEVEL`) unless `useEnv` is false. Unknown keys are ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PluginOptions {
    /// The plugin id, from the Hub UI.
    pub id: String,
    /// The plugin secret, from the Hub UI.
    pub secret: String,
    /// Socket.IO host (the official `run(host=...)`, default `https://eu-api.ango.ai`).
    #[serde(alias = "hub_url", alias = "hubUrl")]
    pub host: Option<String>,
    /// REST API host for the runtime's own calls (default `https://imeritapi.ango.ai`).
    #[serde(alias = "api_host")]
    pub api_host: Option<String>,
    /// `"WS"` or `"REST"`, any case (default: env `CONNECTOR`, else WS).
    pub connector: Option<String>,
    /// REST port (default: env `PORT`, else 8080; 0 = any free port).
    pub port: Option<i64>,
    /// REST bind address (default `0.0.0.0`).
    #[serde(alias = "bind_address")]
    pub bind_address: Option<String>,
    /// `DEBUG` .. `CRITICAL` or a level number (default: env `LOGLEVEL`, else INFO).
    #[serde(alias = "log_level")]
    pub log_level: Option<String>,
    /// Echo log records on stderr (default true).
    #[serde(alias = "echo_logs")]
    pub echo_logs: Option<bool>,
    /// Callbacks running at once, at least 1 (Model default 1, others 8).
    #[serde(alias = "workers")]
    pub concurrency: Option<u64>,
    /// Requests waiting for a worker before `overflow` applies (default 1024).
    #[serde(alias = "queue_capacity")]
    pub queue_capacity: Option<u64>,
    /// `"queue"` (default) or `"reject"`, any case.
    pub overflow: Option<String>,
    /// Ango heartbeat interval in milliseconds (default 60000).
    #[serde(alias = "heartbeat_interval_ms")]
    pub heartbeat_interval_ms: Option<f64>,
    /// Timeout of each HTTP call of the runtime in milliseconds (default 120000).
    #[serde(alias = "http_timeout_ms")]
    pub http_timeout_ms: Option<f64>,
    /// Time to open the websocket and join `/plugin`, in milliseconds (default 20000).
    #[serde(alias = "connect_timeout_ms")]
    pub connect_timeout_ms: Option<f64>,
    /// First reconnection delay in milliseconds (default 1000).
    #[serde(alias = "reconnect_initial_delay_ms")]
    pub reconnect_initial_delay_ms: Option<f64>,
    /// Longest reconnection delay in milliseconds (default 30000).
    #[serde(alias = "reconnect_max_delay_ms")]
    pub reconnect_max_delay_ms: Option<f64>,
    /// Failed reconnection attempts in a row before giving up (default: never).
    #[serde(alias = "reconnect_max_attempts")]
    pub reconnect_max_attempts: Option<u32>,
    /// Read `CONNECTOR`, `PORT`, `LOGLEVEL` from the environment first (default true).
    #[serde(alias = "use_env")]
    pub use_env: Option<bool>,
}

fn millis(name: &str, value: Option<f64>) -> Result<Option<Duration>, Error> {
    match value {
        None => Ok(None),
        // A huge value is capped (as the core caps its timeouts) rather than panicking in
        // `Duration::from_secs_f64` or later in `Instant + Duration`.
        Some(ms) if ms.is_finite() && ms >= 0.0 => {
            let max = ango_core::config::MAX_TIMEOUT;
            Ok(Some(
                Duration::try_from_secs_f64(ms / 1000.0).map_or(max, |d| d.min(max)),
            ))
        }
        Some(ms) => Err(Error::InvalidArgument(format!(
            "{name} must be a non-negative number of milliseconds, got {ms}"
        ))),
    }
}

impl PluginOptions {
    /// Reads options from a JSON object (`null` = no options); a value of the wrong
    /// type is an [`Error::InvalidArgument`] naming the option.
    pub fn from_json(value: Value) -> Result<PluginOptions, Error> {
        let value = if value.is_null() {
            Value::Object(Default::default())
        } else {
            value
        };
        PluginOptions::deserialize(value)
            .map_err(|e| Error::InvalidArgument(format!("invalid plugin options: {e}")))
    }

    /// The configuration for a plugin of `kind`: the defaults, then the environment
    /// (unless `use_env` is false), then these options. Refuses a bad connector, port,
    /// log level, overflow policy or duration.
    pub fn into_config(self, kind: PluginKind) -> Result<PluginConfig, Error> {
        self.into_config_with_env(kind, |name| std::env::var(name).ok())
    }

    /// [`PluginOptions::into_config`] with another source of environment variables.
    pub fn into_config_with_env(
        self,
        kind: PluginKind,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<PluginConfig, Error> {
        let mut config = PluginConfig::new(self.id, self.secret, kind);
        if self.use_env.unwrap_or(true) {
            config.apply_env_from(var)?;
        }
        if let Some(host) = self.host {
            config.hub_url = host;
        }
        if let Some(api_host) = self.api_host {
            config.api_host = api_host;
        }
        if let Some(connector) = self.connector {
            config.connector = connector.parse()?;
        }
        if let Some(port) = self.port {
            config.port = u16::try_from(port)
                .map_err(|_| Error::InvalidArgument(format!("port {port} is out of range")))?;
        }
        if let Some(address) = self.bind_address {
            config.bind_address = address;
        }
        if let Some(level) = self.log_level {
            config.log_level = level.parse()?;
        }
        if let Some(echo) = self.echo_logs {
            config.echo_logs = echo;
        }
        if let Some(n) = self.concurrency {
            config.concurrency = usize::try_from(n).unwrap_or(usize::MAX).max(1);
        }
        if let Some(n) = self.queue_capacity {
            config.queue_capacity = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(overflow) = self.overflow {
            config.overflow = overflow.parse()?;
        }
        if let Some(d) = millis("heartbeatIntervalMs", self.heartbeat_interval_ms)? {
            config.heartbeat_interval = d;
        }
        if let Some(d) = millis("httpTimeoutMs", self.http_timeout_ms)? {
            config.http_timeout = d;
        }
        if let Some(d) = millis("connectTimeoutMs", self.connect_timeout_ms)? {
            config.connect_timeout = d;
        }
        if let Some(d) = millis("reconnectInitialDelayMs", self.reconnect_initial_delay_ms)? {
            config.reconnect.initial_delay = d;
        }
        if let Some(d) = millis("reconnectMaxDelayMs", self.reconnect_max_delay_ms)? {
            config.reconnect.max_delay = d;
        }
        if let Some(n) = self.reconnect_max_attempts {
            config.reconnect.max_attempts = Some(n);
        }
        Ok(config)
    }
}

/// Reads `options` (a JSON object) and builds the configuration of a plugin of `kind`
/// (a name [`PluginKind`] parses): what a binding calls before starting a plugin, or to
/// check options early.
pub fn plugin_config(kind: &str, options: Value) -> Result<PluginConfig, Error> {
    let kind: PluginKind = kind.parse()?;
    PluginOptions::from_json(options)?.into_config(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Connector, LogLevel, Overflow};
    use serde_json::json;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn config(kind: PluginKind, options: Value) -> Result<PluginConfig, Error> {
        PluginOptions::from_json(options)?.into_config_with_env(kind, no_env)
    }

    #[test]
    fn absent_and_null_options_take_the_crate_defaults() {
        for options in [
            json!(null),
            json!({}),
            json!({"port": null, "overflow": null}),
        ] {
            let c = config(PluginKind::Model, options).unwrap();
            assert_eq!(c.concurrency, 1);
            assert_eq!(c.queue_capacity, 1024);
            assert_eq!(c.overflow, Overflow::Queue);
            assert_eq!(c.hub_url, crate::DEFAULT_HUB_URL);
            assert_eq!(c.api_host, crate::DEFAULT_API_HOST);
            assert_eq!(c.port, crate::DEFAULT_PORT);
            assert_eq!(c.connector, Connector::WebSocket);
            assert_eq!(c.log_level, LogLevel::Info);
            assert_eq!(c.heartbeat_interval, Duration::from_secs(60));
            assert!(c.echo_logs);
        }
        assert_eq!(
            config(PluginKind::Export, json!({})).unwrap().concurrency,
            8
        );
    }

    #[test]
    fn camel_and_snake_keys_set_the_same_fields() {
        let camel = json!({"id": "p", "secret": "s", "apiHost": "http://a", "queueCapacity": 3,
            "bindAddress": "127.0.0.1", "httpTimeoutMs": 1500, "useEnv": false, "echoLogs": false});
        let snake = json!({"id": "p", "secret": "s", "api_host": "http://a", "queue_capacity": 3,
            "bind_address": "127.0.0.1", "http_timeout_ms": 1500, "use_env": false, "echo_logs": false});
        let (a, b) = (
            PluginOptions::from_json(camel).unwrap(),
            PluginOptions::from_json(snake).unwrap(),
        );
        assert_eq!(a, b);
        let c = a.into_config_with_env(PluginKind::Input, no_env).unwrap();
        assert_eq!(c.api_host, "http://a");
        assert_eq!(c.queue_capacity, 3);
        assert_eq!(c.http_timeout, Duration::from_millis(1500));
        assert!(!c.echo_logs);
        let c = config(
            PluginKind::Model,
            json!({"hub_url": "http://h", "workers": 0}),
        )
        .unwrap();
        assert_eq!(c.hub_url, "http://h");
        assert_eq!(c.concurrency, 1, "at least one worker");
    }

    #[test]
    fn huge_millisecond_options_are_capped_not_a_panic() {
        let c = config(
            PluginKind::Model,
            json!({"connectTimeoutMs": 1e300, "httpTimeoutMs": 1e19, "heartbeatIntervalMs": 5}),
        )
        .unwrap();
        assert_eq!(c.connect_timeout, ango_core::config::MAX_TIMEOUT);
        assert_eq!(c.http_timeout, ango_core::config::MAX_TIMEOUT);
        assert_eq!(c.heartbeat_interval, Duration::from_millis(5));
    }

    #[test]
    fn options_win_over_the_environment_unless_absent() {
        let env = |name: &str| match name {
            "CONNECTOR" => Some("rest".to_string()),
            "LOGLEVEL" => Some("DEBUG".to_string()),
            _ => None,
        };
        let options = PluginOptions::from_json(json!({"connector": "ws"})).unwrap();
        let c = options
            .into_config_with_env(PluginKind::Model, env)
            .unwrap();
        assert_eq!(c.connector, Connector::WebSocket);
        assert_eq!(c.log_level, LogLevel::Debug);
        let options = PluginOptions::from_json(json!({"useEnv": false})).unwrap();
        let c = options
            .into_config_with_env(PluginKind::Model, env)
            .unwrap();
        assert_eq!(c.log_level, LogLevel::Info);
    }

    #[test]
    fn bad_options_are_refused_with_their_name() {
        let refused = |options: Value, needle: &str| {
            let Err(Error::InvalidArgument(message)) = config(PluginKind::BatchModel, options)
            else {
                panic!("{needle}: not refused");
            };
            assert!(message.contains(needle), "{message} lacks {needle}");
        };
        refused(json!({"overflow": "drop"}), "overflow");
        refused(json!({"connector": "carrier-pigeon"}), "CONNECTOR");
        refused(json!({"port": 70000}), "port");
        refused(json!({"port": -1}), "port");
        refused(json!({"logLevel": "LOUD"}), "log level");
        refused(json!({"httpTimeoutMs": -5}), "httpTimeoutMs");
        refused(json!({"concurrency": "many"}), "invalid plugin options");
        refused(json!([1, 2]), "invalid plugin options");
        assert!(plugin_config("nope", json!({})).is_err());
        let c = plugin_config("batch_model", json!({"overflow": "REJECT"})).unwrap();
        assert_eq!(c.overflow, Overflow::Reject);
    }
}
