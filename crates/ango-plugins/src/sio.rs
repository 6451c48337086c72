//! The Engine.IO v4 / Socket.IO v5 subset the plugin runtime speaks (websocket
//! transport only, text frames, namespace `/plugin`): URL, packet decoding and encoding.

use std::time::Duration;

use ango_core::Error;
use serde_json::{Value, json};

/// The namespace every plugin event lives in.
pub(crate) const NAMESPACE: &str = "/plugin";

/// The websocket URL python-engineio builds for `hub_url`: `ws`/`wss` from
/// `http`/`https`, only host and port kept, path `/socket.io/`, the original query
/// followed by `transport=websocket&EIO=4&t=<unix time>`.
pub fn engine_io_url(hub_url: &str, unix_time: f64) -> Result<String, Error> {
    let trimmed = hub_url.trim();
    let (scheme, rest) = trimmed
        .split_once("://")
        .ok_or_else(|| Error::InvalidArgument(format!("the hub URL has no scheme: {hub_url:?}")))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        other => {
            return Err(Error::InvalidArgument(format!(
                "the hub URL must be http(s) or ws(s), got {other:?}"
            )));
        }
    };
    let rest = rest.split('#').next().unwrap_or("");
    let (before_query, query) = match rest.split_once('?') {
        Some((a, q)) => (a, q),
        None => (rest, ""),
    };
    let authority = before_query.split('/').next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
        return Err(Error::InvalidArgument(format!(
            "the hub URL has no usable host: {hub_url:?}"
        )));
    }
    let sep = if query.is_empty() { "" } else { "&" };
    Ok(format!(
        "{scheme}://{authority}/socket.io/?{query}{sep}transport=websocket&EIO=4&t={unix_time}"
    ))
}

/// The Engine.IO OPEN packet's session parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpenInfo {
    pub(crate) sid: String,
    pub(crate) ping_interval: Duration,
    pub(crate) ping_timeout: Duration,
    pub(crate) max_payload: u64,
}

/// Parses the body of an Engine.IO OPEN (`0{...}`) packet (without the `0`).
pub(crate) fn parse_open(body: &str) -> Result<OpenInfo, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the OPEN packet is not JSON: {e}"))?;
    let ms = |key: &str, default: u64| -> u64 {
        value.get(key).and_then(Value::as_u64).unwrap_or(default)
    };
    Ok(OpenInfo {
        sid: value
            .get("sid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        ping_interval: Duration::from_millis(ms("pingInterval", 25_000)),
        ping_timeout: Duration::from_millis(ms("pingTimeout", 20_000)),
        max_payload: ms("maxPayload", 1_000_000),
    })
}

/// One decoded Socket.IO packet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SioPacket {
    /// 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5 BINARY_EVENT, 6 BINARY_ACK.
    pub(crate) kind: u8,
    pub(crate) namespace: String,
    pub(crate) ack_id: Option<u64>,
    pub(crate) data: Option<Value>,
}

/// Decodes a Socket.IO packet (the text after the Engine.IO `4`).
pub(crate) fn decode_sio(text: &str) -> Result<SioPacket, String> {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err("empty Socket.IO packet".into());
    };
    if !(b'0'..=b'6').contains(&first) {
        return Err(format!("unknown Socket.IO packet type {:?}", first as char));
    }
    let kind = first - b'0';
    let mut pos = 1;
    if kind == 5 || kind == 6 {
        // Binary attachments: "<count>-". Their payload frames are not supported.
        let dash = text[pos..]
            .find('-')
            .ok_or("a binary packet without its attachment count")?;
        pos += dash + 1;
    }
    let mut namespace = "/".to_string();
    if bytes.get(pos) == Some(&b'/') {
        let end = text[pos..].find(',').map(|i| pos + i);
        match end {
            Some(end) => {
                namespace = text[pos..end].to_string();
                pos = end + 1;
            }
            None => {
                namespace = text[pos..].to_string();
                pos = text.len();
            }
        }
    }
    let digits = bytes[pos..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let ack_id = if digits > 0 {
        let id = text[pos..pos + digits]
            .parse::<u64>()
            .map_err(|_| "an ack id out of range")?;
        pos += digits;
        Some(id)
    } else {
        None
    };
    let rest = text[pos..].trim();
    let data = if rest.is_empty() {
        None
    } else {
        Some(serde_json::from_str(rest).map_err(|e| format!("the payload is not JSON: {e}"))?)
    };
    Ok(SioPacket {
        kind,
        namespace,
        ack_id,
        data,
    })
}

