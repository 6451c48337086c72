//! Uploads: the requests of `upload_files` (project check, signed URLs, key-less PUTs,
//! one registration call), per-file outcomes and retries, `upload_files_cloud`,
//! instructions and chat assets.

use ango_testkit as support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ango_core::models::ChatAssetCreationConfig;
use ango_core::upload::{FileStatus, UploadFile, UploadOptions, UploadReport};
use ango_core::{Client, Error, RetryPolicy, Value};
use serde_json::json;
use support::{Recorded, Recorder, Reply, TempDir};

const SIGNED_QUERY: &str = "X-Amz-Signature=abc&X-Amz-Expires=60";

/// How the fake hub behaves.
#[derive(Clone)]
struct Hub {
    project_type: &'static str,
    /// Status of the registration call.
    cloud_status: u16,
    /// PUTs seen per body, to fail "flaky" bodies once.
    puts: Arc<Mutex<HashMap<Vec<u8>, usize>>>,
}

impl Hub {
    fn new() -> Hub {
        Hub {
            project_type: "ango",
            cloud_status: 200,
            puts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn project_type(mut self, kind: &'static str) -> Hub {
        self.project_type = kind;
        self
    }

    fn cloud_status(mut self, status: u16) -> Hub {
        self.cloud_status = status;
        self
    }

    fn answer(&self, r: &Recorded) -> Option<Reply> {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/v2/project/p1") => Some(Reply::json(json!({
                "status": "success",
                "data": {"project": {
                    "_id": "p1",
                    "type": self.project_type,
                    "batches": [{"_id": "b1", "name": "first"}, {"_id": "b2", "name": "second"}]
                }}
            }))),
            ("GET", "/v2/storages") => Some(Reply::json(json!({
                "status": "success",
                "data": {"storages": [{"_id": "s1", "name": "bucket one"}]}
            }))),
            ("GET", "/v2/getUploadUrl") => {
                let host = r.header("host").unwrap_or_default();
                let name = r.query_value("name").unwrap_or_default();
                Some(Reply::json(json!({
                    "status": "success",
                    "data": {"uploadUrl": format!("http://{host}/bucket/{name}?{SIGNED_QUERY}")}
                })))
            }
            ("PUT", path) if path.starts_with("/bucket/") => {
                let seen = {
                    let mut puts = self.puts.lock().unwrap();
                    let count = puts.entry(r.body.clone()).or_insert(0);
                    *count += 1;
                    *count
                };
                Some(match r.body.as_slice() {
                    b"broken" => Reply::status(500, "<Error>InternalError</Error>"),
                    b"flaky" if seen == 1 => Reply::status(500, "<Error>SlowDown</Error>"),
                    _ => Reply::bytes(Vec::new()),
                })
            }
            ("POST", "/v2/project/p1/cloud") => Some(match self.cloud_status {
                200 => Reply::json(json!({
                    "status": "success",
                    "data": {"assets": {"assetsCreated": 1}}
                })),
                status => Reply::status(status, r#"{"status":"error","message":"boom"}"#),
            }),
            _ => None,
        }
    }

    fn start(self) -> Recorder {
        Recorder::with_responder(move |r| self.answer(r))
    }
}

