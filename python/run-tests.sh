#!/usr/bin/env bash
# Builds the Python package and runs its tests, including the differential suite
# against the official imerit-ango 1.4.10. Idempotent: venvs are created once under
# <repo>/.venvs/ (gitignored) and reused.
#
#   python/run-tests.sh            # build (debug) + all Python tests
#   python/run-tests.sh -k export  # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="${PYTHON:-python3}"
DEV="$ROOT/.venvs/py-dev"
OFFICIAL="$ROOT/.venvs/py-official"

if [ ! -x "$DEV/bin/python" ]; then "$PY" -m venv "$DEV"; fi
"$DEV/bin/python" -m pip install -q --upgrade pip >/dev/null
"$DEV/bin/python" -m pip install -q "maturin>=1.7,<2" pytest mypy python-dotenv python-socketio uvicorn
# Stub tests (tests/test_stubs.py: mypy.stubtest against the generated sdk.pyi) need one
# mypy release: stubtest's checks change between releases.
"$DEV/bin/python" -m pip install -q "mypy==2.4.1"

if [ ! -x "$OFFICIAL/bin/python" ]; then "$PY" -m venv "$OFFICIAL"; fi
if ! "$OFFICIAL/bin/python" -c "import importlib.metadata as m; assert m.version('imerit-ango') == '1.4.10'" 2>/dev/null; then
  "$OFFICIAL/bin/python" -m pip install -q "imerit-ango==1.4.10"
fi

# Build and install our package into the dev venv (debug build: fast to compile).
(cd python && VIRTUAL_ENV="$DEV" PATH="$DEV/bin:$PATH" "$DEV/bin/maturin" develop --quiet)

export ANGO_OFFICIAL_PYTHON="$OFFICIAL/bin/python"
cd python
exec "$DEV/bin/python" -m pytest tests -q "$@"
