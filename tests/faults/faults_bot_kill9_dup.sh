#!/usr/bin/env bash
# Fault: kill -9 of the bot manager, three times, during a fast stream of
# webhooks; each time it is started again on the same address.
#
# The channel simulator runs with --collapse_repeats=false: a repeated send is
# recorded as a second message, as WhatsApp or Telegram (no idempotency key)
# would deliver it, so duplicates are counted by reply key (one per inbound
# message) at the channel, not hidden by the simulator.
#
# Expected: nothing lost (every acknowledged message answered); a reply sent
# twice only if its send was in flight at a kill (started - recorded before
# the channel is called - and not yet marked sent), so duplicates <= sends in
# flight at the kills; never for a reply marked sent before a kill. Prints the
# counts of each kill.
#
# Needs GENESIS_TEST_PG_DSN, GENESIS_BUF and the binaries (ctest passes them).
# shellcheck disable=SC2016,SC2034  # jq variables; URL and SVC are read by rpc.sh
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=../e2e/lib.sh
source "$HERE/../e2e/lib.sh"
# shellcheck source=../e2e/harness.sh
source "$HERE/../e2e/harness.sh"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=bot_lib.sh
source "$HERE/bot_lib.sh"

SCENARIO=faults_bot_kill9_dup
COUNT=900
KILLS=3
bot_fault_init "$SCENARIO" faultbotk9
bot_fault_router router 0
BOT_PORT="$(fault_free_port)"
# Short leases: a killed process's rows are taken again 3 s later.
start_bot() {
  e2e_start BOT "$1" 's/^genesis-bot-manager grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
    env FAULT_TG_SECRET="$FAULT_TG_SECRET" FAULT_TG_TOKEN="$FAULT_TG_TOKEN" \
    "$BOT_BIN" --grpc_port="$BOT_PORT" --metrics_port=-1 --pg_dsn="$DB_DSN" \
    --llm_router_address="$ROUTER" --telegram_base_url="$CSIM" --whatsapp_base_url="$CSIM" \
    --inbox_lease_s=3 --outbox_lease_s=3 --send_timeout_ms=2000 --worker_idle_ms=50 \
    --log_level=warn
  BOT_PID="$E2E_PID"
}
start_bot bot0
URL="http://$BOT"
SVC=genesis.bot.v1.BotManagerService
# shellcheck source=../e2e/rpc.sh
source "$HERE/../e2e/rpc.sh"
call CreateBot '{"bot_id": "tg", "bot": {"channel": "CHANNEL_TELEGRAM",
  "webhook_secret_env": "FAULT_TG_SECRET", "access_token_env": "FAULT_TG_TOKEN"}}'
sent_json() { curl -s --max-time 10 "$CSIM/_sim/sent"; }
sent_count() { sent_json | jq -r .count; }

"$DRIVER_BIN" --target="$BOT" --channel=telegram --bot=tg --secret="$FAULT_TG_SECRET" \
  --count="$COUNT" --first=1 --contacts=60 --contact_base=8000 --text_prefix=k9 \
  --concurrency=8 --rate=200 --deadline_s=50 >"$WORK/driver.out" 2>"$WORK/driver.err" &
DRIVER_PID=$!

# Keys of replies at each kill: in flight (send started, not marked sent) and marked sent.
: >"$WORK/in_flight"
in_flight_total=0
per_kill=()
for k in $(seq 1 "$KILLS"); do
  target=$((k * COUNT / (KILLS + 2)))
  deadline=$((SECONDS + 20))
  while [ "$(sent_count)" -lt "$target" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.02; done
  kill -KILL "$BOT_PID"
  e2e_stop "$BOT_PID"
  sql "SELECT idempotency_key FROM bot_manager.outbox WHERE state = 'pending' AND send_started_time IS NOT NULL" >"$WORK/kill$k"
  # Replies marked sent before this kill, with how often the channel had received each by then.
  sql "SELECT idempotency_key FROM bot_manager.outbox WHERE state <> 'pending'" | sort -u >"$WORK/marked$k"
  sent_json | jq -r '.sent[] | .key' | sort | uniq -c | awk '{print $2, $1}' >"$WORK/seen$k"
  n="$(grep -c . "$WORK/kill$k" || true)"
  cat "$WORK/kill$k" >>"$WORK/in_flight"
  in_flight_total=$((in_flight_total + n))
  per_kill+=("kill $k at $(sent_count) replies: $n send(s) in flight")
  start_bot "bot$k"
done
pass "killed -9 $KILLS times: ${per_kill[*]}"

drc=0
wait "$DRIVER_PID" || drc=$?
DRIVER_PID=""
D="$(cat "$WORK/driver.out")"
check_jq "every webhook was acknowledged (redelivered while the service was down)" "$D" \
  --argjson n "$COUNT" '.acked == $n and .unacked == 0 and .rejected == 0'
check_eq "  ... the driver exits 0" 0 "$drc"
acked="$(sql "SELECT count(*) FROM bot_manager.inbox WHERE bot_id = 'tg'")"
# Every acknowledged message answered: poll with a deadline (leases of 3 s), then look once more.
answered() { sent_json | jq -r '[.sent[] | .key] | unique | length'; }
deadline=$((SECONDS + 30))
while [ "$(answered)" -lt "$acked" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
sleep 1
S="$(sent_json)"
jq -r '.sent[] | .key' <<<"$S" | sort | uniq -c | awk '$1 > 1 {print $2}' >"$WORK/dup_keys"
got="$(jq -r '[.sent[] | .key] | unique | length' <<<"$S")"
duplicated="$(jq -r '.count - ([.sent[] | .key] | unique | length)' <<<"$S")"
lost=$((acked - got))
check_eq "nothing lost: every acknowledged message ($acked) was answered" 0 "$lost"
# Each reply sent twice was in flight at a kill; none marked sent before a kill was sent after it.
sort -u "$WORK/in_flight" >"$WORK/in_flight.sorted"
not_in_flight="$(sort -u "$WORK/dup_keys" | comm -23 - "$WORK/in_flight.sorted" | wc -l)"
jq -r '.sent[] | .key' <<<"$S" | sort | uniq -c | awk '{print $2, $1}' >"$WORK/seen_final"
after_ack=0
for k in $(seq 1 "$KILLS"); do
  # key, times received by the kill, times received in all; kept: marked sent before kill k.
  n="$(join "$WORK/seen$k" "$WORK/seen_final" | join - "$WORK/marked$k" | awk '$3 > $2' | wc -l)"
  after_ack=$((after_ack + n))
done
check_eq "every reply sent twice was in flight at a kill" 0 "$not_in_flight"
check_eq "no reply marked sent before a kill was sent again" 0 "$after_ack"
check "duplicates ($duplicated) <= sends in flight at the kills ($in_flight_total)" \
  test "$duplicated" -le "$in_flight_total"
check_eq "every inbox row is done" "$acked" \
  "$(sql "SELECT count(*) FROM bot_manager.inbox WHERE bot_id = 'tg' AND state = 'done'")"
check_eq "every reply is marked sent" "$acked" \
  "$(sql "SELECT count(*) FROM bot_manager.outbox WHERE bot_id = 'tg' AND state = 'sent'")"
fault_report "$SCENARIO" "acknowledged=$acked" "lost=$lost" "duplicated=$duplicated" \
  "in_flight_at_kills=$in_flight_total" "duplicated_after_ack=$after_ack" "kills=$KILLS" \
  "codes=none"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