/// A client that retries quickly (PUT retries are part of what is tested).
fn retrying_client(server: &Recorder, retries: u32) -> Client {
    Client::builder("test-key")
        .host(&server.url)
        .retry_policy(RetryPolicy {
            max_retries: retries,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .progress(ango_core::ProgressMode::Off)
        .build()
        .unwrap()
}

fn one_at_a_time() -> UploadOptions {
    UploadOptions {
        concurrency: Some(1),
        ..UploadOptions::default()
    }
}

fn path_text(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn cloud_calls(server: &Recorder) -> Vec<Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/cloud"))
        .collect()
}

fn puts(server: &Recorder) -> Vec<Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect()
}

fn registered_external_ids(server: &Recorder) -> Vec<String> {
    cloud_calls(server)
        .iter()
        .flat_map(|r| r.json()["assets"].as_array().cloned().unwrap_or_default())
        .map(|a| a["externalId"].as_str().unwrap().to_string())
        .collect()
}

fn failed_error(report: &UploadReport, index: usize) -> &str {
    match &report.files[index].status {
        FileStatus::Failed { error } => error,
        other => panic!("file {index} should have failed: {other:?}"),
    }
}

#[test]
fn upload_files_sends_the_official_requests() {
    let dir = TempDir::new();
    let photo = dir.file("photo.PNG", b"\x89PNG\r\n\x1a\n fake image");
    let scan_bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let scan = dir.file("scan.nii.gz", &scan_bytes);
    let server = Hub::new().start();
    let files = vec![
        UploadFile::new(&photo),
        UploadFile {
            path: scan.clone(),
            external_id: Some("scan-1".into()),
            context_data: Some(json!({"note": "ct"})),
            metadata: Some(json!({"width": 10, "height": 20})),
        },
    ];
    let report = server
        .client()
        .upload_files("p1", &files, &one_at_a_time())
        .unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 6, "{requests:#?}");
    requests[0].assert_call("GET", "/v2/project/p1", &[], "");
    let mut stored_urls = Vec::new();
    for (i, (path, bytes, ext)) in [
        (&photo, &b"\x89PNG\r\n\x1a\n fake image"[..], "PNG"),
        (&scan, &scan_bytes[..], "nii.gz"),
    ]
    .into_iter()
    .enumerate()
    {
        let url_call = &requests[1 + 2 * i];
        assert_eq!(url_call.method, "GET");
        assert_eq!(url_call.path, "/v2/getUploadUrl");
        let name = url_call.query_value("name").unwrap().to_string();
        let (id, got_ext) = name.split_once('.').unwrap();
        assert!(is_hex32(id), "{name}");
        assert_eq!(got_ext, ext, "{path:?}");
        let expected_query: Vec<(String, String)> = vec![
            ("name".into(), name.clone()),
            ("project".into(), "p1".into()),
            ("type".into(), "assets".into()),
        ];
        assert_eq!(url_call.query, expected_query);
        assert_eq!(url_call.header("apikey"), Some("test-key"));
        assert_eq!(url_call.header("content-type"), None);

        let put = &requests[2 + 2 * i];
        assert_eq!(put.method, "PUT");
        assert_eq!(put.path, format!("/bucket/{name}"));
        assert_eq!(put.raw_query, SIGNED_QUERY);
        assert_eq!(put.body, bytes, "the exact bytes of {path:?}");
        assert_eq!(put.header("apikey"), None, "the key must not go to storage");
        assert_eq!(
            put.header("content-length"),
            Some(bytes.len().to_string().as_str())
        );
        stored_urls.push(format!("{}/bucket/{name}", server.url));
    }
    let expected_body = format!(
        r#"{{"assets": [{{"data": "{}", "externalId": "{}", "contextData": null, "metadata": null}}, {{"data": "{}", "externalId": "scan-1", "contextData": {{"note": "ct"}}, "metadata": {{"width": 10, "height": 20}}}}], "uploadLocal": "true", "priority": 0}}"#,
        stored_urls[0],
        path_text(&photo),
        stored_urls[1],
    );
    requests[5].assert_call("POST", "/v2/project/p1/cloud", &[], &expected_body);

    assert!(report.is_complete());
    assert!(report.registration_error.is_none());
    assert_eq!(
        report.response.as_ref().unwrap()["data"]["assets"]["assetsCreated"],
        1
    );
    assert_eq!(report.files.len(), 2);
    assert_eq!(report.files[0].path, photo);
    assert_eq!(report.files[0].external_id, path_text(&photo));
    assert_eq!(report.files[1].external_id, "scan-1");
    for (outcome, url) in report.files.iter().zip(&stored_urls) {
        assert_eq!(outcome.status, FileStatus::Uploaded { url: url.clone() });
    }
}

#[test]
fn storage_batches_and_priority_reach_every_call() {
    let dir = TempDir::new();
    let file = dir.file("a.jpg", b"jpeg");
    let server = Hub::new().start();
    let options = UploadOptions {
        storage_id: Some("s1".into()),
        batches: Some(vec!["first".into()]),
        priority: 7,
        ..UploadOptions::default()
    };
    let report = server
        .client()
        .upload_files("p1", &[UploadFile::new(&file)], &options)
        .unwrap();
    assert!(report.is_complete());

    let calls: Vec<(String, String)> = server
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let name = server.requests()[2]
        .query_value("name")
        .unwrap()
        .to_string();
    let expected: Vec<(String, String)> = [
        ("GET", "/v2/project/p1".to_string()),
        ("GET", "/v2/storages".to_string()),
        ("GET", "/v2/getUploadUrl".to_string()),
        ("PUT", format!("/bucket/{name}")),
        // The registration call checks the storage and turns batch names into ids again,
        // as the official `upload_files_cloud` does.
        ("GET", "/v2/storages".to_string()),
        ("GET", "/v2/project/p1".to_string()),
        ("POST", "/v2/project/p1/cloud".to_string()),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_string(), p))
    .collect();
    assert_eq!(calls, expected);
    assert_eq!(server.requests()[2].query_value("storageId"), Some("s1"));
    let cloud = server.last();
    let body = format!(
        r#"{{"assets": [{{"data": "{}/bucket/{name}", "externalId": "{}", "contextData": null, "metadata": null, "storage": "s1"}}], "uploadLocal": "true", "priority": 7}}"#,
        server.url,
        path_text(&file)
    );
    cloud.assert_call(
        "POST",
        "/v2/project/p1/cloud",
        &[("batches", r#"["b1"]"#)],
        &body,
    );
}

#[test]
fn a_pct_project_is_refused_before_any_upload() {
    let dir = TempDir::new();
    let file = dir.file("a.jpg", b"jpeg");
    let server = Hub::new().project_type("pct").start();
    let err = server
        .client()
        .upload_files("p1", &[UploadFile::new(&file)], &UploadOptions::default())
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.contains("PCT")),
        "{err:?}"
    );
    assert_eq!(server.only().path, "/v2/project/p1");
}

