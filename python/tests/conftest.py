import logging
import signal
from typing import Iterator

import pytest

from imerit_ango.sdk import SDK
from imerit_ango.testing import LocalHub

# A shell's background job starts with SIGINT ignored, and the children the tests start
# would inherit that: the tests that interrupt a child with SIGINT need Python's own
# handler there, as in an interactive session.
signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def hub() -> Iterator[LocalHub]:
    with LocalHub(latency_ms=0, fail_rate=0.0) as h:
        yield h


@pytest.fixture
def sdk(hub: LocalHub) -> SDK:
    return SDK(hub.api_key, host=hub.url, max_retries=0)


@pytest.fixture(autouse=True)
def _quiet_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
