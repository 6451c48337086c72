//! `startEmulator`: the local Ango Hub emulator, for tests and examples.

use std::sync::Mutex;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::invalid;
use crate::task::{Call, call_with};

/// Options of `startEmulator`; every field is optional.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct EmulatorOptions {
    /// TCP port on 127.0.0.1 (default 0: any free port).
    pub port: Option<u32>,
    /// The API key clients must send (default: a random one).
    pub api_key: Option<String>,
    /// Latency added to every API request, in milliseconds.
    pub latency_ms: Option<u32>,
    /// Probability (0..=1) that a request is answered 429 or 503.
    pub fail_rate: Option<f64>,
    /// Probability (0..=1) that a request's connection is dropped.
    pub drop_rate: Option<f64>,
    /// Seed of the fault-injection random generator.
    pub rng_seed: Option<u32>,
    /// Create a demo project with an ontology and tasks at start.
    pub seed_demo: Option<bool>,
    /// Pooled connection threads.
    pub workers: Option<u32>,
}

/// A running emulator; `stop()` it when done (it also stops when garbage-collected).
#[napi]
pub struct Emulator {
    inner: Mutex<Option<ango_emulator::Emulator>>,
    url: String,
    api_key: String,
    organization_id: String,
    admin_email: String,
}

#[napi]
impl Emulator {
    /// Base URL, `http://127.0.0.1:PORT`: pass it as the client's `host`.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The API key the emulator accepts.
    #[napi(getter)]
    pub fn api_key(&self) -> String {
        self.api_key.clone()
    }

    /// The emulated organization's id.
    #[napi(getter)]
    pub fn organization_id(&self) -> String {
        self.organization_id.clone()
    }

    /// The email of the API key's user (an organization admin).
    #[napi(getter)]
    pub fn admin_email(&self) -> String {
        self.admin_email.clone()
    }

    /// Creates a project with a demo ontology and `tasks` tasks in the Label stage;
    /// returns its id.
    #[napi]
    pub fn seed_project(&self, name: String, tasks: u32) -> Result<String> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let emulator = guard
            .as_ref()
            .ok_or_else(|| invalid("the emulator is stopped"))?;
        Ok(emulator.seed_project(&name, tasks as usize))
    }

    /// Requests received so far.
    #[napi(getter)]
    pub fn request_count(&self) -> f64 {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map_or(0.0, |e| e.request_count() as f64)
    }

    /// Stops serving and frees the port. Idempotent.
    #[napi]
    pub fn stop(&self) {
        let emulator = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(emulator);
    }
}

/// Starts an emulator on 127.0.0.1; resolves once it accepts connections.
#[napi(ts_return_type = "Promise<Emulator>")]
pub fn start_emulator(options: Option<EmulatorOptions>) -> Result<AsyncTask<Call<Emulator>>> {
    let options = options.unwrap_or_default();
    let defaults = ango_emulator::EmulatorConfig::default();
    let port = match options.port {
        None => defaults.port,
        Some(p) => u16::try_from(p).map_err(|_| invalid(format!("port {p} is out of range")))?,
    };
    let config = ango_emulator::EmulatorConfig {
        port,
        api_key: options.api_key,
        latency_ms: options.latency_ms.map_or(defaults.latency_ms, u64::from),
        fail_rate: options.fail_rate.unwrap_or(defaults.fail_rate),
        drop_rate: options.drop_rate.unwrap_or(defaults.drop_rate),
        rng_seed: options.rng_seed.map_or(defaults.rng_seed, u64::from),
        seed_demo: options.seed_demo.unwrap_or(defaults.seed_demo),
        workers: options
            .workers
            .map_or(defaults.workers, |w| w.max(1) as usize),
        ..defaults
    };
    Ok(call_with(move || {
        let emulator =
            ango_emulator::Emulator::start(config).map_err(|e| ango_core::Error::Io {
                context: "starting the emulator".into(),
                source: e,
            })?;
        Ok(Emulator {
            url: emulator.url().to_string(),
            api_key: emulator.api_key().to_string(),
            organization_id: emulator.organization_id(),
            admin_email: emulator.admin_email(),
            inner: Mutex::new(Some(emulator)),
        })
    }))
}