#[test]
fn a_missing_project_is_not_found() {
    let dir = TempDir::new();
    let file = dir.file("a.jpg", b"jpeg");
    let server = Recorder::start();
    server.push(Reply::status(404, r#"{"status":"fail","message":"nope"}"#));
    let err = server
        .client()
        .upload_files("p9", &[UploadFile::new(&file)], &UploadOptions::default())
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound(m) if m == "Project with given ID does not exist."),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn an_unknown_storage_is_refused_before_any_upload() {
    let dir = TempDir::new();
    let file = dir.file("a.jpg", b"jpeg");
    let server = Hub::new().start();
    let options = UploadOptions {
        storage_id: Some("s-unknown".into()),
        ..UploadOptions::default()
    };
    let err = server
        .client()
        .upload_files("p1", &[UploadFile::new(&file)], &options)
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m == "Storage ID is Invalid!"),
        "{err:?}"
    );
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, vec!["/v2/project/p1", "/v2/storages"]);
}

#[test]
fn an_unknown_batch_is_refused_before_any_upload() {
    let dir = TempDir::new();
    let file = dir.file("a.jpg", b"jpeg");
    let server = Hub::new().start();
    let options = UploadOptions {
        batches: Some(vec!["first".into(), "nope".into()]),
        ..UploadOptions::default()
    };
    let err = server
        .client()
        .upload_files("p1", &[UploadFile::new(&file)], &options)
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound(m) if m == "Batch nope not found"),
        "{err:?}"
    );
    assert_eq!(server.only().path, "/v2/project/p1");
}

#[test]
fn unreadable_files_are_reported_and_the_others_registered_in_input_order() {
    let dir = TempDir::new();
    let names = ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"];
    let mut files: Vec<UploadFile> = names
        .iter()
        .map(|n| UploadFile::new(dir.file(n, n.as_bytes())))
        .collect();
    let missing = dir.join("missing.jpg");
    let a_directory = dir.join("sub.jpg");
    std::fs::create_dir(&a_directory).unwrap();
    files.insert(1, UploadFile::new(&missing));
    files.insert(4, UploadFile::new(&a_directory));
    let server = Hub::new().start();
    let report = server
        .client()
        .upload_files("p1", &files, &UploadOptions::default())
        .unwrap();

    assert_eq!(report.files.len(), 7);
    let order: Vec<PathBuf> = report.files.iter().map(|f| f.path.clone()).collect();
    let input: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(order, input, "outcomes follow the input order");
    assert!(failed_error(&report, 1).contains("missing.jpg"));
    assert!(failed_error(&report, 4).contains("not a file"));
    assert_eq!(report.uploaded().count(), 5, "{report:#?}");
    assert!(!report.is_complete());
    assert!(report.registration_error.is_none());

    let expected: Vec<String> = report.uploaded().map(|f| f.external_id.clone()).collect();
    assert_eq!(
        expected,
        names
            .iter()
            .map(|n| path_text(&dir.join(n)))
            .collect::<Vec<_>>()
    );
    assert_eq!(registered_external_ids(&server), expected);
    assert_eq!(
        puts(&server).len(),
        5,
        "nothing is sent for unreadable paths"
    );
    // Each registered URL is the one its file was PUT to.
    let cloud = &cloud_calls(&server)[0].json();
    for (asset, outcome) in cloud["assets"]
        .as_array()
        .unwrap()
        .iter()
        .zip(report.uploaded())
    {
        let FileStatus::Uploaded { url } = &outcome.status else {
            unreachable!()
        };
        assert_eq!(asset["data"], url.as_str());
    }
}

