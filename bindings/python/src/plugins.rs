//! The plugin runtime (`ango_plugins`) for `imerit_ango.plugins`: conversions only.
//!
//! A Python callable becomes an [`rt::PluginCallback`]: on a runtime worker thread it
//! attaches to the interpreter, builds the `data` dict (the request's JSON, a
//! `PluginLogger` made by the Python side around [`PluginLogSink`], and for Export the
//! rows as an iterator), calls the callable and converts what it returns into an
//! [`rt::CallbackResult`]. Every wait (`wait`, `shutdown`, `join`, the next export row,
//! sending a log record) runs without the GIL.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ango_plugins as rt;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyString, PyTuple};
use serde_json::{Map, Value};

use crate::convert::{from_py, to_py};
use crate::errors::to_pyerr;
use crate::models;

fn kind_from_name(name: &str) -> PyResult<rt::PluginKind> {
    Ok(match name {
        "Export" => rt::PluginKind::Export,
        "Model" => rt::PluginKind::Model,
        "BatchModel" => rt::PluginKind::BatchModel,
        "FileExplorer" => rt::PluginKind::FileExplorer,
        "Input" => rt::PluginKind::Input,
        "Markdown" => rt::PluginKind::Markdown,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown plugin kind {other:?}"
            )));
        }
    })
}

// ------------------------------------------------------------------ logger sink

/// The runtime's per-request logger, behind `PluginLogger`: it adds the fixed fields,
/// applies `LOGLEVEL` and sends the record to the Hub.
#[pyclass(module = "imerit_ango._native", name = "PluginLogSink", frozen)]
pub struct PluginLogSink {
    inner: rt::PluginLogger,
}

#[pymethods]
impl PluginLogSink {
    /// Sends one record: `level` is Python's number (`"Level 15"` is the name sent for
    /// numbers without one), `fields` the caller's extra keys.
    fn log(
        &self,
        py: Python<'_>,
        level: i64,
        message: &str,
        fields: &Bound<'_, PyDict>,
    ) -> PyResult<()> {
        let mut map = Map::with_capacity(fields.len());
        for (key, value) in fields.iter() {
            // A value JSON cannot carry is sent as its str(), rather than failing the log call.
            let value = match from_py(&value) {
                Ok(v) => v,
                Err(_) => Value::String(value.str()?.to_cow()?.into_owned()),
            };
            map.insert(key.str()?.to_cow()?.into_owned(), value);
        }
        let inner = &self.inner;
        py.detach(|| inner.send_number(level, message, map));
        Ok(())
    }

    /// The configured `LOGLEVEL`, as Python's number.
    #[getter]
    fn level(&self) -> i64 {
        self.inner.level().as_number()
    }

    fn __repr__(&self) -> String {
        "<PluginLogSink>".to_string()
    }
}

// ------------------------------------------------------------------ export rows

/// `data["jsonExport"]`: the export's tasks as dicts, read lazily, once.
#[pyclass(module = "imerit_ango._native", name = "ExportRows", frozen)]
pub struct ExportRows {
    rows: Mutex<Option<rt::ExportRowStream>>,
}

#[pymethods]
impl ExportRows {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let rows = &self.rows;
        let next = py.detach(|| {
            let mut guard = rows.lock().unwrap_or_else(|e| e.into_inner());
            let item = guard.as_mut().and_then(|stream| stream.next());
            if item.is_none() {
                // Exhausted: free the stream (its temporary file) at once.
                *guard = None;
            }
            item
        });
        match next {
            None => Ok(None),
            Some(Ok(value)) => Ok(Some(to_py(py, &value)?.unbind())),
            Some(Err(error)) => Err(to_pyerr(py, error)),
        }
    }

    fn __repr__(&self) -> String {
        "<ExportRows>".to_string()
    }
}

// ------------------------------------------------------------------ callback

/// A Python callable of one argument (the `data` dict) as the runtime's callback.
struct PyCallback {
    kind: rt::PluginKind,
    func: Py<PyAny>,
    /// `(sink, data) -> PluginLogger`, from `imerit_ango.plugins`.
    logger_factory: Py<PyAny>,
}

