#!/usr/bin/env bash
# End-to-end test of server-streaming through genesis-gateway: the provider
# simulator, the real LLM router on a fresh PostgreSQL database and the
# gateway in front of it; POST /v1/llm:streamComplete is read with `curl -N`
# as Server-Sent Events and as NDJSON, and a stream the simulator drops
# mid-way must end with an error event. Also checks /openapi.json when served.
#
# Needs (scripts/test.sh exports them; ctest passes the binaries):
#   GENESIS_TEST_PG_DSN        DSN of the `postgres` maintenance database
#   GENESIS_LLM_ROUTER_BIN     else $GENESIS_BUILD_DIR/services/llm_router/genesis-llm-router
#   GENESIS_LLM_SIMULATOR_BIN  else $GENESIS_BUILD_DIR/services/llm_router/simulator/genesis-llm-simulator
#   GENESIS_GATEWAY_BIN        else $GENESIS_BUILD_DIR/gateway/genesis-gateway
#   GENESIS_GATEWAY_ADMIN_BIN  else genesis-gateway-admin next to the gateway (mints the token)
#   GENESIS_PSQL               optional: psql (else on PATH, else /usr/lib/postgresql/*/bin/psql)
# Exits 77 (skipped) when the servers or tools are missing, 1 when a check fails.

# shellcheck disable=SC2016
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

e2e_require_pg
e2e_require_tools jq curl
e2e_bin ROUTER_BIN GENESIS_LLM_ROUTER_BIN services/llm_router/genesis-llm-router
e2e_bin SIM_BIN GENESIS_LLM_SIMULATOR_BIN services/llm_router/simulator/genesis-llm-simulator
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
GENESIS_GATEWAY_ADMIN_BIN="${GENESIS_GATEWAY_ADMIN_BIN:-$(dirname "$GATEWAY_BIN")/genesis-gateway-admin}"
e2e_bin ADMIN_BIN GENESIS_GATEWAY_ADMIN_BIN gateway/genesis-gateway-admin
MODELS_CONFIG="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/services/llm_router/config/models.json"

e2e_init gateway-stream-e2e
e2e_fresh_db gwstream

e2e_start SIM sim 's/^genesis-llm-simulator http=\([0-9.]*:[0-9]*\)$/http:\/\/\1/p' -- \
  "$SIM_BIN" --http_port=0
# One attempt per model and no response cache: a dropped stream stays dropped.
e2e_start ROUTER_ADDR router 's/^genesis-llm-router grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$ROUTER_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" \
  --models_config="$MODELS_CONFIG" --simulator_url="$SIM" --retry_max_attempts=1 \
  --response_cache_ttl_s=0 --log_format=text --log_level=warn

JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
TOKEN="$(env "${ENV_UNSET[@]}" GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$ADMIN_BIN" mint-token \
  --subject=e2e --roles=admin --ttl=10m)"
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="genesis.llmrouter.v1.LlmRouterService=$ROUTER_ADDR" --rate_limit=1000/s
pass "simulator at $SIM, router at $ROUTER_ADDR, gateway at $GW"

PROMPT="hello streaming world through the gateway"
WANT="echo: $PROMPT"
BODY="{\"model\": \"sim-local\", \"noCache\": true,
  \"messages\": [{\"role\": \"ROLE_USER\", \"content\": \"$PROMPT\"}]}"
# stream ACCEPT: POSTs BODY to :streamComplete with curl -N; sets CODE, R, HDRS.
stream() {
  CODE="$(curl -sN --max-time 30 -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' \
    -H "Authorization: Bearer $TOKEN" -H "Accept: $1" -H 'Content-Type: application/json' \
    --data-binary "$BODY" "$GW/v1/llm:streamComplete" || echo 000)"
  R="$(cat "$WORK/body" 2>/dev/null || true)"
  HDRS="$(tr -d '\r' <"$WORK/headers" 2>/dev/null || true)"
}
header() { sed -n "s/^$1: //Ip" <<<"$HDRS" | head -1; }

# --------------------------------------------------------------------------
# Server-Sent Events

stream text/event-stream
check_eq "SSE: 200" 200 "$CODE"
check_eq "SSE: Content-Type text/event-stream" text/event-stream "$(header content-type)"
check_eq "SSE: chunked" chunked "$(header transfer-encoding)"
DATA="$(sed -n 's/^data: //p' <<<"$R")"
check_jq "SSE: several events, every one a JSON object" "$(jq -s . <<<"$DATA")" \
  'length >= 3 and all(.[]; type == "object")'
check_eq "SSE: the texts concatenate to the answer" "$WANT" \
  "$(jq -j '.text // empty' <<<"$DATA")"
