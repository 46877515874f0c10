#!/usr/bin/env bash
# Fault: the chat model's provider misbehaves (the provider simulator's scripted failures on
# sim-claude-sonnet, first of the chat policy; its fallbacks are sim-gpt-4o, then sim-local).
# Expected, over real gRPC with the router's default timeouts and back-off:
#   - a burst of 5xx shorter than the tries per model is retried on the same model; a longer
#     one falls back to the next model;
#   - 429 with a short Retry-After is honoured (same model); a Retry-After that does not fit in
#     the caller's deadline moves to the fallback at once;
#   - a hung model (plain call and stream; a stream that sends its opening event and then
#     nothing) falls back within the caller's deadline (10 s here), instead of waiting out
#     the whole deadline;
#   - a stream cut, or stalled, after its first tokens ends with an error after those tokens,
#     and is never silently restarted on another model.
# Never INTERNAL, never a hang (each call has a client deadline). Prints the codes seen.
#
# Needs GENESIS_TEST_PG_DSN, buf, jq, curl and the binaries (as tests/e2e/llm_router_e2e.sh).

# jq filters are single-quoted on purpose: their $names are jq variables.
# shellcheck disable=SC2016
set -euo pipefail
HERE="$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=../e2e/lib.sh
source "$HERE/../e2e/lib.sh"
# shellcheck source=../e2e/harness.sh
source "$HERE/../e2e/harness.sh"
# shellcheck source=../e2e/rpc.sh
source "$HERE/../e2e/rpc.sh"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

e2e_require_pg
e2e_require_tools jq curl
ROOT="$(cd "$HERE/../.." && pwd)"
BUF="${GENESIS_BUF:-$ROOT/.genesis/tools/node_modules/.bin/buf}"
[ -x "$BUF" ] || e2e_skip "buf not found at $BUF (set GENESIS_BUF)"
e2e_bin ROUTER_BIN GENESIS_LLM_ROUTER_BIN services/llm_router/genesis-llm-router
e2e_bin SIM_BIN GENESIS_LLM_SIMULATOR_BIN services/llm_router/simulator/genesis-llm-simulator

e2e_init faults-router-provider
e2e_fresh_db frp
SVC=genesis.llmrouter.v1.LlmRouterService

e2e_start SIM llmsim 's/^genesis-llm-simulator http=\([0-9.]*:[0-9]*\)$/http:\/\/\1/p' -- \
  "$SIM_BIN" --http_port=0
# Default timeouts and back-off, but a breaker that does not open during the scenario (each
# case starts with every model closed) and a short stream idle timeout (a stall case).
e2e_start ROUTER_ADDR router \
  's/^genesis-llm-router grpc=\([0-9.]*:[0-9]*\) metrics=\([0-9.]*:[0-9]*\)$/\1 \2/p' -- \
  "$ROUTER_BIN" --grpc_port=0 --metrics_port=0 --pg_dsn="$DB_DSN" \
  --models_config="$ROOT/services/llm_router/config/models.json" --simulator_url="$SIM" \
  --response_cache_ttl_s=0 --breaker_failures=1000 --stream_idle_timeout_ms=1000 \
  --log_level=warn
