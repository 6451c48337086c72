//! A small synchronous HTTP/1.1 server (keep-alive, chunked request bodies,
//! `Expect: 100-continue`) with an elastic pool of connection threads.
//!
//! A hand-written server is used instead of `tiny_http` because the fault
//! injector must be able to close a keep-alive socket without answering, which
//! `tiny_http` does not allow (it always writes a response when a request is
//! dropped).

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::http::{Request, Response, reason};

/// What a handler wants done with a request.
pub(crate) enum Outcome {
    /// Send this response.
    Respond(Response),
    /// Close the connection without answering.
    Drop,
}

/// The request handler used by the server.
pub(crate) type Handler = dyn Fn(Request) -> Outcome + Send + Sync;

const MAX_HEADER_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024 * 1024 - 1;
const MAX_CONNECTIONS: usize = 2048;
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

struct Shared {
    stop: AtomicBool,
    idle: AtomicUsize,
    live: AtomicUsize,
    next_conn: AtomicU64,
    conns: Mutex<HashMap<u64, TcpStream>>,
    queue: Mutex<Receiver<TcpStream>>,
    handler: Arc<Handler>,
}

/// A running server.
pub(crate) struct Server {
    shared: Arc<Shared>,
    addr: std::net::SocketAddr,
    accept: Option<JoinHandle<()>>,
    workers: Vec<JoinHandle<()>>,
}

impl Server {
    /// Serves `listener` with `workers` pooled connection threads.
    pub(crate) fn start(
        listener: TcpListener,
        workers: usize,
        handler: Arc<Handler>,
    ) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        let (tx, rx) = channel::<TcpStream>();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            idle: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            next_conn: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
            queue: Mutex::new(rx),
            handler,
        });
        let mut pool = Vec::new();
        for i in 0..workers.max(1) {
            let sh = shared.clone();
            pool.push(
                std::thread::Builder::new()
                    .name(format!("ango-emu-worker-{i}"))
                    .spawn(move || worker_loop(sh))?,
            );
        }
        let sh = shared.clone();
        let accept = std::thread::Builder::new()
            .name("ango-emu-accept".into())
            .spawn(move || accept_loop(listener, sh, tx))?;
        Ok(Server {
            shared,
            addr,
            accept: Some(accept),
            workers: pool,
        })
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Stops accepting, closes open connections and joins the threads.
    pub(crate) fn stop(&mut self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        if let Ok(conns) = self.shared.conns.lock() {
            for s in conns.values() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: TcpListener, sh: Arc<Shared>, tx: Sender<TcpStream>) {
    for conn in listener.incoming() {
        if sh.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = conn else { continue };
        if sh.live.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            let mut s = stream;
            let _ = s.write_all(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            continue;
        }
        // Hand the connection to an idle pooled worker, or to a fresh thread.
        let claimed = sh
            .idle
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if claimed {
            if let Err(e) = tx.send(stream) {
                let sh2 = sh.clone();
                let _ = std::thread::Builder::new().spawn(move || serve_connection(&sh2, e.0));
            }
        } else {
            let sh2 = sh.clone();
            let spawned = std::thread::Builder::new()
                .name("ango-emu-conn".into())
                .spawn(move || serve_connection(&sh2, stream));
            if spawned.is_err() {
                continue;
            }
        }
    }
    // Dropping `tx` ends the pooled workers once they are idle.
    drop(tx);
}

fn worker_loop(sh: Arc<Shared>) {
    loop {
        sh.idle.fetch_add(1, Ordering::SeqCst);
        let next = match sh.queue.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match next {
            Ok(stream) => serve_connection(&sh, stream),
            Err(_) => return,
        }
        if sh.stop.load(Ordering::SeqCst) {
            return;
        }
    }
}

fn serve_connection(sh: &Shared, stream: TcpStream) {
    if sh.stop.load(Ordering::SeqCst) {
        return;
    }
    let id = sh.next_conn.fetch_add(1, Ordering::SeqCst);
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    if let (Ok(clone), Ok(mut conns)) = (stream.try_clone(), sh.conns.lock()) {
        conns.insert(id, clone);
    }
    sh.live.fetch_add(1, Ordering::SeqCst);
    let _ = connection_loop(sh, &stream);
    let _ = stream.shutdown(Shutdown::Both);
    sh.live.fetch_sub(1, Ordering::SeqCst);
    if let Ok(mut conns) = sh.conns.lock() {
        conns.remove(&id);
    }
}

fn connection_loop(sh: &Shared, stream: &TcpStream) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(16 * 1024, stream.try_clone()?);
    let mut writer = stream.try_clone()?;
    loop {
        if sh.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let parsed = match read_request(&mut reader, &mut writer) {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(()),
            Err(ReadError::Io(e)) => return Err(e),
            Err(ReadError::Bad(status, msg)) => {
                let resp = crate::http::ApiError::new(status, msg).to_response();
                write_response(&mut writer, &resp, false, false)?;
                return Ok(());
            }
        };
        let keep_alive = parsed.keep_alive;
        let head = parsed.req.method == "HEAD";
        match (sh.handler)(parsed.req) {
            Outcome::Drop => return Ok(()),
            Outcome::Respond(resp) => write_response(&mut writer, &resp, keep_alive, head)?,
        }
        if !keep_alive {
            return Ok(());
        }
    }
}

