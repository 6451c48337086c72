"""Running plugin processes against the recording hub and API (shared by the tests)."""
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
OFFICIAL_PYTHON = os.environ.get("ANGO_OFFICIAL_PYTHON")


class PluginProcess:
    """``python script args...`` with its output kept in a temporary file."""

    def __init__(self, python: str, script: str, *args: str, env: Optional[Dict[str, str]] = None) -> None:
        self.workdir = tempfile.TemporaryDirectory()
        full_env = dict(os.environ)
        full_env.pop("CONNECTOR", None)
        full_env.pop("PORT", None)
        full_env["LOGLEVEL"] = "DEBUG"
        full_env["PYTHONUNBUFFERED"] = "1"
        if python != sys.executable:
            # The official package must not see ours (both are `imerit_ango`).
            full_env.pop("PYTHONPATH", None)
        full_env.update(env or {})
        self.log_path = os.path.join(self.workdir.name, "output.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([python, os.path.join(HERE, script), *args], stdout=self._log,
                                     stderr=subprocess.STDOUT, env=full_env, cwd=self.workdir.name)

    def output(self) -> str:
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 20.0) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> Optional[int]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        code = self.proc.returncode
        self.workdir.cleanup()
        return code

    def __enter__(self) -> "PluginProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def wait_until(predicate: Any, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def request_data(session: str, **extra: Any) -> Dict[str, Any]:
    """A ``plugin`` event's data dict as the Hub sends it."""
    data: Dict[str, Any] = {"session": session, "apiKey": "api-key-0001", "orgId": "org-0001",
                            "runBy": "user-0001", "projectId": "proj-1", "configJSON": "{}"}
    data.update(extra)
    return data


def strip_sid(events: List[Any]) -> List[Any]:
    return [(e.name, e.data) for e in events]
