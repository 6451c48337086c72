//! JSON values to Python objects and back, directly in Rust (no `json` round trip).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use serde_json::{Map, Number, Value};

use crate::decode::decode_shared;

/// A JSON value as the equivalent Python object (dicts keep the value's key order),
/// made by the decoder the server's replies go through, from the value's JSON text.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_vec(value).map_err(|e| PyValueError::new_err(e.to_string()))?;
    decode_shared(py, &text).or_loads(py, &text)
}

static ENUM_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATETIME_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A Python object as JSON: what `json.dumps` accepts, plus `Enum` members (their
/// value), `datetime`/`date` (ISO text of their wall-clock fields, the time zone left
/// out as the official `strftime` does), paths (`os.fspath`) and model objects (their
/// public attributes, read by the core's model types).
pub fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    from_py_depth(obj, 0)
}

fn from_py_depth(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    // json.dumps refuses circular structures; a depth limit does the same job here.
    if depth > 512 {
        return Err(PyValueError::new_err("Circular reference detected"));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: in Python, bool is a subclass of int.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        let f: f64 = obj.extract()?;
        return finite(f);
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return finite(f.value());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            map.insert(dict_key(&key)?, from_py_depth(&item, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list
            .iter()
            .map(|item| from_py_depth(&item, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple
            .iter()
            .map(|item| from_py_depth(&item, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    let py = obj.py();
    if obj.is_instance(ENUM_TYPE.import(py, "enum", "Enum")?)? {
        return from_py_depth(&obj.getattr("value")?, depth + 1);
    }
    if obj.is_instance(DATE_TYPE.import(py, "datetime", "date")?)? {
        return date_text(obj).map(Value::String);
    }
    if obj.hasattr("__fspath__")? {
        let path = py.import("os")?.call_method1("fspath", (obj,))?;
        return from_py_depth(&path, depth + 1);
    }
    if is_model(obj)?
        && let Some(attributes) = obj.getattr_opt("__dict__")?
        && let Ok(attributes) = attributes.cast::<PyDict>()
    {
        let mut map = Map::with_capacity(attributes.len());
        for (key, item) in attributes.iter() {
            let Ok(name) = key.cast::<PyString>() else {
                continue;
            };
            let name = name.to_cow()?;
            if !name.starts_with('_') {
                map.insert(name.into_owned(), from_py_depth(&item, depth + 1)?);
            }
        }
        return Ok(Value::Object(map));
    }
    Err(PyTypeError::new_err(format!(
        "Object of type {} is not JSON serializable",
        obj.get_type().name()?
    )))
}

/// Whether `obj` is one of the package's model objects (a class of `imerit_ango`),
/// which are read by their public attributes; other objects are not JSON.
fn is_model(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    let module = obj.get_type().module()?;
    let module = module.to_cow()?;
    Ok(module == "imerit_ango" || module.starts_with("imerit_ango."))
}

/// A `date` as `YYYY-MM-DD`, a `datetime` as `YYYY-MM-DDTHH:MM:SS.ffffff` (its fields
/// as given, any time zone ignored), as the core's `Timestamp` reads them.
fn date_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let field = |name: &str| -> PyResult<i64> { obj.getattr(name)?.extract() };
    let date = format!(
        "{:04}-{:02}-{:02}",
        field("year")?,
        field("month")?,
        field("day")?
    );
    if !obj.is_instance(DATETIME_TYPE.import(obj.py(), "datetime", "datetime")?)? {
        return Ok(date);
    }
    Ok(format!(
        "{date}T{:02}:{:02}:{:02}.{:06}",
        field("hour")?,
        field("minute")?,
        field("second")?,
        field("microsecond")?
    ))
}

fn finite(f: f64) -> PyResult<Value> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| PyValueError::new_err("Out of range float values are not JSON compliant"))
}

/// A dict key as JSON text, converting the scalar keys `json.dumps` converts.
fn dict_key(key: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = key.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if key.is_none() {
        return Ok("null".into());
    }
    if let Ok(b) = key.cast::<PyBool>() {
        return Ok(if b.is_true() { "true" } else { "false" }.into());
    }
    if key.is_instance_of::<PyInt>() || key.is_instance_of::<PyFloat>() {
        return Ok(key.str()?.to_cow()?.into_owned());
    }
    Err(PyTypeError::new_err(format!(
        "keys must be str, int, float, bool or None, not {}",
        key.get_type().name()?
    )))
}
