//! The typed export row and the format converters: COCO, YOLO and VOC from the shared
//! fixtures (`tests/fixtures/formats`), their reference readers, COCO and YOLO import,
//! and round trips through the import format and through the emulator.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use ango_core::export_row::{ExportRow, MediaKind, Shape};
use ango_core::formats::{
    self, AssetInfo, ConversionReport, Format, Reason, RowReader, coco_to_import, yolo_to_import,
};
use ango_core::ontology::CategorySchema;
use serde_json::{Value, json};
use support::TempDir;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/formats")
}

fn ontology() -> CategorySchema {
    formats::read_ontology_file(&fixtures().join("ontology.json")).unwrap()
}

fn convert_fixture(format: Format, out: &Path) -> ConversionReport {
    let rows = RowReader::open(&fixtures().join("export.ndjson")).unwrap();
    formats::convert(rows, format, &ontology(), out).unwrap()
}

fn reasons(report: &ConversionReport) -> BTreeMap<&'static str, u64> {
    report
        .by_reason
        .iter()
        .map(|(r, n)| (r.as_str(), *n))
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The issues every image format reports on the fixture, whatever it holds.
fn common_reasons() -> BTreeMap<&'static str, u64> {
    BTreeMap::from([
        ("unreadable-row", 1),
        ("no-task", 0),
        ("extra-task", 1),
        ("not-an-image", 2),
        ("no-image-size", 1),
        ("classification", 1),
        ("relation", 1),
        ("unsupported-shape", 2),
        ("unknown-category", 1),
        ("degenerate-shape", 2),
    ])
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect()
}

// ---------------------------------------------------------------------------
// ExportRow
// ---------------------------------------------------------------------------

#[test]
fn export_row_reads_v3_rows_and_keeps_unknown_fields() {
    let text = r#"{"asset":"https://s/x.jpg?sig=1","externalId":"x.jpg","metadata":{"width":10,"height":20,"dpi":72},
        "batches":null,"newTopField":{"a":1},
        "task":{"taskId":"t","stage":"Label","tools":[
            {"objectId":"o","schemaId":"s","title":"Car","bounding-box":{"x":5,"y":6,"width":-2,"height":3},"metadata":{"createdBy":"me"}},
            {"objectId":"p","schemaId":"s2","ner":{"start":1,"end":2}}],
          "classifications":[{"schemaId":"c","tool":"checkbox","answer":["a","b"],"classifications":null}],
          "relations":[{"schemaId":"r","group":["o","p"]}],
          "futureTaskField":true}}"#;
    let row: ExportRow = serde_json::from_str(text).unwrap();
    assert_eq!(row.external_id.as_deref(), Some("x.jpg"));
    assert_eq!(row.image_size(), Some((10.0, 20.0)));
    assert!(row.batches.is_empty(), "null reads as an empty list");
    assert_eq!(row.metadata.extra["dpi"], 72);
    assert_eq!(row.extra["newTopField"], json!({"a": 1}));
    let task = row.task.as_ref().unwrap();
    assert_eq!(task.extra["futureTaskField"], true);
    let Shape::BoundingBox(b) = task.tools[0].shape() else {
        panic!("a box")
    };
    assert_eq!(b.normalized(), (3.0, 6.0, 2.0, 3.0));
    assert_eq!(task.tools[0].extra["metadata"]["createdBy"], "me");
    assert_eq!(task.tools[1].shape(), Shape::Other("ner"));
    assert_eq!(task.classifications[0].answer, json!(["a", "b"]));
    assert_eq!(
        task.relations[0].group.as_deref(),
        Some(&["o".to_string(), "p".to_string()][..])
    );
    // Written back, every field is still there.
    let back = row.to_value();
    let original: Value = serde_json::from_str(text).unwrap();
    assert_eq!(back["newTopField"], original["newTopField"]);
    assert_eq!(back["task"]["futureTaskField"], true);
    assert_eq!(
        back["task"]["tools"][1]["ner"],
        json!({"start": 1, "end": 2})
    );
    assert_eq!(back["metadata"]["dpi"], 72);
    assert_eq!(ExportRow::from_value(back).unwrap(), row);
}

#[test]
fn export_row_reads_the_older_tasks_format_and_lenient_sizes() {
    let row = ExportRow::from_slice(
        br#"{"externalId":"a/b/c.png","metadata":{"width":"64","height":" 32 "},
            "tasks":[{"taskId":"1","objects":[{"schemaId":"s","polygon":[[0,0],[1,0],[1,1]]}]},
                     {"taskId":"2","objects":null}]}"#,
    )
    .unwrap();
    assert_eq!(row.image_size(), Some((64.0, 32.0)));
    let tasks: Vec<_> = row.tasks().collect();
    assert_eq!(tasks.len(), 2);
    assert!(matches!(tasks[0].tools[0].shape(), Shape::Polygon(p) if p.len() == 3));
    assert!(tasks[1].tools.is_empty());
    assert_eq!(row.media_kind(), MediaKind::Image);
}

