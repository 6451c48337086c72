"""Listing iterators decode each item straight from the page's JSON text (issue 11):
the items are exactly what ``json.loads`` makes of the server's text, in order, across
capped pages, and a bad page is still an error at its position."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator, List
from urllib.parse import parse_qs, urlsplit

import pytest

from imerit_ango.exceptions import AngoDecodeError, AngoHTTPError
from imerit_ango.sdk import SDK

CAP = 10


def item_text(i: int) -> str:
    # What a decode in Rust then a conversion could get wrong: big and negative-zero
    # numbers, float spellings, escapes, astral characters, duplicated keys, key order.
    return ('{"_id": "%024x", "n": %d, "big": %d, "neg": -0.0, "f": 1.50, "e": 1E+2, '
            '"s": "caf\\u00e9 \\ud83d\\ude00 \\"q\\" \\/", "dup": 1, "dup": [%d], '
            '"z": {}, "a": [null, true, false]}') % (i, i, 2 ** 70 + i, i)


def page_body(total: int, page: int, limit: int) -> bytes:
    limit = min(limit, CAP)
    items = [item_text(i) for i in range((page - 1) * limit, min(page * limit, total))]
    return ('{"status": "success", "data": {"tasks": [%s], "total": %d}}'
            % (", ".join(items), total)).encode()


class Pages:
    def __init__(self, total: int, fail_page: int = 0, fail_status: int = 0) -> None:
        self.total, self.fail_page, self.fail_status = total, fail_page, fail_status

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        query = parse_qs(urlsplit(h.path).query)
        page, limit = int(query["page"][0]), int(query["limit"][0])
        status, body = 200, page_body(self.total, page, limit)
        if page == self.fail_page:
            status, body = self.fail_status, b"<html>not json" if self.fail_status == 200 else b"{}"
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


class Server:
    def __init__(self, handle: Callable[[BaseHTTPRequestHandler], None]) -> None:
        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def expected(total: int) -> List[Any]:
    return [json.loads(item_text(i)) for i in range(total)]


@pytest.mark.parametrize("page_size", [10, 1000])
def test_listing_items_are_exactly_what_json_loads_makes_of_them(page_size: int) -> None:
    with Server(Pages(35)) as server:
        sdk = SDK("iter-key", host=server.url, max_retries=0)
        got = list(sdk.iter_tasks("p1", page_size=page_size))
    want = expected(35)
    assert [t["n"] for t in got] == list(range(35))
    # json.dumps tells 1 from 1.0 and -0.0 from 0, and shows the key order.
    assert json.dumps(got) == json.dumps(want)
    assert type(got[0]["f"]) is float and type(got[0]["big"]) is int
    assert got[0]["dup"] == [0]


def test_items_are_decoded_in_other_threads_too() -> None:
    with Server(Pages(25)) as server:
        sdk = SDK("iter-key", host=server.url, max_retries=0)
        out: List[Any] = []
        worker = threading.Thread(target=lambda: out.extend(sdk.iter_tasks("p1")))
        worker.start()
        worker.join(60)
    assert json.dumps(out) == json.dumps(expected(25))


@pytest.mark.parametrize("status,error", [(200, AngoDecodeError), (500, AngoHTTPError)])
def test_a_bad_page_is_an_error_after_the_items_before_it(status: int, error: type) -> None:
    with Server(Pages(50, fail_page=3, fail_status=status)) as server:
        sdk = SDK("iter-key", host=server.url, max_retries=0)
        rows: Iterator[Any] = iter(sdk.iter_tasks("p1"))
        got = []
        with pytest.raises(error):
            for row in rows:
                got.append(row)
    assert json.dumps(got) == json.dumps(expected(20))
