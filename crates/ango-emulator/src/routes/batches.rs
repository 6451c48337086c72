//! Batch endpoints.

use serde_json::{Value, json};

use super::{req_str, req_str_list};
use crate::Ctx;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::state::Batch;
use crate::util::{now_ms, object_id};

pub(super) fn list(ctx: &Ctx, pid: &str) -> HandlerResult {
    let st = ctx.read();
    let p = st.project(pid)?;
    let batches: Vec<Value> = p
        .batches
        .iter()
        .map(|b| json!({"_id": b.id, "name": b.name}))
        .collect();
    Ok(Response::ok(json!({"batches": batches})))
}

pub(super) fn create(ctx: &Ctx, req: &Request, pid: &str) -> HandlerResult {
    let body = req.json_object()?;
    let mut st = ctx.write();
    let org = st.org_id.clone();
    let p = st.project_mut(pid)?;
    if let Some(list) = body.get("batches") {
        // Full replacement list: entries with an _id keep that batch, others are new.
        let arr = list
            .as_array()
            .ok_or_else(|| ApiError::bad_request("'batches' must be a list"))?;
        let mut next: Vec<Batch> = Vec::new();
        for (i, b) in arr.iter().enumerate() {
            let name = b
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| ApiError::bad_request(format!("batches[{i}].name is required")))?;
            let id = match b.get("_id").and_then(Value::as_str) {
                Some(id) => {
                    if !p.batches.iter().any(|x| x.id == id) {
                        return Err(ApiError::bad_request(format!("Batch not found: {id}")));
                    }
                    id.to_string()
                }
                None => object_id(),
            };
            if next.iter().any(|x| x.name == name || x.id == id) {
                return Err(ApiError::bad_request(format!("Duplicate batch {name}")));
            }
            next.push(Batch {
                id,
                name: name.to_string(),
            });
        }
        let keep: Vec<String> = next.iter().map(|b| b.id.clone()).collect();
        for a in p.assets.iter_mut() {
            a.batches.retain(|b| keep.contains(b));
        }
        p.batches = next;
    } else {
        let name = req_str(&body, "name")?;
        if p.batches.iter().any(|b| b.name == name) {
            return Err(ApiError::bad_request(format!(
                "Batch {name} already exists"
            )));
        }
        p.batches.push(Batch {
            id: object_id(),
            name: name.to_string(),
        });
    }
    p.updated_at = now_ms();
    Ok(Response::ok(json!({"project": p.to_json(&org)})))
}

pub(super) fn assign(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json_object()?;
    let pid = req_str(&body, "projectId")
        .or_else(|_| req_str(&body, "project"))?
        .to_string();
    let assets = req_str_list(&body, "assets")?;
    let batches = req_str_list(&body, "batches")?;
    let mut st = ctx.write();
    let p = st.project_mut(&pid)?;
    let mut ids = Vec::new();
    for b in &batches {
        ids.push(
            p.batch_id(b)
                .ok_or_else(|| ApiError::bad_request(format!("Batch {b} not found")))?,
        );
    }
    let mut idx = Vec::new();
    for a in &assets {
        match p.asset_pos.get(a) {
            Some(&i) if !p.assets[i].deleted => idx.push(i),
            _ => return Err(ApiError::not_found(format!("Asset not found: {a}"))),
        }
    }
    for &i in &idx {
        for b in &ids {
            if !p.assets[i].batches.contains(b) {
                p.assets[i].batches.push(b.clone());
            }
        }
    }
    p.updated_at = now_ms();
    Ok(Response::ok(json!({"assets": idx.len()})))
}
