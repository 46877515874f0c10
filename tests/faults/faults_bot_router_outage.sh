#!/usr/bin/env bash
# Fault: the LLM router stops (kill -9) for 10 s under a stream of webhooks to
# the bot manager, then comes back on the same address.
#
# Expected (what a contact and an operator would check): every acknowledged
# message is answered exactly once at the channel once the router is back;
# no conversation is handed to a person (an unavailable router is retried
# with the seed's backoff, 2 s / 4 s / 8 s ..., within --reply_retry_window_s);
# in each chat the replies come in the order the messages arrived; no
# INTERNAL. Reports the recovery time: from the router's return to the last
# reply of the backlog.
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

SCENARIO=faults_bot_router_outage
COUNT=600
CONTACTS=40
DOWN_S=10
bot_fault_init "$SCENARIO" faultbotro
ROUTER_PORT="$(fault_free_port)"
start_router() { bot_fault_router "$1" "$ROUTER_PORT"; }
start_router router
# The service's defaults for retries (2 s doubling, 30 s at most, a 5 min window).
e2e_start BOT bot 's/^genesis-bot-manager grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  env FAULT_TG_SECRET="$FAULT_TG_SECRET" FAULT_TG_TOKEN="$FAULT_TG_TOKEN" \
  "$BOT_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" \
  --llm_router_address="127.0.0.1:$ROUTER_PORT" --telegram_base_url="$CSIM" \
  --whatsapp_base_url="$CSIM" --reply_timeout_s=5 --log_level=warn
URL="http://$BOT"
SVC=genesis.bot.v1.BotManagerService
# shellcheck source=../e2e/rpc.sh
source "$HERE/../e2e/rpc.sh"
call CreateBot '{"bot_id": "tg", "bot": {"channel": "CHANNEL_TELEGRAM",
  "webhook_secret_env": "FAULT_TG_SECRET", "access_token_env": "FAULT_TG_TOKEN"}}'
sent_json() { curl -s --max-time 10 "$CSIM/_sim/sent"; }
sent_count() { sent_json | jq -r .count; }

# A steady stream: 600 messages from 40 chats at 30 a second (20 s).
"$DRIVER_BIN" --target="$BOT" --channel=telegram --bot=tg --secret="$FAULT_TG_SECRET" \
  --count="$COUNT" --first=1000 --contacts="$CONTACTS" --contact_base=7000 --text_prefix=msg \
  --concurrency=4 --rate=30 --deadline_s=50 >"$WORK/driver.out" 2>"$WORK/driver.err" &
