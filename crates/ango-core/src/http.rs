//! The wire layer: every request to Ango Hub goes through [`ApiCall`].
//!
//! It owns URL building, the `apikey` header, body encoding, timeouts, retries and
//! turning responses into JSON or typed errors. Endpoint modules only describe calls.

use std::io::Read;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value;
use ureq::http;

use crate::client::Client;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::pyjson;

/// The largest JSON response we accept (a page of 1000 tasks with answers can be big).
const MAX_JSON_RESPONSE: u64 = 1 << 30;

/// How safe a call is to send twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Sending it again has the same effect (GET, DELETE, PUT, "set" style POSTs).
    Idempotent,
    /// Sending it again could create duplicates: retried only when the server cannot
    /// have acted on it (connection refused, 429, 503).
    Once,
}

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Empty,
    Json(Vec<u8>),
    Form(Vec<(String, String)>),
    Multipart(Multipart),
}

/// A `multipart/form-data` body held in memory (small files only: instructions, chats).
#[derive(Debug, Clone)]
pub(crate) struct Multipart {
    boundary: String,
    bytes: Vec<u8>,
}

impl Multipart {
    pub(crate) fn new() -> Self {
        Multipart {
            boundary: format!("{:032x}", uuid::Uuid::new_v4().as_u128()),
            bytes: Vec::new(),
        }
    }

    pub(crate) fn text(mut self, name: &str, value: &str) -> Self {
        self.bytes.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{}\r\n",
                self.boundary,
                escape_quoted(name),
                value
            )
            .as_bytes(),
        );
        self
    }

    pub(crate) fn file(mut self, name: &str, file_name: &str, content: &[u8]) -> Self {
        self.bytes.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n\r\n",
                self.boundary,
                escape_quoted(name),
                escape_quoted(file_name)
            )
            .as_bytes(),
        );
        self.bytes.extend_from_slice(content);
        self.bytes.extend_from_slice(b"\r\n");
        self
    }

    fn finish(&self) -> (String, Vec<u8>) {
        let mut bytes = self.bytes.clone();
        bytes.extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        (
            format!("multipart/form-data; boundary={}", self.boundary),
            bytes,
        )
    }
}

fn escape_quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Percent-encodes a query or path component (everything but RFC 3986 unreserved characters).
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{:02X}", b)),
        }
    }
    out
}

/// Builds `a=b&c=d` with every name and value percent-encoded.
pub(crate) fn encode_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// One API call being described; sent by [`ApiCall::send`].
#[must_use = "an ApiCall does nothing until it is sent"]
pub(crate) struct ApiCall<'a> {
    client: &'a Client,
    method: http::Method,
    path: String,
    query: Vec<(String, String)>,
    body: Body,
    replay: Replay,
    /// Send `Content-Type: application/json` on a bodiless call, as the official
    /// SDK's JSON calls do (its raw export and upload-URL calls do not).
    json_content_type: bool,
}

impl<'a> ApiCall<'a> {
    pub(crate) fn new(client: &'a Client, method: http::Method, path: impl Into<String>) -> Self {
        let replay = if method == http::Method::POST || method == http::Method::PATCH {
            Replay::Once
        } else {
            Replay::Idempotent
        };
        ApiCall {
            client,
            method,
            path: path.into(),
            query: Vec::new(),
            body: Body::Empty,
            replay,
            json_content_type: true,
        }
    }

    /// Adds a query parameter.
    pub(crate) fn query(mut self, name: &str, value: impl ToString) -> Self {
        self.query.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds a query parameter when `value` is `Some`.
    pub(crate) fn query_opt(self, name: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(name, v),
            None => self,
        }
    }

    /// Adds a query parameter holding `value` as Python's `json.dumps` writes it.
    pub(crate) fn query_json<T: Serialize + ?Sized>(self, name: &str, value: &T) -> Self {
        let text = pyjson::to_string(value);
        self.query(name, text)
    }

