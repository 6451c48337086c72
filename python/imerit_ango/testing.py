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
from imerit_ango._native import LocalHub

__all__ = ["LocalHub"]
