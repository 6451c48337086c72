"""Every example of the seed document (SDK-Documentation.txt, v1.3.14) runs unchanged
against a LocalHub; only placeholder ids are replaced by the hub's real ids."""
import json
import os
import urllib.request
import subprocess
import sys
import tempfile
import types
from typing import Any, Dict, Iterator

import pytest

from imerit_ango.sdk import SDK
from imerit_ango.testing import LocalHub

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_examples import TRUNCATED, examples  # noqa: E402

EXAMPLES = examples()


@pytest.fixture(scope="module")
def seeded() -> Iterator[Dict[str, Any]]:
    with LocalHub() as hub:
        project_id = hub.seed_project("seed examples", 5)
        sdk = SDK(hub.api_key, host=hub.url)
        assets = sdk.get_assets(project_id, limit=5)["data"]["assets"]
        batches = sdk.get_batches(project_id)
        batch_id = batches[0]["_id"] if batches else sdk.create_batch(project_id, "b")["data"]["project"]["_id"]
        # Read a task id straight from the hub's REST API (independent of the SDK).
        request = urllib.request.Request(f"{hub.url}/v2/project/{project_id}/tasks?page=1&limit=1",
                                         headers={"apikey": hub.api_key})
        with urllib.request.urlopen(request) as response:
            task = json.load(response)["data"]["tasks"][0]["_id"]
        yield {"hub": hub, "project_id": project_id, "asset_ids": [a["_id"] for a in assets],
               "batch_id": batch_id, "task_id": task}


def _fill(code: str, ids: Dict[str, Any]) -> str:
    hub = ids["hub"]
    replacements = {
        "<YOUR TASK ID>": ids["task_id"],
        "<YOUR ASSET ID 1>": ids["asset_ids"][0],
        "<YOUR ASSET ID 2>": ids["asset_ids"][1],
        "<YOUR BATCH ID 1>": ids["batch_id"],
        "<YOUR BATCH ID 2>": ids["batch_id"],
        "<example@example.com>": hub.admin_email,
        "639879404e2aa4e134db0c48": ids["project_id"],
        "65cc88c1176c485ce1e49f28": ids["project_id"],
    }
    for placeholder, value in replacements.items():
        code = code.replace(placeholder, value)
    return code


@pytest.mark.parametrize("name,code", EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_seed_example_runs(seeded: Dict[str, Any], name: str, code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = seeded["hub"]
    monkeypatch.setenv("api_key", hub.api_key)
    monkeypatch.setenv("project_id", seeded["project_id"])
    monkeypatch.setenv("ANGO_HOST", hub.url)  # the examples build SDK(api_key) without a host
    if "dotenv" not in sys.modules:
        try:
            import dotenv  # noqa: F401
        except ImportError:
            stub = types.ModuleType("dotenv")
            stub.load_dotenv = lambda *a, **k: True  # type: ignore[attr-defined]
            monkeypatch.setitem(sys.modules, "dotenv", stub)
    sdk = SDK(hub.api_key)
    # Some examples use names defined by earlier prose (API_KEY, PROJECT_ID, sdk, ...).
    from imerit_ango.models import label_category
    namespace: Dict[str, Any] = {name: getattr(label_category, name) for name in dir(label_category)
                                 if not name.startswith("_")}
    namespace.update(API_KEY=hub.api_key, PROJECT_ID=seeded["project_id"],
                     CREATE_SCHEMA_PROJECT_ID=seeded["project_id"], sdk=sdk, ango_sdk=sdk,
                     __name__="__seed_example__")
    exec(compile(_fill(code, seeded), name, "exec"), namespace)


def test_seed_examples_typecheck_strict() -> None:
    """mypy --strict on the examples, each as a module (with the names the prose defines)."""
    mypy = pytest.importorskip("mypy.api")
    prelude = ("from imerit_ango.sdk import SDK\nfrom imerit_ango.models.label_category import *  # noqa\n"
               "API_KEY: str = ''\nPROJECT_ID: str = ''\nCREATE_SCHEMA_PROJECT_ID: str = ''\n"
               "sdk: SDK = SDK('k', host='http://127.0.0.1:9')\nango_sdk: SDK = sdk\n")
    with tempfile.TemporaryDirectory() as tmp:
        for name, code in EXAMPLES:
            if name in TRUNCATED:
                continue
            with open(os.path.join(tmp, f"example_{name}.py"), "w") as f:
                f.write(prelude + code)
        stdout, stderr, status = mypy.run(["--strict", "--ignore-missing-imports", "--no-incremental",
                                           "--allow-redefinition", "--disable-error-code=no-untyped-call",
                                           tmp])
    assert status == 0, stdout + stderr
