#!/usr/bin/env bash
# End-to-end test of the gateway's /docs page in a real browser: the real catalog on a
# fresh PostgreSQL database behind the real gateway; Debian's Chromium driven headless by
# puppeteer-core (gateway_docs_browser.cjs) loads /docs (Swagger UI bundled into the build),
# finds no console error and every tag of /openapi.json, authorizes with a bearer token and
# uses "Try it out" to read an item from the catalog through the gateway. curl checks the
# page's files and headers.
#
# Needs (scripts/test.sh exports them; ctest passes the binaries):
#   GENESIS_TEST_PG_DSN, GENESIS_CATALOG_BIN, GENESIS_GATEWAY_BIN, GENESIS_GATEWAY_ADMIN_BIN
#   (else under $GENESIS_BUILD_DIR), chromium (GENESIS_CHROMIUM, else /usr/bin/chromium),
#   puppeteer-core in .genesis/tools (GENESIS_PUPPETEER_MODULE) — scripts/install-deps.sh.
# Exits 77 (skipped) when the servers or tools are missing, 1 when a check fails.
# shellcheck disable=SC2016
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
e2e_require_pg
e2e_require_tools jq curl node
e2e_bin CATALOG_BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
GENESIS_GATEWAY_ADMIN_BIN="${GENESIS_GATEWAY_ADMIN_BIN:-$(dirname "$GATEWAY_BIN")/genesis-gateway-admin}"
e2e_bin ADMIN_BIN GENESIS_GATEWAY_ADMIN_BIN gateway/genesis-gateway-admin
CHROMIUM="${GENESIS_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || e2e_skip "chromium not found at $CHROMIUM (scripts/install-deps.sh installs it)"
PUPPETEER_MODULE="${GENESIS_PUPPETEER_MODULE:-$ROOT/.genesis/tools/node_modules/puppeteer-core}"
[ -f "$PUPPETEER_MODULE/package.json" ] || e2e_skip "puppeteer-core not found at $PUPPETEER_MODULE"

e2e_init gateway-docs-e2e
e2e_fresh_db gwdocs

e2e_start CATALOG_ADDR catalog 's/^genesis-catalog grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$CATALOG_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN"
JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
TOKEN="$(env "${ENV_UNSET[@]}" GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$ADMIN_BIN" mint-token \
  --subject=e2e-docs --roles=admin --ttl=10m)"
e2e_secret "$JWT_SECRET"
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="genesis.catalog.v1.CatalogService=$CATALOG_ADDR" --rate_limit=1000/s
pass "catalog at $CATALOG_ADDR, gateway at $GW"

# The page and its files, without credentials.
HDRS="$(curl -s --max-time 10 -D - -o "$WORK/docs.html" "$GW/docs" | tr -d '\r' | tr '[:upper:]' '[:lower:]')"
check "GET /docs is 200 without credentials" grep -q '^http/1.1 200' <<<"$HDRS"
check "... text/html" grep -q '^content-type: text/html' <<<"$HDRS"
check "... with a Content-Security-Policy allowing only the gateway's own scripts" \
  grep -q "^content-security-policy: default-src 'none'; script-src 'self';" <<<"$HDRS"
check "... and the security headers (X-Frame-Options DENY, nosniff)" \
  bash -c 'grep -qx "x-frame-options: deny" <<<"$1" && grep -qx "x-content-type-options: nosniff" <<<"$1"' _ "$HDRS"
code="$(curl -s --max-time 10 -o "$WORK/bundle.js" -w '%{http_code}' "$GW/docs/swagger-ui-bundle.js")"
check_eq "GET /docs/swagger-ui-bundle.js is 200 (bundled, not from a CDN)" 200 "$code"
check "... the file the pinned swagger-ui-dist ships" \
  cmp -s "$WORK/bundle.js" "$ROOT/.genesis/tools/node_modules/swagger-ui-dist/swagger-ui-bundle.js"
check_eq "GET /docs/nothing is 404" 404 \
  "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$GW/docs/nothing")"
check "/openapi.json documents /docs as public" \
  jq -e '.paths["/docs"].get.security == []' <(curl -s --max-time 10 "$GW/openapi.json")

# An item for the browser to read.
auth=(-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')
curl -s --max-time 10 "${auth[@]}" "$GW/v1/types?item_type_id=note" \
  -d '{"displayName": "Note"}' >/dev/null
ITEM="$(curl -s --max-time 10 "${auth[@]}" "$GW/v1/items" \
  -d '{"type": "note", "title": "Seen through the reference page"}')"
ITEM_ID="$(jq -r '.name | sub("^items/"; "")' <<<"$ITEM")"
check "an item to read: items/$ITEM_ID" test -n "$ITEM_ID"
TAGS="$(curl -s --max-time 10 "$GW/openapi.json" | jq -c '[.tags[].name]')"

if OUT="$(GW="$GW" TOKEN="$TOKEN" ITEM_ID="$ITEM_ID" ITEM_TITLE="Seen through the reference page" \
  TAGS="$TAGS" PUPPETEER_MODULE="$PUPPETEER_MODULE" CHROMIUM="$CHROMIUM" WORK="$WORK" \
  node "$(dirname "${BASH_SOURCE[0]}")/gateway_docs_browser.cjs" 2>&1)"; then :; fi
echo "$OUT"
PASSED=$((PASSED + $(grep -c '^ok - ' <<<"$OUT" || true)))
FAILED=$((FAILED + $(grep -c '^not ok - ' <<<"$OUT" || true)))
if ! grep -q '^ok - ' <<<"$OUT"; then fail "the browser script ran" "$OUT"; fi
[ -z "${GENESIS_DOCS_SCREENSHOT:-}" ] || cp "$WORK/docs.png" "$GENESIS_DOCS_SCREENSHOT" 2>/dev/null || true

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
