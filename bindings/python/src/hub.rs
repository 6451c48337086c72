//! `LocalHub`'s native base: the Rust Ango Hub emulator inside the Python process. Its
//! methods and properties are attached by `imerit_ango.testing` from the emulator's
//! control table (`ango_emulator::control`); this file only starts, stops and calls.

use std::sync::Arc;

use ango_emulator::control::{self, ErrorKind};
use ango_emulator::{Emulator, EmulatorConfig};
use pyo3::exceptions::{PyLookupError, PyOSError, PyRuntimeError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A local, in-memory Ango Hub on 127.0.0.1, served from background threads.
#[pyclass(module = "imerit_ango._native", name = "LocalHub", subclass, frozen)]
pub struct LocalHub {
    emulator: Arc<Emulator>,
}

#[pymethods]
impl LocalHub {
    /// Starts a hub; the keyword options are `ango_emulator::EmulatorConfig::from_options`'s
    /// (`latency_ms`, `fail_rate`, `drop_rate`, `seed`, `api_key`, `seed_demo`, `port`,
    /// `workers`, ...), checked there: a refused option is a `ValueError`.
    #[new]
    #[pyo3(signature = (**options))]
    fn new(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        crate::blocking::shield(|| {
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
                emulator: Arc::new(emulator),
            })
        })
    }

    /// The emulator's control table (`ango_emulator::control::methods_json`).
    #[staticmethod]
    fn methods(py: Python<'_>) -> PyResult<Py<PyAny>> {
        crate::blocking::shield(
            || Ok(crate::convert::to_py(py, &control::methods_json())?.unbind()),
        )
    }

    /// Runs control method `name` with `args` (a dict keyed by parameter names), as
    /// `blocking::call` runs calls; a stop from another thread ends a wait at once.
    fn call(&self, py: Python<'_>, name: &str, args: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
        crate::blocking::shield(|| {
            let mut map = serde_json::Map::new();
            for (key, value) in args.iter() {
                // A non-finite float (JSON has none) goes as its text, for the emulator's
                // check to name the argument.
                let value = match value.extract::<f64>() {
                    Ok(x) if !x.is_finite() => serde_json::Value::String(x.to_string()),
                    _ => crate::convert::from_py(&value)?,
                };
                map.insert(key.extract()?, value);
            }
            let args = serde_json::Value::Object(map);
            let (emulator, name) = (Arc::clone(&self.emulator), name.to_string());
            // Like every call: without the GIL, and on the main thread interruptible by
            // Ctrl-C (a wait abandoned so ends at its own timeout, or at `stop()`).
            let answer =
                crate::blocking::call(py, move || Ok(control::call(&emulator, &name, args)))?
                    .map_err(|e| match e.kind {
                        ErrorKind::InvalidArgument => PyValueError::new_err(e.message),
                        ErrorKind::NotFound => PyLookupError::new_err(e.message),
                        ErrorKind::Timeout => PyTimeoutError::new_err(e.message),
                        ErrorKind::Stopped | ErrorKind::Failed => {
                            PyRuntimeError::new_err(e.message)
                        }
                    })?;
            Ok(crate::convert::to_py(py, &answer)?.unbind())
        })
    }

    /// Stops the server and frees the port (idempotent); ends the waits in progress.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        crate::blocking::shield(|| {
            py.detach(|| self.emulator.shutdown());
            Ok(())
        })
    }
}
