//! Organization members, invites and notifications.

use serde_json::{Value, json};

use super::{req_str, req_str_list};
use crate::Ctx;
use crate::http::{ApiError, HandlerResult, Request, Response};
use crate::state::{Member, State};
use crate::util::{iso, now_ms, object_id};

fn check_org(st: &State, oid: &str) -> Result<(), ApiError> {
    if st.org_id == oid {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "Organization not found: {oid}"
        )))
    }
}

fn role(r: &str) -> Result<&'static str, ApiError> {
    ["admin", "member", "guest"]
        .into_iter()
        .find(|x| x.eq_ignore_ascii_case(r))
        .ok_or_else(|| ApiError::bad_request(format!("Invalid organizationRole {r}")))
}

fn member_json(m: &Member) -> Value {
    json!({"_id": m.id, "email": m.email, "name": m.name, "organizationRole": m.role, "createdAt": iso(m.created_at)})
}

pub(super) fn get(ctx: &Ctx, oid: &str) -> HandlerResult {
    let st = ctx.read();
    check_org(&st, oid)?;
    Ok(Response::ok(json!({"organization": st.org_json()})))
}

pub(super) fn users(ctx: &Ctx, oid: &str) -> HandlerResult {
    let st = ctx.read();
    check_org(&st, oid)?;
    let users: Vec<Value> = st.members.iter().map(member_json).collect();
    Ok(Response::ok(json!({"users": users, "total": users.len()})))
}

pub(super) fn update_roles(ctx: &Ctx, req: &Request, oid: &str) -> HandlerResult {
    let body = req.json_object()?;
    let list = body
        .get("users")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("'users' must be a list"))?;
    let mut changes = Vec::new();
    for (i, u) in list.iter().enumerate() {
        let email = u
            .get("email")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty());
        let r = u.get("organizationRole").and_then(Value::as_str);
        match (email, r) {
            (Some(e), Some(r)) => changes.push((e.to_string(), role(r)?)),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "users[{i}] needs email and organizationRole"
                )));
            }
        }
    }
    let mut st = ctx.write();
    check_org(&st, oid)?;
    let admin = st.admin_email.clone();
    let (mut updated, mut failed, mut results) = (0, 0, Vec::new());
    for (email, r) in changes {
        let found = st
            .members
            .iter_mut()
            .find(|m| m.email.eq_ignore_ascii_case(&email));
        match found {
            Some(m) if !m.email.eq_ignore_ascii_case(&admin) => {
                m.role = r.to_string();
                updated += 1;
                results.push(json!({"email": email, "status": "updated"}));
            }
            Some(_) => {
                failed += 1;
                results.push(
                    json!({"email": email, "status": "failed", "reason": "cannot change own role"}),
                );
            }
            None => {
                failed += 1;
                results.push(json!({"email": email, "status": "failed", "reason": "not a member"}));
            }
        }
    }
    Ok(Response::ok(
        json!({"users": {"updated": updated, "failed": failed, "results": results}}),
    ))
}

pub(super) fn delete_users(ctx: &Ctx, req: &Request, oid: &str) -> HandlerResult {
    let body = req.json_object()?;
    let emails = req_str_list(&body, "users")?;
    let mut st = ctx.write();
    check_org(&st, oid)?;
    let admin = st.admin_email.clone();
    let (mut deleted, mut failed) = (0, 0);
    for e in emails {
        if e.eq_ignore_ascii_case(&admin) {
            failed += 1;
            continue;
        }
        let before = st.members.len();
        st.members.retain(|m| !m.email.eq_ignore_ascii_case(&e));
        if st.members.len() < before {
            deleted += 1;
        } else {
            failed += 1;
        }
    }
    Ok(Response::ok(json!({"deleted": deleted, "failed": failed})))
}

pub(super) fn invites(ctx: &Ctx, req: &Request, oid: &str) -> HandlerResult {
    let st = ctx.read();
    check_org(&st, oid)?;
    let status = req.query.get_nonempty("status");
    let list: Vec<Value> = st
        .invites
        .iter()
        .filter(|i| {
            status.is_none_or(|s| {
                i.get("status")
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(s))
            })
        })
        .cloned()
        .collect();
    Ok(Response::ok(json!({"invites": list})))
}

