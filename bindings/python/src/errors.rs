//! Core errors as the Python exceptions of `imerit_ango.exceptions`.
//!
//! The classes live in Python (they need multiple inheritance, e.g. `AngoTimeoutError`
//! is also a `TimeoutError`), and are looked up when an error is raised.

use ango_core as core;
use pyo3::prelude::*;
use pyo3::types::PyDict;

const MODULE: &str = "imerit_ango.exceptions";

/// Converts a core error into the matching Python exception.
pub fn to_pyerr(py: Python<'_>, error: core::Error) -> PyErr {
    match build(py, &error) {
        Ok(err) => err,
        // The exceptions module failed to import: still raise something meaningful.
        Err(import_error) => import_error,
    }
}

fn build(py: Python<'_>, error: &core::Error) -> PyResult<PyErr> {
    let name = match error {
        core::Error::Http { .. } => "AngoHTTPError",
        core::Error::Timeout(_) => "AngoTimeoutError",
        core::Error::Connection(_) | core::Error::Transport(_) => "AngoConnectionError",
        core::Error::InvalidArgument(_) => "AngoInvalidArgumentError",
        core::Error::NotFound(_) => "AngoNotFoundError",
        core::Error::Decode { .. } => "AngoDecodeError",
        core::Error::Io { .. } => "AngoIOError",
        core::Error::Inconsistent(_) => "AngoInconsistentError",
        core::Error::Cancelled => "AngoCancelledError",
        core::Error::Internal(_) => "AngoInternalError",
        _ => "AngoError",
    };
    // Looked up per error (not a hot path): the module is imported once, then cached.
    let class = py.import(MODULE)?.getattr(name)?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("code", error.code())?;
    if let core::Error::Http {
        status,
        body,
        retry_after,
    } = error
    {
        kwargs.set_item("status_code", *status)?;
        kwargs.set_item("body", body)?;
        kwargs.set_item("retry_after", retry_after.map(|d| d.as_secs_f64()))?;
    }
    let instance = class.call((error.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}

/// `Result<T, core::Error>` to `PyResult<T>`.
pub trait IntoPyResult<T> {
    /// Maps the error with [`to_pyerr`].
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for core::Result<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_pyerr(py, e))
    }
}
