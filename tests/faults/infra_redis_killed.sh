#!/usr/bin/env bash
# faults_infra_redis_killed: the catalog's Redis is killed (-9) and later started again on
# the same port. Calls keep answering OK from PostgreSQL meanwhile, /readyz and gRPC health
# stay ready; an item updated while Redis is gone is read fresh once it is back, and the
# cache is used again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source ../e2e/lib.sh
source ../e2e/harness.sh
source ./lib.sh
source ./infra_lib.sh

infra_init faults-infra-redis-killed
fault_pg_start pg
fault_redis_start redis
infra_catalog_start --pg_dsn="$PG_DSN" --redis_url="$REDIS_URL"
"$DRIVER" type "$CATALOG" lead >/dev/null
NAME="$("$DRIVER" put "$CATALOG" lead "before")"
"$DRIVER" get "$CATALOG" "$NAME" 100 2000 >"$WORK/before"
check_eq "before: every GetItem is OK" 100 "$(infra_summary "$WORK/before" ok)"
P50_BEFORE_US="$(infra_summary "$WORK/before" p50_us)"

kill -KILL "$REDIS_PID"
check_eq "an update while Redis is down is OK" OK "$("$DRIVER" update "$CATALOG" "$NAME" during 5000)"
"$DRIVER" get "$CATALOG" "$NAME" 100 2000 >"$WORK/during"
check_eq "during: every GetItem is OK" 100 "$(infra_summary "$WORK/during" ok)"
check_eq "during: every read is fresh" 100 "$(grep -c '^call OK [0-9]* during$' "$WORK/during" || true)"
P50_DURING_US="$(infra_summary "$WORK/during" p50_us)"
check "during: the median call waits on no Redis timeout (p50 ${P50_DURING_US} us < 100 ms)" \
  [ "$P50_DURING_US" -lt 100000 ]
check_eq "during: /readyz stays 200" 200 "$(infra_readyz)"
check_eq "during: gRPC health stays SERVING" SERVING "$("$DRIVER" health "$CATALOG")"
HITS_BEFORE="$(infra_metric 'genesis_catalog_item_cache_total{result="hit"}')"

redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
  --dir "$WORK/redis" --pidfile "$WORK/redis/redis2.pid" --logfile "$WORK/redis/redis2.log" >/dev/null
RESTARTED_MS="$(fault_now_ms)"
deadline=$((SECONDS + 10))
until [ -s "$WORK/redis/redis2.pid" ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.02; done
fault_at_exit "kill -KILL $(cat "$WORK/redis/redis2.pid") 2>/dev/null"
RECOVERY_MS=""
STALE=0
deadline=$((SECONDS + 20))
while [ "$SECONDS" -lt "$deadline" ]; do
  "$DRIVER" get "$CATALOG" "$NAME" 5 2000 >"$WORK/after"
  STALE=$((STALE + $(grep -c '^call [A-Z_]* [0-9]* before$' "$WORK/after" || true)))
  hits="$(infra_metric 'genesis_catalog_item_cache_total{result="hit"}')"
  if [ "${hits%.*}" -gt "${HITS_BEFORE%.*}" ]; then
    RECOVERY_MS=$(($(fault_now_ms) - RESTARTED_MS))
    break
  fi
  sleep 0.05
done
check_eq "after the restart: no stale read" 0 "$STALE"
check "after the restart: the cache is used again" [ -n "$RECOVERY_MS" ]

fault_report faults_infra_redis_killed \
  "p50_before_ms=$(infra_ms "$P50_BEFORE_US") p50_during_ms=$(infra_ms "$P50_DURING_US")" \
  "codes_during=$(infra_summary "$WORK/during" codes) stale_reads=$STALE" \
  "recovery_s=$(awk -v ms="${RECOVERY_MS:-0}" 'BEGIN{printf "%.2f", ms/1000}')"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
