//! Node.js bindings of the Ango Hub Rust SDK: the native part of the `ango-hub` npm
//! package. Thin by design: arguments are converted, `ango_core` does the work on the
//! libuv thread pool, results come back as plain objects and errors as coded errors.
#![deny(clippy::all)]

mod client;
mod emulator;
mod errors;
mod formats;
mod models;
mod plugins;
mod stream;
mod task;

pub use client::AngoClient;
pub use emulator::{Emulator, start_emulator};
pub use formats::{
    formats_coco_to_import, formats_convert, formats_export_as, formats_yolo_to_import,
};
pub use plugins::{
    NativePlugin, plugin_complete, plugin_export_next, plugin_log, plugin_log_enabled, start_plugin,
};
pub use stream::RowStream;

/// The marker that starts the message of a coded error (read by `ango.js`).
#[napi_derive::napi]
pub const ERROR_MARKER: &str = errors::MARKER;
