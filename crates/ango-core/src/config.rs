//! Client settings: timeouts, retries, backoff, concurrency and progress.
//!
//! One [`Settings`] value is held by a [`Client`](crate::Client); a copy with other
//! values can be used for a single call through [`Client::with_settings`](crate::Client::with_settings).

use std::time::Duration;

use serde_json::Value;

/// The official Ango Hub API host.
pub const DEFAULT_HOST: &str = "https://imeritapi.ango.ai";

/// The longest timeout applied (one year): longer ones, from options, the environment
/// or a [`Settings`] value set directly, are reduced to it, since a deadline that far
/// cannot be represented on every platform's clock.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// `timeout`, capped at [`MAX_TIMEOUT`].
pub(crate) fn cap_timeout(timeout: Option<Duration>) -> Option<Duration> {
    timeout.map(|t| t.min(MAX_TIMEOUT))
}

/// A timeout of `seconds` (`0`: no limit); `None` for negative or NaN values. Values
/// beyond [`MAX_TIMEOUT`], infinity included, become [`MAX_TIMEOUT`].
fn timeout_of_secs(seconds: f64) -> Option<Option<Duration>> {
    if seconds.is_nan() || seconds < 0.0 {
        return None;
    }
    if seconds == 0.0 {
        return Some(None);
    }
    let timeout = Duration::try_from_secs_f64(seconds).unwrap_or(MAX_TIMEOUT);
    Some(Some(timeout.min(MAX_TIMEOUT)))
}

/// The most parallel transfers a client runs (larger requests are reduced to it).
pub const MAX_CONCURRENCY: usize = 256;

/// When and how failed requests are tried again.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; `0` turns retrying off.
    pub max_retries: u32,
    /// The first backoff ceiling; each retry doubles it.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// The longest `Retry-After` we honour before giving up instead of waiting.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The backoff before retry number `attempt` (1-based): full jitter over an
    /// exponentially growing, capped ceiling.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random_u64() % nanos.saturating_add(1))
    }
}

/// Whether bulk operations draw a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// A bar on stderr when stderr is a terminal, nothing otherwise.
    #[default]
    Auto,
    /// Never draw a bar.
    Off,
    /// Always draw a bar on stderr.
    On,
}

/// Every tunable of a client.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Time allowed to establish a connection.
    pub connect_timeout: Option<Duration>,
    /// Time allowed for one whole request (sending, waiting, receiving the body).
    /// Large downloads (exports) use [`Settings::download_timeout`] instead.
    pub request_timeout: Option<Duration>,
    /// Time allowed for a file transfer to or from signed storage URLs.
    pub download_timeout: Option<Duration>,
    /// Retry behaviour.
    pub retry: RetryPolicy,
    /// Parallel transfers for bulk operations (uploads, page prefetch).
    pub concurrency: usize,
    /// Progress bars for bulk operations.
    pub progress: ProgressMode,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connect_timeout: Some(Duration::from_secs(10)),
            request_timeout: Some(Duration::from_secs(120)),
            download_timeout: Some(Duration::from_secs(3600)),
            retry: RetryPolicy::default(),
            concurrency: 8,
            progress: ProgressMode::Auto,
            user_agent: format!("ango-rs/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl Settings {
    /// Defaults, overridden by the environment: `ANGO_TIMEOUT` (seconds, `0` = none),
    /// `ANGO_CONNECT_TIMEOUT` (seconds), `ANGO_MAX_RETRIES`, `ANGO_CONCURRENCY`,
    /// `ANGO_PROGRESS` (`0`/`false`/`off` or `1`/`true`/`on`).
    ///
    /// Unparsable, negative or NaN values are ignored in favour of the default, so a typo
    /// never stops a program; timeouts beyond [`MAX_TIMEOUT`] become [`MAX_TIMEOUT`] and
    /// concurrency is capped at [`MAX_CONCURRENCY`].
    pub fn from_env() -> Self {
        Settings::default().apply_env(|name| std::env::var(name).ok())
    }

    /// Applies overrides from a variable lookup (used by [`Settings::from_env`]; testable).
    pub fn apply_env(mut self, var: impl Fn(&str) -> Option<String>) -> Self {
        let seconds = |name: &str| -> Option<Option<Duration>> {
            let value: f64 = var(name)?.trim().parse().ok()?;
            timeout_of_secs(value)
        };
        if let Some(timeout) = seconds("ANGO_TIMEOUT") {
            self.request_timeout = timeout;
        }
        if let Some(timeout) = seconds("ANGO_CONNECT_TIMEOUT") {
            self.connect_timeout = timeout;
        }
        if let Some(retries) = var("ANGO_MAX_RETRIES").and_then(|v| v.trim().parse().ok()) {
            self.retry.max_retries = retries;
        }
        if let Some(n) = var("ANGO_CONCURRENCY").and_then(|v| v.trim().parse::<usize>().ok()) {
            self.concurrency = n.clamp(1, MAX_CONCURRENCY);
        }
        if let Some(p) = var("ANGO_PROGRESS") {
            match p.trim().to_ascii_lowercase().as_str() {
                "0" | "false" | "off" | "no" => self.progress = ProgressMode::Off,
                "1" | "true" | "on" | "yes" => self.progress = ProgressMode::On,
                _ => {}
            }
        }
        self
    }
}

