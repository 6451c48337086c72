//! The format converters of `ango_core::formats` for `imerit_ango.formats`: export rows
//! to COCO, YOLO and Pascal VOC, a project's export straight to one of them, and COCO
//! or YOLO annotations back to Ango's import format.
//!
//! Thin: arguments become core values, the work runs without the GIL, and reports come
//! back as the core's JSON (`ConversionReport::to_value`, `ImportReport::to_value`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ango_core as core;
use ango_core::export_row::ExportRow;
use ango_core::formats::{self, AssetInfo, Format, ImportPlan, RowReader};
use ango_core::ontology::CategorySchema;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyIterator, PyString};
use serde_json::Value;

use crate::convert::{from_py, to_py};
use crate::errors::to_pyerr;
use crate::{blocking, client, models};

/// An ontology as given: a JSON file to read, or its JSON value.
enum OntologySource {
    Path(PathBuf),
    Value(Value),
}

impl OntologySource {
    /// A path (`str` or `os.PathLike`), a dict (a category schema, an object with
    /// `categorySchema`, or a `get_project` answer), or a list of tools.
    fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Some(path) = path_of(obj)? {
            return Ok(OntologySource::Path(path));
        }
        Ok(OntologySource::Value(from_py(obj)?))
    }

    /// The category schema (reads the file: call without the GIL).
    fn load(&self) -> core::Result<CategorySchema> {
        match self {
            OntologySource::Path(path) => formats::read_ontology_file(path),
            OntologySource::Value(value) => formats::ontology_from_value(value),
        }
    }
}

/// `Some(path)` for a `str` or an `os.PathLike`, `None` for anything else.
fn path_of(obj: &Bound<'_, PyAny>) -> PyResult<Option<PathBuf>> {
    if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
        return Ok(Some(obj.extract()?));
    }
    Ok(None)
}

fn target(py: Python<'_>, to: &str) -> PyResult<Format> {
    to.parse::<Format>().map_err(|e| to_pyerr(py, e))
}

fn report(py: Python<'_>, report: &formats::ConversionReport) -> PyResult<Py<PyAny>> {
    Ok(to_py(py, &report.to_value())?.unbind())
}

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

/// Converts an export (a `.ndjson`/`.json` file, or an iterable of rows) to `to`
/// (`coco`, `yolo`, `yolo-seg`, `voc`) at `out`; returns the conversion report.
#[pyfunction]
#[pyo3(signature = (source, to, ontology, out))]
fn formats_convert(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    to: String,
    ontology: &Bound<'_, PyAny>,
    out: PathBuf,
) -> PyResult<Py<PyAny>> {
    blocking::shield(|| {
        let format = target(py, &to)?;
        let ontology = OntologySource::from_py(ontology)?;
        if let Some(path) = path_of(source)? {
            let done = blocking::call(py, move || {
                let ontology = ontology.load()?;
                formats::convert(RowReader::open(&path)?, format, &ontology, &out)
            })?;
            return report(py, &done);
        }
        let error = Arc::new(Mutex::new(None));
        let rows = PyRows {
            iter: source.try_iter()?.unbind(),
            error: Arc::clone(&error),
            done: false,
        };
        // Not `blocking::call`: the rows come from Python code, which must not go on
        // running in the background once the caller has been interrupted.
        let result = py.detach(move || {
            blocking::catch(move || {
                let ontology = ontology.load()?;
                formats::convert(rows, format, &ontology, &out)
            })
        });
        if let Some(err) = error.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(err);
        }
        let done = result.map_err(|e| to_pyerr(py, e))?;
        report(py, &done)
    })
}

/// Exports a project as NDJSON and converts it on the fly (`Client::export_as`).
#[pyfunction]
#[pyo3(signature = (client, project_id, to, out, options=None, ontology=None))]
fn formats_export_as(
    py: Python<'_>,
    client: &Bound<'_, client::Client>,
    project_id: String,
    to: String,
    out: PathBuf,
    options: Option<&Bound<'_, PyAny>>,
    ontology: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    blocking::shield(|| {
        let format = target(py, &to)?;
        let options = match options {
            Some(o) if !o.is_none() => models::export_options(o)?,
            _ => core::models::ExportOptions::new(None, None),
        };
        let ontology = match ontology {
            Some(o) if !o.is_none() => Some(OntologySource::from_py(o)?),
            _ => None,
        };
        let c = client.get().inner.clone();
        let done = blocking::call(py, move || {
            let ontology = ontology.as_ref().map(OntologySource::load).transpose()?;
            c.export_as(&project_id, &options, format, ontology.as_ref(), &out)
        })?;
        report(py, &done)
    })
}

/// Assets to match images against: dicts as `get_assets` lists them or export rows
/// (`externalId`, `metadata.width/height`), or bare external ids.
fn assets_of(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Vec<AssetInfo>> {
    let items = match from_py(obj)? {
        Value::Array(items) => items,
        _ => {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "assets must be a list of asset dicts or external ids",
            ));
        }
    };
    formats::import::assets_from_values(&items).map_err(|e| to_pyerr(py, e))
}

fn plan(py: Python<'_>, plan: ImportPlan) -> PyResult<Py<PyAny>> {
    let labels = to_py(py, &Value::Array(plan.labels))?;
    let report = to_py(py, &plan.report.to_value())?;
    Ok((labels, report).into_pyobject(py)?.into_any().unbind())
}

/// COCO annotations (a file, or the parsed document) to `import_labels` items.
#[pyfunction]
#[pyo3(signature = (coco, ontology, assets=None))]
fn formats_coco_to_import(
    py: Python<'_>,
    coco: &Bound<'_, PyAny>,
    ontology: &Bound<'_, PyAny>,
    assets: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    blocking::shield(|| {
        let ontology = OntologySource::from_py(ontology)?;
        let assets = match assets {
            Some(a) if !a.is_none() => Some(assets_of(py, a)?),
            _ => None,
        };
        let source = match path_of(coco)? {
            Some(path) => Err(path),
            None => Ok(from_py(coco)?),
        };
        let done = blocking::call(py, move || {
            let ontology = ontology.load()?;
            let coco = match source {
                Ok(value) => value,
                Err(path) => formats::read_json_file(&path)?,
            };
            formats::coco_to_import(&coco, &ontology, assets.as_deref())
        })?;
        plan(py, done)
    })
}

/// A YOLO dataset directory (`data.yaml`, `labels/`) to `import_labels` items.
#[pyfunction]
fn formats_yolo_to_import(
    py: Python<'_>,
    dir: PathBuf,
    ontology: &Bound<'_, PyAny>,
    assets: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    blocking::shield(|| {
        let ontology = OntologySource::from_py(ontology)?;
        let assets = assets_of(py, assets)?;
        let done = blocking::call(py, move || {
            let ontology = ontology.load()?;
            formats::yolo_to_import(&dir, &ontology, &assets)
        })?;
        plan(py, done)
    })
}

/// Adds the converters to the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(formats_convert, m)?)?;
    m.add_function(wrap_pyfunction!(formats_export_as, m)?)?;
    m.add_function(wrap_pyfunction!(formats_coco_to_import, m)?)?;
    m.add_function(wrap_pyfunction!(formats_yolo_to_import, m)?)?;
    Ok(())
}
