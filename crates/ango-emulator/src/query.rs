//! Lenient query-string parsing.
//!
//! The official client sometimes concatenates raw JSON or whole URLs into the
//! query string without encoding them, so parsing must tolerate `?`, `{`, `"`
//! and stray `&` inside values.

use serde_json::Value;

/// Percent-decodes `s`; `+` becomes a space when `plus_as_space` is set.
/// Invalid escapes are kept literally; invalid UTF-8 is replaced.
pub(crate) fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let spaced;
    let s = if plus_as_space && s.contains('+') {
        spaced = s.replace('+', " ");
        &spaced
    } else {
        s
    };
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Everything but RFC 3986 unreserved characters.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a string for use in a URL path segment or query value.
pub(crate) fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// A parsed query string that keeps the raw text for lenient lookups.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    raw: String,
    pairs: Vec<(String, String, String)>,
}

impl Query {
    /// Parses the part of a request target after the first `?`.
    pub(crate) fn parse(raw: &str) -> Query {
        let mut pairs = Vec::new();
        for part in raw.split('&') {
            if part.is_empty() {
                continue;
            }
            let (k, v) = match part.find('=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, ""),
            };
            pairs.push((
                percent_decode(k, true),
                percent_decode(v, true),
                v.to_string(),
            ));
        }
        Query {
            raw: raw.to_string(),
            pairs,
        }
    }

    /// The first decoded value for `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.as_str())
    }

    /// The first value for `key`, decoded without treating `+` as a space.
    fn get_no_plus(&self, key: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, raw)| percent_decode(raw, false))
    }

    /// A non-empty value for `key`.
    pub(crate) fn get_nonempty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.trim().is_empty())
    }

    /// A boolean flag (case-insensitive); `None` when absent or unparseable.
    pub(crate) fn get_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(crate::util::parse_bool)
    }

    /// Parses the value for `key` as JSON. `Ok(None)` when absent or empty;
    /// `Err` with a message when present but not JSON.
    pub(crate) fn get_json(&self, key: &str) -> Result<Option<Value>, String> {
        let Some(v) = self.get_nonempty(key) else {
            return Ok(None);
        };
        // A raw value with `%20` escapes and a literal `+` was percent-encoded
        // (not form-encoded), so its `+` is a real plus sign.
        let raw = self
            .pairs
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, r)| r.as_str())
            .unwrap_or("");
        let plus_is_literal = raw.contains('+') && raw.contains("%20");
        let (first, second) = if plus_is_literal {
            (self.get_no_plus(key), Some(v.to_string()))
        } else {
            (Some(v.to_string()), self.get_no_plus(key))
        };
        for cand in [first, second].into_iter().flatten() {
            if let Ok(j) = serde_json::from_str::<Value>(&cand) {
                return Ok(Some(j));
            }
        }
        Err(format!("Query parameter '{key}' is not valid JSON"))
    }

    /// Value for `key` taken from the raw text up to the next `&<stop>=` for one
    /// of `stops` (or the end), then decoded. Handles an unencoded URL value
    /// that carries its own `?a=b&c=d`.
    pub(crate) fn get_greedy(&self, key: &str, stops: &[&str]) -> Option<String> {
        let raw = &self.raw;
        let prefix = format!("{key}=");
        let start = if raw.starts_with(&prefix) {
            prefix.len()
        } else {
            raw.find(&format!("&{prefix}"))? + prefix.len() + 1
        };
        let rest = &raw[start..];
        let mut end = rest.len();
        for stop in stops {
            if let Some(i) = rest.find(&format!("&{stop}=")) {
                end = end.min(i);
            }
        }
        Some(percent_decode(&rest[..end], false))
    }

    /// The page/limit pair with validation: page ≥ 1 (default 1), 1 ≤ limit ≤ 1000 (default 10).
    pub(crate) fn page_limit(&self) -> Result<(usize, usize), String> {
        let page = match self.get_nonempty("page") {
            None => 1,
            Some(p) => p
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("Invalid page: {p}"))?,
        };
        let limit = match self.get_nonempty("limit") {
            None => 10,
            Some(l) => l
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("Invalid limit: {l}"))?,
        };
        if page < 1 {
            return Err("page must be >= 1".into());
        }
        if !(1..=1000).contains(&limit) {
            return Err("limit must be between 1 and 1000".into());
        }
        Ok((page as usize, limit as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("a%20b+c", true), "a b c");
        assert_eq!(
            percent_decode("a%2B+%zz%4%e2%82%ac%ff", true),
            "a+ %zz%4€\u{fffd}"
        );
        assert_eq!(percent_decode("a+b%", false), "a+b%");
        assert_eq!(percent_encode("a b/é~-_."), "a%20b%2F%C3%A9~-_.");
        assert_eq!(percent_decode("a%20b+c", false), "a b+c");
        assert_eq!(percent_decode("100%", true), "100%");
        assert_eq!(percent_decode("%zz", true), "%zz");
        assert_eq!(percent_decode("%4", true), "%4");
    }

    #[test]
    fn raw_json_and_urls() {
        let q = Query::parse(
            "page=1&limit=10&filters={\"externalId\":%20\"a.jpg\",%20\"batches\":%20[\"x\"]}",
        );
        let j = q
            .get_json("filters")
            .unwrap_or_default()
            .unwrap_or_default();
        assert_eq!(j["externalId"], "a.jpg");
        let q = Query::parse("name=https://b.s3/x.png?X-Amz=1&sig=2&project=P&type=assets");
        assert_eq!(
            q.get_greedy("name", &["project", "type", "storageId"])
                .as_deref(),
            Some("https://b.s3/x.png?X-Amz=1&sig=2")
        );
        assert_eq!(q.get("project"), Some("P"));
        let q = Query::parse("updatedAt={\"$gt\":%20\"2020-01-01T00:00:00+00:00\"}");
        let j = q
            .get_json("updatedAt")
            .unwrap_or_default()
            .unwrap_or_default();
        assert_eq!(j["$gt"], "2020-01-01T00:00:00+00:00");
        // Form-encoded (Python urlencode): `+` is a space.
        let q = Query::parse("stage=%5B%22Complete%22%2C+%22Label%22%5D");
        let j = q.get_json("stage").unwrap_or_default().unwrap_or_default();
        assert_eq!(j[1], "Label");
    }

    #[test]
    fn paging() {
        assert_eq!(Query::parse("").page_limit(), Ok((1, 10)));
        assert_eq!(
            Query::parse("page=3&limit=1000").page_limit(),
            Ok((3, 1000))
        );
        assert!(Query::parse("limit=1001").page_limit().is_err());
        assert!(Query::parse("limit=0").page_limit().is_err());
        assert!(Query::parse("page=0").page_limit().is_err());
        assert!(Query::parse("page=x").page_limit().is_err());
    }
}
