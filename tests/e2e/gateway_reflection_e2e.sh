#!/usr/bin/env bash
# End-to-end test of genesis-gateway with --descriptors=reflection: the built
# catalog on a fresh PostgreSQL database, and a gateway that learns its routes
# from the catalog's gRPC server reflection (not from the build's descriptor
# set). Then SIGHUP: the RBAC file is re-read and the routes rebuilt while the
# gateway keeps serving; and a JWKS file rotated on disk is picked up by its
# modification time, without a signal.
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
e2e_require_tools jq curl openssl xxd
e2e_bin CATALOG_BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
GENESIS_GATEWAY_ADMIN_BIN="${GENESIS_GATEWAY_ADMIN_BIN:-$(dirname "$GATEWAY_BIN")/genesis-gateway-admin}"
e2e_bin ADMIN_BIN GENESIS_GATEWAY_ADMIN_BIN gateway/genesis-gateway-admin

e2e_init gateway-reflection-e2e
e2e_fresh_db gwrefl

e2e_start CATALOG_ADDR catalog 's/^genesis-catalog grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$CATALOG_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN"

JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
mint() {
  env "${ENV_UNSET[@]}" GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$ADMIN_BIN" mint-token \
    --subject="$1" --roles="$2" --ttl=10m
}
VIEWER="$(mint e2e-viewer viewer)"
# RS256 keys for the JWKS rotation check (openssl only).
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
for k in k1 k2; do openssl genrsa -out "$WORK/$k.pem" 2048 2>/dev/null; done
jwk() {  # jwk KID: the public JWK of $WORK/KID.pem
  local n
  n="$(openssl rsa -in "$WORK/$1.pem" -noout -modulus | cut -d= -f2 | xxd -r -p | b64url)"
  printf '{"kty": "RSA", "kid": "%s", "alg": "RS256", "use": "sig", "n": "%s", "e": "AQAB"}' "$1" "$n"
}
rs256() {  # rs256 KID: a viewer token signed with $WORK/KID.pem
  local now h p sig
  now="$(date +%s)"
  h="$(printf '{"alg":"RS256","typ":"JWT","kid":"%s"}' "$1" | b64url)"
  p="$(printf '{"sub":"rotated","roles":["viewer"],"iat":%d,"exp":%d}' "$now" $((now + 600)) | b64url)"
  sig="$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$WORK/$1.pem" | b64url)"
  echo "$h.$p.$sig"
}
echo "{\"keys\": [$(jwk k1)]}" >"$WORK/jwks.json"
# Our own RBAC file, edited below to check the SIGHUP reload.
cat >"$WORK/rbac.json" <<'JSON'
{"roles": {"viewer": {"*": "read"}}}
JSON
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --descriptors=reflection --descriptor_set=/nonexistent.binpb \
  --backend="genesis.catalog.v1.CatalogService=$CATALOG_ADDR" --rbac_config="$WORK/rbac.json" \
  --jwks_file="$WORK/jwks.json" --rate_limit=1000/s
GATEWAY_PID="$E2E_PID"
pass "catalog at $CATALOG_ADDR, gateway (descriptors from reflection) at $GW"

# req METHOD PATH TOKEN [BODY]: sets CODE and R.
req() {
  local args=(-s -X "$1" --max-time 30 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $3")
  if [ -n "${4:-}" ]; then args+=(-H 'Content-Type: application/json' --data-binary "$4"); fi
  CODE="$(curl "${args[@]}" "$GW$2" || echo 000)"
  R="$(cat "$WORK/body" 2>/dev/null || true)"
}

req GET /v1/types "$VIEWER"
check_eq "a reflected route answers (GET /v1/types)" 200 "$CODE"
check_jq "GET /v1/types is the catalog's JSON" "$R" 'type == "object"'
req GET /v1/types/nope "$VIEWER"
check_eq "the catalog's own errors pass through (404)" 404 "$CODE"
TYPE='{"displayName": "Lead", "attributes": [{"name": "city", "kind": "ATTRIBUTE_KIND_STRING"}]}'
req POST "/v1/types?item_type_id=lead" "$VIEWER" "$TYPE"
check_eq "viewer may not write (RBAC from the file)" 403 "$CODE"
OPENAPI="$(curl -s --max-time 10 "$GW/openapi.json")"
check_jq "/openapi.json lists the reflected catalog routes only" "$OPENAPI" \
  '(.paths | has("/v1/types")) and (.paths | keys | map(startswith("/v1/llm")) | any | not)'

# SIGHUP: the new RBAC file lets viewers write; routes are rebuilt from reflection.
cat >"$WORK/rbac.json" <<'JSON'
{"roles": {"viewer": {"*": "write"}}}
JSON
kill -HUP "$GATEWAY_PID"
deadline=$((SECONDS + 15))
CODE=000
while [ "$SECONDS" -lt "$deadline" ]; do
  req POST "/v1/types?item_type_id=lead" "$VIEWER" "$TYPE"
  [ "$CODE" = 403 ] || break
  sleep 0.1
done
check_eq "after SIGHUP the reloaded RBAC lets the viewer write" 200 "$CODE"
check_jq "the type was created through the reflected route" "$R" '.name == "types/lead"'
check "the gateway logged the reload" grep -q "SIGHUP: reloading" "$WORK/gateway.err"
check "the gateway is still running after SIGHUP" e2e_alive "$GATEWAY_PID"
req GET /v1/types/lead "$VIEWER"
check_eq "routes still served after the rebuild" 200 "$CODE"

# JWKS rotation without a signal: a new key file is picked up by its modification time.
K2="$(rs256 k2)"
req GET /v1/types "$(rs256 k1)"
check_eq "an RS256 token of the JWKS key k1 is accepted" 200 "$CODE"
req GET /v1/types "$K2"
check_eq "a token of key k2 (not in the JWKS yet) is refused" 401 "$CODE"
echo "{\"keys\": [$(jwk k1), $(jwk k2)]}" >"$WORK/jwks.new"
touch -d '+1 second' "$WORK/jwks.new"  # a different mtime even within the same second
mv "$WORK/jwks.new" "$WORK/jwks.json"
deadline=$((SECONDS + 15))
while [ "$SECONDS" -lt "$deadline" ]; do
  req GET /v1/types "$K2"
  [ "$CODE" = 401 ] || break
  sleep 0.2
done
check_eq "after the JWKS file changed, k2's token is accepted (no restart, no SIGHUP)" 200 "$CODE"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
