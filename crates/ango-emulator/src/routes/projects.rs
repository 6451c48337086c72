//! Project endpoints.

use serde_json::{Map, Value, json};

use super::{page_bounds, req_str, req_str_list};
use crate::Ctx;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::state::Batch;
use crate::util::{json_truthy, now_ms, object_id};

pub(super) fn list(ctx: &Ctx, req: &Request) -> HandlerResult {
    let (page, limit) = req.query.page_limit()?;
    let st = ctx.read();
    let mut live: Vec<&crate::state::Project> = st
        .projects
        .iter()
        .filter(|p| !p.deleted && !p.purged)
        .collect();
    live.reverse(); // newest first
    let (a, b) = page_bounds(live.len(), page, limit);
    let projects: Vec<Value> = live[a..b]
        .iter()
        .map(|p| p.summary_json(&st.org_id))
        .collect();
    Ok(Response::ok(
        json!({"projects": projects, "total": live.len()}),
    ))
}

pub(super) fn create(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json_object()?;
    let name = req_str(&body, "name")?.to_string();
    let description = match body.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ApiError::bad_request("'description' must be a string")),
    };
    let kind = match body.get("type") {
        None | Some(Value::Null) => "ango".to_string(),
        Some(Value::String(t))
            if ["ango", "pct", "iframe"].contains(&t.to_ascii_lowercase().as_str()) =>
        {
            t.to_ascii_lowercase()
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid project type {other}; expected ango, pct or iframe"
            )));
        }
    };
    let mut st = ctx.write();
    let i = st.add_project(&name, &description, &kind);
    let org = st.org_id.clone();
    Ok(Response::created(
        json!({"project": st.projects[i].to_json(&org)}),
    ))
}

pub(super) fn get(ctx: &Ctx, id: &str) -> HandlerResult {
    let st = ctx.read();
    let p = st.project(id)?;
    // Written straight into the body (the same bytes as `to_json` would give).
    let body = crate::jsonw::success_object("project", |out| p.write_json(out, &st.org_id));
    Ok(Response::ok_json_bytes(body))
}

fn validate_schema(v: &Value) -> Result<Value, ApiError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::bad_request("'categorySchema' must be an object"))?;
    let mut out = obj.clone();
    for k in ["tools", "classifications", "relations"] {
        match obj.get(k) {
            None | Some(Value::Null) => {
                out.insert(k.into(), json!([]));
            }
            Some(Value::Array(items)) => {
                if items.iter().any(|i| !i.is_object()) {
                    return Err(ApiError::bad_request(format!(
                        "categorySchema.{k} entries must be objects"
                    )));
                }
            }
            Some(_) => {
                return Err(ApiError::bad_request(format!(
                    "categorySchema.{k} must be a list"
                )));
            }
        }
    }
    Ok(Value::Object(out))
}

fn validate_stages(v: &Value) -> Result<Vec<Value>, ApiError> {
    let arr = v
        .as_array()
        .ok_or_else(|| ApiError::bad_request("'stages' must be a list"))?;
    let mut ids = std::collections::HashSet::new();
    for s in arr {
        let id = s.get("id").and_then(Value::as_str);
        let ty = s.get("type").and_then(Value::as_str);
        match (id, ty) {
            (Some(id), Some(_)) if !id.is_empty() => {
                if !ids.insert(id.to_string()) {
                    return Err(ApiError::bad_request(format!("Duplicate stage id {id}")));
                }
            }
            _ => {
                return Err(ApiError::bad_request(
                    "Every stage needs a string 'id' and 'type'",
                ));
            }
        }
    }
    if !arr
        .iter()
        .any(|s| s.get("type").and_then(Value::as_str) == Some("Start"))
    {
        return Err(ApiError::bad_request("The workflow needs a Start stage"));
    }
    let mut out = arr.clone();
    for s in out.iter_mut() {
        if let Some(m) = s.as_object_mut() {
            if !m.contains_key("name")
                && let Some(id) = m.get("id").cloned()
            {
                m.insert("name".into(), id);
            }
            m.entry("next").or_insert_with(|| json!([]));
        }
    }
    Ok(out)
}