#[test]
fn export_row_media_kinds_and_file_names() {
    let kind = |v: Value| ExportRow::from_value(v).unwrap().media_kind();
    assert_eq!(kind(json!({"externalId": "x.PDF"})), MediaKind::Pdf);
    assert_eq!(
        kind(json!({"asset": "https://h/v.mp4?x=1.jpg"})),
        MediaKind::Video
    );
    assert_eq!(
        kind(json!({"externalId": "v", "metadata": {"frameTotal": 3}})),
        MediaKind::Video
    );
    assert_eq!(kind(json!({"externalId": "t.txt"})), MediaKind::Text);
    assert_eq!(
        kind(json!({"externalId": "m", "dataset": ["a.jpg", "b.jpg"]})),
        MediaKind::MultiPage
    );
    assert_eq!(kind(json!({"externalId": "img.jpeg"})), MediaKind::Image);
    let row = ExportRow::from_value(json!({"asset": "https://h/dir/pic.png?sig=2"})).unwrap();
    assert_eq!(row.file_name(), Some("pic.png"));
    // A wrongly typed known field is a decoding error, not a panic.
    assert!(matches!(
        ExportRow::from_value(json!({"task": {"tools": 5}})),
        Err(ango_core::Error::Decode { .. })
    ));
}

#[test]
fn row_reader_reads_ndjson_and_json_arrays_alike() {
    let ndjson: Vec<_> = RowReader::open(&fixtures().join("export.ndjson"))
        .unwrap()
        .collect();
    let array: Vec<_> = RowReader::open(&fixtures().join("export.json"))
        .unwrap()
        .collect();
    assert_eq!(ndjson.len(), 11);
    assert_eq!(array.len(), 11);
    for (a, b) in ndjson.iter().zip(&array) {
        match (a, b) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(_), Err(_)) => {}
            other => panic!("the two readers disagree: {other:?}"),
        }
    }
    assert_eq!(ndjson.iter().filter(|r| r.is_err()).count(), 1);
    // Strings holding brackets and commas do not split elements; blank input is empty.
    let tricky = br#" [ {"externalId":"a,]}[\"b","metadata":{}} , {"externalId":"c"} ] "#;
    let rows: Vec<_> = RowReader::new(&tricky[..])
        .map(|r| r.unwrap().external_id.unwrap())
        .collect();
    assert_eq!(rows, ["a,]}[\"b", "c"]);
    assert_eq!(RowReader::new(&b"  \n"[..]).count(), 0);
    assert_eq!(RowReader::new(&b"[]"[..]).count(), 0);
    // A byte order mark is skipped; a pretty-printed object is refused at once.
    let bom: Vec<_> = RowReader::new(&b"\xEF\xBB\xBF{\"externalId\":\"a\"}\n"[..]).collect();
    assert_eq!(bom[0].as_ref().unwrap().external_id.as_deref(), Some("a"));
    let pretty: Vec<_> = RowReader::new(&b"{\n  \"data\": [\n  1\n ]\n}\n"[..]).collect();
    assert_eq!(pretty.len(), 1);
    assert!(matches!(
        pretty[0],
        Err(ango_core::Error::InvalidArgument(_))
    ));
    let after: Vec<_> = RowReader::new(&br#"[{"externalId":"a"}] x"#[..]).collect();
    assert_eq!(after.len(), 2);
    assert!(after[1].is_err(), "text after the array is refused");
    // A truncated array is an error that ends the stream (not a decoding error).
    let cut: Vec<_> = RowReader::new(&br#"[{"externalId":"a"},{"extern"#[..]).collect();
    assert_eq!(cut.len(), 2);
    assert!(matches!(cut[1], Err(ango_core::Error::InvalidArgument(_))));
}

// ---------------------------------------------------------------------------
// COCO
// ---------------------------------------------------------------------------

/// Checks the COCO rules pycocotools relies on, strictly, in Rust.
fn assert_valid_coco(coco: &Value) {
    let images = coco["images"].as_array().unwrap();
    let annotations = coco["annotations"].as_array().unwrap();
    let categories = coco["categories"].as_array().unwrap();
    let mut image_ids = std::collections::HashSet::new();
    for img in images {
        assert!(image_ids.insert(img["id"].as_u64().unwrap()), "{img}");
        assert!(img["width"].as_u64().unwrap() > 0 && img["height"].as_u64().unwrap() > 0);
        assert!(img["file_name"].as_str().is_some_and(|s| !s.is_empty()));
    }
    let category_ids: std::collections::HashSet<u64> = categories
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    assert_eq!(category_ids.len(), categories.len());
    let mut ann_ids = std::collections::HashSet::new();
    for ann in annotations {
        assert!(ann_ids.insert(ann["id"].as_u64().unwrap()));
        assert!(image_ids.contains(&ann["image_id"].as_u64().unwrap()));
        assert!(category_ids.contains(&ann["category_id"].as_u64().unwrap()));
        let bbox: Vec<f64> = serde_json::from_value(ann["bbox"].clone()).unwrap();
        assert_eq!(bbox.len(), 4);
        assert!(bbox[2] > 0.0 && bbox[3] > 0.0, "{ann}");
        assert!(ann["area"].as_f64().unwrap() > 0.0);
        assert_eq!(ann["iscrowd"], 0);
        for poly in ann["segmentation"].as_array().unwrap() {
            let n = poly.as_array().unwrap().len();
            assert!(n >= 6 && n.is_multiple_of(2), "{ann}");
        }
    }
}

#[test]
fn coco_from_the_fixture_export() {
    let dir = TempDir::new();
    let out = dir.join("coco.json");
    let report = convert_fixture(Format::Coco, &out);
    assert_eq!(
        (report.rows, report.images, report.annotations),
        (11, 7, 8),
        "{report}"
    );
    let mut expected = common_reasons();
    expected.insert("segmentation-holes", 1);
    assert_eq!(reasons(&report), expected, "{report:#?}");
    assert_eq!(report.rows_with_issues, 8);
    assert_eq!(report.issues.len() as u64, report.issue_count());
    assert!(!report.is_complete());
    // No temporary file is left beside the output.
    let left: Vec<_> = std::fs::read_dir(&dir.path).unwrap().collect();
    assert_eq!(left.len(), 1);

    let coco = read_json(&out);
    assert_valid_coco(&coco);
    let names: Vec<&str> = coco["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Car", "Road", "Person", "Sign"],
        "region tools in ontology order"
    );
    assert_eq!(coco["categories"][0]["id"], 1);
    assert_eq!(
        coco["categories"][0]["ango_schema_id"],
        "schema00000000000000car"
    );
    assert_eq!(
        coco["images"][0],
        json!({"id": 1, "file_name": "cat1.jpg", "width": 640, "height": 480, "ango_task_id": "t-cat1.jpg"})
    );
    let ann = |object: &str| {
        coco["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["ango_object_id"] == object)
            .unwrap_or_else(|| panic!("no annotation for {object}"))
            .clone()
    };
    let o1 = ann("o1");
    assert_eq!(o1["bbox"], json!([10.0, 20.0, 100.0, 50.0]));
    assert_eq!(o1["area"], 5000.0);
    assert_eq!(o1["segmentation"], json!([]));
    assert_eq!(o1["category_id"], 1);
    assert_eq!(
        ann("o2")["bbox"],
        json!([150.0, 160.0, 50.0, 40.0]),
        "a box drawn from its bottom-right corner"
    );
    let road = ann("o3");
    assert_eq!(road["category_id"], 2);
    assert_eq!(
        road["segmentation"],
        json!([[0.0, 400.0, 640.0, 400.0, 640.0, 480.0, 0.0, 480.0]])
    );
    assert_eq!(road["area"], 640.0 * 80.0);
    let person = ann("o4");
    assert_eq!(
        person["segmentation"].as_array().unwrap().len(),
        2,
        "one polygon per zone"
    );
    assert_eq!(person["area"], 100.0 * 200.0 + 50.0 * 50.0 / 2.0);
    assert_eq!(person["bbox"], json!([100.0, 100.0, 250.0, 250.0]));
    assert_eq!(
        ann("o5")["segmentation"][0].as_array().unwrap().len(),
        8,
        "rotated box corners"
    );
    assert_eq!(
        ann("o13")["image_id"],
        4,
        "older tasks format, size given as strings"
    );
    // The issues name rows and objects.
    let issue = report
        .issues
        .iter()
        .find(|i| i.reason == Reason::UnsupportedShape && i.object_id.as_deref() == Some("o6"))
        .unwrap();
    assert_eq!((issue.row, issue.detail.as_str()), (2, "point"));
    assert_eq!(
        issue.to_string(),
        "row 2 (cat2.jpg) object o6: unsupported-shape: point"
    );
    let pdf = report
        .issues
        .iter()
        .find(|i| i.reason == Reason::NotAnImage)
        .unwrap();
    assert_eq!((pdf.row, pdf.detail.as_str()), (3, "pdf"));
    assert!(
        report
            .issues
            .iter()
            .any(|i| i.reason == Reason::UnreadableRow && i.row == 7)
    );
    let text = report.to_string();
    assert!(
        text.starts_with("coco: 11 rows, 7 images, 8 annotations; 13 issues in 8 rows:"),
        "{text}"
    );
    assert_eq!(report.to_value()["byReason"]["not-an-image"], 2);
}

#[test]
fn coco_streams_and_counts_large_exports() {
    let dir = TempDir::new();
    let out = dir.join("big.json");
    let n = 20_000u64;
    let rows = (0..n).map(|i| {
        ExportRow::from_value(json!({
            "externalId": format!("img{i}.jpg"), "metadata": {"width": 100, "height": 100},
            "task": {"taskId": format!("t{i}"), "tools": [
                {"objectId": format!("b{i}"), "schemaId": "schema00000000000000car", "bounding-box": {"x": 1, "y": 2, "width": 3, "height": 4}},
                {"objectId": format!("p{i}"), "schemaId": "schema0000000000000road", "polygon": [[0, 0], [10, 0], [10, 10]]}
            ]}
        }))
    });
    let report = formats::convert(rows, Format::Coco, &ontology(), &out).unwrap();
    assert!(report.is_complete(), "{report}");
    assert_eq!((report.images, report.annotations), (n, 2 * n));
    let coco = read_json(&out);
    assert_eq!(coco["images"].as_array().unwrap().len() as u64, n);
    assert_eq!(coco["annotations"].as_array().unwrap().len() as u64, 2 * n);
    assert_eq!(coco["annotations"][(2 * n - 1) as usize]["image_id"], n);
    assert_valid_coco(&coco);
}

#[test]
fn an_empty_export_still_writes_valid_files() {
    let dir = TempDir::new();
    let rows = std::iter::empty();
    let report = formats::convert(rows, Format::Coco, &ontology(), &dir.join("e.json")).unwrap();
    assert_eq!((report.rows, report.images), (0, 0));
    let coco = read_json(&dir.join("e.json"));
    assert_eq!(coco["images"], json!([]));
    assert_eq!(coco["annotations"], json!([]));
    assert_eq!(coco["categories"].as_array().unwrap().len(), 4);
}

#[test]
fn a_read_error_stops_the_conversion() {
    let dir = TempDir::new();
    let rows = vec![
        Ok(ExportRow::default()),
        Err(ango_core::Error::Archive("truncated".into())),
    ];
    let err = formats::convert(rows, Format::Coco, &ontology(), &dir.join("x.json")).unwrap_err();
    assert!(matches!(err, ango_core::Error::Archive(_)), "{err}");
}

// ---------------------------------------------------------------------------
// YOLO and VOC
// ---------------------------------------------------------------------------

/// Ultralytics' label rules, checked on every label file of `root`.
fn assert_valid_yolo(root: &Path, classes: usize, segment: bool) -> usize {
    let mut lines = 0;
    for entry in std::fs::read_dir(root.join("labels")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            lines += 1;
            let fields: Vec<&str> = line.split(' ').collect();
            let class: usize = fields[0].parse().unwrap();
            assert!(class < classes, "{line}");
            let values: Vec<f64> = fields[1..].iter().map(|v| v.parse().unwrap()).collect();
            assert!(values.iter().all(|v| (0.0..=1.0).contains(v)), "{line}");
            if segment {
                assert!(
                    values.len() >= 6 && values.len().is_multiple_of(2),
                    "{line}"
                );
            } else {
                assert_eq!(values.len(), 4, "{line}");
                assert!(values[2] > 0.0 && values[3] > 0.0);
            }
        }
    }
    lines
}

