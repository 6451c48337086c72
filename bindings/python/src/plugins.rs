//! The plugin runtime (`ango_plugins`) for `imerit_ango.plugins`: conversions only.
//!
//! A Python callable becomes an [`rt::PluginCallback`]: on a runtime worker thread it
//! attaches to the interpreter, builds the `data` dict (the request's JSON, a
//! `PluginLogger` made by the Python side around [`PluginLogSink`], and for Export the
//! rows as a [`Rows`] iterator), calls the callable and converts what it returns into an
//! [`rt::CallbackResult`]. Every wait (`wait`, `shutdown`, `join`, the next export row,
//! sending a log record) runs without the GIL.

use std::sync::Arc;

use ango_plugins as rt;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

use crate::blocking;
use crate::convert::{from_py, to_py};
use crate::errors::IntoPyResult;
use crate::iter::Rows;

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
        blocking::shield(|| {
            py.detach(|| inner.send_number(level, message, map));
            Ok(())
        })
    }

    /// The configured `LOGLEVEL`, as Python's number.
    #[getter]
    fn level(&self) -> i64 {
        self.inner.level().as_number()
    }

    /// `"WS"` or `"REST"`: where the records go.
    #[getter]
    fn connector(&self) -> &'static str {
        self.inner.connector().map_or("WS", rt::Connector::as_str)
    }

    fn __repr__(&self) -> String {
        "<PluginLogSink>".to_string()
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
    // A panic is caught by the runtime (`the plugin callback panicked: ...`).
    fn call(&self, request: rt::PluginRequest) -> rt::CallbackResult {
        Python::try_attach(|py| match self.invoke(py, request) {
            Ok(result) => result,
            Err(error) => {
                // The traceback stays local; the Hub gets the message.
                error.display(py);
                rt::CallbackResult::Failed(describe(py, &error))
            }
        })
        .unwrap_or_else(|| {
            rt::CallbackResult::Failed("the Python interpreter is shutting down".into())
        })
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
            match rows.into_export_rows() {
                Some(rows) => data.set_item("jsonExport", Py::new(py, Rows::new(rows, None))?)?,
                None => data.set_item("jsonExport", PyList::empty(py))?,
            }
        }
        let result = self.func.bind(py).call1((&data,))?;
        let (value, file) = plain(&result)?;
        Ok(rt::CallbackResult::from_parts(
            self.kind,
            from_py(&value)?,
            file,
        ))
    }
}

/// The callback's result made JSON-ready one level deep, when a member needs it: the
/// first binary member (`bytes`, `bytearray`, a `BytesIO` or other binary file) is taken
/// out as bytes and left `None`, numpy arrays become lists, and an object becomes the
/// dict of its public attributes (a tuple or a dict stays one). Otherwise unchanged.
fn plain<'py>(obj: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyAny>, Option<Vec<u8>>)> {
    let py = obj.py();
    let tuple = obj.cast::<PyTuple>().ok();
    let members: Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)> = if let Some(t) = &tuple {
        let index = |i: usize| i.into_pyobject(py).map(|i| i.into_any());
        t.iter()
            .enumerate()
            .map(|(i, v)| Ok((index(i)?, v)))
            .collect::<PyResult<_>>()?
    } else if let Ok(d) = obj.cast::<PyDict>() {
        d.iter().collect()
    } else if let Some(attrs) = obj.getattr_opt("__dict__")?
        && let Ok(attrs) = attrs.cast::<PyDict>()
    {
        let public = |k: &Bound<'py, PyAny>| !k.to_string().starts_with('_');
        attrs.iter().filter(|(k, _)| public(k)).collect()
    } else {
        return Ok((obj.clone(), None));
    };
    let (out, mut file, mut changed) = (PyDict::new(py), None, false);
    for (key, value) in members {
        let value = if file.is_none()
            && let Some(bytes) = binary(&value)?
        {
            file = Some(bytes);
            py.None().into_bound(py)
        } else if value.hasattr("tolist")? {
            value.call_method0("tolist")?
        } else {
            out.set_item(key, value)?;
            continue;
        };
        changed = true;
        out.set_item(key, value)?;
    }
    Ok(match (changed, tuple) {
        (false, _) => (obj.clone(), None),
        (true, Some(_)) => (PyTuple::new(py, out.values())?.into_any(), file),
        (true, None) => (out.into_any(), file),
    })
}

