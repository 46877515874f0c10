#!/usr/bin/env bash
# Benchmark: signed WhatsApp webhooks through genesis-gateway into
# genesis-bot-manager, answered through the real LLM router (instant provider
# simulator) and delivered to genesis-channel-simulator. Starts everything on a
# fresh database, runs bot_manager_bench (ingestion at maximum rate, then reply
# latency at a fixed rate, then lost/duplicated accounting) and prints its
# figures with the machine, RSS and load averages. See README.md.
#
#   bench/bot_manager/run.sh
# Environment:
#   GENESIS_BUILD_DIR        build tree with the binaries and bot_manager_bench (default: build)
#   GENESIS_BENCH_OUT        logs (default: $GENESIS_BUILD_DIR/bench-bot-manager)
#   GENESIS_BENCH_PG_DSN     a PostgreSQL maintenance DSN (a fresh database is created and
#                            dropped); else private PostgreSQL/Redis are started under the out dir
#   GENESIS_BENCH_REDIS_URL  the Redis to use with GENESIS_BENCH_PG_DSN (optional: without it the
#                            bot manager reads conversation context from PostgreSQL)
#   BENCH_ARGS               extra bot_manager_bench flags (e.g. --ingest_seconds=20 --rate=500
#                            --rate_seconds=30 --connections=64 --bots=10)
#   BENCH_BOT_ARGS           extra genesis-bot-manager flags (e.g. --inbox_workers=8)
#   BENCH_GATEWAY_ARGS       extra genesis-gateway flags (e.g. --io_threads=1)
set -Eeuo pipefail
trap 'echo "bench/bot_manager: a command failed at line $LINENO" >&2' ERR

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUILD="$(cd "${GENESIS_BUILD_DIR:-$ROOT/build}" && pwd)"
OUT="${GENESIS_BENCH_OUT:-$BUILD/bench-bot-manager}"
BENCH_BIN="$BUILD/bench/bot_manager/bot_manager_bench"
BOT_BIN="$BUILD/services/bot_manager/genesis-bot-manager"
CSIM_BIN="$BUILD/services/bot_manager/simulator/genesis-channel-simulator"
ROUTER_BIN="$BUILD/services/llm_router/genesis-llm-router"
LSIM_BIN="$BUILD/services/llm_router/simulator/genesis-llm-simulator"
GATEWAY_BIN="$BUILD/gateway/genesis-gateway"
for bin in "$BENCH_BIN" "$BOT_BIN" "$CSIM_BIN" "$ROUTER_BIN" "$LSIM_BIN" "$GATEWAY_BIN"; do
  [ -x "$bin" ] || { echo "bench/bot_manager: $bin is missing; build it first (README.md)" >&2; exit 1; }
done
mkdir -p "$OUT"
log() { echo "bench/bot_manager: $*" >&2; }

