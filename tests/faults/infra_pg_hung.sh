#!/usr/bin/env bash
# faults_infra_pg_hung: the PostgreSQL backend serving the catalog is stopped (SIGSTOP): it
# can no longer enforce statement_timeout and its socket stays open. Every call still ends
# by its deadline (DEADLINE_EXCEEDED or UNAVAILABLE, never a hang), the pool discards the
# hung connection and later calls succeed on a new one; the service stays ready.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source ../e2e/lib.sh
source ../e2e/harness.sh
source ./lib.sh
source ./infra_lib.sh

infra_init faults-infra-pg-hung
fault_pg_start pg
# One connection, so the stopped backend is the one the next call gets.
infra_catalog_start --pg_dsn="$PG_DSN" --pg_pool_size=1
"$DRIVER" type "$CATALOG" lead >/dev/null
NAME="$("$DRIVER" put "$CATALOG" lead "item")"
"$DRIVER" get "$CATALOG" "$NAME" 20 2000 >"$WORK/before"
check_eq "before: every GetItem is OK" 20 "$(infra_summary "$WORK/before" ok)"

psql_pg() { "$FAULT_PG_BIN/psql" -X -q -tA -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "$1"; }
BACKEND="$(psql_pg "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'
                    AND pid <> pg_backend_pid() AND datname = 'postgres' ORDER BY pid LIMIT 1")"
check "the catalog's backend is found" [ -n "$BACKEND" ]
kill -STOP "$BACKEND"
fault_at_exit "kill -CONT $BACKEND 2>/dev/null"
DEADLINE_MS=1000
"$DRIVER" get "$CATALOG" "$NAME" 40 "$DEADLINE_MS" >"$WORK/during"
CODES="$(infra_summary "$WORK/during" codes)"
MAX_US="$(infra_summary "$WORK/during" max_us)"
check "every call ended by its deadline, none hung (max ${MAX_US} us)" \
  [ "$MAX_US" -lt $(((DEADLINE_MS + 1000) * 1000)) ]
check "codes seen are only OK, DEADLINE_EXCEEDED and UNAVAILABLE ($CODES)" \
  bash -c '[[ "$1" =~ ^((OK|DEADLINE_EXCEEDED|UNAVAILABLE):[0-9]+,?)+$ ]]' _ "$CODES"
FIRST_OK_LINE="$(grep -n '^call OK' "$WORK/during" | head -1 | cut -d: -f1)"
check "the pool recovered: calls succeed on a new connection" [ -n "$FIRST_OK_LINE" ]
check_eq "once recovered, every call is OK" 0 \
  "$(tail -n +"${FIRST_OK_LINE:-1}" "$WORK/during" | grep '^call' | grep -vc '^call OK' || true)"
HUNG="$(infra_metric 'genesis_pg_pool_hung_total{pool="catalog"}')"
check "the hung connection was shut down ($HUNG)" [ "${HUNG%.*}" -ge 1 ]
check_eq "/readyz stays 200" 200 "$(infra_readyz)"
RECOVERY_US="$(head -n "${FIRST_OK_LINE:-1}" "$WORK/during" | awk '/^call/{s += $3} END {print s + 0}')"
kill -CONT "$BACKEND"

fault_report faults_infra_pg_hung "codes=$CODES max_call_ms=$(infra_ms "$MAX_US")" \
  "hung_connections_replaced=${HUNG%.*} recovery_s=$(awk -v us="$RECOVERY_US" 'BEGIN{printf "%.2f", us/1e6}')"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
