#!/usr/bin/env bash
# Scale-out proof 2: two bot manager replicas and two LLM routers, 2,000 signed Telegram
# webhooks streamed through the gateway (8 at once); when a third of them are acknowledged,
# one bot manager replica is killed (-9) and stays down.
# Expected: every acknowledged webhook is stored once and answered at the channel (the
# channel simulator records a repeated send as another message, so repeats are counted, not
# hidden); a reply is sent twice only if its send was in flight at the kill (started, not
# marked sent: the dead replica cannot know whether it arrived), never when it was marked
# sent. The rows the dead replica held (leases of 3 s) are taken over by the live one: the
# time from the kill until every row leased at the kill is answered is printed with the
# other figures (bench/failover/README.md).
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
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
e2e_bin ROUTER_BIN GENESIS_LLM_ROUTER_BIN services/llm_router/genesis-llm-router
e2e_bin LSIM_BIN GENESIS_LLM_SIMULATOR_BIN services/llm_router/simulator/genesis-llm-simulator
e2e_bin BOT_BIN GENESIS_BOT_MANAGER_BIN services/bot_manager/genesis-bot-manager
e2e_bin CSIM_BIN GENESIS_CHANNEL_SIMULATOR_BIN services/bot_manager/simulator/genesis-channel-simulator
ROOT="$(cd "$HERE/../.." && pwd)"
BUF="${GENESIS_BUF:-$ROOT/.genesis/tools/node_modules/.bin/buf}"
[ -x "$BUF" ] || e2e_skip "buf not found at $BUF (set GENESIS_BUF)"
e2e_init scaleout-bot-kill9
e2e_fresh_db scalebot
# shellcheck source=replicas.sh
source "$HERE/replicas.sh"
sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$DB_DSN" -c "$1"; }

COUNT=2000
e2e_start LSIM lsim 's/^genesis-llm-simulator http=\(.*\)$/\1/p' -- "$LSIM_BIN" --http_port=0 --instant
e2e_start CSIM csim 's/^genesis-channel-simulator http=\(.*\)$/http:\/\/\1/p' -- \
  "$CSIM_BIN" --http_port=0 --collapse_repeats=false
export SCALEOUT_TG_SECRET="tg-secret-$RANDOM-$RANDOM" SCALEOUT_TG_TOKEN="123456:tg-token"
e2e_secret "$SCALEOUT_TG_SECRET" "$SCALEOUT_TG_TOKEN"

for r in router0 router1; do
  replica_define "$r" "$ROUTER_BIN" --pg_dsn="$DB_DSN" \
    --models_config="$ROOT/services/llm_router/config/models.json" \
    --simulator_url="http://$LSIM" --log_level=warn
  replica_start "$r"
done
for r in bot0 bot1; do
  replica_define "$r" env SCALEOUT_TG_SECRET="$SCALEOUT_TG_SECRET" \
    SCALEOUT_TG_TOKEN="$SCALEOUT_TG_TOKEN" "$BOT_BIN" --pg_dsn="$DB_DSN" \
    --llm_router_address="$(replica_targets router0 router1)" --telegram_base_url="$CSIM" \
    --inbox_lease_s=3 --outbox_lease_s=3 --send_timeout_ms=2000 --worker_idle_ms=50 \
    --log_level=warn
  replica_start "$r"
done
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  env GENESIS_BOT_ADDR="$(replica_targets bot0 bot1)" "$GATEWAY_BIN" --http_port=0 \
  --metrics_port=-1 --auth=off --rate_limit=100000/s --log_level=warn
"$BUF" curl --protocol grpc --http2-prior-knowledge --timeout 20s "${OPERATOR[@]}" -d '{"bot_id": "tg",
  "bot": {"channel": "CHANNEL_TELEGRAM", "webhook_secret_env": "SCALEOUT_TG_SECRET",
  "access_token_env": "SCALEOUT_TG_TOKEN"}}' \
  "http://${REPLICA_ADDR[bot0]}/genesis.bot.v1.BotManagerService/CreateBot" >/dev/null
pass "bot managers ${REPLICA_ADDR[bot0]} and ${REPLICA_ADDR[bot1]}, routers, gateway $GW"

python3 "$HERE/scaleout_load.py" --gateway="http://$GW" --stop="$WORK/stop" \
  --webhooks="$COUNT" --webhook_concurrency=8 --contacts=80 >"$WORK/load.json" &
LOAD_PID=$!
fault_at_exit "touch $WORK/stop; kill $LOAD_PID 2>/dev/null"

