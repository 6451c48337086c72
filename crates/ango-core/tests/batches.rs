//! Batches: listing, creating (one and many), assigning, and name-to-id resolution.

mod support;

use serde_json::json;
use support::{Recorder, Reply};

fn project_with_batches(batches: serde_json::Value) -> Reply {
    Reply::json(
        json!({"status": "success", "data": {"project": {"_id": "p1", "batches": batches}}}),
    )
}

#[test]
fn get_batches_returns_the_project_batch_list() {
    let server = Recorder::start();
    server.push(project_with_batches(json!([{"_id": "b1", "name": "one"}])));
    let batches = server.client().raw().get_batches("p1").unwrap();
    assert_eq!(batches, json!([{"_id": "b1", "name": "one"}]));
    server.only().assert_call("GET", "/v2/project/p1", &[], "");
}

#[test]
fn get_batches_without_data_is_an_empty_list() {
    let server = Recorder::start();
    server.push(Reply::json(json!({"status": "fail"})));
    assert_eq!(server.client().raw().get_batches("p1").unwrap(), json!([]));
    server.push(Reply::json(json!({"status": "success", "data": {}})));
    assert_eq!(server.client().raw().get_batches("p1").unwrap(), json!([]));
}

#[test]
fn create_batch_posts_the_name() {
    let server = Recorder::start();
    server.client().create_batch("p1", "My Batch é").unwrap();
    server.only().assert_call(
        "POST",
        "/v2/batches/p1",
        &[],
        r#"{"name": "My Batch \u00e9"}"#,
    );
}

#[test]
fn create_batches_sends_existing_batches_followed_by_the_new_names() {
    let server = Recorder::start();
    server.push(project_with_batches(
        json!([{"_id": "b1", "name": "old", "color": "#fff"}]),
    ));
    server.push(Reply::json(
        json!({"status": "success", "data": {"project": {}}}),
    ));
    let names = ["old", "new 1", "new é"].map(String::from);
    let result = server.client().create_batches("p1", &names).unwrap();
    assert_eq!(
        result,
        json!({"status": "success", "data": {"project": {}}})
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    requests[0].assert_call("GET", "/v2/project/p1", &[], "");
    requests[1].assert_call(
        "POST",
        "/v2/batches/p1",
        &[],
        r##"{"batches": [{"_id": "b1", "name": "old", "color": "#fff"}, {"name": "new 1"}, {"name": "new \u00e9"}]}"##,
    );
}

#[test]
fn create_batches_with_nothing_new_sends_nothing_and_returns_an_empty_list() {
    let server = Recorder::start();
    server.push(project_with_batches(json!([{"_id": "b1", "name": "old"}])));
    let result = server
        .client()
        .create_batches("p1", &["old".to_string()])
        .unwrap();
    assert_eq!(result, json!([]));
    server.only().assert_call("GET", "/v2/project/p1", &[], "");
}

#[test]
fn create_batches_on_a_project_without_batches_sends_only_new_ones() {
    let server = Recorder::start();
    server.push(Reply::json(
        json!({"status": "success", "data": {"project": {}}}),
    ));
    server
        .client()
        .create_batches("p1", &["a".to_string()])
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/batches/p1",
        &[],
        r#"{"batches": [{"name": "a"}]}"#,
    );
}

#[test]
fn assign_batches_posts_assets_batches_and_project() {
    let server = Recorder::start();
    server
        .client()
        .assign_batches(
            "p1",
            &["a1".to_string(), "a2".to_string()],
            &["b1".to_string()],
        )
        .unwrap();
    server.only().assert_call(
        "POST",
        "/v2/assignBatches",
        &[],
        r#"{"assets": ["a1", "a2"], "batches": ["b1"], "projectId": "p1"}"#,
    );
}

#[test]
fn assign_batches_is_retried_as_it_only_sets_state() {
    let server = Recorder::start();
    server.push(Reply::status(502, "bad gateway"));
    let client = ango_core::Client::builder("test-key")
        .host(&server.url)
        .max_retries(1)
        .build()
        .unwrap();
    client
        .assign_batches("p1", &["a1".to_string()], &["b1".to_string()])
        .unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn create_batch_is_not_retried_after_a_server_error() {
    let server = Recorder::start();
    server.push(Reply::status(502, "bad gateway"));
    let client = ango_core::Client::builder("test-key")
        .host(&server.url)
        .max_retries(1)
        .build()
        .unwrap();
    assert_eq!(
        client.create_batch("p1", "b").unwrap_err().status(),
        Some(502)
    );
    assert_eq!(server.requests().len(), 1);
}
