//! The whole workflow through the `ango` binary against an emulator started in the test:
//! project, ontology, upload, COCO import, export as COCO, `--json` outputs, exit codes
//! and shell completions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use ango_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

/// Runs `ango` with `args` against `emulator` (when given), with no inherited settings.
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
        command
            .env("ANGO_API_KEY", emulator.api_key())
            .env("ANGO_HOST", emulator.url());
    }
    command.args(args).output().expect("run ango")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit status, showing both streams when it differs.
fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// stdout as exactly one JSON document.
fn json_doc(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout is not one JSON document:\n{}", stdout(output)))
}

fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).expect("start the emulator")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/formats")
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
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
            "ango-cli-workflow-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The start of a PNG file of `width` x `height`: signature and IHDR chunk (enough for
/// the size to be read; the emulator stores the bytes as they are).
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend(width.to_be_bytes());
    bytes.extend(height.to_be_bytes());
    bytes.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

/// The start of a baseline JPEG of `width` x `height`: SOI, an APP0 segment, SOF0.
fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
    bytes.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    bytes.extend([0xFF, 0xC0, 0, 17, 8]);
    bytes.extend(height.to_be_bytes());
    bytes.extend(width.to_be_bytes());
    bytes.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
    bytes
}

/// A project with the fixture ontology and three uploaded images; returns its id.
fn project_with_images(emulator: &Emulator, dir: &TempDir) -> String {
    let output = ango(
        Some(emulator),
        &[
            "project",
            "create",
            "Street scenes",
            "--description",
            "cars",
        ],
    );
    assert_code(&output, 0);
    let project = stdout(&output).trim().to_string();
    assert_eq!(project.len(), 24, "a project id: {project:?}");

    let ontology = path(&fixtures().join("ontology.json"));
    let output = ango(
        Some(emulator),
        &["ontology", "set", &project, &ontology, "--json"],
    );
    assert_code(&output, 0);
    let report = json_doc(&output);
    assert_eq!(report["tools"], 6);
    assert_eq!(report["classifications"], 1);
    assert_eq!(report["relations"], 1);

    let a = dir.write("a.png", &png(640, 480));
    let b = dir.write("b.png", &png(320, 200));
    let c = dir.write("c.jpg", &jpeg(800, 600));
    let output = ango(
        Some(emulator),
        &[
            "upload",
            &project,
            &path(&a),
            &path(&b),
            &path(&c),
            "--basename",
            "--json",
            "--quiet",
        ],
    );
    assert_code(&output, 0);
    let report = json_doc(&output);
    assert_eq!(outcomes(&report), ["uploaded", "uploaded", "uploaded"]);
    assert!(report["registration_error"].is_null() && report["response"].is_object());
    project
}

/// The outcome of each file of an upload report (the core's serialized shape).
fn outcomes(report: &Value) -> Vec<String> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"]["outcome"].as_str().unwrap().to_string())
        .collect()
}

/// A COCO file for the images of [`project_with_images`]: two boxes on a.png, one
/// polygon on b.png; with `extra`, an annotation of a category the ontology lacks and
/// an image that is not an asset.
fn coco(extra: bool) -> Value {
    let mut coco = json!({
        "images": [
            {"id": 1, "file_name": "a.png", "width": 640, "height": 480},
            {"id": 2, "file_name": "b.png", "width": 320, "height": 200},
        ],
        "categories": [
            {"id": 7, "name": "Car"},
            {"id": 9, "name": "Road"},
        ],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 7, "bbox": [10.0, 20.0, 100.0, 50.0],
             "area": 5000.0, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 7, "bbox": [300.0, 200.0, 40.0, 30.0],
             "area": 1200.0, "iscrowd": 0},
            {"id": 3, "image_id": 2, "category_id": 9,
             "segmentation": [[0.0, 0.0, 100.0, 0.0, 100.0, 50.0]],
             "bbox": [0.0, 0.0, 100.0, 50.0], "area": 2500.0, "iscrowd": 0},
        ],
    });
    if extra {
        coco["categories"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": 11, "name": "Truck"}));
        coco["images"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": 3, "file_name": "z.png", "width": 10, "height": 10}));
        let annotations = coco["annotations"].as_array_mut().unwrap();
        annotations.push(json!({"id": 4, "image_id": 1, "category_id": 11,
            "bbox": [1.0, 1.0, 5.0, 5.0], "area": 25.0, "iscrowd": 0}));
        annotations.push(json!({"id": 5, "image_id": 3, "category_id": 7,
            "bbox": [1.0, 1.0, 5.0, 5.0], "area": 25.0, "iscrowd": 0}));
    }
    coco
}

/// Every `(file_name, category name, bbox)` of a COCO document, sorted.
fn boxes(coco: &Value) -> Vec<(String, String, Vec<f64>)> {
    let name_of = |key: &str, id: &Value, field: &str| -> String {
        coco[key]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| &x["id"] == id)
            .unwrap_or_else(|| panic!("no {key} {id}"))[field]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut boxes: Vec<_> = coco["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                name_of("images", &a["image_id"], "file_name"),
                name_of("categories", &a["category_id"], "name"),
                a["bbox"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect(),
            )
        })
        .collect();
    boxes.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
    boxes
}

