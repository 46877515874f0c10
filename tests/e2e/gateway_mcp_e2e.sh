#!/usr/bin/env bash
# End-to-end test of the gateway's MCP endpoint (/mcp): the real catalog and
# the real LLM router (with its provider simulator) on a fresh PostgreSQL
# database, the gateway in front of them, driven by the official MCP
# TypeScript SDK (gateway_mcp_client.cjs: initialize, tools/list, tools/call
# on the catalog and the router, errors, 401, DELETE) and by curl for the
# transport's HTTP rules (401 with WWW-Authenticate, 405 on GET, 403 for a
# foreign Origin, 406 without the Accept types).
#
# Needs (scripts/test.sh exports them; ctest passes the binaries):
#   GENESIS_TEST_PG_DSN        DSN of the `postgres` maintenance database
#   GENESIS_CATALOG_BIN        else $GENESIS_BUILD_DIR/services/catalog/genesis-catalog
#   GENESIS_LLM_ROUTER_BIN     else $GENESIS_BUILD_DIR/services/llm_router/genesis-llm-router
#   GENESIS_LLM_SIMULATOR_BIN  else $GENESIS_BUILD_DIR/services/llm_router/simulator/genesis-llm-simulator
#   GENESIS_GATEWAY_BIN        else $GENESIS_BUILD_DIR/gateway/genesis-gateway
#   GENESIS_GATEWAY_ADMIN_BIN  else genesis-gateway-admin next to the gateway (mints the token)
#   GENESIS_MCP_SDK_MODULE     optional: the @modelcontextprotocol/sdk package dir
#                              (else .genesis/tools/node_modules/@modelcontextprotocol/sdk)
# Exits 77 (skipped) when the servers or tools are missing, 1 when a check fails.

set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

e2e_require_pg
e2e_require_tools jq curl node
e2e_bin CATALOG_BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog
e2e_bin ROUTER_BIN GENESIS_LLM_ROUTER_BIN services/llm_router/genesis-llm-router
e2e_bin SIM_BIN GENESIS_LLM_SIMULATOR_BIN services/llm_router/simulator/genesis-llm-simulator
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
GENESIS_GATEWAY_ADMIN_BIN="${GENESIS_GATEWAY_ADMIN_BIN:-$(dirname "$GATEWAY_BIN")/genesis-gateway-admin}"
e2e_bin ADMIN_BIN GENESIS_GATEWAY_ADMIN_BIN gateway/genesis-gateway-admin
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODELS_CONFIG="$ROOT/services/llm_router/config/models.json"
MCP_SDK_MODULE="${GENESIS_MCP_SDK_MODULE:-$ROOT/.genesis/tools/node_modules/@modelcontextprotocol/sdk}"
[ -f "$MCP_SDK_MODULE/package.json" ] || e2e_skip "the @modelcontextprotocol/sdk npm package is not at $MCP_SDK_MODULE"

e2e_init gateway-mcp-e2e
e2e_fresh_db gwmcp

e2e_start CATALOG_ADDR catalog 's/^genesis-catalog grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$CATALOG_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN"
e2e_start SIM sim 's/^genesis-llm-simulator http=\([0-9.]*:[0-9]*\)$/http:\/\/\1/p' -- \
  "$SIM_BIN" --http_port=0
e2e_start ROUTER_ADDR router 's/^genesis-llm-router grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$ROUTER_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" \
  --models_config="$MODELS_CONFIG" --simulator_url="$SIM" --retry_max_attempts=1 \
  --response_cache_ttl_s=0 --log_format=text --log_level=warn

JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
TOKEN="$(env "${ENV_UNSET[@]}" GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$ADMIN_BIN" mint-token \
  --subject=e2e-agent --roles=admin --ttl=10m)"
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="genesis.catalog.v1.CatalogService=$CATALOG_ADDR,genesis.llmrouter.v1.LlmRouterService=$ROUTER_ADDR" \
  --rate_limit=1000/s
