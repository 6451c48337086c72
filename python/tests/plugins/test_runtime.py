"""Our plugin runtime beyond the official behaviour: both callback styles, both export
return shapes, error records with a message, the REST connector, LOGLEVEL gating and the
local echo, graceful Ctrl-C / SIGTERM, a bounded pool under 50 concurrent events.

Plugins run in this process (``imerit_ango.plugins.start``) against the recording hub and
API, except where a process is needed (signals, import side effects).
"""
import functools
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from io import BytesIO
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from api import EXPORT_ROWS, Api  # noqa: E402
from harness import PluginProcess, request_data  # noqa: E402
from sio_hub import SioHub  # noqa: E402

from imerit_ango import plugins  # noqa: E402
from imerit_ango.models.annotate import AnnotationPayload, Answer  # noqa: E402
from imerit_ango.plugin_logger import PluginLogger  # noqa: E402
from imerit_ango.plugins import (  # noqa: E402
    BatchModelPlugin,
    ExportPlugin,
    ExportResponse,
    ModelPlugin,
    _adapt,
)


@pytest.fixture(scope="module")
def hub() -> Iterator[SioHub]:
    with SioHub(ping_interval=1.0, ping_timeout=3.0) as h:
        yield h


@pytest.fixture
def api() -> Iterator[Api]:
    with Api() as a:
        yield a


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("CONNECTOR", "PORT", "LOGLEVEL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


class Started:
    """A plugin started in this process; stopped (drained) at the end of the test."""

    def __init__(self, plugin: plugins.BasePlugin, host: str) -> None:
        self.plugin = plugin
        self.running = plugins.start(plugin, host)

    def stop(self) -> None:
        self.running.shutdown()
        for _ in range(150):
            if self.running.wait(0.2):
                break
        self.running.join()


@pytest.fixture
def started() -> Iterator[Any]:
    items: List[Started] = []

    def start(plugin: plugins.BasePlugin, host: str) -> Started:
        s = Started(plugin, host)
        items.append(s)
        return s
    yield start
    for s in items:
        s.stop()


def _connected(hub: SioHub, before: int) -> str:
    """The sid of the plugin that connected after `before` heartbeats were seen."""
    events = hub.wait_for(lambda ev: sum(e.name == "heartbeat" for e in ev) > before, what="a heartbeat")
    return [e for e in events if e.name == "heartbeat"][before].sid


def _heartbeats(hub: SioHub) -> int:
    return len(hub.snapshot("heartbeat"))


def _error_message(record: Dict[str, Any]) -> str:
    """The text of an error record besides its fixed keys."""
    return " ".join(str(v) for k, v in record.items() if k not in ("error", "session") and isinstance(v, str))


# ------------------------------------------------------------------ callback styles


def test_adapt_reads_the_style_from_the_signature() -> None:
    data = {"projectId": "p", "session": "s", "apiKey": "k"}
    calls: List[Any] = []

    def positional(d: Dict[str, Any]) -> Any:
        calls.append(("positional", d))

    def keywords(**d: Any) -> Any:
        calls.append(("keywords", d))

    def named_and_rest(projectId: str, session: str, **rest: Any) -> Any:
        calls.append(("named", projectId, session, sorted(rest)))

    def named_only(projectId: str, session: str) -> Any:
        calls.append(("named-only", projectId, session))

    def optional_positional(d: Optional[Dict[str, Any]] = None) -> Any:
        calls.append(("optional", d))

    class Callable_:
        def __call__(self, d: Dict[str, Any]) -> Any:
            calls.append(("object", d))

    for cb in (positional, keywords, named_and_rest, named_only, optional_positional, Callable_(),
               functools.partial(keywords, extra=1), lambda d: calls.append(("lambda", d))):
        _adapt(cb)(dict(data))
    assert calls == [
        ("positional", data), ("keywords", data), ("named", "p", "s", ["apiKey"]), ("named-only", "p", "s"),
        ("optional", data), ("object", data), ("keywords", dict(data, extra=1)), ("lambda", data),
    ]


def test_adapt_never_retries_a_callback_that_raises_type_error() -> None:
    calls = []

    def keywords(**data: Any) -> Any:
        calls.append(1)
        raise TypeError("inside the user's code")

    with pytest.raises(TypeError, match="inside the user's code"):
        _adapt(keywords)({"a": 1})
    assert calls == [1]


@pytest.mark.parametrize("style", ["positional", "keywords"])
def test_both_callback_styles_run_end_to_end(style: str, hub: SioHub, started: Any, env: Any) -> None:
    def positional(data: Dict[str, Any]) -> Any:
        return {"style": "positional", "project": data["projectId"], "logger": isinstance(data["logger"], PluginLogger)}

    def keywords(**data: Any) -> Any:
        return {"style": "keywords", "project": data["projectId"], "logger": isinstance(data["logger"], PluginLogger)}

    before = _heartbeats(hub)
    started(BatchModelPlugin("p-style", "secret", positional if style == "positional" else keywords), hub.url)
    sid = _connected(hub, before)
    hub.send_plugin(request_data(f"s-style-{style}"), sid)
    assert hub.wait_response(f"s-style-{style}") == {
        "response": {"style": style, "project": "proj-1", "logger": True}, "session": f"s-style-{style}"}


# ------------------------------------------------------------------ export shapes


@pytest.mark.parametrize("shape", ["ExportResponse", "tuple", "ExportResponse-bytes"])
def test_both_export_return_shapes_upload_the_file(shape: str, hub: SioHub, api: Api, started: Any,
                                                  env: Any) -> None:
    def callback(data: Dict[str, Any]) -> Any:
        rows = list(data["jsonExport"])
        content = json.dumps({"n": data["numTasks"], "ids": [r["externalId"] for r in rows]}).encode()
        if shape == "tuple":
            return "legacy.json", BytesIO(content)
        if shape == "ExportResponse-bytes":
            return ExportResponse(content, file_name="bytes.json")
        return ExportResponse(BytesIO(content), file_name="new.json")

    before = _heartbeats(hub)
    started(ExportPlugin("p-export", "secret", callback, host=api.url), hub.url)
    sid = _connected(hub, before)
    session = f"s-export-{shape}"
    hub.send_plugin(request_data(session), sid)
    response = hub.wait_response(session)
    assert response["export"] is True and response["session"] == session, response
    puts = [r for r in api.snapshot() if r.method == "PUT"]
    assert len(puts) == 1
    expected_name = {"tuple": "legacy.json", "ExportResponse": "new.json", "ExportResponse-bytes": "bytes.json"}[shape]
    assert puts[0].path == f"/upload/{expected_name}"
    assert json.loads(puts[0].body) == {"n": len(EXPORT_ROWS), "ids": [r["externalId"] for r in EXPORT_ROWS]}


# ------------------------------------------------------------------ error records


@pytest.mark.parametrize("outcome", ["raise", "none"])
def test_a_failed_or_empty_run_ends_the_session_with_a_message(outcome: str, hub: SioHub, started: Any,
                                                              env: Any, capfd: pytest.CaptureFixture[str]) -> None:
    def callback(data: Dict[str, Any]) -> Any:
        if outcome == "raise":
            raise RuntimeError("model server said no")
        return None

    before = _heartbeats(hub)
    started(BatchModelPlugin("p-error", "secret", callback), hub.url)
    sid = _connected(hub, before)
    session = f"s-error-{outcome}"
    hub.send_plugin(request_data(session), sid)
    record = hub.wait_response(session)
    assert record["error"] is True and record["session"] == session, record
    message = _error_message(record)
    assert message, f"the error record carries no message: {record}"
    if outcome == "raise":
        assert "model server said no" in message
        # The traceback is printed locally, never sent.
        err = capfd.readouterr().err
        assert "Traceback" in err and "model server said no" in err
        assert all("Traceback" not in json.dumps(r) for r in hub.logs(session))


@pytest.mark.parametrize("case", ["export-dict", "export-bad-file", "unserialisable", "bad-brush"])
def test_a_result_the_runtime_cannot_use_ends_the_session_with_a_message(case: str, hub: SioHub, api: Api,
                                                                       started: Any, env: Any) -> None:
    def callback(data: Dict[str, Any]) -> Any:
        if case == "export-dict":
            return {"file": "not an ExportResponse"}
        if case == "export-bad-file":
            return ExportResponse(file=12345, file_name="x.json")  # type: ignore[arg-type]
        if case == "unserialisable":
            return {"value": object()}
        return AnnotationPayload(answer=Answer(), brush_data=[[1, 2], [3]])

    kind = {"export-dict": ExportPlugin, "export-bad-file": ExportPlugin, "unserialisable": BatchModelPlugin,
            "bad-brush": ModelPlugin}[case]
    plugin = kind("p-bad-" + case, "secret", callback, host=api.url) if kind is not BatchModelPlugin \
        else kind("p-bad-" + case, "secret", callback)
    before = _heartbeats(hub)
    started(plugin, hub.url)
    sid = _connected(hub, before)
    session = f"s-bad-{case}"
    hub.send_plugin(request_data(session, taskId="task-x"), sid)
    record = hub.wait_response(session)
    assert record.get("error") is True, record
    assert _error_message(record), record
    assert not [r for r in api.snapshot() if r.method == "PUT" or r.path.startswith("/v2/annotate/")]


def test_log_fields_json_cannot_carry_are_sent_as_text(hub: SioHub, started: Any, env: Any) -> None:
    class Thing:
        def __str__(self) -> str:
            return "a thing"

    def callback(data: Dict[str, Any]) -> Any:
        data["logger"].warning("with a thing", thing=Thing(), n=1)
        return "ok"

    before = _heartbeats(hub)
    started(BatchModelPlugin("p-thing", "secret", callback), hub.url)
    sid = _connected(hub, before)
    hub.send_plugin(request_data("s-thing"), sid)
    assert hub.wait_response("s-thing")["response"] == "ok"
    (record,) = hub.logs("s-thing")
    assert record["thing"] == "a thing" and record["n"] == 1 and record["msg"] == "with a thing"


def test_a_model_callback_may_return_a_dict(hub: SioHub, api: Api, started: Any, env: Any) -> None:
    def callback(data: Dict[str, Any]) -> Any:
        return {"objects": [{"objectId": "o1", "schemaId": "tool-1"}], "classifications": [], "relations": []}

    before = _heartbeats(hub)
    started(ModelPlugin("p-model-dict", "secret", callback, host=api.url), hub.url)
    sid = _connected(hub, before)
    hub.send_plugin(request_data("s-model-dict", taskId="task-9"), sid)
    response = hub.wait_response("s-model-dict")
    assert response["response"]["objects"] == [{"objectId": "o1", "schemaId": "tool-1"}], response


def test_brush_arrays_are_encoded_and_uploaded(hub: SioHub, api: Api, started: Any, env: Any) -> None:
    mask = [[0, 1, 1], [0, 0, 1]]

    def callback(data: Dict[str, Any]) -> Any:
        return AnnotationPayload(answer=Answer(), brush_data=mask)

    before = _heartbeats(hub)
    started(ModelPlugin("p-brush", "secret", callback, host=api.url), hub.url)
    sid = _connected(hub, before)
    hub.send_plugin(request_data("s-brush", taskId="task-b", workflow=True, overwrite=True), sid)
    requests = api.wait_for(lambda rs: any(r.path == "/v2/annotate/task-b" for r in rs), what="annotate")
    upload_urls = [r for r in requests if r.path == "/v2/getUploadUrl"]
    assert upload_urls and dict(upload_urls[0].query)["type"] == "brushes"
    puts = [r for r in requests if r.method == "PUT"]
    assert puts and puts[0].body.startswith(b"\x89PNG")
    annotate = next(r for r in requests if r.path == "/v2/annotate/task-b").json()
    assert annotate["brushDataUrl"].startswith(api.url + "/upload/") and "?" not in annotate["brushDataUrl"]


# ------------------------------------------------------------------ logger


def test_loglevel_gates_what_is_sent_and_echoed(hub: SioHub, started: Any, env: Any,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    env.setenv("LOGLEVEL", "warning")

    def callback(data: Dict[str, Any]) -> Any:
        log = data["logger"]
        log.debug("not sent: debug")
        log.info("not sent: info")
        log.warning("sent: %s", "warning", reason="x")
        log.log(45, "sent: custom")
        return "ok"

    before = _heartbeats(hub)
    started(BatchModelPlugin("p-level", "secret", callback), hub.url)
    sid = _connected(hub, before)
    hub.send_plugin(request_data("s-level"), sid)
    hub.wait_response("s-level")
    logs = hub.logs("s-level")
    assert [(r["level"], r["msg"]) for r in logs] == [("WARNING", "sent: warning"), ("Level 45", "sent: custom")]
    assert logs[0]["reason"] == "x"
    err = capfd.readouterr().err
    assert err.count("sent: warning") == 1 and err.count("sent: custom") == 1  # echoed once
    assert "not sent" not in err


def test_plugin_logger_is_a_logging_logger_that_never_touches_the_root_logger() -> None:
    code = ("import logging, imerit_ango.plugins, imerit_ango.plugin_logger as pl;"
            "root = logging.getLogger();"
            "print(len(root.handlers), root.level);"
            "lg = pl.PluginLogger('logger', 'pid', 'org', 'secret-api-key', 'user', 'sess', None, 'WS', logging.INFO);"
            "lg.info('hello %s', 'there'); lg.debug('hidden'); lg.error('bad %d', 'x');"
            "print(isinstance(lg, logging.Logger), 'secret-api-key' in repr(lg))")
    env = dict(os.environ, LOGLEVEL="DEBUG")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "30", "True", "False"]
    assert "INFO:plugin:hello there" in proc.stderr
    assert "hidden" not in proc.stderr
    assert "ERROR:plugin:bad %d x" in proc.stderr


# ------------------------------------------------------------------ REST connector


def _http(method: str, url: str, body: Optional[bytes] = None,
          headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def test_rest_connector(api: Api, started: Any, env: Any) -> None:
    env.setenv("CONNECTOR", "REST")
    env.setenv("PORT", "0")

    def callback(data: Dict[str, Any]) -> Any:
        data["logger"].warning("rest log", step=3)
        if data.get("fail"):
            raise ValueError("rest failure")
        return {"echo": data["projectId"]}

    plugin = BatchModelPlugin("p-rest", "rest-secret", callback)
    running = started(plugin, api.url).running
    assert running.connector == "REST"
    host, port = running.local_addr
    base = f"http://127.0.0.1:{port}"
    good = {"Secret": "rest-secret", "Content-Type": "application/json"}

    assert _http("GET", base + "/heartbeat", headers={"Secret": "rest-secret"}) == (200, "ok")
    assert _http("GET", base + "/heartbeat")[0] == 401
    body = json.dumps(request_data("s-rest")).encode()
    assert _http("POST", base + "/plugin", body, {"Secret": "wrong", "Content-Type": "application/json"})[0] == 401
    assert _http("POST", base + "/plugin", body, {"Content-Type": "application/json"})[0] == 401
    assert _http("POST", base + "/plugin", b"[1, 2]", good)[0] == 422
    assert _http("POST", base + "/plugin", b"not json", good)[0] == 422
    assert _http("POST", base + "/plugin", body, {"secret": "rest-secret"}) == (
        200, {"response": {"echo": "proj-1"}, "session": "s-rest"})
    logs = [r for r in api.snapshot() if r.path == "/v2/pluginLog"]
    assert logs and logs[0].apikey == "api-key-0001"
    assert logs[0].json()["msg"] == "rest log" and logs[0].json()["step"] == 3

    status, _ = _http("POST", base + "/plugin", json.dumps(request_data("s-rest-fail", fail=True)).encode(), good)
    records = api.wait_for(lambda rs: any(r.path == "/v2/pluginResponse" for r in rs), what="an error record")
    record = next(r for r in records if r.path == "/v2/pluginResponse").json()
    assert record["error"] is True and record["session"] == "s-rest-fail"
    assert "rest failure" in _error_message(record)


def test_env_vars_are_read_when_run_is_called(env: Any) -> None:
    plugin = BatchModelPlugin("p-env", "secret", lambda d: 1)
    env.setenv("CONNECTOR", "CARRIER-PIGEON")
    with pytest.raises(ValueError, match="CONNECTOR"):
        plugins.start(plugin, "http://127.0.0.1:9")
    env.setenv("CONNECTOR", "REST")
    env.setenv("PORT", "eighty")
    with pytest.raises(ValueError, match="PORT"):
        plugins.start(plugin, "http://127.0.0.1:9")
    env.delenv("PORT")
    env.setenv("CONNECTOR", "WS")
    env.setenv("LOGLEVEL", "chatty")
    with pytest.raises(ValueError, match="level"):
        plugins.start(plugin, "http://127.0.0.1:9")


def test_connect_rest_requires_the_rest_connector(env: Any) -> None:
    with pytest.raises(Exception, match="Expecting CONNECTOR Environment variable"):
        plugins.connect_rest(BatchModelPlugin("p", "s", lambda d: 1))


# ------------------------------------------------------------------ concurrency


def test_fifty_concurrent_events_run_four_at_a_time(hub: SioHub, api: Api, started: Any, env: Any) -> None:
    lock = threading.Condition()
    active = [0]
    peak = [0]

    def callback(data: Dict[str, Any]) -> Any:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            lock.notify_all()
            # Hold the slot until four run together (or a while passes): the peak then
            # shows the pool's size, not the machine's speed.
            lock.wait_for(lambda: active[0] >= 4, timeout=2)
        try:
            return AnnotationPayload(answer=Answer(objects=[{"objectId": data["taskId"]}]))
        finally:
            with lock:
                active[0] -= 1

    before = _heartbeats(hub)
    started(ModelPlugin("p-pool", "secret", callback, host=api.url, concurrency=4), hub.url)
    sid = _connected(hub, before)
    for i in range(50):
        hub.send_plugin(request_data(f"s-pool-{i}", taskId=f"task-{i}", workflow=True), sid)
    api.wait_for(lambda rs: len({r.path for r in rs if r.path.startswith("/v2/annotate/")}) == 50,
                 timeout=60, what="50 annotations")
    annotated = sorted(r.path for r in api.snapshot() if r.path.startswith("/v2/annotate/"))
    assert annotated == sorted(f"/v2/annotate/task-{i}" for i in range(50))
    assert peak[0] == 4
    assert not [r for e in hub.snapshot("response") if (r := e.data).get("error")
                and str(r.get("session", "")).startswith("s-pool-")]


def test_overflow_reject_ends_the_extra_sessions_at_once(hub: SioHub, api: Api, started: Any, env: Any) -> None:
    running_first = threading.Event()
    release = threading.Event()

    def callback(data: Dict[str, Any]) -> Any:
        running_first.set()
        release.wait(20)
        return AnnotationPayload(answer=Answer())

    before = _heartbeats(hub)
    started(ModelPlugin("p-reject", "secret", callback, host=api.url, concurrency=1, queue_capacity=0,
                        overflow="reject"), hub.url)
    sid = _connected(hub, before)
    hub.send_plugin(request_data("s-reject-0", taskId="t0"), sid)
    assert running_first.wait(20)
    hub.send_plugin(request_data("s-reject-1", taskId="t1"), sid)
    hub.send_plugin(request_data("s-reject-2", taskId="t2"), sid)
    for session in ("s-reject-1", "s-reject-2"):
        record = hub.wait_response(session)
        assert record["error"] is True and _error_message(record), record
    assert hub.responses("s-reject-0") == []
    release.set()
    assert "error" not in hub.wait_response("s-reject-0")


def test_pool_options_are_checked() -> None:
    with pytest.raises(ValueError, match="overflow"):
        BatchModelPlugin("p", "s", lambda d: 1, overflow="drop")


# ------------------------------------------------------------------ signals


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_drains_running_work_and_exits_0(signum: int, hub: SioHub) -> None:
    before = _heartbeats(hub)
    api_url = "http://127.0.0.1:9"
    with PluginProcess(sys.executable, "official_plugin.py", "batch", hub.url, api_url) as proc:
        try:
            sid = _connected(hub, before)
        except AssertionError:
            raise AssertionError(proc.output())
        session = f"s-signal-{signum}"
        hub.send_plugin(request_data(session, configJSON='{"mode": "sleep", "seconds": 1.5}'), sid)
        hub.wait_for(lambda ev: any(e.name == "log" and e.data.get("session") == session
                                    and e.data.get("msg") == "sleeping" for e in ev), what="the callback to start")
        proc.signal(signum)
        code = proc.wait(30)
        assert code == 0, proc.output()
        response = hub.responses(session)
        assert response and response[0]["response"]["message"] == "done", proc.output()


# ------------------------------------------------------------------ connection


def test_reconnects_after_a_kick_and_after_the_hub_restarts(started: Any, env: Any) -> None:
    def callback(data: Dict[str, Any]) -> Any:
        return "still here"

    with SioHub(ping_interval=1.0, ping_timeout=3.0) as first:
        port = first.port
        handle = started(BatchModelPlugin("p-reconnect", "secret", callback), first.url).running
        sid = _connected(first, 0)
        first.kick(sid)
        # The official runtime reconnects once, at once, or exits; ours backs off and retries.
        new_sid = _connected(first, 1)
        assert new_sid != sid
        first.send_plugin(request_data("s-after-kick"), new_sid)
        assert first.wait_response("s-after-kick")["response"] == "still here"
    # The hub goes away and comes back on the same port.
    with SioHub(ping_interval=1.0, ping_timeout=3.0, port=port) as second:
        sid = _connected(second, 0)
        second.send_plugin(request_data("s-after-restart"), sid)
        assert second.wait_response("s-after-restart", timeout=30)["response"] == "still here"
        assert handle.connected


def test_a_long_callback_does_not_cost_the_connection() -> None:
    """A 4-s callback while the hub pings every second and drops a client after 1 s
    without an answer: pings are answered while the callback runs."""
    def callback(data: Dict[str, Any]) -> Any:
        import time
        time.sleep(4)
        return "slow but fine"

    with SioHub(ping_interval=1.0, ping_timeout=1.0) as hub:
        plugin = BatchModelPlugin("p-slow", "secret", callback)
        running = plugins.start(plugin, hub.url)
        try:
            sid = _connected(hub, 0)
            hub.send_plugin(request_data("s-slow"), sid)
            assert hub.wait_response("s-slow", timeout=30)["response"] == "slow but fine"
            assert [e.sid for e in hub.snapshot("disconnect")] == []
            assert [e.sid for e in hub.snapshot("response")] == [sid]
        finally:
            plugin.stop()
            while not running.wait(0.2):
                pass
            running.join()


def test_unknown_events_and_malformed_frames_are_ignored(hub: SioHub, started: Any, env: Any) -> None:
    before = _heartbeats(hub)
    started(BatchModelPlugin("p-garbage", "secret", lambda data: "fine"), hub.url)
    sid = _connected(hub, before)
    hub._call(hub.sio.emit("surprise", {"a": 1}, to=sid, namespace="/plugin"))
    hub.send_raw(sid, '42/plugin,["plugin",{broken')
    hub.send_raw(sid, "4garbage")
    hub.send_raw(sid, "9")
    hub.send_plugin(request_data("s-garbage"), sid)
    assert hub.wait_response("s-garbage")["response"] == "fine"
    assert [e for e in hub.snapshot("disconnect") if e.sid == sid] == []
