"""The shared wire fixture (tests/fixtures/wire/make_request_endpoints.json): what the
core sends for a make_request endpoint, checked through the Python binding (the Rust
and Node suites read the same cases), and the fixture itself against the official
SDK's `requests` when the differential suite's venv is there."""
import json
import os
import pathlib
import subprocess
from typing import Iterator, List, Tuple

import pytest

from imerit_ango.sdk import SDK
from test_hostile import PAGE, Server, reply

FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "wire" / "make_request_endpoints.json"
CASES: List[Tuple[str, str]] = [(given, wire) for given, wire in json.loads(FIXTURE.read_text())["cases"]]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with Server(reply(200, PAGE)) as running:
        yield running


def test_the_fixture_has_every_case() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("given, wire", CASES)
def test_make_request_sends_the_fixture_target(server: Server, given: str, wire: str) -> None:
    server.requests.clear()
    SDK("k", host=server.url, max_retries=0).make_request("GET", given)
    (_, path, _), = server.requests
    assert path == wire


def test_the_fixture_is_what_requests_sends() -> None:
    official = os.environ.get("ANGO_OFFICIAL_PYTHON")
    if not official:
        pytest.skip("no official SDK venv (python/run-tests.sh sets ANGO_OFFICIAL_PYTHON)")
    script = (
        "import json, sys, requests\n"
        "cases = json.load(open(sys.argv[1]))['cases']\n"
        "print(json.dumps([requests.Request('GET', 'http://127.0.0.1:1' + g).prepare().path_url"
        " for g, _ in cases]))\n"
    )
    out = subprocess.run([official, "-c", script, str(FIXTURE)], check=True, capture_output=True, text=True)
    assert json.loads(out.stdout) == [wire for _, wire in CASES]
