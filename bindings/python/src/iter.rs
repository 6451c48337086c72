//! `Rows`: a core row iterator (export rows, auto-paginated listings) as a Python
//! iterator. Each step that may read a file or fetch a page runs without the GIL.

use std::sync::Mutex;

use ango_core as core;
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use serde_json::Value;

use crate::convert::to_py;
use crate::errors::to_pyerr;

type Source = Box<dyn Iterator<Item = core::Result<Value>> + Send>;

/// An iterator of JSON rows (dicts), fetched or read lazily.
#[pyclass(module = "imerit_ango._native", name = "Rows", frozen)]
pub struct Rows {
    // `None` once exhausted or closed, which also frees the temporary file or threads.
    source: Mutex<Option<Source>>,
}

impl Rows {
    /// The rows of a downloaded export.
    pub fn from_export(rows: core::export::ExportRows) -> Self {
        Rows {
            source: Mutex::new(Some(Box::new(rows))),
        }
    }

    /// Every item of a paged listing.
    pub fn from_pages(pages: core::Pages) -> Self {
        Rows {
            source: Mutex::new(Some(Box::new(pages))),
        }
    }
}

#[pymethods]
impl Rows {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let step = py.detach(|| {
            let mut guard = self.source.lock().unwrap_or_else(|e| e.into_inner());
            let item = guard.as_mut().and_then(Iterator::next);
            if !matches!(item, Some(Ok(_))) {
                // Exhausted or failed: release the file / stop the prefetching threads.
                *guard = None;
            }
            item
        });
        match step {
            Some(Ok(value)) => Ok(to_py(py, &value)?.unbind()),
            Some(Err(error)) => Err(to_pyerr(py, error)),
            None => Err(PyStopIteration::new_err(())),
        }
    }

    /// Stops early and frees what the iterator holds (idempotent).
    fn close(&self, py: Python<'_>) {
        let taken = self.source.lock().unwrap_or_else(|e| e.into_inner()).take();
        py.detach(move || drop(taken));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }
}
