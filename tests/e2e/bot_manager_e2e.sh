#!/usr/bin/env bash
# End-to-end test of genesis-bot-manager: the channel simulator, the LLM
# provider simulator, the real LLM router and the bot manager on a fresh
# PostgreSQL database (and Redis when GENESIS_TEST_REDIS_URL is set), then
# genesis-gateway in front of it. Most webhooks are driven over gRPC
# (BotWebhookService) with the signature metadata the gateway forwards; one
# section posts them over real HTTP through the gateway. Replies are checked
# where a user would see them: at the channel simulator.
#
# Covers: bots CRUD and bad input; WhatsApp GET verification; valid, invalid,
# missing and replayed signatures per channel; malformed payloads and unknown
# bots (nothing stored); replies through WhatsApp, Telegram and Mattermost;
# delivery statuses; handoff round trip; proactive approval, daily cap and
# quiet hours; LGPD erasure; the gateway's public webhook routes (raw bodies,
# forwarded signature headers, 401 with nothing stored) and an admin route
# with a token; and kill -9 of the service during a stream of 1,000
# webhooks, after which every message is answered exactly once at the
# simulator.
#
# Needs GENESIS_TEST_PG_DSN and the binaries (ctest passes them; else found
# under $GENESIS_BUILD_DIR):
#   GENESIS_BOT_MANAGER_BIN GENESIS_CHANNEL_SIMULATOR_BIN GENESIS_BOT_WEBHOOK_DRIVER_BIN
#   GENESIS_LLM_ROUTER_BIN GENESIS_LLM_SIMULATOR_BIN GENESIS_GATEWAY_BIN
#   GENESIS_GATEWAY_ADMIN_BIN GENESIS_BUF
# Exits 77 (skipped) when something is missing, 1 when a check fails.

# shellcheck disable=SC2016
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

e2e_require_pg
e2e_require_tools jq curl python3 openssl
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUF="${GENESIS_BUF:-$ROOT/.genesis/tools/node_modules/.bin/buf}"
[ -x "$BUF" ] || e2e_skip "buf not found at $BUF (set GENESIS_BUF)"
e2e_bin BOT_BIN GENESIS_BOT_MANAGER_BIN services/bot_manager/genesis-bot-manager
e2e_bin CSIM_BIN GENESIS_CHANNEL_SIMULATOR_BIN services/bot_manager/simulator/genesis-channel-simulator
e2e_bin DRIVER_BIN GENESIS_BOT_WEBHOOK_DRIVER_BIN services/bot_manager/tests/genesis-bot-webhook-driver
e2e_bin ROUTER_BIN GENESIS_LLM_ROUTER_BIN services/llm_router/genesis-llm-router
e2e_bin LSIM_BIN GENESIS_LLM_SIMULATOR_BIN services/llm_router/simulator/genesis-llm-simulator
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
GENESIS_GATEWAY_ADMIN_BIN="${GENESIS_GATEWAY_ADMIN_BIN:-$(dirname "$GATEWAY_BIN")/genesis-gateway-admin}"
e2e_bin ADMIN_BIN GENESIS_GATEWAY_ADMIN_BIN gateway/genesis-gateway-admin
MODELS_CONFIG="$ROOT/services/llm_router/config/models.json"

