//! A loopback recording server: answers canned responses and records every request,
//! so tests can assert the exact request each method sends.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method, upper-cased.
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The raw query string (without `?`), empty when none.
    pub raw_query: String,
    /// Decoded query pairs in order.
    pub query: Vec<(String, String)>,
    /// Headers with lower-case names.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// The first decoded query value named `name`.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// The body as JSON (panics when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
    /// The body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A canned answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// Extra headers (`content-type: application/json` unless one is given).
    pub headers: Vec<(String, String)>,
    /// When set, the body is streamed from this file instead of `body` (large replies).
    pub body_file: Option<PathBuf>,
}

impl Reply {
    /// A 200 with a JSON body.
    pub fn json(value: serde_json::Value) -> Self {
        Reply {
            status: 200,
            body: serde_json::to_vec(&value).unwrap(),
            headers: vec![],
            body_file: None,
        }
    }
    /// A reply with this status and body text.
    pub fn status(status: u16, body: &str) -> Self {
        Reply {
            status,
            body: body.as_bytes().to_vec(),
            headers: vec![],
            body_file: None,
        }
    }
    /// A 200 with these bytes.
    pub fn bytes(body: Vec<u8>) -> Self {
        Reply {
            status: 200,
            body,
            headers: vec![],
            body_file: None,
        }
    }
    /// A 200 whose body is streamed from a file, with its length.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Reply {
            status: 200,
            body: Vec::new(),
            headers: vec![("content-type".into(), "application/zip".into())],
            body_file: Some(path.into()),
        }
    }
    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Responder = dyn Fn(&Recorded) -> Option<Reply> + Send + Sync;

/// The server. Replies come first from the queue pushed with [`Recorder::push`], then
/// from the responder function, then `{"status":"success","data":{}}`.
///
/// A small hand-written HTTP/1.1 server (one thread per connection, keep-alive,
/// `Content-Length` and chunked request bodies). `tiny_http` was used before, but its
/// connection pool can leave a new connection queued behind kept-alive ones until one
/// closes, which stalled concurrent clients (parallel uploads, page prefetch) for the
/// whole request timeout. Requests are still handled one at a time, in arrival order.
pub struct Recorder {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    queue: Arc<Mutex<VecDeque<Reply>>>,
    stopping: Arc<std::sync::atomic::AtomicBool>,
    connections: Arc<Mutex<Vec<std::net::TcpStream>>>,
    thread: Option<JoinHandle<()>>,
}

/// Decodes a form-encoded query component: `+` is a space, `%XX` a byte (invalid escapes
/// are kept, invalid UTF-8 replaced).
pub fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Splits and decodes `a=b&c=d` (pairs in order; a name without `=` has an empty value).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// What one connection thread needs.
struct Handler {
    requests: Arc<Mutex<Vec<Recorded>>>,
    queue: Arc<Mutex<VecDeque<Reply>>>,
    responder: Arc<Responder>,
    /// Held while a request is answered, so requests are handled one at a time.
    serial: Arc<Mutex<()>>,
}

/// Reads one CRLF-terminated line (without the CRLF); `None` at end of stream.
fn read_line(reader: &mut impl std::io::BufRead) -> Option<String> {
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line).ok()? == 0 {
        return None;
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Some(String::from_utf8_lossy(&line).into_owned())
}

