//! `Client`: the native client. Every method of the core's method table is reached
//! through one generic [`Client::call`] (`imerit_ango.sdk` builds the `SDK` methods from
//! the table); what the table leaves out (uploads with progress, iterators, exports,
//! brush arrays) has its own method here. Calls run without the GIL (interruptible by
//! Ctrl-C on the main thread), inside [`blocking::shield`] so that no Rust panic
//! reaches Python as `PanicException`.

use ango_core as core;
use ango_core::export::{ExportOutput, ExportTarget};
use pyo3::prelude::*;
use serde_json::Value;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::Path;

use crate::convert::{from_py, to_py};
use crate::decode::{Decoded, decode_shared};
use crate::errors::{IntoPyResult, to_pyerr};
use crate::{blocking, iter, models};

/// A blocking Ango Hub client (the core's `ango_core::Client`).
#[pyclass(module = "imerit_ango._native", name = "Client", frozen)]
pub struct Client {
    pub(crate) inner: core::Client,
    /// The key, for the SDK's `api_key` property (the official SDK exposes it): kept
    /// here so that it is not in the `SDK` object's `__dict__`. Never in `repr()`.
    api_key: std::sync::Arc<str>,
}

/// A JSON document (a response body, a whole export) as Python objects, built straight
/// from the bytes; what the fast decoder leaves (a syntax error, a lone surrogate) is
/// read by `serde_json`, whose error is the core's decode error (with a snippet).
pub(crate) fn decode_document(py: Python<'_>, bytes: Vec<u8>) -> PyResult<Py<PyAny>> {
    // Building millions of containers would set off the cyclic garbage collector over
    // and over (each pass walking every container built so far): what is built here
    // holds no cycles, so a large document is decoded with the collector paused.
    let paused = if bytes.len() >= 1 << 20 {
        let gc = py.import("gc")?;
        let enabled = gc.call_method0("isenabled")?.is_truthy()?;
        if enabled {
            gc.call_method0("disable")?;
        }
        enabled.then_some(gc)
    } else {
        None
    };
    // The collector is switched back on even if the decode panics.
    let decoded = catch_unwind(AssertUnwindSafe(|| decode_shared(py, &bytes)));
    if let Some(gc) = paused {
        gc.call_method0("enable")?;
    }
    match decoded.unwrap_or_else(|panic| resume_unwind(panic)) {
        Decoded::Value(value) => Ok(value.unbind()),
        Decoded::Fallback => {
            Ok(to_py(py, &core::Reply::Document(bytes).into_value().py_err(py)?)?.unbind())
        }
    }
}

/// The constructor's and `with_options`' keyword arguments as the core's options
/// (`timeout` in seconds, 0 meaning no limit).
fn options(
    timeout: Option<f64>,
    max_retries: Option<u32>,
    concurrency: Option<usize>,
    progress: Option<bool>,
) -> core::ClientOptions {
    core::ClientOptions {
        timeout,
        max_retries: max_retries.map(f64::from),
        concurrency: concurrency.map(|n| n as f64),
        progress,
        ..core::ClientOptions::default()
    }
}

#[pymethods]
impl Client {
    /// `host` `None`: `$ANGO_HOST`, else the default host (the core's rule).
    #[new]
    #[pyo3(signature = (api_key, host=None, *, timeout=None, max_retries=None, concurrency=None, progress=None))]
    fn new(
        py: Python<'_>,
        api_key: String,
        host: Option<String>,
        timeout: Option<f64>,
        max_retries: Option<u32>,
        concurrency: Option<usize>,
        progress: Option<bool>,
    ) -> PyResult<Self> {
        // Options and `ANGO_*` variables are checked by the core; a panic on an absurd
        // value still becomes an `AngoInternalError`, never a `PanicException`.
        let inner = blocking::guard(py, || {
            if api_key.is_empty() {
                // Never the environment's key: the official SDK has no such fallback.
                return Err(core::Error::InvalidArgument("the API key is empty".into()));
            }
            core::Client::from_options(&core::ClientOptions {
                api_key: Some(api_key.clone()),
                host,
                ..options(timeout, max_retries, concurrency, progress)
            })
        })?;
        Ok(Client {
            inner,
            api_key: api_key.into(),
        })
    }

