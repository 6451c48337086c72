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
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::http::{Request, Response, reason};

/// What a handler wants done with a request.
pub(crate) enum Outcome {
    /// Send this response.
    Respond(Response),
    /// Close the connection without answering.
    Drop,
    /// Send this (101) response, then hand the raw connection and any bytes
    /// already read past the request head to the function (on this thread).
    Upgrade(Response, Upgrade),
}

/// Takes over an upgraded connection (stream, bytes already buffered).
pub(crate) type Upgrade = Box<dyn FnOnce(TcpStream, Vec<u8>) + Send>;

/// The request handler used by the server.
pub(crate) type Handler = dyn Fn(Request) -> Outcome + Send + Sync;

const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Largest chunk-size line (hex digits, extensions) accepted.
const MAX_CHUNK_LINE: usize = 1024;
/// Reads of already-arrived input allowed after a head's deadline passed.
const MAX_OVERDUE_READS: u32 = 8;
/// Bodies are read in steps of this size, so memory follows what arrives.
const READ_STEP: usize = 64 * 1024;

/// Connection limits and timeouts of the server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest accepted request body (Content-Length or chunked total).
    pub max_body: u64,
    /// Time allowed to receive a whole request head once its first byte arrived,
    /// and the longest pause allowed between two reads of a body.
    pub header_timeout: Duration,
    /// Time a keep-alive connection may stay silent between requests.
    pub idle_timeout: Duration,
    /// Open connections beyond which new ones are answered 503 and closed.
    pub max_connections: usize,
}

struct Shared {
    stop: AtomicBool,
    idle: AtomicUsize,
    live: AtomicUsize,
    next_conn: AtomicU64,
    conns: Mutex<HashMap<u64, TcpStream>>,
    queue: Mutex<Receiver<TcpStream>>,
    handler: Arc<Handler>,
    limits: Limits,
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
        limits: Limits,
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
            limits,
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

    /// Number of connections currently being served.
    pub(crate) fn live_connections(&self) -> usize {
        self.shared.live.load(Ordering::SeqCst)
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
        if sh.live.load(Ordering::SeqCst) >= sh.limits.max_connections {
            let mut s = stream;
            let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
            let _ = s.write_all(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            continue;
        }
        // Count the connection now, so a burst cannot overshoot the cap; the
        // guard in `serve_connection` (or the error path here) releases it.
        sh.live.fetch_add(1, Ordering::SeqCst);
        // Hand the connection to an idle pooled worker, or to a fresh thread.
        let claimed = sh
            .idle
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let stream = if claimed {
            match tx.send(stream) {
                Ok(()) => continue,
                Err(e) => e.0,
            }
        } else {
            stream
        };
        let sh2 = sh.clone();
        let spawned = std::thread::Builder::new()
            .name("ango-emu-conn".into())
            .spawn(move || serve_connection(&sh2, stream));
        if spawned.is_err() {
            sh.live.fetch_sub(1, Ordering::SeqCst);
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

/// Releases a connection slot however the connection ends (panics included).
struct SlotGuard<'a> {
    sh: &'a Shared,
    id: Option<u64>,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id
            && let Ok(mut conns) = self.sh.conns.lock()
        {
            conns.remove(&id);
        }
        self.sh.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves one connection; `sh.live` was already incremented for it.
fn serve_connection(sh: &Shared, stream: TcpStream) {
    let mut guard = SlotGuard { sh, id: None };
    if sh.stop.load(Ordering::SeqCst) {
        return;
    }
    let id = sh.next_conn.fetch_add(1, Ordering::SeqCst);
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(sh.limits.idle_timeout.max(Duration::from_secs(1))));
    if let (Ok(clone), Ok(mut conns)) = (stream.try_clone(), sh.conns.lock()) {
        conns.insert(id, clone);
        guard.id = Some(id);
    }
    // A bug in parsing or in a handler must never kill the server or leak the
    // slot: the panic ends this connection only.
    let _ = catch_unwind(AssertUnwindSafe(|| connection_loop(sh, &stream)));
    let _ = stream.shutdown(Shutdown::Both);
    drop(guard);
}

/// A reader over the connection that enforces a deadline (request heads) or
/// a per-read timeout (idle waits, bodies).
struct ConnReader {
    stream: TcpStream,
    /// Absolute deadline of the current read phase, if any.
    deadline: Option<Instant>,
    /// Timeout of each read when no deadline is set.
    per_read: Duration,
    /// Last timeout applied to the socket (avoids redundant syscalls).
    applied: Option<Duration>,
    /// Reads made after the deadline passed (see `read`).
    overdue: u32,
}

impl ConnReader {
    fn set_timeout(&mut self, t: Duration) -> io::Result<()> {
        let t = t.max(Duration::from_millis(1));
        if self.applied != Some(t) {
            self.stream.set_read_timeout(Some(t))?;
            self.applied = Some(t);
        }
        Ok(())
    }
}

impl Read for ConnReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    // Past the deadline, only input that is already there is
                    // taken (a busy server must not fail a complete request),
                    // and only for a few reads.
                    self.overdue += 1;
                    if self.overdue > MAX_OVERDUE_READS {
                        return Err(io::ErrorKind::TimedOut.into());
                    }
                    self.set_timeout(Duration::from_millis(1))?;
                    return match self.stream.read(buf) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            Err(io::ErrorKind::TimedOut.into())
                        }
                        other => other,
                    };
                }
                // Round up to whole milliseconds so the syscall count stays low.
                let ms = left.as_millis().max(1) as u64;
                self.set_timeout(Duration::from_millis(ms))?;
            }
            None => {
                let t = self.per_read;
                self.set_timeout(t)?;
            }
        }
        self.stream.read(buf)
    }
}