sent_json() { curl -s --max-time 10 "$CSIM/_sim/sent"; }
stored() { sql "SELECT count(*) FROM bot_manager.inbox WHERE bot_id = 'tg'"; }
deadline=$((SECONDS + 40))
while [ "$(stored)" -lt $((COUNT / 3)) ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
victim="bot$((RANDOM % 2))"
replica_kill9 "$victim"
KILL_MS="$(fault_now_ms)"
# Rows leased at the kill (by either replica; the live one's are done at once) and the
# replies whose send was in flight (started, not marked sent).
sql "SELECT id FROM bot_manager.inbox WHERE state = 'pending' AND lease_until > now()" >"$WORK/leased_inbox"
sql "SELECT id FROM bot_manager.outbox WHERE state = 'pending' AND lease_until > now()" >"$WORK/leased_outbox"
sql "SELECT idempotency_key FROM bot_manager.outbox WHERE state = 'pending' AND send_started_time IS NOT NULL" |
  sort -u >"$WORK/in_flight"
sql "SELECT idempotency_key FROM bot_manager.outbox WHERE state <> 'pending'" | sort -u >"$WORK/marked"
sent_json | jq -r '.sent[] | .key' | sort | uniq -c | awk '{print $2, $1}' >"$WORK/seen_at_kill"
at_kill="$(stored)"
list() { paste -sd, "$1"; }
# Leased rows answered: their inbox rows done, their replies sent.
leased_left() {
  local n=0
  [ ! -s "$WORK/leased_inbox" ] || n=$((n + $(sql "SELECT count(*) FROM bot_manager.inbox i
    WHERE i.id IN ($(list "$WORK/leased_inbox")) AND (i.state = 'pending' OR NOT EXISTS
    (SELECT 1 FROM bot_manager.outbox o WHERE o.inbox_id = i.id AND o.state <> 'pending'))")))
  [ ! -s "$WORK/leased_outbox" ] || n=$((n + $(sql "SELECT count(*) FROM bot_manager.outbox
    WHERE id IN ($(list "$WORK/leased_outbox")) AND state = 'pending'")))
  echo "$n"
}
TAKEOVER_MS=""
deadline=$((SECONDS + 30))
while [ "$SECONDS" -lt "$deadline" ]; do
  if [ "$(leased_left)" = 0 ]; then
    TAKEOVER_MS=$(($(fault_now_ms) - KILL_MS))
    break
  fi
  sleep 0.05
done
check "the rows the dead replica held are answered (${TAKEOVER_MS:-never} ms after the kill)" \
  [ -n "$TAKEOVER_MS" ]

wait "$LOAD_PID" || fail "the load ends cleanly"
L="$(cat "$WORK/load.json")"
ACKED="$(jq -r '.acked_updates | length' <<<"$L")"
check_eq "every webhook was acknowledged (a refused one redelivered)" "$COUNT" "$ACKED"
STORED="$(stored)"
check_eq "each acknowledged webhook is stored once" "$ACKED" "$STORED"
# Every stored message answered: poll with a deadline, then look once more.
answered() { sent_json | jq -r '[.sent[] | .key] | unique | length'; }
deadline=$((SECONDS + 40))
while [ "$(answered)" -lt "$STORED" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
check_eq "every reply is marked sent" "$STORED" \
  "$(sql "SELECT count(*) FROM bot_manager.outbox WHERE bot_id = 'tg' AND state = 'sent'")"
S="$(sent_json)"
GOT="$(jq -r '[.sent[] | .key] | unique | length' <<<"$S")"
DUPLICATED="$(jq -r '.count - ([.sent[] | .key] | unique | length)' <<<"$S")"
check_eq "every acknowledged webhook is answered at the channel" "$STORED" "$GOT"
jq -r '.sent[] | .key' <<<"$S" | sort | uniq -c | awk '$1 > 1 {print $2}' | sort -u >"$WORK/dup_keys"
check_eq "a reply sent twice was in flight at the kill" 0 \
  "$(comm -23 "$WORK/dup_keys" "$WORK/in_flight" | wc -l)"
jq -r '.sent[] | .key' <<<"$S" | sort | uniq -c | awk '{print $2, $1}' >"$WORK/seen_final"
check_eq "no reply marked sent before the kill was sent again" 0 \
  "$(join "$WORK/seen_at_kill" "$WORK/seen_final" | join - "$WORK/marked" | awk '$3 > $2' | wc -l)"
echo "# e2e scaleout_bot_kill9: webhooks=$COUNT acknowledged=$ACKED stored=$STORED" \
  "answered=$GOT duplicated=$DUPLICATED in_flight_at_kill=$(grep -c . "$WORK/in_flight" || true)" \
  "stored_at_kill=$at_kill leased_at_kill=$(($(grep -c . "$WORK/leased_inbox" || true) + $(grep -c . "$WORK/leased_outbox" || true)))" \
  "leased_rows_answered_ms=${TAKEOVER_MS:-never} redelivered=$(jq -r '[.kinds.webhook_redelivered.codes // {} | .[]] | add // 0' <<<"$L")" \
  "first_delivery_codes=$(jq -r '(.kinds.webhook.codes // {}) | to_entries | map("\(.key):\(.value)") | join(",")' <<<"$L")"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
