"""LocalHub's methods come from the emulator's control table (``ango_emulator::control``):
signatures, defaults and docs follow it, the hand-written stub agrees with it, errors
are the table's, and a stop ends a wait in progress."""
import ast
import inspect
import json
import os
import threading
from typing import Any, Dict, List

import pytest

from imerit_ango import _native
from imerit_ango.testing import LocalHub

TABLE: List[Dict[str, Any]] = _native.LocalHub.methods()
STUB = os.path.join(os.path.dirname(inspect.getfile(LocalHub)), "testing.pyi")


def test_the_methods_follow_the_table() -> None:
    assert {m["name"] for m in TABLE} >= {"url", "api_key", "seed_project", "run_plugin", "wait_for_plugin"}
    for method in TABLE:
        attribute = inspect.getattr_static(LocalHub, method["name"])
        if method["style"] == "property":
            assert isinstance(attribute, property), method["name"]
            continue
        signature = inspect.signature(attribute)
        params = list(signature.parameters.values())[1:]
        assert [p.name for p in params] == [p["name"] for p in method["params"]]
        for param, spec in zip(params, method["params"]):
            expected = inspect.Parameter.empty if spec["default"] is None else json.loads(spec["default"])
            assert param.default == expected, (method["name"], param.name)
            assert (param.kind == inspect.Parameter.KEYWORD_ONLY) == spec["keyword_only"]
        assert attribute.__doc__.startswith(method["doc"])


def test_the_stub_agrees_with_the_table() -> None:
    tree = ast.parse(open(STUB, encoding="utf-8").read())
    cls = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "LocalHub")
    defs = {node.name: node for node in cls.body if isinstance(node, ast.FunctionDef)}
    for method in TABLE:
        node = defs.get(method["name"])
        assert node is not None, f"testing.pyi lacks {method['name']}"
        is_property = any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)
        assert is_property == (method["style"] == "property"), method["name"]
        positional = [a.arg for a in node.args.args[1:]]
        keyword_only = [a.arg for a in node.args.kwonlyargs]
        assert positional == [p["name"] for p in method["params"] if not p["keyword_only"]], method["name"]
        assert keyword_only == [p["name"] for p in method["params"] if p["keyword_only"]], method["name"]


def test_errors_are_the_tables() -> None:
    with LocalHub() as hub:
        with pytest.raises(ValueError, match="unknown emulator method"):
            hub.call("no_such_method", {})
        with pytest.raises(ValueError, match="n_tasks must be a non-negative integer, got -1"):
            hub.seed_project("x", -1)
        with pytest.raises(ValueError, match="unknown argument"):
            hub.call("plugins", {"extra": 1})
        with pytest.raises(TypeError):
            hub.seed_project("x", bogus=1)  # type: ignore[call-arg]
        assert hub.plugin_session("no-such-session") is None
        assert hub.plugin_sessions("nobody") == []
        assert hub.running is True
        assert repr(hub) == f"LocalHub(url='{hub.url}', running=True)"
    assert hub.running is False
    with pytest.raises(RuntimeError, match="stopped"):
        hub.plugins()


@pytest.mark.parametrize("wait", ["wait_for_plugin", "run_plugin"])
def test_stop_ends_a_wait_in_progress(wait: str) -> None:
    hub = LocalHub()
    hub.register_plugin("silent", "secret")
    outcome: List[BaseException] = []

    def waiting() -> None:
        try:
            if wait == "wait_for_plugin":
                hub.wait_for_plugin("never", timeout=600)
            else:
                hub.run_plugin("silent", {}, wait=600)
        except BaseException as error:  # noqa: BLE001 - recorded for the assertion
            outcome.append(error)

    thread = threading.Thread(target=waiting, daemon=True)
    thread.start()
    thread.join(0.1)
    hub.stop()
    # Without the stop, the wait would last ten minutes; the bound only keeps a
    # regression from hanging the suite.
    thread.join(60)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], RuntimeError), outcome
    assert "stopped" in str(outcome[0])