e2e_init bot-e2e
e2e_fresh_db bote2e
sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$DB_DSN" -c "$1"; }
DRIVER_PID=""
# The background webhook stream of the crash test, if still running.
e2e_before_cleanup() { [ -z "$DRIVER_PID" ] || e2e_stop "$DRIVER_PID"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

e2e_start LSIM lsim 's/^genesis-llm-simulator http=\(.*\)$/\1/p' -- "$LSIM_BIN" --http_port=0
e2e_start ROUTER router 's/^genesis-llm-router grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$ROUTER_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" \
  --models_config="$MODELS_CONFIG" --simulator_url="http://$LSIM" --log_level=warn
e2e_start CSIM csim 's/^genesis-channel-simulator http=\(.*\)$/http:\/\/\1/p' -- \
  "$CSIM_BIN" --http_port=0

BOT_PORT="$(free_port)"
GATEWAY_SECRET="$E2E_GATEWAY_SECRET" # the run's (harness.sh), also in OPERATOR
export E2E_WA_SECRET="wa-app-secret-$RANDOM" E2E_WA_TOKEN="wa-access" E2E_WA_VERIFY="wa-verify-123"
export E2E_TG_SECRET="tg-secret-$RANDOM" E2E_TG_TOKEN="123456:tg-token"
export E2E_MM_SECRET="mm-token-$RANDOM" E2E_MM_TOKEN="mm-bot-token"
e2e_secret "$GATEWAY_SECRET" "$E2E_WA_SECRET" "$E2E_WA_TOKEN" "$E2E_WA_VERIFY" "$E2E_TG_SECRET" \
  "$E2E_TG_TOKEN" "$E2E_MM_SECRET" "$E2E_MM_TOKEN"
# start_bot NAME [FLAG...]: the bot manager on BOT_PORT (short leases so a crash is recovered
# fast; FLAGs come last and win); sets BOT and BOT_PID.
start_bot() {
  local name="$1"
  shift
  e2e_start BOT "$name" 's/^genesis-bot-manager grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
    env E2E_WA_SECRET="$E2E_WA_SECRET" E2E_WA_TOKEN="$E2E_WA_TOKEN" \
    E2E_WA_VERIFY="$E2E_WA_VERIFY" E2E_TG_SECRET="$E2E_TG_SECRET" E2E_TG_TOKEN="$E2E_TG_TOKEN" \
    E2E_MM_SECRET="$E2E_MM_SECRET" E2E_MM_TOKEN="$E2E_MM_TOKEN" \
    "$BOT_BIN" --grpc_port="$BOT_PORT" --metrics_port=-1 --pg_dsn="$DB_DSN" \
    --redis_url="${GENESIS_TEST_REDIS_URL:-}" --redis_key_prefix="bote2e:$DB:" \
    --llm_router_address="$ROUTER" --whatsapp_base_url="$CSIM" --telegram_base_url="$CSIM" \
    --mattermost_base_url="$CSIM" --inbox_lease_s=3 --outbox_lease_s=3 --send_timeout_ms=2000 \
    --retry_backoff_ms=200 \
    --worker_idle_ms=50 --gateway_secret="$GATEWAY_SECRET" --log_level=warn "$@"
  BOT_PID="$E2E_PID"
}
start_bot bot
URL="http://$BOT"
pass "llm sim $LSIM, router $ROUTER, channel sim $CSIM, bot manager $BOT"

SVC=genesis.bot.v1.BotManagerService
HOOKS=genesis.bot.v1.BotWebhookService
# shellcheck source=rpc.sh
source "$(dirname "${BASH_SOURCE[0]}")/rpc.sh"
sent_json() { curl -s --max-time 10 "$CSIM/_sim/sent"; }
# wait_sent N: until the simulator has recorded at least N sends (30 s).
wait_sent() {
  local deadline=$((SECONDS + ${2:-30})) n=0
  while [ "$SECONDS" -lt "$deadline" ]; do
    n="$(sent_json | jq -r '.count')"
    [ "$n" -ge "$1" ] && break
    sleep 0.1
  done
  echo "$n"
}
b64() { printf '%s' "$1" | base64 -w0; }
inbox_count() { sql "SELECT count(*) FROM bot_manager.inbox WHERE bot_id = '$1'"; }

# --------------------------------------------------------------------------
# Bots

call CreateBot '{"bot_id": "wa", "bot": {"channel": "CHANNEL_WHATSAPP", "display_name": "Atendimento",
  "system_prompt": "Você é o assistente da Urbana.", "task_type": "chat",
  "webhook_secret_env": "E2E_WA_SECRET", "access_token_env": "E2E_WA_TOKEN",
  "verify_token_env": "E2E_WA_VERIFY", "phone_number_id": "100200300"}}'
check_jq "CreateBot: WhatsApp bot with defaults" "$R" \
  '.name == "bots/wa" and .maxContextMessages == 20 and .proactiveDailyLimit == 5 and (.etag | length) > 0'
call CreateBot '{"bot_id": "tg", "bot": {"channel": "CHANNEL_TELEGRAM", "webhook_secret_env": "E2E_TG_SECRET",
  "access_token_env": "E2E_TG_TOKEN", "proactive_daily_limit": 2}}'
call CreateBot '{"bot_id": "mm", "bot": {"channel": "CHANNEL_MATTERMOST", "webhook_secret_env": "E2E_MM_SECRET",
  "access_token_env": "E2E_MM_TOKEN"}}'