#[test]
fn coco_round_trip_through_project_import_and_export() {
    let emulator = emulator();
    let dir = TempDir::new();
    let project = project_with_images(&emulator, &dir);

    // The ontology reads back as it was set.
    let output = ango(Some(&emulator), &["ontology", "get", &project]);
    assert_code(&output, 0);
    let schema = json_doc(&output);
    let titles: Vec<&str> = schema["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Car", "Pin", "Road", "Person", "Sign", "Lane"]);
    // What `ontology get` prints, `ontology set` reads.
    let again = dir.write("again.json", &output.stdout);
    let output = ango(
        Some(&emulator),
        &["ontology", "set", &project, &path(&again)],
    );
    assert_code(&output, 0);
    assert!(output.stdout.is_empty());
    assert!(stderr(&output).contains("6 tools, 1 classifications, 1 relations"));

    // The image sizes went into the asset metadata.
    let output = ango(Some(&emulator), &["assets", &project, "--json"]);
    assert_code(&output, 0);
    let assets = json_doc(&output);
    let mut sizes: Vec<(String, Value, Value)> = assets
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["externalId"].as_str().unwrap().to_string(),
                a["metadata"]["width"].clone(),
                a["metadata"]["height"].clone(),
            )
        })
        .collect();
    sizes.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        sizes,
        [
            ("a.png".to_string(), json!(640), json!(480)),
            ("b.png".to_string(), json!(320), json!(200)),
            ("c.jpg".to_string(), json!(800), json!(600)),
        ]
    );

    let coco_in = dir.write("coco.json", &serde_json::to_vec(&coco(false)).unwrap());

    // The dry run reports and sends nothing.
    let output = ango(
        Some(&emulator),
        &["import", &project, &path(&coco_in), "--dry-run", "--json"],
    );
    assert_code(&output, 0);
    let report = json_doc(&output);
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["report"]["matchedImages"], 2);
    assert_eq!(report["report"]["objects"], 3);
    let output = ango(Some(&emulator), &["tasks", &project, "--answers", "--json"]);
    assert_code(&output, 0);
    let tasks = json_doc(&output);
    assert_eq!(tasks.as_array().unwrap().len(), 3);
    assert!(
        tasks
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["answer"]["tools"].as_array().is_none_or(Vec::is_empty)),
        "a dry run imported something: {tasks}"
    );

    let output = ango(
        Some(&emulator),
        &["import", &project, &path(&coco_in), "--json"],
    );
    assert_code(&output, 0);
    let report = json_doc(&output);
    assert_eq!(report["imported"], 2);
    assert_eq!(report["report"]["objects"], 3);

    // Export as COCO: every box and the polygon come back on the right images.
    let coco_out = dir.join("out.coco.json");
    let output = ango(
        Some(&emulator),
        &[
            "export",
            &project,
            "--format",
            "coco",
            "-o",
            &path(&coco_out),
            "--stage",
            "Start",
            "--stage",
            "Label",
            "--stage",
            "Complete",
            "--json",
        ],
    );
    assert_code(&output, 0);
    let report = json_doc(&output);
    assert!(report.is_object(), "{report}");
    let exported: Value = serde_json::from_slice(&std::fs::read(&coco_out).unwrap()).unwrap();
    let exported_boxes = boxes(&exported);
    assert_eq!(exported_boxes, boxes(&coco(false)), "{exported}");
    let a = exported["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["file_name"] == "a.png")
        .unwrap();
    assert_eq!(
        (a["width"].clone(), a["height"].clone()),
        (json!(640), json!(480))
    );
    let road = exported["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Road")
        .expect("the Road category")["id"]
        .clone();
    let polygon = exported["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["category_id"] == road)
        .expect("the polygon");
    assert_eq!(
        polygon["segmentation"][0],
        json!([0.0, 0.0, 100.0, 0.0, 100.0, 50.0])
    );

    // The same export as NDJSON rows, and as one JSON array with --json.
    let output = ango(
        Some(&emulator),
        &[
            "export", &project, "--stage", "Label", "--stage", "Start", "--stage", "Complete",
        ],
    );
    assert_code(&output, 0);
    let ndjson_rows = stdout(&output).lines().count();
    assert_eq!(ndjson_rows, 3);
    let output = ango(
        Some(&emulator),
        &[
            "export", &project, "--stage", "Label", "--stage", "Start", "--stage", "Complete",
            "--json",
        ],
    );
    assert_code(&output, 0);
    assert_eq!(json_doc(&output).as_array().unwrap().len(), ndjson_rows);

    // YOLO and VOC need a directory.
    let yolo = dir.join("yolo");
    let output = ango(
        Some(&emulator),
        &[
            "export",
            &project,
            "--format",
            "yolo",
            "-o",
            &path(&yolo),
            "--stage",
            "Label",
            "--stage",
            "Start",
            "--stage",
            "Complete",
        ],
    );
    assert!(
        matches!(output.status.code(), Some(0 | 3)),
        "{}",
        stderr(&output)
    );
    let names = std::fs::read_to_string(yolo.join("data.yaml")).unwrap();
    assert!(names.contains("Car"), "{names}");
}

#[test]
fn a_partial_import_exits_3_and_reports_what_does_not_match() {
    let emulator = emulator();
    let dir = TempDir::new();
    let project = project_with_images(&emulator, &dir);
    let coco_in = dir.write("coco.json", &serde_json::to_vec(&coco(true)).unwrap());

    let output = ango(
        Some(&emulator),
        &["import", &project, &path(&coco_in), "--dry-run", "--json"],
    );
    assert_code(&output, 3);
    let report = json_doc(&output)["report"].clone();
    assert_eq!(report["unmatchedImages"], json!(["z.png"]));
    assert_eq!(report["unmatchedCategories"]["Truck"], 1);
    assert!(stderr(&output).contains("Truck"), "{}", stderr(&output));

    // Imported anyway (what matches), still partial.
    let output = ango(Some(&emulator), &["import", &project, &path(&coco_in)]);
    assert_code(&output, 3);
    assert!(output.stdout.is_empty(), "{}", stdout(&output));
    assert!(stderr(&output).contains("imported 2 label items"));

    // Ango's own import format is sent as is; an unknown external id is partial.
    let labels = dir.write(
        "labels.json",
        &serde_json::to_vec(&json!([
            {"externalId": "c.jpg", "objects": [
                {"schemaId": "schema00000000000000car",
                 "bounding-box": {"x": 1, "y": 2, "width": 30, "height": 40}}
            ]},
            {"externalId": "nope.jpg", "objects": []}
        ]))
        .unwrap(),
    );
    let output = ango(
        Some(&emulator),
        &["import", &project, &path(&labels), "--json"],
    );
    assert_code(&output, 3);
    let report = json_doc(&output);
    assert_eq!(report["imported"], 2, "sent as is");
    assert_eq!(report["report"]["matchedImages"], 1);
    assert_eq!(report["report"]["unmatchedImages"], json!(["nope.jpg"]));
    let output = ango(Some(&emulator), &["tasks", &project, "--answers", "--json"]);
    let tasks = json_doc(&output);
    let c = tasks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["externalId"] == "c.jpg")
        .expect("task of c.jpg");
    assert_eq!(c["answer"]["tools"][0]["bounding-box"]["width"], 30, "{c}");

    // An export whose rows a format cannot fully hold is partial too: the Pin point
    // has no place in COCO.
    let pins = dir.write(
        "pins.json",
        &serde_json::to_vec(&json!([
            {"externalId": "b.png", "objects": [
                {"schemaId": "schema00000000000000pin", "point": [5, 5]}
            ]}
        ]))
        .unwrap(),
    );
    let output = ango(Some(&emulator), &["import", &project, &path(&pins)]);
    assert_code(&output, 0);
    let coco_out = dir.join("partial.coco.json");
    let output = ango(
        Some(&emulator),
        &[
            "export",
            &project,
            "--format",
            "coco",
            "-o",
            &path(&coco_out),
            "--stage",
            "Start",
            "--stage",
            "Label",
            "--stage",
            "Complete",
            "--json",
        ],
    );
    assert_code(&output, 3);
    let report = json_doc(&output);
    assert!(
        report.to_string().to_lowercase().contains("point")
            || stderr(&output).to_lowercase().contains("point"),
        "{report}\n{}",
        stderr(&output)
    );
}

