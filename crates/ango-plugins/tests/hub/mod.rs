//! A fake Ango plugin hub: the server side of the Engine.IO v4 / Socket.IO v5 subset,
//! on tungstenite, on 127.0.0.1. Each accepted websocket is driven by its own thread
//! that sends pings (unless told not to), records every frame the plugin sends, and
//! sends what the test asks.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tungstenite::handshake::server::{Request, Response};
use tungstenite::{Message, WebSocket};

pub const WAIT: Duration = Duration::from_secs(10);

/// A listening fake hub.
pub struct FakeHub {
    pub addr: SocketAddr,
    conns: Receiver<Conn>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Accepted websocket connections so far.
    pub accepted: Arc<AtomicUsize>,
}

enum Cmd {
    Send(String),
    Drop,
    StopPings,
}

/// One plugin connection, as the hub sees it.
pub struct Conn {
    /// The request URI of the websocket handshake.
    pub uri: String,
    frames: Receiver<String>,
    cmds: Sender<Cmd>,
    pub pongs: Arc<AtomicUsize>,
    pub closed: Arc<AtomicBool>,
}

impl FakeHub {
    pub fn start() -> FakeHub {
        FakeHub::on_port(0)
    }

    /// Binds 127.0.0.1:`port` (0: any); pings every `ping_ms` on every connection.
    pub fn on_port(port: u16) -> FakeHub {
        FakeHub::with_ping(port, 1000)
    }

