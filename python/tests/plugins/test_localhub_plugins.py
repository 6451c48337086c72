"""Plugins against the emulator's plugin hub (``LocalHub.run_plugin`` / ``plugin_sessions``):
a websocket plugin and a REST-connector plugin, and the example that pre-labels the demo
project."""
import os
import subprocess
import sys
from typing import Any, Dict, Iterator

import pytest

from imerit_ango import plugins
from imerit_ango.models.annotate import AnnotationPayload, Answer
from imerit_ango.plugins import BatchModelPlugin, ModelPlugin
from imerit_ango.sdk import SDK
from imerit_ango.testing import LocalHub

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "model_plugin.py")


@pytest.fixture
def hub() -> Iterator[LocalHub]:
    with LocalHub(seed_demo=True) as h:
        yield h


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("CONNECTOR", "PORT", "LOGLEVEL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _stop(plugin: plugins.BasePlugin, running: Any) -> None:
    plugin.stop()
    for _ in range(150):
        if running.wait(0.2):
            break
    running.join()


def _wait_connected(hub: LocalHub, plugin_id: str) -> None:
    hub.wait_for_plugin(plugin_id, timeout=20)


def test_run_plugin_and_sessions_over_websocket(hub: LocalHub, clean_env: Any) -> None:
    def callback(data: Dict[str, Any]) -> Any:
        data["logger"].warning("working on %s", data["projectId"], step=1)
        if data.get("fail"):
            raise RuntimeError("no luck")
        return {"seen": data["projectId"], "config": data["configJSON"]}

    plugin = BatchModelPlugin("ws-plugin", "ws-secret", callback)
    running = plugins.start(plugin, hub.url)
    try:
        _wait_connected(hub, "ws-plugin")
        assert any(p["id"] == "ws-plugin" and p["connected"] for p in hub.plugins())
        session = hub.run_plugin("ws-plugin", {"projectId": "p-1"}, wait=20)
        assert session["status"] == "done", session
        assert session["response"] == {"seen": "p-1", "config": "{}"}
        assert "apiKey" not in session["data"]
        failed = hub.run_plugin("ws-plugin", {"projectId": "p-2", "fail": True}, wait=20)
        assert failed["status"] == "error" and failed["error"] is True, failed
        assert "no luck" in str(failed.get("message")), failed
    finally:
        _stop(plugin, running)
    sessions = hub.plugin_sessions("ws-plugin")
    assert [s["status"] for s in sessions] == ["done", "error"]
    assert [r["msg"] for r in sessions[0]["logs"]] == ["working on p-1"]
    assert sessions[0]["logs"][0]["step"] == 1
    with pytest.raises(LookupError):
        hub.run_plugin("nobody", {}, wait=1)
    with pytest.raises(TimeoutError):
        hub.wait_for_plugin("nobody", timeout=0.2)


def test_run_plugin_over_the_rest_connector(hub: LocalHub, clean_env: Any) -> None:
    clean_env.setenv("CONNECTOR", "REST")
    clean_env.setenv("PORT", "0")

    def callback(data: Dict[str, Any]) -> Any:
        data["logger"].warning("rest run")
        return "rest ok"

    plugin = BatchModelPlugin("rest-plugin", "rest-secret", callback)
    running = plugins.start(plugin, hub.url)
    try:
        host, port = running.local_addr
        hub.register_plugin("rest-plugin", "rest-secret", rest_url=f"http://127.0.0.1:{port}")
        session = hub.run_plugin("rest-plugin", {"projectId": "p-3"}, wait=20)
        assert session["status"] == "done" and session["response"] == "rest ok", session
        assert [r["msg"] for r in session["logs"]] == ["rest run"]
        hub.register_plugin("rest-plugin", "wrong-secret", rest_url=f"http://127.0.0.1:{port}")
        refused = hub.run_plugin("rest-plugin", {"projectId": "p-4"}, wait=20)
        assert refused["status"] == "error", refused
    finally:
        _stop(plugin, running)


def test_model_plugin_annotates_through_the_hub(hub: LocalHub, clean_env: Any) -> None:
    sdk = SDK(hub.api_key, host=hub.url)
    project_id = sdk.list_projects()["data"]["projects"][0]["_id"]
    task = next(t for t in sdk.get_tasks(project_id, limit=50)["data"]["tasks"] if t["stage"] == "Label")

    def predict(data: Dict[str, Any]) -> Any:
        return AnnotationPayload(answer=Answer(classifications=[
            {"schemaId": "c3d4e5f6a7b8c9d0e1f2a3b", "answer": "0pt10n000000000000ra1ny"}]))

    plugin = ModelPlugin("model-plugin", "model-secret", predict, host=hub.url)
    running = plugins.start(plugin, hub.url)
    try:
        _wait_connected(hub, "model-plugin")
        session = hub.run_plugin("model-plugin", {"projectId": project_id, "taskId": task["_id"],
                                                  "workflow": True, "overwrite": True}, wait=20)
        assert session["status"] == "done", session
    finally:
        _stop(plugin, running)
    stored = sdk.get_task(task["_id"], include_answer=True)["data"]["task"]
    assert [(c["schemaId"], c["answer"]) for c in stored["answer"]["classifications"]] == [
        ("c3d4e5f6a7b8c9d0e1f2a3b", "0pt10n000000000000ra1ny")]
    assert stored["stage"] != "Label"


def test_the_model_plugin_example_prelabels_the_demo_project() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ANGO_HOST", "ANGO_API_KEY", "CONNECTOR", "PORT")}
    proc = subprocess.run([sys.executable, EXAMPLE], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Pre-labelled 15/15 task(s)" in proc.stdout, proc.stdout + proc.stderr
    assert "15 plugin session(s), 15 log record(s)" in proc.stdout, proc.stdout
