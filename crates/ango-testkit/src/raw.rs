//! Raw loopback servers for misbehaving-server tests: each connection is handed to the
//! test's function, which reads and writes the socket as it likes (hold a reply, send
//! half a body, close without answering...).

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::recorder::{Recorded, read_request};

/// A server on 127.0.0.1 calling a function for every connection, each on its own
/// thread; stops accepting when dropped.
pub struct RawServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RawServer {
    /// Calls `serve(stream)` for each accepted connection (reads time out after 10 s).
    pub fn start(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let serve = Arc::new(serve);
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let serve = serve.clone();
                std::thread::spawn(move || serve(stream));
            }
        });
        RawServer {
            url: format!("http://{addr}"),
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// Reads each connection's requests and writes `answer(request)`'s raw bytes, or
    /// closes the connection when it returns `None` (also after an answer that does not
    /// keep the connection alive: the bytes are written, then the socket closed).
    pub fn answering(
        answer: impl Fn(&Recorded) -> Option<Vec<u8>> + Send + Sync + 'static,
    ) -> RawServer {
        RawServer::start(move |stream| {
            let Ok(read_half) = stream.try_clone() else {
                return;
            };
            let mut reader = std::io::BufReader::new(read_half);
            let mut stream = stream;
            if let Some(request) = read_request(&mut reader)
                && let Some(bytes) = answer(&request)
            {
                let _ = stream.write_all(&bytes);
                let _ = stream.flush();
            }
            // Dropping the stream closes the connection (with or without an answer).
        })
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A whole HTTP/1.1 response closing the connection: status line (`"200 OK"`), the
/// headers as given (values as bytes, so tests can send invalid ones), the length and
/// the body.
pub fn raw_response(status: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nconnection: close\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// A JSON 200 response closing the connection.
pub fn json_response(value: &serde_json::Value) -> Vec<u8> {
    raw_response(
        "200 OK",
        &[("content-type", b"application/json")],
        value.to_string().as_bytes(),
    )
}

/// `http://127.0.0.1:PORT` where nothing listens (a port just bound and released).
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}")
}
