//! A tiny raw HTTP/1.1 client over `TcpStream`: requests sent verbatim (no encoding, as
//! the official client does), for tests of a server (the emulator, a plugin's REST
//! connector).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// A received response.
#[derive(Debug)]
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// The headers as received.
    pub headers: Vec<(String, String)>,
    /// The body (cut at `Content-Length`).
    pub body: Vec<u8>,
}

impl Resp {
    /// The body as JSON (panics when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    /// A header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits `http://127.0.0.1:PORT/path?q` into (`127.0.0.1:PORT`, `/path?q`).
pub fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("http url");
    match rest.find('/') {
        Some(i) => (rest[..i].to_string(), rest[i..].to_string()),
        None => (rest.to_string(), "/".to_string()),
    }
}

/// Sends one request on a fresh connection (`Connection: close`).
/// `target` is sent verbatim (no encoding), like the official client does.
pub fn raw(
    host: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> io::Result<Resp> {
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or(b"");
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "DELETE") {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    s.write_all(&bytes)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    parse_response(&buf)
}

fn parse_response(buf: &[u8]) -> io::Result<Resp> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no header terminator (connection closed without response)"))?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("empty"))?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = buf[end + 4..].to_vec();
    if let Some(len) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        if body.len() < len {
            return Err(bad("truncated body"));
        }
        body.truncate(len);
    }
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// A client bound to one emulator and API key.
pub struct Api {
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// The `apikey` header sent.
    pub key: String,
}

impl Api {
    /// A client for the server at `url`.
    pub fn new(url: &str, key: &str) -> Api {
        Api {
            host: split_url(url).0,
            key: key.to_string(),
        }
    }

    /// Sends one JSON request (panics when the connection fails).
    pub fn call(&self, method: &str, target: &str, body: Option<&Value>) -> Resp {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("json"));
        raw(
            &self.host,
            method,
            target,
            &[("apikey", &self.key), ("Content-Type", "application/json")],
            bytes.as_deref(),
        )
        .unwrap_or_else(|e| panic!("{method} {target}: {e}"))
    }

    /// Calls and asserts a 2xx status; returns the JSON body.
    pub fn ok(&self, method: &str, target: &str, body: Option<&Value>) -> Value {
        let r = self.call(method, target, body);
        assert!(
            (200..300).contains(&r.status),
            "{method} {target} -> {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        assert_eq!(v["status"], "success", "{v}");
        v
    }

    /// A GET that must succeed.
    pub fn get(&self, target: &str) -> Value {
        self.ok("GET", target, None)
    }
    /// A POST that must succeed.
    pub fn post(&self, target: &str, body: Value) -> Value {
        self.ok("POST", target, Some(&body))
    }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
pub fn enc(s: &str) -> String {
    const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// Reads the first entry of a zip archive.
pub fn unzip_first(bytes: &[u8]) -> (String, Vec<u8>) {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut f = z.by_index(0).expect("entry");
    let name = f.name().to_string();
    let mut out = Vec::new();
    f.read_to_end(&mut out).expect("read entry");
    (name, out)
}
