#!/usr/bin/env bash
# End-to-end test of mutual TLS inside the mesh, as scripts/run.sh runs it: the real
# catalog and the real gateway with certificates of a dev CA (scripts/lib/certs.sh).
#   * REST through the gateway: the caller's identity reaches the catalog from the
#     gateway's certificate alone (no shared secret), and an administrative method
#     (CreateItemType) is written to the catalog's audit log with it;
#   * direct gRPC with buf curl: an administrator's certificate may call it; a client
#     without a certificate, with one of another CA, with an expired one, or in plaintext is
#     refused; another service's certificate is refused the administrative method and its
#     forwarded-identity headers are ignored;
#   * a shared secret configured next to mTLS is a start-up error naming the flag.
#
# Needs: GENESIS_TEST_PG_DSN (scripts/test.sh), openssl, jq, curl, the buf CLI; binaries
# GENESIS_CATALOG_BIN, GENESIS_GATEWAY_BIN, GENESIS_GATEWAY_ADMIN_BIN (else under
# GENESIS_BUILD_DIR). Exits 77 (skipped) when something is missing, 1 when a check fails.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUF="${GENESIS_BUF:-$ROOT/.genesis/tools/node_modules/.bin/buf}"
[ -x "$BUF" ] || e2e_skip "the buf CLI is not installed (scripts/install-deps.sh)"

e2e_require_pg
e2e_require_tools jq curl openssl
e2e_bin CATALOG_BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
e2e_bin ADMIN_BIN GENESIS_GATEWAY_ADMIN_BIN gateway/genesis-gateway-admin

e2e_init mesh-mtls-e2e
e2e_fresh_db mtls
# No shared secret anywhere: the certificates are the proof.
E2E_ENV=(GENESIS_GATEWAY_SECRET=)