struct Parsed {
    req: Request,
    keep_alive: bool,
}

enum ReadError {
    Io(io::Error),
    Bad(u16, String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

fn read_line(
    r: &mut BufReader<TcpStream>,
    budget: &mut usize,
) -> Result<Option<String>, ReadError> {
    let mut buf = Vec::new();
    let n = r
        .by_ref()
        .take(*budget as u64 + 1)
        .read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if n > *budget {
        return Err(ReadError::Bad(431, "Request header too large".into()));
    }
    *budget -= n;
    while matches!(buf.last(), Some(b'\n') | Some(b'\r')) {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

fn read_request(
    r: &mut BufReader<TcpStream>,
    w: &mut TcpStream,
) -> Result<Option<Parsed>, ReadError> {
    let mut budget = MAX_HEADER_BYTES;
    // Skip leading empty lines (tolerated by RFC 9112).
    let line = loop {
        match read_line(r, &mut budget)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(ReadError::Bad(400, "Malformed request line".into()));
    };
    let version = parts.next().unwrap_or("HTTP/1.0").to_ascii_uppercase();
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Bad(400, "Unsupported HTTP version".into()));
    }
    let mut headers = Vec::new();
    loop {
        let Some(h) = read_line(r, &mut budget)? else {
            return Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into()));
        };
        if h.is_empty() {
            break;
        }
        if let Some(i) = h.find(':') {
            headers.push((
                h[..i].trim().to_ascii_lowercase(),
                h[i + 1..].trim().to_string(),
            ));
        }
        if headers.len() > 200 {
            return Err(ReadError::Bad(431, "Too many headers".into()));
        }
    }
    let get = |k: &str| {
        headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let conn = get("connection").unwrap_or_default();
    let keep_alive = if version == "HTTP/1.0" {
        conn.contains("keep-alive")
    } else {
        !conn.contains("close")
    };
    if get("expect").is_some_and(|e| e.contains("100-continue")) {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let chunked = get("transfer-encoding").is_some_and(|t| t.contains("chunked"));
    let body = if chunked {
        read_chunked(r)?
    } else if let Some(len) = get("content-length") {
        let len: usize = len
            .trim()
            .parse()
            .map_err(|_| ReadError::Bad(400, "Invalid Content-Length".into()))?;
        if len > MAX_BODY_BYTES {
            return Err(ReadError::Bad(413, "Request body too large".into()));
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body)?;
        body
    } else {
        Vec::new()
    };
    Ok(Some(Parsed {
        req: Request::new(method, target, headers, body),
        keep_alive,
    }))
}

fn read_chunked(r: &mut BufReader<TcpStream>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let mut budget = 4096;
        let Some(line) = read_line(r, &mut budget)? else {
            return Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into()));
        };
        let size_hex = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| ReadError::Bad(400, "Invalid chunk size".into()))?;
        if size == 0 {
            // Trailers until an empty line.
            loop {
                let mut budget = MAX_HEADER_BYTES;
                match read_line(r, &mut budget)? {
                    None => return Ok(body),
                    Some(l) if l.is_empty() => return Ok(body),
                    Some(_) => {}
                }
            }
        }
        if body.len() + size > MAX_BODY_BYTES {
            return Err(ReadError::Bad(413, "Request body too large".into()));
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        r.read_exact(&mut crlf)?;
    }
}

fn write_response(
    w: &mut TcpStream,
    resp: &Response,
    keep_alive: bool,
    head: bool,
) -> io::Result<()> {
    let body = resp.body.as_slice();
    let mut out = String::with_capacity(256);
    out.push_str(&format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        resp.status,
        reason(resp.status),
        resp.content_type,
        body.len()
    ));
    out.push_str(if keep_alive {
        "Connection: keep-alive\r\n"
    } else {
        "Connection: close\r\n"
    });
    for (k, v) in &resp.headers {
        out.push_str(k);
        out.push_str(": ");
        out.push_str(v);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    if head || body.is_empty() {
        w.write_all(out.as_bytes())?;
    } else if body.len() <= 64 * 1024 {
        let mut buf = out.into_bytes();
        buf.extend_from_slice(body);
        w.write_all(&buf)?;
    } else {
        w.write_all(out.as_bytes())?;
        w.write_all(body)?;
    }
    w.flush()
}
