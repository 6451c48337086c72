//! Projects: list, read, create, clone, delete, purge, label sets, workflow, benchmark
//! and validation settings, members, metrics, performance, asset-builder templates
//! and webhooks.

mod support;

use ango_core::Error;
use ango_core::models::{
    AssetBuilderTemplate, DataConfigItem, Metrics, ProjectRole, ProjectType, Timestamp,
};
use ango_core::ontology::{
    CategorySchema, Classification, ClassificationCategory, LabelOption, Relation,
    RelationCategory, Tool, ToolCategory,
};
use ango_core::projects::{CloneProjectOptions, UpdateLabelValidationParams};
use serde_json::json;
use support::{Recorder, Reply};

#[test]
fn list_projects_sends_page_and_limit() {
    let server = Recorder::start();
    server.client().raw().list_projects(2, 25).unwrap();
    server.only().assert_call(
        "GET",
        "/v2/listProjects",
        &[("page", "2"), ("limit", "25")],
        "",
    );
}

#[test]
fn get_project() {
    let server = Recorder::start();
    server.client().raw().get_project("p1").unwrap();
    server.only().assert_call("GET", "/v2/project/p1", &[], "");
}

#[test]
fn clone_project_copies_everything_by_default() {
    let server = Recorder::start();
    let client = server.client();
    client
        .clone_project("p1", &CloneProjectOptions::default())
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/project/p1/clone",
        &[],
        r#"{"categorySchema": true, "assignedTo": true, "batches": true, "workflow": true, "pluginPresets": true, "projectGeneralSettings": true}"#,
    );
    let options = CloneProjectOptions {
        batches: false,
        plugin_presets: false,
        ..Default::default()
    };
    client.clone_project("p1", &options).unwrap();
    assert_eq!(
        server.last().body_text(),
        r#"{"categorySchema": true, "assignedTo": true, "batches": false, "workflow": true, "pluginPresets": false, "projectGeneralSettings": true}"#
    );
}

#[test]
fn delete_project_uses_delete() {
    let server = Recorder::start();
    server.client().delete_project("p1").unwrap();
    server
        .only()
        .assert_call("DELETE", "/v2/project/p1", &[], "");
}

#[test]
fn purge_project_sends_the_confirmation_name() {
    let server = Recorder::start();
    server.client().purge_project("p1", "My Project").unwrap();
    server.only().assert_call(
        "POST",
        "/v2/project/p1/purge",
        &[],
        r#"{"confirmName": "My Project"}"#,
    );
}

#[test]
fn update_workflow_stages_posts_the_stage_list() {
    let server = Recorder::start();
    let stages = [
        json!({"id": "Start", "type": "Start", "name": "Start", "position": {"x": 0, "y": 0}, "next": ["Complete"]}),
        json!({"id": "Complete", "type": "Complete", "name": "Complete", "position": {"x": 400, "y": 0}, "next": []}),
    ];
    server
        .client()
        .update_workflow_stages("p1", &stages)
        .unwrap();
    server.only().assert_call(
        "POST",
        "/v2/project/p1",
        &[],
        r#"{"stages": [{"id": "Start", "type": "Start", "name": "Start", "position": {"x": 0, "y": 0}, "next": ["Complete"]}, {"id": "Complete", "type": "Complete", "name": "Complete", "position": {"x": 400, "y": 0}, "next": []}]}"#,
    );
}

#[test]
fn update_benchmark_settings_sends_only_given_fields() {
    let server = Recorder::start();
    let client = server.client();
    client
        .update_benchmark_settings("p1", true, Some(30), Some(false))
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/project/p1",
        &[],
        r#"{"benchmarkEnabled": true, "benchmarkRatio": 30, "benchmarkCutoff": false}"#,
    );
    client
        .update_benchmark_settings("p1", false, None, None)
        .unwrap();
    assert_eq!(server.last().body_text(), r#"{"benchmarkEnabled": false}"#);
}

#[test]
fn update_label_validation_sends_only_given_fields() {
    let server = Recorder::start();
    let client = server.client();
    let params = UpdateLabelValidationParams {
        custom_validation_enabled: Some(true),
        validation_function: Some("return []".into()),
        external_validation: Some(json!({"url": "u"})),
    };
    client.update_label_validation("p1", &params).unwrap();
    server.last().assert_call(
        "POST",
        "/v2/project/p1/labelValidation",
        &[],
        r#"{"customValidationEnabled": true, "validationFunction": "return []", "externalValidation": {"url": "u"}}"#,
    );
    client
        .update_label_validation("p1", &UpdateLabelValidationParams::default())
        .unwrap();
    assert_eq!(server.last().body_text(), "{}");
}

#[test]
fn get_asset_builder_templates_reads_the_project() {
    let server = Recorder::start();
    let client = server.client();
    server.push(Reply::json(
        json!({"status": "success", "data": {"project": {
            "assetBuilderTemplates": [{"_id": "tpl1", "name": "T"}]
        }}}),
    ));
    assert_eq!(
        client.get_asset_builder_templates("p1").unwrap(),
        json!([{"_id": "tpl1", "name": "T"}])
    );
    server.only().assert_call("GET", "/v2/project/p1", &[], "");
    server.push(Reply::json(
        json!({"status": "success", "data": {"project": {}}}),
    ));
    assert_eq!(client.get_asset_builder_templates("p1").unwrap(), json!([]));
}

