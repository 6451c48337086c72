//! The wire layer: every request to Ango Hub goes through [`ApiCall`].
//!
//! It owns URL building, the `apikey` header, body encoding, timeouts, retries and
//! turning responses into JSON or typed errors. Endpoint modules only describe calls.

use std::io::Read;
use std::time::{Duration, SystemTime};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode, utf8_percent_encode};
use serde::Serialize;
use serde_json::Value;
use ureq::http;

use crate::client::Client;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::pyjson;
use crate::retry::{self, RetryClass};

/// The largest JSON response we accept (a page of 1000 tasks with answers can be big).
const MAX_JSON_RESPONSE: u64 = 1 << 30;

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

/// Escapes a multipart `name`/`filename` parameter so it stays one quoted string on
/// one header line: `"`, CR and LF are percent-encoded as the WHATWG form encoding (and
/// so `requests`/urllib3, the official SDK's stack) does, and a backslash is doubled so
/// parsers that read quoted-string escapes get it back.
fn escape_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("%22"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

/// The bytes [`encode_component`] escapes: everything but RFC 3986 unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The bytes [`requote_endpoint`] escapes in a path, as `requests` does (`requote_uri`):
/// all but the unreserved and reserved characters other than `?`, `#`, `[`, `]` and `%`.
const REQUOTE_PATH: &AsciiSet = &COMPONENT
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@')
    .remove(b'/');

/// [`REQUOTE_PATH`] for a query, where `?` stays as it is.
const REQUOTE_QUERY: &AsciiSet = &REQUOTE_PATH.remove(b'?');

/// Percent-encodes a query or path component (everything but RFC 3986 unreserved characters).
pub(crate) fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// An endpoint given by a caller (`make_request`) made fit for the request line the way
/// the official SDK's `requests` does it: the fragment is dropped, `.`/`..` path segments
/// are resolved, bytes outside the characters allowed in a path or query (space, quotes,
/// braces, non-ASCII UTF-8, ...) are percent-encoded, existing `%XX` escapes are kept
/// (upper-cased, and decoded when they stand for an unreserved character) unless some `%`
/// in that part is not an escape, in which case every `%` there becomes `%25`.
pub(crate) fn requote_endpoint(endpoint: &str) -> String {
    let endpoint = endpoint.split('#').next().unwrap_or("");
    let (path, query) = match endpoint.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (endpoint, None),
    };
    let mut out = requote_part(&remove_dot_segments(path), false);
    if let Some(query) = query {
        out.push('?');
        out.push_str(&requote_part(query, true));
    }
    out
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// One part (path or query) of [`requote_endpoint`].
fn requote_part(part: &str, query: bool) -> String {
    let set = if query { REQUOTE_QUERY } else { REQUOTE_PATH };
    let bytes = part.as_bytes();
    let is_escape = |i: usize| {
        bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    };
    if !(0..bytes.len()).all(|i| bytes[i] != b'%' || is_escape(i)) {
        // Some `%` is not an escape: every `%` is a literal one.
        return percent_encode(bytes, set).to_string();
    }
    let mut out = String::with_capacity(part.len());
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            i += 1;
            continue;
        }
        out.extend(percent_encode(&bytes[run..i], set));
        let hex = &part[i + 1..i + 3];
        match u8::from_str_radix(hex, 16) {
            Ok(decoded) if is_unreserved(decoded) => out.push(decoded as char),
            _ => {
                out.push('%');
                out.push_str(&hex.to_ascii_uppercase());
            }
        }
        i += 3;
        run = i;
    }
    out.extend(percent_encode(&bytes[run..], set));
    out
}

