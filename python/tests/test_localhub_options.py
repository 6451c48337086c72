"""LocalHub's options are read and checked by the emulator crate (one set of rules)."""
import pytest

from imerit_ango.testing import LocalHub


@pytest.mark.parametrize(
    "options, message",
    [
        ({"fail_rate": 1.5}, "fail_rate must be a number between 0 and 1, got 1.5"),
        ({"drop_rate": -0.1}, "drop_rate must be a number between 0 and 1, got -0.1"),
        ({"fail_rate": 0.7, "drop_rate": 0.7}, "fail_rate + drop_rate must be at most 1"),
        ({"port": 70000}, "port must be a port number in 0..=65535"),
        ({"workers": 0}, "workers must be a positive integer, got 0"),
        ({"latency_ms": -5}, "latency_ms must be a whole number >= 0"),
        ({"seed_demo": "yes"}, "seed_demo must be a boolean"),
        ({"latencyy_ms": 1}, "unknown emulator option \"latencyy_ms\""),
    ],
)
def test_refused_options_are_value_errors(options, message) -> None:
    with pytest.raises(ValueError) as info:
        LocalHub(**options)
    assert message in str(info.value)


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
