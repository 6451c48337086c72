//! Errors crossing into JavaScript.
//!
//! A napi error carries only a status and a message, so the fields of an
//! [`ango_core::Error`] (`code`, `status`, `body`) travel in the message as JSON after
//! [`MARKER`]; `ango.js` turns such an error back into an `Error` with those fields.

use serde_json::{Map, Value, json};

/// Starts the message of every error raised by this module (a control character, so no
/// message of another origin starts with it).
pub const MARKER: &str = "\u{1}ango-error:";

/// The napi error for a core error: code, HTTP status and body, message as the core's
/// `Display` (the server body for HTTP errors). The core never puts the API key in one.
pub fn to_napi(error: ango_core::Error) -> napi::Error {
    let mut fields = Map::new();
    fields.insert("code".into(), json!(error.code()));
    fields.insert("message".into(), json!(error.to_string()));
    if let Some(status) = error.status() {
        fields.insert("status".into(), json!(status));
    }
    if let Some(body) = error.body() {
        fields.insert("body".into(), json!(body));
    }
    if let Some(wait) = error.retry_after() {
        fields.insert("retryAfterMs".into(), json!(wait.as_millis() as u64));
    }
    napi::Error::from_reason(format!("{MARKER}{}", Value::Object(fields)))
}

/// An `INVALID_ARGUMENT` error raised by the binding's own argument conversion.
pub fn invalid(message: impl Into<String>) -> napi::Error {
    to_napi(ango_core::Error::InvalidArgument(message.into()))
}

/// `Result<T, ango_core::Error>` into a napi result.
pub trait IntoNapi<T> {
    /// Converts the error side with [`to_napi`].
    fn napi(self) -> napi::Result<T>;
}

impl<T> IntoNapi<T> for ango_core::Result<T> {
    fn napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}

/// Runs `work`, turning a panic into an `INTERNAL` error: no panic may unwind into
/// Node (it would abort the process). Every entry point also carries napi's
/// `catch_unwind`, whose uncoded errors `ango.js` reports as `INTERNAL` too; this
/// helper keeps the core's message and code where it is used.
pub fn guard<T>(work: impl FnOnce() -> napi::Result<T>) -> napi::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        Err(to_napi(ango_core::Error::Internal(
            ango_core::Error::panic_text(payload.as_ref()),
        )))
    })
}
