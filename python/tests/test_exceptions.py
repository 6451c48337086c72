import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import imerit_ango
from imerit_ango.exceptions import (AngoConnectionError, AngoError, AngoHTTPError, AngoInvalidArgumentError,
                                    AngoTimeoutError)
from imerit_ango.sdk import SDK
from imerit_ango.testing import LocalHub

SECRET = "super-secret-key-0123456789"


def test_hierarchy_is_exported_from_the_package() -> None:
    for cls in (AngoHTTPError, AngoTimeoutError, AngoConnectionError, AngoInvalidArgumentError):
        assert issubclass(cls, AngoError)
        assert getattr(imerit_ango, cls.__name__) is cls
    assert issubclass(AngoTimeoutError, TimeoutError)
    assert issubclass(AngoConnectionError, ConnectionError)
    assert issubclass(AngoInvalidArgumentError, ValueError)


def test_http_error_text_is_the_server_response(sdk: SDK) -> None:
    with pytest.raises(AngoHTTPError) as info:
        sdk.get_project("no-such-project")
    err = info.value
    assert err.status_code == 404
    assert str(err) == err.body
    assert "no-such-project" in str(err)


def test_key_never_in_repr_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    with LocalHub(api_key=SECRET) as hub:
        sdk = SDK(SECRET, host=hub.url, max_retries=0)
        assert SECRET not in repr(sdk)
        assert SECRET not in repr(sdk._client)
        with pytest.raises(AngoHTTPError) as info:
            sdk.get_project("missing")
        wrong = SDK("wrong-" + SECRET, host=hub.url, max_retries=0)
        with pytest.raises(AngoHTTPError) as info2:
            wrong.list_projects()
        assert info2.value.status_code == 401
    for err in (info.value, info2.value):
        assert SECRET not in str(err) and SECRET not in repr(err)
    assert all(SECRET not in record.getMessage() for record in caplog.records)


def test_connection_refused_is_a_connection_error() -> None:
    sdk = SDK("k", host="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(AngoConnectionError):
        sdk.list_projects()


def test_timeout_is_a_timeout_error() -> None:
    stop = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            stop.wait(5)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sdk = SDK("k", host=f"http://127.0.0.1:{server.server_address[1]}", timeout=0.2, max_retries=0)
        with pytest.raises(AngoTimeoutError):
            sdk.list_projects()
    finally:
        stop.set()
        server.shutdown()


def test_bad_arguments_raise_value_error_before_any_request(hub: LocalHub, sdk: SDK) -> None:
    before = hub.request_count
    with pytest.raises(ValueError):
        sdk.create_issue("task", "content", page=-1)
    with pytest.raises(ValueError):
        sdk.create_issue("task", "content", object_id="o", position=[1, 2])
    assert hub.request_count == before


def test_logger_is_named_like_the_official_and_silent() -> None:
    sdk = SDK("k", host="http://127.0.0.1:9")
    assert sdk.logger.name == "SDK"
    assert not logging.getLogger("SDK").handlers
