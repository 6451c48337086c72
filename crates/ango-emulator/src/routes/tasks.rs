//! Task endpoints: listing, details, history, workflow actions, label import.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use super::{opt_str_list, page_bounds, req_str, req_str_list};
use crate::Ctx;
use crate::filters::{Filter, sort_cmp};
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::state::{Project, SchemaIndex};
use crate::util::{now_ms, parse_bool};

/// Builds the task filter from `filter=` and the deprecated parameters.
fn build_filter(req: &Request, p: &Project) -> Result<Filter, ApiError> {
    let mut parts = Vec::new();
    if let Some(f) = req.query.get_json("filter")? {
        parts.push(Filter::compile(&f).map_err(ApiError::bad_request)?);
    }
    let mut legacy = Map::new();
    if let Some(s) = req
        .query
        .get_nonempty("status[eq]")
        .or_else(|| req.query.get_nonempty("status"))
    {
        legacy.insert("status".into(), json!(s));
    }
    if let Some(s) = req.query.get_nonempty("stage") {
        legacy.insert("stage".into(), json!(s));
    }
    match req.query.get_json("batches") {
        Ok(Some(Value::Array(b))) => {
            legacy.insert("batches".into(), json!({"$in": b}));
        }
        Ok(Some(Value::String(b))) => {
            legacy.insert("batches".into(), json!({"$in": [b]}));
        }
        Ok(Some(_)) => return Err(ApiError::bad_request("'batches' must be a JSON list")),
        Ok(None) => {}
        Err(_) => {
            let raw = req.query.get("batches").unwrap_or_default();
            legacy.insert(
                "batches".into(),
                json!({"$in": raw.split(',').collect::<Vec<_>>()}),
            );
        }
    }
    if !legacy.is_empty() {
        parts.push(Filter::compile(&Value::Object(legacy)).map_err(ApiError::bad_request)?);
    }
    let mut f = Filter::And(parts);
    // Accept stage and batch names as well as ids.
    f.map_values("stage", &|v| match v.as_str().and_then(|s| p.stage_id(s)) {
        Some(id) => Value::String(id),
        None => v.clone(),
    });
    f.map_values(
        "batches",
        &|v| match v.as_str().and_then(|s| p.batch_id(s)) {
            Some(id) => Value::String(id),
            None => v.clone(),
        },
    );
    Ok(f)
}