    pub fn with_ping(port: u16, ping_ms: u64) -> FakeHub {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the fake hub");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, accepted) = (Arc::clone(&stop), Arc::clone(&accepted));
            std::thread::spawn(move || {
                let mut drivers = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            stream.set_nonblocking(false).unwrap();
                            accepted.fetch_add(1, Ordering::SeqCst);
                            if let Some((conn, driver)) =
                                accept_conn(stream, ping_ms, Arc::clone(&stop))
                            {
                                drivers.push(driver);
                                let _ = tx.send(conn);
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
                drop(listener);
                for d in drivers {
                    let _ = d.join();
                }
            })
        };
        FakeHub {
            addr,
            conns: rx,
            stop,
            thread: Some(thread),
            accepted,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next websocket connection (no Engine.IO handshake done yet).
    pub fn next_conn(&self, timeout: Duration) -> Option<Conn> {
        self.conns.recv_timeout(timeout).ok()
    }

    /// The next connection, taken through OPEN and the `/plugin` CONNECT, with the
    /// heartbeat that must follow checked and returned.
    pub fn connect_plugin(&self, ping_interval_ms: u64, ping_timeout_ms: u64) -> (Conn, Value) {
        let conn = self.next_conn(WAIT).expect("the plugin connects");
        conn.handshake(ping_interval_ms, ping_timeout_ms);
        let heartbeat = conn.expect_event("heartbeat");
        (conn, heartbeat)
    }

    /// Stops listening and drops every connection (a hub that went away).
    pub fn stop(mut self) -> u16 {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.addr.port()
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[allow(clippy::result_large_err)]
fn accept_conn(
    stream: TcpStream,
    ping_ms: u64,
    stop: Arc<AtomicBool>,
) -> Option<(Conn, JoinHandle<()>)> {
    let uri = Arc::new(Mutex::new(String::new()));
    let uri_cb = Arc::clone(&uri);
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let ws = tungstenite::accept_hdr(stream, move |req: &Request, resp: Response| {
        *uri_cb.lock().unwrap() = req.uri().to_string();
        Ok(resp)
    })
    .ok()?;
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let (ftx, frx) = mpsc::channel();
    let (ctx, crx) = mpsc::channel();
    let pongs = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicBool::new(false));
    let driver = {
        let (pongs, closed) = (Arc::clone(&pongs), Arc::clone(&closed));
        std::thread::spawn(move || drive(ws, ftx, crx, ping_ms, pongs, closed, stop))
    };
    let uri = uri.lock().unwrap().clone();
    Some((
        Conn {
            uri,
            frames: frx,
            cmds: ctx,
            pongs,
            closed,
        },
        driver,
    ))
}

fn drive(
    mut ws: WebSocket<TcpStream>,
    frames: Sender<String>,
    cmds: Receiver<Cmd>,
    ping_ms: u64,
    pongs: Arc<AtomicUsize>,
    closed: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) {
    let mut pinging = false;
    let mut opened = false;
    let mut last_ping = Instant::now();
    loop {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match ws.read() {
            Ok(Message::Text(t)) => {
                let t = t.as_str().to_string();
                if t.starts_with('3') {
                    pongs.fetch_add(1, Ordering::SeqCst);
                } else {
                    let _ = frames.send(t);
                }
            }
            Ok(Message::Close(_)) => break,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
        loop {
            match cmds.try_recv() {
                Ok(Cmd::Send(text)) => {
                    if text.starts_with('0') && !opened {
                        opened = true;
                        pinging = true;
                        last_ping = Instant::now();
                    }
                    if ws.send(Message::text(text)).is_err() {
                        closed.store(true, Ordering::SeqCst);
                        return;
                    }
                }
                Ok(Cmd::StopPings) => pinging = false,
                Ok(Cmd::Drop) => {
                    closed.store(true, Ordering::SeqCst);
                    let _ = ws.get_ref().shutdown(std::net::Shutdown::Both);
                    return;
                }
                Err(_) => break,
            }
        }
        if pinging && last_ping.elapsed() >= Duration::from_millis(ping_ms) {
            last_ping = Instant::now();
            if ws.send(Message::text("2")).is_err() {
                break;
            }
        }
    }
    closed.store(true, Ordering::SeqCst);
    let _ = ws.get_ref().shutdown(std::net::Shutdown::Both);
}

impl Conn {
    pub fn send(&self, text: impl Into<String>) {
        let _ = self.cmds.send(Cmd::Send(text.into()));
    }

    pub fn stop_pings(&self) {
        let _ = self.cmds.send(Cmd::StopPings);
    }

    /// Closes the TCP connection without any goodbye.
    pub fn drop_connection(&self) {
        let _ = self.cmds.send(Cmd::Drop);
    }

    /// The next frame the plugin sent (pongs are counted, not returned).
    pub fn recv(&self, timeout: Duration) -> Option<String> {
        match self.frames.recv_timeout(timeout) {
            Ok(frame) => Some(frame),
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    pub fn expect_frame(&self) -> String {
        self.recv(WAIT).expect("a frame from the plugin")
    }

    /// Sends OPEN, expects `40/plugin,{}` exactly and accepts it.
    pub fn handshake(&self, ping_interval_ms: u64, ping_timeout_ms: u64) {
        self.send(format!(
            r#"0{{"sid":"sid-1","upgrades":[],"pingInterval":{ping_interval_ms},"pingTimeout":{ping_timeout_ms},"maxPayload":1000000}}"#
        ));
        assert_eq!(self.expect_frame(), "40/plugin,{}");
        self.send(r#"40/plugin,{"sid":"ns-1"}"#);
    }

    /// The next frame, which must be event `name` on `/plugin` without an ack id;
    /// returns its single argument.
    pub fn expect_event(&self, name: &str) -> Value {
        let frame = self.expect_frame();
        event_of(&frame, name)
    }

    /// The next `count` frames, sorted into events of `name` (arguments) and others.
    pub fn collect(&self, count: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        while out.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left) {
                Some(frame) => out.push(frame),
                None => break,
            }
        }
        out
    }

    /// Waits until the plugin's side of the connection closed.
    pub fn wait_closed(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.closed.load(Ordering::SeqCst) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

/// Parses `42/plugin,["<name>",<arg>]` and returns the argument (panics otherwise).
pub fn event_of(frame: &str, name: &str) -> Value {
    let json = frame
        .strip_prefix("42/plugin,")
        .unwrap_or_else(|| panic!("not a /plugin event without ack: {frame}"));
    let value: Value = serde_json::from_str(json).expect("event JSON");
    let items = value.as_array().expect("event list");
    assert_eq!(items.len(), 2, "one argument: {frame}");
    assert_eq!(items[0], name, "event name in {frame}");
    items[1].clone()
}

/// A `plugin` event frame, with an optional ack id.
pub fn plugin_frame(data: &Value, ack: Option<u64>) -> String {
    let ack = ack.map(|a| a.to_string()).unwrap_or_default();
    format!(
        "42/plugin,{ack}{}",
        serde_json::to_string(&serde_json::json!(["plugin", data])).unwrap()
    )
}
