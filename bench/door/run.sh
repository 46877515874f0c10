#!/usr/bin/env bash
# Benchmark: the gateway's OpenAI-compatible door (genesis-gateway + genesis-llm-router, with
# accounting in PostgreSQL) vs Portkey's AI gateway (npm @portkey-ai/gateway), both in front
# of the same provider simulator, in the same run. See README.md.
#
#   bench/door/run.sh
# Environment:
#   GENESIS_BUILD_DIR   build tree with the gateway, the router and the simulator (default: build)
#   GENESIS_BENCH_OUT   where Portkey, the state and the logs go (default: $GENESIS_BUILD_DIR/bench-door)
#   BENCH_DURATION      seconds per measurement (default 10), after a 2 s warm-up
#   BENCH_CALLERS       the closed-loop caller counts (default "1 16")
#   BENCH_GATEWAY_ARGS  extra genesis-gateway flags
#   BENCH_ROUTER_ARGS   extra genesis-llm-router flags
#   PORTKEY_VERSION     default 1.15.2
# Needs: wrk, node + npm (Portkey is installed from npm into the out dir), curl, jq, awk.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUILD="$(cd "${GENESIS_BUILD_DIR:-$ROOT/build}" && pwd)"
OUT="${GENESIS_BENCH_OUT:-$BUILD/bench-door}"
DURATION="${BENCH_DURATION:-10}"
read -r -a CALLERS <<<"${BENCH_CALLERS:-1 16}"
PORTKEY_VERSION="${PORTKEY_VERSION:-1.15.2}"
GATEWAY_BIN="$BUILD/gateway/genesis-gateway"
ADMIN_BIN="$BUILD/gateway/genesis-gateway-admin"
ROUTER_BIN="$BUILD/services/llm_router/genesis-llm-router"
SIM_BIN="$BUILD/services/llm_router/simulator/genesis-llm-simulator"
LUA="$ROOT/bench/door/unique_prompt.lua"
MODEL=sim-gpt-4o-mini
for tool in wrk node npm curl jq awk ss; do
  command -v "$tool" >/dev/null || { echo "bench/door: $tool is missing (see README.md)" >&2; exit 1; }
done
for bin in "$GATEWAY_BIN" "$ADMIN_BIN" "$ROUTER_BIN" "$SIM_BIN"; do
  [ -x "$bin" ] || { echo "bench/door: $bin is missing; build it first" >&2; exit 1; }
done
mkdir -p "$OUT"
log() { echo "bench/door: $*" >&2; }

# shellcheck source-path=SCRIPTDIR source=../../scripts/lib/infra.sh
source "$ROOT/scripts/lib/infra.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/figures.sh
source "$ROOT/bench/lib/figures.sh"

# --------------------------------------------------------------------------
# Portkey, from npm, into the out dir

PORTKEY_DIR="$OUT/portkey"
PORTKEY_JS="$PORTKEY_DIR/node_modules/@portkey-ai/gateway/build/start-server.js"
if [ ! -f "$PORTKEY_JS" ] ||
  [ "$(jq -r .version "$PORTKEY_DIR/node_modules/@portkey-ai/gateway/package.json" 2>/dev/null)" != \
    "$PORTKEY_VERSION" ]; then
  log "installing @portkey-ai/gateway@$PORTKEY_VERSION from npm into $PORTKEY_DIR"
  mkdir -p "$PORTKEY_DIR"
  npm install --silent --no-audit --no-fund --prefix "$PORTKEY_DIR" \
    "@portkey-ai/gateway@$PORTKEY_VERSION" >&2
fi
# It listens on 8787 whatever --port says.
PORTKEY_PORT=8787
if [ -n "$(ss -tanHl "sport = :$PORTKEY_PORT")" ]; then
  echo "bench/door: port $PORTKEY_PORT (Portkey's) is taken" >&2
  exit 1
fi

# --------------------------------------------------------------------------
# Servers: private PostgreSQL and Redis, the simulator, the router, the gateway, Portkey