impl rt::PluginCallback for PyCallback {
    fn call(&self, request: rt::PluginRequest) -> rt::CallbackResult {
        // No panic may leave the binding; the interpreter may also be gone (exit).
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            Python::try_attach(|py| match self.invoke(py, request) {
                Ok(result) => result,
                Err(error) => {
                    // The traceback stays local; the Hub gets the message.
                    error.display(py);
                    rt::CallbackResult::Failed(describe(py, &error))
                }
            })
        }));
        match outcome {
            Ok(Some(result)) => result,
            Ok(None) => {
                rt::CallbackResult::Failed("the Python interpreter is shutting down".into())
            }
            Err(_) => rt::CallbackResult::Failed("internal error in the Python binding".into()),
        }
    }
}

/// `str(exception)`, or its type name when that is empty.
fn describe(py: Python<'_>, error: &PyErr) -> String {
    let value = error.value(py);
    match value.str().and_then(|s| s.to_cow().map(|c| c.into_owned())) {
        Ok(text) if !text.is_empty() => text,
        _ => error
            .get_type(py)
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "exception".to_string()),
    }
}

impl PyCallback {
    fn invoke(&self, py: Python<'_>, request: rt::PluginRequest) -> PyResult<rt::CallbackResult> {
        let rt::PluginRequest {
            data: fields,
            logger,
            export_rows,
            ..
        } = request;
        let data = PyDict::new(py);
        for (key, value) in &fields {
            data.set_item(key, to_py(py, value)?)?;
        }
        let sink = Py::new(py, PluginLogSink { inner: logger })?;
        let logger = self.logger_factory.call1(py, (sink, &data))?;
        data.set_item("logger", logger)?;
        if let Some(rows) = export_rows {
            let rows = ExportRows {
                rows: Mutex::new(Some(rows)),
            };
            data.set_item("jsonExport", Py::new(py, rows)?)?;
        }
        let result = self.func.bind(py).call1((&data,))?;
        convert_result(self.kind, &result)
    }
}

/// What the callback returned, as the runtime's result.
fn convert_result(kind: rt::PluginKind, obj: &Bound<'_, PyAny>) -> PyResult<rt::CallbackResult> {
    if obj.is_none() {
        return Ok(rt::CallbackResult::Nothing);
    }
    match kind {
        rt::PluginKind::Export => {
            if let Some(file) = export_file(obj)? {
                return Ok(file);
            }
        }
        rt::PluginKind::Model if is_annotation_payload(obj)? => return annotation(obj),
        _ => {}
    }
    Ok(rt::CallbackResult::Value(from_py(obj)?))
}

/// `ExportResponse(file, file_name, storage_id)` or the legacy `(file_name, file)`.
fn export_file(obj: &Bound<'_, PyAny>) -> PyResult<Option<rt::CallbackResult>> {
    if obj.hasattr("file")? && obj.hasattr("file_name")? {
        let file_name: String = obj.getattr("file_name")?.str()?.to_cow()?.into_owned();
        let storage_id = obj.getattr("storage_id").ok().filter(|s| !s.is_none());
        let storage_id = match storage_id {
            Some(s) => Some(s.str()?.to_cow()?.into_owned()),
            None => None,
        };
        return Ok(Some(rt::CallbackResult::ExportFile {
            bytes: file_bytes(&obj.getattr("file")?)?,
            file_name,
            storage_id,
        }));
    }
    if let Ok(tuple) = obj.cast::<PyTuple>()
        && tuple.len() == 2
    {
        let name = tuple.get_item(0)?;
        if let Ok(name) = name.cast::<PyString>() {
            return Ok(Some(rt::CallbackResult::ExportFile {
                bytes: file_bytes(&tuple.get_item(1)?)?,
                file_name: name.to_cow()?.into_owned(),
                storage_id: None,
            }));
        }
    }
    Ok(None)
}

