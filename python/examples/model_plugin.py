"""A Model plugin that pre-labels the demo project, end to end, offline.

The plugin is an ordinary ``imerit_ango.plugins.ModelPlugin`` (the same code runs against
Ango Hub). Here it connects to the Ango Hub emulator's plugin hub, and the script then
asks the hub to run it on every task of the demo project still in the Label stage, as a
workflow Plugin stage would: the plugin predicts the Weather classification (and a Car
box), annotates the task through the API and moves it on. At the end the script reads
the tasks back and prints what the plugin did, with the plugin sessions the hub recorded.

    python examples/model_plugin.py                    # embedded emulator (LocalHub)
    ango emulator --demo                               # or: a separate emulator ...
    ANGO_HOST=http://127.0.0.1:PORT ANGO_API_KEY=KEY python examples/model_plugin.py
    python examples/model_plugin.py --serve            # only serve the plugin (Ctrl-C stops it)

With ``--serve`` and ``PLUGIN_ID``/``PLUGIN_SECRET``/``ANGO_PLUGIN_HOST`` set to a real
plugin's values, this is a deployable Model plugin.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

from imerit_ango.models.annotate import AnnotationPayload, Answer
from imerit_ango.plugins import ModelPlugin, run, start
from imerit_ango.sdk import SDK

PLUGIN_ID = os.environ.get("PLUGIN_ID", "demo-model-plugin")
PLUGIN_SECRET = os.environ.get("PLUGIN_SECRET", "demo-model-secret")

# The demo ontology's schema ids (see `ango emulator --demo`).
WEATHER = "c3d4e5f6a7b8c9d0e1f2a3b"
WEATHER_OPTIONS = {"sunny": "0pt10n0000000000005unny", "rainy": "0pt10n000000000000ra1ny"}
CAR = "a1b2c3d4e5f6a7b8c9d0e1f"

# What the Hub sends as `categorySchema`: the plugin's class names mapped to the
# project's categories (set in the Hub when the plugin is added to a workflow).
CATEGORY_SCHEMA = [{"schemaId": WEATHER, "modelClass": "weather"}, {"schemaId": CAR, "modelClass": "car"}]


# ------------------------------------------------------------------ the plugin


def predict(data: Dict[str, Any]) -> AnnotationPayload:
    """The model: a deterministic stand-in that reads the asset's URL."""
    logger = data["logger"]
    classes = {c.get("modelClass"): c.get("schemaId") for c in data.get("categorySchema") or []}
    config = json.loads(data.get("configJSON") or "{}")
    seed = hashlib.sha256(str(data.get("dataURL") or data.get("taskId")).encode()).digest()
    weather = "rainy" if seed[0] % 3 == 0 else "sunny"
    answer = Answer()
    if classes.get("weather"):
        answer.classifications.append({"schemaId": classes["weather"], "answer": WEATHER_OPTIONS[weather]})
    if classes.get("car") and config.get("boxes", True):
        x, y = seed[1] % 200, seed[2] % 120
        answer.objects.append({"schemaId": classes["car"], "objectId": f"car-{seed.hex()[:8]}",
                               "bounding-box": {"x": x, "y": y, "width": 80, "height": 40}})
    logger.info("task %s: %s, %d object(s)", data.get("taskId"), weather, len(answer.objects))
    return AnnotationPayload(answer=answer)


def make_plugin(api_host: str) -> ModelPlugin:
    return ModelPlugin(id=PLUGIN_ID, secret=PLUGIN_SECRET, callback=predict, host=api_host, concurrency=4)


# ------------------------------------------------------------------ driving it offline


@contextlib.contextmanager
def hub() -> Iterator[Tuple[str, str, Any]]:
    """(api_key, url, LocalHub or None): a running emulator, or an embedded one."""
    if os.environ.get("ANGO_HOST"):
        yield os.environ.get("ANGO_API_KEY", ""), os.environ["ANGO_HOST"], None
        return
    from imerit_ango.testing import LocalHub

    with LocalHub(seed_demo=True) as local:
        print(f"Using an embedded Ango Hub emulator at {local.url}")
        yield local.api_key, local.url, local