#[test]
fn yolo_detection_from_the_fixture_export() {
    let dir = TempDir::new();
    let root = dir.join("yolo");
    let report = convert_fixture(Format::YoloDetect, &root);
    assert_eq!((report.images, report.annotations), (6, 7), "{report}");
    let mut expected = common_reasons();
    expected.extend([
        ("segmentation-holes", 1),
        ("duplicate-image", 1),
        ("outline-to-box", 3),
    ]);
    assert_eq!(reasons(&report), expected);
    assert_eq!(report.clipped, 2, "the edge box is clipped on two sides");
    let yaml = std::fs::read_to_string(root.join("data.yaml")).unwrap();
    assert!(yaml.contains("train: images\nval: images\nnc: 4\nnames:\n  0: \"Car\"\n  1: \"Road\"\n  2: \"Person\"\n  3: \"Sign\"\n"), "{yaml}");
    assert_eq!(assert_valid_yolo(&root, 4, false), 7);
    let cat1 = std::fs::read_to_string(root.join("labels/cat1.txt")).unwrap();
    assert_eq!(
        cat1,
        "0 0.09375 0.09375 0.15625 0.104167\n0 0.273438 0.375 0.078125 0.083333\n1 0.5 0.916667 1 0.166667\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("labels/empty.txt")).unwrap(),
        "",
        "a background image"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("labels/edge.txt")).unwrap(),
        "0 0.95 0.95 0.1 0.1\n"
    );
    assert!(root.join("images").is_dir());
    // A second conversion into the same directory is refused, not mixed in.
    let rows = RowReader::open(&fixtures().join("export.ndjson")).unwrap();
    let err = formats::convert(rows, Format::YoloDetect, &ontology(), &root).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
}