check_jq "SSE: the last event carries the summary" "$(tail -n 1 <<<"$DATA")" \
  '.summary.model == "models/sim-local"'
check_eq "SSE: no error event" 0 "$(grep -c '^event: error' <<<"$R" || true)"
check_eq "SSE: each frame ends with a blank line" "$(grep -c '^data: ' "$WORK/body")" \
  "$(grep -c '^$' "$WORK/body")"

# --------------------------------------------------------------------------
# NDJSON

stream application/json
check_eq "NDJSON: 200" 200 "$CODE"
check_eq "NDJSON: Content-Type application/x-ndjson" application/x-ndjson "$(header content-type)"
check_jq "NDJSON: one JSON object per line" "$(jq -s . <<<"$R")" \
  'length >= 3 and all(.[]; type == "object" and (has("error") | not))'
check_eq "NDJSON: the texts concatenate to the answer" "$WANT" "$(jq -j '.text // empty' <<<"$R")"

# --------------------------------------------------------------------------
# A stream the provider drops mid-way ends with an error event

curl -s --max-time 10 "$SIM/_sim/script" \
  -d '{"model": "sim-local", "drop_after_chunks": 2}' >/dev/null
stream text/event-stream
check_eq "dropped SSE: still 200 (the stream had started)" 200 "$CODE"
check_jq "dropped SSE: some text came first" "$(sed -n 's/^data: //p' <<<"$R" | head -n 1)" \
  '(.text | length) > 0'
check_eq "dropped SSE: the last event is an error" "event: error" \
  "$(grep -v '^$' <<<"$R" | tail -n 2 | head -n 1)"
check_jq "dropped SSE: the error is a google.rpc.Status (UNAVAILABLE)" \
  "$(grep -v '^$' <<<"$R" | tail -n 1 | sed 's/^data: //')" '.code == 14 and (.message | length) > 0'

stream application/x-ndjson
check_eq "dropped NDJSON: 200" 200 "$CODE"
check_jq "dropped NDJSON: text lines, then a final error line" "$(jq -s . <<<"$R")" \
  'length >= 2 and (.[0].text | length) > 0 and .[-1].error.code == 14
   and ([.[:-1][] | has("error")] | any | not)'
curl -s --max-time 10 -X POST "$SIM/_sim/reset" >/dev/null

# An error before any message is an ordinary HTTP error.
BODY='{"model": "no-such-model", "messages": [{"role": "ROLE_USER", "content": "x"}]}'
stream text/event-stream
check_jq "unknown model: an ordinary JSON error with a 4xx status" "$R" \
  '.code > 0 and (.message | length) > 0'
case "$CODE" in 4??) pass "unknown model: HTTP $CODE" ;; *) fail "unknown model: 4xx" "got $CODE" ;; esac

# --------------------------------------------------------------------------
# /openapi.json: public, valid JSON, every annotated RPC of the protos listed

PROTO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/proto/genesis"
# package.Service.Method of every rpc carrying a google.api.http option.
WANT_OPS="$(find "$PROTO_DIR" -name '*.proto' -print0 | xargs -0 awk '
  /^package / { pkg = $2; sub(/;/, "", pkg) }
  /^service / { svc = $2 }
  /^ *rpc / { m = $2; sub(/\(.*/, "", m) }
  /google\.api\.http/ && m != "" { print pkg "." svc "." m; m = "" }' | sort -u)"
CODE="$(curl -s --max-time 10 -o "$WORK/openapi.json" -w '%{http_code}' "$GW/openapi.json" || echo 000)"
check_eq "/openapi.json answers 200 without credentials" 200 "$CODE"
OPENAPI="$(cat "$WORK/openapi.json")"
check_jq "/openapi.json is OpenAPI 3 with both security schemes" "$OPENAPI" \
  '.openapi == "3.0.3" and (.components.securitySchemes | has("bearerAuth") and has("apiKey"))'
GOT_OPS="$(jq -r '[.paths[][] | .operationId | sub("_[0-9]+$"; "")] | unique | .[]' <<<"$OPENAPI")"
missing="$(comm -23 <(echo "$WANT_OPS") <(echo "$GOT_OPS"))"
if [ -n "$WANT_OPS" ] && [ -z "$missing" ]; then
  pass "/openapi.json lists all $(wc -l <<<"$WANT_OPS") annotated RPCs of the protos"
else
  fail "/openapi.json lists every annotated RPC" "missing: $missing"
fi
check_jq "/openapi.json: :streamComplete documents SSE and NDJSON" "$OPENAPI" \
  '.paths["/v1/llm:streamComplete"].post.responses["200"].content
   | has("text/event-stream") and has("application/x-ndjson")'

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