pub(super) fn list(ctx: &Ctx, req: &Request, pid: &str) -> HandlerResult {
    let (page, limit) = req.query.page_limit()?;
    let include_answer = match req.query.get_nonempty("includeAnswer") {
        None => false,
        Some(s) => parse_bool(s)
            .ok_or_else(|| ApiError::bad_request("includeAnswer must be true or false"))?,
    };
    let fields: Option<Vec<String>> = req.query.get_nonempty("fields").map(|f| {
        f.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let sort: Vec<(String, bool)> = match req.query.get_nonempty("sort") {
        None => vec![("createdAt".into(), true)],
        Some(s) => s
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| match k.strip_prefix('-') {
                Some(rest) => (rest.to_string(), true),
                None => (k.trim_start_matches('+').to_string(), false),
            })
            .collect(),
    };
    let st = ctx.read();
    let p = st.project(pid)?;
    let filter = build_filter(req, p)?;
    let all = filter.is_trivial();
    let mut matched: Vec<usize> = (0..p.tasks.len())
        .filter(|&i| !p.tasks[i].deleted && (all || filter.matches(&|k| p.task_field(i, k))))
        .collect();
    let default_sort = sort.len() == 1 && sort[0] == ("createdAt".to_string(), true);
    if default_sort {
        // Tasks are stored in creation order; newest first, ties by insertion order.
        matched.sort_by(|&a, &b| {
            p.tasks[b]
                .created_at
                .cmp(&p.tasks[a].created_at)
                .then(b.cmp(&a))
        });
    } else {
        // The sort keys of each task, read once (not twice per comparison).
        let keys: Vec<Vec<Option<Value>>> = matched
            .iter()
            .map(|&i| sort.iter().map(|(k, _)| p.task_field(i, k)).collect())
            .collect();
        let mut order: Vec<usize> = (0..matched.len()).collect();
        order.sort_by(|&x, &y| {
            for (j, (_, desc)) in sort.iter().enumerate() {
                let o = sort_cmp(keys[x][j].as_ref(), keys[y][j].as_ref());
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            matched[x].cmp(&matched[y])
        });
        matched = order.into_iter().map(|x| matched[x]).collect();
    }
    let (a, b) = page_bounds(matched.len(), page, limit);
    if fields.is_none() {
        // The common listing: written straight into the body (same bytes as the
        // `Value` path below).
        let page = &matched[a..b];
        let body = crate::jsonw::success_list(
            "tasks",
            64,
            |out| {
                for (j, &i) in page.iter().enumerate() {
                    if j == 1 {
                        // Room for the rest of the page, sized on the first task.
                        out.reserve((out.len() + 16) * (page.len() - 1));
                    }
                    if j > 0 {
                        out.push(b',');
                    }
                    p.write_task_json(out, i, &st.org_id, include_answer);
                }
            },
            |out| {
                out.extend_from_slice(b",\"total\":");
                crate::jsonw::int(out, matched.len() as i64);
            },
        );
        return Ok(Response::ok_json_bytes(body));
    }
    let tasks: Vec<Value> = matched[a..b]
        .iter()
        .map(|&i| {
            let full = p.task_json(i, &st.org_id, include_answer || fields.is_some());
            match &fields {
                None => full,
                Some(fs) => {
                    let mut out = Map::new();
                    if let Value::Object(m) = full {
                        for (k, v) in m {
                            if k == "_id" || fs.contains(&k) {
                                out.insert(k, v);
                            }
                        }
                    }
                    Value::Object(out)
                }
            }
        })
        .collect();
    Ok(Response::ok(
        json!({"tasks": tasks, "total": matched.len()}),
    ))
}

pub(super) fn get(ctx: &Ctx, id: &str) -> HandlerResult {
    let st = ctx.read();
    let (p, t) = st.task_loc(id)?;
    // The answer is always included: the official client's merge path reads it
    // even when it asks for includeAnswer=False.
    Ok(Response::ok(
        json!({"task": st.projects[p].task_json(t, &st.org_id, true)}),
    ))
}

pub(super) fn history(ctx: &Ctx, id: &str) -> HandlerResult {
    let st = ctx.read();
    let (p, t) = st.task_loc(id)?;
    let proj = &st.projects[p];
    let list: Vec<Value> = proj.tasks[t]
        .history
        .iter()
        .map(|h| proj.history_json(t, h, &st.org_id))
        .collect();
    Ok(Response::ok(json!({"taskHistory": list})))
}

pub(super) fn history_entry(ctx: &Ctx, hid: &str) -> HandlerResult {
    let st = ctx.read();
    let nf = || ApiError::not_found(format!("Task history not found: {hid}"));
    let (p, tid) = st.history_index.get(hid).ok_or_else(nf)?;
    let proj = &st.projects[*p];
    let &t = proj.task_pos.get(tid).ok_or_else(nf)?;
    let h = proj.tasks[t]
        .history
        .iter()
        .find(|h| h.id == hid)
        .ok_or_else(nf)?;
    Ok(Response::ok(
        json!({"taskHistory": proj.history_json(t, h, &st.org_id)}),
    ))
}

pub(super) fn assign(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json_object()?;
    let pid = req_str(&body, "project")?.to_string();
    let tasks = req_str_list(&body, "tasks")?;
    let user = req_str(&body, "user")?.to_string();
    let stage = body
        .get("stage")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut st = ctx.write();
    let pidx = st.project_idx(&pid)?;
    let p = &mut st.projects[pidx];
    let stage_id = match &stage {
        Some(s) if !s.is_empty() => Some(
            p.stage_id(s)
                .ok_or_else(|| ApiError::bad_request(format!("Stage not found: {s}")))?,
        ),
        _ => None,
    };
    let mut idx = Vec::new();
    for t in &tasks {
        match p.task_pos.get(t) {
            Some(&i) if !p.tasks[i].deleted => idx.push(i),
            _ => return Err(ApiError::not_found(format!("Task not found: {t}"))),
        }
    }
    let now = now_ms();
    let mut n = 0;
    for i in idx {
        if stage_id.as_ref().is_some_and(|s| *s != p.tasks[i].stage) {
            continue;
        }
        p.tasks[i].assignee = Some(user.clone());
        p.tasks[i].updated_at = now;
        n += 1;
    }
    Ok(Response::ok(json!({"assignedCount": n, "tasks": n})))
}

fn record_history(
    ctx_state: &mut crate::state::State,
    pidx: usize,
    task_id: &str,
    hid: Option<String>,
) {
    if let Some(h) = hid {
        ctx_state
            .history_index
            .insert(h, (pidx, task_id.to_string()));
    }
}

pub(super) fn annotate(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    let body = req.json_object()?;
    let next_stage = req.query.get_bool("nextStage").unwrap_or(false);
    let answer_src = match body.get("answer") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(ApiError::bad_request("'answer' must be an object")),
    };
    for k in ["objects", "tools", "classifications", "relations"] {
        if let Some(v) = answer_src.get(k)
            && !v.is_array()
            && !v.is_null()
        {
            return Err(ApiError::bad_request(format!("answer.{k} must be a list")));
        }
    }
    let duration = body.get("duration").and_then(Value::as_f64).unwrap_or(0.0);
    let mut st = ctx.write();
    let (pidx, tidx) = st.task_loc(id)?;
    let by = st.admin_email.clone();
    let now = now_ms();
    let p = &mut st.projects[pidx];
    let stored = SchemaIndex::new(&p.category_schema).to_stored(&answer_src);
    let t = &mut p.tasks[tidx];
    t.answer = std::sync::Arc::new(stored);
    for (k, slot) in [
        ("brushDataUrl", &mut t.brush_data_url),
        ("medicalBrushDataUrl", &mut t.medical_brush_data_url),
    ] {
        match body.get(k) {
            Some(Value::String(s)) if !s.is_empty() => *slot = Some(s.clone()),
            _ => {}
        }
    }
    t.duration += duration;
    t.total_duration += duration;
    t.updated_at = now;
    t.updated_by = Some(by.clone());
    t.is_draft = !next_stage;
    if t.assignee.is_none() {
        t.assignee = Some(by.clone());
    }
    let hid = if next_stage {
        p.advance(tidx, 0, &by, now)
    } else {
        None
    };
    let stage = p.tasks[tidx].stage.clone();
    let task_id = p.tasks[tidx].id.clone();
    record_history(&mut st, pidx, &task_id, hid);
    drop(st);
    if req.query.get_bool("isPlugin").unwrap_or(false) {
        // A plugin's annotate ends the workflow session that sent it the task.
        ctx.hub.finish_workflow(&task_id, &Value::Object(body));
    }
    Ok(Response::ok(
        json!({"task": {"_id": task_id, "stage": stage}, "success": true}),
    ))
}

pub(super) fn review(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    let body = req.json_object()?;
    let rs_in = req_str(&body, "reviewStatus")?;
    let rs = ["Accepted", "Rejected", "Todo", "Fixed"]
        .into_iter()
        .find(|r| r.eq_ignore_ascii_case(rs_in))
        .ok_or_else(|| ApiError::bad_request(format!("Invalid reviewStatus {rs_in}")))?;
    let mut st = ctx.write();
    let (pidx, tidx) = st.task_loc(id)?;
    let by = st.admin_email.clone();
    let now = now_ms();
    let p = &mut st.projects[pidx];
    p.tasks[tidx].review_status = rs.to_string();
    p.tasks[tidx].updated_at = now;
    p.tasks[tidx].updated_by = Some(by.clone());
    let in_review = p.stage_type(&p.tasks[tidx].stage) == "Review";
    let hid = match (in_review, rs) {
        (true, "Accepted") => p.advance(tidx, 0, &by, now),
        (true, "Rejected") => p.advance(tidx, 1, &by, now),
        _ => None,
    };
    let stage = p.tasks[tidx].stage.clone();
    let task_id = p.tasks[tidx].id.clone();
    record_history(&mut st, pidx, &task_id, hid);
    Ok(Response::ok(
        json!({"task": {"_id": task_id, "stage": stage, "reviewStatus": rs}}),
    ))
}

/// Task selection shared by requeue and priority updates.
fn select(p: &Project, filters: &Map<String, Value>) -> Result<Vec<usize>, ApiError> {
    let ids = opt_str_list(filters, "taskIds")?;
    let ext = opt_str_list(filters, "externalIds")?;
    let assets = opt_str_list(filters, "assetIds")?;
    let batches = opt_str_list(filters, "batches")?.map(|b| {
        b.iter()
            .map(|x| p.batch_id(x).unwrap_or_else(|| x.clone()))
            .collect::<Vec<_>>()
    });
    let stages = match opt_str_list(filters, "fromStageIds")? {
        Some(s) => Some(s),
        None => opt_str_list(filters, "stageIds")?,
    }
    .map(|s| {
        s.iter()
            .map(|x| p.stage_id(x).unwrap_or_else(|| x.clone()))
            .collect::<Vec<_>>()
    });
    Ok((0..p.tasks.len())
        .filter(|&i| {
            let t = &p.tasks[i];
            let a = &p.assets[t.asset];
            !t.deleted
                && ids.as_ref().is_none_or(|l| l.contains(&t.id))
                && ext.as_ref().is_none_or(|l| l.contains(&a.external_id))
                && assets.as_ref().is_none_or(|l| l.contains(&a.id))
                && batches
                    .as_ref()
                    .is_none_or(|l| a.batches.iter().any(|b| l.contains(b)))
                && stages.as_ref().is_none_or(|l| l.contains(&t.stage))
        })
        .collect())
}

fn filters_of(body: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    match body.get("filters") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(ApiError::bad_request("'filters' must be an object")),
    }
}

