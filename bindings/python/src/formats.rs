//! The format converters of `ango_core::formats` for `imerit_ango.formats`: one native
//! function passing an operation and its arguments to the core's
//! [`formats::call`](ango_core::formats::call), where the argument rules live.
//!
//! Glue only: the arguments become JSON, an iterable of rows is pulled one row at a
//! time while the conversion runs without the GIL, and the result comes back as the
//! core's JSON.

use std::sync::{Arc, Mutex};

use ango_core as core;
use ango_core::export_row::ExportRow;
use ango_core::formats;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyIterator, PyString};

use crate::convert::{from_py, to_py};
use crate::errors::IntoPyResult;
use crate::{blocking, client};

/// Export rows from a Python iterable, pulled one at a time (the GIL taken for each)
/// while the conversion runs without it. A Python exception raised by the iterable
/// (or a pending signal handler's, such as `KeyboardInterrupt`) stops the conversion
/// and is kept in `error` to be raised as is.
struct PyRows {
    iter: Py<PyIterator>,
    error: Arc<Mutex<Option<PyErr>>>,
    done: bool,
}

impl PyRows {
    fn stop(&mut self, err: PyErr) -> Option<core::Result<ExportRow>> {
        self.done = true;
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(err);
        Some(Err(core::Error::Cancelled))
    }
}

impl Iterator for PyRows {
    type Item = core::Result<ExportRow>;

    fn next(&mut self) -> Option<core::Result<ExportRow>> {
        if self.done {
            return None;
        }
        let next = Python::attach(|py| -> PyResult<Option<core::Result<ExportRow>>> {
            py.check_signals()?;
            let Some(item) = self.iter.bind(py).clone().next() else {
                return Ok(None);
            };
            let item = item?;
            // A row is a dict (as `export_iter` yields), or one NDJSON line.
            if let Ok(text) = item.cast::<PyString>() {
                return Ok(Some(ExportRow::from_slice(text.to_cow()?.as_bytes())));
            }
            if let Ok(bytes) = item.cast::<PyBytes>() {
                return Ok(Some(ExportRow::from_slice(bytes.as_bytes())));
            }
            Ok(Some(ExportRow::from_value(from_py(&item)?)))
        });
        match next {
            Ok(Some(row)) => Some(row),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(err) => self.stop(err),
        }
    }
}

/// Runs the converter `operation` with `args` (a dict, see `ango_core::formats::call`);
/// `rows`, for `convert`, is an iterable of export rows (dicts, NDJSON lines) read one
/// at a time; `client` is the native client `export_as` exports with.
#[pyfunction]
#[pyo3(signature = (operation, args, rows=None, client=None))]
fn formats_call(
    py: Python<'_>,
    operation: String,
    args: &Bound<'_, PyAny>,
    rows: Option<&Bound<'_, PyAny>>,
    client: Option<&Bound<'_, client::Client>>,
) -> PyResult<Py<PyAny>> {
    blocking::shield(|| {
        let args = from_py(args)?;
        let client = client.map(|c| c.get().inner.clone());
        let Some(rows) = rows else {
            let done = blocking::call(py, move || {
                formats::call(client.as_ref(), &operation, args, None)
            })?;
            return Ok(to_py(py, &done)?.unbind());
        };
        let error = Arc::new(Mutex::new(None));
        let rows = PyRows {
            iter: rows.try_iter()?.unbind(),
            error: Arc::clone(&error),
            done: false,
        };
        // Not `blocking::call`: the rows come from Python code, which must not go on
        // running in the background once the caller has been interrupted.
        let result = py.detach(move || {
            blocking::catch(move || {
                formats::call(client.as_ref(), &operation, args, Some(Box::new(rows)))
            })
        });
        if let Some(err) = error.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(err);
        }
        let done = result.py_err(py)?;
        Ok(to_py(py, &done)?.unbind())
    })
}

/// Adds the converters to the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(formats_call, m)?)?;
    Ok(())
}
