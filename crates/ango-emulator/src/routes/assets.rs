//! Asset endpoints: listing, deletion, cloud import, chat assets, attachments.

use serde_json::{Map, Value, json};

use super::{page_bounds, req_str};
use crate::Ctx;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::state::{NewAsset, Project, SchemaIndex};
use crate::util::{json_truthy, now_ms};

pub(super) fn list(ctx: &Ctx, req: &Request, pid: &str) -> HandlerResult {
    let (page, limit) = req.query.page_limit()?;
    let filters = match req.query.get_json("filters")? {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(ApiError::bad_request("'filters' must be a JSON object")),
    };
    let st = ctx.read();
    let p = st.project(pid)?;
    let want_batches: Vec<String> = match filters.get("batches") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(|b| p.batch_id(b).unwrap_or_else(|| b.to_string()))
            .collect(),
        Some(Value::String(s)) => vec![p.batch_id(s).unwrap_or_else(|| s.clone())],
        Some(_) => return Err(ApiError::bad_request("filters.batches must be a list")),
    };
    let str_filter = |k: &str| -> Result<Option<Vec<String>>, ApiError> {
        match filters.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(Value::Array(a)) => Ok(Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            )),
            Some(Value::Object(o)) => Ok(o.get("$in").or_else(|| o.get("$eq")).map(|v| match v {
                Value::Array(a) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                Value::String(s) => vec![s.clone()],
                _ => Vec::new(),
            })),
            Some(_) => Err(ApiError::bad_request(format!(
                "filters.{k} must be a string"
            ))),
        }
    };
    let ids = str_filter("_id")?;
    let ext = str_filter("externalId")?;
    let pre = filters
        .get("isPreLabeled")
        .filter(|v| !v.is_null())
        .map(|v| json_truthy(Some(v)));
    let mut matched: Vec<usize> = (0..p.assets.len())
        .filter(|&i| {
            let a = &p.assets[i];
            !a.deleted
                && ids.as_ref().is_none_or(|l| l.contains(&a.id))
                && ext.as_ref().is_none_or(|l| l.contains(&a.external_id))
                && pre.is_none_or(|want| p.tasks[a.task].is_pre_labeled == want)
                && want_batches.iter().all(|b| a.batches.contains(b))
        })
        .collect();
    matched.reverse();
    let (a, b) = page_bounds(matched.len(), page, limit);
    // Written straight into the body (the same bytes as `asset_json` would give).
    let page = &matched[a..b];
    let body = crate::jsonw::success_list(
        "assets",
        64,
        |out| {
            for (j, &i) in page.iter().enumerate() {
                if j == 1 {
                    // Room for the rest of the page, sized on the first asset.
                    out.reserve((out.len() + 16) * (page.len() - 1));
                }
                if j > 0 {
                    out.push(b',');
                }
                p.write_asset_json(out, i);
            }
        },
        |out| {
            out.extend_from_slice(b",\"total\":");
            crate::jsonw::int(out, matched.len() as i64);
        },
    );
    Ok(Response::ok_json_bytes(body))
}

pub(super) fn delete(ctx: &Ctx, req: &Request, pid: &str) -> HandlerResult {
    let body = req.json_object()?;
    let ids = super::req_str_list(&body, "assets")?;
    let mut st = ctx.write();
    let pidx = st.project_idx(pid)?;
    let now = now_ms();
    let mut deleted = Vec::new();
    {
        let p = &mut st.projects[pidx];
        for id in &ids {
            if let Some(&ai) = p.asset_pos.get(id)
                && !p.assets[ai].deleted
            {
                p.assets[ai].deleted = true;
                let ti = p.assets[ai].task;
                p.tasks[ti].deleted = true;
                p.tasks[ti].updated_at = now;
                deleted.push(p.tasks[ti].id.clone());
            }
        }
    }
    for t in &deleted {
        st.task_index.remove(t);
    }
    Ok(Response::ok(
        json!({"deletedCount": deleted.len(), "assets": deleted.len()}),
    ))
}

