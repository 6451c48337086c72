//! `LocalHub`: the Rust Ango Hub emulator, running inside the Python process.

use ango_emulator::{Emulator, EmulatorConfig};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::sync::Mutex;

/// A local, in-memory Ango Hub on 127.0.0.1, served from background threads.
#[pyclass(module = "imerit_ango._native", name = "LocalHub")]
pub struct LocalHub {
    // `None` once stopped; a mutex because `stop` may race with other threads' reads.
    emulator: Mutex<Option<Emulator>>,
    url: String,
    api_key: String,
    organization_id: String,
}

#[pymethods]
impl LocalHub {
    #[new]
    #[pyo3(signature = (*, latency_ms=0, fail_rate=0.0, drop_rate=0.0, seed=None, api_key=None, seed_demo=false, port=0, workers=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        latency_ms: u64,
        fail_rate: f64,
        drop_rate: f64,
        seed: Option<u64>,
        api_key: Option<String>,
        seed_demo: bool,
        port: u16,
        workers: Option<usize>,
    ) -> PyResult<Self> {
        for (name, rate) in [("fail_rate", fail_rate), ("drop_rate", drop_rate)] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(PyValueError::new_err(format!(
                    "{name} must be between 0 and 1, got {rate}"
                )));
            }
        }
        let mut config = EmulatorConfig::default()
            .port(port)
            .latency_ms(latency_ms)
            .fail_rate(fail_rate)
            .drop_rate(drop_rate)
            .seed_demo(seed_demo);
        if let Some(seed) = seed {
            config = config.rng_seed(seed);
        }
        if let Some(key) = api_key {
            config = config.api_key(key);
        }
        if let Some(workers) = workers {
            config = config.workers(workers.max(1));
        }
        let emulator = py
            .detach(|| Emulator::start(config))
            .map_err(|e| PyOSError::new_err(format!("could not start the emulator: {e}")))?;
        Ok(LocalHub {
            url: emulator.url().to_string(),
            api_key: emulator.api_key().to_string(),
            organization_id: emulator.organization_id(),
            emulator: Mutex::new(Some(emulator)),
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

    /// Runs a plugin connected to this hub (`POST /__emulator/plugins/{id}/run`): sends
    /// `data` (missing `session`, `apiKey`, `orgId`, `runBy`, `configJSON` are filled in by
    /// the hub) as a `plugin` event, waits up to `wait` seconds for the session to end and
    /// returns the session (`status`, `response`, `error`, `logs`, `data`).
    #[pyo3(signature = (plugin_id, data=None, *, wait=30.0))]
    fn run_plugin(
        &self,
        py: Python<'_>,
        plugin_id: &str,
        data: Option<&Bound<'_, PyAny>>,
        wait: f64,
    ) -> PyResult<Py<PyAny>> {
        if !(0.0..=3600.0).contains(&wait) {
            return Err(PyValueError::new_err(
                "wait must be between 0 and 3600 seconds",
            ));
        }
        let body = match data {
            Some(d) => crate::convert::from_py(d)?,
            None => serde_json::Value::Object(Default::default()),
        };
        let wait = wait.ceil() as u64;
        let path = format!(
            "/__emulator/plugins/{}/run?wait={wait}",
            path_segment(plugin_id)
        );
        let timeout = std::time::Duration::from_secs(wait + 30);
        self.admin(py, "POST", &path, Some(body), timeout)
    }

    /// The sessions of a plugin on this hub, oldest first (`GET /__emulator/plugins/{id}/sessions`).
    fn plugin_sessions(&self, py: Python<'_>, plugin_id: &str) -> PyResult<Py<PyAny>> {
        let path = format!("/__emulator/plugins/{}/sessions", path_segment(plugin_id));
        let answer = self.admin(py, "GET", &path, None, std::time::Duration::from_secs(30))?;
        let answer = answer.bind(py);
        match answer.get_item("sessions") {
            Ok(sessions) => Ok(sessions.unbind()),
            Err(_) => Ok(answer.clone().unbind()),
        }
    }

    /// Registers a plugin (`POST /__emulator/plugins`); `rest_url` names a plugin served
    /// with the REST connector, which the hub then calls with `POST {rest_url}/plugin`.
    #[pyo3(signature = (plugin_id, secret, rest_url=None))]
    fn register_plugin(
        &self,
        py: Python<'_>,
        plugin_id: &str,
        secret: &str,
        rest_url: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        let mut body = serde_json::json!({"id": plugin_id, "secret": secret});
        if let Some(url) = rest_url {
            body["restUrl"] = url.into();
        }
        self.admin(
            py,
            "POST",
            "/__emulator/plugins",
            Some(body),
            std::time::Duration::from_secs(30),
        )
    }

    /// The plugins the hub knows (`GET /__emulator/plugins`): id, connected, restUrl,
    /// lastHeartbeat.
    fn plugins(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let answer = self.admin(
            py,
            "GET",
            "/__emulator/plugins",
            None,
            std::time::Duration::from_secs(30),
        )?;
        let answer = answer.bind(py);
        match answer.get_item("plugins") {
            Ok(plugins) => Ok(plugins.unbind()),
            Err(_) => Ok(answer.clone().unbind()),
        }
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
    /// One call to the hub's `/__emulator` admin API, without the GIL.
    fn admin(
        &self,
        py: Python<'_>,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
        timeout: std::time::Duration,
    ) -> PyResult<Py<PyAny>> {
        use crate::errors::IntoPyResult;
        let client = ango_core::Client::builder(self.api_key.clone())
            .host(self.url.clone())
            .request_timeout(Some(timeout))
            .max_retries(0)
            .build()
            .py_err(py)?;
        let answer = py
            .detach(|| client.make_request(method, path, body.as_ref()))
            .py_err(py)?;
        Ok(crate::convert::to_py(py, &answer)?.unbind())
    }

    fn with<T>(&self, f: impl FnOnce(&Emulator) -> T) -> PyResult<T> {
        let guard = self.emulator.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .map(f)
            .ok_or_else(|| PyRuntimeError::new_err("the LocalHub is stopped"))
    }
}

/// A path segment with every byte outside `A-Z a-z 0-9 - . _ ~` percent-encoded.
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
