"""Checks converter outputs with the formats' reference readers.

Usage: check_formats.py COCO_JSON YOLO_DIR VOC_DIR

- COCO: loaded with pycocotools' ``COCO`` (index built, every annotation turned into a
  mask with ``annToMask`` when it has a polygon), when pycocotools is importable;
  the schema rules are checked here in any case.
- YOLO: Ultralytics' label rules (as ``ultralytics.data.utils.verify_image_label``
  applies them): class ids in range of ``data.yaml`` names, 5 numbers per detection
  line, an odd number of values (class + x/y pairs, at least 3 points) per segment
  line, every coordinate normalised in [0, 1], no duplicate lines.
- VOC: every ``Annotations/*.xml`` parsed by ``xml.etree.ElementTree``, with the
  elements VOC readers need (filename, size, objects with name and a bndbox whose
  corners are in order and inside the image).

Prints one JSON summary line on stdout; exits 1 with a message on the first rule broken.
"""

import json
import os
import sys
import xml.etree.ElementTree as ET


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check_coco(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            fail(f"COCO: {key} is not a list")
    image_ids = {}
    for img in data["images"]:
        if img["id"] in image_ids:
            fail(f"COCO: duplicate image id {img['id']}")
        if not (isinstance(img["width"], int) and isinstance(img["height"], int)):
            fail(f"COCO: image {img['id']} has a non-integer size")
        image_ids[img["id"]] = img
    category_ids = {c["id"] for c in data["categories"]}
    if len(category_ids) != len(data["categories"]):
        fail("COCO: duplicate category id")
    seen = set()
    for ann in data["annotations"]:
        if ann["id"] in seen:
            fail(f"COCO: duplicate annotation id {ann['id']}")
        seen.add(ann["id"])
        if ann["image_id"] not in image_ids:
            fail(f"COCO: annotation {ann['id']} has an unknown image_id")
        if ann["category_id"] not in category_ids:
            fail(f"COCO: annotation {ann['id']} has an unknown category_id")
        x, y, w, h = ann["bbox"]
        if w <= 0 or h <= 0:
            fail(f"COCO: annotation {ann['id']} has an empty bbox")
        if ann["iscrowd"] not in (0, 1) or ann["area"] <= 0:
            fail(f"COCO: annotation {ann['id']} has a bad iscrowd/area")
        for poly in ann["segmentation"]:
            if len(poly) < 6 or len(poly) % 2:
                fail(f"COCO: annotation {ann['id']} has a polygon of {len(poly)} values")
    reader = "schema"
    try:
        from pycocotools.coco import COCO  # noqa: PLC0415
    except ImportError:
        COCO = None
    if COCO is not None:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            coco = COCO(path)
        if len(coco.getImgIds()) != len(data["images"]):
            fail("pycocotools: image count differs")
        if len(coco.getAnnIds()) != len(data["annotations"]):
            fail("pycocotools: annotation count differs")
        if [c["name"] for c in coco.loadCats(coco.getCatIds())] != [
            c["name"] for c in data["categories"]
        ]:
            fail("pycocotools: categories differ")
        for ann in coco.loadAnns(coco.getAnnIds()):
            if ann["segmentation"]:
                mask = coco.annToMask(ann)
                if mask.sum() == 0:
                    fail(f"pycocotools: annotation {ann['id']} rasterises to an empty mask")
        reader = "pycocotools"
    return {
        "reader": reader,
        "images": len(data["images"]),
        "annotations": len(data["annotations"]),
    }


def yolo_names(yaml_path):
    names, in_names = {}, False
    with open(yaml_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("names:"):
                in_names = True
                continue
            if in_names and line.startswith("  "):
                key, value = line.strip().split(":", 1)
                names[int(key)] = json.loads(value.strip())
            elif in_names and line.strip():
                in_names = False
    if sorted(names) != list(range(len(names))):
        fail("YOLO: names are not 0..n-1")
    return [names[i] for i in range(len(names))]


def check_yolo(root):
    names = yolo_names(os.path.join(root, "data.yaml"))
    files = lines = 0
    for name in sorted(os.listdir(os.path.join(root, "labels"))):
        files += 1
        with open(os.path.join(root, "labels", name), encoding="utf-8") as f:
            rows = [line.split() for line in f if line.strip()]
        if len({tuple(r) for r in rows}) != len(rows):
            fail(f"YOLO: duplicate lines in {name}")
        for row in rows:
            lines += 1
            cls = int(row[0])
            if not 0 <= cls < len(names):
                fail(f"YOLO: class {cls} out of range in {name}")
            values = [float(v) for v in row[1:]]
            if len(values) != 4 and (len(values) < 6 or len(values) % 2):
                fail(f"YOLO: {name} has a line of {len(row)} fields")
            if any(not 0.0 <= v <= 1.0 for v in values):
                fail(f"YOLO: {name} has a coordinate outside [0, 1]")
            if len(values) == 4 and (values[2] <= 0 or values[3] <= 0):
                fail(f"YOLO: {name} has an empty box")
    return {"names": names, "label_files": files, "lines": lines}


def check_voc(root):
    folder = os.path.join(root, "Annotations")
    files = objects = 0
    for name in sorted(os.listdir(folder)):
        tree = ET.parse(os.path.join(folder, name))
        ann = tree.getroot()
        if ann.tag != "annotation" or not ann.findtext("filename"):
            fail(f"VOC: {name} has no annotation/filename")
        width = int(ann.findtext("size/width"))
        height = int(ann.findtext("size/height"))
        for obj in ann.findall("object"):
            objects += 1
            if not obj.findtext("name"):
                fail(f"VOC: {name} has an object without a name")
            box = [int(obj.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")]
            if not (0 <= box[0] < box[2] <= width and 0 <= box[1] < box[3] <= height):
                fail(f"VOC: {name} has a box {box} outside {width}x{height}")
        files += 1
    return {"xml_files": files, "objects": objects}


def main():
    if len(sys.argv) != 4:
        fail(__doc__)
    coco_path, yolo_dir, voc_dir = sys.argv[1:]
    print(
        json.dumps(
            {
                "coco": check_coco(coco_path),
                "yolo": check_yolo(yolo_dir),
                "voc": check_voc(voc_dir),
            }
        )
    )


if __name__ == "__main__":
    main()