fn connection_loop(sh: &Shared, stream: &TcpStream) -> io::Result<()> {
    let limits = sh.limits;
    let mut reader = BufReader::with_capacity(
        16 * 1024,
        ConnReader {
            stream: stream.try_clone()?,
            deadline: None,
            per_read: limits.idle_timeout,
            applied: None,
            overdue: 0,
        },
    );
    let mut writer = stream.try_clone()?;
    loop {
        if sh.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        // Wait (idle timeout) for the first byte of the next request.
        {
            let r = reader.get_mut();
            r.deadline = None;
            r.per_read = limits.idle_timeout;
        }
        match reader.fill_buf() {
            Ok([]) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(e),
        }
        // The whole head must then arrive within the header timeout.
        reader.get_mut().deadline = Some(Instant::now() + limits.header_timeout);
        reader.get_mut().overdue = 0;
        let parsed = match read_request(&mut reader, &mut writer, &limits) {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(()),
            Err(ReadError::Io(e))
                if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::WouldBlock =>
            {
                let resp = crate::http::ApiError::new(408, "Request timeout").to_response();
                let _ = write_response(&mut writer, &resp, false, false);
                return Err(e);
            }
            Err(ReadError::Io(e)) => return Err(e),
            Err(ReadError::Bad(status, msg)) => {
                let resp = crate::http::ApiError::new(status, msg).to_response();
                write_response(&mut writer, &resp, false, false)?;
                // Stop sending and drain a little of what the peer still sends,
                // so closing with unread input does not reset the answer away.
                let _ = writer.shutdown(Shutdown::Write);
                drain(reader.get_mut());
                return Ok(());
            }
        };
        let keep_alive = parsed.keep_alive;
        let head = parsed.req.method == "HEAD";
        match (sh.handler)(parsed.req) {
            Outcome::Drop => return Ok(()),
            Outcome::Respond(resp) => write_response(&mut writer, &resp, keep_alive, head)?,
            Outcome::Upgrade(resp, upgrade) => {
                write_response_raw(&mut writer, &resp)?;
                let leftover = reader.buffer().to_vec();
                let raw = reader.into_inner().stream;
                let _ = raw.set_read_timeout(None);
                upgrade(raw, leftover);
                return Ok(());
            }
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

type Conn = BufReader<ConnReader>;

fn read_line(r: &mut Conn, budget: &mut usize) -> Result<Option<String>, ReadError> {
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
    r: &mut Conn,
    w: &mut TcpStream,
    limits: &Limits,
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
    if !method.bytes().all(|b| b.is_ascii_alphabetic()) || method.len() > 16 {
        return Err(ReadError::Bad(400, "Malformed request method".into()));
    }
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
        } else {
            return Err(ReadError::Bad(400, "Malformed header line".into()));
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
    let mut keep_alive = if version == "HTTP/1.0" {
        conn.contains("keep-alive")
    } else {
        !conn.contains("close")
    };
    let te = get("transfer-encoding");
    let lengths: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n == "content-length")
        .map(|(_, v)| v.as_str())
        .collect();
    // Validate the framing before anything is read or allocated.
    enum Framing {
        None,
        Length(u64),
        Chunked,
    }
    let framing = if let Some(te) = &te {
        let last = te.rsplit(',').next().unwrap_or("").trim();
        if last != "chunked" {
            return Err(ReadError::Bad(501, "Unsupported Transfer-Encoding".into()));
        }
        // Both framings: the chunked one wins and the connection is not reused.
        if !lengths.is_empty() {
            keep_alive = false;
        }
        Framing::Chunked
    } else if let Some(first) = lengths.first() {
        let mut value: Option<u64> = None;
        for l in &lengths {
            for part in l.split(',') {
                let part = part.trim();
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ReadError::Bad(400, "Invalid Content-Length".into()));
                }
                // Too many digits for u64 is certainly too large.
                let v = part.parse::<u64>().unwrap_or(u64::MAX);
                if value.is_some_and(|x| x != v) {
                    return Err(ReadError::Bad(400, "Conflicting Content-Length".into()));
                }
                value = Some(v);
            }
        }
        let _ = first;
        let len = value.unwrap_or(0);
        if len > limits.max_body {
            return Err(ReadError::Bad(413, "Request body too large".into()));
        }
        Framing::Length(len)
    } else {
        Framing::None
    };
    if get("expect").is_some_and(|e| e.contains("100-continue")) {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    // The head is complete: bodies only need to keep flowing.
    {
        let inner = r.get_mut();
        inner.deadline = None;
        inner.per_read = limits.header_timeout;
    }
    let body = match framing {
        Framing::Chunked => read_chunked(r, limits.max_body)?,
        Framing::Length(len) => read_exact_grow(r, len)?,
        Framing::None => Vec::new(),
    };
    Ok(Some(Parsed {
        req: Request::new(method, target, headers, body),
        keep_alive,
    }))
}

/// Reads exactly `len` bytes into a buffer that grows with what arrives.
fn read_exact_grow(r: &mut Conn, len: u64) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::with_capacity(len.min(READ_STEP as u64) as usize);
    append_exact(r, &mut body, len)?;
    Ok(body)
}

