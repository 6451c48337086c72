//! Metrics, performance and plugin endpoints.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::Ctx;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::util::parse_iso;

pub(super) fn metric(ctx: &Ctx, pid: &str, metric: &str) -> HandlerResult {
    let st = ctx.read();
    let p = st.project(pid)?;
    let live: Vec<usize> = (0..p.tasks.len())
        .filter(|&i| !p.tasks[i].deleted)
        .collect();
    let data = match metric {
        "LabelStageGroups" => {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for &i in &live {
                *counts.entry(p.tasks[i].stage.clone()).or_default() += 1;
            }
            let stages: Vec<Value> = p
                .stages
                .iter()
                .filter_map(|s| s.get("id").and_then(Value::as_str))
                .map(|id| json!({"stageId": id, "name": p.stage_name(id), "count": counts.get(id).copied().unwrap_or(0)}))
                .collect();
            json!(stages)
        }
        "TimePerTask" => {
            let done: Vec<f64> = live
                .iter()
                .map(|&i| p.tasks[i].duration)
                .filter(|d| *d > 0.0)
                .collect();
            let avg = if done.is_empty() {
                0.0
            } else {
                done.iter().sum::<f64>() / done.len() as f64
            };
            json!({"averageDuration": avg, "tasks": done.len()})
        }
        "AnnotationStatus" => {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for &i in &live {
                *counts.entry(p.tasks[i].status.clone()).or_default() += 1;
            }
            json!(counts)
        }
        "AnswerDistribution" => {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for &i in &live {
                for k in ["tools", "classifications", "relations"] {
                    for item in p.tasks[i]
                        .answer
                        .get(k)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(s) = item.get("schemaId").and_then(Value::as_str) {
                            *counts.entry(s.to_string()).or_default() += 1;
                        }
                    }
                }
            }
            json!(counts)
        }
        "ConsensusRanges" => json!([]),
        "AssetSize" => json!({"count": live.len()}),
        other => return Err(ApiError::bad_request(format!("Unknown metric {other}"))),
    };
    Ok(Response::ok(
        json!({"metric": metric, "result": data, metric: data}),
    ))
}

pub(super) fn performance(ctx: &Ctx, req: &Request, pid: &str) -> HandlerResult {
    let body = req.json_object()?;
    let interval = match body.get("interval") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if a.len() == 2 => {
            let parse = |v: &Value| v.as_str().and_then(parse_iso);
            match (parse(&a[0]), parse(&a[1])) {
                (Some(x), Some(y)) => Some((x, y)),
                _ => {
                    return Err(ApiError::bad_request(
                        "'interval' must be two ISO timestamps",
                    ));
                }
            }
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "'interval' must be two ISO timestamps",
            ));
        }
    };
    let batches = super::opt_str_list(&body, "batches")?;
    let st = ctx.read();
    let p = st.project(pid)?;
    let mut users: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for t in p.tasks.iter().filter(|t| !t.deleted) {
        if let Some(b) = &batches
            && !p.assets[t.asset]
                .batches
                .iter()
                .any(|x| b.contains(x) || b.contains(&p.batch_name(x)))
        {
            continue;
        }
        for h in &t.history {
            if interval.is_some_and(|(a, b)| h.completed_at < a || h.completed_at > b) {
                continue;
            }
            let e = users.entry(h.completed_by.clone()).or_default();
            e.0 += 1;
            e.1 += h.duration;
        }
    }
    let list: Vec<Value> = users
        .iter()
        .map(|(u, (n, d))| json!({"user": u, "email": u, "submitted": n, "totalDuration": d}))
        .collect();
    Ok(Response::ok(json!({"performance": {"users": list}})))
}

pub(super) fn plugin_log(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json()?;
    ctx.hub.record_log(&body, None);
    ctx.write().plugin_logs.push(body);
    Ok(Response::ok(json!({})))
}

pub(super) fn plugin_response(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json()?;
    let session = body.get("session").and_then(Value::as_str).unwrap_or("");
    ctx.hub.record_response(session, &body, None);
    ctx.write().plugin_responses.push(body);
    Ok(Response::ok(json!({})))
}
