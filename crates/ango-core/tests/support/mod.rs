//! A loopback recording server: answers canned responses and records every request,
//! so tests can assert the exact request each method sends.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The raw query string (without `?`), empty when none.
    pub raw_query: String,
    /// Decoded query pairs in order.
    pub query: Vec<(String, String)>,
    /// Headers with lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A canned answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    /// When set, the body is streamed from this file instead of `body` (large replies).
    pub body_file: Option<PathBuf>,
}

impl Reply {
    pub fn json(value: serde_json::Value) -> Self {
        Reply {
            status: 200,
            body: serde_json::to_vec(&value).unwrap(),
            headers: vec![],
            body_file: None,
        }
    }
    pub fn status(status: u16, body: &str) -> Self {
        Reply {
            status,
            body: body.as_bytes().to_vec(),
            headers: vec![],
            body_file: None,
        }
    }
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
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Responder = dyn Fn(&Recorded) -> Option<Reply> + Send + Sync;

/// The server. Replies come first from the queue pushed with [`Recorder::push`], then
/// from the responder function, then `{"status":"success","data":{}}`.
pub struct Recorder {
    server: Arc<tiny_http::Server>,
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    queue: Arc<Mutex<VecDeque<Reply>>>,
    thread: Option<JoinHandle<()>>,
}

pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

impl Recorder {
    pub fn start() -> Recorder {
        Recorder::with_responder(|_| None)
    }

    pub fn with_responder(
        responder: impl Fn(&Recorded) -> Option<Reply> + Send + Sync + 'static,
    ) -> Recorder {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind loopback"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let url = format!("http://127.0.0.1:{port}");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let queue: Arc<Mutex<VecDeque<Reply>>> = Arc::new(Mutex::new(VecDeque::new()));
        let responder: Arc<Responder> = Arc::new(responder);
        let thread = {
            let (server, requests, queue) = (server.clone(), requests.clone(), queue.clone());
            std::thread::spawn(move || {
                for mut request in server.incoming_requests() {
                    let mut body = Vec::new();
                    let _ = request.as_reader().read_to_end(&mut body);
                    let (path, raw_query) = match request.url().split_once('?') {
                        Some((p, q)) => (p.to_string(), q.to_string()),
                        None => (request.url().to_string(), String::new()),
                    };
                    let recorded = Recorded {
                        method: request.method().as_str().to_uppercase(),
                        query: parse_query(&raw_query),
                        path,
                        raw_query,
                        headers: request
                            .headers()
                            .iter()
                            .map(|h| {
                                (
                                    h.field.as_str().as_str().to_ascii_lowercase(),
                                    h.value.as_str().to_string(),
                                )
                            })
                            .collect(),
                        body,
                    };
                    let reply = queue
                        .lock()
                        .unwrap()
                        .pop_front()
                        .or_else(|| responder(&recorded))
                        .unwrap_or_else(|| {
                            Reply::json(serde_json::json!({"status": "success", "data": {}}))
                        });
                    requests.lock().unwrap().push(recorded);
                    let mut headers = Vec::new();
                    let mut has_ct = false;
                    for (k, v) in &reply.headers {
                        has_ct |= k.eq_ignore_ascii_case("content-type");
                        headers.push(
                            tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap(),
                        );
                    }
                    if !has_ct {
                        headers.push(
                            tiny_http::Header::from_bytes(
                                &b"content-type"[..],
                                &b"application/json"[..],
                            )
                            .unwrap(),
                        );
                    }
                    let status = tiny_http::StatusCode(reply.status);
                    match &reply.body_file {
                        Some(path) => {
                            let file = std::fs::File::open(path).expect("reply file exists");
                            let len = file.metadata().map(|m| m.len() as usize).ok();
                            let response =
                                tiny_http::Response::new(status, headers, file, len, None);
                            let _ = request.respond(response);
                        }
                        None => {
                            let len = reply.body.len();
                            let response = tiny_http::Response::new(
                                status,
                                headers,
                                std::io::Cursor::new(reply.body),
                                Some(len),
                                None,
                            );
                            let _ = request.respond(response);
                        }
                    }
                }
            })
        };
        Recorder {
            server,
            url,
            requests,
            queue,
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
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
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
    pub path: PathBuf,
}

impl TempDir {
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

    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
