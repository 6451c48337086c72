//! The emulated object store: signed upload/download URLs on the emulator.

use serde_json::json;

use crate::Ctx;
use crate::http::{ApiError, Body, HandlerResult, Request, Response};

fn content_type(key: &str) -> &'static str {
    let lower = key.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or("");
    match ext {
        "json" => "application/json",
        "ndjson" => "application/x-ndjson",
        "zip" => "application/zip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "tif" | "tiff" => "image/tiff",
        "bmp" => "image/bmp",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "txt" | "md" => "text/plain; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// GET/HEAD/PUT on `/files/<key>` (API key, or a signature issued by the emulator).
pub(super) fn serve_file(ctx: &Ctx, req: &Request, key: &str) -> HandlerResult {
    if key.is_empty() || key.split('/').any(|s| s == "..") {
        return Err(ApiError::not_found("File not found"));
    }
    match req.method.as_str() {
        "GET" | "HEAD" => match ctx.get_file(key) {
            Some(bytes) => Ok(Response::bytes(200, content_type(key), Body::Shared(bytes))),
            None => Err(ApiError::not_found(format!("File not found: {key}"))),
        },
        "PUT" | "POST" => {
            if key.starts_with("exports/") {
                return Err(ApiError::new(403, "Export archives are read-only"));
            }
            let size = req.body.len();
            ctx.put_file(key, req.body.clone());
            Ok(Response::ok(json!({"key": key, "size": size})))
        }
        "DELETE" => {
            let removed = ctx
                .files
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key)
                .is_some();
            if removed {
                Ok(Response::ok(json!({"key": key})))
            } else {
                Err(ApiError::not_found(format!("File not found: {key}")))
            }
        }
        _ => Err(ApiError::new(405, "Method not allowed")),
    }
}

fn clean_segment(s: &str) -> String {
    s.split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect::<Vec<_>>()
        .join("/")
}

pub(super) fn upload_url(ctx: &Ctx, req: &Request) -> HandlerResult {
    let name = req
        .query
        .get_greedy("name", &["project", "type", "storageId"])
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("'name' is required"))?;
    let project = req
        .query
        .get_nonempty("project")
        .ok_or_else(|| ApiError::bad_request("'project' is required"))?;
    let kind = req.query.get_nonempty("type").unwrap_or("assets");
    if ![
        "assets",
        "brushes",
        "medicalBrushes",
        "exports",
        "instructions",
        "attachments",
    ]
    .contains(&kind)
    {
        return Err(ApiError::bad_request(format!("Invalid type {kind}")));
    }
    {
        let st = ctx.read();
        st.project(project)?;
        if let Some(sid) = req.query.get_nonempty("storageId")
            && !st
                .storages
                .iter()
                .any(|s| s.get("_id").and_then(|v| v.as_str()) == Some(sid))
        {
            return Err(ApiError::bad_request(format!("Storage not found: {sid}")));
        }
    }
    let name = clean_segment(&name);
    if name.is_empty() {
        return Err(ApiError::bad_request("'name' is invalid"));
    }
    let key = format!("{}/{}/{}", clean_segment(project), kind, name);
    Ok(Response::ok(json!({"uploadUrl": ctx.file_url(&key)})))
}

pub(super) fn signed_url(ctx: &Ctx, req: &Request) -> HandlerResult {
    let name = req
        .query
        .get_greedy("name", &["project", "type", "storageId"])
        .or_else(|| {
            req.query
                .get_greedy("url", &["project", "type", "storageId"])
        })
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("'name' is required"))?;
    if let Some(project) = req.query.get_nonempty("project") {
        ctx.read().project(project)?;
    }
    let local_prefix = format!("{}/files/", ctx.base_url);
    let signed = if let Some(rest) = name.strip_prefix(&local_prefix) {
        let key = rest.split('?').next().unwrap_or("");
        ctx.file_url(&crate::query::percent_decode(key, false))
    } else if name.starts_with("http://") || name.starts_with("https://") {
        let sep = if name.contains('?') { '&' } else { '?' };
        format!(
            "{name}{sep}X-Emulator-Signature={}",
            &crate::util::hex32()[..16]
        )
    } else {
        // A bare key in the emulator's store.
        ctx.file_url(&clean_segment(&name))
    };
    Ok(Response::ok(json!({"signedUrl": signed})))
}
