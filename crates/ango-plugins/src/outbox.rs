//! The queue of outgoing Socket.IO frames, drained by the connector's I/O thread.

use std::sync::mpsc::Sender;

use serde_json::Value;

use crate::sio;

/// A handle to queue events for the Hub. Frames queued while the connection is down
/// are sent after the next successful (re)connection, after its `heartbeat`.
#[derive(Clone)]
pub(crate) struct Outbox {
    tx: Sender<String>,
}

impl Outbox {
    pub(crate) fn new(tx: Sender<String>) -> Self {
        Outbox { tx }
    }

    /// Queues event `name` with one argument on `/plugin`.
    pub(crate) fn emit(&self, name: &str, payload: &Value) {
        let _ = self.tx.send(sio::encode_event(name, payload));
    }

    /// Queues the empty acknowledgement of server event `ack_id`.
    pub(crate) fn ack(&self, ack_id: u64) {
        let _ = self.tx.send(sio::encode_ack(ack_id));
    }
}
