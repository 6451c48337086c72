//! Reliability against the emulator with injected faults (429/503 answers and dropped
//! connections, fixed seed): reads and idempotent writes complete through retries,
//! creates are never duplicated, and uploads account for every file.
//!
//! The emulator decides a fault before handling a request, so a faulted request never
//! changes state: whatever failed must have left nothing behind.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ango_core::models::{AnnotationPayload, Answer};
use ango_core::upload::{UploadFile, UploadOptions};
use ango_core::{
    AnnotateOptions, Client, CreateIssueParams, GetIssuesParams, GetTasksParams, RetryPolicy, Value,
};
use ango_emulator::{Emulator, EmulatorConfig, FaultSettings};
use serde_json::{Map, json};
use support::TempDir;

const FAIL_RATE: f64 = 0.1;
const DROP_RATE: f64 = 0.05;

fn faulty_emulator(seed: u64) -> Emulator {
    Emulator::start(
        EmulatorConfig::default()
            .fail_rate(FAIL_RATE)
            .drop_rate(DROP_RATE)
            .rng_seed(seed),
    )
    .unwrap()
}

fn faults_off(emulator: &Emulator) {
    emulator.set_faults(FaultSettings::default(), None);
}

/// A client that retries up to 8 times with small backoffs.
fn patient_client(emulator: &Emulator) -> Client {
    Client::builder(emulator.api_key())
        .host(emulator.url())
        .retry_policy(RetryPolicy {
            max_retries: 8,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            ..RetryPolicy::default()
        })
        .progress(ango_core::ProgressMode::Off)
        .build()
        .unwrap()
}

/// How many requests the emulator answered with a fault so far (read off the API, so
/// never faulted itself).
fn faulted_requests(emulator: &Emulator) -> u64 {
    let mut response = ureq::get(format!("{}/__emulator/requests?limit=0", emulator.url()))
        .header("apikey", emulator.api_key())
        .call()
        .unwrap();
    let text = response.body_mut().read_to_string().unwrap();
    let stats: Value = serde_json::from_str(&text).unwrap();
    stats["data"]["faulted"].as_u64().unwrap()
}

fn task_ids_of(client: &Client, project_id: &str) -> Vec<String> {
    client
        .raw()
        .iter_tasks(project_id, &GetTasksParams::default(), Some(1000))
        .unwrap()
        .map(|t| t.unwrap()["_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn paging_under_faults_returns_every_task_exactly_once() {
    let emulator = faulty_emulator(11);
    let project_id = emulator.seed_project("paged", 2_000);
    let client = patient_client(&emulator);
    // Iterators fetch pages of 1000 whatever the page size: a few rounds, so that
    // faults hit some of the (few) requests.
    let rounds = [(100, 8), (100, 1), (250, 4)].repeat(5);
    for (page_size, concurrency) in rounds {
        let client = client.with_settings(|s| s.concurrency = concurrency);
        let mut ids = Vec::new();
        for task in client
            .raw()
            .iter_tasks(&project_id, &GetTasksParams::default(), Some(page_size))
            .unwrap()
        {
            ids.push(task.unwrap()["_id"].as_str().unwrap().to_string());
        }
        assert_eq!(ids.len(), 2_000, "page size {page_size}");
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), 2_000, "page size {page_size}: duplicates");
    }
    assert!(faulted_requests(&emulator) > 0, "no fault was injected");
}

#[test]
fn reads_and_idempotent_writes_complete_under_faults() {
    let emulator = faulty_emulator(22);
    let project_id = emulator.seed_project("busy", 40);
    let client = patient_client(&emulator);

    for _ in 0..30 {
        let project = client.raw().get_project(&project_id).unwrap();
        assert_eq!(project["data"]["project"]["_id"], project_id.as_str());
        let page = client
            .raw()
            .get_tasks(&project_id, &GetTasksParams::default())
            .unwrap();
        assert_eq!(page["data"]["total"], 40);
    }

    let tasks = {
        faults_off(&emulator);
        let ids = task_ids_of(&client, &project_id);
        emulator.set_faults(
            FaultSettings {
                latency_ms: 0,
                fail_rate: FAIL_RATE,
                drop_rate: DROP_RATE,
            },
            Some(23),
        );
        ids
    };
    let schema_id = "a1b2c3d4e5f6a7b8c9d0e1f"; // the seeded ontology's "Car" box
    for (i, task_id) in tasks.iter().take(20).enumerate() {
        let payload = AnnotationPayload {
            answer: Some(Answer {
                objects: vec![json!({
                    "schemaId": schema_id,
                    "objectId": format!("box-{i}"),
                    "bounding-box": {"x": i, "y": 1, "width": 2, "height": 3},
                })],
                ..Answer::default()
            }),
            ..AnnotationPayload::default()
        };
        let options = AnnotateOptions {
            overwrite: true,
            ..AnnotateOptions::default()
        };
        // The SDK sends an annotation once (retry table: BeforeSend), so a fault after
        // sending reaches the caller; an overwrite without nextStage is safe for the
        // caller to repeat, which this loop does. Twice: an overwrite is idempotent.
        for _ in 0..2 {
            let mut attempts = 0;
            loop {
                attempts += 1;
                match client.annotate_task(task_id, &payload, options) {
                    Ok(saved) => break assert!(saved),
                    Err(e) if attempts < 20 => {
                        assert!(
                            matches!(e.status(), Some(500..=599)) || e.status().is_none(),
                            "{e:?}"
                        );
                    }
                    Err(e) => panic!("annotation kept failing: {e:?}"),
                }
            }
        }
    }
    for priority in 1..=20 {
        client
            .update_tasks_priority(&project_id, priority, &Map::new())
            .unwrap();
    }
    assert!(faulted_requests(&emulator) > 0, "no fault was injected");

    faults_off(&emulator);
    let params = GetTasksParams {
        include_answer: true,
        ..GetTasksParams::default()
    };
    let listed: HashMap<String, Value> = client
        .raw()
        .iter_tasks(&project_id, &params, Some(100))
        .unwrap()
        .map(|t| {
            let t = t.unwrap();
            (t["_id"].as_str().unwrap().to_string(), t)
        })
        .collect();
    assert_eq!(listed.len(), 40);
    for task in listed.values() {
        assert_eq!(task["priority"], 20);
    }
    for (i, task_id) in tasks.iter().take(20).enumerate() {
        let tools = listed[task_id]["answer"]["tools"].as_array().unwrap();
        assert_eq!(tools.len(), 1, "overwritten, not appended");
        assert_eq!(tools[0]["objectId"], format!("box-{i}"));
    }
}

