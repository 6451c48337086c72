//! The Ango Hub **plugin runtime**: connects a user's function to Ango Hub as an Export,
//! Model, Batch Model, File Explorer, Input or Markdown plugin, over Socket.IO (the
//! default `WS` connector) or by serving HTTP (the `REST` connector).
//!
//! It sends the same frames and HTTP requests as the official Python runtime
//! (`imerit_ango.plugins` 1.4.10), and fixes its failure modes: reconnection with
//! backoff instead of exiting, a bounded worker pool with a queue for every kind, an
//! error record with a message whenever a run fails or returns nothing, export and upload
//! failures reported to the Hub, timeouts on every HTTP call, a graceful shutdown, and
//! log records gated by `LOGLEVEL` and echoed locally.
//!
//! Blocking, on std threads; no async runtime. Bindings implement [`PluginCallback`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use ango_plugins::{CallbackResult, FnCallback, PluginConfig, PluginKind, RunningPlugin};
//!
//! let mut config = PluginConfig::new("plugin-id", "plugin-secret", PluginKind::BatchModel);
//! config.apply_env()?;
//! let plugin = RunningPlugin::start(
//!     config,
//!     Arc::new(FnCallback(|request: ango_plugins::PluginRequest| {
//!         CallbackResult::Value(format!("got {} keys", request.data.len()).into())
//!     })),
//! )?;
//! plugin.join()?;
//! # Ok::<(), ango_core::Error>(())
//! ```
#![warn(missing_docs)]

mod callback;
mod config;
pub mod deferred;
mod kinds;
mod logger;
mod net;
mod options;
mod outbox;
mod pool;
mod rest;
mod runtime;
pub mod sio;
mod ws;

pub use ango_core::Error;
pub use callback::{CallbackResult, ExportRowStream, FnCallback, PluginCallback, PluginRequest};
pub use config::{
    Connector, DEFAULT_API_HOST, DEFAULT_HUB_URL, DEFAULT_PORT, LogLevel, Overflow, PluginConfig,
    PluginKind, ReconnectPolicy,
};
pub use logger::PluginLogger;
pub use options::{PluginOptions, plugin_config};
pub use runtime::RunningPlugin;
