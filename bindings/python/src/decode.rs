//! JSON text straight into Python objects, without an intermediate Rust value.
//!
//! [`Decoder`] parses what Python's `json.loads` parses into the same objects (dicts in
//! document order with later duplicate keys winning, `int` of any size, `float` for
//! numbers with a fraction or an exponent, `NaN`/`Infinity`/`-Infinity`), building them
//! with the C API as it goes. Object keys and short string values are looked up in a
//! small cache of `str` objects that lives as long as the decoder, so the thousands of
//! rows of an export share one `str` per key instead of allocating each again.
//!
//! The fast path handles every well-formed UTF-8 document. Anything else (a syntax
//! error, invalid UTF-8, a lone surrogate escape, nesting deeper than [`MAX_DEPTH`])
//! returns [`Decoded::Fallback`], and the caller decodes that text the slow, exact way
//! (`json.loads` for export rows, so even its error is the interpreter's own).

use pyo3::ffi;
use pyo3::prelude::*;

/// Deeper documents go to the fallback (which has its own limits).
const MAX_DEPTH: usize = 512;

/// Slots of each string cache (a power of two).
const CACHE_SLOTS: usize = 512;
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

/// One cached string: its UTF-8 bytes inline (no allocation per entry) and the `str`.
struct Entry<const N: usize> {
    hash: u64,
    len: usize,
    bytes: [u8; N],
    value: Py<PyAny>,
    /// Recent hits: a string that does not repeat must miss this many times in this
    /// slot before it replaces the entry (so unique ids do not evict `"status"`).
    credit: u8,
}

/// A direct-mapped cache of `str` objects by their UTF-8 bytes (at most `N` bytes).
struct StrCache<const N: usize> {
    slots: Vec<Option<Entry<N>>>,
}

impl<const N: usize> StrCache<N> {
    fn new() -> Self {
        StrCache {
            slots: (0..CACHE_SLOTS).map(|_| None).collect(),
        }
    }

    /// A fast hash of a short byte string: 8 bytes at a time, multiply-rotate mixing.
    #[inline]
    fn hash(bytes: &[u8]) -> u64 {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut hash = (bytes.len() as u64).wrapping_mul(K);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            hash = (hash.rotate_left(5) ^ word).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        hash
    }

    /// The cached `str` for `bytes` (at most `N` of them), creating and caching it
    /// when absent.
    #[inline]
    fn get<'py>(&mut self, py: Python<'py>, bytes: &[u8]) -> Option<Bound<'py, PyAny>> {
        let hash = Self::hash(bytes);
        let slot = &mut self.slots[(hash >> 40) as usize & (CACHE_SLOTS - 1)];
        if let Some(entry) = slot {
            if entry.hash == hash && entry.len == bytes.len() && entry.bytes[..entry.len] == *bytes
            {
                entry.credit = entry.credit.saturating_add(1).min(4);
                return Some(entry.value.bind(py).clone());
            }
            if entry.credit > 0 {
                entry.credit -= 1;
                return new_str(py, bytes);
            }
        }
        let value = new_str(py, bytes)?;
        let mut inline = [0u8; N];
        inline[..bytes.len()].copy_from_slice(bytes);
        *slot = Some(Entry {
            hash,
            len: bytes.len(),
            bytes: inline,
            value: value.clone().unbind(),
            credit: 0,
        });
        Some(value)
    }
}

/// A `str` from UTF-8 bytes; `None` (fallback) when they are not valid UTF-8.
fn new_str<'py>(py: Python<'py>, bytes: &[u8]) -> Option<Bound<'py, PyAny>> {
    // SAFETY: the pointer and length describe `bytes`; the GIL is held (`py`).
    let ptr = unsafe {
        ffi::PyUnicode_FromStringAndSize(bytes.as_ptr().cast(), bytes.len() as ffi::Py_ssize_t)
    };
    owned(py, ptr)
}

/// Takes ownership of a new reference; a NULL (a Python error) clears the error and
/// gives `None`, so the caller falls back to the exact decoder.
fn owned(py: Python<'_>, ptr: *mut ffi::PyObject) -> Option<Bound<'_, PyAny>> {
    if ptr.is_null() {
        drop(PyErr::take(py));
        None
    } else {
        // SAFETY: `ptr` is a new, non-NULL reference that we own.
        Some(unsafe { Bound::from_owned_ptr(py, ptr) })
    }
}

/// Decodes JSON texts into Python objects, keeping its string caches between texts.
pub struct Decoder {
    keys: StrCache<MAX_CACHED_KEY>,
    values: StrCache<MAX_CACHED_VALUE>,
    scratch: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder with empty caches.
    pub fn new() -> Self {
        Decoder {
            keys: StrCache::new(),
            values: StrCache::new(),
            scratch: Vec::new(),
        }
    }

    /// Decodes one JSON text (surrounding JSON whitespace allowed).
    pub fn decode<'py>(&mut self, py: Python<'py>, text: &[u8]) -> Decoded<'py> {
        let mut parser = Parser {
            py,
            text,
            pos: 0,
            depth: 0,
            decoder: self,
        };
        parser.skip_ws();
        let value = match parser.value() {
            Some(value) => value,
            None => return Decoded::Fallback,
        };
        parser.skip_ws();
        if parser.pos != text.len() {
            return Decoded::Fallback;
        }
        Decoded::Value(value)
    }
}

