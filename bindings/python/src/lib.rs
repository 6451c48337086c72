//! `imerit_ango._native`: the Rust core of the `imerit_ango` Python package.
//!
//! Thin by design: argument conversion, one call into `ango_core` without the GIL
//! (interruptible by Ctrl-C, panics caught: see `blocking`), and result/error
//! conversion. The pure-Python package keeps the official SDK's names and signatures
//! on top of it.

use pyo3::prelude::*;

mod blocking;
mod client;
mod convert;
mod decode;
mod errors;
mod formats;
mod hub;
mod iter;
mod models;
mod plugins;

/// The core's method table (`ango_core::api::methods_json`): one dict per method with
/// its name, parameters (name, Python annotation, JSON default, keyword-only, doc),
/// doc and result; `ango-codegen` generates the `SDK` methods (`_table.py`) from it.
#[pyfunction]
fn methods(py: Python<'_>) -> PyResult<Py<PyAny>> {
    blocking::shield(|| Ok(convert::to_py(py, &ango_core::api::methods_json())?.unbind()))
}

/// Python's `json.dumps(obj)` text, written by the core's serializer.
#[pyfunction]
fn dumps(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    blocking::shield(|| Ok(ango_core::pyjson::to_string(&convert::from_py(obj)?)))
}

/// JSON bytes as Python objects with the decoder export rows go through: the fast
/// path, or `json.loads` for what it leaves (so results and errors are `json.loads`'s).
/// For the test suite (which checks the two agree) and the benchmarks.
#[pyfunction]
fn _loads(py: Python<'_>, data: &[u8]) -> PyResult<Py<PyAny>> {
    blocking::shield(|| Ok(decode::decode_shared(py, data).or_loads(py, data)?.unbind()))
}

/// For the test suite: a core call that panics, run the way every call runs, to show
/// that a panic surfaces as `AngoInternalError` (never `PanicException`).
#[pyfunction]
fn _panic_in_call(py: Python<'_>, message: String) -> PyResult<()> {
    blocking::call(py, move || -> ango_core::Result<()> { panic!("{message}") })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_HOST", ango_core::DEFAULT_HOST)?;
    m.add_class::<client::Client>()?;
    m.add_class::<hub::LocalHub>()?;
    m.add_class::<iter::Rows>()?;
    models::register(m)?;
    plugins::register(m)?;
    formats::register(m)?;
    m.add_function(wrap_pyfunction!(dumps, m)?)?;
    m.add_function(wrap_pyfunction!(methods, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_in_call, m)?)?;
    m.add_function(wrap_pyfunction!(_loads, m)?)?;
    Ok(())
}
