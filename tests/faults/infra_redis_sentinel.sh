#!/usr/bin/env bash
# faults_infra_redis_sentinel: the catalog reaches Redis through Sentinel
# (redis-sentinel://, three sentinels, a master and one replica). Under a steady stream of
# GetItem calls the item is updated while the replica lags (stopped and cut off from the
# master, so the master acknowledges the cache invalidation but never replicates it), then
# the master is killed (-9); the sentinels promote the replica and the catalog's client
# follows it. Every call answers OK throughout (from PostgreSQL while the cache is down),
# the old title is never read again although the promoted replica still holds its cache
# entry, and the cache is used again on the promoted replica. Prints the time from the kill
# to the promotion and to the first cache hit on the new master.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source ../e2e/lib.sh
source ../e2e/harness.sh
source ./lib.sh
source ./infra_lib.sh

infra_init faults-infra-redis-sentinel
MASTER_NAME=genesis
fault_pg_start pg
fault_redis_start master
MASTER_PORT="$REDIS_PORT"
MASTER_PID="$REDIS_PID"
fault_redis_start replica --replicaof 127.0.0.1 "$MASTER_PORT"
REPLICA_PORT="$REDIS_PORT"
REPLICA_PID="$REDIS_PID"

# Three sentinels, quorum 2, a master down after 1 s without an answer. Sentinel rewrites
# its configuration file, so each has its own.
SENTINEL_PORTS=()
for i in 1 2 3; do
  dir="$WORK/sentinel$i"
  mkdir -p "$dir"
  port="$(fault_free_port)"
  cat >"$dir/sentinel.conf" <<EOF
bind 127.0.0.1
port $port
daemonize yes
pidfile $dir/sentinel.pid
logfile $dir/sentinel.log
dir $dir
sentinel monitor $MASTER_NAME 127.0.0.1 $MASTER_PORT 2
sentinel down-after-milliseconds $MASTER_NAME 1000
sentinel failover-timeout $MASTER_NAME 10000
sentinel parallel-syncs $MASTER_NAME 1
EOF
  redis-server "$dir/sentinel.conf" --sentinel >/dev/null
  deadline=$((SECONDS + 10))
  until [ -s "$dir/sentinel.pid" ] && redis-cli -p "$port" ping >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || { fail "sentinel $i starts" "$(tail -5 "$dir/sentinel.log")"; exit 1; }
    sleep 0.02
  done
  fault_at_exit "kill -KILL $(cat "$dir/sentinel.pid") 2>/dev/null"
  SENTINEL_PORTS+=("$port")
done

# sentinel_field PORT FIELD: a field of `SENTINEL MASTER` as one sentinel sees it.
sentinel_field() {
  redis-cli -p "$1" sentinel master "$MASTER_NAME" 2>/dev/null | awk -v f="$2" 'p { print; exit } $0 == f { p = 1 }'
}
# A failover needs the replica known and the sentinels aware of each other (hello messages
# every 2 s) and the replica in sync.
deadline=$((SECONDS + 20))
ready=""
while [ "$SECONDS" -lt "$deadline" ]; do
  ready=1
  for port in "${SENTINEL_PORTS[@]}"; do
    [ "$(sentinel_field "$port" num-slaves)" = 1 ] || ready=""
    [ "$(sentinel_field "$port" num-other-sentinels)" = 2 ] || ready=""
  done
  redis-cli -p "$REPLICA_PORT" info replication | grep -q '^master_link_status:up' || ready=""
  [ -z "$ready" ] || break
  sleep 0.1
done
check "the sentinels know the replica and each other" [ -n "$ready" ]

URL="redis-sentinel://$(printf '127.0.0.1:%s,' "${SENTINEL_PORTS[@]}" | sed 's/,$//')/$MASTER_NAME"
infra_catalog_start --pg_dsn="$PG_DSN" --redis_url="$URL"
"$DRIVER" type "$CATALOG" lead >/dev/null
NAME="$("$DRIVER" put "$CATALOG" lead "before")"
"$DRIVER" get "$CATALOG" "$NAME" 100 2000 >"$WORK/before"
check_eq "before: every GetItem is OK" 100 "$(infra_summary "$WORK/before" ok)"
HITS="$(infra_metric 'genesis_catalog_item_cache_total{result="hit"}')"
check "before: GetItem is served from the cache on the master" [ "${HITS%.*}" -ge 90 ]
check_eq "before: the sentinels named one master" 1 \
  "$(infra_metric 'genesis_redis_master_changes_total{client="catalog"}')"

# A steady stream of reads (2 ms apart) across the failover.
LOAD_S=25
"$DRIVER" get_for "$CATALOG" "$NAME" "$LOAD_S" 2000 2 >"$WORK/load" &
LOAD_PID=$!
fault_at_exit "kill $LOAD_PID 2>/dev/null"
sleep 2