/// The decoder of API replies, shared by every call: its caches are sizeable (a fresh
/// one per reply would cost more than the decoding) and the keys of replies repeat.
static SHARED: std::sync::Mutex<Option<Decoder>> = std::sync::Mutex::new(None);

/// Decodes `text` with the shared decoder (the GIL serialises its users; one that finds
/// it busy, say from a finaliser run in the middle of a decode, uses a fresh one).
pub fn decode_shared<'py>(py: Python<'py>, text: &[u8]) -> Decoded<'py> {
    match SHARED.try_lock() {
        Ok(mut guard) => guard.get_or_insert_with(Decoder::new).decode(py, text),
        Err(_) => Decoder::new().decode(py, text),
    }
}

struct Parser<'t, 'd, 'py> {
    py: Python<'py>,
    text: &'t [u8],
    pos: usize,
    depth: usize,
    decoder: &'d mut Decoder,
}

/// Where a string's bytes are: a slice of the text (no escapes) or the scratch buffer.
enum StrBytes {
    Raw(usize, usize),
    Scratch,
}

impl<'py> Parser<'_, '_, 'py> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self) -> Option<Bound<'py, PyAny>> {
        let py = self.py;
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => {
                self.pos += 1;
                let bytes = self.string()?;
                match bytes {
                    StrBytes::Raw(start, end) if end - start <= MAX_CACHED_VALUE => {
                        self.decoder.values.get(py, &self.text[start..end])
                    }
                    StrBytes::Raw(start, end) => new_str(py, &self.text[start..end]),
                    StrBytes::Scratch => new_str(py, &self.decoder.scratch),
                }
            }
            b'n' => {
                self.literal(b"null")?;
                Some(py.None().into_bound(py))
            }
            b't' => {
                self.literal(b"true")?;
                Some(pyo3::types::PyBool::new(py, true).to_owned().into_any())
            }
            b'f' => {
                self.literal(b"false")?;
                Some(pyo3::types::PyBool::new(py, false).to_owned().into_any())
            }
            b'N' => {
                self.literal(b"NaN")?;
                float(py, f64::NAN)
            }
            b'I' => {
                self.literal(b"Infinity")?;
                float(py, f64::INFINITY)
            }
            b'-' if self.text[self.pos..].starts_with(b"-Infinity") => {
                self.pos += b"-Infinity".len();
                float(py, f64::NEG_INFINITY)
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn object(&mut self) -> Option<Bound<'py, PyAny>> {
        self.enter()?;
        self.pos += 1;
        // SAFETY: the GIL is held.
        let dict = owned(self.py, unsafe { ffi::PyDict_New() })?;
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            self.depth -= 1;
            return Some(dict);
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            self.pos += 1;
            let key = match self.string()? {
                StrBytes::Raw(start, end) if end - start <= MAX_CACHED_KEY => {
                    self.decoder.keys.get(self.py, &self.text[start..end])?
                }
                StrBytes::Raw(start, end) => new_str(self.py, &self.text[start..end])?,
                StrBytes::Scratch => new_str(self.py, &self.decoder.scratch)?,
            };
            self.skip_ws();
            if self.peek()? != b':' {
                return None;
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            // SAFETY: all three are valid objects; PyDict_SetItem does not steal.
            if unsafe { ffi::PyDict_SetItem(dict.as_ptr(), key.as_ptr(), value.as_ptr()) } != 0 {
                drop(PyErr::take(self.py));
                return None;
            }
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    self.skip_ws();
                }
                b'}' => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Some(dict);
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self) -> Option<Bound<'py, PyAny>> {
        self.enter()?;
        self.pos += 1;
        let mut items: Vec<Bound<'py, PyAny>> = Vec::new();
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
        } else {
            loop {
                items.push(self.value()?);
                self.skip_ws();
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        self.skip_ws();
                    }
                    b']' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        // SAFETY: the GIL is held; PyList_SetItem steals each reference (`into_ptr`)
        // into a fresh list of exactly `items.len()` slots.
        let list = owned(self.py, unsafe {
            ffi::PyList_New(items.len() as ffi::Py_ssize_t)
        })?;
        for (i, item) in items.into_iter().enumerate() {
            if unsafe { ffi::PyList_SetItem(list.as_ptr(), i as ffi::Py_ssize_t, item.into_ptr()) }
                != 0
            {
                drop(PyErr::take(self.py));
                return None;
            }
        }
        Some(list)
    }

    /// A string's bytes, the opening quote already consumed; escapes are decoded into
    /// the scratch buffer. `None` on a control character, a bad escape, a lone
    /// surrogate or the end of the text.
    fn string(&mut self) -> Option<StrBytes> {
        let start = self.pos;
        let text = self.text;
        let mut i = start;
        // Skip 8 plain bytes at a time: none a quote, a backslash or a control character.
        while let Some(chunk) = text.get(i..i + 8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            if has_special(word) {
                break;
            }
            i += 8;
        }
        loop {
            let b = *text.get(i)?;
            if b == b'"' {
                self.pos = i + 1;
                return Some(StrBytes::Raw(start, i));
            }
            if b == b'\\' {
                break;
            }
            if b < 0x20 {
                return None;
            }
            i += 1;
        }
        let scratch = &mut self.decoder.scratch;
        scratch.clear();
        scratch.extend_from_slice(&text[start..i]);
        loop {
            let b = *text.get(i)?;
            match b {
                b'"' => {
                    self.pos = i + 1;
                    return Some(StrBytes::Scratch);
                }
                b'\\' => {
                    let escape = *text.get(i + 1)?;
                    i += 2;
                    let plain = match escape {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let mut code = hex4(text.get(i..i + 4)?)?;
                            i += 4;
                            if (0xD800..0xDC00).contains(&code) {
                                // A high surrogate must be followed by an escaped low one.
                                if text.get(i..i + 2)? != b"\\u" {
                                    return None;
                                }
                                let low = hex4(text.get(i + 2..i + 6)?)?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return None;
                                }
                                i += 6;
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            } else if (0xDC00..0xE000).contains(&code) {
                                return None;
                            }
                            let ch = char::from_u32(code)?;
                            let mut buf = [0u8; 4];
                            scratch.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            continue;
                        }
                        _ => return None,
                    };
                    scratch.push(plain);
                }
                b if b < 0x20 => return None,
                b => {
                    scratch.push(b);
                    i += 1;
                }
            }
        }
    }

    /// A number as Python's `json` reads it: `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`,
    /// an `int` unless it has a fraction or an exponent.
    fn number(&mut self) -> Option<Bound<'py, PyAny>> {
        let text = self.text;
        let start = self.pos;
        let mut i = start;
        if text[i] == b'-' {
            i += 1;
        }
        let digits = |mut i: usize| {
            while text.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        match text.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => i = digits(i + 1),
            _ => return None,
        }
        let int_end = i;
        let mut is_float = false;
        if text.get(i) == Some(&b'.') && text.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i = digits(i + 1);
            is_float = true;
        }
        if matches!(text.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(text.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if text.get(j).is_some_and(u8::is_ascii_digit) {
                i = digits(j);
                is_float = true;
            }
        }
        self.pos = i;
        // SAFETY: the slice holds only ASCII sign, digit, dot and exponent characters.
        let number = unsafe { std::str::from_utf8_unchecked(&text[start..i]) };
        if is_float {
            return float(self.py, number.parse().ok()?);
        }
        debug_assert_eq!(int_end, i);
        if number.len() <= 18 {
            let value: i64 = number.parse().ok()?;
            // SAFETY: the GIL is held.
            return owned(self.py, unsafe { ffi::PyLong_FromLongLong(value) });
        }
        let scratch = &mut self.decoder.scratch;
        scratch.clear();
        scratch.extend_from_slice(number.as_bytes());
        scratch.push(0);
        // SAFETY: `scratch` is NUL-terminated; the GIL is held.
        owned(self.py, unsafe {
            ffi::PyLong_FromString(scratch.as_ptr().cast(), std::ptr::null_mut(), 10)
        })
    }
}

fn float(py: Python<'_>, value: f64) -> Option<Bound<'_, PyAny>> {
    // SAFETY: the GIL is held.
    owned(py, unsafe { ffi::PyFloat_FromDouble(value) })
}

/// Whether any byte of `word` is `"`, `\\` or below 0x20 (SWAR: no false negatives;
/// a false positive only ends the fast skip early).
#[inline]
fn has_special(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    (quote | backslash | control) != 0
}

fn hex4(digits: &[u8]) -> Option<u32> {
    let mut code = 0;
    for &d in digits {
        code = code * 16 + (d as char).to_digit(16)?;
    }
    Some(code)
}
