//! JSON text read the way Python's `json.loads` reads it, into any tree a
//! [`TreeBuilder`] makes.
//!
//! [`Parser::parse`] accepts what `json.loads` accepts and hands each piece to the
//! builder as it goes, so the builder can make its final objects directly (the Python
//! binding makes `dict`/`list`/`str`/`int`/`float` objects with the C API, with no
//! intermediate Rust value):
//!
//! - objects: [`TreeBuilder::object`], then [`TreeBuilder::insert`] for every member in
//!   document order (duplicates included: a later one must replace the earlier value and
//!   keep its position, as a `dict` does), then [`TreeBuilder::end_object`];
//! - arrays: [`TreeBuilder::array`] with the items, once all are built;
//! - numbers: `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`; an integer unless it has a
//!   fraction or an exponent ([`TreeBuilder::int`] up to 18 characters, otherwise
//!   [`TreeBuilder::big_int`] with all its digits), else [`TreeBuilder::float`] (out of
//!   range gives an infinity, as `float()` does); `NaN`, `Infinity` and `-Infinity` are
//!   floats too;
//! - strings: escapes decoded, surrogate pairs joined.
//!
//! What this parser leaves to an exact fallback returns `None`: a syntax error, trailing
//! text, a lone surrogate escape (`json.loads` keeps it in the `str`, which UTF-8 cannot
//! hold), nesting deeper than [`MAX_DEPTH`], or a builder that refuses a piece (it must
//! refuse string bytes that are not valid UTF-8, which the parser does not check). The
//! caller then decodes the text the slow, exact way (`json.loads` itself, so even its
//! error is the interpreter's own).

use std::vec::Drain;

/// Deeper documents go to the fallback (which has its own limits).
pub const MAX_DEPTH: usize = 512;

/// Integers of at most this many characters (sign included) fit an `i64` and go to
/// [`TreeBuilder::int`]; longer ones go to [`TreeBuilder::big_int`].
const MAX_SMALL_INT: usize = 18;

/// Makes the values of a document for [`Parser::parse`]. Every method may refuse
/// (`None`), which makes the whole parse give `None` (the fallback).
pub trait TreeBuilder {
    /// A JSON value.
    type Value;
    /// An object key.
    type Key;
    /// An object being filled.
    type Object;

    /// `null`.
    fn null(&mut self) -> Option<Self::Value>;
    /// `true` or `false`.
    fn bool(&mut self, value: bool) -> Option<Self::Value>;
    /// An integer of at most 18 characters (so it fits an `i64`).
    fn int(&mut self, value: i64) -> Option<Self::Value>;
    /// A longer integer: an optional `-`, then decimal digits without leading zeros.
    fn big_int(&mut self, digits: &str) -> Option<Self::Value>;
    /// A number with a fraction or an exponent, or `NaN`/`Infinity`/`-Infinity`.
    fn float(&mut self, value: f64) -> Option<Self::Value>;
    /// A string value: its bytes with the escapes decoded. Not checked for UTF-8: the
    /// builder must refuse bytes that are not valid UTF-8.
    fn string(&mut self, bytes: &[u8]) -> Option<Self::Value>;
    /// An object key, as [`TreeBuilder::string`].
    fn key(&mut self, bytes: &[u8]) -> Option<Self::Key>;
    /// An array of these items (in order).
    fn array(&mut self, items: Drain<'_, Self::Value>) -> Option<Self::Value>;
    /// A new, empty object.
    fn object(&mut self) -> Option<Self::Object>;
    /// Adds a member to an object, in document order. A key seen before in the object
    /// replaces its value and keeps its position (Python's `dict` semantics).
    fn insert(
        &mut self,
        object: &mut Self::Object,
        key: Self::Key,
        value: Self::Value,
    ) -> Option<()>;
    /// The object's value, once all its members are in.
    fn end_object(&mut self, object: Self::Object) -> Option<Self::Value>;
}

/// Parses `text` (one JSON value, JSON whitespace around it allowed) with a fresh
/// [`Parser`]; `None` means "use the exact fallback".
pub fn parse<B: TreeBuilder>(text: &[u8], builder: &mut B) -> Option<B::Value> {
    Parser::new().parse(text, builder)
}

/// A JSON parser with Python's `json.loads` semantics; it keeps its scratch buffer
/// between documents, so a long run of documents allocates it once.
#[derive(Debug, Default)]
pub struct Parser {
    scratch: Vec<u8>,
}

impl Parser {
    /// A parser with an empty scratch buffer.
    pub fn new() -> Self {
        Parser::default()
    }

    /// Parses `text`: one JSON value, JSON whitespace (space, tab, CR, LF) around it
    /// allowed. `None` when the text is not for this parser (see the module docs) or the
    /// builder refused a piece: the caller decodes it the exact way.
    #[inline]
    pub fn parse<B: TreeBuilder>(&mut self, text: &[u8], builder: &mut B) -> Option<B::Value> {
        let mut state = State {
            text,
            pos: 0,
            depth: 0,
            scratch: &mut self.scratch,
            stack: Vec::new(),
            builder,
        };
        state.skip_ws();
        let value = state.value()?;
        state.skip_ws();
        (state.pos == text.len()).then_some(value)
    }
}

/// One parse in progress.
struct State<'t, 's, 'b, B: TreeBuilder> {
    text: &'t [u8],
    pos: usize,
    depth: usize,
    scratch: &'s mut Vec<u8>,
    /// The items of the arrays being parsed, innermost last (one buffer for all).
    stack: Vec<B::Value>,
    builder: &'b mut B,
}

