//! The method table and `Client::call`: for every table method, `call` with JSON
//! arguments sends exactly the requests the direct method sends and returns the same
//! result; defaults come from the table; camelCase keys are accepted; bad arguments
//! fail before any request.

use ango_testkit as support;

use ango_core::api::{METHODS, MethodSpec, Reply as CallReply, methods_json};
use ango_core::models::{
    AnnotationPayload, Answer, AssetBuilderTemplate, ChatAssetCreationConfig, DataConfigItem,
    ExportOptions, Invitation, Llm, LlmProvider, Metrics, OrganizationRole, ParseConfig,
    ProjectAssignment, ProjectRole, ProjectType, ReviewStatus, RoleUpdate, Storage,
    StorageFileType, StorageProvider, StringFilter, TaskFilter, TextFilter, Timestamp,
};
use ango_core::ontology::{CategorySchema, Tool, ToolCategory};
use ango_core::{
    AnnotateOptions, CloneProjectOptions, CreateIssueParams, Error, GetAssetsParams,
    GetIssuesParams, GetTasksParams, ListStorageFilesParams, RequeueTasksParams, UpdateIssueParams,
    UpdateLabelValidationParams, Value,
};
use serde_json::json;
use support::{Recorded, Recorder, Reply, TempDir};

/// Replies for the reads some methods make first (project, storages, task, URLs).
fn hub() -> Recorder {
    Recorder::with_responder(|request| {
        let body = match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/v2/project/p1") => json!({"status": "success", "data": {"project": {
                "_id": "p1", "name": "P",
                "batches": [{"_id": "b1", "name": "one"}],
                "assetBuilderTemplates": [{
                    "_id": "tpl1", "name": "T", "template": "<p>{{a}}</p>",
                    "selectedExternalId": "a",
                    "dataConfig": {"a": {"type": "text", "includeInExport": true}},
                }],
                "categorySchema": {"tools": [], "classifications": [], "relations": []},
            }}}),
            ("GET", "/v2/storages") => {
                json!({"status": "success", "data": {"storages": [{"_id": "s1", "name": "S"}]}})
            }
            ("GET", "/v2/task/t1") => json!({"status": "success", "data": {"task": {
                "_id": "t1",
                "answer": {"tools": [{"objectId": "o1"}], "classifications": [], "relations": []},
            }}}),
            ("GET", "/v2/getUploadUrl") => json!({"data": {"uploadUrl": "https://up/x"}}),
            ("GET", "/v2/getSignedUrl") => json!({"data": {"signedUrl": "https://signed/x"}}),
            _ => return None,
        };
        Some(Reply::json(body))
    })
}

/// What a request is on the wire, with a multipart boundary (random) blanked out.
fn wire(request: &Recorded) -> (String, String, String, Option<String>, String) {
    let content_type = request.header("content-type").map(str::to_string);
    let mut body = request.body_text();
    let mut ct = content_type.clone();
    if let Some(boundary) = content_type
        .as_deref()
        .and_then(|c| c.split_once("boundary="))
        .map(|(_, b)| b.to_string())
    {
        body = body.replace(&boundary, "BOUNDARY");
        ct = ct.map(|c| c.replace(&boundary, "BOUNDARY"));
    }
    (
        request.method.clone(),
        request.path.clone(),
        request.raw_query.clone(),
        ct,
        body,
    )
}

fn outcome<T: Into<Value>>(result: ango_core::Result<T>) -> Result<Value, String> {
    result.map(Into::into).map_err(|e| e.to_string())
}

