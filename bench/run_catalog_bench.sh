#!/usr/bin/env bash
# Runs the Catalog benchmark against private PostgreSQL and Redis servers kept in
# .genesis/bench (data persists between runs, so `--skip_load` can reuse loaded items):
#   bench/run_catalog_bench.sh                     # 1,000,000 items, 1/16/64 callers
#   bench/run_catalog_bench.sh --items=20000 --duration_s=5
#   bench/run_catalog_bench.sh --skip_load         # reuse the items of a previous run
# Extra arguments go to build/bench/catalog_bench (see `catalog_bench --help`).
#   GENESIS_BENCH_SKIP_BUILD=1  do not run scripts/build.sh first
#   GENESIS_SKIP_INSTALL=1      passed on to scripts/build.sh (skip install-deps.sh)
# The servers are stopped at the end (data kept); the figures go to stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source-path=SCRIPTDIR source=../scripts/lib/infra.sh
source scripts/lib/infra.sh

if [ "${GENESIS_BENCH_SKIP_BUILD:-0}" != 1 ]; then
  GENESIS_BUILD_TYPE=Release scripts/build.sh
fi
BENCH="$ROOT/build/bench/catalog_bench"
[ -x "$BENCH" ] || { echo "run_catalog_bench: $BENCH is missing; build first" >&2; exit 1; }

STATE="$ROOT/.genesis/bench"
mkdir -p "$STATE"
# Two runs at once would share (and stop) the same servers.
exec 9>"$STATE/bench.lock"
flock -n 9 || { echo "run_catalog_bench: another run is using $STATE" >&2; exit 1; }

stop_servers() {
  trap '' INT TERM
  genesis_redis_stop "$STATE" || true
  genesis_pg_stop "$STATE" || true
}
trap stop_servers EXIT
trap 'exit 130' INT TERM

# Persistent (GENESIS_PERSIST=1): durable PostgreSQL settings, as in production, and a
# Redis append-only file, so a later --skip_load run finds the same data.
export GENESIS_PERSIST=1
genesis_pg_start "$STATE" 9>&-
genesis_redis_start "$STATE" 9>&-

echo "run_catalog_bench: PostgreSQL $GENESIS_PG_DSN, Redis $GENESIS_REDIS_URL" >&2
echo "run_catalog_bench: $BENCH --pg_dsn=$GENESIS_PG_DSN --redis_url=$GENESIS_REDIS_URL $*" >&2
"$BENCH" --pg_dsn="$GENESIS_PG_DSN" --redis_url="$GENESIS_REDIS_URL" \
  --service_log="$STATE/catalog.log" "$@" 9>&-
