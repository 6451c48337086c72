//! Issues: create (with every validation rule), list, update, comment, delete.

mod support;

use ango_core::Error;
use ango_core::issues::{CreateIssueParams, GetIssuesParams, UpdateIssueParams};
use serde_json::json;
use support::Recorder;

#[test]
fn create_issue_with_only_content() {
    let server = Recorder::start();
    server
        .client()
        .raw()
        .create_issue("t1", "Check this", &CreateIssueParams::default())
        .unwrap();
    server.only().assert_call(
        "POST",
        "/v2/issues",
        &[],
        r#"{"content": "Check this", "labelTask": "t1"}"#,
    );
}

#[test]
fn create_issue_with_every_location_field_in_official_order() {
    let server = Recorder::start();
    let params = CreateIssueParams {
        content_mentions: Some(vec![json!("u@x.com")]),
        position: Some(json!([1.5, 2])),
        error_codes: Some(vec![json!({"category": "c", "name": "n"})]),
        pct_details: Some(json!({"x": 1})),
        page: Some(2),
        page_end: Some(3),
        data_index: Some(0),
        plane: Some("S".into()),
        ..Default::default()
    };
    server
        .client()
        .raw()
        .create_issue("t1", "c é", &params)
        .unwrap();
    server.only().assert_call(
        "POST",
        "/v2/issues",
        &[],
        r#"{"content": "c \u00e9", "labelTask": "t1", "position": "[1.5, 2]", "contentMentions": ["u@x.com"], "pctDetails": {"x": 1}, "errorCodes": [{"category": "c", "name": "n"}], "page": 2, "pageEnd": 3, "dataIndex": 0, "plane": "S"}"#,
    );
}

#[test]
fn create_issue_renders_positions_like_python_str() {
    let server = Recorder::start();
    let client = server.client();
    for (position, text) in [
        (json!([10, 20]), "[10, 20]"),
        (json!(42), "42"),
        (json!(0.5), "0.5"),
        (json!(1e16), "1e+16"),
        (json!([25.0, 15.0]), "[25.0, 15.0]"),
    ] {
        let params = CreateIssueParams {
            position: Some(position),
            ..Default::default()
        };
        client.create_issue("t1", "c", &params).unwrap();
        assert_eq!(
            server.last().body_text(),
            format!(r#"{{"content": "c", "labelTask": "t1", "position": "{text}"}}"#)
        );
    }
}

#[test]
fn create_issue_on_an_object() {
    let server = Recorder::start();
    let params = CreateIssueParams {
        object_id: Some("o1".into()),
        position: Some(serde_json::Value::Null),
        ..Default::default()
    };
    server
        .client()
        .raw()
        .create_issue("t1", "c", &params)
        .unwrap();
    server.only().assert_call(
        "POST",
        "/v2/issues",
        &[],
        r#"{"content": "c", "labelTask": "t1", "objectId": "o1"}"#,
    );
}

#[test]
fn create_issue_refuses_bad_arguments_before_sending_anything() {
    let server = Recorder::start();
    let client = server.client();
    let object = || CreateIssueParams {
        object_id: Some("o1".into()),
        ..Default::default()
    };
    let bad = [
        CreateIssueParams {
            position: Some(json!([1, 2])),
            ..object()
        },
        CreateIssueParams {
            page: Some(0),
            ..object()
        },
        CreateIssueParams {
            page: Some(0),
            page_end: Some(1),
            ..object()
        },
        CreateIssueParams {
            data_index: Some(0),
            ..object()
        },
        CreateIssueParams {
            plane: Some("A".into()),
            ..object()
        },
        CreateIssueParams {
            page: Some(-1),
            ..Default::default()
        },
        CreateIssueParams {
            page: Some(0),
            page_end: Some(-1),
            ..Default::default()
        },
        CreateIssueParams {
            page_end: Some(2),
            ..Default::default()
        },
        CreateIssueParams {
            data_index: Some(-3),
            ..Default::default()
        },
        CreateIssueParams {
            plane: Some("X".into()),
            ..Default::default()
        },
        CreateIssueParams {
            plane: Some("axial".into()),
            ..Default::default()
        },
    ];
    for params in &bad {
        let err = client.raw().create_issue("t1", "c", params).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(_)),
            "{params:?} gave {err:?}"
        );
        assert_eq!(err.code(), "INVALID_ARGUMENT");
    }
    assert!(server.requests().is_empty());
}

