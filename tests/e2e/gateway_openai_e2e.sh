#!/usr/bin/env bash
# End-to-end test of the gateway's OpenAI-compatible front door: the provider
# simulator, the real LLM router on a fresh PostgreSQL database and the
# gateway in front of it, driven by the official `openai` npm SDK
# (gateway_openai_client.cjs: chat.completions.create plain and streaming,
# models.list, typed errors) and by curl for the raw wire format
# (`data: {chunk}` events, `data: [DONE]`, OpenAI error objects).
#
# Needs (scripts/test.sh exports them; ctest passes the binaries):
#   GENESIS_TEST_PG_DSN        DSN of the `postgres` maintenance database
#   GENESIS_LLM_ROUTER_BIN     else $GENESIS_BUILD_DIR/services/llm_router/genesis-llm-router
#   GENESIS_LLM_SIMULATOR_BIN  else $GENESIS_BUILD_DIR/services/llm_router/simulator/genesis-llm-simulator
#   GENESIS_GATEWAY_BIN        else $GENESIS_BUILD_DIR/gateway/genesis-gateway
#   GENESIS_GATEWAY_ADMIN_BIN  else genesis-gateway-admin next to the gateway (mints the token)
#   GENESIS_PSQL               optional: psql (else on PATH, else /usr/lib/postgresql/*/bin/psql)
#   GENESIS_OPENAI_MODULE      optional: the openai npm package dir (else .genesis/tools/node_modules/openai)
# Exits 77 (skipped) when the servers or tools are missing, 1 when a check fails.

# shellcheck disable=SC2016
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

e2e_require_pg
e2e_require_tools jq curl node
e2e_bin ROUTER_BIN GENESIS_LLM_ROUTER_BIN services/llm_router/genesis-llm-router
e2e_bin SIM_BIN GENESIS_LLM_SIMULATOR_BIN services/llm_router/simulator/genesis-llm-simulator
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
GENESIS_GATEWAY_ADMIN_BIN="${GENESIS_GATEWAY_ADMIN_BIN:-$(dirname "$GATEWAY_BIN")/genesis-gateway-admin}"
e2e_bin ADMIN_BIN GENESIS_GATEWAY_ADMIN_BIN gateway/genesis-gateway-admin
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODELS_CONFIG="$ROOT/services/llm_router/config/models.json"
OPENAI_MODULE="${GENESIS_OPENAI_MODULE:-$ROOT/.genesis/tools/node_modules/openai}"
[ -f "$OPENAI_MODULE/package.json" ] || e2e_skip "the openai npm package is not at $OPENAI_MODULE"

e2e_init gateway-openai-e2e
e2e_fresh_db gwopenai

e2e_start SIM sim 's/^genesis-llm-simulator http=\([0-9.]*:[0-9]*\)$/http:\/\/\1/p' -- \
  "$SIM_BIN" --http_port=0
# One attempt per model and no response cache: a dropped stream stays dropped.
e2e_start ROUTER_ADDR router 's/^genesis-llm-router grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$ROUTER_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" \
  --models_config="$MODELS_CONFIG" --simulator_url="$SIM" --retry_max_attempts=1 \
  --response_cache_ttl_s=0 --log_format=text --log_level=warn

JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
mint() {
  env "${ENV_UNSET[@]}" GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$ADMIN_BIN" mint-token \
    --subject="$1" --roles="$2" --ttl=10m
}
TOKEN="$(mint e2e-agent agent)"
VIEWER_TOKEN="$(mint e2e-viewer viewer)"
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="genesis.llmrouter.v1.LlmRouterService=$ROUTER_ADDR" --rate_limit=1000/s
pass "simulator at $SIM, router at $ROUTER_ADDR, gateway at $GW"

PROMPT="hello through the openai front door"
WANT="echo: $PROMPT"
# post BODY [curl args...]: POST /v1/chat/completions with the agent's token; sets CODE, R, HDRS.
post() {
  local body="$1"
  shift
  CODE="$(curl -sN --max-time 30 -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@" \
    --data-binary "$body" "$GW/v1/chat/completions" || echo 000)"
  R="$(cat "$WORK/body" 2>/dev/null || true)"
  HDRS="$(tr -d '\r' <"$WORK/headers" 2>/dev/null || true)"
}
header() { sed -n "s/^$1: //Ip" <<<"$HDRS" | head -1; }

# --------------------------------------------------------------------------
# The wire format, read with curl

post "{\"model\": \"sim-local\", \"messages\": [{\"role\": \"user\", \"content\": \"$PROMPT\"}]}"
check_eq "plain: 200" 200 "$CODE"
check_jq "plain: OpenAI's chat.completion shape" "$R" --arg want "$WANT" '
  .object == "chat.completion" and (.id | startswith("chatcmpl-")) and (.created | type) == "number"
  and .model == "sim-local" and (.choices | length) == 1
  and .choices[0].message == {"role": "assistant", "content": $want}
  and .choices[0].finish_reason == "stop" and .choices[0].index == 0
  and .usage.total_tokens == .usage.prompt_tokens + .usage.completion_tokens'
check "plain: rate-limit headers as on every route" test -n "$(header ratelimit-remaining)"

post "{\"model\": \"sim-local\", \"stream\": true,
       \"messages\": [{\"role\": \"user\", \"content\": \"$PROMPT\"}]}"
check_eq "stream: 200" 200 "$CODE"
check_eq "stream: Content-Type text/event-stream" text/event-stream "$(header content-type)"
check_eq "stream: the last event is data: [DONE]" "data: [DONE]" "$(grep -v '^$' <<<"$R" | tail -n 1)"
CHUNKS="$(sed -n 's/^data: //p' <<<"$R" | grep -v '^\[DONE\]$')"
check_jq "stream: every event before [DONE] is a chat.completion.chunk" "$(jq -s . <<<"$CHUNKS")" \
  'length >= 3 and all(.[]; .object == "chat.completion.chunk" and (.choices | length) == 1)'
check_eq "stream: the deltas concatenate to the answer" "$WANT" \
  "$(jq -j '.choices[0].delta.content // empty' <<<"$CHUNKS")"
check_eq "stream: events are separated by blank lines" "$(grep -c '^data: ' "$WORK/body")" \
  "$(grep -c '^$' "$WORK/body")"

post '{"messages": []}'
check_eq "empty messages: 400" 400 "$CODE"
check_jq "empty messages: OpenAI error object naming the param" "$R" '
  .error.type == "invalid_request_error" and .error.param == "messages"
  and (.error.message | length) > 0 and (.error | has("code"))'
post '{"messages": [{"role": "user", "content": "x"}]}' -H 'Authorization: Bearer nope'
check_eq "bad token: 401" 401 "$CODE"
check_jq "bad token: OpenAI authentication_error" "$R" '.error.type == "authentication_error"'

# The SDK, as an application uses it.
if OUT="$(GW="$GW" TOKEN="$TOKEN" VIEWER_TOKEN="$VIEWER_TOKEN" OPENAI_MODULE="$OPENAI_MODULE" \
  node "$(dirname "${BASH_SOURCE[0]}")/gateway_openai_client.cjs" 2>&1)"; then
  node_status=0
else
  node_status=$?
fi
echo "$OUT"
PASSED=$((PASSED + $(grep -c '^ok - ' <<<"$OUT" || true)))
FAILED=$((FAILED + $(grep -c '^not ok - ' <<<"$OUT" || true)))
if [ "$node_status" -ne 0 ] && ! grep -q '^not ok - ' <<<"$OUT"; then
  fail "the openai SDK client exits 0" "exit status $node_status"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
