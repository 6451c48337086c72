"""A recording Ango plugin hub: a real Socket.IO server (python-socketio under uvicorn,
websocket via wsproto) on 127.0.0.1, namespace ``/plugin``, with a short ping interval.

It records every event a plugin sends (``heartbeat``, ``response``, ``log``) and every
connect/disconnect, and lets the test send ``plugin`` events to connected plugins.
Runs on its own asyncio loop in a daemon thread; every method is thread-safe.
"""
import asyncio
import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import socketio
import uvicorn

NAMESPACE = "/plugin"


class Event:
    def __init__(self, sid: str, name: str, data: Any) -> None:
        self.sid = sid
        self.name = name
        self.data = data
        self.at = time.monotonic()

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {self.data!r})"


class SioHub:
    def __init__(self, ping_interval: float = 1.0, ping_timeout: float = 3.0, port: int = 0) -> None:
        self.events: List[Event] = []
        self.connected: List[str] = []
        self.query: List[str] = []
        self._cond = threading.Condition()
        sio = socketio.AsyncServer(async_mode="asgi", ping_interval=ping_interval, ping_timeout=ping_timeout,
                                   logger=False, engineio_logger=False, max_http_buffer_size=50_000_000)
        self.sio = sio

        @sio.on("connect", namespace=NAMESPACE)
        async def on_connect(sid: str, environ: Dict[str, Any], auth: Any = None) -> None:
            self._record(Event(sid, "connect", auth))
            with self._cond:
                self.connected.append(sid)
                self.query.append(environ.get("QUERY_STRING", ""))
                self._cond.notify_all()

        @sio.on("disconnect", namespace=NAMESPACE)
        async def on_disconnect(sid: str, reason: Any = None) -> None:
            with self._cond:
                if sid in self.connected:
                    self.connected.remove(sid)
            self._record(Event(sid, "disconnect", None))

        for name in ("heartbeat", "response", "log"):
            def make(event_name: str) -> Callable[..., Any]:
                async def handler(sid: str, data: Any = None) -> None:
                    self._record(Event(sid, event_name, data))
                return handler
            sio.on(name, namespace=NAMESPACE)(make(name))

        @sio.on("*", namespace=NAMESPACE)
        async def any_event(event: str, sid: str, data: Any = None) -> None:
            self._record(Event(sid, event, data))

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(socketio.ASGIApp(sio), log_level="error", lifespan="off", ws="wsproto",
                                access_log=False)
        self._server = uvicorn.Server(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="sio-hub", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._server.serve(sockets=[self._sock]))
        finally:
            # Engine.IO's ping tasks outlive the server: cancel them before closing.
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    def __enter__(self) -> "SioHub":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Socket.IO hub did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self._call(self.sio.shutdown(), timeout=5)
        except Exception:  # noqa: BLE001 - best effort, the server stops anyway
            pass
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()

    # ------------------------------------------------------------------ recording
    def _record(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def reset(self) -> None:
        with self._cond:
            self.events = []

    def snapshot(self, name: Optional[str] = None) -> List[Event]:
        with self._cond:
            return [e for e in self.events if name is None or e.name == name]

    def wait_for(self, predicate: Callable[[List[Event]], bool], timeout: float = 15.0,
                 what: str = "condition") -> List[Event]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.events):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; events: {self.events!r}")
                self._cond.wait(min(left, 0.2))
            return list(self.events)

    def wait_connected(self, timeout: float = 20.0) -> str:
        """The sid of a connected plugin that has sent its first heartbeat."""
        def ready(events: List[Event]) -> bool:
            return any(e.name == "heartbeat" and e.sid in self.connected for e in events)
        self.wait_for(ready, timeout, "a plugin to connect and send a heartbeat")
        with self._cond:
            return next(e.sid for e in reversed(self.events) if e.name == "heartbeat" and e.sid in self.connected)

    def responses(self, session: str) -> List[Any]:
        return [e.data for e in self.snapshot("response") if isinstance(e.data, dict) and e.data.get("session") == session]

    def wait_response(self, session: str, timeout: float = 20.0) -> Any:
        self.wait_for(lambda ev: any(e.name == "response" and isinstance(e.data, dict)
                                     and e.data.get("session") == session for e in ev),
                      timeout, f"a response for session {session}")
        return self.responses(session)[0]

    def logs(self, session: str) -> List[Dict[str, Any]]:
        return [e.data for e in self.snapshot("log") if isinstance(e.data, dict) and e.data.get("session") == session]

    # ------------------------------------------------------------------ sending
    def _call(self, coro: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def send_plugin(self, data: Dict[str, Any], sid: Optional[str] = None, ack: bool = False) -> None:
        """Sends a ``plugin`` event; with ``ack`` it asks for an acknowledgement, recorded
        as an ``ack`` event ``{"session", "args"}`` when it comes."""
        callback = None
        if ack:
            session = data.get("session")

            def callback(*args: Any) -> None:
                self._record(Event(sid or "", "ack", {"session": session, "args": list(args)}))
        self._call(self.sio.emit("plugin", data, to=sid, namespace=NAMESPACE, callback=callback))

    def send_raw(self, sid: str, text: str) -> None:
        """Sends one raw Engine.IO text packet (for malformed-frame tests)."""
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, NAMESPACE)
        self._call(self.sio.eio.send_packet(eio_sid, _RawPacket(text)))

    def kick(self, sid: str) -> None:
        self._call(self.sio.disconnect(sid, namespace=NAMESPACE))


class _RawPacket:
    """Quacks like an engineio packet whose encoding is fixed text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text
        self.binary = False
        self.packet_type = 4  # only used to name the packet in engineio logs

    def encode(self, b64: bool = False) -> str:
        return self.text
