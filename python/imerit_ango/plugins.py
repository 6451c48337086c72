"""Ango Hub plugins: connect a function to Ango Hub, a drop-in for ``imerit_ango.plugins`` 1.4.10.

    from imerit_ango.plugins import ModelPlugin, run
    from imerit_ango.models.annotate import AnnotationPayload, Answer

    def predict(data):
        return AnnotationPayload(answer=Answer(classifications=[...]))

    run(ModelPlugin(id="<plugin id>", secret="<plugin secret>", callback=predict))

The runtime is written in Rust (``ango-plugins``): a Socket.IO connection to the Hub (or,
with ``CONNECTOR=REST``, an HTTP server on ``PORT``), a bounded pool of worker threads that
call the callback (with the GIL taken only there), the Export / Model flows, reconnection
with backoff, and the ``PluginLogger`` records. This module keeps the official classes,
constructor parameters and ``data`` dict, and adds what the official runtime lacks:

* callbacks may be written ``def cb(data)`` (1.3.16+) or ``def cb(**data)`` (the documented
  style, 1.3.13 and older): the style is read from the callback's signature;
* an export callback may return an :class:`ExportResponse` or the legacy tuple
  ``(file_name, BytesIO)``;
* a callback that raises or returns ``None`` still ends the Hub session, with an error
  record that carries the reason;
* ``CONNECTOR``, ``PORT`` and ``LOGLEVEL`` are read when :func:`run` is called, and importing
  this module configures no logging;
* Ctrl-C or SIGTERM stop taking new work, let running callbacks finish and exit with status 0.
"""
import inspect
import logging
import os
import signal
import threading
import time
from io import BytesIO
from typing import Any, Callable, Dict, Iterator, Optional

from imerit_ango import _native
from imerit_ango.plugin_logger import PluginLogger

__all__ = [
    "BasePlugin",
    "BatchModelPlugin",
    "ExportPlugin",
    "ExportResponse",
    "FileExplorerPlugin",
    "InputPlugin",
    "MarkdownPlugin",
    "ModelPlugin",
    "connect_rest",
    "run",
    "start",
]

DEFAULT_HUB_URL: str = _native.PLUGIN_DEFAULT_HUB_URL
DEFAULT_API_HOST: str = _native.PLUGIN_DEFAULT_API_HOST

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _adapt(callback: Callable[..., Any]) -> Callable[[Dict[str, Any]], Any]:
    """The callback as a function of the ``data`` dict, whichever style it is written in.

    ``def cb(data)`` gets the dict; ``def cb(**data)`` (or ``def cb(projectId, apiKey, **rest)``)
    gets its items as keyword arguments (only the names it accepts, if it takes no
    ``**kwargs``). Decided once, from the signature, never by retrying on ``TypeError``.
    """
    try:
        parameters = list(inspect.signature(callback).parameters.values())
    except (TypeError, ValueError):  # builtins and some C callables: the 1.4.10 call
        return callback
    positional = [p for p in parameters if p.kind in _POSITIONAL]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    var_positional = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)
    var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
    keyword_only = [p for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]
    if len(required) == 1:
        return callback
    if not required and (var_positional or (positional and not var_keyword)):
        return callback
    if not required and not var_keyword and not keyword_only:
        return callback  # takes nothing: the 1.4.10 call fails loudly, as it should
    if var_keyword:
        def call_with_keywords(data: Dict[str, Any]) -> Any:
            return callback(**data)
        return call_with_keywords
    accepted = {p.name for p in parameters if p.kind is not inspect.Parameter.VAR_POSITIONAL}

    def call_with_named(data: Dict[str, Any]) -> Any:
        return callback(**{k: v for k, v in data.items() if k in accepted})
    return call_with_named


