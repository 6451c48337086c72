//! Organization: members, invitations, roles, notifications and LLM configurations.

mod support;

use ango_core::models::{
    Invitation, Llm, LlmProvider, OrganizationRole, ProjectAssignment, ProjectRole, RoleUpdate,
};
use serde_json::json;
use support::{Recorder, Reply};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn get_organization_members() {
    let server = Recorder::start();
    server
        .client()
        .raw()
        .get_organization_members("o1")
        .unwrap();
    server
        .only()
        .assert_call("GET", "/v2/organization/o1/users", &[], "");
}

#[test]
fn delete_organization_members_sends_emails_in_a_delete_body() {
    let server = Recorder::start();
    server
        .client()
        .delete_organization_members("o1", &strings(&["a@b.com", "c@d.com"]))
        .unwrap();
    server.only().assert_call(
        "DELETE",
        "/v2/organization/o1/users",
        &[],
        r#"{"users": ["a@b.com", "c@d.com"]}"#,
    );
}

#[test]
fn get_organization_invites_asks_for_pending_ones() {
    let server = Recorder::start();
    server
        .client()
        .raw()
        .get_organization_invites("o1")
        .unwrap();
    server.only().assert_call(
        "GET",
        "/v2/organization/o1/invites",
        &[("status", "pending")],
        "",
    );
}

#[test]
fn delete_organization_invites_sends_emails_in_a_delete_body() {
    let server = Recorder::start();
    server
        .client()
        .delete_organization_invites("o1", &strings(&["a@b.com"]))
        .unwrap();
    server.only().assert_call(
        "DELETE",
        "/v2/organization/o1/invites",
        &[],
        r#"{"invites": ["a@b.com"]}"#,
    );
}

#[test]
fn send_notification_with_and_without_optional_fields() {
    let server = Recorder::start();
    let client = server.client();
    client
        .send_notification(&strings(&["a@b"]), "m é", Some("t"), Some("https://x"))
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/notifications",
        &[],
        r#"{"receivers": ["a@b"], "message": "m \u00e9", "title": "t", "clickableLink": "https://x"}"#,
    );
    client
        .send_notification(&strings(&["a@b"]), "m", None, None)
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/notifications",
        &[],
        r#"{"receivers": ["a@b"], "message": "m"}"#,
    );
}

fn llms_reply() -> Reply {
    Reply::json(json!({"status": "success", "data": {"llms": [
        {"_id": "l1", "name": "one"},
        {"_id": "l2", "name": "two"}
    ]}}))
}

#[test]
fn get_llms_without_id_returns_the_whole_response() {
    let server = Recorder::start();
    server.push(llms_reply());
    let all = server.client().raw().get_llms(None).unwrap();
    assert_eq!(all["data"]["llms"][1]["_id"], "l2");
    server.only().assert_call("GET", "/v2/llms", &[], "");
}

#[test]
fn get_llms_with_id_selects_the_match_or_returns_everything() {
    let server = Recorder::start();
    let client = server.client();
    server.push(llms_reply());
    assert_eq!(
        client.raw().get_llms(Some("l1")).unwrap(),
        json!({"_id": "l1", "name": "one"})
    );
    server
        .last()
        .assert_call("GET", "/v2/llms", &[("_id", "l1")], "");
    server.push(llms_reply());
    let unmatched = client.raw().get_llms(Some("zz")).unwrap();
    assert_eq!(unmatched["data"]["llms"].as_array().unwrap().len(), 2);
}

#[test]
fn delete_llm_uses_delete() {
    let server = Recorder::start();
    server.client().delete_llm("l1").unwrap();
    server.only().assert_call("DELETE", "/v2/llms/l1", &[], "");
}

#[test]
fn update_organization_members_role_posts_each_update() {
    let server = Recorder::start();
    let updates = [
        RoleUpdate {
            email: "a@b".into(),
            organization_role: OrganizationRole::Member,
        },
        RoleUpdate {
            email: "c@d".into(),
            organization_role: OrganizationRole::Admin,
        },
    ];
    server
        .client()
        .update_organization_members_role("o1", &updates)
        .unwrap();
    server.only().assert_call(
        "POST",
        "/v2/organization/o1/users",
        &[],
        r#"{"users": [{"email": "a@b", "organizationRole": "member"}, {"email": "c@d", "organizationRole": "admin"}]}"#,
    );
}

#[test]
fn invite_members_to_org_with_and_without_project_assignments() {
    let server = Recorder::start();
    let client = server.client();
    let invitation = Invitation {
        to: strings(&["a@b"]),
        organization_role: OrganizationRole::Admin,
        project_assignments: Some(vec![ProjectAssignment {
            project_id: "p1".into(),
            project_role: ProjectRole::Labeler,
        }]),
    };
    client.invite_members_to_org("o1", &invitation).unwrap();
    server.last().assert_call(
        "POST",
        "/v2/organization/o1/invites",
        &[],
        r#"{"to": ["a@b"], "organizationRole": "admin", "projectAssignments": [{"projectId": "p1", "projectRole": "Labeler"}]}"#,
    );
    let plain = Invitation {
        project_assignments: None,
        ..invitation
    };
    client.invite_members_to_org("o1", &plain).unwrap();
    assert_eq!(
        server.last().body_text(),
        r#"{"to": ["a@b"], "organizationRole": "admin"}"#
    );
}

#[test]
fn create_llm_posts_the_official_body() {
    let server = Recorder::start();
    let llm = Llm {
        name: "n".into(),
        provider: LlmProvider::OpenAi,
        model: "gpt".into(),
        api_key: "key".into(),
        base_url: Some("https://b".into()),
        is_streamable: true,
    };
    server.client().raw().create_llm(&llm).unwrap();
    server.only().assert_call(
        "POST",
        "/v2/llms/",
        &[],
        r#"{"name": "n", "provider": "openai", "model": "gpt", "isStreamable": true, "configuration": {"apiKey": "key", "baseUrl": "https://b"}}"#,
    );
}

#[test]
fn creating_posts_are_not_retried_but_role_updates_are() {
    let server = Recorder::start();
    let client = ango_core::Client::builder("test-key")
        .host(&server.url)
        .max_retries(1)
        .build()
        .unwrap();
    server.push(Reply::status(502, "bad gateway"));
    assert!(
        client
            .send_notification(&strings(&["a@b"]), "m", None, None)
            .is_err()
    );
    assert_eq!(server.requests().len(), 1);
    server.clear();
    server.push(Reply::status(502, "bad gateway"));
    let updates = [RoleUpdate {
        email: "a@b".into(),
        organization_role: OrganizationRole::Member,
    }];
    client
        .update_organization_members_role("o1", &updates)
        .unwrap();
    assert_eq!(server.requests().len(), 2);
}
