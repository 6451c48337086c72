"""The native JSON decoder (export rows, JSON exports) must give exactly what
``json.loads`` gives: the same objects, and for what it does not handle itself, the
same exception (it falls back to ``json.loads``)."""
import json
import random

import pytest

from imerit_ango import _native


def outcome(fn, data):
    try:
        value = fn(data)
    except Exception as e:  # noqa: BLE001 - the exception itself is compared
        return ("error", type(e).__name__, str(e))
    # repr tells 1 from 1.0 from True, keeps key order and shows nan/inf.
    return ("ok", repr(value))


def same_as_json_loads(data: bytes):
    assert outcome(_native._loads, data) == outcome(json.loads, data), data[:200]


CASES = [
    b'{"a": 1, "b": [1, 2.5, -0.0, 1e5, 1E-5, -3], "c": {"d": null, "e": true, "f": false}}',
    b'  \t\r\n{"ws" :  [ ] , "o" : { } }  \n',
    b'[]', b'{}', b'""', b'0', b'-0', b'"x"', b'null', b'true', b'false',
    b'12345678901234567', b'123456789012345678', b'1234567890123456789', b'-9223372036854775808',
    b'9223372036854775808', b'123456789012345678901234567890', b'-123456789012345678901234567890',
    b'1.5e400', b'-1.5e400', b'1e-400', b'0.1', b'2.2250738585072014e-308', b'1.7976931348623157e308',
    b'[NaN, Infinity, -Infinity]',
    b'{"k": 1, "k": 2, "j": 3}',
    '{"caf\u00e9": "na\u00efve \u65e5\u672c \U0001f600"}'.encode(),
    b'"\\u00e9\\u65e5\\ud83d\\ude00\\n\\t\\r\\b\\f\\/\\\\\\""',
    b'{"\\u006bey": "escaped key", "key": "plain key"}',
    b'"\\ud800"', b'"\\udc00"', b'"\\ud800\\u0041"', b'"\\ud800x"', b'"\\ud83d\\ude00\\ud800"',
    b'"\\uD83D\\uDE00"', b'"\\u00E9"',
    # Malformed: the exception must be json.loads's own.
    b'', b' ', b'{', b'[1,]', b'{"a":1,}', b'{"a" 1}', b'[1 2]', b'01', b'1.', b'.5', b'-', b'1e', b'+1',
    b'"abc', b'"a\x01b"', b'"\\x"', b'"\\u12"', b'"\\u12G4"', b'nul', b'tru', b'NaNx', b'[1] 2', b'{"a":1}}',
    b'\xef\xbb\xbf{"bom": 1}', b'"\xff"', b'"\xed\xa0\x80"', b'{"a": "\xc3"}', b"{'a': 1}", b'[-]',
    b'"tab\there"', b'{1: 2}', b'[Infinity, -Inf]', b'"\\u0000"',
    '"\u2028\u2029"'.encode(), b'\x00', b'"a"\x00',
]


@pytest.mark.parametrize("data", CASES)
def test_decoder_matches_json_loads(data):
    same_as_json_loads(data)


def test_deep_nesting_matches_json_loads():
    for depth in (100, 511, 512, 513, 600, 5000):
        same_as_json_loads(b"[" * depth + b"]" * depth)
        same_as_json_loads(b'{"a":' * depth + b"1" + b"}" * depth)


def random_value(rng, depth=0):
    kind = rng.randrange(9 if depth < 5 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 7, 2**31, -(2**63), 2**64, 10**30, rng.randrange(-10**6, 10**6)])
    if kind == 3:
        return rng.choice([0.0, -0.0, 1.5, 1e-300, 1e300, rng.uniform(-1e6, 1e6), float("nan"), float("inf")])
    if kind in (4, 5):
        alphabet = "ab\"\\/\n\t\x01 é日\U0001f600\u2028"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
    if kind in (6, 7):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {"".join(rng.choice("kéy\"\\") for _ in range(rng.randrange(0, 6))): random_value(rng, depth + 1)
            for _ in range(rng.randrange(0, 5))}


def test_random_documents_and_mutations_match_json_loads():
    rng = random.Random(20261130)
    for _ in range(1500):
        value = random_value(rng)
        text = json.dumps(value, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1]))
        data = text.encode("utf-8", "surrogatepass")
        same_as_json_loads(data)
        mutated = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            if mutated:
                i = rng.randrange(len(mutated))
                op = rng.randrange(3)
                if op == 0:
                    mutated[i] = rng.randrange(256)
                elif op == 1:
                    del mutated[i]
                else:
                    mutated.insert(i, rng.choice(b'{}[]",:\\0123456789-.eEtrufalsnNI \xc3\xff'))
        same_as_json_loads(bytes(mutated))


def test_keys_are_shared_across_rows_but_values_stay_independent():
    rows = [_native._loads(b'{"name": "a", "items": [1]}') for _ in range(2)]
    assert rows[0] == rows[1] == {"name": "a", "items": [1]}
    rows[0]["items"].append(2)
    assert rows[1]["items"] == [1]


class _OneBody:
    """A loopback HTTP server answering every request with one JSON body."""

    def __init__(self, body: bytes):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_api_replies_decode_as_json_loads_does():
    """Replies are decoded straight into Python objects; the result is what the
    official SDK's `response.json()` (json.loads) gives, big ints and NaN included."""
    from imerit_ango.sdk import SDK

    body = ('{"status": "success", "data": {"project": {"_id": "p1", "name": "caf\\u00e9 \u65e5", '
            '"big": 123456789012345678901234567890, "ratio": NaN, "x": -0.0, "tags": ["a", "a", {}],'
            ' "dup": 1, "dup": 2}}}').encode()
    with _OneBody(body) as server:
        sdk = SDK("key", host=server.url, max_retries=0)
        for call in (lambda: sdk.get_project("p1"), lambda: sdk.get_task("t1"),
                     lambda: sdk.get_tasks("p1"), lambda: sdk.get_assets("p1"), lambda: sdk.list_projects()):
            assert repr(call()) == repr(json.loads(body))


def test_api_reply_that_is_not_json_is_a_decode_error_with_the_body():
    from imerit_ango.exceptions import AngoDecodeError
    from imerit_ango.sdk import SDK

    with _OneBody(b'{"status": "success", "data": {"project": [1, 2}}') as server:
        sdk = SDK("key", host=server.url, max_retries=0)
        with pytest.raises(AngoDecodeError) as caught:
            sdk.get_project("p1")
        assert "invalid JSON" in str(caught.value)
