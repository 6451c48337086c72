//! Storage integrations and the storage file browser.

use serde_json::{Value, json};

use super::req_str;
use crate::Ctx;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::util::{iso, now_ms, object_id};

pub(super) fn list(ctx: &Ctx, req: &Request) -> HandlerResult {
    let st = ctx.read();
    let want = req.query.get_nonempty("_id");
    let list: Vec<Value> = st
        .storages
        .iter()
        .filter(|s| want.is_none_or(|w| s.get("_id").and_then(Value::as_str) == Some(w)))
        .cloned()
        .collect();
    Ok(Response::ok(json!({"storages": list})))
}

pub(super) fn create(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json_object()?;
    let name = req_str(&body, "name")?.to_string();
    let provider_in = req_str(&body, "provider")?;
    let (provider, kind) = match provider_in.to_ascii_uppercase().as_str() {
        "AWS" | "S3" => ("AWS", "aws"),
        "GCP" | "GCS" => ("GCP", "gcs"),
        "AZURE" => ("AZURE", "azure"),
        _ => {
            return Err(ApiError::bad_request(format!(
                "Invalid provider {provider_in}; expected AWS, GCP or AZURE"
            )));
        }
    };
    let region = body
        .get("region")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        .unwrap_or("eu-central-1");
    let mut st = ctx.write();
    let storage = json!({
        "_id": object_id(),
        "name": name,
        "provider": provider,
        "type": kind,
        "region": region,
        "bucket": body.get("bucket").cloned().unwrap_or(Value::Null),
        "publicKey": body.get("publicKey").cloned().unwrap_or(Value::Null),
        "organization": st.org_id,
        "createdAt": iso(now_ms()),
    });
    st.storages.push(storage.clone());
    Ok(Response::created(json!({"storage": storage})))
}

pub(super) fn delete(ctx: &Ctx, id: &str) -> HandlerResult {
    let mut st = ctx.write();
    let i = st
        .storages
        .iter()
        .position(|s| s.get("_id").and_then(Value::as_str) == Some(id))
        .ok_or_else(|| ApiError::not_found(format!("Storage not found: {id}")))?;
    let s = st.storages.remove(i);
    Ok(Response::ok(json!({"storage": s})))
}

/// Files "in" a storage: entries of the emulator's object store under `storage/<id>/<bucket>/`.
pub(super) fn files(ctx: &Ctx, req: &Request, id: &str) -> HandlerResult {
    if !ctx
        .read()
        .storages
        .iter()
        .any(|s| s.get("_id").and_then(Value::as_str) == Some(id))
    {
        return Err(ApiError::not_found(format!("Storage not found: {id}")));
    }
    let bucket = req.query.get("bucketName").unwrap_or_default();
    let path = req
        .query
        .get_greedy("path", &["bucketName", "getSignedUrls", "retryOnSlowDown"])
        .unwrap_or_default();
    let signed = req.query.get_bool("getSignedUrls").unwrap_or(false);
    let prefix = format!("storage/{id}/{bucket}/{}", path.trim_start_matches('/'));
    let files = ctx.files.read().unwrap_or_else(|e| e.into_inner());
    let mut keys: Vec<(&String, usize)> = files
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(k, v)| (k, v.len()))
        .collect();
    keys.sort();
    let base = format!("storage/{id}/{bucket}/");
    let list: Vec<Value> = keys
        .into_iter()
        .map(|(k, size)| {
            let rel = k.strip_prefix(&base).unwrap_or(k);
            let mut v =
                json!({"key": rel, "name": rel.rsplit('/').next().unwrap_or(rel), "size": size});
            if signed && let Some(m) = v.as_object_mut() {
                m.insert("signedUrl".into(), json!(ctx.file_url(k)));
            }
            v
        })
        .collect();
    Ok(Response::ok(
        json!({"files": list, "bucket": bucket, "path": path}),
    ))
}

pub(super) fn file_explorer(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json_object()?;
    if let Some(sid) = body.get("storageId").and_then(Value::as_str)
        && !sid.is_empty()
        && !ctx
            .read()
            .storages
            .iter()
            .any(|s| s.get("_id").and_then(Value::as_str) == Some(sid))
    {
        return Err(ApiError::not_found(format!("Storage not found: {sid}")));
    }
    Ok(Response::ok(
        json!({"files": [], "folders": [], "request": body}),
    ))
}