/// The bytes of a `BytesIO` (its whole value), another binary file (read from its
/// position), or `bytes`/`bytearray`/`str`.
fn file_bytes(file: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = file.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = file.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if let Ok(s) = file.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    let content = if file.hasattr("getvalue")? {
        file.call_method0("getvalue")?
    } else if file.hasattr("read")? {
        file.call_method0("read")?
    } else {
        return Err(PyTypeError::new_err(format!(
            "the export file must be a BytesIO, a binary file or bytes, not {}",
            file.get_type().name()?
        )));
    };
    if let Ok(s) = content.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    content.extract::<Vec<u8>>().or_else(|_| {
        Ok(content
            .call_method0("__bytes__")?
            .cast::<PyBytes>()?
            .as_bytes()
            .to_vec())
    })
}

fn is_annotation_payload(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(obj.hasattr("answer")? && obj.hasattr("toDict")? && !obj.is_instance_of::<PyDict>())
}

/// An `AnnotationPayload`: its `toDict()` shape, and raw brush arrays (numpy or nested
/// sequences) as masks for the runtime to encode and upload.
fn annotation(obj: &Bound<'_, PyAny>) -> PyResult<rt::CallbackResult> {
    let payload = models::annotation_payload(obj)?.to_value();
    let brush = |name: &str, medical: bool| -> PyResult<_> {
        match obj.getattr(name).ok().filter(|a| !a.is_none()) {
            Some(array) => Ok(Some(models::brush_mask(&array, medical)?)),
            None => Ok(None),
        }
    };
    Ok(rt::CallbackResult::Annotation {
        payload,
        brush: brush("brush_data", false)?,
        medical_brush: brush("medical_brush_data", true)?,
    })
}

// ------------------------------------------------------------------ running plugin

/// A started plugin (`_native.start_plugin`).
#[pyclass(module = "imerit_ango._native", name = "RunningPlugin", frozen)]
pub struct RunningPlugin {
    // `None` once joined. Readers (wait, shutdown) share it; `join` takes it.
    inner: RwLock<Option<Arc<rt::RunningPlugin>>>,
    connector: &'static str,
    log_level: &'static str,
}

impl RunningPlugin {
    fn get(&self) -> Option<Arc<rt::RunningPlugin>> {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[pymethods]
impl RunningPlugin {
    /// Waits up to `timeout` seconds; `True` once the plugin has stopped.
    fn wait(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let timeout = Duration::try_from_secs_f64(timeout.max(0.0))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(match self.get() {
            Some(running) => py.detach(|| running.wait_timeout(timeout)),
            None => true,
        })
    }

    /// Starts stopping: no new work is taken, running callbacks finish, the connection
    /// closes. Returns at once (a callback may call it); `wait` tells when it is done.
    fn shutdown(&self) -> PyResult<()> {
        if let Some(running) = self.get() {
            std::thread::Builder::new()
                .name("plugin-shutdown".into())
                .spawn(move || running.shutdown())
                .map_err(|e| PyRuntimeError::new_err(format!("could not stop the plugin: {e}")))?;
        }
        Ok(())
    }

    /// Waits for the end and reports why the plugin stopped (raises on a failure).
    fn join(&self, py: Python<'_>) -> PyResult<()> {
        let taken = self.inner.write().unwrap_or_else(|e| e.into_inner()).take();
        let Some(running) = taken else {
            return Ok(());
        };
        let result = py.detach(move || match Arc::try_unwrap(running) {
            Ok(running) => running.join(),
            // Another thread still holds it (a concurrent wait): stop, wait, report.
            Err(shared) => {
                shared.shutdown();
                while !shared.wait_timeout(Duration::from_millis(100)) {}
                shared.take_error().map_or(Ok(()), Err)
            }
        });
        result.map_err(|e| to_pyerr(py, e))
    }

    /// `"WS"` or `"REST"`.
    #[getter]
    fn connector(&self) -> &'static str {
        self.connector
    }

    /// The configured `LOGLEVEL` name (`"INFO"`, ...).
    #[getter]
    fn log_level(&self) -> &'static str {
        self.log_level
    }

    /// Whether the Socket.IO namespace is connected (REST: whether it is serving).
    #[getter]
    fn connected(&self) -> bool {
        self.get().is_some_and(|r| r.is_connected())
    }

