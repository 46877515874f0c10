#!/usr/bin/env bash
# End-to-end test of the bot manager's Alexa channel: the channel simulator
# (which plays Alexa: its own CA, a signing certificate with SAN
# echo-api.amazon.com served at /echo.api/echo-api-cert.pem, signed request
# bodies), the LLM provider simulator, the real LLM router and the bot
# manager (trusting the simulator's CA and certificate URL) on a fresh
# PostgreSQL database (and Redis when GENESIS_TEST_REDIS_URL is set), then
# genesis-gateway in front of it.
#
# Signed Alexa requests are driven over gRPC (BotWebhookService/
# ReceiveAlexaRequest with the signature-256 and signaturecertchainurl
# metadata the gateway forwards) and over real HTTP through the gateway like
# Alexa's POST. Covers: an Alexa bot's configuration; IntentRequests answered
# at once with the router's answer in the Alexa response format, the turn in
# the conversation history and the answer as a SENT outbox row; context kept
# across turns; LaunchRequest, StopIntent and SessionEndedRequest; bad,
# missing and legacy-only signatures, a disallowed certificate URL (401,
# nothing stored), a stale timestamp, another skill's id (400, nothing
# stored) and a replayed request id.
#
# Needs GENESIS_TEST_PG_DSN and the binaries (ctest passes them; else found
# under $GENESIS_BUILD_DIR):
#   GENESIS_BOT_MANAGER_BIN GENESIS_CHANNEL_SIMULATOR_BIN GENESIS_LLM_ROUTER_BIN
#   GENESIS_LLM_SIMULATOR_BIN GENESIS_GATEWAY_BIN GENESIS_BUF
# Exits 77 (skipped) when something is missing, 1 when a check fails.

# shellcheck disable=SC2016
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

e2e_require_pg
e2e_require_tools jq curl
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUF="${GENESIS_BUF:-$ROOT/.genesis/tools/node_modules/.bin/buf}"
[ -x "$BUF" ] || e2e_skip "buf not found at $BUF (set GENESIS_BUF)"
e2e_bin BOT_BIN GENESIS_BOT_MANAGER_BIN services/bot_manager/genesis-bot-manager
e2e_bin CSIM_BIN GENESIS_CHANNEL_SIMULATOR_BIN services/bot_manager/simulator/genesis-channel-simulator
e2e_bin ROUTER_BIN GENESIS_LLM_ROUTER_BIN services/llm_router/genesis-llm-router
e2e_bin LSIM_BIN GENESIS_LLM_SIMULATOR_BIN services/llm_router/simulator/genesis-llm-simulator
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
MODELS_CONFIG="$ROOT/services/llm_router/config/models.json"

e2e_init bot-alexa-e2e
e2e_fresh_db alexae2e
sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$DB_DSN" -c "$1"; }

e2e_start LSIM lsim 's/^genesis-llm-simulator http=\(.*\)$/\1/p' -- "$LSIM_BIN" --http_port=0
e2e_start ROUTER router 's/^genesis-llm-router grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$ROUTER_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" \
  --models_config="$MODELS_CONFIG" --simulator_url="http://$LSIM" --log_level=warn
e2e_start CSIM csim 's/^genesis-channel-simulator http=\(.*\)$/http:\/\/\1/p' -- \
  "$CSIM_BIN" --http_port=0
curl -sf --max-time 10 "$CSIM/_sim/alexa/ca.pem" -o "$WORK/alexa-ca.pem"
check "the simulator hands out its Alexa CA" grep -q "BEGIN CERTIFICATE" "$WORK/alexa-ca.pem"

GATEWAY_SECRET="$E2E_GATEWAY_SECRET" # the run's (harness.sh), also in OPERATOR
e2e_start BOT bot 's/^genesis-bot-manager grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$BOT_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" \
  --llm_router_address="$ROUTER" --worker_idle_ms=50 --gateway_secret="$GATEWAY_SECRET" \
  --redis_url="${GENESIS_TEST_REDIS_URL:-}" --redis_key_prefix="alexae2e:$DB:" \
  --alexa_cert_url_prefixes="https://s3.amazonaws.com/echo.api/,$CSIM/echo.api/" \
  --alexa_trusted_ca_file="$WORK/alexa-ca.pem" --alexa_trust_system_roots=false \
  --log_level=warn
URL="http://$BOT"
pass "llm sim $LSIM, router $ROUTER, channel sim $CSIM, bot manager $BOT"

