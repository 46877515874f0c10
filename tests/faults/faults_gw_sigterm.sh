#!/usr/bin/env bash
# Fault: SIGTERM to the gateway while unary calls and a server stream are in flight.
#
# The provider simulator answers slowly (scripted latency, chunk delays) behind the real
# LLM router on a private PostgreSQL; the gateway runs with a 10 s grace period. With
# five POST /v1/llm:complete calls and one SSE stream in flight, the gateway gets SIGTERM.
# Expected: /readyz (metrics port) turns 503 at once, new connections are refused, every
# call in flight completes with 200 and the stream with its summary (no error event), and
# the gateway exits 0 as soon as the last of them is written — not at the end of the
# grace period. Then a gateway with nothing in flight exits at once.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../e2e/lib.sh
source "$HERE/../e2e/lib.sh"
# shellcheck source=../e2e/harness.sh
source "$HERE/../e2e/harness.sh"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

e2e_require_tools curl jq python3
e2e_bin ROUTER_BIN GENESIS_LLM_ROUTER_BIN services/llm_router/genesis-llm-router
e2e_bin SIM_BIN GENESIS_LLM_SIMULATOR_BIN services/llm_router/simulator/genesis-llm-simulator
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
MODELS_CONFIG="$HERE/../../services/llm_router/config/models.json"
GRACE_MS=10000
CALLS=5

e2e_init faults-gw-sigterm
fault_pg_start pg

e2e_start SIM sim 's/^genesis-llm-simulator http=\([0-9.]*:[0-9]*\)$/http:\/\/\1/p' -- \
  "$SIM_BIN" --http_port=0
e2e_start ROUTER_ADDR router 's/^genesis-llm-router grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$ROUTER_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$PG_DSN" \
  --models_config="$MODELS_CONFIG" --simulator_url="$SIM" --retry_max_attempts=1 \
  --response_cache_ttl_s=0 --log_level=warn

# start_gateway: GW (http://H:P), OPS (http://H:P of the metrics port), GW_PID.
start_gateway() {
  local started
  e2e_start started "gateway$1" \
    's/^genesis-gateway http=\([0-9.]*:[0-9]*\) metrics=\([0-9.]*:[0-9]*\)$/\1 \2/p' -- \
    "$GATEWAY_BIN" --auth=off --rate_limits=false --http_port=0 --metrics_port=0 \
    --shutdown_grace_ms=$GRACE_MS --backend="genesis.llmrouter.v1.LlmRouterService=$ROUTER_ADDR"
  GW_PID="$E2E_PID"
  read -r GW OPS <<<"$started"
  GW="http://$GW" OPS="http://$OPS"
}
start_gateway 1

# Every answer of sim-local takes 1.5 s, and a stream's chunks come 150 ms apart.
curl -s --max-time 10 "$SIM/_sim/script" \
  -d '{"model": "sim-local", "latency_ms": 1500, "chunk_delay_ms": 150}' >/dev/null
BODY='{"model": "sim-local", "noCache": true,
  "messages": [{"role": "ROLE_USER", "content": "one two three four five six seven eight"}]}'
CURL_PIDS=()
for i in $(seq 1 $CALLS); do
  curl -s --max-time 30 -o "$WORK/call$i.body" -w '%{http_code}\n' \
    -H 'Content-Type: application/json' --data-binary "$BODY" "$GW/v1/llm:complete" \
    >"$WORK/call$i.code" 2>/dev/null &
  CURL_PIDS+=($!)
done
curl -sN --max-time 30 -o "$WORK/stream.body" -w '%{http_code}\n' -H 'Accept: text/event-stream' \
  -H 'Content-Type: application/json' --data-binary "$BODY" "$GW/v1/llm:streamComplete" \
  >"$WORK/stream.code" 2>/dev/null &
CURL_PIDS+=($!)

# In flight: the simulator has received all of them.
deadline=$((SECONDS + 20))
until [ "$(curl -s --max-time 2 "$SIM/_sim/stats" | jq '[.requests | .. | numbers] | add // 0' 2>/dev/null || echo 0)" -ge $((CALLS + 1)) ]; do
  [ "$SECONDS" -lt "$deadline" ] || { fail "the calls reach the provider" "$(curl -s "$SIM/_sim/stats")"; exit 1; }
  sleep 0.05