CERTS="$WORK/tls"
# shellcheck source=../../scripts/lib/certs.sh
source "$ROOT/scripts/lib/certs.sh"
genesis_certs "$CERTS" catalog gateway admin voice >/dev/null
genesis_cert_expired "$CERTS" expired >/dev/null
genesis_cert_other_ca "$CERTS" stranger >/dev/null
tls() { echo "--tls_cert=$CERTS/$1.crt" "--tls_key=$CERTS/$1.key" "--tls_ca=$CERTS/ca.crt"; }
# The body of every private key: never in any server's output.
for k in "$CERTS"/*.key; do e2e_secret "$(sed -n 2p "$k")"; done

AUDIT="$WORK/catalog.audit.jsonl"
# shellcheck disable=SC2046  # tls prints separate flags
e2e_start CATALOG_ADDR catalog 's/^genesis-catalog grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$CATALOG_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" $(tls catalog) \
  --audit_log_file="$AUDIT"
JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
e2e_secret "$JWT_SECRET"
# shellcheck disable=SC2046
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="genesis.catalog.v1.CatalogService=$CATALOG_ADDR" $(tls gateway)
pass "catalog (mTLS) at $CATALOG_ADDR, gateway at $GW"

token() {
  env "${ENV_UNSET[@]}" GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$ADMIN_BIN" mint-token \
    --subject="$1" --roles="$2" --ttl=10m
}
ADMIN_TOKEN="$(token ana-ops admin)"
e2e_secret "$ADMIN_TOKEN"

# ---- through the gateway: identity from its certificate
CODE="$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 30 -X POST \
  -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
  --data '{"displayName": "Lead"}' "$GW/v1/types?itemTypeId=lead")"
check_eq "REST CreateItemType with an admin token over mTLS to the catalog -> 200" 200 "$CODE"
audit_line() { grep -F "\"method\":\"$1\"" "$AUDIT" | sed -n "${2}p"; }
line="$(audit_line CreateItemType 1)"
check "the catalog's audit log names the token's subject, the gateway's certificate and the type" \
  jq -e '.subject == "ana-ops" and .roles == ["admin"] and .peer == "gateway" and .code == "OK"
         and .fields.item_type_id == "lead"' <<<"$line"
CODE="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$GW/v1/types")"
check_eq "REST without a token -> 401 at the gateway" 401 "$CODE"

# ---- direct gRPC: buf curl with and without certificates
URL="https://$CATALOG_ADDR"
SVC=genesis.catalog.v1.CatalogService
# grpc_as CERT METHOD JSON [BUF_ARGS...]: sets OUT and RC; CERT "" = no client certificate.
grpc_as() {
  local cert="$1" method="$2" body="$3" args=(--cacert "$CERTS/ca.crt")
  shift 3
  [ -z "$cert" ] || args+=(--cert "$CERTS/$cert.crt" --key "$CERTS/$cert.key")
  RC=0
  OUT="$("$BUF" curl --protocol grpc --timeout 20s "${args[@]}" "$@" -d "$body" \
    "$URL/$SVC/$method" 2>&1)" || RC=$?
}
grpc_as admin CreateItemType '{"item_type_id": "deal", "item_type": {"display_name": "Deal"}}'
check_eq "an administrator's certificate may call CreateItemType directly" 0 "$RC"
check "... and is audited as itself" \
  jq -e '.subject == "admin" and .roles == ["admin"] and .peer == "admin" and .code == "OK"
         and .fields.item_type_id == "deal"' <<<"$(audit_line CreateItemType 2)"

grpc_as voice ListItemTypes '{}'
check_eq "another service's certificate may call a non-administrative method" 0 "$RC"
check "... and sees both types" jq -e '[.itemTypes[].name] == ["types/deal", "types/lead"]' <<<"$OUT"
grpc_as voice CreateItemType '{"item_type_id": "x", "item_type": {"display_name": "X"}}'
check "another service's certificate is refused an administrative method (permission_denied)" \
  jq -e '.code == "permission_denied"' <<<"$OUT"
grpc_as voice CreateItemType '{"item_type_id": "x", "item_type": {"display_name": "X"}}' \
  -H "x-genesis-subject: root" -H "x-genesis-roles: admin"
check "... and identity headers from a peer that is not the gateway are ignored" \
  jq -e '.code == "permission_denied"' <<<"$OUT"
check "the refusals are in the audit log too" \
  jq -e '.code == "PERMISSION_DENIED" and .peer == "voice" and .subject == ""' \
  <<<"$(audit_line CreateItemType 4)"

for who in ":no certificate" "stranger:a certificate of another CA" "expired:an expired certificate"; do
  grpc_as "${who%%:*}" ListItemTypes '{}'
  check "a client with ${who#*:} is refused (no answer)" test "$RC" -ne 0 -a "${OUT/itemTypes/}" = "$OUT"
done
RC=0
OUT="$("$BUF" curl --protocol grpc --http2-prior-knowledge --timeout 10s -d '{}' \
  "http://$CATALOG_ADDR/$SVC/ListItemTypes" 2>&1)" || RC=$?
check "a plaintext client is refused" test "$RC" -ne 0

# ---- configuration: the shared secret is not mixed with mTLS
# shellcheck disable=SC2046
OUT="$(env "${ENV_UNSET[@]}" "$CATALOG_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN" \
  $(tls catalog) --gateway_secret=abcdefgh12345678 2>&1)" && RC=0 || RC=$?
check "the catalog refuses --gateway_secret with mTLS, naming the flag" \
  grep -q -- "--gateway_secret" <<<"$OUT"
check_eq "... exiting 2" 2 "$RC"
# shellcheck disable=SC2046
OUT="$(env "${ENV_UNSET[@]}" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="$SVC=$CATALOG_ADDR" $(tls gateway) --gateway_secret=abcdefgh12345678 2>&1)" \
  && RC=0 || RC=$?
check "the gateway refuses --gateway_secret with TLS to the services, naming the flag" \
  grep -q -- "--gateway_secret" <<<"$OUT"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
