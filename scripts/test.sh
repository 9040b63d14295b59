#!/bin/sh
# Runs every test: typecheck, then Node's built-in test runner over every
# package's test folder. Tests use the PostgreSQL server on 127.0.0.1:5432
# (override with SKYBRIDGE_TEST_PG) and the embedded PGlite store.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
nodebin=$(sh "$root/scripts/bootstrap.sh")
PATH="$nodebin:$PATH"; export PATH
cd "$root"
echo "skybridge: node $(node --version); typechecking"
node node_modules/typescript/bin/tsc -p tsconfig.json
node node_modules/typescript/bin/tsc -p packages/cloud/web/tsconfig.json
echo "skybridge: running tests"
# --test-force-exit: a test file whose hook timed out and left a server open still ends (it is reported failed), so a run never hangs
# shellcheck disable=SC2046
exec node --test --test-timeout=180000 --test-force-exit --test-concurrency=2 $(find packages -path '*/node_modules' -prune -o -path '*/test/*' -name '*.test.ts' -print | sort)
