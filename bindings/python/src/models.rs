//! The Python model objects (attribute holders of `imerit_ango.models`) as core models,
//! and the `_native` functions those classes call: the one `model_to_dict` behind every
//! `toDict()`, and the core's other model helpers by name (`model_call`). An object is
//! read by the generic converter (its public attributes) and the core model's
//! `Deserialize`; the dict is the core model's wire form.

use ango_core as core;
use core::brush::NestedArray;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::convert::{from_py, to_py};
use crate::errors::IntoPyResult;

/// A Python model object (or its dict) as the core model `T`; a field of the wrong
/// type or value is `AngoInvalidArgumentError`.
pub fn model<T: DeserializeOwned>(obj: &Bound<'_, PyAny>) -> PyResult<T> {
    from_json(obj.py(), from_py(obj)?)
}

fn from_json<T: DeserializeOwned>(py: Python<'_>, value: Value) -> PyResult<T> {
    serde_json::from_value(value)
        .map_err(|e| core::Error::InvalidArgument(e.to_string()))
        .py_err(py)
}

/// `toDict()` / `to_dict()` of every model class: the object's attributes through the
/// core's `model_wire_form(kind, ...)` (`"TaskFilter"`, `"Storage"`, `"Category"`, ...).
#[pyfunction]
pub fn model_to_dict<'py>(
    py: Python<'py>,
    kind: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| {
        let form = core::api::model_wire_form(kind, from_py(obj)?).py_err(py)?;
        to_py(py, &form)
    })
}

/// The core's model helpers by name (`ango_core::api::model_call`): `new_schema_id`,
/// `random_color`, `flatten_tree_options`, `validate_asset_builder_template`,
/// `validate_chat_config`, `merge_annotations`; `args` is a dict of their arguments.
#[pyfunction]
#[pyo3(signature = (op, args=None))]
pub fn model_call<'py>(
    py: Python<'py>,
    op: &str,
    args: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| {
        let args = args.map(from_py).transpose()?.unwrap_or(Value::Null);
        to_py(py, &core::api::model_call(op, args).py_err(py)?)
    })
}

/// Registers the model functions on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(model_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(model_call, m)?)?;
    Ok(())
}

/// A numpy array (its `tolist()`) or nested sequences of numbers as a brush mask, read
/// piece by piece by the core's `NestedArray` (no intermediate JSON: masks are large).
pub fn brush_mask(obj: &Bound<'_, PyAny>, medical: bool) -> PyResult<core::brush::BrushMask> {
    fn walk(obj: &Bound<'_, PyAny>, depth: usize, array: &mut NestedArray) -> PyResult<()> {
        if let Ok(number) = obj.extract::<f64>() {
            return array.number(depth, number).py_err(obj.py());
        }
        let not_numbers =
            || PyTypeError::new_err("a brush array holds numbers in nested sequences");
        if obj.is_instance_of::<pyo3::types::PyString>() {
            return Err(not_numbers());
        }
        let items: Vec<Bound<'_, PyAny>> = obj
            .try_iter()
            .map_err(|_| not_numbers())?
            .collect::<PyResult<_>>()?;
        array.sequence(depth, items.len()).py_err(obj.py())?;
        items
            .iter()
            .try_for_each(|item| walk(item, depth + 1, array))
    }
    let list = match obj.getattr_opt("tolist")?.filter(|t| !t.is_none()) {
        Some(tolist) => tolist.call0()?,
        None => obj.clone(),
    };
    let mut array = NestedArray::default();
    walk(&list, 0, &mut array)?;
    array.finish(medical).py_err(obj.py())
}
