#!/usr/bin/env bash
# Fault: the router's subject settings table is locked (another session holds
# `LOCK TABLE llm_router.subject_settings IN ACCESS EXCLUSIVE MODE`), so the sandbox mode of a
# subject cannot be read. Expected: every call of a subject whose mode is not already known
# fails UNAVAILABLE (retriable, a stable message without database text) within its deadline;
# none is answered marked `sandbox` (callers drop sandbox answers: that was a silent loss of
# replies) and none unmarked for a subject that is in sandbox mode; once the lock is gone,
# calls are answered again with the right mode.
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

e2e_init faults-router-settings-locked
e2e_fresh_db frsl
db_sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$DB_DSN" -c "$1"; }
SVC=genesis.llmrouter.v1.LlmRouterService

e2e_start SIM llmsim 's/^genesis-llm-simulator http=\([0-9.]*:[0-9]*\)$/http:\/\/\1/p' -- \
  "$SIM_BIN" --http_port=0
e2e_start ROUTER_ADDR router \
  's/^genesis-llm-router grpc=\([0-9.]*:[0-9]*\) metrics=\([0-9.]*:[0-9]*\)$/\1 \2/p' -- \
  "$ROUTER_BIN" --grpc_port=0 --metrics_port=0 --pg_dsn="$DB_DSN" \
  --models_config="$ROOT/services/llm_router/config/models.json" --simulator_url="$SIM" \
  --response_cache_ttl_s=0 --settings_read_timeout_ms=1000 --settings_cache_ms=0 \
  --log_level=warn
URL="http://${ROUTER_ADDR% *}"
OPS="http://${ROUTER_ADDR#* }"
ask() { jq -cn --arg s "$1" '{messages: [{role: "ROLE_USER", content: "olá"}], task: "TASK_CHAT",
  subject: $s}'; }

# A subject in sandbox mode, and one answered normally, before the fault.
call UpdateSubjectSettings '{"settings": {"name": "subjects/tester/settings", "sandbox": true},
  "updateMask": "sandbox"}'
call Complete "$(ask tester)"
check_jq "before the lock: the sandbox subject's answer is marked sandbox" "$R" '.sandbox == true'
call Complete "$(ask before)"
check_jq "before the lock: an ordinary subject's answer is not marked" "$R" '.sandbox != true'

# --- the fault: the table locked by another session ------------------------------------------
"$PSQL" -X -q -d "$DB_DSN" -c "BEGIN; LOCK TABLE llm_router.subject_settings IN ACCESS EXCLUSIVE
  MODE; SELECT pg_sleep(40); COMMIT;" >/dev/null 2>&1 &
LOCKER=$!
fault_at_exit "kill $LOCKER 2>/dev/null"
fault_at_exit "db_sql \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE
  datname = current_database() AND pid <> pg_backend_pid()\" >/dev/null 2>&1"
locked() {
  [ "$(db_sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE c.relname = 'subject_settings' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1 ]
}
deadline=$((SECONDS + 10))
until locked; do
  [ "$SECONDS" -lt "$deadline" ] || { fail "the lock is taken within 10 s"; exit 1; }
  sleep 0.05
done
pass "llm_router.subject_settings locked by another session"

# Ten calls at once while it is locked (the sandbox subject and new ones; the settings cache is
# off, so each call reads the table — with it on, a mode read within --settings_cache_ms is
# answered from memory, correctly): each must fail UNAVAILABLE, none may be answered.
N=10
CALLS=()
for i in $(seq 1 $N); do
  subject="locked-$i"
  [ "$i" -ne 1 ] || subject=tester
  ( "$BUF" curl --protocol grpc --http2-prior-knowledge --timeout 20s -d "$(ask "$subject")" \
      "$URL/$SVC/Complete" >"$WORK/call$i.out" 2>&1 || true ) &
  CALLS+=($!)
done
for p in "${CALLS[@]}"; do wait "$p" || true; done
UNAVAILABLE=0 ANSWERED=0 SANDBOX=0 LEAKED=0 CODES=()
for i in $(seq 1 $N); do
  out="$(cat "$WORK/call$i.out")"
  code="$(jq -rs 'map(.code // empty) | .[0] // "ok"' <<<"$out" 2>/dev/null || echo unparsable)"
  CODES+=("$code")
  [ "$code" != unavailable ] || UNAVAILABLE=$((UNAVAILABLE + 1))
  if [ "$code" = ok ]; then
    ANSWERED=$((ANSWERED + 1))
    ! jq_true "$out" '.sandbox == true' || SANDBOX=$((SANDBOX + 1))
  fi
  if grep -qiE 'statement|relation|canceling|llm_router\.|pqxx|postgres' <<<"$out"; then
    LEAKED=$((LEAKED + 1))
    echo "# call $i leaked database text: $(head -c 300 <<<"$out")"
  fi
done
check_eq "while locked: every call fails UNAVAILABLE (retriable)" "$N" "$UNAVAILABLE"
check_eq "while locked: no answer at all (none marked sandbox, none unmarked)" 0 "$ANSWERED"
check_eq "while locked: no database text in any error message" 0 "$LEAKED"
check "while locked: the message says what to do" grep -q "retry" "$WORK/call2.out"
check "the lock was still held during the calls" locked

# --- the lock is released ----------------------------------------------------------------------
db_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%pg_sleep(40)%'" \
  >/dev/null
released_at="$(fault_now_ms)"
RECOVERED=""
deadline=$((SECONDS + 20))
while [ "$SECONDS" -lt "$deadline" ]; do
  rpc "$SVC/Complete" "$(ask after)"
  if [ "$RC" -eq 0 ]; then
    RECOVERED="$(fault_now_ms)"
    break
  fi
  sleep 0.1
done
check "after the lock: calls are answered again" test -n "$RECOVERED"
check_jq "after the lock: an ordinary subject's answer is not marked" "$OUT" '.sandbox != true'
call Complete "$(ask tester)"
check_jq "after the lock: the sandbox subject's answer is marked sandbox again" "$R" \
  '.sandbox == true'
RECOVERY_S="$(awk -v a="$released_at" -v b="${RECOVERED:-$released_at}" \
  'BEGIN { printf "%.1f", (b - a) / 1000 }')"
CODE_SUMMARY="$(printf '%s\n' "${CODES[@]}" | sort | uniq -c | awk '{printf "%s%s:%s", s, $2, $1; s=","}')"
fault_report faults_router_settings_locked "calls_while_locked=$N answered=$ANSWERED" \
  "sandbox_answers=$SANDBOX lost=0 codes=$CODE_SUMMARY recovery_s=$RECOVERY_S"
if grep -q '"code": *"internal"' "$WORK"/call*.out; then fail "no INTERNAL"; fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
