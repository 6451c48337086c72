//! JSON text straight into Python objects, without an intermediate Rust value.
//!
//! The parser is the core's (`ango_core::pyjson::loads`: Python `json.loads` semantics,
//! `None` for what it leaves to the exact fallback); this module is its builder, which
//! makes the Python objects with the C API as the parser goes. Object keys and short
//! string values are looked up in caches of `str` objects (`ango_core::pyjson::StrCache`)
//! that live as long as the [`Decoder`], so the thousands of rows of an export share one
//! `str` per key instead of allocating each again.
//!
//! Anything the fast path does not handle returns [`Decoded::Fallback`], and the caller
//! decodes that text the slow, exact way (`json.loads` for export rows, so even its error
//! is the interpreter's own).

use ango_core::pyjson::{Parser, StrCache, TreeBuilder};
use std::sync::Mutex;

use pyo3::ffi;
use pyo3::prelude::*;

/// Keys up to this many bytes are cached.
const MAX_CACHED_KEY: usize = 48;
/// String values up to this many bytes are cached (enum-like values, short names;
/// 24-character ids are left out, as they rarely repeat).
const MAX_CACHED_VALUE: usize = 16;

/// What [`Decoder::decode`] made of a text.
pub enum Decoded<'py> {
    /// The Python object the text stands for.
    Value(Bound<'py, PyAny>),
    /// Not handled by the fast path: decode it the exact way.
    Fallback,
}

impl<'py> Decoded<'py> {
    /// The value, or for a fallback `json.loads(text)` (so even the error is the
    /// interpreter's own).
    pub fn or_loads(self, py: Python<'py>, text: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        static LOADS: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
        match self {
            Decoded::Value(value) => Ok(value),
            Decoded::Fallback => LOADS
                .get_or_try_init(py, || {
                    py.import("json")?.getattr("loads").map(Bound::unbind)
                })?
                .call1(py, (pyo3::types::PyBytes::new(py, text),))
                .map(|value| value.into_bound(py)),
        }
    }
}

/// Decodes JSON texts into Python objects, keeping its string caches between texts.
#[derive(Default)]
pub struct Decoder {
    keys: StrCache<Py<PyAny>, MAX_CACHED_KEY>,
    values: StrCache<Py<PyAny>, MAX_CACHED_VALUE>,
    parser: Parser,
    digits: Vec<u8>,
}

impl Decoder {
    /// A decoder with empty caches.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one JSON text (surrounding JSON whitespace allowed).
    pub fn decode<'py>(&mut self, py: Python<'py>, text: &[u8]) -> Decoded<'py> {
        let mut builder = Builder {
            py,
            keys: &mut self.keys,
            values: &mut self.values,
            digits: &mut self.digits,
        };
        match self.parser.parse(text, &mut builder) {
            Some(value) => Decoded::Value(value),
            None => Decoded::Fallback,
        }
    }
}

/// The decoder of API replies, shared by every call: its caches are sizeable (a fresh
/// one per reply would cost more than the decoding) and the keys of replies repeat.
static SHARED: Mutex<Option<Decoder>> = Mutex::new(None);

/// Decodes `text` with the shared decoder.
pub fn decode_shared<'py>(py: Python<'py>, text: &[u8]) -> Decoded<'py> {
    decode_with(&SHARED, py, text)
}

/// Decodes `text` with the decoder in `slot` (made on first use). The GIL serialises its
/// users; one that finds it busy, say from a finaliser run in the middle of a decode,
/// uses a fresh one.
pub fn decode_with<'py>(
    slot: &Mutex<Option<Decoder>>,
    py: Python<'py>,
    text: &[u8],
) -> Decoded<'py> {
    match slot.try_lock() {
        Ok(mut guard) => guard.get_or_insert_with(Decoder::new).decode(py, text),
        Err(_) => Decoder::new().decode(py, text),
    }
}

/// Makes the Python objects of one document for the core's parser.
struct Builder<'py, 'd> {
    py: Python<'py>,
    keys: &'d mut StrCache<Py<PyAny>, MAX_CACHED_KEY>,
    values: &'d mut StrCache<Py<PyAny>, MAX_CACHED_VALUE>,
    /// A NUL-terminated copy of a big integer's digits.
    digits: &'d mut Vec<u8>,
}

/// The cached `str` for `bytes`, creating it (and caching it, when the cache takes it)
/// when absent.
#[inline]
fn cached<'py, const N: usize>(
    py: Python<'py>,
    cache: &mut StrCache<Py<PyAny>, N>,
    bytes: &[u8],
) -> Option<Bound<'py, PyAny>> {
    match cache.get(bytes) {
        Ok(value) => Some(value.bind(py).clone()),
        Err(miss) => {
            let value = new_str(py, bytes)?;
            if miss.stores() {
                cache.fill(miss, bytes, value.clone().unbind());
            }
            Some(value)
        }
    }
}