expect_status already_exists "$SVC/CreateBot" '{"bot_id": "tg", "bot": {"channel": "CHANNEL_TELEGRAM",
  "webhook_secret_env": "X", "access_token_env": "Y"}}' "CreateBot with a taken id"
expect_status invalid_argument "$SVC/CreateBot" '{"bot_id": "Bad Id", "bot": {"channel": "CHANNEL_WHATSAPP"}}' \
  "CreateBot with a bad id and no secrets"
check "  ... names bot_id, webhook_secret_env and phone_number_id" \
  jq_true "$R" '(.message | contains("bot_id")) and (.message | contains("bot.webhook_secret_env")) and (.message | contains("bot.phone_number_id"))'
call ListBots '{}'
check_jq "ListBots lists the three bots" "$R" '[.bots[].name] == ["bots/mm", "bots/tg", "bots/wa"]'
call UpdateBot '{"bot": {"name": "bots/wa", "display_name": "Atendimento Urbana"}}'
check_jq "UpdateBot changes only the given field" "$R" \
  '.displayName == "Atendimento Urbana" and .phoneNumberId == "100200300"'

# --------------------------------------------------------------------------
# WhatsApp GET verification

rpc "$HOOKS/VerifyWhatsAppWebhook" '{"bot": "wa", "hub": {"mode": "subscribe", "verify_token": "wa-verify-123", "challenge": "1158201444"}}'
check_jq "WhatsApp verification echoes hub.challenge as text/plain" "$OUT" \
  '.contentType == "text/plain" and (.data | @base64d) == "1158201444"'
expect_status unauthenticated "$HOOKS/VerifyWhatsAppWebhook" \
  '{"bot": "wa", "hub": {"mode": "subscribe", "verify_token": "wrong", "challenge": "1"}}' "verification with a wrong token"

# --------------------------------------------------------------------------
# Signatures: valid, invalid, missing, replayed (per channel)

drive() { "$DRIVER_BIN" --target="$BOT" "$@"; }
for ch in whatsapp telegram mattermost; do
  case $ch in
    whatsapp) bot=wa secret="$E2E_WA_SECRET" first=1 ;;
    telegram) bot=tg secret="$E2E_TG_SECRET" first=500 ;;
    mattermost) bot=mm secret="$E2E_MM_SECRET" first=900 ;;
  esac
  D="$(drive --channel=$ch --bot=$bot --secret="$secret" --count=3 --first=$first --bad_signature || true)"
  check_jq "$ch: a bad signature is refused" "$D" '.rejected == 3 and .acked == 0'
  check_eq "$ch: ... and nothing is stored" 0 "$(inbox_count $bot)"
  D="$(drive --channel=$ch --bot=$bot --secret="$secret" --count=3 --first=$first --text_prefix="olá $ch")"
  check_jq "$ch: three signed webhooks are accepted" "$D" '.acked == 3 and .accepted == 3'
  D="$(drive --channel=$ch --bot=$bot --secret="$secret" --count=3 --first=$first --text_prefix="olá $ch")"
  check_jq "$ch: their redelivery is acknowledged as duplicates" "$D" '.acked == 3 and .duplicates == 3 and .accepted == 0'
  check_eq "$ch: three inbox rows" 3 "$(inbox_count $bot)"
done
BODY='{"entry":[]}'
expect_status unauthenticated "$HOOKS/ReceiveWhatsAppWebhook" "{\"bot\": \"wa\", \"body\": {\"data\": \"$(b64 "$BODY")\"}}" \
  "whatsapp: no X-Hub-Signature-256"
expect_status unauthenticated "$HOOKS/ReceiveTelegramWebhook" "{\"bot\": \"tg\", \"body\": {\"data\": \"$(b64 '{"update_id": 1}')\"}}" \
  "telegram: no secret token header"
expect_status unauthenticated "$HOOKS/ReceiveMattermostWebhook" "{\"bot\": \"mm\", \"body\": {\"data\": \"$(b64 '{"post_id":"p","user_id":"u","channel_id":"c","text":"x"}')\"}}" \
  "mattermost: no token"

# Malformed payloads with a valid signature, and unknown bots: clear errors, nothing stored.
BAD='{"entry": [{"changes": [{"value": {"messages": [{"type": "text"}]}}]}]}'
SIG="sha256=$(printf '%s' "$BAD" | openssl dgst -sha256 -hmac "$E2E_WA_SECRET" -r | cut -d' ' -f1)"
expect_status invalid_argument "$HOOKS/ReceiveWhatsAppWebhook" "{\"bot\": \"wa\", \"body\": {\"data\": \"$(b64 "$BAD")\"}}" \
  "whatsapp: a message without id/from" -H "x-hub-signature-256: $SIG"