fn resolve_batches(p: &Project, list: &[Value]) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for b in list {
        let s = b
            .as_str()
            .ok_or_else(|| ApiError::bad_request("batches must be strings"))?;
        let id = p
            .batch_id(s)
            .ok_or_else(|| ApiError::bad_request(format!("Batch {s} not found")))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn default_external_id(data: &str) -> String {
    let no_query = data.split('?').next().unwrap_or(data);
    no_query
        .rsplit('/')
        .find(|s| !s.is_empty())
        .map(|s| crate::query::percent_decode(s, false))
        .unwrap_or_else(|| data.to_string())
}

pub(super) fn cloud_import(ctx: &Ctx, req: &Request, pid: &str) -> HandlerResult {
    let body = req.json_object()?;
    let items = body
        .get("assets")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("'assets' must be a list"))?;
    if items.is_empty() {
        return Err(ApiError::bad_request("'assets' must not be empty"));
    }
    let priority = match body.get("priority") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .filter(|p| (-1000..=1000).contains(p))
            .ok_or_else(|| ApiError::bad_request("'priority' must be an integer in -1000..1000"))?,
    };
    let upload_local = json_truthy(body.get("uploadLocal"));
    let query_batches = match req.query.get_json("batches")? {
        None => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(Value::String(s)) => vec![Value::String(s)],
        Some(_) => return Err(ApiError::bad_request("'batches' must be a JSON list")),
    };
    let mut st = ctx.write();
    let pidx = st.project_idx(pid)?;
    let storages: Vec<String> = st
        .storages
        .iter()
        .filter_map(|s| s.get("_id").and_then(Value::as_str).map(str::to_string))
        .collect();
    let p = &st.projects[pidx];
    let default_batches = resolve_batches(p, &query_batches)?;
    let schema = SchemaIndex::new(&p.category_schema);
    // Validate every item before creating anything.
    let mut new_assets = Vec::with_capacity(items.len());
    let mut pre_labels = 0usize;
    for (i, it) in items.iter().enumerate() {
        let obj = it
            .as_object()
            .ok_or_else(|| ApiError::bad_request(format!("assets[{i}] must be an object")))?;
        let data = obj
            .get("data")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let dataset = obj.get("dataset").filter(|d| !d.is_null()).cloned();
        if let Some(ds) = &dataset
            && !ds
                .as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string))
        {
            return Err(ApiError::bad_request(format!(
                "assets[{i}].dataset must be a list of URLs"
            )));
        }
        if data.is_empty() && dataset.is_none() {
            return Err(ApiError::bad_request(format!(
                "assets[{i}] needs 'data' or 'dataset'"
            )));
        }
        let data = if data.is_empty() {
            dataset
                .as_ref()
                .and_then(|d| d.get(0))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        } else {
            data
        };
        let external_id = match obj.get("externalId") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => default_external_id(&data),
        };
        let batches = match obj.get("batches") {
            Some(Value::Array(b)) => resolve_batches(p, b)?,
            _ => default_batches.clone(),
        };
        let storage = match obj.get("storage") {
            Some(Value::String(s)) if !s.is_empty() => {
                if !storages.contains(s) {
                    return Err(ApiError::bad_request(format!("Storage not found: {s}")));
                }
                Some(s.clone())
            }
            _ => None,
        };
        let attachments = obj
            .get("attachments")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let pre: Vec<Value> = obj
            .get("classifications")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let pre_classifications = if pre.is_empty() {
            Vec::new()
        } else {
            pre_labels += 1;
            let mut src = Map::new();
            src.insert("classifications".into(), Value::Array(pre));
            schema
                .to_stored(&src)
                .get("classifications")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let mut metadata = obj
            .get("metadata")
            .filter(|m| m.is_object())
            .cloned()
            .unwrap_or_else(|| json!({}));
        if let Some(ds) = &dataset
            && let Some(m) = metadata.as_object_mut()
        {
            m.entry("pageCount")
                .or_insert(json!(ds.as_array().map_or(0, Vec::len)));
        }
        new_assets.push(NewAsset {
            data,
            dataset,
            external_id,
            metadata,
            context_data: obj
                .get("contextData")
                .filter(|c| !c.is_null())
                .cloned()
                .unwrap_or_else(|| json!({})),
            batches,
            attachments,
            storage,
            upload_local,
            priority: obj
                .get("priority")
                .and_then(Value::as_i64)
                .filter(|p| (-1000..=1000).contains(p))
                .unwrap_or(priority),
            pre_classifications,
        });
    }
    let creator = st.admin_email.clone();
    let now = now_ms();
    let p = &mut st.projects[pidx];
    let entry = p.entry_stage();
    let mut created = Vec::with_capacity(new_assets.len());
    for a in new_assets {
        let ti = p.add_asset(a, &creator, now, &entry);
        created.push(p.tasks[ti].id.clone());
    }
    p.updated_at = now;
    let n = created.len();
    for t in created {
        st.task_index.insert(t, pidx);
    }
    Ok(Response::created(json!({"assets": {
        "assetsCreated": n, "tasksCreated": n,
        "preLabelsCount": pre_labels, "validPreLabelsCount": pre_labels,
    }})))
}