    /// Sets a JSON body, written as Python's `json.dumps` writes it.
    pub(crate) fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        self.body = Body::Json(pyjson::to_vec(body));
        self
    }

    /// Sets an `application/x-www-form-urlencoded` body.
    pub(crate) fn form(mut self, fields: Vec<(String, String)>) -> Self {
        self.body = Body::Form(fields);
        self
    }

    /// Sets a `multipart/form-data` body.
    pub(crate) fn multipart(mut self, body: Multipart) -> Self {
        self.body = Body::Multipart(body);
        self
    }

    /// Sends no `Content-Type` when there is no body.
    pub(crate) fn without_content_type(mut self) -> Self {
        self.json_content_type = false;
        self
    }

    /// Marks a POST as safe to repeat (it sets state rather than creating it).
    pub(crate) fn idempotent(mut self) -> Self {
        self.replay = Replay::Idempotent;
        self
    }

    /// The full URL this call goes to.
    pub(crate) fn url(&self) -> String {
        let mut url = format!("{}{}", self.client.host(), self.path);
        if !self.query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&encode_query(&self.query));
        }
        url
    }

    /// Sends the call (with retries) and decodes the JSON response.
    pub(crate) fn send(self) -> Result<Value> {
        let bytes = self.send_raw()?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::decode(format!("invalid JSON: {e}"), &bytes))
    }

    /// Sends the call (with retries) and returns the raw success body.
    pub(crate) fn send_raw(self) -> Result<Vec<u8>> {
        let url = self.url();
        let settings = self.client.settings();
        let (content_type, payload): (Option<String>, Vec<u8>) = match &self.body {
            Body::Empty => (None, Vec::new()),
            Body::Json(bytes) => (Some("application/json".into()), bytes.clone()),
            Body::Form(fields) => (
                Some("application/x-www-form-urlencoded".into()),
                form_encode(fields).into_bytes(),
            ),
            Body::Multipart(m) => {
                let (ct, bytes) = m.finish();
                (Some(ct), bytes)
            }
        };
        let has_body = !matches!(self.body, Body::Empty);
        let mut attempt: u32 = 0;
        loop {
            let outcome = self.attempt(&url, settings, content_type.as_deref(), &payload, has_body);
            let retry_wait = match &outcome {
                Ok(_) => None,
                Err(failure) => retry_decision(failure, self.replay, attempt, settings),
            };
            match (outcome, retry_wait) {
                (Ok(bytes), _) => return Ok(bytes),
                (Err(failure), None) => return Err(failure.error),
                (Err(_), Some(wait)) => {
                    attempt += 1;
                    std::thread::sleep(wait);
                }
            }
        }
    }

    fn attempt(
        &self,
        url: &str,
        settings: &Settings,
        content_type: Option<&str>,
        payload: &[u8],
        has_body: bool,
    ) -> std::result::Result<Vec<u8>, Failure> {
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(url)
            .header("apikey", self.client.api_key_value())
            .header("accept", "application/json");
        // The official SDK sends Content-Type: application/json on every JSON-API call,
        // bodiless ones included; servers key body parsing on it.
        if let Some(content_type) =
            content_type.or(self.json_content_type.then_some("application/json"))
        {
            builder = builder.header("content-type", content_type);
        }
        let request = builder
            .body(payload.to_vec())
            .map_err(|e| Failure::fatal(Error::Transport(format!("invalid request: {e}"))))?;
        let agent = self.client.agent();
        let mut config = agent
            .configure_request(request)
            .timeout_connect(settings.connect_timeout)
            .timeout_global(settings.request_timeout)
            .http_status_as_error(false);
        if has_body || self.method == http::Method::DELETE {
            config = config.allow_non_standard_methods(true);
        }
        let request = config.build();
        let response = agent.run(request).map_err(Failure::from_transport)?;
        read_response(response)
    }
}

fn form_encode(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", form_component(k), form_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn form_component(s: &str) -> String {
    encode_component(s).replace("%20", "+")
}

/// Reads a response: the body on 2xx, a typed error otherwise.
fn read_response(
    mut response: http::Response<ureq::Body>,
) -> std::result::Result<Vec<u8>, Failure> {
    let status = response.status().as_u16();
    let retry_after = retry_after_of(response.headers());
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_JSON_RESPONSE)
        .read_to_vec()
        .map_err(Failure::from_transport_after_send)?;
    if (200..300).contains(&status) {
        return Ok(body);
    }
    Err(Failure {
        error: Error::Http {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            retry_after,
        },
        reached_server: true,
    })
}