class BasePlugin:
    """A plugin: an id and secret from the Hub's plugin page, and the callback that
    answers each run with the request's ``data`` dict. Start it with :func:`run`.

    Keyword-only options (not in 1.4.10): ``workers``, the callbacks run at once (default
    8; ``ModelPlugin`` has its official ``concurrency``, default 1); ``queue_capacity``,
    the runs that may wait for a worker (default 1024); ``overflow``, what happens to a run
    beyond that: ``"queue"`` (wait anyway, default) or ``"reject"`` (end its session at
    once with an error record).
    """

    _kind = "BatchModel"

    def __init__(self, id: str, secret: str, callback: Callable[..., Any], *, workers: Optional[int] = None,
                 queue_capacity: Optional[int] = None, overflow: Optional[str] = None) -> None:
        self.id = id
        self.secret = secret
        self.callback = callback
        self.logger = logging.getLogger("plugin")
        self._pool: Dict[str, Any] = {"concurrency": workers, "queue_capacity": queue_capacity,
                                      "overflow": overflow}
        # The runtime's rules (a ValueError for a bad option); the environment is read by run().
        _native.check_plugin_options(self._kind, dict(self._pool, use_env=False))
        self._running: Any = None

    def __repr__(self) -> str:  # never shows the secret
        return f"{type(self).__name__}(id={self.id!r})"

    # The runtime calls these on its worker threads (with the GIL held).
    def _options(self) -> Dict[str, Any]:
        return {k: v for k, v in self._pool.items() if v is not None}

    def _make_logger(self, sink: Any, data: Dict[str, Any]) -> PluginLogger:
        logger = PluginLogger("logger", self.id, data.get("orgId", ""), data.get("apiKey", ""),
                              data.get("runBy", ""), data.get("session", ""), self, sink.connector,
                              sink.level)
        logger._sink = sink
        return logger

    def start(self, background: bool = False) -> None:
        """Kept for compatibility: :func:`run` starts the plugin and waits for it."""

    def stop(self) -> None:
        """Stops the running plugin (from another thread or a callback): no new work is
        taken, running callbacks finish, and :func:`run` returns."""
        running = self._running
        if running is not None:
            running.shutdown()


class ExportResponse:
    """What an export callback returns: the file to upload (its bytes) and its name;
    ``storage_id`` uploads it to a storage integration instead of Ango's storage.
    ``bucket`` and ``options`` are accepted and unused, as in 1.4.10."""

    def __init__(self, file: BytesIO, file_name: str = "export.json", storage_id: Optional[str] = None,
                 bucket: Optional[str] = None, options: Any = None) -> None:
        self.file = file
        self.file_name = file_name
        self.storage_id = storage_id
        self.bucket = bucket
        self.options = options

    def __repr__(self) -> str:
        return f"ExportResponse(file_name={self.file_name!r}, storage_id={self.storage_id!r})"


class ExportPlugin(BasePlugin):
    """Export plugin: the runtime exports the project (NDJSON), calls the callback with
    ``data["jsonExport"]`` (a one-pass iterator of task dicts) and ``data["numTasks"]``,
    uploads the file it returns and sends the Hub its signed URL. ``host`` is the API host
    the runtime calls with the run's API key; ``version`` is accepted and unused."""

    _kind = "Export"

    def __init__(self, id: str, secret: str, callback: Callable[..., Any], host: str = DEFAULT_API_HOST,
                 version: str = "v2", **options: Any) -> None:
        super().__init__(id, secret, callback, **options)
        self.host = host
        self.version = version


class ModelPlugin(BasePlugin):
    """Model plugin: the callback returns an ``AnnotationPayload`` (or a dict) for the
    task in ``data``. From the editor, the answer goes back to the Hub as the response
    (merged with the task's answer when ``overwrite`` is false); from a workflow Plugin
    stage (``data["workflow"]``) the runtime annotates the task and moves it on, running
    at most ``concurrency`` callbacks at once (further tasks wait in a queue)."""

    _kind = "Model"

    def __init__(self, id: str, secret: str, callback: Callable[..., Any], host: str = DEFAULT_API_HOST,
                 concurrency: int = 1, *, queue_capacity: Optional[int] = None,
                 overflow: Optional[str] = None) -> None:
        super().__init__(id, secret, callback, queue_capacity=queue_capacity, overflow=overflow)
        self.host = host
        self.concurrency = max(1, int(concurrency))

    def _options(self) -> Dict[str, Any]:
        return dict(super()._options(), concurrency=self.concurrency)


class FileExplorerPlugin(BasePlugin):
    """File explorer plugin: lists (or uploads) the files of a storage for the Hub."""

    _kind = "FileExplorer"


class BatchModelPlugin(BasePlugin):
    """Batch model plugin: runs over a project (``data["batches"]``, ``categorySchema``);
    the callback returns the message shown to the user."""

    _kind = "BatchModel"


class InputPlugin(BasePlugin):
    """Input plugin."""

    _kind = "Input"


class MarkdownPlugin(BasePlugin):
    """Markdown generator plugin: the callback returns the message shown to the user."""

    _kind = "Markdown"