pub(super) fn invite(ctx: &Ctx, req: &Request, oid: &str) -> HandlerResult {
    let body = req.json_object()?;
    let to = req_str_list(&body, "to")?;
    if to.is_empty() || to.iter().any(|e| !e.contains('@')) {
        return Err(ApiError::bad_request(
            "'to' must be a non-empty list of emails",
        ));
    }
    let r = role(req_str(&body, "organizationRole")?)?;
    let assignments = body
        .get("projectAssignments")
        .cloned()
        .unwrap_or_else(|| json!([]));
    if !assignments.is_array() {
        return Err(ApiError::bad_request("'projectAssignments' must be a list"));
    }
    let mut st = ctx.write();
    check_org(&st, oid)?;
    let now = now_ms();
    let by = st.admin_email.clone();
    let mut created = Vec::new();
    for email in to {
        st.invites
            .retain(|i| i.get("to").and_then(Value::as_str) != Some(email.as_str()));
        let inv = json!({
            "_id": object_id(), "to": email, "organizationRole": r, "status": "Pending",
            "projectAssignments": assignments, "createdBy": by,
            "createdAt": iso(now), "expiresAt": iso(now + 7 * 86_400_000),
        });
        st.invites.push(inv.clone());
        created.push(inv);
    }
    Ok(Response::created(json!({"invites": created})))
}

pub(super) fn delete_invites(ctx: &Ctx, req: &Request, oid: &str) -> HandlerResult {
    let body = req.json_object()?;
    let emails = req_str_list(&body, "invites")?;
    let mut st = ctx.write();
    check_org(&st, oid)?;
    let (mut deleted, mut failed) = (0, 0);
    for e in emails {
        let before = st.invites.len();
        st.invites.retain(|i| {
            i.get("to").and_then(Value::as_str) != Some(e.as_str())
                && i.get("_id").and_then(Value::as_str) != Some(e.as_str())
        });
        if st.invites.len() < before {
            deleted += 1;
        } else {
            failed += 1;
        }
    }
    Ok(Response::ok(json!({"deleted": deleted, "failed": failed})))
}

pub(super) fn notify(ctx: &Ctx, req: &Request) -> HandlerResult {
    let body = req.json_object()?;
    let receivers = req_str_list(&body, "receivers")?;
    if receivers.is_empty() || receivers.len() > 100 {
        return Err(ApiError::bad_request(
            "'receivers' must have 1 to 100 emails",
        ));
    }
    let message = req_str(&body, "message")?.to_string();
    if message.chars().count() > 1000 {
        return Err(ApiError::bad_request(
            "'message' must be at most 1000 characters",
        ));
    }
    if let Some(t) = body.get("title").filter(|v| !v.is_null())
        && t.as_str().is_none_or(|s| s.chars().count() > 200)
    {
        return Err(ApiError::bad_request(
            "'title' must be a string of at most 200 characters",
        ));
    }
    if let Some(l) = body.get("clickableLink").filter(|v| !v.is_null()) {
        let ok = l.as_str().is_some_and(|s| {
            (s.starts_with("http://") || s.starts_with("https://"))
                && s.len() <= 2048
                && s.len() > 8
        });
        if !ok {
            return Err(ApiError::bad_request(
                "'clickableLink' must be an absolute http(s) URL",
            ));
        }
    }
    let mut st = ctx.write();
    if let Some(bad) = receivers.iter().find(|r| !st.is_member(r)) {
        return Err(ApiError::bad_request(format!(
            "Receiver is not an organization member: {bad}"
        )));
    }
    let n = json!({
        "_id": object_id(), "receivers": receivers, "message": message,
        "title": body.get("title"), "clickableLink": body.get("clickableLink"),
        "createdBy": st.admin_email, "createdAt": iso(now_ms()),
    });
    st.notifications.push(n.clone());
    Ok(Response::ok(
        json!({"notification": n, "sent": receivers.len()}),
    ))
}