/// The server's `retry-after-ms` or `Retry-After` (seconds or HTTP date), if present.
pub(crate) fn retry_after_of(headers: &http::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let raw = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = raw.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let when = httpdate::parse_http_date(raw).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A failed attempt, with whether the server may have acted on it.
pub(crate) struct Failure {
    pub(crate) error: Error,
    /// False only when we know the request never reached the server.
    pub(crate) reached_server: bool,
}

impl Failure {
    fn fatal(error: Error) -> Self {
        Failure {
            error,
            reached_server: true,
        }
    }

    /// A transport error before or during the exchange.
    pub(crate) fn from_transport(error: ureq::Error) -> Self {
        let reached_server = !matches!(
            &error,
            ureq::Error::ConnectionFailed
                | ureq::Error::HostNotFound
                | ureq::Error::Timeout(ureq::Timeout::Connect)
                | ureq::Error::Timeout(ureq::Timeout::Resolve)
        ) && !matches!(&error, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused);
        Failure {
            error: map_transport(error),
            reached_server,
        }
    }

    /// A transport error while reading a response: the server had the request.
    pub(crate) fn from_transport_after_send(error: ureq::Error) -> Self {
        Failure {
            error: map_transport(error),
            reached_server: true,
        }
    }
}

/// Maps ureq's errors onto ours; the text never contains request headers.
pub(crate) fn map_transport(error: ureq::Error) -> Error {
    match error {
        ureq::Error::Timeout(kind) => Error::Timeout(kind.to_string()),
        ureq::Error::ConnectionFailed => Error::Connection("connection failed".into()),
        ureq::Error::HostNotFound => Error::Connection("host not found".into()),
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                Error::Timeout(io.to_string())
            }
            _ => Error::Connection(io.to_string()),
        },
        ureq::Error::BodyExceedsLimit(limit) => Error::Decode {
            message: format!("response larger than {limit} bytes"),
            body_snippet: String::new(),
        },
        other => Error::Transport(other.to_string()),
    }
}

/// Whether (and after how long) to try a failed attempt again.
pub(crate) fn retry_decision(
    failure: &Failure,
    replay: Replay,
    attempt: u32,
    settings: &Settings,
) -> Option<Duration> {
    let policy = &settings.retry;
    if attempt >= policy.max_retries {
        return None;
    }
    let retryable = match &failure.error {
        Error::Http { status, .. } => match status {
            // The server refused to start the work: safe to repeat even for a POST.
            429 | 503 => true,
            408 | 500 | 502 | 504 => replay == Replay::Idempotent,
            _ => false,
        },
        Error::Connection(_) | Error::Timeout(_) => {
            replay == Replay::Idempotent || !failure.reached_server
        }
        _ => false,
    };
    if !retryable {
        return None;
    }
    let backoff = policy.backoff(attempt + 1);
    match failure.error.retry_after() {
        Some(wait) if wait > policy.max_retry_after => None,
        Some(wait) => Some(wait.max(backoff.min(Duration::from_millis(50)))),
        None => Some(backoff),
    }
}

/// A signed storage URL's answer, a success or a failure to judge for retrying.
fn storage_outcome(
    result: std::result::Result<http::Response<ureq::Body>, ureq::Error>,
) -> std::result::Result<http::Response<ureq::Body>, Failure> {
    match result {
        Ok(response) if response.status().is_success() => Ok(response),
        Ok(mut response) => {
            let status = response.status().as_u16();
            let retry_after = retry_after_of(response.headers());
            let mut body = String::new();
            let _ = response
                .body_mut()
                .as_reader()
                .take(64 * 1024)
                .read_to_string(&mut body);
            Err(Failure::fatal(Error::Http {
                status,
                body,
                retry_after,
            }))
        }
        Err(e) => Err(Failure::from_transport(e)),
    }
}