    /// A client sharing this one's connections and key, with some settings changed.
    #[pyo3(signature = (*, timeout=None, max_retries=None, concurrency=None, progress=None))]
    fn with_options(
        &self,
        py: Python<'_>,
        timeout: Option<f64>,
        max_retries: Option<u32>,
        concurrency: Option<usize>,
        progress: Option<bool>,
    ) -> PyResult<Self> {
        let inner = blocking::guard(py, || {
            let overrides = options(timeout, max_retries, concurrency, progress).overrides()?;
            Ok(self.inner.with_overrides(&overrides))
        })?;
        Ok(Client {
            inner,
            api_key: std::sync::Arc::clone(&self.api_key),
        })
    }

    /// The API key this client sends.
    #[getter]
    fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The API host, without a trailing slash.
    #[getter]
    fn host(&self) -> &str {
        self.inner.host()
    }

    fn __repr__(&self) -> String {
        format!("Client(host={:?})", self.inner.host())
    }

    /// Calls the table method `method` with `args` (a dict keyed by parameter name;
    /// model objects, enums and datetimes inside are converted). The reply is decoded
    /// straight from the server's bytes when the method returns it unchanged.
    #[pyo3(signature = (method, args=None))]
    fn call(
        &self,
        py: Python<'_>,
        method: String,
        args: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let args = match args {
                Some(args) => from_py(args)?,
                None => Value::Null,
            };
            let c = self.inner.clone();
            match blocking::call(py, move || c.call(&method, args))? {
                core::Reply::Document(bytes) => decode_document(py, bytes),
                core::Reply::Value(value) => Ok(to_py(py, &value)?.unbind()),
            }
        })
    }

    #[pyo3(signature = (project_id, arr, medical=false))]
    fn upload_brush_array(
        &self,
        py: Python<'_>,
        project_id: String,
        arr: &Bound<'_, PyAny>,
        medical: bool,
    ) -> PyResult<String> {
        blocking::shield(|| {
            let mask = models::brush_mask(arr, medical)?;
            let c = self.inner.clone();
            blocking::call(py, move || {
                c.upload_brush_array(&project_id, &mask, medical)
            })
        })
    }

    // ------------------------------------------------------------------ export

    /// The official `exportV3` result: the parsed JSON; for NDJSON a `(rows, count)`
    /// tuple whose rows stream from the downloaded file (`count` is `None` unless
    /// `count_rows`); `None` when saved to a path. `args` holds `exportV3()`'s or
    /// `export()`'s arguments (the core's `ExportArgs`, v1.3.14 forms included); the
    /// arguments and filters the export API ignores are reported with warnings.
    #[pyo3(signature = (project_id, args, count_rows=true))]
    fn export(
        &self,
        py: Python<'_>,
        project_id: String,
        args: &Bound<'_, PyAny>,
        count_rows: bool,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let args: core::export::ExportArgs = models::model(args)?;
            let resolved = args.resolve().py_err(py)?;
            let deprecation = py.get_type::<pyo3::exceptions::PyDeprecationWarning>();
            let ignored = py.get_type::<pyo3::exceptions::PyUserWarning>();
            let warnings = resolved.deprecated.iter().map(|m| (&deprecation, m));
            for (category, message) in
                warnings.chain(resolved.ignored.iter().map(|m| (&ignored, m)))
            {
                let message = std::ffi::CString::new(message.as_str()).unwrap_or_default();
                PyErr::warn(py, category, &message, 2)?;
            }
            let (options, path) = (resolved.options, resolved.path);
            let c = self.inner.clone();
            let output = blocking::call(py, move || {
                c.export_output(
                    &project_id,
                    &options,
                    ExportTarget::V3 {
                        path: path.as_deref().map(Path::new),
                        count_rows,
                    },
                )
            })?;
            match output {
                ExportOutput::Saved(_) | ExportOutput::Url(_) => Ok(py.None()),
                ExportOutput::Rows(rows, count) => {
                    let rows = Py::new(py, iter::Rows::new(rows, None))?;
                    Ok((rows, count).into_pyobject(py)?.into_any().unbind())
                }
                ExportOutput::Document(bytes) => decode_document(py, bytes),
            }
        })
    }

    // ----------------------------------------------------------------- uploads

    /// Uploads local files (each a path, or a dict with `data` and optionally
    /// `externalId`, `contextData`, `metadata`) with `options` (the core's
    /// `UploadOptions`: `storage_id`, `batches`, `priority`, `progress` as a flag) and
    /// `progress`, a callable `(done, total)`; returns `(report, error)`:
    /// the core's `UploadReport` as it serializes, and the registration call's
    /// exception (or `None`).
    #[pyo3(signature = (project_id, files, options=None, progress=None))]
    fn upload_files(
        &self,
        py: Python<'_>,
        project_id: String,
        files: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyAny>>,
        progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        blocking::shield(|| {
            let files: Vec<core::upload::UploadFile> = models::model(files)?;
            let mut options: core::upload::UploadOptions = match options {
                Some(o) => models::model(o)?,
                None => core::upload::UploadOptions::default(),
            };
            if let Some(callback) = progress_callback(progress) {
                options.progress = Some(callback);
            }
            let c = self.inner.clone();
            let report = blocking::call(py, move || c.upload_files(&project_id, &files, &options))?;
            // The core's serialized report, and the registration call's error as the
            // exception it would raise (with its status and body).
            let shape = serde_json::to_value(&report)
                .map_err(|e| to_pyerr(py, core::Error::Internal(e.to_string())))?;
            let error = report
                .registration_error
                .map(|e| to_pyerr(py, e).into_value(py));
            Ok((to_py(py, &shape)?, error)
                .into_pyobject(py)?
                .into_any()
                .unbind())
        })
    }

    // -------------------------------------------------------------- pagination

    /// An auto-paginated listing (`kind`: `"tasks"`, `"assets"` or `"projects"`), its
    /// items read page by page as the rows are read; `options` is a dict of the core's
    /// `Client::listing` options (`page_size`, the `get_tasks` filters, `filters`).
    #[pyo3(signature = (kind, project_id=None, options=None))]
    fn iter(
        &self,
        py: Python<'_>,
        kind: &str,
        project_id: Option<String>,
        options: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<iter::Rows> {
        blocking::shield(|| {
            let options = options.map(from_py).transpose()?.unwrap_or(Value::Null);
            // Closing the iterator cancels the token: the page fetches stop.
            let cancel = core::Cancel::new();
            let client = self.inner.with_cancel(&cancel);
            let pages =
                blocking::guard(py, || client.listing(kind, project_id.as_deref(), options))?;
            Ok(iter::Rows::new(pages, Some(cancel)))
        })
    }
}

/// A callable `(done, total)` as the core's progress reporter (`None` otherwise: a
/// flag goes in the upload options).
fn progress_callback(
    progress: Option<&Bound<'_, PyAny>>,
) -> Option<std::sync::Arc<dyn core::progress::Progress>> {
    let callback: Py<PyAny> = progress.filter(|p| p.is_callable())?.clone().unbind();
    Some(std::sync::Arc::new(core::progress::FnProgress::new(
        move |done, total| {
            // Not once the interpreter is shutting down (an upload abandoned by Ctrl-C
            // runs on until its next checkpoint).
            Python::try_attach(|py| {
                if let Err(error) = callback.call1(py, (done, total)) {
                    // A failing callback must not abort the upload; Python reports it.
                    error.write_unraisable(py, Some(callback.bind(py)));
                }
            });
        },
    )))
}