#[test]
fn creates_under_faults_are_never_duplicated() {
    let emulator = faulty_emulator(33);
    let project_id = emulator.seed_project("issues", 3);
    let client = patient_client(&emulator);
    let task_id = {
        faults_off(&emulator);
        let id = task_ids_of(&client, &project_id).remove(0);
        emulator.set_faults(
            FaultSettings {
                latency_ms: 0,
                fail_rate: FAIL_RATE,
                drop_rate: DROP_RATE,
            },
            Some(34),
        );
        id
    };

    let mut issues_created = 0;
    let mut issue_failures = Vec::new();
    for i in 0..40 {
        match client.raw().create_issue(
            &task_id,
            &format!("issue {i}"),
            &CreateIssueParams::default(),
        ) {
            Ok(response) => {
                assert!(response["data"]["issue"]["_id"].is_string());
                issues_created += 1;
            }
            Err(error) => issue_failures.push(error),
        }
    }
    let mut batches_created = HashSet::new();
    for i in 0..20 {
        let name = format!("batch-{i}");
        if client.create_batch(&project_id, &name).is_ok() {
            batches_created.insert(name);
        }
    }
    assert!(faulted_requests(&emulator) > 0, "no fault was injected");
    // A failed create is a connection error (the request may have reached the server,
    // so it is not repeated); 429 and 503 were retried.
    for error in &issue_failures {
        assert!(
            matches!(error, ango_core::Error::Connection(_)),
            "unexpected failure: {error:?}"
        );
    }

    faults_off(&emulator);
    let issues = client
        .raw()
        .get_issues(&project_id, &GetIssuesParams::default())
        .unwrap();
    let issues = issues["data"]["issues"].as_array().unwrap();
    assert_eq!(
        issues.len(),
        issues_created,
        "{} creates failed",
        issue_failures.len()
    );
    let contents: HashSet<&str> = issues
        .iter()
        .map(|i| i["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents.len(), issues.len(), "no issue was created twice");

    let batches = client.raw().get_batches(&project_id).unwrap();
    let names: Vec<String> = batches
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_string())
        .filter(|n| n.starts_with("batch-"))
        .collect();
    let unique: HashSet<String> = names.iter().cloned().collect();
    assert_eq!(names.len(), unique.len(), "no batch was created twice");
    assert_eq!(unique, batches_created);
}

#[test]
fn uploads_under_faults_account_for_every_file() {
    let emulator = faulty_emulator(44);
    let created = {
        let client = patient_client(&emulator);
        faults_off(&emulator);
        let created = client.raw().create_project("uploads", None, None).unwrap();
        emulator.set_faults(
            FaultSettings {
                latency_ms: 0,
                fail_rate: FAIL_RATE,
                drop_rate: DROP_RATE,
            },
            Some(45),
        );
        created
    };
    let project_id = created["data"]["project"]["_id"].as_str().unwrap();
    let client = patient_client(&emulator);
    let dir = TempDir::new();
    let mut reports = Vec::new();
    // Several rounds, so that some registration calls are likely to be dropped too.
    for round in 0..3 {
        let files: Vec<UploadFile> = (0..30)
            .map(|i| {
                let name = format!("r{round}-f{i:02}.jpg");
                UploadFile::new(dir.file(&name, name.as_bytes()))
            })
            .collect();
        match client.upload_files(project_id, &files, &UploadOptions::default()) {
            Ok(report) => {
                assert_eq!(report.files.len(), 30, "every file is reported");
                for (outcome, file) in report.files.iter().zip(&files) {
                    assert_eq!(outcome.path, file.path);
                }
                if report.registration_error.is_some() {
                    assert_eq!(report.uploaded().count(), 0);
                }
                reports.push(report);
            }
            // Only the project check before any upload can fail the whole call.
            Err(error) => panic!("round {round}: {error:?}"),
        }
    }
    assert!(faulted_requests(&emulator) > 0, "no fault was injected");

    faults_off(&emulator);
    let mut registered: HashMap<String, usize> = HashMap::new();
    for asset in client
        .raw()
        .iter_assets(project_id, &Map::new(), Some(1000))
        .unwrap()
    {
        let asset = asset.unwrap();
        *registered
            .entry(asset["externalId"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    let mut uploaded = 0;
    for report in &reports {
        for outcome in &report.files {
            let count = registered.get(&outcome.external_id).copied().unwrap_or(0);
            if outcome.is_uploaded() {
                uploaded += 1;
                assert_eq!(count, 1, "{} registered {count} times", outcome.external_id);
            } else {
                assert_eq!(count, 0, "{} failed but is registered", outcome.external_id);
            }
        }
    }
    assert_eq!(
        registered.values().sum::<usize>(),
        uploaded,
        "nothing else registered"
    );
    assert!(uploaded > 0, "at least one round got through");
}