#[test]
fn a_yolo_export_imports_back_into_another_project() {
    let emulator = emulator();
    let dir = TempDir::new();
    let source = project_with_images(&emulator, &dir);
    let coco_in = dir.write("coco.json", &serde_json::to_vec(&coco(false)).unwrap());
    assert_code(
        &ango(Some(&emulator), &["import", &source, &path(&coco_in)]),
        0,
    );

    // The default stage (Complete) holds nothing yet: an empty export, with a note.
    let yolo = dir.join("yolo");
    let output = ango(
        Some(&emulator),
        &["export", &source, "--format", "yolo", "-o", &path(&yolo)],
    );
    assert_code(&output, 0);
    assert!(stderr(&output).contains("--stage"), "{}", stderr(&output));
    std::fs::remove_dir_all(&yolo).unwrap();

    let output = ango(
        Some(&emulator),
        &[
            "export",
            &source,
            "--format",
            "yolo",
            "-o",
            &path(&yolo),
            "--stage",
            "Label",
        ],
    );
    // YOLO detection keeps the Road polygon as its box: a lossy change, reported.
    assert_code(&output, 3);
    assert!(
        stderr(&output).contains("outline-to-box"),
        "{}",
        stderr(&output)
    );
    assert!(yolo.join("labels").join("a.txt").is_file());

    let target = project_with_images(&emulator, &TempDir::new());
    // The dry run's report is its result: on stdout.
    let output = ango(
        Some(&emulator),
        &["import", &target, &path(&yolo), "--dry-run"],
    );
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("3 of 3 images match an asset, 3 objects"),
        "{}",
        stdout(&output)
    );
    let output = ango(
        Some(&emulator),
        &["import", &target, &path(&yolo), "--json"],
    );
    assert_code(&output, 0);
    assert_eq!(json_doc(&output)["imported"], 2);

    // Boxes survive the trip through YOLO's normalised coordinates.
    let coco_out = dir.join("target.coco.json");
    let output = ango(
        Some(&emulator),
        &[
            "export",
            &target,
            "--format",
            "coco",
            "-o",
            &path(&coco_out),
            "--stage",
            "Label",
        ],
    );
    assert_code(&output, 0);
    let exported: Value = serde_json::from_slice(&std::fs::read(&coco_out).unwrap()).unwrap();
    let round: Vec<(String, String, Vec<f64>)> = boxes(&exported)
        .into_iter()
        .filter(|(_, class, _)| class == "Car")
        .map(|(image, class, bbox)| {
            (
                image,
                class,
                bbox.iter().map(|v| (v * 1000.0).round() / 1000.0).collect(),
            )
        })
        .collect();
    let expected: Vec<_> = boxes(&coco(false))
        .into_iter()
        .filter(|(_, class, _)| class == "Car")
        .collect();
    assert_eq!(round, expected, "{exported}");
}