pub(super) fn update(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    let body = req.json_object()?;
    // Validate everything before mutating.
    let schema = body
        .get("categorySchema")
        .map(validate_schema)
        .transpose()?;
    let stages = body.get("stages").map(validate_stages).transpose()?;
    let name = match body.get("name") {
        None => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(_) => return Err(ApiError::bad_request("'name' must be a non-empty string")),
    };
    if let Some(r) = body.get("benchmarkRatio")
        && !r.is_null()
        && !r.as_f64().is_some_and(|f| (0.0..=100.0).contains(&f))
    {
        return Err(ApiError::bad_request("'benchmarkRatio' must be a number"));
    }
    let mut st = ctx.write();
    let org = st.org_id.clone();
    let p = st.project_mut(id)?;
    if let Some(s) = schema {
        p.category_schema = s;
    }
    if let Some(s) = stages {
        p.stages = s;
    }
    if let Some(n) = name {
        p.name = n;
    }
    for (k, v) in &body {
        match k.as_str() {
            "categorySchema" | "stages" | "name" | "_id" | "organization" => {}
            "description" => p.description = v.as_str().unwrap_or_default().to_string(),
            "benchmarkEnabled" => p.benchmark_enabled = json_truthy(Some(v)),
            "benchmarkRatio" => p.benchmark_ratio = v.clone(),
            "benchmarkCutoff" => p.benchmark_cutoff = v.clone(),
            _ => {
                p.settings.insert(k.clone(), v.clone());
            }
        }
    }
    p.updated_at = now_ms();
    Ok(Response::ok(json!({"project": p.to_json(&org)})))
}

pub(super) fn delete(ctx: &Ctx, id: &str) -> HandlerResult {
    let mut st = ctx.write();
    let p = st.project_mut(id)?;
    p.deleted = true;
    p.updated_at = now_ms();
    Ok(Response::ok(
        json!({"project": {"_id": id, "deleted": true}}),
    ))
}

pub(super) fn purge(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    let body = req.json_object()?;
    let confirm = req_str(&body, "confirmName")?;
    let mut st = ctx.write();
    let idx = match st.project_pos.get(id) {
        Some(&i) if !st.projects[i].purged => i,
        _ => return Err(ApiError::not_found(format!("Project not found: {id}"))),
    };
    if st.projects[idx].name != confirm {
        return Err(ApiError::bad_request(
            "confirmName does not match the project name",
        ));
    }
    st.unindex_project(idx);
    let p = &mut st.projects[idx];
    p.purged = true;
    p.deleted = true;
    p.assets.clear();
    p.tasks.clear();
    p.task_pos.clear();
    p.asset_pos.clear();
    drop(st);
    let prefix = format!("{id}/");
    ctx.files
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|k, _| !k.starts_with(&prefix) && !k.starts_with(&format!("exports/{prefix}")));
    Ok(Response::ok(
        json!({"project": {"_id": id, "purged": true}}),
    ))
}

pub(super) fn clone(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    let body = req.json_object()?;
    let flag = |k: &str| json_truthy(body.get(k));
    let mut st = ctx.write();
    let src = st.project(id)?.clone();
    let i = st.add_project(&format!("{} copy", src.name), &src.description, &src.kind);
    let org = st.org_id.clone();
    let p = &mut st.projects[i];
    if flag("categorySchema") {
        p.category_schema = src.category_schema.clone();
    }
    if flag("assignedTo") {
        p.assigned_to = src.assigned_to.clone();
    }
    if flag("batches") {
        p.batches = src
            .batches
            .iter()
            .map(|b| Batch {
                id: object_id(),
                name: b.name.clone(),
            })
            .collect();
    }
    if flag("workflow") {
        p.stages = src.stages.clone();
    }
    if flag("projectGeneralSettings") {
        p.settings = src.settings.clone();
        p.benchmark_enabled = src.benchmark_enabled;
        p.benchmark_ratio = src.benchmark_ratio.clone();
        p.benchmark_cutoff = src.benchmark_cutoff.clone();
        p.label_validation = src.label_validation.clone();
    }
    Ok(Response::ok(json!({"project": p.to_json(&org)})))
}

