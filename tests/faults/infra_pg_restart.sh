#!/usr/bin/env bash
# faults_infra_pg_restart: the catalog under a stream of idempotent creates (request_id,
# retried by the client on UNAVAILABLE) while its PostgreSQL restarts, once fast and once
# immediate (crash-like). Nothing acknowledged is lost, no item is created twice, the codes
# seen are only OK and UNAVAILABLE; while PostgreSQL is down (no writable primary) /readyz
# and gRPC health turn NOT_SERVING, /healthz stays 200 and a read answers UNAVAILABLE at
# once; once it is back the catalog is ready again by itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source ../e2e/lib.sh
source ../e2e/harness.sh
source ./lib.sh
source ./infra_lib.sh

infra_init faults-infra-pg-restart
fault_pg_start pg
infra_catalog_start --pg_dsn="$PG_DSN" --pg_pool_size=4
"$DRIVER" type "$CATALOG" lead >/dev/null
NAME="$("$DRIVER" put "$CATALOG" lead "probe")"

"$DRIVER" create "$CATALOG" lead w 4 12 2000 >"$WORK/creates" &
WRITER=$!
sleep 3
fault_pg_restart fast 1
sleep 2
# Down, crash-like, for a moment: the service fails fast, reports NOT_SERVING (no writable
# primary: the writers' connection attempts fail) and stays live.
fault__as_pg "$FAULT_PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null
"$DRIVER" get "$CATALOG" "$NAME" 1 5000 >"$WORK/get_down"
readyz_is() { [ "$(infra_readyz)" = "$1" ]; }
deadline=$((SECONDS + 5))
until readyz_is 503 || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
READY_DOWN="$(infra_readyz)"
HEALTH_DOWN="$("$DRIVER" health "$CATALOG")"
LIVE_DOWN="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$OPS/healthz")"
sleep 1
fault__pg_ctl_start
deadline=$((SECONDS + 10))
until readyz_is 200 || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
check_eq "PostgreSQL down: /readyz turns 503" 503 "$READY_DOWN"
check_eq "PostgreSQL down: gRPC health turns NOT_SERVING" NOT_SERVING "$HEALTH_DOWN"
check_eq "PostgreSQL down: /healthz stays 200" 200 "$LIVE_DOWN"
check_eq "PostgreSQL back: /readyz 200 again, with no restart" 200 "$(infra_readyz)"
check_eq "PostgreSQL down: a read is UNAVAILABLE" UNAVAILABLE "$(awk '/^call/{print $2}' "$WORK/get_down")"
GET_DOWN_US="$(awk '/^call/{print $3}' "$WORK/get_down")"
check "PostgreSQL down: ... at once, not at its deadline (${GET_DOWN_US} us)" [ "$GET_DOWN_US" -lt 2000000 ]

wait "$WRITER"
"$DRIVER" list "$CATALOG" lead >"$WORK/list"
ACKED="$(infra_summary "$WORK/creates" acked)"
GAVEUP="$(infra_summary "$WORK/creates" gaveup)"
CODES="$(infra_summary "$WORK/creates" codes)"
LOST="$(awk 'NR==FNR { if ($1 == "item") have[$2]++; next } $1 == "ack" && !have[$2] { n++ } END { print n + 0 }' \
  "$WORK/list" "$WORK/creates")"
DUPLICATED="$(awk '$1 == "item" { c[$2]++ } END { for (t in c) if (c[t] > 1) n++; print n + 0 }' "$WORK/list")"
UNACKED_STORED="$(awk 'NR==FNR { if ($1 == "ack") a[$2] = 1; next } $1 == "item" && $2 ~ /^w-/ && !a[$2] { n++ } END { print n + 0 }' \
  "$WORK/creates" "$WORK/list")"
check "creates were acknowledged ($ACKED)" [ "${ACKED:-0}" -gt 0 ]
check_eq "no create gave up" 0 "$GAVEUP"
check_eq "nothing acknowledged is lost" 0 "$LOST"
check_eq "no item is duplicated" 0 "$DUPLICATED"
check "codes seen are only OK and UNAVAILABLE ($CODES)" \
  bash -c '[[ "$1" =~ ^(OK|UNAVAILABLE)(:[0-9]+)(,(OK|UNAVAILABLE):[0-9]+)*$ ]]' _ "$CODES"
fault_report faults_infra_pg_restart "acknowledged=$ACKED lost=$LOST duplicated=$DUPLICATED" \
  "unacknowledged_but_stored=$UNACKED_STORED codes=$CODES" \
  "recovery_s=$(awk -v ms="$(infra_summary "$WORK/creates" max_outage_ms)" 'BEGIN{printf "%.2f", ms/1000}')"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