def admin(url: str, api_key: str, method: str, path: str, body: Optional[Dict[str, Any]] = None,
          timeout: float = 60) -> Any:
    """The emulator's plugin API over HTTP (when it runs in another process)."""
    import urllib.request

    request = urllib.request.Request(url + path, method=method, headers={"apikey": api_key,
                                                                       "Content-Type": "application/json"},
                                     data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def wait_until_connected(url: str, api_key: str, local: Any) -> None:
    """Until the hub has the plugin (its first heartbeat registers it)."""
    if local is not None:
        local.wait_for_plugin(PLUGIN_ID, timeout=20)
        return
    deadline = time.monotonic() + 20
    while not any(p.get("id") == PLUGIN_ID and p.get("connected")
                  for p in admin(url, api_key, "GET", "/__emulator/plugins")["plugins"]):
        if time.monotonic() > deadline:
            raise SystemExit("the plugin did not connect to the emulator")
        time.sleep(0.05)


def demo_project(sdk: SDK) -> str:
    projects = sdk.list_projects(limit=50)["data"]["projects"]
    for project in projects:
        if project.get("name") == "Demo project":
            return str(project["_id"])
    raise SystemExit("no 'Demo project' on this hub: start the emulator with --demo")


def label_stage_tasks(sdk: SDK, project_id: str) -> List[Dict[str, Any]]:
    tasks: List[Dict[str, Any]] = []
    page = 1
    while True:
        batch = sdk.get_tasks(project_id, page=page, limit=50)["data"]["tasks"]
        tasks.extend(t for t in batch if t.get("stage", "Label") not in ("Complete", "Archive"))
        if len(batch) < 50:
            return tasks
        page += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", action="store_true", help="only run the plugin until Ctrl-C")
    args = parser.parse_args()

    if args.serve:
        api_host = os.environ.get("ANGO_HOST", "https://imeritapi.ango.ai")
        run(make_plugin(api_host), host=os.environ.get("ANGO_PLUGIN_HOST", api_host))
        return

    with hub() as (api_key, url, local):
        sdk = SDK(api_key, host=url)
        plugin = make_plugin(url)
        handle = start(plugin, host=url)  # the emulator serves Socket.IO on its own port
        try:
            wait_until_connected(url, api_key, local)
            project_id = demo_project(sdk)
            tasks = label_stage_tasks(sdk, project_id)
            print(f"Plugin {PLUGIN_ID} connected; {len(tasks)} task(s) of the demo project to pre-label")

            started = time.perf_counter()
            for task in tasks:
                asset = task.get("asset")
                data = {"projectId": project_id, "taskId": task["_id"],
                        "assetId": asset.get("_id") if isinstance(asset, dict) else asset,
                        "dataURL": task.get("data") or task.get("externalId"), "workflow": True,
                        "overwrite": True, "categorySchema": CATEGORY_SCHEMA}
                if local is not None:
                    session = local.run_plugin(PLUGIN_ID, data, wait=30)
                else:
                    session = admin(url, api_key, "POST", f"/__emulator/plugins/{PLUGIN_ID}/run?wait=30", data)
                if session.get("status") != "done":
                    print(f"  task {task['_id']}: {session.get('status')} {session.get('response')}")
            elapsed = time.perf_counter() - started

            # Stopping drains the plugin: its last log records reach the hub first.
            plugin.stop()
            while not handle.wait(0.2):
                pass

            labelled = 0
            for task in tasks:
                answer = sdk.get_task(task["_id"], include_answer=True)["data"]["task"].get("answer") or {}
                if any(c.get("schemaId") == WEATHER for c in answer.get("classifications", [])):
                    labelled += 1
            sessions = (local.plugin_sessions(PLUGIN_ID) if local is not None
                        else admin(url, api_key, "GET", f"/__emulator/plugins/{PLUGIN_ID}/sessions")["sessions"])
            logs = sum(len(s.get("logs", [])) for s in sessions)
            print(f"Pre-labelled {labelled}/{len(tasks)} task(s) in {elapsed:.2f} s "
                  f"({len(sessions)} plugin session(s), {logs} log record(s))")
            if sessions:
                last = sessions[-1]
                print(f"Last session: {last.get('status')}, logs: {[r.get('msg') for r in last.get('logs', [])]}")
        finally:
            plugin.stop()
            while not handle.wait(0.2):
                pass
            handle.join()


if __name__ == "__main__":
    main()
