#!/usr/bin/env bash
# End-to-end test of genesis-llm-router: the provider simulator and the router on a fresh
# PostgreSQL database, driven over real gRPC with `buf curl` (server reflection), the
# simulator's script/stats endpoints and psql: Complete, StreamComplete, Select explaining
# every candidate, P0 (personal data never reaches a cloud model; FAILED_PRECONDITION while
# the local model is down), fallback listed in the attempts, a spent budget ->
# RESOURCE_EXHAUSTED, feedback and an experiment report, the usage report, bad input ->
# INVALID_ARGUMENT naming the field, and the accounting rows in llm_router.executions in
# batched mode (ids as returned; SIGTERM writes what is queued) and in sync mode.
#
# Needs (scripts/test.sh exports them; ctest passes the binaries):
#   GENESIS_TEST_PG_DSN        DSN of the `postgres` maintenance database
#   GENESIS_BUF                the buf CLI (else .genesis/tools/node_modules/.bin/buf)
#   GENESIS_LLM_ROUTER_BIN     else $GENESIS_BUILD_DIR/services/llm_router/genesis-llm-router
#   GENESIS_LLM_SIMULATOR_BIN  else $GENESIS_BUILD_DIR/services/llm_router/simulator/genesis-llm-simulator
# Exits 77 (skipped) when the servers or tools are missing, 1 when a check fails.

# jq filters are single-quoted on purpose: their $names are jq variables.
# shellcheck disable=SC2016
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
# shellcheck source=rpc.sh
source "$(dirname "${BASH_SOURCE[0]}")/rpc.sh"

e2e_require_pg
e2e_require_tools jq curl
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUF="${GENESIS_BUF:-$ROOT/.genesis/tools/node_modules/.bin/buf}"
[ -x "$BUF" ] || e2e_skip "buf not found at $BUF (set GENESIS_BUF)"
e2e_bin ROUTER_BIN GENESIS_LLM_ROUTER_BIN services/llm_router/genesis-llm-router
e2e_bin SIM_BIN GENESIS_LLM_SIMULATOR_BIN services/llm_router/simulator/genesis-llm-simulator
MODELS_CONFIG="$ROOT/services/llm_router/config/models.json"

e2e_init llm-router-e2e
e2e_fresh_db llme2e
db_sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$DB_DSN" -c "$1"; }
SVC=genesis.llmrouter.v1.LlmRouterService

e2e_start SIM llmsim 's/^genesis-llm-simulator http=\([0-9.]*:[0-9]*\)$/http:\/\/\1/p' -- \
  "$SIM_BIN" --http_port=0
ROUTER_N=0
# start_router [FLAGS...]: a router on the test database and the simulator; sets URL, OPS
# and ROUTER_PID. No API keys reach it, so only the sim-* models are configured.
start_router() {
  ROUTER_N=$((ROUTER_N + 1))
  : >"$WORK/router$ROUTER_N.out" # read before the server has opened it
  e2e_start ROUTER_ADDR "router$ROUTER_N" \
    's/^genesis-llm-router grpc=\([0-9.]*:[0-9]*\) metrics=\([0-9.]*:[0-9]*\)$/\1 \2/p' -- \
    "$ROUTER_BIN" --grpc_port=0 --metrics_port=0 --pg_dsn="$DB_DSN" \
    --models_config="$MODELS_CONFIG" --simulator_url="$SIM" --response_cache_ttl_s=0 \
    --retry_max_attempts=1 --breaker_failures=2 --breaker_open_s=1 --log_level=warn "$@"
  ROUTER_PID="$E2E_PID"
  URL="http://${ROUTER_ADDR% *}"
  OPS="http://${ROUTER_ADDR#* }"
}
sim_script() { curl -sf --max-time 5 -X POST "$SIM/_sim/script" -d "$1" >/dev/null; }
sim_reset() { curl -sf --max-time 5 -X POST "$SIM/_sim/reset" >/dev/null; }
sim_requests() { curl -sf --max-time 5 "$SIM/_sim/stats" | jq -r --arg m "$1" '.requests[$m] // 0'; }
ask() { # ask TEXT [EXTRA_JSON_FIELDS]: a CompleteRequest
  local extra="${2:-}"
  [ -n "$extra" ] || extra='{}'
  jq -cn --arg t "$1" --argjson x "$extra" '{messages: [{role: "ROLE_USER", content: $t}]} + $x'
}
RETURNED=() # every execution id the router returned (executions/N)
remember() { RETURNED+=("$(jq -r '.execution // empty' <<<"$R")"); }