STATE="$OUT/state"
mkdir -p "$STATE"
PIDS=()
SIM_PID="" ROUTER_PID="" GW_PID=""
cleanup() {
  trap '' INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  genesis_redis_stop "$STATE" || true
  genesis_pg_stop "$STATE" || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
genesis_pg_start "$STATE"
genesis_redis_start "$STATE"

# start NAME SED_EXPR CMD...: runs CMD with its output in $OUT/NAME.log, waits (30 s) for the
# line SED_EXPR prints, and sets the variable NAME to what it printed.
start() {
  local name="$1" expr="$2"
  shift 2
  "$@" >"$OUT/$name.log" 2>&1 &
  PIDS+=("$!")
  printf -v "${name}_PID" '%s' "$!"
  local deadline=$((SECONDS + 30)) got=""
  while [ -z "$got" ]; do
    got="$(sed -n "$expr" "$OUT/$name.log" | head -1)"
    [ -n "$got" ] && break
    if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$!" 2>/dev/null; then
      echo "bench/door: $name did not start; its log:" >&2
      tail -20 "$OUT/$name.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  printf -v "$name" '%s' "$got"
}

start SIM 's/^genesis-llm-simulator http=\([0-9.]*:[0-9]*\)$/\1/p' \
  "$SIM_BIN" --http_port=0 --instant
# shellcheck disable=SC2086
start ROUTER 's/^genesis-llm-router grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' \
  "$ROUTER_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$GENESIS_PG_DSN" \
  --redis_url="$GENESIS_REDIS_URL" --models_config="$ROOT/services/llm_router/config/models.json" \
  --simulator_url="http://$SIM" ${BENCH_ROUTER_ARGS:-}
JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
TOKEN="$(GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$ADMIN_BIN" mint-token --subject=bench \
  --roles=agent --ttl=2h)"
# shellcheck disable=SC2086
start GW 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/\1/p' \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="genesis.llmrouter.v1.LlmRouterService=$ROUTER" --rate_limits=false \
  ${BENCH_GATEWAY_ARGS:-}
(cd "$PORTKEY_DIR" && exec node node_modules/@portkey-ai/gateway/build/start-server.js) \
  >"$OUT/portkey.log" 2>&1 &
PORTKEY_PID=$!
PIDS+=("$PORTKEY_PID")
deadline=$((SECONDS + 30))
until curl -s -o /dev/null "http://127.0.0.1:$PORTKEY_PORT/"; do
  [ "$SECONDS" -lt "$deadline" ] || { log "Portkey did not start"; tail -20 "$OUT/portkey.log" >&2; exit 1; }
  sleep 0.2
done
# The process that serves (npm may leave a wrapper): the one listening on the port.
PORTKEY_SERVER_PID="$(ss -tlnpH "sport = :$PORTKEY_PORT" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)"
PORTKEY_SERVER_PID="${PORTKEY_SERVER_PID:-$PORTKEY_PID}"
log "simulator $SIM, router $ROUTER, gateway $GW, Portkey 127.0.0.1:$PORTKEY_PORT (pid $PORTKEY_SERVER_PID)"

GENESIS_HEADERS=""
PORTKEY_HEADERS="x-portkey-provider: openai|x-portkey-custom-host: http://$SIM/v1"

# One call through each path, checked before anything is measured.
check_one() { # URL AUTH HEADERS
  local url="$1" auth="$2" extra="$3" args=()
  IFS='|' read -r -a hs <<<"$extra"
  for h in "${hs[@]}"; do [ -n "$h" ] && args+=(-H "$h"); done
  curl -s --max-time 10 -H "Authorization: $auth" -H 'Content-Type: application/json' "${args[@]}" \
    --data-binary "{\"model\":\"$MODEL\",\"messages\":[{\"role\":\"user\",\"content\":\"check the path\"}]}" \
    "$url/v1/chat/completions" | jq -er '.choices[0].message.content' >/dev/null
}
check_one "http://$GW" "Bearer $TOKEN" "$GENESIS_HEADERS" || { log "the door did not answer"; exit 1; }
check_one "http://127.0.0.1:$PORTKEY_PORT" "Bearer sk-bench" "$PORTKEY_HEADERS" ||
  { log "Portkey did not answer"; tail -20 "$OUT/portkey.log" >&2; exit 1; }
check_one "http://$SIM" "Bearer sk-bench" "" || { log "the simulator did not answer"; exit 1; }

# --------------------------------------------------------------------------
# Measurements

ticks() { # PID...: utime+stime of the processes, in clock ticks
  local total=0 pid
  for pid in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
HZ="$(getconf CLK_TCK)"

# to_ms VALUE: wrk's "1.23ms" / "456.00us" / "1.01s" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n = n * 1000
    printf "%.3f", n }'
}