check "  ... the error names the body field" jq_true "$R" '.message | contains("body")'
expect_status invalid_argument "$HOOKS/ReceiveTelegramWebhook" "{\"bot\": \"tg\", \"body\": {\"data\": \"$(b64 'not json')\"}}" \
  "telegram: a body that is not JSON" -H "x-telegram-bot-api-secret-token: $E2E_TG_SECRET"
expect_status not_found "$HOOKS/ReceiveTelegramWebhook" "{\"bot\": \"nobody\", \"body\": {\"data\": \"$(b64 '{}')\"}}" \
  "telegram: an unknown bot" -H "x-telegram-bot-api-secret-token: $E2E_TG_SECRET"
expect_status failed_precondition "$HOOKS/ReceiveTelegramWebhook" "{\"bot\": \"wa\", \"body\": {\"data\": \"$(b64 '{}')\"}}" \
  "telegram webhook sent to the WhatsApp bot"
check_eq "nothing half-stored: 3 + 3 + 3 inbox rows in all" 9 "$(sql 'SELECT count(*) FROM bot_manager.inbox')"

# --------------------------------------------------------------------------
# Replies reach the channels once each

N="$(wait_sent 9)"
check_eq "the simulator received 9 replies" 9 "$N"
S="$(sent_json)"
check_jq "WhatsApp replies: the router's answers to each message, to the sender" "$S" \
  '[.sent[] | select(.channel == "whatsapp")] | length == 3 and all(.text | startswith("echo: olá whatsapp")) and all(.to | startswith("55119"))'
check_jq "Telegram replies go to the chat" "$S" '[.sent[] | select(.channel == "telegram")] | length == 3'
check_jq "Mattermost replies are posted to the channel" "$S" \
  '[.sent[] | select(.channel == "mattermost")] | length == 3 and all(.to | startswith("chan"))'
call ListOutboxEntries '{"parent": "bots/wa"}'
check_jq "outbox rows are SENT with the channel's message id" "$R" \
  '(.entries | length) == 3 and all(.entries[]; .state == "SENT" and (.externalId | startswith("wamid.SIM")))'
WAMID="$(jq -r '.entries[0].externalId' <<<"$R")"
STATUS="{\"entry\":[{\"changes\":[{\"value\":{\"statuses\":[{\"id\":\"$WAMID\",\"status\":\"read\"}]}}]}]}"
SIG="sha256=$(printf '%s' "$STATUS" | openssl dgst -sha256 -hmac "$E2E_WA_SECRET" -r | cut -d' ' -f1)"
rpc "$HOOKS/ReceiveWhatsAppWebhook" "{\"bot\": \"wa\", \"body\": {\"data\": \"$(b64 "$STATUS")\"}}" -H "x-hub-signature-256: $SIG"
check_jq "a delivery status webhook updates the outbox" "$OUT" '.statuses == 1'
check_eq "  ... the row is READ" read "$(sql "SELECT state FROM bot_manager.outbox WHERE external_id = '$WAMID'")"

# --------------------------------------------------------------------------
# Handoff round trip

sent_before="$(sent_json | jq -r .count)"
drive --channel=whatsapp --bot=wa --secret="$E2E_WA_SECRET" --count=1 --first=50 --contact_base=5521900000050 \
  --contacts=1 --text_prefix="quero falar com um atendente" >/dev/null
wait_sent $((sent_before + 1)) >/dev/null
call ListHandoffQueue '{}'
CONV="$(jq -r '.conversations[0].name // empty' <<<"$R")"
check_jq "asking for a person puts the conversation in the handoff queue" "$R" \
  '.conversations[0].state == "CONVERSATION_STATE_HANDOFF_WAITING" and .conversations[0].contact == "5521900000050"'
check_jq "  ... and the contact is told a person is coming" "$(sent_json)" '.sent[-1].text | contains("atendente")'
drive --channel=whatsapp --bot=wa --secret="$E2E_WA_SECRET" --count=1 --first=51 --contact_base=5521900000050 \
  --contacts=1 --text_prefix="alô?" >/dev/null
