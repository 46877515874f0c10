#!/usr/bin/env bash
# faults_infra_pg_failover: the catalog on a primary and a streaming standby (synchronous
# replication, both on 127.0.0.1), given both in one DSN with target_session_attrs=read-write.
# Under idempotent creates (request_id, retried on UNAVAILABLE/DEADLINE_EXCEEDED) and reads,
# the primary is killed (pg_ctl stop -m immediate); the catalog reports NOT_SERVING, and 2 s
# later the standby is promoted. Nothing acknowledged is lost (every acknowledged item is listed by the
# catalog and stored on the new primary), nothing is stored twice, failed calls are only
# UNAVAILABLE or DEADLINE_EXCEEDED (never INTERNAL/UNKNOWN), gRPC health and /readyz go
# NOT_SERVING while there is no writable primary and SERVING after, /healthz stays 200, and
# the catalog recovers with no restart. Prints the time without a primary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source ../e2e/lib.sh
source ../e2e/harness.sh
source ./lib.sh
source ./infra_lib.sh

infra_init faults-infra-pg-failover
[ -x "$FAULT_PG_BIN/pg_basebackup" ] || e2e_skip "pg_basebackup not found"
[ "$(id -u)" != 0 ] || chown postgres "$WORK"

PRIMARY="$WORK/primary"
STANDBY="$WORK/standby"
P1="$(fault_free_port)"
P2="$(fault_free_port)"
install -d -m 700 "$PRIMARY" "$STANDBY"
[ "$(id -u)" != 0 ] || chown postgres "$PRIMARY" "$STANDBY"
fault__as_pg "$FAULT_PG_BIN/initdb" -D "$PRIMARY/data" -U postgres --auth=trust -E UTF8 \
  --locale=C.UTF-8 >"$PRIMARY/initdb.log" 2>&1 || { cat "$PRIMARY/initdb.log" >&2; exit 1; }
# initdb --auth=trust already lets 127.0.0.1 replicate. A commit is acknowledged only once
# the standby has the WAL (synchronous_commit=on with a synchronous standby). fsync=off is
# for speed: no machine crashes here, only the server process is killed.
fault__as_pg tee -a "$PRIMARY/data/postgresql.conf" >/dev/null <<'EOF'
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 4
hot_standby = on
synchronous_standby_names = '*'
synchronous_commit = on
fsync = off
max_connections = 100
EOF
pg_node_start() { # DIR PORT
  fault__as_pg "$FAULT_PG_BIN/pg_ctl" -D "$1/data" -l "$1/pg.log" -w \
    -o "-p $2 -k $1" start >/dev/null
}
pg_node_start "$PRIMARY" "$P1"
fault_at_exit "fault__as_pg $FAULT_PG_BIN/pg_ctl -D $PRIMARY/data -m immediate stop >/dev/null 2>&1"
fault__as_pg "$FAULT_PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U postgres -D "$STANDBY/data" \
  -R -X stream --checkpoint=fast >"$STANDBY/basebackup.log" 2>&1 ||
  { cat "$STANDBY/basebackup.log" >&2; exit 1; }
# Once promoted, the standby has no standby of its own: with '*' it would wait forever for
# one to confirm each commit. (Patroni and pg_auto_failover manage this setting.)
echo "synchronous_standby_names = ''" | fault__as_pg tee -a "$STANDBY/data/postgresql.auto.conf" >/dev/null
pg_node_start "$STANDBY" "$P2"
fault_at_exit "fault__as_pg $FAULT_PG_BIN/pg_ctl -D $STANDBY/data -m immediate stop >/dev/null 2>&1"

