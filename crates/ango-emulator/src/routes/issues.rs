//! Issue endpoints.

use serde_json::{Map, Value, json};

use super::req_str;
use crate::Ctx;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::state::State;
use crate::util::{iso, now_ms, object_id};

const STATUSES: [&str; 3] = ["Open", "Resolved", "Closed"];

fn is_open(issue: &Value) -> bool {
    issue.get("status").and_then(Value::as_str) == Some("Open")
}

fn adjust_open(st: &mut State, task_id: &str, delta: i64) {
    if let Ok((p, t)) = st.task_loc(task_id) {
        let task = &mut st.projects[p].tasks[t];
        task.open_issues = (task.open_issues + delta).max(0);
    }
}

fn issue_idx(st: &State, id: &str) -> Result<usize, ApiError> {
    st.issues
        .iter()
        .position(|i| i.get("_id").and_then(Value::as_str) == Some(id))
        .ok_or_else(|| ApiError::not_found(format!("Issue not found: {id}")))
}

fn check_error_codes(body: &Map<String, Value>) -> Result<(), ApiError> {
    if let Some(ec) = body.get("errorCodes").filter(|v| !v.is_null()) {
        let ok = ec.as_array().is_some_and(|a| {
            a.iter().all(|e| {
                e.get("category").and_then(Value::as_str).is_some()
                    && e.get("name").and_then(Value::as_str).is_some()
            })
        });
        if !ok {
            return Err(ApiError::bad_request(
                "'errorCodes' must be a list of {category, name, key?}",
            ));
        }
    }
    Ok(())
}

pub(super) fn create(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json_object()?;
    let content = req_str(&body, "content")?.to_string();
    let task_id = req_str(&body, "labelTask")?.to_string();
    check_error_codes(&body)?;
    if let Some(plane) = body.get("plane").and_then(Value::as_str)
        && !["A", "S", "C"].contains(&plane)
    {
        return Err(ApiError::bad_request("'plane' must be A, S or C"));
    }
    let mut st = ctx.write();
    let (pidx, tidx) = st.task_loc(&task_id)?;
    let by = st.admin_email.clone();
    let p = &st.projects[pidx];
    let t = &p.tasks[tidx];
    let now = iso(now_ms());
    let mut issue = json!({
        "_id": object_id(),
        "content": content,
        "project": p.id,
        "asset": p.assets[t.asset].id,
        "labelTask": t.id,
        "stage": t.stage,
        "stageId": t.stage,
        "status": "Open",
        "createdBy": by,
        "createdAt": now,
        "updatedAt": now,
        "comments": [],
        "contentMentions": body.get("contentMentions").cloned().unwrap_or_else(|| json!([])),
        "errorCodes": body.get("errorCodes").cloned().unwrap_or_else(|| json!([])),
    });
    if let Some(m) = issue.as_object_mut() {
        for k in [
            "position",
            "pctDetails",
            "objectId",
            "page",
            "pageEnd",
            "dataIndex",
            "plane",
            "errorType",
            "errorCode",
        ] {
            if let Some(v) = body.get(k).filter(|v| !v.is_null()) {
                m.insert(k.into(), v.clone());
            }
        }
    }
    st.issues.push(issue.clone());
    adjust_open(&mut st, &task_id, 1);
    Ok(Response::created(json!({"issue": issue})))
}

pub(super) fn list(ctx: &Ctx, req: &Request) -> HandlerResult {
    let pid = req
        .query
        .get_nonempty("project")
        .ok_or_else(|| ApiError::bad_request("'project' is required"))?;
    let st = ctx.read();
    st.project(pid)?;
    let want = |key: &str, param: &str, v: &Value| {
        req.query
            .get_nonempty(param)
            .is_none_or(|w| v.get(key).and_then(Value::as_str) == Some(w))
    };
    let list: Vec<Value> = st
        .issues
        .iter()
        .filter(|i| {
            want("project", "project", i)
                && want("asset", "asset", i)
                && want("labelTask", "labelTask", i)
                && want("stage", "stage", i)
                && want("createdBy", "createdBy", i)
                && want("status", "status", i)
        })
        .cloned()
        .collect();
    let n = list.len();
    Ok(Response::ok(
        json!({"issues": list.clone(), "issue": list, "total": n}),
    ))
}

pub(super) fn get(ctx: &Ctx, id: &str) -> HandlerResult {
    let st = ctx.read();
    let i = issue_idx(&st, id)?;
    Ok(Response::ok(json!({"issue": st.issues[i]})))
}

pub(super) fn update(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    let body = req.json_object()?;
    let status = match body.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            STATUSES
                .into_iter()
                .find(|x| x.eq_ignore_ascii_case(s))
                .ok_or_else(|| ApiError::bad_request(format!("Invalid issue status {s}")))?,
        ),
        Some(_) => return Err(ApiError::bad_request("'status' must be a string")),
    };
    if let Some(c) = body.get("content")
        && !c.is_string()
    {
        return Err(ApiError::bad_request("'content' must be a string"));
    }
    check_error_codes(&body)?;
    let mut st = ctx.write();
    let i = issue_idx(&st, id)?;
    let by = st.admin_email.clone();
    let was_open = is_open(&st.issues[i]);
    let now = iso(now_ms());
    if let Some(m) = st.issues[i].as_object_mut() {
        for k in ["content", "contentMentions", "pctDetails", "errorCodes"] {
            if let Some(v) = body.get(k).filter(|v| !v.is_null()) {
                m.insert(k.into(), v.clone());
            }
        }
        if let Some(s) = status {
            m.insert("status".into(), json!(s));
            if s != "Open" {
                m.insert("resolvedBy".into(), json!(by));
                m.insert("resolvedAt".into(), json!(now));
            }
        }
        m.insert("updatedBy".into(), json!(by));
        m.insert("updatedAt".into(), json!(now));
    }
    let open_now = is_open(&st.issues[i]);
    let task = st.issues[i]
        .get("labelTask")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if was_open != open_now {
        adjust_open(&mut st, &task, if open_now { 1 } else { -1 });
    }
    Ok(Response::ok(json!({"issue": st.issues[i]})))
}

pub(super) fn comment(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    let body = req.json_object()?;
    let content = req_str(&body, "content")?.to_string();
    let mut st = ctx.write();
    let i = issue_idx(&st, id)?;
    let by = st.admin_email.clone();
    let now = iso(now_ms());
    let c = json!({
        "_id": object_id(), "content": content, "createdBy": by, "createdAt": now, "updatedAt": now,
        "contentMentions": body.get("contentMentions").cloned().unwrap_or_else(|| json!([])),
    });
    if let Some(m) = st.issues[i].as_object_mut() {
        match m.get_mut("comments") {
            Some(Value::Array(a)) => a.push(c.clone()),
            _ => {
                m.insert("comments".into(), json!([c.clone()]));
            }
        }
        m.insert("updatedAt".into(), json!(now));
    }
    Ok(Response::created(
        json!({"comment": c, "issue": st.issues[i]}),
    ))
}

pub(super) fn delete(ctx: &Ctx, id: &str) -> HandlerResult {
    let mut st = ctx.write();
    let i = issue_idx(&st, id)?;
    let issue = st.issues.remove(i);
    if is_open(&issue) {
        let task = issue
            .get("labelTask")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        adjust_open(&mut st, &task, -1);
    }
    Ok(Response::ok(json!({"issue": {"_id": id, "deleted": true}})))
}
