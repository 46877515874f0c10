#!/usr/bin/env bash
# End-to-end test of the gateway's OpenAPI document: the /openapi.json a running gateway
# serves is byte for byte what `genesis-gateway --print_openapi` writes for the same flags
# (the build-time document), it passes `redocly lint` with Redocly's recommended ruleset
# (gateway/docs/redocly.yaml: no error, no warning), and it has what a client relies on:
# one path item per URL shape, parameters named after their collections, the error
# responses, the security schemes and the public routes, the servers, the OpenAI routes.
#
# Needs (ctest passes the binary): GENESIS_GATEWAY_BIN, else $GENESIS_BUILD_DIR/gateway/genesis-gateway;
# the pinned @redocly/cli in .genesis/tools (scripts/install-deps.sh), else GENESIS_REDOCLY.
# No database and no backends: the routes come from the build's descriptor set.
# Exits 77 (skipped) when the binary or tools are missing, 1 when a check fails.
# shellcheck disable=SC2016
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
e2e_require_tools curl jq node
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
REDOCLY="${GENESIS_REDOCLY:-$ROOT/.genesis/tools/node_modules/.bin/redocly}"
[ -x "$REDOCLY" ] || e2e_skip "redocly not found at $REDOCLY (scripts/install-deps.sh installs it)"
e2e_init gateway-openapi-e2e

JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
e2e_secret "$JWT_SECRET"
flags=(--http_port=0 --metrics_port=-1 --log_level=warn)
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" "${flags[@]}"
pass "gateway at $GW"

curl -sf --max-time 10 "$GW/openapi.json" >"$WORK/live.json"
env "${ENV_UNSET[@]}" "$GATEWAY_BIN" "${flags[@]}" --print_openapi >"$WORK/generated.json" \
  2>"$WORK/print.err"
if cmp -s "$WORK/live.json" "$WORK/generated.json"; then
  pass "--print_openapi writes the document the live gateway serves, byte for byte"
else
  fail "--print_openapi writes the document the live gateway serves, byte for byte" \
    "$(diff <(jq -S . "$WORK/live.json") <(jq -S . "$WORK/generated.json") | head -20)"
fi
BUILT="$(dirname "$GATEWAY_BIN")/openapi.json"
if [ -f "$BUILT" ]; then
  check "the build's gateway/openapi.json is the document the live gateway serves" \
    cmp -s "$WORK/live.json" "$BUILT"
fi
# Another server URL changes only the servers.
env "${ENV_UNSET[@]}" "$GATEWAY_BIN" "${flags[@]}" --print_openapi \
  --openapi_server_url=https://api.example.org >"$WORK/proxied.json" 2>/dev/null
check_eq "--openapi_server_url sets servers[0].url" https://api.example.org \
  "$(jq -r '.servers[0].url' "$WORK/proxied.json")"

# Redocly's recommended ruleset: no error and no warning.
if (cd "$WORK" && "$REDOCLY" lint live.json --config "$ROOT/gateway/docs/redocly.yaml" \
  --format=json >lint.json 2>lint.err); then :; fi
problems="$(jq -r '[.problems[]? | "\(.severity) \(.ruleId): \(.message)"] | .[]' "$WORK/lint.json" 2>/dev/null || true)"
totals="$(jq -c '.totals' "$WORK/lint.json" 2>/dev/null || echo null)"
if [ "$totals" = '{"errors":0,"warnings":0,"ignored":0}' ]; then
  pass "redocly lint (recommended): 0 errors, 0 warnings"
else
  fail "redocly lint (recommended): 0 errors, 0 warnings" "totals: $totals" \
    "$(sort "$WORK/lint.json" >/dev/null 2>&1; head -c 3000 <<<"$problems")" "$(tail -5 "$WORK/lint.err")"
fi

D="$(cat "$WORK/live.json")"
check_jq "no two paths with the same URL shape" "$D" '
  [.paths | keys[] | gsub("\\{[^}]*\\}"; "{}")] | (length == (unique | length))'
check_jq "items: GET, PATCH and DELETE on one path item /v1/items/{item}" "$D" '
  .paths["/v1/items/{item}"] | has("get") and has("patch") and has("delete")'
check_jq "nested resources: /v1/bots/{bot}/conversations/{conversation}:claim" "$D" '
  .paths["/v1/bots/{bot}/conversations/{conversation}:claim"].post.parameters
  | map(select(.in == "path") | .name) == ["bot", "conversation"]'
check_jq "no parameter named name_1, name_2" "$D" '
  [.. | objects | select(.in? == "path") | .name] | all(test("_[0-9]+$") | not)'
check_jq "descriptions from the proto comments" "$D" '
  .paths["/v1/items/{item}"].get.summary | test("item"; "i")'
check_jq "one tag per service, each described" "$D" '
  ([.paths[][] | .tags[0]] | unique) as $used | [.tags[].name] as $named
  | ($used - $named) == [] and ($named - $used) == [] and all(.tags[]; (.description | length) > 0)
  and ($named | index("genesis.catalog.v1.CatalogService")) != null'
check_jq "every operation documents 400, 429 and 503" "$D" '
  [.paths[][] | select(.operationId | startswith("genesis.")) | .responses]
  | all(has("400") and has("429") and has("503"))'
check_jq "routes that need credentials document 401 and 403; public ones do not" "$D" '
  [.paths[][] | select(.operationId | startswith("genesis."))]
  | all(if .security == [] then (.responses | has("401") | not)
        else (.responses | has("401") and has("403")) end)'
check_jq "400 is a google.rpc.Status with google.rpc.BadRequest field violations" "$D" '
  .components.responses.BadRequest.content["application/json"].schema["$ref"]
    == "#/components/schemas/BadRequestStatus"
  and .components.schemas["google.rpc.BadRequest"].properties.fieldViolations.type == "array"
  and .components.schemas["google.rpc.Status"].properties.code != null'
check_jq "429 carries Retry-After and RateLimit-*" "$D" '
  .components.responses.TooManyRequests.headers | has("Retry-After") and has("RateLimit-Limit")
  and has("RateLimit-Remaining") and has("RateLimit-Reset")'
check_jq "updates of resources with an etag document 409" "$D" '
  .paths["/v1/items/{item}"].patch.responses | has("409")'
check_jq "bodies document 413" "$D" '.paths["/v1/items"].post.responses | has("413")'
check_jq "security: bearer JWT and X-Api-Key, required by default" "$D" '
  .components.securitySchemes.bearerAuth.scheme == "bearer"
  and .components.securitySchemes.apiKey.name == "X-Api-Key"
  and .security == [{"bearerAuth": []}, {"apiKey": []}]'
check_jq "webhooks and health are public" "$D" '
  .paths["/v1/webhooks/telegram/{bot}"].post.security == [] and .paths["/healthz"].get.security == []'
check_jq "servers: the serving host" "$D" '.servers == [{"url": "/", "description": .servers[0].description}]'
check_jq "the OpenAI-compatible routes" "$D" '
  .paths["/v1/chat/completions"].post.operationId == "openai.CreateChatCompletion"
  and .paths["/v1/models"].get.operationId == "openai.ListModels"'

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
