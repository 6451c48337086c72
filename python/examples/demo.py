"""A realistic Ango Hub workflow through the drop-in ``imerit_ango`` package.

Create a project, set an ontology, upload local images (with a progress bar), page
through the tasks, import labels, annotate, export as NDJSON and summarise.

By default it runs against an embedded Ango Hub emulator (``imerit_ango.testing``);
with ``ANGO_API_KEY`` (and optionally ``ANGO_HOST``) set it runs against that Ango Hub
unchanged. Run it with ``./scripts/demo``.
"""
from __future__ import annotations

import contextlib
import os
import struct
import tempfile
import time
import zlib
from collections import Counter
from typing import Iterator, Tuple

from imerit_ango.models.annotate import AnnotationPayload, Answer
from imerit_ango.models.enums import ExportFormats
from imerit_ango.models.export_options import ExportOptions
from imerit_ango.models.label_category import (
    Classification,
    ClassificationCategory,
    LabelOption,
    Tool,
    ToolCategory,
)
from imerit_ango.sdk import SDK


@contextlib.contextmanager
def hub() -> Iterator[Tuple[str, str]]:
    """(api_key, host): the real service when ANGO_API_KEY is set, else an emulator."""
    if os.environ.get("ANGO_API_KEY"):
        yield os.environ["ANGO_API_KEY"], os.environ.get("ANGO_HOST", "https://imeritapi.ango.ai")
        return
    from imerit_ango.testing import LocalHub

    with LocalHub() as local:
        print(f"Using an embedded Ango Hub emulator at {local.url}")
        yield local.api_key, local.url


def png(width: int, height: int, rgb: Tuple[int, int, int]) -> bytes:
    """A small solid-colour PNG, so the demo needs no image library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def main() -> None:
    started = time.perf_counter()
    with hub() as (api_key, host), tempfile.TemporaryDirectory() as workdir:
        sdk = SDK(api_key, host=host)

        project = sdk.create_project("Street scenes (demo)", "Created by the imerit_ango demo")
        project_id = project["data"]["project"]["_id"]
        print(f"Created project {project_id}")

        car = ToolCategory(Tool.BoundingBox, title="Car")
        pedestrian = ToolCategory(Tool.Polygon, title="Pedestrian")
        weather = ClassificationCategory(
            Classification.Radio,
            title="Weather",
            options=[LabelOption("Sunny"), LabelOption("Rainy"), LabelOption("Foggy")],
        )
        sdk.create_label_set(project_id, tools=[car, pedestrian], classifications=[weather])
        print("Set an ontology: Car (box), Pedestrian (polygon), Weather (radio)")

        paths = []
        for i in range(24):
            path = os.path.join(workdir, f"street-{i:02d}.png")
            with open(path, "wb") as f:
                f.write(png(64, 48, (i * 10 % 256, 80, 160)))
            paths.append({"data": path, "externalId": f"street-{i:02d}.png", "metadata": {"width": 64, "height": 48}})
        report = sdk.upload_files_report(project_id, paths, progress=True)
        uploaded = sum(1 for f in report["files"] if f["status"]["outcome"] == "uploaded")
        print(f"Uploaded {uploaded}/{len(paths)} images in parallel")

        tasks = list(sdk.iter_tasks(project_id, page_size=10))
        print(f"Paged through {len(tasks)} tasks (page size 10, fetched ahead in the background)")

        labels = [
            {
                "externalId": f"street-{i:02d}.png",
                "objects": [
                    {"schemaId": car.schemaId, "bounding-box": {"x": 4 + i, "y": 6, "width": 20, "height": 12}}
                ],
                "classifications": [{"schemaId": weather.schemaId, "answer": "Sunny" if i % 3 else "Rainy"}],
            }
            for i in range(len(paths))
        ]
        sdk.import_labels(project_id, labels)
        print(f"Imported pre-labels for {len(labels)} images")

        for task in tasks[:5]:
            payload = AnnotationPayload(
                answer=Answer(
                    objects=[
                        {
                            "schemaId": pedestrian.schemaId,
                            "polygon": [[1, 1], [10, 1], [10, 20], [1, 20]],
                        }
                    ]
                )
            )
            sdk.annotate_task(task["_id"], payload, send_to_next_stage=True)
        print("Annotated 5 tasks (merged with their pre-labels) and sent them to the next stage")

        options = ExportOptions(stage=["Start", "Label", "Complete"], export_format=ExportFormats.NDJSON)
        rows, count = sdk.exportV3(project_id, options)
        tools: Counter[str] = Counter()
        stages: Counter[str] = Counter()
        for row in rows:
            stages[row["task"]["stage"]] += 1
            for obj in row["task"].get("tools", []):
                tools[obj.get("title", obj.get("schemaId", "?"))] += 1
        print(f"Exported {count} rows as NDJSON (streamed from disk, row by row)")

        print("\nSummary")
        print(f"  tasks by stage : {dict(stages)}")
        print(f"  objects by tool: {dict(tools)}")
        print(f"  done in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
