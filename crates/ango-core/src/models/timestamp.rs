//! A date-time as the official SDK formats it.
//!
//! The official SDK formats Python `datetime`s with `strftime`, which prints the wall-clock
//! fields as given and ignores any time zone. [`Timestamp`] keeps those fields, so the
//! bindings can pass a `datetime` through unchanged and get byte-identical text.

use std::fmt;

use crate::error::{Error, Result};

/// Calendar date and time of day with microseconds, printed with a `Z` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    micros: u32,
}

impl Timestamp {
    /// A timestamp from its fields; refuses impossible dates and times.
    pub fn new(
        year: i32,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        micros: u32,
    ) -> Result<Self> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60
            && micros < 1_000_000;
        if !valid {
            return Err(Error::invalid(format!(
                "invalid date-time {year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{micros:06}"
            )));
        }
        Ok(Timestamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micros,
        })
    }

    /// The same as [`Timestamp::new`], named after its fields.
    pub fn from_ymd_hms_micro(
        year: i32,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        micros: u32,
    ) -> Result<Self> {
        Timestamp::new(year, month, day, hour, minute, second, micros)
    }

    /// The same as [`Timestamp::parse`]: RFC 3339 / ISO 8601 text.
    pub fn parse_rfc3339(text: &str) -> Result<Self> {
        Timestamp::parse(text)
    }

    /// The UTC timestamp `micros` microseconds after the Unix epoch.
    pub fn from_unix_micros(micros: i64) -> Result<Self> {
        let secs = micros.div_euclid(1_000_000);
        let sub = micros.rem_euclid(1_000_000) as u32;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let year = i32::try_from(year).map_err(|_| Error::invalid("timestamp out of range"))?;
        Timestamp::new(
            year,
            month,
            day,
            (rem / 3600) as u8,
            ((rem % 3600) / 60) as u8,
            (rem % 60) as u8,
            sub,
        )
    }

    /// The UTC timestamp `millis` milliseconds after the Unix epoch (JavaScript `Date`);
    /// out of range (outside years 1 to 9999) is an error.
    pub fn from_unix_millis(millis: i64) -> Result<Self> {
        Timestamp::from_unix_micros(millis.saturating_mul(1000))
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.frac]]` with an optional `Z` or `±HH:MM`
    /// offset (converted to UTC).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::invalid(format!("invalid date-time {text:?}; expected ISO 8601"));
        let s = text.trim();
        let (date, time) = match s.split_once(['T', ' ']) {
            Some((d, t)) => (d, Some(t)),
            None => (s, None),
        };
        let mut parts = date.split('-');
        let year: i32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let month: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let day: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        if parts.next().is_some() {
            return Err(bad());
        }
        let Some(time) = time else {
            return Timestamp::new(year, month, day, 0, 0, 0, 0);
        };
        let (clock, offset_minutes) =
            if let Some(c) = time.strip_suffix('Z').or_else(|| time.strip_suffix('z')) {
                (c, 0i64)
            } else if let Some(pos) = time.rfind(['+', '-']) {
                let (c, off) = time.split_at(pos);
                let sign = if off.starts_with('-') { -1 } else { 1 };
                // `off` starts with the one-byte sign; only ASCII digits (and one
                // optional colon) may follow, so no slice below can split a character.
                let digits: Vec<i64> = off[1..]
                    .chars()
                    .filter(|c| *c != ':')
                    .map(|c| c.to_digit(10).map(i64::from))
                    .collect::<Option<_>>()
                    .ok_or_else(bad)?;
                let [h1, h2, m1, m2] = digits[..] else {
                    return Err(bad());
                };
                let (h, m) = (h1 * 10 + h2, m1 * 10 + m2);
                if h > 23 || m > 59 {
                    return Err(bad());
                }
                (c, sign * (h * 60 + m))
            } else {
                (time, 0)
            };
        let mut hms = clock.split(':');
        let hour: u8 = hms.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minute: u8 = hms.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let (second, micros) = match hms.next() {
            None => (0, 0),
            Some(sec) => match sec.split_once('.') {
                None => (sec.parse().map_err(|_| bad())?, 0),
                Some((whole, frac)) => {
                    if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(bad());
                    }
                    let padded: String =
                        frac.chars().chain(std::iter::repeat('0')).take(6).collect();
                    (
                        whole.parse().map_err(|_| bad())?,
                        padded.parse().map_err(|_| bad())?,
                    )
                }
            },
        };
        if hms.next().is_some() {
            return Err(bad());
        }
        let local = Timestamp::new(year, month, day, hour, minute, second, micros)?;
        if offset_minutes == 0 {
            return Ok(local);
        }
        Timestamp::from_unix_micros(local.unix_micros() - offset_minutes * 60_000_000)
    }

    /// Microseconds since the Unix epoch, reading the fields as UTC.
    pub fn unix_micros(&self) -> i64 {
        let days = days_from_civil(self.year as i64, self.month, self.day);
        let secs =
            days * 86_400 + self.hour as i64 * 3600 + self.minute as i64 * 60 + self.second as i64;
        secs * 1_000_000 + self.micros as i64
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`: Python's `strftime('%Y-%m-%dT%H:%M:%S.%fZ')`,
    /// used by `TimeFilter` and performance intervals.
    pub fn format_micros(&self) -> String {
        format!("{}.{:06}Z", self.format_seconds(), self.micros)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`: the official `DateRange` format (microseconds cut to
    /// milliseconds, not rounded).
    pub fn format_millis(&self) -> String {
        format!("{}.{:03}Z", self.format_seconds(), self.micros / 1000)
    }

    fn format_seconds(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format_micros())
    }
}

/// Written as [`Timestamp::format_micros`] (`YYYY-MM-DDTHH:MM:SS.ffffffZ`).
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.format_micros())
    }
}

/// Read from ISO 8601 text ([`Timestamp::parse`]: a bare date, or a date-time whose
/// fields are kept as given when it has no offset) or from a number of milliseconds
/// since the Unix epoch (a JavaScript `Date`'s value).
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) => Timestamp::parse(&text).map_err(D::Error::custom),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(millis) => Timestamp::from_unix_millis(millis).map_err(D::Error::custom),
                None => Err(D::Error::custom(format!(
                    "invalid timestamp {n}: expected whole milliseconds"
                ))),
            },
            other => Err(D::Error::custom(format!(
                "expected a date-time (ISO 8601 text or epoch milliseconds), got {other}"
            ))),
        }
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days-from-civil algorithms.
fn days_from_civil(y: i64, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_python_strftime() {
        let t = Timestamp::new(2024, 1, 5, 7, 8, 9, 123_456).unwrap();
        assert_eq!(t.format_micros(), "2024-01-05T07:08:09.123456Z");
        assert_eq!(t.format_millis(), "2024-01-05T07:08:09.123Z");
        let zero = Timestamp::new(2024, 1, 5, 0, 0, 0, 0).unwrap();
        assert_eq!(zero.format_micros(), "2024-01-05T00:00:00.000000Z");
        assert_eq!(zero.format_millis(), "2024-01-05T00:00:00.000Z");
    }

    #[test]
    fn unix_conversions_and_parsing_agree() {
        let t = Timestamp::from_unix_millis(1_700_000_000_123).unwrap();
        assert_eq!(t.format_millis(), "2023-11-14T22:13:20.123Z");
        assert_eq!(t.unix_micros(), 1_700_000_000_123_000);
        assert_eq!(Timestamp::parse("2023-11-14T22:13:20.123Z").unwrap(), t);
        assert_eq!(
            Timestamp::parse("2023-11-15T00:13:20.123+02:00").unwrap(),
            t
        );
        assert_eq!(
            Timestamp::parse("2024-02-29").unwrap().format_millis(),
            "2024-02-29T00:00:00.000Z"
        );
        assert!(Timestamp::parse("2023-02-29").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
        assert_eq!(
            Timestamp::from_unix_micros(-1).unwrap().format_micros(),
            "1969-12-31T23:59:59.999999Z"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn any_text_parses_or_fails_cleanly(text in any::<String>()) {
                let _ = Timestamp::parse(&text);
            }

            #[test]
            fn iso_like_text_parses_or_fails_cleanly(text in r"[0-9+\-:.TZz ]{0,40}") {
                if let Ok(t) = Timestamp::parse(&text) {
                    prop_assert_eq!(Timestamp::parse(&t.format_micros()).unwrap(), t);
                }
            }

            #[test]
            fn any_instant_converts_or_fails_cleanly(micros in any::<i64>()) {
                if let Ok(t) = Timestamp::from_unix_micros(micros) {
                    prop_assert_eq!(t.unix_micros(), micros);
                    prop_assert_eq!(Timestamp::parse(&t.format_micros()).unwrap(), t);
                }
                let _ = Timestamp::from_unix_millis(micros);
            }
        }
    }

    #[test]
    fn odd_offsets_are_errors_not_panics() {
        for text in [
            "2024-01-01T10:00+\u{20ac}0",
            "2024-01-01T10:00-\u{e9}\u{e9}",
            "2024-01-01T10:00+99:99",
            "2024-01-01T10:00:00:00",
            "2024-01-01T10:00+",
            "-2024-01-01",
        ] {
            assert!(Timestamp::parse(text).is_err(), "{text}");
        }
    }
}
