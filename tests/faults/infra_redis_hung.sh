#!/usr/bin/env bash
# faults_infra_redis_hung: the catalog's Redis is stopped (SIGSTOP: the kernel still accepts
# connections, nothing answers). Calls keep answering OK; after the first few, none waits on
# Redis (the client's breaker opens); /readyz and gRPC health stay ready. An item updated
# while Redis is hung is never read stale after SIGCONT, and the cache is used again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source ../e2e/lib.sh
source ../e2e/harness.sh
source ./lib.sh
source ./infra_lib.sh

infra_init faults-infra-redis-hung
fault_pg_start pg
fault_redis_start redis
# The default Redis timeout (100 ms) and breaker (3 failures, 1 s open).
infra_catalog_start --pg_dsn="$PG_DSN" --redis_url="$REDIS_URL"
"$DRIVER" type "$CATALOG" lead >/dev/null
NAME="$("$DRIVER" put "$CATALOG" lead "before")"

"$DRIVER" get "$CATALOG" "$NAME" 200 2000 >"$WORK/before"
check_eq "before: every GetItem is OK" 200 "$(infra_summary "$WORK/before" ok)"
P50_BEFORE_US="$(infra_summary "$WORK/before" p50_us)"
HITS_BEFORE="$(infra_metric 'genesis_catalog_item_cache_total{result="hit"}')"
check "before: GetItem is served from the cache" [ "${HITS_BEFORE%.*}" -ge 150 ]

kill -STOP "$REDIS_PID"
check_eq "an update while Redis is hung is OK" OK "$("$DRIVER" update "$CATALOG" "$NAME" during 5000)"
"$DRIVER" get "$CATALOG" "$NAME" 200 2000 >"$WORK/during"
check_eq "during: every GetItem is OK" 200 "$(infra_summary "$WORK/during" ok)"
STALE_DURING="$(grep -c '^call OK [0-9]* before$' "$WORK/during" || true)"
check_eq "during: no stale read" 0 "$STALE_DURING"
P50_DURING_US="$(infra_summary "$WORK/during" p50_us)"
# Without the breaker each call would wait for the Redis timeout (100 ms), twice.
check "during: the median call waits on no Redis timeout (p50 ${P50_DURING_US} us < 100 ms)" \
  [ "$P50_DURING_US" -lt 100000 ]
TRIPS="$(infra_metric 'genesis_redis_breaker_trips_total{client="catalog"}')"
SHORT="$(infra_metric 'genesis_redis_short_circuited_total{client="catalog"}')"
check "during: the Redis breaker opened" [ "${TRIPS%.*}" -ge 1 ]
check "during: most calls did not touch Redis ($SHORT short-circuited)" [ "${SHORT%.*}" -ge 100 ]
check_eq "during: /readyz stays 200" 200 "$(infra_readyz)"
check_eq "during: gRPC health stays SERVING" SERVING "$("$DRIVER" health "$CATALOG")"

kill -CONT "$REDIS_PID"
RESUMED_MS="$(fault_now_ms)"
STALE_AFTER=0
RECOVERY_MS=""
deadline=$((SECONDS + 20))
while [ "$SECONDS" -lt "$deadline" ]; do
  "$DRIVER" get "$CATALOG" "$NAME" 5 2000 >"$WORK/after"
  STALE_AFTER=$((STALE_AFTER + $(grep -c '^call [A-Z_]* [0-9]* before$' "$WORK/after" || true)))
  hits="$(infra_metric 'genesis_catalog_item_cache_total{result="hit"}')"
  if [ "${hits%.*}" -gt "${HITS_BEFORE%.*}" ]; then
    RECOVERY_MS=$(($(fault_now_ms) - RESUMED_MS))
    break
  fi
  sleep 0.05
done
check_eq "after SIGCONT: no stale read" 0 "$STALE_AFTER"
check "after SIGCONT: the cache is used again" [ -n "$RECOVERY_MS" ]
"$DRIVER" get "$CATALOG" "$NAME" 20 2000 >"$WORK/final"
check_eq "after SIGCONT: reads are fresh" 20 "$(grep -c '^call OK [0-9]* during$' "$WORK/final" || true)"

fault_report faults_infra_redis_hung \
  "p50_before_ms=$(infra_ms "$P50_BEFORE_US") p50_during_ms=$(infra_ms "$P50_DURING_US")" \
  "codes_during=$(infra_summary "$WORK/during" codes) breaker_trips=${TRIPS%.*}" \
  "short_circuited=${SHORT%.*} stale_reads=$((STALE_DURING + STALE_AFTER))" \
  "recovery_s=$(awk -v ms="${RECOVERY_MS:-0}" 'BEGIN{printf "%.2f", ms/1000}')"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
