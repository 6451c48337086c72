//! Assets: listing with filters, deleting, attachments.

mod support;

use ango_core::assets::GetAssetsParams;
use serde_json::json;
use support::Recorder;

#[test]
fn get_assets_defaults_to_page_1_limit_10_and_empty_filters() {
    let server = Recorder::start();
    server
        .client()
        .raw()
        .get_assets("p1", &GetAssetsParams::default())
        .unwrap();
    server.only().assert_call(
        "GET",
        "/v2/project/p1/assets",
        &[("page", "1"), ("limit", "10"), ("filters", "{}")],
        "",
    );
}

#[test]
fn get_assets_sends_filters_as_python_json() {
    let server = Recorder::start();
    let filters = json!({"externalId": "a b&c é", "isPreLabeled": true, "batches": ["b1", "b2"]});
    let params = GetAssetsParams {
        page: 3,
        limit: 50,
        filters: filters.as_object().unwrap().clone(),
    };
    server.client().raw().get_assets("p1", &params).unwrap();
    server.only().assert_call(
        "GET",
        "/v2/project/p1/assets",
        &[
            ("page", "3"),
            ("limit", "50"),
            (
                "filters",
                r#"{"externalId": "a b&c \u00e9", "isPreLabeled": true, "batches": ["b1", "b2"]}"#,
            ),
        ],
        "",
    );
}

#[test]
fn delete_assets_sends_a_json_body_with_delete() {
    let server = Recorder::start();
    server
        .client()
        .delete_assets("p1", &["a1".to_string(), "a2".to_string()])
        .unwrap();
    server.only().assert_call(
        "DELETE",
        "/v2/project/p1/assets",
        &[],
        r#"{"project": "p1", "assets": ["a1", "a2"]}"#,
    );
}

#[test]
fn create_attachment_posts_project_and_items() {
    let server = Recorder::start();
    let items = [json!({"externalId": "e", "attachments": [{"type": "TEXT", "value": "v"}]})];
    server.client().create_attachment("p1", &items).unwrap();
    server.only().assert_call(
        "POST",
        "/v2/attachments",
        &[],
        r#"{"project": "p1", "attachments": [{"externalId": "e", "attachments": [{"type": "TEXT", "value": "v"}]}]}"#,
    );
}

#[test]
fn path_segments_are_percent_encoded() {
    let server = Recorder::start();
    server
        .client()
        .raw()
        .get_assets("p 1/x", &GetAssetsParams::default())
        .unwrap();
    assert_eq!(server.only().path, "/v2/project/p%201%2Fx/assets");
}