/// `42/plugin,["<name>",<payload>]`, the JSON written as python-socketio writes it:
/// compact, with every non-ASCII character escaped (`json.dumps`' `ensure_ascii`).
pub(crate) fn encode_event(name: &str, payload: &Value) -> String {
    format!("42{NAMESPACE},{}", ascii_json(&json!([name, payload])))
}

/// Compact JSON with non-ASCII characters as `\uXXXX` escapes (surrogate pairs above
/// U+FFFF). Non-ASCII characters only occur inside JSON strings, so this is safe.
pub(crate) fn ascii_json(value: &Value) -> String {
    let text = value.to_string();
    if text.is_ascii() {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// `43/plugin,<id>[]`.
pub(crate) fn encode_ack(ack_id: u64) -> String {
    format!("43{NAMESPACE},{ack_id}[]")
}

/// `40/plugin,{}`.
pub(crate) fn encode_connect() -> String {
    format!("40{NAMESPACE},{{}}")
}

/// `41/plugin,`.
pub(crate) fn encode_disconnect() -> String {
    format!("41{NAMESPACE},")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_only_host_port_and_query() {
        assert_eq!(
            engine_io_url("https://eu-api.ango.ai/some/path", 1.5).unwrap(),
            "wss://eu-api.ango.ai/socket.io/?transport=websocket&EIO=4&t=1.5"
        );
        assert_eq!(
            engine_io_url("http://127.0.0.1:8000/x?a=b#frag", 2.0).unwrap(),
            "ws://127.0.0.1:8000/socket.io/?a=b&transport=websocket&EIO=4&t=2"
        );
        assert!(engine_io_url("ftp://x", 0.0).is_err());
        assert!(engine_io_url("https://", 0.0).is_err());
        assert!(engine_io_url("eu-api.ango.ai", 0.0).is_err());
    }

    #[test]
    fn packets_decode_with_and_without_namespace_and_ack() {
        let p = decode_sio(r#"2/plugin,17["plugin",{"a":1}]"#).unwrap();
        assert_eq!(
            (p.kind, p.namespace.as_str(), p.ack_id),
            (2, "/plugin", Some(17))
        );
        assert_eq!(p.data, Some(json!(["plugin", {"a": 1}])));
        let p = decode_sio(r#"2["x"]"#).unwrap();
        assert_eq!((p.namespace.as_str(), p.ack_id), ("/", None));
        let p = decode_sio("1/plugin,").unwrap();
        assert_eq!((p.kind, p.data), (1, None));
        let p = decode_sio("1/plugin").unwrap();
        assert_eq!(p.namespace, "/plugin");
        let p = decode_sio(r#"0/plugin,{"sid":"x"}"#).unwrap();
        assert_eq!(p.data, Some(json!({"sid": "x"})));
        assert!(decode_sio("9").is_err());
        assert!(decode_sio("").is_err());
        assert!(decode_sio(r#"2/plugin,["x""#).is_err());
        let p = decode_sio(r#"51-/plugin,["x",{"_placeholder":true,"num":0}]"#).unwrap();
        assert_eq!(p.kind, 5);
    }

    #[test]
    fn frames_encode_exactly() {
        assert_eq!(
            encode_event("heartbeat", &json!({"id": "p", "secret": "s"})),
            r#"42/plugin,["heartbeat",{"id":"p","secret":"s"}]"#
        );
        assert_eq!(encode_ack(3), "43/plugin,3[]");
        assert_eq!(
            encode_event("log", &json!({"msg": "é😀"})),
            r#"42/plugin,["log",{"msg":"\u00e9\ud83d\ude00"}]"#
        );
        assert_eq!(encode_connect(), "40/plugin,{}");
        assert_eq!(encode_disconnect(), "41/plugin,");
        let open = parse_open(
            r#"{"sid":"a","upgrades":[],"pingInterval":1000,"pingTimeout":500,"maxPayload":10}"#,
        )
        .unwrap();
        assert_eq!(open.ping_interval, Duration::from_secs(1));
        assert_eq!(open.max_payload, 10);
    }
}
