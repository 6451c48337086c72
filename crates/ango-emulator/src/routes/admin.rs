//! Emulator-only endpoints under `/__emulator` (API key required).

use serde_json::{Value, json};

use crate::Ctx;
use crate::faults::FaultSettings;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::seed::{SeedOptions, seed_project};

pub(super) fn route(ctx: &Ctx, req: &Request, rest: &[&str]) -> HandlerResult {
    match (req.method.as_str(), rest) {
        ("POST", ["seed"]) => seed(ctx, req),
        ("GET", ["requests"]) => requests(ctx, req),
        ("GET", ["faults"]) => Ok(Response::ok(faults_json(ctx.faults.settings()))),
        ("POST", ["faults"]) => set_faults(ctx, req),
        ("GET", ["state"]) => state(ctx),
        (_, ["plugins", more @ ..]) => crate::plugins::route(ctx, req, more),
        _ => Err(ApiError::not_found(format!(
            "Route not found: {} {}",
            req.method, req.path
        ))),
    }
}

fn seed(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json_object()?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("Seeded project")
        .to_string();
    let n = body
        .get("tasks")
        .and_then(Value::as_u64)
        .filter(|n| *n <= 2_000_000)
        .ok_or_else(|| ApiError::bad_request("'tasks' must be an integer in 0..=2000000"))?
        as usize;
    let opts = SeedOptions {
        objects_per_task: body
            .get("objectsPerTask")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(1000) as usize,
        completed: crate::util::json_truthy(body.get("completed")),
    };
    let id = seed_project(ctx, &name, n, &opts);
    Ok(Response::created(json!({"projectId": id, "tasks": n})))
}

fn requests(ctx: &Ctx, req: &Request) -> HandlerResult {
    let limit = req
        .query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(100);
    let log = ctx
        .log
        .lock()
        .map_err(|_| ApiError::new(500, "log unavailable"))?;
    let recent: Vec<Value> = log
        .recent
        .iter()
        .rev()
        .take(limit)
        .map(|r| json!({"method": r.method, "path": r.path, "status": r.status, "fault": r.fault}))
        .collect();
    Ok(Response::ok(
        json!({"total": log.total, "faulted": log.faulted, "recent": recent}),
    ))
}

fn faults_json(s: FaultSettings) -> Value {
    json!({"latencyMs": s.latency_ms, "failRate": s.fail_rate, "dropRate": s.drop_rate})
}

fn set_faults(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json_object()?;
    let cur = ctx.faults.settings();
    let number = |k: &str, d: f64| -> Result<f64, ApiError> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(d),
            Some(v) => v
                .as_f64()
                .ok_or_else(|| ApiError::bad_request(format!("'{k}' must be a number in 0..1"))),
        }
    };
    let s = FaultSettings {
        latency_ms: match body.get("latencyMs") {
            None | Some(Value::Null) => cur.latency_ms,
            Some(v) => v.as_u64().ok_or_else(|| {
                ApiError::bad_request("'latencyMs' must be a non-negative integer")
            })?,
        },
        fail_rate: number("failRate", cur.fail_rate)?,
        drop_rate: number("dropRate", cur.drop_rate)?,
    };
    s.validate().map_err(|e| ApiError::bad_request(e.message))?;
    ctx.faults
        .update(s, body.get("seed").and_then(Value::as_u64));
    Ok(Response::ok(faults_json(ctx.faults.settings())))
}

fn state(ctx: &Ctx) -> HandlerResult {
    let st = ctx.read();
    let projects: Vec<Value> = st
        .projects
        .iter()
        .filter(|p| !p.purged)
        .map(|p| {
            json!({"_id": p.id, "name": p.name, "deleted": p.deleted,
                        "tasks": p.tasks.iter().filter(|t| !t.deleted).count()})
        })
        .collect();
    let files = ctx.files.read().map(|f| f.len()).unwrap_or(0);
    Ok(Response::ok(json!({
        "organization": st.org_json(), "projects": projects, "issues": st.issues.len(),
        "storages": st.storages.len(), "llms": st.llms.len(), "files": files,
        "members": st.members.len(), "invites": st.invites.len(),
    })))
}