#[test]
fn usage_errors_exit_2() {
    let emulator = emulator();
    // clap's own.
    assert_code(&ango(None, &["project", "create"]), 2);
    assert_code(&ango(None, &["ontology", "frobnicate", "p"]), 2);
    assert_code(&ango(None, &["export", "p", "--format", "tiff"]), 2);
    assert_code(&ango(None, &["batches", "create", "p"]), 2);
    assert_code(&ango(None, &["completions", "tcsh"]), 2);
    // Found after parsing: an image format without --output.
    let output = ango(Some(&emulator), &["export", "p", "--format", "coco"]);
    assert_code(&output, 2);
    assert!(stderr(&output).contains("--output"), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    let output = ango(Some(&emulator), &["project"]);
    assert_code(&output, 2);
    // A failure, not a usage error: exit 1.
    let output = ango(
        Some(&emulator),
        &["ontology", "get", "000000000000000000000000"],
    );
    assert_code(&output, 1);
    assert!(stderr(&output).starts_with("error: "));
}

#[test]
fn batches_and_issues() {
    let emulator = emulator();
    let dir = TempDir::new();
    let project = project_with_images(&emulator, &dir);

    let output = ango(
        Some(&emulator),
        &["batches", "create", &project, "day", "night", "--json"],
    );
    assert_code(&output, 0);
    json_doc(&output);
    let output = ango(Some(&emulator), &["batches", "list", &project, "--json"]);
    assert_code(&output, 0);
    let mut names: Vec<String> = json_doc(&output)
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["day", "night"]);

    let output = ango(
        Some(&emulator),
        &["tasks", &project, "--json", "--max", "1"],
    );
    let task = json_doc(&output)[0]["_id"].as_str().unwrap().to_string();
    let output = ango(
        Some(&emulator),
        &["issues", "create", &task, "the car is a truck", "--json"],
    );
    assert_code(&output, 0);
    json_doc(&output);
    let output = ango(Some(&emulator), &["issues", "list", &project, "--json"]);
    assert_code(&output, 0);
    let issues = json_doc(&output);
    assert!(
        issues.to_string().contains("the car is a truck"),
        "{issues}"
    );
    // A negative page is refused before anything is sent: a usage error.
    let output = ango(
        Some(&emulator),
        &["issues", "create", &task, "x", "--page", "-1"],
    );
    assert_code(&output, 2);
}