psql_at() { "$FAULT_PG_BIN/psql" -X -q -tA -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2"; }
sync_state() { [ "$(psql_at "$P1" "SELECT sync_state FROM pg_stat_replication" 2>/dev/null)" = sync ]; }
deadline=$((SECONDS + 20))
until sync_state; do
  [ "$SECONDS" -lt "$deadline" ] || break
  sleep 0.1
done
check "the standby replicates synchronously" sync_state
check_eq "the standby is in recovery" t "$(psql_at "$P2" "SELECT pg_is_in_recovery()")"

DSN="postgresql://postgres@127.0.0.1:$P1,127.0.0.1:$P2/postgres?target_session_attrs=read-write"
infra_catalog_start --pg_dsn="$DSN" --pg_pool_size=4
"$DRIVER" type "$CATALOG" lead >/dev/null
NAME="$("$DRIVER" put "$CATALOG" lead "probe")"

"$DRIVER" watch "$CATALOG" 25 >"$WORK/health" &
WATCH=$!
"$DRIVER" create "$CATALOG" lead w 4 12 2000 >"$WORK/creates" &
WRITER=$!
"$DRIVER" reads "$CATALOG" "$NAME" 12 2000 >"$WORK/reads" &
READER=$!
sleep 3

# The primary dies.
KILL_MS="$(fault_now_ms)"
fault__as_pg "$FAULT_PG_BIN/pg_ctl" -D "$PRIMARY/data" -m immediate -w stop >/dev/null
# Whoever promotes (an operator, Patroni) takes a moment; meanwhile the service has no primary.
not_serving() { grep -q '^health NOT_SERVING' "$WORK/health"; }
deadline=$((SECONDS + 10))
until not_serving || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
check "no primary: gRPC health turns NOT_SERVING" not_serving
check_eq "no primary: /readyz answers 503" 503 "$(infra_readyz)"
check_eq "no primary: /healthz stays 200 (no restart)" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$OPS/healthz")"
"$DRIVER" get "$CATALOG" "$NAME" 1 5000 >"$WORK/get_down"
check_eq "no primary: a read is UNAVAILABLE" UNAVAILABLE "$(awk '/^call/{print $2}' "$WORK/get_down")"

# The standby is promoted, after the time whoever promotes takes to decide
# (GENESIS_FAILOVER_DELAY_S, 2 s; Patroni waits for its leader key to expire, 30 s by default).
sleep "${GENESIS_FAILOVER_DELAY_S:-2}"
check_eq "still no primary: health stays NOT_SERVING" NOT_SERVING "$("$DRIVER" health "$CATALOG")"
PROMOTE_MS="$(fault_now_ms)"
fault__as_pg "$FAULT_PG_BIN/pg_ctl" -D "$STANDBY/data" -w promote >/dev/null
PROMOTED_MS="$(fault_now_ms)"
serving_again() {
  awk -v t="$PROMOTE_MS" '$1 == "health" && $2 == "SERVING" && $3 >= t { f = 1 } END { exit !f }' \
    "$WORK/health"
}
deadline=$((SECONDS + 15))
until serving_again || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
check "after promotion: gRPC health is SERVING again" serving_again
check_eq "after promotion: /readyz answers 200" 200 "$(infra_readyz)"

wait "$WRITER" "$READER"
kill "$WATCH" 2>/dev/null || true
wait "$WATCH" 2>/dev/null || true
"$DRIVER" list "$CATALOG" lead >"$WORK/list"
"$DRIVER" get "$CATALOG" "$NAME" 1 5000 >"$WORK/get_after"
check_eq "after promotion: a read is OK" OK "$(awk '/^call/{print $2}' "$WORK/get_after")"
check "the catalog was not restarted" e2e_alive "$CATALOG_PID"

ACKED="$(infra_summary "$WORK/creates" acked)"
GAVEUP="$(infra_summary "$WORK/creates" gaveup)"
CODES="$(infra_summary "$WORK/creates" codes)"
READ_CODES="$(infra_summary "$WORK/reads" codes)"
ACKED_BEFORE_KILL="$(awk -v t="$KILL_MS" '$1 == "ack" && $4 < t { n++ } END { print n + 0 }' "$WORK/creates")"
LOST="$(awk 'NR==FNR { if ($1 == "item") have[$2]++; next } $1 == "ack" && !have[$2] { n++ } END { print n + 0 }' \
  "$WORK/list" "$WORK/creates")"
DUPLICATED="$(awk '$1 == "item" { c[$2]++ } END { for (t in c) if (c[t] > 1) n++; print n + 0 }' "$WORK/list")"
LISTED="$(awk '$1 == "item" && $2 ~ /^w-/ { n++ } END { print n + 0 }' "$WORK/list")"
ROWS="$(psql_at "$P2" "SELECT count(*) FROM catalog.items WHERE title LIKE 'w-%'")"
check_eq "the promoted standby is the primary now" f "$(psql_at "$P2" "SELECT pg_is_in_recovery()")"
check "creates were acknowledged before the kill ($ACKED_BEFORE_KILL) and after it ($ACKED in all)" \
  bash -c '[ "$1" -gt 0 ] && [ "$2" -gt "$1" ]' _ "$ACKED_BEFORE_KILL" "${ACKED:-0}"
check_eq "no create gave up" 0 "$GAVEUP"
check_eq "nothing acknowledged is lost" 0 "$LOST"
check "every acknowledged create is a row on the new primary ($ROWS rows, $ACKED acknowledged)" \
  bash -c '[ "$1" -ge "$2" ] && [ "$1" -eq "$3" ]' _ "${ROWS:-0}" "${ACKED:-0}" "$LISTED"
check_eq "no item is duplicated" 0 "$DUPLICATED"
code_re='^(OK|UNAVAILABLE|DEADLINE_EXCEEDED)(:[0-9]+)(,(OK|UNAVAILABLE|DEADLINE_EXCEEDED):[0-9]+)*$'
check "writes: codes only OK, UNAVAILABLE, DEADLINE_EXCEEDED ($CODES)" \
  bash -c '[[ "$1" =~ $2 ]]' _ "$CODES" "$code_re"
check "reads: codes only OK, UNAVAILABLE, DEADLINE_EXCEEDED ($READ_CODES)" \
  bash -c '[[ "$1" =~ $2 ]]' _ "$READ_CODES" "$code_re"

# Figures. The outage is the longest pause between two acknowledgements (4 writers).
FIRST_ACK_AFTER_MS="$(awk '$1 == "ack" { print $4 }' "$WORK/creates" | sort -n |
  awk 'NR > 1 && $1 - prev > gap { gap = $1 - prev; end = $1 } { prev = $1 } END { printf "%.0f", end }')"