start_router --accounting_flush_ms=50
pass "simulator at $SIM, router at $URL (batched accounting)"

# --- Complete and StreamComplete --------------------------------------------------------------
call Complete "$(ask 'olá, tudo bem?' '{"task": "TASK_CHAT", "subject": "ana", "agent": "sdr"}')"
remember
check_jq "Complete: chat answered by the first configured model of its policy" "$R" \
  '.model == "models/sim-claude-sonnet" and (.text | length) > 0 and .simulated == true
   and .usage.inputTokens > 0 and (.execution | startswith("executions/"))'
FIRST_EXECUTION="$(jq -r .execution <<<"$R")"

rpc "$SVC/StreamComplete" "$(ask 'conte até cinco' '{"task": "TASK_CHAT", "subject": "ana"}')"
if [ "$RC" -eq 0 ]; then
  STREAM="$(jq -s '.' <<<"$OUT")"
  check_jq "StreamComplete: text messages, then one summary with model and usage" "$STREAM" \
    'length >= 2 and ([.[:-1][] | .text | length > 0] | all) and (.[-1].summary.model ==
     "models/sim-claude-sonnet") and .[-1].summary.usage.outputTokens > 0 and
     (.[-1].summary.execution | startswith("executions/"))'
  RETURNED+=("$(jq -r '.[-1].summary.execution' <<<"$STREAM")")
else
  fail "StreamComplete succeeds" "exit $RC: $OUT"
fi

# --- Select explains every candidate ----------------------------------------------------------
call Select "{\"request\": $(ask 'resuma este texto' '{"task": "TASK_CHAT"}')}"
check_jq "Select: eligible models ranked, the unconfigured ones rejected with a reason" "$R" \
  '.task == "TASK_CHAT" and ([.candidates[] | select(.eligible)] | sort_by(.rank) | .[0].model)
   == "models/sim-claude-sonnet" and ([.candidates[] | select(.model == "models/gpt-4o")][0] |
   .eligible != true and (.reason | length) > 0) and ([.candidates[] | select(.eligible != true)
   | .reason | length > 0] | all)'

# --- P0: personal data stays on the local model -----------------------------------------------
CPF_ASK="$(ask 'meu CPF é 529.982.247-25, pode conferir?' '{"task": "TASK_CHAT", "subject": "ana"}')"
call Complete "$CPF_ASK"
remember
check_jq "P0: a CPF in the prompt is answered by the local model, marked sensitive" "$R" \
  '.model == "models/sim-local" and .sensitive == true'
sim_reset
sim_script '{"model": "sim-local", "fail_status": 503}'
expect_code unavailable Complete "$CPF_ASK" "sensitive, local model failing"
check_jq "  ... only the local model was tried" "$R" \
  '(.message | contains("sim-local")) and (.message | contains("sim-claude") | not)'
expect_code unavailable Complete "$CPF_ASK" "sensitive, local model failing again (breaker opens)"
expect_code failed_precondition Complete "$CPF_ASK" "sensitive, local model's breaker open"
check_eq "  ... no cloud model received a request meanwhile" "0 0 0" \
  "$(sim_requests sim-claude-sonnet) $(sim_requests sim-gpt-4o) $(sim_requests sim-gemini-pro)"
sim_reset
sleep 1.1 # --breaker_open_s=1: half-open again

