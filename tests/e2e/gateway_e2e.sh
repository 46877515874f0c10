#!/usr/bin/env bash
# End-to-end test of genesis-gateway: starts the built catalog on a fresh
# PostgreSQL database and the gateway in front of it, then drives the REST API
# with curl as a bot would.
#
# Needs (scripts/test.sh exports them; ctest passes the binaries):
#   GENESIS_TEST_PG_DSN     DSN of the `postgres` maintenance database
#   GENESIS_CATALOG_BIN     else $GENESIS_BUILD_DIR/services/catalog/genesis-catalog
#   GENESIS_GATEWAY_BIN     else $GENESIS_BUILD_DIR/gateway/genesis-gateway
#   GENESIS_GATEWAY_ADMIN_BIN  else genesis-gateway-admin next to the gateway (mints the token)
#   GENESIS_PSQL            optional: psql (else on PATH, else the newest /usr/lib/postgresql/*/bin/psql)
# Exits 77 (skipped) when the servers or tools are missing, 1 when a check fails.
# Prints `ok - ...` / `not ok - ...` per check and `N passed, M failed` at the end.

# jq filters are single-quoted on purpose: their $names are jq variables.
# shellcheck disable=SC2016
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

e2e_require_pg
e2e_require_tools jq curl
e2e_bin CATALOG_BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
GENESIS_GATEWAY_ADMIN_BIN="${GENESIS_GATEWAY_ADMIN_BIN:-$(dirname "$GATEWAY_BIN")/genesis-gateway-admin}"
e2e_bin ADMIN_BIN GENESIS_GATEWAY_ADMIN_BIN gateway/genesis-gateway-admin

e2e_init gateway-e2e
e2e_fresh_db gwe2e

e2e_start CATALOG_ADDR catalog 's/^genesis-catalog grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$CATALOG_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN"
CATALOG_PID="$E2E_PID"

MAX_BODY=65536
# Auth is on: an admin dev token minted by the CLI with a secret of this run.
JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
TOKEN="$(env "${ENV_UNSET[@]}" GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$ADMIN_BIN" mint-token \
  --subject=e2e --roles=admin --ttl=10m)"
e2e_start started gateway \
  's/^genesis-gateway http=\([0-9.]*:[0-9]*\) metrics=\([0-9.]*:[0-9]*\)$/\1 \2/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=0 \
  --backend="genesis.catalog.v1.CatalogService=$CATALOG_ADDR" --max_body_bytes=$MAX_BODY \
  --rate_limit=1000/s --pg_dsn="$DB_DSN"
GATEWAY_PID="$E2E_PID"
read -r HTTP_ADDR METRICS_ADDR <<<"$started"
GW="http://$HTTP_ADDR"
pass "catalog at $CATALOG_ADDR, gateway at $GW (metrics $METRICS_ADDR)"

# req METHOD PATH [BODY] [curl args...]: sets CODE, R (body) and HDRS (response headers).
req() {
  local method="$1" path="$2" body="${3:-}"
  shift 3 2>/dev/null || shift $#
  local args=(-s -X "$method" --max-time 30 -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}')
  if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' --data-binary "$body"); fi
  CODE="$(curl "${args[@]}" -H "Authorization: Bearer $TOKEN" "$@" "$GW$path" || echo 000)"
  R="$(cat "$WORK/body" 2>/dev/null || true)"
  HDRS="$(tr -d '\r' <"$WORK/headers" 2>/dev/null || true)"
}
header() { sed -n "s/^$1: //Ip" <<<"$HDRS" | head -1; }

# --------------------------------------------------------------------------
# Health

req GET /healthz
check_eq "/healthz is 200" 200 "$CODE"
req GET /readyz
check_eq "/readyz is 200 while the catalog is SERVING" 200 "$CODE"

# --------------------------------------------------------------------------
# Happy paths

req POST "/v1/types?item_type_id=property" '{"displayName": "Property",
  "attributes": [{"name": "city", "kind": "ATTRIBUTE_KIND_STRING", "required": true},
                 {"name": "price", "kind": "ATTRIBUTE_KIND_NUMBER"}]}'