pub(super) fn assign_members(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    let body = req.json_object()?;
    let emails = req_str_list(&body, "assignees")?;
    if emails.is_empty() {
        return Err(ApiError::bad_request("'assignees' must not be empty"));
    }
    let role_in = req_str(&body, "role")?;
    let role = ["Manager", "Labeler", "Reviewer", "Lead"]
        .into_iter()
        .find(|r| r.eq_ignore_ascii_case(role_in))
        .ok_or_else(|| ApiError::bad_request(format!("Invalid role {role_in}")))?;
    let mut st = ctx.write();
    let org = st.org_id.clone();
    let p = st.project_mut(id)?;
    for e in &emails {
        p.assigned_to
            .retain(|a| a.get("assignee").and_then(Value::as_str) != Some(e.as_str()));
        p.assigned_to
            .push(json!({"assignee": e, "user": e, "role": role}));
    }
    p.updated_at = now_ms();
    Ok(Response::ok(
        json!({"project": p.to_json(&org), "assignedTo": p.assigned_to}),
    ))
}

pub(super) fn label_validation(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    let body = req.json_object()?;
    if let Some(v) = body.get("customValidationEnabled")
        && !v.is_boolean()
    {
        return Err(ApiError::bad_request(
            "'customValidationEnabled' must be a boolean",
        ));
    }
    let mut st = ctx.write();
    let p = st.project_mut(id)?;
    let mut lv = p.label_validation.as_object().cloned().unwrap_or_default();
    for (k, v) in body {
        lv.insert(k, v);
    }
    p.label_validation = Value::Object(lv);
    p.updated_at = now_ms();
    Ok(Response::ok(json!({"labelValidation": p.label_validation})))
}

pub(super) fn create_template(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    let body = req.json_object()?;
    req_str(&body, "name")?;
    if let Some(dc) = body.get("dataConfig")
        && !dc.is_object()
        && !dc.is_null()
    {
        return Err(ApiError::bad_request("'dataConfig' must be an object"));
    }
    let mut tpl: Map<String, Value> = body;
    tpl.insert("_id".into(), Value::String(object_id()));
    tpl.insert("project".into(), Value::String(id.to_string()));
    tpl.insert(
        "createdAt".into(),
        Value::String(crate::util::iso(now_ms())),
    );
    let mut st = ctx.write();
    let p = st.project_mut(id)?;
    let tpl = Value::Object(tpl);
    p.asset_builder_templates.push(tpl.clone());
    p.updated_at = now_ms();
    Ok(Response::created(
        json!({"template": tpl, "assetBuilderTemplate": tpl}),
    ))
}

pub(super) fn list_templates(ctx: &Ctx, id: &str) -> HandlerResult {
    let st = ctx.read();
    let p = st.project(id)?;
    Ok(Response::ok(
        json!({"assetBuilderTemplates": p.asset_builder_templates}),
    ))
}

pub(super) fn instructions(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    ctx.read().project(id)?;
    let ct = req.header("content-type").unwrap_or("");
    let parts = crate::multipart::parse_form(ct, &req.body).map_err(ApiError::bad_request)?;
    let file = parts
        .into_iter()
        .find(|p| p.name == "file" || p.filename.is_some())
        .ok_or_else(|| ApiError::bad_request("A 'file' part is required"))?;
    let fname = file
        .filename
        .clone()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "instructions".into());
    let fname = fname
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("instructions")
        .to_string();
    let key = format!("{id}/instructions/{fname}");
    let size = file.data.len();
    ctx.put_file(&key, file.data);
    let url = ctx.file_url(&key);
    let mut st = ctx.write();
    let p = st.project_mut(id)?;
    p.instructions = json!({"name": fname, "url": url, "size": size,
        "storageId": req.query.get("storageId"), "bucket": req.query.get("bucket")});
    p.updated_at = now_ms();
    Ok(Response::ok(json!({"instructions": p.instructions})))
}

pub(super) fn rerun_webhook(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    let body = req.json_object()?;
    let stage = req_str(&body, "stageId")?.to_string();
    let mut st = ctx.write();
    let p = st.project(id)?;
    let sid = p
        .stage_id(&stage)
        .ok_or_else(|| ApiError::bad_request(format!("Stage not found: {stage}")))?;
    let count = p
        .tasks
        .iter()
        .filter(|t| !t.deleted && t.stage == sid)
        .count();
    st.webhook_reruns
        .push(json!({"project": id, "stageId": sid, "tasks": count}));
    Ok(Response::ok(
        json!({"stageId": sid, "tasks": count, "message": "Webhook rerun started"}),
    ))
}
