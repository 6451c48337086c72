//! `Rows`: a core row iterator (export rows, auto-paginated listings) as a Python
//! iterator. Each step that may read a file or fetch a page runs without the GIL.

use std::collections::VecDeque;
use std::sync::Mutex;

use ango_core as core;
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBytes;
use serde_json::Value;

use crate::convert::to_py;
use crate::errors::to_pyerr;

type Values = Box<dyn Iterator<Item = core::Result<Value>> + Send>;

/// Export rows are read as JSON text in batches without the GIL, then decoded by the
/// interpreter's own `json.loads` (one pass straight into Python objects, as the
/// official SDK decodes them), instead of via an intermediate Rust value.
const EXPORT_BATCH: usize = 256;

enum Source {
    Values(Values),
    Export {
        rows: Box<core::export::ExportRows>,
        pending: VecDeque<Vec<u8>>,
        failed: Option<core::Error>,
    },
}

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
            source: Mutex::new(Some(Source::Export {
                rows: Box::new(rows),
                pending: VecDeque::new(),
                failed: None,
            })),
        }
    }

    /// Every item of a paged listing.
    pub fn from_pages(pages: core::Pages) -> Self {
        Rows {
            source: Mutex::new(Some(Source::Values(Box::new(pages)))),
        }
    }
}

enum Step {
    Value(Value),
    Text(Vec<u8>),
    Failed(core::Error),
    End,
}

fn json_loads(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    LOADS
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("json")?.getattr("loads")?.unbind())
        })
        .map(|f| f.bind(py))
}

impl Rows {
    /// The next step; reads ahead only when nothing is buffered. The lock is taken with
    /// the GIL released, so a thread waiting for it never holds the GIL.
    fn step(&self, py: Python<'_>) -> Step {
        py.detach(|| {
            let mut guard = self.source.lock().unwrap_or_else(|e| e.into_inner());
            let step = match guard.as_mut() {
                None => Step::End,
                Some(Source::Values(values)) => match values.next() {
                    Some(Ok(value)) => Step::Value(value),
                    Some(Err(error)) => Step::Failed(error),
                    None => Step::End,
                },
                Some(Source::Export {
                    rows,
                    pending,
                    failed,
                }) => {
                    if pending.is_empty() && failed.is_none() {
                        while pending.len() < EXPORT_BATCH {
                            match rows.next_raw() {
                                Some(Ok(text)) => pending.push_back(text),
                                Some(Err(error)) => {
                                    *failed = Some(error);
                                    break;
                                }
                                None => break,
                            }
                        }
                    }
                    match pending.pop_front() {
                        Some(text) => Step::Text(text),
                        None => failed.take().map_or(Step::End, Step::Failed),
                    }
                }
            };
            if matches!(step, Step::Failed(_) | Step::End) {
                // Exhausted or failed: release the file / stop the prefetching threads.
                *guard = None;
            }
            step
        })
    }
}

#[pymethods]
impl Rows {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.step(py) {
            Step::Value(value) => Ok(to_py(py, &value)?.unbind()),
            Step::Text(text) => Ok(json_loads(py)?.call1((PyBytes::new(py, &text),))?.unbind()),
            Step::Failed(error) => Err(to_pyerr(py, error)),
            Step::End => Err(PyStopIteration::new_err(())),
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
