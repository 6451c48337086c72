//! `ango convert`: offline conversions of export files, with their exit codes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/formats")
}

/// A fresh directory, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new() -> Temp {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "ango-cli-convert-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Temp(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `ango` with `args` and no Ango settings in the environment (no API key).
fn ango(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ango"));
    for name in ["ANGO_API_KEY", "ANGO_HOST", "ANGO_PROGRESS"] {
        command.env_remove(name);
    }
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run ango");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or_default()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn clean_export(dir: &Temp) -> PathBuf {
    let rows = [
        json!({"externalId": "a.jpg", "metadata": {"width": 100, "height": 50},
               "task": {"tools": [{"schemaId": "schema00000000000000car", "objectId": "x",
                                   "bounding-box": {"x": 10, "y": 10, "width": 20, "height": 10}}]}}),
        json!({"externalId": "b.jpg", "metadata": {"width": 100, "height": 50}, "task": {"tools": []}}),
    ];
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    let file = dir.join("clean.ndjson");
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn a_clean_export_converts_with_status_0_and_no_api_key() {
    let dir = Temp::new();
    let input = clean_export(&dir);
    let out = dir.join("coco.json");
    let ontology = fixtures().join("ontology.json");
    let output = ango(
        &[
            "convert",
            path(&input),
            "--to",
            "coco",
            "--ontology",
            path(&ontology),
            "-o",
            path(&out),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    assert_eq!(
        stderr(&output).trim(),
        "coco: 2 rows, 2 images, 1 annotations; everything represented"
    );
    let coco: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(
        coco["annotations"][0]["bbox"],
        json!([10.0, 10.0, 20.0, 10.0])
    );
}

#[test]
fn unrepresentable_rows_give_status_3_with_a_summary() {
    let dir = Temp::new();
    let out = dir.join("yolo");
    let output = ango(
        &[
            "convert",
            path(&fixtures().join("export.json")),
            "--to",
            "yolo-seg",
            "--ontology",
            path(&fixtures().join("ontology.json")),
            "--output",
            path(&out),
            "--json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.starts_with("yolo-seg: 11 rows, 6 images, 8 annotations"),
        "{err}"
    );
    assert!(
        err.contains("  row 3 (doc.pdf): not-an-image: pdf\n"),
        "{err}"
    );
    assert!(
        err.contains("row 2 (cat2.jpg) object o6: unsupported-shape: point"),
        "{err}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["byReason"]["duplicate-image"], 1);
    assert_eq!(
        report["issueCount"],
        report["issues"].as_array().unwrap().len()
    );
    assert!(out.join("data.yaml").is_file());
    assert_eq!(std::fs::read_dir(out.join("labels")).unwrap().count(), 6);
}

#[test]
fn the_export_can_come_from_stdin() {
    let dir = Temp::new();
    let out = dir.join("voc");
    let input = std::fs::read(fixtures().join("export.ndjson")).unwrap();
    let output = ango(
        &[
            "convert",
            "-",
            "--to",
            "voc",
            "--ontology",
            path(&fixtures().join("ontology.json")),
            "-o",
            path(&out),
        ],
        Some(&input),
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_dir(out.join("Annotations")).unwrap().count(),
        6
    );
}

#[test]
fn usage_and_failures_have_their_own_status() {
    let dir = Temp::new();
    let input = clean_export(&dir);
    let ontology = fixtures().join("ontology.json");
    // Usage: an unknown target, a missing argument.
    let output = ango(
        &[
            "convert",
            path(&input),
            "--to",
            "tfrecord",
            "--ontology",
            path(&ontology),
            "-o",
            "x",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let output = ango(&["convert", path(&input), "--to", "coco", "-o", "x"], None);
    assert_eq!(output.status.code(), Some(2));
    let output = ango(
        &[
            "convert",
            path(&input),
            "--to",
            "coco",
            "--ontology",
            path(&ontology),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--output is required"));
    let output = ango(
        &[
            "convert",
            path(&input),
            "--to",
            "voc",
            "--ontology",
            path(&ontology),
            "--dry-run",
            "-o",
            "x",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    // Failures: a missing input, an unreadable ontology, a non-empty output directory.
    let output = ango(
        &[
            "convert",
            path(&dir.join("nope.ndjson")),
            "--to",
            "coco",
            "--ontology",
            path(&ontology),
            "-o",
            path(&dir.join("o.json")),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("nope.ndjson"),
        "{}",
        stderr(&output)
    );
    std::fs::write(
        dir.join("bad-ontology.json"),
        "{\"tools\": [{\"tool\": \"laser\"}]}",
    )
    .unwrap();
    let output = ango(
        &[
            "convert",
            path(&input),
            "--to",
            "coco",
            "--ontology",
            path(&dir.join("bad-ontology.json")),
            "-o",
            path(&dir.join("o.json")),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    std::fs::create_dir_all(dir.join("full")).unwrap();
    std::fs::write(dir.join("full/keep.txt"), "mine").unwrap();
    let output = ango(
        &[
            "convert",
            path(&input),
            "--to",
            "yolo",
            "--ontology",
            path(&ontology),
            "-o",
            path(&dir.join("full")),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("not empty"));
    assert_eq!(
        std::fs::read_to_string(dir.join("full/keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn coco_and_yolo_to_the_ango_import_format() {
    let dir = Temp::new();
    let input = clean_export(&dir);
    let ontology = fixtures().join("ontology.json");
    let coco = dir.join("coco.json");
    let yolo = dir.join("yolo");
    for (to, out) in [("coco", &coco), ("yolo", &yolo)] {
        let output = ango(
            &[
                "convert",
                path(&input),
                "--to",
                to,
                "--ontology",
                path(&ontology),
                "-o",
                path(out),
            ],
            None,
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    // The clean export doubles as the asset list (external ids and sizes).
    for source in [&coco, &yolo] {
        let labels = dir.join("labels.json");
        let output = ango(
            &[
                "convert",
                path(source),
                "--to",
                "ango",
                "--ontology",
                path(&ontology),
                "--assets",
                path(&input),
                "-o",
                path(&labels),
            ],
            None,
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            stderr(&output).starts_with("2 of 2 images match an asset, 1 objects"),
            "{}",
            stderr(&output)
        );
        let items: Value = serde_json::from_slice(&std::fs::read(&labels).unwrap()).unwrap();
        assert_eq!(items[0]["externalId"], "a.jpg");
        assert_eq!(
            items[0]["objects"][0]["schemaId"],
            "schema00000000000000car"
        );
        let b = &items[0]["objects"][0]["bounding-box"];
        assert!((b["x"].as_f64().unwrap() - 10.0).abs() < 1e-3, "{b}");
        assert!((b["width"].as_f64().unwrap() - 20.0).abs() < 1e-3, "{b}");
        std::fs::remove_file(&labels).unwrap();
    }
    // A dry run against assets that do not all match: status 3, nothing written.
    let few = dir.join("few.ndjson");
    std::fs::write(&few, "{\"externalId\": \"b.jpg\"}\n").unwrap();
    let output = ango(
        &[
            "convert",
            path(&coco),
            "--to",
            "ango",
            "--ontology",
            path(&ontology),
            "--assets",
            path(&few),
            "--dry-run",
            "--json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["unmatchedImages"], json!(["a.jpg"]));
    assert!(!dir.join("labels.json").exists());
    // YOLO needs the assets' sizes.
    let output = ango(
        &[
            "convert",
            path(&yolo),
            "--to",
            "ango",
            "--ontology",
            path(&ontology),
            "-o",
            path(&dir.join("l.json")),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--assets"));
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_tables_from_the_cli() {
    let dir = Temp::new();
    let out = dir.join("tables");
    let output = ango(
        &[
            "convert",
            path(&fixtures().join("export.ndjson")),
            "--to",
            "parquet",
            "--ontology",
            path(&fixtures().join("ontology.json")),
            "-o",
            path(&out),
        ],
        None,
    );
    // Only the unreadable row is not represented.
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with(
            "parquet: 11 rows, 10 images, 15 annotations; 1 issues in 1 rows: unreadable-row=1"
        ),
        "{}",
        stderr(&output)
    );
    for table in ["tasks", "objects", "classifications"] {
        let bytes = std::fs::read(out.join(format!("{table}.parquet"))).unwrap();
        assert!(
            bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
            "{table}"
        );
    }
}