# measure LABEL URL AUTH HEADERS CALLERS PIDS...: prints "LABEL CALLERS req/s p50_ms cpu_us..."
# (CPU µs per request of each PID, in order).
measure() {
  local label="$1" url="$2" auth="$3" headers="$4" callers="$5"
  shift 5
  local out
  DOOR_MODEL="$MODEL" DOOR_AUTH="$auth" DOOR_HEADERS="$headers" \
    wrk -t1 -c"$callers" -d2s --timeout 10s -s "$LUA" "$url" >/dev/null
  local before=() pid
  for pid in "$@"; do before+=("$(ticks "$pid")"); done
  out="$(DOOR_MODEL="$MODEL" DOOR_AUTH="$auth" DOOR_HEADERS="$headers" \
    wrk -t1 -c"$callers" -d"${DURATION}s" --timeout 10s --latency -s "$LUA" "$url")"
  local after=()
  for pid in "$@"; do after+=("$(ticks "$pid")"); done
  echo "$out" >"$OUT/wrk-$label-$callers.txt"
  local requests rps p50 errors
  requests="$(awk '/requests in/ {print $1}' <<<"$out")"
  rps="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")"
  p50="$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")"
  errors="$(sed -n 's/^door-errors //p' <<<"$out")"
  if [ "$errors" != "status=0 connect=0 read=0 write=0 timeout=0" ] ||
    grep -q "Non-2xx" <<<"$out"; then
    log "$label at $callers caller(s): errors ($errors); wrk said:"
    echo "$out" >&2
    exit 1
  fi
  local cpu=() i
  for i in "${!before[@]}"; do
    cpu+=("$(awk -v d="$((after[i] - before[i]))" -v hz="$HZ" -v n="$requests" \
      'BEGIN {printf "%.0f", d * 1e6 / hz / n}')")
  done
  echo "$label $callers $rps $p50 ${cpu[*]}"
}

RESULTS="$OUT/results.txt"
: >"$RESULTS"
for c in "${CALLERS[@]}"; do
  measure direct "http://$SIM" "Bearer sk-bench" "" "$c" "$SIM_PID" | tee -a "$RESULTS" >&2
  measure genesis "http://$GW" "Bearer $TOKEN" "$GENESIS_HEADERS" "$c" "$GW_PID" "$ROUTER_PID" "$SIM_PID" |
    tee -a "$RESULTS" >&2
  measure portkey "http://127.0.0.1:$PORTKEY_PORT" "Bearer sk-bench" "$PORTKEY_HEADERS" "$c" \
    "$PORTKEY_SERVER_PID" "$SIM_PID" | tee -a "$RESULTS" >&2
done

# --------------------------------------------------------------------------
# Report

field() { awk -v l="$1" -v c="$2" -v f="$3" '$1 == l && $2 == c {print $f}' "$RESULTS"; }
LOW="${CALLERS[0]}"
HIGH="${CALLERS[${#CALLERS[@]} - 1]}"
d50="$(field direct "$LOW" 4)"
g50="$(field genesis "$LOW" 4)"
p50="$(field portkey "$LOW" 4)"
g_added="$(awk -v a="$g50" -v b="$d50" 'BEGIN {printf "%.3f", a - b}')"
p_added="$(awk -v a="$p50" -v b="$d50" 'BEGIN {printf "%.3f", a - b}')"
g_rps="$(field genesis "$HIGH" 3)"
p_rps="$(field portkey "$HIGH" 3)"
g_cpu="$(awk -v l=genesis -v c="$HIGH" '$1 == l && $2 == c {print $5 + $6}' "$RESULTS")"
p_cpu="$(field portkey "$HIGH" 5)"
echo "OpenAI door benchmark: $MODEL on the simulator (instant), unique prompts, ${DURATION} s per run"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-28s %10s %10s %10s  %s\n' "callers / path" "req/s" "p50 ms" "" "CPU µs per request (per process)"
while read -r label c rps p cpu1 cpu2 cpu3; do
  case "$label" in
    direct) procs="simulator $cpu1" ;;
    genesis) procs="gateway $cpu1, router $cpu2, simulator $cpu3" ;;
    portkey) procs="portkey $cpu1, simulator $cpu2" ;;
  esac
  printf '%-28s %10s %10s %10s  %s\n' "$c / $label" "$rps" "$p" "" "$procs"
done <"$RESULTS"
echo
bench_figure "door: added p50 at $LOW caller(s) vs Portkey" "$g_added" "$p_added" ratio_le 0.3333 ms
bench_figure "door: req/s at $HIGH callers vs Portkey" "$g_rps" "$p_rps" ratio_ge 8 req/s
bench_figure "door: gateway + router CPU per completion at $HIGH callers" "$g_cpu" "$p_cpu" le 150 µs
