#!/usr/bin/env bash
# End-to-end test of the TypeScript client package: scripts/build-clients.sh generates it
# from the proto bundle with protoc-gen-es, compiles it with tsc --strict and packs it
# (`npm pack`); the tarball is installed into a scratch project, and examples/typescript/
# main.ts is compiled with tsc --strict and run against a live mesh over mutual TLS (gRPC
# over HTTP/2 with @connectrpc/connect-node): CreateItemType, CreateItem, GetItem, an
# invalid CreateItem read as a BadRequest with errorDetails, one call on the LLM router,
# reasoning, the bot manager and voice, and the standard health check.
#
# Needs: GENESIS_TEST_PG_DSN (scripts/test.sh), node, npm, protoc; protoc-gen-es,
# @bufbuild/protobuf, @connectrpc/connect(-node), @types/node and typescript in
# .genesis/tools (scripts/install-deps.sh; npm's cache then has them for the scratch
# project); the service binaries (clients_mesh.sh) and GENESIS_BUILD_DIR holding the bundle.
# Exits 77 (skipped) when something is missing, 1 when a check fails.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
# shellcheck source=clients_mesh.sh
source "$(dirname "${BASH_SOURCE[0]}")/clients_mesh.sh"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${GENESIS_TOOLS:-$ROOT/.genesis/tools}"

e2e_require_pg
e2e_require_tools node npm protoc
clients_mesh_bins
[ -n "${GENESIS_BUILD_DIR:-}" ] || e2e_skip "GENESIS_BUILD_DIR not set"
for f in .bin/protoc-gen-es .bin/tsc @connectrpc/connect-node/package.json @types/node/package.json; do
  [ -e "$TOOLS/node_modules/$f" ] || e2e_skip "$TOOLS/node_modules/$f missing (scripts/install-deps.sh)"
done

e2e_init clients-typescript-e2e
e2e_fresh_db clientsts
clients_mesh_start

if TARBALL="$(bash "$ROOT/scripts/build-clients.sh" --no-build --out "$WORK/out" typescript 2>"$WORK/build.err")"; then
  pass "build-clients.sh typescript generated, compiled (tsc --strict) and packed $(basename "$TARBALL")"
else
  fail "build-clients.sh typescript built the package" "$(tail -30 "$WORK/build.err")"
  echo "$PASSED passed, $FAILED failed"
  exit 1
fi
check "the tarball holds the compiled services, google.rpc error details, health and their types" \
  bash -c 'l="$(tar tzf "$1")"; for f in dist/index.js dist/index.d.ts dist/gen/genesis/catalog/v1/catalog_pb.js \
    dist/gen/genesis/catalog/v1/catalog_pb.d.ts dist/gen/google/rpc/error_details_pb.js \
    dist/gen/grpc/health/v1/health_pb.js README.md; do grep -qx "package/$f" <<<"$l" || { echo "missing $f"; exit 1; }; done' _ "$TARBALL"

APP="$WORK/app"
mkdir -p "$APP"
echo '{"name": "genesis-example", "version": "0.0.0", "private": true, "type": "module"}' >"$APP/package.json"
cp "$ROOT/examples/typescript/main.ts" "$ROOT/examples/typescript/tsconfig.json" "$APP/"
TYPES_NODE="$(node -p "require('$TOOLS/node_modules/@types/node/package.json').version")"
if (cd "$APP" && npm install --prefer-offline --no-audit --no-fund --silent "$TARBALL" \
  "@types/node@$TYPES_NODE" >"$WORK/npm.out" 2>&1); then
  pass "npm install of the tarball into a scratch project"
else
  fail "npm install of the tarball into a scratch project" "$(tail -20 "$WORK/npm.out")"
fi
if (cd "$APP" && "$TOOLS/node_modules/.bin/tsc" -p tsconfig.json >"$WORK/tsc.out" 2>&1); then
  pass "examples/typescript/main.ts compiles with tsc --strict against the installed package"
else
  fail "examples/typescript/main.ts compiles with tsc --strict" "$(head -30 "$WORK/tsc.out")"
fi

if OUT="$(cd "$APP" && node dist/main.js --ca "$MESH_CA" --cert "$MESH_CERT" --key "$MESH_KEY" \
  --catalog "$CATALOG_ADDR" --llm-router "$ROUTER_ADDR" --reasoning "$REASONING_ADDR" \
  --bot "$BOT_ADDR" --voice "$VOICE_ADDR" --type lead 2>&1)"; then
  pass "the example ran against the mesh (exit 0)"
else
  fail "the example ran against the mesh (exit 0)" "$OUT"
fi
echo "$OUT" | sed 's/^/#   /'
clients_check_calls "$OUT" '[0-9a-f-]{36}' InvalidArgument health

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
