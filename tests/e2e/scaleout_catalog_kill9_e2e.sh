#!/usr/bin/env bash
# Scale-out proof 1: two catalog replicas behind the gateway (one mesh channel over both, as
# a dns:/// name of a headless Service gives), writers creating items with a request_id and
# readers getting items, both over REST. Five rounds: at a random moment one replica, picked
# at random, is killed (-9), then started again on its address and taken back into the
# rotation before the next round.
# Expected: every create the gateway acknowledged (200) is in the catalog exactly once; no
# create gave up (a writer repeats a failed create with the same request_id, as a client
# would); the readers see no error at all (a GET that meets the dead replica is retried by
# the gateway on the live one). Prints the figures (bench/failover/README.md).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=harness.sh
source "$HERE/harness.sh"
# shellcheck source=../faults/lib.sh
source "$HERE/../faults/lib.sh"

e2e_require_pg
e2e_require_tools curl jq python3
e2e_bin CATALOG_BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
e2e_bin DRIVER GENESIS_FAULTS_INFRA_DRIVER tests/faults/faults_infra_driver
e2e_init scaleout-catalog-kill9
e2e_fresh_db scalecat
# shellcheck source=replicas.sh
source "$HERE/replicas.sh"
command -v redis-server >/dev/null || e2e_skip "redis-server not found"
fault_redis_start redis

ROUNDS=5
for r in cat0 cat1; do
  replica_define "$r" "$CATALOG_BIN" --pg_dsn="$DB_DSN" --redis_url="$REDIS_URL" --log_level=warn
  replica_start "$r"
done
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  env GENESIS_CATALOG_ADDR="$(replica_targets cat0 cat1)" "$GATEWAY_BIN" --http_port=0 \
  --metrics_port=-1 --auth=off --rate_limit=100000/s --log_level=warn
pass "catalog replicas ${REPLICA_ADDR[cat0]} and ${REPLICA_ADDR[cat1]} behind the gateway $GW"

"$DRIVER" type "${REPLICA_ADDR[cat0]}" lead >/dev/null
READ_ITEMS=()
for k in 1 2 3; do READ_ITEMS+=("$("$DRIVER" put "${REPLICA_ADDR[cat0]}" lead "read-$k")"); done

# Three writers (request_id; a failed create repeated with it) and two readers, over REST.
python3 "$HERE/scaleout_load.py" --gateway="http://$GW" --stop="$WORK/stop" --acks="$WORK/writes" \
  --catalog_writers=3 --catalog_readers=2 --read_items="$(IFS=,; echo "${READ_ITEMS[*]}")" \
  >"$WORK/load.json" &
LOAD_PID=$!
fault_at_exit "touch $WORK/stop; kill $LOAD_PID 2>/dev/null"

