#!/usr/bin/env bash
# End-to-end test of the gateway's security slice: the real catalog behind the
# real gateway over HTTP with auth on: the auth matrix (no token, expired, bad
# signature, alg none, wrong audience, wrong role, revoked API key), 429 with
# Retry-After from the Redis token bucket, and, with the test's own private
# redis-server stopped, the local limiter that still limits and still serves.
#
# Needs: GENESIS_TEST_PG_DSN (scripts/test.sh), redis-server, redis-cli,
# openssl, jq, curl, psql; binaries GENESIS_CATALOG_BIN, GENESIS_GATEWAY_BIN
# (else under GENESIS_BUILD_DIR), genesis-gateway-admin next to the gateway.
# Exits 77 (skipped) when something is missing, 1 when a check fails.
# A && pass || fail is the reporting idiom here, as in gateway_e2e.sh.
# shellcheck disable=SC2015
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

e2e_require_pg
e2e_require_tools jq curl openssl redis-server redis-cli ss
e2e_bin CATALOG_BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
GENESIS_GATEWAY_ADMIN_BIN="${GENESIS_GATEWAY_ADMIN_BIN:-$(dirname "$GATEWAY_BIN")/genesis-gateway-admin}"
e2e_bin ADMIN_BIN GENESIS_GATEWAY_ADMIN_BIN gateway/genesis-gateway-admin

e2e_init gateway-auth-e2e
e2e_fresh_db gwauth
REDIS_PID=""
e2e_before_cleanup() { e2e_stop "$REDIS_PID"; }

# poll SECONDS COMMAND...: true once COMMAND succeeds within the deadline.
poll() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}


# A private redis-server on a free port, so stopping it affects nobody else.
REDIS_PORT=""
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 20000))
  if [ -z "$(ss -ltnH "sport = :$p")" ]; then REDIS_PORT=$p; break; fi