done
check_eq "before SIGTERM: /readyz is 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$OPS/readyz")"

sigterm_ms=$(fault_now_ms)
kill -TERM "$GW_PID"
# Readiness fails first (the metrics port keeps answering while the gateway drains).
ready_code=000
deadline=$((SECONDS + 5))
while [ "$SECONDS" -lt "$deadline" ] && e2e_alive "$GW_PID"; do
  ready_code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$OPS/readyz" || true)"
  [ "$ready_code" != 200 ] && break
  sleep 0.02
done
check_eq "draining: /readyz is 503" 503 "$ready_code"
new_code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$GW/healthz" || true)"
check_eq "draining: a new connection is refused" 000 "$new_code"

# The gateway exits by itself; then every curl has its answer.
deadline=$((SECONDS + GRACE_MS / 1000 + 5))
while e2e_alive "$GW_PID" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.02; done
exit_ms=$(fault_now_ms)
status=0
if e2e_alive "$GW_PID"; then
  status=hang
  kill -KILL "$GW_PID"
fi
wait "$GW_PID" 2>/dev/null || status=$?
for pid in "${CURL_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
check_eq "the gateway exits with status 0" 0 "$status"

acknowledged=0 lost=0 codes="" calls_ok=0
for i in $(seq 1 $CALLS); do
  read -r code <"$WORK/call$i.code" || code=000
  codes="$codes$code,"
  if [ "$code" = 200 ] && jq -e '.text | length > 0' "$WORK/call$i.body" >/dev/null 2>&1; then
    acknowledged=$((acknowledged + 1)) calls_ok=$((calls_ok + 1))
  else
    lost=$((lost + 1))
  fi
  grep -q '"code": *13' "$WORK/call$i.body" 2>/dev/null && fail "call $i: no INTERNAL" "$(cat "$WORK/call$i.body")"
done
stream_code="$(cat "$WORK/stream.code" 2>/dev/null || echo 000)"
codes="${codes}stream:$stream_code"
if [ "$stream_code" = 200 ] && grep -q '"summary"' "$WORK/stream.body" &&
  ! grep -q '^event: error' "$WORK/stream.body"; then
  acknowledged=$((acknowledged + 1))
else
  lost=$((lost + 1))
fi
check_eq "every call in flight completes (200 with an answer)" "$CALLS" "$calls_ok"
check_eq "the stream completes with its summary and no error event" 200 "$stream_code"
check_eq "nothing lost" 0 "$lost"
drain_ms=$((exit_ms - sigterm_ms))
# The calls finish about 1.5-2.5 s after they started; the exit must follow them, not
# the 10 s grace period.
if [ "$drain_ms" -lt $((GRACE_MS / 2)) ]; then
  pass "the gateway exits right after its last response (${drain_ms} ms after SIGTERM, grace ${GRACE_MS} ms)"
else
  fail "the gateway exits right after its last response" "${drain_ms} ms after SIGTERM (grace ${GRACE_MS} ms)"
fi

# With nothing in flight (an idle keep-alive connection open), SIGTERM ends it at once.
start_gateway 2
hostport="${GW#http://}"
exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&3
read -r -t 5 status_line <&3 || status_line=""
check_eq "idle: a keep-alive request is answered" "HTTP/1.1 200 OK" "${status_line%$'\r'}"
sigterm2_ms=$(fault_now_ms)
kill -TERM "$GW_PID"
deadline=$((SECONDS + GRACE_MS / 1000 + 5))
while e2e_alive "$GW_PID" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.02; done
idle_exit_ms=$(($(fault_now_ms) - sigterm2_ms))
status2=0
wait "$GW_PID" 2>/dev/null || status2=$?
exec 3>&-
check_eq "idle: the gateway exits with status 0" 0 "$status2"
if [ "$idle_exit_ms" -lt $((GRACE_MS / 2)) ]; then
  pass "idle: the gateway exits at once (${idle_exit_ms} ms)"
else
  fail "idle: the gateway exits at once" "${idle_exit_ms} ms (grace ${GRACE_MS} ms)"
fi

fault_report faults_gw_sigterm "acknowledged=$acknowledged" "lost=$lost" duplicated=0 \
  "codes=$codes" "drain_ms=$drain_ms" "idle_exit_ms=$idle_exit_ms" "grace_ms=$GRACE_MS"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
