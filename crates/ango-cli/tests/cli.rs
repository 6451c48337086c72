//! The `ango` binary against an emulator started in the test.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use ango_emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

/// Runs `ango` with `args`, against `emulator` when given, with no inherited settings.
fn ango(emulator: Option<&Emulator>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ango"));
    for name in [
        "ANGO_API_KEY",
        "ANGO_HOST",
        "ANGO_TIMEOUT",
        "ANGO_CONNECT_TIMEOUT",
        "ANGO_MAX_RETRIES",
        "ANGO_CONCURRENCY",
        "ANGO_PROGRESS",
    ] {
        command.env_remove(name);
    }
    if let Some(emulator) = emulator {
        command.args(["--api-key", emulator.api_key(), "--host", emulator.url()]);
    }
    command
        .arg("--quiet")
        .args(args)
        .output()
        .expect("run ango")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

/// Each NDJSON line, parsed.
fn ndjson(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).expect("start the emulator")
}

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "ango-cli-test-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn help_lists_the_commands() {
    let output = ango(None, &["--help"]);
    assert_success(&output);
    let text = stdout(&output);
    for command in [
        "projects",
        "project",
        "tasks",
        "assets",
        "export",
        "upload",
        "emulator",
        "ontology",
        "import",
        "batches",
        "issues",
        "convert",
        "completions",
    ] {
        assert!(text.contains(command), "{command} missing from:\n{text}");
    }
    assert!(text.contains("--api-key"));

    let output = ango(None, &["upload", "--help"]);
    assert_success(&output);
    assert!(stdout(&output).contains("--batch"));

    let output = ango(None, &["--version"]);
    assert_success(&output);
    assert!(stdout(&output).starts_with("ango "));
}

