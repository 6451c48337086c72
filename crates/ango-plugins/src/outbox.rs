//! The queue of outgoing Socket.IO frames, drained by the connector's I/O thread.

use std::sync::mpsc::Sender;

use serde_json::Value;

use crate::sio;

/// The server's ack id of an event, with the connection it arrived on (an ack is only
/// meaningful on that connection; one that outlives it is dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AckId {
    pub(crate) connection: u64,
    pub(crate) id: u64,
}

/// One queued item for the Hub.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outgoing {
    /// A complete text frame.
    Frame(String),
    /// An empty acknowledgement.
    Ack(AckId),
}

/// A handle to queue events for the Hub. Frames queued while the connection is down
/// are sent after the next successful (re)connection, after its `heartbeat`.
#[derive(Clone)]
pub(crate) struct Outbox {
    tx: Sender<Outgoing>,
}

impl Outbox {
    pub(crate) fn new(tx: Sender<Outgoing>) -> Self {
        Outbox { tx }
    }

    /// Queues event `name` with one argument on `/plugin`.
    pub(crate) fn emit(&self, name: &str, payload: &Value) {
        let _ = self
            .tx
            .send(Outgoing::Frame(sio::encode_event(name, payload)));
    }

    /// Queues the empty acknowledgement of a server event.
    pub(crate) fn ack(&self, ack: AckId) {
        let _ = self.tx.send(Outgoing::Ack(ack));
    }
}