/// Resolves `.` and `..` path segments as urllib3 does for http(s) URLs (RFC 3986
/// section 5.2.4).
fn remove_dot_segments(path: &str) -> String {
    let mut output: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "." => {}
            ".." => {
                output.pop();
            }
            other => output.push(other),
        }
    }
    if path.starts_with('/') && output.first().is_none_or(|first| !first.is_empty()) {
        output.insert(0, "");
    }
    if path.ends_with("/.") || path.ends_with("/..") {
        output.push("");
    }
    output.join("/")
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
    /// Send `Content-Type: application/json` on a bodiless call, as the official
    /// SDK's JSON calls do (its raw export and upload-URL calls do not).
    json_content_type: bool,
}

impl<'a> ApiCall<'a> {
    pub(crate) fn new(client: &'a Client, method: http::Method, path: impl Into<String>) -> Self {
        ApiCall {
            client,
            method,
            path: path.into(),
            query: Vec::new(),
            body: Body::Empty,
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

    /// Kept for call sites written before the retry table: the class now comes from
    /// [`retry`]'s table alone. In debug builds this checks that the table agrees the
    /// call is safe to repeat, so a stale `.idempotent()` cannot hide a mismatch.
    #[allow(dead_code)]
    pub(crate) fn idempotent(self) -> Self {
        debug_assert_eq!(
            self.retry_class(),
            RetryClass::Safe,
            "{} {} is not Safe in the retry table",
            self.method,
            self.path
        );
        self
    }

    /// How this call may be retried, from the one table in [`retry`].
    pub(crate) fn retry_class(&self) -> RetryClass {
        retry::class_of(&self.method, &self.path)
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

    /// Sends the call (with retries) and decodes the JSON response; under
    /// [`capture_raw_reply`], the first reply is kept undecoded instead (and `Null`
    /// returned).
    pub(crate) fn send(self) -> Result<Value> {
        let bytes = self.send_raw()?;
        let bytes = RAW_REPLY.with(|slot| match slot.replace(None) {
            None => Some(bytes),
            Some(RawReply::Armed) => {
                slot.set(Some(RawReply::Held(bytes)));
                None
            }
            Some(RawReply::Held(_) | RawReply::Spoiled) => {
                slot.set(Some(RawReply::Spoiled));
                Some(bytes)
            }
        });
        match bytes {
            Some(bytes) => decode_json(&bytes),
            None => Ok(Value::Null),
        }
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
        let class = self.retry_class();
        let cancel = self.client.active_cancel();
        let cancel = cancel.as_ref();
        let mut attempt: u32 = 0;
        loop {
            crate::cancel::check(cancel)?;
            let outcome = self.attempt(&url, settings, content_type.as_deref(), &payload, has_body);
            if outcome.is_err() {
                // A failure caused by the cancellation (the wait for the server cut
                // short) is reported as such; a reply that arrived is kept.
                crate::cancel::check(cancel)?;
            }
            let retry_wait = match &outcome {
                Ok(_) => None,
                Err(failure) => retry_decision(failure, class, attempt, settings),
            };
            match (outcome, retry_wait) {
                (Ok(bytes), _) => return Ok(bytes),
                (Err(failure), None) => return Err(failure.error),
                (Err(_), Some(wait)) => {
                    attempt += 1;
                    crate::cancel::sleep(cancel, wait)?;
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
            .timeout_connect(crate::config::cap_timeout(settings.connect_timeout))
            .timeout_global(crate::config::cap_timeout(settings.request_timeout))
            .http_status_as_error(false)
            // Never follow a redirect with the API key (the agent is set so too).
            .max_redirects(0);
        if has_body || self.method == http::Method::DELETE {
            config = config.allow_non_standard_methods(true);
        }
        let request = config.build();
        let cancel = self.client.active_cancel();
        let cancel = cancel.as_ref();
        crate::cancel::during(cancel, || {
            let response = agent.run(request).map_err(Failure::from_transport)?;
            read_response(response, cancel)
        })
    }
}

/// The state of [`capture_raw_reply`] on this thread.
enum RawReply {
    /// Capturing: the next reply is kept undecoded.
    Armed,
    /// The reply, undecoded.
    Held(Vec<u8>),
    /// More than one request was sent: nothing usable was captured.
    Spoiled,
}

thread_local! {
    static RAW_REPLY: std::cell::Cell<Option<RawReply>> = const { std::cell::Cell::new(None) };
}

/// Runs `call` (which must send exactly one API request and return its decoded reply
/// unchanged) and gives that reply's body undecoded: for callers that decode JSON
/// straight into their own objects. The request is the same; only decoding is skipped.
pub(crate) fn capture_raw_reply(call: impl FnOnce() -> Result<Value>) -> Result<Vec<u8>> {
    RAW_REPLY.with(|slot| slot.set(Some(RawReply::Armed)));
    let outcome = call();
    let captured = RAW_REPLY.with(|slot| slot.replace(None));
    outcome?;
    match captured {
        Some(RawReply::Held(bytes)) => Ok(bytes),
        _ => Err(Error::Internal(
            "a raw reply was asked of a call that did not send exactly one request".into(),
        )),
    }
}

/// Decodes a success body as JSON; anything else (invalid UTF-8, nesting deeper than
/// serde_json's limit, trailing bytes) is [`Error::Decode`], never a panic.
pub(crate) fn decode_json(bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| Error::decode(format!("invalid JSON: {e}"), bytes))
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
    cancel: Option<&crate::cancel::Cancel>,
) -> std::result::Result<Vec<u8>, Failure> {
    let status = response.status().as_u16();
    let retry_after = retry_after_of(response.headers());
    let location = response
        .headers()
        .get("location")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = match cancel {
        None => response
            .body_mut()
            .with_config()
            .limit(MAX_JSON_RESPONSE)
            .read_to_vec()
            .map_err(Failure::from_transport_after_send)?,
        // Read in chunks, stopping between them once cancelled.
        Some(cancel) => {
            let mut reader = crate::cancel::CancelRead {
                inner: response
                    .body_mut()
                    .with_config()
                    .limit(MAX_JSON_RESPONSE)
                    .reader(),
                cancel: Some(cancel.clone()),
            };
            let mut body = Vec::new();
            reader
                .read_to_end(&mut body)
                .map_err(|e| Failure::fatal(cancel.check().err().unwrap_or(map_body_io(e))))?;
            body
        }
    };
    if (200..300).contains(&status) {
        return Ok(body);
    }
    if (300..400).contains(&status) {
        return Err(Failure::fatal(redirect_refused(status, location, &body)));
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

/// A failure reading a response body through a reader: the same errors as
/// `read_to_vec` gives (ureq wraps its own errors in the I/O error).
fn map_body_io(error: std::io::Error) -> Error {
    match error.downcast::<ureq::Error>() {
        Ok(inner) => map_transport(inner),
        Err(io) => map_transport(ureq::Error::Io(io)),
    }
}

/// The error for a redirect answer to an API call: never followed, since the `apikey`
/// header must not reach any other origin. The text is the body, or says what happened.
fn redirect_refused(status: u16, location: Option<String>, body: &[u8]) -> Error {
    let text = String::from_utf8_lossy(body).trim().to_string();
    let body = if text.is_empty() {
        format!(
            "HTTP {status}: the server redirected to {}; API calls do not follow redirects \
             (the API key is only sent to the configured host)",
            location.as_deref().unwrap_or("(no location)")
        )
    } else {
        text
    };
    Error::Http {
        status,
        body,
        retry_after: None,
    }
}

/// The server's `retry-after-ms` or `Retry-After` (seconds or HTTP date), if present.
///
/// Any header value is accepted without panicking: negative, NaN or unparsable values
/// count as absent, dates in the past as zero, and waits too long to represent as
/// [`Duration::MAX`] (which every retry policy refuses to wait for).
pub(crate) fn retry_after_of(headers: &http::HeaderMap) -> Option<Duration> {
    if let Some(wait) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|ms| seconds_to_wait(ms / 1000.0))
    {
        return Some(wait);
    }
    let raw = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = raw.parse::<f64>() {
        return seconds_to_wait(seconds);
    }
    let when = httpdate::parse_http_date(raw).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A wait of `seconds`: `None` when negative or NaN, saturated at [`Duration::MAX`].
fn seconds_to_wait(seconds: f64) -> Option<Duration> {
    if seconds.is_nan() || seconds < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
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

/// Whether (and after how long) to try a failed attempt again, following the call's
/// [`RetryClass`].
pub(crate) fn retry_decision(
    failure: &Failure,
    class: RetryClass,
    attempt: u32,
    settings: &Settings,
) -> Option<Duration> {
    let policy = &settings.retry;
    if attempt >= policy.max_retries || class == RetryClass::Never {
        return None;
    }
    let safe = class == RetryClass::Safe;
    let retryable = match &failure.error {
        Error::Http { status, .. } => match status {
            // The server refused to start the work: safe to repeat even for a POST.
            429 | 503 => true,
            408 | 500 | 502 | 504 => safe,
            _ => false,
        },
        Error::Connection(_) | Error::Timeout(_) => safe || !failure.reached_server,
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
    let cancel = client.active_cancel();
    let cancel = cancel.as_ref();
    let mut retries = 0;
    loop {
        crate::cancel::check(cancel)?;
        let failure = match crate::cancel::during(cancel, || attempt(settings)) {
            Ok(value) => return Ok(value),
            Err(failure) => failure,
        };
        crate::cancel::check(cancel)?;
        match retry_decision(&failure, RetryClass::Safe, retries, settings) {
            Some(wait) => {
                retries += 1;
                crate::cancel::sleep(cancel, wait)?;
            }
            None => return Err(failure.error),
        }
    }
}

/// Redirects followed for a signed storage download.
const STORAGE_MAX_REDIRECTS: u32 = 10;

fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// GETs a signed storage URL (an export download): never sends the API key.
pub(crate) fn get_external(client: &Client, url: &str) -> Result<http::Response<ureq::Body>> {
    with_storage_retries(client, |settings| {
        // Signed URLs carry no key, so their redirects may be followed, but never from
        // https to http: `https_only` applies to every hop.
        let request = client
            .agent()
            .get(url)
            .config()
            .timeout_connect(crate::config::cap_timeout(settings.connect_timeout))
            .timeout_global(crate::config::cap_timeout(settings.download_timeout))
            .http_status_as_error(false)
            .max_redirects(STORAGE_MAX_REDIRECTS)
            .https_only(is_https(url))
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
        let length = file.metadata().map(|m| m.len()).map_err(|e| Failure {
            error: Error::io(format!("reading {}", path.display()), e),
            reached_server: false,
        })?;
        // The length is stated, so the file streams as one sized body (not chunked)
        // through a reader that stops between chunks once cancelled.
        let request = client
            .agent()
            .put(url)
            .header("content-length", length)
            .config()
            .timeout_connect(crate::config::cap_timeout(settings.connect_timeout))
            .timeout_global(crate::config::cap_timeout(settings.download_timeout))
            .http_status_as_error(false)
            .build();
        let file = crate::cancel::CancelRead {
            inner: file,
            cancel: client.active_cancel(),
        };
        storage_outcome(request.send(ureq::SendBody::from_owned_reader(file))).map(drop)
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
            .timeout_connect(crate::config::cap_timeout(settings.connect_timeout))
            .timeout_global(crate::config::cap_timeout(settings.download_timeout))
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
    fn hostile_retry_after_values_never_panic() {
        let mut headers = http::HeaderMap::new();
        for (name, value, expected) in [
            ("retry-after", "1e30", Some(Duration::MAX)),
            ("retry-after", "inf", Some(Duration::MAX)),
            ("retry-after", "-5", None),
            ("retry-after", "NaN", None),
            ("retry-after", "nonsense", None),
            ("retry-after-ms", "1e40", Some(Duration::MAX)),
            ("retry-after-ms", "-1", None),
        ] {
            headers.clear();
            headers.insert(name, value.parse().unwrap());
            assert_eq!(retry_after_of(&headers), expected, "{name}: {value}");
        }
        headers.clear();
        headers.insert(
            "retry-after",
            "Fri, 31 Dec 9999 23:59:59 GMT".parse().unwrap(),
        );
        assert!(retry_after_of(&headers).unwrap() > Duration::from_secs(3600 * 24 * 365));
        // A wait no policy accepts gives up instead of sleeping.
        let failure = Failure {
            error: Error::Http {
                status: 429,
                body: String::new(),
                retry_after: Some(Duration::MAX),
            },
            reached_server: true,
        };
        assert!(retry_decision(&failure, RetryClass::Safe, 0, &Settings::default()).is_none());
    }

    #[test]
    fn endpoints_are_requoted_as_requests_does() {
        // Expected values printed by requests 2.3x / urllib3 2.x `PreparedRequest.path_url`;
        // the Python and Node suites send the same cases through their bindings.
        let fixture: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/wire/make_request_endpoints.json"
        ))
        .unwrap();
        let cases = fixture["cases"].as_array().unwrap();
        assert!(cases.len() >= 25);
        for case in cases {
            let (given, wire) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
            assert_eq!(requote_endpoint(given), wire, "{given:?}");
        }
    }

    #[test]
    fn multipart_parameters_cannot_break_the_header() {
        let body =
            Multipart::new()
                .text("a\"b\r\nX-Injected: 1", "v")
                .file("f", "evil\"\r\n.txt\\", b"x");
        let (_, bytes) = body.finish();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("name=\"a%22b%0D%0AX-Injected: 1\""), "{text}");
        assert!(
            text.contains("filename=\"evil%22%0D%0A.txt\\\\\""),
            "{text}"
        );
        assert!(!text.contains("\r\nX-Injected"), "{text}");
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
        assert!(retry_decision(&err(502), RetryClass::BeforeSend, 0, &settings).is_none());
        assert!(retry_decision(&err(502), RetryClass::Safe, 0, &settings).is_some());
        assert!(retry_decision(&err(429), RetryClass::BeforeSend, 0, &settings).is_some());
        for status in [400, 401, 403, 404, 451] {
            assert!(retry_decision(&err(status), RetryClass::Safe, 0, &settings).is_none());
        }
        let dropped = Failure {
            error: Error::Connection("reset".into()),
            reached_server: true,
        };
        assert!(retry_decision(&dropped, RetryClass::BeforeSend, 0, &settings).is_none());
        let refused = Failure {
            error: Error::Connection("refused".into()),
            reached_server: false,
        };
        assert!(retry_decision(&refused, RetryClass::BeforeSend, 0, &settings).is_some());
        assert!(retry_decision(&refused, RetryClass::Never, 0, &settings).is_none());
        assert!(retry_decision(&err(503), RetryClass::Never, 0, &settings).is_none());
        assert!(
            retry_decision(
                &err(503),
                RetryClass::Safe,
                settings.retry.max_retries,
                &settings
            )
            .is_none()
        );
    }

    /// A one-request-per-connection loopback server: `answer(request)` is the raw reply;
    /// every request's head is kept.
    fn tiny_server(
        answer: impl Fn(&str) -> String + Send + Sync + 'static,
    ) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use std::io::{BufRead, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = heads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(8) {
                let Ok(mut stream) = stream else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                while reader.read_line(&mut head).unwrap_or(0) > 2 && !head.ends_with("\r\n\r\n") {}
                let reply = answer(&head);
                seen.lock().unwrap().push(head);
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        (url, heads)
    }

    #[test]
    fn storage_downloads_follow_redirects_but_uploads_do_not() {
        let (target, target_heads) = tiny_server(|_| {
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".into()
        });
        let location = format!("{target}/file");
        let (origin, _) = tiny_server(move |_| {
            format!(
                "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
        });
        let client = Client::builder("secret-key")
            .host(&origin)
            .max_retries(0)
            .build()
            .unwrap();
        let mut response = get_external(&client, &format!("{origin}/signed")).unwrap();
        assert_eq!(response.body_mut().read_to_string().unwrap(), "ok");
        let heads = target_heads.lock().unwrap().clone();
        assert_eq!(heads.len(), 1);
        assert!(
            !heads[0].to_ascii_lowercase().contains("apikey"),
            "{heads:?}"
        );

        // A PUT answered with a redirect is an error, not a silent GET elsewhere.
        let err = put_bytes_external(&client, &format!("{origin}/signed"), b"data").unwrap_err();
        assert_eq!(err.status(), Some(302), "{err:?}");
        assert_eq!(target_heads.lock().unwrap().len(), 1);
        assert!(is_https("HTTPS://x") && !is_https("http://x") && !is_https("htt"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn config() -> ProptestConfig {
            ProptestConfig {
                cases: 400,
                failure_persistence: None,
                ..ProptestConfig::default()
            }
        }

        fn header_map(name: &'static str, raw: &[u8]) -> Option<http::HeaderMap> {
            let value = http::HeaderValue::from_bytes(raw).ok()?;
            let mut headers = http::HeaderMap::new();
            headers.insert(name, value);
            Some(headers)
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn retry_after_parsing_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
                for name in ["retry-after", "retry-after-ms"] {
                    if let Some(headers) = header_map(name, &raw) {
                        let _ = retry_after_of(&headers);
                    }
                }
            }

            #[test]
            fn numeric_retry_after_is_never_negative_or_panicking(value in any::<f64>()) {
                for (name, text) in [("retry-after", format!("{value}")), ("retry-after-ms", format!("{value:e}"))] {
                    let headers = header_map(name, text.as_bytes()).unwrap();
                    let wait = retry_after_of(&headers);
                    prop_assert_eq!(wait.is_some(), !value.is_nan() && value >= 0.0, "{}: {}", name, text);
                    let failure = Failure {
                        error: Error::Http { status: 503, body: String::new(), retry_after: wait },
                        reached_server: true,
                    };
                    let settings = Settings::default();
                    if let Some(sleep) = retry_decision(&failure, RetryClass::Safe, 0, &settings) {
                        prop_assert!(sleep <= settings.retry.max_retry_after.max(settings.retry.max_backoff));
                    }
                }
            }

            #[test]
            fn response_bodies_decode_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                match decode_json(&bytes) {
                    Ok(value) => prop_assert_eq!(serde_json::from_slice::<Value>(&bytes).ok(), Some(value)),
                    Err(Error::Decode { body_snippet, .. }) => prop_assert!(body_snippet.chars().count() <= 200),
                    Err(other) => prop_assert!(false, "unexpected {other:?}"),
                }
            }

            #[test]
            fn json_like_bodies_decode_or_fail_cleanly(text in r#"[\[\]{}":,0-9eE.+\-a-z\\ ]{0,200}"#) {
                let _ = decode_json(text.as_bytes());
            }

            #[test]
            fn requoted_endpoints_always_make_a_valid_request_line(endpoint in any::<String>()) {
                let wire = requote_endpoint(&format!("/{endpoint}"));
                prop_assert!(wire.is_ascii(), "{}", wire);
                let uri = format!("http://127.0.0.1{wire}");
                prop_assert!(uri.parse::<http::Uri>().is_ok(), "{}", uri);
                // Requoting what is already on the wire changes nothing.
                prop_assert_eq!(requote_endpoint(&wire), wire.clone());
            }

            #[test]
            fn multipart_parameters_stay_one_quoted_string(name in any::<String>()) {
                let escaped = escape_quoted(&name);
                prop_assert!(!escaped.contains(['"', '\r', '\n']), "{:?}", escaped);
            }
        }
    }
}