/// Reads one HTTP/1.1 request (`Content-Length` or chunked body); `None` when the client closed the connection or sent garbage.
pub fn read_request(reader: &mut impl std::io::BufRead) -> Option<Recorded> {
    let mut request_line = read_line(reader)?;
    while request_line.is_empty() {
        request_line = read_line(reader)?;
    }
    let mut parts = request_line.split(' ');
    let method = parts.next()?.to_ascii_uppercase();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            let size_line = read_line(reader)?;
            let size_text = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16).ok()?;
            if size == 0 {
                // Trailers, then the blank line.
                while !read_line(reader)?.is_empty() {}
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..]).ok()?;
            read_line(reader)?;
        }
    } else if let Some(length) = header("content-length") {
        let length: usize = length.parse().ok()?;
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    let (path, raw_query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.clone(), String::new()),
    };
    Some(Recorded {
        method,
        query: parse_query(&raw_query),
        path,
        raw_query,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Writes a reply; `Err` when the client went away.
fn write_reply(stream: &mut impl Write, reply: Reply) -> std::io::Result<()> {
    let mut file = match &reply.body_file {
        Some(path) => Some(std::fs::File::open(path)?),
        None => None,
    };
    let length = match &file {
        Some(f) => f.metadata()?.len(),
        None => reply.body.len() as u64,
    };
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    let mut has_content_type = false;
    for (name, value) in &reply.headers {
        has_content_type |= name.eq_ignore_ascii_case("content-type");
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !has_content_type {
        head.push_str("content-type: application/json\r\n");
    }
    head.push_str(&format!("content-length: {length}\r\n\r\n"));
    stream.write_all(head.as_bytes())?;
    match &mut file {
        Some(f) => {
            std::io::copy(f, stream)?;
        }
        None => stream.write_all(&reply.body)?,
    }
    stream.flush()
}

impl Handler {
    fn serve(&self, stream: std::net::TcpStream) {
        let Ok(read_half) = stream.try_clone() else {
            return;
        };
        let mut reader = std::io::BufReader::new(read_half);
        let mut writer = std::io::BufWriter::with_capacity(256 * 1024, stream);
        while let Some(recorded) = read_request(&mut reader) {
            let close = recorded
                .header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("close"));
            let reply = {
                let _serial = self.serial.lock().unwrap_or_else(|e| e.into_inner());
                let queued = self.queue.lock().unwrap().pop_front();
                let reply = queued
                    .or_else(|| (self.responder)(&recorded))
                    .unwrap_or_else(|| {
                        Reply::json(serde_json::json!({"status": "success", "data": {}}))
                    });
                self.requests.lock().unwrap().push(recorded);
                reply
            };
            if write_reply(&mut writer, reply).is_err() || close {
                return;
            }
        }
    }
}

impl Recorder {
    /// A server answering `{"status":"success","data":{}}` unless replies are pushed.
    pub fn start() -> Recorder {
        Recorder::with_responder(|_| None)
    }

    /// A server answering with `responder` (when it returns `Some`) after the pushed replies.
    pub fn with_responder(
        responder: impl Fn(&Recorded) -> Option<Reply> + Send + Sync + 'static,
    ) -> Recorder {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let url = format!("http://127.0.0.1:{}", addr.port());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let queue: Arc<Mutex<VecDeque<Reply>>> = Arc::new(Mutex::new(VecDeque::new()));
        let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(Handler {
            requests: requests.clone(),
            queue: queue.clone(),
            responder: Arc::new(responder),
            serial: Arc::new(Mutex::new(())),
        });
        let thread = {
            let (stopping, connections) = (stopping.clone(), connections.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let _ = stream.set_nodelay(true);
                    if let Ok(clone) = stream.try_clone() {
                        connections.lock().unwrap().push(clone);
                    }
                    let handler = handler.clone();
                    std::thread::spawn(move || handler.serve(stream));
                }
            })
        };
        Recorder {
            url,
            addr,
            requests,
            queue,
            stopping,
            connections,
            thread: Some(thread),
        }
    }

    /// Queues a reply for the next request.
    pub fn push(&self, reply: Reply) {
        self.queue.lock().unwrap().push_back(reply);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// The only request so far (panics otherwise).
    pub fn only(&self) -> Recorded {
        let all = self.requests();
        assert_eq!(all.len(), 1, "expected exactly one request, got {all:#?}");
        all.into_iter().next().unwrap()
    }

    /// The last request.
    pub fn last(&self) -> Recorded {
        self.requests().pop().expect("a request was made")
    }

    /// Forgets the requests recorded so far.
    pub fn clear(&self) {
        self.requests.lock().unwrap().clear();
    }

    /// A client for this server with retries off (tests of retries set their own).
    pub fn client(&self) -> ango_core::Client {
        ango_core::Client::builder("test-key")
            .host(&self.url)
            .max_retries(0)
            .progress(ango_core::ProgressMode::Off)
            .build()
            .unwrap()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop, then end the kept-alive connections.
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for connection in self.connections.lock().unwrap().drain(..) {
            let _ = connection.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Recorded {
    /// Asserts the whole request of one JSON-API call: method, path, decoded query pairs
    /// in order, the `apikey` header, the JSON content type and the exact body text
    /// (`""` for no body).
    pub fn assert_call(&self, method: &str, path: &str, query: &[(&str, &str)], body: &str) {
        assert_eq!(self.method, method, "method of {self:#?}");
        assert_eq!(self.path, path, "path of {self:#?}");
        let expected: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(self.query, expected, "query of {self:#?}");
        assert_eq!(
            self.header("apikey"),
            Some("test-key"),
            "apikey of {self:#?}"
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "content type of {self:#?}"
        );
        assert_eq!(self.body_text(), body, "body of {self:#?}");
    }
}

/// A fresh directory under the system temp dir, removed (with its content) when dropped.
pub struct TempDir {
    /// The directory.
    pub path: PathBuf,
}

impl TempDir {
    /// Creates the directory.
    #[allow(clippy::new_without_default)]
    pub fn new() -> TempDir {
        let path =
            std::env::temp_dir().join(format!("ango-core-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    /// Writes `bytes` to `name` inside the directory and returns the file's path.
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path.join(name);
        std::fs::write(&path, bytes).expect("write temp file");
        path
    }

    /// A path inside the directory.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