SVC=genesis.bot.v1.BotManagerService
HOOKS=genesis.bot.v1.BotWebhookService
SKILL="amzn1.ask.skill.e2e-$RANDOM"
# shellcheck source=rpc.sh
source "$(dirname "${BASH_SOURCE[0]}")/rpc.sh"
b64() { printf '%s' "$1" | base64 -w0; }
inbox_count() { sql "SELECT count(*) FROM bot_manager.inbox WHERE bot_id = 'alexa'"; }
message_count() {
  sql "SELECT count(*) FROM bot_manager.messages m JOIN bot_manager.conversations c ON c.id = m.conversation_id WHERE c.bot_id = 'alexa'"
}

# sign JSON: the simulator builds and signs an Alexa request (skill, user and
# words from JSON); sets BODY, SIG (Signature-256) and CERT_URL.
sign() {
  local s
  s="$(curl -s --max-time 10 -X POST "$CSIM/_sim/alexa/sign" -d "$1")"
  BODY="$(jq -r .body <<<"$s")" SIG="$(jq -r .signature_256 <<<"$s")" CERT_URL="$(jq -r .cert_url <<<"$s")"
}
# alexa BODY [buf args...]: ReceiveAlexaRequest for bot `alexa` over gRPC.
alexa() {
  local body="$1"
  shift
  rpc "$HOOKS/ReceiveAlexaRequest" \
    "{\"bot\": \"alexa\", \"body\": {\"contentType\": \"application/json\", \"data\": \"$(b64 "$body")\"}}" "$@"
}
# The Alexa response JSON inside the HttpBody answer in OUT.
speech() { jq -r '.data | @base64d' <<<"$OUT"; }
signed() { alexa "$BODY" -H "signature-256: $SIG" -H "signaturecertchainurl: $CERT_URL"; }

# --------------------------------------------------------------------------
# An Alexa bot

rpc "$SVC/CreateBot" '{"bot_id": "alexa-bad", "bot": {"channel": "CHANNEL_ALEXA"}}'
check_jq "an Alexa bot without its skill id is refused" "$OUT" \
  '.code == "invalid_argument" and (.message | contains("bot.alexa_skill_id"))'
call CreateBot "{\"bot_id\": \"alexa\", \"bot\": {\"channel\": \"CHANNEL_ALEXA\",
  \"display_name\": \"Assistente por voz\", \"system_prompt\": \"Você é o assistente da Urbana.\",
  \"task_type\": \"chat\", \"alexa_skill_id\": \"$SKILL\"}}"
check_jq "an Alexa bot needs only its skill id (no secret, no token)" "$R" \
  ".channel == \"CHANNEL_ALEXA\" and .alexaSkillId == \"$SKILL\""
call GetBot '{"name": "bots/alexa"}'
check_jq "  ... and keeps it" "$R" ".alexaSkillId == \"$SKILL\""
rpc "$SVC/CreateProactiveMessage" '{"parent": "bots/alexa", "proactive_message": {"recipient": "u", "text": "oi"}}'
check_jq "an Alexa bot cannot send proactive messages" "$OUT" '.code == "failed_precondition"'

# --------------------------------------------------------------------------
# Answers over gRPC

USER1="amzn1.ask.account.E2E1"
sign "{\"skill_id\": \"$SKILL\", \"from\": \"$USER1\", \"text\": \"qual o horário da farmácia\", \"id\": \"req-1\"}"
signed
check_eq "a signed IntentRequest is answered" 0 "$RC"
A="$(speech)"
check_jq "  ... with the router's answer as PlainText speech, session kept open" "$A" \
  '.version == "1.0" and .response.outputSpeech.type == "PlainText" and (.response.outputSpeech.text | startswith("echo: qual o horário da farmácia")) and .response.shouldEndSession == false'
check_jq "  ... as application/json" "$OUT" '.contentType | startswith("application/json")'
call ListConversations '{"parent": "bots/alexa"}'
check_jq "the turn opens a conversation of the Alexa user" "$R" \
  "(.conversations | length) == 1 and .conversations[0].contact == \"$USER1\""
CONV="$(jq -r '.conversations[0].name' <<<"$R")"

