//! LLM configuration endpoints.

use serde_json::{Value, json};

use super::req_str;
use crate::Ctx;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::util::{iso, now_ms, object_id};

pub(super) fn list(ctx: &Ctx, req: &Request) -> HandlerResult {
    let st = ctx.read();
    let want = req.query.get_nonempty("_id");
    let list: Vec<Value> = st
        .llms
        .iter()
        .filter(|s| want.is_none_or(|w| s.get("_id").and_then(Value::as_str) == Some(w)))
        .cloned()
        .collect();
    Ok(Response::ok(json!({"llms": list})))
}

pub(super) fn create(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json_object()?;
    let name = req_str(&body, "name")?.to_string();
    let provider = req_str(&body, "provider")?.to_ascii_lowercase();
    if !["openai", "openrouter"].contains(&provider.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Invalid provider {provider}; expected openai or openrouter"
        )));
    }
    let model = req_str(&body, "model")?.to_string();
    let conf = body
        .get("configuration")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut st = ctx.write();
    let llm = json!({
        "_id": object_id(),
        "name": name,
        "provider": provider,
        "model": model,
        "isStreamable": crate::util::json_truthy(body.get("isStreamable")),
        "configuration": {"baseUrl": conf.get("baseUrl").cloned().unwrap_or(Value::Null), "hasApiKey": conf.contains_key("apiKey")},
        "organization": st.org_id,
        "createdAt": iso(now_ms()),
    });
    st.llms.push(llm.clone());
    Ok(Response::created(json!({"llm": llm})))
}

pub(super) fn delete(ctx: &Ctx, id: &str) -> HandlerResult {
    let mut st = ctx.write();
    let i = st
        .llms
        .iter()
        .position(|s| s.get("_id").and_then(Value::as_str) == Some(id))
        .ok_or_else(|| ApiError::not_found(format!("LLM config not found: {id}")))?;
    let l = st.llms.remove(i);
    Ok(Response::ok(json!({"llm": l})))
}