#[test]
fn yolo_segmentation_from_the_fixture_export() {
    let dir = TempDir::new();
    let root = dir.join("yolo-seg");
    let report = convert_fixture(Format::YoloSegment, &root);
    assert_eq!((report.images, report.annotations), (6, 8), "{report}");
    let mut expected = common_reasons();
    expected.extend([
        ("segmentation-holes", 1),
        ("duplicate-image", 1),
        ("split-instance", 1),
    ]);
    assert_eq!(reasons(&report), expected);
    assert_eq!(report.clipped, 4);
    assert_eq!(assert_valid_yolo(&root, 4, true), 8);
    let cat1 = std::fs::read_to_string(root.join("labels/cat1.txt")).unwrap();
    let first = cat1.lines().next().unwrap();
    assert_eq!(
        first,
        "0 0.015625 0.041667 0.171875 0.041667 0.171875 0.145833 0.015625 0.145833"
    );
}

#[test]
fn voc_from_the_fixture_export() {
    let dir = TempDir::new();
    let root = dir.join("voc");
    let report = convert_fixture(Format::Voc, &root);
    assert_eq!((report.images, report.annotations), (6, 7), "{report}");
    let mut expected = common_reasons();
    expected.extend([
        ("segmentation-holes", 1),
        ("duplicate-image", 1),
        ("outline-to-box", 3),
    ]);
    assert_eq!(reasons(&report), expected);
    assert_eq!(
        std::fs::read_to_string(root.join("labels.txt")).unwrap(),
        "Car\nRoad\nPerson\nSign\n"
    );
    let xml = std::fs::read_to_string(root.join("Annotations/cat1.xml")).unwrap();
    assert!(xml.contains("<filename>cat1.jpg</filename>"));
    assert!(xml.contains("<width>640</width>\n\t\t<height>480</height>"));
    assert!(xml.contains("<xmin>150</xmin>\n\t\t\t<ymin>160</ymin>\n\t\t\t<xmax>200</xmax>\n\t\t\t<ymax>200</ymax>"), "{xml}");
    let edge = std::fs::read_to_string(root.join("Annotations/edge.xml")).unwrap();
    assert!(edge.contains("<truncated>1</truncated>") && edge.contains("<xmax>100</xmax>"));
    assert_eq!(
        std::fs::read_dir(root.join("Annotations")).unwrap().count(),
        6
    );
}

