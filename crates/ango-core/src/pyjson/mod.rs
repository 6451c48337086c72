//! JSON as Python's `json` module writes and reads it.
//!
//! Writing: the official SDK builds request bodies and JSON query parameters with
//! `json.dumps` (`", "` and `": "` separators, non-ASCII escaped as `\uXXXX`). Writing the
//! same bytes keeps our requests identical on the wire, which servers, proxies and
//! signatures may see.
//!
//! Reading: [`loads`] parses what `json.loads` parses, with its semantics, into whatever
//! tree a [`TreeBuilder`] makes (the Python binding builds Python objects directly), and
//! [`StrCache`] lets a builder share one value per repeated key across documents.

pub mod cache;
pub mod loads;

pub use cache::StrCache;
pub use loads::{MAX_DEPTH, Parser, TreeBuilder, parse};

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{Formatter, Serializer};
use std::io::{self, Write};

/// A `serde_json` formatter that mimics Python's `json.dumps` defaults.
#[derive(Debug, Default, Clone, Copy)]
pub struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(python_float_repr(value).as_bytes())
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // ensure_ascii: every non-ASCII character becomes one or two \uXXXX escapes.
        let mut start = 0;
        for (index, ch) in fragment.char_indices() {
            if ch.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..index])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{:04x}", unit)?;
            }
            start = index + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Python's truthiness of a JSON value (`if value:`): `null`, `false`, `0`, and empty
/// text, lists and objects are false.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `repr(float)`: the shortest round-trip digits, positional for exponents from -4 to
/// 15, otherwise scientific with a signed, two-digit exponent (`1e+16`, `1.5e-05`).
pub fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            let (whole, fraction) = digits.split_at(point as usize);
            format!("{whole}.{fraction}")
        };
        format!("{sign}{text}")
    } else {
        let mantissa = match digits.split_at(1) {
            (first, "") => first.to_string(),
            (first, rest) => format!("{first}.{rest}"),
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exponent.abs())
    }
}

/// Serialises `value` as Python's `json.dumps(value)` would.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut serializer = Serializer::with_formatter(&mut out, PythonFormatter);
    // Serialising plain data into a Vec cannot fail: our types have string keys only.
    if value.serialize(&mut serializer).is_err() {
        out.clear();
        out.extend_from_slice(b"null");
    }
    out
}

/// Serialises `value` as Python's `json.dumps(value)` would, as a `String`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    // The formatter writes ASCII only.
    String::from_utf8(to_vec(value)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_json_dumps() {
        let v = json!({"a": [1, 2, {"b": null}], "c": "é😀", "d": true});
        assert_eq!(
            to_string(&v),
            r#"{"a": [1, 2, {"b": null}], "c": "\u00e9\ud83d\ude00", "d": true}"#
        );
        assert_eq!(to_string(&json!([])), "[]");
        assert_eq!(to_string(&json!({})), "{}");
        assert_eq!(to_string(&json!(["Complete"])), r#"["Complete"]"#);
    }

    #[test]
    fn floats_print_like_python_repr() {
        for (value, python) in [
            (1.5, "1.5"),
            (100.0, "100.0"),
            (0.0, "0.0"),
            (-2.25, "-2.25"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (-1.2345e20, "-1.2345e+20"),
            (123456789.125, "123456789.125"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e300, "1e+300"),
        ] {
            assert_eq!(python_float_repr(value), python, "{value}");
        }
        assert_eq!(
            to_string(&json!({"x": 1e16, "y": 2.5})),
            r#"{"x": 1e+16, "y": 2.5}"#
        );
    }
}
