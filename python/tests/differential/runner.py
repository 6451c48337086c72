"""Runs every differential case against a host with whichever `imerit_ango` is installed.

Usage: python runner.py HOST OUT.json WORKDIR
"""
import json
import logging
import sys
import urllib.parse
import urllib.request
import warnings
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from cases import CASES  # noqa: E402

from imerit_ango.sdk import SDK  # noqa: E402

API_KEY = "differential-test-key"


def jsonable(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, default=repr))
    except (TypeError, ValueError):
        return repr(value)


def main() -> None:
    host, out_path, workdir = sys.argv[1:4]
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    sdk = SDK(API_KEY, host=host)
    results = {}
    only = set(sys.argv[4:])
    for name, fn in CASES.items():
        if only and name not in only:
            continue
        urllib.request.urlopen(f"{host}/__case/{urllib.parse.quote(name)}").read()
        try:
            results[name] = {"ok": True, "result": jsonable(fn(sdk, workdir))}
        except Exception as e:  # noqa: BLE001 - outcomes are compared, whatever they are
            results[name] = {"ok": False, "type": type(e).__name__, "message": str(e),
                             "value_error": isinstance(e, ValueError)}
    with open(out_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
