//! Export and Model flows end to end: the fake hub sends the `plugin` event, the
//! runtime calls the API of a real `ango-emulator`.

mod hub;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ango_core::brush::BrushMask;
use ango_core::{Client, GetTasksParams};
use ango_emulator::{Emulator, EmulatorConfig};
use ango_plugins::{
    CallbackResult, FnCallback, PluginConfig, PluginKind, PluginRequest, RunningPlugin,
};
use hub::{FakeHub, plugin_frame};
use serde_json::{Value, json};

fn start(
    hub: &FakeHub,
    emu: &Emulator,
    kind: PluginKind,
    f: impl Fn(PluginRequest) -> CallbackResult + Send + Sync + 'static,
) -> RunningPlugin {
    let mut config = PluginConfig::new("PID", "SECRET", kind);
    config.hub_url = hub.url();
    config.api_host = emu.url().to_string();
    config.echo_logs = false;
    RunningPlugin::start(config, Arc::new(FnCallback(f))).unwrap()
}

fn client(emu: &Emulator) -> Client {
    Client::builder(emu.api_key())
        .host(emu.url())
        .max_retries(0)
        .build()
        .unwrap()
}

fn task_ids(emu: &Emulator, project: &str) -> Vec<String> {
    let page = client(emu)
        .raw()
        .get_tasks(project, &GetTasksParams::default())
        .unwrap();
    page["data"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn export_streams_rows_uploads_the_file_and_answers_with_its_signed_url() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let project = emu.seed_project_with("exp", 3, 1, true);
    let hub = FakeHub::start();
    let plugin = start(&hub, &emu, PluginKind::Export, |mut req| {
        let rows = req.export_rows.take().expect("Export gets rows");
        let count = req.data["numTasks"].as_u64().unwrap();
        let ids: Vec<String> = rows
            .map(|row| row.unwrap()["taskId"].as_str().unwrap_or("?").to_string())
            .collect();
        assert!(
            !req.data.contains_key("batches"),
            "no batches default for Export"
        );
        CallbackResult::ExportFile {
            bytes: format!("{count} rows: {}", ids.len()).into_bytes(),
            file_name: "my export.zip".into(),
            storage_id: None,
        }
    });
    let (conn, _) = hub.connect_plugin(1000, 1000);
    conn.send(plugin_frame(
        &json!({"projectId": project, "apiKey": emu.api_key(), "session": "e1",
                "configJSON": "{\"include_key_frames_only\": true}"}),
        None,
    ));
    let record = conn.expect_event("response");
    assert_eq!(record["export"], true, "{record}");
    assert_eq!(record["session"], "e1");
    let signed = record["response"].as_str().unwrap();
    let body = ureq_get(signed);
    assert_eq!(body, "3 rows: 3");

    // An export that cannot be made ends the session with a message.
    conn.send(plugin_frame(
        &json!({"projectId": "no-such-project", "apiKey": emu.api_key(), "session": "e2"}),
        None,
    ));
    let log = conn.expect_event("log");
    assert_eq!(log["level"], "ERROR");
    let record = conn.expect_event("response");
    assert_eq!(record["error"], true);
    assert_eq!(record["session"], "e2");
    assert!(
        record["message"]
            .as_str()
            .unwrap()
            .starts_with("Error calling sdk.export"),
        "{record}"
    );
    plugin.shutdown();
}

fn ureq_get(url: &str) -> String {
    // The signed URL points at the emulator's file store; read it with a plain GET.
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text.split_once("\r\n\r\n").unwrap().1.to_string()
}

#[test]
fn model_editor_path_merges_with_the_stored_answer_when_not_overwriting() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let project = emu.seed_project_with("model", 1, 1, false);
    let task = task_ids(&emu, &project).remove(0);
    let stored = client(&emu).raw().get_task(&task, true).unwrap();
    let old_tools = stored["data"]["task"]["answer"]["tools"].clone();
    assert_eq!(old_tools.as_array().map(Vec::len), Some(1), "{stored}");
    let hub = FakeHub::start();
    let plugin = start(&hub, &emu, PluginKind::Model, |_| {
        CallbackResult::Annotation {
            payload: json!({"answer": {"objects": [{"objectId": "new"}], "classifications": [], "relations": []},
                        "brushDataUrl": null, "medicalBrushDataUrl": null, "duration": 0}),
            brush: None,
            medical_brush: None,
        }
    });
    let (conn, _) = hub.connect_plugin(1000, 1000);
    conn.send(plugin_frame(
        &json!({"projectId": project, "taskId": task, "apiKey": emu.api_key(),
                "session": "m1", "overwrite": false}),
        None,
    ));
    let record = conn.expect_event("response");
    assert_eq!(record["session"], "m1");
    let objects = record["response"]["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 2, "{record}");
    assert_eq!(objects[0], json!({"objectId": "new"}));
    assert_eq!(objects[1], old_tools[0]);

    // overwrite missing (= true): the callback's answer alone.
    conn.send(plugin_frame(
        &json!({"projectId": project, "taskId": task, "apiKey": emu.api_key(), "session": "m2"}),
        None,
    ));
    let record = conn.expect_event("response");
    assert_eq!(
        record,
        json!({"response": {"objects": [{"objectId": "new"}], "classifications": [], "relations": []}, "session": "m2"})
    );
    plugin.shutdown();
}

#[test]
fn model_workflow_path_annotates_with_next_stage_and_uploads_brushes() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let project = emu.seed_project_with("wf", 2, 0, false);
    let tasks = task_ids(&emu, &project);
    let api = client(&emu);
    let before = api.raw().get_task(&tasks[0], true).unwrap();
    let stage_before = before["data"]["task"]["stage"].clone();
    let hub = FakeHub::start();
    let plugin = start(&hub, &emu, PluginKind::Model, |req| {
        if req.data["taskId"] == "missing-task" {
            return CallbackResult::Annotation {
                payload: json!({"answer": null}),
                brush: None,
                medical_brush: None,
            };
        }
        CallbackResult::Annotation {
            payload: json!({"answer": {"objects": [], "classifications": [], "relations": []},
                            "brushDataUrl": null, "medicalBrushDataUrl": null, "duration": 0}),
            brush: Some(BrushMask::from_shape(&[2, 2], vec![0.0, 1.0, 1.0, 0.0], false).unwrap()),
            medical_brush: None,
        }
    });
    let (conn, _) = hub.connect_plugin(1000, 1000);
    conn.send(plugin_frame(
        &json!({"workflow": true, "projectId": project, "taskId": tasks[0],
                "apiKey": emu.api_key(), "session": "w1", "overwrite": true}),
        None,
    ));
    // Success sends nothing (as the official runtime): watch the task instead.
    let deadline = Instant::now() + Duration::from_secs(10);
    let task = loop {
        let task = api.raw().get_task(&tasks[0], true).unwrap();
        if task["data"]["task"]["brushDataUrl"].is_string() || Instant::now() > deadline {
            break task;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let url = task["data"]["task"]["brushDataUrl"]
        .as_str()
        .expect("a brush URL");
    assert!(url.ends_with(".png") && !url.contains('?'), "{url}");
    assert_ne!(
        task["data"]["task"]["stage"], stage_before,
        "moved to the next stage"
    );

    // A failed annotate (unknown task) ends the session with an error record.
    conn.send(plugin_frame(
        &json!({"workflow": true, "projectId": project, "taskId": "missing-task",
                "apiKey": emu.api_key(), "session": "w2"}),
        None,
    ));
    let log = conn.expect_event("log");
    assert_eq!(log["level"], "ERROR");
    let record = conn.expect_event("response");
    assert_eq!(record["error"], true);
    assert_eq!(record["session"], "w2");
    assert!(
        record["message"]
            .as_str()
            .unwrap()
            .contains("Workflow plugin failed")
    );
    assert!(
        conn.recv(Duration::from_millis(200)).is_none(),
        "nothing else"
    );
    let _: Value = Value::Null;
    plugin.shutdown();
}
