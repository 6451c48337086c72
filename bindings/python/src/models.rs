//! The Python model objects (attribute holders of `imerit_ango.models`) as core models,
//! and the `_native` functions those classes call: ids, colours, tree flattening, the
//! one `model_to_dict` behind every `toDict()`, checks and the merge rule. An object is
//! read by the generic converter (its public attributes) and the core model's
//! `Deserialize`; the dict is the core model's wire form.

use ango_core as core;
use core::models as cm;
use core::ontology;
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

/// A new 32-hex schema id.
#[pyfunction]
pub fn new_schema_id() -> String {
    ontology::new_schema_id()
}

/// A random `#RRGGBB` colour.
#[pyfunction]
pub fn random_color() -> String {
    ontology::random_color()
}

/// Tree options (one, or a list) flattened into `(path, schemaId)` pairs, paths
/// prefixed with `"{title} / "` when a title is given.
#[pyfunction]
#[pyo3(signature = (nodes, title=None))]
pub fn flatten_tree_options(
    nodes: &Bound<'_, PyAny>,
    title: Option<String>,
) -> PyResult<Vec<(String, String)>> {
    crate::blocking::shield(|| {
        let trees: Vec<ontology::TreeOption> = match from_py(nodes)? {
            Value::Array(items) => from_json(nodes.py(), Value::Array(items))?,
            one => vec![from_json(nodes.py(), one)?],
        };
        let prefix = title.filter(|t| !t.is_empty()).map(|t| format!("{t} / "));
        Ok(ontology::flatten_tree_options(&trees)
            .into_iter()
            .map(|o| match &prefix {
                Some(p) => (format!("{p}{}", o.value), o.schema_id),
                None => (o.value, o.schema_id),
            })
            .collect())
    })
}

/// Checks an asset-builder template by the core's rules; `ValueError` when it is unusable.
#[pyfunction]
pub fn validate_asset_builder_template(template: &Bound<'_, PyAny>) -> PyResult<bool> {
    crate::blocking::shield(|| {
        model::<cm::AssetBuilderTemplate>(template)?
            .validate()
            .py_err(template.py())?;
        Ok(true)
    })
}

/// Checks a chat-asset configuration by the core's rules.
#[pyfunction]
pub fn validate_chat_config(config: &Bound<'_, PyAny>) -> PyResult<()> {
    crate::blocking::shield(|| model::<cm::ChatAssetCreationConfig>(config).map(drop))
}

/// The official merge of a stored answer (`tools`/`classifications`/`relations`) into a
/// new one (`objects`/...): `{"objects", "classifications", "relations"}`.
#[pyfunction]
pub fn merge_annotations<'py>(
    py: Python<'py>,
    existing: &Bound<'py, PyAny>,
    new: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    crate::blocking::shield(|| {
        let merged = cm::merge_annotations(&from_py(existing)?, model(new)?).py_err(py)?;
        to_py(py, &merged.to_value())
    })
}

/// Registers the model functions on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(model_to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(new_schema_id, m)?)?;
    m.add_function(wrap_pyfunction!(random_color, m)?)?;
    m.add_function(wrap_pyfunction!(flatten_tree_options, m)?)?;
    m.add_function(wrap_pyfunction!(validate_asset_builder_template, m)?)?;
    m.add_function(wrap_pyfunction!(validate_chat_config, m)?)?;
    m.add_function(wrap_pyfunction!(merge_annotations, m)?)?;
    Ok(())
}

/// A numpy array (its `tolist()`) or nested lists of numbers as a brush mask (the
/// core's `BrushMask::from_nested`).
pub fn brush_mask(obj: &Bound<'_, PyAny>, medical: bool) -> PyResult<core::brush::BrushMask> {
    let list = match obj.getattr_opt("tolist")?.filter(|t| !t.is_none()) {
        Some(tolist) => tolist.call0()?,
        None => obj.clone(),
    };
    core::brush::BrushMask::from_nested(&from_py(&list)?, medical).py_err(obj.py())
}