/// Where a string's bytes are: a slice of the text (no escapes) or the scratch buffer.
enum StrBytes {
    Raw(usize, usize),
    Scratch,
}

impl<B: TreeBuilder> State<'_, '_, '_, B> {
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

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self) -> Option<B::Value> {
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => {
                self.pos += 1;
                let bytes = self.string()?;
                let bytes = match bytes {
                    StrBytes::Raw(start, end) => &self.text[start..end],
                    StrBytes::Scratch => &self.scratch[..],
                };
                self.builder.string(bytes)
            }
            b'n' => {
                self.literal(b"null")?;
                self.builder.null()
            }
            b't' => {
                self.literal(b"true")?;
                self.builder.bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                self.builder.bool(false)
            }
            b'N' => {
                self.literal(b"NaN")?;
                self.builder.float(f64::NAN)
            }
            b'I' => {
                self.literal(b"Infinity")?;
                self.builder.float(f64::INFINITY)
            }
            b'-' if self.text[self.pos..].starts_with(b"-Infinity") => {
                self.pos += b"-Infinity".len();
                self.builder.float(f64::NEG_INFINITY)
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    #[inline]
    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn object(&mut self) -> Option<B::Value> {
        self.enter()?;
        self.pos += 1;
        let mut object = self.builder.object()?;
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            self.depth -= 1;
            return self.builder.end_object(object);
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            self.pos += 1;
            let bytes = self.string()?;
            let key = self.builder.key(match bytes {
                StrBytes::Raw(start, end) => &self.text[start..end],
                StrBytes::Scratch => &self.scratch[..],
            })?;
            self.skip_ws();
            if self.peek()? != b':' {
                return None;
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            self.builder.insert(&mut object, key, value)?;
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    self.skip_ws();
                }
                b'}' => {
                    self.pos += 1;
                    self.depth -= 1;
                    return self.builder.end_object(object);
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self) -> Option<B::Value> {
        self.enter()?;
        self.pos += 1;
        let first = self.stack.len();
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
        } else {
            loop {
                let item = self.value()?;
                self.stack.push(item);
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
        self.builder.array(self.stack.drain(first..))
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
        let scratch = &mut *self.scratch;
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
    /// an integer unless it has a fraction or an exponent.
    fn number(&mut self) -> Option<B::Value> {
        let text = self.text;
        let start = self.pos;
        let negative = text[start] == b'-';
        let int_start = start + usize::from(negative);
        let digits = |mut i: usize| {
            while text.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let int_end = match text.get(int_start)? {
            b'0' => int_start + 1,
            b'1'..=b'9' => digits(int_start + 1),
            _ => return None,
        };
        let mut i = int_end;
        let mut fraction = &text[i..i];
        if text.get(i) == Some(&b'.') && text.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let end = digits(i + 1);
            fraction = &text[i + 1..end];
            i = end;
        }
        let mut exponent = None;
        if matches!(text.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            let sign = text.get(j).copied();
            if matches!(sign, Some(b'+' | b'-')) {
                j += 1;
            }
            if text.get(j).is_some_and(u8::is_ascii_digit) {
                i = digits(j);
                exponent = Some((&text[j..i], sign == Some(b'-')));
            }
        }
        self.pos = i;
        if fraction.is_empty() && exponent.is_none() {
            if i - start <= MAX_SMALL_INT {
                // At most 18 digits: no overflow.
                let magnitude = text[int_start..int_end]
                    .iter()
                    .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
                return self
                    .builder
                    .int(if negative { -magnitude } else { magnitude });
            }
            return self
                .builder
                .big_int(std::str::from_utf8(&text[start..i]).ok()?);
        }
        let value = match exact_float(&text[int_start..int_end], fraction, exponent) {
            Some(value) if negative => -value,
            Some(value) => value,
            None => std::str::from_utf8(&text[start..i]).ok()?.parse().ok()?,
        };
        self.builder.float(value)
    }
}

/// The powers of ten an `f64` holds exactly.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The value of a decimal number (ASCII digits of its integer part and fraction, and its
/// exponent's digits and sign) when one exact operation gives it correctly rounded
/// (Clinger's fast path: at most 2^53 as an integer, times or divided by an exact power
/// of ten); `None` for the general algorithm (`str::parse`).
#[inline]
fn exact_float(int: &[u8], fraction: &[u8], exponent: Option<(&[u8], bool)>) -> Option<f64> {
    if int.len() + fraction.len() > 19 {
        return None;
    }
    let mut mantissa = 0u64;
    for part in [int, fraction] {
        for &digit in part {
            mantissa = mantissa * 10 + u64::from(digit - b'0');
        }
    }
    if mantissa > 1 << 53 {
        return None;
    }
    let mut power = -(fraction.len() as i64);
    if let Some((digits, negative)) = exponent {
        if digits.len() > 4 {
            return None;
        }
        let e = digits
            .iter()
            .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
        power += if negative { -e } else { e };
    }
    let scale = *EXACT_POWERS_OF_TEN.get(power.unsigned_abs() as usize)?;
    Some(if power >= 0 {
        mantissa as f64 * scale
    } else {
        mantissa as f64 / scale
    })
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

#[inline]
fn hex4(digits: &[u8]) -> Option<u32> {
    let mut code = 0;
    for &d in digits {
        code = code * 16 + (d as char).to_digit(16)?;
    }
    Some(code)
}

#[cfg(test)]
mod tests;
