//! Small helpers: ObjectId-like ids, UTC timestamps, JSON envelopes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 to (year, month, day) (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn iso(ms: i64) -> String {
    let mut out = Vec::with_capacity(24);
    write_iso(&mut out, ms);
    // Only ASCII digits and separators were written.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends [`iso`]'s text to a buffer without allocating.
pub(crate) fn write_iso(out: &mut Vec<u8>, ms: i64) {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let h = rem / 3_600_000;
    let mi = (rem / 60_000) % 60;
    let s = (rem / 1000) % 60;
    let frac = rem % 1000;
    if (0..=9999).contains(&y) {
        // The common case, digit by digit (same text as the format below).
        let y = y as u32;
        let digits = |n: u32, w: usize, out: &mut Vec<u8>| {
            let mut buf = [0u8; 4];
            let mut n = n;
            for i in (0..w).rev() {
                buf[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
            out.extend_from_slice(&buf[..w]);
        };
        digits(y, 4, out);
        out.push(b'-');
        digits(m, 2, out);
        out.push(b'-');
        digits(d, 2, out);
        out.push(b'T');
        digits(h as u32, 2, out);
        out.push(b':');
        digits(mi as u32, 2, out);
        out.push(b':');
        digits(s as u32, 2, out);
        out.push(b'.');
        digits(frac as u32, 3, out);
        out.push(b'Z');
    } else {
        use std::io::Write;
        let _ = write!(out, "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:03}Z");
    }
}

/// Parses an ISO-8601 date or date-time (`YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM]`) to epoch ms.
pub(crate) fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = num(0, 4)?;
    let mo = num(5, 2)? as u32;
    let d = num(8, 2)? as u32;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, mo, d) * 86_400_000;
    let mut i = 10;
    if i < b.len() && (b[i] == b'T' || b[i] == b' ') {
        let h = num(i + 1, 2)?;
        if b.get(i + 3) != Some(&b':') {
            return None;
        }
        let mi = num(i + 4, 2)?;
        ms += h * 3_600_000 + mi * 60_000;
        i += 6;
        if b.get(i) == Some(&b':') {
            ms += num(i + 1, 2)? * 1000;
            i += 3;
            if b.get(i) == Some(&b'.') {
                i += 1;
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let digits = &s[start..i];
                let mut frac = 0i64;
                for (k, c) in digits.bytes().take(3).enumerate() {
                    frac += (c - b'0') as i64 * [100, 10, 1][k];
                }
                ms += frac;
            }
        }
    }
    match b.get(i) {
        None => Some(ms),
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => Some(ms),
        Some(&sign) if sign == b'+' || sign == b'-' => {
            let oh = num(i + 1, 2)?;
            let om = if b.get(i + 3) == Some(&b':') {
                num(i + 4, 2)?
            } else {
                num(i + 3, 2).unwrap_or(0)
            };
            let off = (oh * 60 + om) * 60_000;
            Some(if sign == b'+' { ms - off } else { ms + off })
        }
        _ => None,
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);
static PROCESS_SALT: AtomicU64 = AtomicU64::new(0);

/// A new 24-hex ObjectId-like id: 4 bytes seconds, 5 bytes process salt, 3 bytes counter.
pub(crate) fn object_id() -> String {
    let mut salt = PROCESS_SALT.load(Ordering::Relaxed);
    if salt == 0 {
        let fresh = (uuid::Uuid::new_v4().as_u128() as u64) | 1;
        salt = match PROCESS_SALT.compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => fresh,
            Err(existing) => existing,
        };
    }
    let secs = (now_ms() / 1000) as u32;
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:08x}{:010x}{:06x}",
        secs,
        salt & 0xff_ffff_ffff,
        c & 0xff_ffff
    )
}

/// A random 32-hex string (like Python's `uuid4().hex`).
pub(crate) fn hex32() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// True when `s` looks like a 24-hex ObjectId.
#[cfg(test)]
pub(crate) fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// Parses a boolean flag leniently (`true`, `True`, `1`, `yes`).
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" | "none" | "null" | "" => Some(false),
        _ => None,
    }
}

/// Truthiness of a JSON value used as a flag (bool, "true", 1).
pub(crate) fn json_truthy(v: Option<&serde_json::Value>) -> bool {
    match v {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => parse_bool(s).unwrap_or(false),
        Some(serde_json::Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_fast_path_matches_the_formatted_text() {
        fn reference(ms: i64) -> String {
            let days = ms.div_euclid(86_400_000);
            let rem = ms.rem_euclid(86_400_000);
            let (y, m, d) = civil_from_days(days);
            let (h, mi, s, f) = (
                rem / 3_600_000,
                (rem / 60_000) % 60,
                (rem / 1000) % 60,
                rem % 1000,
            );
            format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{f:03}Z")
        }
        let mut ms = -62_200_000_000_000i64; // year -1;
        while ms < 260_000_000_000_000 {
            // years 0..=9999 take the digit path, the others the formatter.
            assert_eq!(iso(ms), reference(ms), "{ms}");
            ms += 86_399_999 * 37 + 123;
        }
        for ms in [
            0,
            -1,
            253_402_300_799_999,
            253_402_300_800_000,
            -62_167_219_200_001,
        ] {
            assert_eq!(iso(ms), reference(ms), "{ms}");
        }
    }

    #[test]
    fn iso_roundtrip() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        let ms = 1_700_000_123_456;
        assert_eq!(iso(ms), "2023-11-14T22:15:23.456Z");
        assert_eq!(parse_iso(&iso(ms)), Some(ms));
        assert_eq!(parse_iso("2023-11-14T22:15:23Z"), Some(1_700_000_123_000));
        assert_eq!(
            parse_iso("2023-11-14T22:15:23.456789Z"),
            Some(1_700_000_123_456)
        );
        assert_eq!(
            parse_iso("2023-11-14T23:15:23.456+01:00"),
            Some(1_700_000_123_456)
        );
        assert_eq!(parse_iso("2023-11-14"), Some(1_699_920_000_000));
        assert_eq!(parse_iso("nope"), None);
        assert_eq!(parse_iso("2023-13-14"), None);
    }

    #[test]
    fn ids() {
        let a = object_id();
        let b = object_id();
        assert!(is_object_id(&a));
        assert_ne!(a, b);
        assert_eq!(hex32().len(), 32);
    }
}
