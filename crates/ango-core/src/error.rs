//! The one error type of the crate.

use std::time::Duration;

/// Everything that can go wrong when talking to Ango Hub.
///
/// The `Display` text of [`Error::Http`] is the server's response body, as the
/// official SDK raises it, so callers that printed errors keep seeing the same text.
/// No variant ever carries the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-success HTTP status.
    #[error("{body}")]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The response body, as text.
        body: String,
        /// How long the server asked us to wait (`Retry-After` / `retry-after-ms`), if it said.
        retry_after: Option<Duration>,
    },
    /// The request or the response did not complete in time.
    #[error("request timed out: {0}")]
    Timeout(String),
    /// The connection could not be made or was lost.
    #[error("connection failed: {0}")]
    Connection(String),
    /// Another transport-level failure (TLS, protocol, invalid URL).
    #[error("transport error: {0}")]
    Transport(String),
    /// The response could not be decoded as the expected JSON.
    #[error("could not decode the response: {message}")]
    Decode {
        /// What went wrong.
        message: String,
        /// The start of the offending body, for diagnosis.
        body_snippet: String,
    },
    /// An argument was refused before any request was sent.
    #[error("{0}")]
    InvalidArgument(String),
    /// Something the request refers to does not exist (for example a batch name).
    #[error("{0}")]
    NotFound(String),
    /// A local file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing, usually including the path.
        context: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An export archive was malformed or refused as unsafe.
    #[error("export archive error: {0}")]
    Archive(String),
    /// The server's answers contradict each other (a page total that changed, a size
    /// that does not match), so the result could not be completed without losing data.
    #[error("inconsistent server response: {0}")]
    Inconsistent(String),
    /// The caller cancelled the operation (Ctrl-C, an abort signal) before it finished.
    #[error("operation cancelled")]
    Cancelled,
    /// A bug inside the SDK was caught (a panic) instead of crashing the caller.
    #[error("internal error in the Ango SDK: {0}")]
    Internal(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status of an [`Error::Http`], if this is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A stable, machine-readable code for bindings: `HTTP`, `RATE_LIMITED`, `TIMEOUT`,
    /// `CONNECTION`, `TRANSPORT`, `DECODE`, `INVALID_ARGUMENT`, `NOT_FOUND`, `IO`, `ARCHIVE`,
    /// `INCONSISTENT`, `CANCELLED`, `INTERNAL`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Http { status: 429, .. } => "RATE_LIMITED",
            Error::Http { .. } => "HTTP",
            Error::Timeout(_) => "TIMEOUT",
            Error::Connection(_) => "CONNECTION",
            Error::Transport(_) => "TRANSPORT",
            Error::Decode { .. } => "DECODE",
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::NotFound(_) => "NOT_FOUND",
            Error::Io { .. } => "IO",
            Error::Archive(_) => "ARCHIVE",
            Error::Inconsistent(_) => "INCONSISTENT",
            Error::Cancelled => "CANCELLED",
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// The server's requested wait before retrying, for rate-limit and overload answers.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The response body of an [`Error::Http`], if this is one.
    pub fn body(&self) -> Option<&str> {
        match self {
            Error::Http { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The text of a caught panic's payload (`panic!("...")` carries a `&str` or a
    /// `String`), for turning a panic into [`Error::Internal`] at a boundary.
    pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
        payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string())
    }

    /// Runs `work`, turning a panic into [`Error::Internal`]: the one way the crate,
    /// the plugin runtime and the bindings keep a bug from unwinding into a caller
    /// (a Python interpreter, a Node process).
    pub fn catch_panic<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .unwrap_or_else(|payload| Err(Error::Internal(Error::panic_text(payload.as_ref()))))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn decode(message: impl Into<String>, body: &[u8]) -> Self {
        let end = body.len().min(200);
        Error::Decode {
            message: message.into(),
            body_snippet: String::from_utf8_lossy(&body[..end]).into_owned(),
        }
    }
}