# --- Fallback listed in the attempts ----------------------------------------------------------
sim_script '{"model": "sim-claude-sonnet", "fail_status": 503, "fail_count": 1}'
call Complete "$(ask 'e agora?' '{"task": "TASK_CHAT", "subject": "ana"}')"
remember
check_jq "Fallback: the next model of the policy answered, both attempts listed" "$R" \
  '.model == "models/sim-gpt-4o" and (.attempts | length) == 2 and .attempts[0].model ==
   "models/sim-claude-sonnet" and .attempts[0].outcome == "ATTEMPT_OUTCOME_FAILED" and
   .attempts[0].httpStatus == 503 and .attempts[1].outcome == "ATTEMPT_OUTCOME_OK"'
sim_reset

# --- Budgets ----------------------------------------------------------------------------------
call SetBudget '{"budget": {"scope": "BUDGET_SCOPE_SUBJECT", "owner": "bob",
  "period": "BUDGET_PERIOD_DAY", "tokenLimit": "10"}}'
check_jq "SetBudget: bob may use 10 tokens a day" "$R" '.owner == "bob" and .tokenLimit == "10"'
call Complete "$(ask 'uma pergunta longa o bastante para gastar mais de dez tokens' \
  '{"task": "TASK_CHAT", "subject": "bob"}')"
remember
expect_code resource_exhausted Complete "$(ask 'outra' '{"task": "TASK_CHAT", "subject": "bob"}')" \
  "bob past his budget"
check_jq "  ... naming the budget" "$R" '.message | contains("budget of subject '"'"'bob'"'"' per day")'
call ListBudgets '{"owner": "bob"}'
check_jq "ListBudgets: bob's usage counted" "$R" '(.budgets[0].usedTokens | tonumber) > 10'

# --- Feedback and an experiment ---------------------------------------------------------------
call RecordFeedback "{\"execution\": \"$FIRST_EXECUTION\", \"score\": 5, \"subject\": \"ana\"}"
check_jq "RecordFeedback on the first execution" "$R" --arg e "$FIRST_EXECUTION" \
  '.execution == $e and .score == 5'
call CreateExperiment '{"experimentId": "e2e-ab", "experiment": {"task": "TASK_SUMMARIZATION",
  "arms": [{"id": "mini", "model": "models/sim-gpt-4o-mini", "percent": 50},
           {"id": "flash", "model": "models/sim-gemini-flash", "percent": 50}]}}'
check_jq "CreateExperiment: running" "$R" '.name == "experiments/e2e-ab" and
  .state == "EXPERIMENT_STATE_RUNNING"'
EXP_CALLS=0 EXP_FEEDBACK=0
for s in s1 s2 s3 s4 s5 s6 s7 s8; do
  call Complete "$(ask 'resuma: o cliente quer saber o prazo de entrega' \
    "{\"task\": \"TASK_SUMMARIZATION\", \"subject\": \"$s\"}")"
  remember
  jq_true "$R" '.experiment == "experiments/e2e-ab" and (.arm == "mini" or .arm == "flash")' &&
    EXP_CALLS=$((EXP_CALLS + 1))
  if [ "$s" = s1 ] || [ "$s" = s2 ] || [ "$s" = s3 ]; then
    call RecordFeedback "{\"execution\": \"$(jq -r .execution <<<"$R")\", \"score\": 4,
      \"subject\": \"$s\"}"
    EXP_FEEDBACK=$((EXP_FEEDBACK + 1))
  fi