#[test]
fn rerun_webhook_keeps_the_official_double_slash() {
    let server = Recorder::start();
    server.client().rerun_webhook("p1", "stage-1").unwrap();
    server.only().assert_call(
        "POST",
        "/v2//project/p1/rerun-webhook",
        &[],
        r#"{"stageId": "stage-1"}"#,
    );
}

#[test]
fn set_state_posts_are_retried_and_creating_posts_are_not() {
    let server = Recorder::start();
    let client = ango_core::Client::builder("test-key")
        .host(&server.url)
        .max_retries(1)
        .build()
        .unwrap();
    server.push(Reply::status(502, "bad gateway"));
    client.update_workflow_stages("p1", &[]).unwrap();
    assert_eq!(server.requests().len(), 2);
    server.clear();
    server.push(Reply::status(502, "bad gateway"));
    assert!(
        client
            .raw()
            .clone_project("p1", &CloneProjectOptions::default())
            .is_err()
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn create_project_sends_an_empty_description_when_none_is_given() {
    let server = Recorder::start();
    let client = server.client();
    client
        .create_project("n \u{e9}", None, Some(ProjectType::Pct))
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/project",
        &[],
        r#"{"name": "n \u00e9", "description": "", "type": "pct"}"#,
    );
    client.create_project("n", Some("d"), None).unwrap();
    server.last().assert_call(
        "POST",
        "/v2/project",
        &[],
        r#"{"name": "n", "description": "d"}"#,
    );
}

#[test]
fn add_members_to_project_posts_assignees_and_role() {
    let server = Recorder::start();
    let members = ["a@b.com".to_string(), "c@d.com".to_string()];
    server
        .client()
        .add_members_to_project("p1", &members, ProjectRole::Reviewer)
        .unwrap();
    server.only().assert_call(
        "POST",
        "/v2/project/p1/assigned",
        &[],
        r#"{"assignees": ["a@b.com", "c@d.com"], "role": "Reviewer"}"#,
    );
}

#[test]
fn get_metrics_puts_the_metric_in_the_path() {
    let server = Recorder::start();
    let client = server.client();
    for metric in Metrics::ALL {
        client.get_metrics("p1", *metric).unwrap();
        server.last().assert_call(
            "GET",
            &format!("/v2/p1/overview/{}", metric.as_str()),
            &[],
            "",
        );
    }
    assert_eq!(server.requests()[1].path, "/v2/p1/overview/TimePerTask");
}

#[test]
fn get_project_performance_without_options_posts_an_empty_object() {
    let server = Recorder::start();
    server
        .client()
        .get_project_performance("p1", None, None)
        .unwrap();
    server
        .only()
        .assert_call("POST", "/v2/performance/p1", &[], "{}");
}

#[test]
fn get_project_performance_sends_microsecond_interval_and_resolved_batch_ids() {
    let server = Recorder::start();
    server.push(Reply::json(
        json!({"status": "success", "data": {"project": {
            "batches": [{"_id": "b1", "name": "one"}, {"_id": "b2", "name": "two"}]
        }}}),
    ));
    let start = Timestamp::new(2024, 1, 2, 3, 4, 5, 6).unwrap();
    let end = Timestamp::new(2024, 2, 1, 0, 0, 0, 0).unwrap();
    let batches = ["two".to_string(), "b1".to_string()];
    server
        .client()
        .get_project_performance("p1", Some((start, end)), Some(&batches))
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    requests[0].assert_call("GET", "/v2/project/p1", &[], "");
    requests[1].assert_call(
        "POST",
        "/v2/performance/p1",
        &[],
        r#"{"interval": ["2024-01-02T03:04:05.000006Z", "2024-02-01T00:00:00.000000Z"], "batches": ["b2", "b1"]}"#,
    );
}

#[test]
fn get_project_performance_with_an_unknown_batch_fails_before_the_request() {
    let server = Recorder::start();
    server.push(Reply::json(
        json!({"status": "success", "data": {"project": {
            "batches": [{"_id": "b1", "name": "one"}]
        }}}),
    ));
    let err = server
        .client()
        .get_project_performance("p1", None, Some(&["one".to_string(), "nope".to_string()]))
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound(m) if m == "Batch nope not found"),
        "{err:?}"
    );
    assert_eq!(err.code(), "NOT_FOUND");
    server.only().assert_call("GET", "/v2/project/p1", &[], "");
}

#[test]
fn get_project_performance_with_no_batches_skips_resolution() {
    let server = Recorder::start();
    server
        .client()
        .get_project_performance("p1", None, Some(&[]))
        .unwrap();
    server
        .only()
        .assert_call("POST", "/v2/performance/p1", &[], "{}");
}

