//! Request/response types shared by the server and the route handlers.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::query::Query;

/// A parsed HTTP request.
#[derive(Debug)]
pub(crate) struct Request {
    /// Upper-case method.
    pub method: String,
    /// Decoded path with duplicate and trailing slashes removed.
    pub path: String,
    /// Parsed query string.
    pub query: Query,
    /// Headers with lower-cased names.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Vec<u8>,
}

impl Request {
    /// Builds a request from its raw parts, normalising the path.
    pub(crate) fn new(
        method: &str,
        target: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Request {
        let (raw_path, raw_query) = match target.find('?') {
            Some(i) => (&target[..i], &target[i + 1..]),
            None => (target, ""),
        };
        // Absolute-form targets (`http://host/path`) are reduced to the path.
        let raw_path = match raw_path.find("://") {
            Some(i) => raw_path[i + 3..]
                .find('/')
                .map_or("/", |j| &raw_path[i + 3 + j..]),
            None => raw_path,
        };
        let mut path = String::with_capacity(raw_path.len() + 1);
        for seg in raw_path.split('/').filter(|s| !s.is_empty()) {
            path.push('/');
            path.push_str(seg);
        }
        if path.is_empty() {
            path.push('/');
        }
        Request {
            method: method.to_ascii_uppercase(),
            path,
            query: Query::parse(raw_query),
            headers,
            body,
        }
    }

    /// A header value by (case-insensitive) name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Path segments, percent-decoded.
    pub(crate) fn segments(&self) -> Vec<String> {
        self.path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| crate::query::percent_decode(s, false))
            .collect()
    }

    /// The body as JSON; an empty body is an empty object. Errors are 400s.
    pub(crate) fn json(&self) -> Result<Value, ApiError> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))
    }

    /// The body as a JSON object (400 otherwise).
    pub(crate) fn json_object(&self) -> Result<serde_json::Map<String, Value>, ApiError> {
        match self.json()? {
            Value::Object(m) => Ok(m),
            Value::Null => Ok(Default::default()),
            _ => Err(ApiError::bad_request("Request body must be a JSON object")),
        }
    }
}

/// A response body: owned bytes or a shared buffer (for large stored files).
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// Owned bytes.
    Bytes(Vec<u8>),
    /// Shared bytes (stored files, export archives).
    Shared(Arc<Vec<u8>>),
}

impl Body {
    /// The body bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Body::Bytes(b) => b,
            Body::Shared(b) => b,
        }
    }
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// Status code.
    pub status: u16,
    /// Content-Type header value.
    pub content_type: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Body,
}

impl Response {
    /// A JSON response with the given status.
    pub(crate) fn json(status: u16, v: &Value) -> Response {
        Response {
            status,
            content_type: "application/json; charset=utf-8".into(),
            headers: Vec::new(),
            body: Body::Bytes(serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec())),
        }
    }

    /// A 200 JSON response whose body was already written (see [`crate::jsonw`]).
    pub(crate) fn ok_json_bytes(body: Vec<u8>) -> Response {
        Response {
            status: 200,
            content_type: "application/json; charset=utf-8".into(),
            headers: Vec::new(),
            body: Body::Bytes(body),
        }
    }

    /// `{"status":"success","data":data}` with status 200.
    pub(crate) fn ok(data: Value) -> Response {
        Response::json(200, &json!({"status": "success", "data": data}))
    }

    /// `{"status":"success","data":data}` with status 201.
    pub(crate) fn created(data: Value) -> Response {
        Response::json(201, &json!({"status": "success", "data": data}))
    }

    /// Raw bytes with a content type.
    pub(crate) fn bytes(status: u16, content_type: &str, body: Body) -> Response {
        Response {
            status,
            content_type: content_type.into(),
            headers: Vec::new(),
            body,
        }
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, k: &str, v: &str) -> Response {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// An API error rendered as a JSON error envelope.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    /// An error with any status.
    pub(crate) fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    /// 400 Bad Request.
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, message)
    }
    /// 404 Not Found.
    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, message)
    }

    /// Renders the error envelope.
    pub(crate) fn to_response(&self) -> Response {
        let status = if self.status >= 500 { "error" } else { "fail" };
        Response::json(
            self.status,
            &json!({
                "status": status,
                "message": self.message,
                "error": {"statusCode": self.status, "message": self.message},
            }),
        )
    }
}

impl From<String> for ApiError {
    fn from(message: String) -> ApiError {
        ApiError::bad_request(message)
    }
}

/// Result type of route handlers.
pub(crate) type HandlerResult = Result<Response, ApiError>;

/// Reason phrase for a status code.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_paths() {
        let r = Request::new("post", "/v2//project/abc/rerun-webhook/", vec![], vec![]);
        assert_eq!(r.path, "/v2/project/abc/rerun-webhook");
        assert_eq!(r.method, "POST");
        let r = Request::new("GET", "http://h:1/v2/x?a=1", vec![], vec![]);
        assert_eq!(r.path, "/v2/x");
        assert_eq!(r.query.get("a"), Some("1"));
        let r = Request::new("GET", "", vec![], vec![]);
        assert_eq!(r.path, "/");
    }
}