acks() {
  local n
  n="$(grep -c '^ack ' "$WORK/writes" 2>/dev/null || true)"
  echo "${n:-0}"
}
wait_acks() { # until N more creates are acknowledged (20 s)
  local want=$(($(acks) + $1)) deadline=$((SECONDS + 20))
  while [ "$(acks)" -lt "$want" ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
# until replica NAME has handled calls since its restart (the gateway took it back; 20 s)
wait_serves() {
  local deadline=$((SECONDS + 20))
  while [ "$(replica_calls "$1")" -lt 5 ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

VICTIMS=()
BACK_MS=()
for round in $(seq 1 "$ROUNDS"); do
  wait_acks 20 || fail "creates acknowledged before kill $round"
  # A random moment within the next 0.5 s, a random replica.
  sleep "0.$((RANDOM % 5))$((RANDOM % 10))"
  victim="cat$((RANDOM % 2))"
  replica_kill9 "$victim"
  VICTIMS+=("$victim")
  wait_acks 10 || fail "creates acknowledged by the survivor after kill $round"
  t0="$(fault_now_ms)"
  replica_start "$victim"
  wait_serves "$victim" || fail "the gateway sends calls to $victim again after round $round"
  BACK_MS+=($(($(fault_now_ms) - t0)))
done
wait_acks 20 || fail "creates acknowledged after the last round"
touch "$WORK/stop"
wait "$LOAD_PID" || fail "the load ends cleanly"
pass "killed -9 $ROUNDS times: ${VICTIMS[*]}"
L="$(cat "$WORK/load.json")"
"$DRIVER" list "${REPLICA_ADDR[cat0]}" lead >"$WORK/list"
ACKED="$(grep -c '^ack ' "$WORK/writes" || true)"
GAVEUP="$(grep -c '^gaveup ' "$WORK/writes" || true)"
# Statuses of first attempts and of repeats, and of reads ("200:N,503:M").
codes() { jq -r --arg k "$1" '(.kinds[$k].codes // {}) | to_entries | map("\(.key):\(.value)") | join(",")' <<<"$L"; }
errors() { jq -r --arg k "$1" '(.kinds[$k].codes // {}) | to_entries | map(select(.key != "200") | .value) | add // 0' <<<"$L"; }
LOST="$(awk 'NR == FNR { if ($1 == "item") have[$2]++; next } $1 == "ack" && !have[$2] { n++ } END { print n + 0 }' \
  "$WORK/list" "$WORK/writes")"
DUPLICATED="$(awk '$1 == "item" { c[$2]++ } END { for (t in c) if (c[t] > 1) n++; print n + 0 }' "$WORK/list")"
# The item each acknowledgement named is the one listed under its title.
MISMATCHED="$(awk 'NR == FNR { if ($1 == "item") id[$2] = $3; next } $1 == "ack" && ($2 in id) && id[$2] != $3 { n++ } END { print n + 0 }' \
  "$WORK/list" "$WORK/writes")"
READS="$(jq -r '[.kinds.read.codes // {} | .[]] | add // 0' <<<"$L")"
READ_ERRORS="$(errors read)"
READ_CODES="$(codes read)"
WRITE_FAILS="$(errors create)"
check "creates were acknowledged ($ACKED)" [ "$ACKED" -ge $((ROUNDS * 30)) ]
check_eq "every acknowledged create is there" 0 "$LOST"
check_eq "... exactly once" 0 "$DUPLICATED"
check_eq "... as the item its acknowledgement named" 0 "$MISMATCHED"
check_eq "no create gave up" 0 "$GAVEUP"
check "reads were made ($READS)" [ "$READS" -ge 100 ]
check_eq "reads saw no error ($READ_CODES)" 0 "$READ_ERRORS"
[ "$READ_ERRORS" = 0 ] || echo "# failed reads: $(jq -c '.kinds.read.examples' <<<"$L")"
[ "$WRITE_FAILS" = 0 ] || echo "# failed creates: $(jq -c '.kinds.create.examples' <<<"$L")"
# The item cache (Redis, shared by the replicas) after an update on one replica: the other
# replica, which has served the item from the cache all along, reads the new title at once.
NAME="${READ_ITEMS[0]}"
for r in cat0 cat1; do "$DRIVER" get "${REPLICA_ADDR[$r]}" "$NAME" 3 5000 >/dev/null; done
UPDATED="$("$DRIVER" update "${REPLICA_ADDR[cat1]}" "$NAME" read-1-updated 5000)"
check_eq "an update through cat1 is acknowledged" OK "$UPDATED"
[ "$UPDATED" = OK ] || tail -n 5 "$WORK/cat1.err" | sed 's/^/#   /'
check_eq "cat0 reads the new title right after it (no stale cache entry)" "read-1-updated" \
  "$("$DRIVER" get "${REPLICA_ADDR[cat0]}" "$NAME" 1 5000 | awk '$1 == "call" { print $4 }')"
echo "# e2e scaleout_catalog_kill9: rounds=$ROUNDS acknowledged=$ACKED lost=$LOST" \
  "duplicated=$DUPLICATED create_failures=$WRITE_FAILS create_codes=$(codes create)" \
  "repeat_codes=$(codes create_retried) reads=$READS" \
  "read_errors=$READ_ERRORS back_in_rotation_ms=$(IFS=,; echo "${BACK_MS[*]}")"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