/// A client's options as the bindings take them (JavaScript's options object, or
/// Python's keyword arguments): the key and host, read from `ANGO_API_KEY` and
/// `ANGO_HOST` when not given, and changes to the settings, which otherwise come from
/// the defaults and the `ANGO_*` variables. See [`Client::from_options`](crate::Client::from_options).
#[derive(Clone, Default, PartialEq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientOptions {
    /// The API key.
    pub api_key: Option<String>,
    /// The API host, such as `https://imeritapi.ango.ai`.
    pub host: Option<String>,
    /// Time allowed for one request, in seconds (0: no limit); Python's `timeout`.
    #[serde(skip)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub timeout: Option<f64>,
    /// Time allowed for one request, in milliseconds (0: no limit).
    pub timeout_ms: Option<f64>,
    /// Time allowed to connect, in milliseconds (0: no limit).
    pub connect_timeout_ms: Option<f64>,
    /// Retries after a failed attempt (0: none).
    pub max_retries: Option<f64>,
    /// Parallel transfers for bulk work (uploads, page prefetch).
    pub concurrency: Option<f64>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// Progress bars on stderr for bulk work (default: `ANGO_PROGRESS`).
    pub progress: Option<bool>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("ClientOptions")
            .field("host", &self.host)
            .field("timeout", &self.timeout)
            .field("timeout_ms", &self.timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("concurrency", &self.concurrency)
            .field("progress", &self.progress)
            .finish_non_exhaustive()
    }
}

impl ClientOptions {
    /// The options in a JSON object (camelCase keys; `null` for none), read so that no
    /// error shows a value given: the key may be among them, or be what was passed
    /// instead of the object.
    pub fn from_value(value: Value) -> crate::Result<ClientOptions> {
        let mut map = match value {
            Value::Null => return Ok(ClientOptions::default()),
            Value::Object(map) => map,
            _ => {
                return Err(crate::Error::invalid(
                    "the client options must be an object",
                ));
            }
        };
        let api_key = match map.remove("apiKey") {
            None | Some(Value::Null) => None,
            Some(Value::String(key)) => Some(key),
            Some(_) => return Err(crate::Error::invalid("apiKey must be a string")),
        };
        let mut options: ClientOptions = serde_json::from_value(Value::Object(map))
            .map_err(|e| crate::Error::invalid(format!("client options: {e}")))?;
        options.api_key = api_key;
        Ok(options)
    }