fn chat_error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({"status": "fail", "message": message, "error": {"statusCode": status}}),
    )
}

pub(super) fn chat(ctx: &Ctx, req: &Request, pid: &str) -> HandlerResult {
    let ct = req.header("content-type").unwrap_or("");
    let parts = match crate::multipart::parse_form(ct, &req.body) {
        Ok(p) => p,
        Err(e) => return Ok(chat_error(400, &e)),
    };
    let field = |k: &str| {
        parts
            .iter()
            .find(|p| p.name == k && p.filename.is_none())
            .map(|p| p.text())
    };
    if ctx.read().project(pid).is_err() {
        return Ok(chat_error(404, &format!("Project not found: {pid}")));
    }
    if let Some(fp) = field("projectId")
        && !fp.is_empty()
        && fp != pid
    {
        return Ok(chat_error(400, "projectId does not match the URL"));
    }
    let llm_id = match field("llmConfig").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match serde_json::from_str::<Value>(&s) {
            Ok(v) => v.get("id").and_then(Value::as_str).map(str::to_string),
            Err(_) => return Ok(chat_error(400, "llmConfig must be JSON")),
        },
    };
    if let Some(id) = &llm_id
        && !ctx
            .read()
            .llms
            .iter()
            .any(|l| l.get("_id").and_then(Value::as_str) == Some(id))
    {
        return Ok(chat_error(400, &format!("LLM config not found: {id}")));
    }
    let file = parts
        .iter()
        .find(|p| p.filename.is_some() || p.name == "file");
    let conversations: Vec<Value> = match file {
        Some(f) => match serde_json::from_slice::<Value>(&f.data) {
            Ok(Value::Array(a)) => a,
            Ok(v) => vec![v],
            Err(_) => return Ok(chat_error(400, "The conversation file must be JSON")),
        },
        None => {
            let n = field("numberOfConversations").unwrap_or_default();
            match n.trim().parse::<usize>() {
                Ok(k) if (1..=10_000).contains(&k) => vec![json!([]); k],
                _ => {
                    return Ok(chat_error(
                        400,
                        "numberOfConversations must be an integer in 1..10000",
                    ));
                }
            }
        }
    };
    let priority = field("priority")
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(0);
    let mut urls = Vec::new();
    for conv in &conversations {
        let key = format!("{pid}/chat/{}.json", crate::util::hex32());
        ctx.put_file(&key, serde_json::to_vec(conv).unwrap_or_default());
        // Signed, so the conversation stays readable without the API key.
        urls.push(ctx.file_url(&key));
    }
    let mut st = ctx.write();
    let pidx = match st.project_idx(pid) {
        Ok(i) => i,
        Err(e) => return Ok(chat_error(404, &e.message)),
    };
    let creator = st.admin_email.clone();
    let now = now_ms();
    let p = &mut st.projects[pidx];
    let entry = p.entry_stage();
    let mut created = Vec::new();
    for url in urls {
        let external_id = format!("chat-{}.json", &crate::util::hex32()[..12]);
        let ti = p.add_asset(
            NewAsset {
                data: url,
                external_id,
                metadata: json!({"type": "llm-chat", "dynamic": llm_id.is_some(), "llmConfig": llm_id}),
                context_data: json!({}),
                storage: field("storageId").filter(|s| !s.is_empty() && s != "None"),
                priority,
                ..Default::default()
            },
            &creator,
            now,
            &entry,
        );
        created.push(p.tasks[ti].id.clone());
    }
    let n = created.len();
    for t in created {
        st.task_index.insert(t, pidx);
    }
    Ok(Response::created(
        json!({"assets": {"assetsCreated": n, "tasksCreated": n}}),
    ))
}