#[test]
fn empty_and_multi_megabyte_files_arrive_intact() {
    let dir = TempDir::new();
    let empty = dir.file("empty.txt", b"");
    let big_bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let big = dir.file("big.bin", &big_bytes);
    let server = Hub::new().start();
    let report = server
        .client()
        .upload_files(
            "p1",
            &[UploadFile::new(&empty), UploadFile::new(&big)],
            &UploadOptions::default(),
        )
        .unwrap();
    assert!(report.is_complete(), "{report:?}");
    let puts = puts(&server);
    assert_eq!(puts.len(), 2);
    let empty_put = puts.iter().find(|p| p.body.is_empty()).unwrap();
    assert_eq!(empty_put.header("content-length"), Some("0"));
    let big_put = puts.iter().find(|p| !p.body.is_empty()).unwrap();
    assert!(big_put.body == big_bytes, "the big file arrived changed");
    assert_eq!(big_put.header("content-length"), Some("3000000"));
    assert_eq!(big_put.header("transfer-encoding"), None);
}

#[test]
fn progress_sees_every_file_once() {
    let dir = TempDir::new();
    let files: Vec<UploadFile> = (0..6)
        .map(|i| UploadFile::new(dir.file(&format!("{i}.jpg"), b"x")))
        .chain([UploadFile::new(dir.join("missing.jpg"))])
        .collect();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let progress = ango_core::progress::FnProgress::new(move |done, total| {
        sink.lock().unwrap().push((done, total));
    });
    let server = Hub::new().start();
    let options = UploadOptions {
        progress: Some(Arc::new(progress)),
        ..UploadOptions::default()
    };
    server
        .client()
        .upload_files("p1", &files, &options)
        .unwrap();
    let mut seen = seen.lock().unwrap().clone();
    assert_eq!(seen.remove(0), (0, 7), "start with the file count");
    seen.sort();
    assert_eq!(seen, (1..=7).map(|done| (done, 7)).collect::<Vec<_>>());
}

#[test]
fn a_put_failing_once_is_retried() {
    let dir = TempDir::new();
    let flaky = dir.file("flaky.jpg", b"flaky");
    let server = Hub::new().start();
    let report = retrying_client(&server, 3)
        .upload_files("p1", &[UploadFile::new(&flaky)], &UploadOptions::default())
        .unwrap();
    assert!(report.is_complete(), "{report:?}");
    let puts = puts(&server);
    assert_eq!(puts.len(), 2);
    assert_eq!(puts[0].path, puts[1].path, "the same signed URL again");
    assert!(puts.iter().all(|p| p.body == b"flaky"));
    assert_eq!(registered_external_ids(&server), vec![path_text(&flaky)]);
}

#[test]
fn a_put_failing_for_good_fails_only_that_file() {
    let dir = TempDir::new();
    let good = dir.file("good.jpg", b"good");
    let broken = dir.file("broken.jpg", b"broken");
    let server = Hub::new().start();
    let report = retrying_client(&server, 2)
        .upload_files(
            "p1",
            &[UploadFile::new(&broken), UploadFile::new(&good)],
            &UploadOptions::default(),
        )
        .unwrap();
    assert!(failed_error(&report, 0).contains("InternalError"));
    assert!(report.files[1].is_uploaded());
    let broken_puts = puts(&server).iter().filter(|p| p.body == b"broken").count();
    assert_eq!(broken_puts, 3, "one attempt and two retries");
    assert_eq!(registered_external_ids(&server), vec![path_text(&good)]);
}

#[test]
fn nothing_is_registered_when_every_file_fails() {
    let dir = TempDir::new();
    let server = Hub::new().start();
    let files = [
        UploadFile::new(dir.join("gone-1.jpg")),
        UploadFile::new(dir.join("gone-2.jpg")),
    ];
    let report = server
        .client()
        .upload_files("p1", &files, &UploadOptions::default())
        .unwrap();
    assert_eq!(report.failed().count(), 2);
    assert!(report.response.is_none());
    assert!(report.registration_error.is_none());
    assert!(cloud_calls(&server).is_empty());

    // No files at all: no uploads and no registration.
    server.clear();
    let report = server
        .client()
        .upload_files("p1", &[], &UploadOptions::default())
        .unwrap();
    assert!(report.files.is_empty() && report.is_complete());
    assert_eq!(server.only().path, "/v2/project/p1");
}