/// The bytes of `bytes`/`bytearray`, of a `BytesIO` (its whole value) or of another
/// binary file (read from its position); `None` for anything else.
fn binary(value: &Bound<'_, PyAny>) -> PyResult<Option<Vec<u8>>> {
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(Some(b.as_bytes().to_vec()));
    }
    if let Ok(b) = value.cast::<PyByteArray>() {
        return Ok(Some(b.to_vec()));
    }
    let content = if value.hasattr("getvalue")? {
        value.call_method0("getvalue")?
    } else if value.hasattr("read")? && !value.is_instance_of::<PyString>() {
        value.call_method0("read")?
    } else {
        return Ok(None);
    };
    if let Ok(s) = content.cast::<PyString>() {
        return Ok(Some(s.to_cow()?.as_bytes().to_vec()));
    }
    Ok(Some(content.extract::<Vec<u8>>()?))
}

// ------------------------------------------------------------------ running plugin

/// A started plugin (`_native.start_plugin`).
#[pyclass(module = "imerit_ango._native", name = "RunningPlugin", frozen)]
pub struct RunningPlugin {
    inner: rt::RunningPlugin,
}

#[pymethods]
impl RunningPlugin {
    /// Waits up to `timeout` seconds; `True` once the plugin has stopped.
    fn wait(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let inner = &self.inner;
        blocking::shield(|| Ok(py.detach(|| inner.wait_seconds(timeout))))
    }

    /// Starts stopping: no new work is taken, running callbacks finish, the connection
    /// closes. Returns at once (a callback may call it); `wait` tells when it is done.
    fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        blocking::shield(|| self.inner.shutdown_in_background().py_err(py))
    }

    /// Waits for the end and reports why the plugin stopped (raises on a failure).
    fn join(&self, py: Python<'_>) -> PyResult<()> {
        let inner = &self.inner;
        blocking::shield(|| py.detach(|| inner.finish()).py_err(py))
    }

    /// `"WS"` or `"REST"`.
    #[getter]
    fn connector(&self) -> &'static str {
        self.inner.config().connector.as_str()
    }

    /// The configured `LOGLEVEL` name (`"INFO"`, ...).
    #[getter]
    fn log_level(&self) -> &'static str {
        self.inner.config().log_level.name()
    }

    /// Whether the Socket.IO namespace is connected (REST: whether it is serving).
    #[getter]
    fn connected(&self) -> bool {
        self.inner.is_connected()
    }

    /// `(host, port)` the REST connector listens on, or `None`.
    #[getter]
    fn local_addr(&self) -> Option<(String, u16)> {
        self.inner
            .local_addr()
            .map(|a| (a.ip().to_string(), a.port()))
    }

    fn __repr__(&self) -> String {
        format!("<RunningPlugin connector={}>", self.connector())
    }
}

/// Reads `options` (a dict, keys as `ango_plugins::PluginOptions` names them) for a
/// plugin of `kind`; raises `AngoInvalidArgumentError` (a `ValueError`) for a bad one.
#[pyfunction]
pub fn check_plugin_options(
    py: Python<'_>,
    kind: &str,
    options: &Bound<'_, PyAny>,
) -> PyResult<()> {
    blocking::shield(|| {
        rt::plugin_config(kind, from_py(options)?)
            .map(drop)
            .py_err(py)
    })
}

/// Starts a plugin of `kind` (`"Export"`, `"Model"`, ...) with `options` (see
/// `check_plugin_options`): reads `CONNECTOR`, `PORT` and `LOGLEVEL` now, connects (or
/// binds) and returns; `callback(data)` then runs on the runtime's worker threads,
/// `logger_factory(sink, data)` makes each `data["logger"]`.
#[pyfunction]
pub fn start_plugin(
    py: Python<'_>,
    kind: &str,
    options: &Bound<'_, PyAny>,
    callback: Py<PyAny>,
    logger_factory: Py<PyAny>,
) -> PyResult<RunningPlugin> {
    blocking::shield(|| {
        let config = rt::plugin_config(kind, from_py(options)?).py_err(py)?;
        // The user's records are echoed by `PluginLogger`'s own logging handler and sent
        // with `send_number`; the runtime's own messages are still echoed by the runtime.
        let callback = Arc::new(PyCallback {
            kind: config.kind,
            func: callback,
            logger_factory,
        });
        let inner = py
            .detach(move || rt::RunningPlugin::start(config, callback))
            .py_err(py)?;
        Ok(RunningPlugin { inner })
    })
}

/// Registers the plugin classes, functions and defaults on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RunningPlugin>()?;
    m.add_class::<PluginLogSink>()?;
    m.add_function(wrap_pyfunction!(start_plugin, m)?)?;
    m.add_function(wrap_pyfunction!(check_plugin_options, m)?)?;
    m.add("PLUGIN_DEFAULT_HUB_URL", rt::DEFAULT_HUB_URL)?;
    m.add("PLUGIN_DEFAULT_API_HOST", rt::DEFAULT_API_HOST)?;
    Ok(())
}
