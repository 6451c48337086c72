//! `LocalHub`: the Rust Ango Hub emulator, running inside the Python process.

use ango_emulator::{Emulator, EmulatorConfig};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::{Arc, Mutex};

/// A local, in-memory Ango Hub on 127.0.0.1, served from background threads.
#[pyclass(module = "imerit_ango._native", name = "LocalHub")]
pub struct LocalHub {
    // `None` once stopped; a mutex because `stop` may race with other threads' reads.
    // An `Arc` so that a long call (`run_plugin`) runs without holding the lock.
    emulator: Mutex<Option<Arc<Emulator>>>,
    url: String,
    api_key: String,
    organization_id: String,
}

#[pymethods]
impl LocalHub {
    /// Starts a hub; the keyword options are `ango_emulator::EmulatorConfig::from_options`'s
    /// (`latency_ms`, `fail_rate`, `drop_rate`, `seed`, `api_key`, `seed_demo`, `port`,
    /// `workers`, ...), checked there: a refused option is a `ValueError`.
    #[new]
    #[pyo3(signature = (**options))]
    fn new(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let options = match options {
            Some(options) => crate::convert::from_py(options.as_any())?,
            None => serde_json::Value::Null,
        };
        let config = EmulatorConfig::from_options(&options)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let emulator = py
            .detach(|| Emulator::start(config))
            .map_err(|e| PyOSError::new_err(format!("could not start the emulator: {e}")))?;
        Ok(LocalHub {
            url: emulator.url().to_string(),
            api_key: emulator.api_key().to_string(),
            organization_id: emulator.organization_id(),
            emulator: Mutex::new(Some(Arc::new(emulator))),
        })
    }

    /// Base URL, such as `http://127.0.0.1:PORT`; pass it as `SDK(host=...)`.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The API key the hub accepts.
    #[getter]
    fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The emulated organization's id.
    #[getter]
    fn organization_id(&self) -> &str {
        &self.organization_id
    }

    /// The email of the key's user (an organization admin).
    #[getter]
    fn admin_email(&self) -> PyResult<String> {
        self.with(|emu| emu.admin_email())
    }

    /// Number of requests the hub has received so far.
    #[getter]
    fn request_count(&self) -> PyResult<u64> {
        self.with(|emu| emu.request_count())
    }

    /// Creates a project with a demo ontology and `n_tasks` tasks; returns its id.
    #[pyo3(signature = (name, n_tasks=10, objects_per_task=0, completed=false))]
    fn seed_project(
        &self,
        py: Python<'_>,
        name: String,
        n_tasks: usize,
        objects_per_task: usize,
        completed: bool,
    ) -> PyResult<String> {
        py.detach(|| {
            self.with(|emu| emu.seed_project_with(&name, n_tasks, objects_per_task, completed))
        })
    }

    /// Runs a plugin connected to this hub (as `POST /__emulator/plugins/{id}/run`): sends
    /// `data` (missing `session`, `apiKey`, `orgId`, `runBy`, `configJSON` are filled in by
    /// the hub) to the plugin, waits up to `wait` seconds for the session to end and
    /// returns the session (`status`, `response`, `error`, `logs`, `data`).
    #[pyo3(signature = (plugin_id, data=None, *, wait=30.0))]
    fn run_plugin(
        &self,
        py: Python<'_>,
        plugin_id: &str,
        data: Option<&Bound<'_, PyAny>>,
        wait: f64,
    ) -> PyResult<Py<PyAny>> {
        let wait = ango_emulator::plugin_wait("wait", wait)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let data = match data {
            Some(d) => crate::convert::from_py(d)?,
            None => serde_json::Value::Object(Default::default()),
        };
        let emulator = self.shared()?;
        let session = py
            .detach(|| emulator.run_plugin(plugin_id, data, wait))
            .map_err(hub_error)?;
        Ok(crate::convert::to_py(py, &session)?.unbind())
    }

    /// The sessions of a plugin on this hub, oldest first.
    fn plugin_sessions(&self, py: Python<'_>, plugin_id: &str) -> PyResult<Py<PyAny>> {
        let answer = self.with(|emu| emu.plugin_sessions(plugin_id))?;
        let sessions = answer.get("sessions").unwrap_or(&answer);
        Ok(crate::convert::to_py(py, sessions)?.unbind())
    }

    /// Registers a plugin; `rest_url` names a plugin served with the REST connector,
    /// which the hub then calls with `POST {rest_url}/plugin` (websocket plugins register
    /// themselves with their first heartbeat).
    #[pyo3(signature = (plugin_id, secret, rest_url=None))]
    fn register_plugin(
        &self,
        py: Python<'_>,
        plugin_id: &str,
        secret: &str,
        rest_url: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        let plugin = self
            .with(|emu| emu.register_plugin(plugin_id, secret, rest_url))?
            .map_err(hub_error)?;
        Ok(crate::convert::to_py(py, &plugin)?.unbind())
    }

    /// Waits until plugin `plugin_id` is connected to the hub and has sent its first
    /// heartbeat (a websocket plugin registers itself then), so that `run_plugin` finds
    /// it; `TimeoutError` after `timeout` seconds.
    #[pyo3(signature = (plugin_id, timeout=10.0))]
    fn wait_for_plugin(&self, py: Python<'_>, plugin_id: &str, timeout: f64) -> PyResult<()> {
        let timeout = ango_emulator::plugin_wait("timeout", timeout)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let emulator = self.shared()?;
        match py.detach(|| emulator.wait_for_plugin(plugin_id, timeout)) {
            Some(_) => Ok(()),
            None => Err(pyo3::exceptions::PyTimeoutError::new_err(format!(
                "plugin {plugin_id:?} did not connect to the LocalHub"
            ))),
        }
    }

    /// The plugins the hub knows: id, connected, restUrl, lastHeartbeat.
    fn plugins(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let answer = self.with(|emu| emu.plugins())?;
        let plugins = answer.get("plugins").unwrap_or(&answer);
        Ok(crate::convert::to_py(py, plugins)?.unbind())
    }

    /// Stops the server (idempotent).
    fn stop(&self, py: Python<'_>) {
        let taken = self
            .emulator
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        // Joining the server threads can take a moment: do it without the GIL.
        py.detach(move || drop(taken));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.stop(py);
        false
    }

    fn __repr__(&self) -> String {
        let running = self.emulator.lock().map(|e| e.is_some()).unwrap_or(false);
        format!(
            "LocalHub(url='{}', running={})",
            self.url,
            if running { "True" } else { "False" }
        )
    }
}

impl LocalHub {
    /// The running emulator, shared, for calls that must not hold the lock.
    fn shared(&self) -> PyResult<Arc<Emulator>> {
        let guard = self.emulator.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .clone()
            .ok_or_else(|| PyRuntimeError::new_err("the LocalHub is stopped"))
    }

    fn with<T>(&self, f: impl FnOnce(&Emulator) -> T) -> PyResult<T> {
        let guard = self.emulator.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .map(|emu| f(emu))
            .ok_or_else(|| PyRuntimeError::new_err("the LocalHub is stopped"))
    }
}

/// A plugin-hub error (unknown plugin, bad data, session id in use) as a Python error.
fn hub_error(error: ango_emulator::HubError) -> PyErr {
    match error.status {
        404 => pyo3::exceptions::PyLookupError::new_err(error.message),
        400 | 409 => PyValueError::new_err(error.message),
        _ => PyRuntimeError::new_err(error.message),
    }
}
