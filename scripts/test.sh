#!/usr/bin/env bash
# Builds Genesis and runs its tests against a fresh private PostgreSQL and Redis.
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit` or `-R catalog`.
# Tests get (and create their own databases / key prefixes from):
#   GENESIS_TEST_PG_DSN     DSN of the `postgres` maintenance database
#   GENESIS_TEST_REDIS_URL  redis://127.0.0.1:PORT
#   GENESIS_BUF             absolute path of the buf CLI
#   GENESIS_BUILD_DIR       absolute build directory
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source-path=SCRIPTDIR source=lib/infra.sh
source scripts/lib/infra.sh

scripts/build.sh # builds Release unless GENESIS_BUILD_TYPE says otherwise

STATE="$ROOT/.genesis/test"
# Two test runs would share and then delete each other's servers.
mkdir -p "$ROOT/.genesis"
exec 9>"$ROOT/.genesis/test.lock"
flock -n 9 || { echo "test: another scripts/test.sh is running" >&2; exit 1; }

# Fresh state every time; servers left by an interrupted run are stopped first.
genesis_redis_stop "$STATE"
genesis_pg_stop "$STATE"
rm -rf "$STATE"

trap 'genesis_redis_stop "$STATE" || true; genesis_pg_stop "$STATE" || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export GENESIS_PERSIST=0 # nothing here outlives the run: no AOF, no fsync
# `9>&-`: the servers and tests must not inherit the lock, or a leftover would keep it.
genesis_pg_start "$STATE" 9>&-
genesis_redis_start "$STATE" 9>&-

export GENESIS_TEST_PG_DSN="postgresql://postgres@127.0.0.1:$GENESIS_PG_PORT/postgres"
export GENESIS_TEST_REDIS_URL="$GENESIS_REDIS_URL"
export GENESIS_BUF="$ROOT/.genesis/tools/node_modules/.bin/buf"
export GENESIS_BUILD_DIR="$ROOT/build"

status=0
ctest --test-dir build --output-on-failure -j2 "$@" 9>&- || status=$?
exit "$status"
