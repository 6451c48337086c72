//! The emulator's options from a JSON object, and their checks: the one place where
//! a rate, a port, a timeout or a worker count is accepted or refused, for the
//! `ango-emulator` binary, `ango emulator`, the admin endpoint `POST /__emulator/faults`,
//! Python's `LocalHub(**options)` and Node's `startEmulator(options)`.

use serde_json::{Map, Value};

use crate::{EmulatorConfig, FaultSettings};

/// An emulator option that is refused: unknown, of the wrong type or out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The option's name as given (`fail_rate`, `failRate`, `--fail-rate` ...).
    pub option: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn new(option: &str, message: String) -> ConfigError {
        ConfigError {
            option: option.to_string(),
            message,
        }
    }
}

impl From<ConfigError> for std::io::Error {
    fn from(error: ConfigError) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, error.message)
    }
}

/// A probability: a finite number in `0..=1`.
pub(crate) fn check_rate(name: &str, rate: f64) -> Result<f64, ConfigError> {
    if rate.is_finite() && (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(ConfigError::new(
            name,
            format!("{name} must be a number between 0 and 1, got {rate}"),
        ))
    }
}

/// The longest wait for a plugin run or connection: one hour.
pub const MAX_PLUGIN_WAIT_SECS: f64 = 3600.0;

/// A plugin wait (`run_plugin`'s `wait`, `wait_for_plugin`'s `timeout`) given in
/// seconds: finite, `0..=3600`. `name` names the option in the error.
pub fn plugin_wait(name: &str, seconds: f64) -> Result<std::time::Duration, ConfigError> {
    if seconds.is_finite() && (0.0..=MAX_PLUGIN_WAIT_SECS).contains(&seconds) {
        Ok(std::time::Duration::from_secs_f64(seconds))
    } else {
        Err(ConfigError::new(
            name,
            format!(
                "{name} must be a number of seconds in 0..={MAX_PLUGIN_WAIT_SECS}, got {seconds}"
            ),
        ))
    }
}

/// A count or duration that must be at least 1.
fn check_positive(name: &str, n: u64) -> Result<(), ConfigError> {
    if n == 0 {
        return Err(ConfigError::new(
            name,
            format!("{name} must be a positive integer, got 0"),
        ));
    }
    Ok(())
}

impl FaultSettings {
    /// Checks the rates: each a number in `0..=1`, and together at most 1 (a request
    /// is either dropped, failed or handled).
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_rate("fail_rate", self.fail_rate)?;
        check_rate("drop_rate", self.drop_rate)?;
        if self.fail_rate + self.drop_rate > 1.0 {
            return Err(ConfigError::new(
                "fail_rate",
                format!(
                    "fail_rate + drop_rate must be at most 1, got {} + {}",
                    self.fail_rate, self.drop_rate
                ),
            ));
        }
        Ok(())
    }
}

/// The options [`EmulatorConfig::from_options`] reads: `(snake_case, camelCase)`.
pub(crate) const OPTIONS: &[(&str, &str)] = &[
    ("port", "port"),
    ("api_key", "apiKey"),
    ("latency_ms", "latencyMs"),
    ("fail_rate", "failRate"),
    ("drop_rate", "dropRate"),
    ("rng_seed", "rngSeed"),
    ("seed_demo", "seedDemo"),
    ("workers", "workers"),
    ("max_body_bytes", "maxBodyBytes"),
    ("header_timeout_ms", "headerTimeoutMs"),
    ("idle_timeout_ms", "idleTimeoutMs"),
    ("max_connections", "maxConnections"),
    ("plugin_ping_interval_ms", "pluginPingIntervalMs"),
    ("plugin_ping_timeout_ms", "pluginPingTimeoutMs"),
];

/// Python's `LocalHub(seed=...)`: the fault generator's seed.
const SEED_ALIAS: &str = "seed";

/// A whole number `0..=2^53` (JSON integers, and whole floats as JavaScript sends
/// numbers above 2^32).
fn whole(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    let f = value.as_f64()?;
    (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= 9_007_199_254_740_992.0)
        .then_some(f as u64)
}

