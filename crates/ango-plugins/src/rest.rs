//! The REST connector: a small HTTP/1.1 server on std threads.
//!
//! - `POST /plugin`: a JSON object body (else 422 `{"detail": [...]}` as FastAPI
//!   answers); the answer is the request's outcome: 200 `{"response", "session"}`,
//!   200 `null` (Export: the result went to `/v2/pluginResponse`; Model workflow), 500
//!   `{"detail": message}` after a failure (whose error record also went to
//!   `/v2/pluginResponse`), 503 when the worker queue is full or the plugin stops.
//! - `GET /heartbeat`: `"ok"`.
//!
//! Both need the header `Secret` (any case) equal to the plugin secret, compared in
//! constant time; otherwise 401 `{"detail":"Unauthorized"}`. Bodies are limited to
//! `max_body_bytes` (413), headers to 64 KiB (431), and every read to
//! `rest_read_timeout`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::config::PluginConfig;
use crate::runtime::Control;

/// Connection handler threads.
const HANDLERS: usize = 32;
/// Largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// How long an idle keep-alive connection is kept.
const IDLE: Duration = Duration::from_secs(5);

/// What the server does with an authenticated `POST /plugin` body.
pub(crate) type PluginHandler = Arc<dyn Fn(Map<String, Value>) -> HttpReply + Send + Sync>;

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HttpReply {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl HttpReply {
    pub(crate) fn new(status: u16, body: Value) -> Self {
        HttpReply { status, body }
    }

    fn detail(status: u16, detail: impl Into<Value>) -> Self {
        HttpReply::new(status, json!({ "detail": detail.into() }))
    }
}

/// Binds and starts serving; returns the bound address and the threads to join.
pub(crate) fn serve(
    config: Arc<PluginConfig>,
    control: Arc<Control>,
    handler: PluginHandler,
) -> Result<(SocketAddr, Vec<JoinHandle<()>>), ango_core::Error> {
    let address = format!("{}:{}", config.bind_address, config.port);
    let listener = TcpListener::bind(&address).map_err(|e| ango_core::Error::Io {
        context: format!("binding the REST connector to {address}"),
        source: e,
    })?;
    let local = listener.local_addr().map_err(|e| ango_core::Error::Io {
        context: "reading the bound address".into(),
        source: e,
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| ango_core::Error::Io {
            context: "configuring the listener".into(),
            source: e,
        })?;
    let (tx, rx) = mpsc::channel::<TcpStream>();
    let rx = Arc::new(Mutex::new(rx));
    let mut threads = Vec::new();
    for i in 0..HANDLERS {
        let rx = Arc::clone(&rx);
        let config = Arc::clone(&config);
        let control = Arc::clone(&control);
        let handler = Arc::clone(&handler);
        threads.push(
            std::thread::Builder::new()
                .name(format!("ango-plugin-http-{i}"))
                .spawn(move || {
                    loop {
                        let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok(stream) = next else { return };
                        let _ = connection(stream, &config, &control, &handler);
                    }
                })
                .expect("spawning an HTTP handler thread"),
        );
    }
    let accept_control = Arc::clone(&control);
    threads.push(
        std::thread::Builder::new()
            .name("ango-plugin-http-accept".into())
            .spawn(move || {
                while !accept_control.stopping.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let _ = stream.set_nonblocking(false);
                            if tx.send(stream).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(50)),
                    }
                }
                // Dropping `tx` ends the handler threads once their connections close.
            })
            .expect("spawning the HTTP accept thread"),
    );
    Ok((local, threads))
}

/// A parsed request.
struct Request {
    method: String,
    path: String,
    secret: Option<String>,
    keep_alive: bool,
    body: Vec<u8>,
}

enum ReadError {
    /// The client went away or was idle: close quietly.
    Closed,
    /// A bad request: answer and close.
    Reply(HttpReply),
}

fn connection(
    stream: TcpStream,
    config: &PluginConfig,
    control: &Control,
    handler: &PluginHandler,
) -> io::Result<()> {
    stream.set_write_timeout(Some(config.rest_read_timeout))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut first = true;
    loop {
        // Later requests on a kept-alive connection must start within IDLE; the wait
        // polls so that a shutdown does not wait for idle clients.
        if !first {
            reader
                .get_ref()
                .set_read_timeout(Some(Duration::from_millis(100)))?;
            let idle_since = Instant::now();
            loop {
                match reader.fill_buf() {
                    Ok([]) => return Ok(()),
                    Ok(_) => break,
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        if control.stopping.load(Ordering::SeqCst) || idle_since.elapsed() > IDLE {
                            return Ok(());
                        }
                    }
                    Err(_) => return Ok(()),
                }
            }
        }
        reader
            .get_ref()
            .set_read_timeout(Some(config.rest_read_timeout))?;
        first = false;
        let request = match read_request(&mut reader, &mut writer, config) {
            Ok(request) => request,
            Err(ReadError::Closed) => return Ok(()),
            Err(ReadError::Reply(reply)) => {
                write_reply(&mut writer, &reply, false)?;
                return Ok(());
            }
        };
        let reply = route(&request, config, control, handler);
        let keep_alive = request.keep_alive && !control.stopping.load(Ordering::SeqCst);
        write_reply(&mut writer, &reply, keep_alive)?;
        if !keep_alive {
            return Ok(());
        }
    }
}