check_eq "POST /v1/types?item_type_id=property is 200" 200 "$CODE"
check_jq "... returns types/property in lowerCamel JSON" "$R" \
  '.name == "types/property" and .displayName == "Property" and (.attributes | length) == 2'

req POST /v1/items '{"type": "property", "title": "Casa na praia", "body": "Razão social: Imobiliária São João",
  "attributes": {"city": "Recife", "price": 450000}, "labels": {"stage": "novo"}}' \
  -H 'X-Request-Id: e2e-trace-1'
check_eq "POST /v1/items (body: item) is 200" 200 "$CODE"
ITEM="$(jq -r '.name // empty' <<<"$R")"
check_jq "... returns items/{id} with its attributes" "$R" \
  '(.name | test("^items/.+")) and .type == "types/property" and .attributes.city == "Recife" and .etag != null'
check_eq "... X-Request-Id round-trips" e2e-trace-1 "$(header x-request-id)"

req GET "/v1/$ITEM"
check_eq "GET /v1/$ITEM is 200" 200 "$CODE"
check_jq "... with the title" "$R" '.title == "Casa na praia"'
[ -n "$(header x-request-id)" ] && pass "... a request id is generated when none is sent" ||
  fail "... a request id is generated when none is sent" "$HDRS"

req PATCH "/v1/$ITEM?update_mask=title" '{"title": "Casa na praia (reformada)", "body": "ignored"}'
check_eq "PATCH /v1/$ITEM?update_mask=title is 200" 200 "$CODE"
check_jq "... changes only the title" "$R" \
  '.title == "Casa na praia (reformada)" and (.body | startswith("Razão social"))'

req GET "/v1/items:search?query=imobiliaria%20joao"
check_eq "GET /v1/items:search?query=... is 200" 200 "$CODE"
check_jq "... finds the item (accent-insensitive)" "$R" --arg n "$ITEM" '[.results[].item.name] == [$n]'
req POST "/v1/items:search" '{"query": "praia", "pageSize": 5}'
check_eq "POST /v1/items:search (body: *) is 200" 200 "$CODE"
check_jq "... finds the item" "$R" --arg n "$ITEM" '[.results[].item.name] == [$n]'

req POST /v1/items '{"type": "property", "title": "Casa em Olinda", "attributes": {"city": "Olinda"}}'
req GET "/v1/items?page_size=1&filter=attributes.city%20%3D%20%22Olinda%22"
check_eq "GET /v1/items?page_size=1&filter=... is 200" 200 "$CODE"
check_jq "... lists only the Olinda item" "$R" '(.items | length) == 1 and .items[0].attributes.city == "Olinda"'
req GET "/v1/items?pageSize=1"
check_jq "GET /v1/items?pageSize=1 (lowerCamel) pages with a nextPageToken" "$R" \
  '(.items | length) == 1 and (.nextPageToken | length) > 0'

# --------------------------------------------------------------------------
# Errors

req POST /v1/items '{"type": "property", "attributes": {"city": "Recife"}}'
check_eq "POST /v1/items without a title is 400" 400 "$CODE"
check_jq "... google.rpc.Status with a BadRequest naming item.title" "$R" \
  '.code == 3 and .details[0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
   and ([.details[0].fieldViolations[].field] | index("item.title")) != null'

req POST /v1/items '{"type": "property", "title": '
check_eq "POST /v1/items with malformed JSON is 400" 400 "$CODE"
check_jq "... naming the body field item" "$R" \
  '.details[0].fieldViolations[0].field == "item" and (.details[0].fieldViolations[0].description | startswith("malformed JSON"))'
req POST /v1/items '{"type": "property", "title": "t", "colour": "blue"}'
check_eq "POST /v1/items with an unknown field is 400" 400 "$CODE"
check_jq "... naming item.colour" "$R" '.details[0].fieldViolations[0].field == "item.colour"'
req POST /v1/items '{"type": "property", "title": 5}'
check_jq "POST /v1/items with a number for a string names item.title" "$R" \
  '.details[0].fieldViolations[0].field == "item.title"'