#[test]
fn voc_escapes_names_and_refuses_path_tricks() {
    let dir = TempDir::new();
    let root = dir.join("voc");
    let schema = CategorySchema::from_value(&json!({"tools": [
        {"tool": "bounding-box", "title": "A&B <c>", "schemaId": "s"}]}))
    .unwrap();
    let rows = [
        json!({"externalId": "../../evil/<x>.jpg", "metadata": {"width": 9, "height": 9},
        "task": {"tools": [{"schemaId": "s", "bounding-box": {"x": 1, "y": 1, "width": 2, "height": 2}}]}}),
    ];
    let report = formats::convert(
        rows.into_iter().map(ExportRow::from_value),
        Format::Voc,
        &schema,
        &root,
    )
    .unwrap();
    assert!(report.is_complete(), "{report}");
    let files: Vec<String> = std::fs::read_dir(root.join("Annotations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["_.._evil__x_.xml"]);
    let xml = std::fs::read_to_string(root.join("Annotations").join(&files[0])).unwrap();
    assert!(xml.contains("<name>A&amp;B &lt;c&gt;</name>"));
    assert!(xml.contains("<filename>../../evil/&lt;x&gt;.jpg</filename>"));
    assert!(!dir.path.join("evil").exists());
}

// ---------------------------------------------------------------------------
// Reference readers (Python)
// ---------------------------------------------------------------------------

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ANGO_FORMATS_PYTHON") {
        return Some(p.into());
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venvs/formats/bin/python");
    if venv.exists() {
        return Some(venv);
    }
    Command::new("python3")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "python3".into())
}

#[test]
fn outputs_load_in_the_reference_readers() {
    let Some(python) = python() else {
        eprintln!("SKIPPED: no python3 to run the reference readers");
        return;
    };
    let dir = TempDir::new();
    convert_fixture(Format::Coco, &dir.join("coco.json"));
    convert_fixture(Format::YoloSegment, &dir.join("yolo"));
    convert_fixture(Format::Voc, &dir.join("voc"));
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/tests/formats/check_formats.py");
    let output = Command::new(&python)
        .arg(script)
        .arg(dir.join("coco.json"))
        .arg(dir.join("yolo"))
        .arg(dir.join("voc"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    eprintln!("reference readers: {summary}");
    assert_eq!(summary["coco"]["images"], 7);
    assert_eq!(summary["coco"]["annotations"], 8);
    assert_eq!(summary["yolo"]["lines"], 8);
    assert_eq!(
        summary["yolo"]["names"],
        json!(["Car", "Road", "Person", "Sign"])
    );
    assert_eq!(summary["voc"], json!({"xml_files": 6, "objects": 7}));
    if std::env::var_os("ANGO_REQUIRE_PYCOCOTOOLS").is_some() {
        assert_eq!(summary["coco"]["reader"], "pycocotools");
    }
}

// ---------------------------------------------------------------------------
// Import and round trips
// ---------------------------------------------------------------------------

/// A deterministic export of `n` images, each with boxes and polygons.
fn generated_rows(n: usize) -> Vec<Value> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |max: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % max) as f64
    };
    (0..n)
        .map(|i| {
            let (w, h) = (200.0 + next(800), 200.0 + next(600));
            let mut tools = Vec::new();
            for k in 0..(1 + next(3) as usize) {
                tools.push(json!({"objectId": format!("b{i}-{k}"), "schemaId": "schema00000000000000car", "title": "Car",
                    "bounding-box": {"x": next(100) + 0.25, "y": next(100) + 0.5, "width": 1.0 + next(90), "height": 1.0 + next(90)}}));
            }
            tools.push(json!({"objectId": format!("p{i}"), "schemaId": "schema0000000000000road", "title": "Road",
                "polygon": [[next(50), next(50)], [100.0 + next(50), next(50)], [100.0 + next(50), 100.0 + next(50)], [next(50), 100.5]]}));
            if i % 3 == 0 {
                tools.push(json!({"objectId": format!("s{i}"), "schemaId": "schema000000000000person", "title": "Person",
                    "segmentation": {"zones": [{"region": [[10, 10], [60, 10], [35, 70]], "holes": []},
                                               {"region": [[110, 110], [160, 110], [135, 170.5]], "holes": []}]}}));
            }
            json!({"externalId": format!("img-{i}.jpg"), "asset": format!("https://s/img-{i}.jpg"),
                   "metadata": {"width": w, "height": h}, "task": {"taskId": format!("t{i}"), "tools": tools}})
        })
        .collect()
}

fn assets_of(rows: &[Value]) -> Vec<AssetInfo> {
    rows.iter().filter_map(AssetInfo::from_value).collect()
}

/// Every annotation of a COCO file as comparable text: image name, category name,
/// bbox and segmentation (ids left out).
fn coco_shapes(coco: &Value) -> Vec<String> {
    let file = |id: &Value| {
        coco["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| &i["id"] == id)
            .unwrap()["file_name"]
            .clone()
    };
    let category = |id: &Value| {
        coco["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| &c["id"] == id)
            .unwrap()["name"]
            .clone()
    };
    let mut out: Vec<String> = coco["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            json!([
                file(&a["image_id"]),
                category(&a["category_id"]),
                a["bbox"],
                a["segmentation"],
                a["area"]
            ])
            .to_string()
        })
        .collect();
    out.sort();
    out
}

/// What the emulator's export holds after `import_labels`: the asset's fields and the
/// imported objects as the task's tools.
fn rows_from_import(labels: &[Value], assets: &[Value]) -> Vec<Value> {
    labels
        .iter()
        .map(|item| {
            let asset = assets
                .iter()
                .find(|a| a["externalId"] == item["externalId"])
                .unwrap();
            json!({"externalId": item["externalId"], "metadata": asset["metadata"],
                   "task": {"tools": item["objects"], "classifications": [], "relations": []}})
        })
        .collect()
}