PIDS=()
NAMES=()
DB=""
cleanup() {
  local status=$?
  trap - EXIT
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill -TERM "${PIDS[$i]}" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
    for name in "${NAMES[@]}"; do
      [ -s "$OUT/$name.err" ] && { echo "--- $name stderr (last lines)" >&2; tail -20 "$OUT/$name.err" >&2; }
    done
  fi
  if [ -n "$DB" ]; then
    psql_admin "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ -z "${GENESIS_BENCH_PG_DSN:-}" ]; then
    genesis_redis_stop "$OUT/state" >/dev/null 2>&1 || true
    genesis_pg_stop "$OUT/state" >/dev/null 2>&1 || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck disable=SC2012  # Debian's fixed /usr/lib/postgresql/<N>/bin
PSQL="$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1)"
if [ -n "${GENESIS_BENCH_PG_DSN:-}" ]; then
  psql_admin() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$GENESIS_BENCH_PG_DSN" -c "$1"; }
  DB="botbench_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
  psql_admin "CREATE DATABASE $DB"
  PG_DSN="${GENESIS_BENCH_PG_DSN%/*}/$DB"
  REDIS_URL="${GENESIS_BENCH_REDIS_URL:-}"
else
  # shellcheck source=../../scripts/lib/infra.sh
  source "$ROOT/scripts/lib/infra.sh"
  mkdir -p "$OUT/state"
  genesis_pg_start "$OUT/state"
  genesis_redis_start "$OUT/state"
  PG_DSN="$GENESIS_PG_DSN"
  REDIS_URL="$GENESIS_REDIS_URL"
  DB="botbench_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
  psql_admin() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$GENESIS_PG_DSN" -c "$1"; }
  psql_admin "CREATE DATABASE $DB"
  PG_DSN="${GENESIS_PG_DSN%/*}/$DB"
fi

# first_line FILE PID SED_EXPR: the first line of FILE the expression prints, within 30 s.
first_line() {
  local deadline=$((SECONDS + 30)) got=""
  while [ "$SECONDS" -lt "$deadline" ]; do
    got="$(sed -n "$3" "$1")"
    [ -z "$got" ] || break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  echo "$got"
}
# Only the settings given here reach the servers.
ENV_UNSET=()
for v in $(compgen -e); do
  case "$v" in GENESIS_* | BENCH_WA_*) ENV_UNSET+=(-u "$v") ;; esac
done
# start VAR NAME SED -- CMD...: runs CMD with logs NAME.out/.err; VAR = what SED prints of its
# stdout; VAR_PID = its pid.
start() {
  local var="$1" name="$2" expr="$3"
  shift 4
  env "${ENV_UNSET[@]}" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" &
  PIDS+=($!)
  NAMES+=("$name")
  printf -v "${var}_PID" '%s' "$!"
  local got
  got="$(first_line "$OUT/$name.out" "$!" "$expr")"
  [ -n "$got" ] || { log "$name did not start"; exit 1; }
  printf -v "$var" '%s' "$got"
}

WA_SECRET="bench-app-secret-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"

start LSIM llm-simulator 's/^genesis-llm-simulator http=\(.*\)$/\1/p' -- \
  "$LSIM_BIN" --http_port=0 --instant
start ROUTER llm-router 's/^genesis-llm-router grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$ROUTER_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$PG_DSN" \
  --models_config="$ROOT/services/llm_router/config/models.json" \
  --simulator_url="http://$LSIM" --log_level=warn
start CSIM channel-simulator 's/^genesis-channel-simulator http=\(.*\)$/\1/p' -- \
  "$CSIM_BIN" --http_port=0
# CreateBot is administrative: the bench creates its bots as an operator forwarded with
# this secret (as the gateway would).
OPERATOR_SECRET="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
# shellcheck disable=SC2086  # BENCH_BOT_ARGS is a list of flags
start BOT bot-manager 's/^genesis-bot-manager grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  env BENCH_WA_SECRET="$WA_SECRET" BENCH_WA_TOKEN=bench-access-token BENCH_WA_VERIFY=bench-verify \
  GENESIS_GATEWAY_SECRET="$OPERATOR_SECRET" "$BOT_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$PG_DSN" \
  ${REDIS_URL:+--redis_url="$REDIS_URL"} --redis_key_prefix="botbench:$DB:" \
  --llm_router_address="$ROUTER" --whatsapp_base_url="http://$CSIM" \
  --telegram_base_url="http://$CSIM" --log_level=warn ${BENCH_BOT_ARGS:-}
# Auth on (webhook routes are public); the per-IP limit of public routes is raised above
# what one load generator can send, per process (no Redis).
# shellcheck disable=SC2086  # BENCH_GATEWAY_ARGS is a list of flags
start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="genesis.bot.v1.BotManagerService=$BOT,genesis.bot.v1.BotWebhookService=$BOT" \
  --rate_limit=1000000/s ${BENCH_GATEWAY_ARGS:-}
