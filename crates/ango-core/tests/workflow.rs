//! The whole flow through ango-core against the emulator: project, label set, batch,
//! upload, tasks, label import, annotation, export, issues, task management, deletion;
//! and pagination over a large seeded project.

mod support;

use std::collections::HashSet;
use std::io::Read;

use ango_core::models::{AnnotationPayload, Answer, ExportFormat, ExportOptions, StorageFileType};
use ango_core::ontology::{
    CategorySchema, Classification, ClassificationCategory, LabelOption, Tool, ToolCategory,
};
use ango_core::upload::{UploadFile, UploadOptions};
use ango_core::{
    AnnotateOptions, Client, CreateIssueParams, GetIssuesParams, GetTasksParams,
    RequeueTasksParams, UpdateIssueParams, Value,
};
use ango_emulator::{Emulator, EmulatorConfig};
use serde_json::{Map, json};
use support::TempDir;

fn client_for(emulator: &Emulator) -> Client {
    Client::builder(emulator.api_key())
        .host(emulator.url())
        .progress(ango_core::ProgressMode::Off)
        .build()
        .unwrap()
}

fn task_ids(filter_key: &str, ids: &[&str]) -> Map<String, Value> {
    let mut filters = Map::new();
    filters.insert(filter_key.into(), json!(ids));
    filters
}