/// Runs an idempotent request to a signed storage URL until it succeeds or the retry
/// policy gives up. `attempt` builds and sends one request.
fn with_storage_retries<T>(
    client: &Client,
    mut attempt: impl FnMut(&Settings) -> std::result::Result<T, Failure>,
) -> Result<T> {
    let settings = client.settings();
    let mut retries = 0;
    loop {
        let failure = match attempt(settings) {
            Ok(value) => return Ok(value),
            Err(failure) => failure,
        };
        match retry_decision(&failure, Replay::Idempotent, retries, settings) {
            Some(wait) => {
                retries += 1;
                std::thread::sleep(wait);
            }
            None => return Err(failure.error),
        }
    }
}

/// GETs a signed storage URL (an export download): never sends the API key.
pub(crate) fn get_external(client: &Client, url: &str) -> Result<http::Response<ureq::Body>> {
    with_storage_retries(client, |settings| {
        let request = client
            .agent()
            .get(url)
            .config()
            .timeout_connect(settings.connect_timeout)
            .timeout_global(settings.download_timeout)
            .http_status_as_error(false)
            .build();
        storage_outcome(request.call())
    })
}

/// PUTs a local file to a signed storage URL, streamed from disk with its length, and
/// checks the status (the official SDK does not). Never sends the API key; retried as
/// a PUT is idempotent (the file is reopened for each attempt).
pub(crate) fn put_file_external(client: &Client, url: &str, path: &std::path::Path) -> Result<()> {
    with_storage_retries(client, |settings| {
        let file = std::fs::File::open(path).map_err(|e| Failure {
            error: Error::io(format!("reading {}", path.display()), e),
            reached_server: false,
        })?;
        let request = client
            .agent()
            .put(url)
            .config()
            .timeout_connect(settings.connect_timeout)
            .timeout_global(settings.download_timeout)
            .http_status_as_error(false)
            .build();
        storage_outcome(request.send(file)).map(drop)
    })
}

/// PUTs bytes to a signed storage URL (brush masks), checking the status and retrying
/// as a PUT is idempotent. Never sends the API key.
pub(crate) fn put_bytes_external(client: &Client, url: &str, bytes: &[u8]) -> Result<()> {
    with_storage_retries(client, |settings| {
        let request = client
            .agent()
            .put(url)
            .config()
            .timeout_connect(settings.connect_timeout)
            .timeout_global(settings.download_timeout)
            .http_status_as_error(false)
            .build();
        storage_outcome(request.send(bytes)).map(drop)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(encode_component("a b/{\"x\"}"), "a%20b%2F%7B%22x%22%7D");
        assert_eq!(form_component("a b"), "a+b");
    }

    #[test]
    fn retry_after_forms_are_understood() {
        let mut headers = http::HeaderMap::new();
        headers.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after_of(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after_of(&headers), Some(Duration::from_millis(150)));
        let mut dated = http::HeaderMap::new();
        dated.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_of(&dated), Some(Duration::ZERO));
    }

    #[test]
    fn posts_are_not_retried_after_reaching_the_server() {
        let settings = Settings::default();
        let err = |status| Failure {
            error: Error::Http {
                status,
                body: String::new(),
                retry_after: None,
            },
            reached_server: true,
        };
        assert!(retry_decision(&err(502), Replay::Once, 0, &settings).is_none());
        assert!(retry_decision(&err(502), Replay::Idempotent, 0, &settings).is_some());
        assert!(retry_decision(&err(429), Replay::Once, 0, &settings).is_some());
        for status in [400, 401, 403, 404, 451] {
            assert!(retry_decision(&err(status), Replay::Idempotent, 0, &settings).is_none());
        }
        let dropped = Failure {
            error: Error::Connection("reset".into()),
            reached_server: true,
        };
        assert!(retry_decision(&dropped, Replay::Once, 0, &settings).is_none());
        let refused = Failure {
            error: Error::Connection("refused".into()),
            reached_server: false,
        };
        assert!(retry_decision(&refused, Replay::Once, 0, &settings).is_some());
        assert!(
            retry_decision(
                &err(503),
                Replay::Idempotent,
                settings.retry.max_retries,
                &settings
            )
            .is_none()
        );
    }
}