#[test]
fn coco_to_ango_import_and_back_keeps_every_box_and_polygon() {
    let rows = generated_rows(60);
    let dir = TempDir::new();
    let first = dir.join("first.json");
    let report = formats::convert(
        rows.iter().cloned().map(ExportRow::from_value),
        Format::Coco,
        &ontology(),
        &first,
    )
    .unwrap();
    assert!(report.is_complete(), "{report}");
    let coco = read_json(&first);
    let assets = assets_of(&rows);
    let plan = coco_to_import(&coco, &ontology(), Some(&assets)).unwrap();
    assert!(plan.report.is_complete(), "{}", plan.report);
    assert_eq!(plan.report.matched_images, 60);
    assert_eq!(plan.report.annotations, report.annotations);
    assert_eq!(plan.labels.len(), 60);
    // The import uses the ontology's schema ids, the object ids and the import geometry.
    let first_object = &plan.labels[0]["objects"][0];
    assert_eq!(first_object["schemaId"], "schema00000000000000car");
    assert_eq!(first_object["objectId"], "b0-0");
    assert!(first_object["bounding-box"]["width"].as_f64().unwrap() > 0.0);
    let second = dir.join("second.json");
    formats::convert(
        rows_from_import(&plan.labels, &rows)
            .into_iter()
            .map(ExportRow::from_value),
        Format::Coco,
        &ontology(),
        &second,
    )
    .unwrap();
    let again = read_json(&second);
    assert_eq!(coco_shapes(&again), coco_shapes(&coco));
    assert_eq!(coco_shapes(&coco).len() as u64, report.annotations);
}