#[test]
fn a_failed_registration_fails_every_file() {
    let dir = TempDir::new();
    let files = [
        UploadFile::new(dir.file("a.jpg", b"a")),
        UploadFile::new(dir.file("b.jpg", b"b")),
    ];
    let server = Hub::new().cloud_status(500).start();
    // Retries are on: a registration POST that reached the server is still not repeated.
    let report = retrying_client(&server, 3)
        .upload_files("p1", &files, &UploadOptions::default())
        .unwrap();
    let error = report.registration_error.as_ref().unwrap();
    assert_eq!(error.status(), Some(500));
    assert!(report.response.is_none());
    assert_eq!(report.failed().count(), 2);
    for i in 0..2 {
        let message = failed_error(&report, i);
        assert!(message.contains("not registered"), "{message}");
        assert!(
            message.contains("/bucket/"),
            "says where the bytes are: {message}"
        );
    }
    assert_eq!(cloud_calls(&server).len(), 1);
}

#[test]
fn stored_names_keep_the_official_extension() {
    let dir = TempDir::new();
    let cases = [
        ("scan.NII.GZ", Some("nii.gz")),
        ("brain.nii.gz", Some("nii.gz")),
        ("archive.tar.gz", Some("gz")),
        ("README", None),
        ("photo.JPEG", Some("JPEG")),
    ];
    let files: Vec<UploadFile> = cases
        .iter()
        .map(|(name, _)| UploadFile::new(dir.file(name, name.as_bytes())))
        .collect();
    let server = Hub::new().start();
    let report = server
        .client()
        .upload_files("p1", &files, &one_at_a_time())
        .unwrap();
    assert!(report.is_complete());
    let names: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path == "/v2/getUploadUrl")
        .map(|r| r.query_value("name").unwrap().to_string())
        .collect();
    assert_eq!(names.len(), cases.len());
    for (name, (file, ext)) in names.iter().zip(cases) {
        match ext {
            Some(ext) => {
                let (id, got) = name.split_once('.').unwrap();
                assert!(is_hex32(id), "{name}");
                assert_eq!(got, ext, "{file}");
            }
            None => assert!(is_hex32(name), "{file}: {name}"),
        }
    }
}

#[test]
fn upload_files_cloud_turns_batch_names_into_ids() {
    let server = Hub::new().start();
    let assets = vec![
        json!({"data": "https://x/a.png", "externalId": "a", "batches": ["first", "b2"]}),
        json!({"data": "https://x/b.png"}),
    ];
    let batches = vec!["second".to_string()];
    let response = server
        .client()
        .upload_files_cloud("p1", assets, Some("s1"), Some(&batches), 3, None)
        .unwrap();
    assert_eq!(response["status"], "success");
    let requests = server.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "/v2/storages",
            "/v2/project/p1",
            "/v2/project/p1",
            "/v2/project/p1/cloud"
        ]
    );
    requests[3].assert_call(
        "POST",
        "/v2/project/p1/cloud",
        &[("batches", r#"["b2"]"#)],
        r#"{"assets": [{"data": "https://x/a.png", "externalId": "a", "batches": ["b1", "b2"], "storage": "s1"}, {"data": "https://x/b.png", "storage": "s1"}], "uploadLocal": null, "priority": 3}"#,
    );
    assert_eq!(
        requests[3].raw_query, "batches=%5B%22b2%22%5D",
        "the JSON list is percent-encoded"
    );

    // Without storage or batches: one call, assets as given.
    server.clear();
    server
        .client()
        .upload_files_cloud(
            "p1",
            vec![json!({"data": "https://x/c.png", "externalId": 5})],
            None,
            Some(&[]),
            0,
            Some("true"),
        )
        .unwrap();
    server.only().assert_call(
        "POST",
        "/v2/project/p1/cloud",
        &[],
        r#"{"assets": [{"data": "https://x/c.png", "externalId": 5}], "uploadLocal": "true", "priority": 0}"#,
    );
}

#[test]
fn upload_files_cloud_refusals() {
    let server = Hub::new().start();
    let client = server.client();
    let err = client
        .upload_files_cloud(
            "p1",
            vec![json!({"data": "https://x/a.png", "batches": ["nope"]})],
            None,
            None,
            0,
            None,
        )
        .unwrap_err();
    assert!(matches!(&err, Error::NotFound(m) if m == "Batch nope not found"));
    assert!(cloud_calls(&server).is_empty());

    let err = client
        .upload_files_cloud("p1", vec![json!("https://x/a.png")], None, None, 0, None)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    let err = client
        .upload_files_cloud(
            "p1",
            vec![json!({"data": "https://x/a.png", "batches": "first"})],
            None,
            None,
            0,
            None,
        )
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    let err = client
        .upload_files_cloud(
            "p1",
            vec![json!({"data": "x"})],
            Some("nope"),
            None,
            0,
            None,
        )
        .unwrap_err();
    assert!(matches!(&err, Error::InvalidArgument(m) if m == "Storage ID is Invalid!"));
    assert!(cloud_calls(&server).is_empty());

    // Unlike the official SDK, an HTTP error of the registration is an error.
    let failing = Hub::new().cloud_status(400).start();
    let err = failing
        .client()
        .upload_files_cloud("p1", vec![json!({"data": "x"})], None, None, 0, None)
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
}

fn boundary_of(r: &Recorded) -> String {
    let content_type = r.header("content-type").unwrap();
    content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("not multipart: {content_type}"))
        .to_string()
}

