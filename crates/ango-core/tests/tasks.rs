//! Tasks: reading, history, assignment, annotation (with the merge rule), review,
//! requeue, priority, benchmarks, label import and the plugin callbacks.

mod support;

use ango_core::models::{
    AnnotationPayload, Answer, DateRange, NumberRange, ReviewStatus, StageFilter, StringFilter,
    TaskFilter, TextFilter, Timestamp,
};
use ango_core::tasks::{AnnotateOptions, GetTasksParams, RequeueTasksParams};
use serde_json::{Map, Value, json};
use support::{Recorder, Reply};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn get_task_sends_include_answer_capitalised_like_python() {
    let server = Recorder::start();
    let client = server.client();
    client.get_task("t1", true).unwrap();
    server
        .last()
        .assert_call("GET", "/v2/task/t1", &[("includeAnswer", "True")], "");
    client.get_task("t1", false).unwrap();
    server
        .last()
        .assert_call("GET", "/v2/task/t1", &[("includeAnswer", "False")], "");
}

#[test]
fn get_task_history_by_history_id_or_task_id() {
    let server = Recorder::start();
    let client = server.client();
    client.get_task_history(Some("h1"), Some("t1")).unwrap();
    server
        .last()
        .assert_call("GET", "/v2/taskHistory/h1", &[], "");
    client.get_task_history(None, Some("t1")).unwrap();
    server
        .last()
        .assert_call("GET", "/v2/task/t1/history", &[], "");
    client.get_task_history(Some(""), Some("t2")).unwrap();
    server
        .last()
        .assert_call("GET", "/v2/task/t2/history", &[], "");
}

#[test]
fn get_task_history_without_ids_sends_nothing() {
    let server = Recorder::start();
    let client = server.client();
    assert_eq!(client.get_task_history(None, None).unwrap(), json!({}));
    assert_eq!(
        client.get_task_history(Some(""), Some("")).unwrap(),
        json!({})
    );
    assert!(server.requests().is_empty());
}

#[test]
fn assign_task_posts_project_tasks_user_and_stage() {
    let server = Recorder::start();
    server
        .client()
        .assign_task("p1", &strings(&["t1", "t2"]), "Label", "a@b.com")
        .unwrap();
    server.only().assert_call(
        "POST",
        "/v2/task/assign",
        &[],
        r#"{"project": "p1", "tasks": ["t1", "t2"], "user": "a@b.com", "stage": "Label"}"#,
    );
}

#[test]
fn import_labels_posts_json_content() {
    let server = Recorder::start();
    let labels = [
        json!({"externalId": "img.jpg", "objects": [], "classifications": [{"schemaId": "s", "answer": "é"}]}),
    ];
    server.client().import_labels("p1", &labels).unwrap();
    server.only().assert_call(
        "POST",
        "/v2/import/labels",
        &[],
        r#"{"project": "p1", "jsonContent": [{"externalId": "img.jpg", "objects": [], "classifications": [{"schemaId": "s", "answer": "\u00e9"}]}]}"#,
    );
}

#[test]
fn requeue_tasks_defaults_to_empty_filters_and_options() {
    let server = Recorder::start();
    let client = server.client();
    client
        .requeue_tasks("p1", "st", &RequeueTasksParams::default())
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/project/p1/requeueTasks",
        &[],
        r#"{"toStageId": "st", "filters": {}, "options": {}}"#,
    );
    let params = RequeueTasksParams {
        filters: json!({"taskIds": ["t1"], "fromStageIds": ["s0"]})
            .as_object()
            .unwrap()
            .clone(),
        options: json!({"removeAnnotations": true})
            .as_object()
            .unwrap()
            .clone(),
    };
    client.requeue_tasks("p1", "st", &params).unwrap();
    server.last().assert_call(
        "POST",
        "/v2/project/p1/requeueTasks",
        &[],
        r#"{"toStageId": "st", "filters": {"taskIds": ["t1"], "fromStageIds": ["s0"]}, "options": {"removeAnnotations": true}}"#,
    );
}

#[test]
fn update_tasks_priority_posts_filters_then_priority() {
    let server = Recorder::start();
    let client = server.client();
    let filters = json!({"taskIds": ["t"]}).as_object().unwrap().clone();
    client.update_tasks_priority("p1", -5, &filters).unwrap();
    server.last().assert_call(
        "POST",
        "/v2/project/p1/updatePriority",
        &[],
        r#"{"filters": {"taskIds": ["t"]}, "priority": -5}"#,
    );
    client.update_tasks_priority("p1", 5, &Map::new()).unwrap();
    assert_eq!(
        server.last().body_text(),
        r#"{"filters": {}, "priority": 5}"#
    );
}

