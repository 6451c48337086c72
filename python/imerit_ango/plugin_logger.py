"""``PluginLogger``: the per-request logger handed to plugin callbacks as ``data["logger"]``.

A standard :class:`logging.Logger` whose records also go to Ango Hub, into the plugin
session's log (the "Plugin Sessions" dialog): over the plugin's Socket.IO connection, or
with ``POST /v2/pluginLog`` under the REST connector. Sending is done by the Rust runtime,
which applies the ``LOGLEVEL`` threshold; the logger also prints its records locally
(stderr) at that level through a handler of its own. Nothing here touches the root
logger or any other logger of the host application.

Each record sent carries the caller's extra keyword arguments, then the items of
``extra=``, then the fixed fields ``level``, ``organization``, ``pluginId``, ``runBy``,
``session`` and ``msg`` (which win over same-named user keys), as in ``imerit-ango`` 1.4.10.
"""
import logging
import sys
from typing import Any, Dict, Mapping, Tuple

__all__ = ["PluginLogger"]

_LOGGING_KWARGS = ("exc_info", "stack_info", "stacklevel", "extra")

_ECHO_FORMAT = "%(levelname)s:plugin:%(message)s"


class _EchoHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the *current* ``sys.stderr`` (so redirected/captured stderr works)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(_ECHO_FORMAT))

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


_ECHO = _EchoHandler()


def _format(msg: Any, args: Tuple[Any, ...]) -> str:
    # The official rule: %-format with the args, and if that fails, join them with spaces.
    try:
        return msg % args if args else str(msg)
    except (TypeError, ValueError):
        return " ".join([str(msg), *(str(arg) for arg in args)])


class PluginLogger(logging.Logger):
    """A :class:`logging.Logger` bound to one plugin run (plugin id, organization, user,
    session); see the module documentation.

    The runtime creates one per request; constructed by hand (without a running plugin)
    it only logs locally.
    """

    def __init__(self, name: str, plugin_id: str, org_id: str, apikey: str, run_by: str, session: str,
                 plugin: Any, connector: str = "WS", level: Any = logging.NOTSET) -> None:
        super().__init__(name, level)
        self.plugin_id = plugin_id
        self.org_id = org_id
        self.plugin = plugin
        self.run_by = run_by
        self.session = session
        self.connector = connector
        self.apikey = apikey
        # Not part of the logger hierarchy: the records go to our own echo handler only.
        self.propagate = False
        self.addHandler(_ECHO)
        # Set by the runtime: the Rust logger that sends the records to the Hub.
        self._sink: Any = None

    def __repr__(self) -> str:  # never shows the api key
        return (f"<PluginLogger plugin={self.plugin_id!r} session={self.session!r} "
                f"({logging.getLevelName(self.getEffectiveLevel())})>")

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._send(logging.WARNING, msg, args, kwargs)

    warn = warning

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._send(logging.ERROR, msg, args, kwargs)

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._send(logging.DEBUG, msg, args, kwargs)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._send(logging.INFO, msg, args, kwargs)

    def critical(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._send(logging.CRITICAL, msg, args, kwargs)

    fatal = critical

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        if not isinstance(level, int):
            raise TypeError("level must be an integer")
        self._send(level, msg, args, kwargs)

    def _send(self, level: int, msg: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
        logging_kwargs = {key: kwargs[key] for key in _LOGGING_KWARGS if key in kwargs}
        fields: Dict[str, Any] = {key: value for key, value in kwargs.items() if key not in logging_kwargs}
        extra = logging_kwargs.get("extra")
        if isinstance(extra, Mapping):
            fields.update(extra)
        message = _format(msg, args)
        sink = self._sink
        if sink is not None:
            # The runtime adds the fixed fields, applies LOGLEVEL and sends the record.
            sink.log(level, message, fields)
        if self.isEnabledFor(level):
            # `extra` may not overwrite LogRecord attributes: keep only the safe keys.
            if isinstance(extra, Mapping):
                logging_kwargs["extra"] = {k: v for k, v in extra.items() if k not in _RESERVED}
            super()._log(level, "%s", (message,), **logging_kwargs)


_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
