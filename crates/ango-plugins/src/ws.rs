//! The Socket.IO connector: one I/O thread owns the websocket, answers Engine.IO pings,
//! sends the Ango `heartbeat`, hands `plugin` events to the workers and sends the
//! frames they queue; it reconnects with backoff whenever the connection is lost.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ango_core::Error;
use rustls::ClientConfig;
use serde_json::{Map, Value, json};
use tungstenite::{Message, WebSocket};

use crate::config::{LogLevel, PluginConfig};
use crate::net::{Stream, open_websocket};
use crate::outbox::{AckId, Outgoing};
use crate::runtime::{Control, note, random_unit};
use crate::sio::{self, NAMESPACE, OpenInfo};

/// How long one read waits before the thread looks at its queue and timers.
const POLL: Duration = Duration::from_millis(20);

/// Called for every `plugin` event: its data and the server's ack id, if any.
pub(crate) type PluginSink = Box<dyn Fn(Map<String, Value>, Option<AckId>) + Send>;

/// Why a connection ended.
enum End {
    /// Shutdown: the outbox was flushed and the namespace left.
    Shutdown,
    /// Lost; `connected` says whether `/plugin` had been joined (resets the backoff).
    Lost { reason: String, connected: bool },
}

pub(crate) struct WsIo {
    pub(crate) config: Arc<PluginConfig>,
    pub(crate) control: Arc<Control>,
    pub(crate) rx: Receiver<Outgoing>,
    pub(crate) on_plugin: PluginSink,
    backlog: VecDeque<Outgoing>,
    /// Counts successful connections; acks carry the one they belong to.
    connection: u64,
    tls: Option<Arc<ClientConfig>>,
}

impl WsIo {
    pub(crate) fn new(
        config: Arc<PluginConfig>,
        control: Arc<Control>,
        rx: Receiver<Outgoing>,
        on_plugin: PluginSink,
    ) -> Self {
        WsIo {
            config,
            control,
            rx,
            on_plugin,
            backlog: VecDeque::new(),
            connection: 0,
            tls: None,
        }
    }

    /// Runs until shutdown or until the reconnect policy gives up (the error).
    pub(crate) fn run(mut self) -> Result<(), Error> {
        let mut failures: u32 = 0;
        loop {
            if self.control.close.load(Ordering::SeqCst) {
                return Ok(());
            }
            match self.session() {
                End::Shutdown => return Ok(()),
                End::Lost { reason, connected } => {
                    self.control.connected.store(false, Ordering::SeqCst);
                    if connected {
                        failures = 0;
                        note(
                            &self.config,
                            LogLevel::Warning,
                            &format!("Disconnected: {reason}"),
                        );
                    } else {
                        note(
                            &self.config,
                            LogLevel::Warning,
                            &format!("Connection error: {reason}"),
                        );
                    }
                    failures += 1;
                    let policy = &self.config.reconnect;
                    if let Some(max) = policy.max_attempts
                        && failures > max
                    {
                        return Err(Error::Connection(format!(
                            "gave up reconnecting to the Hub after {max} attempts: {reason}"
                        )));
                    }
                    let wait = policy.delay(failures, random_unit());
                    if self.control.sleep(wait) {
                        return Ok(());
                    }
                }
            }
        }
    }

    fn pull_outbox(&mut self) {
        loop {
            match self.rx.try_recv() {
                Ok(frame) => self.backlog.push_back(frame),
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => return,
            }
        }
    }

