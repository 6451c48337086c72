//! Issues: creating, reading, updating, commenting on and deleting task issues.

use serde_json::{Map, Value, json};

use crate::client::{Client, Raw};
use crate::error::{Error, Result};
use crate::http::encode_component;
use crate::models::MedicalPlane;

/// Optional parts of a new issue, for [`Client::create_issue`].
///
/// An issue is placed either on an object (`object_id`) or at a location (`position`,
/// `page`, `page_end`, `data_index`, `plane`), never both.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CreateIssueParams {
    /// Users mentioned in the issue (normally their emails), sent as `contentMentions`.
    pub content_mentions: Option<Vec<Value>>,
    /// The annotation object the issue is about.
    pub object_id: Option<String>,
    /// Where the issue sits: `[x, y]` for images and video, one number for text,
    /// `[start, end]` for audio. Sent as Python's `str()` of it, such as `"[10, 20]"`;
    /// `null` counts as absent.
    pub position: Option<Value>,
    /// Error codes, each `{"category", "name", "key"?}`.
    pub error_codes: Option<Vec<Value>>,
    /// Point-cloud (PCT) details.
    pub pct_details: Option<Value>,
    /// Page (0-based) of a multi-page, PDF or video asset.
    pub page: Option<i64>,
    /// Last page of a page range; needs `page`.
    pub page_end: Option<i64>,
    /// Which data item of a multi-data asset (0-based).
    pub data_index: Option<i64>,
    /// Medical plane: `"A"` (axial), `"S"` (sagittal) or `"C"` (coronal), the values of
    /// [`MedicalPlane`] (`MedicalPlane::Axial.to_string()`). Taken as text so that a
    /// wrong value is refused by [`Client::create_issue`] like the official SDK does.
    pub plane: Option<String>,
}

/// Changes to an issue, for [`Client::update_issue`]; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateIssueParams {
    /// New text.
    pub content: Option<String>,
    /// Users mentioned in the new text; only sent together with `content`.
    pub content_mentions: Option<Vec<Value>>,
    /// New status (`Open`, `Resolved`, `Closed`).
    pub status: Option<String>,
    /// Point-cloud (PCT) details.
    pub pct_details: Option<Value>,
    /// Error codes, each `{"category", "name", "key"?}`.
    pub error_codes: Option<Vec<Value>>,
}

/// Filters of [`Client::get_issues`]; `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GetIssuesParams {
    /// Only issues on this asset.
    pub asset_id: Option<String>,
    /// Only issues on this task.
    pub task_id: Option<String>,
    /// Only issues opened in this stage.
    pub stage_id: Option<String>,
    /// Only issues created by this user.
    pub created_by: Option<String>,
}

impl Raw<'_> {
    /// Opens an issue on a task (`POST /v2/issues`).
    ///
    /// The arguments are checked before anything is sent; a violation is
    /// [`Error::InvalidArgument`]: `object_id` together with any location field,
    /// a negative `page`, `page_end` or `data_index`, `page_end` without `page`, or a
    /// `plane` other than `A`, `S` or `C`.
    pub fn create_issue(
        &self,
        task_id: &str,
        content: &str,
        params: &CreateIssueParams,
    ) -> Result<Value> {
        let body = create_issue_body(task_id, content, params)?;
        self.post("/v2/issues").json(&body).send()
    }

    /// Lists a project's issues (`GET /v2/issues`).
    pub fn get_issues(&self, project_id: &str, params: &GetIssuesParams) -> Result<Value> {
        self.get("/v2/issues")
            .query("project", project_id)
            .query_opt("asset", params.asset_id.as_deref())
            .query_opt("labelTask", params.task_id.as_deref())
            .query_opt("stage", params.stage_id.as_deref())
            .query_opt("createdBy", params.created_by.as_deref())
            .send()
    }

    /// Changes an issue's text, status, PCT details or error codes (`POST /v2/issues/{id}`).
    pub fn update_issue(&self, issue_id: &str, params: &UpdateIssueParams) -> Result<Value> {
        let mut body = Map::new();
        if let Some(content) = &params.content {
            body.insert("content".into(), json!(content));
            if let Some(mentions) = &params.content_mentions {
                body.insert("contentMentions".into(), json!(mentions));
            }
        }
        if let Some(status) = &params.status {
            body.insert("status".into(), json!(status));
        }
        if let Some(pct) = &params.pct_details {
            body.insert("pctDetails".into(), pct.clone());
        }
        if let Some(codes) = &params.error_codes {
            body.insert("errorCodes".into(), json!(codes));
        }
        self.post(format!("/v2/issues/{}", encode_component(issue_id)))
            .json(&body)
            .send()
    }
}