deadline=$((SECONDS + 10))
while [ "$(sql "SELECT count(*) FROM bot_manager.inbox WHERE external_id = 'wamid.drv51' AND state = 'done'")" != 1 ] &&
  [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
sleep 0.3
check_eq "the bot stays silent while the conversation waits for a person" "$((sent_before + 1))" "$(sent_json | jq -r .count)"
call ClaimConversation "{\"name\": \"$CONV\", \"agent\": \"ana\"}"
check_jq "ana claims it" "$R" '.state == "CONVERSATION_STATE_HANDOFF_ACTIVE" and .agent == "ana"'
expect_status failed_precondition "$SVC/ClaimConversation" "{\"name\": \"$CONV\", \"agent\": \"bruno\"}" "bruno claims a conversation ana holds"
call ReplyToConversation "{\"name\": \"$CONV\", \"agent\": \"ana\", \"text\": \"Oi, aqui é a Ana.\", \"request_id\": \"r1\"}"
call ReplyToConversation "{\"name\": \"$CONV\", \"agent\": \"ana\", \"text\": \"Oi, aqui é a Ana.\", \"request_id\": \"r1\"}"
wait_sent $((sent_before + 2)) >/dev/null
sleep 0.3
check_jq "ana's reply reaches the contact once (request id retried)" "$(sent_json)" \
  "[.sent[] | select(.text == \"Oi, aqui é a Ana.\" and .to == \"5521900000050\")] | length == 1"
expect_status failed_precondition "$SVC/ReplyToConversation" "{\"name\": \"$CONV\", \"agent\": \"bruno\", \"text\": \"x\"}" \
  "bruno replies in ana's conversation"
call ReleaseConversation "{\"name\": \"$CONV\", \"agent\": \"ana\"}"
check_jq "released back to the bot" "$R" '.state == "CONVERSATION_STATE_BOT"'
before="$(sent_json | jq -r .count)"
drive --channel=whatsapp --bot=wa --secret="$E2E_WA_SECRET" --count=1 --first=52 --contact_base=5521900000050 \
  --contacts=1 --text_prefix="obrigado" >/dev/null
wait_sent $((before + 1)) >/dev/null
check_jq "the bot answers again after the release" "$(sent_json)" '.sent[-1].text == "echo: obrigado 52"'
call GetConversation "{\"name\": \"$CONV\"}"
check_jq "the history holds contact, bot and human messages in order" "$R" \
  '[.messages[].author] == ["AUTHOR_CONTACT","AUTHOR_BOT","AUTHOR_CONTACT","AUTHOR_HUMAN","AUTHOR_CONTACT","AUTHOR_BOT"]'

# --------------------------------------------------------------------------
# Proactive messages: approval for a new contact, daily cap, quiet hours

call CreateProactiveMessage '{"parent": "bots/tg", "proactive_message": {"recipient": "777", "text": "Novidade!"}}'
PM="$(jq -r .name <<<"$R")"
check_jq "the first proactive message to a new contact waits for approval" "$R" '.state == "PROACTIVE_STATE_AWAITING_APPROVAL"'
before="$(sent_json | jq -r .count)"
call ApproveProactiveMessage "{\"name\": \"$PM\"}"
check_jq "approved, it is queued" "$R" '.state == "PROACTIVE_STATE_QUEUED" or .state == "PROACTIVE_STATE_SENT"'
wait_sent $((before + 1)) >/dev/null
call GetProactiveMessage "{\"name\": \"$PM\"}"
check_jq "  ... and then sent" "$R" '.state == "PROACTIVE_STATE_SENT"'
call CreateProactiveMessage '{"parent": "bots/tg", "proactive_message": {"recipient": "777", "text": "Lembrete"}, "request_id": "p2"}'
check_jq "an approved contact's next message is queued at once" "$R" '.state == "PROACTIVE_STATE_QUEUED" or .state == "PROACTIVE_STATE_SENT"'
call CreateProactiveMessage '{"parent": "bots/tg", "proactive_message": {"recipient": "777", "text": "Lembrete"}, "request_id": "p2"}'
check_jq "  ... a retry with the same request id is the same message" "$R" '.text == "Lembrete"'
expect_status resource_exhausted "$SVC/CreateProactiveMessage" \
  '{"parent": "bots/tg", "proactive_message": {"recipient": "777", "text": "Mais um"}}' "a third message the same day (limit 2)"
H="$(date -u +%H)"; H=$((10#$H)); E=$(((H + 2) % 24))
call UpdateBot "{\"bot\": {\"name\": \"bots/wa\", \"quiet_hours\": {\"start_hour\": $H, \"end_hour\": $E}}, \"update_mask\": \"quietHours\"}"
call CreateProactiveMessage '{"parent": "bots/wa", "proactive_message": {"recipient": "5521900000050", "text": "Promoção"}}'
check_jq "during quiet hours a message for a known contact waits for their end" "$R" \
  "(.state == \"PROACTIVE_STATE_QUEUED\") and (.sendTime > \"$(date -u +%Y-%m-%dT%H:%M:%S)\")"
expect_status invalid_argument "$SVC/CreateProactiveMessage" '{"parent": "bots/wa", "proactive_message": {"recipient": ""}}' \
  "a proactive message without recipient and text"

# --------------------------------------------------------------------------
# LGPD erasure

call EraseContact '{"name": "bots/wa/contacts/5521900000050"}'
check_jq "erasure reports what it deleted" "$R" \
  '(.messagesDeleted | tonumber) == 6 and (.conversationsDeleted | tonumber) == 1 and (.inboxEntriesDeleted | tonumber) == 3 and (.outboxEntriesDeleted | tonumber) >= 3'
expect_status not_found "$SVC/GetConversation" "{\"name\": \"$CONV\"}" "the erased conversation"
check_eq "no row of the contact is left" 0 \
  "$(sql "SELECT (SELECT count(*) FROM bot_manager.inbox WHERE contact = '5521900000050') + (SELECT count(*) FROM bot_manager.outbox WHERE recipient = '5521900000050') + (SELECT count(*) FROM bot_manager.proactive_messages WHERE recipient = '5521900000050')")"

# --------------------------------------------------------------------------
# Through the gateway: signed webhooks over real HTTP (public routes, no
# credentials), raw bodies and the forwarded signature headers; an admin RPC
# over REST with a token whose subject reaches the service as the caller.

JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
TOKEN="$(env "${ENV_UNSET[@]}" GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$ADMIN_BIN" mint-token \
  --subject=carla --roles=operator --ttl=10m)"
e2e_secret "$JWT_SECRET" "$TOKEN"
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="genesis.bot.v1.BotManagerService=$BOT,genesis.bot.v1.BotWebhookService=$BOT" \
  --gateway_secret="$GATEWAY_SECRET" --rate_limit=1000/s --log_level=warn
pass "gateway at $GW"
# http METHOD PATH [curl args...]: sets CODE, R (body) and CTYPE.
http() {
  local method="$1" path="$2"
  shift 2
  CODE="$(curl -s --max-time 20 -X "$method" -o "$WORK/http.body" -D "$WORK/http.head" \
    -w '%{http_code}' "$@" "$GW$path" || true)"
  R="$(cat "$WORK/http.body")"
  CTYPE="$(sed -n 's/^[Cc]ontent-[Tt]ype: *\([^;[:space:]]*\).*$/\1/p' "$WORK/http.head" | tail -1)"
}
# emit JSON: the channel simulator signs a webhook its channel's way and POSTs it to the gateway.
emit() { curl -s --max-time 20 -X POST "$CSIM/_sim/emit" -d "$1"; }

http GET "/v1/webhooks/whatsapp/wa?hub.mode=subscribe&hub.verify_token=$E2E_WA_VERIFY&hub.challenge=8675309"
check_eq "gateway: WhatsApp GET verification -> 200" 200 "$CODE"
check_eq "  ... echoes hub.challenge as the raw body" 8675309 "$R"
check_eq "  ... as text/plain" text/plain "$CTYPE"
http GET "/v1/webhooks/whatsapp/wa?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"
check_eq "gateway: WhatsApp verification with a wrong token -> 401" 401 "$CODE"

rows_before="$(sql 'SELECT count(*) FROM bot_manager.inbox')"
for ch in whatsapp telegram mattermost; do
  case $ch in
    whatsapp) bot=wa secret="$E2E_WA_SECRET" from=5531900000001 chat=100200300 ;;
    telegram) bot=tg secret="$E2E_TG_SECRET" from=4242 chat=4242 ;;
    mattermost) bot=mm secret="$E2E_MM_SECRET" from=user-gw chat=chan-gw ;;
  esac
  E="$(emit "{\"channel\": \"$ch\", \"target\": \"$GW/v1/webhooks/$ch/$bot\", \"secret\": \"$secret\",
    \"from\": \"$from\", \"chat\": \"$chat\", \"text\": \"via gateway $ch\", \"id\": \"7000001\"}")"
  check_jq "gateway: a signed $ch webhook -> 200, accepted" "$E" \
    '.status == 200 and (.body | fromjson | .accepted) == 1'
  E="$(emit "{\"channel\": \"$ch\", \"target\": \"$GW/v1/webhooks/$ch/$bot\", \"secret\": \"$secret\",
    \"from\": \"$from\", \"chat\": \"$chat\", \"text\": \"via gateway $ch\", \"id\": \"7000001\"}")"
  check_jq "gateway: its redelivery -> 200, a duplicate" "$E" \
    '.status == 200 and (.body | fromjson | .duplicates) == 1'
  E="$(emit "{\"channel\": \"$ch\", \"target\": \"$GW/v1/webhooks/$ch/$bot\", \"secret\": \"wrong-$secret\",
    \"from\": \"$from\", \"chat\": \"$chat\", \"text\": \"forged\", \"id\": \"7000002\"}")"
  check_jq "gateway: a $ch webhook signed with a wrong secret -> 401" "$E" '.status == 401'
