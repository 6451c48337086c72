"""The differential suite: the same calls through the official `imerit-ango==1.4.10`
(in its own virtualenv, named by ``ANGO_OFFICIAL_PYTHON``) and through this package,
against one recording server; the requests must be the same.

Compared per request: method, path, decoded query pairs (order-insensitive), the
`apikey` header, the content type, and the body (JSON parsed; form and multipart
bodies by their fields). Byte-for-byte body equality is reported in the summary.
Outcomes must match too: the returned value, or the error text.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Dict, List, Tuple
from urllib.parse import parse_qsl

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cases import CASES, DIFFERENT_OUTCOME, SKIPPED_REQUESTS  # noqa: E402
from recorder import Recorder  # noqa: E402

OFFICIAL_PYTHON = os.environ.get("ANGO_OFFICIAL_PYTHON")
HEX32 = re.compile(r"[0-9a-f]{32}")
BYTE_EQUAL: Dict[str, bool] = {}


def _run(python: str, recorder: Recorder, workdir: str) -> Tuple[Dict[str, Any], Dict[str, List[Any]]]:
    recorder.reset()
    out = os.path.join(workdir, "outcomes.json")
    env = dict(os.environ)
    env.pop("ANGO_HOST", None)
    env.update(ANGO_MAX_RETRIES="0", ANGO_PROGRESS="0")
    if python != sys.executable:
        # The official package must not see ours (both are `imerit_ango`).
        env.pop("PYTHONPATH", None)
    proc = subprocess.run([python, os.path.join(HERE, "runner.py"), recorder.url, out, workdir],
                          capture_output=True, text=True, timeout=600, env=env, cwd=workdir)
    if proc.returncode != 0:
        raise RuntimeError(f"runner failed under {python}:\n{proc.stdout}\n{proc.stderr}")
    with open(out) as f:
        outcomes = json.load(f)
    return outcomes, dict(recorder.cases)


@pytest.fixture(scope="module")
def runs():
    if not OFFICIAL_PYTHON:
        pytest.skip("ANGO_OFFICIAL_PYTHON is not set: point it at a Python with imerit-ango==1.4.10 "
                    "installed (python/run-tests.sh does this)")
    with Recorder() as recorder, tempfile.TemporaryDirectory() as workdir:
        official = _run(OFFICIAL_PYTHON, recorder, workdir)
        ours = _run(sys.executable, recorder, workdir)
    yield official, ours
    same = sum(BYTE_EQUAL.values())
    print(f"\n[differential] request bodies byte-identical in {same}/{len(BYTE_EQUAL)} compared requests")


def _normalise(text: str) -> str:
    return HEX32.sub("<hex32>", text)


def _body_view(content_type: str, body: bytes) -> Any:
    ctype = (content_type or "").split(";")[0].strip().lower()
    if not body:
        return None
    if ctype == "application/json":
        try:
            return ("json", json.loads(_normalise(body.decode("utf-8"))))
        except ValueError:
            return ("raw", _normalise(body.decode("latin-1")))
    if ctype == "application/x-www-form-urlencoded":
        return ("form", sorted(parse_qsl(body.decode(), keep_blank_values=True)))
    if ctype == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        parts = []
        for part in message.iter_parts():
            parts.append((part.get_param("name", header="content-disposition"),
                          part.get_filename(), part.get_payload(decode=True)))
        return ("multipart", sorted(parts, key=lambda p: (p[0] or "", p[1] or "")))
    return ("raw", _normalise(body.decode("latin-1")))


def _query_value(name: str, value: str) -> str:
    # The official SDK builds `fields` from a Python set: its order changes from run to
    # run (hash randomisation), so compare the field names, not their order.
    if name == "fields":
        return ",".join(sorted(value.split(",")))
    return _normalise(value)


def _key(view: Dict[str, Any]) -> str:
    return json.dumps(view, sort_keys=True, default=repr)


def _view(record: Any) -> Dict[str, Any]:
    ctype = record.content_type or ""
    return {
        "method": record.method,
        "path": _normalise(record.path),
        "query": sorted((k, _query_value(k, v)) for k, v in record.query),
        "apikey": record.apikey,
        "content_type": ctype.split(";")[0].strip().lower() or None,
        "body": _body_view(ctype, record.body),
    }


@pytest.mark.parametrize("name", list(CASES))
def test_same_requests_and_outcome(runs, name: str) -> None:
    (official_outcomes, official_requests), (our_outcomes, our_requests) = runs
    theirs = [_view(r) for r in official_requests.get(name, [])]
    mine = [_view(r) for r in our_requests.get(name, [])]
    if name in SKIPPED_REQUESTS:
        method, path = SKIPPED_REQUESTS[name]
        skipped = next((v for v in theirs if (v["method"], v["path"]) == (method, path)), None)
        assert skipped is not None, f"{name}: the official SDK no longer sends {method} {path}"
        theirs.remove(skipped)
    # API calls must match as a multiset (parallel uploads may reorder them); transfers to
    # signed storage URLs only by target, because the official SDK downloads exports twice.
    api = lambda views: sorted((v for v in views if v["path"].startswith("/v2")), key=_key)  # noqa: E731
    storage = lambda views: sorted({(v["method"], v["path"]) for v in views if not v["path"].startswith("/v2")})  # noqa: E731
    assert api(mine) == api(theirs), f"API requests differ for {name}"
    assert storage(mine) == storage(theirs), f"storage transfers differ for {name}"
    for a, b in zip(official_requests.get(name, []), our_requests.get(name, [])):
        if (a.body or b.body) and a.path.startswith("/v2"):
            BYTE_EQUAL[f"{name}:{a.method} {a.path}"] = _normalise(a.body.decode("latin-1")) == \
                _normalise(b.body.decode("latin-1"))
    official, ours = official_outcomes[name], our_outcomes[name]
    if name in DIFFERENT_OUTCOME:
        assert not ours["ok"], f"{name}: expected an error ({DIFFERENT_OUTCOME[name]})"
        return
    assert ours["ok"] == official["ok"], f"{name}: official {official}, ours {ours}"
    if official["ok"]:
        assert json.loads(_normalise(json.dumps(ours["result"]))) == \
            json.loads(_normalise(json.dumps(official["result"])))
    elif official["value_error"]:
        # Refused before any request: the official raises ValueError; so do we (the
        # wording is the core's own).
        assert ours["value_error"], f"{name}: expected a ValueError, got {ours}"
    else:
        assert ours["message"] == official["message"]