    /// The settings these options change; a negative, fractional or non-finite count,
    /// or a bad timeout, is [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    pub fn overrides(&self) -> crate::Result<SettingsOverrides> {
        let count = |name: &str, n: Option<f64>| {
            n.map(|n| crate::args::whole_number(name, n, u64::from(u32::MAX)))
                .transpose()
        };
        let request_timeout = match (self.timeout, self.timeout_ms) {
            (Some(seconds), _) => Some(SettingsOverrides::timeout_from_secs(seconds)?),
            (None, millis) => millis
                .map(SettingsOverrides::timeout_from_millis)
                .transpose()?,
        };
        Ok(SettingsOverrides {
            request_timeout,
            connect_timeout: self
                .connect_timeout_ms
                .map(SettingsOverrides::timeout_from_millis)
                .transpose()?,
            // At most u32::MAX, so the casts are exact.
            max_retries: count("maxRetries", self.max_retries)?.map(|n| n as u32),
            concurrency: count("concurrency", self.concurrency)?.map(|n| n as usize),
            progress: self.progress.map(|on| match on {
                true => ProgressMode::On,
                false => ProgressMode::Off,
            }),
        })
    }
}

/// Changes to some settings, as the bindings receive them (a client's constructor
/// options, or a per-call `with_options`); `None` leaves a setting as it is.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SettingsOverrides {
    /// Time allowed for one request (`Some(None)`: no limit).
    pub request_timeout: Option<Option<Duration>>,
    /// Time allowed to connect (`Some(None)`: no limit).
    pub connect_timeout: Option<Option<Duration>>,
    /// Retries after a failed attempt.
    pub max_retries: Option<u32>,
    /// Parallel transfers (at least 1).
    pub concurrency: Option<usize>,
    /// Progress bars.
    pub progress: Option<ProgressMode>,
}

impl SettingsOverrides {
    /// A timeout given in seconds, where `0` means no limit; negative, NaN or infinite
    /// values are refused, and finite ones beyond [`MAX_TIMEOUT`] become [`MAX_TIMEOUT`].
    pub fn timeout_from_secs(seconds: f64) -> crate::Result<Option<Duration>> {
        match timeout_of_secs(seconds) {
            Some(timeout) if seconds.is_finite() => Ok(timeout),
            _ => Err(crate::Error::InvalidArgument(format!(
                "a timeout must be a non-negative number of seconds, got {seconds}"
            ))),
        }
    }

    /// A timeout given in milliseconds (JavaScript style), with the rules of
    /// [`SettingsOverrides::timeout_from_secs`].
    pub fn timeout_from_millis(millis: f64) -> crate::Result<Option<Duration>> {
        match timeout_of_secs(millis / 1000.0) {
            Some(timeout) if millis.is_finite() => Ok(timeout),
            _ => Err(crate::Error::InvalidArgument(format!(
                "a timeout must be a non-negative number of milliseconds, got {millis}"
            ))),
        }
    }

    /// Applies the changes.
    pub fn apply(&self, settings: &mut Settings) {
        if let Some(timeout) = self.request_timeout {
            settings.request_timeout = timeout;
        }
        if let Some(timeout) = self.connect_timeout {
            settings.connect_timeout = timeout;
        }
        if let Some(retries) = self.max_retries {
            settings.retry.max_retries = retries;
        }
        if let Some(n) = self.concurrency {
            settings.concurrency = n.clamp(1, MAX_CONCURRENCY);
        }
        if let Some(mode) = self.progress {
            settings.progress = mode;
        }
    }
}