done
check_eq "every summarization call was routed by an arm" 8 "$EXP_CALLS"
call GetExperimentReport '{"name": "experiments/e2e-ab"}'
check_jq "GetExperimentReport: executions and feedback per arm add up" "$R" \
  --argjson n "$EXP_CALLS" --argjson f "$EXP_FEEDBACK" \
  '([.arms[] | .executions | tonumber] | add) == $n and
   ([.arms[] | (.feedbackCount // "0") | tonumber] | add) == $f'
call StopExperiment '{"name": "experiments/e2e-ab"}'
check_jq "StopExperiment" "$R" '.state == "EXPERIMENT_STATE_STOPPED"'

# --- Usage report -----------------------------------------------------------------------------
START="$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" END="$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
call GetUsageReport "{\"startTime\": \"$START\", \"endTime\": \"$END\",
  \"groupBy\": [\"USAGE_GROUP_BY_MODEL\"]}"
DB_ROWS="$(db_sql "SELECT count(*) FROM llm_router.executions")"
check_jq "GetUsageReport by model: every executions row counted" "$R" --argjson n "$DB_ROWS" \
  '([.rows[] | .requests | tonumber] | add) == $n and
   ([.rows[] | select(.model == "models/sim-gemini-flash" or .model == "models/sim-gpt-4o-mini")] | length) >= 1'

# --- Bad input names the field ----------------------------------------------------------------
expect_invalid messages Complete '{"task": "TASK_CHAT"}'
expect_invalid max_tokens Complete "$(ask 'oi' '{"maxTokens": -5}')"
expect_invalid budget.owner SetBudget '{"budget": {"scope": "BUDGET_SCOPE_SUBJECT",
  "period": "BUDGET_PERIOD_DAY", "tokenLimit": "10"}}'
expect_invalid score RecordFeedback "{\"execution\": \"$FIRST_EXECUTION\", \"score\": 9}"
expect_invalid end_time GetUsageReport "{\"startTime\": \"$END\", \"endTime\": \"$START\"}"
expect_code not_found RecordFeedback '{"execution": "executions/987654321", "score": 3,
  "subject": "ana"}' "unknown execution"

# --- Accounting rows --------------------------------------------------------------------------
# Every execution id returned is a row (batched: written within the flush interval).
WANT="$(printf '%s\n' "${RETURNED[@]}" | sed 's#^executions/##' | sort -n | tr '\n' ' ')"
GOT=""
for _ in $(seq 1 50); do
  GOT="$(db_sql "SELECT id FROM llm_router.executions WHERE outcome = 'ok' ORDER BY id" |
    grep -xF -f <(printf '%s\n' "${RETURNED[@]}" | sed 's#^executions/##') | sort -n |
    tr '\n' ' ' || true)"
  [ "$GOT" = "$WANT" ] && break
  sleep 0.1
done
check_eq "batched: every returned execution id is a row" "$WANT" "$GOT"
check_eq "batched: the failed and refused calls are rows too (3 P0, 1 budget)" 4 \
  "$(db_sql "SELECT count(*) FROM llm_router.executions WHERE outcome <> 'ok'")"
check "batched: rows written by the writer (metric)" \
  test "$(metric_value 'genesis_llm_router_accounting_rows_total{event="written"}')" != 0
check_eq "batched: no row written in the call nor lost" "0 0" \
  "$(metric_value 'genesis_llm_router_accounting_rows_total{event="sync_fallback"}') $(metric_value \
  'genesis_llm_router_accounting_rows_total{event="lost"}')"

# SIGTERM writes what is queued: a router that would wait a minute before writing.
e2e_stop "$ROUTER_PID"
start_router --migrate=false --accounting_flush_ms=60000
BEFORE="$(db_sql "SELECT count(*) FROM llm_router.executions")"
for i in 1 2 3; do call Complete "$(ask "pergunta $i" '{"task": "TASK_CHAT", "subject": "cy"}')"; done
check_eq "batched, long flush interval: the 3 rows are still queued" "$BEFORE" \
  "$(db_sql "SELECT count(*) FROM llm_router.executions")"
e2e_stop "$ROUTER_PID"
check_eq "SIGTERM: the router exits 0" 0 "$E2E_STOP_STATUS"
check_eq "SIGTERM: the queued rows were written before exiting" 3 \
  "$(db_sql "SELECT count(*) FROM llm_router.executions WHERE subject = 'cy'")"

# Sync mode: the row exists when the call returns.
start_router --migrate=false --accounting_mode=sync
call Complete "$(ask 'síncrono' '{"task": "TASK_CHAT", "subject": "dora"}')"
ID="$(jq -r '.execution | sub("executions/"; "")' <<<"$R")"
check_eq "sync: the row is there when Complete returns" "dora" \
  "$(db_sql "SELECT subject FROM llm_router.executions WHERE id = ${ID:-0}")"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