fn route(
    request: &Request,
    config: &PluginConfig,
    control: &Control,
    handler: &PluginHandler,
) -> HttpReply {
    let known = matches!(request.path.as_str(), "/plugin" | "/heartbeat");
    if !known {
        return HttpReply::detail(404, "Not Found");
    }
    let allowed = match request.path.as_str() {
        "/plugin" => request.method == "POST",
        _ => request.method == "GET",
    };
    if !allowed {
        return HttpReply::detail(405, "Method Not Allowed");
    }
    let authorised = request
        .secret
        .as_deref()
        .is_some_and(|given| constant_time_eq(given.as_bytes(), config.secret.as_bytes()));
    if !authorised {
        return HttpReply::detail(401, "Unauthorized");
    }
    if request.path == "/heartbeat" {
        return HttpReply::new(200, json!("ok"));
    }
    if control.stopping.load(Ordering::SeqCst) {
        return HttpReply::detail(503, "the plugin is shutting down");
    }
    let data = match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(map)) => map,
        Ok(other) => {
            return HttpReply::detail(
                422,
                json!([{
                    "type": "dict_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary",
                    "input": other,
                }]),
            );
        }
        Err(e) => {
            return HttpReply::detail(
                422,
                json!([{
                    "type": "json_invalid",
                    "loc": ["body", e.column()],
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": e.to_string()},
                }]),
            );
        }
    };
    handler(data)
}

/// Compares two byte strings in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len().max(b.len());
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

fn read_line(reader: &mut BufReader<TcpStream>, budget: &mut usize) -> Result<String, ReadError> {
    let mut line = Vec::new();
    let limit = (*budget as u64).saturating_add(1);
    match reader.by_ref().take(limit).read_until(b'\n', &mut line) {
        Ok(0) => Err(ReadError::Closed),
        Ok(n) => {
            if n > *budget || !line.ends_with(b"\n") {
                return Err(ReadError::Reply(HttpReply::detail(
                    431,
                    "Request header fields too large",
                )));
            }
            *budget -= n;
            while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                line.pop();
            }
            String::from_utf8(line)
                .map_err(|_| ReadError::Reply(HttpReply::detail(400, "Bad Request")))
        }
        Err(_) => Err(ReadError::Closed),
    }
}

fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
    config: &PluginConfig,
) -> Result<Request, ReadError> {
    let bad = |msg: &str| ReadError::Reply(HttpReply::detail(400, msg.to_string()));
    let mut budget = MAX_HEAD;
    let mut line = read_line(reader, &mut budget)?;
    while line.is_empty() {
        line = read_line(reader, &mut budget)?;
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("Bad Request"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(bad("Unsupported HTTP version"));
    }
    let path = target.split('?').next().unwrap_or("").to_string();
    let mut keep_alive = version == "HTTP/1.1";
    let mut secret = None;
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    let mut expect_continue = false;
    loop {
        let header = read_line(reader, &mut budget)?;
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(bad("Bad header"));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "secret" => secret = Some(value.to_string()),
            "content-length" => {
                let n = value
                    .parse::<usize>()
                    .map_err(|_| bad("Bad Content-Length"))?;
                if content_length.is_some_and(|m| m != n) {
                    return Err(bad("Conflicting Content-Length"));
                }
                content_length = Some(n);
            }
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "connection" => {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    keep_alive = false;
                } else if v.contains("keep-alive") {
                    keep_alive = true;
                }
            }
            "expect" => expect_continue = value.eq_ignore_ascii_case("100-continue"),
            _ => {}
        }
    }
    let too_large = || ReadError::Reply(HttpReply::detail(413, "Request body too large"));
    if content_length.is_some_and(|n| n > config.max_body_bytes) {
        return Err(too_large());
    }
    if expect_continue && (chunked || content_length.unwrap_or(0) > 0) {
        let _ = writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let body = if chunked {
        read_chunked(reader, config.max_body_bytes)?
    } else {
        let n = content_length.unwrap_or(0);
        let mut body = vec![0; n];
        reader
            .read_exact(&mut body)
            .map_err(|_| ReadError::Closed)?;
        body
    };
    Ok(Request {
        method: method.to_string(),
        path,
        secret,
        keep_alive,
        body,
    })
}

fn read_chunked(reader: &mut BufReader<TcpStream>, limit: usize) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let mut budget = 4096;
        let size_line = read_line(reader, &mut budget)?;
        let size_text = size_line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Reply(HttpReply::detail(400, "Bad chunk size")))?;
        if size == 0 {
            // Trailers, up to the empty line.
            let mut budget = MAX_HEAD;
            while !read_line(reader, &mut budget)?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > limit {
            return Err(ReadError::Reply(HttpReply::detail(
                413,
                "Request body too large",
            )));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .map_err(|_| ReadError::Closed)?;
        let mut budget = 2;
        let _ = read_line(reader, &mut budget)?;
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

fn write_reply(writer: &mut TcpStream, reply: &HttpReply, keep_alive: bool) -> io::Result<()> {
    let body = serde_json::to_vec(&reply.body).unwrap_or_else(|_| b"null".to_vec());
    let head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: {}\r\n\r\n",
        reply.status,
        reason(reply.status),
        body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    );
    writer.write_all(head.as_bytes())?;
    writer.write_all(&body)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_by_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abc\0"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
    }
}