/// Runs `direct` and `call(method, args)` against two identical servers and asserts
/// the same requests (in order) and the same result.
#[track_caller]
fn same<T: Into<Value>>(
    method: &str,
    args: Value,
    direct: impl FnOnce(&ango_core::Raw<'_>) -> ango_core::Result<T>,
) {
    let (a, b) = (hub(), hub());
    let expected = outcome(direct(&a.client().raw()));
    let got = outcome(
        b.client()
            .call(method, args.clone())
            .and_then(CallReply::into_value),
    );
    assert_eq!(got, expected, "result of {method}({args})");
    let (want, have): (Vec<_>, Vec<_>) = (
        a.requests().iter().map(wire).collect(),
        b.requests().iter().map(wire).collect(),
    );
    assert!(!want.is_empty(), "{method}: the direct call sent nothing");
    assert_eq!(have, want, "requests of {method}({args})");
}

fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

#[test]
fn every_table_method_sends_what_the_direct_method_sends() {
    let dir = TempDir::new();
    let instructions = dir.file("guide.pdf", b"%PDF-1.4 guide");
    let csv = dir.file("rows.csv", b"a\nx1\nx2\n");
    let conversations = dir.file("chats.json", b"[{\"messages\": []}]");
    let mut covered = Vec::new();
    let mut case = |name: &'static str| covered.push(name);

    case("make_request");
    same(
        "make_request",
        json!({"method": "post", "endpoint": "/v2/x y", "payload": {"a": 1}}),
        |c| c.make_request("post", "/v2/x y", Some(&json!({"a": 1}))),
    );
    case("add_members_to_project");
    same(
        "add_members_to_project",
        json!({"project_id": "p1", "members": ["a@x"], "role": "Labeler"}),
        |c| c.add_members_to_project("p1", &["a@x".into()], ProjectRole::Labeler),
    );
    case("assign_batches");
    same(
        "assign_batches",
        json!({"project_id": "p1", "asset_ids": ["a1"], "batches": ["one"]}),
        |c| c.assign_batches("p1", &["a1".into()], &["one".into()]),
    );
    case("assign_task");
    same(
        "assign_task",
        json!({"project_id": "p1", "task_ids": ["t1"], "stage_filter": "Label", "email": "a@x"}),
        |c| c.assign_task("p1", &["t1".into()], "Label", "a@x"),
    );
    case("create_attachment");
    same(
        "create_attachment",
        json!({"project_id": "p1", "attachments": [{"externalId": "e", "attachments": []}]}),
        |c| c.create_attachment("p1", &[json!({"externalId": "e", "attachments": []})]),
    );
    case("create_batch");
    same(
        "create_batch",
        json!({"project_id": "p1", "batch_name": "two"}),
        |c| c.create_batch("p1", "two"),
    );
    case("create_batches");
    same(
        "create_batches",
        json!({"project_id": "p1", "batch_names": ["one", "two"]}),
        |c| c.create_batches("p1", &["one".into(), "two".into()]),
    );
    case("create_issue");
    same(
        "create_issue",
        json!({"task_id": "t1", "content": "bad", "position": [1, 2], "page": 3}),
        |c| {
            let params = CreateIssueParams {
                position: Some(json!([1, 2])),
                page: Some(3),
                ..CreateIssueParams::default()
            };
            c.create_issue("t1", "bad", &params)
        },
    );
    // The v1.3.14 form: numbers where the mentions belong are the position.
    for (mentions, position) in [(json!([1, 2.5]), json!([1, 2.5])), (json!(7), json!(7))] {
        same(
            "create_issue",
            json!({"task_id": "t1", "content": "bad", "content_mentions": mentions}),
            |c| {
                let params = CreateIssueParams {
                    position: Some(position),
                    ..CreateIssueParams::default()
                };
                c.create_issue("t1", "bad", &params)
            },
        );
    }
    case("create_label_set");
    let tool = ToolCategory::new(Tool::BoundingBox, "Car").schema_id("sid");
    same(
        "create_label_set",
        json!({"project_id": "p1", "tools": [tool.to_value()]}),
        |c| {
            let schema = CategorySchema {
                tools: vec![tool.clone()],
                ..CategorySchema::default()
            };
            c.create_label_set("p1", &schema, None)
        },
    );
    same(
        "create_label_set",
        json!({"project_id": "p1", "raw_category_schema": {"tools": [1]}}),
        |c| {
            c.create_label_set(
                "p1",
                &CategorySchema::default(),
                Some(&json!({"tools": [1]})),
            )
        },
    );
    case("create_project");
    same(
        "create_project",
        json!({"name": "N", "project_type": "ango"}),
        |c| c.create_project("N", None, Some(ProjectType::Ango)),
    );
    case("clone_project");
    same(
        "clone_project",
        json!({"project_id": "p1", "batches": false}),
        |c| {
            let options = CloneProjectOptions {
                batches: false,
                ..CloneProjectOptions::default()
            };
            c.clone_project("p1", &options)
        },
    );
    case("delete_issue");
    same(
        "delete_issue",
        json!({"project_id": "p1", "issue_id": "i1"}),
        |c| c.delete_issue("p1", "i1"),
    );
    case("update_issue");
    same(
        "update_issue",
        json!({"issue_id": "i1", "content": "c", "status": "Resolved"}),
        |c| {
            let params = UpdateIssueParams {
                content: Some("c".into()),
                status: Some("Resolved".into()),
                ..UpdateIssueParams::default()
            };
            c.update_issue("i1", &params)
        },
    );
    case("add_comment_to_issue");
    same(
        "add_comment_to_issue",
        json!({"issue_id": "i1", "content": "c", "content_mentions": ["a@x"]}),
        |c| c.add_comment_to_issue("i1", "c", Some(&[json!("a@x")])),
    );
    case("delete_project");
    same("delete_project", json!({"project_id": "p1"}), |c| {
        c.delete_project("p1")
    });
    case("purge_project");
    same(
        "purge_project",
        json!({"project_id": "p1", "confirm_name": "P"}),
        |c| c.purge_project("p1", "P"),
    );
    case("get_assets");
    same("get_assets", json!({"project_id": "p1"}), |c| {
        c.get_assets("p1", &GetAssetsParams::default())
    });
    same(
        "get_assets",
        json!({"project_id": "p1", "page": 2, "limit": 5, "filters": null}),
        |c| c.get_assets_page("p1", 2, 5, None),
    );
    // The v1.3.14 positional form: a string page is an asset id, then a string limit
    // an external id; a null page or limit is the default.
    same(
        "get_assets",
        json!({"project_id": "p1", "page": "a1", "limit": "e.png"}),
        |c| {
            let filters = json!({"_id": "a1", "externalId": "e.png"});
            let params = GetAssetsParams {
                filters: filters.as_object().unwrap().clone(),
                ..GetAssetsParams::default()
            };
            c.get_assets("p1", &params)
        },
    );
    same(
        "get_assets",
        json!({"project_id": "p1", "page": null, "limit": 4}),
        |c| c.get_assets_page("p1", 1, 4, Some(&serde_json::Map::new())),
    );
    // The v1.3.14 asset_id / external_id are filters, after the given ones (also when
    // the filters are null).
    same(
        "get_assets",
        json!({"project_id": "p1", "filters": {"isPreLabeled": true}, "asset_id": "a1",
               "externalId": "e.png"}),
        |c| {
            let filters = json!({"isPreLabeled": true, "_id": "a1", "externalId": "e.png"});
            let params = GetAssetsParams {
                filters: filters.as_object().unwrap().clone(),
                ..GetAssetsParams::default()
            };
            c.get_assets("p1", &params)
        },
    );
    same(
        "get_assets",
        json!({"project_id": "p1", "filters": null, "external_id": "e.png"}),
        |c| {
            let params = GetAssetsParams {
                filters: json!({"externalId": "e.png"}).as_object().unwrap().clone(),
                ..GetAssetsParams::default()
            };
            c.get_assets("p1", &params)
        },
    );
    case("get_batches");
    same("get_batches", json!({"project_id": "p1"}), |c| {
        c.get_batches("p1")
    });
    case("get_issues");
    same(
        "get_issues",
        json!({"project_id": "p1", "task_id": "t1"}),
        |c| {
            let params = GetIssuesParams {
                task_id: Some("t1".into()),
                ..GetIssuesParams::default()
            };
            c.get_issues("p1", &params)
        },
    );
    case("get_metrics");
    same(
        "get_metrics",
        json!({"project_id": "p1", "metric": "TimePerTask"}),
        |c| c.get_metrics("p1", Metrics::TimePerTask),
    );
    case("get_project");
    same("get_project", json!({"project_id": "p1"}), |c| {
        c.get_project("p1")
    });
    case("get_task");
    same(
        "get_task",
        json!({"task_id": "t1", "include_answer": true}),
        |c| c.get_task("t1", true),
    );
    case("get_tasks");
    same(
        "get_tasks",
        json!({
            "project_id": "p1", "page": 2, "fields": "stage",
            "task_filter": {"status": "TODO", "assignee": {"in_list": ["a@x"]},
                            "created_at": {"gt": "2024-01-02T03:04:05.678901"}},
        }),
        |c| {
            let params = GetTasksParams {
                page: 2,
                fields: Some("stage".into()),
                task_filter: Some(TaskFilter {
                    status: Some(TextFilter::Is("TODO".into())),
                    assignee: Some(TextFilter::Filter(StringFilter {
                        in_list: Some(vec!["a@x".into()]),
                        ..StringFilter::default()
                    })),
                    created_at: Some(ango_core::models::DateRange {
                        gt: Some(ts("2024-01-02T03:04:05.678901")),
                        ..Default::default()
                    }),
                    ..TaskFilter::default()
                }),
                ..GetTasksParams::default()
            };
            c.get_tasks("p1", &params)
        },
    );
    case("get_task_history");
    same("get_task_history", json!({"task_id": "t1"}), |c| {
        c.get_task_history(None, Some("t1"))
    });
    case("import_labels");
    same(
        "import_labels",
        json!({"project_id": "p1", "labels": [{"externalId": "e"}]}),
        |c| c.import_labels("p1", &[json!({"externalId": "e"})]),
    );
    case("list_projects");
    same("list_projects", json!({}), |c| c.list_projects(1, 10));
    case("update_workflow_stages");
    same(
        "update_workflow_stages",
        json!({"project_id": "p1", "stages": [{"id": "s"}]}),
        |c| c.update_workflow_stages("p1", &[json!({"id": "s"})]),
    );
    case("update_benchmark_settings");
    same(
        "update_benchmark_settings",
        json!({"project_id": "p1", "benchmark_enabled": true, "benchmark_ratio": 20}),
        |c| c.update_benchmark_settings("p1", true, Some(20), None),
    );
    case("set_tasks_as_benchmark");
    same(
        "set_tasks_as_benchmark",
        json!({"project_id": "p1", "task_ids": ["t1"]}),
        |c| c.set_tasks_as_benchmark("p1", &["t1".into()], true),
    );
    case("update_label_validation");
    same(
        "update_label_validation",
        json!({"project_id": "p1", "validation_function": "f"}),
        |c| {
            let params = UpdateLabelValidationParams {
                validation_function: Some("f".into()),
                ..UpdateLabelValidationParams::default()
            };
            c.update_label_validation("p1", &params)
        },
    );
    case("upload_files_cloud");
    same(
        "upload_files_cloud",
        json!({"project_id": "p1", "assets": [{"data": "https://x/1.png", "externalId": "1"}],
               "storage_id": "s1", "batches": ["one"], "priority": 3}),
        |c| {
            c.upload_files_cloud(
                "p1",
                vec![json!({"data": "https://x/1.png", "externalId": "1"})],
                Some("s1"),
                Some(&["one".into()]),
                3,
                None,
            )
        },
    );
    case("delete_assets");
    same(
        "delete_assets",
        json!({"project_id": "p1", "asset_ids": ["a1"]}),
        |c| c.delete_assets("p1", &["a1".into()]),
    );
    case("upload_chat_assets");
    let chat = ChatAssetCreationConfig {
        conversation_json: Some(conversations.clone()),
        storage_id: Some("s1".into()),
        ..ChatAssetCreationConfig::default()
    };
    same(
        "upload_chat_assets",
        json!({"project_id": "p1", "chat_asset_creation_config": {
            "conversation_json": conversations.to_str().unwrap(), "storage_id": "s1"}}),
        |c| c.upload_chat_assets("p1", &chat, 0),
    );
    case("requeue_tasks");
    same(
        "requeue_tasks",
        json!({"project_id": "p1", "to_stage_id": "s", "filters": {"taskIds": ["t1"]}}),
        |c| {
            let params = RequeueTasksParams {
                filters: json!({"taskIds": ["t1"]}).as_object().unwrap().clone(),
                ..RequeueTasksParams::default()
            };
            c.requeue_tasks("p1", "s", &params)
        },
    );
    case("update_tasks_priority");
    same(
        "update_tasks_priority",
        json!({"project_id": "p1", "priority": 4}),
        |c| c.update_tasks_priority("p1", 4, &serde_json::Map::new()),
    );
    case("get_project_performance");
    same(
        "get_project_performance",
        json!({"project_id": "p1", "interval": ["2024-01-01", "2024-02-01T10:00:00.5"],
               "batches": ["one"]}),
        |c| {
            c.get_project_performance(
                "p1",
                Some((ts("2024-01-01"), ts("2024-02-01T10:00:00.5"))),
                Some(&["one".into()]),
            )
        },
    );
    case("create_storage");
    let mut storage = Storage::new("S", StorageProvider::Aws);
    storage.public_key = Some("pub".into());
    same(
        "create_storage",
        json!({"storage_data": {"name": "S", "provider": "AWS", "publicKey": "pub",
                                "privateKey": null, "region": null, "credentials": null}}),
        |c| c.create_storage(&storage),
    );
    case("delete_organization_invites");
    same(
        "delete_organization_invites",
        json!({"organization_id": "o1", "invite_emails": ["a@x"]}),
        |c| c.delete_organization_invites("o1", &["a@x".into()]),
    );
    case("delete_organization_members");
    same(
        "delete_organization_members",
        json!({"organization_id": "o1", "member_emails": ["a@x"]}),
        |c| c.delete_organization_members("o1", &["a@x".into()]),
    );
    case("delete_storage");
    same("delete_storage", json!({"storage_id": "s1"}), |c| {
        c.delete_storage("s1")
    });
    case("get_organization_invites");
    same(
        "get_organization_invites",
        json!({"organization_id": "o1"}),
        |c| c.get_organization_invites("o1"),
    );
    case("get_organization_members");
    same(
        "get_organization_members",
        json!({"organization_id": "o1"}),
        |c| c.get_organization_members("o1"),
    );
    case("get_storages");
    same("get_storages", json!({"storage_id": "s1"}), |c| {
        c.get_storages(Some("s1"))
    });
    case("create_llm");
    let llm = Llm {
        name: "L".into(),
        provider: LlmProvider::OpenAi,
        model: "m".into(),
        api_key: "k".into(),
        base_url: None,
        is_streamable: true,
    };
    same(
        "create_llm",
        json!({"llm_data": {"name": "L", "provider": LlmProvider::OpenAi.as_str(), "model": "m",
                            "api_key": "k", "base_url": null, "is_streamable": true}}),
        |c| c.create_llm(&llm),
    );
    case("delete_llm");
    same("delete_llm", json!({"llm_id": "l1"}), |c| {
        c.delete_llm("l1")
    });
    case("get_llms");
    same("get_llms", json!({"llm_id": ""}), |c| c.get_llms(None));
    case("list_storage_files");
    same(
        "list_storage_files",
        json!({"storage_id": "s1", "bucket_name": "b", "get_signed_urls": false}),
        |c| {
            let params = ListStorageFilesParams {
                get_signed_urls: false,
                ..ListStorageFilesParams::default()
            };
            c.list_storage_files("s1", "b", &params)
        },
    );
    case("invite_members_to_org");
    let invitation = Invitation {
        to: vec!["a@x".into()],
        organization_role: OrganizationRole::Member,
        project_assignments: Some(vec![ProjectAssignment {
            project_id: "p1".into(),
            project_role: ProjectRole::Reviewer,
        }]),
    };
    same(
        "invite_members_to_org",
        json!({"organization_id": "o1", "invite_data": {
            "to": ["a@x"], "organization_role": "member",
            "project_assignments": [{"project_id": "p1", "project_role": "Reviewer"}]}}),
        |c| c.invite_members_to_org("o1", &invitation),
    );
    case("update_organization_members_role");
    same(
        "update_organization_members_role",
        json!({"organization_id": "o1", "role_updates": [
            {"email": "a@x", "organization_role": "admin"}]}),
        |c| {
            let update = RoleUpdate {
                email: "a@x".into(),
                organization_role: OrganizationRole::Admin,
            };
            c.update_organization_members_role("o1", &[update])
        },
    );
    case("send_notification");
    same(
        "send_notification",
        json!({"receivers": ["a@x"], "message": "hi", "title": "T"}),
        |c| c.send_notification(&["a@x".into()], "hi", Some("T"), None),
    );
    case("get_asset_builder_templates");
    same(
        "get_asset_builder_templates",
        json!({"project_id": "p1"}),
        |c| c.get_asset_builder_templates("p1"),
    );
    case("create_asset_builder_template");
    let template = AssetBuilderTemplate {
        name: "T".into(),
        template: "<p>{{a}}</p>".into(),
        external_id_column: "a".into(),
        data_config: vec![("a".into(), DataConfigItem::new("text", None, true).unwrap())],
        description: String::new(),
        batch_column: String::new(),
        pre_label_config: serde_json::Map::new(),
    };
    same(
        "create_asset_builder_template",
        json!({"project_id": "p1", "template": {
            "name": "T", "template": "<p>{{a}}</p>", "external_id_column": "a",
            "data_config": {"a": {"type": "text", "storage": null, "include_in_export": true}},
            "description": "", "batch_column": "", "pre_label_config": null}}),
        |c| c.create_asset_builder_template("p1", &template),
    );
    case("upload_files_with_asset_builder");
    same(
        "upload_files_with_asset_builder",
        json!({"project_id": "p1", "template_id": "tpl1", "input_file_path": csv.to_str().unwrap()}),
        |c| c.upload_files_with_asset_builder("p1", "tpl1", &csv, &ParseConfig::default(), 0),
    );
    case("upload_instructions");
    same(
        "upload_instructions",
        json!({"project_id": "p1", "file_path": instructions.to_str().unwrap(), "bucket": "b"}),
        |c| c.upload_instructions("p1", &instructions, None, Some("b")),
    );
    case("annotate_task");
    let payload = AnnotationPayload {
        answer: Some(Answer {
            objects: vec![json!({"objectId": "o2"})],
            ..Answer::default()
        }),
        brush_data_url: Some("https://b".into()),
        medical_brush_data_url: None,
    };
    same(
        "annotate_task",
        json!({"task_id": "t1", "payload": {
            "answer": {"objects": [{"objectId": "o2"}], "classifications": null, "relations": null},
            "brush_data_url": "https://b", "medical_brush_data_url": null, "brush_data": null},
            "send_to_next_stage": true}),
        |c| {
            let options = AnnotateOptions {
                send_to_next_stage: true,
                ..AnnotateOptions::default()
            };
            c.annotate_task("t1", &payload, options)
        },
    );
    case("review_task");
    same(
        "review_task",
        json!({"task_id": "t1", "review_status": "Accepted"}),
        |c| c.review_task("t1", ReviewStatus::Accepted, None),
    );
    case("_get_upload_url");
    same(
        "_get_upload_url",
        json!({"file_name": "a.png", "project": "p1", "file_type": "brushes"}),
        |c| c.get_upload_url("a.png", "p1", StorageFileType::Brush, None),
    );
    case("_get_signed_url");
    same(
        "getSignedUrl",
        json!({"assetUrl": "https://x", "project": "p1", "fileType": "assets", "storageId": "s1"}),
        |c| c.get_signed_url("https://x", "p1", StorageFileType::Asset, Some("s1")),
    );
    case("_plugin_log");
    same("_plugin_log", json!({"log": {"msg": "m"}}), |c| {
        c.plugin_log(&json!({"msg": "m"}))
    });
    case("_plugin_response");
    same(
        "_plugin_response",
        json!({"response": {"session": "s"}}),
        |c| c.plugin_response(&json!({"session": "s"})),
    );
    case("file_explorer");
    same(
        "file_explorer",
        json!({"bucket": "b", "storage_id": "s1", "options": {"folder": "f"}}),
        |c| c.file_explorer("b", "s1", json!({"folder": "f"}).as_object().unwrap()),
    );
    case("rerun_webhook");
    same(
        "rerun_webhook",
        json!({"project_id": "p1", "webhook_stage_id": "w"}),
        |c| c.rerun_webhook("p1", "w"),
    );

    let mut listed: Vec<&str> = METHODS.iter().map(|m| m.name).collect();
    listed.sort_unstable();
    covered.sort_unstable();
    assert_eq!(covered, listed, "every table method has a case");
}

#[test]
fn camel_case_names_and_keys_are_accepted() {
    same(
        "getTasks",
        json!({"projectId": "p1", "includeAnswer": true, "taskFilter": {
            "reviewStatus": "Accepted", "openIssuesCount": {"gte": 1}, "isDraft": false}}),
        |c| {
            let filter: TaskFilter = serde_json::from_value(json!({
                "review_status": "Accepted", "open_issues_count": {"gte": 1}, "is_draft": false,
            }))
            .unwrap();
            let params = GetTasksParams {
                include_answer: true,
                task_filter: Some(filter),
                ..GetTasksParams::default()
            };
            c.get_tasks("p1", &params)
        },
    );
    same(
        "cloneProject",
        json!({"projectId": "p1", "pluginPresets": false}),
        |c| {
            let options = CloneProjectOptions {
                plugin_presets: false,
                ..CloneProjectOptions::default()
            };
            c.clone_project("p1", &options)
        },
    );
    same(
        "inviteMembersToOrg",
        json!({"organizationId": "o1", "inviteData": {"to": ["a@x"], "organizationRole": "admin",
               "projectAssignments": [{"projectId": "p1", "projectRole": "Manager"}]}}),
        |c| {
            let invitation = Invitation {
                to: vec!["a@x".into()],
                organization_role: OrganizationRole::Admin,
                project_assignments: Some(vec![ProjectAssignment {
                    project_id: "p1".into(),
                    project_role: ProjectRole::Manager,
                }]),
            };
            c.invite_members_to_org("o1", &invitation)
        },
    );
}

#[test]
fn missing_arguments_take_the_tables_defaults() {
    same("list_projects", Value::Null, |c| c.list_projects(1, 10));
    same("get_tasks", json!({"project_id": "p1"}), |c| {
        c.get_tasks("p1", &GetTasksParams::default())
    });
    same("get_task", json!({"task_id": "t1"}), |c| {
        c.get_task("t1", false)
    });
    same(
        "list_storage_files",
        json!({"storage_id": "s1", "bucket_name": "b"}),
        |c| c.list_storage_files("s1", "b", &ListStorageFilesParams::default()),
    );
    same("clone_project", json!({"project_id": "p1"}), |c| {
        c.clone_project("p1", &CloneProjectOptions::default())
    });
    same(
        "requeue_tasks",
        json!({"project_id": "p1", "to_stage_id": "s"}),
        |c| c.requeue_tasks("p1", "s", &RequeueTasksParams::default()),
    );
    same(
        "file_explorer",
        json!({"bucket": "b", "storage_id": "s1"}),
        |c| c.file_explorer("b", "s1", &serde_json::Map::new()),
    );
}

/// `call` fails with `InvalidArgument` and the server sees nothing.
#[track_caller]
fn refused(method: &str, args: Value, message_part: &str) {
    let server = hub();
    let error = server.client().call(method, args.clone()).unwrap_err();
    match &error {
        Error::InvalidArgument(message) => assert!(
            message.contains(message_part),
            "{method}({args}): {message:?} lacks {message_part:?}"
        ),
        other => panic!("{method}({args}): expected InvalidArgument, got {other:?}"),
    }
    assert!(server.requests().is_empty(), "{method}: a request was sent");
}

#[test]
fn bad_arguments_fail_before_any_request() {
    refused("no_such_method", json!({}), "unknown method");
    refused(
        "get_project",
        json!({}),
        "missing the required argument 'project_id'",
    );
    refused(
        "get_project",
        json!({"project_id": "p1", "extra": 1}),
        "unexpected argument 'extra'",
    );
    refused(
        "get_project",
        json!({"project_id": "p1", "projectId": "p1"}),
        "twice",
    );
    refused("get_project", json!(["p1"]), "must be an object");
    refused("get_project", json!({"project_id": 5}), "'project_id'");
    refused("list_projects", json!({"page": -1}), "'page'");
    refused("list_projects", json!({"page": "2"}), "'page'");
    refused(
        "get_task",
        json!({"task_id": "t1", "include_answer": "yes"}),
        "'include_answer'",
    );
    refused(
        "get_tasks",
        json!({"project_id": "p1", "task_filter": {"no_such_field": 1}}),
        "invalid arguments",
    );
    refused(
        "get_tasks",
        json!({"project_id": "p1", "task_filter": {"created_at": {"gt": "not a date"}}}),
        "invalid arguments",
    );
    refused(
        "add_members_to_project",
        json!({"project_id": "p1", "members": ["a@x"], "role": "Boss"}),
        "'role'",
    );
    refused(
        "assign_task",
        json!({"project_id": "p1", "task_ids": "t1", "stage_filter": "s", "email": "e"}),
        "'task_ids'",
    );
    refused(
        "get_project_performance",
        json!({"project_id": "p1", "interval": ["2024-01-01"]}),
        "'interval'",
    );
    refused(
        "create_storage",
        json!({"storage_data": {"name": "S"}}),
        "'storage_data'",
    );
    refused(
        "create_asset_builder_template",
        json!({"project_id": "p1", "template": {"name": "T"}}),
        "Invalid template",
    );
    refused(
        "upload_chat_assets",
        json!({"project_id": "p1", "chat_asset_creation_config": {"number_of_assets": 0}}),
        "number_of_assets",
    );
    refused(
        "clone_project",
        json!({"project_id": "p1", "batches": 1}),
        "invalid arguments",
    );
}

#[test]
fn document_replies_are_the_servers_bytes() {
    let server = Recorder::start();
    let body = br#"{"status":"success","data":{"project":{"_id":"p1","x":1.50}}}"#.to_vec();
    server.push(Reply::bytes(body.clone()));
    match server
        .client()
        .call("get_project", json!({"project_id": "p1"}))
        .unwrap()
    {
        CallReply::Document(bytes) => assert_eq!(bytes, body),
        other => panic!("expected a document, got {other:?}"),
    }
    server.push(Reply::status(500, "{\"message\": \"boom\"}"));
    let error = server
        .client()
        .call("get_project", json!({"project_id": "p1"}))
        .unwrap_err();
    assert!(
        matches!(error, Error::Http { status: 500, .. }),
        "{error:?}"
    );
}

#[test]
fn the_table_as_json_matches_the_table() {
    let json = methods_json();
    let methods = json.as_array().unwrap();
    assert_eq!(methods.len(), METHODS.len());
    for (value, spec) in methods.iter().zip(METHODS) {
        assert_eq!(value["name"], spec.name);
        assert_eq!(value["params"].as_array().unwrap().len(), spec.params.len());
        assert!(MethodSpec::find(spec.node_name).is_some());
    }
    let clone = MethodSpec::find("clone_project").unwrap();
    assert!(clone.params[1..].iter().all(|p| p.keyword_only));
    let get_assets = methods.iter().find(|m| m["name"] == "get_assets").unwrap();
    assert_eq!(get_assets["params"][3]["default"], "{}");
    assert_eq!(get_assets["params"][3]["node_name"], "filters");
}

#[test]
fn request_models_read_python_attribute_names_and_camel_case() {
    let python: ExportOptions = serde_json::from_value(json!({
        "stage": null, "batches": ["b"], "task_types": ["consensus"], "export_format": "ndjson",
        "export_type": "issue", "include_key_frames_only": true, "send_email": null,
        "include_metadata": false, "include_history": true, "notify": true,
        "updated_at": {"from_date": "2024-01-01T00:00:00", "to_date": null},
        "created_at": null, "include_idle_blur_durations": false,
    }))
    .unwrap();
    let node: ExportOptions = serde_json::from_value(json!({
        "stage": null, "batches": ["b"], "taskTypes": ["consensus"], "exportFormat": "ndjson",
        "exportType": "issue", "includeKeyFramesOnly": true, "includeMetadata": false,
        "notify": true, "updatedAt": {"fromDate": "2024-01-01T00:00:00"},
    }))
    .unwrap();
    assert_eq!(python, node);
    assert_eq!(python.stage, None);
    assert!(!python.send_email && !python.include_metadata && python.include_history);
    // A missing stage is the official default (Complete for default tasks).
    let defaults: ExportOptions = serde_json::from_value(json!({})).unwrap();
    assert_eq!(defaults, ExportOptions::default());
    let storage: Storage =
        serde_json::from_value(json!({"name": "S", "provider": "GCP", "credentials": "c"}))
            .unwrap();
    assert_eq!(storage.region, "eu-central-1");
    let tool: ToolCategory =
        serde_json::from_value(json!({"tool": "polygon", "title": "P"})).unwrap();
    assert_eq!(tool.to_value()["tool"], "polygon");
}

/// The request models' JSON Schemas (read by the code generator) describe what
/// deserialises: the Python attribute names, the enums' wire values.
#[cfg(feature = "schema")]
#[test]
fn request_models_have_json_schemas() {
    let schema = |s: schemars::Schema| serde_json::to_value(s).unwrap();
    let filter = schema(schemars::schema_for!(TaskFilter));
    assert!(
        filter["properties"]["review_status"].is_object(),
        "{filter}"
    );
    let options = schema(schemars::schema_for!(ExportOptions));
    assert!(options["properties"]["task_types"].is_object(), "{options}");
    let role = schema(schemars::schema_for!(ProjectRole));
    assert_eq!(
        role["enum"],
        json!(["Manager", "Labeler", "Reviewer", "Lead"])
    );
    let storage = schema(schemars::schema_for!(Storage));
    assert!(
        storage["required"]
            .as_array()
            .unwrap()
            .contains(&json!("provider"))
    );
}

/// Every item of a listing, through `RowBatches` (as the bindings read them).
fn listed(
    client: &ango_core::Client,
    kind: &str,
    project: Option<&str>,
    options: Value,
) -> Vec<Value> {
    let pages = client.listing(kind, project, options).unwrap();
    let mut batches = ango_core::rows::RowBatches::new(pages, None);
    let mut items = Vec::new();
    loop {
        let text = batches.next_batch_text(None).unwrap();
        let batch: Vec<Value> = serde_json::from_str(&text).unwrap();
        if batch.is_empty() {
            return items;
        }
        items.extend(batch);
    }
}

#[test]
fn listings_by_name_yield_what_the_iterators_do() {
    use ango_emulator::{Emulator, EmulatorConfig};
    let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
    let client = ango_core::Client::new(emulator.api_key(), emulator.url()).unwrap();
    let project = emulator.seed_project("listing", 1234);
    emulator.seed_project("another", 3);
    let collect = |pages: ango_core::Pages| pages.collect::<Result<Vec<Value>, _>>().unwrap();

    let params = GetTasksParams {
        include_answer: true,
        ..GetTasksParams::default()
    };
    let direct = collect(
        client
            .raw()
            .iter_tasks(&project, &params, Some(50))
            .unwrap(),
    );
    assert_eq!(direct.len(), 1234);
    // snake_case and camelCase keys; page/limit are ignored as by `iter_tasks`.
    for options in [
        json!({"include_answer": true, "page_size": 50, "page": 3, "status": null}),
        json!({"includeAnswer": true, "page_size": 50, "pageSize": null}),
        json!({"includeAnswer": true, "pageSize": 50}),
    ] {
        assert_eq!(listed(&client, "tasks", Some(&project), options), direct);
    }

    let direct = collect(
        client
            .raw()
            .iter_assets(&project, &serde_json::Map::new(), None)
            .unwrap(),
    );
    assert_eq!(
        listed(&client, "assets", Some(&project), json!({"filters": null})),
        direct
    );
    assert_eq!(
        listed(&client, "assets", Some(&project), Value::Null),
        direct
    );
    let direct = collect(client.raw().iter_projects(None).unwrap());
    assert_eq!(direct.len(), 2);
    assert_eq!(
        listed(&client, "projects", None, json!({"pageSize": null})),
        direct
    );
}

#[test]
fn bad_listing_options_fail_before_any_request() {
    let server = hub();
    let client = server.client();
    for (kind, project, options, part) in [
        ("tasks", None, json!({}), "project id"),
        (
            "tasks",
            Some("p1"),
            json!({"colour": 1}),
            "unexpected argument 'colour'",
        ),
        ("tasks", Some("p1"), json!({"page_size": 0}), "page_size"),
        ("tasks", Some("p1"), json!({"page_size": -1}), "page_size"),
        (
            "tasks",
            Some("p1"),
            json!({"page_size": 5, "pageSize": 6}),
            "twice",
        ),
        ("tasks", Some("p1"), json!({"page_size": "5"}), "page_size"),
        (
            "assets",
            Some("p1"),
            json!({"filters": [1]}),
            "filters must be an object",
        ),
        (
            "assets",
            Some("p1"),
            json!({"limit": 3}),
            "unknown option 'limit'",
        ),
        (
            "projects",
            None,
            json!({"filters": {}}),
            "unknown option 'filters'",
        ),
        ("projects", None, json!([1]), "must be an object"),
        ("batches", None, json!({}), "no listing named 'batches'"),
    ] {
        match client.listing(kind, project, options.clone()) {
            Err(Error::InvalidArgument(message)) => assert!(
                message.contains(part),
                "{kind} {options}: {message:?} lacks {part:?}"
            ),
            other => panic!("{kind} {options}: expected InvalidArgument, got {other:?}"),
        }
    }
    assert!(server.requests().is_empty(), "a request was sent");
}

#[test]
fn model_helpers_by_name() {
    use ango_core::api::model_call;
    let id = model_call("new_schema_id", Value::Null).unwrap();
    assert_eq!(id.as_str().map(str::len), Some(32));
    let color = model_call("random_color", Value::Null).unwrap();
    assert!(
        color
            .as_str()
            .is_some_and(|c| c.starts_with('#') && c.len() == 7)
    );
    let tree = json!({"title": "A", "key": "k1", "children": [{"title": "B", "key": "k2"}]});
    assert_eq!(
        model_call(
            "flatten_tree_options",
            json!({"nodes": tree.clone(), "title": "T"})
        )
        .unwrap(),
        model_call(
            "flatten_tree_options",
            json!({"nodes": [tree], "title": "T"})
        )
        .unwrap(),
    );
    let flat = model_call("flatten_tree_options", json!({"nodes": [], "title": null})).unwrap();
    assert_eq!(flat, json!([]));
    assert!(matches!(
        model_call(
            "validate_asset_builder_template",
            json!({"template": {"name": 1}})
        ),
        Err(Error::InvalidArgument(_))
    ));
    let merged = model_call(
        "merge_annotations",
        json!({"existing": {"tools": [{"objectId": "old"}]}, "new": {"objects": [{"objectId": "new"}]}}),
    )
    .unwrap();
    assert_eq!(
        merged["objects"],
        json!([{"objectId": "new"}, {"objectId": "old"}])
    );
    match model_call("no_such_helper", Value::Null) {
        Err(Error::InvalidArgument(message)) => assert!(message.contains("no_such_helper")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_export_target_gives_what_its_direct_method_gives() {
    use ango_core::export::{ExportOutput, ExportTarget};
    use ango_emulator::{Emulator, EmulatorConfig};
    let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
    let client = ango_core::Client::new(emulator.api_key(), emulator.url()).unwrap();
    let project = emulator.seed_project_with("export", 5, 1, true);
    let json = ExportOptions::default();
    let ndjson: ExportOptions = serde_json::from_value(json!({"export_format": "ndjson"})).unwrap();
    let v3 = |path, count_rows| ExportTarget::V3 { path, count_rows };

    match client
        .export_output(&project, &json, v3(None, false))
        .unwrap()
    {
        ExportOutput::Document(bytes) => {
            let rows: Vec<Value> = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(rows.len(), 5);
        }
        other => panic!("{other:?}"),
    }
    match client
        .export_output(&project, &ndjson, v3(None, true))
        .unwrap()
    {
        ExportOutput::Rows(rows, count) => {
            assert_eq!(count, Some(5));
            assert_eq!(rows.count(), 5);
        }
        other => panic!("{other:?}"),
    }
    // Rows in either format, never counted.
    for options in [&json, &ndjson] {
        match client
            .export_output(&project, options, ExportTarget::Rows)
            .unwrap()
        {
            ExportOutput::Rows(rows, None) => assert_eq!(rows.count(), 5),
            other => panic!("{other:?}"),
        }
    }
    match client
        .export_output(&project, &json, ExportTarget::Url)
        .unwrap()
    {
        ExportOutput::Url(url) => assert!(url.starts_with("http")),
        other => panic!("{other:?}"),
    }
    let dir = TempDir::new();
    let path = dir.join("export.zip");
    match client
        .export_output(&project, &json, v3(Some(&path), true))
        .unwrap()
    {
        ExportOutput::Saved(size) => assert_eq!(std::fs::metadata(&path).unwrap().len(), size),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_client_from_options_takes_what_is_given_and_the_environment_for_the_rest() {
    use ango_core::ClientOptions;
    let server = hub();
    let options = ClientOptions::from_value(json!({
        "apiKey": "key-1", "host": server.url, "userAgent": "tests/1", "maxRetries": 0,
        "timeoutMs": 1500,
    }))
    .unwrap();
    let client = ango_core::Client::from_options(&options).unwrap();
    assert_eq!(client.host(), server.url.trim_end_matches('/'));
    assert_eq!(client.settings().retry.max_retries, 0);
    assert_eq!(
        client.settings().request_timeout,
        Some(std::time::Duration::from_millis(1500))
    );
    client.raw().get_project("p1").unwrap();
    let sent = server.last();
    assert_eq!(sent.header("apikey"), Some("key-1"));
    assert_eq!(sent.header("user-agent"), Some("tests/1"));
    // A bad setting fails before any client is made.
    let bad =
        ClientOptions::from_value(json!({"apiKey": "k", "host": server.url, "concurrency": 0.5}));
    assert!(matches!(
        ango_core::Client::from_options(&bad.unwrap()),
        Err(Error::InvalidArgument(_))
    ));
}
