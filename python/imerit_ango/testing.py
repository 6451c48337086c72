"""Testing helpers: ``LocalHub``, an in-process Ango Hub emulator (written in Rust).

    from imerit_ango.sdk import SDK
    from imerit_ango.testing import LocalHub

    with LocalHub(latency_ms=0, fail_rate=0.0) as hub:
        sdk = SDK(hub.api_key, host=hub.url)
        project_id = sdk.create_project("demo")["data"]["project"]["_id"]

The hub listens on 127.0.0.1 only and keeps everything in memory; it stops when the
``with`` block ends (or on ``stop()``). ``fail_rate`` answers that share of requests
with 429/503 and ``drop_rate`` closes that share of connections, to exercise retries.
The keyword options (``latency_ms``, ``fail_rate``, ``drop_rate``, ``seed``, ``api_key``,
``seed_demo``, ``port``, ``workers``, ``max_body_bytes``, ``header_timeout_ms``,
``idle_timeout_ms``, ``max_connections``, ``plugin_ping_interval_ms``,
``plugin_ping_timeout_ms``) are read and checked by the emulator itself, as for the
``ango-emulator`` command and Node's ``startEmulator``: a refused one (a rate outside
0..1, rates adding up to more than 1, a zero count, an unknown name) is a ``ValueError``.

The hub is also a plugin hub: point a plugin at it and drive it offline.

    from imerit_ango.plugins import ModelPlugin, start

    with LocalHub(seed_demo=True) as hub:
        plugin = ModelPlugin("my-plugin", "my-secret", predict, host=hub.url)
        start(plugin, host=hub.url)              # connects to the hub's Socket.IO endpoint
        hub.wait_for_plugin("my-plugin")         # its first heartbeat registers it
        session = hub.run_plugin("my-plugin", {"projectId": ..., "taskId": ...})
        assert session["status"] == "done", session
        print(hub.plugin_sessions("my-plugin"))  # every run: response, error, logs
        plugin.stop()
"""
import inspect
import json
from typing import Any, Callable, Dict

from imerit_ango import _native

__all__ = ["LocalHub"]


class LocalHub(_native.LocalHub):
    """A local, in-memory Ango Hub on 127.0.0.1 (the Rust emulator), served from
    background threads; the keyword options are the emulator's (see the module doc).

    Its methods and properties come from the emulator's control table
    (``ango_emulator::control``): names, parameters, defaults and documentation are the
    emulator crate's, and every call runs there without the GIL."""

    def __enter__(self) -> "LocalHub":
        return self

    def __exit__(self, *args: Any) -> bool:
        self.stop()
        return False

    def __repr__(self) -> str:
        return f"LocalHub(url='{self.url}', running={self.running})"


def _attach(cls: type) -> None:
    """One property or method of ``cls`` per entry of the control table."""
    for method in _native.LocalHub.methods():
        name = method["name"]
        if method["style"] == "property":
            getter = _caller(name, None, False)
            getter.__doc__ = method["doc"]
            setattr(cls, name, property(getter, doc=method["doc"]))
            continue
        params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        for p in method["params"]:
            kind = inspect.Parameter.KEYWORD_ONLY if p["keyword_only"] else inspect.Parameter.POSITIONAL_OR_KEYWORD
            default = inspect.Parameter.empty if p["default"] is None else json.loads(p["default"])
            if p["kind"] == "seconds" and default is not inspect.Parameter.empty:
                default = float(default)
            params.append(inspect.Parameter(p["name"], kind, default=default, annotation=p["py_ty"]))
        signature = inspect.Signature(params, return_annotation=method["py_returns"])
        function = _caller(name, signature, method["py_returns"] == "None")
        function.__name__ = name
        function.__qualname__ = f"{cls.__name__}.{name}"
        function.__signature__ = signature  # type: ignore[attr-defined]
        lines = [method["doc"], "", "Args:"] + [f"    {p['name']}: {p['doc']}" for p in method["params"]]
        function.__doc__ = "\n".join(lines if method["params"] else lines[:1])
        setattr(cls, name, function)


def _caller(name: str, signature: Any, drop_result: bool) -> Callable[..., Any]:
    def call(self: LocalHub, *args: Any, **kwargs: Any) -> Any:
        arguments: Dict[str, Any] = {}
        if signature is not None:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            del arguments["self"]
        result = self.call(name, arguments)
        return None if drop_result else result
    return call


_attach(LocalHub)