#[test]
fn a_missing_api_key_is_a_clear_error() {
    let emulator = emulator();
    let output = ango(None, &["--host", emulator.url(), "projects"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let message = stderr(&output);
    assert!(
        message.contains("no API key: pass --api-key or set ANGO_API_KEY"),
        "{message}"
    );

    let output = ango(
        None,
        &["--api-key", "", "--host", emulator.url(), "projects"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("no API key"));
}

#[test]
fn a_wrong_api_key_shows_the_server_message() {
    let emulator = emulator();
    let output = ango(
        None,
        &[
            "--api-key",
            "wrong",
            "--host",
            emulator.url(),
            "--retries",
            "0",
            "projects",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.starts_with("error: "), "{message}");
    assert!(message.contains("Invalid API KEY"), "{message}");
    assert!(
        !message.contains("wrong"),
        "the key is not echoed: {message}"
    );
}

#[test]
fn a_huge_timeout_is_capped_not_a_panic() {
    let emulator = emulator();
    let output = ango(Some(&emulator), &["--timeout", "1e300", "projects"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"));

    let output = ango(Some(&emulator), &["--timeout=-1", "projects"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--timeout must be"));
}

#[test]
fn usage_errors_exit_with_clap_status() {
    let output = ango(None, &["no-such-command"]);
    assert_eq!(output.status.code(), Some(2));
    let output = ango(None, &["upload", "p1"]);
    assert_eq!(output.status.code(), Some(2), "files are required");
}

#[test]
fn projects_prints_one_page_as_json() {
    let emulator = emulator();
    let first = emulator.seed_project("first", 1);
    let second = emulator.seed_project("second", 2);
    let output = ango(Some(&emulator), &["projects", "--limit", "10"]);
    assert_success(&output);
    let page: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(page["data"]["total"], 2);
    let mut ids: Vec<&str> = page["data"]["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["_id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut expected = vec![first.as_str(), second.as_str()];
    expected.sort();
    assert_eq!(ids, expected);

    let output = ango(Some(&emulator), &["project", &second]);
    assert_success(&output);
    let project: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(project["data"]["project"]["name"], "second");
}

#[test]
fn the_host_and_key_can_come_from_the_environment() {
    let emulator = emulator();
    emulator.seed_project("env", 3);
    let output = Command::new(env!("CARGO_BIN_EXE_ango"))
        .env("ANGO_API_KEY", emulator.api_key())
        .env("ANGO_HOST", emulator.url())
        .env_remove("ANGO_PROGRESS")
        .args(["projects"])
        .output()
        .unwrap();
    assert_success(&output);
    let page: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(page["data"]["total"], 1);
}

#[test]
fn tasks_stream_one_line_per_task() {
    let emulator = emulator();
    let project_id = emulator.seed_project("tasks", 250);
    let output = ango(
        Some(&emulator),
        &["tasks", &project_id, "--page-size", "100"],
    );
    assert_success(&output);
    let tasks = ndjson(&output);
    assert_eq!(tasks.len(), 250);
    let ids: std::collections::HashSet<&str> =
        tasks.iter().map(|t| t["_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 250, "each task once");
    assert!(tasks.iter().all(|t| t["project"] == project_id.as_str()));

    let output = ango(Some(&emulator), &["tasks", &project_id, "--max", "7"]);
    assert_success(&output);
    assert_eq!(ndjson(&output).len(), 7);

    // A filter is applied by the server: the seed puts every other asset in "Batch 1".
    let project = ango(Some(&emulator), &["project", &project_id]);
    let project: Value = serde_json::from_str(&stdout(&project)).unwrap();
    let batch_id = project["data"]["project"]["batches"][0]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let output = ango(
        Some(&emulator),
        &["tasks", &project_id, "--batch", &batch_id],
    );
    assert_success(&output);
    assert_eq!(ndjson(&output).len(), 125);

    let output = ango(Some(&emulator), &["tasks", &project_id, "--page-size", "0"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("page_size"));
}

#[test]
fn upload_reports_each_file_and_fails_when_one_is_missing() {
    let emulator = emulator();
    let project_id = emulator.seed_project("uploads", 0);
    let dir = TempDir::new();
    let a = dir.file("a.png", b"first image");
    let b = dir.file("b.png", b"second image");
    let missing = dir.0.join("missing.png");
    let paths: Vec<String> = [&a, &missing, &b]
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["upload", project_id.as_str()];
    args.extend(paths.iter().map(String::as_str));
    let output = ango(Some(&emulator), &args);
    // Some files uploaded, one not: a partial result.
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("warning: 1 of 3 files were not uploaded"),
        "{message}"
    );

    // One line per file in input order, then the registration response.
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().take(3).collect();
    let rows: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (row, path) in rows.iter().zip(&paths) {
        assert_eq!(row["path"], path.as_str());
        assert_eq!(row["external_id"], path.as_str());
    }
    // Each line is the core's serialized file outcome.
    assert_eq!(rows[0]["status"]["outcome"], "uploaded");
    assert_eq!(rows[1]["status"]["outcome"], "failed");
    assert!(
        rows[1]["status"]["error"]
            .as_str()
            .unwrap()
            .contains("missing.png")
    );
    assert_eq!(rows[2]["status"]["outcome"], "uploaded");
    assert!(
        rows[0]["status"]["url"]
            .as_str()
            .unwrap()
            .starts_with(emulator.url())
    );
    let rest: String = text.lines().skip(3).collect::<Vec<_>>().join("\n");
    let response: Value = serde_json::from_str(&rest).unwrap();
    assert_eq!(response["data"]["assets"]["assetsCreated"], 2);

    // Exactly the two files became assets.
    let output = ango(Some(&emulator), &["assets", &project_id]);
    assert_success(&output);
    let mut registered: Vec<String> = ndjson(&output)
        .iter()
        .map(|a| a["externalId"].as_str().unwrap().to_string())
        .collect();
    registered.sort();
    assert_eq!(registered, vec![paths[0].clone(), paths[2].clone()]);

    // All files present: success.
    let output = ango(Some(&emulator), &["upload", &project_id, &paths[0]]);
    assert_success(&output);
}

#[test]
fn export_prints_rows_or_saves_the_zip() {
    let emulator = emulator();
    let project_id = emulator.seed_project_with("export", 12, 2, true);
    let output = ango(Some(&emulator), &["export", &project_id]);
    assert_success(&output);
    let rows = ndjson(&output);
    assert_eq!(rows.len(), 12);
    for row in &rows {
        assert!(row["externalId"].as_str().unwrap().starts_with("image_"));
        assert_eq!(row["task"]["stage"], "Complete");
        let tools = row["task"]["tools"].as_array().unwrap();
        assert_eq!(tools.len(), 2);
        assert!(tools.iter().all(|t| t["bounding-box"].is_object()));
    }

    // Stages other than the default Complete.
    let output = ango(
        Some(&emulator),
        &["export", &project_id, "--stage", "Label"],
    );
    assert_success(&output);
    assert!(ndjson(&output).is_empty());

    let dir = TempDir::new();
    let zip_path = dir.0.join("export.zip");
    let output = ango(
        Some(&emulator),
        &[
            "export",
            &project_id,
            "--output",
            &zip_path.to_string_lossy(),
        ],
    );
    assert_success(&output);
    assert!(output.stdout.is_empty());
    let saved = std::fs::read(&zip_path).unwrap();
    assert!(saved.starts_with(b"PK\x03\x04"), "a zip archive");
    assert!(stderr(&output).contains(&format!("({} bytes)", saved.len())));

    let output = ango(Some(&emulator), &["export", "000000000000000000000000"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).starts_with("error: "));
}

#[test]
fn a_closed_stdout_ends_a_listing_quietly() {
    use std::io::{BufRead, BufReader};
    let emulator = emulator();
    let project_id = emulator.seed_project("pipe", 3_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ango"))
        .env_remove("ANGO_PROGRESS")
        .args([
            "--api-key",
            emulator.api_key(),
            "--host",
            emulator.url(),
            "--quiet",
        ])
        .args(["tasks", &project_id, "--page-size", "1000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Like `ango tasks ... | head -1`.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let first: Value = serde_json::from_str(&first).unwrap();
    assert!(first["_id"].is_string());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}

/// A server whose first task page is answered at once and whose second waits until the
/// test releases it: rows of page 1 must reach stdout while page 2 is still pending.
fn held_second_page_server() -> (ango_testkit::RawServer, std::sync::mpsc::Sender<()>) {
    use std::sync::{Arc, Mutex, mpsc};
    let (release, released) = mpsc::channel::<()>();
    let released = Arc::new(Mutex::new(Some(released)));
    let server = ango_testkit::RawServer::answering(move |request| {
        let page: u64 = request
            .query_value("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        if page > 1 {
            // Held until the test has seen page 1's rows (bounded wait).
            let receiver = released.lock().unwrap().take();
            if let Some(receiver) = receiver {
                let _ = receiver.recv_timeout(std::time::Duration::from_secs(30));
            }
        }
        let tasks: Vec<Value> = (0..10)
            .map(|i| {
                let n = (page - 1) * 10 + i;
                serde_json::json!({"_id": format!("{n:024x}"), "n": n})
            })
            .collect();
        Some(ango_testkit::json_response(
            &serde_json::json!({"status": "success", "data": {"tasks": tasks, "total": 20}}),
        ))
    });
    (server, release)
}

#[test]
fn rows_reach_stdout_while_the_next_page_is_still_pending() {
    use std::io::{BufRead, BufReader};
    for concurrency in ["1", "4"] {
        let (server, release) = held_second_page_server();
        let url = server.url.clone();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ango"))
            .env_remove("ANGO_PROGRESS")
            .args(["--api-key", "k", "--host", &url, "--quiet"])
            .args(["--concurrency", concurrency, "--retries", "0"])
            .args(["tasks", "p1", "--page-size", "10"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if lines_tx.send(line.unwrap()).is_err() {
                    return;
                }
            }
        });
        let wait = std::time::Duration::from_secs(30);
        for n in 0..10u64 {
            let line = lines_rx
                .recv_timeout(wait)
                .expect("page 1's rows arrive while page 2 is held");
            let row: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(row["n"], n);
        }
        release.send(()).unwrap();
        let rest: Vec<String> = (0..10)
            .map(|_| lines_rx.recv_timeout(wait).unwrap())
            .collect();
        assert!(rest.last().unwrap().contains("\"n\":19"), "{rest:?}");
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
}

/// Runs `ango <args>` against `emulator`, reads one line and closes stdout (`| head -1`).
fn first_line_then_close(emulator: &Emulator, args: &[&str]) -> (Value, Output) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ango"))
        .env_remove("ANGO_PROGRESS")
        .args([
            "--api-key",
            emulator.api_key(),
            "--host",
            emulator.url(),
            "--quiet",
        ])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let first: Value = serde_json::from_str(&first).unwrap();
    (first, child.wait_with_output().unwrap())
}

#[test]
fn every_streaming_command_ends_quietly_on_a_closed_stdout() {
    let emulator = emulator();
    let project_id = emulator.seed_project_with("pipe", 3_000, 1, true);
    for _ in 0..30 {
        emulator.seed_project("more", 1);
    }
    for args in [
        vec!["tasks", &project_id, "--page-size", "100"],
        vec!["assets", &project_id, "--page-size", "100"],
        vec!["projects", "--all", "--limit", "5"],
        vec!["export", &project_id],
    ] {
        let (first, output) = first_line_then_close(&emulator, &args);
        assert!(first.is_object(), "{args:?}: {first}");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).is_empty(), "{args:?}: {}", stderr(&output));
    }
}

#[test]
fn projects_all_streams_every_project_once() {
    let emulator = emulator();
    let mut ids: Vec<String> = (0..23)
        .map(|i| emulator.seed_project(&format!("p{i}"), 1))
        .collect();
    let output = ango(Some(&emulator), &["projects", "--all", "--limit", "5"]);
    assert_success(&output);
    let mut listed: Vec<String> = ndjson(&output)
        .iter()
        .map(|p| p["_id"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids);
}