sign "{\"skill_id\": \"$SKILL\", \"from\": \"$USER1\", \"text\": \"e no domingo\", \"id\": \"req-2\"}"
signed
check_jq "a second turn is answered too" "$(speech)" '.response.outputSpeech.text | startswith("echo: e no domingo")'
call GetConversation "{\"name\": \"$CONV\"}"
check_jq "the history holds both turns in order (contact, bot, contact, bot)" "$R" \
  '[.messages[].author] == ["AUTHOR_CONTACT", "AUTHOR_BOT", "AUTHOR_CONTACT", "AUTHOR_BOT"] and .messages[0].text == "qual o horário da farmácia" and .messages[2].text == "e no domingo"'
deadline=$((SECONDS + 10))
while [ "$(sql "SELECT count(*) FROM bot_manager.outbox WHERE bot_id = 'alexa' AND state = 'sent'")" != 2 ] &&
  [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
call ListOutboxEntries '{"parent": "bots/alexa"}'
check_jq "the spoken answers are outbox rows marked SENT (nothing else to deliver)" "$R" \
  '(.entries | length) == 2 and all(.entries[]; .state == "SENT")'
check_eq "both inbox rows are done" 2 "$(sql "SELECT count(*) FROM bot_manager.inbox WHERE bot_id = 'alexa' AND state = 'done'")"

signed
check_jq "the same signed request again (replayed request id) is refused" "$OUT" '.code == "already_exists"'
check_eq "  ... and answered once: still 4 messages" 4 "$(message_count)"

# --------------------------------------------------------------------------
# Other request types

sign "{\"type\": \"LaunchRequest\", \"skill_id\": \"$SKILL\", \"from\": \"$USER1\", \"id\": \"launch-1\"}"
signed
check_jq "LaunchRequest: a greeting, session open" "$(speech)" \
  '(.response.outputSpeech.text | length) > 0 and .response.shouldEndSession == false'
sign "{\"skill_id\": \"$SKILL\", \"from\": \"$USER1\", \"intent\": \"AMAZON.StopIntent\", \"slot\": \"\", \"id\": \"stop-1\"}"
signed
check_jq "AMAZON.StopIntent: a goodbye that ends the session" "$(speech)" '.response.shouldEndSession == true'
sign "{\"type\": \"SessionEndedRequest\", \"skill_id\": \"$SKILL\", \"from\": \"$USER1\", \"id\": \"end-1\"}"
signed
check_jq "SessionEndedRequest: an empty response (no speech allowed)" "$(speech)" \
  '.version == "1.0" and .response == {}'
check_eq "none of them stored anything" 4 "$(message_count)"

# --------------------------------------------------------------------------
# Refusals: nothing stored

rows="$(inbox_count)"
sign "{\"skill_id\": \"$SKILL\", \"from\": \"$USER1\", \"text\": \"mensagem original\", \"id\": \"bad-1\"}"
TAMPERED="${BODY/mensagem original/mensagem trocada}"
alexa "$TAMPERED" -H "signature-256: $SIG" -H "signaturecertchainurl: $CERT_URL"
check_jq "a tampered body is refused" "$OUT" '.code == "unauthenticated" and (.message | contains("Signature-256"))'
alexa "$BODY" -H "signaturecertchainurl: $CERT_URL"
check_jq "no Signature-256 header -> refused" "$OUT" '.code == "unauthenticated"'
alexa "$BODY" -H "signature: $SIG" -H "signaturecertchainurl: $CERT_URL"
check_jq "the legacy SHA-1 Signature header alone is not accepted" "$OUT" \
  '.code == "unauthenticated" and (.message | contains("SHA-1"))'
alexa "$BODY" -H "signature-256: $SIG"
check_jq "no SignatureCertChainUrl header -> refused" "$OUT" \
  '.code == "unauthenticated" and (.message | contains("SignatureCertChainUrl"))'
alexa "$BODY" -H "signature-256: $SIG" -H "signaturecertchainurl: ${CERT_URL/echo.api/other.api}"
check_jq "a certificate URL outside the allowed prefixes -> refused" "$OUT" '.code == "unauthenticated"'
sign "{\"skill_id\": \"$SKILL\", \"from\": \"$USER1\", \"text\": \"velho\", \"id\": \"stale-1\", \"timestamp_offset_s\": -300}"
signed
check_jq "a request 300 s old (stale or replayed) -> invalid_argument on request.timestamp" "$OUT" \
  '.code == "invalid_argument" and (.message | contains("timestamp"))'
sign "{\"skill_id\": \"amzn1.ask.skill.someone-else\", \"from\": \"$USER1\", \"text\": \"oi\", \"id\": \"other-1\"}"
signed
check_jq "a request for another skill -> invalid_argument on the application id" "$OUT" \
  '.code == "invalid_argument" and (.message | contains("applicationId"))'
rpc "$HOOKS/ReceiveAlexaRequest" '{"bot": "nobody", "body": {"data": "e30="}}'
check_jq "an unknown bot -> not_found" "$OUT" '.code == "not_found"'
check_eq "nothing of the refused requests is stored" "$rows" "$(inbox_count)"
check_eq "  ... nor in the history" 4 "$(message_count)"

# --------------------------------------------------------------------------
# Through the gateway, like Alexa's POST

# Authentication on (a JWT secret nobody here uses): the webhook route is public.
JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="genesis.bot.v1.BotManagerService=$BOT,genesis.bot.v1.BotWebhookService=$BOT" \
  --gateway_secret="$GATEWAY_SECRET" --rate_limit=1000/s --log_level=warn
pass "gateway at $GW"
# post BODY [curl args...]: POST /v1/webhooks/alexa/alexa; sets CODE, R and CTYPE.
post() {
  local body="$1"
  shift
  CODE="$(curl -s --max-time 20 -X POST -o "$WORK/http.body" -D "$WORK/http.head" \
    -w '%{http_code}' -H 'Content-Type: application/json' "$@" --data-binary "$body" \
    "$GW/v1/webhooks/alexa/alexa" || true)"
  R="$(cat "$WORK/http.body")"
  CTYPE="$(sed -n 's/^[Cc]ontent-[Tt]ype: *\([^;[:space:]]*\).*$/\1/p' "$WORK/http.head" | tail -1)"
}

USER2="amzn1.ask.account.E2E2"
E="$(curl -s --max-time 30 -X POST "$CSIM/_sim/emit" -d "{\"channel\": \"alexa\",
  \"target\": \"$GW/v1/webhooks/alexa/alexa\", \"skill_id\": \"$SKILL\", \"from\": \"$USER2\",
  \"text\": \"vai chover hoje\", \"id\": \"gw-1\"}")"
check_jq "gateway: Alexa's signed POST -> 200 with the spoken answer" "$E" \
  '.status == 200 and (.body | fromjson | .response.outputSpeech.text | startswith("echo: vai chover hoje"))'
sign "{\"skill_id\": \"$SKILL\", \"from\": \"$USER2\", \"text\": \"e amanhã\", \"id\": \"gw-2\"}"
post "$BODY" -H "Signature-256: $SIG" -H "SignatureCertChainUrl: $CERT_URL"
check_eq "gateway: a signed request posted with curl -> 200" 200 "$CODE"
check_eq "  ... answered as application/json" application/json "$CTYPE"
check_jq "  ... in the Alexa response format" "$R" \
  '.version == "1.0" and .response.outputSpeech.type == "PlainText" and (.response.outputSpeech.text | startswith("echo: e amanhã"))'
rows="$(inbox_count)"
sign "{\"skill_id\": \"$SKILL\", \"from\": \"$USER2\", \"text\": \"assinado\", \"id\": \"gw-bad\"}"
post "${BODY/assinado/alterado}" -H "Signature-256: $SIG" -H "SignatureCertChainUrl: $CERT_URL"
check_eq "gateway: a bad signature -> 401" 401 "$CODE"
post "$BODY"
check_eq "gateway: no signature headers -> 401" 401 "$CODE"
sign "{\"skill_id\": \"$SKILL\", \"from\": \"$USER2\", \"text\": \"velho\", \"id\": \"gw-stale\", \"timestamp_offset_s\": -200}"
post "$BODY" -H "Signature-256: $SIG" -H "SignatureCertChainUrl: $CERT_URL"
check_eq "gateway: a stale timestamp -> 400" 400 "$CODE"
sign "{\"skill_id\": \"amzn1.ask.skill.someone-else\", \"from\": \"$USER2\", \"text\": \"oi\", \"id\": \"gw-other\"}"
post "$BODY" -H "Signature-256: $SIG" -H "SignatureCertChainUrl: $CERT_URL"
check_eq "gateway: another skill's request -> 400" 400 "$CODE"
check_eq "gateway: nothing of the refused requests is stored" "$rows" "$(inbox_count)"
call ListConversations '{"parent": "bots/alexa"}'
check_jq "the gateway's turns are in the second user's conversation" "$R" \
  "[.conversations[] | select(.contact == \"$USER2\")] | length == 1"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