impl Client {
    /// Adds a comment to an issue (`POST /v2/issues/{id}/comment`).
    pub fn add_comment_to_issue(
        &self,
        issue_id: &str,
        content: &str,
        content_mentions: Option<&[Value]>,
    ) -> Result<Value> {
        let mut body = Map::new();
        body.insert("content".into(), json!(content));
        if let Some(mentions) = content_mentions {
            body.insert("contentMentions".into(), json!(mentions));
        }
        self.post(format!("/v2/issues/{}/comment", encode_component(issue_id)))
            .json(&body)
            .send()
    }

    /// Deletes an issue (`DELETE /v2/issues/{id}?project=...`).
    pub fn delete_issue(&self, project_id: &str, issue_id: &str) -> Result<Value> {
        self.delete(format!("/v2/issues/{}", encode_component(issue_id)))
            .query("project", project_id)
            .send()
    }
}

/// Checks the arguments of [`Client::create_issue`] and builds its body.
fn create_issue_body(task_id: &str, content: &str, params: &CreateIssueParams) -> Result<Value> {
    let position = params.position.as_ref().filter(|p| !p.is_null());
    let has_location = position.is_some()
        || params.page.is_some()
        || params.page_end.is_some()
        || params.data_index.is_some()
        || params.plane.is_some();
    if params.object_id.is_some() && has_location {
        return Err(Error::invalid(
            "an issue is placed either on an object (object_id) or at a location \
             (position, page, page_end, data_index, plane), not both",
        ));
    }
    for (name, value) in [("page", params.page), ("page_end", params.page_end)] {
        if value.is_some_and(|v| v < 0) {
            return Err(Error::invalid(format!("{name} cannot be negative")));
        }
    }
    if params.page_end.is_some() && params.page.is_none() {
        return Err(Error::invalid("page_end needs page to be given too"));
    }
    if params.data_index.is_some_and(|v| v < 0) {
        return Err(Error::invalid("data_index cannot be negative"));
    }
    if let Some(plane) = &params.plane {
        // The official check: the value of a `MedicalPlane`, matched exactly.
        plane.parse::<MedicalPlane>()?;
    }

    let mut body = Map::new();
    body.insert("content".into(), json!(content));
    body.insert("labelTask".into(), json!(task_id));
    if let Some(position) = position {
        body.insert("position".into(), json!(python_str(position)));
    }
    if let Some(mentions) = &params.content_mentions {
        body.insert("contentMentions".into(), json!(mentions));
    }
    if let Some(pct) = &params.pct_details {
        body.insert("pctDetails".into(), pct.clone());
    }
    if let Some(object_id) = &params.object_id {
        body.insert("objectId".into(), json!(object_id));
    }
    if let Some(codes) = &params.error_codes {
        body.insert("errorCodes".into(), json!(codes));
    }
    for (key, value) in [
        ("page", params.page),
        ("pageEnd", params.page_end),
        ("dataIndex", params.data_index),
    ] {
        if let Some(value) = value {
            body.insert(key.into(), json!(value));
        }
    }
    if let Some(plane) = &params.plane {
        body.insert("plane".into(), json!(plane));
    }
    Ok(Value::Object(body))
}

/// Python's `str()` of a JSON value: the server stores issue positions in that form.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

/// Python's `repr()` of a JSON value (as used inside lists and dicts).
fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                crate::pyjson::python_float_repr(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => python_string_repr(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", python_string_repr(k), python_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `repr()` of a string: single quotes unless it holds `'` and no `"`.
fn python_string_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_render_like_python_str() {
        let cases = [
            (json!([10, 20]), "[10, 20]"),
            (json!([10, 20.5]), "[10, 20.5]"),
            (json!(7), "7"),
            (json!(1.0), "1.0"),
            (json!(1e16), "1e+16"),
            (json!(1e15), "1000000000000000.0"),
            (json!(1e-5), "1e-05"),
            (json!(0.0001), "0.0001"),
            (json!(-0.0), "-0.0"),
            (json!(0.1 + 0.2), "0.30000000000000004"),
            (json!(123456789012345678.0), "1.2345678901234568e+17"),
            (json!(5e-324), "5e-324"),
            (json!(-2.5e-7), "-2.5e-07"),
            (
                json!([true, null, "x", "a'b"]),
                "[True, None, 'x', \"a'b\"]",
            ),
            (json!({"k": "v"}), "{'k': 'v'}"),
            (json!("as is"), "as is"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_str(&value), expected, "{value}");
        }
    }
}
