#!/usr/bin/env bash
# End-to-end test of the gateway's defences before authentication, as they were
# reported against the real binary: request smuggling (Transfer-Encoding, Content-Length,
# Host), memory pushed by endless chunk-size lines, a flood of idle connections from one
# address beside an honest client from another, a slow head; and the edge checks (invalid
# UTF-8 in the URL, an id of 3,000 characters, duplicate JSON keys, JWT padding and an `iat`
# a year ahead). The real catalog on a fresh PostgreSQL database sits behind the gateway;
# raw HTTP is spoken with python3.
#
# Needs (scripts/test.sh exports them; ctest passes the binaries):
#   GENESIS_TEST_PG_DSN, GENESIS_CATALOG_BIN, GENESIS_GATEWAY_BIN, GENESIS_GATEWAY_ADMIN_BIN
# Exits 77 (skipped) when the servers or tools are missing, 1 when a check fails.

# shellcheck disable=SC2016
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

e2e_require_pg
e2e_require_tools jq curl python3
e2e_bin CATALOG_BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
GENESIS_GATEWAY_ADMIN_BIN="${GENESIS_GATEWAY_ADMIN_BIN:-$(dirname "$GATEWAY_BIN")/genesis-gateway-admin}"
e2e_bin ADMIN_BIN GENESIS_GATEWAY_ADMIN_BIN gateway/genesis-gateway-admin

e2e_init gateway-hardening-e2e
e2e_fresh_db gwhard

e2e_start CATALOG_ADDR catalog 's/^genesis-catalog grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  "$CATALOG_BIN" --grpc_port=0 --metrics_port=-1 --pg_dsn="$DB_DSN"

JWT_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
ISS=genesis-e2e AUD=genesis-api
TOKEN="$(env "${ENV_UNSET[@]}" GENESIS_JWT_HS256_SECRET="$JWT_SECRET" GENESIS_JWT_ISSUER=$ISS \
  GENESIS_JWT_AUDIENCE=$AUD "$ADMIN_BIN" mint-token --subject=e2e --roles=admin --ttl=10m)"
FLOOD_LIMIT=1000 PER_CLIENT=100
e2e_start HTTP_ADDR gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$JWT_SECRET" "$GATEWAY_BIN" --http_port=0 --metrics_port=-1 \
  --backend="genesis.catalog.v1.CatalogService=$CATALOG_ADDR" --rate_limit=1000/s \
  --jwt_issuer=$ISS --jwt_audience=$AUD --max_connections=$FLOOD_LIMIT \
  --max_connections_per_client=$PER_CLIENT --header_timeout_ms=1000
GATEWAY_PID="$E2E_PID"
GW="http://$HTTP_ADDR"
GW_HOST="${HTTP_ADDR%:*}" GW_PORT="${HTTP_ADDR##*:}"
pass "catalog at $CATALOG_ADDR, gateway at $GW"

# raw PYTHON_EXPR: sends the bytes of PYTHON_EXPR on one connection, prints what comes back
# until the gateway closes it (or 10 s pass).
raw() {
  python3 - "$GW_HOST" "$GW_PORT" "$1" <<'EOF'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(eval(sys.argv[3]))
s.settimeout(10)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except OSError:
    pass
sys.stdout.write(out.decode("latin-1"))
EOF
}
responses() { grep -c '^HTTP/1.1 ' <<<"$1" || true; }
status_of() { head -n 1 <<<"$1" | cut -d' ' -f2; }

# --------------------------------------------------------------------------
# Request smuggling: the body must never become a second request

SMUGGLED='b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"'
for te in gzip identity 'chunked, gzip'; do
  out="$(raw "b'POST /v1/items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: $te\r\n\r\n' + $SMUGGLED")"
  check_eq "Transfer-Encoding: $te is 400" 400 "$(status_of "$out")"
  check_eq "... one response, nothing smuggled, connection closed" 1 "$(responses "$out")"
done
out="$(raw "b'POST /v1/items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 34\r\n\r\n' + $SMUGGLED")"
check_eq "Transfer-Encoding with Content-Length is 400" 400 "$(status_of "$out")"
check_eq "... one response" 1 "$(responses "$out")"
out="$(raw 'b"GET /healthz HTTP/1.1\r\n\r\n"')"
check_eq "HTTP/1.1 without Host is 400" 400 "$(status_of "$out")"
out="$(raw 'b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"')"
check_eq "two Host headers are 400" 400 "$(status_of "$out")"
out="$(raw 'b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"')"
check_eq "... one Host is 200" 200 "$(status_of "$out")"

# --------------------------------------------------------------------------
# Memory before authentication: 256 MiB of one chunk-size line

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$GATEWAY_PID/status"; }
before_kb="$(rss_kb)"
result="$(python3 - "$GW_HOST" "$GW_PORT" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"POST /v1/items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=")
block = b"a" * (1 << 20)
sent = 0
try:
    for _ in range(256):
        s.sendall(block)
        sent += len(block)
except OSError:
    pass
s.settimeout(5)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except OSError:
    pass
