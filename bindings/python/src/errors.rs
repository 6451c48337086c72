//! Core errors as the Python exceptions of `imerit_ango.exceptions`.
//!
//! The classes live in Python (they need multiple inheritance, e.g. `AngoTimeoutError`
//! is also a `TimeoutError`), and are imported once, on first use.

use ango_core as core;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

const MODULE: &str = "imerit_ango.exceptions";

static ANGO_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static HTTP_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TIMEOUT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CONNECTION_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static INVALID_ARGUMENT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static NOT_FOUND: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DECODE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static IO_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static INCONSISTENT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CANCELLED: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static INTERNAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Converts a core error into the matching Python exception.
pub fn to_pyerr(py: Python<'_>, error: core::Error) -> PyErr {
    match build(py, &error) {
        Ok(err) => err,
        // The exceptions module failed to import: still raise something meaningful.
        Err(import_error) => import_error,
    }
}

fn build(py: Python<'_>, error: &core::Error) -> PyResult<PyErr> {
    let (cell, name) = match error {
        core::Error::Http { .. } => (&HTTP_ERROR, "AngoHTTPError"),
        core::Error::Timeout(_) => (&TIMEOUT_ERROR, "AngoTimeoutError"),
        core::Error::Connection(_) | core::Error::Transport(_) => {
            (&CONNECTION_ERROR, "AngoConnectionError")
        }
        core::Error::InvalidArgument(_) => (&INVALID_ARGUMENT, "AngoInvalidArgumentError"),
        core::Error::NotFound(_) => (&NOT_FOUND, "AngoNotFoundError"),
        core::Error::Decode { .. } => (&DECODE_ERROR, "AngoDecodeError"),
        core::Error::Io { .. } => (&IO_ERROR, "AngoIOError"),
        core::Error::Inconsistent(_) => (&INCONSISTENT, "AngoInconsistentError"),
        core::Error::Cancelled => (&CANCELLED, "AngoCancelledError"),
        core::Error::Internal(_) => (&INTERNAL, "AngoInternalError"),
        _ => (&ANGO_ERROR, "AngoError"),
    };
    let class = cell.import(py, MODULE, name)?;
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
