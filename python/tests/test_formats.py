"""imerit_ango.formats: the core's converters (COCO, YOLO, VOC, and back to Ango's
import format) on the shared fixtures, and export_as against the embedded emulator."""
import json
import os
import pathlib
from typing import Any, Dict, Iterator, List

import pytest

from imerit_ango import formats
from imerit_ango.exceptions import AngoDecodeError, AngoInvalidArgumentError, AngoIOError
from imerit_ango.models.export_options import ExportOptions
from imerit_ango.sdk import SDK
from imerit_ango.testing import LocalHub

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "formats"
EXPORT = FIXTURES / "export.ndjson"
ONTOLOGY = FIXTURES / "ontology.json"

# What converting the fixture export reports, per format (shared with the Rust and Node suites).
EXPECTED: Dict[str, Dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text())


def issue(report: formats.ConversionReport, reason: str, object_id: Any = None) -> formats.ConversionIssue:
    found = [i for i in report["issues"] if i["reason"] == reason
             and (object_id is None or i["objectId"] == object_id)]
    assert found, f"no {reason} issue in {report['issues']}"
    return found[0]


def test_convert_fixture_export_to_coco(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "coco.json"
    report = formats.convert(EXPORT, to="coco", ontology=ONTOLOGY, out=out)
    assert (report["format"], report["rows"], report["images"], report["annotations"]) == ("coco", 11, 7, 8)
    assert report["byReason"] == EXPECTED["coco"]["byReason"]
    assert {k: report[k] for k in ("rows", "images", "annotations", "issueCount", "rowsWithIssues")} == \
        {k: v for k, v in EXPECTED["coco"].items() if k != "byReason"}
    assert report["issueCount"] == 13 == len(report["issues"])
    assert report["rowsWithIssues"] == 8

    coco = json.loads(out.read_text())
    assert [c["name"] for c in coco["categories"]] == ["Car", "Road", "Person", "Sign"]
    assert len(coco["images"]) == 7
    assert len(coco["annotations"]) == 8
    first = next(a for a in coco["annotations"] if a["ango_object_id"] == "o1")
    assert first["bbox"] == [10.0, 20.0, 100.0, 50.0] and first["category_id"] == 1

    # Unrepresentable rows and objects are reported, with their row and reason.
    point = issue(report, "unsupported-shape", "o6")
    assert (point["row"], point["externalId"], point["detail"]) == (2, "cat2.jpg", "point")
    pdf = issue(report, "not-an-image")
    assert (pdf["row"], pdf["detail"]) == (3, "pdf")
    assert issue(report, "unreadable-row")["row"] == 7


def test_convert_from_rows_and_ontology_values(tmp_path: pathlib.Path) -> None:
    lines = EXPORT.read_text().splitlines()
    ontology: Dict[str, Any] = json.loads(ONTOLOGY.read_text())
    expected = formats.convert(str(EXPORT), to="coco", ontology=str(ONTOLOGY), out=tmp_path / "a.json")

    def rows() -> Iterator[Any]:
        # Dicts as export_iter yields them; the line that is not JSON stays a string.
        for line in lines:
            try:
                yield json.loads(line)
            except ValueError:
                yield line

    from_rows = formats.convert(rows(), to="coco", ontology=ontology, out=tmp_path / "b.json")
    # The same report, but for where serde saw a bad row's error (no text position here).
    assert issue(from_rows, "unreadable-row")["detail"].startswith("invalid export row: invalid type")
    assert {**from_rows, "issues": []} == {**expected, "issues": []}
    assert [{**i, "detail": i["detail"].split(" at line")[0]} for i in from_rows["issues"]] == \
        [{**i, "detail": i["detail"].split(" at line")[0]} for i in expected["issues"]]
    assert json.loads((tmp_path / "b.json").read_text()) == json.loads((tmp_path / "a.json").read_text())
    # A get_project answer and a bare list of tools are ontologies too.
    wrapped = {"data": {"project": {"categorySchema": ontology}}}
    # NDJSON lines as text are read as the file is.
    assert formats.convert(iter(lines), "coco", wrapped, tmp_path / "c.json") == expected
    assert formats.convert(lines, "coco", ontology["tools"], tmp_path / "d.json") == expected


def test_convert_to_yolo_and_voc(tmp_path: pathlib.Path) -> None:
    report = formats.convert(EXPORT, to="yolo", ontology=ONTOLOGY, out=tmp_path / "yolo")
    assert report["format"] == "yolo"
    assert report["byReason"] == EXPECTED["yolo"]["byReason"]
    assert (report["images"], report["annotations"]) == (EXPECTED["yolo"]["images"], EXPECTED["yolo"]["annotations"])
    assert report["byReason"]["classification"] == 1
    # Polygons and segmentations become boxes in a detection dataset: kept, but reported.
    assert report["byReason"]["outline-to-box"] >= 1
    yaml = (tmp_path / "yolo" / "data.yaml").read_text()
    assert "Car" in yaml and "Sign" in yaml and "Pin" not in yaml
    labels = list((tmp_path / "yolo" / "labels").rglob("*.txt"))
    assert len(labels) == report["images"]
    lines = [line.split() for f in labels for line in f.read_text().splitlines()]
    assert len(lines) == report["annotations"]
    assert all(len(line) == 5 and 0.0 <= float(v) <= 1.0 for line in lines for v in line[1:])

    voc = formats.convert(EXPORT, to="voc", ontology=ONTOLOGY, out=tmp_path / "voc")
    assert voc["byReason"] == EXPECTED["voc"]["byReason"]
    assert voc["format"] == "voc" and voc["images"] == len(list((tmp_path / "voc").rglob("*.xml")))


def test_convert_errors_raise_the_package_exceptions(tmp_path: pathlib.Path) -> None:
    with pytest.raises(AngoInvalidArgumentError, match="unknown format"):
        formats.convert(EXPORT, to="tiff", ontology=ONTOLOGY, out=tmp_path / "x")  # type: ignore[arg-type]
    with pytest.raises(AngoIOError) as missing:
        formats.convert(tmp_path / "missing.ndjson", to="coco", ontology=ONTOLOGY, out=tmp_path / "x.json")
    assert missing.value.code == "IO"
    with pytest.raises(AngoIOError):
        formats.convert(EXPORT, to="coco", ontology=tmp_path / "none.json", out=tmp_path / "x.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(AngoDecodeError):
        formats.convert(EXPORT, to="coco", ontology=tmp_path / "bad.json", out=tmp_path / "x.json")
    with pytest.raises(AngoInvalidArgumentError):
        formats.convert(EXPORT, to="coco", ontology={"tools": [{"tool": "laser"}]}, out=tmp_path / "x.json")

    # An exception raised by the rows propagates as is and stops the conversion.
    class Boom(Exception):
        pass

    def failing() -> Iterator[Dict[str, Any]]:
        yield {"externalId": "a.jpg"}
        raise Boom("row source failed")

    with pytest.raises(Boom, match="row source failed"):
        formats.convert(failing(), to="coco", ontology=ONTOLOGY, out=tmp_path / "y.json")
    with pytest.raises(TypeError):
        formats.convert(42, to="coco", ontology=ONTOLOGY, out=tmp_path / "z.json")  # type: ignore[arg-type]


COCO = {
    "images": [{"id": 1, "file_name": "train/cat1.jpg", "width": 10, "height": 10},
               {"id": 2, "file_name": "missing.jpg", "width": 10, "height": 10},
               {"id": 3, "file_name": "cat2.jpg", "width": 10, "height": 10}],
    "categories": [{"id": 7, "name": "car "}, {"id": 8, "name": "Bicycle"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 7, "bbox": [1, 2, 3, 4]},
        {"id": 2, "image_id": 1, "category_id": 8, "bbox": [1, 2, 3, 4]},
        {"id": 3, "image_id": 2, "category_id": 7, "bbox": [1, 2, 3, 4]},
        {"id": 4, "image_id": 3, "category_id": 7, "bbox": [0, 0, 5, 5], "segmentation": [[0, 0, 5, 0, 5, 5]]},
    ],
}


def test_coco_to_import_matches_assets_by_external_id(tmp_path: pathlib.Path) -> None:
    # Assets as get_assets lists them, and as bare external ids.
    assets = [{"externalId": "cat1.jpg", "metadata": {"width": 10, "height": 10}}, "cat2.jpg"]
    labels, report = formats.coco_to_import(COCO, ONTOLOGY, assets=assets)
    assert (report["images"], report["matchedImages"], report["annotations"]) == (3, 2, 4)
    assert report["unmatchedImages"] == ["missing.jpg"]
    assert report["unmatchedCategories"] == {"Bicycle": 1}
    assert report["items"] == len(labels) == 2
    by_id = {item["externalId"]: item["objects"] for item in labels}
    assert by_id["cat1.jpg"] == [{"schemaId": "schema00000000000000car", "title": "Car",
                                  "bounding-box": {"x": 1.0, "y": 2.0, "width": 3.0, "height": 4.0}}]
    # A polygon annotation on a box tool becomes its enclosing box.
    assert by_id["cat2.jpg"][0]["bounding-box"] == {"x": 0.0, "y": 0.0, "width": 5.0, "height": 5.0}

    # From a file, without assets: every image under its file_name.
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(COCO))
    labels, report = formats.coco_to_import(path, ONTOLOGY)
    assert report["matchedImages"] == 3 and report["unmatchedImages"] == []
    assert sorted(item["externalId"] for item in labels) == ["cat2.jpg", "missing.jpg", "train/cat1.jpg"]

    with pytest.raises(AngoInvalidArgumentError):
        formats.coco_to_import({"images": 3}, ONTOLOGY)
    with pytest.raises(AngoInvalidArgumentError, match=r"assets\[0\]"):
        formats.coco_to_import(COCO, ONTOLOGY, assets=[{"id": "no external id"}])
    with pytest.raises(AngoIOError):
        formats.coco_to_import(tmp_path / "none.json", ONTOLOGY)


def test_coco_round_trip_through_import_keeps_every_box(tmp_path: pathlib.Path) -> None:
    rows = generated_rows(12)
    report = formats.convert(rows, "coco", ONTOLOGY, tmp_path / "coco.json")
    assert report["issueCount"] == 0 and report["images"] == 12
    labels, dry_run = formats.coco_to_import(tmp_path / "coco.json", ONTOLOGY, assets=rows)
    assert dry_run["unmatchedImages"] == [] and dry_run["issues"] == []
    assert dry_run["objects"] == report["annotations"] == sum(len(r["task"]["tools"]) for r in rows)
    boxes = {o["objectId"]: o["bounding-box"] for item in labels for o in item["objects"] if "bounding-box" in o}
    for row in rows:
        for tool in row["task"]["tools"]:
            if "bounding-box" in tool:
                assert boxes[tool["objectId"]] == tool["bounding-box"]


def test_yolo_to_import(tmp_path: pathlib.Path) -> None:
    rows = generated_rows(6)
    report = formats.convert(rows, "yolo-seg", ONTOLOGY, tmp_path / "yolo")
    labels, dry_run = formats.yolo_to_import(tmp_path / "yolo", ONTOLOGY, rows)
    assert dry_run["matchedImages"] == 6 and dry_run["issues"] == []
    assert dry_run["annotations"] == report["annotations"]
    assert sorted(item["externalId"] for item in labels) == sorted(r["externalId"] for r in rows)
    # A label file with no asset, and an asset without a size, are reported.
    (tmp_path / "yolo" / "labels" / "stranger.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    no_size = [dict(rows[0], metadata={})] + rows[1:]
    _, dry_run = formats.yolo_to_import(str(tmp_path / "yolo"), ONTOLOGY, no_size)
    assert dry_run["unmatchedImages"] == ["labels/stranger.txt"]
    assert any("no width/height" in i["reason"] for i in dry_run["issues"])
    with pytest.raises(AngoIOError):
        formats.yolo_to_import(tmp_path / "nowhere", ONTOLOGY, rows)


def generated_rows(n: int) -> List[Dict[str, Any]]:
    """Export rows with boxes and polygons on images of known sizes."""
    rows = []
    for i in range(n):
        tools: List[Dict[str, Any]] = [
            {"objectId": f"b{i}", "schemaId": "schema00000000000000car", "title": "Car",
             "bounding-box": {"x": 10.0 + i, "y": 20.0, "width": 30.0, "height": 40.0 + i}},
            {"objectId": f"p{i}", "schemaId": "schema0000000000000road", "title": "Road",
             "polygon": [[0.0, 100.0], [150.0, 100.0 + i], [150.0, 200.0], [0.0, 200.0]]},
        ]
        rows.append({"externalId": f"img-{i}.jpg", "asset": f"https://s/img-{i}.jpg",
                     "metadata": {"width": 640 + i, "height": 480},
                     "task": {"taskId": f"t{i}", "tools": tools}})
    return rows


def test_export_as_streams_a_project_to_coco(hub: LocalHub, sdk: SDK, tmp_path: pathlib.Path) -> None:
    project_id = sdk.create_project("Formats")["data"]["project"]["_id"]
    ontology = json.loads(ONTOLOGY.read_text())
    sdk.create_label_set(project_id, raw_category_schema=ontology)
    rows = generated_rows(5)
    sdk.upload_files_cloud(project_id, [{"data": r["asset"], "externalId": r["externalId"],
                                         "metadata": r["metadata"]} for r in rows])
    labels, dry_run = formats.coco_to_import(
        _coco_of(rows, tmp_path), ONTOLOGY, assets=sdk.get_assets(project_id, limit=50)["data"]["assets"])
    assert dry_run["matchedImages"] == 5
    sdk.import_labels(project_id, labels)

    out = tmp_path / "export.json"
    # The project's own ontology; the imported tasks wait in the Label stage.
    report = formats.export_as(sdk, project_id, "coco", out, ExportOptions(stage=["Label"]))
    assert (report["images"], report["annotations"], report["issueCount"]) == (5, 10, 0)
    coco = json.loads(out.read_text())
    assert sorted(i["file_name"] for i in coco["images"]) == sorted(r["externalId"] for r in rows)
    assert len(coco["annotations"]) == 10
    assert [c["name"] for c in coco["categories"]] == ["Car", "Road", "Person", "Sign"]

    # With an ontology given, to YOLO.
    report = formats.export_as(sdk, project_id, "yolo-seg", tmp_path / "y", ExportOptions(stage=["Label"]),
                               ontology=ONTOLOGY)
    assert (report["format"], report["images"], report["annotations"]) == ("yolo-seg", 5, 10)
    assert len(os.listdir(tmp_path / "y" / "labels")) == 5
    # The default options export the Complete stage only (as exportV3's), empty here.
    report = formats.export_as(sdk, project_id, "coco", tmp_path / "complete.json")
    assert (report["rows"], report["images"]) == (0, 0)
    assert json.loads((tmp_path / "complete.json").read_text())["images"] == []

    with pytest.raises(AngoInvalidArgumentError):
        formats.export_as(sdk, project_id, "gif", tmp_path / "g")  # type: ignore[arg-type]


def _coco_of(rows: List[Dict[str, Any]], tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "source.json"
    formats.convert(rows, "coco", ONTOLOGY, path)
    return path


GIL_CHECK = r"""
import os, sys, threading
from imerit_ango import formats
export, ontology, tmp = sys.argv[1:4]
fifo = os.path.join(tmp, "export.ndjson")
os.mkfifo(fifo)
data = open(export, "rb").read()

def feed():
    # Runs only if the conversion, blocked reading the pipe, has let go of the GIL.
    with open(fifo, "wb") as f:
        f.write(data)

threading.Thread(target=feed, daemon=True).start()
report = formats.convert(fifo, "coco", ontology, os.path.join(tmp, "coco.json"))
print(report["rows"], report["images"])
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_convert_releases_the_gil(tmp_path: pathlib.Path) -> None:
    """The export is read from a pipe that a Python thread of the same process writes:
    that thread can run only if the conversion does not hold the GIL. In a child
    process, so that a conversion holding it fails the test (timeout), not hangs it."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", GIL_CHECK, str(EXPORT), str(ONTOLOGY), str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["11", "7"]


def test_convert_an_export_iterator_of_the_sdk(hub: LocalHub, sdk: SDK, tmp_path: pathlib.Path) -> None:
    """The rows of SDK.export_iter convert as they stream (the GIL taken per row)."""
    from imerit_ango.models.enums import ExportFormats
    project_id = hub.seed_project("Iter", 7, objects_per_task=2, completed=True)
    options = ExportOptions(export_format=ExportFormats.NDJSON)
    expected = list(sdk.export_iter(project_id, options))
    assert len(expected) == 7
    # The project's get_project answer is an ontology too.
    ontology = sdk.get_project(project_id)
    report = formats.convert(sdk.export_iter(project_id, options), "coco", ontology, tmp_path / "iter.json")
    assert report == formats.convert(expected, "coco", ontology, tmp_path / "list.json")
    # Seeded tasks have two boxes each and a classification, which COCO cannot hold.
    assert (report["rows"], report["images"], report["annotations"]) == (7, 7, 14)
    assert report["byReason"] == {"classification": 7}
    assert json.loads((tmp_path / "iter.json").read_text()) == json.loads((tmp_path / "list.json").read_text())


def test_export_as_reports_server_failures(tmp_path: pathlib.Path) -> None:
    """A hub that fails: the server's error is raised, and no output is left behind."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from imerit_ango.exceptions import AngoHTTPError

    class Failing(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = b'{"status": "error", "message": "export broke"}'
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sdk = SDK("k", host=f"http://127.0.0.1:{server.server_address[1]}", max_retries=0)
        out = tmp_path / "coco.json"
        with pytest.raises(AngoHTTPError) as failed:
            formats.export_as(sdk, "p1", "coco", out, ontology=ONTOLOGY)
        assert failed.value.status_code == 500
        # Without an ontology, the project's is read first: that fails the same way.
        with pytest.raises(AngoHTTPError):
            formats.export_as(sdk, "p1", "coco", out)
        assert os.listdir(tmp_path) == []
    finally:
        server.shutdown()
