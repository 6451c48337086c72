"""LocalHub (the Rust emulator inside the wheel) driven through the SDK."""
from typing import Any, Dict, List

import pytest

from imerit_ango.exceptions import AngoHTTPError
from imerit_ango.models.enums import ExportFormats
from imerit_ango.models.export_options import ExportOptions
from imerit_ango.models.label_category import Classification, ClassificationCategory, LabelOption, Tool, ToolCategory
from imerit_ango.models.task_filter import TaskFilter
from imerit_ango.sdk import SDK
from imerit_ango.testing import LocalHub


def test_hub_context_and_repr() -> None:
    with LocalHub() as hub:
        assert hub.url.startswith("http://127.0.0.1:")
        assert hub.api_key and hub.organization_id
        assert "running=True" in repr(hub)
    assert "running=False" in repr(hub)


def test_seeded_project_batches_assets_and_issues(hub: LocalHub, sdk: SDK) -> None:
    project_id = hub.seed_project("demo", 4)
    project = sdk.get_project(project_id)["data"]["project"]
    assert project["_id"] == project_id
    sdk.create_batch(project_id, "Extra")
    names = {b["name"] for b in sdk.get_batches(project_id)}
    assert "Extra" in names
    assets = sdk.get_assets(project_id, limit=10)["data"]
    assert assets["total"] == 4 and len(assets["assets"]) == 4
    listed = sdk.list_projects(limit=50)["data"]["projects"]
    assert project_id in [p["_id"] for p in listed]


def test_faults_are_retried_by_the_core() -> None:
    with LocalHub(fail_rate=0.5, seed=7) as hub:
        sdk = SDK(hub.api_key, host=hub.url, max_retries=8)
        project_id = hub.seed_project("flaky", 1)
        for _ in range(10):
            assert sdk.get_project(project_id)["data"]["project"]["_id"] == project_id


def test_unknown_project_is_an_http_error(sdk: SDK) -> None:
    with pytest.raises(AngoHTTPError) as info:
        sdk.get_project("000000000000000000000000")
    assert info.value.status_code in (400, 404)


def test_whole_workflow(hub: LocalHub, sdk: SDK) -> None:
    project_id = sdk.create_project("workflow", "from the tests")["data"]["project"]["_id"]
    sdk.create_label_set(project_id, tools=[ToolCategory(Tool.BoundingBox, title="Car")],
                         classifications=[ClassificationCategory(Classification.Radio, title="Q",
                                                                 options=[LabelOption("Yes"), LabelOption("No")])])
    sdk.upload_files_cloud(project_id, [{"data": f"https://example.com/{i}.png", "externalId": f"{i}.png"}
                                        for i in range(25)])
    page = sdk.get_tasks(project_id, page=1, limit=10, task_filter=TaskFilter(stage="Start"))
    assert "tasks" in page["data"]
    every: List[Dict[str, Any]] = list(sdk.iter_tasks(project_id, page_size=7))
    assert len(every) == 25 and len({t["_id"] for t in every}) == 25
    iterator, count = sdk.exportV3(project_id, ExportOptions(export_format=ExportFormats.NDJSON, stage=[]))
    assert count == len(list(iterator))
