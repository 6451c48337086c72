"""The differential suite for the REST connector (``CONNECTOR=REST``): the plugin of
``official_plugin.py`` served by the official runtime (FastAPI + uvicorn) and by ours
(Rust), on two local ports; the same HTTP requests to both, and the answers (status, and
body for the successful ones and for 401) and the requests each sends to the recording
API (``/v2/pluginLog``, ``/v2/pluginResponse``, the export flow) must be the same.

Where ours is better by design it is checked as such: a failed run also sends an error
record with a message to ``/v2/pluginResponse`` (the official runtime only answers 500).
"""
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional, Tuple

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from api import Api  # noqa: E402
from harness import OFFICIAL_PYTHON, PluginProcess, request_data  # noqa: E402

SECRET = "plugin-secret-0001"
JSON = {"Secret": SECRET, "Content-Type": "application/json"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(method: str, url: str, body: Optional[bytes] = None,
          headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


# kind -> [(name, method, path, body, headers, compare body?)]
CALLS: Dict[str, List[Tuple[str, str, str, Any, Dict[str, str], bool]]] = {
    "batch": [
        ("heartbeat", "GET", "/heartbeat", None, {"Secret": SECRET}, True),
        ("heartbeat-lowercase-header", "GET", "/heartbeat", None, {"secret": SECRET}, True),
        ("heartbeat-no-secret", "GET", "/heartbeat", None, {}, True),
        ("plugin-wrong-secret", "POST", "/plugin", request_data("r-wrong"), {"Secret": "nope"}, True),
        ("plugin-not-an-object", "POST", "/plugin", [1, 2], JSON, False),
        ("plugin-echo", "POST", "/plugin", request_data("r-echo", configJSON='{"mode": "echo"}'), JSON, True),
        ("plugin-null-batches", "POST", "/plugin", request_data("r-null", batches=None), JSON, True),
        ("plugin-raise", "POST", "/plugin", request_data("r-raise", configJSON='{"mode": "raise"}'), JSON, False),
    ],
    "export": [
        ("export", "POST", "/plugin", request_data("r-export", stage=["Complete"]), JSON, True),
    ],
    "model": [
        ("model-editor", "POST", "/plugin", request_data("r-model-1", taskId="task-1"), JSON, True),
        ("model-editor-merge", "POST", "/plugin", request_data("r-model-2", taskId="task-2", overwrite=False),
         JSON, True),
        ("model-workflow", "POST", "/plugin", request_data("r-model-3", taskId="task-3", workflow=True), JSON, True),
    ],
}


def _serve_and_call(python: str, kind: str, api: Api) -> Dict[str, Any]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    results: Dict[str, Any] = {}
    with PluginProcess(python, "official_plugin.py", kind, api.url, api.url,
                       env={"CONNECTOR": "REST", "PORT": str(port)}) as proc:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _http("GET", base + "/heartbeat", headers={"Secret": SECRET})[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.proc.poll() is not None:
                raise AssertionError(f"the REST plugin did not start under {python}:\n{proc.output()}")
            time.sleep(0.1)
        for name, method, path, body, headers, _ in CALLS[kind]:
            api.reset()
            raw = None if body is None else json.dumps(body).encode()
            status, answer = _http(method, base + path, raw, headers)
            time.sleep(0.2)
            results[name] = {"status": status, "body": answer, "http": [r.view() for r in api.snapshot()]}
    return results


@pytest.fixture(scope="module", params=sorted(CALLS))
def runs(request: Any) -> Any:
    if not OFFICIAL_PYTHON:
        pytest.skip("ANGO_OFFICIAL_PYTHON is not set (python/run-tests.sh sets it)")
    with Api() as api:
        official = _serve_and_call(OFFICIAL_PYTHON, request.param, api)
        ours = _serve_and_call(sys.executable, request.param, api)
    return request.param, official, ours


def test_rest_answers_are_the_same(runs: Any) -> None:
    kind, official, ours = runs
    for name, _, _, _, _, compare_body in CALLS[kind]:
        if name == "plugin-raise":
            continue  # below: ours adds an error record
        assert ours[name]["status"] == official[name]["status"], (name, official[name], ours[name])
        if compare_body:
            assert ours[name]["body"] == official[name]["body"], (name, official[name], ours[name])


def test_rest_requests_to_the_api_are_the_same(runs: Any) -> None:
    kind, official, ours = runs
    for name, _, _, _, _, _ in CALLS[kind]:
        if name == "plugin-raise":
            continue
        assert ours[name]["http"] == official[name]["http"], (
            f"{name}: requests differ\nofficial: {official[name]['http']}\nours:     {ours[name]['http']}")


def test_a_failed_rest_run_answers_500_and_also_reports_why(runs: Any) -> None:
    kind, official, ours = runs
    if "plugin-raise" not in official:
        return  # only the batch scenarios have a failing run
    assert official["plugin-raise"]["status"] == ours["plugin-raise"]["status"] == 500
    # The official runtime logs the failure to the Hub and sends no error record.
    assert [r["path"] for r in official["plugin-raise"]["http"]] == ["/v2/pluginLog"]
    paths = [r["path"] for r in ours["plugin-raise"]["http"]]
    assert paths.count("/v2/pluginLog") == 1 and paths.count("/v2/pluginResponse") == 1, paths
    assert official["plugin-raise"]["http"][0] == next(r for r in ours["plugin-raise"]["http"]
                                                      if r["path"] == "/v2/pluginLog")
    record = next(r for r in ours["plugin-raise"]["http"] if r["path"] == "/v2/pluginResponse")["body"]
    assert record["error"] is True and record["session"] == "r-raise"
    assert "boom: the model is unavailable" in json.dumps(record)
