//! Direct JSON writing into a byte buffer, for the large listings.
//!
//! Building a `serde_json::Value` per item and serialising it afterwards costs an
//! allocation per field and map; the listings instead write their items straight
//! into the response body. Every helper here writes exactly what `serde_json`'s
//! compact serialiser writes for the same value (the module's tests compare them), so
//! the responses stay byte-identical to the `Value` path.

use std::io::Write;

use serde::Serialize;

/// Appends a JSON string (escaped as `serde_json` escapes it).
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s.as_bytes()) {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Whether a string has a byte that JSON escapes (controls, `"` and `\`).
/// Branch-free over 16-byte blocks so that the compiler vectorises it: ids,
/// URLs and names almost never need escaping, and copying them whole is much
/// cheaper than escaping byte by byte.
fn needs_escape(b: &[u8]) -> bool {
    let flag = |c: u8| (c < 0x20) | (c == b'"') | (c == b'\\');
    let mut blocks = b.chunks_exact(16);
    for block in &mut blocks {
        if block.iter().fold(false, |acc, &c| acc | flag(c)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&c| flag(c))
}

/// Appends a JSON string, or `null` for None.
pub(crate) fn opt_string(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends any serialisable value (numbers, booleans, `Value`s) compactly.
pub(crate) fn value<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    // Serialising into a Vec fails only for maps with non-string keys, which
    // none of the callers has.
    let _ = serde_json::to_writer(&mut *out, v);
}

/// Appends a list of strings.
pub(crate) fn strings(out: &mut Vec<u8>, items: &[String]) {
    out.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, s);
    }
    out.push(b']');
}

/// Appends epoch milliseconds as the ISO string of [`crate::util::iso`].
pub(crate) fn iso(out: &mut Vec<u8>, ms: i64) {
    out.push(b'"');
    // Only digits, '-', ':', '.', 'T' and 'Z': nothing to escape.
    crate::util::write_iso(out, ms);
    out.push(b'"');
}

/// Appends an ISO date or `null`.
pub(crate) fn opt_iso(out: &mut Vec<u8>, ms: Option<i64>) {
    match ms {
        Some(ms) => iso(out, ms),
        None => out.extend_from_slice(b"null"),
    }
}

/// `{"status":"success","data":{"<list_key>":[items...]<rest>}}` where `rest`
/// is written after the list (e.g. `,"total":N`); `items` writes the elements
/// with their separating commas.
pub(crate) fn success_list(
    list_key: &str,
    capacity: usize,
    items: impl FnOnce(&mut Vec<u8>),
    rest: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    out.extend_from_slice(b"{\"status\":\"success\",\"data\":{");
    string(&mut out, list_key);
    out.extend_from_slice(b":[");
    items(&mut out);
    out.push(b']');
    rest(&mut out);
    out.extend_from_slice(b"}}");
    out
}

/// `{"status":"success","data":{"<key>":<object>}}` where `object` writes the value.
pub(crate) fn success_object(key: &str, object: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"status\":\"success\",\"data\":{");
    string(&mut out, key);
    out.push(b':');
    object(&mut out);
    out.extend_from_slice(b"}}");
    out
}

/// Appends `n` formatted as serde_json formats an integer.
pub(crate) fn int(out: &mut Vec<u8>, n: i64) {
    let _ = write!(out, "{n}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same<T: Serialize>(v: T, write: impl Fn(&mut Vec<u8>)) {
        let mut out = Vec::new();
        write(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&v).unwrap()
        );
    }

    #[test]
    fn writes_what_serde_json_writes() {
        for s in [
            "",
            "plain",
            "quote \" back \\ slash",
            "ctl \u{1} \n \t",
            "ünï 🦀 \u{2028}",
            "https://example.com/assets/image_000001.jpg",
            "sixteen bytes ok\"then a quote past the first block",
            "exactly 16 bytes",
            "exactly 15 byte\\",
            "\u{7f} del is not escaped, \u{1f} is",
        ] {
            same(s, |o| string(o, s));
            same(Some(s), |o| opt_string(o, Some(s)));
        }
        same(None::<String>, |o| opt_string(o, None));
        for n in [0i64, -1, 42, i64::MIN, i64::MAX] {
            same(n, |o| int(o, n));
            same(json!(n), |o| value(o, &n));
        }
        for f in [
            0.0f64,
            12.0,
            -3.25,
            1e300,
            0.1 + 0.2,
            f64::NAN,
            f64::INFINITY,
        ] {
            same(json!(f), |o| value(o, &f));
        }
        let list = vec!["a".to_string(), "b\"c".to_string()];
        same(&list, |o| strings(o, &list));
        same(Vec::<String>::new(), |o| strings(o, &[]));
        for ms in [0i64, 1_700_000_000_123, -1, 253_402_300_799_999] {
            same(crate::util::iso(ms), |o| iso(o, ms));
        }
        same(None::<String>, |o| opt_iso(o, None));
        let v = json!({"z": 1, "a": [1.5, null, {"k": "v"}]});
        same(&v, |o| value(o, &v));
        same(
            json!({"status": "success", "data": {"project": {"a": 1}}}),
            |o| {
                o.extend_from_slice(&success_object("project", |o| {
                    o.extend_from_slice(b"{\"a\":1}")
                }))
            },
        );
        same(
            json!({"status": "success", "data": {"items": [1, 2], "total": 2}}),
            |o| {
                o.extend_from_slice(&success_list(
                    "items",
                    0,
                    |o| o.extend_from_slice(b"1,2"),
                    |o| {
                        o.extend_from_slice(b",\"total\":");
                        int(o, 2);
                    },
                ))
            },
        );
    }
}
