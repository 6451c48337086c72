//! Minimal `multipart/form-data` and `application/x-www-form-urlencoded` parsing.

use crate::query::percent_decode;

/// One form field.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// Field name.
    pub name: String,
    /// File name, for file parts.
    pub filename: Option<String>,
    /// Raw bytes.
    pub data: Vec<u8>,
}

impl Part {
    /// The field as (lossy) text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// Parses a form body according to its content type. Unknown types yield no parts.
pub(crate) fn parse_form(content_type: &str, body: &[u8]) -> Result<Vec<Part>, String> {
    let ct = content_type.to_ascii_lowercase();
    if ct.starts_with("multipart/") {
        let boundary = content_type
            .split(';')
            .map(str::trim)
            .find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("boundary")
                    .then(|| v.trim().trim_matches('"').to_string())
            })
            .ok_or("multipart body without boundary")?;
        parse_multipart(&boundary, body)
    } else if ct.starts_with("application/x-www-form-urlencoded") || ct.is_empty() {
        let text = String::from_utf8_lossy(body);
        Ok(text
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                Part {
                    name: percent_decode(k, true),
                    filename: None,
                    data: percent_decode(v, true).into_bytes(),
                }
            })
            .collect())
    } else {
        Err(format!(
            "Unsupported content type for a form: {content_type}"
        ))
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn parse_multipart(boundary: &str, body: &[u8]) -> Result<Vec<Part>, String> {
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut pos = find(body, &delim, 0).ok_or("multipart boundary not found")? + delim.len();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            break;
        }
        // Skip CRLF after the delimiter.
        if body.get(pos..pos + 2) == Some(b"\r\n") {
            pos += 2;
        }
        let head_end = find(body, b"\r\n\r\n", pos).ok_or("malformed multipart headers")?;
        let head = String::from_utf8_lossy(&body[pos..head_end]).into_owned();
        let data_start = head_end + 4;
        let mut next_delim = b"\r\n".to_vec();
        next_delim.extend_from_slice(&delim);
        let data_end = find(body, &next_delim, data_start).ok_or("unterminated multipart part")?;
        let mut name = String::new();
        let mut filename = None;
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            for attr in v.split(';').map(str::trim) {
                if let Some((ak, av)) = attr.split_once('=') {
                    let av = av.trim().trim_matches('"').to_string();
                    match ak.trim().to_ascii_lowercase().as_str() {
                        "name" => name = av,
                        "filename" => filename = Some(av),
                        _ => {}
                    }
                }
            }
        }
        parts.push(Part {
            name,
            filename,
            data: body[data_start..data_end].to_vec(),
        });
        pos = data_end + next_delim.len();
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"projectId\"\r\n\r\np1\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.json\"\r\nContent-Type: application/json\r\n\r\n[1,2]\r\n--XX--\r\n";
        let parts = parse_form("multipart/form-data; boundary=XX", body).unwrap_or_default();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "projectId");
        assert_eq!(parts[0].text(), "p1");
        assert_eq!(parts[1].filename.as_deref(), Some("c.json"));
        assert_eq!(parts[1].data, b"[1,2]");
        assert!(parse_form("multipart/form-data; boundary=XX", b"junk").is_err());
    }

    #[test]
    fn urlencoded() {
        let parts =
            parse_form("application/x-www-form-urlencoded", b"a=1&b=x+y%21").unwrap_or_default();
        assert_eq!(parts[1].text(), "x y!");
    }
}