done
BODY='{"object":"whatsapp_business_account","entry":[]}'
http POST /v1/webhooks/whatsapp/wa -H 'Content-Type: application/json' --data-binary "$BODY"
check_eq "gateway: a WhatsApp webhook without X-Hub-Signature-256 -> 401" 401 "$CODE"
http POST /v1/webhooks/telegram/tg -H 'Content-Type: application/json' \
  -H "X-Telegram-Bot-Api-Secret-Token: $E2E_TG_SECRET" --data-binary 'not json'
check_eq "gateway: a signed Telegram webhook that is not JSON -> 400" 400 "$CODE"
check_eq "gateway: three accepted webhooks stored, nothing of the refused ones" \
  $((rows_before + 3)) "$(sql 'SELECT count(*) FROM bot_manager.inbox')"
check_eq "  ... no forged message stored" 0 "$(sql "SELECT count(*) FROM bot_manager.inbox WHERE text LIKE '%forged%'")"
deadline=$((SECONDS + 20))
while [ "$(sent_json | jq '[.sent[] | select(.text | startswith("echo: via gateway"))] | length')" -lt 3 ] &&
  [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
check_jq "  ... and the three are answered at the channels once each" "$(sent_json)" \
  '[.sent[] | select(.text | startswith("echo: via gateway"))] | map(.channel) | sort == ["mattermost", "telegram", "whatsapp"]'

http GET /v1/bots/wa
check_eq "gateway: an admin route without credentials -> 401" 401 "$CODE"
http GET /v1/bots/wa -H "Authorization: Bearer $TOKEN"
check_eq "gateway: GET /v1/bots/wa with a token -> 200" 200 "$CODE"
check_jq "  ... the bot as JSON" "$R" '.name == "bots/wa" and .channel == "CHANNEL_WHATSAPP"'
drive --channel=whatsapp --bot=wa --secret="$E2E_WA_SECRET" --count=1 --first=60 --contact_base=5531900000060 \
  --contacts=1 --text_prefix="I want a human" >/dev/null
deadline=$((SECONDS + 10))
while [ "$(sql "SELECT count(*) FROM bot_manager.conversations WHERE contact = '5531900000060' AND state = 'handoff_waiting'")" != 1 ] &&
  [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
http GET /v1/handoffQueue -H "Authorization: Bearer $TOKEN"
C2="$(jq -r '.conversations[] | select(.contact == "5531900000060") | .name' <<<"$R")"
check "gateway: the handoff queue over REST lists the English request" test -n "$C2"
http POST "/v1/$C2:claim" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{}'
check_eq "gateway: claim over REST -> 200" 200 "$CODE"
check_jq "  ... held by the token's subject" "$R" '.agent == "carla" and .state == "CONVERSATION_STATE_HANDOFF_ACTIVE"'
http POST /v1/bots -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"channel": "CHANNEL_TELEGRAM"}'
check_eq "gateway: CreateBot with bad input over REST -> 400" 400 "$CODE"
check_jq "  ... with field violations a person can act on" "$R" \
  '[.details[]? | .fieldViolations[]?.field] | (index("bot_id") != null and index("bot.webhook_secret_env") != null)'

# --------------------------------------------------------------------------
# kill -9 during a stream of 1,000 webhooks: every message answered exactly once

curl -s -X POST "$CSIM/_sim/reset" >/dev/null
"$DRIVER_BIN" --target="$BOT" --channel=telegram --bot=tg --secret="$E2E_TG_SECRET" --count=1000 \
  --first=100000 --contacts=50 --contact_base=9000 --text_prefix=carga --concurrency=8 --rate=250 \
  --deadline_s=120 >"$WORK/driver.out" 2>"$WORK/driver.err" &
DRIVER_PID=$!
deadline=$((SECONDS + 30))
while [ "$(sent_json | jq -r .count)" -lt 200 ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
kill -KILL "$BOT_PID"
e2e_stop "$BOT_PID"
at_kill="$(sent_json | jq -r .count)"
pass "killed -9 after $at_kill replies"
sleep 0.5
start_bot bot2
drc=0
wait "$DRIVER_PID" || drc=$?
DRIVER_PID=""
D="$(cat "$WORK/driver.out")"
check_jq "every one of the 1,000 webhooks was acknowledged (redelivered while down)" "$D" '.acked == 1000 and .unacked == 0'
check_eq "  ... the driver exits 0" 0 "$drc"
N="$(wait_sent 1000 90)"
sleep 1
S="$(sent_json)"
check_eq "the simulator shows 1,000 replies" 1000 "$(jq -r .count <<<"$S")"
check_eq "  ... each message answered exactly once" 1000 \
  "$(jq -r '[.sent[] | select(.channel == "telegram") | .text] | unique | length' <<<"$S")"
check_jq "  ... each to its own chat" "$S" \
  'all(.sent[]; (.text | capture("carga (?<n>[0-9]+)").n | tonumber) % 50 + 9000 == (.to | tonumber))'
check_eq "inbox: 1,000 rows, all done" "1000 1000" \
  "$(sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE state = 'done') FROM bot_manager.inbox WHERE bot_id = 'tg' AND external_id::bigint BETWEEN 100000 AND 100999")"
echo "# driver: $D; repeated sends dropped by the simulator: $(jq -r .duplicates <<<"$S")"

# --------------------------------------------------------------------------
# SIGTERM during a fast stream: rows waiting in memory are given back, not left leased.
# Long leases here: a row left leased would wait 30 s and come back as a second attempt.

e2e_stop "$BOT_PID"
LONG_LEASES=(--inbox_lease_s=30 --outbox_lease_s=30)
start_bot bot3 "${LONG_LEASES[@]}"
curl -s -X POST "$CSIM/_sim/reset" >/dev/null
"$DRIVER_BIN" --target="$BOT" --channel=telegram --bot=tg --secret="$E2E_TG_SECRET" --count=1000 \
  --first=200000 --contacts=50 --contact_base=9000 --text_prefix=deploy --concurrency=16 \
  --deadline_s=120 >"$WORK/driver2.out" 2>"$WORK/driver2.err" &
DRIVER_PID=$!
deadline=$((SECONDS + 30))
while [ "$(sent_json | jq -r .count)" -lt 100 ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.02; done
waiting="$(sql "SELECT count(*) FROM bot_manager.inbox WHERE bot_id = 'tg' AND state = 'pending' AND external_id::bigint BETWEEN 200000 AND 200999")"
e2e_stop "$BOT_PID"
check_eq "SIGTERM: the bot manager stops cleanly" 0 "$E2E_STOP_STATUS"
pass "stopped with $waiting acknowledged messages not yet answered"
start_bot bot4 "${LONG_LEASES[@]}"
drc=0
wait "$DRIVER_PID" || drc=$?
DRIVER_PID=""
check_jq "every one of the 1,000 webhooks was acknowledged" "$(cat "$WORK/driver2.out")" '.acked == 1000'
N="$(wait_sent 1000 60)"
sleep 1
S="$(sent_json)"
check_eq "  ... each answered exactly once after the restart" 1000 \
  "$(jq -r '[.sent[] | select(.channel == "telegram") | .text] | unique | length' <<<"$S")"
check_eq "  ... no second send" 1000 "$(jq -r .count <<<"$S")"
# A row left leased would have waited for its lease and been taken again (a second attempt).
check_eq "  ... no message waited for a lease to run out (one attempt each)" "1000 0" \
  "$(sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE attempts > 1) FROM bot_manager.inbox WHERE bot_id = 'tg' AND external_id::bigint BETWEEN 200000 AND 200999")"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