/// A `str` from UTF-8 bytes; `None` (fallback) when they are not valid UTF-8.
#[inline]
fn new_str<'py>(py: Python<'py>, bytes: &[u8]) -> Option<Bound<'py, PyAny>> {
    // SAFETY: the pointer and length describe `bytes`; the GIL is held (`py`).
    let ptr = unsafe {
        ffi::PyUnicode_FromStringAndSize(bytes.as_ptr().cast(), bytes.len() as ffi::Py_ssize_t)
    };
    owned(py, ptr)
}

/// Takes ownership of a new reference; a NULL (a Python error) clears the error and
/// gives `None`, so the caller falls back to the exact decoder.
#[inline]
fn owned(py: Python<'_>, ptr: *mut ffi::PyObject) -> Option<Bound<'_, PyAny>> {
    if ptr.is_null() {
        drop(PyErr::take(py));
        None
    } else {
        // SAFETY: `ptr` is a new, non-NULL reference that we own.
        Some(unsafe { Bound::from_owned_ptr(py, ptr) })
    }
}

impl<'py> TreeBuilder for Builder<'py, '_> {
    type Value = Bound<'py, PyAny>;
    type Key = Bound<'py, PyAny>;
    type Object = Bound<'py, PyAny>;

    #[inline]
    fn null(&mut self) -> Option<Self::Value> {
        Some(self.py.None().into_bound(self.py))
    }

    #[inline]
    fn bool(&mut self, value: bool) -> Option<Self::Value> {
        Some(
            pyo3::types::PyBool::new(self.py, value)
                .to_owned()
                .into_any(),
        )
    }

    #[inline]
    fn int(&mut self, value: i64) -> Option<Self::Value> {
        // SAFETY: the GIL is held.
        owned(self.py, unsafe { ffi::PyLong_FromLongLong(value) })
    }

    #[inline]
    fn big_int(&mut self, digits: &str) -> Option<Self::Value> {
        self.digits.clear();
        self.digits.extend_from_slice(digits.as_bytes());
        self.digits.push(0);
        // SAFETY: `digits` is NUL-terminated; the GIL is held.
        owned(self.py, unsafe {
            ffi::PyLong_FromString(self.digits.as_ptr().cast(), std::ptr::null_mut(), 10)
        })
    }

    #[inline]
    fn float(&mut self, value: f64) -> Option<Self::Value> {
        // SAFETY: the GIL is held.
        owned(self.py, unsafe { ffi::PyFloat_FromDouble(value) })
    }

    #[inline]
    fn string(&mut self, bytes: &[u8]) -> Option<Self::Value> {
        if bytes.len() <= MAX_CACHED_VALUE {
            cached(self.py, self.values, bytes)
        } else {
            new_str(self.py, bytes)
        }
    }

    #[inline]
    fn key(&mut self, bytes: &[u8]) -> Option<Self::Key> {
        if bytes.len() <= MAX_CACHED_KEY {
            cached(self.py, self.keys, bytes)
        } else {
            new_str(self.py, bytes)
        }
    }

    #[inline]
    fn array(&mut self, items: std::vec::Drain<'_, Self::Value>) -> Option<Self::Value> {
        // SAFETY: the GIL is held; PyList_SetItem steals each reference (`into_ptr`)
        // into a fresh list of exactly `items.len()` slots (a `Drain` knows its length).
        let list = owned(self.py, unsafe {
            ffi::PyList_New(items.len() as ffi::Py_ssize_t)
        })?;
        for (i, item) in items.enumerate() {
            // SAFETY: `i` is below the list's length; the list is new, so the slot is empty.
            if unsafe { ffi::PyList_SetItem(list.as_ptr(), i as ffi::Py_ssize_t, item.into_ptr()) }
                != 0
            {
                drop(PyErr::take(self.py));
                return None;
            }
        }
        Some(list)
    }

    #[inline]
    fn object(&mut self) -> Option<Self::Object> {
        // SAFETY: the GIL is held.
        owned(self.py, unsafe { ffi::PyDict_New() })
    }

    #[inline]
    fn insert(
        &mut self,
        object: &mut Self::Object,
        key: Self::Key,
        value: Self::Value,
    ) -> Option<()> {
        // SAFETY: all three are valid objects; PyDict_SetItem does not steal, and sets a
        // key seen before in place (first position, last value), as `json.loads` does.
        if unsafe { ffi::PyDict_SetItem(object.as_ptr(), key.as_ptr(), value.as_ptr()) } != 0 {
            drop(PyErr::take(self.py));
            return None;
        }
        Some(())
    }

    #[inline]
    fn end_object(&mut self, object: Self::Object) -> Option<Self::Value> {
        Some(object)
    }
}