fn describe(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

impl EmulatorConfig {
    /// Checks every option (the rates with [`FaultSettings::validate`], counts and
    /// timeouts at least 1). [`Emulator::start`](crate::Emulator::start) calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.faults().validate()?;
        check_positive("workers", self.workers as u64)?;
        check_positive("max_body_bytes", self.max_body_bytes)?;
        check_positive("header_timeout_ms", self.header_timeout_ms)?;
        check_positive("idle_timeout_ms", self.idle_timeout_ms)?;
        check_positive("max_connections", self.max_connections as u64)?;
        check_positive("plugin_ping_interval_ms", self.plugin_ping_interval_ms)?;
        check_positive("plugin_ping_timeout_ms", self.plugin_ping_timeout_ms)?;
        Ok(())
    }

    /// The fault settings of this configuration.
    pub fn faults(&self) -> FaultSettings {
        FaultSettings {
            latency_ms: self.latency_ms,
            fail_rate: self.fail_rate,
            drop_rate: self.drop_rate,
        }
    }

    /// A configuration from a JSON object of options, each named in snake_case (as
    /// Python's keyword arguments) or camelCase (as Node's option objects):
    /// `port`, `api_key`, `latency_ms`, `fail_rate`, `drop_rate`, `rng_seed` (or
    /// `seed`), `seed_demo`, `workers`, `max_body_bytes`, `header_timeout_ms`,
    /// `idle_timeout_ms`, `max_connections`, `plugin_ping_interval_ms`,
    /// `plugin_ping_timeout_ms`. A missing or `null` option takes its default; an
    /// unknown one, a wrong type or a value out of range is a [`ConfigError`], and the
    /// result is [validated](Self::validate).
    pub fn from_options(options: &Value) -> Result<EmulatorConfig, ConfigError> {
        let empty = Map::new();
        let map = match options {
            Value::Null => &empty,
            Value::Object(map) => map,
            other => {
                return Err(ConfigError::new(
                    "options",
                    format!(
                        "emulator options must be an object, got {}",
                        describe(other)
                    ),
                ));
            }
        };
        let mut config = EmulatorConfig::default();
        for (key, value) in map {
            if value.is_null() {
                continue;
            }
            let name = if key == SEED_ALIAS {
                "rng_seed"
            } else {
                OPTIONS
                    .iter()
                    .find(|(snake, camel)| key == snake || key == camel)
                    .map(|(snake, _)| *snake)
                    .ok_or_else(|| {
                        let known: Vec<&str> = OPTIONS.iter().map(|(s, _)| *s).collect();
                        ConfigError::new(
                            key,
                            format!(
                                "unknown emulator option {key:?} (known: {})",
                                known.join(", ")
                            ),
                        )
                    })?
            };
            let wrong = |expected: &str| {
                ConfigError::new(
                    key,
                    format!("{key} must be {expected}, got {}", describe(value)),
                )
            };
            let int = || whole(value).ok_or_else(|| wrong("a whole number >= 0"));
            let number = || {
                value
                    .as_f64()
                    .ok_or_else(|| wrong("a number between 0 and 1"))
            };
            match name {
                "port" => {
                    config.port =
                        u16::try_from(int()?).map_err(|_| wrong("a port number in 0..=65535"))?
                }
                "api_key" => {
                    config.api_key = Some(value.as_str().ok_or_else(|| wrong("a string"))?.into())
                }
                "latency_ms" => config.latency_ms = int()?,
                "fail_rate" => config.fail_rate = check_rate(key, number()?)?,
                "drop_rate" => config.drop_rate = check_rate(key, number()?)?,
                "rng_seed" => config.rng_seed = int()?,
                "seed_demo" => {
                    config.seed_demo = value.as_bool().ok_or_else(|| wrong("a boolean"))?
                }
                "workers" => config.workers = usize::try_from(int()?).unwrap_or(usize::MAX),
                "max_body_bytes" => config.max_body_bytes = int()?,
                "header_timeout_ms" => config.header_timeout_ms = int()?,
                "idle_timeout_ms" => config.idle_timeout_ms = int()?,
                "max_connections" => {
                    config.max_connections = usize::try_from(int()?).unwrap_or(usize::MAX)
                }
                "plugin_ping_interval_ms" => config.plugin_ping_interval_ms = int()?,
                "plugin_ping_timeout_ms" => config.plugin_ping_timeout_ms = int()?,
                _ => unreachable!("every name of OPTIONS is handled"),
            }
        }
        config.validate()?;
        Ok(config)
    }
}

impl<'de> serde::Deserialize<'de> for EmulatorConfig {
    /// Reads the options as [`EmulatorConfig::from_options`] does (and checks them).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        EmulatorConfig::from_options(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_spellings_and_defaults() {
        let snake = EmulatorConfig::from_options(&json!({
            "port": 0, "api_key": "k", "latency_ms": 5, "fail_rate": 0.25, "drop_rate": 0.5,
            "seed": 7, "seed_demo": true, "workers": 3, "max_connections": 9
        }))
        .unwrap();
        let camel = EmulatorConfig::from_options(&json!({
            "apiKey": "k", "latencyMs": 5.0, "failRate": 0.25, "dropRate": 0.5,
            "rngSeed": 7, "seedDemo": true, "workers": 3, "maxConnections": 9, "port": null
        }))
        .unwrap();
        assert_eq!(snake, camel);
        assert_eq!(snake.rng_seed, 7);
        assert_eq!(snake.api_key.as_deref(), Some("k"));
        assert_eq!(
            snake.idle_timeout_ms,
            EmulatorConfig::default().idle_timeout_ms
        );
        assert_eq!(
            EmulatorConfig::from_options(&Value::Null).unwrap(),
            EmulatorConfig::default()
        );
        let parsed: EmulatorConfig = serde_json::from_value(json!({"latencyMs": 1})).unwrap();
        assert_eq!(parsed.latency_ms, 1);
    }

    #[test]
    fn refusals_name_the_option() {
        // The cases the Python and Node suites also run through their bindings.
        let fixture: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/emulator/options.json"
        ))
        .unwrap();
        let cases = fixture["refused"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for case in cases {
            let error = EmulatorConfig::from_options(&case["options"]).unwrap_err();
            assert_eq!(error.option, case["option"].as_str().unwrap(), "{case}");
            let message = case["message"].as_str().unwrap();
            assert!(error.message.starts_with(message), "{error} / {message}");
        }
        let error = EmulatorConfig::from_options(&json!([1])).unwrap_err();
        assert_eq!(error.option, "options");
        assert_eq!(error.message, "emulator options must be an object, got [1]");
        let mut config = EmulatorConfig {
            header_timeout_ms: 0,
            ..EmulatorConfig::default()
        };
        assert_eq!(config.validate().unwrap_err().option, "header_timeout_ms");
        config.header_timeout_ms = 1;
        config.fail_rate = f64::NAN;
        assert_eq!(config.validate().unwrap_err().option, "fail_rate");
        assert_eq!(
            plugin_wait("wait", 1.5).unwrap(),
            std::time::Duration::from_millis(1500)
        );
        for bad in [-1.0, 3600.5, f64::NAN, f64::INFINITY] {
            assert_eq!(plugin_wait("wait", bad).unwrap_err().option, "wait");
        }
        let error = serde_json::from_value::<EmulatorConfig>(json!({"workers": 0})).unwrap_err();
        assert!(error.to_string().contains("workers"));
    }
}