#[test]
fn upload_instructions_sends_one_multipart_file() {
    let dir = TempDir::new();
    let content: Vec<u8> = (0..=255u8).collect();
    let file = dir.file("guide \"v2\".pdf", &content);
    let server = Recorder::start();
    server
        .client()
        .upload_instructions("p1", &file, Some("s1"), Some("my bucket"))
        .unwrap();
    let r = server.only();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v2/project/p1/instructions");
    let expected_query: Vec<(String, String)> = vec![
        ("storageId".into(), "s1".into()),
        ("bucket".into(), "my bucket".into()),
    ];
    assert_eq!(r.query, expected_query);
    assert_eq!(r.header("apikey"), Some("test-key"));
    let boundary = boundary_of(&r);
    let mut expected = format!(
        // A quote in the name is percent-encoded, as urllib3 2 (the official's stack) does.
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"guide %22v2%22.pdf\"\r\n\r\n"
    )
    .into_bytes();
    expected.extend_from_slice(&content);
    expected.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    assert_eq!(r.body, expected);

    // Empty storage and bucket are left out; a missing file sends nothing.
    server.clear();
    server
        .client()
        .upload_instructions("p1", &file, Some(""), None)
        .unwrap();
    assert!(server.only().query.is_empty());
    server.clear();
    let err = server
        .client()
        .upload_instructions("p1", dir.join("nope.pdf"), None, None)
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(server.requests().is_empty());
}

#[test]
fn chat_assets_without_a_file_are_form_encoded() {
    let server = Recorder::start();
    let config = ChatAssetCreationConfig {
        number_of_assets: 3,
        storage_id: Some("s1".into()),
        bucket_name: Some("my bucket".into()),
        llm_config_id: Some("l1".into()),
        ..ChatAssetCreationConfig::default()
    };
    server
        .client()
        .upload_chat_assets("p1", &config, 2)
        .unwrap();
    let r = server.only();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v2/project/p1/chat");
    assert_eq!(r.header("apikey"), Some("test-key"));
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        r.body_text(),
        "projectId=p1&priority=2&storageId=s1&bucket=my+bucket&numberOfConversations=3\
         &namingStrategy=%7B%22type%22%3A+%22random%22%7D&llmConfig=%7B%22id%22%3A+%22l1%22%7D"
    );

    // Unset storage, bucket and LLM are left out, as requests drops None fields.
    server.clear();
    let minimal = ChatAssetCreationConfig {
        number_of_assets: 1,
        ..ChatAssetCreationConfig::default()
    };
    server
        .client()
        .upload_chat_assets("p1", &minimal, 0)
        .unwrap();
    assert_eq!(
        server.only().body_text(),
        "projectId=p1&priority=0&numberOfConversations=1&namingStrategy=%7B%22type%22%3A+%22random%22%7D"
    );

    // Nothing to create: refused before sending.
    server.clear();
    let err = server
        .client()
        .upload_chat_assets("p1", &ChatAssetCreationConfig::default(), 0)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    assert!(server.requests().is_empty());
}

#[test]
fn chat_assets_from_a_file_are_multipart() {
    let dir = TempDir::new();
    let conversations = br#"[[{"role": "user", "content": "hi"}]]"#;
    let file = dir.file("chats.json", conversations);
    let server = Recorder::start();
    let config = ChatAssetCreationConfig {
        number_of_assets: 0,
        storage_id: Some("s1".into()),
        conversation_json: Some(file),
        ..ChatAssetCreationConfig::default()
    };
    server
        .client()
        .upload_chat_assets("p1", &config, 1)
        .unwrap();
    let r = server.only();
    let b = boundary_of(&r);
    let text = |name: &str, value: &str| {
        format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    };
    let mut expected = [
        text("projectId", "p1"),
        text("priority", "1"),
        text("storageId", "s1"),
        text("numberOfConversations", "0"),
        text("namingStrategy", r#"{"type": "random"}"#),
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"chats.json\"\r\n\r\n"
        ),
    ]
    .concat()
    .into_bytes();
    expected.extend_from_slice(conversations);
    expected.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    assert_eq!(r.body_text(), String::from_utf8(expected).unwrap());
}

