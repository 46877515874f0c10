#!/usr/bin/env bash
# Fault: kill -9 of genesis-reasoning three times while a client creates cases through the
# REST gateway as fast as it can, restarting it on the same port each time.
# Expected: every case the gateway acknowledged (200 with a name) is there afterwards with
# its question; the client saw only 200 or 503/504 (never 500, never a hang past its
# 10 s timeout); no question was stored twice (the client never retries a create).
# shellcheck disable=SC2016
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../e2e/lib.sh
source "$HERE/../e2e/lib.sh"
# shellcheck source=../e2e/harness.sh
source "$HERE/../e2e/harness.sh"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

e2e_require_pg
e2e_require_tools jq curl python3
e2e_bin BIN GENESIS_REASONING_BIN services/reasoning/genesis-reasoning
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
e2e_init fault-kill9-reasoning
e2e_fresh_db faultreason
db_sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$DB_DSN" -c "$1"; }

GRPC_PORT="$(fault_free_port)"
start_reasoning() {
  e2e_start ADDR "reasoning$1" 's/^genesis-reasoning grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
    "$BIN" --grpc_port="$GRPC_PORT" --metrics_port=-1 --pg_dsn="$DB_DSN" --log_level=warn
  REASONING_PID="$E2E_PID"
}
start_reasoning 0
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 --auth=off --rate_limit=100000/s \
  --backend="genesis.reasoning.v1.ReasoningService=$ADDR"
pass "reasoning $ADDR behind the gateway $GW"

# The client: one create after another until $WORK/stop exists; one line per call,
# "<http code> <question> <case name>".
client() {
  local i=0 code body
  while [ ! -e "$WORK/stop" ]; do
    i=$((i + 1))
    body="$(curl -s --max-time 10 -o - -w '\n%{http_code}' -X POST "http://$GW/v1/cases" \
      -H 'Content-Type: application/json' \
      --data-binary "{\"question\": \"q-$1-$i\", \"owner\": \"faults\"}" || printf '\n000')"
    code="${body##*$'\n'}"
    echo "$code q-$1-$i $(jq -r '.name // "-"' <<<"${body%$'\n'*}" 2>/dev/null || echo -)"
  done >"$WORK/client$1.log"
}
client 1 &
C1=$!
client 2 &
C2=$!
fault_at_exit "touch $WORK/stop; kill $C1 $C2 2>/dev/null"

wait_acks() { # until the clients have N more acknowledged creates (20 s)
  local want=$(($(cat "$WORK"/client*.log | grep -c '^200 ' || true) + $1)) deadline=$((SECONDS + 20))
  while [ "$(cat "$WORK"/client*.log | grep -c '^200 ' || true)" -lt "$want" ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
recovery_ms=0
for k in 1 2 3; do
  wait_acks 30 || fail "creates acknowledged before kill $k"
  kill -KILL "$REASONING_PID"
  wait "$REASONING_PID" 2>/dev/null || true
  t0="$(fault_now_ms)"
  start_reasoning "$k"
  wait_acks 1 || fail "creates acknowledged again after restart $k"
  recovery_ms=$((recovery_ms > $(fault_now_ms) - t0 ? recovery_ms : $(fault_now_ms) - t0))
done
wait_acks 20 || fail "creates acknowledged after the last restart"
touch "$WORK/stop"
wait "$C1" "$C2" 2>/dev/null || true

cat "$WORK"/client*.log >"$WORK/all.log"
acked="$(grep -c '^200 ' "$WORK/all.log" || true)"
codes="$(awk '{print $1}' "$WORK/all.log" | sort | uniq -c | awk '{printf "%s%s:%s", sep, $2, $1; sep=","}')"
# Every acknowledged case, by name, with its question.
grep '^200 ' "$WORK/all.log" | awk '{print $3 "\t" $2}' >"$WORK/acked.tsv"
db_sql "SELECT 'cases/' || id, question FROM reasoning.cases" >"$WORK/db.tsv"
lost="$(awk -F'\t' 'NR == FNR { have[$1 "\t" $2] = 1; next } !(($1 "\t" $2) in have)' \
  <(tr '|' '\t' <"$WORK/db.tsv") "$WORK/acked.tsv" | wc -l)"
dups="$(cut -d'|' -f2 "$WORK/db.tsv" | sort | uniq -d | wc -l)"
bad="$(awk '$1 != 200 && $1 != 503 && $1 != 504' "$WORK/all.log" | wc -l)"
fault_report mesh_kill9_reasoning "acknowledged=$acked lost=$lost duplicated=$dups codes=$codes recovery_s=$(awk -v m="$recovery_ms" 'BEGIN { printf "%.1f", m / 1000 }') kills=3"
check_eq "every acknowledged case survives three kill -9s" 0 "$lost"
check_eq "no question stored twice" 0 "$dups"
check_eq "clients saw only 200, 503 or 504" 0 "$bad"
[ "$acked" -ge 80 ] && pass "$acked creates acknowledged" || fail "enough creates acknowledged" "$acked"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