fn all_tasks(client: &Client, project_id: &str) -> Vec<Value> {
    let params = GetTasksParams {
        include_answer: true,
        ..GetTasksParams::default()
    };
    client
        .raw()
        .iter_tasks(project_id, &params, Some(2))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_whole_flow_through_ango_core() {
    let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
    let client = client_for(&emulator);

    // Project and label set.
    let created = client
        .create_project("Workflow", Some("end to end"), None)
        .unwrap();
    assert_eq!(created.name.as_deref(), Some("Workflow"));
    let project_id = created.id.unwrap();
    let car = ToolCategory::new(Tool::BoundingBox, "Car");
    let sunny = LabelOption::new("Sunny");
    let weather = ClassificationCategory::new(Classification::Radio, "Weather")
        .options(vec![sunny.clone(), LabelOption::new("Rainy")]);
    let schema = CategorySchema {
        tools: vec![car.clone()],
        classifications: vec![weather.clone()],
        relations: vec![],
    };
    client.create_label_set(&project_id, &schema, None).unwrap();
    let project = client.get_project(&project_id).unwrap();
    assert_eq!(
        project.ontology().unwrap(),
        schema,
        "the label set round-trips"
    );
    let stored = project.category_schema.as_ref().unwrap();
    assert_eq!(stored.tools[0].title.as_deref(), Some("Car"));

    // Batch.
    client.create_batch(&project_id, "batch-a").unwrap();
    let batches = client.get_batches(&project_id).unwrap();
    assert_eq!(batches[0].name.as_deref(), Some("batch-a"));
    let batch_id = batches[0].id.clone().unwrap();

    // Upload three images into the batch.
    let dir = TempDir::new();
    let images: Vec<(std::path::PathBuf, Vec<u8>)> = (0..3)
        .map(|i| {
            let bytes = [b"\x89PNG\r\n\x1a\n".as_slice(), &[i as u8; 100]].concat();
            (dir.file(&format!("img{i}.png"), &bytes), bytes)
        })
        .collect();
    let files: Vec<UploadFile> = images.iter().map(|(p, _)| UploadFile::new(p)).collect();
    let report = client
        .upload_files(
            &project_id,
            &files,
            &UploadOptions {
                batches: Some(vec!["batch-a".into()]),
                ..UploadOptions::default()
            },
        )
        .unwrap();
    assert!(report.is_complete(), "{report:?}");
    let external_ids: Vec<String> = images
        .iter()
        .map(|(p, _)| p.to_string_lossy().into_owned())
        .collect();

    // The stored bytes are the file's bytes.
    for (outcome, (_, bytes)) in report.files.iter().zip(&images) {
        let ango_core::upload::FileStatus::Uploaded { url } = &outcome.status else {
            unreachable!()
        };
        let signed = client
            .get_signed_url(url, &project_id, StorageFileType::Asset, None)
            .unwrap();
        let mut stored = Vec::new();
        ureq::get(&signed)
            .call()
            .unwrap()
            .into_body()
            .into_reader()
            .read_to_end(&mut stored)
            .unwrap();
        assert_eq!(&stored, bytes);
    }

    // Tasks: one per upload, in the batch.
    let tasks = all_tasks(&client, &project_id);
    assert_eq!(tasks.len(), 3);
    let mut seen: Vec<String> = tasks
        .iter()
        .map(|t| t["externalId"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    assert_eq!(seen, external_ids);
    assert!(tasks.iter().all(|t| t["batches"] == json!([batch_id])));
    let task_of = |external_id: &str| -> String {
        tasks
            .iter()
            .find(|t| t["externalId"] == external_id)
            .unwrap()["_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let task0 = task_of(&external_ids[0]);
    let task1 = task_of(&external_ids[1]);
    let task2 = task_of(&external_ids[2]);

    // Import labels by external id.
    let imported_box = json!({"x": 1, "y": 2, "width": 30, "height": 40});
    client
        .import_labels(
            &project_id,
            &[json!({
                "externalId": external_ids[0],
                "objects": [{"schemaId": car.base.schema_id, "bounding-box": imported_box}],
                "classifications": [{"schemaId": weather.base.schema_id, "answer": "Sunny"}],
            })],
        )
        .unwrap();
    let task = client.raw().get_task(&task0, true).unwrap();
    let answer = &task["data"]["task"]["answer"];
    assert_eq!(answer["tools"].as_array().unwrap().len(), 1);
    assert_eq!(answer["tools"][0]["bounding-box"], imported_box);
    assert_eq!(
        answer["classifications"][0]["schemaId"],
        weather.base.schema_id
    );
    assert_eq!(task["data"]["task"]["isPreLabeled"], true);

    // Annotate and submit: the merge keeps the imported box after the new one.
    let new_box = json!({"x": 100, "y": 200, "width": 10, "height": 20});
    let payload = AnnotationPayload {
        answer: Some(Answer {
            objects: vec![json!({"schemaId": car.base.schema_id, "bounding-box": new_box})],
            ..Answer::default()
        }),
        ..AnnotationPayload::default()
    };
    let submitted = client
        .annotate_task(
            &task0,
            &payload,
            AnnotateOptions {
                send_to_next_stage: true,
                ..AnnotateOptions::default()
            },
        )
        .unwrap();
    assert!(submitted);
    let task = client.raw().get_task(&task0, true).unwrap();
    let task = &task["data"]["task"];
    assert_eq!(task["stage"], "Complete");
    let boxes: Vec<&Value> = task["answer"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["bounding-box"])
        .collect();
    assert_eq!(boxes, vec![&new_box, &imported_box]);
    assert_eq!(
        task["answer"]["classifications"].as_array().unwrap().len(),
        1,
        "the imported classification is kept"
    );

    // Export: the default options export the Complete stage.
    let mut ndjson = ExportOptions {
        export_format: ExportFormat::Ndjson,
        ..ExportOptions::default()
    };
    let rows: Vec<Value> = client
        .raw()
        .export_rows(&project_id, &ndjson)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["externalId"], external_ids[0].as_str());
    assert_eq!(row["batches"], json!(["batch-a"]));
    assert_eq!(row["task"]["taskId"], task0.as_str());
    let tools = row["task"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 2);
    for (tool, geometry) in tools.iter().zip([&new_box, &imported_box]) {
        assert_eq!(tool["schemaId"], car.base.schema_id);
        assert_eq!(tool["title"], "Car");
        assert_eq!(&tool["bounding-box"], geometry);
        assert!(tool["objectId"].as_str().is_some_and(|id| !id.is_empty()));
    }
    let classifications = row["task"]["classifications"].as_array().unwrap();
    assert_eq!(classifications.len(), 1);
    assert_eq!(classifications[0]["schemaId"], weather.base.schema_id);
    assert_eq!(classifications[0]["title"], "Weather");
    assert_eq!(
        classifications[0]["answer"], sunny.value,
        "the export names the option by its value"
    );

    // Every stage, both formats: the same content.
    ndjson.stage = None;
    let all_rows: Vec<Value> = client
        .raw()
        .export_rows(&project_id, &ndjson)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(all_rows.len(), 3);
    let mut json_options = ndjson.clone();
    json_options.export_format = ExportFormat::Json;
    let document = client
        .raw()
        .export_json(&project_id, &json_options)
        .unwrap();
    assert_eq!(document, Value::Array(all_rows.clone()));
    let streamed: Vec<Value> = client
        .raw()
        .export_rows(&project_id, &json_options)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(streamed, all_rows);

    // Issues.
    let issue = client
        .create_issue(
            &task0,
            "The box is off",
            &CreateIssueParams {
                position: Some(json!([10, 20])),
                ..CreateIssueParams::default()
            },
        )
        .unwrap();
    let issue_id = issue.id.unwrap();
    let by_task = GetIssuesParams {
        task_id: Some(task0.clone()),
        ..GetIssuesParams::default()
    };
    let listed = client.get_issues(&project_id, &by_task).unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].extra["position"], "[10, 20]");
    let updated = client
        .update_issue(
            &issue_id,
            &UpdateIssueParams {
                status: Some("Resolved".into()),
                ..UpdateIssueParams::default()
            },
        )
        .unwrap();
    assert_eq!(updated.status.as_deref(), Some("Resolved"));
    client
        .add_comment_to_issue(&issue_id, "fixed now", None)
        .unwrap();
    let listed = client.get_issues(&project_id, &by_task).unwrap();
    let comments = &listed.items[0].comments;
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0]["content"], "fixed now");
    client.delete_issue(&project_id, &issue_id).unwrap();
    let listed = client.get_issues(&project_id, &by_task).unwrap();
    assert!(listed.items.is_empty());
    assert_eq!(listed.total, 0);

    // Requeue, assign, prioritise: visible in get_tasks.
    client
        .requeue_tasks(
            &project_id,
            "Label",
            &RequeueTasksParams {
                filters: task_ids("taskIds", &[&task0]),
                ..RequeueTasksParams::default()
            },
        )
        .unwrap();
    let admin = emulator.admin_email();
    client
        .assign_task(&project_id, std::slice::from_ref(&task1), "Label", &admin)
        .unwrap();
    client
        .update_tasks_priority(&project_id, 7, &task_ids("taskIds", &[&task2]))
        .unwrap();
    let page = client
        .get_tasks(&project_id, &GetTasksParams::default())
        .unwrap();
    let find = |id: &str| {
        page.items
            .iter()
            .find(|t| t.id.as_deref() == Some(id))
            .unwrap()
    };
    assert_eq!(find(&task0).stage.as_deref(), Some("Label"));
    assert_eq!(find(&task1).assignee.as_deref(), Some(admin.as_str()));
    assert_eq!(find(&task2).priority, Some(7));
    assert_eq!(find(&task1).priority, Some(0));

    // Delete an asset: its task goes with it.
    let mut by_external_id = Map::new();
    by_external_id.insert("externalId".into(), json!(external_ids[2]));
    let assets: Vec<Value> = client
        .raw()
        .iter_assets(&project_id, &by_external_id, None)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(assets.len(), 1);
    let asset_id = assets[0]["_id"].as_str().unwrap().to_string();
    client.delete_assets(&project_id, &[asset_id]).unwrap();
    let remaining: Vec<Value> = client
        .raw()
        .iter_assets(&project_id, &Map::new(), None)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(remaining.len(), 2);
    let tasks = all_tasks(&client, &project_id);
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| t["_id"] != task2.as_str()));
}

#[test]
fn paging_a_large_project_returns_every_task_once() {
    let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
    let project_id = emulator.seed_project("big", 5_000);
    let client = client_for(&emulator);
    for (page_size, concurrency) in [(100, 8), (1000, 8), (1000, 1)] {
        let client = client.with_settings(|s| s.concurrency = concurrency);
        let mut pages = client
            .raw()
            .iter_tasks(&project_id, &GetTasksParams::default(), Some(page_size))
            .unwrap();
        let mut ids = Vec::with_capacity(5_000);
        for task in pages.by_ref() {
            ids.push(task.unwrap()["_id"].as_str().unwrap().to_string());
        }
        assert_eq!(pages.total(), Some(5_000));
        assert_eq!(ids.len(), 5_000, "page size {page_size}");
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), 5_000, "page size {page_size}: duplicates");
    }
    let assets = client
        .raw()
        .iter_assets(&project_id, &Map::new(), Some(1000))
        .unwrap()
        .map(|a| a.unwrap()["_id"].as_str().unwrap().to_string())
        .collect::<HashSet<_>>();
    assert_eq!(assets.len(), 5_000);
}
