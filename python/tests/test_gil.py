"""Blocking calls release the GIL: requests from many threads are in flight together.

Checked without timing: a Python server in this same process waits (on a barrier) until
several requests are being served at once. If the calls held the GIL, the server thread
could not run while a call waits, and the barrier would never fill.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List

from imerit_ango.sdk import SDK

THREADS = 8


def test_threads_overlap_in_one_sdk() -> None:
    barrier = threading.Barrier(THREADS)
    lock = threading.Lock()
    in_flight = [0]
    peak = [0]
    met: List[bool] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            try:
                barrier.wait(timeout=10)
                met.append(True)
            except threading.BrokenBarrierError:
                met.append(False)
            body = json.dumps({"status": "success", "data": {"project": {"_id": "p"}}}).encode()
            with lock:
                in_flight[0] -= 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sdk = SDK("k", host=f"http://127.0.0.1:{server.server_address[1]}", max_retries=0)
    results: List[object] = []
    workers = [threading.Thread(target=lambda: results.append(sdk.get_project("p"))) for _ in range(THREADS)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(30)
    finally:
        server.shutdown()
    assert len(results) == THREADS
    assert peak[0] == THREADS, f"only {peak[0]} requests were ever in flight together"
    assert all(met)