pub(super) fn requeue(ctx: &Ctx, req: &Request, pid: &str) -> HandlerResult {
    let body = req.json_object()?;
    let to = req_str(&body, "toStageId")?.to_string();
    let filters = filters_of(&body)?;
    let options = match body.get("options") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let opt = |k: &str| crate::util::json_truthy(options.get(k));
    let mut st = ctx.write();
    let pidx = st.project_idx(pid)?;
    let by = st.admin_email.clone();
    let now = now_ms();
    let p = &mut st.projects[pidx];
    let to_id = p
        .stage_id(&to)
        .ok_or_else(|| ApiError::bad_request(format!("Stage not found: {to}")))?;
    let selected = select(p, &filters)?;
    let mut new_hist = Vec::new();
    for &i in &selected {
        let hid = p.move_task(i, &to_id, &by, "requeue", now);
        let t = &mut p.tasks[i];
        if opt("removeAnnotations") {
            t.answer =
                std::sync::Arc::new(json!({"tools": [], "classifications": [], "relations": []}));
            t.brush_data_url = None;
            t.medical_brush_data_url = None;
        }
        if opt("removeAssignee") {
            t.assignee = None;
        }
        if opt("removeStageHistory") {
            t.history.clear();
        } else {
            new_hist.push((hid, t.id.clone()));
        }
        t.review_status = "Todo".into();
        if t.status != "Completed" {
            t.completed_at = None;
            t.completed_by = None;
        }
    }
    for (h, t) in new_hist {
        st.history_index.insert(h, (pidx, t));
    }
    Ok(Response::ok(
        json!({"modifiedCount": {"modified": selected.len(), "toStageId": to_id}}),
    ))
}