#[test]
fn json_outputs_are_one_document() {
    let emulator = emulator();
    let project = emulator.seed_project_with("json", 3, 1, true);
    for args in [
        vec!["projects", "--json"],
        vec!["projects", "--all", "--json"],
        vec!["project", "get", &project, "--json"],
        vec!["project", &project, "--json"],
        vec!["tasks", &project, "--json"],
        vec!["assets", &project, "--json"],
        vec!["export", &project, "--json"],
        vec!["export", &project, "--format", "json"],
        vec!["ontology", "get", &project, "--json"],
        vec!["batches", "list", &project, "--json"],
        vec!["issues", "list", &project, "--json"],
        vec!["project", "create", "new", "--json"],
    ] {
        let output = ango(Some(&emulator), &args);
        assert_code(&output, 0);
        let doc = json_doc(&output);
        assert!(doc.is_object() || doc.is_array(), "{args:?}: {doc}");
    }
    let output = ango(Some(&emulator), &["tasks", &project, "--json"]);
    assert_eq!(json_doc(&output).as_array().unwrap().len(), 3);
    let output = ango(Some(&emulator), &["export", &project, "--format", "json"]);
    assert_eq!(json_doc(&output).as_array().unwrap().len(), 3);
    // An empty listing is an empty array.
    let empty = emulator.seed_project("empty", 0);
    let output = ango(Some(&emulator), &["tasks", &empty, "--json"]);
    assert_eq!(json_doc(&output), json!([]));
}