# Asynchronous replication: what the master acknowledges while its replica lags is lost
# when the replica is promoted. The replica is stopped and its link cut, the item updated
# (its cache entry invalidated on the master alone), then the master killed.
kill -STOP "$REPLICA_PID"
fault_at_exit "kill -CONT $REPLICA_PID 2>/dev/null"
redis-cli -p "$MASTER_PORT" client kill type replica >/dev/null
check_eq "an update just before the failover is OK" OK \
  "$("$DRIVER" update "$CATALOG" "$NAME" during 5000)"
UPDATED_MS="$(fault_now_ms)"
kill -KILL "$MASTER_PID"
KILLED_MS="$(fault_now_ms)"
kill -CONT "$REPLICA_PID"
# The cache entries the replica holds: the old title is among them.
replica_entries() {
  local key
  redis-cli -p "$REPLICA_PORT" --scan --pattern 'catalog:item:*:*' | while read -r key; do
    redis-cli -p "$REPLICA_PORT" get "$key"
  done
}
check "the replica still holds the old cache entry (the invalidation was lost)" \
  [ "$(replica_entries | grep -c before)" -ge 1 ]
HITS_AT_KILL_END="$(infra_metric 'genesis_catalog_item_cache_total{result="hit"}')"

PROMOTED_MS=""
RECOVERED_MS=""
deadline=$((SECONDS + 20))
while [ "$SECONDS" -lt "$deadline" ] && [ -z "$RECOVERED_MS" ]; do
  if [ -z "$PROMOTED_MS" ] && redis-cli -p "${SENTINEL_PORTS[0]}" sentinel get-master-addr-by-name \
    "$MASTER_NAME" 2>/dev/null | grep -qx "$REPLICA_PORT"; then
    PROMOTED_MS="$(fault_now_ms)"
  fi
  hits="$(infra_metric 'genesis_catalog_item_cache_total{result="hit"}')"
  # Only a live Redis serves a hit, and the old master is dead: a hit is the new master.
  if [ "${hits%.*}" -gt "${HITS_AT_KILL_END%.*}" ]; then RECOVERED_MS="$(fault_now_ms)"; fi
  sleep 0.05
done
check "the sentinels promoted the replica" [ -n "$PROMOTED_MS" ]
check "the cache is used again, on the promoted replica" [ -n "$RECOVERED_MS" ]
wait "$LOAD_PID" || true

TOTAL="$(grep -c '^call ' "$WORK/load" || true)"
check_eq "every GetItem across the failover is OK (the catalog reads PostgreSQL meanwhile)" \
  "$TOTAL" "$(infra_summary "$WORK/load" ok)"
STALE="$(awk -v t="$UPDATED_MS" '$1 == "call" && $5 > t && $4 == "before"' "$WORK/load" | wc -l)"
check_eq "no read started after the update returns the old title" 0 "$STALE"
AFTER="$(awk -v t="${RECOVERED_MS:-0}" '$1 == "call" && $5 > t' "$WORK/load" | wc -l)"
check "calls went on after the recovery ($AFTER)" [ "$AFTER" -ge 100 ]
check_eq "the client followed one failover (two masters named)" 2 \
  "$(infra_metric 'genesis_redis_master_changes_total{client="catalog"}')"
check "the promoted replica holds the cache entries" \
  [ "$(redis-cli -p "$REPLICA_PORT" dbsize)" -ge 2 ]
check_eq "/readyz stays 200" 200 "$(infra_readyz)"
ERRORS="$(infra_metric 'genesis_catalog_item_cache_total{result="error"}')"
QUERIES_OK="$(infra_metric 'genesis_redis_sentinel_queries_total{client="catalog",result="ok"}')"
QUERIES_ERR="$(infra_metric 'genesis_redis_sentinel_queries_total{client="catalog",result="error"}')"
# While the cache is down calls read PostgreSQL: the slowest call across the failover.
MAX_MS="$(infra_ms "$(infra_summary "$WORK/load" max_us)")"

secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
fault_report faults_infra_redis_sentinel \
  "calls=$TOTAL codes=$(infra_summary "$WORK/load" codes) stale_reads=$STALE" \
  "p50_ms=$(infra_ms "$(infra_summary "$WORK/load" p50_us)") max_ms=$MAX_MS" \
  "promoted_s=$(secs $((${PROMOTED_MS:-$KILLED_MS} - KILLED_MS)))" \
  "recovery_s=$(secs $((${RECOVERED_MS:-$KILLED_MS} - KILLED_MS)))" \
  "cache_errors=${ERRORS%.*} sentinel_queries_ok=${QUERIES_OK%.*} sentinel_queries_failed=${QUERIES_ERR%.*}" \
  "breaker_trips=$(infra_metric 'genesis_redis_breaker_trips_total{client="catalog"}')"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