def start(plugin: BasePlugin, host: str = DEFAULT_HUB_URL) -> Any:
    """Starts ``plugin`` like :func:`run` but returns at once (not in 1.4.10): the plugin runs
    on background threads until ``plugin.stop()``. The returned handle has ``wait(seconds)``
    (true once stopped), ``shutdown()``, ``join()``, ``connected`` and, for the REST
    connector, ``local_addr``. Handy in tests and notebooks."""
    return _start(plugin, host)


def _rows(rows: Any) -> Iterator[Dict[str, Any]]:
    # A real generator, as in 1.4.10 (`inspect.isgenerator`, `close()`), over the native rows.
    yield from rows


def _start(plugin: BasePlugin, hub_url: str, connector: Optional[str] = None) -> Any:
    if plugin._running is not None and not plugin._running.wait(0):
        raise RuntimeError(f"{plugin!r} is already running")
    if not getattr(plugin, "host", None):
        plugin.host = hub_url  # type: ignore[attr-defined]
    call = _adapt(plugin.callback)
    invoke = call
    if plugin._kind == "Export":
        def with_generator(data: Dict[str, Any]) -> Any:
            if "jsonExport" in data:
                data["jsonExport"] = _rows(data["jsonExport"])
            return call(data)
        invoke = with_generator
    options = dict(plugin._options(), id=plugin.id, secret=plugin.secret, host=hub_url, connector=connector,
                   api_host=plugin.host)  # type: ignore[attr-defined]
    running = _native.start_plugin(plugin._kind, options, invoke, plugin._make_logger)
    plugin._running = running
    return running


class _Stop(BaseException):
    pass


def _watch(plugin: BasePlugin, running: Any, hub_url: str) -> None:
    """Waits until the plugin stops, telling when the Hub connection comes and goes."""
    if running.connector == "REST":
        address = running.local_addr
        if address is not None:
            plugin.logger.warning("Serving on http://%s:%d", address[0], address[1])
        while not running.wait(0.2):
            pass
        return
    connected = False
    since = time.monotonic()
    while not running.wait(0.2):
        now = running.connected
        if now != connected:
            plugin.logger.warning("Connected" if now else "Disconnected: reconnecting")
            connected = now
            since = time.monotonic()
        elif not now and time.monotonic() - since >= 30:
            plugin.logger.warning("Not connected to %s: still trying", hub_url)
            since = time.monotonic()


def _serve(plugin: BasePlugin, running: Any, hub_url: str) -> None:
    """Blocks until the plugin stops; Ctrl-C and SIGTERM drain it and exit with status 0
    (a second Ctrl-C while draining exits at once with status 1)."""
    previous = None
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        def on_sigterm(signum: int, frame: Any) -> None:
            raise _Stop()
        try:
            previous = signal.signal(signal.SIGTERM, on_sigterm)
        except (ValueError, OSError):
            previous = None
    stopped_by_signal = False
    try:
        try:
            _watch(plugin, running, hub_url)
        except (KeyboardInterrupt, _Stop):
            stopped_by_signal = True
            plugin.logger.warning("Plugin stopping: finishing the running callbacks (Ctrl-C again to quit now)")
            running.shutdown()
            try:
                while not running.wait(0.2):
                    pass
            except (KeyboardInterrupt, _Stop):
                plugin.logger.warning("Plugin stopped before its running callbacks finished")
                raise SystemExit(1)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    running.join()
    plugin.logger.warning("Plugin stopped")
    if stopped_by_signal:
        raise SystemExit(0)


def run(plugin: BasePlugin, host: str = DEFAULT_HUB_URL) -> None:
    """Runs ``plugin`` until it is stopped: connected to the Hub at ``host`` over Socket.IO,
    or, with ``CONNECTOR=REST``, serving ``POST /plugin`` and ``GET /heartbeat`` on
    ``PORT`` (8080). ``CONNECTOR``, ``PORT`` and ``LOGLEVEL`` are read now.

    Ctrl-C / SIGTERM: no new work is taken, running callbacks finish, the process exits
    with status 0. A connection lost is retried with backoff.
    """
    _serve(plugin, _start(plugin, host), host)


def connect_rest(plugin: BasePlugin) -> None:
    """Serves ``plugin`` over HTTP (``POST /plugin``, ``GET /heartbeat``, header ``Secret``)
    on ``PORT``; requires ``CONNECTOR=REST``, as in 1.4.10."""
    if os.environ.get("CONNECTOR", "WS").upper() != "REST":
        raise Exception("Expecting CONNECTOR Environment variable")
    host = getattr(plugin, "host", None) or DEFAULT_HUB_URL
    _serve(plugin, _start(plugin, host, connector="REST"), host)