#[test]
fn set_tasks_as_benchmark_marks_and_unmarks() {
    let server = Recorder::start();
    let client = server.client();
    client
        .set_tasks_as_benchmark("p1", &strings(&["t1"]), true)
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/project/p1/benchmark-tasks",
        &[],
        r#"{"tasks": ["t1"], "isBenchmark": true}"#,
    );
    client
        .set_tasks_as_benchmark("p1", &strings(&["t1"]), false)
        .unwrap();
    assert_eq!(
        server.last().body_text(),
        r#"{"tasks": ["t1"], "isBenchmark": false}"#
    );
}

#[test]
fn plugin_log_and_response_post_the_given_objects() {
    let server = Recorder::start();
    let client = server.client();
    client
        .plugin_log(&json!({"level": "INFO", "msg": "hi", "session": "s"}))
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/pluginLog",
        &[],
        r#"{"level": "INFO", "msg": "hi", "session": "s"}"#,
    );
    client
        .plugin_response(&json!({"error": true, "session": "s"}))
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/pluginResponse",
        &[],
        r#"{"error": true, "session": "s"}"#,
    );
}

#[test]
fn set_state_posts_are_retried_but_plugin_posts_are_not() {
    let server = Recorder::start();
    let client = ango_core::Client::builder("test-key")
        .host(&server.url)
        .max_retries(1)
        .build()
        .unwrap();
    server.push(Reply::status(500, "oops"));
    client
        .assign_task("p1", &strings(&["t1"]), "Label", "a@b")
        .unwrap();
    assert_eq!(server.requests().len(), 2);
    server.clear();
    server.push(Reply::status(500, "oops"));
    assert!(client.plugin_response(&Value::Null).is_err());
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn get_tasks_defaults() {
    let server = Recorder::start();
    server
        .client()
        .raw()
        .get_tasks("p1", &GetTasksParams::default())
        .unwrap();
    server.only().assert_call(
        "GET",
        "/v2/project/p1/tasks",
        &[("page", "1"), ("limit", "10"), ("includeAnswer", "false")],
        "",
    );
}

#[test]
fn get_tasks_with_filter_sort_and_answers() {
    let server = Recorder::start();
    let filter = TaskFilter {
        stage: Some(StageFilter::AnyOf(strings(&["Label", "Review"]))),
        status: Some(TextFilter::Is("TODO".into())),
        created_at: Some(DateRange {
            gt: Some(Timestamp::new(2024, 1, 2, 3, 4, 5, 123_456).unwrap()),
            ..Default::default()
        }),
        priority: Some(ango_core::models::CountFilter::Range(NumberRange {
            gte: Some(1.into()),
            ..Default::default()
        })),
        ..Default::default()
    };
    let params = GetTasksParams {
        page: 2,
        limit: 100,
        include_answer: true,
        task_filter: Some(filter),
        sort: Some("-createdAt,priority".into()),
        ..Default::default()
    };
    server.client().raw().get_tasks("p1", &params).unwrap();
    server.only().assert_call(
        "GET",
        "/v2/project/p1/tasks",
        &[
            ("page", "2"),
            ("limit", "100"),
            ("includeAnswer", "true"),
            (
                "filter",
                r#"{"stage": {"$in": ["Label", "Review"]}, "status": {"$eq": "TODO"}, "createdAt": {"$gt": "2024-01-02T03:04:05.123Z"}, "priority": {"$gte": 1}}"#,
            ),
            ("sort", "-createdAt,priority"),
        ],
        "",
    );
}

#[test]
fn get_tasks_sends_deprecated_filters_in_official_order() {
    let server = Recorder::start();
    let params = GetTasksParams {
        status: Some("TODO".into()),
        stage: Some("Label".into()),
        batches: Some(strings(&["b 1", "\u{e9}"])),
        sort: Some("priority".into()),
        ..Default::default()
    };
    server.client().raw().get_tasks("p1", &params).unwrap();
    let request = server.only();
    request.assert_call(
        "GET",
        "/v2/project/p1/tasks",
        &[
            ("page", "1"),
            ("limit", "10"),
            ("includeAnswer", "false"),
            ("status[eq]", "TODO"),
            ("batches", r#"["b 1", "\u00e9"]"#),
            ("stage", "Label"),
            ("sort", "priority"),
        ],
        "",
    );
    assert!(
        request.raw_query.contains("status%5Beq%5D=TODO"),
        "{}",
        request.raw_query
    );
}

#[test]
fn get_tasks_filter_criteria_win_over_deprecated_ones() {
    let server = Recorder::start();
    let client = server.client();
    let deprecated = GetTasksParams {
        status: Some("TODO".into()),
        stage: Some("X".into()),
        batches: Some(strings(&["b1"])),
        ..Default::default()
    };
    // The filter sets stage only: status and batches still go as deprecated parameters.
    let params = GetTasksParams {
        task_filter: Some(TaskFilter {
            stage: Some(StageFilter::Is("Label".into())),
            ..Default::default()
        }),
        ..deprecated.clone()
    };
    client.get_tasks("p1", &params).unwrap();
    server.last().assert_call(
        "GET",
        "/v2/project/p1/tasks",
        &[
            ("page", "1"),
            ("limit", "10"),
            ("includeAnswer", "false"),
            ("filter", r#"{"stage": "Label"}"#),
            ("status[eq]", "TODO"),
            ("batches", r#"["b1"]"#),
        ],
        "",
    );
    // A criterion that is set but empty still silences its deprecated twin, as in the
    // official SDK (which checks the attribute, not the serialised filter).
    let params = GetTasksParams {
        task_filter: Some(TaskFilter {
            status: Some(TextFilter::Filter(StringFilter::default())),
            batches: Some(ango_core::models::BatchFilter::AnyOf(strings(&["b2"]))),
            ..Default::default()
        }),
        ..deprecated.clone()
    };
    client.get_tasks("p1", &params).unwrap();
    server.last().assert_call(
        "GET",
        "/v2/project/p1/tasks",
        &[
            ("page", "1"),
            ("limit", "10"),
            ("includeAnswer", "false"),
            ("filter", r#"{"batches": {"$in": ["b2"]}}"#),
            ("stage", "X"),
        ],
        "",
    );
    // An empty filter is not sent and silences nothing.
    let params = GetTasksParams {
        task_filter: Some(TaskFilter::default()),
        status: Some("TODO".into()),
        ..Default::default()
    };
    client.get_tasks("p1", &params).unwrap();
    server.last().assert_call(
        "GET",
        "/v2/project/p1/tasks",
        &[
            ("page", "1"),
            ("limit", "10"),
            ("includeAnswer", "false"),
            ("status[eq]", "TODO"),
        ],
        "",
    );
}

#[test]
fn get_tasks_fields_add_the_required_ones_and_force_answers() {
    let server = Recorder::start();
    let params = GetTasksParams {
        fields: Some("stage, assignee,_id".into()),
        include_answer: false,
        ..Default::default()
    };
    server.client().raw().get_tasks("p1", &params).unwrap();
    server.only().assert_call(
        "GET",
        "/v2/project/p1/tasks",
        &[
            ("page", "1"),
            ("limit", "10"),
            ("fields", "stage,assignee,_id,project,asset"),
            ("includeAnswer", "true"),
        ],
        "",
    );
}

#[test]
fn get_tasks_ignores_empty_optional_strings_like_python_truthiness() {
    let server = Recorder::start();
    let params = GetTasksParams {
        status: Some(String::new()),
        stage: Some(String::new()),
        batches: Some(vec![]),
        sort: Some(String::new()),
        fields: Some(String::new()),
        ..Default::default()
    };
    server.client().raw().get_tasks("p1", &params).unwrap();
    server.only().assert_call(
        "GET",
        "/v2/project/p1/tasks",
        &[("page", "1"), ("limit", "10"), ("includeAnswer", "false")],
        "",
    );
}

fn stored_task() -> Reply {
    Reply::json(
        json!({"status": "success", "data": {"task": {"_id": "t1", "project": "p1", "answer": {
            "tools": [{"objectId": "old", "schemaId": "box"}],
            "classifications": [{"schemaId": "c1", "answer": "old"}, {"schemaId": "c2", "answer": "keep"}],
            "relations": [{"objectId": "r1"}]
        }}}}),
    )
}

#[test]
fn annotate_task_merges_with_the_stored_answer() {
    let server = Recorder::start();
    server.push(stored_task());
    let payload = AnnotationPayload {
        answer: Some(Answer {
            objects: vec![json!({"objectId": "new", "schemaId": "box"})],
            classifications: vec![json!({"schemaId": "c1", "answer": "x"})],
            relations: vec![],
        }),
        ..Default::default()
    };
    let ok = server
        .client()
        .annotate_task("t1", &payload, AnnotateOptions::default())
        .unwrap();
    assert!(ok);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    requests[0].assert_call("GET", "/v2/task/t1", &[("includeAnswer", "False")], "");
    requests[1].assert_call(
        "POST",
        "/v2/annotate/t1",
        &[("nextStage", "false"), ("isPlugin", "false")],
        r#"{"answer": {"objects": [{"objectId": "new", "schemaId": "box"}, {"objectId": "old", "schemaId": "box"}], "classifications": [{"schemaId": "c1", "answer": "x"}, {"schemaId": "c2", "answer": "keep"}], "relations": [{"objectId": "r1"}]}, "brushDataUrl": null, "medicalBrushDataUrl": null, "duration": 0}"#,
    );
}

#[test]
fn annotate_task_without_an_answer_merges_into_an_empty_one() {
    let server = Recorder::start();
    server.push(stored_task());
    let payload = AnnotationPayload {
        brush_data_url: Some("https://x/b.png".into()),
        ..Default::default()
    };
    server
        .client()
        .annotate_task("t1", &payload, AnnotateOptions::default())
        .unwrap();
    assert_eq!(
        server.last().body_text(),
        r#"{"answer": {"objects": [{"objectId": "old", "schemaId": "box"}], "classifications": [{"schemaId": "c1", "answer": "old"}, {"schemaId": "c2", "answer": "keep"}], "relations": [{"objectId": "r1"}]}, "brushDataUrl": "https://x/b.png", "medicalBrushDataUrl": null, "duration": 0}"#
    );
}

#[test]
fn annotate_task_with_overwrite_skips_the_read() {
    let server = Recorder::start();
    let payload = AnnotationPayload::default();
    let options = AnnotateOptions {
        overwrite: true,
        send_to_next_stage: true,
        is_plugin: false,
    };
    assert!(
        server
            .client()
            .annotate_task("t1", &payload, options)
            .unwrap()
    );
    server.only().assert_call(
        "POST",
        "/v2/annotate/t1",
        &[("nextStage", "true"), ("isPlugin", "false")],
        r#"{"answer": {"objects": [], "classifications": [], "relations": []}, "brushDataUrl": null, "medicalBrushDataUrl": null, "duration": 0}"#,
    );
}

#[test]
fn annotate_task_as_a_plugin_and_a_null_response() {
    let server = Recorder::start();
    server.push(Reply::bytes(b"null".to_vec()));
    let options = AnnotateOptions {
        overwrite: true,
        send_to_next_stage: true,
        is_plugin: true,
    };
    let ok = server
        .client()
        .annotate_task("t1", &AnnotationPayload::default(), options)
        .unwrap();
    assert!(
        !ok,
        "a null body is reported as false, as the official SDK does"
    );
    let request = server.only();
    assert_eq!(
        request.query,
        vec![
            ("nextStage".to_string(), "true".to_string()),
            ("isPlugin".to_string(), "true".to_string())
        ]
    );
}

#[test]
fn annotate_task_read_failures_stop_before_the_write() {
    let server = Recorder::start();
    server.push(Reply::status(
        404,
        r#"{"status":"fail","message":"Task not found"}"#,
    ));
    let err = server
        .client()
        .annotate_task(
            "t1",
            &AnnotationPayload::default(),
            AnnotateOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn annotate_task_with_a_task_without_answer_sends_the_new_one() {
    let server = Recorder::start();
    server.push(Reply::json(
        json!({"status": "success", "data": {"task": {"_id": "t1"}}}),
    ));
    let payload = AnnotationPayload {
        answer: Some(Answer {
            classifications: vec![json!({"schemaId": "c1", "answer": "x"})],
            ..Default::default()
        }),
        ..Default::default()
    };
    server
        .client()
        .annotate_task("t1", &payload, AnnotateOptions::default())
        .unwrap();
    assert_eq!(
        server.last().body_text(),
        r#"{"answer": {"objects": [], "classifications": [{"schemaId": "c1", "answer": "x"}], "relations": []}, "brushDataUrl": null, "medicalBrushDataUrl": null, "duration": 0}"#
    );
}

#[test]
fn review_task_with_and_without_pct_details() {
    let server = Recorder::start();
    let client = server.client();
    client
        .review_task("t1", ReviewStatus::Rejected, Some(&json!({"k": 1})))
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/review/t1",
        &[],
        r#"{"reviewStatus": "Rejected", "pctDetails": {"k": 1}}"#,
    );
    client
        .review_task("t1", ReviewStatus::Accepted, None)
        .unwrap();
    server.last().assert_call(
        "POST",
        "/v2/review/t1",
        &[],
        r#"{"reviewStatus": "Accepted"}"#,
    );
}