DRIVER_PID=$!
deadline=$((SECONDS + 20))
while [ "$(sent_count)" -lt 60 ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
before="$(sent_count)"
kill -KILL "$ROUTER_PID"
e2e_stop "$ROUTER_PID"
down_ms="$(fault_now_ms)"
pass "router killed after $before replies"
sleep "$DOWN_S" # the outage itself
during="$(sent_count)"
acked_down="$(sql "SELECT count(*) FROM bot_manager.inbox WHERE bot_id = 'tg'")"
handed_off_down="$(sql "SELECT count(*) FROM bot_manager.conversations WHERE state <> 'bot'")"
start_router router2
up_ms="$(fault_now_ms)"
pass "router back after $(((up_ms - down_ms) / 1000)) s; $acked_down messages acknowledged by then, $((during - before)) replies meanwhile"
drc=0
wait "$DRIVER_PID" || drc=$?
DRIVER_PID=""
D="$(cat "$WORK/driver.out")"
check_jq "every webhook was acknowledged" "$D" --argjson n "$COUNT" '.acked == $n and .unacked == 0 and .rejected == 0'
check_eq "  ... the driver exits 0" 0 "$drc"

# Every acknowledged message answered: poll with a deadline, then look once more for extras.
deadline=$((SECONDS + 40))
while [ "$(sent_count)" -lt "$COUNT" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
S="$(sent_json)"
last_us="$(jq -r '[.sent[].time_us] | max // 0' <<<"$S")"
recovery_s="$(python3 -c "print(round(max(0, $last_us / 1e6 - $up_ms / 1e3), 1))")"
sleep 1
S="$(sent_json)"
answered="$(jq -r '[.sent[] | .key] | unique | length' <<<"$S")"
duplicated="$(jq -r '[.sent[] | .key] | group_by(.) | map(select(length > 1)) | length' <<<"$S")"
acked="$(sql "SELECT count(*) FROM bot_manager.inbox WHERE bot_id = 'tg'")"
lost=$((acked - answered))
check_eq "every acknowledged message ($acked) was answered" "$acked" "$answered"
check_eq "  ... once (no key sent twice)" 0 "$duplicated"
check_eq "  ... each by its own echo" "$COUNT" \
  "$(jq -r '[.sent[] | .text | capture("msg (?<n>[0-9]+)").n] | unique | length' <<<"$S")"
check_eq "no conversation was handed to a person during the outage" 0 "$handed_off_down"
check_eq "  ... nor after it" 0 "$(sql "SELECT count(*) FROM bot_manager.conversations WHERE state <> 'bot'")"
check_eq "  ... and no hand-off notice was sent" 0 \
  "$(jq -r '[.sent[] | select(.text | test("atendente"))] | length' <<<"$S")"
# In each chat the replies came in the order the messages arrived (message numbers rise).
out_of_order="$(jq -r '[.sent | group_by(.to)[] | [.[] | .text | capture("msg (?<n>[0-9]+)").n | tonumber]
  | select(. != sort)] | length' <<<"$S")"
check_eq "in each of the $CONTACTS chats the replies came in arrival order" 0 "$out_of_order"
[ "$out_of_order" = 0 ] || jq -c '[.sent | group_by(.to)[] | {to: .[0].to, n: [.[] | .text
  | capture("msg (?<n>[0-9]+)").n | tonumber]} | select(.n != (.n | sort))][:2][]' <<<"$S" | sed 's/^/#   /'
if [ "$out_of_order" != 0 ]; then
  bad="$(jq -r '[.sent | group_by(.to)[] | {to: .[0].to, n: [.[] | .text
    | capture("msg (?<n>[0-9]+)").n | tonumber]} | select(.n != (.n | sort))][0].to' <<<"$S")"
  echo "#   chat $bad, replies in outbox id order (message, outbox id, sent at):"
  sql "SELECT i.external_id || ' ' || o.id || ' ' || to_char(o.send_time, 'SS.MS') FROM bot_manager.outbox o
    JOIN bot_manager.inbox i ON i.id = o.inbox_id WHERE i.contact = '$bad' ORDER BY o.id" | tr '\n' ';' | sed 's/^/#   /'
  echo
fi
check_eq "every inbox row is done" "$COUNT" \
  "$(sql "SELECT count(*) FROM bot_manager.inbox WHERE bot_id = 'tg' AND state = 'done'")"
codes="$(sql "SELECT coalesce(string_agg(DISTINCT split_part(error, ':', 1), ','), '') FROM bot_manager.inbox WHERE error <> ''")"
retried="$(sql "SELECT count(*) FROM bot_manager.inbox WHERE attempts > 1")"
check "no INTERNAL reached the bot manager" test "${codes/INTERNAL/}" = "$codes"
check "the bot manager logged no INTERNAL" bash -c "! grep -q INTERNAL '$WORK/bot.err'"
fault_report "$SCENARIO" "acknowledged=$acked" "lost=$lost" "duplicated=$duplicated" \
  "handed_off=$(sql "SELECT count(*) FROM bot_manager.conversations WHERE state <> 'bot'")" \
  "out_of_order_chats=$out_of_order" "retried=$retried" "codes=${codes:-none}" \
  "down_s=$DOWN_S" "recovery_s=$recovery_s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
