//! Node.js bindings of the Ango Hub Rust SDK: the native part of the `ango-hub` npm
//! package. Glue only: arguments come in as JSON text, `ango_core` does the work on the
//! libuv thread pool (its method table dispatches by name), results go back as JSON
//! text and errors as coded errors; every call can be cancelled with a token.
#![deny(clippy::all)]

mod client;
mod emulator;
mod errors;
mod formats;
mod plugins;
mod stream;
mod task;

pub use client::{AngoClient, CancelToken, listings, methods};
pub use emulator::{Emulator, start_emulator};
pub use formats::formats_call;
pub use plugins::{NativePlugin, plugin_kinds, start_plugin};
pub use stream::RowStream;

/// The marker that starts the message of a coded error (read by `ango.js`).
#[napi_derive::napi]
pub const ERROR_MARKER: &str = errors::MARKER;