    /// `(host, port)` the REST connector listens on, or `None`.
    #[getter]
    fn local_addr(&self) -> Option<(String, u16)> {
        self.get()
            .and_then(|r| r.local_addr())
            .map(|a| (a.ip().to_string(), a.port()))
    }

    fn __repr__(&self) -> String {
        format!("<RunningPlugin connector={}>", self.connector)
    }
}

/// Starts a plugin of `kind` (`"Export"`, `"Model"`, ...): reads `CONNECTOR`, `PORT` and
/// `LOGLEVEL` now, connects (or binds) and returns; `callback(data)` then runs on the
/// runtime's worker threads, `logger_factory(sink, data)` makes each `data["logger"]`.
#[pyfunction]
#[pyo3(signature = (kind, id, secret, callback, logger_factory, *, hub_url, api_host,
    connector=None, concurrency=None, queue_capacity=None, overflow=None, port=None,
    bind_address=None, heartbeat_interval=None, http_timeout=None))]
#[allow(clippy::too_many_arguments)]
pub fn start_plugin(
    py: Python<'_>,
    kind: &str,
    id: String,
    secret: String,
    callback: Py<PyAny>,
    logger_factory: Py<PyAny>,
    hub_url: String,
    api_host: String,
    connector: Option<&str>,
    concurrency: Option<usize>,
    queue_capacity: Option<usize>,
    overflow: Option<&str>,
    port: Option<u16>,
    bind_address: Option<String>,
    heartbeat_interval: Option<f64>,
    http_timeout: Option<f64>,
) -> PyResult<RunningPlugin> {
    let kind = kind_from_name(kind)?;
    let mut config = rt::PluginConfig::new(id, secret, kind);
    config.hub_url = hub_url;
    config.api_host = api_host;
    config.apply_env().map_err(|e| to_pyerr(py, e))?;
    if let Some(connector) = connector {
        config.connector = match connector.to_ascii_uppercase().as_str() {
            "WS" => rt::Connector::WebSocket,
            "REST" => rt::Connector::Rest,
            _ => {
                return Err(PyValueError::new_err(
                    "Expecting CONNECTOR Environment variable",
                ));
            }
        };
    }
    if let Some(n) = concurrency {
        config.concurrency = n.max(1);
    }
    if let Some(n) = queue_capacity {
        config.queue_capacity = n;
    }
    if let Some(policy) = overflow {
        config.overflow = match policy.to_ascii_lowercase().as_str() {
            "reject" => rt::Overflow::Reject,
            "queue" => rt::Overflow::Queue,
            other => {
                return Err(PyValueError::new_err(format!(
                    "overflow must be 'queue' or 'reject', not {other:?}"
                )));
            }
        };
    }
    if let Some(port) = port {
        config.port = port;
    }
    if let Some(address) = bind_address {
        config.bind_address = address;
    }
    let seconds =
        |s: f64| Duration::try_from_secs_f64(s).map_err(|e| PyValueError::new_err(e.to_string()));
    if let Some(s) = heartbeat_interval {
        config.heartbeat_interval = seconds(s)?;
    }
    if let Some(s) = http_timeout {
        config.http_timeout = seconds(s)?;
    }
    let connector = match config.connector {
        rt::Connector::WebSocket => "WS",
        rt::Connector::Rest => "REST",
    };
    let log_level = config.log_level.name();
    // The user's records are echoed by `PluginLogger`'s own logging handler and sent
    // with `send_number`; the runtime's own messages (connection, export and upload
    // failures) are still echoed by the runtime.
    let callback = Arc::new(PyCallback {
        kind,
        func: callback,
        logger_factory,
    });
    let running = py
        .detach(move || rt::RunningPlugin::start(config, callback))
        .map_err(|e| to_pyerr(py, e))?;
    Ok(RunningPlugin {
        inner: RwLock::new(Some(Arc::new(running))),
        connector,
        log_level,
    })
}

/// Registers the plugin classes and functions on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RunningPlugin>()?;
    m.add_class::<PluginLogSink>()?;
    m.add_class::<ExportRows>()?;
    m.add_function(wrap_pyfunction!(start_plugin, m)?)?;
    Ok(())
}
