//! Request dispatch: fault injection, authentication and routing.

mod admin;
mod assets;
mod batches;
mod export;
mod files;
mod issues;
mod llm;
mod misc;
mod organization;
mod projects;
mod storage;
mod tasks;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use serde_json::{Value, json};

use crate::faults::Fault;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::server::Outcome;
use crate::{Ctx, LoggedRequest};

const LOG_CAPACITY: usize = 1000;

/// Entry point for every HTTP request.
pub(crate) fn handle(ctx: &Ctx, req: Request) -> Outcome {
    if req.path == "/socket.io" {
        return crate::plugins::upgrade(&ctx.hub, &req);
    }
    let is_api = req.path == "/v2" || req.path.starts_with("/v2/");
    let (fault, latency) = if is_api {
        ctx.faults.decide()
    } else {
        (Fault::None, 0)
    };
    if latency > 0 {
        std::thread::sleep(Duration::from_millis(latency));
    }
    let method = req.method.clone();
    let path = req.path.clone();
    let (outcome, status, fault_name) = match fault {
        Fault::Drop => (Outcome::Drop, 0, "drop"),
        Fault::TooManyRequests => (
            Outcome::Respond(
                ApiError::new(429, "Too many requests (emulated fault)")
                    .to_response()
                    .with_header("Retry-After", "0"),
            ),
            429,
            "429",
        ),
        Fault::Unavailable => (
            Outcome::Respond(
                ApiError::new(503, "Service unavailable (emulated fault)")
                    .to_response()
                    .with_header("Retry-After", "0"),
            ),
            503,
            "503",
        ),
        Fault::None => {
            let resp = match catch_unwind(AssertUnwindSafe(|| route(ctx, &req))) {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => e.to_response(),
                Err(_) => ApiError::new(500, "Internal emulator error").to_response(),
            };
            let st = resp.status;
            if req.method != "GET" && req.method != "HEAD" {
                // Tasks that entered a Plugin stage go to their plugin.
                let _ = catch_unwind(AssertUnwindSafe(|| crate::plugins::flush_workflow(ctx)));
            }
            (Outcome::Respond(resp), st, "")
        }
    };
    if let Ok(mut log) = ctx.log.lock() {
        log.total += 1;
        if !fault_name.is_empty() {
            log.faulted += 1;
        }
        if log.recent.len() >= LOG_CAPACITY {
            log.recent.pop_front();
        }
        log.recent.push_back(LoggedRequest {
            method,
            path,
            status,
            fault: fault_name,
        });
    }
    outcome
}

fn check_key(ctx: &Ctx, req: &Request) -> Result<(), ApiError> {
    match req.header("apikey") {
        Some(k) if k == ctx.api_key => Ok(()),
        Some(_) => Err(ApiError::new(401, "Invalid API KEY")),
        None => Err(ApiError::new(401, "API key is missing (apikey header)")),
    }
}

