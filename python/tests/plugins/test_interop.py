"""The differential plugin suite: one plugin written for the official ``imerit-ango``
1.4.10 (``official_plugin.py``) runs once under the official runtime (the venv named by
``ANGO_OFFICIAL_PYTHON``) and once under ours, against the same recording Socket.IO hub
(python-socketio, 1-s ping interval) and the same recording REST API. Both receive the
same ``plugin`` events; the events they emit (``heartbeat``, ``log``, ``response``) and the
HTTP requests they send must be the same.

Compared per scenario: the ordered ``log`` and ``response`` events of the session (the
whole payloads), and the HTTP requests (method, path, decoded query pairs in any order,
``apikey`` header, JSON body). Where ours is better by design (an error record carries a
``message``), ours must contain every field of the official record with the same value.
"""
import os
import sys
from typing import Any, Dict, List, Tuple

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from api import Api  # noqa: E402
from harness import OFFICIAL_PYTHON, PluginProcess, request_data  # noqa: E402
from sio_hub import SioHub  # noqa: E402

# kind -> [(scenario, data, how it ends: "response" or ("annotate", taskId))]
SCENARIOS: Dict[str, List[Tuple[str, Dict[str, Any], Any]]] = {
    "batch": [
        ("batch-echo", request_data("s-batch-echo", configJSON='{"mode": "echo"}'), "response"),
        ("batch-null-batches", request_data("s-batch-null", batches=None), "response"),
        ("batch-given-batches", request_data("s-batch-given", batches=["b-1", "b-2"]), "response"),
        ("batch-raise", request_data("s-batch-raise", configJSON='{"mode": "raise"}'), "response"),
        # The hub asks for an acknowledgement: both answer with an empty ack.
        ("batch-ack", request_data("s-batch-ack"), "response+ack"),
    ],
    "export": [
        ("export", request_data("s-export", stage=["Complete"], batches=["b-1"]), "response"),
        ("export-key-frames", request_data("s-export-kf", configJSON='{"include_key_frames_only": true}'),
         "response"),
    ],
    "model": [
        ("model-editor", request_data("s-model-1", taskId="task-1", assetId="asset-1",
                                      dataURL="https://example.invalid/a.png"), "response"),
        ("model-editor-merge", request_data("s-model-2", taskId="task-2", overwrite=False), "response"),
        ("model-workflow", request_data("s-model-3", taskId="task-3", workflow=True, overwrite=True),
         ("annotate", "task-3")),
        ("model-workflow-merge", request_data("s-model-4", taskId="task-4", workflow=True, overwrite=False),
         ("annotate", "task-4")),
    ],
}
SETTLE = 0.4  # seconds after the end of a scenario for stray events to show up


def _run_kind(python: str, kind: str, hub: SioHub, api: Api) -> Dict[str, Any]:
    hub.reset()
    api.reset()
    results: Dict[str, Any] = {}
    with PluginProcess(python, "official_plugin.py", kind, hub.url, api.url) as proc:
        try:
            sid = hub.wait_connected()
        except AssertionError:
            raise AssertionError(f"the plugin did not connect under {python}:\n{proc.output()}")
        heartbeats = [e.data for e in hub.snapshot("heartbeat")]
        connects = [e.data for e in hub.snapshot("connect")]
        results["<connect>"] = {"heartbeat": heartbeats[0], "auth": connects[0]}
        for name, data, end in SCENARIOS[kind]:
            api.reset()
            session = data["session"]
            hub.send_plugin(dict(data), sid, ack=end == "response+ack")
            try:
                if end == "response+ack":
                    hub.wait_response(session)
                    hub.wait_for(lambda ev: any(e.name == "ack" and e.data["session"] == session for e in ev),
                                 what=f"the ack of {session}")
                elif end == "response":
                    hub.wait_response(session)
                else:
                    task = end[1]
                    api.wait_for(lambda rs: any(r.method == "POST" and r.path == f"/v2/annotate/{task}"
                                                for r in rs), what=f"annotate {task}")
            except AssertionError as e:
                raise AssertionError(f"{name} under {python}: {e}\n{proc.output()}")
            import time
            time.sleep(SETTLE)
            events = [(e.name, e.data) for e in hub.snapshot()
                      if e.name in ("log", "response", "ack") and isinstance(e.data, dict)
                      and e.data.get("session") == session]
            results[name] = {"events": events, "http": [r.view() for r in api.snapshot()]}
        results["<output>"] = proc.output()
    return results


@pytest.fixture(scope="module")
def servers():
    with SioHub(ping_interval=1.0, ping_timeout=3.0) as hub, Api() as api:
        yield hub, api


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def runs(request, servers):
    if not OFFICIAL_PYTHON:
        pytest.skip("ANGO_OFFICIAL_PYTHON is not set (python/run-tests.sh sets it)")
    hub, api = servers
    kind = request.param
    official = _run_kind(OFFICIAL_PYTHON, kind, hub, api)
    ours = _run_kind(sys.executable, kind, hub, api)
    return kind, official, ours


def _same_event(official: Tuple[str, Any], ours: Tuple[str, Any]) -> bool:
    if official[0] != ours[0]:
        return False
    a, b = official[1], ours[1]
    if a == b:
        return True
    # Our error records add a "message"; everything the official sends must be there.
    if official[0] == "response" and a.get("error") is True:
        return all(b.get(k) == v for k, v in a.items())
    return False


def test_connect_sends_the_same_heartbeat_and_namespace_auth(runs):
    kind, official, ours = runs
    assert ours["<connect>"] == official["<connect>"]
    assert official["<connect>"]["heartbeat"] == {"id": "plugin-0001", "secret": "plugin-secret-0001"}


def _scenario_names(kind: str) -> List[str]:
    return [name for name, _, _ in SCENARIOS[kind]]


def test_events_are_the_same(runs):
    kind, official, ours = runs
    for name in _scenario_names(kind):
        expected, got = official[name]["events"], ours[name]["events"]
        assert expected, f"{name}: the official runtime emitted nothing (bad scenario?)"
        assert len(got) == len(expected) and all(_same_event(a, b) for a, b in zip(expected, got)), (
            f"{name}: events differ\nofficial: {expected}\nours:     {got}")


def test_http_requests_are_the_same(runs):
    kind, official, ours = runs
    if kind != "batch":
        assert any(official[name]["http"] for name in _scenario_names(kind)), "no requests (bad scenarios?)"
    for name in _scenario_names(kind):
        expected, got = official[name]["http"], ours[name]["http"]
        assert got == expected, f"{name}: requests differ\nofficial: {expected}\nours:     {got}"