pub(super) fn attachments(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json_object()?;
    let pid = req_str(&body, "project")?.to_string();
    let items = body
        .get("attachments")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| ApiError::bad_request("'attachments' must be a list"))?;
    let mut st = ctx.write();
    let p = st.project_mut(&pid)?;
    // Validate first.
    let mut plan: Vec<(Vec<usize>, Vec<Value>)> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let obj = it
            .as_object()
            .ok_or_else(|| ApiError::bad_request(format!("attachments[{i}] must be an object")))?;
        let targets: Vec<usize> = if let Some(aid) = obj.get("assetId").and_then(Value::as_str) {
            p.asset_pos.get(aid).copied().into_iter().collect()
        } else if let Some(ext) = obj.get("externalId").and_then(Value::as_str) {
            (0..p.assets.len())
                .filter(|&k| !p.assets[k].deleted && p.assets[k].external_id == ext)
                .collect()
        } else if let Some(d) = obj.get("data").and_then(Value::as_str) {
            (0..p.assets.len())
                .filter(|&k| !p.assets[k].deleted && p.assets[k].data == d)
                .collect()
        } else {
            return Err(ApiError::bad_request(format!(
                "attachments[{i}] needs externalId or assetId"
            )));
        };
        let list: Vec<Value> = if let Some(a) = obj.get("attachments").and_then(Value::as_array) {
            a.clone()
        } else if let Some(url) = obj.get("attachmentUrl").and_then(Value::as_str) {
            vec![
                json!({"type": obj.get("attachmentType").and_then(Value::as_str).unwrap_or("IMAGE"), "value": url}),
            ]
        } else {
            return Err(ApiError::bad_request(format!(
                "attachments[{i}] has no attachments"
            )));
        };
        for a in &list {
            let ty = a.get("type").and_then(Value::as_str).unwrap_or("");
            if !["IMAGE", "VIDEO", "TEXT"].contains(&ty.to_ascii_uppercase().as_str())
                || a.get("value").is_none()
            {
                return Err(ApiError::bad_request(format!(
                    "attachments[{i}]: each attachment needs type IMAGE|VIDEO|TEXT and a value"
                )));
            }
        }
        plan.push((targets, list));
    }
    let mut imported = 0;
    let mut updated = std::collections::HashSet::new();
    for (targets, list) in plan {
        for t in targets {
            p.assets[t].attachments.extend(list.iter().cloned());
            imported += list.len();
            updated.insert(t);
        }
    }
    Ok(Response::ok(
        json!({"project": {"attachmentsImported": imported, "assetsUpdated": updated.len()}}),
    ))
}