fn route(ctx: &Ctx, req: &Request) -> HandlerResult {
    let segs = req.segments();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = req.method.as_str();
    match s.as_slice() {
        [] => return Ok(Response::ok(json!({"name": "ango-emulator", "api": "/v2"}))),
        ["files", rest @ ..] => {
            let key = rest.join("/");
            // The key, or a signature this emulator issued for exactly this file.
            let signed = req
                .query
                .get("signature")
                .is_some_and(|sig| ctx.file_signature_valid(&key, sig));
            if !signed {
                check_key(ctx, req)?;
            }
            return files::serve_file(ctx, req, &key);
        }
        ["__emulator", "health"] => return Ok(Response::ok(json!({"ok": true}))),
        ["__emulator", rest @ ..] => {
            check_key(ctx, req)?;
            return admin::route(ctx, req, rest);
        }
        ["v2", ..] => {}
        _ => {
            return Err(ApiError::not_found(format!(
                "Route not found: {} {}",
                m, req.path
            )));
        }
    }
    check_key(ctx, req)?;
    let m = if m == "HEAD" { "GET" } else { m };
    match (m, &s[1..]) {
        // Projects
        ("GET", ["listProjects"]) => projects::list(ctx, req),
        ("POST", ["project"]) => projects::create(ctx, req),
        ("GET", ["project", id]) => projects::get(ctx, id),
        ("POST", ["project", id]) => projects::update(ctx, req, id),
        ("DELETE", ["project", id]) => projects::delete(ctx, id),
        ("POST", ["project", id, "purge"]) => projects::purge(ctx, req, id),
        ("POST", ["project", id, "clone"]) => projects::clone(ctx, req, id),
        ("POST", ["project", id, "assigned"]) => projects::assign_members(ctx, req, id),
        ("POST", ["project", id, "labelValidation"]) => projects::label_validation(ctx, req, id),
        ("POST", ["project", id, "assetBuilderTemplates"]) => {
            projects::create_template(ctx, req, id)
        }
        ("GET", ["project", id, "assetBuilderTemplates"]) => projects::list_templates(ctx, id),
        ("POST", ["project", id, "instructions"]) => projects::instructions(ctx, req, id),
        ("POST", ["project", id, "rerun-webhook"]) => projects::rerun_webhook(ctx, req, id),
        // Assets
        ("GET", ["project", id, "assets"]) => assets::list(ctx, req, id),
        ("DELETE", ["project", id, "assets"]) => assets::delete(ctx, req, id),
        ("POST", ["project", id, "cloud"]) => assets::cloud_import(ctx, req, id),
        ("POST", ["project", id, "chat"]) => assets::chat(ctx, req, id),
        ("POST", ["attachments"]) => assets::attachments(ctx, req),
        // Batches
        ("POST", ["batches", id]) => batches::create(ctx, req, id),
        ("GET", ["batches", id]) => batches::list(ctx, id),
        ("POST", ["assignBatches"]) => batches::assign(ctx, req),
        // Tasks
        ("GET", ["project", id, "tasks"]) => tasks::list(ctx, req, id),
        ("POST", ["project", id, "requeueTasks"]) => tasks::requeue(ctx, req, id),
        ("POST", ["project", id, "updatePriority"]) => tasks::update_priority(ctx, req, id),
        ("POST", ["project", id, "benchmark-tasks"]) => tasks::benchmark(ctx, req, id),
        ("POST", ["task", "assign"]) => tasks::assign(ctx, req),
        ("GET", ["task", id]) => tasks::get(ctx, id),
        ("GET", ["task", id, "history"]) => tasks::history(ctx, id),
        ("GET", ["taskHistory", id]) => tasks::history_entry(ctx, id),
        ("POST", ["annotate", id]) => tasks::annotate(ctx, req, id),
        ("POST", ["review", id]) => tasks::review(ctx, req, id),
        ("POST", ["import", "labels"]) => tasks::import_labels(ctx, req),
        // Export, analytics
        ("GET", ["export"]) | ("GET", ["exportV3"]) => export::export(ctx, req),
        ("GET", [pid, "overview", metric]) => misc::metric(ctx, pid, metric),
        ("POST", ["performance", pid]) => misc::performance(ctx, req, pid),
        // Files
        ("GET", ["getUploadUrl"]) => files::upload_url(ctx, req),
        ("GET", ["getSignedUrl"]) => files::signed_url(ctx, req),
        // Issues
        ("POST", ["issues"]) => issues::create(ctx, req),
        ("GET", ["issues"]) => issues::list(ctx, req),
        ("GET", ["issues", id]) => issues::get(ctx, id),
        ("POST", ["issues", id]) => issues::update(ctx, req, id),
        ("POST", ["issues", id, "comment"]) => issues::comment(ctx, req, id),
        ("DELETE", ["issues", id]) => issues::delete(ctx, id),
        // Storages
        ("GET", ["storages"]) => storage::list(ctx, req),
        ("POST", ["storages"]) => storage::create(ctx, req),
        ("DELETE", ["storages", id]) => storage::delete(ctx, id),
        ("GET", ["storages", id, "files"]) => storage::files(ctx, req, id),
        ("POST", ["file-explorer"]) => storage::file_explorer(ctx, req),
        // LLMs
        ("GET", ["llms"]) => llm::list(ctx, req),
        ("POST", ["llms"]) => llm::create(ctx, req),
        ("DELETE", ["llms", id]) => llm::delete(ctx, id),
        // Organization
        ("GET", ["organization", oid]) => organization::get(ctx, oid),
        ("GET", ["organization", oid, "users"]) => organization::users(ctx, oid),
        ("POST", ["organization", oid, "users"]) => organization::update_roles(ctx, req, oid),
        ("DELETE", ["organization", oid, "users"]) => organization::delete_users(ctx, req, oid),
        ("GET", ["organization", oid, "invites"]) => organization::invites(ctx, req, oid),
        ("POST", ["organization", oid, "invites"]) => organization::invite(ctx, req, oid),
        ("DELETE", ["organization", oid, "invites"]) => organization::delete_invites(ctx, req, oid),
        ("POST", ["notifications"]) => organization::notify(ctx, req),
        // Plugins
        ("POST", ["pluginLog"]) => misc::plugin_log(ctx, req),
        ("POST", ["pluginResponse"]) => misc::plugin_response(ctx, req),
        _ => Err(ApiError::not_found(format!(
            "Route not found: {} {}",
            req.method, req.path
        ))),
    }
}

/// Required non-empty string field of a JSON object.
pub(crate) fn req_str<'a>(
    body: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<&'a str, ApiError> {
    match body.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(ApiError::bad_request(format!(
            "'{key}' must be a non-empty string"
        ))),
        None => Err(ApiError::bad_request(format!("'{key}' is required"))),
    }
}

/// Optional array of strings (400 if present with another type).
pub(crate) fn opt_str_list(
    body: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(ApiError::bad_request(format!(
                    "'{key}' must be a list of strings"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(ApiError::bad_request(format!(
            "'{key}' must be a list of strings"
        ))),
    }
}

/// Required array of strings.
pub(crate) fn req_str_list(
    body: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<Vec<String>, ApiError> {
    opt_str_list(body, key)?.ok_or_else(|| ApiError::bad_request(format!("'{key}' is required")))
}

/// Paged slice bounds.
pub(crate) fn page_bounds(total: usize, page: usize, limit: usize) -> (usize, usize) {
    let start = (page - 1).saturating_mul(limit).min(total);
    let end = start.saturating_add(limit).min(total);
    (start, end)
}
