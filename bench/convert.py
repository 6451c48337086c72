#!/usr/bin/env python3
"""Format-conversion benchmark: an export of N generated rows converted by `ango convert`.

    python3 bench/convert.py                 # 1,000,000 rows to COCO, YOLO and VOC
    python3 bench/convert.py --rows 100000 --to coco

Each row has an image of 1280x720 with 3 boxes, 1 polygon of 8 points and, one row in
ten, a classification (which YOLO and VOC cannot hold, so those conversions report it
and exit 3). Prints one table: rows, input size, wall time, rows/s and the peak memory
(max RSS) of the converting process. The official SDK has no converters, so there is no
ratio here: the point is that memory stays flat however large the export is.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "tests" / "fixtures" / "formats" / "ontology.json"


def generate(path: Path, rows: int) -> None:
    """Writes `rows` export rows (NDJSON) shaped like Ango's export."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            tools = [
                {
                    "objectId": f"b{i}-{k}",
                    "schemaId": "schema00000000000000car",
                    "title": "Car",
                    "classifications": [],
                    "bounding-box": {"x": 10 + k * 40, "y": 20 + k * 10, "width": 100, "height": 50},
                }
                for k in range(3)
            ]
            tools.append({
                "objectId": f"p{i}",
                "schemaId": "schema0000000000000road",
                "title": "Road",
                "classifications": [],
                "polygon": [[0, 400], [200, 380], [400, 390], [640, 400],
                            [1280, 420], [1280, 720], [640, 720], [0, 720]],
            })
            classifications = []
            if i % 10 == 0:
                classifications.append({
                    "objectId": f"c{i}", "schemaId": "schema000000000000weathr",
                    "tool": "radio", "title": "Weather", "answer": "Sunny", "classifications": [],
                })
            row = {
                "asset": f"https://storage.example/img{i}.jpg",
                "externalId": f"img{i}.jpg",
                "assetId": f"a{i}",
                "metadata": {"width": 1280, "height": 720},
                "batches": [],
                "task": {
                    "taskId": f"t{i}", "stage": "Complete", "stageId": "Complete",
                    "status": "Completed", "tools": tools,
                    "classifications": classifications, "relations": [],
                },
            }
            out.write(json.dumps(row, separators=(",", ":")))
            out.write("\n")


def ango_binary() -> Path:
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "ango-cli"],
                   cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "ango"


def convert(ango: Path, export: Path, to: str, out: Path) -> tuple[float, float, int]:
    """Runs one conversion in a child process: wall seconds, its own peak RSS in MB and
    its exit status (os.wait4 gives that child's rusage alone)."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull, tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [str(ango), "convert", str(export), "--to", to, "--ontology", str(ONTOLOGY),
             "-o", str(out), "--json"],
            stdout=devnull, stderr=errors,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        if child.returncode not in (0, 3):
            errors.seek(0)
            sys.exit(f"ango convert --to {to} failed ({child.returncode}): "
                     f"{errors.read()[-2000:].decode(errors='replace')}")
    return wall, usage.ru_maxrss / 1024, child.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--to", action="append", choices=["coco", "yolo", "yolo-seg", "voc"])
    args = parser.parse_args()
    formats = args.to or ["coco", "yolo", "voc"]
    ango = ango_binary()
    with tempfile.TemporaryDirectory(prefix="ango-convert-bench-") as scratch:
        export = Path(scratch) / "export.ndjson"
        generate(export, args.rows)
        size_mb = export.stat().st_size / 1e6
        print(f"| format | rows | export | time | rows/s | peak RSS | exit |")
        print(f"|---|---|---|---|---|---|---|")
        for to in formats:
            out = Path(scratch) / (f"{to}.json" if to == "coco" else to)
            wall, peak_mb, status = convert(ango, export, to, out)
            print(f"| {to} | {args.rows:,} | {size_mb:,.0f} MB | {wall:.1f} s | "
                  f"{args.rows / wall:,.0f} | {peak_mb:.1f} MB | {status} |")
            if out.is_dir():
                shutil.rmtree(out)
            else:
                out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