#[test]
fn create_issue_accepts_edge_values() {
    let server = Recorder::start();
    let params = CreateIssueParams {
        page: Some(0),
        page_end: Some(0),
        data_index: Some(0),
        plane: Some("C".into()),
        ..Default::default()
    };
    server
        .client()
        .raw()
        .create_issue("t1", "c", &params)
        .unwrap();
    assert_eq!(
        server.only().body_text(),
        r#"{"content": "c", "labelTask": "t1", "page": 0, "pageEnd": 0, "dataIndex": 0, "plane": "C"}"#
    );
}

#[test]
fn get_issues_with_and_without_filters() {
    let server = Recorder::start();
    let client = server.client();
    client
        .get_issues("p1", &GetIssuesParams::default())
        .unwrap();
    server
        .last()
        .assert_call("GET", "/v2/issues", &[("project", "p1")], "");
    let params = GetIssuesParams {
        asset_id: Some("a".into()),
        task_id: Some("t".into()),
        stage_id: Some("s".into()),
        created_by: Some("u+1@x.com".into()),
    };
    client.get_issues("p1", &params).unwrap();
    server.last().assert_call(
        "GET",
        "/v2/issues",
        &[
            ("project", "p1"),
            ("asset", "a"),
            ("labelTask", "t"),
            ("stage", "s"),
            ("createdBy", "u+1@x.com"),
        ],
        "",
    );
}

#[test]
fn update_issue_sends_mentions_only_with_content() {
    let server = Recorder::start();
    let client = server.client();
    let params = UpdateIssueParams {
        content_mentions: Some(vec![json!("x")]),
        status: Some("Resolved".into()),
        pct_details: Some(json!({})),
        error_codes: Some(vec![]),
        ..Default::default()
    };
    client.update_issue("i1", &params).unwrap();
    server.last().assert_call(
        "POST",
        "/v2/issues/i1",
        &[],
        r#"{"status": "Resolved", "pctDetails": {}, "errorCodes": []}"#,
    );
    let params = UpdateIssueParams {
        content: Some("new".into()),
        content_mentions: Some(vec![json!("x")]),
        ..Default::default()
    };
    client.update_issue("i1", &params).unwrap();
    server.last().assert_call(
        "POST",
        "/v2/issues/i1",
        &[],
        r#"{"content": "new", "contentMentions": ["x"]}"#,
    );
    client
        .update_issue("i1", &UpdateIssueParams::default())
        .unwrap();
    server
        .last()
        .assert_call("POST", "/v2/issues/i1", &[], "{}");
}

#[test]
fn add_comment_to_issue_with_and_without_mentions() {
    let server = Recorder::start();
    let client = server.client();
    client
        .add_comment_to_issue("i1", "hi", Some(&[json!("a@b")]))
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/issues/i1/comment",
        &[],
        r#"{"content": "hi", "contentMentions": ["a@b"]}"#,
    );
    client.add_comment_to_issue("i1", "hi", None).unwrap();
    server
        .last()
        .assert_call("POST", "/v2/issues/i1/comment", &[], r#"{"content": "hi"}"#);
}

#[test]
fn delete_issue_names_the_project_in_the_query() {
    let server = Recorder::start();
    server.client().delete_issue("p1", "i1").unwrap();
    server
        .only()
        .assert_call("DELETE", "/v2/issues/i1", &[("project", "p1")], "");
}
