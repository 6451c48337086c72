#!/usr/bin/env bash
# Builds and tests the `ango-hub` npm package from a fresh clone, idempotently.
#
#   bash node/run-tests.sh            release build (what CI runs)
#   bash node/run-tests.sh --debug    debug build (faster to compile while iterating)
#
# Steps: npm ci (only when node_modules is missing or older than package-lock.json),
# napi build (native addon + index.js + index.d.ts; with CI set, the committed
# index.js/index.d.ts must equal the fresh build's), tsc type-check of
# examples/typed.ts, `node --test` on test/*.test.mjs (against emulators on 127.0.0.1),
# the quickstart example, and an `npm pack` tarball installed into a scratch project
# and loaded there (CommonJS and ESM) without the source tree. Exits non-zero on the
# first failure.
set -euo pipefail
cd "$(dirname "$0")"

build=build
if [[ ${1:-} == --debug ]]; then
  build=build:debug
fi

step() { printf '\n--> %s\n' "$*"; }

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi

step "npm run $build"
npm run --silent "$build"

if [[ -n ${CI:-} ]]; then
  # The loader and declarations napi generates are committed: they must be what this
  # build just wrote (debug and release builds write the same files).
  step "CI: committed index.js and index.d.ts match the fresh build"
  if ! git diff --exit-code -- index.js index.d.ts; then
    echo "node/index.js or node/index.d.ts differ from a fresh napi build: run 'npm run build' in node/ and commit them" >&2
    exit 1
  fi
fi

step "type-check (tsc --noEmit)"
npm run --silent typecheck

step "example: examples/quickstart.mjs"
node examples/quickstart.mjs >/dev/null
step "example: examples/model_plugin.mjs"; out=$(node examples/model_plugin.mjs 2>&1) || { echo "$out"; exit 1; }

step "npm pack + install into a scratch project"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tarball=$(npm pack --silent --pack-destination "$scratch" | tail -n 1)
(
  cd "$scratch"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --silent "./$tarball"
  node -e "
    const { AngoClient, startEmulator } = require('ango-hub')
    startEmulator().then(async (emulator) => {
      const client = new AngoClient({ apiKey: emulator.apiKey, host: emulator.url })
      const { status } = await client.listProjects()
      emulator.stop()
      if (status !== 'success') process.exit(1)
    })"
  node --input-type=module -e "
    import { AngoClient } from 'ango-hub'
    if (typeof AngoClient !== 'function') process.exit(1)"
)
echo "tarball $tarball installs and runs"

step "node --test"
npm test

# --- Generated declarations (crates/ango-codegen): node/generated/types.d.ts used the way a
# TypeScript user would, under --strict; and a file with type errors tsc must reject where
# it says (proof that the check can fail).
step "generated types: tsc --strict test/types"
npx tsc -p test/types/tsconfig.json
step "generated types: tsc rejects test/types/negative"
node test/types/check-negative.mjs