deadline=$((SECONDS + 30))
until curl -sf "http://$GW/readyz" >/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] || {
    log "genesis-gateway never became ready: $(curl -s "http://$GW/readyz")"
    exit 1
  }
  sleep 0.1
done
log "llm simulator $LSIM, router $ROUTER, channel simulator $CSIM, bot manager $BOT, gateway $GW"
sleep 2

echo "bot manager benchmark: $(nproc) CPU(s) ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(date -u +%FT%TZ)"
echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
PG_SETTINGS="$("$PSQL" -X -q -tA -d "$PG_DSN" -c "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name)
  FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers')")"
echo "  everything on this machine: load generator, gateway, bot manager, LLM router, both simulators,"
echo "  PostgreSQL $([ -n "${GENESIS_BENCH_PG_DSN:-}" ] && echo given || echo private) ($PG_SETTINGS), Redis $([ -n "$REDIS_URL" ] && echo on || echo off)"
rc=0
# shellcheck disable=SC2086  # BENCH_ARGS is a list of flags
"$BENCH_BIN" --gateway="$GW" --bot_manager="$BOT" --simulator="$CSIM" --secret="$WA_SECRET" \
  --pg_dsn="$PG_DSN" --operator_secret="$OPERATOR_SECRET" \
  --watch="gateway=$GW_PID,bot_manager=$BOT_PID,llm_router=$ROUTER_PID,channel_sim=$CSIM_PID,llm_sim=$LSIM_PID" \
  ${BENCH_ARGS:-} | tee "$OUT/bench.out" || rc=$?
ROWS="$("$PSQL" -X -q -tA -d "$PG_DSN" -c "SELECT (SELECT count(*) FROM bot_manager.inbox) ||
  ' inbox rows (' || (SELECT count(*) FROM bot_manager.inbox WHERE state = 'done') || ' done), ' ||
  (SELECT count(*) FROM bot_manager.outbox) || ' outbox rows (' ||
  (SELECT count(*) FROM bot_manager.outbox WHERE state <> 'pending') || ' sent or later)'" || true)"
echo "  in the database afterwards: $ROWS"
# Messages answered with a handoff notice instead of the model's answer, and why; router retries.
"$PSQL" -X -q -tA -F ' ' -d "$PG_DSN" -c "SELECT 'conversations handed to a person: ' || count(*) ||
  coalesce(' (first reason: ' || min(handoff_reason) || ')', '') FROM bot_manager.conversations
  WHERE state <> 'bot'; SELECT 'inbox rows that needed more than one attempt: ' || count(*) ||
  coalesce(' (an error: ' || min(error) || ')', '') FROM bot_manager.inbox WHERE attempts > 1" |
  sed 's/^/  /' || true
# shellcheck source-path=SCRIPTDIR source=../lib/figures.sh
source "$ROOT/bench/lib/figures.sh"
rate="$(sed -n 's/.*acknowledged (HTTP 200): [0-9]* = \([0-9]*\) webhooks\/s.*/\1/p' "$OUT/bench.out")"
p95="$(grep -A1 'from the scheduled send time:' "$OUT/bench.out" | sed -n 's/.*p95 \([0-9.]*\) ms.*/\1/p' | head -1)"
lost="$(sed -n 's/.*lost (acknowledged, never answered within the drain): \([0-9]*\).*/\1/p' "$OUT/bench.out")"
dup="$(sed -n 's/.*duplicated (answered more than once): \([0-9]*\).*/\1/p' "$OUT/bench.out")"
bench_figure "bots: webhooks acknowledged per second (closed loop)" "${rate:-0}" - ge 3000 webhooks/s
bench_figure "bots: reply p95 at 500 webhooks/s (open loop)" "${p95:-999999}" - le 50 ms
bench_figure "bots: replies lost + duplicated" "$((${lost:-1} + ${dup:-1}))" - le 0 replies
exit "$rc"
