//! A Batch Model plugin that logs one line and answers with the keys it received.
//!
//! ```sh
//! ANGO_PLUGIN_ID=... ANGO_PLUGIN_SECRET=... ANGO_HUB_URL=http://127.0.0.1:8000 \
//!     cargo run -p ango-plugins --example echo_plugin
//! ```
//! `CONNECTOR`, `PORT` and `LOGLEVEL` work as with the official runtime. Ctrl-C is the
//! host's business; this example runs until the process is killed.

use std::sync::Arc;

use ango_plugins::{
    CallbackResult, FnCallback, LogLevel, PluginConfig, PluginKind, PluginRequest, RunningPlugin,
};
use serde_json::{Map, Value, json};

fn main() -> Result<(), ango_core::Error> {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let mut config = PluginConfig::new(
        var("ANGO_PLUGIN_ID", "echo"),
        var("ANGO_PLUGIN_SECRET", "secret"),
        PluginKind::BatchModel,
    );
    config.hub_url = var("ANGO_HUB_URL", ango_plugins::DEFAULT_HUB_URL);
    config.api_host = var("ANGO_API_HOST", ango_plugins::DEFAULT_API_HOST);
    config.apply_env()?;
    let plugin = RunningPlugin::start(
        config,
        Arc::new(FnCallback(|request: PluginRequest| {
            let mut fields = Map::new();
            fields.insert("keys".into(), json!(request.data.len()));
            request
                .logger
                .log(LogLevel::Warning, "echo plugin called", fields);
            let keys: Vec<Value> = request.data.keys().map(|k| json!(k)).collect();
            CallbackResult::Value(Value::Array(keys))
        })),
    )?;
    plugin.join()
}
