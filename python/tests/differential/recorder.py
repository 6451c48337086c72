"""A loopback HTTP server that records every request and answers with canned JSON
good enough for both the official SDK and ours (used by the differential tests).

Requests are grouped by case: the runner announces each case with
``GET /__case/<name>`` before running it.
"""
import io
import json
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, unquote, urlsplit

PROJECT_ID = "proj-0001"
PCT_PROJECT_ID = "proj-pct"
MISSING_PROJECT_ID = "proj-missing"
TASK_ID = "task-0001"
ERROR_TASK_ID = "task-error"

BATCHES = [{"_id": "batch-id-1", "name": "Batch 1"}, {"_id": "batch-id-2", "name": "Batch 2"}]
EXPORT_RECORDS = [{"asset": "a1", "externalId": "one.png", "task": {"answer": {"tools": []}}},
                  {"asset": "a2", "externalId": "two.png", "task": {"answer": {"tools": [{"schemaId": "s"}]}}}]
ISSUE_RECORDS = [{"_id": "issue-1", "content": "look"}]


def _zip(name: str, content: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buf.getvalue()


def _project(project_id: str) -> Dict[str, Any]:
    return {
        "_id": project_id,
        "name": "Demo project",
        "description": "canned",
        "type": "pct" if project_id == PCT_PROJECT_ID else "ango",
        "batches": BATCHES,
        "categorySchema": {"tools": [], "classifications": [], "relations": []},
        "assetBuilderTemplates": [{"_id": "template-1", "name": "T", "template": "<p>{{text}}</p>",
                                   "dataConfig": {"text": {"type": "text", "includeInExport": True}},
                                   "selectedExternalId": "id", "batchColumn": "", "preLabelConfig": {}}],
    }


class Record:
    def __init__(self, method: str, target: str, headers: Dict[str, str], body: bytes) -> None:
        parts = urlsplit(target)
        self.method = method
        self.target = target
        self.path = parts.path
        self.query = parse_qsl(parts.query, keep_blank_values=True)
        self.apikey = headers.get("apikey")
        self.content_type = headers.get("content-type")
        self.body = body

    def to_dict(self) -> Dict[str, Any]:
        return {"method": self.method, "path": self.path, "query": self.query, "apikey": self.apikey,
                "content_type": self.content_type, "body": self.body.decode("latin-1")}


class Recorder:
    """The server and what it saw, per case."""

    def __init__(self) -> None:
        self.cases: Dict[str, List[Record]] = {}
        self.current = "<none>"
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("content-length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                body = self._body()
                if self.path.startswith("/__case/"):
                    with recorder.lock:
                        recorder.current = unquote(self.path[len("/__case/"):])
                        recorder.cases.setdefault(recorder.current, [])
                    self._send(200, b"{}")
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                record = Record(self.command, self.path, headers, body)
                with recorder.lock:
                    recorder.cases.setdefault(recorder.current, []).append(record)
                status, payload, ctype = recorder.respond(record, self.headers.get("host", ""))
                self._send(status, payload, ctype)

            def _send(self, status: int, payload: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Recorder":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.cases = {}
            self.current = "<none>"

    # ---------------------------------------------------------------- canned answers
    def respond(self, r: Record, host: str) -> Tuple[int, bytes, str]:
        def ok(data: Any, status: int = 200) -> Tuple[int, bytes, str]:
            return status, json.dumps({"status": "success", "data": data}).encode(), "application/json"

        def fail(status: int, message: str) -> Tuple[int, bytes, str]:
            return status, json.dumps({"status": "fail", "message": message}).encode(), "application/json"

        path = re.sub("/+", "/", r.path)
        query = dict(r.query)
        if path.startswith("/files/"):
            fmt = query.get("fmt", "json")
            if fmt == "ndjson":
                lines = "\n".join(json.dumps(x) for x in EXPORT_RECORDS) + "\n"
                return 200, _zip("export.ndjson", lines.encode()), "application/zip"
            if fmt == "issue":
                return 200, _zip("export.json", json.dumps(ISSUE_RECORDS).encode()), "application/zip"
            return 200, _zip("export.json", json.dumps(EXPORT_RECORDS).encode()), "application/zip"
        if path.startswith("/upload/"):
            return 200, b"", "text/plain"
        if MISSING_PROJECT_ID in path or query.get("project") == MISSING_PROJECT_ID:
            return fail(400, f"Invalid project: {MISSING_PROJECT_ID}.")
        if ERROR_TASK_ID in path:
            return fail(404, "Task not found")
        if r.method == "GET":
            m = re.fullmatch(r"/v2/project/([^/]+)", path)
            if m:
                return ok({"project": _project(m.group(1))})
            m = re.fullmatch(r"/v2/task/([^/]+)", path)
            if m:
                return ok({"task": {"_id": m.group(1), "project": PROJECT_ID, "answer": {
                    "tools": [{"objectId": "old-object", "schemaId": "tool-1"}],
                    "classifications": [{"schemaId": "cls-1", "answer": "old"},
                                        {"schemaId": "cls-2", "answer": "kept"}],
                    "relations": [{"objectId": "rel-1", "schemaId": "relation-1"}]}}})
            if path == "/v2/storages":
                return ok({"storages": [{"_id": "storage-1", "name": "S1"}, {"_id": "storage-2", "name": "S2"}]})
            if path == "/v2/llms":
                return ok({"llms": [{"_id": "llm-1", "name": "L1"}, {"_id": "llm-2", "name": "L2"}]})
            if path == "/v2/export":
                fmt = "issue" if query.get("type") == "issue" else query.get("format", "json")
                return ok({"exportPath": f"http://{host}/files/export.zip?fmt={fmt}"})
            if path == "/v2/getUploadUrl":
                return ok({"uploadUrl": f"http://{host}/upload/{query.get('name', 'x')}?signature=abc"})
            if path == "/v2/getSignedUrl":
                return ok({"signedUrl": f"http://{host}/files/signed?fmt=json"})
            if path == "/v2/listProjects":
                return ok({"projects": [{"_id": PROJECT_ID, "name": "Demo project"}], "total": 1})
            if re.fullmatch(r"/v2/project/[^/]+/tasks", path):
                return ok({"tasks": [{"_id": TASK_ID}], "total": 1})
            if re.fullmatch(r"/v2/project/[^/]+/assets", path):
                return ok({"assets": [{"_id": "asset-1", "externalId": "one.png"}], "total": 1})
        if path.endswith("/chat"):
            return ok({"assets": {"assetsCreated": 2}})
        return ok({"echo": path})