pass "catalog at $CATALOG_ADDR, router at $ROUTER_ADDR, gateway at $GW"

# mcp BODY [curl args...]: POST /mcp; sets CODE, R (body) and HDRS (response headers).
mcp() {
  local body="$1"
  shift
  CODE="$(curl -s --max-time 30 -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' \
    -H 'Content-Type: application/json' "$@" --data-binary "$body" "$GW/mcp" || echo 000)"
  R="$(cat "$WORK/body" 2>/dev/null || true)"
  HDRS="$(tr -d '\r' <"$WORK/headers" 2>/dev/null || true)"
}
header() { sed -n "s/^$1: //Ip" <<<"$HDRS" | head -1; }
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",
  "capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
ACCEPT='Accept: application/json, text/event-stream'

mcp "$INIT" -H "$ACCEPT"
check_eq "no credential: 401 as on REST" 401 "$CODE"
check_eq "no credential: the Bearer challenge" 'Bearer realm="genesis"' "$(header www-authenticate)"
mcp "$INIT" -H "$ACCEPT" -H 'Authorization: Bearer not-a-token'
check_eq "a bad token: 401" 401 "$CODE"
mcp "$INIT" -H "$ACCEPT" -H "Authorization: Bearer $TOKEN"
check_eq "initialize: 200" 200 "$CODE"
check_jq "initialize: the result" "$R" '.id == 1 and .result.protocolVersion == "2025-11-25"
  and .result.serverInfo.name == "genesis-gateway" and (.result.capabilities | has("tools"))'
SESSION="$(header mcp-session-id)"
check "initialize: Mcp-Session-Id" test -n "$SESSION"
mcp '{"jsonrpc":"2.0","id":2,"method":"ping"}' -H "$ACCEPT" -H "Authorization: Bearer $TOKEN" \
  -H "Mcp-Session-Id: $SESSION" -H 'Origin: http://evil.example.com'
check_eq "a foreign Origin: 403" 403 "$CODE"
mcp '{"jsonrpc":"2.0","id":2,"method":"ping"}' -H 'Accept: application/json' \
  -H "Authorization: Bearer $TOKEN" -H "Mcp-Session-Id: $SESSION"
check_eq "Accept without text/event-stream: 406" 406 "$CODE"
mcp '{"jsonrpc":"2.0","id":2,"method":"nope/nope"}' -H "$ACCEPT" \
  -H "Authorization: Bearer $TOKEN" -H "Mcp-Session-Id: $SESSION"
check_jq "an unknown method: -32601" "$R" '.id == 2 and .error.code == -32601'
mcp '{"jsonrpc":"2.0","id":3,"method":"tools/list"' -H "$ACCEPT" \
  -H "Authorization: Bearer $TOKEN" -H "Mcp-Session-Id: $SESSION"
check_eq "malformed JSON: 400" 400 "$CODE"
check_jq "malformed JSON: -32700" "$R" '.error.code == -32700 and .id == null'
CODE="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  -H 'Accept: text/event-stream' "$GW/mcp" || echo 000)"
check_eq "GET (no server-initiated stream): 405" 405 "$CODE"

# The SDK, as an agent uses it.
if OUT="$(GW="$GW" TOKEN="$TOKEN" MCP_SDK_MODULE="$MCP_SDK_MODULE" \
  node "$(dirname "${BASH_SOURCE[0]}")/gateway_mcp_client.cjs" 2>&1)"; then
  node_status=0
else
  node_status=$?
fi
echo "$OUT"
PASSED=$((PASSED + $(grep -c '^ok - ' <<<"$OUT" || true)))
FAILED=$((FAILED + $(grep -c '^not ok - ' <<<"$OUT" || true)))
if [ "$node_status" -ne 0 ] && ! grep -q '^not ok - ' <<<"$OUT"; then
  fail "the MCP SDK client exits 0" "exit status $node_status"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
