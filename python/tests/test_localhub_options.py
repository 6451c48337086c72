"""LocalHub's options are read and checked by the emulator crate (one set of rules)."""
import json
import pathlib
from typing import Any, Dict, List

import pytest

from imerit_ango.testing import LocalHub


FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "emulator" / "options.json"
REFUSED: List[Dict[str, Any]] = json.loads(FIXTURE.read_text())["refused"]


@pytest.mark.parametrize("case", REFUSED, ids=[c["message"][:40] for c in REFUSED])
def test_refused_options_are_value_errors(case: Dict[str, Any]) -> None:
    with pytest.raises(ValueError) as info:
        LocalHub(**case["options"])
    assert str(info.value).startswith(case["message"])


def test_options_reach_the_emulator() -> None:
    with LocalHub(api_key="fixed-key", seed_demo=True, seed=None, workers=2, fail_rate=0.0) as hub:
        assert hub.api_key == "fixed-key"
        assert hub.request_count == 0


def test_plugin_waits_are_checked_by_the_emulator() -> None:
    with LocalHub() as hub:
        with pytest.raises(ValueError, match="wait must be a number of seconds in 0..=3600"):
            hub.run_plugin("p", {}, wait=-1)
        with pytest.raises(ValueError, match="timeout must be a number of seconds in 0..=3600"):
            hub.wait_for_plugin("p", timeout=float("nan"))