URL="http://${ROUTER_ADDR% *}"
OPS="http://${ROUTER_ADDR#* }"
PRIMARY=sim-claude-sonnet
FALLBACK=sim-gpt-4o
sim_script() { curl -sf --max-time 5 -X POST "$SIM/_sim/script" -d "$1" >/dev/null; }
sim_reset() { curl -sf --max-time 5 -X POST "$SIM/_sim/reset" >/dev/null; }
sim_requests() { curl -sf --max-time 5 "$SIM/_sim/stats" | jq -r --arg m "$1" '.requests[$m] // 0'; }
ask() { jq -cn --arg t "$1" '{messages: [{role: "ROLE_USER", content: $t}], task: "TASK_CHAT"}'; }
CODES=()
# call_with METHOD DEADLINE JSON: OUT (stdout + stderr), RC, CODE (ok or the gRPC code), SECS.
call_with() {
  local start
  start="$(fault_now_ms)"
  RC=0
  OUT="$("$BUF" curl --protocol grpc --http2-prior-knowledge --timeout "$2" -d "$3" \
    "$URL/$SVC/$1" 2>&1)" || RC=$?
  SECS="$(awk -v a="$start" -v b="$(fault_now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
  CODE=ok
  [ "$RC" -eq 0 ] || CODE="$(jq -rs 'map(.code // empty) | .[0] // "unparsable"' <<<"$OUT" \
    2>/dev/null || echo unparsable)"
  CODES+=("$CODE")
  echo "# $1 ($2 deadline): $CODE after ${SECS}s"
}
model_of() { jq -rs 'map(.model // .summary.model // empty) | .[0] // ""' <<<"$OUT"; }

# --- 5xx burst --------------------------------------------------------------------------------
sim_reset
sim_script "{\"model\": \"$PRIMARY\", \"fail_status\": 503, \"fail_count\": 2}"
call_with Complete 10s "$(ask 'burst curta')"
check_eq "503 x2: answered" ok "$CODE"
check_eq "503 x2: retried on the same model" "models/$PRIMARY" "$(model_of)"
check_eq "503 x2: three requests to it" 3 "$(sim_requests $PRIMARY)"

sim_reset
sim_script "{\"model\": \"$PRIMARY\", \"fail_status\": 503, \"fail_count\": 10}"
call_with Complete 10s "$(ask 'burst longa')"
check_eq "503 x10: answered" ok "$CODE"
check_eq "503 x10: by the fallback after the tries per model" "models/$FALLBACK" "$(model_of)"
check_jq "503 x10: the attempts list the failed tries" "$OUT" \
  '[.attempts[] | select(.model == "models/sim-claude-sonnet")] | length == 3'

# --- 429 + Retry-After ------------------------------------------------------------------------
sim_reset
sim_script "{\"model\": \"$PRIMARY\", \"fail_status\": 429, \"fail_count\": 1, \"retry_after_s\": 1}"
call_with Complete 10s "$(ask 'limite curto')"
check_eq "429, Retry-After 1 s: answered" ok "$CODE"
check_eq "429, Retry-After 1 s: honoured, same model" "models/$PRIMARY" "$(model_of)"

sim_reset
sim_script "{\"model\": \"$PRIMARY\", \"fail_status\": 429, \"retry_after_s\": 60}"
call_with Complete 10s "$(ask 'limite longo')"
check_eq "429, Retry-After 60 s: answered" ok "$CODE"
check_eq "429, Retry-After 60 s (past the deadline): the fallback at once" "models/$FALLBACK" \
  "$(model_of)"
check_eq "429, Retry-After 60 s: one request to the limited model" 1 "$(sim_requests $PRIMARY)"

# --- hang -------------------------------------------------------------------------------------
sim_reset
sim_script "{\"model\": \"$PRIMARY\", \"hang\": true}"
call_with Complete 10s "$(ask 'modelo travado')"
check_eq "hung model, plain call: answered within the caller's deadline" ok "$CODE"
check_eq "hung model, plain call: by the fallback" "models/$FALLBACK" "$(model_of)"
HANG_PLAIN_S="$SECS"
call_with StreamComplete 10s "$(ask 'modelo travado em stream')"
check_eq "hung model, stream: answered within the caller's deadline" ok "$CODE"
check_eq "hung model, stream: by the fallback" "models/$FALLBACK" "$(model_of)"
check_jq "hung model, stream: text then the summary" "$(jq -s . <<<"$OUT")" \
  'length >= 2 and ([.[:-1][] | .text | length > 0] | all) and .[-1].summary != null'
HANG_STREAM_S="$SECS"
# Headers and the protocol's opening event (Anthropic's message_start), then silence.
sim_reset
sim_script "{\"model\": \"$PRIMARY\", \"stall_after_chunks\": 0}"
call_with StreamComplete 10s "$(ask 'modelo mudo')"
check_eq "silent after its opening event, stream: answered within the deadline" ok "$CODE"
check_eq "silent after its opening event, stream: by the fallback" "models/$FALLBACK" "$(model_of)"

# --- a stream cut / stalled after its first tokens --------------------------------------------
for mode in drop_after_chunks stall_after_chunks; do
  sim_reset
  sim_script "{\"model\": \"$PRIMARY\", \"$mode\": 2}"
  call_with StreamComplete 10s "$(ask 'um dois três quatro cinco seis')"
  check_eq "$mode=2: the stream ends with UNAVAILABLE" unavailable "$CODE"
  check_jq "$mode=2: the first tokens arrived before the error" "$(jq -s . <<<"$OUT" 2>/dev/null ||
    echo '[]')" '[.[] | select(.text != null)] | length >= 1'
  check_jq "$mode=2: no summary (it did not end as if complete)" "$(jq -s . <<<"$OUT" 2>/dev/null ||
    echo '[]')" '[.[] | select(.summary != null)] | length == 0'
  check_eq "$mode=2: not restarted on another model" 0 "$(sim_requests $FALLBACK)"
  check_eq "$mode=2: nor on the same one" 1 "$(sim_requests $PRIMARY)"
done

sim_reset
call_with Complete 10s "$(ask 'de volta')"
check_eq "healthy again: answered by the primary" "models/$PRIMARY" "$(model_of)"

INTERNAL=0 HUNG=0
for c in "${CODES[@]}"; do
  [ "$c" != internal ] || INTERNAL=$((INTERNAL + 1))
  [ "$c" != deadline_exceeded ] || HUNG=$((HUNG + 1))
done
check_eq "no INTERNAL" 0 "$INTERNAL"
check_eq "no call ran into its deadline" 0 "$HUNG"
CODE_SUMMARY="$(printf '%s\n' "${CODES[@]}" | sort | uniq -c | awk '{printf "%s%s:%s", s, $2, $1; s=","}')"
fault_report faults_router_provider "calls=${#CODES[@]} lost=0 codes=$CODE_SUMMARY" \
  "hang_fallback_s=$HANG_PLAIN_S hang_stream_fallback_s=$HANG_STREAM_S"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