#[test]
fn coco_import_dry_run_reports_what_does_not_match() {
    let coco = json!({
        "images": [{"id": 1, "file_name": "train/cat1.jpg", "width": 10, "height": 10},
                   {"id": 2, "file_name": "missing.jpg", "width": 10, "height": 10},
                   {"id": 3, "file_name": "cat2.jpg", "width": 10, "height": 10}],
        "categories": [{"id": 7, "name": "car "}, {"id": 8, "name": "Bicycle"}, {"id": 9, "name": "Pin"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 7, "bbox": [1, 2, 3, 4], "segmentation": [], "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 8, "bbox": [1, 2, 3, 4]},
            {"id": 3, "image_id": 2, "category_id": 7, "bbox": [1, 2, 3, 4]},
            {"id": 4, "image_id": 3, "category_id": 7, "bbox": [1, 2, 0, 4]},
            {"id": 5, "image_id": 3, "category_id": 7, "segmentation": {"counts": "abc", "size": [10, 10]}, "iscrowd": 1},
            {"id": 6, "image_id": 99, "category_id": 7, "bbox": [1, 2, 3, 4]},
            {"id": 7, "image_id": 3, "category_id": 9, "bbox": [1, 2, 3, 4]},
            {"id": 8, "image_id": 3, "category_id": 7, "bbox": [0, 0, 5, 5], "segmentation": [[0, 0, 5, 0]]}
        ]
    });
    let assets = vec![
        AssetInfo {
            external_id: "cat1.jpg".into(),
            width: None,
            height: None,
        },
        AssetInfo {
            external_id: "cat2.jpg".into(),
            width: None,
            height: None,
        },
    ];
    let plan = coco_to_import(&coco, &ontology(), Some(&assets)).unwrap();
    let r = &plan.report;
    assert_eq!(
        (
            r.images,
            r.matched_images,
            r.annotations,
            r.objects,
            r.items
        ),
        (3, 2, 8, 1, 1)
    );
    assert_eq!(r.unmatched_images, ["missing.jpg"]);
    // "Pin" is a point tool, not a region tool: unmatched like an unknown name.
    assert_eq!(
        r.unmatched_categories,
        BTreeMap::from([("Bicycle".to_string(), 1), ("Pin".to_string(), 1)])
    );
    let reasons: Vec<(&str, &str)> = r
        .issues
        .iter()
        .map(|i| (i.annotation.as_deref().unwrap(), i.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[0].1.contains("no valid bbox"), "{reasons:?}");
    assert!(reasons[1].1.contains("RLE"));
    assert_eq!(reasons[2], ("6", "no image with this image_id"));
    assert!(reasons[3].1.contains("even list"));
    assert_eq!(
        plan.labels,
        vec![
            json!({"externalId": "cat1.jpg", "objects": [{"schemaId": "schema00000000000000car", "title": "Car",
            "bounding-box": {"x": 1.0, "y": 2.0, "width": 3.0, "height": 4.0}}]})
        ]
    );
    assert!(!r.is_complete());
    assert!(r.to_string().contains("unmatched images: missing.jpg"));
    // Not a COCO document at all.
    assert!(coco_to_import(&json!({"images": 3}), &ontology(), None).is_err());
}

#[test]
fn yolo_to_ango_import_and_back() {
    let rows = generated_rows(30);
    let dir = TempDir::new();
    let root = dir.join("yolo");
    let report = formats::convert(
        rows.iter().cloned().map(ExportRow::from_value),
        Format::YoloSegment,
        &ontology(),
        &root,
    )
    .unwrap();
    let assets = assets_of(&rows);
    let plan = yolo_to_import(&root, &ontology(), &assets).unwrap();
    assert!(plan.report.is_complete(), "{}", plan.report);
    assert_eq!(plan.report.annotations, report.annotations);
    // Back through YOLO: the same lines (coordinates were rounded to 6 decimals once).
    let again = dir.join("again");
    formats::convert(
        rows_from_import(&plan.labels, &rows)
            .into_iter()
            .map(ExportRow::from_value),
        Format::YoloSegment,
        &ontology(),
        &again,
    )
    .unwrap();
    for entry in std::fs::read_dir(root.join("labels")).unwrap() {
        let name = entry.unwrap().file_name();
        let a = std::fs::read_to_string(root.join("labels").join(&name)).unwrap();
        let b = std::fs::read_to_string(again.join("labels").join(&name)).unwrap();
        let parse = |s: &str| -> Vec<Vec<f64>> {
            s.lines()
                .map(|l| l.split(' ').map(|v| v.parse().unwrap()).collect())
                .collect()
        };
        let (a, b) = (parse(&a), parse(&b));
        assert_eq!(a.len(), b.len(), "{name:?}");
        for (la, lb) in a.iter().zip(&b) {
            assert_eq!(la.len(), lb.len());
            assert!(
                la.iter().zip(lb).all(|(x, y)| (x - y).abs() <= 2e-6),
                "{la:?} vs {lb:?}"
            );
        }
    }
    // Unknown stems, classes out of range, bad lines and assets without a size.
    std::fs::write(root.join("labels/stranger.txt"), "0 0.5 0.5 0.1 0.1\n").unwrap();
    std::fs::write(
        root.join("labels/img-0.txt"),
        "9 0.5 0.5 0.1 0.1\n0 0.5 0.5\nx 1 2 3 4\n",
    )
    .unwrap();
    let mut no_size = assets.clone();
    no_size[1].width = None;
    let plan = yolo_to_import(&root, &ontology(), &no_size).unwrap();
    assert_eq!(plan.report.unmatched_images, ["labels/stranger.txt"]);
    let img0: Vec<&str> = plan
        .report
        .issues
        .iter()
        .filter(|i| i.image == "labels/img-0.txt")
        .map(|i| i.reason.as_str())
        .collect();
    assert_eq!(img0.len(), 3, "{img0:?}");
    assert!(img0[0].contains("class id 9"));
    assert!(
        plan.report
            .issues
            .iter()
            .any(|i| i.image == "labels/img-1.txt" && i.reason.contains("no width/height"))
    );
}

#[test]
fn yolo_names_in_every_yaml_shape() {
    use ango_core::formats::import::yolo_names;
    assert_eq!(
        yolo_names("path: x\nnames: ['a', \"b c\", d]\n").unwrap(),
        ["a", "b c", "d"]
    );
    assert_eq!(
        yolo_names("names:\n  - a\n  - 'it''s'\nnc: 2\n").unwrap(),
        ["a", "it's"]
    );
    assert_eq!(
        yolo_names("names:\n  1: b\n  0: a # first\n").unwrap(),
        ["a", "b"]
    );
    assert!(yolo_names("names:\n  0: a\n  2: c\n").is_err());
    assert!(yolo_names("nc: 3\n").is_err());
}

#[test]
fn coco_round_trip_through_the_emulator() {
    use ango_core::models::{ExportFormat, ExportOptions};
    let emulator =
        ango_emulator::Emulator::start(ango_emulator::EmulatorConfig::default()).unwrap();
    let client = ango_core::Client::builder(emulator.api_key())
        .host(emulator.url())
        .progress(ango_core::ProgressMode::Off)
        .build()
        .unwrap();
    let project = client.raw().create_project("Formats", None, None).unwrap();
    let project_id = project["data"]["project"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    client
        .create_label_set(&project_id, &ontology(), None)
        .unwrap();
    let rows = generated_rows(25);
    let assets: Vec<Value> = rows
        .iter()
        .map(|r| json!({"data": r["asset"], "externalId": r["externalId"], "metadata": r["metadata"]}))
        .collect();
    client
        .upload_files_cloud(&project_id, assets, None, None, 0, None)
        .unwrap();

    let dir = TempDir::new();
    let source = dir.join("source.json");
    formats::convert(
        rows.iter().cloned().map(ExportRow::from_value),
        Format::Coco,
        &ontology(),
        &source,
    )
    .unwrap();
    let coco = read_json(&source);
    let plan = coco_to_import(&coco, &ontology(), Some(&assets_of(&rows))).unwrap();
    assert!(plan.report.is_complete(), "{}", plan.report);
    client.import_labels(&project_id, &plan.labels).unwrap();

    let options = ExportOptions {
        stage: None,
        export_format: ExportFormat::Ndjson,
        ..ExportOptions::default()
    };
    let exported = client
        .raw()
        .export_rows(&project_id, &options)
        .unwrap()
        .typed();
    let back = dir.join("back.json");
    let report = formats::convert(exported, Format::Coco, &ontology(), &back).unwrap();
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.images, 25);
    assert_eq!(coco_shapes(&read_json(&back)), coco_shapes(&coco));

    // In one call, with the project's own ontology: the same COCO, and YOLO alike.
    let direct = dir.join("direct.json");
    let report = client
        .export_as(&project_id, &options, Format::Coco, None, &direct)
        .unwrap();
    assert_eq!(
        (report.images, report.annotations),
        (25, coco_shapes(&coco).len() as u64)
    );
    assert_eq!(coco_shapes(&read_json(&direct)), coco_shapes(&coco));
    let report = client
        .export_as(
            &project_id,
            &options,
            Format::YoloSegment,
            Some(&ontology()),
            &dir.join("y"),
        )
        .unwrap();
    // The two-zone segmentations (every third image) become two lines each.
    assert_eq!(reasons(&report), BTreeMap::from([("split-instance", 9)]));
    assert_eq!(std::fs::read_dir(dir.join("y/labels")).unwrap().count(), 25);
}

// ---------------------------------------------------------------------------
// Parquet (feature `parquet`)
// ---------------------------------------------------------------------------

#[cfg(feature = "parquet")]
fn read_parquet(path: &Path) -> Vec<arrow_array::RecordBatch> {
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(path).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_tables_of_the_fixture_export() {
    use arrow_array::{Array, Float64Array, ListArray, StringArray, UInt64Array};
    let dir = TempDir::new();
    let root = dir.join("pq");
    let report = convert_fixture(Format::Parquet, &root);
    assert_eq!(
        (report.rows, report.images, report.annotations),
        (11, 10, 15),
        "{report}"
    );
    assert_eq!(reasons(&report), BTreeMap::from([("unreadable-row", 1)]));
    let concat = |name: &str| {
        let mut batches = read_parquet(&root.join(format!("{name}.parquet")));
        assert_eq!(batches.len(), 1, "a small export is one row group");
        batches.remove(0)
    };
    let tasks = concat("tasks");
    assert_eq!(tasks.num_rows(), 11, "ten rows, one with two tasks");
    let col = |b: &arrow_array::RecordBatch, n: &str| b.column_by_name(n).unwrap().clone();
    let task_ids = col(&tasks, "task_id");
    let task_ids = task_ids.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(task_ids.value(0), "t-cat1.jpg");
    let rows = col(&tasks, "row");
    let rows = rows.as_any().downcast_ref::<UInt64Array>().unwrap();
    assert_eq!(rows.values().to_vec(), [1, 2, 3, 4, 5, 6, 8, 8, 9, 10, 11]);
    let widths = col(&tasks, "width");
    let widths = widths.as_any().downcast_ref::<Float64Array>().unwrap();
    assert!(widths.is_null(2), "the PDF has no width");
    assert_eq!(widths.value(6), 100.0, "the size given as a string");
    let batches = col(&tasks, "batches");
    let batches = batches.as_any().downcast_ref::<ListArray>().unwrap();
    assert_eq!(
        batches
            .value(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap()
            .value(0),
        "b1"
    );

    let objects = concat("objects");
    assert_eq!(objects.num_rows(), 15);
    let ids = col(&objects, "object_id");
    let ids = ids.as_any().downcast_ref::<StringArray>().unwrap();
    let shapes = col(&objects, "shape");
    let shapes = shapes.as_any().downcast_ref::<StringArray>().unwrap();
    let xs = col(&objects, "x");
    let xs = xs.as_any().downcast_ref::<Float64Array>().unwrap();
    let geometry = col(&objects, "geometry");
    let geometry = geometry.as_any().downcast_ref::<StringArray>().unwrap();
    let at = |id: &str| (0..ids.len()).find(|&i| ids.value(i) == id).unwrap();
    assert_eq!(
        (shapes.value(at("o2")), xs.value(at("o2"))),
        ("bounding-box", 150.0)
    );
    assert_eq!(shapes.value(at("o8")), "pdf");
    assert!(xs.is_null(at("o8")));
    let pdf: Value = serde_json::from_str(geometry.value(at("o8"))).unwrap();
    assert_eq!(pdf, json!({"position": {"pageNumber": 1}}));
    assert_eq!(shapes.value(at("o4")), "segmentation");

    let classes = concat("classifications");
    assert_eq!(classes.num_rows(), 1);
    let answer = col(&classes, "answer");
    assert_eq!(
        answer
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap()
            .value(0),
        "Sunny"
    );
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_streams_in_row_groups_and_loads_in_pyarrow() {
    use ango_core::formats::parquet::ParquetWriter;
    let dir = TempDir::new();
    let root = dir.join("pq");
    let n = ParquetWriter::BATCH_ROWS + 1017;
    let rows = generated_rows(n);
    let mut writer = ParquetWriter::with_row_groups(&root, 1000).unwrap();
    for row in &rows {
        writer
            .push(&ExportRow::from_value(row.clone()).unwrap())
            .unwrap();
    }
    let report = writer.finish().unwrap();
    assert!(report.is_complete(), "{report}");
    let file = std::fs::File::open(root.join("tasks.parquet")).unwrap();
    let builder =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let groups = builder.metadata().row_groups();
    assert_eq!(groups.len(), n.div_ceil(1000), "row groups of 1000 rows");
    assert!(groups.iter().all(|g| g.num_rows() <= 1000));
    let tasks = read_parquet(&root.join("tasks.parquet"));
    assert_eq!(tasks.iter().map(|b| b.num_rows()).sum::<usize>(), n);
    let objects: usize = read_parquet(&root.join("objects.parquet"))
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(objects as u64, report.annotations);
    let Some(python) = python() else {
        eprintln!("SKIPPED: no python3 for pyarrow");
        return;
    };
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/tests/formats/check_parquet.py");
    let output = Command::new(&python)
        .arg(script)
        .arg(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if output.status.code() == Some(4) {
        eprintln!("SKIPPED: pyarrow is not installed for {}", python.display());
        assert!(std::env::var_os("ANGO_REQUIRE_PYARROW").is_none());
        return;
    }
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["tasks"], n);
    assert_eq!(summary["objects"], report.annotations);
    assert_eq!(summary["types"]["width"], "double");
    assert_eq!(summary["types"]["batches"], "list<item: string>");
}