pub(super) fn update_priority(ctx: &Ctx, req: &Request, pid: &str) -> HandlerResult {
    let body = req.json_object()?;
    let priority = body
        .get("priority")
        .and_then(Value::as_i64)
        .filter(|p| (-1000..=1000).contains(p))
        .ok_or_else(|| ApiError::bad_request("'priority' must be an integer in -1000..1000"))?;
    let filters = filters_of(&body)?;
    let mut st = ctx.write();
    let p = st.project_mut(pid)?;
    let selected = select(p, &filters)?;
    let now = now_ms();
    for &i in &selected {
        p.tasks[i].priority = priority;
        p.tasks[i].updated_at = now;
    }
    Ok(Response::ok(
        json!({"modifiedCount": selected.len(), "priority": priority}),
    ))
}

pub(super) fn benchmark(ctx: &Ctx, req: &Request, pid: &str) -> HandlerResult {
    let body = req.json_object()?;
    let tasks = req_str_list(&body, "tasks")?;
    let flag = match body.get("isBenchmark") {
        Some(Value::Bool(b)) => *b,
        None => true,
        Some(_) => return Err(ApiError::bad_request("'isBenchmark' must be a boolean")),
    };
    let mut st = ctx.write();
    let p = st.project_mut(pid)?;
    let mut idx = Vec::new();
    for t in &tasks {
        match p.task_pos.get(t) {
            Some(&i) if !p.tasks[i].deleted => idx.push(i),
            _ => return Err(ApiError::not_found(format!("Task not found: {t}"))),
        }
    }
    for &i in &idx {
        p.tasks[i].is_benchmark = flag;
        p.tasks[i].task_type = if flag {
            "benchmark".into()
        } else {
            "default".into()
        };
    }
    Ok(Response::ok(
        json!({"modifiedCount": idx.len(), "isBenchmark": flag}),
    ))
}

