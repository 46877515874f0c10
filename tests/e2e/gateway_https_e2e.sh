#!/usr/bin/env bash
# End-to-end test of the gateway's HTTPS listener: the real binary with certificates from
# scripts/lib/certs.sh, driven with curl and openssl s_client. HTTPS and plain HTTP side by
# side (HSTS on HTTPS only), the certificate swapped by SIGHUP while a keep-alive connection
# opened before stays served, a bad file on SIGHUP keeping the old certificate, and start-up
# refused with the flag named for a missing or mismatched key.
#
# Needs (ctest passes the binary): GENESIS_GATEWAY_BIN, else $GENESIS_BUILD_DIR/gateway/genesis-gateway.
# No database: the gateway runs with --auth=off and no backends (its own routes answer).
# Exits 77 (skipped) when the binary or tools are missing, 1 when a check fails.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
# shellcheck source=../../scripts/lib/certs.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/certs.sh"

e2e_require_tools curl openssl
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway
e2e_init gateway-https-e2e

TLS="$WORK/tls"
genesis_certs "$TLS" gateway-https gateway-https-next >/dev/null
cp "$TLS/gateway-https.crt" "$WORK/serve.crt"
cp "$TLS/gateway-https.key" "$WORK/serve.key"

gateway_flags=(--auth=off --metrics_port=-1 --rate_limits=false --http_port=0 --https_port=0
  --https_cert="$WORK/serve.crt" --https_key="$WORK/serve.key")
e2e_start HTTPS_ADDR gateway 's/^genesis-gateway https=\([0-9.]*:[0-9]*\)$/\1/p' -- \
  "$GATEWAY_BIN" "${gateway_flags[@]}"
GATEWAY_PID="$E2E_PID"
HTTP_ADDR="$(e2e_wait_line "$WORK/gateway.out" "$GATEWAY_PID" 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/\1/p')"
HTTPS_PORT="${HTTPS_ADDR##*:}"
pass "gateway: https://localhost:$HTTPS_PORT and http://$HTTP_ADDR"

# headers URL [curl args...]: the response headers (lower-case names), after the status line.
headers() {
  local url="$1"
  shift
  curl -s --max-time 10 -D - -o /dev/null "$@" "$url" | tr -d '\r' | tr 'A-Z' 'a-z'
}
# subject: the subject of the certificate a new connection to the HTTPS port gets.
subject() {
  openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -subject 2>/dev/null | sed 's/^subject= *//'
}

h="$(headers "https://localhost:$HTTPS_PORT/healthz" --cacert "$TLS/ca.crt")"
check "HTTPS /healthz is 200, the certificate verified against the dev CA" grep -q '^http/1.1 200' <<<"$h"
check "... with Strict-Transport-Security: max-age=63072000; includeSubDomains" \
  grep -qx 'strict-transport-security: max-age=63072000; includesubdomains' <<<"$h"
check "... and X-Content-Type-Options: nosniff" grep -qx 'x-content-type-options: nosniff' <<<"$h"
h="$(headers "http://$HTTP_ADDR/healthz")"
check "plain HTTP /healthz is 200" grep -q '^http/1.1 200' <<<"$h"
check "... with X-Frame-Options: DENY" grep -qx 'x-frame-options: deny' <<<"$h"
if grep -q '^strict-transport-security' <<<"$h"; then
  fail "... and no Strict-Transport-Security (RFC 6797)" "$h"
else
  pass "... and no Strict-Transport-Security (RFC 6797)"
fi
code="$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTPS_PORT/healthz" || true)"
check_eq "plain HTTP to the HTTPS port gets no HTTP answer" 000 "$code"
if curl -s --max-time 10 -o /dev/null --cacert "$TLS/ca.crt" --tlsv1.1 --tls-max 1.1 \
  --ciphers 'DEFAULT:@SECLEVEL=0' "https://localhost:$HTTPS_PORT/healthz"; then
  fail "a TLS 1.1 client is refused"
else
  pass "a TLS 1.1 client is refused"
fi
check_eq "new connections get CN=gateway-https" "CN = gateway-https" "$(subject)"

# A keep-alive connection opened before the reload: requests written into a FIFO.
mkfifo "$WORK/keep.in"
openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername localhost -quiet \
  <"$WORK/keep.in" >"$WORK/keep.out" 2>/dev/null &
KEEP_PID=$!
exec 3>"$WORK/keep.in"
e2e_before_cleanup() {
  exec 3>&- || true
  kill "$KEEP_PID" 2>/dev/null || true
}
# A number even before openssl has made its output file (grep then prints nothing).
answers() {
  local n
  n="$(grep -c '^ok' "$WORK/keep.out" 2>/dev/null)" || true
  echo "${n:-0}"
}
wait_answers() {  # wait_answers N: until the kept connection has N answers (10 s at most)
  local deadline=$((SECONDS + 10))
  while [ "$(answers)" -lt "$1" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
}
printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n' >&3
wait_answers 1
check_eq "the kept connection is answered before the reload" 1 "$(answers)"

# wait_log TEXT: until the gateway's log has TEXT one more time than before the signal.
wait_log() {
  local before="$2" deadline=$((SECONDS + 10))
  while [ "$(grep -c "$1" "$WORK/gateway.err" || true)" -le "$before" ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.05
  done
  [ "$(grep -c "$1" "$WORK/gateway.err" || true)" -gt "$before" ]
}

cp "$TLS/gateway-https-next.crt" "$WORK/serve.crt"
cp "$TLS/gateway-https-next.key" "$WORK/serve.key"
n="$(grep -c 'https_cert: serving' "$WORK/gateway.err" || true)"
kill -HUP "$GATEWAY_PID"
check "SIGHUP: the new certificate is logged" wait_log 'https_cert: serving.*gateway-https-next' "$n"
check_eq "new connections get CN=gateway-https-next" "CN = gateway-https-next" "$(subject)"
printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n' >&3
wait_answers 2
check_eq "the connection opened before the reload is still answered" 2 "$(answers)"

echo "not a key" >"$WORK/serve.key"
n="$(grep -c 'keeping the previous HTTPS certificate' "$WORK/gateway.err" || true)"
kill -HUP "$GATEWAY_PID"
check "SIGHUP with a bad key: an error is logged" wait_log 'keeping the previous HTTPS certificate.*--https_key' "$n"
check "... the gateway keeps running" e2e_alive "$GATEWAY_PID"
check_eq "... and new connections still get CN=gateway-https-next" "CN = gateway-https-next" "$(subject)"

# Start-up refused, naming the flag.
set +e
"$GATEWAY_BIN" --auth=off --metrics_port=-1 --http_port=0 --https_port=0 \
  --https_cert="$TLS/gateway-https.crt" --https_key="$WORK/absent.key" >"$WORK/bad.out" 2>&1
status=$?
set -e
check_eq "a missing --https_key stops start-up with status 2" 2 "$status"
check "... naming --https_key" grep -q -- '--https_key.*cannot be read' "$WORK/bad.out"
set +e
"$GATEWAY_BIN" --auth=off --metrics_port=-1 --http_port=0 --https_port=0 \
  --https_cert="$TLS/gateway-https.crt" --https_key="$TLS/gateway-https-next.key" >"$WORK/bad.out" 2>&1
status=$?
set -e
check_eq "a key of another certificate stops start-up with status 2" 2 "$status"
check "... naming --https_key: does not match" grep -q -- '--https_key.*does not match' "$WORK/bad.out"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
