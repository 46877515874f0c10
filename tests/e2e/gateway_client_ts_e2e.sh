#!/usr/bin/env bash
# End-to-end test of the typed TypeScript client (gateway/clients/typescript): the package is
# generated from the live gateway's /openapi.json (openapi-typescript), built and packed
# (build.sh, `npm pack`), installed from its tarball into a scratch project, and a bot's
# program (gateway_client_ts/main.ts) is compiled with `tsc --strict` and run against the
# real catalog behind the real gateway: create a type and an item, search, a 404, a 400 with
# its field violations, and a 429 with Retry-After from a second gateway with a low
# --rate_limit. A program that misuses the types (wrong.ts) must not compile.
#
# Needs (scripts/test.sh exports them; ctest passes the binaries):
#   GENESIS_TEST_PG_DSN, GENESIS_CATALOG_BIN, GENESIS_GATEWAY_BIN, GENESIS_GATEWAY_ADMIN_BIN
#   (else under $GENESIS_BUILD_DIR); node, npm; openapi-typescript, openapi-fetch and
#   typescript in .genesis/tools (scripts/install-deps.sh; npm's cache then has openapi-fetch).
# Exits 77 (skipped) when the servers or tools are missing, 1 when a check fails.
# shellcheck disable=SC2016  # bash -c scripts: their $1 is meant literally
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TOOLS="${GENESIS_TOOLS:-$ROOT/.genesis/tools}"
e2e_require_pg
e2e_require_tools jq curl node npm
e2e_bin CATALOG_BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
GENESIS_GATEWAY_ADMIN_BIN="${GENESIS_GATEWAY_ADMIN_BIN:-$(dirname "$GATEWAY_BIN")/genesis-gateway-admin}"
e2e_bin ADMIN_BIN GENESIS_GATEWAY_ADMIN_BIN gateway/genesis-gateway-admin
for f in openapi-typescript/package.json openapi-fetch/package.json typescript/package.json; do
  [ -f "$TOOLS/node_modules/$f" ] || e2e_skip "$TOOLS/node_modules/$f missing (scripts/install-deps.sh)"
done

e2e_init gateway-client-ts-e2e
e2e_fresh_db gwclientts

e2e_start CATALOG_ADDR catalog 's/^genesis-catalog grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$CATALOG_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN"
JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
e2e_secret "$JWT_SECRET"
TOKEN="$(env "${ENV_UNSET[@]}" GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$ADMIN_BIN" mint-token \
  --subject=e2e-bot --roles=admin --ttl=10m)"
backend="genesis.catalog.v1.CatalogService=$CATALOG_ADDR"
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="$backend" --rate_limit=1000/s
e2e_start GW_LIMITED gateway-limited 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="$backend" --rate_limit=1/m
pass "catalog at $CATALOG_ADDR, gateway at $GW, rate-limited gateway at $GW_LIMITED"

# The package, from the live document.
curl -sf --max-time 10 "$GW/openapi.json" >"$WORK/openapi.json"
if TARBALL="$(bash "$ROOT/gateway/clients/typescript/build.sh" "$WORK/openapi.json" "$WORK/pack" 2>"$WORK/build.err")"; then
  pass "build.sh generated, compiled and packed $(basename "$TARBALL")"
else
  fail "build.sh generated, compiled and packed the client" "$(tail -20 "$WORK/build.err")"
  echo "$PASSED passed, $FAILED failed"
  exit 1
fi
check "the tarball holds the compiled client and its types" \
  bash -c 'tar tzf "$1" | grep -qx package/dist/index.js && tar tzf "$1" | grep -qx package/dist/schema.d.ts' _ "$TARBALL"

# A scratch project that installs the tarball (openapi-fetch from npm's cache).
APP="$WORK/app"
mkdir -p "$APP"
echo '{"name": "genesis-bot", "version": "0.0.0", "private": true, "type": "module"}' >"$APP/package.json"
cp "$HERE/gateway_client_ts/main.ts" "$HERE/gateway_client_ts/wrong.ts" "$HERE/gateway_client_ts/tsconfig.json" "$APP/"
if (cd "$APP" && npm install --prefer-offline --no-audit --no-fund --silent "$TARBALL" >"$WORK/npm.out" 2>&1); then
  pass "npm install of the tarball into a scratch project"
else
  fail "npm install of the tarball into a scratch project" "$(tail -20 "$WORK/npm.out")"
fi
TSC="$TOOLS/node_modules/.bin/tsc"
if (cd "$APP" && "$TSC" -p tsconfig.json >"$WORK/tsc.out" 2>&1); then
  pass "main.ts compiles with tsc --strict"
else
  fail "main.ts compiles with tsc --strict" "$(head -30 "$WORK/tsc.out")"
fi
if (cd "$APP" && "$TSC" --strict --noEmit --target ES2022 --module NodeNext \
  --moduleResolution NodeNext --lib ES2022,DOM,DOM.Iterable wrong.ts >"$WORK/wrong.out" 2>&1); then
  fail "wrong.ts (a missing path parameter, a number for a string, no title) does not compile"
else
  check "wrong.ts does not compile: the missing path parameter, the title given as a number, the item without its required title" \
    bash -c 'grep -q "wrong.ts(7," "$1" && grep -q "wrong.ts(8," "$1" && grep -q "wrong.ts(9," "$1"' _ "$WORK/wrong.out"
fi

if OUT="$(cd "$APP" && GW="$GW" GW_LIMITED="$GW_LIMITED" TOKEN="$TOKEN" node dist/main.js 2>&1)"; then :; fi
echo "$OUT"
PASSED=$((PASSED + $(grep -c '^ok - ' <<<"$OUT" || true)))
FAILED=$((FAILED + $(grep -c '^not ok - ' <<<"$OUT" || true)))
grep -q '^ok - ' <<<"$OUT" || fail "the compiled program ran" "$OUT"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
