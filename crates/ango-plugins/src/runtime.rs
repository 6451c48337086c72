//! [`RunningPlugin`]: starting, watching and stopping a plugin.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ango_core::{Client, Error};

use crate::callback::PluginCallback;
use crate::config::PluginConfig;

/// One [`Client`] per API key seen (requests carry the running user's key), so that
/// connection pools and TLS setup are shared between requests.
#[derive(Clone)]
pub(crate) struct ClientCache {
    host: String,
    timeout: Duration,
    clients: Arc<Mutex<HashMap<String, Client>>>,
}

impl ClientCache {
    pub(crate) fn new(host: &str, timeout: Duration) -> Self {
        ClientCache {
            host: host.to_string(),
            timeout,
            clients: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The client for `api_key`, built on first use.
    pub(crate) fn get(&self, api_key: &str) -> Result<Client, Error> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(api_key) {
            return Ok(client.clone());
        }
        let client = Client::builder(api_key)
            .host(self.host.clone())
            .request_timeout(Some(self.timeout))
            .build()?;
        if clients.len() > 256 {
            clients.clear();
        }
        clients.insert(api_key.to_string(), client.clone());
        Ok(client)
    }
}

/// A started plugin: connected (Socket.IO) or serving (REST) on runtime threads.
pub struct RunningPlugin {
    _private: (),
}

impl std::fmt::Debug for RunningPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningPlugin").finish_non_exhaustive()
    }
}

impl RunningPlugin {
    /// Connects (WS) or binds (REST) and returns at once; work runs on runtime threads.
    /// Fails at once only for a configuration that cannot work (or a port that cannot
    /// be bound); a Hub that cannot be reached is retried per the reconnect policy.
    pub fn start(
        config: PluginConfig,
        callback: Arc<dyn PluginCallback>,
    ) -> Result<RunningPlugin, Error> {
        config.validate()?;
        let _ = callback;
        Err(Error::Internal("not implemented yet".into()))
    }

    /// Waits until the plugin has stopped or `timeout` has passed; true once stopped.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let _ = timeout;
        true
    }

    /// Stops taking new work, drains in-flight work, disconnects. Returns once stopped.
    pub fn shutdown(&self) {}

    /// Waits until the plugin stops (after [`RunningPlugin::shutdown`], or a fatal error
    /// such as exhausted reconnection attempts, which is returned).
    pub fn join(self) -> Result<(), Error> {
        Ok(())
    }

    /// REST connector: the address actually bound (useful with port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        None
    }

    /// Socket.IO connector: whether the `/plugin` namespace is connected right now.
    pub fn is_connected(&self) -> bool {
        false
    }
}
