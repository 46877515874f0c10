#!/usr/bin/env bash
# faults_infra_kill9_catalog: the catalog is killed (-9) twice under a stream of idempotent
# creates (request_id, retried by the client on UNAVAILABLE) and started again on the same
# port. Nothing acknowledged is lost, nothing is created twice, the codes seen are only OK
# and UNAVAILABLE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source ../e2e/lib.sh
source ../e2e/harness.sh
source ./lib.sh
source ./infra_lib.sh

infra_init faults-infra-kill9-catalog
fault_pg_start pg
infra_catalog_start --pg_dsn="$PG_DSN"
"$DRIVER" type "$CATALOG" lead >/dev/null

"$DRIVER" create "$CATALOG" lead w 4 10 2000 >"$WORK/creates" &
WRITER=$!
RESTART_MS=0
for at in 2 3; do
  sleep "$at"
  infra_catalog_kill9
  t0="$(fault_now_ms)"
  infra_catalog_start --pg_dsn="$PG_DSN"
  RESTART_MS=$((RESTART_MS + $(fault_now_ms) - t0))
done
wait "$WRITER"
"$DRIVER" list "$CATALOG" lead >"$WORK/list"
ACKED="$(infra_summary "$WORK/creates" acked)"
GAVEUP="$(infra_summary "$WORK/creates" gaveup)"
CODES="$(infra_summary "$WORK/creates" codes)"
LOST="$(awk 'NR==FNR { if ($1 == "item") have[$2]++; next } $1 == "ack" && !have[$2] { n++ } END { print n + 0 }' \
  "$WORK/list" "$WORK/creates")"
DUPLICATED="$(awk '$1 == "item" { c[$2]++ } END { for (t in c) if (c[t] > 1) n++; print n + 0 }' "$WORK/list")"
check "creates were acknowledged ($ACKED)" [ "${ACKED:-0}" -gt 0 ]
check_eq "no create gave up" 0 "$GAVEUP"
check_eq "nothing acknowledged is lost" 0 "$LOST"
check_eq "no item is duplicated" 0 "$DUPLICATED"
check "codes seen are only OK and UNAVAILABLE ($CODES)" \
  bash -c '[[ "$1" =~ ^(OK|UNAVAILABLE)(:[0-9]+)(,(OK|UNAVAILABLE):[0-9]+)*$ ]]' _ "$CODES"
fault_report faults_infra_kill9_catalog "acknowledged=$ACKED lost=$LOST duplicated=$DUPLICATED" \
  "codes=$CODES kills=2 restart_s=$(awk -v ms="$RESTART_MS" 'BEGIN{printf "%.2f", ms/2000}')" \
  "recovery_s=$(awk -v ms="$(infra_summary "$WORK/creates" max_outage_ms)" 'BEGIN{printf "%.2f", ms/1000}')"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
