//! The workspace's one HTTP test stack (a dev-dependency only, never published):
//!
//! - [`Recorder`]: a loopback HTTP/1.1 server answering canned replies and recording
//!   every request, to assert the exact bytes a client method sends;
//! - [`RawServer`]: a loopback server handing each connection to the test, for
//!   misbehaving servers (held, cut, malformed or missing answers);
//! - [`client`]: a raw HTTP client sending targets verbatim, for tests of servers (the
//!   emulator, a plugin's REST connector);
//! - [`TempDir`]: a temporary directory removed on drop.
//!
//! Everything listens on and talks to 127.0.0.1 only.

pub mod client;
pub mod raw;
pub mod recorder;

pub use raw::{RawServer, closed_port_url, json_response, raw_response};
pub use recorder::{Recorded, Recorder, Reply, TempDir, decode, parse_query, read_request};