/// A random 64-bit value from the OS-seeded UUID generator (jitter, colours, file names).
pub(crate) fn random_u64() -> u64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[9], bytes[10],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_options_read_camel_case_and_refuse_the_unknown() {
        let options: ClientOptions = serde_json::from_value(serde_json::json!({
            "apiKey": "secret-key", "host": "http://127.0.0.1:1", "timeoutMs": 1500,
            "connectTimeoutMs": 0, "maxRetries": 2, "concurrency": 3, "progress": false,
            "userAgent": null,
        }))
        .unwrap();
        let overrides = options.overrides().unwrap();
        assert_eq!(
            overrides,
            SettingsOverrides {
                request_timeout: Some(Some(Duration::from_millis(1500))),
                connect_timeout: Some(None),
                max_retries: Some(2),
                concurrency: Some(3),
                progress: Some(ProgressMode::Off),
            }
        );
        assert!(!format!("{options:?}").contains("secret-key"));
        // Seconds (Python's `timeout`) win over milliseconds; JavaScript cannot set them.
        let python = ClientOptions {
            timeout: Some(2.0),
            timeout_ms: Some(1.0),
            ..ClientOptions::default()
        };
        assert_eq!(
            python.overrides().unwrap().request_timeout,
            Some(Some(Duration::from_secs(2)))
        );
        for bad in [
            serde_json::json!({"timeout": 5}),
            serde_json::json!({"apikey": "k"}),
            serde_json::json!({"maxRetries": "2"}),
        ] {
            assert!(ClientOptions::from_value(bad).is_err());
        }
        // No error shows the key, whether misplaced or of the wrong type.
        for bad in [
            serde_json::json!("secret-key-1"),
            serde_json::json!({"apiKey": 987654321}),
            serde_json::json!({"apiKey": ["secret-key-1"]}),
        ] {
            let message = ClientOptions::from_value(bad).unwrap_err().to_string();
            assert!(
                !message.contains("secret-key-1") && !message.contains("987654321"),
                "{message}"
            );
        }
        let read = ClientOptions::from_value(serde_json::json!({"apiKey": "k", "maxRetries": 1}));
        assert_eq!(read.unwrap().api_key.as_deref(), Some("k"));
        assert_eq!(
            ClientOptions::from_value(Value::Null).unwrap(),
            ClientOptions::default()
        );
        for bad in [
            ClientOptions {
                max_retries: Some(-1.0),
                ..ClientOptions::default()
            },
            ClientOptions {
                concurrency: Some(1.5),
                ..ClientOptions::default()
            },
            ClientOptions {
                max_retries: Some(f64::NAN),
                ..ClientOptions::default()
            },
            ClientOptions {
                timeout_ms: Some(-1.0),
                ..ClientOptions::default()
            },
            ClientOptions {
                timeout: Some(f64::INFINITY),
                ..ClientOptions::default()
            },
        ] {
            assert!(matches!(
                bad.overrides(),
                Err(crate::Error::InvalidArgument(_))
            ));
        }
    }

    #[test]
    fn env_overrides_apply_and_bad_values_are_ignored() {
        let s = Settings::default().apply_env(|name| match name {
            "ANGO_TIMEOUT" => Some("2.5".into()),
            "ANGO_MAX_RETRIES" => Some("0".into()),
            "ANGO_CONCURRENCY" => Some("nope".into()),
            "ANGO_PROGRESS" => Some("0".into()),
            _ => None,
        });
        assert_eq!(s.request_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(s.retry.max_retries, 0);
        assert_eq!(s.concurrency, Settings::default().concurrency);
        assert_eq!(s.progress, ProgressMode::Off);
        let off = Settings::default().apply_env(|n| (n == "ANGO_TIMEOUT").then(|| "0".into()));
        assert_eq!(off.request_timeout, None);
    }

    #[test]
    fn overrides_change_only_what_they_name() {
        let mut s = Settings::default();
        SettingsOverrides {
            request_timeout: Some(SettingsOverrides::timeout_from_secs(0.0).unwrap()),
            max_retries: Some(1),
            ..SettingsOverrides::default()
        }
        .apply(&mut s);
        assert_eq!(s.request_timeout, None);
        assert_eq!(s.retry.max_retries, 1);
        assert_eq!(s.concurrency, Settings::default().concurrency);
        assert!(SettingsOverrides::timeout_from_secs(-1.0).is_err());
        assert!(SettingsOverrides::timeout_from_secs(f64::NAN).is_err());
    }

    #[test]
    fn backoff_stays_under_the_capped_ceiling() {
        let policy = RetryPolicy::default();
        for attempt in 1..40 {
            assert!(policy.backoff(attempt) <= policy.max_backoff);
        }
        assert!(policy.backoff(1) <= policy.initial_backoff);
    }

    #[test]
    fn absurd_timeouts_are_capped_or_refused() {
        for value in ["1e20", "inf", "1e400", "18446744073709551616"] {
            let s = Settings::default().apply_env(|n| (n == "ANGO_TIMEOUT").then(|| value.into()));
            assert_eq!(s.request_timeout, Some(MAX_TIMEOUT), "{value}");
        }
        for value in ["NaN", "-1", "-inf", ""] {
            let s = Settings::default().apply_env(|n| (n == "ANGO_TIMEOUT").then(|| value.into()));
            assert_eq!(
                s.request_timeout,
                Settings::default().request_timeout,
                "{value}"
            );
        }
        assert_eq!(
            SettingsOverrides::timeout_from_secs(1e25).unwrap(),
            Some(MAX_TIMEOUT)
        );
        assert_eq!(
            SettingsOverrides::timeout_from_millis(1e25).unwrap(),
            Some(MAX_TIMEOUT)
        );
        assert!(SettingsOverrides::timeout_from_secs(f64::INFINITY).is_err());
        assert!(SettingsOverrides::timeout_from_millis(-1.0).is_err());
        assert_eq!(cap_timeout(Some(Duration::MAX)), Some(MAX_TIMEOUT));
        let huge = RetryPolicy {
            initial_backoff: Duration::MAX,
            max_backoff: Duration::MAX,
            ..RetryPolicy::default()
        };
        let _ = huge.backoff(u32::MAX);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn any_environment_gives_usable_settings(values in proptest::collection::vec(any::<String>(), 5)) {
                let names = ["ANGO_TIMEOUT", "ANGO_CONNECT_TIMEOUT", "ANGO_MAX_RETRIES", "ANGO_CONCURRENCY", "ANGO_PROGRESS"];
                let s = Settings::default().apply_env(|name| {
                    names.iter().position(|n| *n == name).map(|i| values[i].clone())
                });
                prop_assert!(s.request_timeout.is_none_or(|t| t <= MAX_TIMEOUT));
                prop_assert!(s.connect_timeout.is_none_or(|t| t <= MAX_TIMEOUT));
                prop_assert!((1..=MAX_CONCURRENCY).contains(&s.concurrency));
            }

            #[test]
            fn numeric_environment_values_never_panic(value in any::<f64>(), millis in any::<f64>()) {
                let text = format!("{value}");
                let s = Settings::default().apply_env(|n| (n == "ANGO_CONNECT_TIMEOUT").then(|| text.clone()));
                prop_assert!(s.connect_timeout.is_none_or(|t| t <= MAX_TIMEOUT));
                if let Ok(Some(t)) = SettingsOverrides::timeout_from_secs(value) {
                    prop_assert!(t <= MAX_TIMEOUT);
                }
                if let Ok(Some(t)) = SettingsOverrides::timeout_from_millis(millis) {
                    prop_assert!(t <= MAX_TIMEOUT);
                }
            }

            #[test]
            fn any_backoff_policy_never_panics(initial in any::<u64>(), max in any::<u64>(), attempt in any::<u32>()) {
                let policy = RetryPolicy {
                    initial_backoff: Duration::from_nanos(initial),
                    max_backoff: Duration::from_nanos(max),
                    ..RetryPolicy::default()
                };
                prop_assert!(policy.backoff(attempt) <= policy.max_backoff);
            }
        }
    }
}