print(sent >> 20, (out.split(b"\r\n", 1)[0] or b"(nothing)").decode())
EOF
)"
after_kb="$(rss_kb)"
read -r sent_mib answer <<<"$result"
check_eq "an endless chunk extension is refused with 400" "HTTP/1.1 400 Bad Request" "$answer"
[ "$sent_mib" -lt 256 ] && pass "... after reading little of it (${sent_mib} of 256 MiB taken)" ||
  fail "... after reading little of it" "the gateway took all 256 MiB"
growth_mib=$(((after_kb - before_kb) / 1024))
[ "$growth_mib" -lt 64 ] && pass "... its memory stays bounded (+${growth_mib} MiB)" ||
  fail "... its memory stays bounded" "RSS grew by ${growth_mib} MiB"

# --------------------------------------------------------------------------
# A flood of idle connections from one address; an honest client from another

python3 - "$GW_HOST" "$GW_PORT" "$WORK/flood.ready" <<'EOF' &
import socket, sys, time, resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
socks = []
for _ in range(min(3000, hard - 100)):
    try:
        socks.append(socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5))
    except OSError:
        pass
open(sys.argv[3], "w").write(str(len(socks)))
time.sleep(20)
EOF
FLOOD_PID=$!
e2e_before_cleanup() { kill "$FLOOD_PID" 2>/dev/null || true; }
deadline=$((SECONDS + 30))
until [ -s "$WORK/flood.ready" ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
check_jq "the flood opened more connections than --max_connections" "$(cat "$WORK/flood.ready" 2>/dev/null || echo 0)" \
  --argjson max $FLOOD_LIMIT '. > $max'
honest=""
for _ in 1 2 3 4 5; do
  honest="$honest$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface 127.0.0.2 \
    -H "Authorization: Bearer $TOKEN" "$GW/v1/types" || echo 000) "
done
check_eq "an honest client from 127.0.0.2 is answered during the flood" "200 200 200 200 200 " "$honest"
kill "$FLOOD_PID" 2>/dev/null || true
wait "$FLOOD_PID" 2>/dev/null || true

# --------------------------------------------------------------------------
# Slowloris: a head trickled byte by byte is cut after --header_timeout_ms (1 s)

trickled="$(python3 - "$GW_HOST" "$GW_PORT" <<'EOF'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
for i in range(100):  # up to 10 s
    try:
        s.sendall(b"X")
    except OSError:
        break
    time.sleep(0.1)
print(i)
EOF
)"
[ "$trickled" -lt 99 ] && pass "a slow head is cut (after $trickled bytes trickled 100 ms apart)" ||
  fail "a slow head is cut" "the gateway took the whole 10 s trickle"

# --------------------------------------------------------------------------
# Edge checks

code="$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 10 "$GW/v1/items/%C3%28")"
check_eq "invalid UTF-8 in the URL, no credentials: 400 at the edge" 400 "$code"
check_jq "... INVALID_ARGUMENT" "$(cat "$WORK/body")" '.code == 3'
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN" \
  "$GW/v1/items:search?query=%FF")"
check_eq "invalid UTF-8 in the query: 400" 400 "$code"
long_id="$(head -c 3000 /dev/zero | tr '\0' 'x')"
code="$(curl -s -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' --max-time 10 \
  -H "Authorization: Bearer $TOKEN" "$GW/v1/items/$long_id")"
check_eq "an id of 3,000 characters is 400" 400 "$code"
check_jq "... naming the field" "$(cat "$WORK/body")" '.details[0].fieldViolations[0].field == "name"'
code="$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' --data-binary '{"type": "t", "title": "a", "title": "b"}' "$GW/v1/items")"
check_eq "duplicate JSON keys are 400" 400 "$code"
check_jq "... naming the member" "$(cat "$WORK/body")" '.details[0].fieldViolations[0].field == "item.title"'
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' --data-binary '{"type": "t", "title": "a",}' "$GW/v1/items")"
check_eq "a trailing comma is 400" 400 "$code"

# JWTs: one spelling, not issued in the future, right issuer and audience.
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
sign() {  # sign PAYLOAD_JSON: an HS256 token
  local h p s
  h="$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)"
  p="$(printf '%s' "$1" | b64url)"
  s="$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$JWT_SECRET" -binary | b64url)"
  echo "$h.$p.$s"
}
as() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $1" "$GW/v1/types"; }
NOW="$(date +%s)"
claims() { printf '{"sub":"e2e","roles":["admin"],"iat":%s,"exp":%s,"iss":"%s","aud":"%s"}' "$1" $((NOW + 600)) "$2" "$3"; }
check_eq "a token signed here is 200" 200 "$(as "$(sign "$(claims "$NOW" $ISS $AUD)")")"
check_eq "... with its signature padded with = is 401" 401 "$(as "${TOKEN}=")"
check_eq "... issued a year ahead (iat) is 401" 401 "$(as "$(sign "$(claims $((NOW + 31536000)) $ISS $AUD)")")"
check_eq "... from another issuer is 401" 401 "$(as "$(sign "$(claims "$NOW" someone-else $AUD)")")"
check_eq "... for another audience is 401" 401 "$(as "$(sign "$(claims "$NOW" $ISS other-api)")")"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