fn template() -> AssetBuilderTemplate {
    AssetBuilderTemplate {
        name: "T".into(),
        template: "<p>{{c1}}</p>".into(),
        external_id_column: "c1".into(),
        data_config: vec![
            (
                "c1".into(),
                DataConfigItem::new("text", None, true).unwrap(),
            ),
            (
                "img".into(),
                DataConfigItem::new("image", Some("Public".into()), false).unwrap(),
            ),
        ],
        description: "d".into(),
        batch_column: "c1".into(),
        pre_label_config: json!({"x": {"cla": {"schemaId": "1"}, "value": "c1"}})
            .as_object()
            .unwrap()
            .clone(),
    }
}

#[test]
fn create_asset_builder_template_posts_the_official_body() {
    let server = Recorder::start();
    server
        .client()
        .create_asset_builder_template("p1", &template())
        .unwrap();
    server.only().assert_call(
        "POST",
        "/v2/project/p1/assetBuilderTemplates",
        &[],
        r#"{"description": "d", "name": "T", "template": "<p>{{c1}}</p>", "batchColumn": "c1", "selectedExternalId": "c1", "dataConfig": {"c1": {"type": "text", "includeInExport": true}, "img": {"type": "image", "includeInExport": false, "storage": "Public"}}, "preLabelConfig": {"x": {"cla": {"schemaId": "1"}, "value": "c1"}}}"#,
    );
}

#[test]
fn create_asset_builder_template_refuses_an_invalid_template_without_sending() {
    let server = Recorder::start();
    let client = server.client();
    let bad = AssetBuilderTemplate {
        external_id_column: "zz".into(),
        ..template()
    };
    let err = client
        .create_asset_builder_template("p1", &bad)
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.starts_with("Invalid template: ") && m.contains("zz")),
        "{err:?}"
    );
    let unnamed = AssetBuilderTemplate {
        name: String::new(),
        ..template()
    };
    assert!(matches!(
        client.create_asset_builder_template("p1", &unnamed),
        Err(Error::InvalidArgument(_))
    ));
    assert!(server.requests().is_empty());
}

#[test]
fn create_label_set_sends_the_schema_of_the_categories() {
    let server = Recorder::start();
    let schema = CategorySchema {
        tools: vec![ToolCategory::new(Tool::BoundingBox, "Car")],
        classifications: vec![
            ClassificationCategory::new(Classification::Radio, "Q")
                .options(vec![LabelOption::with_schema_id("Yes", "o1")]),
        ],
        relations: vec![RelationCategory::new(Relation::Single, "R")],
    };
    server
        .client()
        .create_label_set("p1", &schema, None)
        .unwrap();
    let expected = format!(
        "{{\"categorySchema\": {}}}",
        ango_core::pyjson::to_string(&schema.to_value())
    );
    server
        .only()
        .assert_call("POST", "/v2/project/p1", &[], &expected);
}

#[test]
fn create_label_set_with_nothing_sends_empty_lists() {
    let server = Recorder::start();
    server
        .client()
        .create_label_set("p1", &CategorySchema::default(), None)
        .unwrap();
    server.only().assert_call(
        "POST",
        "/v2/project/p1",
        &[],
        r#"{"categorySchema": {"tools": [], "classifications": [], "relations": []}}"#,
    );
}

#[test]
fn create_label_set_raw_schema_wins_unless_empty() {
    let server = Recorder::start();
    let client = server.client();
    let schema = CategorySchema {
        tools: vec![ToolCategory::new(Tool::Point, "P")],
        ..Default::default()
    };
    let raw = json!({"tools": [{"schemaId": "s", "tool": "point", "title": "P"}]});
    client.create_label_set("p1", &schema, Some(&raw)).unwrap();
    server.last().assert_call(
        "POST",
        "/v2/project/p1",
        &[],
        r#"{"categorySchema": {"tools": [{"schemaId": "s", "tool": "point", "title": "P"}]}}"#,
    );
    // An empty raw schema is ignored, as Python's `if raw_category_schema:` does.
    client
        .create_label_set("p1", &CategorySchema::default(), Some(&json!({})))
        .unwrap();
    assert_eq!(
        server.last().body_text(),
        r#"{"categorySchema": {"tools": [], "classifications": [], "relations": []}}"#
    );
}

#[test]
fn create_label_set_body_matches_the_official_text() {
    let server = Recorder::start();
    let schema = CategorySchema {
        tools: vec![
            ToolCategory::new(Tool::Segmentation, "S")
                .schema_id("x1")
                .color("#7F67B8"),
        ],
        ..Default::default()
    };
    server
        .client()
        .create_label_set("p1", &schema, None)
        .unwrap();
    server.only().assert_call(
        "POST",
        "/v2/project/p1",
        &[],
        r##"{"categorySchema": {"tools": [{"tool": "segmentation", "title": "S", "required": false, "columnField": false, "color": "#7F67B8", "shortcutKey": "", "classifications": [], "options": [], "schemaId": "x1"}], "classifications": [], "relations": []}}"##,
    );
}