    fn session(&mut self) -> End {
        let lost = |reason: String| End::Lost {
            reason,
            connected: false,
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let url = match sio::engine_io_url(&self.config.hub_url, now) {
            Ok(url) => url,
            Err(e) => return lost(e.to_string()),
        };
        let timeout = self.config.connect_timeout.max(Duration::from_millis(100));
        let mut ws = match open_websocket(&url, timeout, &mut self.tls) {
            Ok(ws) => ws,
            Err(e) => return lost(e.to_string()),
        };
        // From here every read waits at most POLL, so a shutdown is seen at once.
        if let Err(e) = ws.get_mut().tcp().set_read_timeout(Some(POLL)) {
            return lost(e.to_string());
        }
        let deadline = Instant::now() + timeout;
        // Engine.IO OPEN.
        let open = loop {
            match read_text(&mut ws) {
                Ok(Some(text)) => {
                    if let Some(body) = text.strip_prefix('0') {
                        match sio::parse_open(body) {
                            Ok(open) => break open,
                            Err(e) => return lost(e),
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => return lost(e),
            }
            if Instant::now() > deadline || self.control.close.load(Ordering::SeqCst) {
                return lost("no Engine.IO OPEN packet in time".into());
            }
        };
        if let Err(e) = send(&mut ws, sio::encode_connect()) {
            return lost(e);
        }
        let mut last_ping = Instant::now();
        // Namespace CONNECT acknowledgement.
        loop {
            let text = match read_text(&mut ws) {
                Ok(text) => text,
                Err(e) => return lost(e),
            };
            if let Some(text) = text {
                match text.as_bytes().first() {
                    Some(b'2') => {
                        last_ping = Instant::now();
                        if let Err(e) = send(&mut ws, format!("3{}", &text[1..])) {
                            return lost(e);
                        }
                    }
                    Some(b'1') => return lost("the server closed the connection".into()),
                    Some(b'4') => match sio::decode_sio(&text[1..]) {
                        Ok(p) if p.namespace == NAMESPACE && p.kind == 0 => break,
                        Ok(p) if p.namespace == NAMESPACE && p.kind == 4 => {
                            let detail = p.data.map(|d| d.to_string()).unwrap_or_default();
                            return lost(format!("the Hub refused /plugin: {detail}"));
                        }
                        Ok(p) if p.namespace == NAMESPACE && p.kind == 1 => {
                            return lost("the Hub disconnected /plugin".into());
                        }
                        Ok(_) => {}
                        Err(e) => note(
                            &self.config,
                            LogLevel::Warning,
                            &format!("ignoring a malformed frame: {e}"),
                        ),
                    },
                    _ => {}
                }
            }
            if Instant::now() > deadline || self.control.close.load(Ordering::SeqCst) {
                return lost("the Hub did not accept the /plugin namespace in time".into());
            }
        }
        self.connected_loop(ws, open, last_ping)
    }

    fn heartbeat_frame(&self) -> String {
        sio::encode_event(
            "heartbeat",
            &json!({"id": self.config.id, "secret": self.config.secret}),
        )
    }

    fn connected_loop(
        &mut self,
        mut ws: WebSocket<Stream>,
        open: OpenInfo,
        mut last_ping: Instant,
    ) -> End {
        let lost = |reason: String| End::Lost {
            reason,
            connected: true,
        };
        // The heartbeat goes first, before anything queued while disconnected.
        if let Err(e) = send(&mut ws, self.heartbeat_frame()) {
            return lost(e);
        }
        let mut last_heartbeat = Instant::now();
        self.connection += 1;
        self.control.connected.store(true, Ordering::SeqCst);
        note(&self.config, LogLevel::Warning, "Connected");
        let dead_after = open.ping_interval + open.ping_timeout;
        loop {
            // Read what has arrived (at most POLL of waiting).
            match read_text(&mut ws) {
                Ok(Some(text)) => match self.on_text(&mut ws, &text, &mut last_ping) {
                    Ok(()) => {}
                    Err(reason) => return lost(reason),
                },
                Ok(None) => {}
                Err(e) => return lost(e),
            }
            // Send what the workers queued.
            self.pull_outbox();
            while let Some(item) = self.backlog.front() {
                let frame = match item {
                    Outgoing::Frame(frame) => frame.clone(),
                    Outgoing::Ack(ack) if ack.connection == self.connection => {
                        sio::encode_ack(ack.id)
                    }
                    Outgoing::Ack(_) => {
                        // Acknowledges an event of a connection that is gone.
                        self.backlog.pop_front();
                        continue;
                    }
                };
                if frame.len() as u64 > open.max_payload {
                    note(
                        &self.config,
                        LogLevel::Warning,
                        &format!(
                            "sending a frame of {} bytes, over the server's maxPayload {}",
                            frame.len(),
                            open.max_payload
                        ),
                    );
                }
                if let Err(e) = send(&mut ws, frame) {
                    return lost(e);
                }
                self.backlog.pop_front();
            }
            if self.control.close.load(Ordering::SeqCst) {
                self.pull_outbox();
                while let Some(item) = self.backlog.pop_front() {
                    let frame = match item {
                        Outgoing::Frame(frame) => frame,
                        Outgoing::Ack(ack) if ack.connection == self.connection => {
                            sio::encode_ack(ack.id)
                        }
                        Outgoing::Ack(_) => continue,
                    };
                    if send(&mut ws, frame).is_err() {
                        break;
                    }
                }
                let _ = send(&mut ws, sio::encode_disconnect());
                let _ = ws.close(None);
                let _ = ws.flush();
                return End::Shutdown;
            }
            if last_heartbeat.elapsed() >= self.config.heartbeat_interval {
                if let Err(e) = send(&mut ws, self.heartbeat_frame()) {
                    return lost(e);
                }
                last_heartbeat = Instant::now();
                note(&self.config, LogLevel::Debug, "Heartbeat");
            }
            if last_ping.elapsed() > dead_after {
                return lost(format!(
                    "no ping from the server in {} ms (ping timeout)",
                    dead_after.as_millis()
                ));
            }
        }
    }

    /// Handles one text frame on a connected session; `Err` ends the connection.
    fn on_text(
        &mut self,
        ws: &mut WebSocket<Stream>,
        text: &str,
        last_ping: &mut Instant,
    ) -> Result<(), String> {
        let Some(&first) = text.as_bytes().first() else {
            return Ok(());
        };
        match first {
            b'2' => {
                *last_ping = Instant::now();
                send(ws, format!("3{}", &text[1..]))
            }
            b'1' => Err("the server closed the Engine.IO session".into()),
            b'3' | b'6' | b'0' => Ok(()),
            b'4' => {
                let packet = match sio::decode_sio(&text[1..]) {
                    Ok(packet) => packet,
                    Err(e) => {
                        note(
                            &self.config,
                            LogLevel::Warning,
                            &format!("ignoring a malformed frame ({e}): {}", snippet(text)),
                        );
                        return Ok(());
                    }
                };
                if packet.namespace != NAMESPACE {
                    note(
                        &self.config,
                        LogLevel::Debug,
                        &format!("ignoring a packet for namespace {}", packet.namespace),
                    );
                    return Ok(());
                }
                match packet.kind {
                    1 => Err("the Hub disconnected /plugin".into()),
                    4 => Err(format!(
                        "the Hub sent a connect error: {}",
                        packet.data.map(|d| d.to_string()).unwrap_or_default()
                    )),
                    2 => {
                        let ack = packet.ack_id.map(|id| AckId {
                            connection: self.connection,
                            id,
                        });
                        self.on_event(packet.data, ack);
                        Ok(())
                    }
                    5 | 6 => {
                        note(
                            &self.config,
                            LogLevel::Warning,
                            "ignoring a binary Socket.IO packet (not supported)",
                        );
                        if let Some(id) = packet.ack_id {
                            self.backlog.push_back(Outgoing::Ack(AckId {
                                connection: self.connection,
                                id,
                            }));
                        }
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
            _ => {
                note(
                    &self.config,
                    LogLevel::Warning,
                    &format!("ignoring an unknown Engine.IO frame: {}", snippet(text)),
                );
                Ok(())
            }
        }
    }

    fn on_event(&mut self, data: Option<Value>, ack_id: Option<AckId>) {
        let mut args = match data {
            Some(Value::Array(args)) => args.into_iter(),
            _ => {
                note(
                    &self.config,
                    LogLevel::Warning,
                    "ignoring an event that is not a list",
                );
                if let Some(id) = ack_id {
                    self.backlog.push_back(Outgoing::Ack(id));
                }
                return;
            }
        };
        let name = args.next();
        match (name.as_ref().and_then(Value::as_str), args.next()) {
            (Some("plugin"), Some(Value::Object(data))) => (self.on_plugin)(data, ack_id),
            (Some(name), _) => {
                let level = if name == "plugin" {
                    LogLevel::Warning
                } else {
                    LogLevel::Info
                };
                note(
                    &self.config,
                    level,
                    &format!("ignoring event {name:?} (unknown, or without a data object)"),
                );
                if let Some(id) = ack_id {
                    self.backlog.push_back(Outgoing::Ack(id));
                }
            }
            (None, _) => {
                note(
                    &self.config,
                    LogLevel::Warning,
                    "ignoring an event without a name",
                );
                if let Some(id) = ack_id {
                    self.backlog.push_back(Outgoing::Ack(id));
                }
            }
        }
    }
}

fn snippet(text: &str) -> String {
    let mut end = text.len().min(120);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

fn send(ws: &mut WebSocket<Stream>, frame: String) -> Result<(), String> {
    ws.send(Message::text(frame)).map_err(|e| e.to_string())
}

/// One text frame, `None` when nothing arrived in time; `Err` when the socket is gone.
fn read_text(ws: &mut WebSocket<Stream>) -> Result<Option<String>, String> {
    match ws.read() {
        Ok(Message::Text(text)) => Ok(Some(text.as_str().to_string())),
        Ok(Message::Close(frame)) => Err(format!(
            "the server closed the websocket{}",
            frame.map(|f| format!(": {}", f.reason)).unwrap_or_default()
        )),
        Ok(_) => Ok(None),
        Err(tungstenite::Error::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e.to_string()),
    }
}
