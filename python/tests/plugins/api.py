"""A recording Ango REST API for plugin flows, on 127.0.0.1.

Answers what the plugin runtimes call: ``GET /v2/export`` (a ZIP with an NDJSON member,
served from ``/files/``), ``/v2/getUploadUrl``, ``/v2/getSignedUrl``, ``PUT /upload/...``,
``GET /v2/task/{id}``, ``POST /v2/annotate/{id}``, ``POST /v2/pluginLog`` and
``/v2/pluginResponse``. Every request is recorded (method, path, query, api key, body).
"""
import io
import json
import re
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

EXPORT_ROWS = [
    {"asset": "a1", "externalId": "one.png", "task": {"taskId": "t1", "tools": [], "classifications": []}},
    {"asset": "a2", "externalId": "two.png", "task": {"taskId": "t2", "tools": [{"schemaId": "s1"}]}},
    {"asset": "a3", "externalId": "three.png", "task": {"taskId": "t3", "tools": []}},
]
EXISTING_ANSWER = {
    "tools": [{"objectId": "old-object", "schemaId": "tool-1"}],
    "classifications": [{"schemaId": "cls-1", "answer": "old"}, {"schemaId": "cls-2", "answer": "kept"}],
    "relations": [{"objectId": "rel-1", "schemaId": "relation-1"}],
}


def _zip(name: str, content: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buf.getvalue()


class Request:
    def __init__(self, method: str, target: str, headers: Dict[str, str], body: bytes) -> None:
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query = parse_qsl(parts.query, keep_blank_values=True)
        self.headers = headers
        self.apikey = headers.get("apikey")
        self.body = body
        self.at = time.monotonic()

    def json(self) -> Any:
        return json.loads(self.body.decode()) if self.body else None

    def view(self) -> Dict[str, Any]:
        """What the differential suite compares."""
        try:
            body: Any = self.json()
        except ValueError:
            body = self.body.decode("latin-1")
        return {"method": self.method, "path": self.path, "query": sorted(self.query),
                "apikey": self.apikey, "body": body}

    def __repr__(self) -> str:
        return f"{self.method} {self.path} {self.query}"


class Api:
    def __init__(self) -> None:
        self.requests: List[Request] = []
        self._cond = threading.Condition()
        # Optional override: (request) -> (status, body bytes) or None for the default.
        self.hook: Optional[Callable[[Request], Optional[Tuple[int, bytes]]]] = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = Request(self.command, self.path, headers, body)
                with api._cond:
                    api.requests.append(request)
                    api._cond.notify_all()
                status, payload, ctype = api.respond(request, self.headers.get("host", ""))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="api", daemon=True)

    def __enter__(self) -> "Api":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._cond:
            self.requests = []

    def snapshot(self) -> List[Request]:
        with self._cond:
            return list(self.requests)

    def wait_for(self, predicate: Callable[[List[Request]], bool], timeout: float = 15.0,
                 what: str = "requests") -> List[Request]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.requests):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; requests: {self.requests!r}")
                self._cond.wait(min(left, 0.2))
            return list(self.requests)

    def respond(self, r: Request, host: str) -> Tuple[int, bytes, str]:
        if self.hook is not None:
            hooked = self.hook(r)
            if hooked is not None:
                return hooked[0], hooked[1], "application/json"

        def ok(data: Any) -> Tuple[int, bytes, str]:
            return 200, json.dumps({"status": "success", "data": data}).encode(), "application/json"

        query = dict(r.query)
        if r.path.startswith("/files/"):
            lines = "".join(json.dumps(row) + "\n" for row in EXPORT_ROWS)
            return 200, _zip("export.ndjson", lines.encode()), "application/zip"
        if r.path.startswith("/upload/"):
            return 200, b"", "text/plain"
        if r.method == "GET":
            if r.path == "/v2/export":
                return ok({"exportPath": f"http://{host}/files/export.zip"})
            if r.path == "/v2/getUploadUrl":
                return ok({"uploadUrl": f"http://{host}/upload/{query.get('name', 'x')}?signature=abc"})
            if r.path == "/v2/getSignedUrl":
                return ok({"signedUrl": f"http://{host}/files/signed/{query.get('type', '')}"})
            m = re.fullmatch(r"/v2/task/([^/]+)", r.path)
            if m:
                return ok({"task": {"_id": m.group(1), "project": "proj-1", "answer": EXISTING_ANSWER}})
        if r.method == "POST" and r.path.startswith("/v2/annotate/"):
            return ok({"task": {"_id": r.path.rsplit("/", 1)[1]}})
        return ok({})