NOT_SERVING_MS="$(awk '$1 == "health" && $2 == "NOT_SERVING" { print $3; exit }' "$WORK/health")"
SERVING_MS="$(awk -v t="$PROMOTE_MS" '$1 == "health" && $2 == "SERVING" && $3 >= t { print $3; exit }' "$WORK/health")"
FAILED_WRITES="$(awk '$1 == "fail" { c[$2]++ } END { for (k in c) printf "%s%s:%d", (n++ ? "," : ""), k, c[k] }' "$WORK/creates")"
READS_FAILED="$(awk '$1 == "read" { c[$2]++ } END { for (k in c) printf "%s%s:%d", (n++ ? "," : ""), k, c[k] }' "$WORK/reads")"
s_since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a - b) / 1000 }'; }
fault_report faults_infra_pg_failover "acknowledged=$ACKED acknowledged_before_kill=$ACKED_BEFORE_KILL" \
  "lost=$LOST duplicated=$DUPLICATED rows_on_new_primary=$ROWS" \
  "failed_writes=${FAILED_WRITES:-none} failed_reads=${READS_FAILED:-none}" \
  "no_primary_s=$(s_since "$FIRST_ACK_AFTER_MS" "$KILL_MS")" \
  "promote_s=$(s_since "$PROMOTED_MS" "$PROMOTE_MS")" \
  "first_write_after_promote_s=$(s_since "$FIRST_ACK_AFTER_MS" "$PROMOTE_MS")" \
  "not_serving_after_kill_s=$(s_since "${NOT_SERVING_MS:-0}" "$KILL_MS")" \
  "serving_after_promote_s=$(s_since "${SERVING_MS:-0}" "$PROMOTE_MS")"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