done
[ -n "$REDIS_PORT" ] || e2e_skip "no free port for redis-server"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
redis_up() { [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
poll 15 redis_up || { fail "private redis-server starts" "$(cat "$WORK/redis.log")"; exit 1; }

GATEWAY_SECRET="$E2E_GATEWAY_SECRET" # the run's (harness.sh), also in OPERATOR
JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
AUD=genesis-api
ISS=genesis-e2e
e2e_secret "$GATEWAY_SECRET" "$JWT_SECRET"

e2e_start CATALOG_ADDR catalog 's/^genesis-catalog grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  env GENESIS_GATEWAY_SECRET="$GATEWAY_SECRET" "$CATALOG_BIN" --grpc_port=0 --metrics_port=-1 \
  --pg_dsn="$DB_DSN"

# 20 requests per hour per credential: a burst of 20, then one every 3 minutes
# (no refill can happen while the test runs).
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" GENESIS_GATEWAY_SECRET="$GATEWAY_SECRET" \
  "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="genesis.catalog.v1.CatalogService=$CATALOG_ADDR" --pg_dsn="$DB_DSN" \
  --redis_url="redis://127.0.0.1:$REDIS_PORT" --rate_limit=20/h --jwt_audience=$AUD \
  --jwt_issuer=$ISS --jwt_skew_ms=0
pass "catalog at $CATALOG_ADDR, gateway at $GW, private Redis on $REDIS_PORT"

admin() {
  env "${ENV_UNSET[@]}" GENESIS_JWT_HS256_SECRET="$JWT_SECRET" GENESIS_PG_DSN="$DB_DSN" \
    GENESIS_JWT_AUDIENCE=$AUD GENESIS_JWT_ISSUER=$ISS "$ADMIN_BIN" "$@" 2>"$WORK/admin.err"
}
token() { admin mint-token --subject="$1" --roles="$2" --ttl=10m; }

# jwt HEADER_JSON PAYLOAD_JSON [SECRET]: an HS256-signed token built by hand.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwt() {
  local part
  part="$(printf '%s' "$1" | b64url).$(printf '%s' "$2" | b64url)"
  printf '%s.%s' "$part" "$(printf '%s' "$part" | openssl dgst -sha256 -binary -hmac "${3:-$JWT_SECRET}" | b64url)"
}
NOW="$(date +%s)"
claims() { # SUB ROLE EXP [AUD]
  jq -cn --arg s "$1" --arg r "$2" --argjson e "$3" --arg a "${4:-$AUD}" --arg i $ISS \
    '{sub: $s, roles: [$r], iat: ($e - 600), exp: $e, aud: $a, iss: $i}'
}

# req METHOD PATH AUTH_HEADER [BODY]: sets CODE, R and HDRS.
req() {
  local args=(-s -X "$1" --max-time 30 -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}')
  [ -z "$3" ] || args+=(-H "$3")
  [ -z "${4:-}" ] || args+=(-H 'Content-Type: application/json' --data-binary "$4")
  CODE="$(curl "${args[@]}" "$GW$2" || echo 000)"
  R="$(cat "$WORK/body" 2>/dev/null || true)"
  HDRS="$(tr -d '\r' <"$WORK/headers" 2>/dev/null || true)"
}
header() { sed -n "s/^$1: //Ip" <<<"$HDRS" | head -1; }

# --------------------------------------------------------------------------
# The auth matrix

ADMIN="Authorization: Bearer $(token ops-admin admin)"
VIEWER="Authorization: Bearer $(token ana viewer)"
e2e_secret "${ADMIN#Authorization: Bearer }" "${VIEWER#Authorization: Bearer }"
for path in /healthz /readyz /metrics; do
  req GET $path ""
  check_eq "GET $path answers without credentials" 200 "$CODE"
done
req GET /v1/types ""
check_eq "no token: 401" 401 "$CODE"
check_eq "... with WWW-Authenticate: Bearer" 'Bearer realm="genesis"' "$(header www-authenticate)"
check_eq "... and a google.rpc.Status body (UNAUTHENTICATED)" 16 "$(jq -r .code <<<"$R")"
req GET /v1/types "Authorization: Bearer $(jwt '{"alg":"HS256"}' "$(claims x admin $((NOW - 60)))")"
check_eq "expired token: 401" 401 "$CODE"
check_eq "... saying so" "invalid token: expired" "$(jq -r .message <<<"$R")"
req GET /v1/types "Authorization: Bearer $(jwt '{"alg":"HS256"}' "$(claims x admin $((NOW + 600)))" \
  "another-secret-another-secret-0123")"
check_eq "bad signature: 401" 401 "$CODE"
check_eq "... with WWW-Authenticate error=invalid_token" 'Bearer error="invalid_token"' "$(header www-authenticate)"
none="$(printf '%s' '{"alg":"none","typ":"JWT"}' | b64url).$(claims x admin $((NOW + 600)) | tr -d '\n' | b64url)."
req GET /v1/types "Authorization: Bearer $none"
check_eq "alg none: 401" 401 "$CODE"
req GET /v1/types "Authorization: Bearer $(jwt '{"alg":"HS256"}' "$(claims x admin $((NOW + 600)) other-api)")"
check_eq "wrong audience: 401" 401 "$CODE"
check_eq "... saying so" "invalid token: wrong audience" "$(jq -r .message <<<"$R")"
req GET /v1/types "Authorization: Bearer $(jwt '{"alg":"HS256"}' "$(claims x admin $((NOW + 600)))")"
check_eq "a hand-signed valid token: 200" 200 "$CODE"

req POST "/v1/types?item_type_id=lead" "$ADMIN" '{"displayName": "Lead"}'
check_eq "admin creates a type: 200" 200 "$CODE"
req POST "/v1/types?item_type_id=deal" "$VIEWER" '{"displayName": "Deal"}'
check_eq "viewer writes: 403 (wrong role)" 403 "$CODE"
check_eq "... PERMISSION_DENIED" 7 "$(jq -r .code <<<"$R")"
req GET /v1/types/lead "$VIEWER"
check_eq "viewer reads: 200" 200 "$CODE"

KEY="$(admin create-key --name=crm-bot --roles=bot --expires=30d)"
KEY_ID="$(sed -n 's/^gk_\([0-9a-f]*\)_.*$/\1/p' <<<"$KEY")"
e2e_secret "${KEY#gk_"${KEY_ID}"_}"
[ -n "$KEY_ID" ] && pass "create-key prints a gk_<id>_<secret> key" || fail "create-key prints a key" "$KEY" "$(cat "$WORK/admin.err")"
stored="$("$PSQL" -X -tA -d "$DB_DSN" -c "SELECT secret_sha256 FROM gateway.api_keys WHERE id = '$KEY_ID'")"
check_eq "only the SHA-256 of the secret is stored" "$(printf '%s' "${KEY#gk_"${KEY_ID}"_}" | sha256sum | cut -d' ' -f1)" "$stored"
req POST /v1/items "X-Api-Key: $KEY" '{"type": "lead", "title": "Casa"}'
check_eq "bot API key writes an item: 200" 200 "$CODE"
req GET /v1/types/lead "Authorization: Bearer $KEY"
check_eq "... and works as a bearer token" 200 "$CODE"
admin list-keys | grep -q "^$KEY_ID .*crm-bot .* active$" && pass "list-keys shows it active" ||
  fail "list-keys shows it active" "$(admin list-keys)"
admin revoke-key "$KEY_ID" && pass "revoke-key" || fail "revoke-key" "$(cat "$WORK/admin.err")"
AUDIT="$(admin key-audit --limit=2)"
ME="$(id -un)@$(hostname)"
grep -Eq "^[0-9TZ:-]+ +$ME +revoke +$KEY_ID +crm-bot +bot$" <<<"$(sed -n 2p <<<"$AUDIT")" &&
  grep -Eq "^[0-9TZ:-]+ +$ME +create +$KEY_ID +crm-bot +bot$" <<<"$(sed -n 3p <<<"$AUDIT")" &&
  pass "key-audit names who created and who revoked the key, newest first" ||
  fail "key-audit names who created and who revoked the key" "$AUDIT"
req GET /v1/types/lead "X-Api-Key: $KEY"
check_eq "revoked key: 401" 401 "$CODE"
admin list-keys | grep -q "^$KEY_ID .* revoked$" && pass "list-keys shows it revoked" ||
  fail "list-keys shows it revoked" "$(admin list-keys)"

# --------------------------------------------------------------------------
# Rate limits: the Redis bucket

LIMITED="Authorization: Bearer $(token limited viewer)"
codes=""
for _ in $(seq 1 21); do req GET /v1/types/lead "$LIMITED"; codes="$codes$CODE "; done
check_eq "20 requests pass, the 21st is 429" "$(printf '200 %.0s' $(seq 1 20))429 " "$codes"
retry="$(header retry-after)"
[ "${retry:-0}" -ge 170 ] && [ "$retry" -le 180 ] && pass "... with Retry-After: $retry" || fail "... with Retry-After 170..180" "$HDRS"
check_eq "... RateLimit-Limit: 20" 20 "$(header ratelimit-limit)"
check_eq "... RateLimit-Remaining: 0" 0 "$(header ratelimit-remaining)"
check_eq "... RESOURCE_EXHAUSTED body" 8 "$(jq -r .code <<<"$R")"
req GET /v1/types/lead "$VIEWER"
check_eq "another credential is not limited" 200 "$CODE"
n="$(redis-cli -p "$REDIS_PORT" --scan --pattern 'genesis:gw:rl:*' | wc -l)"
[ "$n" -ge 2 ] && pass "the buckets live in Redis ($n keys)" || fail "the buckets live in Redis" "$n keys"

# --------------------------------------------------------------------------
# Redis hung (SIGSTOP: connections accepted, nothing answered): after the first few calls
# the client's breaker opens and no request waits on Redis; the local limiter decides.

kill -STOP "$REDIS_PID"
HUNG="Authorization: Bearer $(token hung-redis viewer)"
codes=""
start_ms="$(date +%s%3N)"
for _ in $(seq 1 21); do req GET /v1/types/lead "$HUNG"; codes="$codes$CODE "; done
hung_ms=$(($(date +%s%3N) - start_ms))
check_eq "Redis hung: still serves 20, still refuses the 21st" "$(printf '200 %.0s' $(seq 1 20))429 " "$codes"
short="$(curl -s "$GW/metrics" | sed -n 's/^genesis_redis_short_circuited_total{client="gateway"} \([0-9]*\).*/\1/p')"
[ "${short:-0}" -ge 15 ] && pass "Redis hung: the breaker spared most requests the wait ($short of 21 did not touch Redis, 21 requests in $hung_ms ms)" ||
  fail "Redis hung: the breaker spares most requests the wait" "short-circuited: ${short:-none}, 21 requests in $hung_ms ms"
kill -CONT "$REDIS_PID"

# --------------------------------------------------------------------------
# Redis stopped: the local limiter takes over

e2e_stop "$REDIS_PID"
REDIS_PID=""
AFTER="Authorization: Bearer $(token after-redis viewer)"
codes=""
for _ in $(seq 1 21); do req GET /v1/types/lead "$AFTER"; codes="$codes$CODE "; done
check_eq "Redis down: still serves 20, still refuses the 21st" "$(printf '200 %.0s' $(seq 1 20))429 " "$codes"
[ -n "$(header retry-after)" ] && pass "... with Retry-After" || fail "... with Retry-After" "$HDRS"
fallback="$(curl -s "$GW/metrics" | sed -n 's/^genesis_gateway_rate_limit_fallback_total \([0-9]*\).*/\1/p')"
[ "${fallback:-0}" -ge 21 ] && pass "fallback decisions are counted ($fallback)" ||
  fail "fallback decisions are counted" "got: ${fallback:-none}"
grep -q "using the local per-process limiter" "$WORK/gateway.err" && pass "... and logged" ||
  fail "... and logged" "$(tail -5 "$WORK/gateway.err")"
[ "$(grep -c "using the local per-process limiter" "$WORK/gateway.err")" -le 5 ] &&
  pass "... at most about once a second" || fail "... logged at most once a second" "$(grep -c local "$WORK/gateway.err")"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