#[test]
fn chat_error_answers_with_json_are_returned_not_raised() {
    let server = Recorder::start();
    let config = ChatAssetCreationConfig {
        number_of_assets: 1,
        ..ChatAssetCreationConfig::default()
    };
    let error =
        json!({"status": "fail", "message": "LLM config not found", "error": {"statusCode": 400}});
    server.push(Reply::status(400, &error.to_string()));
    let answer: Value = server
        .client()
        .upload_chat_assets("p1", &config, 0)
        .unwrap();
    assert_eq!(answer, error);

    server.push(Reply::status(500, "<html>oops</html>"));
    let err = server
        .client()
        .upload_chat_assets("p1", &config, 0)
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.body(), Some("<html>oops</html>"));
}

#[test]
fn signed_url_helpers_send_the_official_queries() {
    let server = Recorder::start();
    let client = server.client();
    server.push(Reply::json(
        json!({"status": "success", "data": {"uploadUrl": "https://s3/x.png?sig=1"}}),
    ));
    let url = client
        .get_upload_url(
            "x.png",
            "p1",
            ango_core::models::StorageFileType::Brush,
            Some("s1"),
        )
        .unwrap();
    assert_eq!(url, "https://s3/x.png?sig=1");
    let r = server.last();
    assert_eq!(r.path, "/v2/getUploadUrl");
    let expected: Vec<(String, String)> = vec![
        ("name".into(), "x.png".into()),
        ("project".into(), "p1".into()),
        ("type".into(), "brushes".into()),
        ("storageId".into(), "s1".into()),
    ];
    assert_eq!(r.query, expected);

    server.push(Reply::json(
        json!({"status": "success", "data": {"signedUrl": "https://s3/y.png?sig=2"}}),
    ));
    let url = client
        .get_signed_url(
            "https://s3/y.png?a=1&b=2",
            "p1",
            ango_core::models::StorageFileType::Asset,
            None,
        )
        .unwrap();
    assert_eq!(url, "https://s3/y.png?sig=2");
    let r = server.last();
    assert_eq!(r.path, "/v2/getSignedUrl");
    assert_eq!(r.query_value("name"), Some("https://s3/y.png?a=1&b=2"));
    assert_eq!(r.query.len(), 3);

    server.push(Reply::json(json!({"status": "success", "data": {}})));
    let err = client
        .get_upload_url("x", "p1", ango_core::models::StorageFileType::Asset, None)
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }));
}

fn builder_template() -> Value {
    json!({
        "_id": "t1",
        "template": "<div><p>{{text}}</p><p>{{Q}}</p></div>",
        "dataConfig": {
            "id": {"type": "text", "includeInExport": true},
            "text": {"type": "text"}
        },
        "selectedExternalId": "id",
        "batchColumn": "batch",
        "preLabelConfig": {}
    })
}

/// A project with one asset-builder template, one batch and one classification, whose
/// batch list grows when `POST /v2/batches/p1` adds names (new ones get id `new-<name>`).
fn asset_builder_hub() -> Recorder {
    let batches = Arc::new(Mutex::new(vec![json!({"_id": "b1", "name": "first"})]));
    Recorder::with_responder(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/v2/project/p1") => Some(Reply::json(json!({
            "status": "success",
            "data": {"project": {
                "_id": "p1",
                "batches": batches.lock().unwrap().clone(),
                "categorySchema": {"classifications": [{"title": "Q", "schemaId": "q1"}]},
                "assetBuilderTemplates": [builder_template()]
            }}
        }))),
        ("POST", "/v2/batches/p1") => {
            let sent = r.json()["batches"].as_array().cloned().unwrap_or_default();
            let all: Vec<Value> = sent
                .into_iter()
                .map(|b| match b.get("_id") {
                    Some(_) => b,
                    None => json!({"_id": format!("new-{}", b["name"].as_str().unwrap()), "name": b["name"]}),
                })
                .collect();
            *batches.lock().unwrap() = all;
            Some(Reply::json(json!({"status": "success", "data": {}})))
        }
        ("POST", "/v2/project/p1/cloud") => Some(Reply::json(
            json!({"status": "success", "data": {"assets": {"assetsCreated": 2}}}),
        )),
        _ => None,
    })
}