/// Tasks to label, the stored answer, brush and medical brush URLs.
type LabelPlan = (Vec<usize>, Value, Option<String>, Option<String>);

pub(super) fn import_labels(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json_object()?;
    let pid = req_str(&body, "project")?.to_string();
    let items: Vec<Value> = match (body.get("jsonContent"), body.get("labels")) {
        (Some(Value::Array(a)), _) | (None, Some(Value::Array(a))) => a.clone(),
        (Some(Value::String(s)), _) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(a)) => a,
            _ => return Err(ApiError::bad_request("'jsonContent' must be a list")),
        },
        _ => return Err(ApiError::bad_request("'jsonContent' must be a list")),
    };
    let mut st = ctx.write();
    let by = st.admin_email.clone();
    let p = st.project_mut(&pid)?;
    let schema = SchemaIndex::new(&p.category_schema);
    // Resolve and convert everything first; then apply.
    let mut plan: Vec<LabelPlan> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let obj = it
            .as_object()
            .ok_or_else(|| ApiError::bad_request(format!("jsonContent[{i}] must be an object")))?;
        let tasks: Vec<usize> = if let Some(aid) = obj.get("assetId").and_then(Value::as_str) {
            p.asset_pos
                .get(aid)
                .filter(|&&a| !p.assets[a].deleted)
                .map(|&a| p.assets[a].task)
                .into_iter()
                .collect()
        } else if let Some(ext) = obj.get("externalId").and_then(Value::as_str) {
            p.assets
                .iter()
                .filter(|a| !a.deleted && a.external_id == ext)
                .map(|a| a.task)
                .collect()
        } else if let Some(d) = obj.get("data").and_then(Value::as_str) {
            p.assets
                .iter()
                .filter(|a| !a.deleted && a.data == d)
                .map(|a| a.task)
                .collect()
        } else {
            return Err(ApiError::bad_request(format!(
                "jsonContent[{i}] needs an externalId"
            )));
        };
        let src = match obj.get("answer") {
            Some(Value::Object(a)) => a.clone(),
            _ => obj.clone(),
        };
        for k in ["objects", "tools", "classifications", "relations"] {
            if let Some(v) = src.get(k)
                && !v.is_array()
            {
                return Err(ApiError::bad_request(format!(
                    "jsonContent[{i}].{k} must be a list"
                )));
            }
        }
        let brush = obj
            .get("brushDataUrl")
            .and_then(Value::as_str)
            .map(str::to_string);
        let med = obj
            .get("medicalBrushDataUrl")
            .and_then(Value::as_str)
            .map(str::to_string);
        plan.push((tasks, schema.to_stored(&src), brush, med));
    }
    let now = now_ms();
    let mut labeled = std::collections::HashSet::new();
    for (tasks, answer, brush, med) in plan {
        let answer = std::sync::Arc::new(answer);
        for ti in tasks {
            let t = &mut p.tasks[ti];
            t.answer = answer.clone();
            if brush.is_some() {
                t.brush_data_url = brush.clone();
            }
            if med.is_some() {
                t.medical_brush_data_url = med.clone();
            }
            t.is_pre_labeled = true;
            t.updated_at = now;
            t.updated_by = Some(by.clone());
            let ai = t.asset;
            p.assets[ai].is_pre_labeled = true;
            labeled.insert(ti);
        }
    }
    let total = p.tasks.iter().filter(|t| !t.deleted).count();
    Ok(Response::ok(json!({
        "project": format!("{} / {} tasks are labeled.", labeled.len(), items.len()),
        "labeledTasks": labeled.len(),
        "totalTasks": total,
    })))
}