/// Appends exactly `len` bytes from `r` to `body`, growing it step by step.
fn append_exact(r: &mut Conn, body: &mut Vec<u8>, len: u64) -> Result<(), ReadError> {
    let mut left = len;
    while left > 0 {
        let step = left.min(READ_STEP as u64) as usize;
        let start = body.len();
        body.resize(start + step, 0);
        let mut filled = 0;
        while filled < step {
            match r.read(&mut body[start + filled..start + step]) {
                Ok(0) => {
                    return Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into()));
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        left -= step as u64;
    }
    Ok(())
}

/// Parses a chunk-size line: hex digits, optional `;extensions`.
fn parse_chunk_size(line: &str) -> Result<u64, ReadError> {
    let bad = || ReadError::Bad(400, "Invalid chunk size".into());
    let hex = line.split(';').next().unwrap_or("").trim();
    if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    u64::from_str_radix(hex, 16).map_err(|_| bad())
}

fn read_chunked(r: &mut Conn, max_body: u64) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let mut budget = MAX_CHUNK_LINE;
        let line = match read_line(r, &mut budget) {
            Ok(Some(l)) => l,
            Ok(None) => return Err(ReadError::Bad(400, "Truncated chunked body".into())),
            Err(ReadError::Bad(..)) => {
                return Err(ReadError::Bad(400, "Invalid chunk size line".into()));
            }
            Err(e) => return Err(e),
        };
        let size = parse_chunk_size(&line)?;
        if size == 0 {
            // Trailers until an empty line.
            let mut budget = MAX_HEADER_BYTES;
            loop {
                match read_line(r, &mut budget)? {
                    None => return Ok(body),
                    Some(l) if l.is_empty() => return Ok(body),
                    Some(_) => {}
                }
            }
        }
        if (body.len() as u64).saturating_add(size) > max_body {
            return Err(ReadError::Bad(413, "Request body too large".into()));
        }
        match append_exact(r, &mut body, size) {
            Ok(()) => {}
            Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(ReadError::Bad(400, "Truncated chunked body".into()));
            }
            Err(e) => return Err(e),
        }
        let mut crlf = [0u8; 2];
        match r.read_exact(&mut crlf) {
            Ok(()) if &crlf == b"\r\n" => {}
            Ok(()) => return Err(ReadError::Bad(400, "Missing CRLF after chunk".into())),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(ReadError::Bad(400, "Truncated chunked body".into()));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Reads and discards input for a short while (bounded in time and bytes).
fn drain(r: &mut ConnReader) {
    r.deadline = Some(Instant::now() + Duration::from_millis(200));
    r.overdue = MAX_OVERDUE_READS;
    let mut buf = [0u8; 8192];
    let mut total = 0usize;
    while total < 1024 * 1024 {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => total += n,
        }
    }
}

/// Writes a response head (and body) without Content-Length/Connection
/// framing headers (used for `101 Switching Protocols`).
fn write_response_raw(w: &mut TcpStream, resp: &Response) -> io::Result<()> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        out.push_str(k);
        out.push_str(": ");
        out.push_str(v);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    w.write_all(out.as_bytes())?;
    w.flush()
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