#[test]
fn an_upload_with_a_missing_file_is_partial_and_all_missing_is_a_failure() {
    let emulator = emulator();
    let project = emulator.seed_project("uploads", 0);
    let dir = TempDir::new();
    let a = dir.write("a.png", &png(2, 3));
    let missing = dir.join("missing.png");
    let output = ango(
        Some(&emulator),
        &["upload", &project, &path(&a), &path(&missing), "--json"],
    );
    assert_code(&output, 3);
    let report = json_doc(&output);
    assert_eq!(outcomes(&report), ["uploaded", "failed"]);
    assert!(report["files"][1]["status"]["error"].is_string());

    let output = ango(Some(&emulator), &["upload", &project, &path(&missing)]);
    assert_code(&output, 1);
    assert!(stderr(&output).contains("1 of 1 files were not uploaded"));
}

#[test]
fn completions_generate_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef ango"),
        ("fish", "complete -c ango"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let output = ango(None, &["completions", shell]);
        assert_code(&output, 0);
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for command in ["ontology", "import", "batches", "issues", "completions"] {
            assert!(script.contains(command), "{shell}: {command} missing");
        }
    }
}

#[test]
fn help_shows_the_workflow_and_the_exit_codes() {
    let output = ango(None, &["--help"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    for needle in [
        "ango project create",
        "ango ontology set",
        "ango upload",
        "ango import",
        "ango export $P --format coco",
        "ango convert",
        "ango completions",
        "Exit codes: 0 ok, 1 failure, 2 usage, 3 partial",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

/// A misbehaving server: a project without id or schema, one asset, and an import
/// endpoint that fails with a 500. Returns its URL and the request lines it saw.
fn misbehaving_server() -> (
    ango_testkit::RawServer,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = ango_testkit::RawServer::answering(move |request| {
        let target = match request.raw_query.as_str() {
            "" => request.path.clone(),
            query => format!("{}?{query}", request.path),
        };
        log.lock()
            .unwrap()
            .push(format!("{} {target} HTTP/1.1", request.method));
        let (status, body) = if target.contains("/import/labels") {
            (
                "500 Internal Server Error",
                json!({"status": "fail", "message": "storage down"}),
            )
        } else if target.contains("ssets") {
            (
                "200 OK",
                json!({"status": "success", "data": {"assets": [
                    {"externalId": "a.png", "metadata": {"width": 10, "height": 10}}
                ], "total": 1}}),
            )
        } else {
            (
                "200 OK",
                json!({"status": "success", "data": {"project": {"name": "x"}}}),
            )
        };
        Some(ango_testkit::raw_response(
            status,
            &[("content-type", b"application/json")],
            body.to_string().as_bytes(),
        ))
    });
    (server, seen)
}

#[test]
fn a_misbehaving_server_is_a_failure_with_a_message() {
    let (server, seen) = misbehaving_server();
    let url = server.url.clone();
    let run = |args: &[&str]| {
        let mut all = vec!["--api-key", "k", "--host", &url, "--retries", "0"];
        all.extend_from_slice(args);
        ango(None, &all)
    };
    let output = run(&["project", "create", "x"]);
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("did not return the new project's id"),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());

    let output = run(&["ontology", "get", "p1"]);
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("no category schema"),
        "{}",
        stderr(&output)
    );

    // The import request fails: exit 1, nothing on stdout even with --json.
    let dir = TempDir::new();
    let labels = dir.write(
        "labels.json",
        br#"[{"externalId": "a.png", "objects": []}]"#,
    );
    let output = run(&["import", "p1", &path(&labels), "--json"]);
    assert_code(&output, 1);
    assert!(output.stdout.is_empty(), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("storage down"),
        "{}",
        stderr(&output)
    );
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|line| line.starts_with("POST /v2/import/labels")),
        "{:?}",
        seen.lock().unwrap()
    );

    // A file that is neither format: a failure before anything is sent.
    let other = dir.write("other.json", br#"{"hello": 1}"#);
    let output = run(&["import", "p1", &path(&other)]);
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("neither Ango import JSON"),
        "{}",
        stderr(&output)
    );
}