req GET "/v1/items?page_size=1&colour=blue"
check_eq "an unknown query parameter is 400" 400 "$CODE"
check_jq "... naming it" "$R" '.details[0].fieldViolations[0].field == "colour"'
req GET /v1/items/00000000-0000-0000-0000-000000000000
check_eq "GET of an unknown item is 404 (NOT_FOUND from the catalog)" 404 "$CODE"
check_jq "... code 5" "$R" '.code == 5'
req POST "/v1/types?item_type_id=property" '{"displayName": "Again"}'
check_eq "creating a taken type is 409 (ALREADY_EXISTS)" 409 "$CODE"
req GET /v1/nothing/here
check_eq "an unknown path is 404" 404 "$CODE"
req DELETE /v1/items
check_eq "DELETE /v1/items is 405" 405 "$CODE"
check_eq "... with Allow: GET, POST" "GET, POST" "$(header allow)"
big="$(head -c $((MAX_BODY + 1000)) /dev/zero | tr '\0' 'x')"
req POST /v1/items "{\"title\": \"$big\"}"
check_eq "a body over --max_body_bytes is 413" 413 "$CODE"
req GET "/v1/$ITEM" "" -H 'X-Request-Timeout: soon'
check_eq "a malformed X-Request-Timeout is 400" 400 "$CODE"

# --------------------------------------------------------------------------
# Keep-alive: several requests over one connection

curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' --max-time 30 \
  -H "Authorization: Bearer $TOKEN" \
  "$GW/v1/$ITEM" "$GW/v1/$ITEM" "$GW/healthz" >"$WORK/connects"
check_eq "three requests with keep-alive open one connection" "1 0 0" "$(tr '\n' ' ' <"$WORK/connects" | sed 's/ $//')"

# --------------------------------------------------------------------------
# Metrics, on the HTTP port and the metrics port

metrics="$(curl -s --max-time 10 "http://$METRICS_ADDR/metrics" || true)"
grep -q '^genesis_gateway_requests_total{route="GET /v1/{name=items/\*}",code="200"} [1-9]' <<<"$metrics" &&
  pass "/metrics counts GET /v1/{name=items/*} 200" || fail "/metrics counts GET /v1/{name=items/*} 200" "$metrics"
grep -q '^genesis_gateway_backend_errors_total{service="genesis.catalog.v1.CatalogService",grpc_code="NOT_FOUND"} [1-9]' <<<"$metrics" &&
  pass "/metrics counts backend NOT_FOUND" || fail "/metrics counts backend NOT_FOUND" "$metrics"
req GET /metrics
check_eq "/metrics on the HTTP port is 200" 200 "$CODE"

# --------------------------------------------------------------------------
# Readiness is the gateway's own: a backend outage is answered per request

e2e_stop "$CATALOG_PID"
req GET /readyz
check_eq "/readyz stays 200 once the catalog is stopped (the gateway can take traffic)" 200 "$CODE"
check_eq "... on the metrics port too" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$METRICS_ADDR/readyz")"
req GET /healthz
check_eq "... /healthz is 200" 200 "$CODE"
req GET "/v1/$ITEM"
check_eq "... and a call to the catalog is 503 (UNAVAILABLE)" 503 "$CODE"
check_jq "... with google.rpc.Status code 14" "$R" '.code == 14'
req GET "/v1/$ITEM" "" -H 'X-Request-Timeout: 30s'
check_eq "... answered at once, not at the deadline (30 s asked)" 503 "$CODE"

e2e_stop "$GATEWAY_PID"
check_eq "SIGTERM: the gateway exits with status 0" 0 "$E2E_STOP_STATUS"
# Nothing in flight: it does not wait for --shutdown_grace_ms (10 s by default).
if [ "$E2E_STOP_SECONDS" -le 3 ]; then
  pass "SIGTERM with nothing in flight: exit within ${E2E_STOP_SECONDS} s"
else
  fail "SIGTERM with nothing in flight: exit at once" "took ${E2E_STOP_SECONDS} s"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