#[test]
fn upload_files_with_asset_builder_creates_batches_and_registers_the_rows() {
    use ango_core::models::{AssetBuilderInput, ParseConfig, replace_batch_names_with_ids};
    let dir = TempDir::new();
    // `;` separates both the cells and the batch names, so the batch cell is quoted.
    let csv = "id;text;batch\na1;Hello;\"first;second;x\"\na2;World;\n".to_string();
    let input = dir.file("rows.csv", csv.as_bytes());
    let server = asset_builder_hub();
    let config = ParseConfig { delimiter: ';' };
    let response = server
        .client()
        .upload_files_with_asset_builder("p1", "t1", &input, &config, 4)
        .unwrap();
    assert_eq!(response["data"]["assets"]["assetsCreated"], 2);

    let requests = server.requests();
    let calls: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        calls,
        vec![
            ("GET", "/v2/project/p1"),
            // create_batches: the current list, then the whole list with the new names.
            ("GET", "/v2/project/p1"),
            ("POST", "/v2/batches/p1"),
            // The ids of the new batches.
            ("GET", "/v2/project/p1"),
            // upload_files_cloud resolves each asset's batches, as upstream.
            ("GET", "/v2/project/p1"),
            ("GET", "/v2/project/p1"),
            ("POST", "/v2/project/p1/cloud"),
        ]
    );
    requests[2].assert_call(
        "POST",
        "/v2/batches/p1",
        &[],
        r#"{"batches": [{"_id": "b1", "name": "first"}, {"name": "second"}, {"name": "x"}]}"#,
    );

    // The registered assets are the model's preparation with real batch ids.
    let classifications = vec![json!({"title": "Q", "schemaId": "q1"})];
    let (assets, names) = AssetBuilderInput::from_csv(&csv, &config)
        .prepare_assets(&builder_template(), &classifications)
        .unwrap();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        vec!["first", "second", "x"]
    );
    let expected_assets = replace_batch_names_with_ids(
        assets,
        &[
            json!({"_id": "b1", "name": "first"}),
            json!({"_id": "new-second", "name": "second"}),
            json!({"_id": "new-x", "name": "x"}),
        ],
    )
    .unwrap();
    assert_eq!(
        expected_assets[0]["batches"],
        json!(["b1", "new-second", "new-x"])
    );
    assert!(
        expected_assets[0]["data"]
            .as_str()
            .unwrap()
            .contains("id=\"cla-portal-q1\""),
        "the project's classification fills its slot: {}",
        expected_assets[0]["data"]
    );
    let body = ango_core::pyjson::to_string(
        &json!({"assets": expected_assets, "uploadLocal": "true", "priority": 4}),
    );
    requests[6].assert_call("POST", "/v2/project/p1/cloud", &[], &body);
}

#[test]
fn upload_files_with_asset_builder_refusals() {
    use ango_core::models::ParseConfig;
    let dir = TempDir::new();
    let input = dir.file("rows.csv", b"id,text\na1,Hello\n");
    let server = asset_builder_hub();
    let client = server.client();
    let err = client
        .upload_files_with_asset_builder("p1", "t-unknown", &input, &ParseConfig::default(), 0)
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound(m) if m.contains("Template with")),
        "{err:?}"
    );
    assert_eq!(server.only().path, "/v2/project/p1", "nothing is created");

    // A project without templates, and a project that does not exist.
    let bare = Recorder::start();
    bare.push(Reply::json(
        json!({"status": "success", "data": {"project": {"_id": "p2"}}}),
    ));
    let err = bare
        .client()
        .upload_files_with_asset_builder("p2", "t1", &input, &ParseConfig::default(), 0)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("does not have any Asset Builder templates"),
        "{err}"
    );
    bare.push(Reply::status(404, r#"{"status":"fail","message":"nope"}"#));
    let err = bare
        .client()
        .upload_files_with_asset_builder("p9", "t1", &input, &ParseConfig::default(), 0)
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound(m) if m == "Project with given ID does not exist."),
        "{err:?}"
    );
    assert_eq!(bare.requests().len(), 2);

    // An input file the template cannot use is refused before anything is created.
    server.clear();
    let no_rows = dir.file("empty.csv", b"id,text\n");
    let err = client
        .upload_files_with_asset_builder("p1", "t1", &no_rows, &ParseConfig::default(), 0)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert_eq!(server.only().path, "/v2/project/p1");
}

#[test]
fn upload_options_read_as_the_bindings_send_them() {
    let options: UploadOptions = serde_json::from_value(json!({
        "storageId": "s1", "batches": ["b"], "priority": null, "progress": false, "concurrency": 3,
    }))
    .unwrap();
    assert_eq!(options.storage_id.as_deref(), Some("s1"));
    assert_eq!(options.priority, 0);
    assert_eq!(options.concurrency, Some(3));
    // `false`: a reporter that shows nothing; `null` (or absent): the client's setting.
    assert!(options.progress.is_some());
    let options: UploadOptions = serde_json::from_value(json!({"progress": null})).unwrap();
    assert!(options.progress.is_none());
    for bad in [json!({"progress": 1}), json!({"onProgress": true})] {
        assert!(serde_json::from_value::<UploadOptions>(bad).is_err());
    }
}
